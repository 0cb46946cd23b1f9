//! `sotay-cli`: the headless device. Every command goes through the same
//! [`sotay_device::Store`] the app uses; this file only parses arguments
//! and prints results.

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use sotay_device::store::key::KeyPlace;
use sotay_device::sync::{self, EnrollLink, SyncClient, SyncConfig, SyncError};
use sotay_device::{DeviceError, ErrorCode, ListFilter, Save, Store};
use sotay_domain::household::HouseholdInput;
use sotay_domain::ids::{HouseholdId, ReportId};
use sotay_domain::inspection::{
    Answer, ChecklistTemplate, HOUSEHOLD_TEMPLATE_ID, Inspection, ItemAnswer, TemplateRef,
    Violation,
};
use sotay_domain::labels::{Labelled, Lang};
use sotay_domain::place::DevicePlace;
use sotay_domain::report::{Report, ReportBody, ReportKind, ReportStatus};
use sotay_domain::tip::{Gps, Informant, Location, Source, Suspect, Tip, TipCategory, Urgency};
use sotay_domain::validation::{FieldError, Rule, ValidationErrors};
use sotay_domain::{IdCount, vietnam_offset};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

#[derive(Parser)]
#[command(name = "sotay-cli", version, about = "Sổ tay — the headless device")]
struct Cli {
    /// The device's data folder (holds sotay.sqlite3).
    #[arg(long, env = "SOTAY_DATA", global = true, default_value = "sotay-data")]
    data: PathBuf,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    /// Language of labels and messages: vi or en.
    #[arg(long, global = true, default_value = "vi", env = "SOTAY_LANG")]
    lang: Lang,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Erases everything on this device (reports, register, enrollment and
    /// the data key). Without --yes, says how many unsent changes would be
    /// lost and does nothing.
    Erase {
        #[arg(long)]
        yes: bool,
    },
    /// Sets the ward, block and group this device belongs to.
    Init(InitArgs),
    /// The household register.
    #[command(subcommand)]
    Household(HouseholdCmd),
    /// Security tips.
    #[command(subcommand)]
    Tip(TipCmd),
    /// Records a fire-safety inspection of a household.
    Inspect(InspectArgs),
    /// Records the day's Đề án 06 count (a second count of a day revises it).
    Count(CountArgs),
    /// Queues a draft for the server.
    Send { id: ReportId },
    /// Lists reports, newest first.
    List(ListArgs),
    /// Searches reports and households, ignoring diacritics and case.
    Search {
        text: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Shows one report in full.
    Show { id: ReportId },
    /// Writes every report to stdout.
    /// JSON (the default, or `--json`) or CSV (`--csv`).
    Export {
        /// CSV instead of JSON.
        #[arg(long, conflicts_with = "json")]
        csv: bool,
    },
    /// Lists the changes waiting in the outbox.
    Outbox,
    /// Enrolls this device with the ward's server (server and code, or a
    /// sotay://enroll link); the server assigns the ward, block and group.
    Enroll(EnrollArgs),
    /// Sends everything queued and fetches the ward's decisions. Exits 0
    /// only when everything queued reached the server.
    Sync(SyncArgs),
    /// What waits to be sent, what was sent, the last sync and its error.
    Status,
    /// Checks the store file's integrity.
    Check,
    /// The ward's announcements, urgent ones first, then the newest.
    Announcements,
    /// One announcement of the ward.
    #[command(subcommand)]
    Announcement(AnnouncementCmd),
    /// The ward's running campaigns for this group: progress against the
    /// target (the server's figures at the last sync and what this device
    /// holds), days left and, for fire safety, the households still to
    /// inspect in walking order.
    Campaigns,
}

#[derive(Subcommand)]
enum AnnouncementCmd {
    /// Marks it read: the ward learns it at the next sync.
    Read { id: sotay_domain::AnnouncementId },
    /// Writes its photo (a JPEG, as the ward sent it) to a file.
    Photo {
        id: sotay_domain::AnnouncementId,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args)]
struct InitArgs {
    #[arg(long)]
    ward: String,
    #[arg(long)]
    block: String,
    #[arg(long)]
    group: String,
    #[arg(long)]
    ward_name: Option<String>,
    #[arg(long)]
    block_name: Option<String>,
    #[arg(long)]
    group_name: Option<String>,
}

#[derive(Args)]
struct EnrollArgs {
    #[arg(long, required_unless_present = "link", requires = "code")]
    server: Option<String>,
    #[arg(long)]
    code: Option<String>,
    /// A `sotay://enroll?server=…&code=…` link (from a QR code).
    #[arg(long, conflicts_with_all = ["server", "code"])]
    link: Option<String>,
    /// A name for this device, shown to the ward.
    #[arg(long, default_value = "sotay-cli")]
    name: String,
}

#[derive(Args)]
struct SyncArgs {
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Attempts per request on transient failures.
    #[arg(long, default_value_t = 5)]
    attempts: u32,
}

#[derive(Subcommand)]
enum HouseholdCmd {
    /// Adds a household.
    Add(HouseholdArgs),
    /// Replaces a household's details.
    Edit {
        id: HouseholdId,
        #[command(flatten)]
        args: HouseholdArgs,
    },
    /// Lists the register, optionally filtered.
    List {
        #[arg(long)]
        search: Option<String>,
    },
    /// Imports households from a CSV file: all rows or none.
    Import { file: PathBuf },
}

#[derive(Args)]
struct HouseholdArgs {
    #[arg(long)]
    address: String,
    /// Head of household (chủ hộ).
    #[arg(long)]
    head: String,
    #[arg(long, allow_negative_numbers = true)]
    residents: i64,
    #[arg(long)]
    phone: Option<String>,
    /// Home with a business.
    #[arg(long)]
    business: bool,
    /// Rents out rooms.
    #[arg(long)]
    rents_rooms: bool,
    #[arg(long)]
    notes: Option<String>,
}

#[derive(Subcommand)]
enum TipCmd {
    /// Writes a new tip and queues it (or keeps it as a draft).
    Add(TipArgs),
}

#[derive(Args)]
struct TipArgs {
    #[arg(long)]
    category: String,
    #[arg(long)]
    text: String,
    #[arg(long)]
    urgent: bool,
    /// A resident told you and wants to stay anonymous: nothing about them is kept.
    #[arg(long, conflicts_with_all = ["informant_name", "informant_phone"])]
    anonymous: bool,
    /// A resident told you: their name.
    #[arg(long)]
    informant_name: Option<String>,
    /// A resident told you: their phone.
    #[arg(long)]
    informant_phone: Option<String>,
    /// Ghi chú mật: a confidential note, sealed to the ward like the
    /// informant's name (only officers allowed to see sources read it).
    #[arg(long)]
    confidential_note: Option<String>,
    /// Where, as free text.
    #[arg(long)]
    location: Option<String>,
    /// Where: a household of the register.
    #[arg(long)]
    household: Option<HouseholdId>,
    /// Where: "LAT,LON" or "LAT,LON,ACCURACY_M".
    #[arg(long, allow_hyphen_values = true)]
    gps: Option<String>,
    /// The location is not remembered.
    #[arg(long, conflicts_with_all = ["location", "household", "gps"])]
    no_location: bool,
    /// When it happened: RFC 3339, or "YYYY-MM-DD HH:MM" in Vietnam time.
    #[arg(long)]
    when: Option<String>,
    /// A suspect, "NAME" or "NAME|DESCRIPTION" or "|DESCRIPTION"; repeatable.
    #[arg(long)]
    suspect: Vec<String>,
    /// Keep as a draft instead of queueing.
    #[arg(long)]
    draft: bool,
    /// Edit the report with this id instead of writing a new one.
    #[arg(long)]
    id: Option<ReportId>,
    /// A photo (JPEG, PNG or WebP) to attach; repeatable, at most 5. It is
    /// taken in (upright, at most 1600 px, no metadata) and sent after the
    /// tip. Editing with `--id` and no `--photo` keeps the tip's photos.
    #[arg(long)]
    photo: Vec<PathBuf>,
}

#[derive(Args)]
struct InspectArgs {
    #[arg(long)]
    household: HouseholdId,
    /// Who inspected.
    #[arg(long, default_value = "Tổ trưởng")]
    inspector: String,
    /// "KEY=ANSWER[:NOTE],…": KEY an item number or code, or "all";
    /// ANSWER pass|fail|na. Items that do not apply to the household default to na.
    #[arg(long, required_unless_present = "answers_file")]
    answers: Option<String>,
    /// A JSON file with an array of {"item","answer","note"}.
    #[arg(long)]
    answers_file: Option<PathBuf>,
    /// "ITEM|FIX|YYYY-MM-DD"; repeatable.
    #[arg(long)]
    violation: Vec<String>,
    #[arg(long)]
    reinspect: Option<NaiveDate>,
    /// The household member who acknowledged the result.
    #[arg(long)]
    ack_by: Option<String>,
    #[arg(long)]
    notes: Option<String>,
    /// When: RFC 3339 or "YYYY-MM-DD HH:MM" (Vietnam time); default now.
    #[arg(long)]
    at: Option<String>,
    #[arg(long)]
    draft: bool,
    /// "ITEM:FILE": a photo of a failed item (its number or code);
    /// repeatable, at most 3 per item.
    #[arg(long)]
    photo: Vec<String>,
}

#[derive(Args)]
struct CountArgs {
    #[arg(long)]
    date: NaiveDate,
    #[arg(long, allow_negative_numbers = true)]
    residents: i64,
    #[arg(long, allow_negative_numbers = true)]
    collected: i64,
    #[arg(long, allow_negative_numbers = true)]
    activated: i64,
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    helped: i64,
    #[arg(long)]
    draft: bool,
}

#[derive(Args)]
struct ListArgs {
    #[arg(long)]
    kind: Option<ReportKind>,
    #[arg(long)]
    status: Option<ReportStatus>,
    #[arg(long)]
    category: Option<TipCategory>,
    #[arg(long)]
    from: Option<NaiveDate>,
    #[arg(long)]
    to: Option<NaiveDate>,
    #[arg(long, default_value_t = 50)]
    limit: u32,
    #[arg(long, default_value_t = 0)]
    offset: u32,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (json, lang) = (cli.json, cli.lang);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report_error(&e, json, lang),
    }
}

/// Prints an error as `{code, message}` (JSON) or a readable line, and
/// picks the exit code: 2 for bad input, 1 for everything else.
fn report_error(e: &anyhow::Error, json: bool, lang: Lang) -> ExitCode {
    let device = e
        .downcast_ref::<DeviceError>()
        .or_else(|| match e.downcast_ref::<SyncError>() {
            Some(SyncError::Device(d)) => Some(d),
            _ => None,
        });
    if device.is_none() {
        if let Some(s) = e.downcast_ref::<SyncError>() {
            return print_error(s.code().as_str(), &s.message(lang), None, 3, json, lang);
        }
        if let Some(n) = e.downcast_ref::<NotAllSent>() {
            return print_error(
                CliCode::NotAllSent.code(),
                &n.to_string(),
                None,
                3,
                json,
                lang,
            );
        }
        if let Some(c) = e.downcast_ref::<ConfirmErase>() {
            let message = if lang == Lang::Vi {
                format!(
                    "Xoá sẽ làm mất {} thay đổi chưa gửi. Thêm --yes để xác nhận.",
                    c.waiting
                )
            } else {
                c.to_string()
            };
            return print_error(
                CliCode::ConfirmRequired.code(),
                &message,
                None,
                2,
                json,
                lang,
            );
        }
    }
    let (code, message, fields, exit) = match device {
        Some(d) => {
            let body = d.to_body(lang);
            let exit = match d.code() {
                ErrorCode::Storage
                | ErrorCode::StorageFull
                | ErrorCode::StorageCorrupt
                | ErrorCode::Io => 1,
                _ => 2,
            };
            (d.code().code(), body.message, body.fields, exit)
        }
        None => (ErrorCode::Io.code(), format!("{e:#}"), None, 1),
    };
    print_error(code, &message, fields, exit, json, lang)
}

sotay_domain::code_enum! {
    /// The CLI's own error codes, beside the engine's (`sotay_device::sync::Code`).
    enum CliCode {
        /// `sync --until-sent` ended with changes still waiting.
        NotAllSent => "not-all-sent",
        /// `erase` would lose unsent changes and `--yes` was not given.
        ConfirmRequired => "confirm-required",
    }
}

fn print_error(
    code: &str,
    message: &str,
    fields: Option<serde_json::Value>,
    exit: u8,
    json: bool,
    lang: Lang,
) -> ExitCode {
    if json {
        let v = serde_json::json!({"error": {"code": code, "message": message, "fields": fields}});
        eprintln!("{v}");
    } else {
        let word = if lang == Lang::Vi { "lỗi" } else { "error" };
        eprintln!("{word} [{code}]: {message}");
    }
    ExitCode::from(exit)
}

fn run(cli: Cli) -> Result<()> {
    let mut store = Store::open_dir(&cli.data)
        .with_context(|| format!("cannot open the data folder {}", cli.data.display()))?;
    if store.key_created() && store.key_place() == KeyPlace::File {
        // Said once, when the key is made: never silently.
        let file = cli.data.join(sotay_device::store::key::KEY_FILE);
        let file = file.display();
        if cli.lang == Lang::Vi {
            eprintln!(
                "lưu ý: không có kho khoá của hệ điều hành; khoá mã hoá dữ liệu nằm trong tệp {file} (chỉ chủ sở hữu đọc được)"
            );
        } else {
            eprintln!(
                "note: no operating-system keystore; the data key is kept in the file {file} (readable by its owner only)"
            );
        }
    }
    let out = Out {
        json: cli.json,
        lang: cli.lang,
    };
    match cli.command {
        Command::Erase { yes } => erase(&mut store, yes, &out),
        Command::Init(a) => init(&mut store, a, &out),
        Command::Household(cmd) => household(&mut store, cmd, &out),
        Command::Tip(TipCmd::Add(args)) => tip_add(&mut store, args, &out),
        Command::Inspect(args) => inspect(&mut store, args, &out),
        Command::Count(a) => count(&mut store, a, &out),
        Command::Send { id } => send(&mut store, id, &out),
        Command::List(a) => list(&store, a, &out),
        Command::Search { text, limit } => search(&store, &text, limit, &out),
        Command::Show { id } => show(&store, id, &out),
        Command::Export { csv } => export(&store, csv),
        Command::Outbox => outbox(&store, &out),
        Command::Enroll(a) => enroll(store, a, &out),
        Command::Sync(a) => sync_now(store, a, &out),
        Command::Status => status(&store, &out),
        Command::Check => check(&store, &out),
        Command::Announcements => announcements(&store, &out),
        Command::Campaigns => campaigns(&store, &out),
        Command::Announcement(AnnouncementCmd::Photo { id, out: file }) => {
            let a = store
                .announcements()?
                .into_iter()
                .find(|a| a.announcement.id == id)
                .ok_or_else(|| sotay_device::DeviceError::NotFound {
                    what: "announcement",
                    id: id.to_string(),
                })?;
            let photo = a
                .announcement
                .photo
                .filter(|_| a.photo_saved)
                .ok_or_else(|| sotay_device::DeviceError::NotFound {
                    what: "photo",
                    id: id.to_string(),
                })?;
            std::fs::write(&file, store.photo(&photo.sha256)?)
                .with_context(|| format!("writing {}", file.display()))?;
            out.value(
                &serde_json::json!({"id": id, "photo": photo, "file": file}),
                || format!("đã ghi ảnh của thông báo {id} vào {}", file.display()),
            )
        }
        Command::Announcement(AnnouncementCmd::Read { id }) => {
            store.mark_announcement_read(id, chrono::Utc::now())?;
            out.value(&serde_json::json!({"id": id, "read": true}), || {
                format!("đã đánh dấu đã đọc thông báo {id}")
            })
        }
    }
}

/// `announcements`: a JSON array of `{id, title, text, urgent, sent_at,
/// read, read_at}`, or a line each.
fn announcements(store: &Store, out: &Out) -> Result<()> {
    let list = store.announcements()?;
    out.value(&list, || {
        list.iter()
            .map(|a| {
                format!(
                    "{}{} {} — {}{}",
                    if a.announcement.urgent {
                        "[KHẨN] "
                    } else {
                        ""
                    },
                    a.announcement.sent_at.format("%d/%m/%Y %H:%M"),
                    a.announcement.title,
                    a.announcement.text,
                    if a.read { "" } else { " (chưa đọc)" }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// `campaigns`: a JSON array of the running campaigns (`id, title, kind,
/// target, starts_on, ends_on, done, count, of, left, reached, days_left,
/// goal, remaining: [{id, address, head}]`…), or a few lines each.
fn campaigns(store: &Store, out: &Out) -> Result<()> {
    let today = sotay_domain::vietnam_date(chrono::Utc::now());
    let list = store.campaigns(today, out.lang)?;
    out.value(&list, || {
        let vi = out.lang == Lang::Vi;
        list.iter()
            .map(|c| {
                let s = &c.standing;
                let mut lines = vec![format!(
                    "{} — {} · {}/{} ({}) · {}",
                    c.campaign.title,
                    c.goal,
                    s.count,
                    s.of,
                    if s.reached {
                        if vi { "đạt" } else { "reached" }
                    } else if vi {
                        "chưa đạt"
                    } else {
                        "not reached"
                    },
                    match (c.days_left, vi) {
                        (0, true) => "hôm nay là ngày cuối".to_owned(),
                        (0, false) => "today is the last day".to_owned(),
                        (n, true) => format!("còn {n} ngày"),
                        (n, false) => format!("{n} days left"),
                    }
                )];
                lines.extend(
                    c.remaining
                        .iter()
                        .map(|h| format!("  {}  {} ({})", h.id, h.address, h.head)),
                );
                lines.join("\n")
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// `erase`: everything on the device, after confirming what would be lost.
fn erase(store: &mut Store, yes: bool, out: &Out) -> Result<()> {
    let waiting = store.pending_count()?;
    if !yes {
        return Err(ConfirmErase { waiting }.into());
    }
    store.erase_all()?;
    out.value(
        &serde_json::json!({"erased": true, "lost_unsent": waiting}),
        || format!("đã xoá dữ liệu trên máy ({waiting} thay đổi chưa gửi đã mất)"),
    )
}

/// `init`: the device's ward, block and group.
fn init(store: &mut Store, a: InitArgs, out: &Out) -> Result<()> {
    let InitArgs {
        ward,
        block,
        group,
        ward_name,
        block_name,
        group_name,
    } = a;
    let place = DevicePlace::from_codes(
        &ward,
        &block,
        &group,
        [
            ward_name.as_deref(),
            block_name.as_deref(),
            group_name.as_deref(),
        ],
    )
    .map_err(DeviceError::from)?;
    store.init(&place)?;
    out.value(&place, || {
        format!(
            "{} / {} / {}",
            place.ward.name, place.block.name, place.group.name
        )
    })
}

/// `tip add`: a tip, its photos taken in (or kept from the revision it edits).
fn tip_add(store: &mut Store, args: TipArgs, out: &Out) -> Result<()> {
    let save = if args.draft { Save::Draft } else { Save::Send };
    let id = args.id;
    let files = args.photo.clone();
    let mut tip = tip_from_args(args)?;
    tip.photos = if files.is_empty() {
        match id.map(|id| store.report(id)).transpose()? {
            Some(Report {
                body: ReportBody::Tip(old),
                ..
            }) => old.photos,
            _ => Vec::new(),
        }
    } else {
        files
            .iter()
            .map(|f| take_photo(store, f))
            .collect::<Result<_>>()?
    };
    let report = store.save_report(id, ReportBody::Tip(tip), save)?;
    out.saved(store, &report)
}

/// `inspect`: an inspection against the current checklist, photos on failed items.
fn inspect(store: &mut Store, args: InspectArgs, out: &Out) -> Result<()> {
    let save = if args.draft { Save::Draft } else { Save::Send };
    let h = store.household(args.household)?;
    let photos = args.photo.clone();
    let template = store
        .current_template(HOUSEHOLD_TEMPLATE_ID)?
        .context("no household checklist template")?;
    let mut inspection = inspection_from_args(args, &h, &template)?;
    for (i, spec) in photos.iter().enumerate() {
        let field = format!("photo[{i}]");
        let (item, file) = spec
            .split_once(':')
            .ok_or_else(|| invalid(&field, Rule::BadFormat))?;
        let code = template
            .item(item)
            .ok_or_else(|| invalid(&field, Rule::UnknownItem))?
            .code
            .clone();
        let photo = take_photo(store, Path::new(file))?;
        inspection
            .answers
            .iter_mut()
            .find(|a| a.item == code)
            .ok_or_else(|| invalid(&field, Rule::ItemNotFailed))?
            .photos
            .push(photo);
    }
    let report = store.save_report(None, ReportBody::Inspection(inspection), save)?;
    out.saved(store, &report)
}

/// `count`: the day's Đề án 06 figures.
fn count(store: &mut Store, a: CountArgs, out: &Out) -> Result<()> {
    let save = if a.draft { Save::Draft } else { Save::Send };
    let mut errors = Vec::new();
    let count = IdCount {
        date: a.date,
        residents: count_field("residents", a.residents, &mut errors),
        collected: count_field("collected", a.collected, &mut errors),
        activated: count_field("activated", a.activated, &mut errors),
        helped: count_field("helped", a.helped, &mut errors),
    };
    if !errors.is_empty() {
        return Err(DeviceError::from(ValidationErrors(errors)).into());
    }
    let report = store.save_report(None, ReportBody::IdCount(count), save)?;
    out.saved(store, &report)
}

/// `send`: a draft queued, or a returned report sent again.
fn send(store: &mut Store, id: ReportId, out: &Out) -> Result<()> {
    let report = store.send(id)?;
    out.saved(store, &report)
}

/// `list`: reports, newest first, a page at a time.
fn list(store: &Store, a: ListArgs, out: &Out) -> Result<()> {
    let page = store.list(&ListFilter {
        kind: a.kind,
        status: a.status,
        category: a.category,
        from: a.from,
        to: a.to,
        limit: a.limit,
        offset: a.offset,
    })?;
    out.value(&page.items, || {
        let mut lines: Vec<String> = page
            .items
            .iter()
            .map(|r| {
                format!(
                    "{}  {:<14} rev {}  {}  {}",
                    r.id,
                    r.status.label().get(out.lang),
                    r.rev,
                    r.day,
                    r.title
                )
            })
            .collect();
        lines.push(format!(
            "({}–{} / {})",
            page.offset + u32::from(!page.items.is_empty()),
            page.offset as usize + page.items.len(),
            page.total
        ));
        lines.join("\n")
    })
}

/// `search`: reports and households.
fn search(store: &Store, text: &str, limit: u32, out: &Out) -> Result<()> {
    let found = store.search(text, limit)?;
    let mut hits: Vec<serde_json::Value> = Vec::new();
    for r in &found.reports {
        let mut v = serde_json::to_value(r)?;
        v["type"] = "report".into();
        hits.push(v);
    }
    for h in &found.households {
        let mut v = serde_json::to_value(h)?;
        v["type"] = "household".into();
        hits.push(v);
    }
    out.value(&hits, || {
        let mut lines: Vec<String> = found
            .reports
            .iter()
            .map(|r| format!("{}  {}  {}", r.id, r.status.label().get(out.lang), r.title))
            .collect();
        lines.extend(
            found
                .households
                .iter()
                .map(|h| format!("{}  {} — {}", h.id, h.address, h.head)),
        );
        lines.join("\n")
    })
}

/// `show`: one report in full.
fn show(store: &Store, id: ReportId, out: &Out) -> Result<()> {
    let report = store.report(id)?;
    out.value(&report, || {
        serde_json::to_string_pretty(&report).unwrap_or_default()
    })
}

/// `export`: every report, JSON or CSV.
fn export(store: &Store, csv: bool) -> Result<()> {
    let reports = store.export_reports()?;
    if csv {
        export_csv(&reports)
    } else {
        println!("{}", serde_json::to_string(&reports)?);
        Ok(())
    }
}

/// `outbox`: the changes waiting.
fn outbox(store: &Store, out: &Out) -> Result<()> {
    let entries = store.outbox()?;
    out.value(&entries, || {
        entries
            .iter()
            .map(|e| {
                format!(
                    "#{}  {}  rev {}  {}",
                    e.seq,
                    e.report_id,
                    e.rev,
                    e.kind.label().get(out.lang)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// `enroll`: with the ward's server.
fn enroll(store: Store, a: EnrollArgs, out: &Out) -> Result<()> {
    let EnrollArgs {
        server,
        code,
        link,
        name,
    } = a;
    let link = EnrollLink::from_input(link.as_deref(), server.as_deref(), code.as_deref())?;
    let client = SyncClient::new(SyncConfig::default())?;
    let store = Mutex::new(store);
    let e = runtime()?.block_on(client.enroll_with(&store, &link, &name))?;
    let place = sync::lock(&store)?.place()?.clone();
    out.value(
        &serde_json::json!({"device_id": e.device_id, "server": e.server_url, "place": place}),
        || {
            format!(
                "{} / {} / {} — {}",
                place.ward.name, place.block.name, place.group.name, e.server_url
            )
        },
    )
}

/// `sync`: everything queued sent, the ward's decisions fetched; an error unless all arrived.
fn sync_now(store: Store, a: SyncArgs, out: &Out) -> Result<()> {
    let SyncArgs { timeout, attempts } = a;
    let client = SyncClient::new(SyncConfig {
        timeout: std::time::Duration::from_secs(timeout.max(1)),
        max_attempts: attempts.max(1),
        ..SyncConfig::default()
    })?;
    let store = Mutex::new(store);
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({bytes_per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if out.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut on_progress = |p: sync::Progress| {
        bar.set_message(match p.phase {
            sync::Phase::Push => "gửi",
            sync::Phase::Pull => "nhận",
            sync::Phase::Photos => "ảnh",
        });
        bar.set_length(p.changes_total);
        bar.set_position(p.changes_done);
    };
    let report = runtime()?.block_on(client.sync(&store, &mut on_progress))?;
    bar.finish_and_clear();
    let status = sync::lock(&store)?.sync_status()?;
    out.value(
        &serde_json::json!({"report": report, "status": status}),
        || {
            format!(
                "đã gửi {} (từ chối {}), gửi lại {}, nhận {} — còn chờ {}, bị từ chối {}; ảnh đã gửi {}, ảnh còn chờ {}",
                report.accepted,
                report.rejected,
                report.resent,
                report.pulled,
                status.pending,
                status.quarantined,
                report.photos_sent,
                report.photos_pending
            )
        },
    )?;
    if status.pending > 0 || status.quarantined > 0 {
        anyhow::bail!(NotAllSent {
            pending: status.pending,
            quarantined: status.quarantined
        });
    }
    Ok(())
}

/// `status`: what waits, the last sync and its error.
fn status(store: &Store, out: &Out) -> Result<()> {
    let status = store.sync_status()?;
    out.value(&status, || {
        format!(
            "chờ gửi {}, đã gửi {}, bị từ chối {}, nháp {}; lần đồng bộ cuối: {}{}",
            status.pending,
            status.sent,
            status.quarantined,
            status.drafts,
            status
                .last_sync
                .map_or("chưa".to_owned(), |t| t.to_rfc3339()),
            status
                .last_error
                .as_ref()
                .map(|e| format!("; lỗi [{}]: {}", e.code, e.message))
                .unwrap_or_default()
        ) + &status
            .place_notice
            .as_ref()
            .map(|n| format!("\n{n}"))
            .unwrap_or_default()
    })
}

/// `check`: the store file's integrity.
fn check(store: &Store, out: &Out) -> Result<()> {
    store.integrity_check()?;
    out.value(&serde_json::json!({"integrity": "ok"}), || "ok".into())
}

/// `sync` ended with reports not on the server.
#[derive(Debug, thiserror::Error)]
#[error("{pending} report(s) still waiting and {quarantined} refused by the server")]
struct NotAllSent {
    pending: u64,
    quarantined: u64,
}

/// `erase` without `--yes`: what it would lose, and nothing done.
#[derive(Debug, thiserror::Error)]
#[error("erasing would lose {waiting} unsent change(s): add --yes to confirm")]
struct ConfirmErase {
    waiting: u64,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Output mode: JSON or readable text.
struct Out {
    json: bool,
    lang: Lang,
}

impl Out {
    fn value<T: Serialize>(&self, v: &T, text: impl FnOnce() -> String) -> Result<()> {
        if self.json {
            println!("{}", serde_json::to_string(v)?);
        } else {
            println!("{}", text());
        }
        Ok(())
    }

    /// Printed only after the save committed: a line on stdout means "on disk".
    fn saved(&self, store: &Store, r: &Report) -> Result<()> {
        #[derive(Serialize)]
        struct Saved<'a> {
            id: ReportId,
            kind: ReportKind,
            status: ReportStatus,
            rev: u32,
            #[serde(skip_serializing_if = "Option::is_none")]
            result: Option<&'a str>,
        }
        // An inspection's result as the engine derives it.
        let result = store
            .check_report(r.body.clone())?
            .result
            .map(|res| res.code());
        self.value(
            &Saved {
                id: r.id,
                kind: r.kind(),
                status: r.status,
                rev: r.rev,
                result,
            },
            || {
                let mut line = format!(
                    "{}  {}  rev {}",
                    r.id,
                    r.status.label().get(self.lang),
                    r.rev
                );
                if let Some(res) = result {
                    line.push_str("  ");
                    line.push_str(res);
                }
                line
            },
        )
    }
}

fn household(store: &mut Store, cmd: HouseholdCmd, out: &Out) -> Result<()> {
    match cmd {
        HouseholdCmd::Add(a) => {
            let h = store.add_household(household_input(a)?)?;
            out.value(&h, || h.id.to_string())
        }
        HouseholdCmd::Edit { id, args } => {
            let h = store.update_household(id, household_input(args)?)?;
            out.value(&h, || h.id.to_string())
        }
        HouseholdCmd::List { search } => {
            let list = store.households(search.as_deref())?;
            out.value(&list, || {
                list.iter()
                    .map(|h| {
                        format!(
                            "{}  {} — {} ({} NK){}{}",
                            h.id,
                            h.address,
                            h.head,
                            h.residents,
                            if h.has_business { " [KD]" } else { "" },
                            if h.rents_rooms { " [trọ]" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        HouseholdCmd::Import { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let added = store.import_households(&bytes)?;
            out.value(&serde_json::json!({"imported": added.len()}), || {
                format!("{} households imported", added.len())
            })
        }
    }
}

fn household_input(a: HouseholdArgs) -> Result<HouseholdInput> {
    let mut errors = Vec::new();
    let residents = count_field("residents", a.residents, &mut errors);
    if !errors.is_empty() {
        return Err(DeviceError::from(ValidationErrors(errors)).into());
    }
    Ok(HouseholdInput {
        address: a.address,
        head: a.head,
        residents,
        phone: a.phone,
        has_business: a.business,
        rents_rooms: a.rents_rooms,
        notes: a.notes,
    })
}

/// A count typed as a signed number, so that "-3" is refused with the
/// field's name rather than a parser's complaint.
fn count_field(field: &str, v: i64, errors: &mut Vec<FieldError>) -> u32 {
    match u32::try_from(v) {
        Ok(n) if n <= sotay_domain::count::COUNT_MAX => n,
        _ => {
            errors.push(FieldError::new(
                field,
                Rule::OutOfRange {
                    min: 0.0,
                    max: f64::from(sotay_domain::count::COUNT_MAX),
                },
            ));
            0
        }
    }
}

fn invalid(field: &str, rule: Rule) -> anyhow::Error {
    DeviceError::from(ValidationErrors(vec![FieldError::new(field, rule)])).into()
}

/// RFC 3339, or "YYYY-MM-DD HH:MM" / "YYYY-MM-DD" read as Vietnam time.
fn parse_time(field: &str, s: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M").or_else(|_| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
    });
    match naive.map(|n| n.and_local_timezone(vietnam_offset()).single()) {
        Ok(Some(t)) => Ok(t.with_timezone(&Utc)),
        _ => Err(invalid(field, Rule::BadFormat)),
    }
}

/// Takes the photo in `file` into the store; what a report lists of it.
fn take_photo(store: &mut Store, file: &Path) -> Result<sotay_domain::photo::PhotoRef> {
    let bytes =
        std::fs::read(file).with_context(|| format!("cannot read the photo {}", file.display()))?;
    Ok(store.add_photo(&bytes)?)
}

fn tip_from_args(a: TipArgs) -> Result<Tip> {
    let category: TipCategory =
        a.category
            .parse()
            .map_err(|e: sotay_domain::validation::UnknownCode| {
                anyhow::Error::from(DeviceError::from(ValidationErrors(vec![
                    e.into_field_error("category"),
                ])))
            })?;
    let gps = match a.gps.as_deref() {
        None => None,
        Some(s) => {
            let parts: Vec<Option<f64>> = s.split(',').map(|p| p.trim().parse().ok()).collect();
            match parts.as_slice() {
                [Some(lat), Some(lon)] => Some(Gps {
                    lat: *lat,
                    lon: *lon,
                    accuracy_m: None,
                }),
                [Some(lat), Some(lon), Some(acc)] => Some(Gps {
                    lat: *lat,
                    lon: *lon,
                    accuracy_m: Some(*acc),
                }),
                _ => return Err(invalid("location.gps", Rule::BadFormat)),
            }
        }
    };
    let source = if a.anonymous {
        Source::Resident {
            informant: Informant::Anonymous,
        }
    } else if a.informant_name.is_some() || a.informant_phone.is_some() {
        Source::Resident {
            informant: Informant::Named {
                name: a.informant_name,
                phone: a.informant_phone,
            },
        }
    } else {
        Source::Observed
    };
    let suspects = a
        .suspect
        .iter()
        .map(|s| {
            let (name, desc) = s.split_once('|').unwrap_or((s.as_str(), ""));
            Suspect {
                name_or_alias: Some(name.to_owned()),
                description: Some(desc.to_owned()),
            }
        })
        .collect();
    Ok(Tip {
        photos: Vec::new(),
        category,
        description: a.text,
        location: Location {
            text: a.location,
            household_id: a.household,
            gps,
            not_remembered: a.no_location,
        },
        occurred_at: a
            .when
            .as_deref()
            .map(|w| parse_time("occurred_at", w))
            .transpose()?,
        urgency: if a.urgent {
            Urgency::Urgent
        } else {
            Urgency::Normal
        },
        source,
        suspects,
        confidential_note: a.confidential_note,
        sealed: None,
    })
}

fn parse_answer(s: &str) -> Option<Answer> {
    match s.trim() {
        "na" | "n/a" => Some(Answer::NotApplicable),
        other => other.parse().ok(),
    }
}

/// The inspection the arguments describe, against `template` (the ward's
/// current one). Items that do not apply to the household are left for the
/// engine to answer "không áp dụng".
fn inspection_from_args(
    a: InspectArgs,
    household: &sotay_domain::Household,
    template: &ChecklistTemplate,
) -> Result<Inspection> {
    let mut answers: Vec<ItemAnswer> = Vec::new();
    if let Some(file) = &a.answers_file {
        let text =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        answers = serde_json::from_slice(&text).map_err(|_| invalid("answers", Rule::BadFormat))?;
    }
    if let Some(spec) = &a.answers {
        let mut all: Option<Answer> = None;
        let mut given: Vec<ItemAnswer> = Vec::new();
        for (i, part) in spec.split(',').filter(|p| !p.trim().is_empty()).enumerate() {
            let field = format!("answers[{i}]");
            let (key, rest) = part
                .split_once('=')
                .ok_or_else(|| invalid(&field, Rule::BadFormat))?;
            let (ans, note) = match rest.split_once(':') {
                Some((a, n)) => (a, Some(n.trim().to_owned())),
                None => (rest, None),
            };
            let answer = parse_answer(ans).ok_or_else(|| invalid(&field, Rule::BadFormat))?;
            if key.trim() == "all" {
                all = Some(answer);
                continue;
            }
            let item = template
                .item(key)
                .ok_or_else(|| invalid(&field, Rule::UnknownItem))?;
            given.push(ItemAnswer {
                photos: Vec::new(),
                item: item.code.clone(),
                answer,
                note,
            });
        }
        if let Some(all) = all {
            for item in template.items_for(household) {
                if !given.iter().any(|g| g.item == item.code) {
                    given.push(ItemAnswer {
                        photos: Vec::new(),
                        item: item.code.clone(),
                        answer: all,
                        note: None,
                    });
                }
            }
        }
        answers.extend(given);
    }
    let mut violations = Vec::new();
    for (i, v) in a.violation.iter().enumerate() {
        let field = format!("violations[{i}]");
        let (item, rest) = v
            .split_once('|')
            .ok_or_else(|| invalid(&field, Rule::BadFormat))?;
        let (fix, deadline) = rest
            .rsplit_once('|')
            .ok_or_else(|| invalid(&field, Rule::BadFormat))?;
        let item = template
            .item(item)
            .ok_or_else(|| invalid(&format!("{field}.item"), Rule::UnknownItem))?;
        let deadline = NaiveDate::parse_from_str(deadline.trim(), "%Y-%m-%d")
            .map_err(|_| invalid(&format!("{field}.deadline"), Rule::BadFormat))?;
        violations.push(Violation {
            item: item.code.clone(),
            fix: fix.to_owned(),
            deadline,
        });
    }
    Ok(Inspection {
        household_id: household.id,
        inspected_at: match a.at.as_deref() {
            Some(s) => parse_time("inspected_at", s)?,
            None => Utc::now(),
        },
        inspector: a.inspector,
        template: TemplateRef {
            id: HOUSEHOLD_TEMPLATE_ID.to_owned(),
            version: template.version,
        },
        answers,
        violations,
        reinspect_on: a.reinspect,
        acknowledged_by: a.ack_by,
        notes: a.notes,
    })
}

fn export_csv(reports: &[Report]) -> Result<()> {
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    w.write_record([
        "id",
        "kind",
        "status",
        "rev",
        "created_at",
        "updated_at",
        "category",
        "receipt_seq",
        "body",
    ])?;
    for r in reports {
        let body = serde_json::to_value(&r.body)?;
        let category = match &r.body {
            ReportBody::Tip(t) => t.category.code(),
            _ => "",
        };
        w.write_record([
            r.id.to_string(),
            r.kind().code().to_owned(),
            r.status.code().to_owned(),
            r.rev.to_string(),
            r.created_at.to_rfc3339(),
            r.updated_at.to_rfc3339(),
            category.to_owned(),
            r.receipt
                .as_ref()
                .map(|x| x.server_seq.to_string())
                .unwrap_or_default(),
            body["body"].to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}
