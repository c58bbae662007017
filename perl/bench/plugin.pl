#!/usr/bin/perl
# Benchmark of the storage plugin (run by `cargo xtask bench plugin`
# through the Rust test bench_plugin, inside a gateway sandbox): prints
# key=value lines.
#
# * status through Perl -> FFI -> Rust (the plugin's `status`, the no-spawn
#   usage path), per call, median of 5 rounds of 20,000 calls;
# * the same answer obtained the way a plugin without the library would:
#   shelling out to `pve-smbgateway status ID --output-format json` and
#   decoding it, median of 30 runs;
# * plugin load time: `perl -e 'use PVE::Storage::Plugin; use ...Plugin'`
#   (whole process, median of 15), against `perl -e 1`; and load plus the
#   first status call (FFI::Platypus and the library are loaded lazily).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/..", "$FindBin::Bin/../t/lib";
use Time::HiRes qw(time);
use JSON::PP;
use PVE::Storage;

my $P = 'PVE::Storage::Custom::SMBGatewayPlugin';
my @w = PVE::Storage::load_custom_plugin($P);
PVE::Storage::Plugin->init();
my $cli = $ENV{SMBGW_CLI} // die "SMBGW_CLI must name the pve-smbgateway binary\n";
my $sandbox = $ENV{SMBGW_SANDBOX} // die "SMBGW_SANDBOX must be set\n";

sub median { my @s = sort { $a <=> $b } @_; return $s[$#s / 2] }

my $root = "$sandbox/bench-volumes";
mkdir $root if !-d $root;
my $id = 'bench1';
my $scfg = { type => 'smbgateway', 'smbgw-mode' => 'native', 'smbgw-backend' => 'dir', 'smbgw-dir-root' => $root };
$P->request('create', spec => $P->share_spec($id, $scfg));

# Perl -> FFI -> Rust.
my @ffi_answer = $P->status($id, $scfg);
$P->status($id, $scfg) for 1 .. 2_000;
my $n = 20_000;
my @rounds;
for (1 .. 5) {
    my $t = time;
    $P->status($id, $scfg) for 1 .. $n;
    push @rounds, (time - $t) / $n;
}
my $ffi = median(@rounds);

# Shelling out to the CLI for the same answer.
sub cli_status {
    my $json = qx{$cli status $id --output-format json};
    die "pve-smbgateway status failed ($?)\n" if $? != 0;
    my $s = decode_json($json);
    my $u = $s->{usage};
    return (0, 0, 0, 0) if !$u;
    return ($u->{total} // $u->{used} + $u->{available}, $u->{available}, $u->{used}, 1);
}
my @cli_answer = cli_status();
my @cli;
for (1 .. 30) {
    my $t = time;
    cli_status();
    push @cli, time - $t;
}
my $shell = median(@cli);
@ffi_answer = $P->status($id, $scfg);
@cli_answer = cli_status();
# total and active must be equal; used/available come from two statvfs
# calls at different moments on a shared file system, so allow 1%.
my $same = $ffi_answer[0] == $cli_answer[0] && $ffi_answer[3] == $cli_answer[3]
    && abs($ffi_answer[2] - $cli_answer[2]) <= $ffi_answer[0] / 100 ? 1 : 0;

# Load times (whole perl process).
my $inc = "-I$FindBin::Bin/.. -I$FindBin::Bin/../t/lib";
sub proc_ms {
    my ($code) = @_;
    my @t;
    for (1 .. 15) {
        my $t = time;
        system($^X, split(' ', $inc), '-e', $code) == 0 or die "perl -e '$code' failed\n";
        push @t, time - $t;
    }
    return median(@t) * 1000;
}
my $load = proc_ms("use PVE::Storage::Plugin; use $P;");
my $first = proc_ms("use PVE::Storage::Plugin; use $P; my \@s = $P->status(q($id), {}); exit(\$s[3] ? 0 : 1)");
my $perl = proc_ms("1");

$P->on_delete_hook($id, $scfg);

printf "ffi_status_us=%.1f\n", $ffi * 1e6;
printf "cli_status_ms=%.2f\n", $shell * 1e3;
printf "cli_over_ffi=%.0f\n", $shell / $ffi;
print "same_answer=$same\n";
print "ffi_answer=@ffi_answer\n";
print "cli_answer=@cli_answer\n";
printf "load_ms=%.1f\n", $load;
printf "load_first_call_ms=%.1f\n", $first;
printf "perl_start_ms=%.1f\n", $perl;
print "ffi_calls=" . ($n * 5) . "\n";
