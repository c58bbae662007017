//! The plain-LXC driver's own decisions, without starting a container:
//! the files a create writes (DHCP containers boot systemd for
//! systemd-networkd; static ones run smbd as init), what a failed
//! `lxc-start` reports, when destroy refuses, and `lxc-attach`'s retry.
//! (Real containers run in crates/cli's `lxc` tests.)

use std::path::Path;
use std::sync::Mutex;

use provision::{ContainerConfig, ContainerDriver, IpConfig, LxcDriver, Network};
use runner::{Cmd, ExitStatus, Output, RunError, Runner};

/// A runner answering with `answer`; `cp` really copies (the template
/// rootfs into the container's directory). Logs every command.
struct Fake<F> {
    answer: F,
    log: Mutex<Vec<String>>,
}

impl<F: Fn(&Cmd) -> Result<Output, RunError> + Send + Sync> Fake<F> {
    fn new(answer: F) -> Self {
        Fake {
            answer,
            log: Mutex::new(Vec::new()),
        }
    }

    fn ran(&self, program: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.split(' ').next() == Some(program))
            .count()
    }
}

impl<F: Fn(&Cmd) -> Result<Output, RunError> + Send + Sync> Runner for Fake<F> {
    fn run(&self, cmd: &Cmd) -> Result<Output, RunError> {
        self.log.lock().unwrap().push(cmd.argv().join(" "));
        if cmd.program() == "cp" {
            return runner::RealRunner::new().run(cmd);
        }
        (self.answer)(cmd)
    }
}

fn stdout(s: &str) -> Result<Output, RunError> {
    Ok(Output {
        stdout: s.as_bytes().to_vec(),
        stderr: Vec::new(),
    })
}

fn failed(cmd: &Cmd, stderr: &str) -> Result<Output, RunError> {
    Err(RunError::Failed {
        argv: cmd.argv(),
        status: ExitStatus::Code(1),
        stdout: String::new(),
        stderr: stderr.into(),
    })
}

struct World {
    _dir: tempfile::TempDir,
    driver: LxcDriver,
    lxcpath: std::path::PathBuf,
    volume: std::path::PathBuf,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template");
    std::fs::create_dir_all(template.join("rootfs/etc/samba")).unwrap();
    std::fs::write(template.join("rootfs/etc/hostname"), "pve-smbgateway\n").unwrap();
    let lxcpath = dir.path().join("lxc");
    std::fs::create_dir_all(&lxcpath).unwrap();
    let volume = dir.path().join("vol");
    std::fs::create_dir_all(&volume).unwrap();
    World {
        driver: LxcDriver::new(&lxcpath, &template),
        lxcpath,
        volume,
        _dir: dir,
    }
}

