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
        let err = run_create(&w, &reg, &r, Some(fail_at(step, after))).unwrap_err();
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
    let fault = fail_at(6, true);
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
    let fault = fail_at(1, true);
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
    let fail_early = fail_at(2, false);
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
    not_joined_twice(&r);
    r.on(
        ["systemctl", "restart", "winbind"],
        Reply::fail(1, "Job for winbind.service failed"),
    );
    let pw = runner::Secret::new("Join-pw-1");
    let ctx = w.context(&r, &reg, Some(&pw));
    let err = Executor::new(w.root.join("state"))
        .run(&domain_create_plan(true), &ctx, &|_, _, _| {})
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

/// `net ads testjoin` says "not joined" twice: asked by the step, then by
/// the join itself.
fn not_joined_twice(r: &RecordingRunner) {
    for _ in 0..2 {
        r.on(
            ["net", "-s"],
            Reply::fail(255, "Join to domain is not valid"),
        );
    }
}

/// A domain that remembers whether this host is joined: `net ads join`
/// and `net ads leave` change it, `net ads testjoin` reports it; every
/// other tool succeeds (`getent group` names gid 0).
#[derive(Default)]
struct FakeDomain {
    joined: Mutex<bool>,
    log: Mutex<Vec<String>>,
}

impl FakeDomain {
    fn joined(&self) -> bool {
        *self.joined.lock().unwrap()
    }

    /// The `net ads` verbs run so far (`join`, `leave`), in order.
    fn changes(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| {
                ["ads join", "ads leave"]
                    .into_iter()
                    .find(|v| l.contains(v))
                    .map(|v| v.trim_start_matches("ads ").to_owned())
            })
            .collect()
    }
}

impl runner::Runner for FakeDomain {
    fn run(&self, cmd: &runner::Cmd) -> Result<runner::Output, runner::RunError> {
        let argv = cmd.argv();
        self.log.lock().unwrap().push(argv.join(" "));
        let net_ads = |verb: &str| {
            cmd.program() == "net" && argv.windows(2).any(|w| w[0] == "ads" && w[1] == verb)
        };
        let ok = |stdout: &str| {
            Ok(runner::Output {
                stdout: stdout.as_bytes().to_vec(),
                stderr: Vec::new(),
            })
        };
        let mut joined = self.joined.lock().unwrap();
        if net_ads("testjoin") && !*joined {
            return Err(runner::RunError::Failed {
                argv,
                status: runner::ExitStatus::Code(255),
                stdout: String::new(),
                stderr: "Join to domain is not valid".into(),
            });
        }
        if net_ads("join") {
            *joined = true;
        }
        if net_ads("leave") {
            *joined = false;
        }
        if cmd.program() == "getent" {
            return ok("smbgw:x:0:\n");
        }
        ok("")
    }
}

fn membership() -> provision::domain::Membership {
    provision::domain::Membership {
        realm: "CORP.EXAMPLE.COM".into(),
        workgroup: "CORP".into(),
        join_user: "Administrator".into(),
        ou: None,
        netbios_name: None,
    }
}

/// The plan of a native domain share's create, as core makes it: the join
/// after PrepareSamba, before the volume and the share.
fn domain_create_plan(first: bool) -> provision::Plan {
    domain_create_plan_of(&request(), first)
}

fn domain_create_plan_of(req: &CreateRequest, first: bool) -> provision::Plan {
    let mut plan = plan_create(req, "dir", "smbd");
    plan.steps.insert(
        1,
        provision::Step::JoinDomain {
            membership: membership(),
            first,
        },
    );
    plan
}

/// Runs `plan` on the fake domain with `fault`.
fn run_on_domain(
    w: &World,
    reg: &FakeRegistry,
    d: &FakeDomain,
    plan: &provision::Plan,
    fault: Option<Fault>,
    pw: Option<&runner::Secret>,
) -> Result<(), Error> {
    let ctx = Context {
        backend: &w.backend,
        samba: &w.samba,
        runner: d,
        registrar: reg,
        containers: None,
        ha: None,
        domain_password: pw,
    };
    Executor::new(w.root.join("state"))
        .with_fault(fault)
        .run(plan, &ctx, &|_, _, _| {})
}

fn fail_at(step: usize, after: bool) -> Fault {
    Fault {
        step,
        when: if after {
            FaultWhen::After
        } else {
            FaultWhen::Before
        },
        action: FaultAction::Fail,
    }
}

/// Every fault of a plan of `steps` steps: each step, before and after.
fn every_fault(steps: usize) -> impl Iterator<Item = (usize, bool)> {
    (1..=steps).flat_map(|step| [(step, false), (step, true)])
}

/// The first domain share: whatever step fails, the rollback leaves
/// the files, the registry and the membership as they were: a host
/// that joined leaves again (join, then leave), one that did not get
/// that far never touched the domain.
#[test]
fn a_failing_first_domain_create_leaves_no_membership_behind() {
    for (step, after) in every_fault(7) {
        let w = World::new();
        let reg = FakeRegistry::default();
        let d = FakeDomain::default();
        let pw = runner::Secret::new("Join-pw-1");
        let initial = w.state(&reg);
        let plan = domain_create_plan(true);
        assert_eq!(plan.steps.len(), 7);
        let err =
            run_on_domain(&w, &reg, &d, &plan, Some(fail_at(step, after)), Some(&pw)).unwrap_err();
        assert!(matches!(err, Error::Injected { .. }), "{}", err);
        assert_eq!(w.state(&reg), initial);
        assert!(!d.joined());
        let joined_before_the_fault = step > 2 || (step == 2 && after);
        let expected: Vec<String> = if joined_before_the_fault {
            vec!["join".into(), "leave".into()]
        } else {
            vec![]
        };
        assert_eq!(d.changes(), expected);
    }
}

