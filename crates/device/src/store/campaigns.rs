//! The `campaigns` table: the ward's campaigns for this group, as the
//! server last sent them with its figures for the group, and the leader's
//! card for each running one ([`Store::campaigns`]).
//!
//! A card adds what this phone holds to what the server counted (every
//! device of the group, as of the last sync): an inspection, a tip or a
//! count queued here counts at once, offline, and one already sent is
//! counted once. What counts is the domain's rule
//! (`sotay_domain::campaign`), the same the ward's dashboard applies.

use super::reports::parse_body;
use super::{Store, parse_ts, ts};
use crate::error::{DeviceError, Result};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use sotay_domain::campaign::{Campaign, CampaignKind, Goal, Standing, Tally};
use sotay_domain::count::IdCount;
use sotay_domain::ids::{HouseholdId, ReportId};
use sotay_domain::labels::{Lang, campaign_goal};
use sotay_domain::report::ReportBody;
use sotay_domain::wire::{GroupCampaign, InspectedHousehold};
use std::collections::HashSet;

/// What the server counted for the group, kept beside each campaign.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Facts {
    #[serde(default)]
    inspected: Vec<InspectedHousehold>,
    #[serde(default)]
    tips: Vec<ReportId>,
    #[serde(default)]
    count: Option<IdCount>,
}

/// A household a fire-safety campaign still needs inspected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RemainingHousehold {
    pub id: HouseholdId,
    pub address: String,
    pub head: String,
}

/// A running campaign as the leader's card (and `sotay-cli campaigns`)
/// shows it: the campaign, how far the group is (`done` in the target's
/// unit, `count` of `of`, `left` to reach it), the days left and, for fire
/// safety, the households still to inspect in walking order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CampaignCard {
    #[serde(flatten)]
    pub campaign: Campaign,
    #[serde(flatten)]
    pub standing: Standing,
    /// The target in words, in the app's language.
    pub goal: String,
    /// Days after today until the end (0: today is the last day).
    pub days_left: i64,
    /// Fire safety: the households in scope not yet inspected within the
    /// period, nearest first by address order; empty for other kinds.
    pub remaining: Vec<RemainingHousehold>,
    /// When the server's figures were fetched.
    pub fetched_at: DateTime<Utc>,
}

