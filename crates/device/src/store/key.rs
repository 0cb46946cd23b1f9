//! The store's key: 256 random bits made on the device, kept by the
//! operating system's keystore through `keyring-core` (Secret Service on
//! Linux desktops, the Android Keystore, Keychain on macOS, Credential
//! Manager on Windows). Where no keystore can be reached (a headless
//! machine running `sotay-cli`), the key is a file beside the store,
//! readable only by its owner ([`KEY_FILE`], 0600), and
//! [`StoreKey::place`] says so: never silently.
//!
//! `SOTAY_KEYSTORE=file` keeps the key in the file even where a keystore
//! exists (tests, a shared build machine); `SOTAY_KEYSTORE=keystore`
//! refuses to fall back to a file.

use crate::error::{DeviceError, Result};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use zeroize::Zeroizing;

/// The key file's name inside a data folder, when there is no keystore.
pub const KEY_FILE: &str = "sotay.key";

/// The service name of the keystore entries.
const SERVICE: &str = "vn.sotay.app";

/// Where a store's key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum KeyPlace {
    /// The operating system's keystore.
    Keystore,
    /// A file beside the store, readable only by its owner.
    File,
}

/// A store key, zeroed on drop.
pub struct StoreKey {
    bytes: Zeroizing<[u8; 32]>,
    place: KeyPlace,
    /// Made now, not found: the caller may tell the user where it went.
    pub created: bool,
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreKey")
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

impl StoreKey {
    pub fn place(&self) -> KeyPlace {
        self.place
    }

    /// The SQLCipher raw-key literal, `x'…'` (64 hex digits).
    pub(super) fn sql_literal(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(67));
        s.push_str("x'");
        for b in self.bytes.iter() {
            s.push_str(&format!("{b:02x}"));
        }
        s.push('\'');
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    Auto,
    FileOnly,
    KeystoreOnly,
}

fn policy() -> Policy {
    match std::env::var("SOTAY_KEYSTORE").as_deref() {
        Ok("file") => Policy::FileOnly,
        Ok("keystore") => Policy::KeystoreOnly,
        _ => Policy::Auto,
    }
}

/// The platform's keystore, opened once per process; `None` where none can
/// be reached.
fn keystore() -> Option<&'static Arc<keyring_core::CredentialStore>> {
    static STORE: OnceLock<Option<Arc<keyring_core::CredentialStore>>> = OnceLock::new();
    STORE
        .get_or_init(|| match platform_store() {
            Ok(s) => Some(s),
            Err(e) => {
                tracing_free_note(&format!("no keystore: {e}"));
                None
            }
        })
        .as_ref()
}

/// Debug trace without a logging dependency: only with `SOTAY_DEBUG_KEYS`.
fn tracing_free_note(msg: &str) {
    if std::env::var_os("SOTAY_DEBUG_KEYS").is_some() {
        eprintln!("sotay keys: {msg}");
    }
}

#[cfg(target_os = "android")]
fn platform_store() -> keyring_core::Result<Arc<keyring_core::CredentialStore>> {
    Ok(android_native_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn platform_store() -> keyring_core::Result<Arc<keyring_core::CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(target_os = "windows")]
fn platform_store() -> keyring_core::Result<Arc<keyring_core::CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn platform_store() -> keyring_core::Result<Arc<keyring_core::CredentialStore>> {
    // Without a session bus there is no Secret Service: say so at once
    // rather than let D-Bus try to start one.
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        return Err(keyring_core::Error::NoDefaultStore);
    }
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(not(any(
    target_os = "android",
    target_os = "macos",
    target_os = "windows",
    all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    )
)))]
fn platform_store() -> keyring_core::Result<Arc<keyring_core::CredentialStore>> {
    Err(keyring_core::Error::NoDefaultStore)
}

/// The keystore entry of the store in `dir`: one per data folder.
fn entry(dir: &Path) -> Option<keyring_core::Entry> {
    let store = keystore()?;
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    let account: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    keyring_core::Entry::new_in_store(store, SERVICE, &format!("store-key-{account}")).ok()
}

fn key_file(dir: &Path) -> PathBuf {
    dir.join(KEY_FILE)
}

fn from_bytes(bytes: &[u8], place: KeyPlace, created: bool) -> Result<StoreKey> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| DeviceError::Corrupt("the store's key has the wrong length".into()))?;
    Ok(StoreKey {
        bytes: Zeroizing::new(arr),
        place,
        created,
    })
}

/// The key of the store in `dir`, if one was made.
pub(super) fn find(dir: &Path) -> Result<Option<StoreKey>> {
    let file = key_file(dir);
    if file.exists() {
        super::private::tighten(&file)?;
        let bytes = Zeroizing::new(std::fs::read(&file)?);
        return from_bytes(&bytes, KeyPlace::File, false).map(Some);
    }
    if policy() == Policy::FileOnly {
        return Ok(None);
    }
    match entry(dir).map(|e| e.get_secret()) {
        Some(Ok(bytes)) => from_bytes(&Zeroizing::new(bytes), KeyPlace::Keystore, false).map(Some),
        Some(Err(keyring_core::Error::NoEntry)) | None => Ok(None),
        Some(Err(e)) => Err(DeviceError::Keystore(e.to_string())),
    }
}

/// Makes a new key for the store in `dir` and keeps it: in the keystore
/// when there is one, else in the key file.
pub(super) fn create(dir: &Path) -> Result<StoreKey> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(&mut bytes[..]);
    if policy() != Policy::FileOnly
        && let Some(e) = entry(dir)
    {
        match e.set_secret(&bytes[..]) {
            Ok(()) => return from_bytes(&bytes[..], KeyPlace::Keystore, true),
            Err(err) if policy() == Policy::KeystoreOnly => {
                return Err(DeviceError::Keystore(err.to_string()));
            }
            Err(err) => tracing_free_note(&format!("keystore refused the key: {err}")),
        }
    } else if policy() == Policy::KeystoreOnly {
        return Err(DeviceError::Keystore("no keystore can be reached".into()));
    }
    super::private::write_private(&key_file(dir), &bytes[..])?;
    from_bytes(&bytes[..], KeyPlace::File, true)
}

/// Forgets the key of the store in `dir`, wherever it is kept.
pub(super) fn delete(dir: &Path) -> Result<()> {
    let file = key_file(dir);
    if file.exists() {
        // Overwrite before unlinking: best effort on flash storage.
        let _ = std::fs::write(&file, [0u8; 32]);
        std::fs::remove_file(&file)?;
    }
    if policy() != Policy::FileOnly
        && let Some(e) = entry(dir)
    {
        match e.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => {}
            Err(err) => return Err(DeviceError::Keystore(err.to_string())),
        }
    }
    Ok(())
}
