//! `sotay-server`: serve the sync API, or administer its database.
//! Thin on purpose: every command is a call into the library.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use sotay_domain::wire::{DeviceId, WardStatus};
use sotay_domain::{ReportId, ReportKind};
use sotay_server::admin::{self, ExportFormat};
use sotay_server::dashboard::accounts::{self, Role};
use sotay_server::places;
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
    /// How log lines are written to stderr: `text` for a person, `json`
    /// (one object a line) for a log collector.
    #[arg(
        long,
        global = true,
        env = "SOTAY_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
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
        /// The address devices use (https://…), for enrollment links made
        /// on the dashboard.
        #[arg(long, env = "SOTAY_PUBLIC_URL")]
        public_url: Option<String>,
        /// Plain HTTP on a non-loopback address is refused (passwords,
        /// cookies and tips would cross the network in clear) unless a
        /// reverse proxy in front terminates TLS: say so with this; cookies
        /// are then always `Secure`.
        #[arg(long, env = "SOTAY_BEHIND_TLS_PROXY")]
        behind_tls_proxy: bool,
        /// A reverse proxy's address whose X-Forwarded-For is believed
        /// (repeatable): rate limits then count the real clients.
        #[arg(long = "trusted-proxy")]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// Most changes one device may push per hour (default 20,000);
        /// past it, `429 rate-limited`.
        #[arg(long, env = "SOTAY_CHANGES_PER_DEVICE_PER_HOUR")]
        changes_per_device_per_hour: Option<usize>,
        /// Serve `/metrics` (Prometheus text format) on this address of
        /// its own, never on --listen: keep it on loopback or the
        /// monitoring network.
        #[arg(long, env = "SOTAY_METRICS_LISTEN")]
        metrics_listen: Option<SocketAddr>,
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
        /// The group's ward (needed once the server has several).
        #[arg(long)]
        ward: Option<String>,
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
        /// The certificate the server serves (`serve --tls-cert`): its key
        /// is pinned in the link, so a self-signed certificate works and no
        /// other is accepted.
        #[arg(long, env = "SOTAY_TLS_CERT")]
        tls_cert: Option<PathBuf>,
        /// Do not draw the QR code.
        #[arg(long)]
        no_qr: bool,
    },
    /// Send an announcement to the ward's leaders: prints its id and how
    /// many groups it went to. `--to ward|block:CODE|group:CODE`, several
    /// allowed; the whole ward when none.
    Announce {
        #[arg(long)]
        ward: Option<String>,
        #[arg(long)]
        title: String,
        #[arg(long)]
        text: String,
        /// Shown first, and notified as urgent.
        #[arg(long)]
        urgent: bool,
        #[arg(long = "to")]
        to: Vec<String>,
        /// A picture to attach (JPEG, PNG or WebP): taken in as phones
        /// take theirs in (upright, at most 1600 px, no metadata).
        #[arg(long)]
        photo: Option<PathBuf>,
    },
    /// The ward's announcements, tab-separated `id sent_at urgent read
    /// devices audience title` under a header line, newest first.
    Announcements {
        #[arg(long)]
        ward: Option<String>,
    },
    /// Campaigns (đợt cao điểm): set one, list them with their figures,
    /// call one off (audited).
    #[command(subcommand)]
    Campaign(CampaignCmd),
    /// The ward's campaigns with today's figures, tab-separated `id kind
    /// starts_on ends_on target done count of state title` under a header
    /// line, newest period first (`campaign list`).
    Campaigns {
        #[arg(long)]
        ward: Option<String>,
    },
    /// List devices (tab-separated); every ward's unless --ward.
    Devices {
        #[arg(long)]
        ward: Option<String>,
    },
    /// Revoke a device: its token stops working at once.
    Revoke { device_id: uuid::Uuid },
    /// Write every report at its newest revision to stdout.
    Export {
        #[arg(long, value_enum)]
        format: Format,
        /// Only this ward's reports (every ward's otherwise).
        #[arg(long)]
        ward: Option<String>,
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
    /// Wards (tenants of this server) and their source keys.
    #[command(subcommand)]
    Ward(WardCmd),
    /// A ward's blocks and groups: add, rename, merge, split (audited).
    #[command(subcommand)]
    Place(PlaceCmd),
    /// One-time enrollment codes issued (only their hashes are kept).
    #[command(subcommand)]
    EnrollCodes(EnrollCodesCmd),
    /// Reports stored under the wrong group (audited).
    #[command(subcommand)]
    Report(ReportCmd),
    /// Fire-safety checklist templates.
    #[command(subcommand)]
    Template(TemplateCmd),
    /// A consistent backup of the SQLite database into a new FILE (and its
    /// photos into FILE.photos), taken while the server runs.
    Backup { file: PathBuf },
    /// Puts a backup made by `admin backup` in place of the database;
    /// stop the server first. What it replaces is moved aside, never
    /// deleted; devices send again whatever the backup lacks.
    Restore { file: PathBuf },
    /// Every photo the server holds, tab-separated `sha256 bytes reports`
    /// (the reports that list it, comma-separated) under a header line:
    /// what a backup of the photo folder must contain.
    Photos,
}