/// A further share of a domain this host is already a member of:
/// its rollback never leaves (the other shares still need the
/// membership), and the domain settings stay.
#[test]
fn a_failing_further_domain_create_keeps_the_membership() {
    for (step, after) in every_fault(7) {
        let w = World::new();
        let reg = FakeRegistry::default();
        let d = FakeDomain::default();
        let pw = runner::Secret::new("Join-pw-1");
        // The first share's create made the host a member.
        run_on_domain(&w, &reg, &d, &domain_create_plan(true), None, Some(&pw)).unwrap();
        let include = std::fs::read_to_string(w.root.join("samba/pve-smbgateway.conf")).unwrap();
        assert!(include.contains("realm = CORP.EXAMPLE.COM"), "{}", include);
        let mut req = request();
        req.share.name = "sales".into();
        req.volume = "sales".into();
        let second = domain_create_plan_of(&req, false);
        let reg2 = FakeRegistry::default();
        let before = w.state(&reg2);
        let err =
            run_on_domain(&w, &reg2, &d, &second, Some(fail_at(step, after)), None).unwrap_err();
        assert!(matches!(err, Error::Injected { .. }), "{}", err);
        assert_eq!(w.state(&reg2), before);
        assert!(d.joined());
        assert_eq!(d.changes(), vec!["join".to_string()]);
    }
}

/// The last domain share's delete: a failure at any step, also after
/// the leave, restores the share and the membership (the undo of a
/// leave joins again, with the password given to the delete).
#[test]
fn a_failing_last_domain_delete_restores_share_and_membership() {
    for (step, after) in every_fault(4) {
        let w = World::new();
        let reg = FakeRegistry::default();
        let d = FakeDomain::default();
        let pw = runner::Secret::new("Join-pw-1");
        run_on_domain(&w, &reg, &d, &domain_create_plan(true), None, Some(&pw)).unwrap();
        std::fs::write(w.root.join("vols/team/data.txt"), "precious").unwrap();
        let served = w.state(&reg);
        let mut plan = plan_delete(&request().share, "team", false, "dir", "smbd");
        plan.steps.push(provision::Step::LeaveDomain {
            membership: membership(),
        });
        let err =
            run_on_domain(&w, &reg, &d, &plan, Some(fail_at(step, after)), Some(&pw)).unwrap_err();
        assert!(matches!(err, Error::Injected { .. }), "{}", err);
        assert_eq!(w.state(&reg), served);
        assert!(d.joined());
        let left = step == 4 && after;
        let expected: Vec<String> = if left {
            vec!["join".into(), "leave".into(), "join".into()]
        } else {
            vec!["join".into()]
        };
        assert_eq!(d.changes(), expected);
        assert_eq!(
            std::fs::read_to_string(w.root.join("vols/team/data.txt")).unwrap(),
            "precious"
        );
    }
}

/// Undoing a leave without the join password cannot join again: the
/// rollback says so (and how to finish), instead of claiming success.
#[test]
fn undoing_a_leave_without_the_password_reports_it() {
    let w = World::new();
    let reg = FakeRegistry::default();
    let d = FakeDomain::default();
    let pw = runner::Secret::new("Join-pw-1");
    run_on_domain(&w, &reg, &d, &domain_create_plan(true), None, Some(&pw)).unwrap();
    let mut plan = plan_delete(&request().share, "team", false, "dir", "smbd");
    plan.steps.push(provision::Step::LeaveDomain {
        membership: membership(),
    });
    let err = run_on_domain(&w, &reg, &d, &plan, Some(fail_at(4, true)), None).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::RollbackFailed { .. }), "{msg}");
    assert!(msg.contains("--ad-password-file"), "{msg}");
    assert!(msg.contains("pve-smbgateway apply"), "{msg}");
    assert!(!d.joined());
    assert!(w.root.join("state/journal/team.json").exists());
}

/// A join that the domain refuses leaves nothing: no include file, the
/// administrator's smb.conf as it was, no registry record, and the
/// error names the problem.
#[test]
fn a_refused_join_changes_nothing() {
    let w = World::new();
    let reg = FakeRegistry::default();
    let r = RecordingRunner::new();
    not_joined_twice(&r);
    r.on(
        ["net", "-s"],
        Reply::fail(255, "Failed to join domain: Logon failure"),
    );
    let initial = w.state(&reg);
    let pw = runner::Secret::new("Wrong-pw-1");
    let ctx = w.context(&r, &reg, Some(&pw));
    let err = Executor::new(w.root.join("state"))
        .run(&domain_create_plan(true), &ctx, &|_, _, _| {})
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("wrong user name or password"), "{msg}");
    assert_eq!(w.state(&reg), initial);
    assert!(!r.transcript().contains("ads leave"), "{}", r.transcript());
}
