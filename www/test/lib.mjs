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

// A person at the keyboard: every click and key press is counted.
export class User {
    constructor(page) {
        this.page = page;
        this.clicks = 0;
        this.keys = 0;
    }

    async click(locator) {
        trace(`click ${locator}`);
        await locator.click();
        this.clicks++;
    }

    async type(text) {
        trace(`type ${text}`);
        await this.page.keyboard.type(text);
        this.keys += Array.from(text).length;
    }

    async press(key) {
        trace(`press ${key}`);
        await this.page.keyboard.press(key);
        this.keys++;
    }

    // The DOM element of an Ext component part, found through Ext's
    // component query (the test needs a handle; the action is a real click).
    async elementOf(query, part) {
        const id = await this.page.evaluate(([q, p]) => {
            const c = Ext.ComponentQuery.query(q).find((x) => x.isVisible(true));
            if (!c) {
                return null;
            }
            const el = c[p] || c.el;
            return (el.dom || el).id;
        }, [query, part]);
        if (!id) {
            throw new Error(`no visible component ${query}`);
        }
        return this.page.locator(`[id="${id}"]`);
    }

    async clickField(name) {
        await this.click(await this.elementOf(`pveSMBGatewayWizard field[name=${name}]`, 'inputEl'));
    }

    async clickRadio(name, value) {
        await this.click(await this.elementOf(`pveSMBGatewayWizard radiofield[name=${name}][inputValue=${value}]`, 'boxLabelEl'));
    }

    async clickCheckbox(name) {
        await this.click(await this.elementOf(`pveSMBGatewayWizard checkboxfield[name=${name}]`, 'boxLabelEl'));
    }

    async clickButton(text) {
        await this.click(this.page.locator('.x-window:visible .x-btn:visible').filter({ hasText: new RegExp(`^\\s*${text}\\s*$`) }));
    }

    async choose(comboName, itemText) {
        await this.clickField(comboName);
        await this.click(this.page.locator('.x-boundlist:visible .x-boundlist-item').filter({ hasText: itemText }));
    }

    // Replaces a text field's content: click, select all, type.
    // (Ext moves the caret after a focus change a moment later, which
    // would undo a selection made at once: wait as a person would.)
    async fill(name, text) {
        await this.clickField(name);
        await this.page.waitForTimeout(150);
        await this.press('Control+A');
        await this.type(text);
    }
}
