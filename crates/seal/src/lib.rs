//! `sotay-seal`: who informed stays closed.
//!
//! Three operations, each a standard construction from a well-kept crate
//! (nothing home-made):
//! - **Sealing a tip's secret** (a named informant's name and phone, the
//!   confidential note) to the ward's X25519 source key with HPKE (RFC 9180,
//!   base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305;
//!   the `hpke` crate). The associated data is the report's identity (ward,
//!   report id, revision, key id), so a block moved to another report does
//!   not open. The plaintext is padded to a multiple of [`PAD`] bytes so its
//!   length says little about the name.
//! - **Sealing a ward key to a holder** (an officer allowed to see sources,
//!   or the ward's recovery identity): the same HPKE suite, the ward key's
//!   32 bytes as plaintext, the holder and key id as associated data.
//! - **Wrapping a secret key with a passphrase** (an officer's key under
//!   their password, the recovery identity under the recovery passphrase):
//!   argon2id derives a 256-bit key from the passphrase and a random salt;
//!   XChaCha20-Poly1305 with a random nonce encrypts, the label as
//!   associated data.
//!
//! Invariant: secret key bytes live in [`SecretKey`], which zeroes its
//! memory on drop and never prints.
//!
//! Also here: [`pin`], the SHA-256 of a server's TLS public key that an
//! enrollment link carries.

pub mod pin;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead as _, KeyInit, Payload};
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sotay_domain::ReportId;
use sotay_domain::tip::{SealedSource, SourceSecret, Tip};
use zeroize::{Zeroize, Zeroizing};

type Kem = X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::ChaCha20Poly1305;

/// The plaintext of a sealed source is padded to a multiple of this many
/// bytes.
pub const PAD: usize = 256;

const SOURCE_INFO: &[u8] = b"sotay source v1";
const KEY_INFO: &[u8] = b"sotay key copy v1";
const WRAP_PREFIX: &str = "sotay-wrap-v1";

/// Why sealing or opening failed. Opening fails the same way whatever was
/// wrong (a wrong key, a moved block, a flipped bit): the caller learns
/// only that the block does not open here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the sealed data is malformed")]
    Malformed,
    #[error("the sealed data does not open with this key in this place")]
    DoesNotOpen,
    #[error("sealing failed")]
    Seal,
    #[error("deriving the key from the passphrase failed")]
    Kdf,
}

pub type Result<T, E = SealError> = std::result::Result<T, E>;

/// An X25519 secret key. Zeroed on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    fn hpke(&self) -> Result<<Kem as hpke::Kem>::PrivateKey> {
        <Kem as hpke::Kem>::PrivateKey::from_bytes(&self.0[..]).map_err(|_| SealError::Malformed)
    }

    fn from_slice(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| SealError::Malformed)?;
        Ok(Self(Zeroizing::new(arr)))
    }

    /// The public half.
    pub fn public(&self) -> Result<PublicKey> {
        let sk = self.hpke()?;
        let pk = <Kem as hpke::Kem>::sk_to_pk(&sk);
        PublicKey::from_slice(&pk.to_bytes())
    }
}

/// An X25519 public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    fn from_slice(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| SealError::Malformed)?;
        Ok(Self(arr))
    }

    fn hpke(&self) -> Result<<Kem as hpke::Kem>::PublicKey> {
        <Kem as hpke::Kem>::PublicKey::from_bytes(&self.0).map_err(|_| SealError::Malformed)
    }

    /// Base64, as published and stored.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    pub fn from_base64(s: &str) -> Result<Self> {
        Self::from_slice(&B64.decode(s.trim()).map_err(|_| SealError::Malformed)?)
    }

    /// A short stable id: the first 8 bytes of SHA-256 over a label and
    /// the key, in hex.
    pub fn key_id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"sotay ward key id v1");
        h.update(self.0);
        let d = h.finalize();
        d[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A fresh X25519 key pair from the operating system's random source.
pub fn generate() -> (SecretKey, PublicKey) {
    let (sk, pk) = Kem::gen_keypair(&mut rand::rng());
    let secret = SecretKey(Zeroizing::new(sk.to_bytes().into()));
    let public = PublicKey(pk.to_bytes().into());
    (secret, public)
}

/// Where a sealed source belongs: the report's identity, bound into the
/// sealed block as associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceContext<'a> {
    pub ward: &'a str,
    pub report_id: ReportId,
    pub rev: u32,
}

fn source_aad(ward: &str, report_id: ReportId, rev: u32, key_id: &str) -> Vec<u8> {
    format!("sotay-source/v1\n{ward}\n{report_id}\n{rev}\n{key_id}").into_bytes()
}

