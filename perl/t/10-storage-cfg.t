# storage.cfg with a `smbgateway:` section: parsed, checked and written
# back through the SectionConfig stand-in with the plugin's schema.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use SMBGWTest;

SMBGWTest::load_plugin();
my $base = 'PVE::Storage::Plugin';

my $cfg_text = <<'CFG';
dir: local
	path /var/lib/vz
	content iso,vztmpl,backup

smbgateway: office
	smbgw-mode native
	smbgw-backend zfs
	smbgw-zfs-parent tank/shares
	smbgw-quota 10G
	smbgw-users alice,bob
	smbgw-read-only 0
	content none
	nodes pve1,pve2

smbgateway: archive
	disable
	smbgw-backend dir
	smbgw-dir-root /srv/smb
	smbgw-quota-unenforced 1
	smbgw-quota 1T
CFG

# `dir` is not registered in these tests: its section is reported, ours
# parse cleanly.
my $cfg = $base->parse_config('storage.cfg', $cfg_text);
my @ours = grep { $_->{err} !~ /unknown section type 'dir'/ } @{ $cfg->{errors} };
is_deeply(\@ours, [], 'the smbgateway sections parse without errors') or diag explain \@ours;
my $office = $cfg->{ids}{office};
is($office->{type}, 'smbgateway', 'type');
is($office->{'smbgw-backend'}, 'zfs', 'backend');
is($office->{'smbgw-quota'}, '10G', 'quota');
is_deeply($office->{content}, { none => 1 }, 'content none decodes to { none => 1 }');
is_deeply($office->{nodes}, { pve1 => 1, pve2 => 1 }, 'nodes');
is($cfg->{ids}{archive}{disable}, 1, 'a bare `disable` is true');

# Written back: the same sections (the stand-in sorts keys, `disable` first).
my $written = $base->write_config('storage.cfg', $cfg);
like($written, qr/^smbgateway: office\n/m, 'header');
like($written, qr/^\tsmbgw-zfs-parent tank\/shares$/m, 'a value line');
like($written, qr/^smbgateway: archive\n\tdisable\n/m, 'disable written bare, first');
like($written, qr/^\tsmbgw-read-only 0$/m, 'a false boolean is written as 0');
like($written, qr/^\tcontent none$/m, 'content none');
my $again = $base->parse_config('storage.cfg', $written);
is_deeply($again->{ids}, $cfg->{ids}, 'write + parse round-trips');

# The plugin's section the way Proxmox's `pvesm add` would create it.
my $new = $base->check_config('team', {
    type => 'smbgateway',
    'smbgw-backend' => 'dir',
    'smbgw-dir-root' => '/srv/smb',
    'smbgw-mode' => 'native',
    'smbgw-quota' => '5G',
    'smbgw-quota-unenforced' => 'yes',
}, 1);
is($new->{'smbgw-quota-unenforced'}, 1, 'booleans normalized');

# Errors with clear messages.
my @bad = (
    [{ type => 'smbgateway' }, 1, qr/missing value for required option 'smbgw-backend'/, 'backend is required'],
    [{ type => 'smbgateway', 'smbgw-backend' => 'nfs' }, 1, qr/enumeration/, 'unknown backend'],
    [{ type => 'smbgateway', 'smbgw-backend' => 'dir', path => '/x' }, 1, qr/unexpected property 'path'/, 'path is not ours'],
    [{ type => 'smbgateway', 'smbgw-backend' => 'dir' }, 0, qr/can't change value of fixed parameter 'smbgw-backend'/, 'backend is fixed'],
    [{ type => 'smbgateway', 'smbgw-mode' => 'native' }, 0, qr/fixed parameter 'smbgw-mode'/, 'mode is fixed'],
    [{ type => 'smbgateway', 'smbgw-quota' => 'lots' }, 0, qr/regex pattern/, 'a quota must look like one'],
);
for my $b (@bad) {
    my ($conf, $create, $re, $what) = @$b;
    ok(!eval { $base->check_config('team', $conf, $create); 1 }, $what);
    like($@, $re, "$what: message");
}
ok(eval { $base->check_config('team', { type => 'smbgateway', 'smbgw-quota' => '20G' }, 0); 1 }, 'the quota can change')
    or diag $@;

# Content other than none is refused when parsing.
my $bad = $base->parse_config('storage.cfg', "smbgateway: x1\n\tsmbgw-backend dir\n\tcontent images\n");
like(join("\n", map { $_->{err} } @{ $bad->{errors} }), qr/content type 'images'/, 'content images refused');

done_testing();