impl Store {
    /// Replaces the group's campaigns with the server's answer, in one
    /// transaction: a campaign no longer listed (called off, long ended,
    /// or of another group after a move) is dropped; one still listed
    /// keeps whether it was notified.
    pub fn replace_campaigns(
        &mut self,
        campaigns: &[GroupCampaign],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let keep: Vec<String> = campaigns
            .iter()
            .map(|c| c.campaign.id.to_string())
            .collect();
        let keep_json = serde_json::to_string(&keep)
            .map_err(|e| DeviceError::Corrupt(format!("campaign ids: {e}")))?;
        tx.execute(
            "DELETE FROM campaigns WHERE id NOT IN (SELECT value FROM json_each(?1))",
            params![keep_json],
        )?;
        for c in campaigns {
            let body = serde_json::to_string(&c.campaign)
                .map_err(|e| DeviceError::Corrupt(format!("campaign: {e}")))?;
            let facts = serde_json::to_string(&Facts {
                inspected: c.inspected.clone(),
                tips: c.tips.clone(),
                count: c.count.clone(),
            })
            .map_err(|e| DeviceError::Corrupt(format!("campaign figures: {e}")))?;
            tx.execute(
                "INSERT INTO campaigns (id, body, facts, fetched_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body, facts = excluded.facts,
                     fetched_at = excluded.fetched_at",
                params![c.campaign.id.to_string(), body, facts, ts(now)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every campaign held, with the server's figures and when they came.
    fn stored_campaigns(&self) -> Result<Vec<(Campaign, Facts, DateTime<Utc>)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT body, facts, fetched_at FROM campaigns ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (body, facts, at) = row?;
            let corrupt = |e: serde_json::Error| DeviceError::Corrupt(format!("campaign: {e}"));
            out.push((
                serde_json::from_str(&body).map_err(corrupt)?,
                serde_json::from_str(&facts).map_err(corrupt)?,
                parse_ts(&at)?,
            ));
        }
        Ok(out)
    }

    /// The bodies of this phone's reports of `kind` that count (queued or
    /// sent: a draft is not done, a report the server refused does not
    /// count there either, nor a tip the ward judged unfounded), with
    /// their ids and statuses.
    fn counted_reports(&self, kind: &str) -> Result<Vec<(ReportId, String, ReportBody)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, status, body FROM reports
             WHERE kind = ?1 AND status IN ('queued', 'sent')
               AND COALESCE(ward_status, '') <> 'unfounded'
             ORDER BY updated_at, id",
        )?;
        let rows = stmt.query_map(params![kind], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, status, body) = row?;
            out.push((super::reports::parse_id(&id)?, status, parse_body(&body)?));
        }
        Ok(out)
    }

    /// The campaigns running on `today` (Vietnam), each with the group's
    /// progress from the server's figures and this phone's reports; the
    /// target said in `lang`. Those ending soonest come first.
    pub fn campaigns(&self, today: NaiveDate, lang: Lang) -> Result<Vec<CampaignCard>> {
        let running: Vec<_> = self
            .stored_campaigns()?
            .into_iter()
            .filter(|(c, _, _)| c.running_on(today) && c.kind().is_some())
            .collect();
        if running.is_empty() {
            return Ok(Vec::new());
        }
        // Only what the running campaigns look at: the home screen asks
        // for this at every refresh.
        let needs = |kind| running.iter().any(|(c, _, _)| c.kind() == Some(kind));
        let reports = |kind, name| {
            if needs(kind) {
                self.counted_reports(name)
            } else {
                Ok(Vec::new())
            }
        };
        let register = self.households(None)?;
        let residents: u64 = register.iter().map(|h| u64::from(h.residents)).sum();
        let inspections: Vec<(HouseholdId, NaiveDate)> =
            reports(CampaignKind::FireSafety, "inspection")?
                .into_iter()
                .filter_map(|(_, _, b)| match b {
                    ReportBody::Inspection(i) => {
                        Some((i.household_id, sotay_domain::vietnam_date(i.inspected_at)))
                    }
                    _ => None,
                })
                .collect();
        let tips: Vec<(ReportId, sotay_domain::TipCategory)> = reports(CampaignKind::Tips, "tip")?
            .into_iter()
            .filter_map(|(id, _, b)| match b {
                ReportBody::Tip(t) => Some((id, t.category)),
                _ => None,
            })
            .collect();
        let counts: Vec<(String, IdCount)> = reports(CampaignKind::Id06, "id-count")?
            .into_iter()
            .filter_map(|(_, status, b)| match b {
                ReportBody::IdCount(c) => Some((status, c)),
                _ => None,
            })
            .collect();
        let mut cards = Vec::new();
        for (c, facts, fetched_at) in running {
            let as_of = c.as_of(today);
            let (progress, remaining) = match &c.goal {
                Goal::FireSafety { .. } => {
                    let first = c.first_inspections(
                        facts
                            .inspected
                            .iter()
                            .map(|i| (i.household_id, i.day))
                            .chain(inspections.iter().copied()),
                    );
                    let done: HashSet<HouseholdId> = first.keys().copied().collect();
                    let remaining = c
                        .remaining(&register, &done)
                        .into_iter()
                        .map(|h| RemainingHousehold {
                            id: h.id,
                            address: h.address.clone(),
                            head: h.head.clone(),
                        })
                        .collect();
                    (c.fire_progress(Some(&register), first), remaining)
                }
                Goal::Tips { .. } => {
                    let ids = facts.tips.iter().copied().chain(
                        tips.iter()
                            .filter(|(id, cat)| c.tip_day(*id, *cat).is_some())
                            .map(|(id, _)| *id),
                    );
                    (c.tip_progress(ids), Vec::new())
                }
                Goal::Id06 { .. } => {
                    // Of one day, the last given wins: the server's count
                    // replaces one this phone sent (another phone may have
                    // revised it since), and one still queued here replaces
                    // the server's.
                    let sent = counts.iter().filter(|(s, _)| s == "sent");
                    let queued = counts.iter().filter(|(s, _)| s == "queued");
                    let all = sent
                        .map(|(_, n)| n.clone())
                        .chain(facts.count.clone())
                        .chain(queued.map(|(_, n)| n.clone()));
                    (c.id06_progress(all, Some(residents)), Vec::new())
                }
                Goal::Unknown => continue,
            };
            let standing = c.standing(Tally::on([&progress], as_of));
            cards.push(CampaignCard {
                goal: campaign_goal(&c.goal, lang),
                days_left: c.days_left(today),
                standing,
                remaining,
                fetched_at,
                campaign: c,
            });
        }
        cards.sort_by(|a, b| {
            a.campaign
                .ends_on
                .cmp(&b.campaign.ends_on)
                .then(a.campaign.title.cmp(&b.campaign.title))
        });
        Ok(cards)
    }
}

/// The campaigns not notified yet that have not ended on `today`; marks
/// them notified in the caller's transaction.
pub(super) fn take_unnotified(
    tx: &rusqlite::Transaction<'_>,
    today: NaiveDate,
) -> Result<Vec<Campaign>> {
    let mut out = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT body FROM campaigns WHERE notified = 0 ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for row in rows {
            let body = row?;
            let c: Campaign = serde_json::from_str(&body)
                .map_err(|e| DeviceError::Corrupt(format!("campaign: {e}")))?;
            if c.ends_on >= today && c.kind().is_some() {
                out.push(c);
            }
        }
    }
    tx.execute("UPDATE campaigns SET notified = 1 WHERE notified = 0", [])?;
    Ok(out)
}
