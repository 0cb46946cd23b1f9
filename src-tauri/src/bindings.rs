//! The UI's TypeScript types, generated from the Rust ones with ts-rs:
//! every type a command takes or returns, every event, the map of command
//! names to their arguments and results, and the domain's label catalog.
//! The files are committed under `ui/src/generated/`; the tests below fail
//! when regenerating would change them (`SOTAY_BLESS=1` rewrites them).

use crate::commands::Boot;
use crate::error::{AppCode, AppError, ShellCode};
use sotay_device::store::key::KeyPlace;
use sotay_device::store::{
    CampaignCard, LastError, LockStatus, PhotoQueue, RemainingHousehold, StoredAnnouncement,
    SyncStatus, UnlockOutcome,
};
use sotay_device::sync::{
    Code, EnrollLink, LoopState, LoopStatus, NetworkKind, Phase, Progress, SyncCode, SyncEvent,
    SyncReport,
};
use sotay_device::{
    AppSettings, CountProgress, ErrorCode, Home, HouseholdRow, InspectionMark, InspectionPlan,
    LastInspection, ListFilter, Page, ReportCheck, ReportSummary, SearchResults,
};
use sotay_domain::announcement::Announcement;
use sotay_domain::campaign::{Campaign, CampaignKind, Goal, HouseholdScope, Standing};
use sotay_domain::count::IdCount;
use sotay_domain::household::{Household, HouseholdInput};
use sotay_domain::ids::{AnnouncementId, CampaignId, HouseholdId, ReportId};
use sotay_domain::inspection::{
    Answer, Applies, ChecklistItem, ChecklistTemplate, Inspection, InspectionResult, ItemAnswer,
    TemplateRef, Violation,
};
use sotay_domain::labels::{Lang, Text};
use sotay_domain::photo::PhotoRef;
use sotay_domain::place::{DevicePlace, Place, PlaceCode};
use sotay_domain::report::{
    Receipt, Rejection, Report, ReportBody, ReportKind, ReportStatus, WardDecision,
};
use sotay_domain::tip::{
    Gps, Informant, Location, SealedSource, Source, Suspect, Tip, TipCategory, Urgency,
};
use sotay_domain::validation::{FieldError, Rule};
use sotay_domain::wire::{RejectionCode, ServerCode, WardStatus};
use ts_rs::{Config, TS};

/// Where the generated files live, relative to this crate.
pub const BINDINGS_PATH: &str = "../ui/src/generated/bindings.ts";
pub const LABELS_PATH: &str = "../ui/src/generated/labels.ts";

const HEADER: &str = "// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit:\n// run `SOTAY_BLESS=1 cargo test -p sotay-app bindings` after changing them.\n";

fn config() -> Config {
    // Every 64-bit integer here is a count or a sequence number far below
    // 2^53, and serde_json writes them as JSON numbers.
    Config::new().with_large_int("number")
}

macro_rules! declare {
    ($cfg:ident, $out:ident, $names:ident; $($t:ty),* $(,)?) => {$(
        $out.push_str("export ");
        $out.push_str(&<$t as TS>::decl(&$cfg));
        $out.push('\n');
        $names.push((<$t as TS>::ident(&$cfg), <$t as TS>::dependencies(&$cfg)
            .into_iter().map(|d| d.ts_name).collect::<Vec<_>>()));
    )*};
}

macro_rules! commands {
    ($cfg:ident, $out:ident, $cmds:ident; $($name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty;)*) => {
        $out.push_str("\n/** Every command: its arguments and its result. */\nexport interface Commands {\n");
        $(
            $cmds.push(stringify!($name));
            $out.push_str(&format!("  {}: {{ args: {{ {} }}; result: {} }};\n",
                stringify!($name),
                { let args: Vec<String> = vec![$(format!("{}: {}", stringify!($arg), <$ty as TS>::name(&$cfg))),*]; args.join("; ") },
                <$ret as TS>::name(&$cfg)));
        )*
        $out.push_str("}\n");
    };
}

