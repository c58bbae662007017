//! What smbd reports about connected clients (`smbstatus --json`).

use serde_json::Value;

/// Connections to one share.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShareSessions {
    /// Tree connects to the share (one per connected client session).
    pub connections: usize,
    /// Distinct users connected.
    pub users: Vec<String>,
    /// Files open through the share.
    pub open_files: usize,
}

/// Parses `smbstatus --json` output (Samba ≥ 4.16) for `share`, served
/// from `path`. Share names compare case-insensitively, as Samba does;
/// open files are matched by their share's path (`service_path`), and
/// each open of a file counts.
pub fn parse_smbstatus(
    json: &str,
    share: &str,
    path: &str,
) -> Result<ShareSessions, serde_json::Error> {
    let v: Value = serde_json::from_str(json)?;
    let mut out = ShareSessions::default();
    let sessions = v.get("sessions").and_then(Value::as_object);
    let same = |s: Option<&str>| s.is_some_and(|s| s.eq_ignore_ascii_case(share));
    if let Some(tcons) = v.get("tcons").and_then(Value::as_object) {
        for t in tcons.values() {
            if !same(t.get("service").and_then(Value::as_str)) {
                continue;
            }
            out.connections += 1;
            let sid = t.get("session_id").and_then(Value::as_str).unwrap_or("");
            let user = sessions
                .and_then(|s| s.get(sid))
                .and_then(|s| s.get("username"))
                .and_then(Value::as_str);
            if let Some(u) = user {
                if !out.users.iter().any(|x| x == u) {
                    out.users.push(u.to_owned());
                }
            }
        }
    }
    if let Some(files) = v.get("open_files").and_then(Value::as_object) {
        out.open_files = files
            .values()
            .filter(|f| f.get("service_path").and_then(Value::as_str) == Some(path))
            .map(|f| {
                f.get("opens")
                    .and_then(Value::as_object)
                    .map_or(1, |o| o.len().max(1))
            })
            .sum();
    }
    Ok(out)
}
