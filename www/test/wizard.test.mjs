// The SMB Gateway wizard in a real browser (Debian's chromium through
// playwright-core), on the stand-in harness page with Ext JS 6.2: driven
// like a person would, with the exact requests and messages checked and a
// screenshot of every page saved under target/gui-screenshots/.
//
// The user (User in test/lib.mjs) waits before each step for what the
// page shows, never for a fixed time: the field has the focus, the list is
// open, Ext JS has nothing deferred left that could move the focus or the
// fields. Two switches help when a step does not take:
// SMBGW_TRACE_FILE=<path> appends a timeline of the page's focus, pointer
// and key events and of the user's steps; SMBGW_STRETCH_EXT=1 makes the
// deferred work of Ext JS several times slower, which a user that relies on
// timing does not survive (the suite passes with it).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import {
    SCREENSHOTS, User, WWW, defaultApi, launchBrowser, missingComponents, ok, requireReal, startServer,
    stretchExt, traceEvents,
} from './lib.mjs';

const TABLE = JSON.parse(readFileSync(join(WWW, 'test', 'rules-table.json'), 'utf8'));
// Core's answer for `input` (a string, or a JSON value such as [users, groups]).
const ruleMessage = (kind, input) => {
    const key = JSON.stringify(input);
    const c = TABLE[kind].find((x) => JSON.stringify(x.input) === key);
    assert.ok(c, `rules-table.json has ${kind} ${key}`);
    return c.error;
};

const missing = missingComponents();
if (missing.length && requireReal()) {
    test('browser test components are installed', () => {
        assert.fail(`missing under SMBGW_REQUIRE_REAL=1: ${missing.join('; ')}`);
    });
}
const skip = missing.length ? `skipped, missing: ${missing.join('; ')}` : false;

const norm = (s) => s.replace(/\s+/g, ' ').trim();

