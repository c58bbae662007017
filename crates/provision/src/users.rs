//! SMB users of workgroup shares: a system account (no home, no shell)
//! plus a Samba password, set through stdin — never argv.

use runner::{Cmd, RunError, Runner, Secret};

use crate::error::{Error, Result};
use crate::samba::NativeSamba;

/// The GECOS comment of the system accounts the gateway creates; only
/// accounts carrying it are ever removed.
pub const ACCOUNT_COMMENT: &str = "pve-smbgateway SMB user";

/// Checks a user name: what Debian's `useradd` accepts by default, at most
/// 32 characters.
pub fn check_user_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidUser(name.to_owned()))
    }
}

/// Checks a password read from stdin or a file (its first line).
pub fn check_password(pw: &[u8]) -> Result<()> {
    if pw.is_empty() {
        return Err(Error::Password("the password is empty".into()));
    }
    if pw.len() > 256 {
        return Err(Error::Password(
            "the password is longer than 256 bytes".into(),
        ));
    }
    if pw.iter().any(|&b| b == b'\n' || b == b'\r' || b == 0) {
        return Err(Error::Password(
            "the password contains a line break or NUL byte".into(),
        ));
    }
    if std::str::from_utf8(pw).is_err() {
        return Err(Error::Password("the password is not valid UTF-8".into()));
    }
    Ok(())
}

/// Users in one Samba instance's password database.
pub struct SmbUsers<'a> {
    samba: &'a NativeSamba,
    runner: &'a dyn Runner,
}

impl<'a> SmbUsers<'a> {
    /// Users of `samba`, managed through `runner`.
    pub fn new(samba: &'a NativeSamba, runner: &'a dyn Runner) -> Self {
        SmbUsers { samba, runner }
    }

    fn conf(&self) -> String {
        self.samba.conf().display().to_string()
    }

    /// The system account's GECOS field, `None` when there is no account.
    fn account(&self, name: &str) -> Result<Option<String>> {
        match self.runner.run(&Cmd::new("getent").args(["passwd", name])) {
            Ok(out) => Ok(Some(
                out.stdout_str()
                    .split(':')
                    .nth(4)
                    .unwrap_or_default()
                    .to_owned(),
            )),
            // getent exits 2 for "not found".
            Err(RunError::Failed { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Adds (or updates the password of) `name`. Creates a system account
    /// without home or shell when none exists; returns whether it did.
    pub fn add(&self, name: &str, password: &[u8]) -> Result<bool> {
        check_user_name(name)?;
        check_password(password)?;
        let _accounts = self.samba.lock_accounts()?;
        let created = if self.account(name)?.is_none() {
            self.runner.run(
                &Cmd::new("useradd")
                    .args([
                        "--system",
                        "--no-create-home",
                        "--home-dir",
                        "/nonexistent",
                        "--shell",
                        "/usr/sbin/nologin",
                        "--comment",
                        ACCOUNT_COMMENT,
                    ])
                    .arg(name),
            )?;
            true
        } else {
            false
        };
        let result = self.set_password(name, password, true);
        if result.is_err() && created {
            let _ = self.runner.run(&Cmd::new("userdel").arg(name));
        }
        result.map(|()| created)
    }

    fn set_password(&self, name: &str, password: &[u8], add: bool) -> Result<()> {
        let mut input = password.to_vec();
        input.push(b'\n');
        input.extend_from_slice(password);
        input.push(b'\n');
        let mut cmd = Cmd::new("smbpasswd").arg("-c").arg(self.conf()).arg("-s");
        if add {
            cmd = cmd.arg("-a");
        }
        self.runner
            .run(&cmd.arg(name).stdin_secret(Secret::new(input)))?;
        Ok(())
    }

    /// Changes the password of an existing SMB user.
    pub fn passwd(&self, name: &str, password: &[u8]) -> Result<()> {
        check_user_name(name)?;
        check_password(password)?;
        if !self.exists(name)? {
            return Err(Error::NoSuchUser(name.to_owned()));
        }
        self.set_password(name, password, false)
    }

    /// Removes the SMB user, and its system account if the gateway created
    /// it. Returns whether the account was removed too.
    pub fn remove(&self, name: &str) -> Result<bool> {
        check_user_name(name)?;
        if !self.exists(name)? {
            return Err(Error::NoSuchUser(name.to_owned()));
        }
        self.runner.run(
            &Cmd::new("smbpasswd")
                .arg("-c")
                .arg(self.conf())
                .args(["-x", name]),
        )?;
        let _accounts = self.samba.lock_accounts()?;
        if self.account(name)?.as_deref() == Some(ACCOUNT_COMMENT) {
            self.runner.run(&Cmd::new("userdel").arg(name))?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The `smbpasswd`-format lines of `names` (with their NT hashes: a
    /// secret, for copying the users into a share container).
    pub fn export(&self, names: &[String]) -> Result<Secret> {
        let mut lines = Vec::new();
        for n in names {
            let out = self.runner.run(
                &Cmd::new("pdbedit")
                    .arg("-s")
                    .arg(self.conf())
                    .args(["-L", "-w", "-u", n]),
            )?;
            lines.extend_from_slice(&out.stdout);
        }
        Ok(Secret::new(lines))
    }

    /// Whether `name` is in the password database.
    pub fn exists(&self, name: &str) -> Result<bool> {
        Ok(self.list()?.iter().any(|u| u == name))
    }

    /// The users in the password database.
    pub fn list(&self) -> Result<Vec<String>> {
        let out = self
            .runner
            .run(&Cmd::new("pdbedit").arg("-s").arg(self.conf()).arg("-L"))?;
        Ok(parse_pdbedit_list(&out.stdout_str()))
    }
}

/// Parses `pdbedit -L` (`name:uid:full name` per line).
pub fn parse_pdbedit_list(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let name = l.split(':').next()?.trim();
            (!name.is_empty() && l.contains(':')).then(|| name.to_owned())
        })
        .collect()
}
