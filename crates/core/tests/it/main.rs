//! Integration tests of smbgw-core.
//!
//! * `bad_input`: every rejected input of the spec with its message (one
//!   insta snapshot of all messages).
//! * `format`: the registry text the gateway writes (insta).
//! * `malformed`: hand-edited registry files that must be refused, with file,
//!   line and key (insta).
//! * `registry`: the file on disk — missing file, preserving what we do not
//!   own, concurrent updates, failed updates, modes, temp files.
//! * `roundtrip`: proptest round trips of generated valid specs and of
//!   generated files.
//! * `bench`: loading a 1,000-share registry, ignored unless run with
//!   `--ignored` (in release, by the benchmark run).

// Test helpers outside #[test] functions panic on failure too.
#![allow(clippy::unwrap_used)]

mod bad_input;
mod bench;
mod format;
mod malformed;
mod pct;
mod registry;
mod roundtrip;

use smbgw_core::registry::{ShareRecord, ShareState};
use smbgw_core::spec::{
    parse_quota, Access, BackendSpec, Encryption, HaSpec, Identity, Mode, Security, ShareId,
    ShareSpec, Signing, VolumeRef,
};

/// A record using every field.
pub fn full_record(id: &str) -> ShareRecord {
    ShareRecord {
        spec: ShareSpec {
            id: ShareId::new(id).unwrap(),
            backend: BackendSpec::zfs("rpool/shares").unwrap(),
            volume: VolumeRef::new(id).unwrap(),
            quota: Some(parse_quota("10G").unwrap()),
            quota_unenforced_ok: false,
            mode: Mode::Native,
            identity: Identity::workgroup("corp").unwrap(),
            access: Access::new(
                vec!["alice".into(), "bob".into()],
                vec!["staff".into()],
                false,
            )
            .unwrap(),
            security: Security {
                audit: false,
                signing: Signing::Required,
                encryption: Encryption::Desired,
            },
            ha: Some(HaSpec::new(true, Some("192.0.2.10/24@vmbr0")).unwrap()),
            container: None,
            comment: Some("Team files".into()),
        },
        state: ShareState {
            volume_id: format!("rpool/shares/{id}"),
            path: format!("/rpool/shares/{id}").into(),
            created_volume: true,
            created_users: vec!["alice".into()],
            created_at: 1_700_000_000,
        },
    }
}

/// A minimal directory-backed record.
pub fn dir_record(id: &str) -> ShareRecord {
    let mut spec = ShareSpec::new(
        ShareId::new(id).unwrap(),
        BackendSpec::dir("/srv/shares").unwrap(),
        VolumeRef::new(id).unwrap(),
    );
    spec.mode = Mode::Native;
    ShareRecord {
        spec,
        state: ShareState {
            volume_id: format!("/srv/shares/{id}"),
            path: format!("/srv/shares/{id}").into(),
            created_volume: true,
            created_users: vec![],
            created_at: 1_700_000_000,
        },
    }
}
