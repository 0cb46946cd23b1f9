//! The push pipeline, written once for both backends.
//!
//! A push is decided in three steps:
//! 1. [`BatchKeys::of`] names what the batch touches (its sequence numbers,
//!    report ids, (report, rev) pairs and inspected households);
//! 2. the backend reads that state for the whole batch at once into a
//!    [`BatchState`] (SQLite with cached statements, PostgreSQL with a few
//!    set-based statements sent in one pipeline);
//! 3. [`decide`], a pure function, decides every change in request order,
//!    exactly as if each had been pushed alone after the ones before it,
//!    and returns a [`Plan`]: the rows to write, in bulk, and each change's
//!    outcome. The backend writes the plan in the transaction that also
//!    moves the checkpoint, then [`Plan::outcomes`] turns the new rows'
//!    sequence numbers into receipts.
//!
//! The order of the checks for one change (each refusal is decided before
//! anything of the change is written, so a refused change leaves only its
//! `device_seqs` row):
//! - `device_seq < 1`: refused, nothing recorded;
//! - the sequence number already names another (report, rev): refused as
//!   reused, nothing recorded;
//! - the report belongs to another group: forbidden;
//! - the revision is stored already: accepted with its first receipt, even
//!   if the rules have since become stricter;
//! - the rules refused it, or it changes the report's kind: refused;
//! - an inspection of a household another group's register holds:
//!   forbidden;
//! - otherwise: stored.

use super::{CheckedChange, Outcome, Rejection, Result, StoreError};
use sotay_domain::ReportId;
use sotay_domain::report::Receipt;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a batch touches: the keys its state is read by.
#[derive(Debug, Default)]
pub(crate) struct BatchKeys {
    pub seqs: Vec<i64>,
    pub reports: Vec<ReportId>,
    pub revisions: Vec<(ReportId, u32)>,
    pub households: Vec<String>,
}

impl BatchKeys {
    pub fn of(changes: &[CheckedChange]) -> Self {
        let mut seqs = BTreeSet::new();
        let mut reports = BTreeSet::new();
        let mut revisions = BTreeSet::new();
        let mut households = BTreeSet::new();
        for c in changes {
            seqs.insert(c.device_seq);
            reports.insert(c.report_id);
            revisions.insert((c.report_id, c.rev));
            if let Ok(change) = &c.verdict
                && let Some(h) = super::inspected_household(change)
            {
                households.insert(h);
            }
        }
        Self {
            seqs: seqs.into_iter().collect(),
            reports: reports.into_iter().collect(),
            revisions: revisions.into_iter().collect(),
            households: households.into_iter().collect(),
        }
    }
}

/// The stored state a batch's decisions depend on, read before deciding.
#[derive(Debug, Default)]
pub(crate) struct BatchState {
    /// The device's checkpoint.
    pub checkpoint: i64,
    /// The device's sequence numbers above its checkpoint that are
    /// recorded already (the gaps below the next checkpoint).
    pub recorded_after: BTreeSet<i64>,
    /// Of the batch's sequence numbers, those recorded already, with what
    /// they name.
    pub seqs: HashMap<i64, (ReportId, u32)>,
    /// Of the batch's reports, those stored, with their group and kind.
    pub reports: HashMap<ReportId, (String, String)>,
    /// Of the batch's revisions, those stored, with their receipt.
    pub receipts: HashMap<(ReportId, u32), Receipt>,
    /// Of the inspected households, those in the register, with their group.
    pub households: HashMap<String, String>,
}

/// A `device_seqs` row to upsert.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SeqRow {
    pub seq: i64,
    pub report: ReportId,
    pub rev: u32,
    pub rejection: Option<Rejection>,
}

impl SeqRow {
    pub fn outcome(&self) -> &'static str {
        if self.rejection.is_some() {
            "rejected"
        } else {
            "accepted"
        }
    }
}

/// A report the batch creates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewReport {
    pub id: ReportId,
    pub kind: &'static str,
    pub rev: u32,
}

/// A revision the batch stores, in request order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewRevision {
    pub report: ReportId,
    pub rev: u32,
    pub kind: &'static str,
    pub device_seq: i64,
    pub payload: String,
    /// The photos it lists, for `photo_refs`.
    pub photos: Vec<String>,
    /// It withdraws the tip's source: older revisions lose theirs.
    pub withdraws_source: bool,
}

/// What one change will be answered, once the plan is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Planned {
    /// Stored already: its first receipt.
    Stored(Receipt),
    /// Stored by this batch: the index of its [`NewRevision`].
    New(usize),
    Rejected(Rejection),
}

