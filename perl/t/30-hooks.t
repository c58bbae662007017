# Every hook against the real library, in the gateway sandbox the Rust test
# `perl::prove` prepares (private smbd on a loopback port, private /etc).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Time::HiRes qw(time);
use POSIX ();
use Test::More;
use SMBGWTest;

SMBGWTest::require_library();
my $sandbox = SMBGWTest::require_sandbox();
SMBGWTest::load_plugin();
my $P = $SMBGWTest::PLUGIN;
my $base = 'PVE::Storage::Plugin';

my $root = "$sandbox/perl-volumes";
mkdir $root or die "mkdir $root: $!" if !-d $root;

# The section `pvesm add smbgateway hooks1 --smbgw-backend dir ...` makes.
my $scfg = $base->check_config('hooks1', {
    type => 'smbgateway',
    'smbgw-mode' => 'native',
    'smbgw-backend' => 'dir',
    'smbgw-dir-root' => $root,
    'smbgw-quota' => '1G',
    'smbgw-quota-unenforced' => 1,
    'smbgw-comment' => 'hook test',
}, 1);

# Bad input is refused in the hook, before anything changes, with core's
# message; no task starts.
{
    local $PVE::Storage::Custom::SMBGatewayPlugin::LAST_TASK_PID;
    my %bad = (%$scfg, 'smbgw-quota-unenforced' => 0);
    ok(!eval { $P->on_add_hook('hooks1', \%bad); 1 }, 'on_add_hook: a quota a directory cannot enforce is refused');
    like($@, qr/^smbgateway: a quota of 1GiB cannot be enforced on the directory backend.*\(input\)$/, '... with core\'s message');
    ok(!eval { $P->on_add_hook('hooks1', { %$scfg, 'smbgw-backend' => 'zfs' }); 1 }, 'on_add_hook: zfs without a parent');
    like($@, qr/--smbgw-zfs-parent is required for backend zfs/, '... says what is missing');
    ok(!eval { $P->on_add_hook('hooks1', $scfg, 'smbgw-ad-password' => 'secret'); 1 }, 'on_add_hook: an AD password without a domain is refused');
    like($@, qr/need smbgw-ad-domain/, '... naming what is missing');
    unlike($@, qr/secret/, '... without echoing the secret');
    my %ad = (%$scfg, 'smbgw-ad-domain' => 'nosuch.smbgw.test', 'smbgw-ad-user' => 'Administrator');
    ok(!eval { $P->on_add_hook('hooks1', \%ad); 1 }, 'on_add_hook: an AD domain without the join password is refused');
    like($@, qr/needs smbgw-ad-password \(the password of Administrator\)/, '... saying whose password');
    # The domain reaches core, which checks it (DNS, the DC, the clock)
    # before anything changes: this sandbox has no domain.
    ok(!eval { $P->on_add_hook('hooks1', \%ad, 'smbgw-ad-password' => 'S3cret-pw'); 1 }, 'on_add_hook: a domain nobody serves');
    like($@, qr/DNS has no domain controller for NOSUCH\.SMBGW\.TEST/, '... core\'s message');
    unlike($@, qr/S3cret-pw/, '... without echoing the secret');
    my $spec = $P->share_spec('hooks1', { %ad, 'smbgw-ad-ou' => 'OU=Servers' });
    is_deeply($spec->{identity}, { ad => { realm => 'NOSUCH.SMBGW.TEST', join_user => 'Administrator', ou => 'OU=Servers' } }, 'the spec names the domain');
    # Domain groups have spaces: the schema lets core judge the names.
    my $groups = $base->check_config('hooks1', { %ad, type => 'smbgateway', 'smbgw-groups' => 'Domain Users, Sales' }, 1);
    is_deeply($P->share_spec('hooks1', $groups)->{access}{groups}, ['Domain Users', 'Sales'], 'domain groups, trimmed');
    ok(!eval { $base->check_config('hooks1', { %ad, type => 'smbgateway', 'smbgw-groups' => "Sales\nforce user = root" }, 1); 1 }, 'a line break is refused by the schema');
    ok(!-e "$root/hooks1", 'nothing was created');
    ok(!defined($PVE::Storage::Custom::SMBGatewayPlugin::LAST_TASK_PID), 'no background task started');
}