/// The generated `bindings.ts` and the command names it lists.
pub fn bindings() -> (String, Vec<&'static str>) {
    let cfg = config();
    let mut out = String::from(HEADER);
    out.push('\n');
    let mut declared: Vec<(String, Vec<String>)> = Vec::new();
    declare!(cfg, out, declared;
        AppError, serde_json::Value, ErrorCode, AppSettings, Lang, Home, CountProgress, HouseholdRow, InspectionMark,
        LastInspection, ListFilter, Page<ReportSummary>, ReportSummary, SearchResults, SyncStatus,
        LastError, LockStatus, UnlockOutcome, KeyPlace, SyncEvent, Progress, Phase, SyncReport, LoopState, LoopStatus, NetworkKind, Household, HouseholdInput,
        HouseholdId, ReportId, AnnouncementId, Announcement, StoredAnnouncement, CampaignId, Campaign,
        CampaignCard, CampaignKind, Goal, HouseholdScope, Standing, RemainingHousehold, ChecklistTemplate, ChecklistItem, Applies, Text, Report, ReportBody,
        ReportKind, ReportStatus, Receipt, WardDecision, WardStatus, Rejection, Tip, TipCategory,
        Urgency, Location, Gps, Source, Informant, SealedSource, Suspect, Inspection, TemplateRef, ItemAnswer,
        Answer, Violation, InspectionResult, IdCount, DevicePlace, Place, PlaceCode, PhotoRef, PhotoQueue,
        InspectionPlan, ReportCheck, FieldError, Rule, EnrollLink, AppCode, ShellCode, Code, SyncCode,
        ServerCode, RejectionCode, Boot,
    );
    out.push_str(&format!(
        "\n/** Most photos on a tip, and on one failed checklist item (the engine's limits). */\nexport const TIP_PHOTOS_MAX = {};\nexport const ITEM_PHOTOS_MAX = {};\n",
        sotay_domain::photo::TIP_PHOTOS_MAX,
        sotay_domain::photo::ITEM_PHOTOS_MAX
    ));
    out.push_str(&format!(
        "\n/** The largest figure a Đề án 06 count accepts (sotay_domain::count::COUNT_MAX). */\nexport const COUNT_MAX = {};\n",
        sotay_domain::count::COUNT_MAX
    ));
    let mut cmds: Vec<&'static str> = Vec::new();
    with_commands!(commands, cfg, out, cmds);
    out.push_str(&format!(
        "\n/** Events from the app, by name. */\nexport interface Events {{\n  {}: SyncEvent;\n}}\n",
        crate::SYNC_EVENT
    ));
    // `Page<ReportSummary>` is declared generically as `Page<T>`.
    let names: Vec<String> = declared
        .iter()
        .map(|(n, _)| n.split('<').next().unwrap_or(n).to_owned())
        .collect();
    for (name, deps) in &declared {
        for d in deps {
            assert!(
                names.contains(d),
                "{name} uses {d}, which bindings.rs does not declare"
            );
        }
    }
    (out, cmds)
}

/// The fields the UI labels with the domain's words.
const FIELDS: &[&str] = &[
    "description",
    "category",
    "location",
    "residents",
    "collected",
    "activated",
    "helped",
    "address",
    "head",
    "phone",
    "notes",
    "date",
    "household_id",
    "template",
    "inspector",
    "inspected_at",
    "reinspect_on",
    "acknowledged_by",
];

/// The generated `labels.ts`: the domain's label catalog, keyed by code.
pub fn labels() -> String {
    let mut out = String::from(HEADER);
    out.push_str("\n/** Every label of the domain (sotay_domain::labels::catalog), by key. */\nexport const domainLabels: Record<string, { vi: string; en: string }> = {\n");
    let mut all = sotay_domain::labels::catalog();
    for code in Rule::CODES {
        all.push((format!("rule.{code}"), sotay_domain::labels::rule(code)));
    }
    for field in FIELDS {
        if let Some(label) = sotay_domain::labels::field(field) {
            all.push((format!("field.{field}"), label));
        }
    }
    for (key, label) in all {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
        out.push_str(&format!(
            "  {}: {{ vi: {}, en: {} }},\n",
            q(&key),
            q(label.vi),
            q(label.en)
        ));
    }
    out.push_str("};\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn check(path: &str, want: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        if std::env::var_os("SOTAY_BLESS").is_some() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).expect("mkdir");
            }
            std::fs::write(&path, want).expect("write");
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is out of date: run `SOTAY_BLESS=1 cargo test -p sotay-app bindings` and commit it",
            path.display()
        );
    }

    #[test]
    fn bindings_are_current() {
        check(BINDINGS_PATH, &bindings().0);
    }

    #[test]
    fn labels_are_current() {
        check(LABELS_PATH, &labels());
    }

    #[test]
    fn the_capability_grants_exactly_the_commands() {
        let (_, listed) = bindings();
        let cap: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/default.json"))
                .expect("capability json");
        let granted: Vec<String> = cap["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(|p| p.as_str())
            .filter_map(|p| p.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect();
        assert_eq!(granted, listed, "the capability grants other commands");
    }
}
