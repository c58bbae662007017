// Test support for the wizard's browser tests: a localhost server for the
// harness page (www/test/harness), the shipped pve-smbgateway.js (at its
// Proxmox VE path, /pve2/js/), Ext JS (from the cache that
// `cargo xtask install-deps` fills), and a fake Proxmox API that records
// every request and answers from fixtures; Debian's chromium driven by
// playwright-core; and a "user" that clicks and types while counting.

import { createServer } from 'node:http';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WWW = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(WWW, '..');
export const CHROMIUM = process.env.SMBGW_CHROMIUM || '/usr/bin/chromium';
export const EXTJS = process.env.SMBGW_EXTJS_DIR || '/var/cache/pve-smbgateway-tests/extjs-gpl-6.2.0';
export const SCREENSHOTS = process.env.SMBGW_SCREENSHOT_DIR || join(ROOT, 'target', 'gui-screenshots');

// Real-component rule of the project: under the test command
// (SMBGW_REQUIRE_REAL=1) a missing browser or Ext JS fails; elsewhere the
// tests skip with the reason.
export function missingComponents() {
    const missing = [];
    if (!existsSync(CHROMIUM)) {
        missing.push(`${CHROMIUM} (apt-get install -y chromium)`);
    }
    if (!existsSync(join(EXTJS, 'build', 'ext-all.js'))) {
        missing.push(`Ext JS in ${EXTJS} (cargo xtask install-deps)`);
    }
    let playwright = true;
    try {
        statSync(join(WWW, 'node_modules', 'playwright-core', 'package.json'));
    } catch {
        playwright = false;
    }
    if (!playwright) {
        missing.push('playwright-core (npm ci --omit=optional in www/)');
    }
    return missing;
}

export function requireReal() {
    return process.env.SMBGW_REQUIRE_REAL === '1';
}

const TYPES = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css',
    '.png': 'image/png',
    '.gif': 'image/gif',
    '.svg': 'image/svg+xml',
    '.woff': 'font/woff',
    '.woff2': 'font/woff2',
    '.ttf': 'font/ttf',
    '.eot': 'application/vnd.ms-fontobject',
    '.json': 'application/json',
};

function sendFile(res, base, rel) {
    const path = normalize(join(base, rel));
    if (!path.startsWith(base) || !existsSync(path) || !statSync(path).isFile()) {
        res.writeHead(404).end('not found');
        return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(path)] || 'application/octet-stream' });
    res.end(readFileSync(path));
}

// The storages of a small cluster, as GET /storage lists them.
export const STORAGE_CONFIG = [
    { storage: 'local', type: 'dir', path: '/var/lib/vz', content: 'iso,vztmpl,backup', digest: 'x' },
    { storage: 'local-zfs', type: 'zfspool', pool: 'rpool/data', content: 'images,rootdir', sparse: 1 },
    { storage: 'cephfs', type: 'cephfs', path: '/mnt/pve/cephfs', 'fs-name': 'cephfs', content: 'backup,iso' },
    { storage: 'ceph-vm', type: 'rbd', pool: 'vm-pool', content: 'images,rootdir', krbd: 0 },
    { storage: 'external-rbd', type: 'rbd', pool: 'ext', monhost: '10.1.1.1', content: 'images' },
    { storage: 'nfs-iso', type: 'nfs', server: '10.1.1.2', export: '/iso', path: '/mnt/pve/nfs-iso', content: 'iso' },
    { storage: 'old-zfs', type: 'zfspool', pool: 'tank/old', content: 'images', disable: 1 },
    { storage: 'office', type: 'smbgateway', 'smbgw-backend': 'zfs', 'smbgw-zfs-parent': 'rpool/data', 'smbgw-mode': 'lxc', 'smbgw-quota': '50G', content: 'none' },
];