# on_add_hook returns at once and leaves the creation to a background task.
my $t0 = time;
is($P->on_add_hook('hooks1', $scfg), undef, 'on_add_hook returns no config changes');
my $hook_secs = time - $t0;
my $pid = $PVE::Storage::Custom::SMBGatewayPlugin::LAST_TASK_PID;
ok($pid && $pid != $$, 'a background task was started');
cmp_ok($hook_secs, '<', 5, 'on_add_hook returns quickly');
# Meanwhile Proxmox activates the storage: not an error while it is created.
ok($P->activate_storage('hooks1', $scfg), 'activate_storage while the share is being created');
is(waitpid($pid, 0), $pid, 'the task ends');
is($?, 0, 'the task succeeded');
my $show = $P->request('show', id => 'hooks1');
is($show->{share}{spec}{comment}, 'hook test', 'the task created the share from storage.cfg');
ok(-d "$root/hooks1", 'its volume exists');

# Cheap status.
ok($P->activate_storage('hooks1', $scfg), 'activate_storage');
my ($total, $avail, $used, $active) = $P->status('hooks1', $scfg);
is($active, 1, 'status: active');
cmp_ok($total, '>', 0, 'status: total');
cmp_ok($used + $avail, '<=', $total, 'status: used + avail <= total');
my $full = $P->request('status', id => 'hooks1')->{status};
ok($full->{served}, 'the share is served') or diag explain $full;

# Adding the same storage again (e.g. after the share was created with the
# CLI) exposes the registered share and starts nothing.
{
    local $PVE::Storage::Custom::SMBGatewayPlugin::LAST_TASK_PID;
    is($P->on_add_hook('hooks1', $scfg), undef, 'on_add_hook on a registered share');
    ok(!defined($PVE::Storage::Custom::SMBGatewayPlugin::LAST_TASK_PID), '... starts no task');
}

# Updates: the quota changes; removing it is refused; unrelated updates pass.
is($P->on_update_hook('hooks1', { 'smbgw-quota' => '2G' }), undef, 'on_update_hook: quota');
is($P->request('show', id => 'hooks1')->{share}{spec}{quota}, '2GiB', 'the new quota is recorded');
is($P->on_update_hook_full('hooks1', $scfg, { 'smbgw-quota' => '3G' }, [], {}), undef, 'on_update_hook_full: quota');
is($P->request('show', id => 'hooks1')->{share}{spec}{quota}, '3GiB', '... recorded');
ok(!eval { $P->on_update_hook_full('hooks1', $scfg, {}, ['smbgw-quota'], {}); 1 }, 'removing the quota is refused');
like($@, qr/cannot be removed/, '... with the reason');
is($P->on_update_hook('hooks1', { nodes => { pve1 => 1 } }), undef, 'on_update_hook without a quota');
ok(!eval { $P->on_update_hook('hooks1', { 'smbgw-quota' => 'lots' }); 1 }, 'a bad quota is refused');
like($@, qr/invalid quota "lots".*\(input\)$/, '... with core\'s message');

# Delete keeps the data and is idempotent.
open(my $fh, '>', "$root/hooks1/keep.txt") or die;
print $fh "data\n";
close($fh);
is($P->on_delete_hook('hooks1', $scfg), undef, 'on_delete_hook');
ok(!eval { $P->request('show', id => 'hooks1'); 1 }, 'the share is no longer registered');
ok(-f "$root/hooks1/keep.txt", 'its data is kept');
is($P->on_delete_hook('hooks1', $scfg), undef, 'on_delete_hook again: nothing to do, no error');
is_deeply([$P->status('hooks1', $scfg)], [0, 0, 0, 0], 'status after delete: inactive');

