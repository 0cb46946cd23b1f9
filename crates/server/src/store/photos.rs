//! Where photos are kept, by the SHA-256 of their bytes: each photo once,
//! however many times it is sent or however many reports list it.
//!
//! A photo arrives in parts when a connection is cut: what arrived is kept
//! as the photo's *part*, and the next `PUT` continues at its end
//! ([`PhotoStore::append`] checks the offset). Only when the part has the
//! whole length and its bytes hash to the photo's name does it become the
//! photo ([`PhotoStore::finish`]); a part that does not is discarded.
//!
//! Two implementations: [`FsPhotos`], a folder beside the SQLite file
//! (0700, files 0600: photos are evidence), and the PostgreSQL store's own,
//! in the database, where every server copy reaches them (see
//! `store/postgres.rs`).

use super::{Result, StoreError};
use async_trait::async_trait;
use std::path::{Path, PathBuf};

/// What the server holds of one photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoState {
    /// The whole photo, its hash checked; `u64` is its length.
    Stored(u64),
    /// This many bytes of it so far (0: nothing).
    Partial(u64),
}

impl PhotoState {
    /// The bytes held.
    pub fn held(self) -> u64 {
        match self {
            PhotoState::Stored(n) | PhotoState::Partial(n) => n,
        }
    }
}

/// Why a part could not grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendRefusal {
    /// The bytes do not start where the part ends (it holds this many).
    Offset(u64),
    /// The photo is stored already.
    Stored,
}

#[async_trait]
pub trait PhotoStore: Send + Sync {
    async fn state(&self, sha256: &str) -> Result<PhotoState>;

    /// Adds `bytes` at `offset` of the photo's part; the part's new
    /// length, or why not.
    async fn append(
        &self,
        sha256: &str,
        offset: u64,
        bytes: &[u8],
    ) -> Result<std::result::Result<u64, AppendRefusal>>;

    /// The part is complete: when its bytes hash to `sha256` it becomes
    /// the photo (`true`), else it is discarded (`false`).
    async fn finish(&self, sha256: &str) -> Result<bool>;

    /// A stored photo's bytes.
    async fn read(&self, sha256: &str) -> Result<Option<Vec<u8>>>;

    /// A stored photo's small copy for the dashboard ([`thumbnail`]), when
    /// one could be made.
    async fn read_thumb(&self, sha256: &str) -> Result<Option<Vec<u8>>>;

    /// Every stored photo's name and length, for backups and audits.
    async fn list(&self) -> Result<Vec<(String, u64)>>;
}

pub use sotay_photo::{THUMB_EDGE, sha256_hex, thumbnail};

/// Photos in a folder: `DIR/ab/abcd….jpg` for stored ones, `DIR/parts/…`
/// for those still arriving. Only names that are photo hashes reach here
/// (the handlers check), so no path is built from anything else.
pub struct FsPhotos {
    dir: PathBuf,
    /// Appends and finishes one at a time: two uploads of one photo at
    /// once would otherwise both append at the same offset.
    writing: std::sync::Arc<std::sync::Mutex<()>>,
}

impl FsPhotos {
    /// The folder beside the database `db` (`FILE.photos`), made 0700.
    pub fn beside(db: &Path) -> Result<Self> {
        let dir = Self::dir_beside(db);
        for d in [dir.clone(), dir.join("parts")] {
            private_dir(&d)?;
        }
        Ok(Self {
            dir,
            writing: std::sync::Arc::default(),
        })
    }

