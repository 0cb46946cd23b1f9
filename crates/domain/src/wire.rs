//! The sync protocol's wire types (`/v1`), shared by `sotay-server` and the
//! device's sync client so the two can never disagree.
//!
//! Evolution is additive: a field added after version 1 carries
//! `#[serde(default)]`, so an older app keeps syncing with a newer server,
//! and unknown fields are ignored in both directions.

use crate::ids::ReportId;
use crate::place::DevicePlace;
use crate::report::{ReportBody, ReportKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// An enrolled device's id, made by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct DeviceId(pub Uuid);

impl std::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// `POST /v1/enroll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollRequest {
    /// The one-time enrollment code printed by `sotay-server admin enroll`.
    pub code: String,
    /// A name for the device, shown to the ward ("Điện thoại tổ trưởng k01-t03"):
    /// 1 to [`DEVICE_NAME_MAX`] characters, not only spaces.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 120, pattern = r"\S")
    )]
    pub device_name: String,
}

/// The longest device name, in characters (the OpenAPI document says 120;
/// a test holds the two together).
pub const DEVICE_NAME_MAX: usize = 120;

/// The answer to a successful enrollment. The token is shown once; the
/// server keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollResponse {
    pub device_id: DeviceId,
    pub token: String,
    /// The ward, block and group this device now belongs to.
    pub place: DevicePlace,
}

code_enum! {
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    /// The ward's decision on a tip, set by an officer.
    pub enum WardStatus {
        Received => "received",
        Verifying => "verifying",
        Resolved => "resolved",
        Unfounded => "unfounded",
    }
}

/// One change in a push: one revision of one report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub report_id: ReportId,
    /// The device's outbox sequence number: starts at 1, only grows, and
    /// every number names exactly one (report, rev).
    pub device_seq: i64,
    /// Any `u32` is a well-formed request; a revision below 1 is refused
    /// for this change alone, in its result.
    #[cfg_attr(
        feature = "openapi",
        schema(format = Int64, minimum = 0, maximum = 4294967295_u64)
    )]
    pub rev: u32,
    pub kind: ReportKind,
    /// The report body as JSON. Kept raw on the wire so that one change
    /// that does not parse is rejected on its own, not with its batch;
    /// see [`Change::body`].
    pub payload: serde_json::Value,
}

impl Change {
    /// Builds the change for one revision of a report.
    pub fn new(report_id: ReportId, device_seq: i64, rev: u32, body: &ReportBody) -> Self {
        let payload = match serde_json::to_value(body) {
            Ok(serde_json::Value::Object(mut map)) => {
                map.remove("body").unwrap_or(serde_json::Value::Null)
            }
            _ => serde_json::Value::Null,
        };
        Self {
            report_id,
            device_seq,
            rev,
            kind: body.kind(),
            payload,
        }
    }

    /// The typed body, or why the payload is not a valid body of `kind`.
    pub fn body(&self) -> Result<ReportBody, serde_json::Error> {
        let tagged = serde_json::json!({ "kind": self.kind, "body": self.payload });
        serde_json::from_value(tagged)
    }
}

/// `POST /v1/sync/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    pub changes: Vec<Change>,
}

code_enum! {
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    /// Why the server refused one change of a push
    /// ([`ChangeOutcome::Rejected`]); the device quarantines the report.
    pub enum RejectionCode {
        /// The payload is not a body of the change's kind (wrong types, an
        /// unknown category, a missing field).
        BadPayload => "bad-payload",
        /// The body parses but breaks the domain's rules (the rejection's
        /// `fields` say which).
        Invalid => "invalid",
        /// An inspection against a template the server lacks.
        UnknownTemplate => "unknown-template",
        /// A sequence number or revision below 1.
        OutOfRange => "out-of-range",
        /// A device sequence number already named another change.
        SeqReused => "seq-reused",
        /// The report belongs to another group.
        Forbidden => "forbidden",
        /// A new revision with a different kind than the report's.
        KindMismatch => "kind-mismatch",
        /// A Đề án 06 count under an id other than its group's and day's.
        CountIdMismatch => "count-id-mismatch",
        /// A tip sealed to a key that is not one of its ward's.
        SourceKeyUnknown => "source-key-unknown",
        /// A sealed source made for another ward or a later revision.
        SourceMisplaced => "source-misplaced",
        /// A code from a newer server that this build does not know.
        #[serde(other)]
        Unknown => "unknown",
    }
}

