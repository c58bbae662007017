# The node API module (/nodes/{node}/smbgateway) against the real library,
# mounted as `pve-smbgateway pve-integration install` mounts it in
# PVE::API2::Nodes::Nodeinfo (here: the RESTHandler stand-in).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use SMBGWTest;

SMBGWTest::require_library();
my $sandbox = SMBGWTest::require_sandbox();
SMBGWTest::load_plugin();
my $P = $SMBGWTest::PLUGIN;

require PVE::API2::SMBGateway;
my %by_name = map { $_->{name} => $_ } PVE::RESTHandler::registered('PVE::API2::SMBGateway');
is_deeply([sort keys %by_name], [qw(index metrics shares)], 'index, metrics and shares');
for my $m (values %by_name) {
    is($m->{method}, 'GET', "$m->{name} is read-only");
    ok($m->{permissions}, "$m->{name} states its permissions");
}
is_deeply($by_name{metrics}{permissions}, { check => ['perm', '/storage', ['Datastore.Audit']] },
    'metrics needs Datastore.Audit on /storage');
for my $name (qw(metrics shares)) {
    is($by_name{$name}{protected}, 1, "$name runs in pvedaemon (root: smbstatus, pct)");
    is($by_name{$name}{proxyto}, 'node', "$name runs on the node asked about");
}

# Mounted under the node path, as the managed block in Nodes.pm does.
{
    package PVE::API2::Nodes::Nodeinfo;
    use base qw(PVE::RESTHandler);
    __PACKAGE__->register_method({ subclass => 'PVE::API2::SMBGateway', path => 'smbgateway' });
}
my $h = PVE::RESTHandler::find_handler('PVE::API2::Nodes::Nodeinfo', 'GET', 'smbgateway/metrics');
is($h->[0], 'PVE::API2::SMBGateway', 'smbgateway/metrics resolves to the module');

# A share, then its metrics through the API code.
my $root = "$sandbox/api-volumes";
mkdir $root or die "mkdir $root: $!" if !-d $root;
my $spec = $P->share_spec('apim', {
    'smbgw-mode' => 'native', 'smbgw-backend' => 'dir', 'smbgw-dir-root' => $root,
});
$P->request('create', spec => $spec);
my $all = $h->[1]{code}->({ node => 'localhost' });
my ($m) = grep { $_->{share} eq 'apim' } @{ $all->{shares} };
ok($m, 'the share is in the metrics');
is($m->{served}, JSON::PP::true(), '... served');
is($m->{sessions}, 0, '... no sessions');
ok(defined($all->{spawns}) && $all->{spawns} <= 3, '... for a few process spawns');
my $one = $by_name{metrics}{code}->({ node => 'localhost', share => 'apim' });
is(scalar(@{ $one->{shares} }), 1, 'one share when asked for one');
my $list = $by_name{shares}{code}->({ node => 'localhost' });
ok((grep { $_->{spec}{id} eq 'apim' } @$list), 'shares lists it');
ok(!eval { $by_name{metrics}{code}->({ node => 'localhost', share => 'nope' }); 1 }, 'an unknown share dies');
like($@, qr/\(not_found\)/, '... as not found');
$P->request('delete', id => 'apim');

done_testing();
