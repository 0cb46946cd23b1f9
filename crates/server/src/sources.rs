//! Sealed sources on the server: custody of each ward's source key, the
//! "see sources" (nguồn tin) permission, and revealing one tip's source.
//!
//! Custody: a ward key's secret half is stored only sealed to its holders
//! ([`KeyCopy`], `sotay-seal`): the ward's recovery identity (whose own
//! secret is wrapped under the recovery passphrase printed once when the
//! ward was created) and each officer with the permission (whose own
//! secret is wrapped under their password). So the server cannot open a
//! source on its own: logging in unwraps the officer's key into that
//! session's memory ([`SessionKeys`]), and only a request of that session
//! can open a ward key and, with it, a source.
//!
//! Threat model: a copy of the database or a backup, a lost phone after
//! sync, and an officer without the permission learn no source. Not
//! covered: someone with root on the running server while an officer with
//! the permission is logged in (the officer's key is in memory then).

use crate::store::{DynStore, KeyCopy, NewAudit, OfficerRow, RecoveryRow, StoreError, WardKeyRow};
use chrono::{DateTime, Utc};
use sotay_domain::ReportId;
use sotay_domain::tip::{SealedSource, SourceSecret};
use sotay_seal::{PublicKey, SealError, SecretKey};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("sealing: {0}")]
    Seal(#[from] SealError),
    #[error("ward {0} has no source key; run `sotay-server admin ward init-key --ward {0}`")]
    NoWardKey(String),
    #[error("ward {0} has no recovery identity")]
    NoRecovery(String),
    #[error("the recovery passphrase is wrong")]
    BadPassphrase,
    #[error("no officer {0:?}")]
    UnknownOfficer(String),
    #[error("officer {0:?} has no key yet: they must log in once first")]
    NoOfficerKey(String),
    #[error("no ward key is held by this session: log in again")]
    NotHeld,
}

/// The holder name of an officer's copies.
pub fn officer_holder(username: &str) -> String {
    format!("officer:{username}")
}

/// The holder name of a ward's recovery copies.
pub fn recovery_holder(ward: &str) -> String {
    format!("recovery:{ward}")
}

fn copy_label(key_id: &str, holder: &str) -> String {
    format!("ward-key|{key_id}|{holder}")
}

fn officer_wrap_label(username: &str) -> String {
    format!("officer-key|{username}")
}

fn recovery_wrap_label(ward: &str) -> String {
    format!("recovery-key|{ward}")
}

/// A new officer key pair: the public half, and the secret wrapped under
/// `password`.
pub fn new_officer_key(username: &str, password: &str) -> Result<(String, String), SourceError> {
    let (secret, public) = sotay_seal::generate();
    let wrapped =
        sotay_seal::wrap_with_passphrase(password, &officer_wrap_label(username), &secret)?;
    Ok((public.to_base64(), wrapped))
}

/// `secret` (an officer's existing key) wrapped under a new password.
pub fn wrap_officer_key(
    username: &str,
    password: &str,
    secret: &SecretKey,
) -> Result<(String, String), SourceError> {
    let wrapped =
        sotay_seal::wrap_with_passphrase(password, &officer_wrap_label(username), secret)?;
    Ok((secret.public()?.to_base64(), wrapped))
}

/// The officer's secret key, unwrapped with the password they logged in
/// with; an officer without a key (made before sealing existed) gets one
/// now.
pub async fn officer_secret_at_login(
    store: &DynStore,
    officer: &OfficerRow,
    password: &str,
) -> Result<SecretKey, SourceError> {
    if let Some(wrapped) = &officer.key_wrapped {
        return Ok(sotay_seal::unwrap_with_passphrase(
            password,
            &officer_wrap_label(&officer.username),
            wrapped,
        )?);
    }
    let (secret, public) = sotay_seal::generate();
    let wrapped = sotay_seal::wrap_with_passphrase(
        password,
        &officer_wrap_label(&officer.username),
        &secret,
    )?;
    store
        .set_officer_key(&officer.username, &public.to_base64(), &wrapped)
        .await?;
    Ok(secret)
}

/// A ward key pair made now, with its row; the secret is returned for
/// sealing to holders and then dropped.
fn new_ward_key(ward: &str, now: DateTime<Utc>) -> (SecretKey, WardKeyRow) {
    let (secret, public) = sotay_seal::generate();
    let row = WardKeyRow {
        key_id: public.key_id(),
        ward: ward.to_owned(),
        public_key: public.to_base64(),
        created_at: now,
        retired_at: None,
    };
    (secret, row)
}

