package PVE::Storage::Plugin;

# A test stand-in for Proxmox's PVE::Storage::Plugin (libpve-storage-perl),
# written for pve-smbgateway's tests from the documented plugin API
# (ApiChangeLog, notes/proxmox.md), not from its code. It provides what a
# custom plugin inherits:
#
# * the SectionConfig base with the built-in properties every storage
#   shares (type, storage, nodes, content, disable, shared, ...);
# * `content` and `nodes` decoded into hashes ({ none => 1 }) and encoded
#   back as comma-separated lists; `local` read as `dir`; storage IDs
#   checked against ^[a-z][a-z0-9\-\_\.]*[a-z0-9]$ (case-insensitive);
# * the default hooks (do nothing) and base runtime methods; the base
#   `status` needs `path` and dies without it, as Proxmox's does.

use strict;
use warnings;

use base qw(PVE::SectionConfig);

my $default_data = {
    propertyList => {
        type => { description => "Storage type.", type => 'string' },
        storage => { description => "The storage identifier.", type => 'string' },
        nodes => { description => "Nodes the storage applies to.", type => 'string', optional => 1 },
        content => { description => "Allowed content types.", type => 'string', optional => 1 },
        disable => { description => "Flag to disable the storage.", type => 'boolean', optional => 1 },
        shared => { type => 'boolean', optional => 1 },
        format => { type => 'string', optional => 1 },
        'prune-backups' => { type => 'string', optional => 1 },
        'max-protected-backups' => { type => 'integer', optional => 1 },
    },
    options => {},
    plugins => {},
    plugindata => {},
};

sub private {
    return $default_data;
}

my $storage_id_re = qr/^[a-z][a-z0-9\-\_\.]*[a-z0-9]$/i;

sub parse_section_header {
    my ($class, $line) = @_;
    if ($line =~ m/^(\S+):\s*(\S+)\s*$/) {
        my ($type, $id) = (lc($1), $2);
        $type = 'dir' if $type eq 'local';
        my $errmsg = $id =~ $storage_id_re ? undef : "storage ID '$id' contains illegal characters";
        return ($type, $id, $errmsg, {});
    }
    return undef;
}

sub parse_section_header_checked {
    my ($class, $line) = @_;
    my ($type, $id, $errmsg) = $class->parse_section_header($line);
    die "$errmsg\n" if $errmsg;
    return ($type, $id);
}

sub decode_value {
    my ($class, $type, $key, $value) = @_;
    if ($key eq 'content') {
        my $plugindata = $class->private()->{plugindata}->{$type} // {};
        my $allowed = ($plugindata->{content} // [{}])->[0];
        my $res = {};
        for my $c (split(/[,\s]+/, $value)) {
            die "storage does not support content type '$c'\n" if !$allowed->{$c};
            $res->{$c} = 1;
        }
        die "unable to combine 'none' with other content types\n"
            if $res->{none} && keys %$res > 1;
        return $res;
    }
    if ($key eq 'nodes') {
        return { map { $_ => 1 } split(/[,\s]+/, $value) };
    }
    return $value;
}

sub encode_value {
    my ($class, $type, $key, $value) = @_;
    if (($key eq 'content' || $key eq 'nodes') && ref($value) eq 'HASH') {
        return join(',', sort keys %$value);
    }
    return $value;
}

sub check_value {
    my ($class, $type, $key, $value) = @_;
    return $value if ref($value);
    return $class->SUPER::check_value($type, $key, $value);
}

# The default hooks: nothing to do.
sub on_add_hook { return undef }
sub on_update_hook { return undef }

sub on_update_hook_full {
    my ($class, $storeid, $scfg, $update, $delete, $sensitive) = @_;
    return $class->on_update_hook($storeid, $update, %{ $sensitive // {} });
}

sub on_delete_hook { return undef }

sub activate_storage { return 1 }
sub deactivate_storage { return 1 }
sub check_connection { return 1 }

sub status {
    my ($class, $storeid, $scfg, $cache) = @_;
    my $path = $scfg->{path} // die "storage definition has no path\n";
    die "base status not available in the test stand-in (path $path)\n";
}

1;