// Their state on node pve1 (GET /nodes/pve1/storage?enabled=1).
export const NODE_STORAGE = [
    { storage: 'local', type: 'dir', active: 1, enabled: 1, avail: 80 * 2 ** 30, total: 100 * 2 ** 30, used: 20 * 2 ** 30 },
    { storage: 'local-zfs', type: 'zfspool', active: 1, enabled: 1, avail: 1.5 * 2 ** 40, total: 2 * 2 ** 40, used: 2 ** 39 },
    { storage: 'cephfs', type: 'cephfs', active: 1, enabled: 1, shared: 1, avail: 3 * 2 ** 40, total: 4 * 2 ** 40, used: 2 ** 40 },
    { storage: 'ceph-vm', type: 'rbd', active: 1, enabled: 1, shared: 1, avail: 3 * 2 ** 40, total: 4 * 2 ** 40, used: 2 ** 40 },
    { storage: 'external-rbd', type: 'rbd', active: 1, enabled: 1, shared: 1, avail: 2 ** 40, total: 2 ** 40, used: 0 },
    { storage: 'nfs-iso', type: 'nfs', active: 1, enabled: 1, shared: 1, avail: 2 ** 40, total: 2 ** 40, used: 0 },
    { storage: 'office', type: 'smbgateway', active: 1, enabled: 1, avail: 40 * 2 ** 30, total: 50 * 2 ** 30, used: 10 * 2 ** 30 },
];

export const ok = (data) => ({ success: 1, data: data === undefined ? null : data });

// The API's default answers; a test replaces `server.api` to change them.
export function defaultApi(req) {
    if (req.method === 'GET' && req.path === '/storage') {
        return ok(STORAGE_CONFIG);
    }
    if (req.method === 'GET' && req.path === '/nodes/pve1/storage') {
        return ok(NODE_STORAGE);
    }
    return { success: 0, message: `the test fixture has no answer for ${req.method} ${req.path}`, status: 501 };
}

export async function startServer() {
    const state = { requests: [], api: defaultApi };
    const server = createServer((req, res) => {
        const url = new URL(req.url, 'http://localhost');
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            if (url.pathname.startsWith('/api2/extjs/')) {
                const query = Object.fromEntries(url.searchParams);
                delete query._dc; // Ext.Ajax's cache buster
                const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
                const record = {
                    method: req.method,
                    path: url.pathname.slice('/api2/extjs'.length),
                    query,
                    body,
                };
                state.requests.push(record);
                const result = state.api(record);
                res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' });
                res.end(JSON.stringify(result));
            } else if (url.pathname === '/' || url.pathname === '/index.html') {
                sendFile(res, join(WWW, 'test', 'harness'), 'index.html');
            } else if (url.pathname.startsWith('/harness/')) {
                sendFile(res, join(WWW, 'test', 'harness'), url.pathname.slice('/harness/'.length));
            } else if (url.pathname === '/pve2/js/pve-smbgateway.js') {
                sendFile(res, WWW, 'pve-smbgateway.js');
            } else if (url.pathname.startsWith('/ext/')) {
                sendFile(res, EXTJS, url.pathname.slice('/ext/'.length));
            } else {
                res.writeHead(404).end('not found');
            }
        });
    });
    await new Promise((ok_) => server.listen(0, '127.0.0.1', ok_));
    state.url = `http://127.0.0.1:${server.address().port}/`;
    state.close = () => new Promise((ok_) => server.close(ok_));
    return state;
}

// Debian's chromium in a fresh profile, with the flags this machine needs
// (no sandbox as root; nothing that reaches out to the network).
export async function launchBrowser() {
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'smbgw-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1100, height: 760 },
        args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
        ],
    });
    return {
        context,
        close: async () => {
            await context.close();
            rmSync(profile, { recursive: true, force: true });
        },
    };
}

// Debugging aid: with SMBGW_TRACE_FILE set, a timeline of the page's focus,
// pointer and key events and of the user's steps is appended to that file
// (milliseconds since the epoch; "node" lines are the test's, "page" lines
// the browser's). A step that did not take shows there, e.g. as the focus
// moving somewhere else just before or after it.
const TRACE_FILE = process.env.SMBGW_TRACE_FILE;

export function trace(line) {
    if (TRACE_FILE) {
        appendFileSync(TRACE_FILE, `${Date.now()} node ${line}\n`);
    }
}

