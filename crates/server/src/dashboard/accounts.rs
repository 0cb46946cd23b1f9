//! Officer accounts: argon2id password hashes, login with lock-out after
//! repeated failures, sessions with expiry and a CSRF token each.
//!
//! Officers' passwords are guessable secrets (unlike device tokens), so
//! they get a slow, salted hash; session cookies are random and long, so
//! like tokens they are stored as a plain SHA-256.

use crate::store::{DynStore, NewAudit, OfficerRow, SessionRow, StoreError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use rand::RngCore;

/// An officer's role. `officer` reads and acts on the whole ward; `admin`
/// also manages devices and officers and reads the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Officer,
    Admin,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = AccountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "officer" => Ok(Role::Officer),
            "admin" => Ok(Role::Admin),
            other => Err(AccountError::BadRole(other.to_owned())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("unknown role {0:?}: use officer or admin")]
    BadRole(String),
    #[error("a province officer reads every ward but changes none, so cannot be an admin")]
    ProvinceAdmin,
    #[error("no ward {0:?}")]
    UnknownWard(String),
    #[error("{0}")]
    WardRequired(String),
    #[error("username must be 2–40 characters of a–z, 0–9, '.', '_' or '-'")]
    BadUsername,
    #[error("password must be at least {0} characters")]
    WeakPassword(usize),
    #[error("officer {0:?} exists already")]
    Exists(String),
    #[error("hashing the password failed")]
    Hash,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("the new password must differ from the current one")]
    SamePassword,
    #[error("the two new passwords differ")]
    Mismatch,
    #[error("no officer {0:?}")]
    Unknown(String),
    #[error("an admin cannot deactivate themselves")]
    SelfDeactivation,
}

/// Deactivates an officer on behalf of the admin `by`: their sessions end
/// at once and they can no longer log in; audited as `deactivate-officer`
/// in the same transaction. An admin cannot deactivate themselves, so the
/// ward is never left without the admin who could undo a mistake.
pub async fn deactivate_officer(
    store: &DynStore,
    by: &str,
    username: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    if username == by {
        return Err(AccountError::SelfDeactivation);
    }
    let audit = NewAudit {
        at: now,
        username: by.to_owned(),
        action: "deactivate-officer".into(),
        target: username.to_owned(),
        detail: String::new(),
        ward: store.officer(username).await?.and_then(|o| o.ward),
    };
    if store
        .deactivate_officer(username, now, Some(&audit))
        .await?
    {
        Ok(())
    } else {
        Err(AccountError::Unknown(username.to_owned()))
    }
}

/// Shortest password accepted.
pub const PASSWORD_MIN: usize = 10;

/// Why a login was refused. The page shows one message for both, so a
/// guesser cannot tell a wrong username from a wrong password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    BadCredentials,
    /// Too many failures: the account is locked until this time.
    Locked(DateTime<Utc>),
}

/// Who chose an account's password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordOrigin {
    /// The officer typed it themself: nothing to change.
    Own,
    /// Someone else typed it (an admin, with `admin officer add` or the
    /// dashboard's form) and passed it on: the officer must choose their
    /// own at the first login, before anything else.
    Assigned,
}

/// Where a new officer belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficerWard<'a> {
    /// The server's only ward (refused when it has none or several).
    OnlyWard,
    Ward(&'a str),
    /// The province: reads every ward, changes none.
    Province,
}

/// An officer account to create.
#[derive(Debug, Clone, Copy)]
pub struct NewOfficer<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub origin: PasswordOrigin,
    pub ward: OfficerWard<'a>,
}

impl<'a> NewOfficer<'a> {
    /// An officer who chose `password` themselves ([`PasswordOrigin::Own`]).
    pub fn own(username: &'a str, password: &'a str, role: Role) -> Self {
        Self {
            username,
            password,
            role,
            origin: PasswordOrigin::Own,
            ward: OfficerWard::OnlyWard,
        }
    }
}

