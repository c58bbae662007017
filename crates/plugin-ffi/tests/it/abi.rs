//! The C ABI called from Rust exactly as a C caller would: C strings in,
//! owned C strings out, released with `smbgw_string_free`.

use std::ffi::{CStr, CString};
use std::path::Path;

use serde_json::{json, Value};
use smbgw_core::{
    parse_quota, BackendSpec, Mode, Registry, ShareId, ShareRecord, ShareSpec, ShareState,
    VolumeRef,
};
use smbgw_plugin::{smbgw_api_version, smbgw_call, smbgw_string_free, smbgw_version};

/// Sends raw request bytes (without the NUL) and parses the answer.
fn call_bytes(req: &[u8]) -> Value {
    let req = CString::new(req).unwrap();
    // SAFETY: `req` is a valid C string that outlives the call.
    let out = unsafe { smbgw_call(req.as_ptr()) };
    assert!(!out.is_null());
    // SAFETY: `out` is the NUL-terminated answer, read before it is freed.
    let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
    // SAFETY: released exactly once, not used afterwards.
    unsafe { smbgw_string_free(out) };
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("answer is not JSON ({e}): {text}"))
}

fn call(req: &Value) -> Value {
    call_bytes(req.to_string().as_bytes())
}

fn error_of(v: &Value) -> (String, String) {
    assert_eq!(v["ok"], false, "{v}");
    (
        v["error"]["code"].as_str().unwrap().to_owned(),
        v["error"]["message"].as_str().unwrap().to_owned(),
    )
}

/// Registers a native directory share `id` with its volume under `dir`
/// (nothing served: the operations tested here do not need Samba).
fn register(dir: &Path, id: &str) {
    let root = dir.join("volumes");
    std::fs::create_dir_all(root.join(id)).unwrap();
    let mut spec = ShareSpec::new(
        id.parse::<ShareId>().unwrap(),
        BackendSpec::dir(&root).unwrap(),
        VolumeRef::new(id).unwrap(),
    );
    spec.mode = Mode::Native;
    spec.quota = Some(parse_quota("1G").unwrap());
    spec.quota_unenforced_ok = true;
    let state = ShareState {
        volume_id: root.join(id).display().to_string(),
        path: root.join(id),
        created_volume: true,
        created_users: vec![],
        created_at: 1,
    };
    Registry::new(dir.join("shares.cfg"))
        .update(|s| s.insert(ShareRecord { spec, state }))
        .unwrap();
}

#[test]
fn versions() {
    // SAFETY: a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(smbgw_version()) }.to_str().unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    assert_eq!(smbgw_api_version(), 1);
    let a = call(&json!({"op": "version"}));
    assert_eq!(a, json!({"ok": true, "version": v, "api": 1}));
}