export async function traceEvents(page, name) {
    if (!TRACE_FILE) {
        return;
    }
    trace(`=== ${name}`);
    page.on('console', (m) => {
        const text = m.text();
        if (text.startsWith('[smbgw-trace] ')) {
            appendFileSync(TRACE_FILE, text.slice('[smbgw-trace] '.length) + '\n');
        }
    });
    await page.evaluate(() => {
        const log = (s) => console.debug(`[smbgw-trace] ${Date.now()} page ${s}`);
        const describe = (el) => {
            if (!el || !el.closest) {
                return String(el && el.nodeName);
            }
            const owner = el.closest('[data-componentid]');
            const c = owner && Ext.getCmp(owner.getAttribute('data-componentid'));
            return (el.id || el.nodeName) + (c ? `<${c.name || c.itemId || c.xtype}>` : '');
        };
        for (const type of ['focusin', 'mousedown', 'click', 'keydown']) {
            document.addEventListener(type, (e) => log(`${type} ${describe(e.target)}${e.key ? ` key=${e.key}` : ''}`), true);
        }
        for (const m of ['expand', 'collapse']) {
            const original = Ext.form.field.Picker.prototype[m];
            Ext.form.field.Picker.prototype[m] = function () {
                if (this.isExpanded === (m === 'collapse')) {
                    log(`${m} ${this.name}`);
                }
                return original.apply(this, arguments);
            };
        }
    });
}

// With SMBGW_STRETCH_EXT=1, the deferred steps of Ext JS that the user
// waits for (see User) take much longer: a menu's item-over focus 600 ms
// instead of 100, a field's change check 400 ms instead of 50, Ext.asap
// 300 ms instead of 0, a delayed focus ten times as long. A user model
// that waits for what the page shows passes with it as without; one that
// relies on timing fails at once.
export async function stretchExt(page) {
    if (process.env.SMBGW_STRETCH_EXT !== '1') {
        return;
    }
    await page.evaluate(() => {
        Ext.menu.Menu.prototype.mouseLeaveDelay = 600;
        Ext.form.field.Base.prototype.checkChangeBuffer = 400;
        Ext.asap = (fn, scope, args) => setTimeout(() => fn.apply(scope, args || []), 300);
        const delay = Ext.focusTask.delay;
        Ext.focusTask.delay = function (ms, ...rest) {
            return delay.call(this, (ms || 10) * 10, ...rest);
        };
    });
}

// A person at the keyboard: every click and key press is counted. Like a
// careful person, it acts only on what is shown and enabled, and looks
// before going on: a field has the focus before anything is typed into it,
// a list is open before an entry is picked, and what was typed is what the
// field shows. Should a step not take, it is done again through the page
// (never by setting values from the script); such a retry is not counted
// as effort, and is reported on stderr.
//
// Ext JS defers some of its work, and a step taken before that work is
// done can be undone by it. `settle()` waits for all of it:
//  - a menu's item-over focus: 100 ms after the pointer entered a menu
//    item (Ext.menu.Menu's itemOverTask), Ext focuses that item. After a
//    quick click on Add -> SMB Gateway the menu is hidden by then, and the
//    focus goes to the menu's owner, the Add button behind the wizard:
//    keys typed after that went to the button, an open list closed;
//  - Ext.focusTask, the task behind focus(..., delay);
//  - a field's change check (checkChangeTask, 50 ms after a key): it
//    validates, and the message appearing or going under the field moves
//    the fields below it;
//  - a text field's caret placement after it got the focus (Ext.asap, a
//    timeout of 0): it would collapse a selection made before it ran.
export class User {
    constructor(page) {
        this.page = page;
        this.clicks = 0;
        this.keys = 0;
        this.retries = [];
        // The text field clicked last, where typing goes.
        this.field = null;
    }

    retry(what) {
        this.retries.push(what);
        trace(`retry: ${what}`);
        process.stderr.write(`user: ${what}; doing it again\n`);
        if (this.retries.length > 5) {
            throw new Error(`too many retries: ${this.retries.join('; ')}`);
        }
    }

    // Waits until Ext JS has nothing deferred that could move the focus or
    // the layout (see above), and a frame is painted.
    async settle() {
        const quiet = () => {
            const pending = (task) => !!(task && task.id);
            return !pending(Ext.focusTask) &&
                !Ext.ComponentQuery.query('menu').some((m) => pending(m.itemOverTask)) &&
                !Ext.ComponentQuery.query('field').some((f) => pending(f.checkChangeTask));
        };
        do {
            await this.page.waitForFunction(quiet, null, { polling: 'raf' });
            // Timeouts already queued (Ext.asap) run first, then a frame.
            await this.page.evaluate(() => new Promise((done) => setTimeout(() => requestAnimationFrame(() => done()), 0)));
        } while (!(await this.page.evaluate(quiet)));
    }

    async click(locator, { count = true } = {}) {
        trace(`click ${locator}`);
        await locator.click();
        if (count) {
            this.clicks++;
        }
    }

