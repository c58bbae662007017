package PVE::RESTHandler;

# A test stand-in for Proxmox's PVE::RESTHandler (libpve-common-perl),
# written for pve-smbgateway's tests from its documented behaviour:
# register_method() records a method (or a `subclass` mount under `path`)
# per package, dies on a duplicate path or on a method without name,
# method, returns or code; find_handler() resolves a path through
# subclass mounts; handle() runs a method's code.

use strict;
use warnings;

my %methods;    # package => [ info ]

sub register_method {
    my ($class, $info) = @_;
    if (my $sub = $info->{subclass}) {
        die "subclass '$sub' is not loaded\n" if !$sub->can('register_method');
        die "subclass mount without path\n" if !defined($info->{path});
    } else {
        for my $k (qw(name method returns code)) {
            die "method without $k\n" if !defined($info->{$k});
        }
    }
    for my $m (@{ $methods{$class} // [] }) {
        die "duplicate path '$info->{path}' in $class\n"
            if $m->{path} eq $info->{path} && ($m->{method} // '') eq ($info->{method} // '');
    }
    push @{ $methods{$class} }, $info;
    return $info;
}

sub registered {
    my ($class) = @_;
    return @{ $methods{$class} // [] };
}

# Resolves 'a/b/c' for GET from $class: [handler class, method info].
sub find_handler {
    my ($class, $method, $path) = @_;
    my @parts = grep { length } split(m!/!, $path);
    my $here = $class;
    while (1) {
        my $rest = join('/', @parts);
        for my $m (@{ $methods{$here} // [] }) {
            next if $m->{subclass};
            return [$here, $m] if $m->{path} eq $rest && $m->{method} eq $method;
        }
        last if !@parts;
        my $head = shift @parts;
        my ($mount) = grep { $_->{subclass} && $_->{path} eq $head } @{ $methods{$here} // [] };
        return undef if !$mount;
        $here = $mount->{subclass};
    }
    return undef;
}

1;
