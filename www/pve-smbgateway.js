/*
 * pve-smbgateway: the "SMB Gateway" storage type in the Proxmox VE web UI.
 *
 * Loaded by one <script> tag that `pve-smbgateway pve-integration install`
 * adds after pvemanagerlib.js in /usr/share/pve-manager/index.html.tpl (the
 * file is installed as /usr/share/pve-manager/js/pve-smbgateway.js, served
 * at /pve2/js/). Proxmox VE has no supported hook for third-party UI code.
 *
 * What it adds:
 *  - PVE.Utils.storageSchema.smbgateway: the type's name and icon in the
 *    storage list and in Datacenter -> Storage -> Add;
 *  - PVE.storage.SMBGatewayInputPanel (extends PVE.panel.StorageBase): the
 *    Edit dialog (only the quota changes after creation; it also shows the
 *    share's status) and a plain create form as the fallback;
 *  - PVE.storage.SMBGatewayWizard: the five-page Add wizard;
 *  - an override of PVE.dc.StorageView.createStorageEditWindow so that
 *    Add -> SMB Gateway opens the wizard instead of the generic edit
 *    window. It is the least invasive hook there is: one method, only for
 *    this type and only when adding; every other type and Edit go to the
 *    original method. Should a pve-manager release rename that method, the
 *    override adds an unused method and Add falls back to the plain create
 *    form of the input panel: the storage can still be added.
 *  - PVE.SMBGateway.Rules: client-side checks that are ports of the Rust
 *    core's rules (share id, quota, floating address, workgroup, users and
 *    groups, Active Directory domain, join user and OU) with the same
 *    messages. www/test/rules-table.json, written by a cargo test from
 *    the Rust functions, holds inputs and the Rust answers; the browser test
 *    runs every one through these functions, so the two cannot drift apart
 *    unnoticed.
 *
 * Ext JS: classic toolkit only, and only API common to Ext JS 6.2 (the GPL
 * build on npm, used by the tests) and 7.0 (shipped by Proxmox VE). Known
 * difference avoided: RadioGroup's `simpleValue` (not in every 6.x), so
 * radio values are read from the radio fields themselves.
 */
Ext.ns('PVE.SMBGateway');

// ---------------------------------------------------------------------------
// Rules: ports of crates/core (ShareId, parse_quota, HaSpec/ha::ctdb::Vip,
// Identity::workgroup, Access::validate and validate_domain, AdSpec::new).
// Each returns null for a good value or the message
// the Rust code gives (its Display text, byte for byte).

