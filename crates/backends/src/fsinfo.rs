//! Filesystem facts without spawning processes: statvfs, directory walks,
//! mount table, and who uses a path.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::{Error, Result, Usage, UsageScope};

/// Usage of the filesystem mounted at or containing `path`: one `statvfs`
/// call, no process. `scope` says what the caller knows the figures cover.
pub fn statvfs_usage(path: &Path, scope: UsageScope) -> Result<Usage> {
    let st = rustix::fs::statvfs(path).map_err(|e| Error::Io {
        op: "query the filesystem usage of",
        path: path.to_owned(),
        source: e.into(),
    })?;
    let frsize = if st.f_frsize == 0 {
        st.f_bsize
    } else {
        st.f_frsize
    };
    let total = st.f_blocks.saturating_mul(frsize);
    let free = st.f_bfree.saturating_mul(frsize);
    Ok(Usage {
        used: total.saturating_sub(free),
        available: st.f_bavail.saturating_mul(frsize),
        total: Some(total),
        scope,
    })
}

/// Bytes allocated to everything under `root` (like `du -s -B1 -x`): does
/// not follow symlinks or cross into other filesystems, counts hard links
/// once.
pub(crate) fn allocated_bytes(root: &Path) -> Result<u64> {
    fn io(path: &Path, op: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.to_owned();
        move |source| Error::Io { op, path, source }
    }
    let top = fs::symlink_metadata(root).map_err(io(root, "read"))?;
    let dev = top.dev();
    let mut seen = HashSet::new();
    let mut total = top.blocks() * 512;
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(io(&dir, "list directory"))? {
            let entry = entry.map_err(io(&dir, "list directory"))?;
            let path = entry.path();
            let md = match fs::symlink_metadata(&path) {
                Ok(md) => md,
                // Deleted while we walked: it no longer uses space.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&path, "read")(e)),
            };
            if md.dev() != dev {
                continue;
            }
            if md.nlink() > 1 && !md.is_dir() && !seen.insert(md.ino()) {
                continue;
            }
            total += md.blocks() * 512;
            if md.is_dir() {
                stack.push(path);
            }
        }
    }
    Ok(total)
}

/// One line of `/proc/self/mountinfo`: mount point and filesystem type.
#[derive(Debug, PartialEq, Eq)]
pub struct Mount {
    /// The mount point (field 5), unescaped.
    pub point: PathBuf,
    /// The filesystem type (the first field after ` - `).
    pub fs_type: String,
}

/// Parses `/proc/self/mountinfo` text; lines without a mount point and a
/// filesystem type are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let point = left.split(' ').nth(4)?;
            let fs_type = right.split(' ').next()?;
            Some(Mount {
                point: PathBuf::from(unescape_octal(point)),
                fs_type: fs_type.to_owned(),
            })
        })
        .collect()
}

