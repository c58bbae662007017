package PVE::JSONSchema;

# A test stand-in for Proxmox's PVE::JSONSchema (libpve-common-perl),
# written for pve-smbgateway's tests from its documented behaviour: only
# get_standard_option(), returning a copy of a small schema.

use strict;
use warnings;

use base qw(Exporter);
our @EXPORT_OK = qw(get_standard_option);

my %standard = (
    'pve-node' => { type => 'string', format => 'pve-node', description => 'The cluster node name.' },
);

sub get_standard_option {
    my ($name, $base) = @_;
    my $opt = $standard{$name} or die "no standard option '$name'\n";
    return { %$opt, %{ $base // {} } };
}

1;
