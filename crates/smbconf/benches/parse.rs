//! Parse throughput on a generated 10,000-share smb.conf.
//!
//! Prints `key=value` lines for `cargo xtask bench`. The baseline, measured
//! in the same run on the same bytes, is splitting the text into lines
//! (`str::lines().count()`), the least work any line-based parser must do.

use std::hint::black_box;
use std::time::{Duration, Instant};

use smbconf::{Config, Document};

/// A realistic large smb.conf: Debian-style globals, 10,000 shares of 6-8
/// parameters, comments, blank lines, some continuations.
pub fn generate(shares: usize) -> String {
    let mut s = String::from(
        "# Large generated smb.conf\n[global]\n   workgroup = CORP\n   server role = standalone server\n   server min protocol = SMB2_10\n   map to guest = never\n   load printers = no\n   printing = bsd\n   printcap name = /dev/null\n\n",
    );
    for i in 0..shares {
        s.push_str(&format!(
            "# share {i} of the projects department\n[share{i:05}]\n   comment = Project share {i}\n   path = /srv/shares/share{i:05}\n   read only = {}\n   valid users = @staff{} alice{i} \\\n      bob{i}\n   create mask = 0664\n   directory mask = 0775\n   vfs objects = acl_xattr shadow_copy2\n   shadow: snapdir = .zfs/snapshot\n\n",
            if i % 3 == 0 { "yes" } else { "no" },
            i % 17
        ));
    }
    s
}

fn median_time(mut f: impl FnMut(), min_total: Duration) -> Duration {
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || start.elapsed() < min_total {
        let t = Instant::now();
        f();
        times.push(t.elapsed());
        if times.len() >= 200 {
            break;
        }
    }
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let text = generate(10_000);
    let mb = text.len() as f64 / 1e6;
    if std::env::args().any(|a| a == "--write") {
        // Used by `cargo xtask bench` to get the same file for testparm.
        let path = std::env::var("SMBGW_BENCH_FILE").expect("SMBGW_BENCH_FILE");
        std::fs::write(path, &text).expect("write bench file");
        return;
    }
    let base = median_time(
        || {
            black_box(black_box(&text).lines().count());
        },
        Duration::from_secs(2),
    );
    let parse = median_time(
        || {
            black_box(Document::parse(black_box(&text)));
        },
        Duration::from_secs(3),
    );
    let load = median_time(
        || {
            black_box(Config::load(black_box(&text), None, &smbconf::NoIncludes));
        },
        Duration::from_secs(3),
    );
    let canon = median_time(
        || {
            let cfg = Config::load(black_box(&text), None, &smbconf::NoIncludes);
            black_box(cfg.canonical());
        },
        Duration::from_secs(3),
    );
    println!("file_bytes={}", text.len());
    println!("baseline_lines_mb_s={:.1}", mb / base.as_secs_f64());
    println!("document_parse_mb_s={:.1}", mb / parse.as_secs_f64());
    println!("config_load_mb_s={:.1}", mb / load.as_secs_f64());
    println!("load_and_canonical_ms={:.2}", canon.as_secs_f64() * 1e3);
}