#[test]
fn a_null_request_is_a_bad_request() {
    // SAFETY: NULL is allowed by the contract.
    let out = unsafe { smbgw_call(std::ptr::null()) };
    // SAFETY: as in call_bytes.
    let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
    // SAFETY: released once.
    unsafe { smbgw_string_free(out) };
    assert!(text.contains(r#""code":"bad_request""#), "{text}");
    assert!(text.contains("NULL"), "{text}");
    // Freeing NULL is a no-op.
    // SAFETY: NULL is allowed.
    unsafe { smbgw_string_free(std::ptr::null_mut()) };
}

#[test]
fn malformed_requests_are_bad_requests_with_the_reason() {
    let cases: &[(&[u8], &str)] = &[
        (b"{not json", "bad request"),
        (b"[1,2]", "bad request"),
        (b"{\"id\":\"x\"}", "missing field `op`"),
        (b"{\"op\":\"explode\"}", "unknown variant `explode`"),
        (b"{\"op\":\"show\"}", "missing field `id`"),
        (b"{\"op\":\"list\",\"extra\":1}", "unknown field `extra`"),
        (
            b"{\"op\":\"list\",\"config\":{\"sandbox\":\"relative/dir\"}}",
            "must be an absolute path",
        ),
        (
            b"{\"op\":\"list\",\"config\":{\"colour\":1}}",
            "unknown field",
        ),
        (b"\xff\xfe", "not UTF-8"),
    ];
    for (req, want) in cases {
        let (code, msg) = error_of(&call_bytes(req));
        assert_eq!(code, "bad_request", "{}", String::from_utf8_lossy(req));
        assert!(msg.contains(want), "{msg:?} lacks {want:?}");
    }
}

#[test]
fn core_errors_keep_their_kind_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = json!({"sandbox": dir.path()});
    let (code, msg) = error_of(&call(
        &json!({"op": "show", "id": "nosuch", "config": config}),
    ));
    assert_eq!(code, "not_found");
    assert!(msg.contains("share `nosuch` does not exist"), "{msg}");
    let (code, msg) = error_of(&call(
        &json!({"op": "usage", "id": "bad]\nid", "config": config}),
    ));
    assert_eq!(code, "input");
    assert!(msg.contains("share id"), "{msg}");
    let (code, msg) = error_of(&call(
        &json!({"op": "set_quota", "id": "x", "quota": "ten", "config": config}),
    ));
    assert_eq!(code, "input");
    assert!(msg.contains("invalid quota"), "{msg}");
    // A malformed registry.
    std::fs::write(dir.path().join("shares.cfg"), "share: a\nnot indented\n").unwrap();
    let (code, msg) = error_of(&call(&json!({"op": "list", "config": config})));
    assert_eq!(code, "registry");
    assert!(msg.contains("shares.cfg:2"), "{msg}");
}

#[test]
fn validate_checks_a_spec_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("volumes");
    std::fs::create_dir_all(&root).unwrap();
    let config = json!({"sandbox": dir.path()});
    let spec = json!({
        "id": "office",
        "backend": {"type": "dir", "root": root},
        "volume": {"name": "office", "existing": false},
        "mode": "native",
    });
    let a = call(&json!({"op": "validate", "spec": spec, "config": config}));
    assert_eq!(a["ok"], true, "{a}");
    assert_eq!(a["plan"]["op"], "create");
    assert!(!a["plan"]["steps"].as_array().unwrap().is_empty());
    assert!(!root.join("office").exists());
    assert!(!dir.path().join("shares.cfg").exists());
    // A quota a directory cannot enforce.
    let mut bad = spec.clone();
    bad["quota"] = json!("10G");
    let (code, msg) = error_of(&call(
        &json!({"op": "validate", "spec": bad, "config": config}),
    ));
    assert_eq!(code, "input");
    assert!(msg.contains("cannot be enforced"), "{msg}");
    // A spec that does not even deserialize.
    let (code, msg) = error_of(&call(
        &json!({"op": "validate", "spec": {"id": "xy"}, "config": config}),
    ));
    assert_eq!(code, "bad_request");
    assert!(msg.contains("missing field `backend`"), "{msg}");
}

#[test]
fn usage_list_show_and_set_quota_of_a_registered_share() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "team");
    let config = json!({"sandbox": dir.path()});
    let u = call(&json!({"op": "usage", "id": "team", "config": config}));
    assert_eq!(u["ok"], true, "{u}");
    assert_eq!(u["usage"]["active"], true);
    assert_eq!(u["usage"]["scope"], "filesystem");
    assert!(u["usage"]["total"].as_u64().unwrap() > 0);
    let l = call(&json!({"op": "list", "config": config}));
    assert_eq!(l["shares"][0]["spec"]["id"], "team", "{l}");
    let q = call(&json!({"op": "set_quota", "id": "team", "quota": "3G", "config": config}));
    assert_eq!(q["share"]["spec"]["quota"], "3GiB", "{q}");
    let s = call(&json!({"op": "show", "id": "team", "config": config}));
    assert_eq!(s["share"]["spec"]["quota"], "3GiB");
    // The volume gone: inactive, with the reason, still `ok`.
    std::fs::remove_dir(dir.path().join("volumes/team")).unwrap();
    let u = call(&json!({"op": "usage", "id": "team", "config": config}));
    assert_eq!(u["usage"]["active"], false);
    assert!(u["usage"]["problem"]
        .as_str()
        .unwrap()
        .contains("is not at"));
}

