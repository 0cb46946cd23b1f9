//! The data folder is private: the folder 0700, every file in it 0600
//! (the store, its `-wal` and `-shm`, the sync lock, the key file). SQLite
//! gives `-wal` and `-shm` the store file's own mode, so creating the store
//! file 0600 before SQLite opens it covers them.

use crate::error::Result;
use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and its parents) 0700, or makes an existing one 0700.
pub fn make_private_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::set_permissions(dir, Permissions::from_mode(0o700))?;
    } else {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    Ok(())
}

/// Makes an existing file 0600.
pub fn tighten(path: &Path) -> Result<()> {
    if path.exists() {
        std::fs::set_permissions(path, Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Creates `path` empty and 0600 if it does not exist, else makes it 0600.
pub fn touch_private(path: &Path) -> Result<()> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    tighten(path)
}

/// Opens (creating 0600) a file for writing without truncating it.
pub fn open_private(path: &Path) -> Result<File> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)?;
    tighten(path)?;
    Ok(f)
}

/// Writes a new file 0600 and makes it durable (the file and its folder).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    sync_dir(path)
}

/// fsyncs the folder holding `path`, so a rename or a new file in it
/// survives power loss.
pub fn sync_dir(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}