/// Undoes the kernel's `\040`-style escaping of spaces, tabs, newlines and
/// backslashes in mount paths.
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() {
            let oct = &b[i + 1..i + 4];
            // A byte is at most \377; anything else is not an escape.
            if (b'0'..=b'3').contains(&oct[0]) && oct[1..].iter().all(|c| (b'0'..=b'7').contains(c))
            {
                out.push((oct[0] - b'0') * 64 + (oct[1] - b'0') * 8 + (oct[2] - b'0'));
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn mounts() -> Vec<Mount> {
    fs::read_to_string("/proc/self/mountinfo")
        .map(|t| parse_mountinfo(&t))
        .unwrap_or_default()
}

/// The type of the filesystem holding `path` (`ext4`, `fuse.zfs`, …), from
/// the mount table; "an unknown filesystem" if it cannot be determined.
pub(crate) fn fs_type(path: &Path) -> String {
    let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    mounts()
        .into_iter()
        .filter(|m| path.starts_with(&m.point))
        .max_by_key(|m| m.point.as_os_str().len())
        .map_or_else(|| "an unknown filesystem".to_owned(), |m| m.fs_type)
}

/// Whether `path` is itself a mount point (its device differs from its
/// parent's). Two `stat`s, no process.
pub(crate) fn is_mount_point(path: &Path) -> bool {
    match (fs::metadata(path), fs::metadata(path.join(".."))) {
        (Ok(a), Ok(b)) => a.dev() != b.dev() || a.ino() == b.ino(),
        _ => false,
    }
}

/// Who uses `path`: processes whose working directory, root or an open file
/// lies under it, and filesystems mounted below it. Entries read like
/// `pid 4242 (smbd)` or `mount /srv/x/sub`. The calling process is not
/// listed. Processes this user may not inspect are skipped.
pub fn users_of(path: &Path) -> Vec<String> {
    let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let me = std::process::id().to_string();
    let mut users = Vec::new();
    let Ok(procs) = fs::read_dir("/proc") else {
        return users;
    };
    for p in procs.flatten() {
        let pid = p.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == me {
            continue;
        }
        let base = p.path();
        let inside = |link: PathBuf| fs::read_link(link).is_ok_and(|t| t.starts_with(&path));
        let mut uses = inside(base.join("cwd")) || inside(base.join("root"));
        if !uses {
            if let Ok(fds) = fs::read_dir(base.join("fd")) {
                uses = fds.flatten().any(|fd| inside(fd.path()));
            }
        }
        if uses {
            let comm = fs::read_to_string(base.join("comm")).unwrap_or_default();
            users.push(format!("pid {pid} ({})", comm.trim()));
        }
    }
    for m in mounts() {
        if m.point != path && m.point.starts_with(&path) {
            users.push(format!("mount {}", m.point.display()));
        }
    }
    users
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines() {
        let text = "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n\
                    40 22 0:35 / /tmp/zcap/mnt/ds4 rw,relatime shared:20 - fuse.zfs capt/ds4 rw,user_id=0\n\
                    41 22 0:36 / /srv/a\\040b rw - tmpfs tmpfs rw\n\
                    garbage\n";
        assert_eq!(
            parse_mountinfo(text),
            [
                Mount {
                    point: "/".into(),
                    fs_type: "ext4".into()
                },
                Mount {
                    point: "/tmp/zcap/mnt/ds4".into(),
                    fs_type: "fuse.zfs".into()
                },
                Mount {
                    point: "/srv/a b".into(),
                    fs_type: "tmpfs".into()
                },
            ]
        );
        assert_eq!(unescape_octal(r"a\134b\011"), "a\\b\t");
        assert_eq!(unescape_octal(r"trail\04"), r"trail\04");
        // Above \377 is no byte: kept as it is (this overflowed, found by
        // the `tool_output` fuzz target).
        assert_eq!(unescape_octal(r"a\777b\400"), r"a\777b\400");
        assert_eq!(unescape_octal(r"\377"), "\u{fffd}");
    }

    #[test]
    fn allocated_bytes_counts_files_once() {
        let dir = tempfile::tempdir().unwrap();
        let empty = allocated_bytes(dir.path()).unwrap();
        fs::write(dir.path().join("a"), vec![1u8; 1 << 20]).unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::hard_link(dir.path().join("a"), dir.path().join("sub/b")).unwrap();
        std::os::unix::fs::symlink("/usr", dir.path().join("sub/usr")).unwrap();
        let used = allocated_bytes(dir.path()).unwrap() - empty;
        assert!((1 << 20..(1 << 20) + 64 * 1024).contains(&used), "{used}");
    }

    #[test]
    fn statvfs_of_root_is_plausible() {
        let u = statvfs_usage(Path::new("/"), UsageScope::Filesystem).unwrap();
        let total = u.total.unwrap();
        assert!(total > 0 && u.used <= total && u.available <= total);
    }

    #[test]
    fn users_of_finds_a_child_with_its_cwd_inside() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("10")
            .current_dir(dir.path())
            .spawn()
            .unwrap();
        let users = users_of(dir.path());
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            users.contains(&format!("pid {} (sleep)", child.id())),
            "{users:?}"
        );
        assert!(users_of(dir.path()).is_empty());
    }
}
