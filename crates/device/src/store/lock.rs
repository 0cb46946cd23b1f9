//! The app's PIN: six digits, never a trivial one, kept only as an
//! argon2id hash. Wrong attempts bring growing delays ([`wait_after`]),
//! counted in the store so a restart does not reset them; never a silent
//! lock-out (the UI shows the countdown), and a forgotten PIN is reset only
//! by erasing the device's data ([`super::Store::erase_all`]).
//!
//! The policy is the engine's: the shell only asks [`check_pin`],
//! [`super::Store::unlock`] and [`LOCK_AFTER_BACKGROUND`].

use super::{Store, parse_ts, ts};
use crate::error::{DeviceError, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, TimeDelta, Utc};
use rand::RngCore;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sotay_domain::validation::{FieldError, Rule, ValidationErrors};

/// How long the app may stay in the background before it asks for the
/// PIN again.
pub const LOCK_AFTER_BACKGROUND: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// The longest wait between two attempts.
const MAX_WAIT: TimeDelta = TimeDelta::minutes(15);

/// Whether a PIN is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PinStatus {
    pub pin_set: bool,
    /// Seconds before the next attempt is taken (0: now).
    pub wait_seconds: u64,
    /// Wrong attempts in a row.
    pub failures: u32,
}

/// What the lock screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LockStatus {
    pub pin_set: bool,
    pub locked: bool,
    /// Seconds before the next attempt is taken.
    pub wait_seconds: u64,
    pub failures: u32,
    /// Whether the device is enrolled (a PIN is chosen after enrollment).
    pub enrolled: bool,
    /// Changes not yet on the server: what erasing would lose.
    pub unsent: u64,
}

impl LockStatus {
    /// The store's side of it; `locked` is the app's.
    pub fn read(store: &Store, locked: bool) -> Result<Self> {
        let p = store.pin_status(Utc::now())?;
        Ok(Self {
            pin_set: p.pin_set,
            locked: locked && p.pin_set,
            wait_seconds: p.wait_seconds,
            failures: p.failures,
            enrolled: store.enrollment()?.is_some(),
            unsent: store.pending_count()?,
        })
    }
}

/// What an attempt to unlock gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum UnlockOutcome {
    Unlocked,
    /// Wrong: the next attempt is taken in `wait_seconds`.
    Wrong {
        failures: u32,
        wait_seconds: u64,
    },
    /// Too early: not even checked.
    Wait {
        wait_seconds: u64,
    },
}

/// The wait after `failures` wrong attempts in a row: 2 s after the first,
/// doubling, at most 15 minutes.
pub fn wait_after(failures: u32) -> TimeDelta {
    if failures == 0 {
        return TimeDelta::zero();
    }
    let secs = 2i64.saturating_mul(1i64 << failures.saturating_sub(1).min(20));
    TimeDelta::seconds(secs).min(MAX_WAIT)
}

/// The PIN rules: exactly six digits, and none of those tried first by
/// anyone holding the phone (one digit repeated, a run up or down, a
/// pair or triple repeated, a few well-known ones).
pub fn check_pin(pin: &str) -> std::result::Result<(), ValidationErrors> {
    let refuse = |rule| Err(ValidationErrors(vec![FieldError::new("pin", rule)]));
    let d: Vec<u8> = pin.bytes().collect();
    if d.len() != 6 || !d.iter().all(u8::is_ascii_digit) {
        return refuse(Rule::BadFormat);
    }
    let steps: Vec<i16> = d
        .windows(2)
        .map(|w| i16::from(w[1]) - i16::from(w[0]))
        .collect();
    let run = steps.iter().all(|s| *s == steps[0] && s.abs() <= 1);
    let repeats = |n: usize| d.iter().enumerate().all(|(i, c)| *c == d[i % n]);
    const KNOWN: &[&str] = &[
        "112233", "123321", "654321", "147258", "159753", "111222", "696969", "520520", "131313",
    ];
    if run || repeats(2) || repeats(3) || KNOWN.contains(&pin) {
        return refuse(Rule::TooSimple);
    }
    Ok(())
}

