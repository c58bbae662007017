//! Loading a large registry. The benchmark is ignored in normal runs; run
//! it with `cargo test --release -p smbgw-core --test it bench_registry_load
//! -- --ignored --nocapture`. It prints `key=value` lines.

use std::time::{Duration, Instant};

use smbgw_core::registry::{Registry, Shares};

/// Registry text with `n` shares using every field.
pub fn registry_text(n: usize) -> String {
    let mut shares = Shares::new();
    for i in 0..n {
        let mut r = crate::full_record(&format!("share{i:04}"));
        r.spec.comment = Some(format!("Share number {i} of the benchmark"));
        shares.insert(r).unwrap();
    }
    shares.to_text().unwrap()
}

#[test]
#[ignore = "benchmark; run with --ignored in release"]
fn bench_registry_load() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::new(dir.path().join("shares.cfg"));
    let text = registry_text(1000);
    std::fs::write(reg.path(), &text).unwrap();
    let mut times: Vec<Duration> = (0..21)
        .map(|_| {
            let t = Instant::now();
            let shares = reg.load().unwrap();
            let e = t.elapsed();
            assert_eq!(shares.len(), 1000);
            e
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!("registry_shares=1000");
    println!("registry_file_bytes={}", text.len());
    println!("registry_load_ms={:.2}", median.as_secs_f64() * 1e3);
    if !cfg!(debug_assertions) {
        assert!(median < Duration::from_millis(50), "load took {median:?}");
    }
}