describe('SMB Gateway wizard', { skip }, () => {
    let server;
    let browser;
    let page;
    let user;

    before(async () => {
        rmSync(SCREENSHOTS, { recursive: true, force: true });
        mkdirSync(SCREENSHOTS, { recursive: true });
        server = await startServer();
        browser = await launchBrowser();
    });

    after(async () => {
        await browser?.close();
        await server?.close();
    });

    // A fresh page with the storage view; the wizard polls quickly.
    let pages = 0;
    async function openHarness() {
        server.requests.length = 0;
        server.api = defaultApi;
        page = await browser.context.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.errors = errors;
        await page.goto(server.url);
        await page.waitForFunction(() => window.SMBGW_READY === true);
        await page.evaluate(() => { PVE.storage.SMBGatewayWizard.prototype.pollInterval = 100; });
        await stretchExt(page);
        await traceEvents(page, `page ${++pages}`);
        user = new User(page);
        return page;
    }

    async function closeHarness() {
        assert.deepEqual(page.errors, [], 'no script errors on the page');
        if (user.retries.length) {
            console.log(`steps done again: ${user.retries.join('; ')}`);
        }
        await page.close();
    }

    async function activePage() {
        return page.evaluate(() => {
            const w = Ext.ComponentQuery.query('pveSMBGatewayWizard')[0];
            return w ? w.down('#pages').getActiveTab().title : null;
        });
    }

    async function waitPage(title) {
        await page.waitForFunction((t) => {
            const w = Ext.ComponentQuery.query('pveSMBGatewayWizard')[0];
            return w && w.down('#pages').getActiveTab().title === t && !w.down('#pages').getActiveTab().isMasked();
        }, title);
    }

    // Add -> SMB Gateway, as in Datacenter -> Storage.
    async function openWizard() {
        await user.click(page.locator('.x-toolbar .x-btn').filter({ hasText: /^\s*Add\s*$/ }));
        await user.click(page.locator('.x-menu-item:visible').filter({ hasText: 'SMB Gateway' }));
        await waitPage('Storage');
        // The backing list is loaded (GET /storage, /nodes/pve1/storage).
        await page.waitForFunction(() => Ext.ComponentQuery.query('pveSMBGatewayWizard combobox[name=backing]')[0].getValue());
    }

    async function errorUnder(name) {
        return page.evaluate((n) => {
            const f = Ext.ComponentQuery.query(`pveSMBGatewayWizard field[name=${n}]`)[0];
            return f.getActiveError() && f.errorEl.isVisible(true) ? f.errorEl.dom.innerText.trim() : '';
        }, name);
    }

    // Waits until a corrected field shows no error any more (the message
    // under it goes, and the fields below move up: the user's next step
    // waits for that, see User.settle()).
    async function waitValid(name) {
        await page.waitForFunction((n) => {
            const f = Ext.ComponentQuery.query(`pveSMBGatewayWizard field[name=${n}]`)[0];
            return !f.getActiveError();
        }, name);
        await user.settle();
    }

    // The wizard's text as a person sees it: the labels and texts, and what
    // the visible fields show (not the password).
    async function windowText() {
        const text = await page.locator('.x-window:visible').first().innerText();
        const values = await page.evaluate(() => Array.from(document.querySelectorAll('.x-window input'))
            .filter((i) => i.offsetParent !== null && i.type !== 'password' && i.type !== 'radio' && i.type !== 'checkbox')
            .map((i) => i.value));
        return norm(text + ' ' + values.join(' '));
    }

    // A PNG of the page as it is now, checked: a PNG of the viewport's
    // size with content, taken while the expected text is on the page.
    async function shot(name, texts) {
        const text = await windowText();
        for (const t of texts) {
            assert.ok(text.includes(norm(t)), `${name}: "${t}" is on the page; it shows: ${text}`);
        }
        const path = join(SCREENSHOTS, `${name}.png`);
        await page.screenshot({ path });
        const png = readFileSync(path);
        assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', `${path} is a PNG`);
        assert.equal(png.readUInt32BE(16), 1100, `${path} width`);
        assert.equal(png.readUInt32BE(20), 760, `${path} height`);
        assert.ok(png.length > 15000, `${path} has content (${png.length} bytes)`);
    }

    function posts() {
        return server.requests.filter((r) => r.method === 'POST');
    }

    // Answers of a creation that goes through: the task runs for `running`
    // polls, then ends with `exit`; the storage is active when it ended OK.
    function creationApi(storeid, { running = 2, exit = 'OK', post = ok(null) } = {}) {
        let polls = 0;
        return (req) => {
            if (req.method === 'POST' && req.path === '/storage') {
                return post;
            }
            if (req.method === 'GET' && req.path === '/nodes/pve1/tasks') {
                polls++;
                const task = { upid: `UPID:pve1:0000AAAA:0001:65000000:smbgwcreate:${storeid}:root@pam:`, type: 'smbgwcreate', id: storeid, user: 'root@pam', starttime: 1700000000 };
                if (polls > running) {
                    Object.assign(task, { endtime: 1700000042, status: exit });
                }
                return ok([task, { upid: 'UPID:other', type: 'smbgwcreate', id: 'office', starttime: 1600000000, endtime: 1600000042, status: 'OK' }]);
            }
            if (req.method === 'GET' && req.path === `/nodes/pve1/storage/${storeid}/status`) {
                return ok({ active: exit === 'OK' ? 1 : 0, enabled: 1, type: 'smbgateway', total: 0, used: 0, avail: 0 });
            }
            return defaultApi(req);
        };
    }

    test('the JavaScript rules give core\'s answers on every input of the table', async () => {
        await openHarness();
        const mismatches = await page.evaluate((t) => {
            const R = PVE.SMBGateway.Rules;
            const fns = {
                share_id: R.shareId,
                quota: R.quota,
                vip: R.vip,
                workgroup: R.workgroup,
                dir_quota: (i) => R.dirQuota(i[0], i[1]),
                ad_domain: R.adDomain,
                ad_user: R.adUser,
                ad_ou: R.adOu,
                access: (i) => R.access(i[0], i[1]),
                access_ad: (i) => R.adAccess(i[0], i[1]),
            };
            const counts = {};
            const out = [];
            let n = 0;
            for (const [kind, cases] of Object.entries(t)) {
                if (!Array.isArray(cases)) {
                    continue;
                }
                for (const c of cases) {
                    n++;
                    counts[kind] = (counts[kind] || 0) + 1;
                    const got = fns[kind](c.input);
                    if (got !== c.error) {
                        out.push({ kind, input: c.input, core: c.error, js: got });
                    }
                }
            }
            return { n, out, counts };
        }, TABLE);
        assert.ok(mismatches.n > 1200, `the table has ${mismatches.n} inputs`);
        // Every kind of the table is checked, with more than a handful of
        // inputs each (a kind missing from `fns` above fails as a TypeError).
        for (const kind of ['share_id', 'quota', 'vip', 'workgroup', 'dir_quota', 'ad_domain', 'ad_user', 'ad_ou', 'access', 'access_ad']) {
            assert.ok(mismatches.counts[kind] >= 6, `${kind}: ${mismatches.counts[kind]} inputs`);
        }
        assert.deepEqual(mismatches.out, []);
        await closeHarness();
    });

    test('workgroup share with a quota: every page, the request, the status until active', async () => {
        await openHarness();
        const t0 = Date.now();
        await openWizard();
        await user.clickField('storage');
        await user.type('team');
        await shot('workgroup-1-storage', ['Share name (ID)', 'local-zfs (ZFS: datasets under rpool/data, 1.50 TiB free)', 'Create a new volume']);
        // Only storages that can hold a share and are active here.
        const choices = await page.evaluate(() => Ext.ComponentQuery.query('pveSMBGatewayWizard')[0].backingStore.getRange().map((r) => r.get('key')));
        assert.deepEqual(choices, ['zfspool:local-zfs', 'cephfs:cephfs', 'rbd:ceph-vm', 'dir:local', 'dir:']);
        await user.clickButton('Next');
        await waitPage('Mode');
        await shot('workgroup-2-mode', ['In an LXC container of its own (recommended)', 'Natively on the host', 'In a VM (not available yet)']);
        const vm = await page.evaluate(() => {
            const r = Ext.ComponentQuery.query('pveSMBGatewayWizard radiofield[inputValue=vm]')[0];
            return { disabled: r.isDisabled(), tip: r.boxLabelEl.dom.getAttribute('data-qtip') };
        });
        assert.deepEqual(vm, { disabled: true, tip: 'VM mode is not implemented yet; use LXC or Native.' });
        await user.clickButton('Next');
        await waitPage('Identity');
        await shot('workgroup-3-identity', ['Users come from', 'Workgroup (local users)', 'Active Directory']);
        await user.clickButton('Next');
        await waitPage('Quota & HA');
        await user.fill('quotaSize', '2');
        await user.choose('quotaUnit', 'TiB');
        await shot('workgroup-4-quota', ['Quota', 'Proxmox HA needs LXC mode and a CephFS volume', 'CTDB needs Native mode']);
        await user.clickButton('Next');
        await waitPage('Confirm');
        await shot('workgroup-5-confirm', [
            "Finish creates storage 'team' (SMB Gateway) and, in a background task on pve1:",
            'Volume a new ZFS dataset rpool/data/team',
            'Quota 2TiB (enforced)',
            'Samba in a new LXC container of its own (128 MiB memory, 1 core)',
            'Identity workgroup WORKGROUP',
            'High availability none (one node)',
            'Clients connect to \\\\pve1\\team',
            'pvesm add smbgateway team --smbgw-backend zfs --smbgw-zfs-parent rpool/data --smbgw-mode lxc --smbgw-workgroup WORKGROUP --smbgw-quota 2T',
        ]);
        server.api = creationApi('team');
        await user.clickButton('Finish');
        await page.waitForFunction(() => /active/.test(document.querySelector('.smbgw-status').innerText));
        await shot('workgroup-6-status', ["Storage 'team' on pve1: active"]);
        const elapsed = Date.now() - t0;
        assert.deepEqual(posts(), [{
            method: 'POST',
            path: '/storage',
            query: {},
            body: {
                type: 'smbgateway',
                storage: 'team',
                'smbgw-backend': 'zfs',
                'smbgw-zfs-parent': 'rpool/data',
                'smbgw-mode': 'lxc',
                'smbgw-workgroup': 'WORKGROUP',
                'smbgw-quota': '2T',
            },
        }]);
        // It said "provisioning" while the task ran.
        const statusPolls = server.requests.filter((r) => r.path === '/nodes/pve1/tasks');
        assert.ok(statusPolls.length >= 3, `status polled ${statusPolls.length} times`);
        assert.deepEqual(statusPolls[0].query, { typefilter: 'smbgwcreate', source: 'all', limit: '50' });
        const listed = server.requests.filter((r) => r.method === 'GET' && r.path === '/storage').length;
        await user.clickButton('Close');
        await page.waitForFunction(() => Ext.ComponentQuery.query('pveSMBGatewayWizard').length === 0);
        // The storage list is reloaded, so the new storage shows.
        const reloaded = () => server.requests.filter((r) => r.method === 'GET' && r.path === '/storage').length > listed;
        for (const until = Date.now() + 5000; !reloaded() && Date.now() < until;) {
            await new Promise((done) => setTimeout(done, 20));
        }
        assert.ok(reloaded(), 'storage list reloaded');
        // The effort of the flow: clicks and key presses a person makes,
        // and a keystroke-level estimate of their time (1.1 s to point and
        // click, 0.28 s a key, 1.35 s to read each of the 5 pages).
        const estimate = user.clicks * 1.1 + user.keys * 0.28 + 5 * 1.35;
        console.log(`wizard effort (workgroup + quota 2 TiB): 5 pages, ${user.clicks} clicks, ${user.keys} keystrokes; estimated ${estimate.toFixed(1)} s for a person; automated run ${(elapsed / 1000).toFixed(1)} s`);
        assert.ok(user.clicks <= 12 && user.keys <= 8, `${user.clicks} clicks, ${user.keys} keys`);
        assert.ok(estimate < 60, `estimated ${estimate} s`);
        await closeHarness();
    });

    test('Active Directory and a CTDB floating address on CephFS, native mode; the task fails and says why', async () => {
        await openHarness();
        await openWizard();
        await user.clickField('storage');
        await user.type('projects');
        await user.choose('backing', 'cephfs (CephFS');
        await user.clickButton('Next');
        await waitPage('Mode');
        await user.clickRadio('mode', 'native');
        await user.clickButton('Next');
        await waitPage('Identity');
        await user.clickRadio('identity', 'ad');
        // A single label is not a domain: core's message, under the field.
        await user.clickField('adDomain');
        await user.type('corp');
        await user.clickField('adPassword');
        await user.type('s3cret!pw');
        await user.clickButton('Next');
        assert.equal(await activePage(), 'Identity');
        assert.equal(await errorUnder('adDomain'), ruleMessage('ad_domain', 'corp'));
        assert.equal(await errorUnder('adDomain'), 'invalid ad-domain "CORP": it has a single label; an Active Directory domain is a DNS name of at least two labels (corp.example.com): letters, digits and `-`, labels of 1 to 63 characters not starting or ending with `-`');
        await shot('ad-ctdb-3-identity-invalid-domain', ['Domain', 'it has a single label']);
        await user.fill('adDomain', 'corp.example.com');
        await waitValid('adDomain');
        // The OU and the users and groups follow core's AD rules: a group
        // with a space is a domain group, a DC= part is refused.
        await user.fill('adOu', 'OU=Servers,DC=corp,DC=example');
        await user.fill('groups', 'Domain Users,domain users');
        await user.clickButton('Next');
        assert.equal(await activePage(), 'Identity');
        assert.equal(await errorUnder('adOu'), ruleMessage('ad_ou', 'OU=Servers,DC=corp,DC=example'));
        assert.match(await errorUnder('adOu'), /^invalid ad-ou "OU=Servers,DC=corp,DC=example": "DC" is not OU/);
        assert.equal(await errorUnder('groups'), ruleMessage('access_ad', [[], ['Domain Users', 'domain users']]));
        assert.equal(await errorUnder('groups'), 'groups lists "domain users" twice; give each name once');
        await user.fill('adOu', 'OU=Servers,OU=IT');
        await waitValid('adOu');
        await user.fill('groups', 'Domain Users');
        await waitValid('groups');
        await shot('ad-ctdb-3-identity', ['Domain', 'Join as user', 'Password', 'OU (optional)', 'Users', 'Groups']);
        assert.equal(await errorUnder('adDomain'), '');
        assert.equal(await errorUnder('adOu'), '');
        assert.equal(await errorUnder('groups'), '');
        await user.clickButton('Next');
        await waitPage('Quota & HA');
        const ha = await page.evaluate(() => Ext.ComponentQuery.query('pveSMBGatewayWizard checkboxfield[name=ha]')[0].isDisabled());
        assert.equal(ha, true, 'Proxmox HA is for LXC mode');
        await user.clickCheckbox('ctdb');
        await user.clickField('vip');
        await user.type('192.168.10.0/24');
        await user.clickButton('Next');
        assert.equal(await activePage(), 'Quota & HA');
        assert.equal(await errorUnder('vip'), ruleMessage('vip', '192.168.1.0/24@vmbr0').replace(/192\.168\.1\./g, '192.168.10.'));
        assert.equal(await errorUnder('vip'), 'invalid vip "192.168.10.0/24@vmbr0": 192.168.10.0 is the network address of its /24');
        await shot('ad-ctdb-4-quota-invalid-vip', ['Floating address', 'Interface', 'is the network address of its /24']);
        await user.fill('vip', '192.168.10.50/24');
        await user.fill('vipIface', 'bond0');
        await shot('ad-ctdb-4-quota', ['Every node of the CTDB cluster serves the share']);
        await user.clickButton('Next');
        await waitPage('Confirm');
        await shot('ad-ctdb-5-confirm', [
            'Volume a new CephFS subvolume projects of cephfs (mounted at /mnt/pve/cephfs)',
            'Samba on the host pve1 itself (native mode)',
            'Identity joins Active Directory corp.example.com as Administrator, computer account in OU=Servers,OU=IT (password sent once, not stored in storage.cfg)',
            'Access groups Domain Users',
            'High availability CTDB floating address 192.168.10.50/24@bond0',
            'Clients connect to \\\\192.168.10.50\\projects',
            '--smbgw-ad-password <hidden>',
        ]);
        assert.ok(!(await page.content()).includes('s3cret!pw'), 'the password is not in the page');
        const reason = "smbgateway: 192.168.10.50 is not one of this CTDB cluster's floating addresses (192.168.10.60); add it with `pve-smbgateway ctdb render --vip ...` on every node (input)";
        server.api = creationApi('projects', { running: 1, exit: reason });
        await user.clickButton('Finish');
        await page.waitForFunction(() => /error/.test(document.querySelector('.smbgw-status').innerText));
        await shot('ad-ctdb-6-status', [`Storage 'projects' on pve1: error: ${reason}`]);
        assert.deepEqual(posts().map((r) => r.body), [{
            type: 'smbgateway',
            storage: 'projects',
            'smbgw-backend': 'cephfs',
            'smbgw-cephfs-fs': 'cephfs',
            'smbgw-cephfs-mount': '/mnt/pve/cephfs',
            'smbgw-mode': 'native',
            'smbgw-ad-domain': 'corp.example.com',
            'smbgw-ad-user': 'Administrator',
            'smbgw-ad-ou': 'OU=Servers,OU=IT',
            'smbgw-ad-password': 's3cret!pw',
            'smbgw-groups': 'Domain Users',
            'smbgw-quota': '100G',
            'smbgw-vip': '192.168.10.50/24@bond0',
        }]);
        // The password went once, in that POST body, and nowhere else.
        const elsewhere = server.requests.filter((r) => r.method !== 'POST' && JSON.stringify(r).includes('s3cret'));
        assert.deepEqual(elsewhere, []);
        await closeHarness();
    });

    test('Proxmox HA for an LXC share on CephFS puts the container disk on shared storage', async () => {
        await openHarness();
        await openWizard();
        await user.clickField('storage');
        await user.type('office2');
        await user.choose('backing', 'cephfs (CephFS');
        for (const title of ['Mode', 'Identity', 'Quota & HA']) {
            await user.clickButton('Next');
            await waitPage(title);
        }
        await user.clickCheckbox('ha');
        await shot('ha-4-quota', ['Container disk on', 'The container restarts on another node when its node fails.', 'ceph-vm']);
        await user.clickButton('Next');
        await waitPage('Confirm');
        await shot('ha-5-confirm', ['High availability Proxmox HA restarts the container on another node (its disk on ceph-vm)']);
        server.api = creationApi('office2');
        await user.clickButton('Finish');
        await page.waitForFunction(() => /active/.test(document.querySelector('.smbgw-status').innerText));
        assert.deepEqual(posts().map((r) => r.body), [{
            type: 'smbgateway',
            storage: 'office2',
            'smbgw-backend': 'cephfs',
            'smbgw-cephfs-fs': 'cephfs',
            'smbgw-cephfs-mount': '/mnt/pve/cephfs',
            'smbgw-mode': 'lxc',
            'smbgw-workgroup': 'WORKGROUP',
            'smbgw-quota': '100G',
            'smbgw-ha': '1',
            'smbgw-ct-storage': 'ceph-vm',
        }]);
        await closeHarness();
    });

    test('an invalid share name is refused on the first page with core\'s message', async () => {
        await openHarness();
        await openWizard();
        await user.clickButton('Next');
        assert.equal(await errorUnder('storage'), ruleMessage('share_id', ''));
        await user.clickField('storage');
        await user.type('Team');
        await user.clickButton('Next');
        assert.equal(await activePage(), 'Storage');
        assert.equal(await errorUnder('storage'), ruleMessage('share_id', 'Team'));
        assert.equal(await errorUnder('storage'), 'invalid share id "Team": upper-case letters are not allowed: Samba compares share names case-insensitively while Proxmox storage ids are case-sensitive, so only lowercase ids avoid collisions; write "team"');
        await shot('invalid-name-1-storage', ['invalid share id "Team": upper-case letters are not allowed']);
        await user.fill('storage', 'homes');
        await user.clickButton('Next');
        assert.equal(await errorUnder('storage'), 'share id "homes" is reserved: Samba reads [homes] as the automatic home-directory share; choose another id');
        await user.fill('storage', 'a]b');
        await user.clickButton('Next');
        assert.equal(await errorUnder('storage'), ruleMessage('share_id', 'a]b'));
        await user.fill('storage', 'team');
        // Ext checks a changed value after a short buffer.
        await page.waitForFunction(() => !Ext.ComponentQuery.query('pveSMBGatewayWizard field[name=storage]')[0].getActiveError());
        assert.equal(await errorUnder('storage'), '');
        await user.clickButton('Next');
        await waitPage('Mode');
        assert.deepEqual(posts(), []);
        await closeHarness();
    });

    test('an invalid quota is refused with core\'s message; a directory needs the advisory opt-in', async () => {
        await openHarness();
        await openWizard();
        await user.clickField('storage');
        await user.type('data');
        for (const title of ['Mode', 'Identity', 'Quota & HA']) {
            await user.clickButton('Next');
            await waitPage(title);
        }
        await user.fill('quotaSize', '1.5');
        await user.clickButton('Next');
        assert.equal(await activePage(), 'Quota & HA');
        assert.equal(await errorUnder('quotaSize'), 'invalid quota "1.5G": fractions are not accepted; use a smaller unit, e.g. `1536M` instead of `1.5G`');
        await shot('invalid-quota-4-quota', ['fractions are not accepted']);
        await user.fill('quotaSize', '0');
        await user.choose('quotaUnit', 'TiB');
        await user.clickButton('Next');
        assert.equal(await errorUnder('quotaSize'), ruleMessage('quota', '0T'));
        await user.fill('quotaSize', '10 ');
        await user.clickButton('Next');
        assert.equal(await errorUnder('quotaSize'), ruleMessage('quota', '10 T'));
        await user.fill('quotaSize', '100');
        await user.choose('quotaUnit', 'GiB');
        // Back to the first page: a plain directory as the backing storage.
        for (const title of ['Identity', 'Mode', 'Storage']) {
            await user.clickButton('Back');
            await waitPage(title);
        }
        await user.choose('backing', 'local (Directory');
        for (const title of ['Mode', 'Identity', 'Quota & HA']) {
            await user.clickButton('Next');
            await waitPage(title);
        }
        await user.clickButton('Next');
        assert.equal(await activePage(), 'Quota & HA');
        assert.equal(await errorUnder('quotaSize'), TABLE.dir_quota.find((c) => c.input[0] === '/var/lib/vz' && c.input[1] === '100G').error);
        await user.clickCheckbox('quotaUnenforced');
        await user.clickButton('Next');
        await waitPage('Confirm');
        await shot('invalid-quota-5-confirm', ['directory /var/lib/vz/data', '100GiB (advisory: a plain directory cannot enforce it)']);
        server.api = creationApi('data');
        await user.clickButton('Finish');
        await page.waitForFunction(() => /active/.test(document.querySelector('.smbgw-status').innerText));
        assert.deepEqual(posts().map((r) => r.body), [{
            type: 'smbgateway',
            storage: 'data',
            'smbgw-backend': 'dir',
            'smbgw-dir-root': '/var/lib/vz',
            'smbgw-mode': 'lxc',
            'smbgw-workgroup': 'WORKGROUP',
            'smbgw-quota': '100G',
            'smbgw-quota-unenforced': '1',
        }]);
        await closeHarness();
    });

    test('a server error is shown in the wizard, which stays open to fix and retry', async () => {
        await openHarness();
        await openWizard();
        await user.clickField('storage');
        await user.type('team');
        for (const title of ['Mode', 'Identity', 'Quota & HA', 'Confirm']) {
            await user.clickButton('Next');
            await waitPage(title);
        }
        const message = "create storage failed: smbgateway: the ZFS dataset 'rpool/data/team' exists already; serve it with --smbgw-existing 1 or choose another name (input)\n";
        server.api = creationApi('team', { post: { success: 0, data: null, message, status: 500 } });
        await user.clickButton('Finish');
        await page.waitForFunction(() => Ext.ComponentQuery.query('pveSMBGatewayWizard #error')[0].isVisible());
        await shot('server-error-5-confirm', [norm(message) + ' (500)']);
        const state = await page.evaluate(() => {
            const w = Ext.ComponentQuery.query('pveSMBGatewayWizard')[0];
            return { finish: w.down('#finish').isVisible(), status: w.down('#status').isVisible(), page: w.down('#pages').getActiveTab().title };
        });
        assert.deepEqual(state, { finish: true, status: false, page: 'Confirm' });
        // A parameter error names the property.
        server.api = creationApi('team', {
            post: { success: 0, data: null, message: 'Parameter verification failed.\n', status: 400, errors: { 'smbgw-zfs-parent': 'value does not match the regex pattern' } },
        });
        await user.clickButton('Finish');
        await page.waitForFunction(() => /smbgw-zfs-parent/.test(Ext.ComponentQuery.query('pveSMBGatewayWizard #error')[0].el.dom.innerText));
        assert.equal(norm(await page.locator('.smbgw-error').innerText()), 'Parameter verification failed. (400) smbgw-zfs-parent: value does not match the regex pattern');
        // Fixed on the server's side: the same wizard now succeeds.
        server.api = creationApi('team');
        await user.clickButton('Finish');
        await page.waitForFunction(() => /active/.test(document.querySelector('.smbgw-status').innerText));
        assert.equal(await page.locator('.smbgw-error').isVisible(), false);
        assert.equal(posts().length, 3);
        await closeHarness();
    });

    test('Edit shows the share\'s status and checks a new quota with core\'s rule', async () => {
        await openHarness();
        server.api = (req) => {
            if (req.method === 'GET' && req.path === '/storage/office') {
                return ok({ storage: 'office', type: 'smbgateway', 'smbgw-backend': 'zfs', 'smbgw-mode': 'lxc', 'smbgw-quota': '50G', digest: 'abc' });
            }
            if (req.method === 'GET' && req.path === '/nodes/pve1/tasks') {
                return ok([]);
            }
            if (req.method === 'GET' && req.path === '/nodes/pve1/storage/office/status') {
                return ok({ active: 1, enabled: 1, type: 'smbgateway' });
            }
            return defaultApi(req);
        };
        await page.locator('.x-grid-cell-inner', { hasText: /^office$/ }).click();
        await page.locator('.x-toolbar .x-btn').filter({ hasText: /^\s*Edit\s*$/ }).click();
        await page.waitForFunction(() => /active/.test(document.querySelector('.x-window').innerText));
        const edit = page.locator('.x-window:visible');
        const quota = await page.evaluate(() => Ext.ComponentQuery.query('field[name=smbgw-quota]')[0].getValue());
        assert.equal(quota, '50G');
        await user.fill('smbgw-quota', '80GB');
        await page.waitForFunction(() => /ambiguous/.test(document.querySelector('.x-window').innerText));
        const text = norm(await edit.innerText());
        assert.ok(text.includes('Status: active'), text);
        assert.ok(text.includes(ruleMessage('quota', '80GB')), text);
        await page.screenshot({ path: join(SCREENSHOTS, 'edit-status.png') });
        await closeHarness();
    });
});
