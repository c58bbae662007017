package PVE::Storage::Custom::SMBGatewayPlugin;

# Proxmox VE storage plugin of pve-smbgateway: a storage of type
# `smbgateway` is an SMB share served from storage the cluster already has.
#
# The plugin holds no Proxmox content (`content none`); it is the Proxmox
# face of a share. Every decision is made by the Rust library
# (libsmbgw_plugin.so, JSON in / JSON out through FFI::Platypus):
#
# * on_add_hook validates the share through the library and starts the
#   creation as a background task (Proxmox runs hooks under the storage
#   configuration's cluster lock with a 60 s alarm, so nothing slow runs in
#   the hook itself);
# * on_update_hook(_full) applies the one changeable setting, the quota;
# * on_delete_hook stops serving the share and keeps its data; it is
#   idempotent (a share that is already gone is fine);
# * activate_storage and status are cheap: the library reads the registry
#   and makes one statvfs, spawning no process (pvestatd calls them on
#   every cycle for every storage).
#
# The library is /usr/lib/pve-smbgateway/libsmbgw_plugin.so unless
# SMBGW_PLUGIN_LIB names another file. SMBGW_SANDBOX, SMBGW_PORT,
# SMBGW_REGISTRY, SMBGW_STATE_DIR and SMBGW_SAMBA_CONF select the files the
# gateway uses, as for the `pve-smbgateway` command.

use strict;
use warnings;
use utf8;

use Encode qw(encode decode);
use POSIX ();

use base qw(PVE::Storage::Plugin);

# The JSON protocol of the library this plugin speaks.
use constant LIBRARY_API => 1;
use constant DEFAULT_LIBRARY => '/usr/lib/pve-smbgateway/libsmbgw_plugin.so';

# The newest storage plugin API this plugin was checked against. It holds
# no volumes, so the changes of versions 12 to 15 (volume methods) do not
# concern it; version 13's on_update_hook_full is implemented.
use constant TESTED_API => 15;
# Used when PVE::Storage is not loaded (outside Proxmox): the oldest
# version with `sensitive-properties`, accepted by PVE 8.4 and every 9.x.
use constant FALLBACK_API => 11;

my $JSON = eval { require JSON::XS; JSON::XS->new->utf8(0)->canonical(1) }
    // do { require JSON::PP; JSON::PP->new->utf8(0)->canonical(1) };

# The pid of the last background task started outside Proxmox's task
# system (see _start_task); for callers that want to wait for it.
our $LAST_TASK_PID;

sub api {
    my $apiver = PVE::Storage->can('APIVER') ? PVE::Storage::APIVER() : undef;
    return FALLBACK_API if !defined($apiver);
    return $apiver <= TESTED_API ? $apiver : TESTED_API;
}

sub type {
    return 'smbgateway';
}

sub plugindata {
    return {
        # The gateway holds no Proxmox content; `none` cannot be combined
        # with other types.
        content => [{ none => 1 }, { none => 1 }],
        # Kept out of storage.cfg (Proxmox stores them under
        # /etc/pve/priv/storage/) and passed to the hooks separately.
        'sensitive-properties' => { 'smbgw-ad-password' => 1 },
    };
}

