//! Property: any text round-trips byte for byte, and an edit keeps every
//! other line and reads back as set.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smbconf::{Config, Document};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (doc, _) = Document::parse(text);
    assert_eq!(doc.to_string(), text, "lossless round-trip");
    let mut edited = doc.clone();
    if edited.set("fuzzshare", "comment", "fuzz value").is_ok() {
        let printed = edited.to_string();
        let (again, _) = Document::parse(&printed);
        assert_eq!(again.to_string(), printed);
        let before: Vec<&str> = doc.lines().iter().map(|l| l.raw()).collect();
        let after: Vec<&str> = edited.lines().iter().map(|l| l.raw()).collect();
        let kept = before.iter().filter(|b| after.contains(b)).count();
        assert!(kept + 2 >= before.len(), "edit changed unrelated lines");
        let cfg = Config::from_document(&edited);
        if !cfg.has_errors() {
            assert_eq!(
                cfg.service("fuzzshare").and_then(|s| s.get("comment")).as_deref(),
                Some("fuzz value")
            );
        }
    }
});