PVE.SMBGateway.Rules = (function () {
    const utf8Length = (s) => new TextEncoder().encode(s).length;
    const isAsciiWs = (c) => ' \t\n\r\x0b\x0c'.includes(c);
    const isControl = (c) => /^\p{Cc}$/u.test(c);
    const isWhitespace = (c) => /^\p{White_Space}$/u.test(c);
    // Rust's char::escape_debug: grapheme extenders and what core::unicode
    // calls non-printable (Cc, Cf, Cs, Co, Cn, Zl, Zp, and Zs but ' ').
    const needsUnicodeEscape = (c) =>
        /^(?:\p{Grapheme_Extend}|\p{Cc}|\p{Cf}|\p{Cs}|\p{Co}|\p{Cn}|\p{Zl}|\p{Zp}|[^\P{Zs} ])$/u.test(c);
    const escapeChar = (c, quote) => {
        switch (c) {
            case '\0': return '\\0';
            case '\t': return '\\t';
            case '\r': return '\\r';
            case '\n': return '\\n';
            case '\\': return '\\\\';
            default:
        }
        if (c === quote) {
            return '\\' + c;
        }
        if (needsUnicodeEscape(c)) {
            return '\\u{' + c.codePointAt(0).toString(16) + '}';
        }
        return c;
    };
    // Rust's `{:?}` of a &str and of a char.
    const debugStr = (s) => '"' + Array.from(s, (c) => escapeChar(c, '"')).join('') + '"';
    const debugChar = (c) => "'" + escapeChar(c, "'") + "'";
    const invalid = (field, value, reason) => `invalid ${field} ${debugStr(value)}: ${reason}`;

    // --- share id (crates/core/src/spec.rs, check_share_id)
    const SHARE_ID_MIN = 2;
    const SHARE_ID_MAX = 64;
    const SHARE_ID_RULE = 'a share id is 2 to 64 characters from lowercase letters, digits, `-`, `_` and `.`, starting with a letter and ending with a letter or digit';
    const RESERVED = [
        ['global', 'its global settings section'],
        ['globals', 'its global settings section'],
        ['homes', 'the automatic home-directory share'],
        ['printers', 'the automatic printer shares'],
        ['print$', 'the printer-driver share'],
        ['ipc$', 'the inter-process communication share'],
    ];
    const shareId = function (id) {
        const F = 'share id';
        if (id === '') {
            return invalid(F, id, `it is empty; ${SHARE_ID_RULE}`);
        }
        const squashed = Array.from(id)
            .filter((c) => !isAsciiWs(c))
            .map((c) => (c >= 'A' && c <= 'Z' ? c.toLowerCase() : c))
            .join('');
        const reserved = RESERVED.find(([r]) => r === squashed);
        if (reserved) {
            return `share id ${debugStr(id)} is reserved: Samba reads [${reserved[0]}] as ${reserved[1]}; choose another id`;
        }
        for (const c of id) {
            let reason;
            if (/^[a-z0-9_.-]$/.test(c)) {
                continue;
            } else if (c === '\n' || c === '\r') {
                reason = 'it contains a line break, which would start a new line in smb.conf and in the registry';
            } else if (c === '[' || c === ']') {
                reason = `it contains \`${c}\`, which delimits section names in smb.conf`;
            } else if (c === '%') {
                reason = 'it contains `%`, which Samba expands as a macro (`%U`, `%m`, ...)';
            } else if (c === '/' || c === '\\') {
                reason = `it contains the path separator \`${c}\``;
            } else if (isControl(c)) {
                reason = `it contains the control character ${debugChar(c)}`;
            } else if (isWhitespace(c)) {
                reason = 'it contains whitespace';
            } else if (c.codePointAt(0) > 0x7f) {
                reason = `it contains the non-ASCII character ${debugChar(c)}`;
            } else if (c >= 'A' && c <= 'Z') {
                return invalid(F, id, `upper-case letters are not allowed: Samba compares share names case-insensitively while Proxmox storage ids are case-sensitive, so only lowercase ids avoid collisions; write ${debugStr(id.replace(/[A-Z]/g, (u) => u.toLowerCase()))}`);
            } else {
                reason = `it contains ${debugChar(c)}`;
            }
            return invalid(F, id, `${reason}; ${SHARE_ID_RULE}`);
        }
        if (id.length < SHARE_ID_MIN) {
            return invalid(F, id, `it is shorter than ${SHARE_ID_MIN} characters (the Proxmox storage-id minimum); ${SHARE_ID_RULE}`);
        }
        if (id.length > SHARE_ID_MAX) {
            return invalid(F, id, `it is longer than ${SHARE_ID_MAX} characters; ${SHARE_ID_RULE}`);
        }
        if (!/^[a-z]/.test(id)) {
            return invalid(F, id, `it must start with a letter; ${SHARE_ID_RULE}`);
        }
        if (!/[a-z0-9]$/.test(id)) {
            return invalid(F, id, `it must end with a letter or digit; ${SHARE_ID_RULE}`);
        }
        return null;
    };

    // --- quota (crates/backends/src/quota.rs, Quota::parse; core's
    // parse_quota wraps the problem as `invalid quota "...": problem`)
    const LETTERS = ['K', 'M', 'G', 'T', 'P', 'E'];
    const U64_MAX = (1n << 64n) - 1n;
    // Rust's str::trim: Unicode White_Space at both ends.
    const trim = (s) => s.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
    const quotaProblem = function (input) {
        const s = trim(input);
        if (s === '') {
            return { problem: 'empty size; write a size such as `10G`' };
        }
        if (s.startsWith('-')) {
            return { problem: 'a size cannot be negative' };
        }
        const digits = /^[0-9]*/.exec(s)[0];
        if (digits === '') {
            return { problem: 'a size starts with a whole number, e.g. `500M`, `10G`, `1T` or plain bytes' };
        }
        const rest = s.slice(digits.length);
        if (rest.startsWith('.') || rest.startsWith(',')) {
            return { problem: 'fractions are not accepted; use a smaller unit, e.g. `1536M` instead of `1.5G`' };
        }
        if (/^\p{White_Space}/u.test(rest)) {
            return { problem: 'remove the space between number and unit, e.g. `10G`' };
        }
        let shift = 0n;
        if (rest !== '' && rest.toLowerCase() !== 'b') {
            const upper = rest.replace(/[a-z]/g, (c) => c.toUpperCase());
            const first = Array.from(upper)[0];
            const tail = upper.slice(first.length);
            const pos = LETTERS.indexOf(first);
            const unknown = `unknown unit \`${rest}\`; use B, K, M, G, T, P, E or KiB, MiB, GiB, TiB, PiB, EiB`;
            if (pos < 0) {
                return { problem: unknown };
            }
            if (tail === '' || tail === 'IB') {
                shift = BigInt(10 * (pos + 1));
            } else if (tail === 'B') {
                return { problem: `unit \`${rest}\` is ambiguous (decimal or binary?); sizes are binary: write \`10${first}\` or \`10${first}iB\` (1024-based)` };
            } else {
                return { problem: unknown };
            }
        }
        const n = BigInt(digits);
        const bytes = n << shift;
        if (n > U64_MAX || bytes > U64_MAX) {
            return { problem: 'size too large (more than 16 EiB)' };
        }
        if (bytes === 0n) {
            return { problem: 'a quota of zero bytes is not allowed; omit the quota for none' };
        }
        return { bytes };
    };
    const quota = function (input) {
        const r = quotaProblem(input);
        return r.problem === undefined ? null : `invalid quota ${debugStr(input)}: ${r.problem}`;
    };
    // Quota's Display: the largest exact binary unit (`10GiB`, `1000B`).
    const quotaDisplay = function (input) {
        const { bytes } = quotaProblem(input);
        for (let i = LETTERS.length - 1; i >= 0; i--) {
            const shift = BigInt(10 * (i + 1));
            if (bytes % (1n << shift) === 0n) {
                return `${bytes >> shift}${LETTERS[i]}iB`;
            }
        }
        return `${bytes}B`;
    };

    // --- floating address (crates/ha/src/ctdb.rs, Vip::from_str and
    // check_interface; core's check_vip reports `invalid vip "...": reason`)

    // std::net's parsers: IPv4 is exactly four decimal octets without
    // leading zeros; IPv6 as RFC 4291 text, with at most one `::` and an
    // optional trailing IPv4 part, no zone. Returns [kind, bytes] or null.
    const parseIp = function (text) {
        let pos = 0;
        const atomically = (f) => {
            const saved = pos;
            const r = f();
            if (r === null) {
                pos = saved;
            }
            return r;
        };
        const readChar = (want) => atomically(() => (text[pos] === want ? (pos++, want) : null));
        const readNumber = (radix, maxDigits, allowZeroPrefix) => atomically(() => {
            let value = 0;
            let count = 0;
            const leadingZero = text[pos] === '0';
            for (;;) {
                const c = text[pos];
                const d = c === undefined ? NaN : parseInt(c, radix);
                if (Number.isNaN(d) || !/^[0-9a-fA-F]$/.test(c)) {
                    break;
                }
                pos++;
                value = value * radix + d;
                count++;
                if (count > maxDigits) {
                    return null;
                }
            }
            if (count === 0 || (!allowZeroPrefix && leadingZero && count > 1)) {
                return null;
            }
            return value;
        });
        const readIpv4 = () => atomically(() => {
            const octets = [];
            for (let i = 0; i < 4; i++) {
                if (i > 0 && readChar('.') === null) {
                    return null;
                }
                const n = readNumber(10, 3, false);
                if (n === null || n > 255) {
                    return null;
                }
                octets.push(n);
            }
            return octets;
        });
        const readGroups = (limit) => {
            const groups = [];
            for (let i = 0; i < limit; i++) {
                if (i < limit - 1) {
                    const v4 = atomically(() => {
                        if (i > 0 && readChar(':') === null) {
                            return null;
                        }
                        return readIpv4();
                    });
                    if (v4 !== null) {
                        groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
                        return { groups, ipv4: true };
                    }
                }
                const g = atomically(() => {
                    if (i > 0 && readChar(':') === null) {
                        return null;
                    }
                    return readNumber(16, 4, true);
                });
                if (g === null) {
                    return { groups, ipv4: false };
                }
                groups.push(g);
            }
            return { groups, ipv4: false };
        };
        const readIpv6 = () => atomically(() => {
            const head = readGroups(8);
            if (head.groups.length === 8) {
                return head.groups;
            }
            if (head.ipv4) {
                return null;
            }
            if (readChar(':') === null || readChar(':') === null) {
                return null;
            }
            const tail = readGroups(8 - (head.groups.length + 1));
            const zeros = new Array(8 - head.groups.length - tail.groups.length).fill(0);
            return head.groups.concat(zeros, tail.groups);
        });
        const whole = (f) => {
            pos = 0;
            const r = f();
            return r !== null && pos === text.length ? r : null;
        };
        const v4 = whole(readIpv4);
        if (v4 !== null) {
            return { v4: true, octets: v4 };
        }
        const v6 = whole(readIpv6);
        return v6 !== null ? { v4: false, groups: v6 } : null;
    };
    const checkInterface = function (name) {
        const len = utf8Length(name);
        if (len === 0 || len > 15) {
            return `interface name \`${name}\` must be 1 to 15 characters`;
        }
        if (name.startsWith('-')) {
            return `interface name \`${name}\` must not start with \`-\``;
        }
        if (name === '.' || name === '..') {
            return `\`${name}\` is not an interface name`;
        }
        const bad = Array.from(name).find((c) => '/:,'.includes(c) || isWhitespace(c) || isControl(c));
        if (bad !== undefined) {
            return `interface name \`${name}\` contains ${debugChar(bad)}, which interface names cannot contain`;
        }
        return null;
    };
    const vipReason = function (text) {
        if (Array.from(text).some((c) => isWhitespace(c) || isControl(c))) {
            return 'it contains white space or a control character; write ADDR/BITS or ADDR/BITS@IFACE';
        }
        let addrBits = text;
        const at = text.indexOf('@');
        if (at >= 0) {
            addrBits = text.slice(0, at);
            const bad = checkInterface(text.slice(at + 1));
            if (bad) {
                return bad;
            }
        }
        const slash = addrBits.indexOf('/');
        if (slash < 0) {
            return 'give the prefix length too, as in 192.168.1.50/24 or 192.168.1.50/24@vmbr0';
        }
        const addr = addrBits.slice(0, slash);
        const bits = addrBits.slice(slash + 1);
        const ip = parseIp(addr);
        if (ip === null) {
            return `\`${addr}\` is not an IPv4 or IPv6 address`;
        }
        const max = ip.v4 ? 32 : 128;
        // Rust's u8 parse: digits only, leading zeros fine, at most 255.
        const prefix = /^[0-9]+$/.test(bits) && BigInt(bits) <= 255n ? Number(bits) : -1;
        if (!(prefix >= 1 && prefix <= max)) {
            return `prefix length \`${bits}\` must be 1 to ${max}`;
        }
        let unspecified, loopback, multicast;
        if (ip.v4) {
            const o = ip.octets;
            unspecified = o.every((x) => x === 0);
            loopback = o[0] === 127;
            multicast = o[0] >= 224 && o[0] <= 239;
        } else {
            const g = ip.groups;
            unspecified = g.every((x) => x === 0);
            loopback = g.slice(0, 7).every((x) => x === 0) && g[7] === 1;
            multicast = (g[0] & 0xff00) === 0xff00;
        }
        if (unspecified || loopback || multicast) {
            return 'an unspecified, loopback or multicast address cannot float between nodes';
        }
        if (ip.v4) {
            const o = ip.octets;
            const value = ((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3];
            if (value === 0xffffffff) {
                return 'the broadcast address cannot float between nodes';
            }
            if (prefix < 31) {
                const hostBits = 32 - prefix;
                const mask = 2 ** hostBits - 1;
                const host = value % 2 ** hostBits;
                const shown = o.join('.');
                if (host === 0) {
                    return `${shown} is the network address of its /${prefix}`;
                }
                if (host === mask) {
                    return `${shown} is the broadcast address of its /${prefix}`;
                }
            }
        }
        return null;
    };
    const vip = function (text) {
        const reason = vipReason(text);
        return reason === null ? null : invalid('vip', text, reason);
    };

    // --- workgroup (crates/core/src/spec.rs, check_workgroup; the wizard
    // upper-cases it like Identity::workgroup)
    const NETBIOS_NAME_MAX = 15;
    const WORKGROUP_RULE = 'a workgroup is a NetBIOS name of 1 to 15 ASCII characters without whitespace or any of \\ / : * ? " < > | + = ; , [ ] %';
    const workgroup = function (name) {
        const F = 'workgroup';
        if (name === '') {
            return invalid(F, name, `it is empty; ${WORKGROUP_RULE}`);
        }
        for (const c of name) {
            let reason;
            if (c === '\n' || c === '\r') {
                reason = 'it contains a line break';
            } else if (c === '%') {
                reason = 'it contains `%`, which Samba expands as a macro';
            } else if ('\\/:*?"<>|+=;,[]'.includes(c)) {
                reason = 'it contains a character NetBIOS names cannot have';
            } else if (isControl(c)) {
                reason = 'it contains a control character';
            } else if (isWhitespace(c)) {
                reason = 'it contains whitespace';
            } else if (c.codePointAt(0) > 0x7f) {
                reason = 'it contains a non-ASCII character, which NetBIOS code pages do not represent portably';
            } else {
                continue;
            }
            return invalid(F, name, `${reason}; ${WORKGROUP_RULE}`);
        }
        if (utf8Length(name) > NETBIOS_NAME_MAX) {
            return invalid(F, name, `it is longer than ${NETBIOS_NAME_MAX} characters; ${WORKGROUP_RULE}`);
        }
        return null;
    };

    // --- a quota on the directory backend without the opt-in
    // (crates/core/src/error.rs, Error::QuotaUnenforced; the CLI's flag is
    // named in core's text, the wizard's checkbox says the same thing)
    const dirQuota = function (root, quotaText) {
        return `a quota of ${quotaDisplay(quotaText)} cannot be enforced on the directory backend (${root}): a plain directory has no size limit, so writes beyond the quota would not be stopped; use a zfs, cephfs or rbd backend for an enforced quota, or accept an advisory quota with \`--quota-unenforced\``;
    };

    // --- users and groups of a workgroup share (crates/core/src/spec.rs,
    // check_account_name and Access::validate: POSIX names, no duplicates)
    const NAME_MAX = 32;
    const ACCOUNT_RULE = 'names use lowercase letters, digits, `_` and `-`, start with a letter or `_`, may end with `$`, and have at most 32 characters';
    const accountName = function (name, group) {
        const F = group ? 'group name' : 'user name';
        if (name === '') {
            return invalid(F, name, `it is empty; ${ACCOUNT_RULE}`);
        }
        if (group && name.startsWith('@')) {
            return invalid(F, name, `give the group without \`@\` (${debugStr(name.slice(1))}); the gateway adds the \`@\` where Samba needs it`);
        }
        const body = name.endsWith('$') ? name.slice(0, -1) : name;
        for (const c of body) {
            let reason;
            if (/^[a-z0-9_-]$/.test(c)) {
                continue;
            } else if (c >= 'A' && c <= 'Z') {
                reason = `upper-case letters are not portable; write ${debugStr(name.replace(/[A-Z]/g, (u) => u.toLowerCase()))}`;
            } else if (c === '\n' || c === '\r') {
                reason = `it contains a line break; ${ACCOUNT_RULE}`;
            } else if (c === '$') {
                reason = `\`$\` is only allowed at the end; ${ACCOUNT_RULE}`;
            } else if (isControl(c)) {
                reason = `it contains the control character ${debugChar(c)}; ${ACCOUNT_RULE}`;
            } else if (isWhitespace(c)) {
                reason = `it contains whitespace; ${ACCOUNT_RULE}`;
            } else {
                reason = `it contains ${debugChar(c)}; ${ACCOUNT_RULE}`;
            }
            return invalid(F, name, reason);
        }
        if (!/^[a-z_]/.test(body)) {
            return invalid(F, name, `it must start with a letter or \`_\`; ${ACCOUNT_RULE}`);
        }
        if (utf8Length(name) > NAME_MAX) {
            return invalid(F, name, `it is longer than ${NAME_MAX} characters`);
        }
        return null;
    };
    const duplicate = (field, name) => `${field} lists ${debugStr(name)} twice; give each name once`;
    const access = function (users, groups) {
        for (const [field, names, group] of [['users', users, false], ['groups', groups, true]]) {
            const seen = new Set();
            for (const n of names) {
                const bad = accountName(n, group);
                if (bad !== null) {
                    return bad;
                }
                if (seen.has(n)) {
                    return duplicate(field, n);
                }
                seen.add(n);
            }
        }
        return null;
    };

    // --- Active Directory (crates/core/src/spec.rs: AdSpec::new with
    // check_realm, check_domain_account and check_ou; Access::validate_domain)

    // The realm is the domain upper-cased (ASCII only, like
    // str::to_ascii_uppercase), and core's message shows the realm.
    const DNS_NAME_MAX = 253;
    const REALM_RULE = 'an Active Directory domain is a DNS name of at least two labels (corp.example.com): letters, digits and `-`, labels of 1 to 63 characters not starting or ending with `-`';
    const adDomain = function (domain) {
        const F = 'ad-domain';
        const realm = domain.replace(/[a-z]/g, (c) => c.toUpperCase());
        if (utf8Length(realm) > DNS_NAME_MAX) {
            return invalid(F, realm, `it is longer than ${DNS_NAME_MAX} characters; ${REALM_RULE}`);
        }
        const labels = realm.split('.');
        if (labels.length < 2) {
            return invalid(F, realm, `it has a single label; ${REALM_RULE}`);
        }
        for (const l of labels) {
            // Only ASCII passes the pattern, so length in bytes = characters.
            if (!/^[A-Za-z0-9-]{1,63}$/.test(l) || l.startsWith('-') || l.endsWith('-')) {
                return invalid(F, realm, `label ${debugStr(l)} is not valid; ${REALM_RULE}`);
            }
        }
        if (/^[0-9]+$/.test(labels[labels.length - 1])) {
            return invalid(F, realm, `it looks like an IP address; ${REALM_RULE}`);
        }
        return null;
    };

    // A domain user or group without the domain (`alice`, `Domain Users`);
    // `field` is core's: `ad-user` for the join user, `users`, `groups`.
    const AD_NAME_MAX = 64;
    const AD_NAME_FORBIDDEN = '"/\\[]:;|=,+*?<>@%';
    const AD_NAME_RULE = 'a domain account name is given without the domain (alice, Domain Users): 1 to 64 characters, none of " / \\ [ ] : ; | = , + * ? < > @ %, no control characters, no white space at either end';
    const domainAccount = function (field, name) {
        if (name === '') {
            return invalid(field, name, `it is empty; ${AD_NAME_RULE}`);
        }
        const c = Array.from(name).find((x) => AD_NAME_FORBIDDEN.includes(x) || isControl(x));
        if (c !== undefined) {
            const reason = c === '\\' ? 'give the name without the domain (the gateway adds it)' : `it contains ${debugChar(c)}`;
            return invalid(field, name, `${reason}; ${AD_NAME_RULE}`);
        }
        if (trim(name) !== name) {
            return invalid(field, name, `it has white space at an end; ${AD_NAME_RULE}`);
        }
        if (Array.from(name).length > AD_NAME_MAX) {
            return invalid(field, name, `it is longer than ${AD_NAME_MAX} characters`);
        }
        if (name.endsWith('.')) {
            return invalid(field, name, `it ends with \`.\`; ${AD_NAME_RULE}`);
        }
        return null;
    };
    const adUser = (name) => domainAccount('ad-user', name);

    const OU_RULE = 'an OU is given relative to the domain as RDNs separated by `,`, innermost first (OU=Servers,OU=IT)';
    const adOu = function (ou) {
        const F = 'ad-ou';
        for (const rdn of ou.split(',')) {
            const eq = rdn.indexOf('=');
            if (eq < 0) {
                return invalid(F, ou, `${debugStr(rdn)} is not \`OU=name\`; ${OU_RULE}`);
            }
            const k = trim(rdn.slice(0, eq));
            const v = rdn.slice(eq + 1);
            if (!/^[oO][uU]$/.test(k)) {
                return invalid(F, ou, `${debugStr(k)} is not OU (the domain's DC= part is added by the join); ${OU_RULE}`);
            }
            if (trim(v) === '' || Array.from(v).some((c) => isControl(c) || '"\\+<>;#%/'.includes(c))) {
                return invalid(F, ou, `the value of ${debugStr(rdn)} is empty or has characters that need LDAP escaping; ${OU_RULE}`);
            }
        }
        return null;
    };

    // Users and groups of a domain member: domain accounts, duplicates
    // compared without regard to case (String::to_lowercase).
    const adAccess = function (users, groups) {
        for (const [field, names] of [['users', users], ['groups', groups]]) {
            const seen = new Set();
            for (const n of names) {
                const bad = domainAccount(field, n);
                if (bad !== null) {
                    return bad;
                }
                const folded = n.toLowerCase();
                if (seen.has(folded)) {
                    return duplicate(field, n);
                }
                seen.add(folded);
            }
        }
        return null;
    };

    return {
        shareId, quota, quotaDisplay, vip, workgroup, dirQuota, access, adDomain, adUser, adOu, adAccess, debugStr,
    };
}());

// Ext field validators: true or the (HTML-encoded) message, shown under the
// field exactly as the Rust code words it.
PVE.SMBGateway.validator = function (rule) {
    return function (value) {
        const msg = rule(value);
        return msg === null ? true : Ext.String.htmlEncode(msg);
    };
};

// ---------------------------------------------------------------------------
// The request: wizard values -> the storage properties of POST /storage.

PVE.SMBGateway.backends = {
    zfspool: { backend: 'zfs', text: 'ZFS' },
    cephfs: { backend: 'cephfs', text: 'CephFS' },
    rbd: { backend: 'rbd', text: 'RBD' },
    dir: { backend: 'dir', text: gettext('Directory') },
};

// One choice of the "Backing storage" list from a storage's configuration
// (GET /storage) and its state on this node (GET /nodes/{node}/storage).
PVE.SMBGateway.backingOf = function (cfg, state) {
    const kind = PVE.SMBGateway.backends[cfg.type];
    if (!kind || cfg.disable || !state || !state.active) {
        return null;
    }
    // Storages of an external Ceph cluster (monhost) need their keyring and
    // configuration handed over; the gateway reaches the node's own cluster.
    if ((cfg.type === 'rbd' || cfg.type === 'cephfs') && cfg.monhost) {
        return null;
    }
    const b = { key: cfg.type + ':' + cfg.storage, storage: cfg.storage, backend: kind.backend };
    if (cfg.type === 'zfspool') {
        b.parent = cfg.pool;
        b.where = Ext.String.format(gettext('datasets under {0}'), cfg.pool);
    } else if (cfg.type === 'cephfs') {
        b.fs = cfg['fs-name'] || 'cephfs';
        b.mount = cfg.path || '/mnt/pve/' + cfg.storage;
        b.where = Ext.String.format(gettext('subvolumes of CephFS {0}'), b.fs);
    } else if (cfg.type === 'rbd') {
        b.pool = cfg.pool || 'rbd';
        b.where = Ext.String.format(gettext('images in pool {0}'), b.pool);
    } else {
        b.root = cfg.path;
        b.where = Ext.String.format(gettext('directories under {0}'), cfg.path);
    }
    const free = state.avail ? ', ' + Proxmox.Utils.format_size(state.avail) + ' ' + gettext('free') : '';
    b.label = `${cfg.storage} (${kind.text}: ${b.where}${free})`;
    return b;
};

PVE.SMBGateway.OTHER_DIR = 'dir:';

PVE.SMBGateway.quotaText = function (v) {
    const size = v.quotaSize === undefined || v.quotaSize === null ? '' : String(v.quotaSize);
    return size.trim() === '' ? null : size + v.quotaUnit;
};

// A list field as the plugin splits smbgw-users and smbgw-groups: at `,`,
// empty names dropped, nothing trimmed.
PVE.SMBGateway.names = function (text) {
    return (text || '').split(',').filter((n) => n.length > 0);
};

PVE.SMBGateway.vipText = function (v) {
    return v.vipIface ? `${v.vip}@${v.vipIface}` : v.vip;
};

// The storage properties the plugin takes (see the Perl plugin's
// properties()); the AD password only as `smbgw-ad-password`, which the
// plugin declares sensitive (Proxmox keeps it out of storage.cfg).
PVE.SMBGateway.buildRequest = function (v, backing) {
    const p = { type: 'smbgateway', storage: v.storage };
    p['smbgw-backend'] = backing.backend;
    if (backing.backend === 'zfs') {
        p['smbgw-zfs-parent'] = backing.parent;
    } else if (backing.backend === 'cephfs') {
        p['smbgw-cephfs-fs'] = backing.fs;
        p['smbgw-cephfs-mount'] = backing.mount;
    } else if (backing.backend === 'rbd') {
        p['smbgw-rbd-pool'] = backing.pool;
    } else {
        p['smbgw-dir-root'] = backing.root || v.dirRoot;
    }
    if (v.volumeChoice === 'existing') {
        p['smbgw-existing'] = 1;
    }
    if (v.volume && v.volume !== v.storage) {
        p['smbgw-volume'] = v.volume;
    }
    p['smbgw-mode'] = v.mode;
    if (v.identity === 'ad') {
        p['smbgw-ad-domain'] = v.adDomain;
        p['smbgw-ad-user'] = v.adUser;
        if (v.adOu) {
            p['smbgw-ad-ou'] = v.adOu;
        }
        p['smbgw-ad-password'] = v.adPassword;
    } else {
        p['smbgw-workgroup'] = v.workgroup.toUpperCase();
    }
    for (const list of ['users', 'groups']) {
        const names = PVE.SMBGateway.names(v[list]);
        if (names.length) {
            p['smbgw-' + list] = names.join(',');
        }
    }
    const quota = PVE.SMBGateway.quotaText(v);
    if (quota) {
        p['smbgw-quota'] = quota;
        if (backing.backend === 'dir' && v.quotaUnenforced) {
            p['smbgw-quota-unenforced'] = 1;
        }
    }
    if (v.ha) {
        p['smbgw-ha'] = 1;
        p['smbgw-ct-storage'] = v.ctStorage;
    }
    if (v.ctdb) {
        p['smbgw-vip'] = PVE.SMBGateway.vipText(v);
    }
    return p;
};

// The equivalent command line (the password never shown).
PVE.SMBGateway.commandLine = function (params) {
    const quote = (s) => (/^[A-Za-z0-9_.,:/@=+-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'");
    let cmd = `pvesm add smbgateway ${quote(params.storage)}`;
    for (const [k, val] of Object.entries(params)) {
        if (k === 'type' || k === 'storage') {
            continue;
        }
        cmd += ` --${k} ` + (k === 'smbgw-ad-password' ? '<hidden>' : quote(String(val)));
    }
    return cmd;
};

// What will be created, one line each (HTML-encoded).
PVE.SMBGateway.summaryLines = function (v, backing, nodename) {
    const enc = Ext.String.htmlEncode;
    const vol = v.volume || v.storage;
    const quota = PVE.SMBGateway.quotaText(v);
    const size = quota ? PVE.SMBGateway.Rules.quotaDisplay(quota) : null;
    const existing = v.volumeChoice === 'existing';
    const lines = [];
    let what;
    if (backing.backend === 'zfs') {
        what = `ZFS dataset ${backing.parent}/${vol}`;
    } else if (backing.backend === 'cephfs') {
        what = `CephFS subvolume ${vol} of ${backing.fs} (mounted at ${backing.mount})`;
    } else if (backing.backend === 'rbd') {
        what = `RBD image ${backing.pool}/${vol} with XFS`;
    } else {
        what = `directory ${backing.root || v.dirRoot}/${vol}`;
    }
    lines.push(['Volume', (existing ? 'serve the existing ' : 'a new ') + what]);
    let q = gettext('none');
    if (size) {
        q = size + (backing.backend === 'dir' ? ' (advisory: a plain directory cannot enforce it)' : ' (enforced)');
    }
    lines.push(['Quota', q]);
    lines.push(['Samba', v.mode === 'native'
        ? `on the host ${nodename} itself (native mode)`
        : 'in a new LXC container of its own (128 MiB memory, 1 core)']);
    lines.push(['Identity', v.identity === 'ad'
        ? `joins Active Directory ${v.adDomain} as ${v.adUser}${v.adOu ? `, computer account in ${v.adOu}` : ''} (password sent once, not stored in storage.cfg)`
        : `workgroup ${v.workgroup.toUpperCase()}`]);
    const users = PVE.SMBGateway.names(v.users);
    const groups = PVE.SMBGateway.names(v.groups);
    let who = gettext('any authenticated user');
    if (users.length || groups.length) {
        who = [users.length ? `users ${users.join(', ')}` : null, groups.length ? `groups ${groups.join(', ')}` : null]
            .filter((x) => x !== null).join('; ');
    }
    lines.push(['Access', who]);
    let avail = gettext('none (one node)');
    if (v.ha) {
        avail = `Proxmox HA restarts the container on another node (its disk on ${v.ctStorage})`;
    } else if (v.ctdb) {
        avail = `CTDB floating address ${PVE.SMBGateway.vipText(v)}`;
    }
    lines.push(['High availability', avail]);
    const host = v.ctdb ? v.vip.split('/')[0] : nodename;
    lines.push(['Clients connect to', `\\\\${host}\\${v.storage}`]);
    return lines.map(([k, val]) => [enc(k), enc(val)]);
};

// ---------------------------------------------------------------------------
// Status of a share storage: provisioning, active, or error with a reason.
// The plugin's on_add_hook starts a background task of type `smbgwcreate`
// (id: the storage id) on the node that handled the request; its exit
// status is the error. Once it ended well, the storage's own status
// (the plugin's status(): active when the share is served) decides.

PVE.SMBGateway.fetchStatus = function (nodename, storeid, callback) {
    const error = (reason) => callback({ state: 'error', reason });
    Proxmox.Utils.API2Request({
        url: `/nodes/${nodename}/tasks`,
        method: 'GET',
        params: { typefilter: 'smbgwcreate', source: 'all', limit: 50 },
        failure: (response) => error(response.htmlStatus),
        success: function (response) {
            const tasks = (response.result.data || [])
                .filter((t) => t.id === storeid)
                .sort((a, b) => b.starttime - a.starttime);
            const task = tasks[0];
            if (task && !task.endtime) {
                callback({ state: 'provisioning', upid: task.upid });
                return;
            }
            if (task && task.status !== 'OK') {
                error(Ext.String.htmlEncode(task.status || gettext('unknown error')));
                return;
            }
            Proxmox.Utils.API2Request({
                url: `/nodes/${nodename}/storage/${storeid}/status`,
                method: 'GET',
                failure: (r) => error(r.htmlStatus),
                success: function (r) {
                    if (r.result.data && r.result.data.active) {
                        callback({ state: 'active' });
                    } else if (!task) {
                        callback({ state: 'provisioning' });
                    } else {
                        error(Ext.String.htmlEncode(Ext.String.format(
                            gettext("the share is not active on {0}; run 'pve-smbgateway status {1}' there"),
                            nodename, storeid)));
                    }
                },
            });
        },
    });
};

PVE.SMBGateway.renderStatus = function (s) {
    if (!s) {
        return gettext('checking...');
    }
    if (s.state === 'active') {
        return '<i class="fa fa-check-circle good"></i> ' + gettext('active');
    }
    if (s.state === 'provisioning') {
        return '<i class="fa fa-refresh fa-spin"></i> ' + gettext('provisioning');
    }
    return '<i class="fa fa-times-circle critical"></i> ' + gettext('error') + ': ' + s.reason;
};

// ---------------------------------------------------------------------------
// Edit (and plain create) panel for PVE.storage.BaseEdit.

Ext.define('PVE.storage.SMBGatewayInputPanel', {
    extend: 'PVE.panel.StorageBase',

    onGetValues: function (values) {
        let me = this;
        if (!values['smbgw-quota']) {
            // No quota (create), or unchanged (edit: it cannot be removed).
            delete values['smbgw-quota'];
        }
        if (me.isCreate) {
            const where = values['smbgw-location'];
            delete values['smbgw-location'];
            const key = {
                dir: 'smbgw-dir-root',
                zfs: 'smbgw-zfs-parent',
                cephfs: 'smbgw-cephfs-fs',
                rbd: 'smbgw-rbd-pool',
            }[values['smbgw-backend']];
            values[key] = where;
        }
        return me.callParent([values]);
    },

    initComponent: function () {
        let me = this;
        const quotaField = {
            xtype: 'textfield',
            name: 'smbgw-quota',
            fieldLabel: gettext('Quota'),
            emptyText: gettext('none'),
            msgTarget: 'under',
            allowBlank: true,
            validator: function (value) {
                return value === '' ? true : PVE.SMBGateway.validator(PVE.SMBGateway.Rules.quota)(value);
            },
        };
        if (me.isCreate) {
            // The fallback when the wizard is not hooked in (see the file's
            // head): the required settings only; the rest keep defaults.
            me.column1 = [
                {
                    xtype: 'combobox',
                    name: 'smbgw-backend',
                    fieldLabel: gettext('Backend'),
                    editable: false,
                    value: 'zfs',
                    store: [['zfs', 'ZFS'], ['cephfs', 'CephFS'], ['rbd', 'RBD'], ['dir', gettext('Directory')]],
                },
                {
                    xtype: 'textfield',
                    name: 'smbgw-location',
                    fieldLabel: gettext('Parent / pool / path'),
                    allowBlank: false,
                },
                {
                    xtype: 'combobox',
                    name: 'smbgw-mode',
                    fieldLabel: gettext('Mode'),
                    editable: false,
                    value: 'lxc',
                    store: [['lxc', 'LXC'], ['native', gettext('Native')]],
                },
                quotaField,
            ];
        } else {
            me.column1 = [
                { xtype: 'displayfield', name: 'smbgw-backend', fieldLabel: gettext('Backend') },
                { xtype: 'displayfield', name: 'smbgw-mode', fieldLabel: gettext('Mode') },
                quotaField,
            ];
            me.columnB = [{
                xtype: 'displayfield',
                itemId: 'smbgwStatus',
                fieldLabel: gettext('Status'),
                value: PVE.SMBGateway.renderStatus(null),
            }];
        }
        me.callParent();
        if (!me.isCreate) {
            PVE.SMBGateway.fetchStatus(Proxmox.NodeName, me.storageId, function (s) {
                const field = me.down('#smbgwStatus');
                if (field && !me.isDestroyed) {
                    field.setValue(PVE.SMBGateway.renderStatus(s));
                }
            });
        }
    },
});

// ---------------------------------------------------------------------------
// The Add wizard. A window of its own rather than PVE.window.Wizard, whose
// interface is internal to pve-manager and has changed between releases;
// the pages are Proxmox.panel.InputPanel like every Proxmox form.

Ext.define('PVE.storage.SMBGatewayWizard', {
    extend: 'Ext.window.Window',
    alias: 'widget.pveSMBGatewayWizard',

    title: gettext('Add') + ': SMB Gateway',
    modal: true,
    width: 720,
    height: 560,
    layout: 'fit',
    resizable: false,
    // How often the status is asked for after Finish (ms).
    pollInterval: 2000,

    // Inline styles: pve-manager's CSS has no classes for these.
    keyStyle: 'font-weight: bold; white-space: nowrap; padding: 2px 12px 2px 0; vertical-align: top',

    pageTitles: [gettext('Storage'), gettext('Mode'), gettext('Identity'), gettext('Quota & HA'), gettext('Confirm')],

    // The wizard's values, from every enabled field (hidden fields are
    // disabled too, so they do not count, and so are the fields of pages
    // not reached yet).
    collect: function () {
        let me = this;
        const v = {};
        me.query('field').forEach(function (f) {
            const name = f.getName();
            if (!name || f.isDisabled() || f.isXType('displayfield')) {
                return;
            }
            if (f.isXType('radiofield')) {
                if (f.getValue()) {
                    v[name] = f.inputValue;
                }
            } else {
                v[name] = f.getValue();
            }
        });
        return v;
    },

    backing: function () {
        let me = this;
        const key = me.down('[name=backing]').getValue();
        if (key === PVE.SMBGateway.OTHER_DIR) {
            return { backend: 'dir', root: null };
        }
        const rec = me.backingStore.findRecord('key', key, 0, false, true, true);
        return rec ? rec.data : null;
    },

    setShown: function (selector, shown) {
        let me = this;
        me.query(selector).forEach(function (c) {
            c.setVisible(shown);
            c.setDisabled(!shown);
            if (c.isXType('container')) {
                c.query('field').forEach((f) => f.setDisabled(!shown));
            }
        });
    },

    // Shows and enables what depends on other choices.
    updateDependents: function () {
        let me = this;
        const v = me.collect();
        const backing = me.backing() || {};
        me.setShown('[name=dirRoot]', v.backing === PVE.SMBGateway.OTHER_DIR);
        me.setShown('#adFields', v.identity === 'ad');
        me.setShown('[name=workgroup]', v.identity !== 'ad');
        // Users and groups follow different rules with and without AD.
        ['users', 'groups'].forEach(function (n) {
            const field = me.down(`[name=${n}]`);
            if (field && field.getValue()) {
                field.validate();
            }
        });
        me.setShown('[name=quotaUnenforced]', backing.backend === 'dir');
        const ha = me.down('[name=ha]');
        const haOk = v.mode === 'lxc' && backing.backend === 'cephfs';
        if (!haOk && ha.getValue()) {
            ha.setValue(false);
        }
        ha.setDisabled(!haOk);
        me.setShown('[name=ctStorage]', haOk && ha.getValue());
        me.down('#haHint').setValue(haOk
            ? gettext('The container restarts on another node when its node fails.')
            : gettext('Proxmox HA needs LXC mode and a CephFS volume (at the same path on every node).'));
        const ctdb = me.down('[name=ctdb]');
        const ctdbOk = v.mode === 'native';
        if (!ctdbOk && ctdb.getValue()) {
            ctdb.setValue(false);
        }
        ctdb.setDisabled(!ctdbOk);
        me.setShown('#ctdbFields', ctdbOk && ctdb.getValue());
        me.down('#ctdbHint').setValue(ctdbOk
            ? gettext('Every node of the CTDB cluster serves the share; clients use the floating address.')
            : gettext('CTDB needs Native mode on a CTDB cluster.'));
    },

    // Users and groups are local (POSIX) names in a workgroup and domain
    // accounts with AD (core's Access::validate / validate_domain). Each
    // field checks its own list, which is how core meets them: users first.
    accessValidator: function (users, groups) {
        let me = this;
        const ad = me.down('radiofield[name=identity][inputValue=ad]');
        const rule = ad && ad.getValue() ? PVE.SMBGateway.Rules.adAccess : PVE.SMBGateway.Rules.access;
        const msg = rule(users, groups);
        return msg === null ? true : Ext.String.htmlEncode(msg);
    },

    // Checks the fields of one page, marking the bad ones (with the
    // message under the field).
    validatePage: function (page) {
        let ok = true;
        page.query('field').forEach(function (f) {
            if (!f.isDisabled() && !f.validate()) {
                ok = false;
            }
        });
        return ok;
    },

    // Cross-field check the fields cannot make alone: a quota on a plain
    // directory needs the explicit opt-in (core's QuotaUnenforced).
    validateQuotaPage: function () {
        let me = this;
        const v = me.collect();
        const backing = me.backing();
        const size = me.down('[name=quotaSize]');
        const quota = PVE.SMBGateway.quotaText(v);
        if (backing && backing.backend === 'dir' && quota && !v.quotaUnenforced &&
            PVE.SMBGateway.Rules.quota(quota) === null) {
            size.markInvalid(Ext.String.htmlEncode(
                PVE.SMBGateway.Rules.dirQuota(backing.root || v.dirRoot, quota)));
            return false;
        }
        return true;
    },

    showPage: function (index) {
        let me = this;
        const tabs = me.down('#pages');
        const page = tabs.items.getAt(index);
        page.setDisabled(false);
        tabs.setActiveTab(page);
    },

    next: function () {
        let me = this;
        const tabs = me.down('#pages');
        const index = tabs.items.indexOf(tabs.getActiveTab());
        const page = tabs.getActiveTab();
        if (!me.validatePage(page) || (page.itemId === 'quotaPage' && !me.validateQuotaPage())) {
            return;
        }
        me.showPage(index + 1);
    },

    back: function () {
        let me = this;
        const tabs = me.down('#pages');
        const index = tabs.items.indexOf(tabs.getActiveTab());
        if (index > 0) {
            tabs.setActiveTab(index - 1);
        }
    },

    updateButtons: function () {
        let me = this;
        const tabs = me.down('#pages');
        const index = tabs.items.indexOf(tabs.getActiveTab());
        const last = index === tabs.items.getCount() - 1;
        me.down('#back').setDisabled(index === 0 || me.submitted);
        me.down('#next').setVisible(!last);
        me.down('#finish').setVisible(last && !me.submitted);
        me.down('#close').setVisible(!!me.submitted);
    },

    updateSummary: function () {
        let me = this;
        const v = me.collect();
        const backing = me.backing();
        if (!backing) {
            return;
        }
        const rows = PVE.SMBGateway.summaryLines(v, backing, me.nodename)
            .map(([k, val]) => `<tr><td style="${me.keyStyle}">${k}</td><td style="padding: 2px 0">${val}</td></tr>`)
            .join('');
        const params = PVE.SMBGateway.buildRequest(v, backing);
        me.down('#summary').update(
            `<p>${Ext.String.htmlEncode(Ext.String.format(gettext("Finish creates storage '{0}' (SMB Gateway) and, in a background task on {1}:"), v.storage, me.nodename))}</p>` +
            `<table class="smbgw-summary">${rows}</table>` +
            `<p>${gettext('Equivalent command:')}</p>` +
            `<pre class="smbgw-command" style="white-space: pre-wrap; word-break: break-all; padding: 6px; border: 1px solid #ccc">${Ext.String.htmlEncode(PVE.SMBGateway.commandLine(params))}</pre>`);
    },

    showError: function (html) {
        let me = this;
        const box = me.down('#error');
        box.update(html ? `<i class="fa fa-times-circle critical"></i> ${html}` : '');
        box.setVisible(!!html);
    },

    submit: function () {
        let me = this;
        // Pages can be revisited through their tabs: check them all again.
        const tabs = me.down('#pages');
        const bad = tabs.items.findBy((p) => !me.validatePage(p) ||
            (p.itemId === 'quotaPage' && !me.validateQuotaPage()));
        if (bad) {
            tabs.setActiveTab(bad);
            return;
        }
        const v = me.collect();
        const params = PVE.SMBGateway.buildRequest(v, me.backing());
        me.showError(null);
        Proxmox.Utils.API2Request({
            url: '/storage',
            method: 'POST',
            params: params,
            waitMsgTarget: me,
            failure: function (response) {
                // Shown in the wizard; the user can go back and fix it.
                me.showError(response.htmlStatus);
            },
            success: function () {
                me.submitted = true;
                me.storeid = v.storage;
                me.down('#pages').items.each((p) => p.setDisabled(p.itemId !== 'confirmPage'));
                me.updateButtons();
                me.pollStatus();
            },
        });
    },

    pollStatus: function () {
        let me = this;
        const box = me.down('#status');
        box.setVisible(true);
        PVE.SMBGateway.fetchStatus(me.nodename, me.storeid, function (s) {
            // The flag's name differs between Ext JS versions.
            if (me.isDestroyed || me.destroyed) {
                return;
            }
            me.lastStatus = s;
            box.update(Ext.String.format(gettext("Storage '{0}' on {1}:"), Ext.String.htmlEncode(me.storeid), me.nodename) +
                ' <span class="smbgw-state">' + PVE.SMBGateway.renderStatus(s) + '</span>');
            if (s.state === 'provisioning') {
                me.pollTimer = setTimeout(() => me.pollStatus(), me.pollInterval);
            }
        });
    },

    onDestroy: function () {
        let me = this;
        clearTimeout(me.pollTimer);
        me.callParent();
    },

    initComponent: function () {
        let me = this;
        me.nodename = me.nodename || Proxmox.NodeName;
        me.backingStore = Ext.create('Ext.data.Store', {
            fields: ['key', 'label', 'backend', 'storage', 'parent', 'fs', 'mount', 'pool', 'root'],
            data: [],
        });
        me.ctStorageStore = Ext.create('Ext.data.Store', { fields: ['storage'], data: [] });
        const changed = { change: () => me.updateDependents() };
        // InputPanel wraps `items` in a container of its own, so `defaults`
        // would not reach the fields: each field gets them through `f`.
        const f = (cfg) => Ext.apply({ msgTarget: 'under', labelWidth: 150, anchor: '100%' }, cfg);

        const storagePage = {
            xtype: 'inputpanel',
            itemId: 'storagePage',
            title: me.pageTitles[0],
            items: [
                {
                    xtype: 'textfield',
                    name: 'storage',
                    fieldLabel: gettext('Share name (ID)'),
                    emptyText: gettext('e.g. team-data'),
                    validator: PVE.SMBGateway.validator(PVE.SMBGateway.Rules.shareId),
                },
                {
                    xtype: 'combobox',
                    name: 'backing',
                    fieldLabel: gettext('Backing storage'),
                    store: me.backingStore,
                    queryMode: 'local',
                    displayField: 'label',
                    valueField: 'key',
                    editable: false,
                    forceSelection: true,
                    allowBlank: false,
                    listeners: changed,
                },
                {
                    xtype: 'textfield',
                    name: 'dirRoot',
                    fieldLabel: gettext('Directory'),
                    value: '/srv/smbgateway',
                    hidden: true,
                    disabled: true,
                    validator: (value) => (/^\/\S*$/.test(value) ? true : gettext('an absolute path without spaces, e.g. /srv/smbgateway')),
                },
                {
                    xtype: 'radiogroup',
                    fieldLabel: gettext('Volume'),
                    columns: 1,
                    items: [
                        { boxLabel: gettext('Create a new volume named after the share'), name: 'volumeChoice', inputValue: 'new', checked: true },
                        { boxLabel: gettext('Serve an existing volume as it is'), name: 'volumeChoice', inputValue: 'existing' },
                    ],
                },
                {
                    xtype: 'textfield',
                    name: 'volume',
                    fieldLabel: gettext('Volume name'),
                    emptyText: gettext('same as the share name'),
                },
            ].map(f),
        };

        const modePage = {
            xtype: 'inputpanel',
            itemId: 'modePage',
            title: me.pageTitles[1],
            disabled: true,
            items: [{
                xtype: 'radiogroup',
                fieldLabel: gettext('Samba runs'),
                columns: 1,
                listeners: changed,
                items: [
                    { boxLabel: gettext('In an LXC container of its own (recommended)'), name: 'mode', inputValue: 'lxc', checked: true },
                    { boxLabel: gettext('Natively on the host'), name: 'mode', inputValue: 'native' },
                    {
                        boxLabel: gettext('In a VM (not available yet)'),
                        name: 'mode',
                        inputValue: 'vm',
                        disabled: true,
                        itemId: 'vmMode',
                        boxLabelAttrTpl: 'data-qtip="' + gettext('VM mode is not implemented yet; use LXC or Native.') + '"',
                    },
                ],
            }, {
                xtype: 'displayfield',
                userCls: 'pmx-hint',
                value: gettext('LXC keeps Samba out of the host (about 128 MiB per share). Native shares the host\'s smbd and is needed for a CTDB cluster.'),
            }].map(f),
        };

        const identityPage = {
            xtype: 'inputpanel',
            itemId: 'identityPage',
            title: me.pageTitles[2],
            disabled: true,
            items: [
                {
                    xtype: 'radiogroup',
                    fieldLabel: gettext('Users come from'),
                    columns: 1,
                    listeners: changed,
                    items: [
                        { boxLabel: gettext('Workgroup (local users)'), name: 'identity', inputValue: 'workgroup', checked: true },
                        { boxLabel: gettext('Active Directory'), name: 'identity', inputValue: 'ad' },
                    ],
                },
                {
                    xtype: 'textfield',
                    name: 'workgroup',
                    fieldLabel: gettext('Workgroup'),
                    value: 'WORKGROUP',
                    validator: PVE.SMBGateway.validator(PVE.SMBGateway.Rules.workgroup),
                },
                {
                    xtype: 'container',
                    itemId: 'adFields',
                    layout: 'anchor',
                    hidden: true,
                    disabled: true,
                    items: [
                        {
                            xtype: 'textfield',
                            name: 'adDomain',
                            fieldLabel: gettext('Domain'),
                            emptyText: 'corp.example.com',
                            validator: PVE.SMBGateway.validator(PVE.SMBGateway.Rules.adDomain),
                        },
                        {
                            xtype: 'textfield',
                            name: 'adUser',
                            fieldLabel: gettext('Join as user'),
                            value: 'Administrator',
                            validator: PVE.SMBGateway.validator(PVE.SMBGateway.Rules.adUser),
                        },
                        {
                            xtype: 'textfield',
                            inputType: 'password',
                            name: 'adPassword',
                            fieldLabel: gettext('Password'),
                            allowBlank: false,
                        },
                        {
                            // The plugin's smbgw-ad-ou; empty: CN=Computers.
                            xtype: 'textfield',
                            name: 'adOu',
                            fieldLabel: gettext('OU (optional)'),
                            emptyText: gettext('CN=Computers; e.g. OU=Servers,OU=IT'),
                            validator: (value) => (value === '' ? true : PVE.SMBGateway.validator(PVE.SMBGateway.Rules.adOu)(value)),
                        },
                    ].map(f),
                },
                {
                    xtype: 'textfield',
                    name: 'users',
                    fieldLabel: gettext('Users'),
                    emptyText: gettext('any authenticated user; or alice,bob'),
                    validator: (value) => me.accessValidator(PVE.SMBGateway.names(value), []),
                },
                {
                    xtype: 'textfield',
                    name: 'groups',
                    fieldLabel: gettext('Groups'),
                    emptyText: gettext('comma-separated'),
                    validator: (value) => me.accessValidator([], PVE.SMBGateway.names(value)),
                },
            ].map(f),
        };

        const quotaPage = {
            xtype: 'inputpanel',
            itemId: 'quotaPage',
            title: me.pageTitles[3],
            disabled: true,
            items: [
                {
                    xtype: 'fieldcontainer',
                    fieldLabel: gettext('Quota'),
                    layout: 'hbox',
                    items: [
                        {
                            xtype: 'textfield',
                            name: 'quotaSize',
                            value: '100',
                            flex: 1,
                            msgTarget: 'under',
                            emptyText: gettext('none'),
                            validator: function (value) {
                                if (value.trim() === '') {
                                    return true;
                                }
                                const unit = me.down('[name=quotaUnit]');
                                return PVE.SMBGateway.validator(PVE.SMBGateway.Rules.quota)(value + (unit ? unit.getValue() : 'G'));
                            },
                        },
                        {
                            xtype: 'combobox',
                            name: 'quotaUnit',
                            width: 80,
                            margin: '0 0 0 5',
                            editable: false,
                            value: 'G',
                            store: [['G', 'GiB'], ['T', 'TiB']],
                            listeners: { change: () => me.down('[name=quotaSize]').validate() },
                        },
                    ],
                },
                {
                    xtype: 'checkbox',
                    name: 'quotaUnenforced',
                    hidden: true,
                    disabled: true,
                    fieldLabel: ' ',
                    labelSeparator: '',
                    boxLabel: gettext('Accept an advisory quota (a plain directory cannot enforce it)'),
                },
                {
                    xtype: 'checkbox',
                    name: 'ha',
                    fieldLabel: gettext('Proxmox HA'),
                    boxLabel: gettext('Restart the share on another node'),
                    listeners: changed,
                },
                {
                    // HA moves the container: its root disk must be on
                    // storage every node reaches (the plugin's
                    // smbgw-ct-storage).
                    xtype: 'combobox',
                    name: 'ctStorage',
                    fieldLabel: gettext('Container disk on'),
                    store: me.ctStorageStore,
                    queryMode: 'local',
                    displayField: 'storage',
                    valueField: 'storage',
                    editable: false,
                    hidden: true,
                    disabled: true,
                    emptyText: gettext('no shared storage for container disks'),
                    validator: (value) => (value ? true : gettext('Proxmox HA needs the container\'s disk on shared storage (content rootdir); add such a storage first')),
                },
                { xtype: 'displayfield', itemId: 'haHint', userCls: 'pmx-hint', fieldLabel: ' ', labelSeparator: '' },
                {
                    xtype: 'checkbox',
                    name: 'ctdb',
                    fieldLabel: 'CTDB',
                    boxLabel: gettext('Serve from every node with a floating address'),
                    listeners: changed,
                },
                { xtype: 'displayfield', itemId: 'ctdbHint', userCls: 'pmx-hint', fieldLabel: ' ', labelSeparator: '' },
                {
                    xtype: 'container',
                    itemId: 'ctdbFields',
                    layout: 'anchor',
                    hidden: true,
                    disabled: true,
                    items: [
                        {
                            xtype: 'textfield',
                            name: 'vip',
                            fieldLabel: gettext('Floating address'),
                            emptyText: '192.168.1.50/24',
                            validator: function (value) {
                                const iface = me.down('[name=vipIface]');
                                const v = { vip: value, vipIface: iface ? iface.getValue() : '' };
                                return PVE.SMBGateway.validator(PVE.SMBGateway.Rules.vip)(PVE.SMBGateway.vipText(v));
                            },
                        },
                        {
                            xtype: 'textfield',
                            name: 'vipIface',
                            fieldLabel: gettext('Interface'),
                            value: 'vmbr0',
                            listeners: { change: () => me.down('[name=vip]').validate() },
                        },
                    ].map(f),
                },
            ].map(f),
        };

        const confirmPage = {
            xtype: 'inputpanel',
            itemId: 'confirmPage',
            title: me.pageTitles[4],
            disabled: true,
            scrollable: true,
            items: [
                { xtype: 'component', itemId: 'summary', cls: 'smbgw-summary-box' },
                { xtype: 'component', itemId: 'error', cls: 'smbgw-error', hidden: true, style: 'color: #c00; margin-top: 10px' },
                { xtype: 'component', itemId: 'status', cls: 'smbgw-status', hidden: true, style: 'margin-top: 10px; font-weight: bold' },
            ],
            listeners: { activate: () => me.updateSummary() },
        };

        Ext.apply(me, {
            items: [{
                xtype: 'tabpanel',
                itemId: 'pages',
                border: false,
                defaults: { bodyPadding: 10 },
                items: [storagePage, modePage, identityPage, quotaPage, confirmPage],
                // Pages not reached yet are disabled, so their fields do
                // not count in collect(): look again whenever one opens.
                listeners: { tabchange: () => { me.updateDependents(); me.updateButtons(); } },
            }],
            buttons: [
                { text: gettext('Back'), itemId: 'back', handler: () => me.back() },
                { text: gettext('Next'), itemId: 'next', handler: () => me.next() },
                { text: gettext('Finish'), itemId: 'finish', hidden: true, handler: () => me.submit() },
                { text: gettext('Close'), itemId: 'close', hidden: true, handler: () => me.close() },
            ],
        });
        me.callParent();
        me.updateButtons();
        me.updateDependents();
        me.loadStorages();
    },

    // The backing choices: the storages of this node that can hold shares.
    // GET /storage has each one's pool or path (which /cluster/resources
    // does not), GET /nodes/{node}/storage whether it is active here.
    loadStorages: function () {
        let me = this;
        let configs = null;
        let states = null;
        const done = function () {
            if (configs === null || states === null) {
                return;
            }
            const byId = {};
            states.forEach((s) => { byId[s.storage] = s; });
            const order = ['zfspool', 'cephfs', 'rbd', 'dir'];
            const data = configs
                .map((c) => PVE.SMBGateway.backingOf(c, byId[c.storage]))
                .filter((b) => b !== null)
                .sort((a, b) => order.indexOf(a.key.split(':')[0]) - order.indexOf(b.key.split(':')[0]) ||
                    a.storage.localeCompare(b.storage));
            data.push({ key: PVE.SMBGateway.OTHER_DIR, backend: 'dir', label: gettext('Another directory...') });
            me.backingStore.loadData(data);
            const field = me.down('[name=backing]');
            if (!field.getValue()) {
                field.setValue(data[0].key);
            }
            // Shared storages for container disks, active here (for HA).
            const shared = configs
                .filter((c) => !c.disable && byId[c.storage] && byId[c.storage].active && byId[c.storage].shared &&
                    (c.content || '').split(',').includes('rootdir'))
                .map((c) => ({ storage: c.storage }));
            me.ctStorageStore.loadData(shared);
            const ct = me.down('[name=ctStorage]');
            if (!ct.getValue() && shared.length) {
                ct.setValue(shared[0].storage);
            }
            me.updateDependents();
        };
        const failed = function (response) {
            me.showError(response.htmlStatus);
        };
        Proxmox.Utils.API2Request({
            url: '/storage',
            method: 'GET',
            failure: (r) => { failed(r); configs = []; done(); },
            success: (r) => { configs = r.result.data || []; done(); },
        });
        Proxmox.Utils.API2Request({
            url: `/nodes/${me.nodename}/storage`,
            method: 'GET',
            params: { enabled: 1 },
            failure: (r) => { failed(r); states = []; done(); },
            success: (r) => { states = r.result.data || []; done(); },
        });
    },
});

// Add -> SMB Gateway opens the wizard (see the head of this file).
Ext.define('PVE.SMBGateway.StorageViewOverride', {
    override: 'PVE.dc.StorageView',

    createStorageEditWindow: function (type, sid) {
        if (type === 'smbgateway' && !sid) {
            Ext.create('PVE.storage.SMBGatewayWizard', {
                autoShow: true,
                listeners: { destroy: this.reloadStore },
            });
            return undefined;
        }
        return this.callParent(arguments);
    },
});

if (PVE.Utils && PVE.Utils.storageSchema) {
    PVE.Utils.storageSchema.smbgateway = {
        name: 'SMB Gateway',
        ipanel: 'SMBGatewayInputPanel',
        faIcon: 'share-alt',
        backups: false,
    };
}