#[derive(Subcommand)]
enum CampaignCmd {
    /// Set a campaign for the ward or chosen blocks and groups: prints its
    /// id and how many groups it covers. Fire safety and Đề án 06 targets
    /// are percentages (of the households in scope inspected within the
    /// period, of the residents activated by the end); a tip target is a
    /// number of tips per group.
    Add {
        #[arg(long)]
        ward: Option<String>,
        #[arg(long)]
        title: String,
        /// fire-safety, id06 or tips.
        #[arg(long)]
        kind: String,
        /// The first day (YYYY-MM-DD, Vietnam).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// The last day (YYYY-MM-DD, Vietnam).
        #[arg(long)]
        to: chrono::NaiveDate,
        #[arg(long)]
        target: u32,
        /// `ward`, `block:CODE` or `group:CODE`, several allowed; the
        /// whole ward when none.
        #[arg(long = "scope")]
        scope: Vec<String>,
        /// Fire safety: all, business or rents-rooms (default all).
        #[arg(long)]
        households: Option<String>,
        /// Tips: the categories that count, comma-separated codes
        /// (drugs,theft…); every category when none.
        #[arg(long, value_delimiter = ',')]
        categories: Vec<String>,
    },
    /// The same as `admin campaigns`.
    List {
        #[arg(long)]
        ward: Option<String>,
    },
    /// Call a campaign off: devices drop it at their next sync.
    Cancel {
        id: uuid::Uuid,
        #[arg(long)]
        ward: Option<String>,
    },
}

#[derive(Subcommand)]
enum TemplateCmd {
    /// Publish a new version of a checklist (JSON, as `template list
    /// --json` prints one): every group's devices get it at their next
    /// sync and use it for new inspections. Refused unless valid and newer
    /// than every published version of its id.
    Publish { file: PathBuf },
    /// Tab-separated `id version items title` of every published version,
    /// under a header line.
    List,
}

