//! A share's space: usage without spawning any process (for callers that
//! poll, such as Proxmox's status daemon through the storage plugin), and
//! changing a share's quota.
//!
//! [`Gateway::usage`] reads the registry and asks the backend for its
//! cheap usage (one `statvfs`, or extended attributes on a CephFS
//! subvolume that is not a mount point). Unlike
//! [`Gateway::status`](crate::Gateway::status) it does not ask Samba
//! anything, so it never runs `smbcontrol` or `smbstatus`.
//!
//! ```
//! use std::sync::Arc;
//! use smbgw_core::{Gateway, Paths};
//!
//! let dir = tempfile::tempdir()?;
//! let gw = Gateway::new(Paths::sandbox(dir.path(), 4450), Arc::new(runner::RealRunner::new()));
//! // A share nobody registered is an error of kind NotFound.
//! let err = gw.usage(&"office".parse()?).unwrap_err();
//! assert_eq!(err.kind(), smbgw_core::ErrorKind::NotFound);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Limitations: a directory share's cheap usage covers the whole
//! filesystem the directory lives on (`scope` says so).

use std::path::PathBuf;

use backends::{Quota, QuotaPolicy, Volume};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ops::{Gateway, UsageReport};
use crate::registry::ShareRecord;
use crate::spec::ShareId;

/// A share's space as a storage status reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShareUsage {
    /// The share.
    pub id: String,
    /// The volume is where the registry says and its usage could be read.
    pub active: bool,
    /// The limit in bytes (quota or filesystem size; 0 when unknown or
    /// inactive).
    pub total: u64,
    /// Bytes used (0 when inactive).
    pub used: u64,
    /// Bytes available to writers (0 when inactive).
    pub available: u64,
    /// `volume` or `filesystem` (what the figures cover); `None` when
    /// inactive.
    pub scope: Option<&'static str>,
    /// The host path served.
    pub path: PathBuf,
    /// Why the share is inactive, and what to do.
    pub problem: Option<String>,
}

pub(crate) fn volume_of(
    gw: &Gateway,
    rec: &ShareRecord,
) -> Result<(Box<dyn backends::Backend>, Volume)> {
    let backend = gw.backend(&rec.spec.backend)?;
    let vol = Volume {
        kind: backend.kind(),
        id: rec.state.volume_id.clone(),
        path: rec.state.path.clone(),
        quota: rec.spec.quota,
        quota_enforced: !rec.spec.quota_unenforced_ok,
    };
    Ok((backend, vol))
}

impl Gateway {
    /// The share's usage from the registry and the backend's cheap usage:
    /// no process is spawned and nothing changes. A volume that is
    /// missing or unreadable gives `active: false` with the reason, not an
    /// error; an unknown share or an unreadable registry is an error.
    pub fn usage(&self, id: &ShareId) -> Result<ShareUsage> {
        self.usage_of_record(&self.show(id)?)
    }

    /// [`usage`](Self::usage) of a record already read from the registry.
    pub(crate) fn usage_of_record(&self, rec: &ShareRecord) -> Result<ShareUsage> {
        let id = &rec.spec.id;
        let inactive = |problem: String| ShareUsage {
            id: id.as_str().to_owned(),
            active: false,
            total: 0,
            used: 0,
            available: 0,
            scope: None,
            path: rec.state.path.clone(),
            problem: Some(problem),
        };
        if !rec.state.path.is_dir() {
            return Ok(inactive(format!(
                "the volume is not at {}; check the storage (mounted?)",
                rec.state.path.display()
            )));
        }
        let (backend, vol) = volume_of(self, rec)?;
        match backend.usage(&vol).map(UsageReport::from) {
            Ok(u) => Ok(ShareUsage {
                id: id.as_str().to_owned(),
                active: true,
                total: u.total.unwrap_or(u.used.saturating_add(u.available)),
                used: u.used,
                available: u.available,
                scope: Some(u.scope),
                path: rec.state.path.clone(),
                problem: None,
            }),
            Err(e) => Ok(inactive(e.to_string())),
        }
    }

