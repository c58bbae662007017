# The library through FFI: answers, and every error path gives a clear die.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use Test::More;
use SMBGWTest;

my $lib = SMBGWTest::require_library();
SMBGWTest::load_plugin();
my $P = $SMBGWTest::PLUGIN;
my $dir = tempdir(CLEANUP => 1);
# Nothing here touches the host's gateway files.
local $ENV{SMBGW_SANDBOX} = $dir;

# A missing library: the plugin still loads (storage.cfg stays readable),
# the first call dies saying what to do. Each case in its own perl, as the
# library is loaded once per process.
sub in_perl {
    my ($env, $code) = @_;
    local @ENV{ keys %$env } = values %$env;
    return `$^X -I$FindBin::Bin/.. -I$FindBin::Bin/lib -MPVE::Storage::Plugin -M$P -e '$code' 2>&1`;
}
my $out = in_perl({ SMBGW_PLUGIN_LIB => "$dir/nope.so" }, "\$|=1; print ${P}->type; ${P}->status(q(office), {})");
like($out, qr/^smbgateway/, 'the plugin loads without its library');
like($out, qr{pve-smbgateway library \Q$dir\E/nope\.so is missing; reinstall the pve-smbgateway package}, 'missing library: clear message');

open(my $fh, '>', "$dir/junk.so") or die;
print $fh "not a shared object\n";
close($fh);
$out = in_perl({ SMBGW_PLUGIN_LIB => "$dir/junk.so" }, "${P}->status(q(office), {})");
like($out, qr{cannot load the pve-smbgateway library \Q$dir\E/junk\.so}, 'a file that is not the library: clear message');

# The real library.
is($P->library_path, $lib, 'library from SMBGW_PLUGIN_LIB');
my $v = $P->request('version');
is($v->{api}, 1, 'protocol 1');
like($v->{version}, qr/^\d+\.\d+\.\d+/, 'version');

# Malformed requests come back as bad_request answers.
my $r = $P->call_raw('{not json');
is($r->{ok}, 0, 'bad JSON: not ok');
is($r->{error}{code}, 'bad_request', 'bad JSON: bad_request');
like($r->{error}{message}, qr/bad request/, 'bad JSON: message');
ok(!eval { $P->request('explode'); 1 }, 'unknown op dies');
like($@, qr/^smbgateway: bad request: unknown variant `explode`.* \(bad_request\)$/, 'unknown op: message and code');

# Core errors keep core's message and kind.
ok(!eval { $P->request('show', id => 'nosuch'); 1 }, 'unknown share dies');
like($@, qr/^smbgateway: share `nosuch` does not exist; .* \(not_found\)$/, 'not found: message and code');
ok(!eval { $P->request('usage', id => "bad]\nid"); 1 }, 'bad id dies');
like($@, qr/invalid share id .* \(input\)$/, 'bad id: input');

# Non-ASCII survives the round trip (UTF-8 both ways).
ok(!eval { $P->request('show', id => "tëst"); 1 }, 'non-ASCII id refused');
like($@, qr/"tëst"/, 'non-ASCII echoed back intact');

# status/activate of a share nobody registered yet (creation running in
# the background): inactive, no error.
is_deeply([$P->status('office', {})], [0, 0, 0, 0], 'status of an unregistered share');
ok($P->activate_storage('office', {}), 'activate of an unregistered share');

# A registry that cannot be read is an error, not an empty status.
open($fh, '>', "$dir/shares.cfg") or die;
print $fh "share: a1\nnot indented\n";
close($fh);
ok(!eval { $P->status('office', {}); 1 }, 'malformed registry: status dies');
like($@, qr/shares\.cfg:2: .*\(registry\)$/, 'malformed registry: file, line and code');
unlink "$dir/shares.cfg";

done_testing();
