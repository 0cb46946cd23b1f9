//! What the app's screens show that is more than one table: the household
//! list with each home's fire-safety state, the next home to inspect, the
//! group's Đề án 06 progress, the home screen, and the app's settings.
//!
//! Everything here reads; only [`Store::save_settings`] writes.

use super::Store;
use super::reports::{ReportSummary, SUMMARY_SQL, parse_body};
use super::sync::SyncStatus;
use crate::error::{DeviceError, Result};
use chrono::NaiveDate;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sotay_domain::count::IdCount;
use sotay_domain::household::Household;
use sotay_domain::ids::{HouseholdId, ReportId};
use sotay_domain::inspection::{
    ChecklistItem, ChecklistTemplate, HOUSEHOLD_TEMPLATE_ID, InspectionResult,
};
use sotay_domain::labels::Lang;
use sotay_domain::place::DevicePlace;
use sotay_domain::report::{ReportBody, ReportStatus};
use std::collections::HashMap;

/// The app's settings. Later fields carry `#[serde(default)]`, so a file
/// written by an older app still reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AppSettings {
    #[serde(default)]
    pub lang: Lang,
    /// Sync only on Wi-Fi (where the platform can tell), else on any network.
    #[serde(default)]
    pub wifi_only: bool,
    /// Send photos on mobile data too; by default photos wait for Wi-Fi
    /// while reports go on any network the leader allows.
    #[serde(default)]
    pub photos_on_mobile_data: bool,
}

/// A household's fire-safety state, from its latest inspection that is not
/// a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum InspectionMark {
    NotInspected,
    Passed,
    /// Failed; the fix deadline or re-inspection day is still ahead.
    Failed,
    /// Failed, and the re-inspection day (or the earliest fix deadline) has come.
    ReinspectionDue,
}

/// The latest inspection of a household, as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LastInspection {
    pub report_id: ReportId,
    pub status: ReportStatus,
    pub day: NaiveDate,
    pub result: InspectionResult,
    /// When it falls due again
    /// ([`sotay_domain::inspection::Inspection::reinspection_due`]).
    pub due: Option<NaiveDate>,
}

/// The inspection wizard's plan for one household ([`Store::inspection_plan`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InspectionPlan {
    pub household: Household,
    pub template: ChecklistTemplate,
    /// The template's items that apply to this household, in order.
    pub items: Vec<ChecklistItem>,
}

/// One line of the household list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HouseholdRow {
    pub household: Household,
    pub mark: InspectionMark,
    pub last: Option<LastInspection>,
}

/// The group's Đề án 06 figures: the latest count against the residents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CountProgress {
    /// The latest count that is not a draft, if any.
    pub latest: Option<IdCount>,
    /// Residents in the household register (the sum of its households).
    pub register_residents: u32,
    /// The residents the progress is measured against: the latest count's,
    /// or else the register's.
    pub residents: u32,
    pub collected: u32,
    pub activated: u32,
}

/// What the home screen shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Home {
    pub place: Option<DevicePlace>,
    pub sync: SyncStatus,
    /// The ward's latest decisions on this device's tips, newest first.
    pub decisions: Vec<ReportSummary>,
    pub count: CountProgress,
    /// Photos still to send, after their reports.
    pub photos: super::PhotoQueue,
    /// The ward's announcements, urgent ones first, then the newest.
    pub announcements: Vec<super::StoredAnnouncement>,
    /// The group's running campaigns, ending soonest first.
    pub campaigns: Vec<super::CampaignCard>,
}

