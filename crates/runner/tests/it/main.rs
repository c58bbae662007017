//! Integration tests of the runner crate: the real runner against real
//! processes (`sh`, `cat`), and the recording fake's transcript.

use std::time::{Duration, Instant};

use runner::{Cmd, ExitStatus, RealRunner, RecordingRunner, Reply, RunError, Runner, Secret};

fn sh(script: &str) -> Cmd {
    Cmd::new("sh").args(["-c", script])
}

#[test]
fn captures_stdout_and_stderr_of_a_successful_command() {
    let out = RealRunner::new()
        .run(&sh("echo out; echo warn >&2"))
        .unwrap();
    assert_eq!(out.stdout_str(), "out\n");
    assert_eq!(out.stderr_str(), "warn\n");
}

#[test]
fn non_zero_exit_keeps_argv_status_and_stderr() {
    let err = RealRunner::new()
        .run(&sh("echo partial; echo 'it broke' >&2; exit 3"))
        .unwrap_err();
    match &err {
        RunError::Failed {
            argv,
            status,
            stdout,
            stderr,
        } => {
            assert_eq!(
                argv,
                &["sh", "-c", "echo partial; echo 'it broke' >&2; exit 3"]
            );
            assert_eq!(*status, ExitStatus::Code(3));
            assert_eq!(stdout, "partial\n");
            assert_eq!(stderr, "it broke\n");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "`sh -c 'echo partial; echo '\\''it broke'\\'' >&2; exit 3'` failed with exit status 3: it broke"
    );
}

#[test]
fn killed_by_signal_is_reported_as_such() {
    let err = RealRunner::new().run(&sh("kill -TERM $$")).unwrap_err();
    assert_eq!(err.status(), Some(ExitStatus::Signal(15)));
}

#[test]
fn stdin_bytes_and_secrets_reach_the_process() {
    let r = RealRunner::new();
    let out = r.run(&Cmd::new("cat").stdin_bytes("plain input")).unwrap();
    assert_eq!(out.stdout_str(), "plain input");
    let cmd = sh("cat; printf ' %s' \"$TOKEN\"")
        .stdin_secret(Secret::new("pw-on-stdin"))
        .env_secret("TOKEN", Secret::new("pw-in-env"));
    let out = r.run(&cmd).unwrap();
    assert_eq!(out.stdout_str(), "pw-on-stdin pw-in-env");
    assert!(!format!("{cmd:?}").contains("pw-"));
    assert!(!cmd.to_string().contains("pw-"));
}

#[test]
fn a_tool_that_ignores_stdin_does_not_fail_the_run() {
    let big = vec![b'x'; 4 << 20];
    let out = RealRunner::new()
        .run(&sh("echo done").stdin_bytes(big))
        .unwrap();
    assert_eq!(out.stdout_str(), "done\n");
}

#[test]
fn large_output_on_both_pipes_does_not_deadlock() {
    let out = RealRunner::new()
        .run(&sh(
            "head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2",
        ))
        .unwrap();
    assert_eq!(out.stdout.len(), 3_000_000);
    assert_eq!(out.stderr.len(), 3_000_000);
}

#[test]
fn messages_are_untranslated() {
    let out = RealRunner::new().run(&sh("echo $LC_ALL")).unwrap();
    assert_eq!(out.stdout_str(), "C\n");
    let out = RealRunner::new()
        .run(&sh("echo $LC_ALL").env("LC_ALL", "C.UTF-8"))
        .unwrap();
    assert_eq!(out.stdout_str(), "C.UTF-8\n");
}

#[test]
fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("grandchild-survived");
    // The grandchild would create the marker after 2 s unless it is killed.
    let script = format!(
        "(sleep 2; touch '{}') & echo started; sleep 30",
        marker.display()
    );
    let start = Instant::now();
    let err = RealRunner::new()
        .run(&sh(&script).timeout(Duration::from_millis(300)))
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    match &err {
        RunError::TimedOut { timeout, .. } => assert_eq!(*timeout, Duration::from_millis(300)),
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string().contains("did not finish within 300ms"),
        "{err}"
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!marker.exists(), "the grandchild outlived the timeout");
}

#[test]
fn a_background_grandchild_holding_the_pipes_cannot_hang_the_runner() {
    let start = Instant::now();
    let err = RealRunner::with_timeout(Duration::from_millis(500))
        .run(&sh("sleep 30 & echo parent-done"))
        .unwrap_err();
    assert!(matches!(err, RunError::TimedOut { .. }), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn missing_program_names_the_package_to_install() {
    let err = RealRunner::new()
        .run(&Cmd::new("/nonexistent/bin/pct").arg("list"))
        .unwrap_err();
    assert!(err.is_tool_missing());
    assert_eq!(
        err.to_string(),
        "`/nonexistent/bin/pct` not found on PATH; install the package pve-container"
    );
    let err = RealRunner::new()
        .run(&Cmd::new("smbgw-no-such-tool"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`smbgw-no-such-tool` not found on PATH; install the package that provides it"
    );
}

#[test]
fn runners_work_behind_trait_objects() {
    let runners: Vec<Box<dyn Runner>> = vec![
        Box::new(RealRunner::new()),
        Box::new(RecordingRunner::new()),
    ];
    for r in &runners {
        r.run(&Cmd::new("true")).unwrap();
    }
}

#[test]
fn recording_transcript_snapshot() {
    let r = RecordingRunner::new();
    r.on(
        ["zfs", "get"],
        Reply::fail(1, "cannot open 'tank/x': dataset does not exist\n"),
    );
    r.on(["pct"], Reply::Missing);
    let _ = r.run(&Cmd::new("zfs").args(["get", "-Hp", "-o", "value", "type", "tank/x"]));
    let _ = r.run(&Cmd::new("zfs").args(["create", "-o", "refquota=1073741824", "tank/x"]));
    let _ = r.run(
        &Cmd::new("pct")
            .args(["exec", "100", "--", "smbpasswd", "-s", "-a", "bob"])
            .stdin_secret(Secret::new("pw\npw\n")),
    );
    let _ = r.run(
        &Cmd::new("net")
            .args(["ads", "join"])
            .env_secret("PASSWD", Secret::new("x"))
            .env("KRB5CCNAME", "/tmp/k"),
    );
    insta::assert_snapshot!(r.transcript(), @r"
    $ zfs get -Hp -o value type tank/x
      -> exit 1: cannot open 'tank/x': dataset does not exist
    $ zfs create -o refquota=1073741824 tank/x
    $ pct exec 100 -- smbpasswd -s -a bob <stdin: secret>
      -> not found on PATH
    $ PASSWD=<redacted> KRB5CCNAME=/tmp/k net ads join
    ");
}
