//! `admin backup` and `admin restore` of an SQLite server: a consistent
//! copy taken while devices push, and putting one back.
//!
//! The copy is SQLite's `VACUUM INTO` (one read transaction: a snapshot of
//! the last commit, never a half-written push) and then the photo folder
//! beside the file. Photos are content-addressed and never change once
//! stored, so copying them after the snapshot can only add photos the
//! snapshot does not list yet, which is harmless; a photo the snapshot
//! lists but had not arrived is offered again by its device after a
//! restore, as is every change the backup lacks (the checkpoint protocol).
//!
//! PostgreSQL is backed up with its own tools; both commands say how.

use crate::store::photos::{FsPhotos, private_dir};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "a PostgreSQL database is backed up with its own tools: \
         `pg_dump -Fc -f FILE 'URL'`, and restored with `pg_restore --clean --no-owner -d 'URL' FILE` \
         (photos are in the database, so they come with it)"
    )]
    Postgres,
    #[error("{0} exists already: choose a new file, nothing was written")]
    Exists(PathBuf),
    #[error("no backup at {0}")]
    Missing(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Store(crate::store::StoreError),
    #[error("the backup does not open as a Sổ tay database: {0}")]
    NotADatabase(crate::store::StoreError),
    #[error(
        "{0} is open in another process (is the server running?): stop it first, nothing was changed"
    )]
    InUse(PathBuf),
}

type Result<T> = std::result::Result<T, BackupError>;

/// What a backup or a restore copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub database_bytes: u64,
    pub photos: u64,
}

/// The SQLite file a `--db` value names, or why it is not one.
fn sqlite_path(db: &str) -> Result<PathBuf> {
    crate::store::sqlite_path(db)
        .map_err(BackupError::Store)?
        .map(PathBuf::from)
        .ok_or(BackupError::Postgres)
}

fn photos_dir(db: &Path) -> PathBuf {
    FsPhotos::dir_beside(db)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Copies every stored photo (not the parts still arriving) from one
/// photo folder to another, made 0700 as the server makes its own.
fn copy_photos(from: &Path, to: &Path) -> Result<u64> {
    let mut n = 0;
    private_dir(to).map_err(BackupError::Store)?;
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(0);
    };
    for sub in entries {
        let sub = sub.map_err(io(from))?;
        if sub.file_name() == "parts" || !sub.file_type().map_err(io(from))?.is_dir() {
            continue;
        }
        let target = to.join(sub.file_name());
        private_dir(&target).map_err(BackupError::Store)?;
        for photo in std::fs::read_dir(sub.path()).map_err(io(&sub.path()))? {
            let photo = photo.map_err(io(&sub.path()))?;
            let dest = target.join(photo.file_name());
            std::fs::copy(photo.path(), &dest).map_err(io(&dest))?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(unix)]
fn set_file_private(file: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).map_err(io(file))
}

#[cfg(not(unix))]
fn set_file_private(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
fn owner_of(p: &Path) -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.uid(), m.gid()))
}

#[cfg(not(unix))]
fn owner_of(_: &Path) -> Option<(u32, u32)> {
    None
}

