//! `sotay-server`: serve the sync API, or administer its database.
//! Thin on purpose: every command is a call into the library.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use sotay_domain::wire::{DeviceId, WardStatus};
use sotay_domain::{ReportId, ReportKind};
use sotay_server::admin::{self, ExportFormat};
use sotay_server::dashboard::accounts::{self, Role};
use sotay_server::store::{self, now_micros};
use sotay_server::{AppState, Config};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "sotay-server", version, about = "Sổ tay central sync server")]
struct Cli {
    /// Database: a SQLite file path (or sqlite://PATH), or postgres://…
    #[arg(
        long,
        global = true,
        env = "SOTAY_DB",
        default_value = "sotay-server.sqlite3"
    )]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API.
    Serve {
        #[arg(long, env = "SOTAY_LISTEN", default_value = "127.0.0.1:8787")]
        listen: SocketAddr,
        /// PEM certificate chain: serve HTTPS (with --tls-key).
        #[arg(long, env = "SOTAY_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key for --tls-cert.
        #[arg(long, env = "SOTAY_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Administration.
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Subcommand)]
enum Admin {
    /// Create the demo ward `hht` (Hà Huy Tập): 20 blocks, 247 groups.
    SeedDemo,
    /// Issue a one-time enrollment code for a group: prints the
    /// sotay://enroll link, then the code alone on the last line.
    Enroll {
        #[arg(long)]
        group: String,
        /// How long the code stays valid (s, m, h or d).
        #[arg(long, default_value = "72h")]
        expires: String,
        /// The server URL devices should use, put into the link.
        #[arg(
            long,
            env = "SOTAY_PUBLIC_URL",
            default_value = "http://127.0.0.1:8787"
        )]
        server: String,
    },
    /// List devices (tab-separated).
    Devices,
    /// Revoke a device: its token stops working at once.
    Revoke { device_id: uuid::Uuid },
    /// Write every report at its newest revision to stdout.
    Export {
        #[arg(long, value_enum)]
        format: Format,
        /// Only reports of this kind: tip, inspection or id-count.
        #[arg(long)]
        kind: Option<String>,
    },
    /// Record the ward's decision on a tip; the group's devices pull it.
    TipStatus {
        report_id: uuid::Uuid,
        /// received, verifying, resolved or unfounded.
        #[arg(long)]
        status: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Dashboard officer accounts.
    #[command(subcommand)]
    Officer(OfficerCmd),
    /// Households registers loaded centrally.
    #[command(subcommand)]
    Households(HouseholdsCmd),
}

#[derive(Subcommand)]
enum HouseholdsCmd {
    /// Load a group's households register from CSV (all or nothing): it
    /// replaces the group's register, and what changed (new, edited and
    /// removed households) is published to the group's devices.
    Import {
        #[arg(long)]
        group: String,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum OfficerCmd {
    /// Create an officer; the password is prompted for (or read from
    /// stdin when it is not a terminal).
    Add {
        username: String,
        /// officer (reads and acts on the ward) or admin (also devices,
        /// officers and the audit log).
        #[arg(long, default_value = "officer")]
        role: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Csv,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = store::open(&cli.db)
        .await
        .with_context(|| format!("opening the database {}", redact(&cli.db)))?;
    match cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
        } => {
            let config = Config {
                secure_cookies: tls_cert.is_some(),
                ..Config::default()
            };
            let state = AppState::new(store, config);
            match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => {
                    tracing::info!(%listen, backend = state.store.backend(), "serving HTTPS");
                    sotay_server::serve_tls(listen, state, &cert, &key).await?;
                }
                _ => {
                    let listener = tokio::net::TcpListener::bind(listen)
                        .await
                        .with_context(|| format!("listening on {listen}"))?;
                    tracing::info!(%listen, backend = state.store.backend(), "serving HTTP");
                    sotay_server::serve(listener, state, async {
                        let _ = tokio::signal::ctrl_c().await;
                    })
                    .await?;
                }
            }
        }
        Command::Admin(cmd) => admin_command(&store, cmd).await?,
    }
    Ok(())
}

async fn admin_command(store: &store::DynStore, cmd: Admin) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match cmd {
        Admin::SeedDemo => {
            let n = admin::seed_demo(store, now_micros()).await?;
            writeln!(
                out,
                "seeded ward {} ({}): {} blocks, {n} groups",
                admin::DEMO_WARD.0,
                admin::DEMO_WARD.1,
                admin::DEMO_BLOCKS
            )?;
        }
        Admin::Enroll {
            group,
            expires,
            server,
        } => {
            let ttl = admin::parse_duration(&expires)?;
            let code = admin::issue_enroll_code(store, &group, ttl, now_micros()).await?;
            writeln!(out, "{}", admin::enroll_link(&server, &code))?;
            writeln!(out, "{code}")?;
        }
        Admin::Devices => admin::write_devices(store, &mut out).await?,
        Admin::Revoke { device_id } => {
            admin::revoke(store, DeviceId(device_id), now_micros()).await?;
            writeln!(out, "revoked {device_id}")?;
        }
        Admin::Export { format, kind } => {
            let kind = kind
                .map(|k| k.parse::<ReportKind>())
                .transpose()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let format = match format {
                Format::Json => ExportFormat::Json,
                Format::Csv => ExportFormat::Csv,
            };
            admin::export(store, format, kind, &mut out).await?;
        }
        Admin::TipStatus {
            report_id,
            status,
            note,
        } => {
            let status: WardStatus = match status.parse() {
                Ok(s) => s,
                Err(e) => bail!("{e}"),
            };
            let (group, seq) =
                admin::set_tip_status(store, ReportId(report_id), status, note, now_micros())
                    .await?;
            writeln!(
                out,
                "tip {report_id} of group {group}: {status} (pull seq {seq})"
            )?;
        }
        Admin::Officer(OfficerCmd::Add { username, role }) => {
            let role: Role = role.parse()?;
            let password = read_password()?;
            accounts::add_officer(store, &username, &password, role, now_micros()).await?;
            writeln!(out, "added {} {username}", role.code())?;
        }
        Admin::Households(HouseholdsCmd::Import { group, file }) => {
            let csv = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
            let r = admin::import_households(store, &group, &csv, now_micros()).await?;
            writeln!(
                out,
                "imported {} households into group {group} ({} published to devices, {} removed)",
                r.households, r.published, r.removed
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The new officer's password: typed twice at a terminal (echo off via
/// `stty`), or the first line of stdin when piped.
fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let echo_off = std::process::Command::new("stty")
        .arg("-echo")
        .status()
        .is_ok_and(|s| s.success());
    let read = |prompt: &str| -> anyhow::Result<String> {
        eprint!("{prompt}");
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        eprintln!();
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    };
    let first = read("Mật khẩu / Password: ");
    let second = read("Nhập lại / Again: ");
    if echo_off {
        let _ = std::process::Command::new("stty").arg("echo").status();
    }
    let (first, second) = (first?, second?);
    if first != second {
        bail!("the passwords differ");
    }
    Ok(first)
}

/// The database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