/// Everything a batch writes, and how each change is answered.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub planned: Vec<Planned>,
    /// One row per sequence number, in order (the last decision wins).
    pub seq_rows: Vec<SeqRow>,
    pub new_reports: Vec<NewReport>,
    pub revisions: Vec<NewRevision>,
    /// The newest revision this batch stores of each report it stores any
    /// of, for `reports.latest_rev`.
    pub latest: Vec<(ReportId, u32)>,
    /// The device's checkpoint once the plan is written.
    pub checkpoint: i64,
    /// Changes that named another group's report or household (report,
    /// group), for the security log.
    pub forbidden: Vec<(ReportId, String)>,
}

/// Decides every change of a push, in request order, against `state`.
/// Pure: the same request and state always give the same plan.
pub(crate) fn decide(group: &str, changes: &[CheckedChange], mut state: BatchState) -> Plan {
    let mut plan = Plan::default();
    let mut seq_rows: BTreeMap<i64, SeqRow> = BTreeMap::new();
    // Revisions this batch stores, by (report, rev): their index.
    let mut stored_here: HashMap<(ReportId, u32), usize> = HashMap::new();
    let mut latest: BTreeMap<ReportId, u32> = BTreeMap::new();
    for c in changes {
        let &CheckedChange {
            report_id,
            device_seq,
            rev,
            ref verdict,
        } = c;
        // Records the sequence number as deciding this change.
        let record = |seqs: &mut HashMap<i64, (ReportId, u32)>,
                      rows: &mut BTreeMap<i64, SeqRow>,
                      rejection: Option<Rejection>| {
            seqs.insert(device_seq, (report_id, rev));
            rows.insert(
                device_seq,
                SeqRow {
                    seq: device_seq,
                    report: report_id,
                    rev,
                    rejection,
                },
            );
        };
        if device_seq < 1 {
            plan.planned
                .push(Planned::Rejected(crate::ingest::bad_seq()));
            continue;
        }
        if let Some(&named) = state.seqs.get(&device_seq)
            && named != (report_id, rev)
        {
            plan.planned
                .push(Planned::Rejected(crate::ingest::seq_reused(device_seq)));
            continue;
        }
        let owner = state.reports.get(&report_id).cloned();
        if let Some((owner_group, _)) = &owner
            && owner_group != group
        {
            plan.forbidden.push((report_id, owner_group.clone()));
            let rej = crate::ingest::forbidden();
            record(&mut state.seqs, &mut seq_rows, Some(rej.clone()));
            plan.planned.push(Planned::Rejected(rej));
            continue;
        }
        if let Some(receipt) = state.receipts.get(&(report_id, rev)) {
            record(&mut state.seqs, &mut seq_rows, None);
            plan.planned.push(Planned::Stored(receipt.clone()));
            continue;
        }
        if let Some(&index) = stored_here.get(&(report_id, rev)) {
            record(&mut state.seqs, &mut seq_rows, None);
            plan.planned.push(Planned::New(index));
            continue;
        }
        let change = match (verdict, &owner) {
            (Err(rej), _) => Err(rej.clone()),
            (Ok(change), Some((_, kind))) if kind != change.kind.code() => {
                Err(crate::ingest::kind_mismatch(kind))
            }
            (Ok(change), _) => Ok(change),
        };
        let change = match change {
            Ok(change) => change,
            Err(rej) => {
                record(&mut state.seqs, &mut seq_rows, Some(rej.clone()));
                plan.planned.push(Planned::Rejected(rej));
                continue;
            }
        };
        if let Some(household) = super::inspected_household(change)
            && let Some(registered) = state.households.get(&household)
            && registered != group
        {
            plan.forbidden.push((report_id, registered.clone()));
            let rej = crate::ingest::forbidden();
            record(&mut state.seqs, &mut seq_rows, Some(rej.clone()));
            plan.planned.push(Planned::Rejected(rej));
            continue;
        }
        let kind = change.kind.code();
        if owner.is_none() {
            state
                .reports
                .insert(report_id, (group.to_owned(), kind.to_owned()));
            plan.new_reports.push(NewReport {
                id: report_id,
                kind,
                rev,
            });
        }
        let newest = latest.entry(report_id).or_insert(rev);
        *newest = (*newest).max(rev);
        let index = plan.revisions.len();
        plan.revisions.push(NewRevision {
            report: report_id,
            rev,
            kind,
            device_seq,
            // A `serde_json::Value` always serialises.
            payload: change.payload.to_string(),
            photos: super::manifest(change),
            withdraws_source: super::withdraws_source(change),
        });
        stored_here.insert((report_id, rev), index);
        record(&mut state.seqs, &mut seq_rows, None);
        plan.planned.push(Planned::New(index));
    }
    let recorded: Vec<i64> = state
        .recorded_after
        .iter()
        .copied()
        .chain(seq_rows.keys().copied())
        .filter(|s| *s > state.checkpoint)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    plan.checkpoint = super::advance_checkpoint(state.checkpoint, &recorded);
    plan.seq_rows = seq_rows.into_values().collect();
    plan.latest = latest.into_iter().collect();
    plan
}

