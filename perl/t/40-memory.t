# 100,000 status calls through FFI grow the process by less than 1 MB: the
# answers are freed by Rust's allocator (opaque + cast + free).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use SMBGWTest;

SMBGWTest::require_library();
my $sandbox = SMBGWTest::require_sandbox();
SMBGWTest::load_plugin();
my $P = $SMBGWTest::PLUGIN;

my $root = "$sandbox/perl-mem";
mkdir $root or die "mkdir $root: $!" if !-d $root;
my $scfg = { type => 'smbgateway', 'smbgw-mode' => 'native', 'smbgw-backend' => 'dir', 'smbgw-dir-root' => $root };
$P->request('create', spec => $P->share_spec('mem1', $scfg));

my $calls = $ENV{SMBGW_MEM_CALLS} // 100_000;
my @s = $P->status('mem1', $scfg) for 1 .. 2_000;    # warm-up
my $before = SMBGWTest::rss_kb();
my $ok = 0;
for (1 .. $calls) {
    my ($total, $avail, $used, $active) = $P->status('mem1', $scfg);
    $ok++ if $active;
}
my $after = SMBGWTest::rss_kb();
is($ok, $calls, "$calls status calls, all active");
cmp_ok($after - $before, '<', 1024, "RSS grew by less than 1 MB ($before kB -> $after kB)");
diag("rss_growth_kb=" . ($after - $before));

$P->on_delete_hook('mem1', $scfg);
done_testing();
