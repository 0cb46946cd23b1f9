//! PostgreSQL over TLS, for real: this test starts a second PostgreSQL
//! server (Debian's binaries, which `scripts/postgres-for-tests.sh`
//! installs) on a free loopback port, with a CA and a server certificate
//! the test makes, and a `pg_hba.conf` that accepts TLS connections only.
//! The store connects with `sslmode=require` and the CA as `sslrootcert`;
//! without TLS, or without the CA, it is refused.
#![allow(clippy::unwrap_used)]

use sotay_server::store::{DynStore, StoreError};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A PostgreSQL server of this test's own, stopped on drop.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    dir: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .args(["stop", "-m", "immediate", "-D"])
            .arg(&self.data)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn as_postgres(program: &Path) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(program);
    c
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The newest installed PostgreSQL's binaries.
fn pg_bin() -> PathBuf {
    let mut majors: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/postgres-for-tests.sh)")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    majors.sort_unstable();
    let major = majors.last().expect("a PostgreSQL version");
    PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"))
}

/// Writes the CA's certificate (returned) and a server certificate for
/// `localhost` and 127.0.0.1 signed by it, with its key, into `dir`.
fn make_certificates(dir: &Path) -> PathBuf {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "CA của bài kiểm tra");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    std::fs::write(dir.join("server.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap();
    ca_path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts a PostgreSQL server that accepts TCP connections over TLS only.
fn start_tls_cluster() -> (Cluster, PathBuf) {
    let bin = pg_bin();
    let dir = std::env::temp_dir().join(format!("sotay-pg-tls-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = make_certificates(&dir);
    let data = dir.join("data");
    let mut chown = Command::new("chown");
    chown.args(["-R", "postgres:postgres"]).arg(&dir);
    run(chown, "chown");
    let mut chmod = Command::new("chmod");
    chmod.arg("600").arg(dir.join("server.key"));
    run(chmod, "chmod");
    let mut init = as_postgres(&bin.join("initdb"));
    init.args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
        .arg(&data);
    run(init, "initdb");
    // TCP over TLS only; the Unix socket stays for pg_ctl.
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
    )
    .unwrap();
    let port = free_port();
    let options = format!(
        "-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key -c fsync=off",
        dir = dir.display()
    );
    let mut start = as_postgres(&bin.join("pg_ctl"));
    start
        .args(["start", "-w", "-t", "60", "-l"])
        .arg(dir.join("log"))
        .arg("-D")
        .arg(&data)
        .args(["-o", &options]);
    let cluster = Cluster {
        bin,
        data,
        port,
        dir: dir.clone(),
    };
    run(start, "pg_ctl start");
    (cluster, ca)
}

async fn connect(url: &str) -> Result<DynStore, StoreError> {
    sotay_server::store::open(url).await
}

#[tokio::test]
async fn postgres_over_tls_with_a_certificate_made_by_the_test() {
    // Runs wherever the PostgreSQL tests run (and fails loudly the same
    // way when PostgreSQL was not set up).
    if sotay_server::testing::pg_test_url().unwrap().is_none() {
        return;
    }
    let (cluster, ca) = start_tls_cluster();
    let base = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port);

    // The server takes TLS only: the default for a local host (no TLS) is
    // refused by it, which shows that what succeeds below is encrypted.
    let plain = connect(&base).await.err().expect("plain TCP refused");
    assert!(
        plain.to_string().contains("no encryption") || plain.to_string().contains("pg_hba"),
        "{plain}"
    );

    // TLS, the certificate checked against the test's own CA.
    let url = format!("{base}?sslmode=require&sslrootcert={}", ca.display());
    let store = connect(&url).await.expect("connects over TLS");
    let seeded = sotay_server::admin::seed_demo(&store, sotay_server::store::now_micros())
        .await
        .unwrap();
    assert_eq!(seeded.groups, 247);
    assert_eq!(
        store
            .groups(&sotay_server::store::Scope::Province)
            .await
            .unwrap()
            .len(),
        247
    );
    drop(store);
    // By name as well as by address (the certificate names both).
    let by_name = format!(
        "postgres://postgres@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
        cluster.port,
        ca.display()
    );
    assert_eq!(
        connect(&by_name)
            .await
            .unwrap()
            .groups(&sotay_server::store::Scope::Province)
            .await
            .unwrap()
            .len(),
        247
    );

    // A certificate no trusted CA signed is refused: Mozilla's roots do
    // not know the test's CA.
    let unknown = connect(&format!("{base}?sslmode=require"))
        .await
        .err()
        .expect("an unknown CA is refused");
    assert!(
        format!("{unknown:?}")
            .to_lowercase()
            .contains("certificate"),
        "{unknown:?}"
    );
    // And a CA that did not sign it is refused too.
    let other_dir = cluster.dir.join("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    let other_ca = make_certificates(&other_dir);
    let wrong = connect(&format!(
        "{base}?sslmode=require&sslrootcert={}",
        other_ca.display()
    ))
    .await
    .err()
    .expect("another CA is refused");
    assert!(
        format!("{wrong:?}").to_lowercase().contains("certificate"),
        "{wrong:?}"
    );
}
