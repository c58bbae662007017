//! Small filesystem primitives: atomic replacement and advisory locks.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

use crate::error::{io, Result};

/// Replaces `path` with `bytes` atomically: a temporary file in the same
/// directory (created with `mode`), fsync, rename over the original, fsync
/// the directory. Readers see the old or the new content, never a mix.
/// The temporary file is created exclusively and never through a symlink,
/// so a name planted in a directory others can write is not followed.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = parent_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    // A leftover of an earlier run with the same pid (removing a symlink
    // removes the link, not its target).
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .mode(mode)
            .open(&tmp)
            .map_err(io("create", &tmp))?;
        // `mode` is filtered by the umask at creation; set it exactly.
        f.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(io("set permissions of", &tmp))?;
        f.write_all(bytes).map_err(io("write", &tmp))?;
        f.sync_all().map_err(io("sync", &tmp))?;
        fs::rename(&tmp, path).map_err(io("replace", path))?;
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Reads a file that may not exist: `None` when missing.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", path)(e)),
    }
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// An exclusive advisory lock (`flock`) on a lock file, released on drop.
/// Node-local: it does not coordinate processes on different hosts.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Blocks until the lock on `path` (created 0600 if missing) is held.
    pub fn acquire(path: &Path) -> Result<FileLock> {
        let file = Self::open(path)?;
        flock(&file, FlockOperation::LockExclusive).map_err(|e| io("lock", path)(e.into()))?;
        Ok(FileLock {
            file,
            path: path.to_owned(),
        })
    }

    /// Takes the lock if it is free: `None` when another process holds it.
    pub fn try_acquire(path: &Path) -> Result<Option<FileLock>> {
        let file = Self::open(path)?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(FileLock {
                file,
                path: path.to_owned(),
            })),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
            Err(e) => Err(io("lock", path)(e.into())),
        }
    }

    fn open(path: &Path) -> Result<File> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io("create directory", dir))?;
        }
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(io("open lock file", path))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the holder's pid in the lock file (for error messages).
    pub fn note_holder(&mut self) {
        use std::io::Seek;
        let _ = self.file.set_len(0);
        let _ = self.file.rewind();
        let _ = write!(self.file, "{}", std::process::id());
    }
}

/// The pid written by [`FileLock::note_holder`], if any.
pub fn lock_holder(path: &Path) -> Option<u32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}
