//! The executor: applies a plan step by step, journals progress, and rolls
//! back completed steps in reverse when one fails.
//!
//! The journal (`<state>/journal/<share>.json`) is written before a step
//! starts and after it completes, so a process killed at any point leaves
//! a record of what may have happened. Re-running the same operation
//! resumes it (steps recorded as started are re-applied in their
//! idempotent "resume" form); [`Executor::roll_back_pending`] undoes an
//! interrupted operation instead.

use std::fs;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};

use backends::{Backend, CreateOptions, Purge, Quota, QuotaPolicy, Volume, VolumeName};
use runner::{Cmd, RunError, Runner};
use serde::{Deserialize, Serialize};

use crate::container::{self, ContainerDriver};
use crate::error::{io, Error, Result};
use crate::fsutil::{lock_holder, read_optional, write_atomic, FileLock};
use crate::plan::{Plan, Step};
use crate::samba::NativeSamba;

/// The error type registry callbacks return.
pub type RegistrarError = Box<dyn std::error::Error + Send + Sync>;

/// Records and removes the share in the caller's registry (the commit
/// points of create and delete). Both must be idempotent.
pub trait Registrar {
    /// Records the share, served from `volume`.
    fn register(&self, volume: &Volume) -> std::result::Result<(), RegistrarError>;
    /// Removes the record (no error when absent).
    fn unregister(&self) -> std::result::Result<(), RegistrarError>;
}

/// Everything a step needs.
pub struct Context<'a> {
    /// The share's backend.
    pub backend: &'a dyn Backend,
    /// Samba.
    pub samba: &'a NativeSamba,
    /// Runs the tools.
    pub runner: &'a dyn Runner,
    /// The registry.
    pub registrar: &'a dyn Registrar,
    /// The share containers (LXC mode).
    pub containers: Option<&'a dyn ContainerDriver>,
    /// The cluster's HA manager (Proxmox).
    pub ha: Option<&'a dyn crate::HaManager>,
    /// The password of the account that joins or leaves an Active
    /// Directory domain, when the operation has one.
    pub domain_password: Option<&'a runner::Secret>,
}

impl Context<'_> {
    fn driver(&self) -> Result<&dyn ContainerDriver> {
        self.containers.ok_or(Error::NoContainerDriver)
    }

    fn ha(&self) -> Result<&dyn crate::HaManager> {
        self.ha.ok_or(Error::NoHaManager)
    }
}

/// When an injected fault strikes (testing hook).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultWhen {
    /// Before the step runs (after the journal says it started).
    Before,
    /// After the step ran (before the journal says it completed).
    After,
}

/// What an injected fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// The step fails with [`Error::Injected`]: a rollback follows.
    Fail,
    /// The process aborts at once, like `kill -9`.
    Abort,
}

/// A fault to inject at one step, for tests: `SMBGW_FAULT=<step>:<before|after>:<fail|abort>`
/// (steps numbered from 1, as `--dry-run` prints them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// 1-based step number.
    pub step: usize,
    /// When.
    pub when: FaultWhen,
    /// What.
    pub action: FaultAction,
}

impl std::str::FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Fault, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let [step, when, action] = parts.as_slice() else {
            return Err(format!(
                "fault `{s}`: expected <step>:<before|after>:<fail|abort>"
            ));
        };
        Ok(Fault {
            step: step
                .parse()
                .map_err(|_| format!("fault `{s}`: step must be a number"))?,
            when: match *when {
                "before" => FaultWhen::Before,
                "after" => FaultWhen::After,
                _ => return Err(format!("fault `{s}`: expected before or after")),
            },
            action: match *action {
                "fail" => FaultAction::Fail,
                "abort" => FaultAction::Abort,
                _ => return Err(format!("fault `{s}`: expected fail or abort")),
            },
        })
    }
}

/// The journal of one operation in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// Format version.
    pub version: u32,
    /// The plan being applied.
    pub plan: Plan,
    /// Number of steps completed.
    pub done: usize,
    /// The step (0-based) started but not recorded as completed.
    pub started: Option<usize>,
}

