//! The container options of an LXC-mode share, and how they are written in
//! the registry: one property string in Proxmox style,
//! `driver=lxc,id=smbgw-team,memory=128,swap=64,cores=1,unprivileged=1`.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use provision::{IpConfig, Network};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::spec::ShareId;

/// Which tool runs the share containers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CtDriver {
    /// `pct` when it is installed (a Proxmox node), else plain LXC.
    #[default]
    Auto,
    /// Proxmox VE (`pct`, `pveam`).
    Pct,
    /// Plain LXC (`lxc-*`), on Debian without Proxmox.
    Lxc,
}

impl CtDriver {
    /// `auto`, `pct` or `lxc`.
    pub fn as_str(self) -> &'static str {
        match self {
            CtDriver::Auto => "auto",
            CtDriver::Pct => "pct",
            CtDriver::Lxc => "lxc",
        }
    }
}

impl fmt::Display for CtDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CtDriver {
    type Err = Error;
    fn from_str(s: &str) -> Result<CtDriver> {
        match s {
            "auto" => Ok(CtDriver::Auto),
            "pct" => Ok(CtDriver::Pct),
            "lxc" => Ok(CtDriver::Lxc),
            _ => invalid("container driver", s, "use `auto`, `pct` or `lxc`"),
        }
    }
}

/// Default memory of a share container, MiB.
pub const DEFAULT_MEMORY_MB: u32 = 128;
/// Default swap, MiB.
pub const DEFAULT_SWAP_MB: u32 = 64;

/// The container of an LXC-mode share.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContainerSpec {
    /// Which tool runs it.
    #[serde(default)]
    pub driver: CtDriver,
    /// Its id: a VMID (pct) or a name (lxc). `None` until create picks
    /// one (the next free VMID; `smbgw-<share>` with plain LXC).
    #[serde(default)]
    pub id: Option<String>,
    /// Memory limit, MiB (at least 16, Proxmox's minimum).
    pub memory_mb: u32,
    /// Swap, MiB.
    pub swap_mb: u32,
    /// CPU cores.
    pub cores: u32,
    /// Unprivileged (the default).
    pub unprivileged: bool,
    /// Network.
    pub network: Network,
    /// Proxmox: storage of the container's root disk (`local` when unset,
    /// as Proxmox does).
    #[serde(default)]
    pub storage: Option<String>,
}

impl Default for ContainerSpec {
    fn default() -> Self {
        ContainerSpec {
            driver: CtDriver::Auto,
            id: None,
            memory_mb: DEFAULT_MEMORY_MB,
            swap_mb: DEFAULT_SWAP_MB,
            cores: 1,
            unprivileged: true,
            network: Network::None,
            storage: None,
        }
    }
}

fn invalid<T>(field: &'static str, value: &str, reason: impl Into<String>) -> Result<T> {
    Err(Error::Invalid {
        field,
        value: value.to_owned(),
        reason: reason.into(),
    })
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Checks `ADDR/BITS` (IPv4).
pub fn check_cidr(s: &str) -> Result<()> {
    const F: &str = "container address";
    let Some((a, b)) = s.split_once('/') else {
        return invalid(F, s, "write it as ADDR/BITS, e.g. 192.0.2.10/24");
    };
    if a.parse::<Ipv4Addr>().is_err() {
        return invalid(F, s, format!("{a:?} is not an IPv4 address"));
    }
    match b.parse::<u8>() {
        Ok(1..=32) => Ok(()),
        _ => invalid(F, s, format!("prefix length {b:?} must be 1..32")),
    }
}

impl ContainerSpec {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if let Some(id) = &self.id {
            match self.driver {
                CtDriver::Pct => {
                    provision::container::pct_schema::check_vmid(id).or_else(|reason| {
                        invalid("container id", id, reason)
                    })?;
                }
                _ if !is_name(id) => {
                    return invalid(
                        "container id",
                        id,
                        "use 1-64 letters, digits, `-`, `_` or `.`, starting with a letter or digit (a number from 100 for Proxmox)",
                    )
                }
                _ => {}
            }
        }
        if !(16..=1_048_576).contains(&self.memory_mb) {
            return invalid(
                "container memory",
                &self.memory_mb.to_string(),
                "give MiB from 16 (Proxmox's minimum) to 1048576",
            );
        }
        if self.swap_mb > 1_048_576 {
            return invalid(
                "container swap",
                &self.swap_mb.to_string(),
                "give MiB from 0 to 1048576",
            );
        }
        if !(1..=8192).contains(&self.cores) {
            return invalid("container cores", &self.cores.to_string(), "give 1 to 8192");
        }
        if let Network::Bridge { bridge, vlan, ip } = &self.network {
            if !is_name(bridge) || bridge.len() > 15 {
                return invalid(
                    "bridge",
                    bridge,
                    "a Linux interface name: up to 15 letters, digits, `-`, `_` or `.`",
                );
            }
            if let Some(v) = vlan {
                if !(1..=4094).contains(v) {
                    return invalid("VLAN tag", &v.to_string(), "give 1 to 4094");
                }
            }
            if let IpConfig::Static { cidr, gateway } = ip {
                check_cidr(cidr)?;
                if let Some(g) = gateway {
                    if g.parse::<Ipv4Addr>().is_err() {
                        return invalid("gateway", g, "not an IPv4 address");
                    }
                }
            }
        }
        if let Some(s) = &self.storage {
            let ok = s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                return invalid("container storage", s, "not a Proxmox storage id");
            }
        }
        Ok(())
    }

    /// The container's host name for share `id`: `smbgw-<id>` with `_`
    /// and `.` turned into `-`, at most 63 characters.
    pub fn hostname(id: &ShareId) -> String {
        let mut h: String = format!("smbgw-{}", id.as_str())
            .chars()
            .map(|c| if c == '_' || c == '.' { '-' } else { c })
            .take(63)
            .collect();
        while h.ends_with('-') {
            h.pop();
        }
        h
    }
}