/// A privileged container (no subordinate id ranges needed on the host).
fn ct(ip: IpConfig) -> ContainerConfig {
    let network = Network::Bridge {
        bridge: "br0".into(),
        vlan: Some(20),
        ip,
    };
    crate::team_container("smbgw-team", false, network)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn a_dhcp_container_boots_systemd_with_networkd_and_a_static_one_runs_smbd_as_init() {
    let w = world();
    let r = Fake::new(|_: &Cmd| stdout(""));
    w.driver.create(&r, &ct(IpConfig::Dhcp), &w.volume).unwrap();
    let dir = w.lxcpath.join("smbgw-team");
    let rootfs = dir.join("rootfs");
    assert_eq!(read(&rootfs.join("etc/hostname")), "smbgw-team\n");
    let network = read(&rootfs.join("etc/systemd/network/eth0.network"));
    assert!(
        network.contains("Name=eth0") && network.contains("DHCP=ipv4"),
        "{network}"
    );
    let wants = rootfs.join("etc/systemd/system/multi-user.target.wants/systemd-networkd.service");
    assert_eq!(
        std::fs::read_link(&wants).unwrap(),
        Path::new("/lib/systemd/system/systemd-networkd.service")
    );
    let config = read(&dir.join("config"));
    assert!(config.contains("lxc.init.cmd = /sbin/init\n"), "{config}");
    assert!(!config.contains("lxc.signal.halt"), "{config}");
    assert!(config.contains("lxc.net.0.veth.vlan.id = 20\n"), "{config}");
    assert!(!config.contains("ipv4.address"), "{config}");

    // The same container with a static address: no systemd, no networkd.
    let w = world();
    let ip = IpConfig::Static {
        cidr: "192.0.2.10/24".into(),
        gateway: Some("192.0.2.1".into()),
    };
    w.driver.create(&r, &ct(ip), &w.volume).unwrap();
    let dir = w.lxcpath.join("smbgw-team");
    assert!(!dir.join("rootfs/etc/systemd/network/eth0.network").exists());
    let config = read(&dir.join("config"));
    assert!(
        config.contains("lxc.init.cmd = /usr/local/sbin/smbgw-init\n"),
        "{config}"
    );
    assert!(config.contains("lxc.signal.halt = SIGTERM\n"), "{config}");
    assert!(
        config.contains("lxc.net.0.ipv4.address = 192.0.2.10/24\n"),
        "{config}"
    );
    assert!(
        config.contains("lxc.net.0.ipv4.gateway = 192.0.2.1\n"),
        "{config}"
    );
}

#[test]
fn an_interrupted_create_is_replaced_and_a_white_space_volume_refused_first() {
    let w = world();
    let r = Fake::new(|_: &Cmd| stdout(""));
    // What a killed create left: a directory without config.
    let dir = w.lxcpath.join("smbgw-team");
    std::fs::create_dir_all(dir.join("rootfs/half")).unwrap();
    w.driver.create(&r, &ct(IpConfig::Dhcp), &w.volume).unwrap();
    assert!(!dir.join("rootfs/half").exists());
    assert!(dir.join("config").exists());

    let w = world();
    let spaced = w.volume.join("my data");
    std::fs::create_dir_all(&spaced).unwrap();
    let err = w
        .driver
        .create(&r, &ct(IpConfig::Dhcp), &spaced)
        .unwrap_err();
    assert!(err.to_string().contains("white space"), "{err}");
    assert!(
        !w.lxcpath.join("smbgw-team").exists(),
        "refused before anything"
    );
}

#[test]
fn a_failed_start_quotes_the_first_errors_of_this_starts_log() {
    let w = world();
    let r = Fake::new(|_: &Cmd| stdout(""));
    w.driver.create(&r, &ct(IpConfig::Dhcp), &w.volume).unwrap();
    let log = w.lxcpath.join("smbgw-team/lxc.log");
    std::fs::write(
        &log,
        "lxc-start old 20260101 ERROR start - an old problem\n",
    )
    .unwrap();
    let r = Fake::new(|cmd: &Cmd| match cmd.program() {
        "lxc-info" => stdout("STOPPED\n"),
        "lxc-start" => {
            let log = cmd.argv().last().unwrap().clone();
            let mut text = std::fs::read_to_string(&log).unwrap();
            for (level, msg) in [
                ("INFO", "starting"),
                ("ERROR", "network - Failed to attach veth to bridge br0"),
                ("ERROR", "start - Failed to create network device"),
                ("ERROR", "start - Failed to spawn container"),
                ("ERROR", "lxc_start - Fourth error"),
            ] {
                text.push_str(&format!("lxc-start smbgw-team 20261126 {level} {msg}\n"));
            }
            std::fs::write(&log, text).unwrap();
            failed(cmd, "lxc-start: smbgw-team: The container failed to start")
        }
        _ => stdout(""),
    });
    let msg = w.driver.start(&r, "smbgw-team").unwrap_err().to_string();
    assert!(msg.contains("Failed to attach veth to bridge br0; Failed to create network device; Failed to spawn container"), "{msg}");
    assert!(
        !msg.contains("Fourth") && !msg.contains("old problem") && !msg.contains("starting"),
        "{msg}"
    );
    assert!(msg.contains(&log.display().to_string()), "{msg}");

    // Without ERROR lines the tool's own error is the message.
    let r = Fake::new(|cmd: &Cmd| match cmd.program() {
        "lxc-info" => stdout("STOPPED\n"),
        "lxc-start" => failed(cmd, "lxc-start: smbgw-team: no such container"),
        _ => stdout(""),
    });
    let msg = w.driver.start(&r, "smbgw-team").unwrap_err().to_string();
    assert!(msg.contains("no such container"), "{msg}");
}

#[test]
fn destroy_refuses_a_running_container_and_cleans_up_after_an_interrupted_create() {
    let w = world();
    let r = Fake::new(|_: &Cmd| stdout(""));
    w.driver.create(&r, &ct(IpConfig::Dhcp), &w.volume).unwrap();
    let running = Fake::new(|cmd: &Cmd| match cmd.program() {
        "lxc-info" => stdout("RUNNING\n"),
        _ => stdout(""),
    });
    let err = w.driver.destroy(&running, "smbgw-team").unwrap_err();
    assert!(err.to_string().contains("stop it first"), "{err}");
    assert_eq!(running.ran("lxc-destroy"), 0);
    let stopped = Fake::new(|cmd: &Cmd| match cmd.program() {
        "lxc-info" => stdout("STOPPED\n"),
        _ => stdout(""),
    });
    w.driver.destroy(&stopped, "smbgw-team").unwrap();
    assert_eq!(stopped.ran("lxc-destroy"), 1);

    // No config: an interrupted create's directory goes without lxc-*.
    let dir = w.lxcpath.join("smbgw-other");
    std::fs::create_dir_all(dir.join("rootfs/etc")).unwrap();
    let r = Fake::new(|_: &Cmd| stdout(""));
    w.driver.destroy(&r, "smbgw-other").unwrap();
    assert!(!dir.exists());
    assert_eq!(r.log.lock().unwrap().len(), 0);
}

#[test]
fn lxc_attach_is_retried_only_when_its_memfd_rexec_failed() {
    let w = world();
    let tries = Mutex::new(0);
    let r = Fake::new(|cmd: &Cmd| {
        let mut n = tries.lock().unwrap();
        *n += 1;
        if *n <= 2 {
            failed(cmd, "lxc-attach: Failed to rexec as memfd")
        } else {
            stdout("ok\n")
        }
    });
    let out = w.driver.exec(&r, "smbgw-team", &["true"], None).unwrap();
    assert_eq!(out.stdout, b"ok\n");
    assert_eq!(r.ran("lxc-attach"), 3);
    let r = Fake::new(|cmd: &Cmd| failed(cmd, "lxc-attach: smbgw-team: Failed to get init pid"));
    assert!(w.driver.exec(&r, "smbgw-team", &["true"], None).is_err());
    assert_eq!(r.ran("lxc-attach"), 1, "other failures are not retried");
    let cmd = r.log.lock().unwrap()[0].clone();
    assert!(
        cmd.contains("--clear-env") && cmd.ends_with("-- true"),
        "{cmd}"
    );
}