# A background creation that fails reports it (task exit status, stderr).
{
    my %clash = (%$scfg, 'smbgw-volume' => 'hooks1', 'smbgw-quota' => '1G');
    local $PVE::Storage::Custom::SMBGatewayPlugin::LAST_TASK_PID;
    $P->on_add_hook('hooks2', \%clash);
    my $p2 = $PVE::Storage::Custom::SMBGatewayPlugin::LAST_TASK_PID;
    is(waitpid($p2, 0), $p2, 'the failing task ends');
    isnt($?, 0, 'the task reports failure');
    ok(!eval { $P->request('show', id => 'hooks2'); 1 }, 'nothing was registered');
    is($P->on_delete_hook('hooks2', \%clash), undef, 'on_delete_hook of the failed share is fine');
}

# LXC mode (the default): the container properties become the spec's
# `container`, which core checks; a plan is made, nothing changes.
{
    my $lxc = $base->check_config('office', {
        type => 'smbgateway',
        'smbgw-backend' => 'dir',
        'smbgw-dir-root' => $root,
        'smbgw-ct-driver' => 'lxc',
        'smbgw-memory' => 256,
        'smbgw-bridge' => 'vmbr0',
        'smbgw-vlan' => 20,
        'smbgw-ip' => '192.0.2.50/24',
        'smbgw-gw' => '192.0.2.1',
    }, 1);
    my $spec = $P->share_spec('office', $lxc);
    is($spec->{mode}, 'lxc', 'mode lxc by default');
    is_deeply($spec->{container}{network}, {
        type => 'bridge', bridge => 'vmbr0', vlan => 20,
        ip => { mode => 'static', cidr => '192.0.2.50/24', gateway => '192.0.2.1' },
    }, 'the network from smbgw-bridge, -vlan, -ip, -gw');
    is($spec->{container}{memory_mb}, 256, 'smbgw-memory');
    my $plan = $P->request('validate', spec => $spec);
    my @steps = @{ $plan->{plan}{steps} };
    is(scalar(@steps), 9, 'an LXC plan of 9 steps');
    like($steps[4], qr/create unprivileged container smbgw-office \(hostname smbgw-office, 256 MiB memory/, '... creating the container');
    ok(!eval { $P->request('show', id => 'office'); 1 }, 'validate registered nothing');

    ok(!eval { $P->share_spec('office', { %$lxc, 'smbgw-bridge' => undef }); 1 }, 'an address without a bridge is refused');
    like($@, qr/need --smbgw-bridge/, '... saying so');
    ok(!eval { $P->request('validate', spec => $P->share_spec('office', { %$lxc, 'smbgw-memory' => 8 })); 1 },
        'memory below Proxmox\'s minimum is refused');
    like($@, qr/16/, '... naming the minimum');
    my $bad = $P->share_spec('office', { %$lxc, 'smbgw-ip' => '192.0.2.50/40' });
    ok(!eval { $P->request('validate', spec => $bad); 1 }, 'a bad prefix length is refused by core');
    like($@, qr/prefix length/, '... with core\'s message');

    # HA: the properties become the spec's `ha`; core refuses what cannot
    # work (a directory volume is not on every node; a floating address is
    # for native shares).
    my $ha = $P->share_spec('office', { %$lxc, 'smbgw-ha' => 1 });
    is_deeply($ha->{ha}, { enabled => \1 }, 'smbgw-ha');
    ok(!eval { $P->request('validate', spec => $ha); 1 }, 'HA with a directory volume is refused');
    like($@, qr/use the CephFS backend/, '... naming what works');
    my $vip = $P->share_spec('office', { %$lxc, 'smbgw-vip' => '192.0.2.60/24@vmbr0' });
    is($vip->{ha}{vip}, '192.0.2.60/24@vmbr0', 'smbgw-vip');
    ok(!eval { $P->request('validate', spec => $vip); 1 }, 'a floating address for an LXC share is refused');
    like($@, qr/native mode/, '... saying it is for native shares');
    ok(!exists($P->share_spec('office', $lxc)->{ha}), 'no ha without the properties');
}

done_testing();