#[test]
fn concurrent_calls_from_many_threads() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "team");
    let req = json!({"op": "usage", "id": "team", "config": {"sandbox": dir.path()}}).to_string();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..300 {
                    let a = call_bytes(req.as_bytes());
                    assert_eq!(a["usage"]["active"], true, "{a}");
                }
            });
        }
    });
}

#[test]
fn explicit_files_override_the_sandbox_and_a_bad_sandbox_is_named() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    register(a.path(), "team");
    // The sandbox is b, but the registry is a's.
    let config = json!({
        "sandbox": b.path(),
        "registry": a.path().join("shares.cfg"),
        "state_dir": b.path().join("elsewhere"),
    });
    let l = call(&json!({"op": "list", "config": config}));
    assert_eq!(l["shares"][0]["spec"]["id"], "team", "{l}");
    assert_eq!(l["shares"].as_array().unwrap().len(), 1);
    let l = call(&json!({"op": "list", "config": {"sandbox": b.path()}}));
    assert_eq!(l["shares"], json!([]), "{l}");
    // A sandbox that cannot be created: the path and the reason.
    let file = b.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let (code, msg) = error_of(&call(
        &json!({"op": "list", "config": {"sandbox": file.join("sub")}}),
    ));
    assert_eq!(code, "other");
    assert!(
        msg.starts_with(&format!("cannot create {}", file.join("sub").display())),
        "{msg}"
    );
}

/// More configurations than the library keeps gateways for: every call
/// still answers from its own files.
#[test]
fn each_configuration_gets_its_own_gateway_also_after_eviction() {
    let dirs: Vec<tempfile::TempDir> = (0..10).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, d) in dirs.iter().enumerate() {
        register(d.path(), &format!("share{i}"));
    }
    for round in 0..2 {
        for (i, d) in dirs.iter().enumerate() {
            let l = call(&json!({"op": "list", "config": {"sandbox": d.path()}}));
            assert_eq!(
                l["shares"][0]["spec"]["id"],
                format!("share{i}"),
                "round {round}: {l}"
            );
        }
    }
}

/// The fuzz target's entry: a request that does not parse gets exactly
/// `smbgw_call`'s answer; one that parses gets a dry answer or the error
/// of a pure check, and nothing runs or is written.
#[test]
fn check_request_answers_like_smbgw_call_without_running_anything() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("volumes");
    for bad in [
        &b"{not json"[..],
        b"{\"op\":\"explode\"}",
        b"\xff",
        b"{\"op\":\"list\",\"config\":{\"sandbox\":\"rel\"}}",
    ] {
        let dry: Value = serde_json::from_str(&smbgw_plugin::check_request(bad)).unwrap();
        assert_eq!(dry, call_bytes(bad), "{}", String::from_utf8_lossy(bad));
    }
    let spec = json!({
        "id": "office",
        "backend": {"type": "dir", "root": root},
        "volume": {"name": "office", "existing": false},
        "mode": "native",
    });
    let config = json!({"sandbox": dir.path().join("never-made")});
    let dry = |req: Value| -> Value {
        serde_json::from_str(&smbgw_plugin::check_request(req.to_string().as_bytes())).unwrap()
    };
    assert_eq!(
        dry(json!({"op": "create", "spec": spec, "config": config})),
        json!({"ok": true, "op": "create", "dry_run": true})
    );
    assert_eq!(
        dry(json!({"op": "version"})),
        call(&json!({"op": "version"}))
    );
    for (req, code, want) in [
        (json!({"op": "delete", "id": "bad]id"}), "input", "share id"),
        (
            json!({"op": "set_quota", "id": "x", "quota": "ten"}),
            "input",
            "invalid quota",
        ),
        (json!({"op": "metrics", "id": "a\nb"}), "input", "share id"),
    ] {
        let (c, msg) = error_of(&dry(req.clone()));
        assert_eq!(c, code, "{req}");
        assert!(msg.contains(want), "{req}: {msg}");
    }
    let mut quota = spec.clone();
    quota["quota"] = json!("0");
    assert_eq!(dry(json!({"op": "validate", "spec": quota}))["ok"], false);
    assert!(dry(json!({"op": "apply"}))["ok"].as_bool().unwrap());
    assert!(!dir.path().join("never-made").exists());
    assert!(!root.exists());
}