/// Creates an officer with an argon2id hash of the password and their own
/// source key pair; `audit` is written in the same transaction when the
/// account is created. Usernames are 2–40 characters of a–z, 0–9, `.`,
/// `_`, `-`; passwords at least [`PASSWORD_MIN`] characters.
pub async fn add_officer(
    store: &DynStore,
    officer: NewOfficer<'_>,
    now: DateTime<Utc>,
    audit: Option<&NewAudit>,
) -> Result<(), AccountError> {
    let NewOfficer {
        username,
        password,
        role,
        origin,
        ward,
    } = officer;
    let ward = match ward {
        OfficerWard::Province if role == Role::Admin => return Err(AccountError::ProvinceAdmin),
        OfficerWard::Province => None,
        OfficerWard::Ward(w) => Some(
            crate::places::resolve_ward(store, Some(w))
                .await
                .map_err(|_| AccountError::UnknownWard(w.to_owned()))?
                .code,
        ),
        OfficerWard::OnlyWard => Some(
            crate::places::resolve_ward(store, None)
                .await
                .map_err(|e| AccountError::WardRequired(e.to_string()))?
                .code,
        ),
    };
    let username = username.trim();
    let valid = (2..=40).contains(&username.chars().count())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !valid {
        return Err(AccountError::BadUsername);
    }
    if password.chars().count() < PASSWORD_MIN {
        return Err(AccountError::WeakPassword(PASSWORD_MIN));
    }
    let (key_public, key_wrapped) =
        crate::sources::new_officer_key(username, password).map_err(|_| AccountError::Hash)?;
    let row = OfficerRow {
        username: username.to_owned(),
        password_hash: hash_password(password)?,
        role: role.code().to_owned(),
        created_at: now,
        failed_logins: 0,
        locked_until: None,
        deactivated_at: None,
        key_public: Some(key_public),
        key_wrapped: Some(key_wrapped),
        sees_sources: false,
        must_change_password: origin == PasswordOrigin::Assigned,
        ward: ward.clone(),
    };
    let audit = audit.map(|a| NewAudit {
        ward: ward.clone(),
        ..a.clone()
    });
    let audit = audit.as_ref();
    if store.add_officer(&row, audit).await? {
        Ok(())
    } else {
        Err(AccountError::Exists(username.to_owned()))
    }
}

pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| AccountError::Hash)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| AccountError::Hash)
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Argon2 runs on the blocking pool, at most as many at once as there are
/// cores: a burst of bogus logins queues here instead of stalling the
/// async workers that serve every device's sync.
async fn verify_off_the_workers(password: &str, phc: &str) -> bool {
    static HASHING: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let gate = HASHING.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    });
    let Ok(_permit) = gate.acquire().await else {
        return false;
    };
    let (password, phc) = (password.to_owned(), phc.to_owned());
    tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false)
}

/// A hash of nothing anyone knows, verified against when the username does
/// not exist so that both refusals take as long.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password never used").unwrap_or_default())
}

/// A successful login: the session cookie's value, the session, and the
/// officer's secret key unwrapped with the password (for the session's
/// memory only; see [`crate::sources`]).
pub struct LoggedIn {
    pub token: String,
    pub session: SessionRow,
    pub secret: Option<sotay_seal::SecretKey>,
}

/// Checks a login; on success creates a session and returns its cookie
/// value and CSRF token. `failures_allowed` failures in a row lock the
/// account for `lock_for`.
pub async fn login(
    store: &DynStore,
    config: &crate::Config,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<Result<LoggedIn, LoginRefusal>, AccountError> {
    let Some(officer) = store
        .officer(username.trim())
        .await?
        .filter(|o| o.deactivated_at.is_none())
    else {
        let _ = verify_off_the_workers(password, decoy_hash()).await;
        return Ok(Err(LoginRefusal::BadCredentials));
    };
    if let Some(until) = officer.locked_until
        && until > now
    {
        return Ok(Err(LoginRefusal::Locked(until)));
    }
    if !verify_off_the_workers(password, &officer.password_hash).await {
        let allowed = i64::try_from(config.login_failures_allowed).unwrap_or(i64::MAX);
        let audit = NewAudit {
            at: now,
            username: officer.username.clone(),
            action: "login-locked".into(),
            target: String::new(),
            detail: format!("{allowed} failures"),
            ward: officer.ward.clone(),
        };
        let locked = store
            .login_failed(
                &officer.username,
                allowed,
                now + config.login_lockout,
                &audit,
            )
            .await?;
        return Ok(Err(match locked {
            Some(until) => LoginRefusal::Locked(until),
            None => LoginRefusal::BadCredentials,
        }));
    }
    // A correct password while another request just locked the account
    // (parallel guesses) is refused too.
    if let Some(until) = store
        .officer(&officer.username)
        .await?
        .and_then(|o| o.locked_until)
        .filter(|u| *u > now)
    {
        return Ok(Err(LoginRefusal::Locked(until)));
    }
    store
        .set_login_state(&officer.username, 0, None, None)
        .await?;
    let token = crate::auth::new_token();
    let csrf = crate::auth::new_token();
    let expires_at = now + config.session_ttl;
    store
        .create_session(
            &crate::auth::hash_secret(&token),
            &officer.username,
            &csrf,
            expires_at,
            now,
        )
        .await?;
    store
        .audit(&NewAudit {
            at: now,
            username: officer.username.clone(),
            action: "login".into(),
            target: String::new(),
            detail: String::new(),
            ward: officer.ward.clone(),
        })
        .await?;
    // A key that does not unwrap (it cannot, with the right password,
    // unless the row was tampered with) costs the officer the sources,
    // not the login.
    let secret = match crate::sources::officer_secret_at_login(store, &officer, password).await {
        Ok(secret) => Some(secret),
        Err(e) => {
            tracing::warn!(officer = %officer.username, error = %e, "officer key not available");
            None
        }
    };
    let levels = match &officer.ward {
        Some(ward) => store
            .wards()
            .await?
            .into_iter()
            .find(|w| w.code == *ward)
            .map(|w| (w.block_level, w.group_level)),
        None => None,
    };
    Ok(Ok(LoggedIn {
        token,
        session: SessionRow {
            username: officer.username,
            role: officer.role,
            csrf,
            expires_at,
            sees_sources: officer.sees_sources,
            must_change_password: officer.must_change_password,
            ward: officer.ward,
            levels,
        },
        secret,
    }))
}

/// An officer's own change of password, as they typed it.
#[derive(Debug, Clone, Copy)]
pub struct OwnPasswordChange<'a> {
    pub username: &'a str,
    pub current: &'a str,
    pub new: &'a str,
    /// The new password typed a second time.
    pub again: &'a str,
    /// The session making the change: it stays, every other one ends.
    pub keep_session: &'a str,
}