# Every property is new (storage.cfg has one namespace for all plugins) and
# carries the `smbgw-` prefix; built-in names are reused only in options().
sub properties {
    my $path = { type => 'string', pattern => '/[^\s]*', maxLength => 4096 };
    my $name = { type => 'string', pattern => '[A-Za-z0-9][A-Za-z0-9_.:-]*', maxLength => 255 };
    return {
        'smbgw-mode' => {
            description => "Where Samba runs: in a dedicated LXC container, natively on the host, or in a VM.",
            type => 'string',
            enum => ['lxc', 'native', 'vm'],
            default => 'lxc',
        },
        'smbgw-ct-driver' => {
            description => "LXC mode: who runs the share's container (auto: pct on a Proxmox node).",
            type => 'string',
            enum => ['auto', 'pct', 'lxc'],
            default => 'auto',
        },
        'smbgw-ct-id' => {
            description => "LXC mode: the container's VMID (default: the cluster's next free one).",
            type => 'string',
            pattern => '[A-Za-z0-9][A-Za-z0-9_.-]*',
            maxLength => 64,
        },
        'smbgw-memory' => {
            description => "LXC mode: the container's memory limit in MiB.",
            type => 'integer',
            minimum => 16,
            default => 128,
        },
        'smbgw-swap' => {
            description => "LXC mode: the container's swap in MiB.",
            type => 'integer',
            minimum => 0,
            default => 64,
        },
        'smbgw-cores' => {
            description => "LXC mode: the container's CPU cores.",
            type => 'integer',
            minimum => 1,
            maximum => 8192,
            default => 1,
        },
        'smbgw-privileged' => {
            description => "LXC mode: a privileged container (plain LXC only; default unprivileged).",
            type => 'boolean',
            default => 0,
        },
        'smbgw-bridge' => {
            description => "LXC mode: the host bridge of the container's eth0 (e.g. vmbr0).",
            type => 'string',
            pattern => '[A-Za-z0-9][A-Za-z0-9_.-]*',
            maxLength => 15,
        },
        'smbgw-vlan' => {
            description => "LXC mode: VLAN tag on the bridge.",
            type => 'integer',
            minimum => 1,
            maximum => 4094,
        },
        'smbgw-ip' => {
            description => "LXC mode: the container's IPv4 address, ADDR/BITS or dhcp.",
            type => 'string',
            pattern => '(?:dhcp|\d+\.\d+\.\d+\.\d+/\d+)',
            default => 'dhcp',
        },
        'smbgw-gw' => {
            description => "LXC mode: the container's default gateway (with a static address).",
            type => 'string',
            pattern => '\d+\.\d+\.\d+\.\d+',
        },
        'smbgw-ct-storage' => {
            description => "LXC mode: the storage of the container's root disk (default local).",
            type => 'string',
            pattern => '[A-Za-z][A-Za-z0-9_.-]*',
            maxLength => 255,
        },
        'smbgw-ha' => {
            description => "LXC mode on Proxmox: put the share's container under Proxmox HA (needs smbgw-ct-storage on shared storage).",
            type => 'boolean',
        },
        'smbgw-vip' => {
            description => "Native mode on a CTDB cluster: the floating address clients use, ADDR/BITS[\@IFACE].",
            type => 'string',
            pattern => '[0-9A-Fa-f:.]+/\d{1,3}(?:\@[A-Za-z0-9_.-]{1,15})?',
            maxLength => 64,
        },
        'smbgw-backend' => {
            description => "Where the share's volume lives.",
            type => 'string',
            enum => ['dir', 'zfs', 'cephfs', 'rbd'],
        },
        'smbgw-dir-root' => {
            %$path,
            description => "Directory backend: volumes are directories under this path.",
        },
        'smbgw-zfs-parent' => {
            %$name,
            pattern => '[A-Za-z0-9][A-Za-z0-9_.:/-]*',
            description => "ZFS backend: the parent dataset (e.g. rpool/shares).",
        },
        'smbgw-cephfs-fs' => { %$name, description => "CephFS backend: the filesystem." },
        'smbgw-cephfs-group' => { %$name, description => "CephFS backend: the subvolume group." },
        'smbgw-cephfs-mount' => {
            %$path,
            description => "CephFS backend: where the filesystem's root is mounted (default /mnt/pve/<fs>).",
        },
        'smbgw-rbd-pool' => { %$name, description => "RBD backend: the pool." },
        'smbgw-rbd-mount-base' => {
            %$path,
            description => "RBD backend: images are mounted below this directory.",
        },
        'smbgw-rbd-map' => {
            description => "RBD backend: how an image becomes a block device.",
            type => 'string',
            enum => ['krbd', 'fuse'],
            default => 'krbd',
        },
        'smbgw-ceph-conf' => { %$path, description => "CephFS and RBD backends: the cluster's ceph.conf." },
        'smbgw-ceph-id' => { %$name, description => "CephFS and RBD backends: the cephx user, without 'client.'." },
        'smbgw-volume' => { %$name, description => "The volume's name under the backend (default: the storage ID)." },
        'smbgw-existing' => {
            description => "Serve an existing volume as it is instead of creating one.",
            type => 'boolean',
            default => 0,
        },
        'smbgw-quota' => {
            description => "Size limit with a binary unit, e.g. 500M, 10G, 2T.",
            type => 'string',
            pattern => '\d+(?:\.\d+)?\s*[KMGTPE]?(?:i?B)?',
        },
        'smbgw-quota-unenforced' => {
            description => "Accept a quota the backend cannot enforce (directory backend).",
            type => 'boolean',
            default => 0,
        },
        'smbgw-workgroup' => {
            description => "Workgroup.",
            type => 'string',
            pattern => '[^\s\\\\/:*?"<>|+=;,\[\]%]{1,15}',
            default => 'WORKGROUP',
        },
        # Core checks the names (POSIX names in a workgroup, domain account
        # names such as "Domain Users" with smbgw-ad-domain); the schema
        # only keeps the line one line.
        'smbgw-users' => {
            description => "Users allowed to connect (comma-separated; domain accounts with smbgw-ad-domain).",
            type => 'string',
            pattern => '[^\x00-\x1f\x7f]+',
            maxLength => 4096,
        },
        'smbgw-groups' => {
            description => "Groups allowed to connect (comma-separated; Unix groups, or domain groups such as Domain Users with smbgw-ad-domain).",
            type => 'string',
            pattern => '[^\x00-\x1f\x7f]+',
            maxLength => 4096,
        },
        'smbgw-audit' => {
            description => "Log every file operation on the share to syslog (Samba's full_audit, LOCAL5, lines prefixed pve-smbgw|user|client|share).",
            type => 'boolean',
        },
        'smbgw-read-only' => {
            description => "Serve the share read-only.",
            type => 'boolean',
            default => 0,
        },
        'smbgw-signing' => {
            description => "SMB signing.",
            type => 'string',
            enum => ['off', 'auto', 'required'],
            default => 'auto',
        },
        'smbgw-encryption' => {
            description => "SMB3 encryption.",
            type => 'string',
            enum => ['off', 'auto', 'desired', 'required'],
            default => 'auto',
        },
        'smbgw-comment' => {
            description => "Comment shown to SMB clients.",
            type => 'string',
            maxLength => 255,
        },
        # Active Directory (core checks the values; the password is a
        # sensitive property, passed to the library for the join and never
        # stored).
        'smbgw-ad-domain' => {
            description => "Join this Active Directory domain (its DNS name, corp.example.com); smbgw-users and smbgw-groups are then domain accounts.",
            type => 'string',
            pattern => '[A-Za-z0-9][A-Za-z0-9-]*(?:\\.[A-Za-z0-9][A-Za-z0-9-]*)+',
            maxLength => 253,
        },
        'smbgw-ad-user' => {
            description => "Account that joins the Active Directory domain (default Administrator).",
            type => 'string',
            maxLength => 64,
        },
        'smbgw-ad-ou' => {
            description => "OU for the computer account, relative to the domain (OU=Servers,OU=IT); default CN=Computers.",
            type => 'string',
            maxLength => 255,
        },
        'smbgw-ad-password' => {
            description => "Password of the account joining Active Directory: used for the join only, never stored (removing the storage leaves the domain with the gateway's own machine account; if the domain refuses, the computer account stays and the task log says so).",
            type => 'string',
        },
    };
}

