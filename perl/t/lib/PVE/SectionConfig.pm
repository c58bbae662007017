package PVE::SectionConfig;

# A test stand-in for Proxmox's PVE::SectionConfig (libpve-common-perl),
# written for pve-smbgateway's tests from its documented behaviour (the
# module's POD and notes/proxmox.md), not from its code. It covers what a
# storage plugin meets, in the "unified" mode storage.cfg uses:
#
# * register(): one plugin per type;
# * init(): every plugin's properties() join one namespace; a name defined
#   twice dies with "duplicate property" (in Proxmox this runs outside any
#   eval, so such a plugin breaks storage for the whole node); options()
#   may only name known properties;
# * parse_config(): sections `type: id` followed by `\tkey value` lines,
#   separated by blank lines; a bare key is a true boolean; values are
#   checked against the schema (enum, pattern, boolean, integer,
#   maxLength); unknown keys and bad values are reported in `errors`;
# * write_config(): the inverse (booleans as `key 0|1`, `disable` bare);
# * check_config(): on create every required option must be given; on
#   update a fixed option cannot change.
#
# Not covered: isolated mode, property formats (`format => ...`), arrays,
# the JSON schema generation for the API.

use strict;
use warnings;

sub private {
    die "the base class must implement private()\n";
}

sub register {
    my ($class) = @_;
    my $type = $class->type();
    my $pdata = $class->private();
    die "duplicate plugin registration (type = $type)\n" if $pdata->{plugins}->{$type};
    $pdata->{plugins}->{$type} = $class;
}

sub type { die "a plugin must implement type()\n" }
sub properties { return {} }
sub options { return {} }
sub plugindata { return {} }

sub init {
    my ($class) = @_;
    my $pdata = $class->private();
    # init() may run again after more plugins registered: start from the
    # base class's own properties each time.
    my $base = $pdata->{base_properties} //= { %{ $pdata->{propertyList} } };
    my $props = $pdata->{propertyList} = { %$base };
    for my $type (sort keys %{ $pdata->{plugins} }) {
        my $plugin = $pdata->{plugins}->{$type};
        my $own = $plugin->properties();
        for my $p (sort keys %$own) {
            die "duplicate property '$p'" if defined($props->{$p});
            $props->{$p} = { %{ $own->{$p} }, optional => 1 };
        }
    }
    for my $type (sort keys %{ $pdata->{plugins} }) {
        my $plugin = $pdata->{plugins}->{$type};
        my $opts = $plugin->options();
        for my $p (sort keys %$opts) {
            die "undefined property '$p' in options of plugin '$type'\n" if !$props->{$p};
        }
        $opts->{type} = { fixed => 1 };
        $pdata->{options}->{$type} = $opts;
        $pdata->{plugindata}->{$type} = $plugin->plugindata();
    }
}

sub lookup {
    my ($class, $type) = @_;
    return $class->private()->{plugins}->{$type} // die "unknown section type '$type'\n";
}

# `type: id`; returns ($type, $id, $errmsg, $config).
sub parse_section_header {
    my ($class, $line) = @_;
    if ($line =~ m/^(\S+):\s*(\S+)\s*$/) {
        return (lc($1), $2, undef, {});
    }
    return undef;
}

sub decode_value {
    my ($class, $type, $key, $value) = @_;
    return $value;
}

sub encode_value {
    my ($class, $type, $key, $value) = @_;
    return $value;
}

# Checks one value against its schema; returns it normalized or dies.
sub check_value {
    my ($class, $type, $key, $value) = @_;
    my $pdata = $class->private();
    my $schema = $pdata->{propertyList}->{$key} // die "unknown property '$key'\n";
    my $t = $schema->{type} // 'string';
    if ($t eq 'boolean') {
        return 1 if $value =~ m/^(?:1|on|yes|true)$/i;
        return 0 if $value =~ m/^(?:0|off|no|false)$/i;
        die "type check ('boolean') failed - got '$value'\n";
    }
    if ($t eq 'integer') {
        die "type check ('integer') failed - got '$value'\n" if $value !~ m/^-?\d+$/;
        return $value;
    }
    if (my $enum = $schema->{enum}) {
        die "value '$value' does not have a value in the enumeration '" . join(', ', @$enum) . "'\n"
            if !grep { $_ eq $value } @$enum;
    }
    if (defined(my $pattern = $schema->{pattern})) {
        die "value does not match the regex pattern\n" if $value !~ m/^(?:$pattern)$/;
    }
    if (defined(my $max = $schema->{maxLength})) {
        die "value may only be $max characters long\n" if length($value) > $max;
    }
    return $value;
}