fn seal_copy(
    key_id: &str,
    holder: &str,
    holder_key: &PublicKey,
    secret: &SecretKey,
) -> Result<KeyCopy, SourceError> {
    Ok(KeyCopy {
        key_id: key_id.to_owned(),
        holder: holder.to_owned(),
        sealed: sotay_seal::seal_key(holder_key, &copy_label(key_id, holder), secret)?,
    })
}

/// Creates `ward`'s first source key and its recovery identity. Returns the
/// recovery passphrase, to be printed once and never stored, or `None` when
/// the ward has a key already.
pub async fn create_ward_key(
    store: &DynStore,
    ward: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, SourceError> {
    if store.ward_keys().await?.iter().any(|k| k.ward == ward) {
        return Ok(None);
    }
    let passphrase = sotay_seal::recovery_passphrase();
    let (recovery_secret, recovery_public) = sotay_seal::generate();
    let recovery = RecoveryRow {
        ward: ward.to_owned(),
        public_key: recovery_public.to_base64(),
        wrapped: sotay_seal::wrap_with_passphrase(
            &passphrase,
            &recovery_wrap_label(ward),
            &recovery_secret,
        )?,
        created_at: now,
    };
    let (secret, row) = new_ward_key(ward, now);
    let copy = seal_copy(
        &row.key_id,
        &recovery_holder(ward),
        &recovery_public,
        &secret,
    )?;
    store
        .add_ward_key(&row, &[copy], Some(&recovery), None)
        .await?;
    Ok(Some(passphrase))
}

/// A new source key for `ward`'s new tips. Old tips stay readable: the old
/// keys stay sealed to the same holders, and the new one is sealed to the
/// recovery identity and to every officer with the permission (their
/// public keys suffice). Returns the new key's id.
/// Copies of `keys` (a merged ward's, opened with its recovery passphrase)
/// for the ward `into` that takes them over in a ward merge: one for its
/// recovery identity, so its own passphrase recovers them from now on, and
/// one for each of its officers who may see sources. Refused when `into`
/// has no recovery identity yet (`admin ward init-key` first).
pub async fn copies_for_merge(
    store: &DynStore,
    into: &str,
    keys: &WardSecrets,
) -> Result<Vec<KeyCopy>, SourceError> {
    let recovery = store
        .ward_recovery(into)
        .await?
        .ok_or_else(|| SourceError::NoRecovery(into.to_owned()))?;
    let mut holders = vec![(
        recovery_holder(into),
        PublicKey::from_base64(&recovery.public_key)?,
    )];
    for o in store
        .officers(&crate::store::Scope::Ward(into.to_owned()))
        .await?
    {
        if let (true, Some(pk)) = (o.sees_sources, &o.key_public) {
            holders.push((officer_holder(&o.username), PublicKey::from_base64(pk)?));
        }
    }
    let mut copies = Vec::new();
    for (key_id, secret) in keys {
        for (holder, pk) in &holders {
            copies.push(seal_copy(key_id, holder, pk, secret)?);
        }
    }
    Ok(copies)
}

pub async fn rotate_ward_key(
    store: &DynStore,
    ward: &str,
    now: DateTime<Utc>,
    audit: Option<&NewAudit>,
) -> Result<String, SourceError> {
    let recovery = store
        .ward_recovery(ward)
        .await?
        .ok_or_else(|| SourceError::NoRecovery(ward.to_owned()))?;
    let (secret, row) = new_ward_key(ward, now);
    let mut copies = vec![seal_copy(
        &row.key_id,
        &recovery_holder(ward),
        &PublicKey::from_base64(&recovery.public_key)?,
        &secret,
    )?];
    for o in store
        .officers(&crate::store::Scope::Ward(ward.to_owned()))
        .await?
    {
        if let (true, Some(pk)) = (o.sees_sources, &o.key_public) {
            copies.push(seal_copy(
                &row.key_id,
                &officer_holder(&o.username),
                &PublicKey::from_base64(pk)?,
                &secret,
            )?);
        }
    }
    store.add_ward_key(&row, &copies, None, audit).await?;
    Ok(row.key_id)
}

/// Ward secrets by key id.
pub type WardSecrets = Vec<(String, SecretKey)>;

/// The ward keys `holder` holds, opened with the holder's secret.
pub async fn held_keys(
    store: &DynStore,
    holder: &str,
    holder_secret: &SecretKey,
) -> Result<WardSecrets, SourceError> {
    store
        .key_copies(holder)
        .await?
        .into_iter()
        .map(|c| {
            let secret =
                sotay_seal::open_key(holder_secret, &copy_label(&c.key_id, holder), &c.sealed)?;
            Ok((c.key_id, secret))
        })
        .collect()
}

/// The ward keys of `ward`, opened with the recovery passphrase.
pub async fn recovered_keys(
    store: &DynStore,
    ward: &str,
    passphrase: &str,
) -> Result<WardSecrets, SourceError> {
    let recovery = store
        .ward_recovery(ward)
        .await?
        .ok_or_else(|| SourceError::NoRecovery(ward.to_owned()))?;
    let secret = sotay_seal::unwrap_with_passphrase(
        &sotay_seal::normalize_passphrase(passphrase),
        &recovery_wrap_label(ward),
        &recovery.wrapped,
    )
    .map_err(|_| SourceError::BadPassphrase)?;
    held_keys(store, &recovery_holder(ward), &secret).await
}

/// Grants `username` the permission: every key in `keys` sealed to them.
pub async fn grant(
    store: &DynStore,
    username: &str,
    keys: &WardSecrets,
    audit: Option<&NewAudit>,
) -> Result<(), SourceError> {
    let officer = store
        .officer(username)
        .await?
        .ok_or_else(|| SourceError::UnknownOfficer(username.to_owned()))?;
    let pk = officer
        .key_public
        .as_deref()
        .ok_or_else(|| SourceError::NoOfficerKey(username.to_owned()))
        .and_then(|pk| Ok(PublicKey::from_base64(pk)?))?;
    let holder = officer_holder(username);
    let copies = keys
        .iter()
        .map(|(key_id, secret)| seal_copy(key_id, &holder, &pk, secret))
        .collect::<Result<Vec<_>, _>>()?;
    if copies.is_empty() {
        return Err(SourceError::NotHeld);
    }
    if !store
        .set_source_access(username, Some(&copies), audit)
        .await?
    {
        return Err(SourceError::UnknownOfficer(username.to_owned()));
    }
    Ok(())
}

/// Opens one sealed source of tip `report_id` with the ward keys held.
pub fn reveal(
    keys: &WardSecrets,
    report_id: ReportId,
    sealed: &SealedSource,
) -> Result<SourceSecret, SourceError> {
    let (_, secret) = keys
        .iter()
        .find(|(id, _)| *id == sealed.key_id)
        .ok_or(SourceError::NotHeld)?;
    Ok(sotay_seal::open_source(secret, report_id, sealed)?)
}

/// Officers' secret keys, unwrapped at login, held in this process's
/// memory only, by the hash of their session cookie. Logging out, an
/// expired session and a restart drop them.
#[derive(Default)]
pub struct SessionKeys {
    keys: Mutex<HashMap<String, (Instant, SecretKey)>>,
}

impl SessionKeys {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, SecretKey)>> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds `secret` for the session `token_hash`, forgetting keys of
    /// sessions older than `ttl`.
    pub fn insert(&self, token_hash: &str, secret: SecretKey, ttl: Duration) {
        let mut map = self.map();
        map.retain(|_, (at, _)| at.elapsed() < ttl);
        map.insert(token_hash.to_owned(), (Instant::now(), secret));
    }

    pub fn get(&self, token_hash: &str) -> Option<SecretKey> {
        self.map().get(token_hash).map(|(_, k)| k.clone())
    }

    pub fn remove(&self, token_hash: &str) {
        self.map().remove(token_hash);
    }
}

/// The current public key of each ward, for ingest and `server-info`,
/// read from the store at most every few seconds.
pub struct KeyCache {
    ttl: Duration,
    cached: tokio::sync::Mutex<Option<(Instant, Vec<WardKeyRow>)>>,
}

impl KeyCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// Every ward key (current and retired).
    pub async fn keys(&self, store: &DynStore) -> Result<Vec<WardKeyRow>, StoreError> {
        let mut cached = self.cached.lock().await;
        if let Some((at, keys)) = cached.as_ref()
            && at.elapsed() < self.ttl
        {
            return Ok(keys.clone());
        }
        let keys = store.ward_keys().await?;
        *cached = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }

    /// Forgets the cached keys (after a rotation in this process).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}
