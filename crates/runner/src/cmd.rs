//! The description of one command: program, arguments, stdin, environment.

use std::fmt;
use std::time::Duration;

/// A secret value (a password, a key). It has no `Display`, its `Debug` is
/// redacted, and the only way to put it into a [`Cmd`] is stdin or the
/// environment, so it can never end up in argv, where every user on the host
/// can read it in `/proc/<pid>/cmdline`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<Vec<u8>>) -> Self {
        Secret(value.into())
    }

    /// The secret bytes. Only hand them to the process that needs them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// What a command reads on stdin.
#[derive(Clone, PartialEq, Eq)]
pub enum Stdin {
    /// Plain bytes; shown by length only.
    Bytes(Vec<u8>),
    /// A secret; never shown.
    Secret(Secret),
}

impl Stdin {
    /// The bytes to write.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Stdin::Bytes(b) => b,
            Stdin::Secret(s) => s.expose(),
        }
    }
}

impl fmt::Debug for Stdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stdin::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Stdin::Secret(_) => f.write_str("Secret(<redacted>)"),
        }
    }
}

/// The value of one environment variable set for a command.
#[derive(Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// A value that may be shown.
    Plain(String),
    /// A value that is redacted wherever it is shown.
    Secret(Secret),
}

impl fmt::Debug for EnvValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvValue::Plain(v) => fmt::Debug::fmt(v, f),
            EnvValue::Secret(_) => f.write_str("<redacted>"),
        }
    }
}

/// One command to run: `program args…`, optional stdin, extra environment,
/// optional timeout (else the runner's default).
///
/// Arguments are `String`s: every tool we drive takes text arguments, and a
/// path that is not UTF-8 is rejected before it gets here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmd {
    program: String,
    args: Vec<String>,
    stdin: Option<Stdin>,
    env: Vec<(String, EnvValue)>,
    timeout: Option<Duration>,
}

impl Cmd {
    /// A command running `program` (looked up on `PATH` unless it contains
    /// a `/`) with no arguments.
    pub fn new(program: impl Into<String>) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            stdin: None,
            env: Vec::new(),
            timeout: None,
        }
    }

    /// Appends one argument.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Feeds `bytes` on stdin.
    #[must_use]
    pub fn stdin_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(Stdin::Bytes(bytes.into()));
        self
    }

    /// Feeds a secret on stdin.
    #[must_use]
    pub fn stdin_secret(mut self, secret: Secret) -> Self {
        self.stdin = Some(Stdin::Secret(secret));
        self
    }

    /// Sets an environment variable for the command.
    #[must_use]
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), EnvValue::Plain(value.into())));
        self
    }

    /// Sets an environment variable holding a secret.
    #[must_use]
    pub fn env_secret(mut self, key: impl Into<String>, secret: Secret) -> Self {
        self.env.push((key.into(), EnvValue::Secret(secret)));
        self
    }

    /// Overrides the runner's default timeout for this command.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The program.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The arguments (without the program).
    pub fn get_args(&self) -> &[String] {
        &self.args
    }

    /// Program followed by arguments. Safe to log: it never holds a secret.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.clone())
            .chain(self.args.iter().cloned())
            .collect()
    }

    /// Stdin, if any.
    pub fn get_stdin(&self) -> Option<&Stdin> {
        self.stdin.as_ref()
    }

    /// Extra environment, in the order it was set.
    pub fn get_env(&self) -> &[(String, EnvValue)] {
        &self.env
    }

    /// The per-command timeout, if one was set.
    pub fn get_timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

impl fmt::Display for Cmd {
    /// The command as a shell-like line with secrets redacted, e.g.
    /// `PASS=<redacted> net ads join -U admin <stdin: secret>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, v) in &self.env {
            match v {
                EnvValue::Plain(v) => write!(f, "{k}={} ", quote(v))?,
                EnvValue::Secret(_) => write!(f, "{k}=<redacted> ")?,
            }
        }
        f.write_str(&quote(&self.program))?;
        for a in &self.args {
            write!(f, " {}", quote(a))?;
        }
        match &self.stdin {
            None => Ok(()),
            Some(Stdin::Bytes(b)) => write!(f, " <stdin: {} bytes>", b.len()),
            Some(Stdin::Secret(_)) => f.write_str(" <stdin: secret>"),
        }
    }
}

/// Quotes an argument for display if it is not a plain word.
pub(crate) fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@+%".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Joins argv for messages.
pub(crate) fn display_argv(argv: &[String]) -> String {
    argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact_secrets() {
        let cmd = Cmd::new("net")
            .args(["ads", "join"])
            .env_secret("PASSWD", Secret::new("s3cr3t"))
            .env("LANG", "C")
            .stdin_secret(Secret::new("s3cr3t"));
        let dbg = format!("{cmd:?}");
        assert!(!dbg.contains("s3cr3t"), "{dbg}");
        assert!(dbg.contains("redacted"));
        assert_eq!(
            cmd.to_string(),
            "PASSWD=<redacted> LANG=C net ads join <stdin: secret>"
        );
        assert_eq!(cmd.argv(), ["net", "ads", "join"]);
    }

    #[test]
    fn display_quotes_unusual_arguments() {
        let cmd = Cmd::new("zfs").args(["create", "tank/a b", "it's", ""]);
        assert_eq!(cmd.to_string(), r"zfs create 'tank/a b' 'it'\''s' ''");
    }

    #[test]
    fn plain_stdin_is_shown_by_length() {
        let cmd = Cmd::new("cat").stdin_bytes("hello");
        assert_eq!(cmd.to_string(), "cat <stdin: 5 bytes>");
        assert_eq!(format!("{:?}", cmd.get_stdin()), "Some(Bytes(5 bytes))");
    }
}