code_enum! {
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    /// Every code of an error response ([`ErrorBody::code`]): what a client
    /// branches on. Each is documented with its status in the server's
    /// `ApiError`.
    pub enum ServerCode {
        MalformedJson => "malformed-json",
        InvalidRequest => "invalid-request",
        BadBody => "bad-body",
        BadQuery => "bad-query",
        Unauthorized => "unauthorized",
        TokenRevoked => "token-revoked",
        EnrollCodeInvalid => "enroll-code-invalid",
        EnrollCodeUsed => "enroll-code-used",
        EnrollCodeExpired => "enroll-code-expired",
        TooLarge => "too-large",
        BatchTooLarge => "batch-too-large",
        RateLimited => "rate-limited",
        UnsupportedMediaType => "unsupported-media-type",
        NotFound => "not-found",
        MethodNotAllowed => "method-not-allowed",
        Timeout => "timeout",
        BadRequest => "bad-request",
        BadPhotoName => "bad-photo-name",
        BadPhotoLength => "bad-photo-length",
        PhotoNotListed => "photo-not-listed",
        PhotoOffset => "photo-offset",
        PhotoTooLarge => "photo-too-large",
        PhotoHashMismatch => "photo-hash-mismatch",
        Internal => "internal",
        /// A code from a newer server that this build does not know.
        #[serde(other)]
        Unknown => "unknown",
    }
}

/// What the server made of one change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum ChangeOutcome {
    /// Stored now or earlier; a repeat gets the first receipt.
    Accepted { receipt: crate::report::Receipt },
    /// Refused; the device quarantines it and shows the reason.
    Rejected {
        code: RejectionCode,
        /// In Vietnamese, for the ward's records and for older apps.
        message: String,
        /// For `invalid`: every rule broken, so the device can say it in
        /// the leader's language and mark the fields.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
        fields: Vec<crate::validation::FieldError>,
    },
}

/// The result of one change, in the order of the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeResult {
    pub report_id: ReportId,
    pub device_seq: i64,
    pub rev: u32,
    #[serde(flatten)]
    pub outcome: ChangeOutcome,
}

/// The answer to a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub results: Vec<ChangeResult>,
    /// The highest device sequence number up to which the server has
    /// processed (stored or rejected) every change of this device. Behind
    /// what the device believes delivered means the server lost data.
    pub checkpoint: i64,
}

/// Something that changed centrally, for the device's group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum PullItem {
    /// The ward's decision on one of the group's tips.
    TipStatus {
        report_id: ReportId,
        status: WardStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        decided_at: DateTime<Utc>,
    },
    /// A checklist template version.
    Template {
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        template: crate::inspection::ChecklistTemplate,
    },
    /// A household of the group's register, added or edited centrally.
    Household {
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        household: crate::household::Household,
    },
    /// A household no longer in the group's register (the ward loaded a
    /// register without it). Devices stop listing it; past reports that
    /// name it keep it.
    HouseholdRemoved {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        household_id: crate::ids::HouseholdId,
    },
    /// The device's group was renamed, merged or split centrally: from now
    /// on the device belongs to `place`. `before` are the units as they
    /// were (for a merge, every group merged; for a rename, the old name).
    /// The device keeps its reports and register, now under `place`, and
    /// shows its leader one line ([`crate::place::place_notice`]).
    Place {
        place: crate::DevicePlace,
        change: crate::place::PlaceChange,
        before: Vec<crate::place::Place>,
        at: DateTime<Utc>,
    },
    /// An announcement of the ward to the group's leaders (to the whole
    /// ward or chosen blocks and groups).
    Announcement {
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        announcement: crate::announcement::Announcement,
    },
    /// An item of a type this build does not know, from a newer server:
    /// read and skipped, so an older app keeps syncing.
    #[serde(other)]
    Unknown,
}

/// `POST /v1/announcements/read`: the announcements a device's leader read
/// since the last sync. Idempotent: a receipt sent twice counts once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadReceiptsRequest {
    pub reads: Vec<crate::announcement::ReadReceipt>,
}

/// The answer: how many receipts were new (a receipt for an announcement
/// the device's group never received is ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadReceiptsResponse {
    pub recorded: u32,
}

/// `GET /v1/campaigns`: the campaigns of the device's group that have not
/// ended (or ended in the last few days), each with what the server counts
/// for the group so far, from every device of the group. The device adds
/// what it has not sent yet, so its card is right offline too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignsResponse {
    pub campaigns: Vec<GroupCampaign>,
}

/// One campaign of the group and the server's figures for the group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupCampaign {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub campaign: crate::campaign::Campaign,
    /// Fire safety: the group's households inspected within the period,
    /// each with the first day of the period it was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inspected: Vec<InspectedHousehold>,
    /// Tips: the group's tips that count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tips: Vec<ReportId>,
    /// Đề án 06: the group's latest count on or before the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub count: Option<crate::count::IdCount>,
}

/// A household inspected within a campaign's period, and the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InspectedHousehold {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub household_id: crate::ids::HouseholdId,
    pub day: chrono::NaiveDate,
}

/// One pulled item with its place in the server's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullEntry {
    pub server_seq: i64,
    #[serde(flatten)]
    pub item: PullItem,
}

