# Loading the plugin the way Proxmox does, on the API versions of PVE 8.4
# and 9.x, and its schema against every built-in property name.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use SMBGWTest;

my $P = $SMBGWTest::PLUGIN;

# Each (APIVER, APIAGE) in its own perl: the constants are fixed per process.
for my $case (
    [10, 1, 10, 'PVE 7.1 to 8.3'],
    [11, 2, 11, 'PVE 8.4'],
    [12, 3, 12, 'PVE 9.0'],
    [15, 6, 15, 'pve-storage 9.1.7'],
    [17, 8, 15, 'a future release that still accepts 15'],
) {
    my ($ver, $age, $want, $what) = @$case;
    local $ENV{PVE_APIVER} = $ver;
    local $ENV{PVE_APIAGE} = $age;
    my $out = `$^X -I$FindBin::Bin/.. -I$FindBin::Bin/lib -MPVE::Storage -e 'my \@w = PVE::Storage::load_custom_plugin("$P"); print "api=", $P->api, "\\n"; print "warn=\$_\\n" for \@w' 2>&1`;
    like($out, qr/^api=$want$/m, "$what: api() is $want");
    unlike($out, qr/ignoring|error loading/, "$what: the plugin is accepted");
    if ($want == $ver) {
        unlike($out, qr/older storage API/, "$what: no 'older API' warning");
    }
}

# A release too new for us (oldest accepted version above 15): refused with
# Proxmox's message, not a crash.
{
    local $ENV{PVE_APIVER} = 25;
    local $ENV{PVE_APIAGE} = 2;
    my $out = `$^X -I$FindBin::Bin/.. -I$FindBin::Bin/lib -MPVE::Storage -e 'print for PVE::Storage::load_custom_plugin("$P")' 2>&1`;
    like($out, qr/API version too old/, 'a release that no longer accepts 15 refuses the plugin');
}

# Outside Proxmox (no PVE::Storage): the fallback in the accepted window of
# PVE 8.4 (9..11) and 9.x (up to 9..15).
{
    my $out = `$^X -I$FindBin::Bin/.. -I$FindBin::Bin/lib -MPVE::Storage::Plugin -M$P -e 'print $P->api'`;
    is($out, '11', 'api() without PVE::Storage is 11');
}

my @warnings = SMBGWTest::load_plugin();
is_deeply(\@warnings, [], 'loads with the current API without warnings');
is($P->type, 'smbgateway', 'type');

my $pd = $P->plugindata;
is_deeply($pd->{content}, [{ none => 1 }, { none => 1 }], 'content: none allowed, none by default');
ok(!exists $pd->{format}, 'no format (the gateway holds no images)');
my $props = $P->properties;
for my $s (keys %{ $pd->{'sensitive-properties'} }) {
    ok($props->{$s}, "sensitive property $s is a property");
}

# Every property name defined by Proxmox's own storage plugins (pve-storage,
# July 2026: the properties() of src/PVE/Storage/*Plugin.pm and the base
# properties of Plugin.pm). storage.cfg has one namespace for all plugins:
# defining one of these again kills storage on the node.
my @builtin = qw(
    type storage nodes content disable prune-backups max-protected-backups shared
    subdir format preallocation content-dirs options port snapshot-as-volume-chain
    authsupported base blocksize bwlimit comstar_hg comstar_tg create-base-path
    create-subdirs data-pool datastore domain encryption-key export fingerprint
    fs-name fuse is_mountpoint iscsiprovider keyring krbd lio_tpg master-pubkey mkdir
    monhost mountpoint namespace nocow nowritecache password path pool portal
    saferemove saferemove-stepsize saferemove_throughput server share
    skip-cert-verification smbversion sparse tagged_only target thinpool username
    vgname zfs-base-path
);
my %builtin = map { $_ => 1 } @builtin;
for my $p (sort keys %$props) {
    like($p, qr/^smbgw-[a-z][a-z0-9-]*$/, "property $p has the smbgw- prefix");
    ok(!$builtin{$p}, "property $p is not a built-in name");
}

# The same through init(): a plugin defining every built-in name next to
# ours (on top of the stand-in's base properties) must not collide.
{
    package BuiltinNames;
    use base qw(PVE::Storage::Plugin);
    my %base = map { $_ => 1 } keys %{ PVE::Storage::Plugin->private()->{propertyList} };
    sub type { 'builtin-names' }
    sub properties { return { map { $_ => { type => 'string' } } grep { !$base{$_} } @builtin } }
}
BuiltinNames->register();
ok(eval { PVE::Storage::Plugin->init(); 1 }, 'init() with every built-in name defined: no duplicate') or diag($@);

# And a plugin redefining `path` twice dies as Proxmox's init() does.
{
    package PathAgain;
    use base qw(PVE::Storage::Plugin);
    sub type { 'path-again' }
    sub properties { return { path => { type => 'string' } } }
}
PathAgain->register();
ok(!eval { PVE::Storage::Plugin->init(); 1 }, 'the stand-in catches a duplicate property');
like($@, qr/duplicate property 'path'/, '... with the message Proxmox uses');

# options(): fixed/optional as intended.
my $opts = $P->options;
for my $o (keys %$opts) {
    ok($props->{$o} || PVE::Storage::Plugin->private()->{propertyList}->{$o}, "option $o is a known property");
}
is_deeply($opts->{'smbgw-backend'}, { fixed => 1 }, 'smbgw-backend: required, set at creation only');
is_deeply($opts->{'smbgw-quota'}, { optional => 1 }, 'smbgw-quota: optional and changeable');
ok($opts->{'smbgw-mode'}{fixed} && $opts->{'smbgw-mode'}{optional}, 'smbgw-mode: optional, set at creation only');
ok($opts->{$_}{optional} && !$opts->{$_}{fixed}, "$_: optional and changeable") for qw(nodes disable content);
ok(!exists $opts->{path}, 'path is not an option (the share path comes from the backend)');

done_testing();