#[derive(Subcommand)]
enum ReportCmd {
    /// Move a tip or inspection to the group it belongs to.
    Move {
        report_id: uuid::Uuid,
        #[arg(long)]
        ward: Option<String>,
        #[arg(long)]
        group: String,
    },
    /// Delete a report, every revision and its ward decision.
    Delete {
        report_id: uuid::Uuid,
        /// Confirms the deletion (it cannot be undone).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum EnrollCodesCmd {
    /// Tab-separated `id group status created_at expires_at` under a header
    /// line; status `unused`, `used` or `expired`. Every ward's unless
    /// --ward (groups then read `ward/code`).
    List {
        #[arg(long)]
        ward: Option<String>,
    },
    /// Ends an unused code at once (a code handed to the wrong person).
    Revoke { id: String },
}

#[derive(Subcommand)]
enum WardCmd {
    /// Add a ward, with its own source key: prints the recovery passphrase
    /// once, on the last line.
    Add {
        code: String,
        #[arg(long)]
        name: String,
    },
    /// Every ward, tab-separated `code name block_level group_level`.
    List,
    /// What the ward calls its blocks and groups ("Khu phố", "Tổ dân phố").
    Levels {
        #[arg(long)]
        ward: Option<String>,
        #[arg(long)]
        block: String,
        #[arg(long)]
        group: String,
    },
    /// Make the ward's first source key (a ward upgraded from a version
    /// before sealing has none): prints the recovery passphrase once, on
    /// the last line, and seals every clear source already stored.
    InitKey {
        #[arg(long)]
        ward: Option<String>,
    },
    /// Make a new source key for the ward's new tips; old tips stay
    /// readable with the old key, which stays with the same officers.
    RotateKey {
        #[arg(long)]
        ward: Option<String>,
    },
    /// Merge wards into one (`--into B A…`): B takes their blocks, groups,
    /// devices, officers and source keys; each merged ward with a source
    /// key needs its recovery passphrase (read from stdin, one line per
    /// ward in the order given). Their devices are told at their next sync.
    Merge {
        #[arg(long)]
        into: String,
        #[arg(required = true)]
        wards: Vec<String>,
        /// Give every moved block and group the code `WARD-CODE`
        /// (`hnx-k01-t01`), for wards whose codes clash.
        #[arg(long)]
        prefix: bool,
    },
}

#[derive(Subcommand)]
enum PlaceCmd {
    /// Add a block (`--block CODE --name NAME`) or a group of a block
    /// (`--block CODE --group CODE --name NAME`).
    Add {
        #[arg(long)]
        ward: Option<String>,
        #[arg(long)]
        block: String,
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        name: String,
    },
    /// Give a group or block a new official code or name (or both); it
    /// stays the same unit, and its devices are told.
    Rename {
        code: String,
        #[arg(long)]
        ward: Option<String>,
        #[arg(long = "code")]
        new_code: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Merge groups into a group (or blocks into a block): devices,
    /// registers and reports move, and count under the unit merged into.
    Merge {
        #[arg(long)]
        ward: Option<String>,
        #[arg(long)]
        into: String,
        #[arg(required = true)]
        codes: Vec<String>,
    },
    /// Split a group into new groups of its block: `--into CODE=NAME` for
    /// each, and `--households FILE`, a CSV `household,group` assigning
    /// every household of the register (ids as `households list` prints).
    Split {
        code: String,
        #[arg(long)]
        ward: Option<String>,
        #[arg(long, required = true)]
        into: Vec<String>,
        /// Splitting a group: CSV `household,group` (every household of
        /// its register to one of the new groups).
        #[arg(long, required_unless_present = "groups", conflicts_with = "groups")]
        households: Option<PathBuf>,
        /// Splitting a block: CSV `group,block` (every group of it to one
        /// of the new blocks).
        #[arg(long)]
        groups: Option<PathBuf>,
    },
    /// The ward's merges, splits and renames, newest first.
    History {
        #[arg(long)]
        ward: Option<String>,
    },
}

#[derive(Subcommand)]
enum HouseholdsCmd {
    /// Load a group's households register from CSV (all or nothing): it
    /// replaces the group's register, and what changed (new, edited and
    /// removed households) is published to the group's devices.
    Import {
        #[arg(long)]
        ward: Option<String>,
        #[arg(long)]
        group: String,
        file: PathBuf,
    },
    /// A group's register, CSV `household,address,head` (the ids a split's
    /// file names).
    List {
        #[arg(long)]
        ward: Option<String>,
        #[arg(long)]
        group: String,
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
        /// Give the "see sources" permission: the ward's recovery
        /// passphrase is read next (the second line of stdin when piped).
        #[arg(long)]
        sources: bool,
        /// The officer's ward (needed once the server has several).
        #[arg(long)]
        ward: Option<String>,
        /// A province officer: reads every ward, changes none.
        #[arg(long, conflicts_with_all = ["ward", "sources"])]
        province: bool,
    },
    /// Set a new password for an officer who forgot theirs (read like
    /// `add`): their sessions end, they get a new key, and the "see
    /// sources" permission is withdrawn until granted again.
    ResetPassword {
        username: String,
        /// The officer's ward (needed once the server has several; a
        /// province officer needs none).
        #[arg(long)]
        ward: Option<String>,
    },
    /// Give an existing officer the "see sources" permission with the
    /// ward's recovery passphrase (read from stdin): how a ward recovers
    /// when no officer with the permission remains.
    GrantSources {
        username: String,
        #[arg(long)]
        ward: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Csv,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Copies of the file itself: before the store opens it.
    match &cli.command {
        Command::Admin(Admin::Backup { file }) => {
            let c = sotay_server::backup::backup(&cli.db, file)?;
            println!(
                "backed up {} bytes and {} photos into {}",
                c.database_bytes,
                c.photos,
                file.display()
            );
            return Ok(());
        }
        Command::Admin(Admin::Restore { file }) => {
            let c = sotay_server::backup::restore(&cli.db, file, now_micros()).await?;
            println!(
                "restored {} bytes and {} photos from {}; the replaced files are beside it as \
                 {}.before-restore-*",
                c.database_bytes,
                c.photos,
                file.display(),
                redact(&cli.db)
            );
            return Ok(());
        }
        _ => {}
    }
    let store = store::open(&cli.db)
        .await
        .with_context(|| format!("opening the database {}", redact(&cli.db)))?;
    match cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            public_url,
            behind_tls_proxy,
            trusted_proxies,
            changes_per_device_per_hour,
            metrics_listen,
        } => {
            if tls_cert.is_none() && !behind_tls_proxy && !listen.ip().is_loopback() {
                bail!(
                    "refusing to serve plain HTTP on {listen}: officers' passwords, session cookies and \
                     every tip would cross the network in clear. Serve HTTPS (--tls-cert, --tls-key), \
                     or listen on 127.0.0.1 behind a TLS reverse proxy, or pass --behind-tls-proxy \
                     when such a proxy is in front of this address"
                );
            }
            let unkeyed = store.wards_without_key().await?;
            if !unkeyed.is_empty() {
                bail!(
                    "ward(s) {} have no source key yet, so tips naming an informant could not be \
                     sealed; run `sotay-server admin ward init-key --ward WARD` for each first \
                     (it prints the ward's recovery passphrase)",
                    unkeyed.join(", ")
                );
            }
            let sealed = store.seal_clear_sources().await?;
            if sealed > 0 {
                tracing::info!(sealed, "sealed clear sources left by an older version");
            }
            let tls_pin = tls_cert
                .as_deref()
                .map(admin::pin_of_cert_file)
                .transpose()?;
            let defaults = Config::default();
            let config = Config {
                secure_cookies: tls_cert.is_some() || behind_tls_proxy,
                public_url,
                tls_pin,
                trusted_proxies,
                changes_per_device_per_hour: changes_per_device_per_hour
                    .unwrap_or(defaults.changes_per_device_per_hour),
                ..defaults
            };
            let state = AppState::new(store, config);
            if let Some(addr) = metrics_listen {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listening on {addr} for metrics"))?;
                let app = sotay_server::metrics::router(state.clone());
                tracing::info!(%addr, "serving /metrics");
                tokio::spawn(async move {
                    if let Err(e) = axum::serve(listener, app).await {
                        tracing::error!(error = %e, "the metrics address stopped");
                    }
                });
            }
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
            let seeded = admin::seed_demo(store, now_micros()).await?;
            writeln!(
                out,
                "seeded ward {} ({}): {} blocks, {} groups",
                admin::DEMO_WARD.0,
                admin::DEMO_WARD.1,
                admin::DEMO_BLOCKS,
                seeded.groups
            )?;
            print_recovery(&mut out, admin::DEMO_WARD.0, seeded.recovery_passphrase)?;
        }
        Admin::EnrollCodes(EnrollCodesCmd::List { ward }) => {
            let now = now_micros();
            let scope = scope_of(store, ward.as_deref()).await?;
            let groups = places::Groups::new(store.groups(&scope).await?, &scope);
            writeln!(out, "id\tgroup\tstatus\tcreated_at\texpires_at")?;
            for c in store.enroll_codes(&scope).await? {
                let status = match (c.used_at, c.expires_at <= now) {
                    (Some(_), _) => "used",
                    (None, true) => "expired",
                    (None, false) => "unused",
                };
                writeln!(
                    out,
                    "{}\t{}\t{status}\t{}\t{}",
                    c.id,
                    groups.label(&c.group),
                    c.created_at.to_rfc3339(),
                    c.expires_at.to_rfc3339()
                )?;
            }
        }
        Admin::EnrollCodes(EnrollCodesCmd::Revoke { id }) => {
            let audit = admin_audit("revoke-enroll-code", &id);
            if !store
                .revoke_enroll_code(&id, now_micros(), Some(&audit))
                .await?
            {
                bail!("no unused enrollment code {id}: see `admin enroll-codes list`");
            }
            writeln!(out, "revoked enrollment code {id}")?;
        }
        Admin::Ward(WardCmd::Add { code, name }) => {
            let w = places::add_ward(store, &code, &name, admin_audit("add-ward", &code)).await?;
            writeln!(out, "added ward {} ({})", w.code, w.name)?;
            let passphrase =
                sotay_server::sources::create_ward_key(store, &w.code, now_micros()).await?;
            print_recovery(&mut out, &w.code, passphrase)?;
        }
        Admin::Ward(WardCmd::List) => {
            writeln!(out, "code\tname\tblock_level\tgroup_level\tmerged_into")?;
            for w in store.wards().await? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    w.code,
                    w.name,
                    w.block_level,
                    w.group_level,
                    w.merged_into.as_deref().unwrap_or_default()
                )?;
            }
        }
        Admin::Ward(WardCmd::Levels { ward, block, group }) => {
            let w = places::resolve_ward(store, ward.as_deref()).await?;
            places::set_levels(
                store,
                &w,
                &block,
                &group,
                admin_audit("set-levels", &w.code),
            )
            .await?;
            writeln!(out, "ward {}: {block} / {group}", w.code)?;
        }
        Admin::Place(cmd) => place_command(store, cmd, &mut out).await?,
        Admin::Ward(WardCmd::InitKey { ward }) => {
            let ward = places::resolve_ward(store, ward.as_deref()).await?.code;
            let passphrase =
                sotay_server::sources::create_ward_key(store, &ward, now_micros()).await?;
            let sealed = store.seal_clear_sources().await?;
            writeln!(out, "sealed {sealed} stored sources of ward {ward}")?;
            print_recovery(&mut out, &ward, passphrase)?;
        }
        Admin::Ward(WardCmd::Merge {
            into,
            wards,
            prefix,
        }) => {
            let target = places::resolve_ward(store, Some(&into)).await?;
            let keyed: std::collections::HashSet<String> = store
                .ward_keys()
                .await?
                .into_iter()
                .map(|k| k.ward)
                .collect();
            let mut passphrases = std::collections::HashMap::new();
            for w in &wards {
                let w = w.trim().to_ascii_lowercase();
                if keyed.contains(&w) && !passphrases.contains_key(&w) {
                    let p = read_secret(
                        &format!(
                            "Cụm từ khôi phục của phường {w} / Recovery passphrase of ward {w}: "
                        ),
                        false,
                    )?;
                    passphrases.insert(w, p);
                }
            }
            let audit = admin_audit("merge-ward", &target.code);
            let m =
                places::merge_wards(store, &target, &wards, prefix, &passphrases, audit).await?;
            writeln!(
                out,
                "merged wards {}: {} groups moved, {} source keys handed over",
                m.detail, m.groups_moved, m.keys
            )?;
        }
        Admin::Ward(WardCmd::RotateKey { ward }) => {
            let ward = places::resolve_ward(store, ward.as_deref()).await?.code;
            let audit = admin_audit("rotate-source-key", &ward);
            let key_id =
                sotay_server::sources::rotate_ward_key(store, &ward, now_micros(), Some(&audit))
                    .await?;
            writeln!(out, "ward {ward}: new source key {key_id} for new tips")?;
        }
        Admin::Enroll {
            ward,
            group,
            expires,
            server,
            tls_cert,
            no_qr,
        } => {
            let ttl = admin::parse_duration(&expires)?;
            let pin = tls_cert
                .as_deref()
                .map(admin::pin_of_cert_file)
                .transpose()?;
            let ward = places::resolve_ward(store, ward.as_deref()).await?;
            let group = places::find_group(store, &ward.code, &group).await?;
            let code = admin::issue_enroll_code(store, &group.id, ttl, now_micros()).await?;
            let link = admin::pinned_enroll_link(&server, &code, pin.as_deref());
            writeln!(out, "{link}")?;
            if let Some(pin) = &pin {
                writeln!(out, "pin: {pin}")?;
            }
            if !no_qr {
                // On stderr: stdout stays the link first and the code last.
                eprintln!("{}", admin::enroll_qr_text(&link)?);
            }
            writeln!(out, "{code}")?;
        }
        Admin::Template(TemplateCmd::Publish { file }) => {
            let text =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let template: sotay_domain::inspection::ChecklistTemplate =
                serde_json::from_slice(&text)
                    .with_context(|| format!("{} is not a checklist template", file.display()))?;
            let (id, version) = (template.id.clone(), template.version);
            match admin::publish_template(store, template, now_micros()).await? {
                Some(_) => writeln!(out, "published checklist {id} version {version}")?,
                None => writeln!(
                    out,
                    "checklist {id} version {version} was already published"
                )?,
            }
        }
        Admin::Template(TemplateCmd::List) => {
            writeln!(out, "id\tversion\titems\ttitle")?;
            for t in store.templates().await? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}",
                    t.id,
                    t.version,
                    t.items.len(),
                    t.title.vi
                )?;
            }
        }
        Admin::Announce {
            ward,
            title,
            text,
            urgent,
            to,
            photo,
        } => {
            let w = places::resolve_ward(store, ward.as_deref()).await?;
            let photo = photo
                .map(|p| std::fs::read(&p).with_context(|| format!("reading {}", p.display())))
                .transpose()?;
            let to = to
                .iter()
                .map(|t| t.parse())
                .collect::<Result<Vec<sotay_server::announcements::Audience>, _>>()?;
            let new = sotay_server::announcements::NewAnnouncement {
                title: &title,
                text: &text,
                urgent,
                to: &to,
                photo: photo.as_deref(),
            };
            let sent = sotay_server::announcements::announce(
                store,
                &w,
                new,
                admin_audit("announce", &title),
            )
            .await?;
            writeln!(
                out,
                "sent announcement {} to {} groups of ward {}",
                sent.id, sent.groups, w.code
            )?;
        }
        Admin::Announcements { ward } => {
            let w = places::resolve_ward(store, ward.as_deref()).await?;
            writeln!(out, "id\tsent_at\turgent\tread\tdevices\taudience\ttitle")?;
            for a in store
                .announcements(&store::Scope::Ward(w.code.clone()))
                .await?
            {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    a.id,
                    a.created_at.to_rfc3339(),
                    a.urgent,
                    a.read,
                    a.devices,
                    a.audience,
                    a.title
                )?;
            }
        }
        Admin::Campaign(cmd) => campaign_command(store, cmd, &mut out).await?,
        Admin::Campaigns { ward } => {
            campaign_command(store, CampaignCmd::List { ward }, &mut out).await?;
        }
        Admin::Devices { ward } => {
            let scope = scope_of(store, ward.as_deref()).await?;
            admin::write_devices(store, &scope, &mut out).await?
        }
        Admin::Photos => admin::write_photos(store, &mut out).await?,
        Admin::Backup { .. } | Admin::Restore { .. } => {
            unreachable!("run() handles backup and restore before opening the store")
        }
        Admin::Revoke { device_id } => {
            let audit = admin_audit("revoke-device", &device_id.to_string());
            admin::revoke(store, DeviceId(device_id), now_micros(), &audit).await?;
            writeln!(out, "revoked {device_id}")?;
        }
        Admin::Export { format, ward, kind } => {
            let scope = scope_of(store, ward.as_deref()).await?;
            let kind = kind
                .map(|k| k.parse::<ReportKind>())
                .transpose()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let format = match format {
                Format::Json => ExportFormat::Json,
                Format::Csv => ExportFormat::Csv,
            };
            admin::export(store, &scope, format, kind, &mut out).await?;
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
            let detail = format!("{status}: {}", note.as_deref().unwrap_or_default().trim());
            let audit = admin::command_audit("tip-status", &report_id.to_string(), &detail);
            let (group, seq) = admin::set_tip_status(
                store,
                ReportId(report_id),
                status,
                note,
                now_micros(),
                &audit,
            )
            .await?;
            writeln!(
                out,
                "tip {report_id} of group {group}: {status} (pull seq {seq})"
            )?;
        }
        Admin::Officer(OfficerCmd::Add {
            username,
            role,
            sources,
            ward,
            province,
        }) => {
            let role: Role = role.parse()?;
            let ward = if province {
                None
            } else {
                Some(places::resolve_ward(store, ward.as_deref()).await?.code)
            };
            let password = read_secret("Mật khẩu / Password: ", true)?;
            // Read and checked before the account exists, so a wrong
            // passphrase leaves nothing half made.
            let keys = if sources {
                let passphrase = read_secret(
                    "Mã khôi phục của phường / Ward recovery passphrase: ",
                    false,
                )?;
                let ward = ward.as_deref().unwrap_or_default();
                Some(sotay_server::sources::recovered_keys(store, ward, &passphrase).await?)
            } else {
                None
            };
            let officer = accounts::NewOfficer {
                username: &username,
                password: &password,
                role,
                origin: accounts::PasswordOrigin::Assigned,
                ward: ward
                    .as_deref()
                    .map_or(accounts::OfficerWard::Province, accounts::OfficerWard::Ward),
            };
            accounts::add_officer(
                store,
                officer,
                now_micros(),
                Some(&admin_audit("add-officer", &username)),
            )
            .await?;
            writeln!(
                out,
                "added {} {username}; they choose their own password at the first login",
                role.code()
            )?;
            if let Some(keys) = keys {
                grant_sources(store, &username, &keys).await?;
                writeln!(
                    out,
                    "{username} may see sources of ward {}",
                    ward.unwrap_or_default()
                )?;
            }
        }
        Admin::Report(ReportCmd::Move {
            report_id,
            ward,
            group,
        }) => {
            let id = ReportId(report_id);
            let ward = places::resolve_ward(store, ward.as_deref()).await?;
            let target = places::find_group(store, &ward.code, &group).await?;
            let mut audit = admin_audit("move-report", &id.to_string());
            audit.ward = Some(ward.code.clone());
            let from = admin::move_report(store, id, &target.id, audit).await?;
            writeln!(out, "moved {id} from {from} to {group}")?;
        }
        Admin::Report(ReportCmd::Delete { report_id, yes }) => {
            let id = ReportId(report_id);
            if !yes {
                anyhow::bail!("deleting {id} cannot be undone: run again with --yes");
            }
            let audit = admin_audit("delete-report", &id.to_string());
            let owner = admin::delete_report(store, id, audit).await?;
            writeln!(
                out,
                "deleted {id} ({} of {})",
                owner.kind.code(),
                owner.group
            )?;
        }
        Admin::Officer(OfficerCmd::ResetPassword { username, ward }) => {
            let officer = store
                .officer(&username)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no officer {username:?}"))?;
            if let Some(own) = &officer.ward {
                let named = places::resolve_ward(store, ward.as_deref()).await?;
                if named.code != *own {
                    bail!("officer {username} is not of ward {}", named.code);
                }
            }
            let password = read_secret("Mật khẩu mới / New password: ", true)?;
            let audit = admin_audit("reset-password", &username);
            accounts::reset_password(store, &username, &password, Some(&audit)).await?;
            writeln!(
                out,
                "new password set for {username}; their sessions ended and the sources permission, \
                 if they had it, must be granted again"
            )?;
        }
        Admin::Officer(OfficerCmd::GrantSources { username, ward }) => {
            let ward = places::resolve_ward(store, ward.as_deref()).await?.code;
            let passphrase = read_secret(
                "Mã khôi phục của phường / Ward recovery passphrase: ",
                false,
            )?;
            let keys = sotay_server::sources::recovered_keys(store, &ward, &passphrase).await?;
            grant_sources(store, &username, &keys).await?;
            writeln!(out, "{username} may see sources of ward {ward}")?;
        }
        Admin::Households(HouseholdsCmd::List { ward, group }) => {
            let ward = places::resolve_ward(store, ward.as_deref()).await?;
            let g = places::find_group(store, &ward.code, &group).await?;
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(["household", "address", "head"])?;
            for (_, data) in store.household_rows(&g.id).await? {
                let h: sotay_domain::Household = serde_json::from_str(&data)?;
                w.write_record([h.id.to_string(), h.address.clone(), h.head.clone()])?;
            }
            w.flush()?;
        }
        Admin::Households(HouseholdsCmd::Import { ward, group, file }) => {
            let csv = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
            let ward = places::resolve_ward(store, ward.as_deref()).await?;
            let g = places::find_group(store, &ward.code, &group).await?;
            let r = admin::import_households(store, &g.id, &csv, now_micros()).await?;
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

/// The scope of a listing command: one ward with `--ward`, else every ward.
async fn scope_of(store: &store::DynStore, ward: Option<&str>) -> anyhow::Result<store::Scope> {
    Ok(match ward {
        Some(w) => store::Scope::Ward(places::resolve_ward(store, Some(w)).await?.code),
        None => store::Scope::Province,
    })
}

async fn campaign_command(
    store: &store::DynStore,
    cmd: CampaignCmd,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    use sotay_domain::campaign::{CampaignKind, Goal, HouseholdScope};
    use sotay_server::campaigns;
    match cmd {
        CampaignCmd::Add {
            ward,
            title,
            kind,
            from,
            to: ends_on,
            target,
            scope,
            households,
            categories,
        } => {
            let w = places::resolve_ward(store, ward.as_deref()).await?;
            let kind: CampaignKind = kind.parse()?;
            if households.is_some() && kind != CampaignKind::FireSafety {
                bail!("--households is for fire-safety campaigns only");
            }
            if !categories.is_empty() && kind != CampaignKind::Tips {
                bail!("--categories is for tip campaigns only");
            }
            let households: HouseholdScope = households.as_deref().unwrap_or("all").parse()?;
            let categories = categories
                .iter()
                .map(|c| c.trim().parse())
                .collect::<Result<Vec<_>, _>>()?;
            let to = scope
                .iter()
                .map(|t| t.parse())
                .collect::<Result<Vec<places::Audience>, _>>()?;
            let added = campaigns::add(
                store,
                &w,
                campaigns::NewCampaign {
                    title: &title,
                    starts_on: from,
                    ends_on,
                    goal: Goal::of(kind, target, households, categories),
                    to: &to,
                },
                admin_audit("add-campaign", &title),
            )
            .await?;
            writeln!(
                out,
                "set campaign {} for {} groups of ward {}",
                added.id, added.groups, w.code
            )?;
        }
        CampaignCmd::List { ward } => {
            let w = places::resolve_ward(store, ward.as_deref()).await?;
            let scope = store::Scope::Ward(w.code.clone());
            let groups = sotay_server::dashboard::data::groups(store, &scope).await?;
            let today = sotay_domain::vietnam_date(now_micros());
            let rows = store.campaigns(&scope).await?;
            writeln!(
                out,
                "id\tkind\tstarts_on\tends_on\ttarget\tdone\tcount\tof\tstate\ttitle"
            )?;
            for r in campaigns::reports(store, &groups, rows, today).await? {
                let c = r.campaign();
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    c.id,
                    c.kind().map_or("unknown", |k| k.code()),
                    c.starts_on,
                    c.ends_on,
                    c.target(),
                    r.total.done,
                    r.total.count,
                    r.total.of,
                    campaigns::state(&r.row, today).code(),
                    c.title
                )?;
            }
        }
        CampaignCmd::Cancel { id, ward } => {
            let w = places::resolve_ward(store, ward.as_deref()).await?;
            campaigns::cancel(
                store,
                &w,
                sotay_domain::CampaignId(id),
                admin_audit("cancel-campaign", &id.to_string()),
            )
            .await?;
            writeln!(out, "called off campaign {id}")?;
        }
    }
    Ok(())
}

