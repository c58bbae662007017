//! The executor against a real directory backend and real files, with the
//! tools (testparm, smbcontrol, getent) answered by a recording runner:
//! every step failing (before or after it ran) is rolled back to the
//! initial state, an interrupted run resumes, and a failed rollback keeps
//! the journal.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use backends::{DirBackend, Volume};
use proptest::prelude::*;
use provision::{
    plan_create, plan_delete, Context, CreateRequest, Error, Executor, Fault, FaultAction,
    FaultWhen, NativeSamba, Registrar, RegistrarError, ShareConf,
};
use runner::{RecordingRunner, Reply};

#[derive(Default)]
struct FakeRegistry {
    records: Mutex<Vec<String>>,
    fail_unregister: bool,
}

impl Registrar for FakeRegistry {
    fn register(&self, volume: &Volume) -> Result<(), RegistrarError> {
        let mut r = self.records.lock().unwrap();
        if !r.contains(&volume.id) {
            r.push(volume.id.clone());
        }
        Ok(())
    }
    fn unregister(&self) -> Result<(), RegistrarError> {
        if self.fail_unregister {
            return Err("registry is read-only".into());
        }
        self.records.lock().unwrap().clear();
        Ok(())
    }
}

struct World {
    _dir: tempfile::TempDir,
    root: PathBuf,
    samba: NativeSamba,
    backend: DirBackend,
}

const ADMIN_CONF: &str = "# admin\n[global]\n   workgroup = W\n\n[admin]\n   path = /srv\n";

impl World {
    /// The step context on this world's backend and Samba.
    fn context<'a>(
        &'a self,
        runner: &'a RecordingRunner,
        registrar: &'a FakeRegistry,
        domain_password: Option<&'a runner::Secret>,
    ) -> Context<'a> {
        Context {
            backend: &self.backend,
            samba: &self.samba,
            runner,
            registrar,
            containers: None,
            ha: None,
            domain_password,
        }
    }

    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        std::fs::create_dir_all(root.join("vols")).unwrap();
        std::fs::create_dir_all(root.join("samba")).unwrap();
        std::fs::write(root.join("samba/smb.conf"), ADMIN_CONF).unwrap();
        World {
            samba: NativeSamba::with_paths(
                root.join("samba/smb.conf"),
                root.join("samba/pve-smbgateway.conf"),
            ),
            backend: DirBackend::new(root.join("vols")),
            root,
            _dir: dir,
        }
    }

    /// Everything the executor may touch.
    fn state(&self, reg: &FakeRegistry) -> String {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|_| "<none>".into());
        let mut vols: Vec<_> = std::fs::read_dir(self.root.join("vols"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        vols.sort();
        format!(
            "conf:{}\ninclude:{}\nvols:{vols:?}\nregistry:{:?}\njournal:{:?}",
            read(&self.root.join("samba/smb.conf")),
            read(&self.root.join("samba/pve-smbgateway.conf")),
            reg.records.lock().unwrap(),
            std::fs::read_dir(self.root.join("state/journal"))
                .map(|d| d.count())
                .unwrap_or(0),
        )
    }
}

/// A runner on which every tool succeeds; `getent group` names gid 0.
fn runner() -> RecordingRunner {
    let r = RecordingRunner::new();
    for _ in 0..8 {
        r.on(["getent", "group"], Reply::ok("smbgw:x:0:\n"));
    }
    r
}

fn request() -> CreateRequest {
    CreateRequest {
        share: ShareConf {
            name: "team".into(),
            comment: None,
            read_only: false,
            valid_users: vec!["alice".into()],
            encryption: "desired".into(),
            force_group: Some("smbgw".into()),
            nt_acls: false,
            audit: false,
        },
        volume: "team".into(),
        existing: false,
        quota: None,
        quota_unenforced: false,
        group: "smbgw".into(),
    }
}

fn run_create(
    w: &World,
    reg: &FakeRegistry,
    r: &RecordingRunner,
    fault: Option<Fault>,
) -> Result<(), Error> {
    let plan = plan_create(&request(), "dir", "smbd");
    let ctx = w.context(r, reg, None);
    Executor::new(w.root.join("state"))
        .with_fault(fault)
        .run(&plan, &ctx, &|_, _, _| {})
}