impl Store {
    /// The app's settings (defaults until first saved).
    pub fn settings(&self) -> Result<AppSettings> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM app_settings WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        match body {
            None => Ok(AppSettings::default()),
            Some(b) => {
                serde_json::from_str(&b).map_err(|e| DeviceError::Corrupt(format!("settings: {e}")))
            }
        }
    }

    pub fn save_settings(&mut self, settings: &AppSettings) -> Result<()> {
        let body = serde_json::to_string(settings)
            .map_err(|e| DeviceError::Corrupt(format!("settings: {e}")))?;
        self.conn.execute(
            "INSERT INTO app_settings (id, body) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            params![body],
        )?;
        Ok(())
    }

    /// The register (optionally searched, see [`Store::households`]) with
    /// each household's fire-safety state on `today`.
    pub fn household_rows(
        &self,
        query: Option<&str>,
        today: NaiveDate,
    ) -> Result<Vec<HouseholdRow>> {
        let latest = self.latest_inspections()?;
        self.households(query)?
            .into_iter()
            .map(|household| {
                let last = latest.get(&household.id).cloned();
                let mark = match &last {
                    None => InspectionMark::NotInspected,
                    Some(l) if l.due.is_some_and(|d| d <= today) => InspectionMark::ReinspectionDue,
                    Some(l) if l.result == InspectionResult::Pass => InspectionMark::Passed,
                    Some(_) => InspectionMark::Failed,
                };
                Ok(HouseholdRow {
                    household,
                    mark,
                    last,
                })
            })
            .collect()
    }

    /// What the inspection wizard needs for one household: the household,
    /// the template a new inspection uses
    /// ([`Store::current_template`]) and the items that apply to it, in
    /// order.
    pub fn inspection_plan(&self, household_id: HouseholdId) -> Result<InspectionPlan> {
        let household = super::households::load_household(&self.conn, household_id)?;
        let template = self
            .current_template(HOUSEHOLD_TEMPLATE_ID)?
            .ok_or_else(|| DeviceError::NotFound {
                what: "checklist template",
                id: HOUSEHOLD_TEMPLATE_ID.to_owned(),
            })?;
        let items = template.items_for(&household).cloned().collect();
        Ok(InspectionPlan {
            household,
            template,
            items,
        })
    }

    /// The first household, by address, never inspected (drafts do not
    /// count): where the leader goes next, door to door.
    pub fn next_uninspected(&self) -> Result<Option<Household>> {
        let latest = self.latest_inspections()?;
        Ok(self
            .households(None)?
            .into_iter()
            .find(|h| !latest.contains_key(&h.id)))
    }

    /// Each household's latest inspection that is not a draft.
    fn latest_inspections(&self) -> Result<HashMap<HouseholdId, LastInspection>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, status, day, body FROM reports
             WHERE kind = 'inspection' AND status != 'draft' AND household_id IS NOT NULL
             ORDER BY day, created_at",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>("id")?,
                r.get::<_, String>("status")?,
                r.get::<_, String>("day")?,
                r.get::<_, String>("body")?,
            ))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (id, status, day, body) = row?;
            let ReportBody::Inspection(i) = parse_body(&body)? else {
                continue;
            };
            let result = match self.template(&i.template.id, i.template.version)? {
                Some(t) => i.result(&t),
                // A template this build does not know: assume the worst.
                None => InspectionResult::Fail,
            };
            let due = i.reinspection_due();
            out.insert(
                i.household_id,
                LastInspection {
                    report_id: super::reports::parse_id(&id)?,
                    status: super::reports::parse_code(&status)?,
                    day: day
                        .parse()
                        .map_err(|_| DeviceError::Corrupt(format!("bad day {day:?}")))?,
                    result,
                    due,
                },
            );
        }
        Ok(out)
    }

    /// The group's Đề án 06 progress: the latest count that is not a draft
    /// against the residents.
    pub fn count_progress(&self) -> Result<CountProgress> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM reports WHERE kind = 'id-count' AND status != 'draft'
                 ORDER BY day DESC, updated_at DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let latest = match body.as_deref().map(parse_body).transpose()? {
            Some(ReportBody::IdCount(c)) => Some(c),
            _ => None,
        };
        let register: i64 = self.conn.query_row(
            "SELECT COALESCE(SUM(residents), 0) FROM households WHERE removed_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        let register_residents = u32::try_from(register).unwrap_or(u32::MAX);
        let (residents, collected, activated) = match &latest {
            Some(c) => (c.residents, c.collected, c.activated),
            None => (register_residents, 0, 0),
        };
        Ok(CountProgress {
            latest,
            register_residents,
            residents,
            collected,
            activated,
        })
    }

    /// The ward's latest decisions on tips, newest decision first.
    pub fn ward_decisions(&self, limit: u32) -> Result<Vec<ReportSummary>> {
        let sql = format!(
            "{SUMMARY_SQL} WHERE r.ward_status IS NOT NULL ORDER BY r.ward_decided_at DESC, r.id DESC LIMIT {}",
            limit.clamp(1, 100)
        );
        self.summaries(&sql, &[])
    }

    /// Everything the home screen shows, in one call.
    pub fn home(&self) -> Result<Home> {
        let today = sotay_domain::vietnam_date(chrono::Utc::now());
        Ok(Home {
            campaigns: self.campaigns(today, self.settings()?.lang)?,
            place: self.place.clone(),
            sync: self.sync_status()?,
            decisions: self.ward_decisions(5)?,
            count: self.count_progress()?,
            photos: self.photo_queue()?,
            announcements: self.announcements()?,
        })
    }
}
