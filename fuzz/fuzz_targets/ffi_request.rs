//! Properties of the plugin library's JSON entry point (`smbgw_call`),
//! through its dry twin `check_request`, which parses and checks a request
//! the same way but runs nothing:
//! * the answer is always a JSON object with a boolean `ok`; a failure has
//!   one of the stable error codes (never `panic`) and a message;
//! * a `spec` that deserializes is a ShareSpec whose serde form
//!   round-trips; its validation never panics, and a create or validate
//!   request is answered `ok` only when it validates;
//! * a spec that validates, stored as a registry record, is read back
//!   from the registry text equal.
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use smbgw_core::registry::Shares;
use smbgw_core::{ShareRecord, ShareSpec, ShareState};

/// `bad_request` (the request itself) and the codes of core's error kinds.
const CODES: &[&str] = &[
    "bad_request",
    "input",
    "not_found",
    "exists",
    "busy",
    "rolled_back",
    "needs_apply",
    "registry",
    "other",
];

fn stored_and_read_back(spec: &ShareSpec) {
    let record = ShareRecord {
        spec: spec.clone(),
        state: ShareState {
            volume_id: "tank/shares/x".into(),
            path: PathBuf::from("/tank/shares/x"),
            created_volume: true,
            created_users: Vec::new(),
            created_at: 1_700_000_000,
        },
    };
    let mut shares = Shares::new();
    shares
        .insert(record.clone())
        .expect("a valid spec with a valid state inserts");
    let text = shares.to_text().expect("an inserted record writes");
    let path = Path::new("/etc/pve/smbgateway/shares.cfg");
    let back = Shares::parse(&text, path)
        .unwrap_or_else(|e| panic!("a written record does not parse: {e}\n{text}"))
        .into_records();
    assert_eq!(back, [record], "{text}");
}

fuzz_target!(|data: &[u8]| {
    let out = smbgw_plugin::check_request(data);
    let answer: Value = serde_json::from_str(&out).expect("the answer is JSON");
    let ok = answer
        .get("ok")
        .and_then(Value::as_bool)
        .unwrap_or_else(|| panic!("no boolean `ok`: {out}"));
    if !ok {
        let code = answer["error"]["code"].as_str().unwrap_or_default();
        assert!(CODES.contains(&code), "{out}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{out}");
    }

    let Ok(request) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Some(spec) = request.get("spec") else {
        return;
    };
    let Ok(spec) = serde_json::from_value::<ShareSpec>(spec.clone()) else {
        return;
    };
    let serialized = serde_json::to_value(&spec).expect("a spec serializes");
    let again: ShareSpec = serde_json::from_value(serialized.clone())
        .unwrap_or_else(|e| panic!("{serialized} does not deserialize: {e}"));
    assert_eq!(again, spec, "{serialized}");
    let valid = spec.validate().is_ok();
    // The request parsed (the spec with it) unless another field was bad.
    let op = request["op"].as_str().unwrap_or_default();
    if ok && (op == "create" || op == "validate") {
        assert!(
            valid,
            "answered ok for a spec that does not validate: {out}"
        );
    }
    if valid {
        stored_and_read_back(&spec);
    }
});
