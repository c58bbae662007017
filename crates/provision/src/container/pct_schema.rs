//! The facts of Proxmox's container configuration schema that the
//! gateway's `pct` options must satisfy (pve-container
//! `src/PVE/LXC/Config.pm`, `confdesc` and the `mp`/`net`/`rootfs`
//! property strings; formats from pve-common `JSONSchema.pm`), written down
//! from the documented schema. Every option the pct driver generates is
//! checked here before anything runs, and the tests check every option of
//! every recorded plan against it.

use std::net::Ipv4Addr;

/// One top-level option: its name and what its value must be.
#[derive(Clone, Copy, Debug)]
pub struct OptionFact {
    /// Option name (`net0` stands for `net[n]`, `mp0` for `mp[n]`).
    pub name: &'static str,
    /// The value's format.
    pub format: Format,
}

/// Value formats.
#[derive(Clone, Copy, Debug)]
pub enum Format {
    /// An integer in `min..=max`.
    Integer {
        /// Minimum.
        min: u64,
        /// Maximum.
        max: u64,
    },
    /// `0` or `1`.
    Boolean,
    /// A DNS name (`dns-name`), at most 255 characters.
    DnsName,
    /// `pve-tag-list`: tags separated by `;`, `,` or space.
    TagList,
    /// `net[n]`: a property string.
    Net,
    /// `mp[n]`: a property string.
    MountPoint,
    /// `rootfs`: `STORAGE:SIZE_GiB[,...]`.
    RootFs,
}

/// The options the gateway generates, with their schema facts.
pub const OPTIONS: &[OptionFact] = &[
    OptionFact {
        name: "hostname",
        format: Format::DnsName,
    },
    // `memory`: MB, minimum 16 (default 512).
    OptionFact {
        name: "memory",
        format: Format::Integer {
            min: 16,
            max: u32::MAX as u64,
        },
    },
    // `swap`: MB, minimum 0 (default 512).
    OptionFact {
        name: "swap",
        format: Format::Integer {
            min: 0,
            max: u32::MAX as u64,
        },
    },
    // `cores`: 1..8192.
    OptionFact {
        name: "cores",
        format: Format::Integer { min: 1, max: 8192 },
    },
    OptionFact {
        name: "unprivileged",
        format: Format::Boolean,
    },
    OptionFact {
        name: "onboot",
        format: Format::Boolean,
    },
    OptionFact {
        name: "tags",
        format: Format::TagList,
    },
    OptionFact {
        name: "net0",
        format: Format::Net,
    },
    OptionFact {
        name: "mp0",
        format: Format::MountPoint,
    },
    OptionFact {
        name: "rootfs",
        format: Format::RootFs,
    },
];

/// Keys of `net[n]` (`pve-lxc-network`).
pub const NET_KEYS: &[&str] = &[
    "name",
    "bridge",
    "hwaddr",
    "ip",
    "gw",
    "ip6",
    "gw6",
    "firewall",
    "link_down",
    "mtu",
    "rate",
    "tag",
    "trunks",
    "type",
];

/// Keys of `mp[n]` besides the volume (`pve-ct-mountpoint`).
pub const MP_KEYS: &[&str] = &[
    "mp",
    "acl",
    "backup",
    "idmap",
    "mountoptions",
    "quota",
    "replicate",
    "ro",
    "shared",
    "size",
    "volume",
];

/// A VMID: 100 to 999999999 (lower ids are reserved), written in plain
/// digits (pve-common's `pve-vmid`, `^[1-9][0-9]{2,8}$`).
pub fn check_vmid(id: &str) -> Result<(), String> {
    let digits = id.bytes().all(|b| b.is_ascii_digit());
    match id.parse::<u64>() {
        Ok(n) if digits && (100..=999_999_999).contains(&n) && !id.starts_with('0') => Ok(()),
        _ => Err(format!(
            "VMID {id:?} must be a number from 100 to 999999999"
        )),
    }
}

fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn is_id(s: &str) -> bool {
    // `pve-bridge-id`, `pve-storage-id`-like: [-_.\w\d]+, starting with a
    // letter for storage ids.
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn bool01(v: &str) -> Result<(), String> {
    match v {
        "0" | "1" => Ok(()),
        _ => Err("expected 0 or 1".into()),
    }
}

fn cidr4(v: &str) -> Result<(), String> {
    let (addr, bits) = v
        .split_once('/')
        .ok_or_else(|| format!("{v:?} is not ADDR/BITS"))?;
    addr.parse::<Ipv4Addr>()
        .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
    match bits.parse::<u8>() {
        Ok(b) if b <= 32 => Ok(()),
        _ => Err(format!("prefix length {bits:?} is not 0..32")),
    }
}

fn props(v: &str) -> Vec<(&str, Option<&str>)> {
    v.split(',')
        .map(|p| match p.split_once('=') {
            Some((k, val)) => (k, Some(val)),
            None => (p, None),
        })
        .collect()
}

fn check_net(v: &str) -> Result<(), String> {
    let mut name = false;
    for (k, val) in props(v) {
        let val = val.ok_or_else(|| format!("`{k}` has no value"))?;
        if !NET_KEYS.contains(&k) {
            return Err(format!("unknown key `{k}`"));
        }
        match k {
            "name" => {
                name = true;
                if !is_id(val) {
                    return Err(format!("interface name {val:?}"));
                }
            }
            "bridge" if !is_id(val) => return Err(format!("bridge {val:?}")),
            "ip" if val != "dhcp" && val != "manual" => cidr4(val)?,
            "gw" => {
                val.parse::<Ipv4Addr>()
                    .map_err(|_| format!("gateway {val:?} is not an IPv4 address"))?;
            }
            "tag" => match val.parse::<u16>() {
                Ok(t) if (1..=4094).contains(&t) => {}
                _ => return Err(format!("VLAN tag {val:?} is not 1..4094")),
            },
            "firewall" | "link_down" => bool01(val)?,
            _ => {}
        }
    }
    if !name {
        return Err("`name` is required".into());
    }
    Ok(())
}

fn check_idmap(v: &str) -> Result<(), String> {
    if v == "passthrough" {
        return Ok(());
    }
    for m in v.split(';') {
        let f: Vec<&str> = m.split(':').collect();
        match f.as_slice() {
            [kind, ct, host, len]
                if (*kind == "u" || *kind == "g")
                    && [ct, host, len].iter().all(|n| n.parse::<u32>().is_ok()) => {}
            _ => return Err(format!("idmap entry {m:?} is not u|g:CT:HOST:LEN")),
        }
    }
    Ok(())
}

fn check_mp(v: &str) -> Result<(), String> {
    let mut it = props(v).into_iter();
    let Some((volume, None)) = it.next() else {
        return Err("the first item must be the volume or host path".into());
    };
    if !(volume.starts_with('/') || volume.contains(':')) {
        return Err(format!(
            "{volume:?} is neither an absolute host path nor STORAGE:VOLUME"
        ));
    }
    let mut mp = false;
    for (k, val) in it {
        let val = val.ok_or_else(|| format!("`{k}` has no value"))?;
        if !MP_KEYS.contains(&k) {
            return Err(format!("unknown key `{k}`"));
        }
        match k {
            "mp" => {
                mp = true;
                if !val.starts_with('/') || val == "/" || val.split('/').any(|c| c == "..") {
                    return Err(format!(
                        "mount point {val:?} must be an absolute path other than / without `..`"
                    ));
                }
            }
            "backup" | "shared" | "ro" | "acl" | "quota" | "replicate" => bool01(val)?,
            "idmap" => check_idmap(val)?,
            _ => {}
        }
    }
    if !mp {
        return Err("`mp` is required".into());
    }
    Ok(())
}

fn check_rootfs(v: &str) -> Result<(), String> {
    let first = v.split(',').next().unwrap_or_default();
    let (storage, size) = first
        .split_once(':')
        .ok_or_else(|| format!("{first:?} is not STORAGE:SIZE"))?;
    let storage_ok = storage.starts_with(|c: char| c.is_ascii_alphabetic()) && is_id(storage);
    if !storage_ok {
        return Err(format!("storage id {storage:?}"));
    }
    match size.parse::<f64>() {
        Ok(s) if s > 0.0 => Ok(()),
        _ => Err(format!("size {size:?} is not a positive number of GiB")),
    }
}

fn check_tags(v: &str) -> Result<(), String> {
    for t in v.split([';', ',', ' ']).filter(|t| !t.is_empty()) {
        let ok = t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.'));
        if !ok {
            return Err(format!("tag {t:?}"));
        }
    }
    Ok(())
}

/// Checks one option against the schema facts.
pub fn check(name: &str, value: &str) -> Result<(), String> {
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let key = match base {
        "net" => "net0",
        "mp" => "mp0",
        _ => name,
    };
    if (base == "net" || base == "mp")
        && name[base.len()..].parse::<u32>().map_or(true, |n| n > 255)
    {
        return Err(format!("option {name:?}: index out of range"));
    }
    let fact = OPTIONS
        .iter()
        .find(|f| f.name == key)
        .ok_or_else(|| format!("`{name}` is not a container option the gateway may set"))?;
    match fact.format {
        Format::Integer { min, max } => match value.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(()),
            _ => Err(format!("expected an integer from {min} to {max}")),
        },
        Format::Boolean => bool01(value),
        Format::DnsName => {
            if is_dns_name(value) {
                Ok(())
            } else {
                Err("not a DNS name (letters, digits, `-`; labels of at most 63 characters)".into())
            }
        }
        Format::TagList => check_tags(value),
        Format::Net => check_net(value),
        Format::MountPoint => check_mp(value),
        Format::RootFs => check_rootfs(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmids_are_plain_digits_in_proxmox_range() {
        for ok in ["100", "105", "999999999"] {
            assert_eq!(check_vmid(ok), Ok(()), "{ok}");
        }
        // `+562` parses as a u64 but Proxmox refuses it (found by the
        // `registry` fuzz target).
        for bad in ["+562", "99", "0100", "1000000000", "", "1e3", " 100"] {
            assert!(check_vmid(bad).is_err(), "{bad}");
        }
    }
}