sub parse_config {
    my ($class, $filename, $raw) = @_;
    my $pdata = $class->private();
    my $cfg = { ids => {}, order => {}, errors => [] };
    my $pri = 0;
    my @lines = split(/\n/, $raw // '');
    my $lineno = 0;
    my $error = sub {
        my ($msg) = @_;
        push @{ $cfg->{errors} }, { context => "$filename:$lineno", err => $msg };
    };
    while (@lines) {
        my $line = shift @lines;
        $lineno++;
        next if $line =~ m/^\s*(?:#.*)?$/;
        my ($type, $id, $errmsg, $scfg) = $class->parse_section_header($line);
        if (!defined($type)) {
            $error->("unable to parse section header '$line'");
            next;
        }
        my $plugin = $pdata->{plugins}->{$type};
        if (!$plugin) {
            $error->("unknown section type '$type'");
        }
        $error->("duplicate section '$id'") if $cfg->{ids}->{$id};
        $scfg->{type} = $type;
        while (@lines && $lines[0] !~ m/^\s*$/) {
            my $l = shift @lines;
            $lineno++;
            next if $l =~ m/^\s*#/;
            if ($l !~ m/^\s+(\S+)(?:\s+(\S.*?))?\s*$/) {
                $error->("unable to parse line '$l'");
                next;
            }
            my ($k, $v) = ($1, $2);
            next if !$plugin;
            my $opts = $pdata->{options}->{$type};
            if (!$opts->{$k}) {
                $error->("unexpected property '$k'");
                next;
            }
            if (defined($scfg->{$k})) {
                $error->("duplicate attribute '$k'");
                next;
            }
            my $schema = $pdata->{propertyList}->{$k};
            $v = 1 if !defined($v) && ($schema->{type} // '') eq 'boolean';
            if (!defined($v)) {
                $error->("property '$k' has no value");
                next;
            }
            my $decoded = eval {
                $class->decode_value($type, $k, $class->check_value($type, $k, $v));
            };
            if (my $err = $@) {
                chomp $err;
                $error->("property '$k': $err");
                next;
            }
            $scfg->{$k} = $decoded;
        }
        next if !$plugin;
        $cfg->{ids}->{$id} = $scfg;
        $cfg->{order}->{$id} = ++$pri;
    }
    return $cfg;
}

sub write_config {
    my ($class, $filename, $cfg) = @_;
    my $pdata = $class->private();
    my $order = $cfg->{order} //= {};
    my $max = 0;
    for (values %$order) { $max = $_ if $_ > $max }
    $order->{$_} //= ++$max for sort keys %{ $cfg->{ids} };
    my @out;
    for my $id (sort { $order->{$a} <=> $order->{$b} } keys %{ $cfg->{ids} }) {
        my $scfg = $cfg->{ids}->{$id};
        my $type = $scfg->{type};
        my $text = "$type: $id\n";
        $text .= "\tdisable\n" if $scfg->{disable};
        for my $k (sort keys %$scfg) {
            next if $k eq 'type' || $k eq 'disable';
            my $v = $scfg->{$k};
            next if !defined($v);
            my $schema = $pdata->{propertyList}->{$k} // die "unknown property '$k'\n";
            $v = $class->encode_value($type, $k, $v);
            die "property '$k' contains a line feed\n" if "$k$v" =~ m/[\r\n]/;
            if (($schema->{type} // '') eq 'boolean') {
                $text .= "\t$k " . ($v ? 1 : 0) . "\n";
            } elsif ("$v" ne '') {
                $text .= "\t$k $v\n";
            }
        }
        push @out, $text;
    }
    return join("\n", @out);
}

sub check_config {
    my ($class, $id, $config, $create, $skip_schema_check) = @_;
    my $pdata = $class->private();
    my $type = $config->{type} // die "missing type\n";
    my $opts = $pdata->{options}->{$type} // die "unknown section type '$type'\n";
    my $settings = { type => $type };
    for my $k (sort keys %$config) {
        next if $k eq 'type';
        die "unexpected property '$k'\n" if !$opts->{$k};
        die "can't change value of fixed parameter '$k'\n" if !$create && $opts->{$k}->{fixed};
        my $v = $config->{$k};
        die "got undefined value for option '$k'\n" if !defined($v);
        $v = $class->check_value($type, $k, $v) if !$skip_schema_check;
        $settings->{$k} = $v;
    }
    if ($create) {
        for my $k (sort keys %$opts) {
            next if $opts->{$k}->{optional} || $k eq 'type';
            die "missing value for required option '$k'\n" if !defined($config->{$k});
        }
    }
    return $settings;
}

1;