    /// Where the photos of the database `db` are: `FILE.photos`.
    pub fn dir_beside(db: &Path) -> PathBuf {
        let mut name = db.as_os_str().to_owned();
        name.push(".photos");
        PathBuf::from(name)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn checked(sha256: &str) -> Result<&str> {
        if sotay_domain::photo::is_photo_hash(sha256) {
            Ok(sha256)
        } else {
            Err(StoreError::Corrupt(format!("not a photo name: {sha256:?}")))
        }
    }

    fn stored_path(&self, sha256: &str) -> Result<PathBuf> {
        let sha = Self::checked(sha256)?;
        Ok(self.dir.join(&sha[..2]).join(format!("{sha}.jpg")))
    }

    fn thumb_path(&self, sha256: &str) -> Result<PathBuf> {
        let sha = Self::checked(sha256)?;
        Ok(self.dir.join(&sha[..2]).join(format!("{sha}.thumb.jpg")))
    }

    fn part_path(&self, sha256: &str) -> Result<PathBuf> {
        Ok(self.dir.join("parts").join(Self::checked(sha256)?))
    }
}

/// Makes the folder `d` (and its parents) and gives it mode 0700.
pub(crate) fn private_dir(d: &Path) -> Result<()> {
    std::fs::create_dir_all(d)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn len_of(path: &Path) -> std::io::Result<Option<u64>> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(Some(m.len())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl PhotoStore for FsPhotos {
    async fn state(&self, sha256: &str) -> Result<PhotoState> {
        let (stored, part) = (self.stored_path(sha256)?, self.part_path(sha256)?);
        tokio::task::spawn_blocking(move || {
            Ok(match len_of(&stored)? {
                Some(n) => PhotoState::Stored(n),
                None => PhotoState::Partial(len_of(&part)?.unwrap_or(0)),
            })
        })
        .await?
    }

    async fn append(
        &self,
        sha256: &str,
        offset: u64,
        bytes: &[u8],
    ) -> Result<std::result::Result<u64, AppendRefusal>> {
        let (stored, part) = (self.stored_path(sha256)?, self.part_path(sha256)?);
        let bytes = bytes.to_vec();
        let writing = self.writing.clone();
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let _one = writing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if len_of(&stored)?.is_some() {
                return Ok(Err(AppendRefusal::Stored));
            }
            let mut f = private_file(&part, true)?;
            let held = f.metadata()?.len();
            if held != offset {
                return Ok(Err(AppendRefusal::Offset(held)));
            }
            f.write_all(&bytes)?;
            // What the server acknowledges survives a crash: the next
            // attempt continues from it.
            f.sync_data()?;
            Ok(Ok(held + bytes.len() as u64))
        })
        .await?
    }

    async fn finish(&self, sha256: &str) -> Result<bool> {
        let (stored, part) = (self.stored_path(sha256)?, self.part_path(sha256)?);
        let thumb = self.thumb_path(sha256)?;
        let sha = sha256.to_owned();
        let writing = self.writing.clone();
        tokio::task::spawn_blocking(move || {
            let _one = writing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if len_of(&stored)?.is_some() {
                // Another upload of it finished first.
                let _ = std::fs::remove_file(&part);
                return Ok(true);
            }
            let bytes = std::fs::read(&part)?;
            if sha256_hex(&bytes) != sha {
                std::fs::remove_file(&part)?;
                return Ok(false);
            }
            let folder = stored.parent().map(Path::to_path_buf).unwrap_or_default();
            private_dir(&folder)?;
            // The small copy first: a photo that is stored has one (when
            // it decodes), whatever moment the server stops at.
            if let Some(small) = thumbnail(&bytes) {
                use std::io::Write;
                let mut f = private_file(&thumb, false)?;
                f.set_len(0)?;
                f.write_all(&small)?;
                f.sync_data()?;
            }
            std::fs::rename(&part, &stored)?;
            // The rename itself reaches the disk.
            std::fs::File::open(&folder)?.sync_all()?;
            Ok(true)
        })
        .await?
    }

    async fn read(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let stored = self.stored_path(sha256)?;
        tokio::task::spawn_blocking(move || match std::fs::read(&stored) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await?
    }

    async fn read_thumb(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let thumb = self.thumb_path(sha256)?;
        tokio::task::spawn_blocking(move || match std::fs::read(&thumb) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await?
    }

    async fn list(&self) -> Result<Vec<(String, u64)>> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for sub in std::fs::read_dir(&dir)? {
                let sub = sub?;
                if sub.file_name() == "parts" || !sub.file_type()?.is_dir() {
                    continue;
                }
                for f in std::fs::read_dir(sub.path())? {
                    let f = f?;
                    let name = f.file_name().to_string_lossy().into_owned();
                    if let Some(sha) = name.strip_suffix(".jpg")
                        && sotay_domain::photo::is_photo_hash(sha)
                    {
                        out.push((sha.to_owned(), f.metadata()?.len()));
                    }
                }
            }
            out.sort();
            Ok(out)
        })
        .await?
    }
}

/// Opens `path` for appending, creating it 0600.
fn private_file(path: &Path, append: bool) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(append).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}