    async press(key, { count = true } = {}) {
        trace(`press ${key}`);
        await this.page.keyboard.press(key);
        if (count) {
            this.keys++;
        }
    }

    // The one visible component `query` finds, once it is rendered,
    // enabled and not under a mask (Ext masks a window while it waits for
    // the server), with Ext settled. Returns element ids of its parts.
    async ready(query) {
        await this.settle();
        const handle = await this.page.waitForFunction((q) => {
            const found = Ext.ComponentQuery.query(q).filter((x) => x.rendered && x.isVisible(true));
            if (found.length !== 1) {
                return null;
            }
            const c = found[0];
            if (c.isDisabled() || c.isMasked(true)) {
                return null;
            }
            const trigger = c.getTrigger && c.getTrigger('picker');
            return {
                id: c.id,
                input: c.inputEl && c.inputEl.dom.id,
                boxLabel: c.boxLabelEl && c.boxLabelEl.dom.id,
                trigger: trigger && trigger.el && trigger.el.dom.id,
                el: c.el.dom.id,
            };
        }, query, { polling: 'raf', timeout: 10000 }).catch((e) => {
            throw new Error(`no single visible, enabled component ${query} (${e.message})`);
        });
        return handle.jsonValue();
    }

    locator(id) {
        return this.page.locator(`[id="${id}"]`);
    }

    // Whether `fn(arg)` becomes true in the page within `timeout` ms.
    async until(fn, arg, timeout = 2000) {
        return this.page.waitForFunction(fn, arg, { polling: 'raf', timeout }).then(() => true, () => false);
    }

    // Whether the field `id` has the focus, Ext's and the document's.
    async hasFocus(id) {
        return this.page.evaluate((i) => {
            const c = Ext.getCmp(i);
            return !!c && c.hasFocus && document.activeElement === c.inputEl.dom;
        }, id);
    }

    // Clicks a text field and waits until it has the focus and Ext has
    // placed the caret. Not for combo boxes: a second click on one closes
    // its list (see choose()).
    async clickField(name, { count = true } = {}) {
        const field = await this.ready(`window field[name=${name}]`);
        this.field = { name, ...field };
        await this.click(this.locator(field.input), { count });
        for (let attempt = 0; ; attempt++) {
            const focused = await this.until((i) => {
                const c = Ext.getCmp(i);
                return c.hasFocus && document.activeElement === c.inputEl.dom;
            }, field.id);
            if (focused) {
                await this.settle();
                if (await this.hasFocus(field.id)) {
                    return;
                }
            }
            if (attempt === 2) {
                const active = await this.page.evaluate(() => document.activeElement && document.activeElement.id);
                throw new Error(`${name} does not take the focus (it is on ${active})`);
            }
            this.retry(`${name} did not keep the focus after a click`);
            await this.settle();
            await this.click(this.locator(field.input), { count: false });
        }
    }

    // The field's text and selection.
    async fieldState(id) {
        return this.page.evaluate((i) => {
            const dom = Ext.getCmp(i).inputEl.dom;
            return { value: dom.value, start: dom.selectionStart, end: dom.selectionEnd };
        }, id);
    }

    // Types into the field clicked last; what it shows afterwards is its
    // old text with the selection (or at the caret) replaced by `text`.
    async type(text, { count = true } = {}) {
        const field = this.field;
        if (!field) {
            throw new Error('type() before clickField(): no field to type into');
        }
        const before = await this.fieldState(field.id);
        const want = before.value.slice(0, before.start) + text + before.value.slice(before.end);
        if (count) {
            this.keys += Array.from(text).length;
        }
        if (!(await this.hasFocus(field.id))) {
            this.retry(`${field.name} lost the focus before typing "${text}"`);
            await this.retype(field.name, want);
            return;
        }
        trace(`type ${text} into ${field.name}`);
        await this.page.keyboard.type(text);
        const shown = await this.until(([i, w]) => Ext.getCmp(i).inputEl.dom.value === w,
            [field.id, want]);
        if (!shown) {
            const now = await this.fieldState(field.id);
            this.retry(`${field.name} shows "${now.value}" after typing "${text}", not "${want}"`);
            await this.retype(field.name, want);
        }
    }