sub options {
    my %fixed = map { $_ => { fixed => 1 } } qw(
        smbgw-dir-root smbgw-zfs-parent smbgw-cephfs-fs smbgw-cephfs-group
        smbgw-cephfs-mount smbgw-rbd-pool smbgw-rbd-mount-base smbgw-rbd-map
        smbgw-ceph-conf smbgw-ceph-id smbgw-volume smbgw-existing
        smbgw-quota-unenforced smbgw-workgroup smbgw-users smbgw-groups
        smbgw-read-only smbgw-signing smbgw-encryption smbgw-comment smbgw-mode smbgw-audit
        smbgw-ct-driver smbgw-ct-id smbgw-memory smbgw-swap smbgw-cores
        smbgw-privileged smbgw-bridge smbgw-vlan smbgw-ip smbgw-gw smbgw-ct-storage
        smbgw-ha smbgw-vip smbgw-ad-domain smbgw-ad-user smbgw-ad-ou
    );
    # A fixed option can be omitted at creation; these are also optional.
    $_->{optional} = 1 for values %fixed;
    return {
        %fixed,
        # Required, and set only at creation.
        'smbgw-backend' => { fixed => 1 },
        # The one setting that can change afterwards.
        'smbgw-quota' => { optional => 1 },
        'smbgw-ad-password' => { optional => 1 },
        nodes => { optional => 1 },
        disable => { optional => 1 },
        content => { optional => 1 },
    };
}

