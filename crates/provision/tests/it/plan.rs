//! Plans are pure and snapshot-tested.

use provision::{plan_create, plan_delete, CreateRequest, ShareConf};

fn share() -> ShareConf {
    ShareConf {
        name: "team".into(),
        comment: Some("Team files".into()),
        read_only: false,
        valid_users: vec!["alice".into(), "@staff".into()],
        encryption: "desired".into(),
        force_group: Some("smbgw".into()),
        nt_acls: false,
        audit: false,
    }
}

fn req(existing: bool) -> CreateRequest {
    CreateRequest {
        share: share(),
        volume: "team".into(),
        existing,
        quota: Some("10GiB".into()),
        quota_unenforced: false,
        group: "smbgw".into(),
    }
}

#[test]
fn create_plans() {
    let new = plan_create(
        &req(false),
        "zfs dataset under tank/smb",
        "host smbd (/etc/samba/smb.conf)",
    );
    insta::assert_snapshot!("create_new", new.to_string());
    let adopt = plan_create(
        &req(true),
        "zfs dataset under tank/smb",
        "host smbd (/etc/samba/smb.conf)",
    );
    insta::assert_snapshot!("create_existing", adopt.to_string());
    insta::assert_snapshot!(
        "create_new_json",
        serde_json::to_string_pretty(&new).unwrap()
    );
}

#[test]
fn delete_plans() {
    let keep = plan_delete(
        &share(),
        "team",
        false,
        "directory under /srv/smb",
        "host smbd",
    );
    insta::assert_snapshot!("delete_keep", keep.to_string());
    let purge = plan_delete(
        &share(),
        "team",
        true,
        "directory under /srv/smb",
        "host smbd",
    );
    insta::assert_snapshot!("delete_purge", purge.to_string());
    // Destroying is the only irreversible step: nothing that can fail for
    // ordinary reasons comes after it except the registry update.
    let pos = purge
        .steps
        .iter()
        .position(|s| matches!(s, provision::Step::DestroyVolume { .. }))
        .unwrap();
    assert_eq!(pos, purge.steps.len() - 2);
}

#[test]
fn share_sections_carry_the_security_defaults() {
    let s = share().to_gateway_share("/srv/smb/team");
    let text = provision::NativeSamba::render_section(&s).unwrap();
    insta::assert_snapshot!("section", text);
}
