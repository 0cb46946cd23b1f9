//! Pinning a server's TLS key: the SHA-256 of its certificate's
//! SubjectPublicKeyInfo (as in HPKP, RFC 7469), base64url without padding.
//! The enrollment link carries it (`&pin=…`) so a ward can run its server
//! with a self-signed certificate on its own network, and a device accepts
//! exactly that key and no other.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use sha2::{Digest, Sha256};

/// Why a pin could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("not an X.509 certificate: {0}")]
    BadCertificate(String),
    #[error("no certificate in the PEM file: {0}")]
    BadPem(String),
}

/// The pin of a DER certificate.
pub fn spki_pin(cert: &CertificateDer<'_>) -> Result<String, PinError> {
    let ee = webpki::EndEntityCert::try_from(cert)
        .map_err(|e| PinError::BadCertificate(format!("{e:?}")))?;
    let spki = ee.subject_public_key_info();
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(spki.as_ref())))
}

/// The pin of the first certificate (the server's own) of a PEM chain.
pub fn spki_pin_of_pem(pem: &[u8]) -> Result<String, PinError> {
    let cert = CertificateDer::pem_slice_iter(pem)
        .next()
        .ok_or_else(|| PinError::BadPem("empty".into()))?
        .map_err(|e| PinError::BadPem(e.to_string()))?;
    spki_pin(&cert)
}

/// Whether `s` has the shape of a pin (43 base64url characters).
pub fn is_pin(s: &str) -> bool {
    s.len() == 43 && URL_SAFE_NO_PAD.decode(s).is_ok_and(|b| b.len() == 32)
}
