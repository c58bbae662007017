package SMBGWTest;

# Shared setup of the plugin's tests: the stand-ins (t/lib) and the plugin
# (perl/) on @INC, the real library (SMBGW_PLUGIN_LIB, set by the Rust
# test that runs `prove`), and the skip-or-fail rule of the project: a
# missing component fails under SMBGW_REQUIRE_REAL=1 and skips otherwise.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/..", "$FindBin::Bin/lib";
use Test::More;

use PVE::Storage;

our $PLUGIN = 'PVE::Storage::Custom::SMBGatewayPlugin';

sub require_or_skip {
    my ($what) = @_;
    if (($ENV{SMBGW_REQUIRE_REAL} // '') eq '1') {
        BAIL_OUT("$what, and SMBGW_REQUIRE_REAL=1 requires the real components");
    }
    plan skip_all => $what;
}

# The real library must be there.
sub require_library {
    my $lib = $ENV{SMBGW_PLUGIN_LIB};
    require_or_skip("SMBGW_PLUGIN_LIB does not name the built library (run through `cargo test -p smbgw-plugin-ffi`)")
        if !defined($lib) || !-f $lib;
    eval { require FFI::Platypus; 1 }
        or require_or_skip("FFI::Platypus is not installed (apt-get install libffi-platypus-perl)");
    return $lib;
}

# A gateway sandbox (private smbd, registry, volumes) prepared by the Rust
# test in a mount namespace with a private /etc.
sub require_sandbox {
    require_or_skip("no gateway sandbox (SMBGW_SANDBOX unset; the Rust test `perl::prove` provides one)")
        if !$ENV{SMBGW_SANDBOX};
    return $ENV{SMBGW_SANDBOX};
}

# Loads the plugin as Proxmox does and initializes the section config.
sub load_plugin {
    my @warnings = PVE::Storage::load_custom_plugin($PLUGIN);
    die "plugin refused: @warnings" if !$PLUGIN->can('type') || grep { /ignoring|error/ } @warnings;
    PVE::Storage::Plugin->init();
    return @warnings;
}

# Resident set size of this process in kB.
sub rss_kb {
    open(my $fh, '<', '/proc/self/status') or die "cannot read /proc/self/status: $!";
    while (<$fh>) {
        return $1 if /^VmRSS:\s+(\d+)\s+kB/;
    }
    die "no VmRSS in /proc/self/status";
}

1;