async fn place_command(
    store: &store::DynStore,
    cmd: PlaceCmd,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match cmd {
        PlaceCmd::Add {
            ward,
            block,
            group,
            name,
        } => {
            let w = places::resolve_ward(store, ward.as_deref()).await?;
            match group {
                None => {
                    let b = places::add_block(
                        store,
                        &w,
                        &block,
                        &name,
                        admin_audit("add-block", &block),
                    )
                    .await?;
                    writeln!(
                        out,
                        "added block {} ({}) to ward {}",
                        b.code, b.name, w.code
                    )?;
                }
                Some(code) => {
                    let new = places::NewGroup {
                        block: &block,
                        code: &code,
                        name: &name,
                    };
                    let p =
                        places::add_group(store, &w, new, admin_audit("add-group", &code)).await?;
                    writeln!(
                        out,
                        "added group {} ({}) to block {}",
                        p.group.code, p.group.name, p.block.code
                    )?;
                }
            }
        }
        PlaceCmd::Rename {
            code,
            ward,
            new_code,
            name,
        } => {
            let w = places::resolve_ward(store, ward.as_deref()).await?;
            let c = places::rename(
                store,
                &w,
                &code,
                new_code.as_deref(),
                name.as_deref(),
                admin_audit("rename", &code),
            )
            .await?;
            writeln!(
                out,
                "renamed {}: {} ({} groups told)",
                c.level.code(),
                c.detail,
                c.groups_told
            )?;
        }
        PlaceCmd::Merge { ward, into, codes } => {
            let w = places::resolve_ward(store, ward.as_deref()).await?;
            let c = places::merge(store, &w, &into, &codes, admin_audit("merge", &into)).await?;
            writeln!(
                out,
                "merged {}: {} ({} groups told)",
                c.level.code(),
                c.detail,
                c.groups_told
            )?;
        }
        PlaceCmd::Split {
            code,
            ward,
            into,
            households: None,
            groups: Some(groups),
        } => {
            let w = places::resolve_ward(store, ward.as_deref()).await?;
            let into = into
                .iter()
                .map(|s| places::parse_new_group(s))
                .collect::<Result<Vec<_>, _>>()?;
            let csv = std::fs::read(&groups)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", groups.display()))?;
            let assignments = places::read_block_assignments(&csv)?;
            let audit = admin_audit("split", &code);
            let c = places::split_block(store, &w, &code, &into, &assignments, audit).await?;
            writeln!(
                out,
                "split block: {}; {} groups told",
                c.detail, c.groups_told
            )?;
        }
        PlaceCmd::Split {
            code,
            ward,
            into,
            households,
            groups: _,
        } => {
            let households = households.ok_or_else(|| {
                anyhow::anyhow!("say --households FILE (a group) or --groups FILE (a block)")
            })?;
            let w = places::resolve_ward(store, ward.as_deref()).await?;
            let into = into
                .iter()
                .map(|s| places::parse_new_group(s))
                .collect::<Result<Vec<_>, _>>()?;
            let csv = std::fs::read(&households)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", households.display()))?;
            let assignments = places::read_assignments(&csv)?;
            let audit = admin_audit("split", &code);
            let c = places::split(store, &w, &code, &into, &assignments, audit).await?;
            writeln!(
                out,
                "split group: {}; its devices and other reports went to {}",
                c.detail, into[0].0
            )?;
        }
        PlaceCmd::History { ward } => {
            let scope = scope_of(store, ward.as_deref()).await?;
            writeln!(out, "at\tward\tkind\tlevel\tby\tdetail")?;
            for e in store.place_events(&scope).await? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    e.ward_code,
                    e.kind,
                    e.level,
                    e.username,
                    e.detail
                )?;
            }
        }
    }
    Ok(())
}