/// Gives `p` (and, for a folder, everything in it) to `uid:gid`.
#[cfg(unix)]
fn chown_all(p: &Path, uid: u32, gid: u32) -> Result<()> {
    if !p.exists() {
        return Ok(());
    }
    std::os::unix::fs::chown(p, Some(uid), Some(gid)).map_err(io(p))?;
    if p.is_dir() {
        for entry in std::fs::read_dir(p).map_err(io(p))? {
            chown_all(&entry.map_err(io(p))?.path(), uid, gid)?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn chown_all(_: &Path, _: u32, _: u32) -> Result<()> {
    Ok(())
}

/// Takes a consistent backup of the server database `db` into the new
/// file `to` (and its photos into `TO.photos`), while the server runs.
pub fn backup(db: &str, to: &Path) -> Result<Copied> {
    let db = sqlite_path(db)?;
    if !db.exists() {
        return Err(BackupError::Missing(db));
    }
    for p in [to.to_owned(), photos_dir(to)] {
        if p.exists() {
            return Err(BackupError::Exists(p));
        }
    }
    let conn = rusqlite::Connection::open_with_flags(
        &db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let target = to.to_str().ok_or_else(|| BackupError::Io {
        path: to.to_owned(),
        source: std::io::Error::other("the path is not UTF-8"),
    })?;
    // An empty file of the server's own mode first (SQLite writes into an
    // empty file), so the copy is never readable by others.
    std::fs::File::create_new(to).map_err(io(to))?;
    set_file_private(to)?;
    conn.execute("VACUUM INTO ?1", [target])?;
    drop(conn);
    let photos = copy_photos(&photos_dir(&db), &photos_dir(to))?;
    let database_bytes = std::fs::metadata(to).map_err(io(to))?.len();
    Ok(Copied {
        database_bytes,
        photos,
    })
}

/// Puts the backup `from` (and `FROM.photos`) in place of the server
/// database `db`; the server must be stopped. Nothing is deleted: the
/// database and photos being replaced are moved aside to
/// `DB.before-restore-TIME` (and `….photos`), and the backup is checked to
/// open, with its migrations, before the command reports success.
pub async fn restore(db: &str, from: &Path, now: chrono::DateTime<chrono::Utc>) -> Result<Copied> {
    let db_path = sqlite_path(db)?;
    if !from.exists() {
        return Err(BackupError::Missing(from.to_owned()));
    }
    // The backup must open before anything is moved.
    crate::store::sqlite::SqliteStore::check_file(from).map_err(BackupError::NotADatabase)?;
    let stamp = now.format("%Y%m%dT%H%M%S%.6fZ");
    let aside = (0..)
        .map(|n| {
            let tail = if n == 0 {
                String::new()
            } else {
                format!("-{n}")
            };
            PathBuf::from(format!(
                "{}.before-restore-{stamp}{tail}",
                db_path.display()
            ))
        })
        .find(|p| !p.exists() && !photos_dir(p).exists())
        .unwrap_or_default();
    let mut owner = None;
    if db_path.exists() {
        // Leaving WAL mode needs the only connection to the file: SQLite
        // answers "wal" again while a server holds it open. When it
        // succeeds the WAL is checkpointed into the file, so the file moved
        // aside is whole.
        let conn = rusqlite::Connection::open(&db_path)?;
        let mode = conn.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get::<_, String>(0));
        match mode {
            Ok(mode) if mode.eq_ignore_ascii_case("delete") => {}
            Ok(_) => return Err(BackupError::InUse(db_path)),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                return Err(BackupError::InUse(db_path));
            }
            Err(e) => return Err(e.into()),
        }
        drop(conn);
        owner = owner_of(&db_path);
        std::fs::rename(&db_path, &aside).map_err(io(&db_path))?;
    }
    let photos = photos_dir(&db_path);
    if photos.exists() {
        std::fs::rename(&photos, photos_dir(&aside)).map_err(io(&photos))?;
    }
    std::fs::copy(from, &db_path).map_err(io(&db_path))?;
    set_file_private(&db_path)?;
    let n = copy_photos(&photos_dir(from), &photos)?;
    // Run as root for a server that runs as its own user: the restored
    // files belong to whoever owned the ones they replace.
    if let Some((uid, gid)) = owner {
        chown_all(&db_path, uid, gid)?;
        chown_all(&photos, uid, gid)?;
    }
    crate::store::open(&db_path.display().to_string())
        .await
        .map_err(BackupError::NotADatabase)?;
    Ok(Copied {
        database_bytes: std::fs::metadata(&db_path).map_err(io(&db_path))?.len(),
        photos: n,
    })
}
