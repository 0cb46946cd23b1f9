//! Reports and their lifecycle.
//!
//! `draft` (autosaved, editable) → `queued` (the leader pressed send; waits
//! for sync) → `sent` (the server's receipt is stored), or `quarantined`
//! (the server refused it, with a reason; fixing it queues it again). Editing a queued
//! report updates it in place; editing a sent one creates revision `rev + 1`,
//! queued again. The id never changes across revisions.

use crate::count::IdCount;
use crate::ids::ReportId;
use crate::inspection::Inspection;
use crate::tip::Tip;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

code_enum! {
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    /// The three kinds of report.
    pub enum ReportKind {
        Tip => "tip",
        Inspection => "inspection",
        IdCount => "id-count",
    }
}

code_enum! {
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    /// Where a report is in its lifecycle on the device.
    pub enum ReportStatus {
        Draft => "draft",
        Queued => "queued",
        Sent => "sent",
        /// The server refused the change; the leader sees why, fixes and resends.
        Quarantined => "quarantined",
    }
}

/// The content of a report, tagged by kind: `{"kind": "tip", "body": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", content = "body", rename_all = "kebab-case")]
pub enum ReportBody {
    Tip(Tip),
    Inspection(Inspection),
    IdCount(IdCount),
}

impl ReportBody {
    /// The report's photo manifest: every photo it lists, with where it
    /// belongs (`None` for a tip's own photos, the checklist item's code
    /// for an inspection's).
    pub fn photos(&self) -> Vec<(Option<&str>, &crate::photo::PhotoRef)> {
        match self {
            ReportBody::Tip(t) => t.photos.iter().map(|p| (None, p)).collect(),
            ReportBody::Inspection(i) => i
                .answers
                .iter()
                .flat_map(|a| a.photos.iter().map(|p| (Some(a.item.as_str()), p)))
                .collect(),
            ReportBody::IdCount(_) => Vec::new(),
        }
    }

    pub fn kind(&self) -> ReportKind {
        match self {
            ReportBody::Tip(_) => ReportKind::Tip,
            ReportBody::Inspection(_) => ReportKind::Inspection,
            ReportBody::IdCount(_) => ReportKind::IdCount,
        }
    }

    /// The text search looks in, unfolded.
    pub fn search_text(&self) -> String {
        match self {
            ReportBody::Tip(t) => t.search_text(),
            ReportBody::Inspection(i) => i.search_text(),
            ReportBody::IdCount(_) => String::new(),
        }
    }
}

/// A server receipt: the server's sequence number for the change and the
/// server's time. Filled in by sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipt {
    pub server_seq: i64,
    pub received_at: DateTime<Utc>,
}

/// The ward's decision on a tip, as pulled from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WardDecision {
    pub status: crate::wire::WardStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub decided_at: DateTime<Utc>,
}

/// Why the server refused a change (the report is `quarantined`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Rejection {
    pub code: crate::wire::RejectionCode,
    /// The server's words (Vietnamese), or, when `fields` says which rules
    /// broke, those rules in the leader's language.
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(
        feature = "ts",
        ts(optional, as = "Option<Vec<crate::validation::FieldError>>")
    )]
    pub fields: Vec<crate::validation::FieldError>,
}

/// A report as stored on the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Report {
    pub id: ReportId,
    pub status: ReportStatus,
    /// Revision, from 1. Grows only when a sent report is edited.
    pub rev: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
    /// The ward's decision (tips only), once pulled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward: Option<WardDecision>,
    /// Why the server refused the current revision, when `quarantined`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    #[serde(flatten)]
    pub body: ReportBody,
}

impl Report {
    pub fn kind(&self) -> ReportKind {
        self.body.kind()
    }
}