/// An officer changes their own password: checked against the current
/// one, their key rewrapped under the new one (the same key, so the ward
/// keys sealed to it stay usable), every other session ended, audited.
/// Returns the key, for the session that made the change.
pub async fn change_password(
    store: &DynStore,
    change: &OwnPasswordChange<'_>,
    audit: Option<&NewAudit>,
) -> Result<Option<sotay_seal::SecretKey>, AccountError> {
    let OwnPasswordChange {
        username,
        current,
        new,
        again,
        keep_session,
    } = *change;
    if new != again {
        return Err(AccountError::Mismatch);
    }
    let officer = store
        .officer(username)
        .await?
        .ok_or_else(|| AccountError::Unknown(username.to_owned()))?;
    if !verify_off_the_workers(current, &officer.password_hash).await {
        return Err(AccountError::WrongPassword);
    }
    if new.chars().count() < PASSWORD_MIN {
        return Err(AccountError::WeakPassword(PASSWORD_MIN));
    }
    // Whoever set the current one (an admin, at creation or a reset)
    // would still know it.
    if new == current {
        return Err(AccountError::SamePassword);
    }
    let secret = crate::sources::officer_secret_at_login(store, &officer, current)
        .await
        .map_err(|_| AccountError::Hash)?;
    let (key_public, key_wrapped) =
        crate::sources::wrap_officer_key(username, new, &secret).map_err(|_| AccountError::Hash)?;
    let change = crate::store::PasswordChange {
        username: username.to_owned(),
        password_hash: hash_password(new)?,
        key_public,
        key_wrapped,
        keep_session: Some(keep_session.to_owned()),
        reset: false,
    };
    if !store.set_password(&change, audit).await? {
        return Err(AccountError::Unknown(username.to_owned()));
    }
    Ok(Some(secret))
}

/// An admin resets an officer's password (`admin officer reset-password`):
/// a new key pair (the old one cannot be unwrapped without the old
/// password), every session ended, the "see sources" permission
/// withdrawn until an officer who holds the ward keys grants it again,
/// and the officer made to choose their own password at the next login.
pub async fn reset_password(
    store: &DynStore,
    username: &str,
    new: &str,
    audit: Option<&NewAudit>,
) -> Result<(), AccountError> {
    if new.chars().count() < PASSWORD_MIN {
        return Err(AccountError::WeakPassword(PASSWORD_MIN));
    }
    let (key_public, key_wrapped) =
        crate::sources::new_officer_key(username, new).map_err(|_| AccountError::Hash)?;
    let change = crate::store::PasswordChange {
        username: username.to_owned(),
        password_hash: hash_password(new)?,
        key_public,
        key_wrapped,
        keep_session: None,
        reset: true,
    };
    if !store.set_password(&change, audit).await? {
        return Err(AccountError::Unknown(username.to_owned()));
    }
    Ok(())
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("mật khẩu dài").expect("hash");
        let b = hash_password("mật khẩu dài").expect("hash");
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("mật khẩu dài", &a));
        assert!(!verify_password("mat khau dai", &a));
        assert!(!verify_password("x", "not a hash"));
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
