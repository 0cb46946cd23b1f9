//! `sotay-device`: the device engine.
//!
//! It owns the durable local store ([`Store`]): one SQLite file per device,
//! append-only migrations applied at open, every save one transaction under
//! WAL with `synchronous=FULL`, and the outbox of queued changes numbered by
//! a per-device sequence that only grows. The sync client (next issue) and
//! the app's commands are built on the same [`Store`]; `sotay-cli` is the
//! headless device over the very same code path.
//!
//! Invariants:
//! - A save that returned `Ok` is on disk and survives a crash or power loss.
//! - A failed save changes nothing (one transaction per save; CSV imports are
//!   all or nothing).
//! - Every outbox sequence number names exactly one (report, rev) and is never
//!   reused; the payload at a sequence number is frozen once a push of it has
//!   been attempted.

pub mod error;
/// Taking a photo in (the same code the server uses for announcements).
pub use sotay_photo as photo;
pub mod store;
pub mod sync;

pub use error::{DeviceError, ErrorCode};
pub use store::{
    AppSettings, CountProgress, Home, HouseholdRow, InspectionMark, InspectionPlan, LastInspection,
    ListFilter, OutboxEntry, Page, ReportCheck, ReportSummary, Save, SearchResults, Store,
};
