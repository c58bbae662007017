package PVE::Storage;

# A test stand-in for the parts of Proxmox's PVE::Storage a custom plugin
# meets, written from notes/proxmox.md (section 1), not from its code:
# APIVER/APIAGE, and the checks Proxmox makes before registering a plugin
# from /usr/share/perl5/PVE/Storage/Custom/. The versions are those of a
# chosen Proxmox release (PVE_APIVER/PVE_APIAGE in the environment, default
# pve-storage 9.1.7: 15/6), so that tests can play PVE 8.4 or 9.x.

use strict;
use warnings;

use constant APIVER => $ENV{PVE_APIVER} // 15;
use constant APIAGE => $ENV{PVE_APIAGE} // 6;

use PVE::Storage::Plugin;

# Loads and registers a custom plugin the way Proxmox does; returns the
# warnings Proxmox would print (a refused plugin is not registered).
sub load_custom_plugin {
    my ($module) = @_;
    my @warnings;
    (my $file = "$module.pm") =~ s{::}{/}g;
    eval { require $file; 1 } or return ("error loading storage plugin \"$module\": $@");
    return ("ignoring storage plugin \"$module\": not derived from PVE::Storage::Plugin")
        if !$module->isa('PVE::Storage::Plugin');
    return ("ignoring storage plugin \"$module\": does not provide an api() method")
        if !$module->can('api');
    my $version = $module->api();
    return ("ignoring storage plugin \"$module\": implements an API version newer than current ($version > " . APIVER . ")")
        if $version > APIVER;
    return ("ignoring storage plugin \"$module\": API version too old, please update the plugin ($version < " . (APIVER - APIAGE) . ")")
        if $version < APIVER - APIAGE;
    push @warnings, "plugin \"$module\" is implementing an older storage API, an upgrade is recommended"
        if $version != APIVER;
    $module->register();
    return @warnings;
}

1;