    /// Sets the share's quota: the backend resizes the volume (growing
    /// always works; shrinking below usage is refused), then the registry
    /// records it. The new spec is validated first (a directory share
    /// needs `quota_unenforced_ok`), so bad input changes nothing. Refused
    /// with [`ErrorKind::Busy`](crate::ErrorKind::Busy) while another
    /// operation holds the share.
    pub fn set_quota(&self, id: &ShareId, quota: Quota) -> Result<ShareRecord> {
        let exec = provision::Executor::new(&self.paths().state_dir);
        let _lock = exec.lock_share(id.as_str())?;
        let rec = self.show(id)?;
        let mut spec = rec.spec.clone();
        spec.quota = Some(quota);
        spec.validate()?;
        if rec.spec.quota != Some(quota) {
            let (backend, vol) = volume_of(self, &rec)?;
            let policy = if rec.spec.quota_unenforced_ok {
                QuotaPolicy::AcceptUnenforced
            } else {
                QuotaPolicy::Enforced
            };
            backend.resize(&vol, quota, policy)?;
            self.registry().update(|shares| match shares.get_mut(id) {
                Some(r) => {
                    r.spec.quota = Some(quota);
                    Ok(())
                }
                None => Err(Error::NoSuchShare {
                    id: id.as_str().to_owned(),
                }),
            })?;
        }
        self.show(id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::*;
    use crate::registry::ShareState;
    use crate::spec::{parse_quota, BackendSpec, Mode, ShareSpec, VolumeRef};
    use crate::{ErrorKind, Paths};

    /// A registered directory share under a temp dir (nothing served: usage
    /// and quota do not need Samba).
    fn gateway_with_share(dir: &std::path::Path, make_volume: bool) -> (Gateway, ShareId) {
        let gw = Gateway::new(
            Paths::sandbox(dir, 4450),
            Arc::new(runner::RealRunner::new()),
        );
        let root = dir.join("volumes");
        std::fs::create_dir_all(&root).unwrap();
        if make_volume {
            std::fs::create_dir(root.join("team")).unwrap();
        }
        let id: ShareId = "team".parse().unwrap();
        let mut spec = ShareSpec::new(
            id.clone(),
            BackendSpec::dir(&root).unwrap(),
            VolumeRef::new("team").unwrap(),
        );
        spec.mode = Mode::Native;
        spec.quota = Some(parse_quota("1G").unwrap());
        spec.quota_unenforced_ok = true;
        let state = ShareState {
            volume_id: root.join("team").display().to_string(),
            path: root.join("team"),
            created_volume: true,
            created_users: vec![],
            created_at: 1,
        };
        gw.registry()
            .update(|s| s.insert(ShareRecord { spec, state }))
            .unwrap();
        (gw, id)
    }

    #[test]
    fn usage_of_a_present_volume_is_its_filesystem_by_statvfs() {
        let dir = tempfile::tempdir().unwrap();
        let (gw, id) = gateway_with_share(dir.path(), true);
        let u = gw.usage(&id).unwrap();
        assert!(u.active, "{u:?}");
        assert_eq!(u.scope, Some("filesystem"));
        let st = rustix::fs::statvfs(&u.path).unwrap();
        let frsize = if st.f_frsize == 0 {
            st.f_bsize
        } else {
            st.f_frsize
        };
        assert_eq!(u.total, st.f_blocks * frsize);
        assert!(u.used <= u.total && u.available <= u.total);
        assert_eq!(u.problem, None);
    }

    #[test]
    fn a_missing_volume_is_inactive_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let (gw, id) = gateway_with_share(dir.path(), false);
        let u = gw.usage(&id).unwrap();
        assert!(!u.active);
        assert_eq!((u.total, u.used, u.available), (0, 0, 0));
        assert!(u.problem.unwrap().contains("is not at"));
    }

    #[test]
    fn an_unknown_share_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let (gw, _) = gateway_with_share(dir.path(), true);
        let err = gw.usage(&"other".parse().unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let err = gw
            .set_quota(&"other".parse().unwrap(), parse_quota("2G").unwrap())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn set_quota_records_the_new_quota() {
        let dir = tempfile::tempdir().unwrap();
        let (gw, id) = gateway_with_share(dir.path(), true);
        let rec = gw.set_quota(&id, parse_quota("5G").unwrap()).unwrap();
        assert_eq!(rec.spec.quota, Some(parse_quota("5G").unwrap()));
        let text = std::fs::read_to_string(gw.registry().path()).unwrap();
        assert!(text.contains("\tquota 5GiB\n"), "{text}");
    }

    #[test]
    fn set_quota_on_a_directory_without_the_opt_in_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (gw, id) = gateway_with_share(dir.path(), true);
        gw.registry()
            .update(|s| {
                s.get_mut(&id).unwrap().spec.quota_unenforced_ok = false;
                s.get_mut(&id).unwrap().spec.quota = None;
                Ok(())
            })
            .unwrap();
        let before = std::fs::read_to_string(gw.registry().path()).unwrap();
        let err = gw.set_quota(&id, parse_quota("5G").unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Input);
        assert!(err.to_string().contains("cannot be enforced"), "{err}");
        assert_eq!(
            std::fs::read_to_string(gw.registry().path()).unwrap(),
            before
        );
    }

    #[test]
    fn set_quota_while_the_share_is_locked_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let (gw, id) = gateway_with_share(dir.path(), true);
        let exec = provision::Executor::new(&gw.paths().state_dir);
        let _held = exec.lock_share("team").unwrap();
        let err = gw.set_quota(&id, parse_quota("5G").unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Busy);
    }
}