/// [`admin::command_audit`] without detail.
fn admin_audit(action: &str, target: &str) -> store::NewAudit {
    admin::command_audit(action, target, "")
}

/// Prints a ward's recovery passphrase as the last line of output, or says
/// why there is none.
fn print_recovery(
    out: &mut impl Write,
    ward: &str,
    passphrase: Option<String>,
) -> anyhow::Result<()> {
    match passphrase {
        Some(p) => {
            writeln!(
                out,
                "ward {ward}: source key made. Write down its recovery passphrase now; it is shown \
                 only this once and stored nowhere (the last line):"
            )?;
            writeln!(out, "{p}")?;
        }
        None => writeln!(out, "ward {ward} already has its source key")?,
    }
    Ok(())
}

async fn grant_sources(
    store: &store::DynStore,
    username: &str,
    keys: &sotay_server::sources::WardSecrets,
) -> anyhow::Result<()> {
    let audit = admin_audit("grant-sources", username);
    sotay_server::sources::grant(store, username, keys, Some(&audit)).await?;
    Ok(())
}

/// A secret read from the operator: at a terminal typed with echo off
/// (twice when `confirm`), or the next line of stdin when piped (the
/// password first, then the recovery passphrase).
fn read_secret(prompt: &str, confirm: bool) -> anyhow::Result<String> {
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
    let first = read(prompt);
    let second = if confirm {
        read("Nhập lại / Again: ")
    } else {
        Ok(String::new())
    };
    if echo_off {
        let _ = std::process::Command::new("stty").arg("echo").status();
    }
    let (first, second) = (first?, second?);
    if confirm && first != second {
        bail!("the two entries differ");
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
