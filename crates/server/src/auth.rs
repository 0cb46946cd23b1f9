//! Secrets: enrollment codes and bearer tokens, and their hashes.
//!
//! Both are random and long, so a plain SHA-256 is the right hash: slow
//! password hashes exist for guessable secrets, and these are not. Only
//! hashes are stored; a copied database cannot be used to sync.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Crockford's base32: no I, L, O or U, so a code read aloud or typed from
/// paper is hard to get wrong.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in an enrollment code: 20 × 5 = 100 random bits, far beyond
/// guessing even without the rate limit.
pub const CODE_LEN: usize = 20;

/// A new enrollment code, grouped for reading: `ABCD-EFGH-JKMN-PQRS-TVWX`.
pub fn new_enroll_code() -> String {
    let mut bytes = [0u8; CODE_LEN];
    rand::rng().fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The canonical form of a typed code: upper case, no separators, the
/// look-alikes `O`, `I` and `L` read as `0`, `1` and `1`. `None` when it
/// cannot be a code at all.
pub fn normalize_code(raw: &str) -> Option<String> {
    let s: String = raw
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    (s.len() == CODE_LEN && s.bytes().all(|b| ALPHABET.contains(&b))).then_some(s)
}

/// A new bearer token: 256 random bits, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// SHA-256, hex: how codes and tokens are stored and looked up.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_normalisation() {
        let code = new_enroll_code();
        assert_eq!(code.len(), CODE_LEN + 4);
        let n = normalize_code(&code).expect("valid");
        assert_eq!(normalize_code(&code.to_lowercase()), Some(n.clone()));
        assert_eq!(normalize_code(&n.replace('0', "o")), Some(n));
        assert_eq!(normalize_code("ABC"), None);
        assert_eq!(normalize_code(&"U".repeat(CODE_LEN)), None);
    }

    #[test]
    fn tokens_are_unique_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hash_secret(&a).len(), 64);
        assert_ne!(hash_secret(&a), a);
    }
}