impl fmt::Display for ContainerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "driver={}", self.driver)?;
        if let Some(id) = &self.id {
            write!(f, ",id={id}")?;
        }
        write!(
            f,
            ",memory={},swap={},cores={},unprivileged={}",
            self.memory_mb,
            self.swap_mb,
            self.cores,
            u8::from(self.unprivileged)
        )?;
        if let Network::Bridge { bridge, vlan, ip } = &self.network {
            write!(f, ",bridge={bridge}")?;
            if let Some(v) = vlan {
                write!(f, ",vlan={v}")?;
            }
            match ip {
                IpConfig::Dhcp => write!(f, ",ip=dhcp")?,
                IpConfig::Static { cidr, gateway } => {
                    write!(f, ",ip={cidr}")?;
                    if let Some(g) = gateway {
                        write!(f, ",gw={g}")?;
                    }
                }
            }
        }
        if let Some(s) = &self.storage {
            write!(f, ",storage={s}")?;
        }
        Ok(())
    }
}

impl FromStr for ContainerSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<ContainerSpec> {
        const F: &str = "container";
        let mut c = ContainerSpec::default();
        let (mut bridge, mut vlan, mut ip, mut gw) = (None, None, None, None);
        let mut seen: Vec<&str> = Vec::new();
        for part in s.split(',') {
            let Some((k, v)) = part.split_once('=') else {
                return invalid(F, s, format!("`{part}` is not key=value"));
            };
            if seen.contains(&k) {
                return invalid(F, s, format!("`{k}` is given twice"));
            }
            seen.push(k);
            let num = |v: &str| -> Result<u32> {
                v.parse()
                    .or_else(|_| invalid(F, s, format!("`{k}` must be a number, not {v:?}")))
            };
            match k {
                "driver" => c.driver = v.parse()?,
                "id" => c.id = Some(v.to_owned()),
                "memory" => c.memory_mb = num(v)?,
                "swap" => c.swap_mb = num(v)?,
                "cores" => c.cores = num(v)?,
                "unprivileged" => {
                    c.unprivileged = match v {
                        "1" => true,
                        "0" => false,
                        _ => return invalid(F, s, "`unprivileged` must be 0 or 1"),
                    }
                }
                "bridge" => bridge = Some(v.to_owned()),
                "vlan" => {
                    vlan = Some(v.parse::<u16>().or_else(|_| {
                        invalid(F, s, format!("`vlan` must be a number, not {v:?}"))
                    })?)
                }
                "ip" => ip = Some(v.to_owned()),
                "gw" => gw = Some(v.to_owned()),
                "storage" => c.storage = Some(v.to_owned()),
                _ => return invalid(F, s, format!("unknown key `{k}`")),
            }
        }
        c.network = match (bridge, ip) {
            (None, None) if vlan.is_none() && gw.is_none() => Network::None,
            (Some(bridge), ip) => Network::Bridge {
                bridge,
                vlan,
                ip: match ip.as_deref() {
                    None | Some("dhcp") if gw.is_none() => IpConfig::Dhcp,
                    None | Some("dhcp") => {
                        return invalid(F, s, "`gw` needs a static `ip`");
                    }
                    Some(cidr) => IpConfig::Static {
                        cidr: cidr.to_owned(),
                        gateway: gw,
                    },
                },
            },
            _ => return invalid(F, s, "`ip`, `gw` and `vlan` need a `bridge`"),
        };
        c.validate()?;
        Ok(c)
    }
}