# ---------------------------------------------------------------------------
# The library

my $call;

sub library_path {
    return $ENV{SMBGW_PLUGIN_LIB} // DEFAULT_LIBRARY;
}

# Loads the library on first use, so that the plugin (and with it
# storage.cfg) still loads when the library is missing; the call fails
# with a clear message instead.
sub _library {
    return $call if $call;
    my $lib = library_path();
    die "pve-smbgateway library $lib is missing; reinstall the pve-smbgateway package\n"
        if !-e $lib;
    eval { require FFI::Platypus; FFI::Platypus->VERSION(2.00); 1 }
        or die "pve-smbgateway needs FFI::Platypus 2 (apt install libffi-platypus-perl): $@";
    my $f = FFI::Platypus->new(api => 2);
    $f->lib($lib);
    my $pkg = __PACKAGE__ . '::Lib';
    eval {
        $f->attach([smbgw_api_version => "${pkg}::api_version"] => [] => 'uint32');
        $f->attach([smbgw_string_free => "${pkg}::string_free"] => ['opaque'] => 'void');
        $f->attach([smbgw_call => "${pkg}::call"] => ['string'] => 'opaque');
        1;
    } or die "cannot load the pve-smbgateway library $lib: $@";
    my $have = PVE::Storage::Custom::SMBGatewayPlugin::Lib::api_version();
    die "the pve-smbgateway library $lib speaks protocol $have, this plugin "
        . LIBRARY_API . "; install matching versions of pve-smbgateway\n"
        if $have != LIBRARY_API;
    # The answer is returned as an opaque pointer, copied into a Perl
    # string, then freed by Rust's allocator: a plain `string` return type
    # would leak every answer.
    $call = sub {
        my ($request) = @_;
        my $ptr = PVE::Storage::Custom::SMBGatewayPlugin::Lib::call(encode('UTF-8', $request));
        die "the pve-smbgateway library returned no answer\n" if !defined($ptr);
        my $bytes = $f->cast('opaque' => 'string', $ptr);
        PVE::Storage::Custom::SMBGatewayPlugin::Lib::string_free($ptr);
        return decode('UTF-8', $bytes);
    };
    return $call;
}

# The files the gateway uses, from the same variables as the CLI's.
sub _config {
    my %c;
    $c{sandbox} = $ENV{SMBGW_SANDBOX} if defined($ENV{SMBGW_SANDBOX});
    $c{port} = 0 + $ENV{SMBGW_PORT} if defined($ENV{SMBGW_PORT});
    $c{registry} = $ENV{SMBGW_REGISTRY} if defined($ENV{SMBGW_REGISTRY});
    $c{state_dir} = $ENV{SMBGW_STATE_DIR} if defined($ENV{SMBGW_STATE_DIR});
    $c{samba_conf} = $ENV{SMBGW_SAMBA_CONF} if defined($ENV{SMBGW_SAMBA_CONF});
    return \%c;
}

# Sends a raw request; returns the decoded answer, whatever it says.
sub call_raw {
    my ($class, $text) = @_;
    my $answer = _library()->($text);
    my $res = eval { $JSON->decode($answer) };
    die "the pve-smbgateway library gave an answer that is not JSON: $answer\n"
        if !$res || ref($res) ne 'HASH';
    return $res;
}

