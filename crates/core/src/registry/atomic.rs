//! The lock file and atomic replacement of the registry file.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::FlockOperation;
use rustix::io::Errno;

use crate::error::{Error, Result};

/// Mode of the registry file: root reads and writes, group (on pmxcfs
/// `www-data`) reads. pmxcfs accepts exactly this mode outside `priv/`.
const FILE_MODE: u32 = 0o640;

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Error + 'a {
    move |source| Error::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Creates the registry's directory (and its parents), mode 0755.
pub(super) fn create_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(io_err("create the registry directory", dir))
}

/// Opens (creating, 0600) and exclusively `flock`s `path`; the lock is held
/// until the returned file is dropped.
pub(super) fn lock(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io_err("open the lock file", path))?;
    loop {
        match rustix::fs::flock(&file, FlockOperation::LockExclusive) {
            Ok(()) => return Ok(file),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(io_err("lock", path)(e.into())),
        }
    }
}

/// A temp file name beside `path`, unique within this process and among
/// processes (pid).
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map_or_else(|| "registry".into(), |n| n.to_string_lossy());
    path.with_file_name(format!(".{name}.tmp.{}.{n}", std::process::id()))
}

/// Replaces `path` with `data`: temp file in the same directory (0600, then
/// 0640), fsync, rename, fsync of the directory. On failure the temp file is
/// removed and `path` is untouched.
pub(super) fn write(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let result = write_temp_and_rename(&tmp, path, data);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(path)
}

fn write_temp_and_rename(tmp: &Path, path: &Path, data: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .map_err(io_err("create the temp file", tmp))?;
    f.write_all(data).map_err(io_err("write", tmp))?;
    f.set_permissions(Permissions::from_mode(FILE_MODE))
        .map_err(io_err("set the mode of", tmp))?;
    f.sync_all().map_err(io_err("sync", tmp))?;
    drop(f);
    fs::rename(tmp, path).map_err(io_err("rename the temp file over", path))
}

/// fsyncs the directory holding `path`, so that the rename is durable.
/// Filesystems that cannot sync a directory (some FUSE ones) are accepted:
/// the rename is done by then.
fn sync_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let d = File::open(dir).map_err(io_err("open the directory", dir))?;
    match d.sync_all() {
        Ok(()) => Ok(()),
        Err(e)
            if matches!(
                e.raw_os_error().map(Errno::from_raw_os_error),
                Some(Errno::INVAL | Errno::NOTSUP | Errno::NOSYS)
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(io_err("sync the directory", dir)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.cfg");
        write(&p, b"one").unwrap();
        write(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, FILE_MODE);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.cfg")]);
    }

    #[test]
    fn failed_rename_removes_temp() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory in the way makes the rename fail.
        let p = dir.path().join("x.cfg");
        fs::create_dir(&p).unwrap();
        fs::write(p.join("keep"), b"").unwrap();
        let e = write(&p, b"data").unwrap_err();
        assert!(
            e.to_string().contains("cannot rename the temp file over"),
            "{e}"
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.cfg")]);
    }
}
