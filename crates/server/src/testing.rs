//! Starting real servers for tests and benchmarks, on SQLite or on
//! PostgreSQL, on an ephemeral port, cleaned up on drop.
//!
//! Public so that the device's sync tests can run against a real server:
//!
//! ```no_run
//! # async fn demo() -> Result<(), sotay_server::testing::TestingError> {
//! use sotay_server::testing::{Backend, TestServer};
//! let server = TestServer::start(Backend::Sqlite, Default::default()).await?
//!     .expect("SQLite is never skipped");
//! let code = server.enroll_code("k01-t01").await?; // then POST {url}/v1/enroll
//! # Ok(()) }
//! ```
//!
//! PostgreSQL needs `SOTAY_TEST_PG_URL` (see `scripts/postgres-for-tests.sh`);
//! each server gets a schema of its own, dropped afterwards. When the
//! variable is unset, starting fails with a clear message, unless
//! `SOTAY_SKIP_PG=1`, in which case [`TestServer::start`] returns `None` and
//! the test skips itself. CI therefore cannot skip PostgreSQL by accident.

use crate::store::{self, DynStore, NewDevice};
use crate::{AppState, Config, ServerHandle};
use sotay_domain::wire::DeviceId;
use std::path::PathBuf;
use std::sync::Arc;

/// The backend a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum TestingError {
    #[error(
        "SOTAY_TEST_PG_URL is not set. Start PostgreSQL and set it with\n  \
         export SOTAY_TEST_PG_URL=\"$(bash scripts/postgres-for-tests.sh)\"\n\
         or set SOTAY_SKIP_PG=1 to skip the PostgreSQL tests deliberately."
    )]
    PgUrlMissing,
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Admin(#[from] crate::admin::AdminError),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("enrollment refused: {0:?}")]
    Enroll(store::EnrollRefusal),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// A database of `backend` as a server of `version` left it: the store's
/// own migrations up to `version` only, then `rows` (SQL, the same for
/// both backends). What the upgrade tests open with today's server (for
/// SQLite, the file `server.sqlite3` of the folder). `None` when
/// PostgreSQL is deliberately skipped.
pub async fn database_at(
    backend: Backend,
    version: i64,
    rows: &str,
) -> Result<Option<TestDb>, TestingError> {
    match backend {
        Backend::Sqlite => {
            let dir = TempDir::new()?;
            let conn = rusqlite::Connection::open(dir.0.join("server.sqlite3"))?;
            conn.execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);",
            )?;
            for (v, sql) in store::sqlite::MIGRATIONS
                .iter()
                .filter(|(v, _)| *v <= version)
            {
                conn.execute_batch(sql)?;
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?1, '2026-11-01T00:00:00Z')",
                    [v],
                )?;
            }
            conn.execute_batch(rows)?;
            Ok(Some(TestDb::Sqlite(dir)))
        }
        Backend::Postgres => {
            let Some(url) = pg_test_url()? else {
                return Ok(None);
            };
            let schema = PgSchema::create(&url).await?;
            let mut cfg: tokio_postgres::Config = url.parse()?;
            cfg.options(format!("-c search_path={}", schema.name));
            let (client, conn) = cfg.connect(tokio_postgres::NoTls).await?;
            let conn = tokio::spawn(conn);
            client
                .batch_execute(
                    "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL);",
                )
                .await?;
            for (v, sql) in store::postgres::MIGRATIONS
                .iter()
                .filter(|(v, _)| *v <= version)
            {
                client.batch_execute(sql).await?;
                client
                    .execute("INSERT INTO schema_migrations VALUES ($1, now())", &[v])
                    .await?;
            }
            client.batch_execute(rows).await?;
            drop(client);
            let _ = conn.await;
            Ok(Some(TestDb::Postgres(schema)))
        }
    }
}

/// `SOTAY_TEST_PG_URL`, `None` when PostgreSQL is deliberately skipped
/// (`SOTAY_SKIP_PG=1`), an error when it is merely missing.
pub fn pg_test_url() -> Result<Option<String>, TestingError> {
    match std::env::var("SOTAY_TEST_PG_URL") {
        Ok(url) if !url.trim().is_empty() => Ok(Some(url)),
        _ if std::env::var("SOTAY_SKIP_PG").is_ok_and(|v| v == "1") => Ok(None),
        _ => Err(TestingError::PgUrlMissing),
    }
}