# Runs operation $op with %args; returns the answer or dies with the
# library's message (the error code is in $@ as `(code)` at the end).
sub request {
    my ($class, $op, %args) = @_;
    my $res = $class->call_raw($JSON->encode({ op => $op, config => _config(), %args }));
    return $res if $res->{ok};
    my $err = $res->{error} // {};
    die "smbgateway: " . ($err->{message} // 'unknown error') . " (" . ($err->{code} // '?') . ")\n";
}

# The error code of a failure of `request`, from its message.
sub _error_code {
    my ($err) = @_;
    return $err =~ /\(([a-z_]+)\)\n?\z/ ? $1 : undef;
}

# ---------------------------------------------------------------------------
# storage.cfg -> share spec

# JSON booleans (both JSON::XS and JSON::PP encode \1 and \0 as such).
sub _bool { return $_[0] ? \1 : \0 }

sub share_spec {
    my ($class, $storeid, $scfg) = @_;
    my $backend = $scfg->{'smbgw-backend'}
        // die "smbgateway: `smbgw-backend` is required (dir, zfs, cephfs or rbd)\n";
    my $need = sub {
        my ($key) = @_;
        return $scfg->{$key} // die "smbgateway: --$key is required for backend $backend\n";
    };
    my $ceph = sub {
        my %c;
        $c{conf} = $scfg->{'smbgw-ceph-conf'} if defined($scfg->{'smbgw-ceph-conf'});
        $c{id} = $scfg->{'smbgw-ceph-id'} if defined($scfg->{'smbgw-ceph-id'});
        return \%c;
    };
    my $spec_backend;
    if ($backend eq 'dir') {
        $spec_backend = { type => 'dir', root => $need->('smbgw-dir-root') };
    } elsif ($backend eq 'zfs') {
        $spec_backend = { type => 'zfs', parent => $need->('smbgw-zfs-parent') };
    } elsif ($backend eq 'cephfs') {
        $spec_backend = {
            type => 'cephfs',
            fs => $need->('smbgw-cephfs-fs'),
            group => $scfg->{'smbgw-cephfs-group'},
            mount => $scfg->{'smbgw-cephfs-mount'},
            ceph => $ceph->(),
        };
    } elsif ($backend eq 'rbd') {
        $spec_backend = {
            type => 'rbd',
            pool => $need->('smbgw-rbd-pool'),
            mount_base => $scfg->{'smbgw-rbd-mount-base'},
            map => $scfg->{'smbgw-rbd-map'} // 'krbd',
            ceph => $ceph->(),
        };
    } else {
        die "smbgateway: unknown backend '$backend' (dir, zfs, cephfs or rbd)\n";
    }
    my $list = sub { [grep { length } map { s/^\s+|\s+$//gr } split(/,/, $scfg->{ $_[0] } // '')] };
    my $spec = {
        id => $storeid,
        backend => $spec_backend,
        volume => {
            name => $scfg->{'smbgw-volume'} // $storeid,
            existing => _bool($scfg->{'smbgw-existing'}),
        },
        quota_unenforced_ok => _bool($scfg->{'smbgw-quota-unenforced'}),
        mode => $scfg->{'smbgw-mode'} // 'lxc',
        identity => defined($scfg->{'smbgw-ad-domain'})
            ? {
                ad => {
                    realm => uc($scfg->{'smbgw-ad-domain'}),
                    join_user => $scfg->{'smbgw-ad-user'} // 'Administrator',
                    (defined($scfg->{'smbgw-ad-ou'}) ? (ou => $scfg->{'smbgw-ad-ou'}) : ()),
                },
            }
            : { workgroup => uc($scfg->{'smbgw-workgroup'} // 'WORKGROUP') },
        access => {
            users => $list->('smbgw-users'),
            groups => $list->('smbgw-groups'),
            read_only => _bool($scfg->{'smbgw-read-only'}),
        },
        security => {
            signing => $scfg->{'smbgw-signing'} // 'auto',
            encryption => $scfg->{'smbgw-encryption'} // 'auto',
            audit => _bool($scfg->{'smbgw-audit'}),
        },
    };
    $spec->{quota} = $scfg->{'smbgw-quota'} if defined($scfg->{'smbgw-quota'});
    $spec->{comment} = $scfg->{'smbgw-comment'} if defined($scfg->{'smbgw-comment'});
    $spec->{container} = $class->container_spec($scfg) if $spec->{mode} eq 'lxc';
    if ($scfg->{'smbgw-ha'} || defined($scfg->{'smbgw-vip'})) {
        $spec->{ha} = { enabled => _bool($scfg->{'smbgw-ha'}) };
        $spec->{ha}->{vip} = $scfg->{'smbgw-vip'} if defined($scfg->{'smbgw-vip'});
    }
    return $spec;
}

# The `container` part of an LXC-mode spec (core checks it).
sub container_spec {
    my ($class, $scfg) = @_;
    my $network = { type => 'none' };
    if (defined(my $bridge = $scfg->{'smbgw-bridge'})) {
        my $ip = $scfg->{'smbgw-ip'} // 'dhcp';
        $network = {
            type => 'bridge',
            bridge => $bridge,
            ip => $ip eq 'dhcp'
                ? { mode => 'dhcp' }
                : { mode => 'static', cidr => $ip, (defined($scfg->{'smbgw-gw'}) ? (gateway => $scfg->{'smbgw-gw'}) : ()) },
        };
        $network->{vlan} = $scfg->{'smbgw-vlan'} + 0 if defined($scfg->{'smbgw-vlan'});
    } elsif (grep { defined($scfg->{$_}) } qw(smbgw-ip smbgw-gw smbgw-vlan)) {
        die "smbgateway: --smbgw-ip, --smbgw-gw and --smbgw-vlan need --smbgw-bridge\n";
    }
    my $c = {
        driver => $scfg->{'smbgw-ct-driver'} // 'auto',
        memory_mb => ($scfg->{'smbgw-memory'} // 128) + 0,
        swap_mb => ($scfg->{'smbgw-swap'} // 64) + 0,
        cores => ($scfg->{'smbgw-cores'} // 1) + 0,
        unprivileged => $scfg->{'smbgw-privileged'} ? \0 : \1,
        network => $network,
    };
    $c->{id} = $scfg->{'smbgw-ct-id'} if defined($scfg->{'smbgw-ct-id'});
    $c->{storage} = $scfg->{'smbgw-ct-storage'} if defined($scfg->{'smbgw-ct-storage'});
    return $c;
}

# ---------------------------------------------------------------------------
# Configuration hooks (run under the storage configuration lock)

# Runs $code in the background: a Proxmox task when the API (or pvesm) is
# the caller, so that it shows in the task log; otherwise a detached child
# whose pid is in $LAST_TASK_PID. Returns the task id or the pid.
sub _start_task {
    my ($class, $storeid, $code) = @_;
    my $rpcenv = eval { require PVE::RPCEnvironment; PVE::RPCEnvironment->get() };
    if ($rpcenv) {
        # background = 1: also detached under `pvesm add`, which would
        # otherwise wait for the task while holding the lock.
        return $rpcenv->fork_worker('smbgwcreate', $storeid, $rpcenv->get_user(), $code, 1);
    }
    my $pid = fork() // die "smbgateway: cannot start the background task: $!\n";
    if ($pid == 0) {
        POSIX::setsid();
        my $ok = eval { $code->(); 1 };
        print STDERR $@ if !$ok;
        POSIX::_exit($ok ? 0 : 1);
    }
    $LAST_TASK_PID = $pid;
    return $pid;
}

sub on_add_hook {
    my ($class, $storeid, $scfg, %sensitive) = @_;
    die "smbgateway: smbgw-ad-user, smbgw-ad-ou and smbgw-ad-password need smbgw-ad-domain\n"
        if !defined($scfg->{'smbgw-ad-domain'})
        && grep { defined($scfg->{$_}) || defined($sensitive{$_}) } qw(smbgw-ad-user smbgw-ad-ou smbgw-ad-password);
    die "smbgateway: joining $scfg->{'smbgw-ad-domain'} needs smbgw-ad-password (the password of "
        . ($scfg->{'smbgw-ad-user'} // 'Administrator') . ")\n"
        if defined($scfg->{'smbgw-ad-domain'}) && !defined($sensitive{'smbgw-ad-password'});
    my $spec = $class->share_spec($storeid, $scfg);
    my $password = $sensitive{'smbgw-ad-password'};
    # An already registered share (created with the CLI) is only exposed.
    my $existing = eval { $class->request('show', id => $storeid) };
    return undef if $existing;
    my $err = $@;
    die $err if (_error_code($err) // '') ne 'not_found';
    # Checks everything that can be checked before anything changes.
    $class->request('validate', spec => $spec);
    $class->_start_task($storeid, sub {
        print "creating SMB share '$storeid'\n";
        my $res = $class->request('create', spec => $spec,
            (defined($password) ? (ad_password => $password) : ()));
        print "share '$storeid' is served from $res->{share}{state}{path}\n";
    });
    return undef;
}

sub _update_quota {
    my ($class, $storeid, $quota) = @_;
    $class->request('set_quota', id => $storeid, quota => $quota);
}

sub on_update_hook {
    my ($class, $storeid, $update, %sensitive) = @_;
    die "smbgateway: smbgw-ad-password is used only when the storage is added (the join); the domain membership cannot change afterwards\n"
        if defined($sensitive{'smbgw-ad-password'});
    $class->_update_quota($storeid, $update->{'smbgw-quota'})
        if defined($update->{'smbgw-quota'});
    return undef;
}

sub on_update_hook_full {
    my ($class, $storeid, $scfg, $update, $delete, $sensitive) = @_;
    die "smbgateway: a quota cannot be removed, only changed; set a larger one instead\n"
        if grep { $_ eq 'smbgw-quota' } @{ $delete // [] };
    return $class->on_update_hook($storeid, $update, %{ $sensitive // {} });
}

sub on_delete_hook {
    my ($class, $storeid, $scfg) = @_;
    # Keeps the volume and its data (no purge); a share that is already
    # gone (or was never created) is fine.
    eval { $class->request('delete', id => $storeid, purge => \0) };
    if (my $err = $@) {
        my $code = _error_code($err) // '';
        die $err if $code ne 'not_found';
    }
    return undef;
}

# ---------------------------------------------------------------------------
# Runtime (pvestatd calls these on every cycle: no process, no change)

sub activate_storage {
    my ($class, $storeid, $scfg, $cache) = @_;
    my $u = eval { $class->request('usage', id => $storeid)->{usage} };
    if (my $err = $@) {
        # Not registered yet: the background creation is still running.
        return 1 if (_error_code($err) // '') eq 'not_found';
        die $err;
    }
    die "smbgateway: share '$storeid' is not available: $u->{problem}\n" if !$u->{active};
    return 1;
}

sub deactivate_storage {
    my ($class, $storeid, $scfg, $cache) = @_;
    return 1;
}

sub check_connection {
    my ($class, $storeid, $scfg) = @_;
    return 1;
}

sub status {
    my ($class, $storeid, $scfg, $cache) = @_;
    my $u = eval { $class->request('usage', id => $storeid)->{usage} };
    if (my $err = $@) {
        return (0, 0, 0, 0) if (_error_code($err) // '') eq 'not_found';
        die $err;
    }
    return ($u->{total}, $u->{available}, $u->{used}, $u->{active} ? 1 : 0);
}

# The gateway holds no Proxmox volumes.
sub list_images {
    my ($class, $storeid, $scfg, $vmid, $vollist, $cache) = @_;
    return [];
}

sub list_volumes {
    my ($class, $storeid, $scfg, $vmid, $content_types) = @_;
    return [];
}

sub parse_volname {
    my ($class, $volname) = @_;
    die "smbgateway storage holds no volumes (volume '$volname')\n";
}

1;
