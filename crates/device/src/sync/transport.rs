//! How the device reaches its server, and what it refuses:
//! - plain `http://` to anything but this machine (127.0.0.0/8, `::1`,
//!   `localhost`), refused before any connection is made
//!   ([`SyncError::Insecure`]): the token and every tip would cross the
//!   network in clear;
//! - redirects: none is followed (a redirect could lead the token
//!   elsewhere);
//! - answers larger than [`SyncConfig::max_response_bytes`] after
//!   decompression ([`read_capped`]);
//! - with a pin (`&pin=…` in the enrollment link), any TLS key but the
//!   pinned one ([`PinnedKey`]): the ward may run a self-signed certificate
//!   on its own network, and nobody else's certificate is accepted, even
//!   one a public authority signed. Without a pin, the system's roots.

use super::{SyncConfig, SyncError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// The marker a pin mismatch leaves in the TLS error, so it is told apart
/// from an unreachable server (and not retried).
const PIN_MISMATCH: &str = "sotay: the server's TLS key is not the pinned one";

/// Refuses plain HTTP to another machine; `url` is already parsed.
pub(crate) fn check_address(url: &reqwest::Url) -> Result<(), SyncError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(SyncError::Insecure(url.as_str().to_owned())),
        other => Err(SyncError::BadAddress(format!(
            "{other}:// is not a server address"
        ))),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The HTTP client for one server: no redirects, timeouts from `config`,
/// and with `pin` exactly that TLS key.
pub(crate) fn http_client(
    config: &SyncConfig,
    pin: Option<&str>,
) -> Result<reqwest::Client, SyncError> {
    let mut b = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("sotay-device/", env!("CARGO_PKG_VERSION")));
    if let Some(pin) = pin {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| SyncError::Network(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedKey {
                pin: pin.to_owned(),
                provider,
            }))
            .with_no_client_auth();
        b = b.use_preconfigured_tls(tls);
    }
    b.build().map_err(|e| SyncError::Network(e.to_string()))
}

/// Accepts exactly the certificate whose public key hashes to `pin`, and
/// checks the handshake's signatures with that key (so presenting the
/// certificate without its private key fails). Names and dates are not
/// checked: the pin is the trust, as for a self-signed ward server.
#[derive(Debug)]
struct PinnedKey {
    pin: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedKey {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match sotay_seal::pin::spki_pin(end_entity) {
            Ok(pin) if pin == self.pin => Ok(ServerCertVerified::assertion()),
            _ => Err(rustls::Error::General(PIN_MISMATCH.into())),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A request's failure: a pin mismatch is its own error, anything else
/// that did not reach the server is a network error.
pub(crate) fn network_error(e: reqwest::Error) -> SyncError {
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = source {
        if s.to_string().contains(PIN_MISMATCH) {
            return SyncError::PinMismatch;
        }
        source = s.source();
    }
    if e.is_redirect() {
        return SyncError::Protocol("the server answered with a redirect; not followed".into());
    }
    // Without the URL: it is the server's address, already known, and the
    // message stays short enough to show.
    SyncError::Network(e.without_url().to_string())
}

/// The body of `resp`, refusing more than `max` bytes (after gzip
/// decompression, which reqwest does as the body is read).
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, SyncError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(network_error)? {
        if body.len() + chunk.len() > max {
            return Err(SyncError::Protocol(format!(
                "the server's answer is larger than {max} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) -> Result<(), SyncError> {
        check_address(&reqwest::Url::parse(s).expect("url"))
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        for ok in [
            "https://sotay.example.vn",
            "https://10.0.0.5:8443",
            "http://127.0.0.1:8787",
            "http://127.9.9.9",
            "http://localhost:8787",
            "http://[::1]:8787",
        ] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://sotay.example.vn",
            "http://10.0.0.5:8787",
            "http://192.168.1.10",
            "http://[::ffff:127.0.0.1]",
            "http://localhost.example.com",
            "http://128.0.0.1",
        ] {
            assert!(matches!(check(bad), Err(SyncError::Insecure(_))), "{bad}");
        }
        assert!(matches!(check("ftp://x"), Err(SyncError::BadAddress(_))));
    }
}
