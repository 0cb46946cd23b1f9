//! How the server reaches PostgreSQL: the URL's `sslmode` and
//! `sslrootcert` (libpq's names), honoured with rustls.
//!
//! - No `sslmode`: `disable` when every host is this machine (a Unix
//!   socket, `localhost`, a loopback address), `require` otherwise, so a
//!   database across the network is never reached in clear text by
//!   default.
//! - `require`, `verify-ca` and `verify-full` all encrypt and verify the
//!   server's certificate and name (stricter than libpq's `require`, which
//!   encrypts but believes any certificate): against the CA certificates
//!   in the PEM file `sslrootcert`, or Mozilla's roots without it.
//! - `prefer` and `allow` use TLS when the server offers it, verified the
//!   same way; `disable` never does (logged when the host is remote).
//!
//! tokio-postgres knows `sslmode` as disable/prefer/require only and
//! refuses `sslrootcert`, so both are taken out of the URL here and the
//! rest is parsed by tokio-postgres.

use super::{Result, StoreError};
use tokio_postgres::config::{Host, SslMode};

/// A PostgreSQL URL, parsed: the connection settings and, unless TLS is
/// off, the rustls client configuration to verify the server with.
pub struct PgTarget {
    pub config: tokio_postgres::Config,
    pub tls: Option<rustls::ClientConfig>,
}

/// Parses `url` (`postgres://…` or `postgresql://…`).
pub fn parse(url: &str) -> Result<PgTarget> {
    let bad = |why: &str| StoreError::BadUrl(format!("{}: {why}", redacted(url)));
    let mut parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    let mut sslmode = None;
    let mut rootcert = None;
    let rest: Vec<(String, String)> = parsed
        .query_pairs()
        .filter_map(|(k, v)| match k.as_ref() {
            "sslmode" => {
                sslmode = Some(v.into_owned());
                None
            }
            "sslrootcert" => {
                rootcert = Some(v.into_owned());
                None
            }
            _ => Some((k.into_owned(), v.into_owned())),
        })
        .collect();
    if rest.is_empty() {
        parsed.set_query(None);
    } else {
        // Form encoding writes a space as `+`, which tokio-postgres keeps
        // as a `+` (`options=-c search_path=…` would break); every `+` it
        // writes is a space (a real `+` becomes `%2B`).
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(rest)
            .finish()
            .replace('+', "%20");
        parsed.set_query(Some(&query));
    }
    let mut config: tokio_postgres::Config = parsed
        .as_str()
        .parse()
        .map_err(|e: tokio_postgres::Error| bad(&e.to_string()))?;
    let local = is_local(&config);
    let mode = match sslmode.as_deref() {
        None if local => SslMode::Disable,
        None => SslMode::Require,
        Some("disable") => SslMode::Disable,
        Some("allow" | "prefer") => SslMode::Prefer,
        Some("require" | "verify-ca" | "verify-full") => SslMode::Require,
        Some(other) => {
            return Err(bad(&format!(
                "sslmode {other:?}: use disable, prefer, require, verify-ca or verify-full"
            )));
        }
    };
    config.ssl_mode(mode);
    if mode == SslMode::Disable {
        if !local {
            tracing::warn!(
                "PostgreSQL across the network without TLS (sslmode=disable): passwords and reports travel in clear text"
            );
        }
        return Ok(PgTarget { config, tls: None });
    }
    let roots = match rootcert {
        Some(path) => roots_from(&path)?,
        None => rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| StoreError::PgTls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(PgTarget {
        config,
        tls: Some(tls),
    })
}

/// Every host is this machine: a Unix socket, `localhost` or a loopback
/// address (no host at all means the default socket).
fn is_local(config: &tokio_postgres::Config) -> bool {
    let hosts_local = config.get_hosts().iter().all(|h| match h {
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    });
    hosts_local && config.get_hostaddrs().iter().all(|ip| ip.is_loopback())
}

/// The CA certificates of a PEM file.
fn roots_from(path: &str) -> Result<rustls::RootCertStore> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let fail = |why: String| StoreError::PgTls(format!("sslrootcert {path}: {why}"));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| fail(e.to_string()))? {
        roots
            .add(cert.map_err(|e| fail(e.to_string()))?)
            .map_err(|e| fail(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(fail("no certificate in the file".into()));
    }
    Ok(roots)
}

/// The URL with its password replaced, for messages.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparsable URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> SslMode {
        parse(url).expect("parses").config.get_ssl_mode()
    }

    #[test]
    fn other_parameters_pass_through_with_their_spaces() {
        let t = parse("postgres://u@127.0.0.1/db?sslmode=disable&options=-c%20search_path%3Ds1&application_name=a+b%2Bc")
            .expect("parses");
        assert_eq!(t.config.get_options(), Some("-c search_path=s1"));
        assert_eq!(t.config.get_application_name(), Some("a b+c"));
    }

    #[test]
    fn remote_hosts_require_tls_by_default() {
        assert_eq!(mode("postgres://u:p@db.phuong.vn/sotay"), SslMode::Require);
        assert_eq!(mode("postgres://u:p@10.0.0.5:5432/sotay"), SslMode::Require);
        assert_eq!(
            mode("postgres://u:p@127.0.0.1:5432/sotay"),
            SslMode::Disable
        );
        assert_eq!(mode("postgresql://u@localhost/sotay"), SslMode::Disable);
        assert_eq!(mode("postgres://u@[::1]:5432/sotay"), SslMode::Disable);
        assert_eq!(
            mode("postgres://u@127.0.0.1,db.phuong.vn/sotay"),
            SslMode::Require,
            "one remote host is enough"
        );
        assert!(
            parse("postgres://u@db.phuong.vn/sotay")
                .expect("as the test expects")
                .tls
                .is_some()
        );
    }

    #[test]
    fn sslmode_is_honoured_and_checked() {
        assert_eq!(
            mode("postgres://u@127.0.0.1/s?sslmode=require"),
            SslMode::Require
        );
        assert_eq!(
            mode("postgres://u@127.0.0.1/s?sslmode=verify-full"),
            SslMode::Require
        );
        assert_eq!(
            mode("postgres://u@127.0.0.1/s?sslmode=prefer"),
            SslMode::Prefer
        );
        assert_eq!(
            mode("postgres://u@db.phuong.vn/s?sslmode=disable"),
            SslMode::Disable
        );
        assert!(
            parse("postgres://u@db.phuong.vn/s?sslmode=disable")
                .expect("as the test expects")
                .tls
                .is_none()
        );
        let other = parse("postgres://u:secret@h/s?sslmode=always")
            .err()
            .expect("as the test expects");
        assert!(matches!(other, StoreError::BadUrl(_)), "{other}");
        assert!(!other.to_string().contains("secret"), "{other}");
        // Other parameters still reach tokio-postgres.
        let t = parse("postgres://u@h/s?sslmode=require&application_name=sotay")
            .expect("as the test expects");
        assert_eq!(t.config.get_application_name(), Some("sotay"));
    }

    #[test]
    fn a_missing_or_empty_root_file_is_an_error() {
        let err = parse("postgres://u@h/s?sslrootcert=/no/such/ca.pem")
            .err()
            .expect("as the test expects");
        assert!(matches!(err, StoreError::PgTls(_)), "{err}");
        let dir = tempfile::tempdir().expect("as the test expects");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").expect("as the test expects");
        let err = parse(&format!("postgres://u@h/s?sslrootcert={}", empty.display()))
            .err()
            .expect("as the test expects");
        assert!(err.to_string().contains("no certificate"), "{err}");
    }
}