/// Seals `secret` to the ward key `ward_key` for the report in `ctx`.
pub fn seal_source(
    ward_key: &PublicKey,
    ctx: SourceContext<'_>,
    secret: &SourceSecret,
) -> Result<SealedSource> {
    let mut plain = Zeroizing::new(serde_json::to_vec(secret).map_err(|_| SealError::Seal)?);
    let padded = plain.len().div_ceil(PAD).max(1) * PAD;
    plain.resize(padded, b' ');
    let key_id = ward_key.key_id();
    let aad = source_aad(ctx.ward, ctx.report_id, ctx.rev, &key_id);
    let (enc, ciphertext) = hpke::single_shot_seal::<Aead, Kdf, Kem, _>(
        &OpModeS::Base,
        &ward_key.hpke()?,
        SOURCE_INFO,
        &plain,
        &aad,
        &mut rand::rng(),
    )
    .map_err(|_| SealError::Seal)?;
    Ok(SealedSource {
        key_id,
        ward: ctx.ward.to_owned(),
        rev: ctx.rev,
        enc: B64.encode(enc.to_bytes()),
        ciphertext: B64.encode(ciphertext),
    })
}

/// Opens a sealed source of the report `report_id` with the ward's secret
/// key. The ward and revision come from the block itself and are
/// authenticated with it; a block moved from another report does not
/// open.
pub fn open_source(
    ward_secret: &SecretKey,
    report_id: ReportId,
    sealed: &SealedSource,
) -> Result<SourceSecret> {
    let enc = B64
        .decode(&sealed.enc)
        .map_err(|_| SealError::Malformed)
        .and_then(|b| {
            <Kem as hpke::Kem>::EncappedKey::from_bytes(&b).map_err(|_| SealError::Malformed)
        })?;
    let ciphertext = B64
        .decode(&sealed.ciphertext)
        .map_err(|_| SealError::Malformed)?;
    let aad = source_aad(&sealed.ward, report_id, sealed.rev, &sealed.key_id);
    let plain = Zeroizing::new(
        hpke::single_shot_open::<Aead, Kdf, Kem>(
            &OpModeR::Base,
            &ward_secret.hpke()?,
            &enc,
            SOURCE_INFO,
            &ciphertext,
            &aad,
        )
        .map_err(|_| SealError::DoesNotOpen)?,
    );
    serde_json::from_slice(&plain).map_err(|_| SealError::Malformed)
}

/// The sealed form of `tip` for the report in `ctx`: its clear secret, if
/// any, sealed to `ward_key` and dropped. A tip without a clear secret is
/// returned as it is (a block sealed at an earlier revision is kept).
pub fn seal_tip(tip: Tip, ward_key: &PublicKey, ctx: SourceContext<'_>) -> Result<Tip> {
    match tip.clear_secret() {
        None => Ok(tip),
        Some(secret) => {
            let sealed = seal_source(ward_key, ctx, &secret)?;
            Ok(tip.into_sealed(sealed))
        }
    }
}

/// Seals the secret key `key` to `holder` (an officer's key or the ward's
/// recovery identity); `label` names the copy (the key id and the holder)
/// and must be given again to open it.
pub fn seal_key(holder: &PublicKey, label: &str, key: &SecretKey) -> Result<String> {
    let (enc, ct) = hpke::single_shot_seal::<Aead, Kdf, Kem, _>(
        &OpModeS::Base,
        &holder.hpke()?,
        KEY_INFO,
        &key.0[..],
        label.as_bytes(),
        &mut rand::rng(),
    )
    .map_err(|_| SealError::Seal)?;
    Ok(format!("{}.{}", B64.encode(enc.to_bytes()), B64.encode(ct)))
}

/// Opens a key sealed by [`seal_key`] with the holder's secret key.
pub fn open_key(holder: &SecretKey, label: &str, blob: &str) -> Result<SecretKey> {
    let (enc, ct) = blob.split_once('.').ok_or(SealError::Malformed)?;
    let enc = B64
        .decode(enc)
        .map_err(|_| SealError::Malformed)
        .and_then(|b| {
            <Kem as hpke::Kem>::EncappedKey::from_bytes(&b).map_err(|_| SealError::Malformed)
        })?;
    let ct = B64.decode(ct).map_err(|_| SealError::Malformed)?;
    let plain = Zeroizing::new(
        hpke::single_shot_open::<Aead, Kdf, Kem>(
            &OpModeR::Base,
            &holder.hpke()?,
            &enc,
            KEY_INFO,
            &ct,
            label.as_bytes(),
        )
        .map_err(|_| SealError::DoesNotOpen)?,
    );
    SecretKey::from_slice(&plain)
}