fn hash(pin: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| DeviceError::Corrupt(format!("salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DeviceError::Corrupt(format!("hashing the PIN: {e}")))
}

impl Store {
    /// Whether a PIN is set and how long before the next attempt.
    pub fn pin_status(&self, now: DateTime<Utc>) -> Result<PinStatus> {
        let row: Option<(u32, Option<String>)> = self
            .conn
            .query_row(
                "SELECT failures, wait_until FROM app_lock WHERE id = 1",
                [],
                |r| Ok((r.get("failures")?, r.get("wait_until")?)),
            )
            .optional()?;
        Ok(match row {
            None => PinStatus {
                pin_set: false,
                wait_seconds: 0,
                failures: 0,
            },
            Some((failures, until)) => PinStatus {
                pin_set: true,
                wait_seconds: seconds_until(until.as_deref(), now)?,
                failures,
            },
        })
    }

    /// Sets (or replaces) the PIN; a trivial one is refused.
    pub fn set_pin(&mut self, pin: &str) -> Result<()> {
        check_pin(pin)?;
        let h = hash(pin)?;
        self.conn.execute(
            "INSERT INTO app_lock (id, pin_hash, failures, wait_until) VALUES (1, ?1, 0, NULL)
             ON CONFLICT (id) DO UPDATE SET pin_hash = excluded.pin_hash, failures = 0, wait_until = NULL",
            params![h],
        )?;
        Ok(())
    }

    /// One attempt at `now`. Too early: refused unchecked. Wrong: the
    /// failure is counted and the next wait set, in one transaction.
    pub fn unlock(&mut self, pin: &str, now: DateTime<Utc>) -> Result<UnlockOutcome> {
        let tx = self.conn.transaction()?;
        let row: Option<(String, u32, Option<String>)> = tx
            .query_row(
                "SELECT pin_hash, failures, wait_until FROM app_lock WHERE id = 1",
                [],
                |r| Ok((r.get("pin_hash")?, r.get("failures")?, r.get("wait_until")?)),
            )
            .optional()?;
        let Some((phc, failures, until)) = row else {
            return Ok(UnlockOutcome::Unlocked);
        };
        let wait = seconds_until(until.as_deref(), now)?;
        if wait > 0 {
            return Ok(UnlockOutcome::Wait { wait_seconds: wait });
        }
        let ok = PasswordHash::new(&phc).is_ok_and(|h| {
            argon2::Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        });
        if ok {
            tx.execute(
                "UPDATE app_lock SET failures = 0, wait_until = NULL WHERE id = 1",
                [],
            )?;
            tx.commit()?;
            return Ok(UnlockOutcome::Unlocked);
        }
        let failures = failures.saturating_add(1);
        let wait = wait_after(failures);
        tx.execute(
            "UPDATE app_lock SET failures = ?1, wait_until = ?2 WHERE id = 1",
            params![failures, ts(now + wait)],
        )?;
        tx.commit()?;
        Ok(UnlockOutcome::Wrong {
            failures,
            wait_seconds: u64::try_from(wait.num_seconds()).unwrap_or_default(),
        })
    }
}

fn seconds_until(until: Option<&str>, now: DateTime<Utc>) -> Result<u64> {
    let Some(until) = until else { return Ok(0) };
    let left = parse_ts(until)? - now;
    // Rounded up: "1 s left" until it is really time.
    let ms = left.num_milliseconds().max(0);
    Ok(u64::try_from((ms + 999) / 1000).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_anyone_would_try_first_are_refused() {
        for bad in [
            "000000",
            "111111",
            "123456",
            "654321",
            "234567",
            "012345",
            "987654",
            "121212",
            "123123",
            "112233",
            "12345",
            "1234567",
            "12a456",
            "１２３４５６",
        ] {
            assert!(check_pin(bad).is_err(), "{bad}");
        }
        for good in ["482915", "730264", "190377", "555123"] {
            assert!(check_pin(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn waits_grow_and_are_bounded() {
        let w: Vec<i64> = (0..14).map(|n| wait_after(n).num_seconds()).collect();
        assert_eq!(&w[..6], &[0, 2, 4, 8, 16, 32]);
        assert!(w.windows(2).all(|p| p[1] >= p[0]));
        assert_eq!(*w.last().unwrap_or(&0), MAX_WAIT.num_seconds());
    }
}
