//! The registry text the gateway writes.

use std::path::Path;

use smbgw_core::registry::Shares;

use crate::{dir_record, full_record};

#[test]
fn canonical_text() {
    let mut shares = Shares::new();
    shares.insert(full_record("team")).unwrap();
    shares.insert(dir_record("scratch")).unwrap();
    let text = shares.to_text().unwrap();
    insta::assert_snapshot!(text);
    // Proxmox's layout: header, tab-indented properties, an empty line
    // after every section.
    assert!(text.ends_with("\n\n"));
    assert!(text
        .lines()
        .all(|l| l.is_empty() || l.starts_with("share: ") || l.starts_with('\t')));
    let back = Shares::parse(&text, Path::new("t")).unwrap();
    assert_eq!(back.to_text().unwrap(), text);
    assert_eq!(
        back.into_records(),
        vec![full_record("team"), dir_record("scratch")]
    );
}

#[test]
fn new_share_appended_after_existing_text() {
    let mut shares = Shares::parse("# header comment\nother: x\n\tk v", Path::new("t")).unwrap();
    shares.insert(dir_record("scratch")).unwrap();
    let text = shares.to_text().unwrap();
    assert!(
        text.starts_with("# header comment\nother: x\n\tk v\n\nshare: scratch\n"),
        "{text}"
    );
}