/// `GET /v1/sync/pull?since=CURSOR&limit=N`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    pub entries: Vec<PullEntry>,
    /// Pass as `since` next time.
    pub next_cursor: i64,
    pub more: bool,
}

/// `GET /v1/server-info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerInfo {
    pub protocol_versions: Vec<u32>,
    pub max_batch_items: usize,
    pub max_batch_bytes: usize,
    pub server_time: DateTime<Utc>,
    /// Each ward's current source key: devices seal a named informant's
    /// identity to their ward's key before a tip leaves them.
    #[serde(default)]
    pub source_keys: Vec<SourceKey>,
    /// This server's id, made once with its database: a device records it
    /// at enrollment and refuses to enroll with another server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    /// The largest photo this server takes (`PUT /v1/photos/{sha256}`), in
    /// bytes; `None` from a server that takes no photos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_max_bytes: Option<u64>,
}

/// The headers of a photo upload (`HEAD`/`PUT /v1/photos/{sha256}`): a
/// photo is sent whole or resumed where the server's copy ends.
pub mod photo_upload {
    /// In a `PUT`: where its body starts in the photo (0 when absent). In
    /// an answer: how many bytes of the photo the server holds.
    pub const OFFSET: &str = "upload-offset";
    /// In a `PUT`: the photo's whole length.
    pub const LENGTH: &str = "upload-length";
}

/// A ward's public source key (X25519) and its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceKey {
    pub ward: String,
    pub key_id: String,
    /// The 32-byte public key, base64.
    pub public_key: String,
}

/// Every error response: a stable code to branch on, a readable message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: ServerCode,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::count::IdCount;

    #[test]
    fn codes_cross_as_bare_strings_and_a_newer_peers_code_is_unknown() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"code":"token-revoked","message":"m"}"#).expect("body");
        assert_eq!(body.code, ServerCode::TokenRevoked);
        let newer: ErrorBody =
            serde_json::from_str(r#"{"code":"quota-exceeded","message":"m"}"#).expect("body");
        assert_eq!(newer.code, ServerCode::Unknown);
        let outcome: ChangeOutcome = serde_json::from_str(
            r#"{"outcome":"rejected","code":"invalid","message":"Nội dung: cần ít nhất 10 ký tự",
                "fields":[{"field":"description","code":"too-short","min":10}]}"#,
        )
        .expect("outcome");
        let ChangeOutcome::Rejected { code, fields, .. } = &outcome else {
            panic!("rejected")
        };
        assert_eq!(*code, RejectionCode::Invalid);
        assert_eq!(
            fields[0].rule,
            crate::validation::Rule::TooShort { min: 10 }
        );
        assert_eq!(
            serde_json::to_value(&outcome).expect("json")["fields"][0]["min"],
            10
        );
        // An older server sends no fields; a newer one may send a new code.
        let old: ChangeOutcome =
            serde_json::from_str(r#"{"outcome":"rejected","code":"quota","message":"m"}"#)
                .expect("outcome");
        assert!(
            matches!(old, ChangeOutcome::Rejected { code: RejectionCode::Unknown, ref fields, .. } if fields.is_empty())
        );
    }

    #[test]
    fn change_round_trips_its_body() {
        let body = ReportBody::IdCount(IdCount {
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"),
            residents: 110,
            collected: 80,
            activated: 40,
            helped: 3,
        });
        let c = Change::new(ReportId::new_v7(), 7, 1, &body);
        assert_eq!(c.kind, ReportKind::IdCount);
        assert_eq!(c.body().expect("parses"), body);
    }

    #[test]
    fn older_client_payload_without_newer_fields_parses() {
        // `helped` was optional from the start; a payload without it parses.
        let c: Change = serde_json::from_value(serde_json::json!({
            "report_id": "0190f5a0-0000-7000-8000-000000000001",
            "device_seq": 1, "rev": 1, "kind": "id-count",
            "payload": {"date": "2026-11-02", "residents": 5, "collected": 4, "activated": 1},
            "some_future_field": true
        }))
        .expect("parses");
        assert!(c.body().is_ok());
    }

    #[test]
    fn a_pull_item_of_a_newer_server_reads_as_unknown() {
        let page: PullResponse = serde_json::from_value(serde_json::json!({
            "entries": [
                {"server_seq": 7, "type": "household-removed",
                 "household_id": "0190f5a0-0000-7000-8000-000000000002"},
                {"server_seq": 8, "type": "photo-request", "report_id": "x", "size": 3}
            ],
            "next_cursor": 8, "more": false
        }))
        .expect("parses");
        assert!(matches!(
            page.entries[0].item,
            PullItem::HouseholdRemoved { .. }
        ));
        assert_eq!(page.entries[1].item, PullItem::Unknown);
        assert_eq!(page.entries[1].server_seq, 8);
    }
}