/// The database behind a test server, removed on drop.
pub enum TestDb {
    Sqlite(TempDir),
    Postgres(PgSchema),
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("sotay-server-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PostgreSQL schema of one test, dropped (with everything in it) on drop.
pub struct PgSchema {
    pub url: String,
    pub name: String,
}

impl PgSchema {
    pub async fn create(url: &str) -> Result<Self, TestingError> {
        let name = format!("sotay_t_{}", uuid::Uuid::now_v7().simple());
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        let conn = tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await?;
        drop(client);
        let _ = conn.await;
        Ok(Self {
            url: url.to_owned(),
            name,
        })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop may run inside a runtime; do the cleanup on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await
                {
                    let conn = tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .await;
                    drop(client);
                    let _ = conn.await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// Opens a fresh, migrated, empty store of `backend`. `None` when
/// PostgreSQL is deliberately skipped.
pub async fn fresh_store(backend: Backend) -> Result<Option<(DynStore, TestDb)>, TestingError> {
    match backend {
        Backend::Sqlite => {
            let dir = TempDir::new()?;
            let store = store::sqlite::SqliteStore::open(dir.0.join("server.sqlite3")).await?;
            Ok(Some((Arc::new(store), TestDb::Sqlite(dir))))
        }
        Backend::Postgres => {
            let Some(url) = pg_test_url()? else {
                return Ok(None);
            };
            let schema = PgSchema::create(&url).await?;
            let store = store::postgres::PgStore::connect(&url, Some(&schema.name)).await?;
            Ok(Some((Arc::new(store), TestDb::Postgres(schema))))
        }
    }
}

/// A real server on 127.0.0.1 with an ephemeral port, the demo ward seeded.
/// Fields drop in order: the server stops before its database goes.
pub struct TestServer {
    pub handle: ServerHandle,
    pub state: AppState,
    /// The demo ward's recovery passphrase, as `seed-demo` printed it.
    pub recovery_passphrase: String,
    _db: TestDb,
}

impl TestServer {
    /// Starts a server on `backend` with `config`; `None` when PostgreSQL
    /// is deliberately skipped (`SOTAY_SKIP_PG=1`).
    pub async fn start(backend: Backend, config: Config) -> Result<Option<Self>, TestingError> {
        let Some((store, db)) = fresh_store(backend).await? else {
            return Ok(None);
        };
        let seeded = crate::admin::seed_demo(&store, store::now_micros()).await?;
        let state = AppState::new(store, config);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let handle = crate::spawn_on(listener, state.clone())?;
        Ok(Some(Self {
            handle,
            state,
            recovery_passphrase: seeded.recovery_passphrase.unwrap_or_default(),
            _db: db,
        }))
    }

    /// A real server on a database made elsewhere (an older version's, for
    /// the upgrade tests): opening it migrates it; nothing is seeded.
    pub async fn serve(db: TestDb, config: Config) -> Result<Self, TestingError> {
        let store: DynStore = match &db {
            TestDb::Sqlite(dir) => {
                Arc::new(store::sqlite::SqliteStore::open(dir.0.join("server.sqlite3")).await?)
            }
            TestDb::Postgres(schema) => {
                Arc::new(store::postgres::PgStore::connect(&schema.url, Some(&schema.name)).await?)
            }
        };
        let state = AppState::new(store, config);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let handle = crate::spawn_on(listener, state.clone())?;
        Ok(Self {
            handle,
            state,
            recovery_passphrase: String::new(),
            _db: db,
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.handle.url()
    }

    /// The database behind this server (its file or schema).
    pub fn db(&self) -> &TestDb {
        &self._db
    }

    pub fn store(&self) -> &DynStore {
        &self.state.store
    }

    /// A one-time enrollment code for `group`, valid for 72 hours.
    pub async fn enroll_code(&self, group: &str) -> Result<String, TestingError> {
        Ok(crate::admin::issue_enroll_code(
            self.store(),
            group,
            chrono::TimeDelta::hours(72),
            store::now_micros(),
        )
        .await?)
    }

    /// Enrolls a device of `group` without HTTP; returns its id and token.
    pub async fn enroll_device(&self, group: &str) -> Result<(DeviceId, String), TestingError> {
        let code = self.enroll_code(group).await?;
        let token = crate::auth::new_token();
        let id = DeviceId(uuid::Uuid::now_v7());
        let hash =
            crate::auth::hash_secret(&crate::auth::normalize_code(&code).unwrap_or_default());
        self.store()
            .enroll(
                &hash,
                NewDevice {
                    id,
                    name: format!("test device of {group}"),
                    token_hash: crate::auth::hash_secret(&token),
                },
                store::now_micros(),
            )
            .await?
            .map_err(TestingError::Enroll)?;
        Ok((id, token))
    }
}

/// The machine a benchmark ran on, for its report: cores and CPU model.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    format!(
        "{} cores, {cpu}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )
}

/// A valid change for tests and benchmarks: an anonymous tip of
/// `category` (a code) saying `description`.
pub fn tip_change(seq: i64, category: &str, description: &str) -> sotay_domain::wire::Change {
    sotay_domain::wire::Change {
        report_id: sotay_domain::ReportId::new_v7(),
        device_seq: seq,
        rev: 1,
        kind: sotay_domain::ReportKind::Tip,
        payload: serde_json::json!({
            "category": category,
            "description": description,
            "location": {"text": "Ngõ 3, khối 5"},
            "source": {"kind": "resident", "informant": {"kind": "anonymous"}},
            "urgency": "normal"
        }),
    }
}

/// A valid inspection for tests and benchmarks: every item of the
/// built-in checklist passed.
pub fn passing_inspection(
    household_id: sotay_domain::HouseholdId,
    inspected_at: chrono::DateTime<chrono::Utc>,
) -> sotay_domain::Inspection {
    use sotay_domain::inspection::{Answer, ChecklistTemplate, ItemAnswer, TemplateRef};
    let t = ChecklistTemplate::household_v1();
    sotay_domain::Inspection {
        household_id,
        inspected_at,
        inspector: "Nguyễn Văn An".into(),
        template: TemplateRef {
            id: t.id.clone(),
            version: t.version,
        },
        answers: t
            .items
            .iter()
            .map(|i| ItemAnswer {
                item: i.code.clone(),
                answer: Answer::Pass,
                note: None,
                photos: Vec::new(),
            })
            .collect(),
        violations: vec![],
        reinspect_on: None,
        acknowledged_by: None,
        notes: None,
    }
}

/// The backends a benchmark runs on: SQLite, and PostgreSQL when
/// `SOTAY_TEST_PG_URL` is set (skipped with a note otherwise).
pub fn bench_backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if std::env::var("SOTAY_TEST_PG_URL").is_ok_and(|v| !v.is_empty()) {
        backends.push(Backend::Postgres);
    } else {
        eprintln!("PostgreSQL skipped: set SOTAY_TEST_PG_URL (scripts/postgres-for-tests.sh)");
    }
    backends
}