impl Plan {
    /// Each change's outcome, given the receipts of [`Plan::revisions`]
    /// (one per revision, in order).
    pub fn outcomes(self, receipts: &[Receipt]) -> Result<Vec<Outcome>> {
        if receipts.len() != self.revisions.len() {
            return Err(StoreError::Corrupt(format!(
                "{} receipts for {} revisions",
                receipts.len(),
                self.revisions.len()
            )));
        }
        Ok(self
            .planned
            .into_iter()
            .map(|p| match p {
                Planned::Stored(r) => Outcome::Accepted(r),
                Planned::New(i) => Outcome::Accepted(receipts[i].clone()),
                Planned::Rejected(r) => Outcome::Rejected(r),
            })
            .collect())
    }

    /// Logs the changes that named another group's data.
    pub fn log_forbidden(&self, device: &super::DeviceAuth) {
        for (report, group) in &self.forbidden {
            crate::ingest::log_forbidden(device, *report, group);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use sotay_domain::ReportKind;
    use sotay_domain::wire::Change;

    fn tip(id: ReportId, seq: i64, rev: u32) -> CheckedChange {
        CheckedChange {
            report_id: id,
            device_seq: seq,
            rev,
            verdict: Ok(Change {
                report_id: id,
                device_seq: seq,
                rev,
                kind: ReportKind::Tip,
                payload: serde_json::json!({"description": "x"}),
            }),
        }
    }

    fn codes(plan: &Plan) -> Vec<&str> {
        plan.planned
            .iter()
            .map(|p| match p {
                Planned::Rejected(r) => r.code.code(),
                Planned::New(_) => "new",
                Planned::Stored(_) => "stored",
            })
            .collect()
    }

    #[test]
    fn the_stored_state_decides_like_earlier_changes_of_the_batch() {
        let (a, b, c) = (ReportId::new_v7(), ReportId::new_v7(), ReportId::new_v7());
        let receipt = Receipt {
            server_seq: 7,
            received_at: Utc::now(),
        };
        let state = BatchState {
            checkpoint: 2,
            recorded_after: [4].into(),
            seqs: [(1, (a, 1)), (4, (c, 1))].into(),
            reports: [
                (a, ("g1".to_owned(), "tip".to_owned())),
                (b, ("g2".to_owned(), "tip".to_owned())),
            ]
            .into(),
            receipts: [((a, 1), receipt.clone())].into(),
            households: HashMap::new(),
        };
        let plan = decide(
            "g1",
            &[
                tip(a, 1, 1),
                tip(b, 3, 1),
                tip(a, 1, 2),
                tip(a, 5, 2),
                tip(a, 0, 3),
            ],
            state,
        );
        assert_eq!(
            codes(&plan),
            ["stored", "forbidden", "seq-reused", "new", "out-of-range"]
        );
        assert_eq!(plan.planned[0], Planned::Stored(receipt));
        assert_eq!(plan.forbidden, [(b, "g2".to_owned())]);
        // 3 and 5 recorded now, 4 before: the checkpoint closes the gap.
        assert_eq!(plan.checkpoint, 5);
        assert_eq!(plan.latest, [(a, 2)]);
        assert!(plan.new_reports.is_empty(), "a is stored already");
        let seqs: Vec<i64> = plan.seq_rows.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [1, 3, 5]);
    }

    #[test]
    fn outcomes_need_one_receipt_per_new_revision() {
        let a = ReportId::new_v7();
        let plan = decide("g1", &[tip(a, 1, 1), tip(a, 2, 1)], BatchState::default());
        assert_eq!(codes(&plan), ["new", "new"]);
        assert_eq!(plan.revisions.len(), 1);
        assert!(plan.outcomes(&[]).is_err());
        let plan = decide("g1", &[tip(a, 1, 1), tip(a, 2, 1)], BatchState::default());
        let r = Receipt {
            server_seq: 1,
            received_at: Utc::now(),
        };
        let out = plan
            .outcomes(std::slice::from_ref(&r))
            .expect("one receipt");
        assert_eq!(out, [Outcome::Accepted(r.clone()), Outcome::Accepted(r)]);
    }
}