fn passphrase_key(passphrase: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    let mut out = Zeroizing::new([0u8; 32]);
    argon2::Argon2::default()
        .hash_password_into(passphrase.as_bytes(), salt, &mut out[..])
        .map_err(|_| SealError::Kdf)?;
    Ok(out)
}

/// Wraps `key` under `passphrase` (argon2id, then XChaCha20-Poly1305);
/// `label` is bound as associated data.
pub fn wrap_with_passphrase(passphrase: &str, label: &str, key: &SecretKey) -> Result<String> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    rand::rng().fill_bytes(&mut salt);
    rand::rng().fill_bytes(&mut nonce);
    let k = passphrase_key(passphrase, &salt)?;
    let cipher =
        chacha20poly1305::XChaCha20Poly1305::new_from_slice(&k[..]).map_err(|_| SealError::Seal)?;
    let ct = cipher
        .encrypt(
            (&nonce).into(),
            Payload {
                msg: &key.0[..],
                aad: label.as_bytes(),
            },
        )
        .map_err(|_| SealError::Seal)?;
    Ok(format!(
        "{WRAP_PREFIX}.{}.{}.{}",
        B64.encode(salt),
        B64.encode(nonce),
        B64.encode(ct)
    ))
}

/// Unwraps a key wrapped by [`wrap_with_passphrase`].
pub fn unwrap_with_passphrase(passphrase: &str, label: &str, blob: &str) -> Result<SecretKey> {
    let mut parts = blob.split('.');
    if parts.next() != Some(WRAP_PREFIX) {
        return Err(SealError::Malformed);
    }
    let mut next = || {
        parts
            .next()
            .ok_or(SealError::Malformed)
            .and_then(|p| B64.decode(p).map_err(|_| SealError::Malformed))
    };
    let (salt, nonce, ct) = (next()?, next()?, next()?);
    let nonce: [u8; 24] = nonce.try_into().map_err(|_| SealError::Malformed)?;
    let k = passphrase_key(passphrase, &salt)?;
    let cipher = chacha20poly1305::XChaCha20Poly1305::new_from_slice(&k[..])
        .map_err(|_| SealError::Malformed)?;
    let mut plain = cipher
        .decrypt(
            (&nonce).into(),
            Payload {
                msg: &ct,
                aad: label.as_bytes(),
            },
        )
        .map_err(|_| SealError::DoesNotOpen)?;
    let key = SecretKey::from_slice(&plain);
    plain.zeroize();
    key
}

/// The alphabet of recovery passphrases: Crockford's base32 (no I, L, O,
/// U), so a passphrase read aloud or copied by hand survives.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh recovery passphrase: 24 characters of base32 (120 random
/// bits) in six groups of four, "K7QM-3D9X-…".
pub fn recovery_passphrase() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| RECOVERY_ALPHABET[usize::from(b & 31)] as char)
        .collect();
    bytes.zeroize();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A recovery passphrase as typed: case, spaces and dashes do not matter.
pub fn normalize_passphrase(typed: &str) -> String {
    let clean: Vec<char> = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    clean
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_copy_opens_only_with_its_holder_and_label() {
        let (ward, _) = generate();
        let (holder, holder_pk) = generate();
        let (other, _) = generate();
        let blob = seal_key(&holder_pk, "k1:officer:lan", &ward).expect("seal");
        let opened = open_key(&holder, "k1:officer:lan", &blob).expect("open");
        assert_eq!(opened.0[..], ward.0[..]);
        assert_eq!(
            open_key(&other, "k1:officer:lan", &blob).err(),
            Some(SealError::DoesNotOpen)
        );
        assert_eq!(
            open_key(&holder, "k1:officer:minh", &blob).err(),
            Some(SealError::DoesNotOpen)
        );
    }

    #[test]
    fn a_wrapped_key_needs_the_passphrase_and_the_label() {
        let (key, pk) = generate();
        let blob = wrap_with_passphrase("mật khẩu dài", "officer:lan", &key).expect("wrap");
        let back = unwrap_with_passphrase("mật khẩu dài", "officer:lan", &blob).expect("unwrap");
        assert_eq!(back.public().expect("pk"), pk);
        assert!(unwrap_with_passphrase("sai", "officer:lan", &blob).is_err());
        assert!(unwrap_with_passphrase("mật khẩu dài", "officer:minh", &blob).is_err());
    }

    #[test]
    fn recovery_passphrases_are_long_and_forgiving() {
        let p = recovery_passphrase();
        assert_eq!(p.len(), 24 + 5);
        assert_ne!(p, recovery_passphrase());
        assert_eq!(normalize_passphrase(&p.to_lowercase().replace('-', " ")), p);
    }

    #[test]
    fn secret_keys_never_print() {
        let (k, _) = generate();
        assert_eq!(format!("{k:?}"), "SecretKey(<redacted>)");
    }
}