    // Selects the whole text of the focused field with Control+A.
    async selectAll({ count = true } = {}) {
        const field = this.field;
        await this.press('Control+A', { count });
        for (let attempt = 0; ; attempt++) {
            const s = await this.fieldState(field.id);
            if (s.start === 0 && s.end === s.value.length) {
                return;
            }
            if (attempt === 2) {
                throw new Error(`Control+A does not select the text of ${field.name}`);
            }
            this.retry(`Control+A selected ${s.start}..${s.end} of "${s.value}" in ${field.name}`);
            await this.settle();
            await this.press('Control+A', { count: false });
        }
    }

    // Replaces a text field's content: click, select all, type.
    async fill(name, text) {
        await this.clickField(name);
        await this.selectAll();
        await this.type(text);
    }

    // The retry of a step that did not take: the whole value again.
    async retype(name, text) {
        await this.clickField(name, { count: false });
        await this.selectAll({ count: false });
        const field = this.field;
        await this.page.keyboard.type(text);
        const s = await this.fieldState(field.id);
        if (s.value !== text) {
            throw new Error(`${name} shows "${s.value}" after typing "${text}" twice`);
        }
    }

    async clickRadio(name, value) {
        const radio = await this.ready(`window radiofield[name=${name}][inputValue=${value}]`);
        await this.click(this.locator(radio.boxLabel));
        await this.waitChecked(radio, true, `${name}=${value}`);
    }

    async clickCheckbox(name) {
        const box = await this.ready(`window checkboxfield[name=${name}]`);
        const was = await this.page.evaluate((i) => Ext.getCmp(i).getValue(), box.id);
        await this.click(this.locator(box.boxLabel));
        await this.waitChecked(box, !was, name);
    }

    async waitChecked(field, want, what) {
        for (let attempt = 0; ; attempt++) {
            const done = await this.until(([i, w]) => Ext.getCmp(i).getValue() === w,
                [field.id, want]);
            if (done) {
                return;
            }
            if (attempt === 2) {
                throw new Error(`${what} is not ${want ? 'checked' : 'unchecked'} after clicking it`);
            }
            this.retry(`${what} did not change on a click`);
            await this.settle();
            await this.click(this.locator(field.boxLabel), { count: false });
        }
    }

    // A button of the window, by its text, once it is enabled.
    async clickButton(text) {
        const button = await this.ready(`window button[text=${JSON.stringify(text)}]`);
        await this.click(this.locator(button.el));
    }

    // Picks an entry of a combo box as a person does: opens the list with
    // the arrow, waits until it is shown with its entries, clicks the
    // entry, and checks that the box shows it. The arrow is clicked again
    // only while the list is closed (a click on an open list closes it).
    async choose(comboName, itemText, { count = true } = {}) {
        const combo = await this.ready(`window combobox[name=${comboName}]`);
        const listShown = ([i, t]) => {
            const c = Ext.getCmp(i);
            const store = c.getStore();
            const list = c.isExpanded && c.getPicker();
            return !!list && list.isVisible(true) && c.hasFocus && !store.isLoading() && store.getCount() > 0 &&
                list.all.getCount() === store.getCount() &&
                Object.values(list.all.elements).some((el) => el.innerText.includes(t));
        };
        for (let attempt = 0; ; attempt++) {
            const expanded = await this.page.evaluate((i) => Ext.getCmp(i).isExpanded, combo.id);
            if (!expanded) {
                await this.click(this.locator(combo.trigger), { count: count && attempt === 0 });
            }
            const shown = await this.until(listShown, [combo.id, itemText], 3000);
            if (shown) {
                break;
            }
            if (attempt === 2) {
                throw new Error(`the list of ${comboName} does not open with "${itemText}"`);
            }
            this.retry(`the list of ${comboName} is not open after a click on its arrow`);
            await this.settle();
        }
        const list = await this.page.evaluate((i) => Ext.getCmp(i).getPicker().el.dom.id, combo.id);
        await this.click(this.locator(list).locator('.x-boundlist-item').filter({ hasText: itemText }), { count });
        const picked = await this.until(([i, t]) => {
            const c = Ext.getCmp(i);
            return !c.isExpanded && c.getRawValue().includes(t);
        }, [combo.id, itemText]);
        if (!picked) {
            const shows = await this.page.evaluate((i) => Ext.getCmp(i).getRawValue(), combo.id);
            this.retry(`${comboName} shows "${shows}" after picking "${itemText}"`);
            await this.choose(comboName, itemText, { count: false });
        }
    }
}