#[test]
fn create_serves_and_registers() {
    let w = World::new();
    let reg = FakeRegistry::default();
    let r = runner();
    run_create(&w, &reg, &r, None).unwrap();
    let conf = std::fs::read_to_string(w.root.join("samba/smb.conf")).unwrap();
    assert!(conf.starts_with(ADMIN_CONF), "admin bytes kept");
    assert!(conf.ends_with(&format!(
        "include = {}\n",
        w.root.join("samba/pve-smbgateway.conf").display()
    )));
    let include = std::fs::read_to_string(w.root.join("samba/pve-smbgateway.conf")).unwrap();
    assert!(include.contains("[team]\n"));
    assert_eq!(reg.records.lock().unwrap().len(), 1);
    let transcript = r.transcript().replace(w.root.to_str().unwrap(), "$ROOT");
    insta::assert_snapshot!("create_transcript", transcript);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// For any failing step, rollback leaves the state equal to the
    /// initial state.
    #[test]
    fn any_failing_create_step_rolls_back_to_the_initial_state(step in 1usize..=6, after in any::<bool>()) {
        let w = World::new();
        let reg = FakeRegistry::default();
        let r = runner();
        let initial = w.state(&reg);
        let fault = Fault {
            step,
            when: if after { FaultWhen::After } else { FaultWhen::Before },
            action: FaultAction::Fail,
        };
        let err = run_create(&w, &reg, &r, Some(fault)).unwrap_err();
        prop_assert!(matches!(err, Error::Injected { .. }), "{}", err);
        prop_assert_eq!(w.state(&reg), initial);
    }
}

#[test]
fn testparm_rejection_restores_both_files() {
    let w = World::new();
    let reg = FakeRegistry::default();
    let r = runner();
    r.on(["testparm"], Reply::fail(1, "Error loading services."));
    let initial = w.state(&reg);
    let err = run_create(&w, &reg, &r, None).unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err}");
    assert!(err.to_string().contains("Error loading services."));
    assert_eq!(w.state(&reg), initial);
}

#[test]
fn reload_failure_restores_and_reloads_again() {
    let w = World::new();
    let reg = FakeRegistry::default();
    let r = runner();
    r.on(["smbcontrol", "-s"], Reply::ok("")); // ping
    r.on(
        ["smbcontrol", "-s"],
        Reply::fail(1, "Can't find pid for destination 'smbd'"),
    );
    let initial = w.state(&reg);
    let err = run_create(&w, &reg, &r, None).unwrap_err();
    assert!(matches!(err, Error::Reload { .. }), "{err}");
    assert_eq!(w.state(&reg), initial);
}

#[test]
fn an_interrupted_create_resumes_when_re_run() {
    let w = World::new();
    let reg = FakeRegistry::default();
    let r = runner();
    // Simulate a kill right after the volume was created: run the steps up
    // to there by hand through a fault, then put the journal back as a
    // killed process would have left it.
    let plan = plan_create(&request(), "dir", "smbd");
    let journal = provision::Journal {
        version: 1,
        plan: plan.clone(),
        done: 2,
        started: Some(2),
    };
    std::fs::create_dir_all(w.root.join("state/journal")).unwrap();
    std::fs::write(
        w.root.join("state/journal/team.json"),
        serde_json::to_vec(&journal).unwrap(),
    )
    .unwrap();
    std::fs::create_dir(w.root.join("vols/team")).unwrap();
    std::fs::write(w.root.join("vols/team/early.txt"), "x").unwrap();
    run_create(&w, &reg, &r, None).unwrap();
    assert!(
        w.root.join("vols/team/early.txt").exists(),
        "resume adopts, never recreates"
    );
    assert_eq!(reg.records.lock().unwrap().len(), 1);
    assert!(!w.root.join("state/journal/team.json").exists());
}