/// Applies plans. One executor per state directory.
#[derive(Clone, Debug)]
pub struct Executor {
    state_dir: PathBuf,
    fault: Option<Fault>,
}

/// Progress callback: (1-based step number, number of steps, description).
pub type Progress<'p> = &'p dyn Fn(usize, usize, &str);

impl Executor {
    /// Journals and locks live under `state_dir`.
    pub fn new(state_dir: impl Into<PathBuf>) -> Executor {
        Executor {
            state_dir: state_dir.into(),
            fault: None,
        }
    }

    /// Injects `fault` (testing hook).
    pub fn with_fault(mut self, fault: Option<Fault>) -> Executor {
        self.fault = fault;
        self
    }

    fn journal_path(&self, share: &str) -> PathBuf {
        self.state_dir.join("journal").join(format!("{share}.json"))
    }

    /// Holds the per-share lock: one operation per share at a time.
    pub fn lock_share(&self, share: &str) -> Result<FileLock> {
        let path = self.state_dir.join("locks").join(format!("{share}.lock"));
        match FileLock::try_acquire(&path)? {
            Some(mut l) => {
                l.note_holder();
                Ok(l)
            }
            None => Err(Error::Busy {
                share: share.to_owned(),
                pid: lock_holder(&path).unwrap_or(0),
            }),
        }
    }

