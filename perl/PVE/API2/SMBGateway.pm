package PVE::API2::SMBGateway;

# The node API of pve-smbgateway: /api2/json/nodes/{node}/smbgateway.
#
# Proxmox VE has no supported way to add node API endpoints:
# PVE::API2::Nodes::Nodeinfo registers a fixed list of subclasses. This
# module is registered there by `pve-smbgateway pve-integration install`,
# which adds one marked block to PVE/API2/Nodes.pm (loaded by Perl first,
# removed again by `pve-integration remove` and on package removal, and
# re-applied by a dpkg trigger when pve-manager replaces the file). The
# risk: a pve-manager release that restructures Nodes.pm makes the install
# refuse (the endpoint is then missing; nothing else breaks). Storage usage
# needs none of this: the storage plugin's status feeds Proxmox's own
# storage API and graphs.

use strict;
use warnings;

use PVE::JSONSchema qw(get_standard_option);
use PVE::RESTHandler;
use PVE::Storage::Custom::SMBGatewayPlugin;

use base qw(PVE::RESTHandler);

my $plugin = 'PVE::Storage::Custom::SMBGatewayPlugin';

__PACKAGE__->register_method({
    name => 'index',
    path => '',
    method => 'GET',
    description => "pve-smbgateway on this node.",
    permissions => { user => 'all' },
    parameters => {
        additionalProperties => 0,
        properties => { node => get_standard_option('pve-node') },
    },
    returns => {
        type => 'array',
        items => { type => 'object', properties => { name => { type => 'string' } } },
        links => [ { rel => 'child', href => "{name}" } ],
    },
    code => sub {
        return [ { name => 'metrics' }, { name => 'shares' } ];
    },
});

__PACKAGE__->register_method({
    name => 'metrics',
    path => 'metrics',
    method => 'GET',
    # smbstatus and pct need root (pvedaemon), on the node asked about.
    protected => 1,
    proxyto => 'node',
    description => "Share metrics: sessions, open files, I/O counters, space against the quota.",
    permissions => { check => ['perm', '/storage', ['Datastore.Audit']] },
    parameters => {
        additionalProperties => 0,
        properties => {
            node => get_standard_option('pve-node'),
            share => {
                description => "Only this share (its storage id).",
                type => 'string',
                format => 'pve-storage-id',
                optional => 1,
            },
        },
    },
    returns => { type => 'object' },
    code => sub {
        my ($param) = @_;
        my %args = defined($param->{share}) ? (id => $param->{share}) : ();
        return $plugin->request('metrics', %args)->{metrics};
    },
});

__PACKAGE__->register_method({
    name => 'shares',
    path => 'shares',
    method => 'GET',
    protected => 1,
    proxyto => 'node',
    description => "The shares in the registry.",
    permissions => { check => ['perm', '/storage', ['Datastore.Audit']] },
    parameters => {
        additionalProperties => 0,
        properties => { node => get_standard_option('pve-node') },
    },
    returns => { type => 'array', items => { type => 'object' } },
    code => sub {
        return $plugin->request('list')->{shares};
    },
});

1;