#[test]
fn a_fresh_create_refuses_an_existing_volume() {
    let w = World::new();
    let reg = FakeRegistry::default();
    let r = runner();
    std::fs::create_dir(w.root.join("vols/team")).unwrap();
    std::fs::write(w.root.join("vols/team/keep.txt"), "mine").unwrap();
    let err = run_create(&w, &reg, &r, None).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(w.root.join("vols/team/keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_failed_rollback_reports_both_errors_and_keeps_the_journal() {
    let w = World::new();
    let reg = FakeRegistry {
        fail_unregister: true,
        ..Default::default()
    };
    let r = runner();
    let fault = Fault {
        step: 6,
        when: FaultWhen::After,
        action: FaultAction::Fail,
    };
    let err = run_create(&w, &reg, &r, Some(fault)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::RollbackFailed { .. }), "{msg}");
    assert!(
        msg.contains("injected fault") && msg.contains("registry is read-only"),
        "{msg}"
    );
    assert!(msg.contains("pve-smbgateway apply"), "{msg}");
    assert!(w.root.join("state/journal/team.json").exists());
}

#[test]
fn delete_failure_re_serves_the_share() {
    let w = World::new();
    let reg = FakeRegistry::default();
    let r = runner();
    run_create(&w, &reg, &r, None).unwrap();
    std::fs::write(w.root.join("vols/team/data.txt"), "precious").unwrap();
    let served = w.state(&reg);
    let plan = plan_delete(&request().share, "team", true, "dir", "smbd");
    let ctx = w.context(&r, &reg, None);
    let fault = Fault {
        step: 1,
        when: FaultWhen::After,
        action: FaultAction::Fail,
    };
    let err = Executor::new(w.root.join("state"))
        .with_fault(Some(fault))
        .run(&plan, &ctx, &|_, _, _| {})
        .unwrap_err();
    assert!(matches!(err, Error::Injected { .. }));
    assert_eq!(w.state(&reg), served);
    assert_eq!(
        std::fs::read_to_string(w.root.join("vols/team/data.txt")).unwrap(),
        "precious"
    );
    // Without a fault, purge destroys it all.
    Executor::new(w.root.join("state"))
        .run(&plan, &ctx, &|_, _, _| {})
        .unwrap();
    assert!(!w.root.join("vols/team").exists());
    assert!(reg.records.lock().unwrap().is_empty());
}

#[test]
fn a_different_plan_does_not_resume_an_interrupted_one() {
    let w = World::new();
    let reg = FakeRegistry::default();
    let r = runner();
    let mut other = request();
    other.quota = Some("1G".into());
    let journal = provision::Journal {
        version: 1,
        plan: plan_create(&other, "dir", "smbd"),
        done: 3,
        started: Some(3),
    };
    std::fs::create_dir_all(w.root.join("state/journal")).unwrap();
    std::fs::write(
        w.root.join("state/journal/team.json"),
        serde_json::to_vec(&journal).unwrap(),
    )
    .unwrap();
    let before = w.state(&reg);
    let err = run_create(&w, &reg, &r, None).unwrap_err();
    assert!(matches!(err, Error::Pending { .. }), "{err}");
    assert!(err.to_string().contains("pve-smbgateway apply"));
    assert_eq!(w.state(&reg), before, "nothing changed");
}

#[test]
fn a_resumed_run_that_fails_also_undoes_the_interrupted_runs_later_steps() {
    let w = World::new();
    let reg = FakeRegistry::default();
    let r = runner();
    let initial = w.state(&reg);
    // The interrupted run got as far as serving the share (step 5) ...
    let plan = plan_create(&request(), "dir", "smbd");
    let ctx = w.context(&r, &reg, None);
    // Serve by hand what the killed run had done, and leave its journal.
    run_create(&w, &reg, &r, None).unwrap();
    reg.records.lock().unwrap().clear();
    let journal = provision::Journal {
        version: 1,
        plan: plan.clone(),
        done: 5,
        started: None,
    };
    std::fs::create_dir_all(w.root.join("state/journal")).unwrap();
    std::fs::write(
        w.root.join("state/journal/team.json"),
        serde_json::to_vec(&journal).unwrap(),
    )
    .unwrap();
    // ... and the re-run fails early (step 2, before): everything the
    // interrupted run did is undone too.
    let fail_early = Fault {
        step: 2,
        when: FaultWhen::Before,
        action: FaultAction::Fail,
    };
    let err = Executor::new(w.root.join("state"))
        .with_fault(Some(fail_early))
        .run(&plan, &ctx, &|_, _, _| {})
        .unwrap_err();
    assert!(matches!(err, Error::Injected { .. }), "{err}");
    assert_eq!(w.state(&reg), initial);
}

/// A join that succeeded is undone when the rest of its step fails (here
/// winbind does not restart): the gateway leaves again with the same
/// password, and the domain settings and the include line are gone.
#[test]
fn a_failure_after_the_join_leaves_the_domain_again() {
    let w = World::new();
    let reg = FakeRegistry::default();
    let r = RecordingRunner::new();
    // Not joined (asked by the step, then by the join itself).
    for _ in 0..2 {
        r.on(
            ["net", "-s"],
            Reply::fail(255, "Join to domain is not valid"),
        );
    }
    r.on(
        ["systemctl", "restart", "winbind"],
        Reply::fail(1, "Job for winbind.service failed"),
    );
    let membership = provision::domain::Membership {
        realm: "CORP.EXAMPLE.COM".into(),
        workgroup: "CORP".into(),
        join_user: "Administrator".into(),
        ou: None,
        netbios_name: None,
    };
    let mut plan = plan_create(&request(), "dir", "smbd");
    plan.steps.insert(
        1,
        provision::Step::JoinDomain {
            membership,
            first: true,
        },
    );
    let pw = runner::Secret::new("Join-pw-1");
    let ctx = w.context(&r, &reg, Some(&pw));
    let err = Executor::new(w.root.join("state"))
        .run(&plan, &ctx, &|_, _, _| {})
        .unwrap_err();
    let t = r.transcript();
    assert!(err.to_string().contains("winbind"), "{err}");
    let join = t.find("ads join -U Administrator").expect(&t);
    let leave = t.find("ads leave").expect(&t);
    assert!(join < leave, "{t}");
    assert!(!t.contains("Join-pw-1"), "{t}");
    assert!(!w.root.join("samba/pve-smbgateway.conf").exists());
    assert_eq!(
        std::fs::read_to_string(w.root.join("samba/smb.conf")).unwrap(),
        ADMIN_CONF
    );
    assert!(reg.records.lock().unwrap().is_empty());
}