    /// The journal of an interrupted operation on `share`, if any.
    pub fn pending(&self, share: &str) -> Result<Option<Journal>> {
        let path = self.journal_path(share);
        let Some(bytes) = read_optional(&path)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Journal {
                path,
                reason: e.to_string(),
            })
    }

    /// Shares with an interrupted operation.
    pub fn pending_shares(&self) -> Result<Vec<String>> {
        let dir = self.state_dir.join("journal");
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("list", &dir)(e)),
        };
        let mut out = Vec::new();
        for e in entries {
            let e = e.map_err(io("list", &dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(share) = name.strip_suffix(".json") {
                if !share.starts_with('.') {
                    out.push(share.to_owned());
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn save(&self, j: &Journal) -> Result<()> {
        let path = self.journal_path(&j.plan.share);
        if let Some(d) = path.parent() {
            fs::create_dir_all(d).map_err(io("create directory", d))?;
        }
        let bytes = serde_json::to_vec_pretty(j).map_err(|e| Error::Journal {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        write_atomic(&path, &bytes, 0o600)
    }

    fn clear(&self, share: &str) -> Result<()> {
        let path = self.journal_path(share);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("remove", &path)(e)),
        }
    }

    fn inject(&self, step: usize, when: FaultWhen) -> Result<()> {
        match self.fault {
            Some(f) if f.step == step && f.when == when => match f.action {
                FaultAction::Fail => Err(Error::Injected {
                    step,
                    when: match when {
                        FaultWhen::Before => "before",
                        FaultWhen::After => "after",
                    },
                }),
                FaultAction::Abort => std::process::abort(),
            },
            _ => Ok(()),
        }
    }

    /// Applies `plan`. The caller holds the share lock
    /// ([`Self::lock_share`]). If the journal shows an interrupted run of
    /// the same operation, the steps it had started are re-applied in
    /// resume mode. On failure the completed steps are undone in reverse
    /// and the journal removed; if an undo fails too, both errors are
    /// returned and the journal kept for `apply`.
    pub fn run(&self, plan: &Plan, ctx: &Context<'_>, progress: Progress<'_>) -> Result<()> {
        let previous = self.pending(&plan.share)?;
        let mut resumed: Vec<Step> = Vec::new();
        if let Some(prev) = previous {
            // Only the very same plan resumes: another one (a different
            // operation, or the same with other parameters) might need a
            // different backend to undo, so the caller settles it first.
            if prev.plan != *plan {
                return Err(Error::Pending {
                    share: plan.share.clone(),
                    op: prev.plan.op.to_string(),
                });
            }
            let upto = prev.started.map_or(prev.done, |s| s + 1);
            resumed = prev.plan.steps[..upto.min(prev.plan.steps.len())].to_vec();
        }
        let mut j = Journal {
            version: 1,
            plan: plan.clone(),
            done: 0,
            started: None,
        };
        let mut state = StepState::default();
        for (i, step) in plan.steps.iter().enumerate() {
            progress(i + 1, plan.steps.len(), &plan.describe(step));
            j.started = Some(i);
            if let Err(e) = self.save(&j) {
                return Err(self.roll_back(plan, i, ctx, &mut state, e));
            }
            let resume = resumed.contains(step);
            let result = self
                .inject(i + 1, FaultWhen::Before)
                .and_then(|()| apply(step, ctx, &mut state, resume))
                .and_then(|()| self.inject(i + 1, FaultWhen::After));
            if let Err(original) = result {
                // A step that failed has cleaned up after itself, except a
                // fault injected after it ran: then it completed.
                let completed = if matches!(original, Error::Injected { when: "after", .. }) {
                    i + 1
                } else {
                    i
                };
                // A resumed run also undoes what the interrupted run may
                // have done further on (undoing a step that never ran is
                // harmless).
                let completed = completed.max(resumed.len());
                if plan.steps[..completed].iter().any(Step::is_irreversible) {
                    // Past the point of no return: keep the journal so
                    // that a re-run or `apply` finishes the operation.
                    return Err(Error::Incomplete {
                        original: Box::new(original),
                        journal: self.journal_path(&plan.share),
                    });
                }
                return Err(self.roll_back(plan, completed, ctx, &mut state, original));
            }
            j.done = i + 1;
            j.started = None;
            if let Err(e) = self.save(&j) {
                return Err(self.roll_back(plan, i + 1, ctx, &mut state, e));
            }
        }
        self.clear(&plan.share)
    }

    fn roll_back(
        &self,
        plan: &Plan,
        completed: usize,
        ctx: &Context<'_>,
        state: &mut StepState,
        original: Error,
    ) -> Error {
        for k in (0..completed).rev() {
            if let Err(e) = undo(&plan.steps[k], ctx, state) {
                return Error::RollbackFailed {
                    original: Box::new(original),
                    step: k + 1,
                    rollback: Box::new(e),
                    journal: self.journal_path(&plan.share),
                };
            }
        }
        if let Err(e) = self.clear(&plan.share) {
            return Error::RollbackFailed {
                original: Box::new(original),
                step: 0,
                rollback: Box::new(e),
                journal: self.journal_path(&plan.share),
            };
        }
        original
    }

    fn undo_journal(&self, j: &Journal, ctx: &Context<'_>) -> Result<()> {
        let upto = j.started.map_or(j.done, |s| s + 1).min(j.plan.steps.len());
        let mut state = StepState::default();
        for k in (0..upto).rev() {
            undo(&j.plan.steps[k], ctx, &mut state)?;
        }
        self.clear(&j.plan.share)
    }

    /// Forgets the journal of `share` (its operation is known to have
    /// completed).
    pub fn discard_pending(&self, share: &str) -> Result<()> {
        self.clear(share)
    }

    /// Undoes the interrupted operation on `share` (every step it may have
    /// started, in reverse; each undo tolerates a step that never ran).
    /// Returns the plan that was undone.
    pub fn roll_back_pending(&self, share: &str, ctx: &Context<'_>) -> Result<Option<Plan>> {
        let Some(j) = self.pending(share)? else {
            return Ok(None);
        };
        self.undo_journal(&j, ctx)?;
        Ok(Some(j.plan))
    }
}

/// What earlier steps of the same run learnt.
#[derive(Default)]
struct StepState {
    volume: Option<Volume>,
}

fn volume_name(v: &str) -> Result<VolumeName> {
    Ok(VolumeName::new(v)?)
}

fn volume<'s>(ctx: &Context<'_>, state: &'s mut StepState, name: &str) -> Result<&'s Volume> {
    let stale = state
        .volume
        .as_ref()
        .map_or(true, |v| v.id.rsplit('/').next() != Some(name));
    if stale {
        state.volume = Some(ctx.backend.adopt(&volume_name(name)?)?);
    }
    Ok(state.volume.as_ref().expect("set above"))
}

fn path_str(p: &Path) -> Result<String> {
    p.to_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::MainConf {
            path: p.to_owned(),
            problem: "the volume path is not valid UTF-8".into(),
        })
}

fn apply(step: &Step, ctx: &Context<'_>, state: &mut StepState, resume: bool) -> Result<()> {
    match step {
        Step::PrepareSamba => ctx.samba.prepare(ctx.runner),
        Step::EnsureGroup { group } => {
            let _accounts = ctx.samba.lock_accounts()?;
            ensure_group(ctx.runner, group)
        }
        Step::CreateVolume {
            volume,
            quota,
            quota_unenforced,
        } => {
            let name = volume_name(volume)?;
            let opts = CreateOptions {
                quota: quota.as_deref().map(str::parse::<Quota>).transpose()?,
                quota_policy: if *quota_unenforced {
                    QuotaPolicy::AcceptUnenforced
                } else {
                    QuotaPolicy::Enforced
                },
                ..CreateOptions::default()
            };
            match ctx.backend.create(&name, &opts) {
                Ok(v) => state.volume = Some(v),
                // Our own interrupted run created it: take it.
                Err(backends::Error::AlreadyExists { .. }) if resume => {
                    let v = ctx.backend.adopt(&name)?;
                    if let Some(q) = opts.quota {
                        ctx.backend.resize(&v, q, opts.quota_policy)?;
                    }
                    state.volume = Some(v);
                }
                Err(e) => return Err(e.into()),
            }
            Ok(())
        }
        Step::AdoptVolume { volume: v } => {
            state.volume = Some(ctx.backend.adopt(&volume_name(v)?)?);
            Ok(())
        }
        Step::PrepareVolume { volume: v, group } => {
            let path = ctx.backend.host_path(volume(ctx, state, v)?)?;
            let gid = group_gid(ctx.runner, group)?.ok_or_else(|| {
                Error::Unsupported(format!("system group `{group}` does not exist"))
            })?;
            chown(&path, Some(0), Some(gid)).map_err(io("change the owner of", &path))?;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o2770))
                .map_err(io("set permissions of", &path))
        }
        Step::ServeShare { share, volume: v } => {
            let path = ctx.backend.host_path(volume(ctx, state, v)?)?;
            ctx.samba
                .serve(ctx.runner, &share.to_gateway_share(&path_str(&path)?))
        }
        Step::Register => {
            let Some(vol) = state.volume.as_ref() else {
                return Err(Error::Registry(
                    "no volume was created or adopted before registering".into(),
                ));
            };
            ctx.registrar
                .register(vol)
                .map_err(|e| Error::Registry(e.to_string()))
        }
        Step::UnserveShare { share, .. } => ctx.samba.unserve(ctx.runner, &share.name).map(drop),
        Step::ReleaseVolume { volume: v } => match ctx.backend.adopt(&volume_name(v)?) {
            Ok(vol) => Ok(ctx.backend.release(&vol)?),
            Err(backends::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        },
        Step::DestroyVolume { volume: v } => match ctx.backend.adopt(&volume_name(v)?) {
            Ok(vol) => Ok(ctx.backend.destroy(&vol, &Purge::confirm(v.as_str()))?),
            // Destroyed by an interrupted earlier run.
            Err(backends::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        },
        Step::Unregister { .. } => ctx
            .registrar
            .unregister()
            .map_err(|e| Error::Registry(e.to_string())),
        Step::PrepareTemplate => ctx.driver()?.prepare_template(ctx.runner),
        Step::CreateContainer { ct, volume: v } => {
            let d = ctx.driver()?;
            let path = ctx.backend.host_path(volume(ctx, state, v)?)?;
            match d.state(ctx.runner, &ct.id)? {
                container::CtState::Absent => d.create(ctx.runner, ct, &path),
                // Our own interrupted run created it.
                _ if resume => Ok(()),
                _ => Err(Error::Container {
                    id: ct.id.clone(),
                    problem: "a container with this id exists already; choose another id".into(),
                }),
            }
        }
        Step::StartContainer { id } => ctx.driver()?.start(ctx.runner, id),
        Step::SyncAccounts { id, users, groups } => {
            container::copy_accounts(ctx.driver()?, ctx.runner, ctx.samba, id, users, groups)
        }
        Step::ConfigureSmbd {
            id,
            share,
            workgroup,
            signing_required,
            unprivileged,
            membership,
        } => {
            let d = ctx.driver()?;
            let version = container::samba_version(d, ctx.runner, id)?;
            let conf = container_smb_conf(
                share,
                workgroup,
                *signing_required,
                *unprivileged,
                version,
                membership.as_ref(),
            )?;
            container::configure_smbd(d, ctx.runner, id, &conf)
        }
        Step::JoinContainer { id, membership } => join_container(ctx, id, membership),
        Step::LeaveContainer { id, membership } => {
            leave_container(ctx, id, membership);
            Ok(())
        }
        Step::StopContainer { id } => ctx.driver()?.stop(ctx.runner, id),
        Step::DestroyContainer { id } => {
            let d = ctx.driver()?;
            d.stop(ctx.runner, id)?;
            d.destroy(ctx.runner, id)
        }
        Step::EnsureHa { id, share, nodes } => ctx.ha()?.ensure(ctx.runner, id, share, nodes),
        Step::RemoveHa { id, share, .. } => ctx.ha()?.remove(ctx.runner, id, share),
        Step::JoinDomain { membership, first } => {
            let result = join_domain(ctx, membership);
            if result.is_err() && *first {
                // Clean up after ourselves: a failed step leaves nothing.
                ctx.samba.stop_winbindd(ctx.runner);
                let _ = ctx.samba.set_domain(ctx.runner, None);
            }
            result
        }
        Step::LeaveDomain { membership } => {
            leave_domain(ctx, membership);
            Ok(())
        }
    }
}

fn join_domain(ctx: &Context<'_>, m: &crate::domain::Membership) -> Result<()> {
    let globals = m.globals(ctx.samba.system_keytab());
    ctx.samba.set_domain(ctx.runner, Some(&globals))?;
    let mut joined_now = false;
    if !crate::domain::joined(ctx.runner, ctx.samba.conf())? {
        let pw = ctx.domain_password.ok_or_else(|| Error::Domain {
            realm: m.realm.clone(),
            problem: crate::domain::DomainProblem::Failed,
            detail: format!(
                "this gateway is not joined, and joining needs the password of {}: give it on stdin or with --ad-password-file",
                m.join_user
            ),
        })?;
        joined_now = crate::domain::join(ctx.runner, ctx.samba.conf(), m, pw)?;
    }
    // smbd changes its authentication with its configuration.
    let rest = ctx
        .samba
        .ensure_winbindd(ctx.runner, joined_now)
        .and_then(|()| ctx.samba.reload(ctx.runner));
    if rest.is_err() && joined_now {
        // Do not leave a computer account behind for a step that failed.
        let _ = crate::domain::leave(ctx.runner, ctx.samba.conf(), m, ctx.domain_password);
    }
    rest
}

/// The smb.conf inside a share container.
const CONTAINER_CONF: &str = "/etc/samba/smb.conf";

fn join_container(ctx: &Context<'_>, id: &str, m: &crate::domain::Membership) -> Result<()> {
    let d = ctx.driver()?;
    let inside = container::InContainer {
        driver: d,
        runner: ctx.runner,
        id,
    };
    let conf = Path::new(CONTAINER_CONF);
    let mut joined_now = false;
    if !crate::domain::joined(&inside, conf)? {
        let pw = ctx.domain_password.ok_or_else(|| Error::Domain {
            realm: m.realm.clone(),
            problem: crate::domain::DomainProblem::Failed,
            detail: format!(
                "container {id} is not joined, and joining needs the password of {}: give it on stdin or with --ad-password-file",
                m.join_user
            ),
        })?;
        joined_now = crate::domain::join(&inside, conf, m, pw)?;
    }
    let rest = container::start_winbindd(d, ctx.runner, id);
    if rest.is_err() && joined_now {
        // Do not leave a computer account behind for a step that failed.
        let _ = crate::domain::leave(&inside, conf, m, ctx.domain_password);
    }
    rest
}

/// The container leaves its domain (when it runs); every problem is
/// reported on stderr, none is fatal (the container goes anyway).
fn leave_container(ctx: &Context<'_>, id: &str, m: &crate::domain::Membership) {
    let Ok(d) = ctx.driver() else { return };
    if !matches!(d.state(ctx.runner, id), Ok(container::CtState::Running)) {
        eprintln!(
            "pve-smbgateway: warning: container {id} is not running, so it cannot leave {}: delete its computer account in the directory",
            m.realm
        );
        return;
    }
    let inside = container::InContainer {
        driver: d,
        runner: ctx.runner,
        id,
    };
    match crate::domain::leave(&inside, Path::new(CONTAINER_CONF), m, ctx.domain_password) {
        Ok(None) => {}
        Ok(Some(w)) => eprintln!("pve-smbgateway: warning: container {id}: {w}"),
        Err(e) => eprintln!(
            "pve-smbgateway: warning: container {id} could not leave {}: {e}",
            m.realm
        ),
    }
}

/// Leaves the domain; every problem is reported on stderr, none is fatal
/// (the share is already gone, its data kept).
fn leave_domain(ctx: &Context<'_>, m: &crate::domain::Membership) {
    match crate::domain::leave(ctx.runner, ctx.samba.conf(), m, ctx.domain_password) {
        Ok(None) => {}
        Ok(Some(w)) => eprintln!("pve-smbgateway: warning: {w}"),
        Err(e) => eprintln!("pve-smbgateway: warning: could not leave {}: {e}", m.realm),
    }
    ctx.samba.stop_winbindd(ctx.runner);
    if let Err(e) = ctx.samba.set_domain(ctx.runner, None) {
        eprintln!(
            "pve-smbgateway: warning: the domain settings of {} stay in {}: {e}",
            m.realm,
            ctx.samba.include().display()
        );
    }
}

/// The whole smb.conf of a share container: the gateway's secure globals
/// and the one share, at its mount point. NT ACLs: `acl_xattr` in
/// `security.NTACL` when privileged; unprivileged containers cannot write
/// `security.*` xattrs, so Samba ≥ 4.18 stores them in `user.NTACL`, and
/// older Samba maps Windows ACLs onto POSIX ACLs (no `acl_xattr`).
pub fn container_smb_conf(
    share: &crate::ShareConf,
    workgroup: &str,
    signing_required: bool,
    unprivileged: bool,
    samba_version: (u32, u32),
    membership: Option<&crate::domain::Membership>,
) -> Result<String> {
    let mut s = share.to_gateway_share(&container::share_mount_point(&share.name));
    if !unprivileged {
        s.vfs_objects.push("acl_xattr".into());
    } else if samba_version >= (4, 18) {
        s.vfs_objects.push("acl_xattr".into());
        s.extra
            .push(("acl_xattr:security_acl_name".into(), "user.NTACL".into()));
    }
    let conf = smbconf::GatewayConf {
        workgroup: workgroup.to_owned(),
        signing: if signing_required {
            smbconf::Signing::Required
        } else {
            smbconf::Signing::Auto
        },
        shares: vec![s],
        extra_globals: std::iter::once(container::container_profiling())
            .chain(membership.map(|m| m.globals(true)).unwrap_or_default())
            .collect(),
        ..smbconf::GatewayConf::default()
    };
    conf.render().map_err(|source| Error::Emit {
        share: share.name.clone(),
        source,
    })
}

fn undo(step: &Step, ctx: &Context<'_>, state: &mut StepState) -> Result<()> {
    match step {
        Step::PrepareSamba
        | Step::EnsureGroup { .. }
        | Step::PrepareVolume { .. }
        | Step::ReleaseVolume { .. }
        | Step::DestroyVolume { .. }
        | Step::PrepareTemplate
        | Step::SyncAccounts { .. }
        | Step::ConfigureSmbd { .. }
        | Step::DestroyContainer { .. } => Ok(()),
        Step::JoinDomain { membership, first } => {
            if *first {
                let joined = crate::domain::joined(ctx.runner, ctx.samba.conf()).unwrap_or(false);
                if joined {
                    leave_domain(ctx, membership);
                } else {
                    ctx.samba.stop_winbindd(ctx.runner);
                    ctx.samba.set_domain(ctx.runner, None)?;
                }
            }
            Ok(())
        }
        Step::LeaveDomain { membership } => join_domain(ctx, membership),
        Step::JoinContainer { id, membership } => {
            // The container itself goes with the undo of CreateContainer;
            // its computer account must not stay behind.
            leave_container(ctx, id, membership);
            Ok(())
        }
        Step::LeaveContainer { id, membership } => join_container(ctx, id, membership),
        Step::CreateContainer { ct, .. } => {
            // The container is new: it holds nothing but the template.
            let d = ctx.driver()?;
            d.stop(ctx.runner, &ct.id)?;
            d.destroy(ctx.runner, &ct.id)
        }
        Step::StartContainer { id } => ctx.driver()?.stop(ctx.runner, id),
        Step::EnsureHa { id, share, .. } => ctx.ha()?.remove(ctx.runner, id, share),
        Step::RemoveHa { id, share, nodes } => {
            if nodes.is_empty() {
                // HA's node preference could not be read when the delete
                // was planned: say that HA stays off.
                Err(Error::Ha {
                    id: id.clone(),
                    problem: format!(
                        "the container was taken out of HA and its node preference was unknown, so HA was not restored; put it back with `ha-manager add ct:{id}` and a node-affinity rule (or group) for share {share}"
                    ),
                })
            } else {
                ctx.ha()?.ensure(ctx.runner, id, share, nodes)
            }
        }
        Step::StopContainer { id } => {
            // Serving again: the container's smbd is enabled.
            let d = ctx.driver()?;
            d.start(ctx.runner, id)?;
            container::wait_smbd(d, ctx.runner, id)
        }
        Step::CreateVolume { volume: v, .. } => {
            // The volume is new (this operation created it and never
            // registered it): destroying it loses nothing of the user's.
            state.volume = None;
            match ctx.backend.adopt(&volume_name(v)?) {
                Ok(vol) => Ok(ctx.backend.destroy(&vol, &Purge::confirm(v.as_str()))?),
                Err(backends::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
        Step::AdoptVolume { volume: v } => match ctx.backend.adopt(&volume_name(v)?) {
            Ok(vol) => Ok(ctx.backend.release(&vol)?),
            Err(backends::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        },
        Step::ServeShare { share, .. } => ctx.samba.unserve(ctx.runner, &share.name).map(drop),
        Step::Register => ctx
            .registrar
            .unregister()
            .map_err(|e| Error::Registry(e.to_string())),
        Step::UnserveShare { share, volume: v } => {
            let path = ctx.backend.host_path(volume(ctx, state, v)?)?;
            ctx.samba
                .serve(ctx.runner, &share.to_gateway_share(&path_str(&path)?))
        }
        Step::Unregister { volume: v } => {
            let vol = volume(ctx, state, v)?.clone();
            ctx.registrar
                .register(&vol)
                .map_err(|e| Error::Registry(e.to_string()))
        }
    }
}

fn ensure_group(runner: &dyn Runner, group: &str) -> Result<()> {
    match runner.run(&Cmd::new("getent").args(["group", group])) {
        Ok(_) => Ok(()),
        Err(RunError::Failed { .. }) => {
            match runner.run(&Cmd::new("groupadd").args(["--system", group])) {
                Ok(_) => Ok(()),
                // Created meanwhile by a concurrent run (groupadd: exit 9).
                Err(e @ RunError::Failed { .. })
                    if e.status() == Some(runner::ExitStatus::Code(9)) =>
                {
                    Ok(())
                }
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The gid of system group `group` (`getent group`), `None` when there is
/// no such group.
pub fn group_gid(runner: &dyn Runner, group: &str) -> Result<Option<u32>> {
    let out = match runner.run(&Cmd::new("getent").args(["group", group])) {
        Ok(out) => out,
        // getent exits 2 for "not found".
        Err(RunError::Failed { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let text = out.stdout_str();
    text.split(':')
        .nth(2)
        .and_then(|g| g.trim().parse().ok())
        .map(Some)
        .ok_or_else(|| {
            Error::Unsupported(format!("`getent group {group}` printed no gid: {text:?}"))
        })
}
