//! Wards and their places, with a history (issue 15): the use cases behind
//! `sotay-server admin ward …` and `admin place …` and the dashboard's
//! groups page.
//!
//! A ward is a tenant: everything stored belongs to one through its
//! groups. A block or group has a stable internal id; its official code
//! and name can change ([`rename`]), groups and blocks can be merged
//! ([`merge`]) and a group split ([`split`]). Each change is planned here
//! from what the store holds, then written as one transaction of guarded
//! steps ([`crate::store::steps`]): if another change touched the same
//! places in between, nothing is written and the change is refused.
//!
//! Invariants:
//! - A report keeps the group it was recorded under
//!   (`reports.recorded_group_id`); the group it counts in today
//!   (`reports.group_id`) follows merges and splits, so every figure rolls
//!   up to today's units.
//! - A device of a merged or split group moves with it and is told so by a
//!   `place` pull item; its group's register is published to it again.
//! - Codes are unique among a ward's current units of one level; an ended
//!   unit keeps its codes in `place_names`, so its history still names it.

use crate::admin::AdminError;
use crate::store::steps::{Step, Val};
use crate::store::{BlockRow, DynStore, GroupRow, GroupSeed, NewAudit, Scope, WardRow, WardStore};
use chrono::{DateTime, Utc};
use sotay_domain::household::Household;
use sotay_domain::place::{Place, PlaceChange};
use sotay_domain::wire::PullItem;
use sotay_domain::{DevicePlace, PlaceCode};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

const INSERT_WARD: &str = "INSERT INTO wards (code, name, created_at) VALUES (?1, ?2, ?3)";
const SET_LEVELS: &str = "UPDATE wards SET block_level = ?2, group_level = ?3 WHERE code = ?1";
const INSERT_NAME: &str =
    "INSERT INTO place_names (place_id, level, ward_code, code, name, valid_from)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const END_NAME: &str =
    "UPDATE place_names SET valid_to = ?2 WHERE place_id = ?1 AND valid_to IS NULL";
const INSERT_BLOCK: &str =
    "INSERT INTO blocks (id, ward_code, code, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
const INSERT_GROUP: &str = "INSERT INTO groups (id, code, name, ward_code, block_id, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const RENAME_GROUP: &str =
    "UPDATE groups SET code = ?2, name = ?3 WHERE id = ?1 AND ended_at IS NULL";
const RENAME_BLOCK: &str =
    "UPDATE blocks SET code = ?2, name = ?3 WHERE id = ?1 AND ended_at IS NULL";
const END_GROUP: &str = "UPDATE groups SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL";
const END_BLOCK: &str = "UPDATE blocks SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL";
const MOVE_GROUP_TO_BLOCK: &str =
    "UPDATE groups SET block_id = ?2 WHERE id = ?1 AND ended_at IS NULL";
const MOVE_DEVICES: &str = "UPDATE devices SET group_id = ?2 WHERE group_id = ?1";
const MOVE_HOUSEHOLDS: &str = "UPDATE households SET group_id = ?2 WHERE group_id = ?1";
const MOVE_HOUSEHOLD: &str = "UPDATE households SET group_id = ?2 WHERE id = ?1 AND group_id = ?3";
const MOVE_REPORTS: &str = "UPDATE reports SET group_id = ?2 WHERE group_id = ?1";
const MOVE_REPORT: &str = "UPDATE reports SET group_id = ?2 WHERE id = ?1 AND group_id = ?3";
const PHOTOS_FOLLOW_REPORTS: &str = "UPDATE photo_refs SET group_id =
     (SELECT r.group_id FROM reports r WHERE r.id = photo_refs.report_id) WHERE group_id = ?1";
const MOVE_CODES: &str =
    "UPDATE enroll_codes SET group_id = ?2 WHERE group_id = ?1 AND used_at IS NULL";
const INSERT_EVENT: &str =
    "INSERT INTO place_events (id, at, ward_code, kind, level, username, detail)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const INSERT_LINK: &str =
    "INSERT INTO place_event_links (event_id, place_id, role) VALUES (?1, ?2, ?3)";
const INSERT_PULL: &str = "INSERT INTO pull_items (group_id, item, dedupe_key, created_at)
     VALUES (?1, ?2, NULL, ?3)";
const MOVE_BLOCK_TO_WARD: &str =
    "UPDATE blocks SET ward_code = ?2, code = ?3 WHERE id = ?1 AND ended_at IS NULL";
const MOVE_GROUP_TO_WARD: &str =
    "UPDATE groups SET ward_code = ?2, code = ?3 WHERE id = ?1 AND ended_at IS NULL";
const END_WARD: &str =
    "UPDATE wards SET ended_at = ?2, merged_into = ?3 WHERE code = ?1 AND ended_at IS NULL";
const MOVE_OFFICERS: &str = "UPDATE officers SET ward_code = ?2 WHERE ward_code = ?1";
const MOVE_AUDIT: &str = "UPDATE audit_log SET ward_code = ?2 WHERE ward_code = ?1";
const MOVE_EVENTS: &str = "UPDATE place_events SET ward_code = ?2 WHERE ward_code = ?1";
const MOVE_ANNOUNCEMENTS: &str = "UPDATE announcements SET ward_code = ?2 WHERE ward_code = ?1";
/// A merged or split group's announcements count for the group its
/// devices went to (their read receipts are checked against it).
const ANNOUNCEMENTS_FOLLOW: &str = "INSERT INTO announcement_groups (announcement_id, group_id)
     SELECT announcement_id, ?2 FROM announcement_groups WHERE group_id = ?1
     ON CONFLICT DO NOTHING";
/// A merged or split group's campaigns cover the groups it became, so a
/// campaign's figures are always those of today's units.
const CAMPAIGNS_FOLLOW: &str = "INSERT INTO campaign_groups (campaign_id, group_id)
     SELECT campaign_id, ?2 FROM campaign_groups WHERE group_id = ?1
     ON CONFLICT DO NOTHING";
const MOVE_CAMPAIGNS: &str = "UPDATE campaigns SET ward_code = ?2 WHERE ward_code = ?1";
const MOVE_WARD_ITEMS: &str =
    "UPDATE pull_items SET ward_code = ?2 WHERE ward_code = ?1 AND group_id IS NULL";
const MOVE_KEYS: &str = "UPDATE ward_keys SET ward_code = ?2, retired_at = COALESCE(retired_at, ?3) WHERE ward_code = ?1";
const INSERT_COPY: &str = "INSERT INTO ward_key_copies (key_id, holder, sealed) VALUES (?1, ?2, ?3)
     ON CONFLICT DO NOTHING";
const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, username, action, target, detail, ward_code)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// The two levels below a ward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Block,
    Group,
}

impl Level {
    pub fn code(self) -> &'static str {
        match self {
            Level::Block => "block",
            Level::Group => "group",
        }
    }
}

/// A new internal id for a block or group: opaque, never reused.
fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// The internal id of a new block or group with `code`: the code itself
/// when no unit ever had it as its id (so a single ward's ids read like
/// its codes, as they did before ids and codes were told apart), else a
/// fresh opaque id. Either way the id never changes afterwards, whatever
/// the unit's code becomes.
async fn id_for(
    store: &(impl WardStore + ?Sized),
    code: &str,
    planned: &mut HashSet<String>,
) -> Result<String, crate::store::StoreError> {
    let id = if !planned.contains(code) && !store.place_id_taken(code).await? {
        code.to_owned()
    } else {
        new_id()
    };
    planned.insert(id.clone());
    Ok(id)
}

fn code_of(raw: &str) -> Result<PlaceCode, AdminError> {
    PlaceCode::parse(raw).ok_or_else(|| AdminError::BadPlace(format!("{raw:?} is not a code")))
}

fn name_of(raw: &str) -> Result<String, AdminError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AdminError::NameRequired);
    }
    if name.chars().count() > 120 {
        return Err(AdminError::BadPlace(
            "a name has at most 120 characters".into(),
        ));
    }
    Ok(name.to_owned())
}

fn audit_step(a: &NewAudit) -> Step {
    Step::one(
        INSERT_AUDIT,
        vec![
            a.at.into(),
            (&a.username).into(),
            (&a.action).into(),
            (&a.target).into(),
            (&a.detail).into(),
            Val::OptText(a.ward.clone()),
        ],
    )
}

fn name_step(id: &str, level: &str, ward: &str, code: &str, name: &str, at: DateTime<Utc>) -> Step {
    Step::one(
        INSERT_NAME,
        vec![
            id.into(),
            level.into(),
            ward.into(),
            code.into(),
            name.into(),
            at.into(),
        ],
    )
}

/// The steps that give a current block or group the code and name it has
/// from `at`, its old ones kept in its history.
fn renaming(
    level: Level,
    id: &str,
    ward: &str,
    code: &str,
    name: &str,
    at: DateTime<Utc>,
) -> Vec<Step> {
    let sql = match level {
        Level::Group => RENAME_GROUP,
        Level::Block => RENAME_BLOCK,
    };
    vec![
        Step::one(sql, vec![id.into(), code.into(), name.into()]),
        Step::one(END_NAME, vec![id.into(), at.into()]),
        name_step(id, level.code(), ward, code, name, at),
    ]
}

/// Runs a plan; a guard that no longer holds is [`AdminError::Conflict`].
async fn run(store: &(impl WardStore + ?Sized), steps: &[Step]) -> Result<(), AdminError> {
    store
        .run_steps(steps)
        .await?
        .map_err(|_| AdminError::Conflict)
}

/// The ward an admin command acts on: the one named, or the server's only
/// ward. With several wards the command must name one. A merged ward is
/// named by the ward it merged into.
pub async fn resolve_ward(store: &DynStore, ward: Option<&str>) -> Result<WardRow, AdminError> {
    let mut wards = store.wards().await?;
    match ward {
        Some(code) => {
            let code = code.trim().to_ascii_lowercase();
            let w = wards
                .into_iter()
                .find(|w| w.code == code)
                .ok_or_else(|| AdminError::UnknownWard(code.clone()))?;
            match w.merged_into {
                Some(into) => Err(AdminError::WardMerged { ward: code, into }),
                None => Ok(w),
            }
        }
        None => {
            wards.retain(|w| w.merged_into.is_none());
            match wards.len() {
                0 => Err(AdminError::NoWard),
                1 => Ok(wards.into_iter().next().ok_or(AdminError::NoWard)?),
                n => Err(AdminError::WardRequired(n)),
            }
        }
    }
}

/// The ward's current group with this code.
pub async fn find_group(store: &DynStore, ward: &str, code: &str) -> Result<GroupRow, AdminError> {
    let code = code.trim().to_ascii_lowercase();
    store
        .groups(&Scope::Ward(ward.to_owned()))
        .await?
        .into_iter()
        .find(|g| g.code == code)
        .ok_or(AdminError::UnknownGroup(code))
}

/// The groups of a scope by the label people read: the group's code, or
/// `ward/code` when the groups span several wards (two wards may both have
/// a `k01-t01`). Rows from the store name groups by internal id;
/// [`Groups::label`] turns an id into its label, so every figure and
/// export line is counted under today's unit. The dashboard and the admin
/// commands label groups by this one rule.
#[derive(Debug, Clone)]
pub struct Groups {
    by_label: HashMap<String, GroupRow>,
    labels: HashMap<String, String>,
    qualified: bool,
    scope: Scope,
}

impl std::ops::Deref for Groups {
    type Target = HashMap<String, GroupRow>;
    fn deref(&self) -> &Self::Target {
        &self.by_label
    }
}

impl Groups {
    /// `rows` are the current groups of `scope`.
    pub fn new(rows: Vec<GroupRow>, scope: &Scope) -> Self {
        let wards: HashSet<&str> = rows.iter().map(|g| g.ward_code.as_str()).collect();
        let qualified = wards.len() > 1;
        let mut out = Groups {
            by_label: HashMap::new(),
            labels: HashMap::new(),
            qualified,
            scope: scope.clone(),
        };
        for g in rows {
            let label = out.qualify(&g.ward_code, &g.code);
            out.labels.insert(g.id.clone(), label.clone());
            out.by_label.insert(label, g);
        }
        out
    }

    fn qualify(&self, ward: &str, code: &str) -> String {
        if self.qualified {
            format!("{ward}/{code}")
        } else {
            code.to_owned()
        }
    }

    /// The scope these groups were read for.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The label of a group's id (the id itself for a group not seen).
    pub fn label(&self, id: &str) -> String {
        self.labels
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }

    /// The label of a group's block.
    pub fn block_label(&self, g: &GroupRow) -> String {
        self.qualify(&g.ward_code, &g.block_code)
    }

    /// The internal id of the group with this label.
    pub fn id_of(&self, label: &str) -> Option<&str> {
        self.by_label.get(label.trim()).map(|g| g.id.as_str())
    }

    /// The internal id of the block with this label.
    pub fn block_id_of(&self, label: &str) -> Option<&str> {
        self.by_label
            .values()
            .find(|g| self.block_label(g) == label.trim())
            .map(|g| g.block_id.as_str())
    }
}

/// Whom an announcement or a campaign is for: the whole ward, a block
/// or a group (several may be named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Ward,
    Block(String),
    Group(String),
}

impl std::str::FromStr for Audience {
    type Err = AdminError;

    /// `ward`, `block:CODE` or `group:CODE`.
    fn from_str(raw: &str) -> Result<Self, AdminError> {
        let raw = raw.trim().to_ascii_lowercase();
        match raw.split_once(':') {
            None if raw == "ward" => Ok(Audience::Ward),
            Some(("block", code)) if !code.is_empty() => Ok(Audience::Block(code.to_owned())),
            Some(("group", code)) if !code.is_empty() => Ok(Audience::Group(code.to_owned())),
            _ => Err(AdminError::BadPlace(format!(
                "{raw:?}: say ward, block:CODE or group:CODE"
            ))),
        }
    }
}

impl std::fmt::Display for Audience {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Audience::Ward => f.write_str("ward"),
            Audience::Block(c) => write!(f, "block:{c}"),
            Audience::Group(c) => write!(f, "group:{c}"),
        }
    }
}

/// The groups `to` names among a ward's current `groups` (all or
/// nothing: an unknown block or group is an error), and `to` as one line
/// (`ward`, `block:k01 group:k02-t03`). Nothing named means the ward.
pub fn resolve_audience(
    groups: &[GroupRow],
    to: &[Audience],
) -> Result<(BTreeSet<String>, String), AdminError> {
    let ward_wide = [Audience::Ward];
    let to = if to.is_empty() { &ward_wide[..] } else { to };
    let mut targets = BTreeSet::new();
    for a in to {
        match a {
            Audience::Ward => targets.extend(groups.iter().map(|g| g.id.clone())),
            Audience::Block(code) => {
                let of: Vec<_> = groups.iter().filter(|g| g.block_code == *code).collect();
                if of.is_empty() {
                    return Err(AdminError::UnknownBlock(code.clone()));
                }
                targets.extend(of.into_iter().map(|g| g.id.clone()));
            }
            Audience::Group(code) => {
                let g = groups
                    .iter()
                    .find(|g| g.code == *code)
                    .ok_or_else(|| AdminError::UnknownGroup(code.clone()))?;
                targets.insert(g.id.clone());
            }
        }
    }
    if targets.is_empty() {
        return Err(AdminError::BadPlace("the ward has no group yet".into()));
    }
    let audience = to
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    Ok((targets, audience))
}

/// A group's place as devices see it.
pub fn device_place(ward: &WardRow, g: &GroupRow) -> Result<DevicePlace, AdminError> {
    DevicePlace::from_codes(
        &ward.code,
        &g.block_code,
        &g.code,
        [Some(&ward.name), Some(&g.block_name), Some(&g.name)],
    )
    .map_err(|e| AdminError::BadPlace(e.to_string()))
}

fn place(code: &str, name: &str) -> Result<Place, AdminError> {
    Ok(Place {
        code: code_of(code)?,
        name: name.to_owned(),
    })
}

/// `admin ward add CODE --name NAME`: a new ward (tenant). Its source key
/// is made by the caller ([`crate::sources::create_ward_key`]).
pub async fn add_ward(
    store: &DynStore,
    code: &str,
    name: &str,
    audit: NewAudit,
) -> Result<WardRow, AdminError> {
    let code = code_of(code)?;
    let name = name_of(name)?;
    if store.wards().await?.iter().any(|w| w.code == code.as_str()) {
        return Err(AdminError::WardExists(code.to_string()));
    }
    let at = audit.at;
    let audit = NewAudit {
        ward: Some(code.to_string()),
        detail: name.clone(),
        ..audit
    };
    run(
        store.as_ref(),
        &[
            Step::one(
                INSERT_WARD,
                vec![code.as_str().into(), (&name).into(), at.into()],
            ),
            name_step(
                code.as_str(),
                "ward",
                code.as_str(),
                code.as_str(),
                &name,
                at,
            ),
            audit_step(&audit),
        ],
    )
    .await?;
    resolve_ward(store, Some(code.as_str())).await
}

/// Sets what a ward calls its blocks and groups ("Khu phố", "Tổ dân phố").
pub async fn set_levels(
    store: &DynStore,
    ward: &WardRow,
    block_level: &str,
    group_level: &str,
    audit: NewAudit,
) -> Result<(), AdminError> {
    let (b, g) = (name_of(block_level)?, name_of(group_level)?);
    let audit = NewAudit {
        ward: Some(ward.code.clone()),
        detail: format!("{b} / {g}"),
        ..audit
    };
    run(
        store.as_ref(),
        &[
            Step::one(
                SET_LEVELS,
                vec![(&ward.code).into(), (&b).into(), (&g).into()],
            ),
            audit_step(&audit),
        ],
    )
    .await
}

/// `admin place add --block CODE --name NAME`: a new block of `ward`.
pub async fn add_block(
    store: &DynStore,
    ward: &WardRow,
    code: &str,
    name: &str,
    audit: NewAudit,
) -> Result<BlockRow, AdminError> {
    let code = code_of(code)?;
    let name = name_of(name)?;
    let scope = Scope::Ward(ward.code.clone());
    if store
        .blocks(&scope)
        .await?
        .iter()
        .any(|b| b.code == code.as_str())
    {
        return Err(AdminError::BlockExists(code.to_string()));
    }
    let id = id_for(store.as_ref(), code.as_str(), &mut HashSet::new()).await?;
    let at = audit.at;
    let audit = NewAudit {
        ward: Some(ward.code.clone()),
        target: code.to_string(),
        detail: name.clone(),
        ..audit
    };
    run(
        store.as_ref(),
        &[
            Step::one(
                INSERT_BLOCK,
                vec![
                    (&id).into(),
                    (&ward.code).into(),
                    code.as_str().into(),
                    (&name).into(),
                    at.into(),
                ],
            ),
            name_step(&id, "block", &ward.code, code.as_str(), &name, at),
            audit_step(&audit),
        ],
    )
    .await?;
    Ok(BlockRow {
        id,
        ward_code: ward.code.clone(),
        code: code.to_string(),
        name,
    })
}

/// A group to add to a block of a ward.
#[derive(Debug, Clone, Copy)]
pub struct NewGroup<'a> {
    pub block: &'a str,
    pub code: &'a str,
    pub name: &'a str,
}

/// `admin place add --block B --group CODE --name NAME`: a group in an
/// existing block. Its code must be new in the ward and start with the
/// block's (`k01-…`), so a group's block shows in its code.
pub async fn add_group(
    store: &DynStore,
    ward: &WardRow,
    group: NewGroup<'_>,
    audit: NewAudit,
) -> Result<DevicePlace, AdminError> {
    let block_code = group.block.trim().to_ascii_lowercase();
    let code = code_of(group.code)?;
    let units = WardUnits::read(store, ward).await?;
    let block = units
        .block(&block_code)
        .cloned()
        .ok_or_else(|| AdminError::UnknownBlock(block_code.clone()))?;
    if units.group(code.as_str()).is_some() {
        return Err(AdminError::GroupExists(code.to_string()));
    }
    if !code.as_str().starts_with(&format!("{block_code}-")) {
        return Err(AdminError::GroupOutsideBlock {
            code: code.to_string(),
            block: block_code,
        });
    }
    let name = name_of(group.name)?;
    let id = id_for(store.as_ref(), code.as_str(), &mut HashSet::new()).await?;
    let row = GroupRow {
        id: id.clone(),
        code: code.to_string(),
        ward_code: ward.code.clone(),
        name: name.clone(),
        block_id: block.id.clone(),
        block_code: block.code.clone(),
        block_name: block.name.clone(),
    };
    let place = device_place(ward, &row)?;
    let at = audit.at;
    let audit = NewAudit {
        ward: Some(ward.code.clone()),
        target: code.to_string(),
        detail: format!("{}: {name}", block.code),
        ..audit
    };
    run(store.as_ref(), &insert_group_steps(&row, at, Some(&audit))).await?;
    Ok(place)
}

fn insert_group_steps(g: &GroupRow, at: DateTime<Utc>, audit: Option<&NewAudit>) -> Vec<Step> {
    let mut steps = vec![
        Step::one(
            INSERT_GROUP,
            vec![
                (&g.id).into(),
                (&g.code).into(),
                (&g.name).into(),
                (&g.ward_code).into(),
                (&g.block_id).into(),
                at.into(),
            ],
        ),
        name_step(&g.id, "group", &g.ward_code, &g.code, &g.name, at),
    ];
    steps.extend(audit.map(audit_step));
    steps
}

/// Creates whatever of `groups` (with their wards and blocks) does not
/// exist yet, found by ward and current code, and renames what exists
/// under another name: how the demo ward and tests are made. Idempotent.
pub async fn seed(
    store: &(impl WardStore + ?Sized),
    groups: &[GroupSeed],
    audit: Option<&NewAudit>,
) -> Result<usize, crate::store::StoreError> {
    let at = audit.map_or_else(crate::store::now_micros, |a| a.at);
    let wards: HashMap<String, WardRow> = store
        .wards()
        .await?
        .into_iter()
        .map(|w| (w.code.clone(), w))
        .collect();
    let mut blocks: HashMap<(String, String), BlockRow> = store
        .blocks(&Scope::Province)
        .await?
        .into_iter()
        .map(|b| ((b.ward_code.clone(), b.code.clone()), b))
        .collect();
    let existing: HashMap<(String, String), GroupRow> = store
        .groups(&Scope::Province)
        .await?
        .into_iter()
        .map(|g| ((g.ward_code.clone(), g.code.clone()), g))
        .collect();
    let mut steps = Vec::new();
    let mut new_wards = HashSet::new();
    let mut planned = HashSet::new();
    for seed in groups {
        let p = &seed.place;
        let w = p.ward.code.to_string();
        if !wards.contains_key(&w) && new_wards.insert(w.clone()) {
            steps.push(Step::one(
                INSERT_WARD,
                vec![(&w).into(), (&p.ward.name).into(), at.into()],
            ));
            steps.push(name_step(&w, "ward", &w, &w, &p.ward.name, at));
        }
        let key = (w.clone(), p.block.code.to_string());
        let block = match blocks.get_mut(&key) {
            Some(b) => {
                if b.name != p.block.name {
                    // Renamed once: the next group of the block sees the new name.
                    b.name = p.block.name.clone();
                    steps.extend(renaming(Level::Block, &b.id, &w, &b.code, &b.name, at));
                }
                b.clone()
            }
            None => {
                let b = BlockRow {
                    id: id_for(store, p.block.code.as_str(), &mut planned).await?,
                    ward_code: w.clone(),
                    code: p.block.code.to_string(),
                    name: p.block.name.clone(),
                };
                steps.push(Step::one(
                    INSERT_BLOCK,
                    vec![
                        (&b.id).into(),
                        (&w).into(),
                        (&b.code).into(),
                        (&b.name).into(),
                        at.into(),
                    ],
                ));
                steps.push(name_step(&b.id, "block", &w, &b.code, &b.name, at));
                blocks.insert(key, b.clone());
                b
            }
        };
        match existing.get(&(w.clone(), p.group.code.to_string())) {
            Some(g) if g.name == p.group.name && g.block_id == block.id => {}
            Some(g) => {
                if g.name != p.group.name {
                    steps.extend(renaming(
                        Level::Group,
                        &g.id,
                        &w,
                        &g.code,
                        &p.group.name,
                        at,
                    ));
                }
                if g.block_id != block.id {
                    steps.push(Step::one(
                        MOVE_GROUP_TO_BLOCK,
                        vec![(&g.id).into(), (&block.id).into()],
                    ));
                }
            }
            None => {
                let g = GroupRow {
                    id: id_for(store, p.group.code.as_str(), &mut planned).await?,
                    code: p.group.code.to_string(),
                    ward_code: w.clone(),
                    name: p.group.name.clone(),
                    block_id: block.id.clone(),
                    block_code: block.code.clone(),
                    block_name: block.name.clone(),
                };
                steps.extend(insert_group_steps(&g, at, None));
            }
        }
    }
    steps.extend(audit.map(audit_step));
    store.run_steps(&steps).await?.map_err(|i| {
        crate::store::StoreError::Corrupt(format!("seeding: step {i} found the places changed"))
    })?;
    Ok(groups.len())
}

/// A `place` pull item for `group`'s devices.
fn place_item(
    group: &str,
    place: DevicePlace,
    change: PlaceChange,
    before: Vec<Place>,
    at: DateTime<Utc>,
) -> Result<Step, AdminError> {
    let item = PullItem::Place {
        place,
        change,
        before,
        at,
    };
    Ok(Step::one(
        INSERT_PULL,
        vec![
            group.into(),
            serde_json::to_string(&item)?.into(),
            at.into(),
        ],
    ))
}

fn household_item(group: &str, data: &str, at: DateTime<Utc>) -> Result<Step, AdminError> {
    let household: Household = serde_json::from_str(data)?;
    let item = PullItem::Household { household };
    Ok(Step::one(
        INSERT_PULL,
        vec![
            group.into(),
            serde_json::to_string(&item)?.into(),
            at.into(),
        ],
    ))
}

fn event_steps(
    ward: &str,
    kind: &str,
    level: Level,
    before: &[&str],
    after: &[&str],
    audit: &NewAudit,
) -> Vec<Step> {
    let id = new_id();
    let mut steps = vec![Step::one(
        INSERT_EVENT,
        vec![
            (&id).into(),
            audit.at.into(),
            ward.into(),
            kind.into(),
            level.code().into(),
            (&audit.username).into(),
            (&audit.detail).into(),
        ],
    )];
    // Callers pass each place once per role (merge sources are deduped).
    for (role, ids) in [("before", before), ("after", after)] {
        for place in ids {
            steps.push(Step::one(
                INSERT_LINK,
                vec![(&id).into(), (*place).into(), role.into()],
            ));
        }
    }
    steps.push(audit_step(audit));
    steps
}

/// What a place change did, for the command's output and the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub level: Level,
    /// One line, as the audit log keeps it.
    pub detail: String,
    /// The groups whose devices were told.
    pub groups_told: usize,
}

/// A ward's current groups and blocks, read once for a change: the plan
/// is made from this snapshot, and its guarded steps refuse it if the
/// places changed meanwhile.
struct WardUnits {
    groups: Vec<GroupRow>,
    blocks: Vec<BlockRow>,
}

/// A unit a command names by its code.
enum Unit {
    Group(GroupRow),
    Block(BlockRow),
}

impl WardUnits {
    async fn read(store: &DynStore, ward: &WardRow) -> Result<Self, AdminError> {
        let scope = Scope::Ward(ward.code.clone());
        Ok(WardUnits {
            groups: store.groups(&scope).await?,
            blocks: store.blocks(&scope).await?,
        })
    }

    fn group(&self, code: &str) -> Option<&GroupRow> {
        self.groups.iter().find(|g| g.code == code)
    }

    fn block(&self, code: &str) -> Option<&BlockRow> {
        self.blocks.iter().find(|b| b.code == code)
    }

    /// `code` among the groups, then the blocks.
    fn unit(&self, code: &str) -> Result<Unit, AdminError> {
        let code = code.trim().to_ascii_lowercase();
        if let Some(g) = self.group(&code) {
            return Ok(Unit::Group(g.clone()));
        }
        match self.block(&code) {
            Some(b) => Ok(Unit::Block(b.clone())),
            None => Err(AdminError::UnknownPlace(code)),
        }
    }
}

/// `admin place rename CODE [--code NEW] [--name NAME]`: a group or block
/// gets a new official code or name (or both); it stays the same unit,
/// so everything it holds stays. Its devices are told.
pub async fn rename(
    store: &DynStore,
    ward: &WardRow,
    code: &str,
    new_code: Option<&str>,
    new_name: Option<&str>,
    audit: NewAudit,
) -> Result<Changed, AdminError> {
    if new_code.is_none() && new_name.is_none() {
        return Err(AdminError::BadPlace("say --code, --name or both".into()));
    }
    let units = WardUnits::read(store, ward).await?;
    let unit = units.unit(code)?;
    let at = audit.at;
    let (level, id, old_code, old_name) = match &unit {
        Unit::Group(g) => (Level::Group, g.id.clone(), g.code.clone(), g.name.clone()),
        Unit::Block(b) => (Level::Block, b.id.clone(), b.code.clone(), b.name.clone()),
    };
    let to_code = new_code
        .map(code_of)
        .transpose()?
        .map_or(old_code.clone(), |c| c.to_string());
    let to_name = new_name
        .map(name_of)
        .transpose()?
        .unwrap_or(old_name.clone());
    if to_code == old_code && to_name == old_name {
        return Err(AdminError::BadPlace("nothing to change".into()));
    }
    if to_code != old_code {
        let taken = match level {
            Level::Group => units.group(&to_code).is_some(),
            Level::Block => units.block(&to_code).is_some(),
        };
        if taken {
            return Err(match level {
                Level::Group => AdminError::GroupExists(to_code),
                Level::Block => AdminError::BlockExists(to_code),
            });
        }
    }
    let detail = format!("{old_code} ({old_name}) → {to_code} ({to_name})");
    let audit = NewAudit {
        ward: Some(ward.code.clone()),
        action: format!("rename-{}", level.code()),
        target: old_code.clone(),
        detail: detail.clone(),
        ..audit
    };
    let mut steps = renaming(level, &id, &ward.code, &to_code, &to_name, at);
    steps.extend(event_steps(
        &ward.code,
        "rename",
        level,
        &[&id],
        &[&id],
        &audit,
    ));
    // The devices of every group concerned learn their place as it is now.
    let told: Vec<GroupRow> = match unit {
        Unit::Group(g) => vec![g],
        Unit::Block(_) => units
            .groups
            .iter()
            .filter(|g| g.block_id == id)
            .cloned()
            .collect(),
    };
    let before = vec![place(&old_code, &old_name)?];
    for mut g in told.iter().cloned() {
        match level {
            Level::Group => (g.code, g.name) = (to_code.clone(), to_name.clone()),
            Level::Block => (g.block_code, g.block_name) = (to_code.clone(), to_name.clone()),
        }
        steps.push(place_item(
            &g.id,
            device_place(ward, &g)?,
            PlaceChange::Renamed,
            before.clone(),
            at,
        )?);
    }
    run(store.as_ref(), &steps).await?;
    Ok(Changed {
        level,
        detail,
        groups_told: told.len(),
    })
}

/// `admin place merge --into CODE CODE…`: groups merged into a group, or
/// blocks into a block, of one ward. A merged group ends; its devices,
/// register, reports, photos and unused enrollment codes move to the
/// group it became, whose devices (old and new) get the merged register
/// and a notice. A merged block ends; its groups move to the other block.
pub async fn merge(
    store: &DynStore,
    ward: &WardRow,
    into: &str,
    from: &[String],
    audit: NewAudit,
) -> Result<Changed, AdminError> {
    let units = WardUnits::read(store, ward).await?;
    let target = units.unit(into)?;
    let level = match target {
        Unit::Group(_) => Level::Group,
        Unit::Block(_) => Level::Block,
    };
    let mut sources = Vec::new();
    let mut seen = HashSet::new();
    for code in from {
        let code = code.trim().to_ascii_lowercase();
        if code == into.trim().to_ascii_lowercase() {
            return Err(AdminError::BadPlace(format!(
                "{code} cannot merge into itself"
            )));
        }
        if seen.insert(code.clone()) {
            sources.push(code);
        }
    }
    if sources.is_empty() {
        return Err(AdminError::BadPlace(
            "name at least one unit to merge".into(),
        ));
    }
    let at = audit.at;
    let mut steps = Vec::new();
    let detail = format!(
        "{} → {}",
        sources.join(", "),
        into.trim().to_ascii_lowercase()
    );
    let audit = NewAudit {
        ward: Some(ward.code.clone()),
        action: format!("merge-{}", level.code()),
        target: into.trim().to_ascii_lowercase(),
        detail: detail.clone(),
        ..audit
    };
    let told;
    match target {
        Unit::Group(t) => {
            let mut ended = Vec::new();
            for code in &sources {
                let s = units
                    .group(code)
                    .ok_or_else(|| AdminError::UnknownGroup(code.clone()))?;
                ended.push(s.clone());
            }
            let mut register: BTreeMap<String, String> =
                store.household_rows(&t.id).await?.into_iter().collect();
            for s in &ended {
                register.extend(store.household_rows(&s.id).await?);
                let (sid, tid) = (Val::from(&s.id), Val::from(&t.id));
                steps.push(Step::one(END_GROUP, vec![sid.clone(), at.into()]));
                steps.push(Step::one(END_NAME, vec![sid.clone(), at.into()]));
                for sql in [
                    MOVE_DEVICES,
                    MOVE_HOUSEHOLDS,
                    MOVE_REPORTS,
                    MOVE_CODES,
                    ANNOUNCEMENTS_FOLLOW,
                    CAMPAIGNS_FOLLOW,
                ] {
                    steps.push(Step::any(sql, vec![sid.clone(), tid.clone()]));
                }
                steps.push(Step::any(PHOTOS_FOLLOW_REPORTS, vec![sid]));
            }
            let before_ids: Vec<&str> = std::iter::once(t.id.as_str())
                .chain(ended.iter().map(|g| g.id.as_str()))
                .collect();
            steps.extend(event_steps(
                &ward.code,
                "merge",
                level,
                &before_ids,
                &[&t.id],
                &audit,
            ));
            let before = ended
                .iter()
                .map(|g| place(&g.code, &g.name))
                .collect::<Result<Vec<_>, _>>()?;
            steps.push(place_item(
                &t.id,
                device_place(ward, &t)?,
                PlaceChange::Merged,
                before,
                at,
            )?);
            for data in register.values() {
                steps.push(household_item(&t.id, data, at)?);
            }
            told = 1;
        }
        Unit::Block(t) => {
            let mut moved = Vec::new();
            let mut before = Vec::new();
            let mut ended_ids = Vec::new();
            for code in &sources {
                let s = units
                    .block(code)
                    .ok_or_else(|| AdminError::UnknownBlock(code.clone()))?;
                steps.push(Step::one(END_BLOCK, vec![(&s.id).into(), at.into()]));
                steps.push(Step::one(END_NAME, vec![(&s.id).into(), at.into()]));
                before.push(place(&s.code, &s.name)?);
                ended_ids.push(s.id.clone());
                for g in units.groups.iter().filter(|g| g.block_id == s.id) {
                    steps.push(Step::one(
                        MOVE_GROUP_TO_BLOCK,
                        vec![(&g.id).into(), (&t.id).into()],
                    ));
                    let mut g = g.clone();
                    (g.block_id, g.block_code, g.block_name) =
                        (t.id.clone(), t.code.clone(), t.name.clone());
                    moved.push(g);
                }
            }
            let before_ids: Vec<&str> = std::iter::once(t.id.as_str())
                .chain(ended_ids.iter().map(String::as_str))
                .collect();
            steps.extend(event_steps(
                &ward.code,
                "merge",
                level,
                &before_ids,
                &[&t.id],
                &audit,
            ));
            for g in &moved {
                steps.push(place_item(
                    &g.id,
                    device_place(ward, g)?,
                    PlaceChange::Merged,
                    before.clone(),
                    at,
                )?);
            }
            told = moved.len();
        }
    }
    run(store.as_ref(), &steps).await?;
    Ok(Changed {
        level,
        detail,
        groups_told: told,
    })
}

/// What a ward merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WardMerge {
    /// One line, as the audit log keeps it.
    pub detail: String,
    /// The groups that moved (their devices were told).
    pub groups_moved: usize,
    /// Source keys taken over.
    pub keys: usize,
}

/// `admin ward merge --into B A…`: wards A… end and ward B takes their
/// blocks and groups (their ids, devices, registers and reports with
/// them), officers, audit log, place history and source keys. Each group's
/// devices are told at their next sync (`ward-merged`); a count or a
/// sealed source a device made under the old ward is still accepted
/// (`DeviceAuth::former_places`).
///
/// Codes: a merged ward's block and group codes must not be in use in B.
/// Wards rarely merge without renumbering, so with `prefix` every moved
/// unit's code becomes `WARD-CODE` (`hnx-k01`, `hnx-k01-t01`); without it,
/// a clash is refused and nothing changes.
///
/// Sources: a merged ward's keys are retired (B's current key seals new
/// tips) and sealed to B's recovery identity and to B's officers who may
/// see sources, so B's passphrase recovers them. That needs each merged
/// ward's recovery passphrase (`passphrases`, by ward code) when it has
/// keys; the merged ward's own officers keep the copies they held.
pub async fn merge_wards(
    store: &DynStore,
    into: &WardRow,
    from: &[String],
    prefix: bool,
    passphrases: &HashMap<String, String>,
    audit: NewAudit,
) -> Result<WardMerge, AdminError> {
    let at = audit.at;
    let all = store.wards().await?;
    let mut merged = Vec::new();
    for code in from {
        let code = code.trim().to_ascii_lowercase();
        if code == into.code {
            return Err(AdminError::BadPlace(format!(
                "{code} cannot merge into itself"
            )));
        }
        let w = all
            .iter()
            .find(|w| w.code == code)
            .ok_or_else(|| AdminError::UnknownWard(code.clone()))?;
        if let Some(i) = &w.merged_into {
            return Err(AdminError::WardMerged {
                ward: code,
                into: i.clone(),
            });
        }
        if !merged.iter().any(|m: &WardRow| m.code == w.code) {
            merged.push(w.clone());
        }
    }
    if merged.is_empty() {
        return Err(AdminError::BadPlace(
            "name at least one ward to merge".into(),
        ));
    }
    let target = Scope::Ward(into.code.clone());
    let mut taken: HashSet<(Level, String)> = HashSet::new();
    for b in store.blocks(&target).await? {
        taken.insert((Level::Block, b.code));
    }
    for g in store.groups(&target).await? {
        taken.insert((Level::Group, g.code));
    }
    let new_code = |ward: &str, code: &str| -> Result<String, AdminError> {
        if prefix {
            Ok(code_of(&format!("{ward}-{code}"))?.to_string())
        } else {
            Ok(code.to_owned())
        }
    };
    let mut clashes = Vec::new();
    let mut steps = Vec::new();
    let mut moved = 0;
    let mut keys = 0;
    for w in &merged {
        let scope = Scope::Ward(w.code.clone());
        let blocks = store.blocks(&scope).await?;
        let groups = store.groups(&scope).await?;
        let mut codes = HashMap::new();
        for b in &blocks {
            let c = new_code(&w.code, &b.code)?;
            if !taken.insert((Level::Block, c.clone())) {
                clashes.push(c.clone());
            }
            steps.push(Step::one(
                MOVE_BLOCK_TO_WARD,
                vec![(&b.id).into(), (&into.code).into(), (&c).into()],
            ));
            steps.push(Step::one(END_NAME, vec![(&b.id).into(), at.into()]));
            steps.push(name_step(&b.id, "block", &into.code, &c, &b.name, at));
            codes.insert(b.id.clone(), c);
        }
        let before = vec![place(&w.code, &w.name)?];
        for g in &groups {
            let c = new_code(&w.code, &g.code)?;
            if !taken.insert((Level::Group, c.clone())) {
                clashes.push(c.clone());
            }
            steps.push(Step::one(
                MOVE_GROUP_TO_WARD,
                vec![(&g.id).into(), (&into.code).into(), (&c).into()],
            ));
            steps.push(Step::one(END_NAME, vec![(&g.id).into(), at.into()]));
            steps.push(name_step(&g.id, "group", &into.code, &c, &g.name, at));
            let mut now = g.clone();
            now.code = c;
            now.ward_code = into.code.clone();
            if let Some(block_code) = codes.get(&g.block_id) {
                now.block_code = block_code.clone();
            }
            steps.push(place_item(
                &g.id,
                device_place(into, &now)?,
                PlaceChange::WardMerged,
                before.clone(),
                at,
            )?);
            moved += 1;
        }
        let (wv, iv) = (Val::from(&w.code), Val::from(&into.code));
        steps.push(Step::one(END_WARD, vec![wv.clone(), at.into(), iv.clone()]));
        steps.push(Step::one(END_NAME, vec![wv.clone(), at.into()]));
        for sql in [
            MOVE_OFFICERS,
            MOVE_AUDIT,
            MOVE_EVENTS,
            MOVE_WARD_ITEMS,
            MOVE_ANNOUNCEMENTS,
            MOVE_CAMPAIGNS,
        ] {
            steps.push(Step::any(sql, vec![wv.clone(), iv.clone()]));
        }
        // Its source keys: copies for the ward that takes them over, made
        // with its recovery passphrase, then retired and moved.
        let held = store
            .ward_keys()
            .await?
            .into_iter()
            .filter(|k| k.ward == w.code)
            .count();
        if held > 0 {
            let passphrase = passphrases
                .get(&w.code)
                .ok_or_else(|| AdminError::PassphraseNeeded(w.code.clone()))?;
            let secrets = crate::sources::recovered_keys(store, &w.code, passphrase).await?;
            for c in crate::sources::copies_for_merge(store, &into.code, &secrets).await? {
                steps.push(Step::any(
                    INSERT_COPY,
                    vec![c.key_id.into(), c.holder.into(), c.sealed.into()],
                ));
            }
            keys += secrets.len();
        }
        steps.push(Step::any(MOVE_KEYS, vec![wv, iv, at.into()]));
    }
    if !clashes.is_empty() {
        clashes.sort();
        clashes.dedup();
        return Err(AdminError::WardMergeClash(clashes));
    }
    let detail = format!(
        "{} → {}",
        merged
            .iter()
            .map(|w| format!("{} ({})", w.code, w.name))
            .collect::<Vec<_>>()
            .join(", "),
        into.code
    );
    steps.push(audit_step(&NewAudit {
        ward: Some(into.code.clone()),
        action: "merge-ward".into(),
        target: into.code.clone(),
        detail: detail.clone(),
        ..audit
    }));
    run(store.as_ref(), &steps).await?;
    Ok(WardMerge {
        detail,
        groups_moved: moved,
        keys,
    })
}

/// A household's new group in a split, from the CSV `household,group`
/// (the household's id, as `admin households list` prints it, and one of
/// the new codes).
pub fn read_assignments(csv: &[u8]) -> Result<Vec<(String, String)>, AdminError> {
    read_pairs(csv, "household", "group")
}

/// A group's new block in a block's split, from the CSV `group,block`
/// (the group's code and one of the new block codes).
pub fn read_block_assignments(csv: &[u8]) -> Result<Vec<(String, String)>, AdminError> {
    read_pairs(csv, "group", "block")
}

/// The `(key, value)` pairs of a two-column CSV with those headers.
fn read_pairs(csv: &[u8], key: &str, value: &str) -> Result<Vec<(String, String)>, AdminError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(csv);
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| AdminError::SplitFile(format!("the file needs a {name:?} column")))
    };
    let (k, v) = (col(key)?, col(value)?);
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row?;
        let line = i + 2;
        let a = row.get(k).unwrap_or_default().to_owned();
        let b = row.get(v).unwrap_or_default().to_ascii_lowercase();
        if a.is_empty() || b.is_empty() {
            return Err(AdminError::SplitFile(format!(
                "line {line}: a {key} and a {value}"
            )));
        }
        out.push((a, b));
    }
    Ok(out)
}

/// A split's file checked against what splits: each of the source's
/// `members` (a household id, or a group code) listed once, to one of the
/// `new` codes, and none left out (all or nothing). Returns each member's
/// new code. `member` and `level` name them in the refusals ("household",
/// "group"); `within` says where the members are ("k03-t01's register"),
/// `source` is the unit that splits.
fn check_assignments(
    assignments: &[(String, String)],
    members: &BTreeSet<String>,
    new: &[&str],
    (member, level, within, source): (&str, &str, &str, &str),
    normalize: fn(&str) -> String,
) -> Result<HashMap<String, String>, AdminError> {
    let mut to = HashMap::new();
    for (m, code) in assignments {
        let (m, code) = (normalize(m), code.trim().to_ascii_lowercase());
        if !members.contains(&m) {
            return Err(AdminError::SplitFile(format!(
                "{member} {m} is not in {within}"
            )));
        }
        if !new.contains(&code.as_str()) {
            return Err(AdminError::SplitFile(format!(
                "{code} is not one of the new {level}s"
            )));
        }
        if to.insert(m.clone(), code).is_some() {
            return Err(AdminError::SplitFile(format!(
                "{member} {m} is listed twice"
            )));
        }
    }
    if let Some(missing) = members.iter().find(|m| !to.contains_key(*m)) {
        return Err(AdminError::SplitFile(format!(
            "{member} {missing} of {source} has no new {level}"
        )));
    }
    Ok(to)
}

/// `admin place split BLOCK --into CODE=NAME… --groups FILE`: a block ends
/// and new blocks of the ward take its place; every current group of it
/// goes to the new block `assignments` names, `(group code, new block
/// code)`, all or nothing. The groups keep everything they hold; their
/// devices are told.
pub async fn split_block(
    store: &DynStore,
    ward: &WardRow,
    code: &str,
    into: &[(String, String)],
    assignments: &[(String, String)],
    audit: NewAudit,
) -> Result<Changed, AdminError> {
    let units = WardUnits::read(store, ward).await?;
    let code = code.trim().to_ascii_lowercase();
    let source = units
        .block(&code)
        .cloned()
        .ok_or(AdminError::UnknownBlock(code))?;
    if into.len() < 2 {
        return Err(AdminError::BadPlace(
            "a split makes at least two blocks".into(),
        ));
    }
    let mut new_blocks: Vec<BlockRow> = Vec::new();
    let mut planned = HashSet::new();
    for (c, n) in into {
        let c = code_of(c)?.to_string();
        if units.block(&c).is_some_and(|b| b.id != source.id)
            || new_blocks.iter().any(|b| b.code == c)
        {
            return Err(AdminError::BlockExists(c));
        }
        new_blocks.push(BlockRow {
            id: id_for(store.as_ref(), &c, &mut planned).await?,
            ward_code: ward.code.clone(),
            code: c,
            name: name_of(n)?,
        });
    }
    let groups: Vec<&GroupRow> = units
        .groups
        .iter()
        .filter(|g| g.block_id == source.id)
        .collect();
    let members: BTreeSet<String> = groups.iter().map(|g| g.code.clone()).collect();
    let codes: Vec<&str> = new_blocks.iter().map(|b| b.code.as_str()).collect();
    let within = format!("block {}", source.code);
    // Each group's new block.
    let to: HashMap<String, &BlockRow> = check_assignments(
        assignments,
        &members,
        &codes,
        ("group", "block", &within, &source.code),
        |g| g.trim().to_ascii_lowercase(),
    )?
    .into_iter()
    .filter_map(|(g, code)| Some((g, new_blocks.iter().find(|b| b.code == code)?)))
    .collect();
    let at = audit.at;
    let detail = format!("{} → {}", source.code, codes.join(", "));
    let audit = NewAudit {
        ward: Some(ward.code.clone()),
        action: "split-block".into(),
        target: source.code.clone(),
        detail: detail.clone(),
        ..audit
    };
    let mut steps = vec![
        Step::one(END_BLOCK, vec![(&source.id).into(), at.into()]),
        Step::one(END_NAME, vec![(&source.id).into(), at.into()]),
    ];
    for b in &new_blocks {
        steps.push(Step::one(
            INSERT_BLOCK,
            vec![
                (&b.id).into(),
                (&ward.code).into(),
                (&b.code).into(),
                (&b.name).into(),
                at.into(),
            ],
        ));
        steps.push(name_step(&b.id, "block", &ward.code, &b.code, &b.name, at));
    }
    let before = vec![place(&source.code, &source.name)?];
    for g in &groups {
        let target = to[&g.code];
        steps.push(Step::one(
            MOVE_GROUP_TO_BLOCK,
            vec![(&g.id).into(), (&target.id).into()],
        ));
        let mut now = (*g).clone();
        (now.block_id, now.block_code, now.block_name) =
            (target.id.clone(), target.code.clone(), target.name.clone());
        steps.push(place_item(
            &g.id,
            device_place(ward, &now)?,
            PlaceChange::Split,
            before.clone(),
            at,
        )?);
    }
    let after: Vec<&str> = new_blocks.iter().map(|b| b.id.as_str()).collect();
    steps.extend(event_steps(
        &ward.code,
        "split",
        Level::Block,
        &[&source.id],
        &after,
        &audit,
    ));
    run(store.as_ref(), &steps).await?;
    Ok(Changed {
        level: Level::Block,
        detail,
        groups_told: groups.len(),
    })
}

/// `admin place split CODE --into CODE=NAME… --households FILE` (and the
/// dashboard's split form): a group ends and new groups of its block take
/// its place. Every household of its register goes to the new group
/// `assignments` names, `(household id, new code)` (all or nothing);
/// an inspection goes with its household. The group's devices, its other
/// reports and its unused enrollment codes go to the first new group
/// (enroll the others' leaders anew); its devices are told, and the
/// households that left are taken off their list.
pub async fn split(
    store: &DynStore,
    ward: &WardRow,
    code: &str,
    into: &[(String, String)],
    assignments: &[(String, String)],
    audit: NewAudit,
) -> Result<Changed, AdminError> {
    let scope = Scope::Ward(ward.code.clone());
    let units = WardUnits::read(store, ward).await?;
    let code = code.trim().to_ascii_lowercase();
    let source = units
        .group(&code)
        .cloned()
        .ok_or(AdminError::UnknownGroup(code))?;
    if into.len() < 2 {
        return Err(AdminError::BadPlace(
            "a split makes at least two groups".into(),
        ));
    }
    let mut new_groups = Vec::new();
    let mut planned = HashSet::new();
    for (c, n) in into {
        let c = code_of(c)?.to_string();
        if units.group(&c).is_some_and(|g| g.id != source.id)
            || new_groups.iter().any(|g: &GroupRow| g.code == c)
        {
            return Err(AdminError::GroupExists(c));
        }
        new_groups.push(GroupRow {
            id: id_for(store.as_ref(), &c, &mut planned).await?,
            code: c,
            ward_code: ward.code.clone(),
            name: name_of(n)?,
            block_id: source.block_id.clone(),
            block_code: source.block_code.clone(),
            block_name: source.block_name.clone(),
        });
    }
    let register: BTreeMap<String, String> = store
        .household_rows(&source.id)
        .await?
        .into_iter()
        .collect();
    let members: BTreeSet<String> = register.keys().cloned().collect();
    let codes: Vec<&str> = new_groups.iter().map(|g| g.code.as_str()).collect();
    let within = format!("{}'s register", source.code);
    // Each household's new group, by id.
    let to: HashMap<String, String> = check_assignments(
        assignments,
        &members,
        &codes,
        ("household", "group", &within, &source.code),
        |h| h.trim().to_owned(),
    )?
    .into_iter()
    .filter_map(|(h, code)| {
        let id = new_groups.iter().find(|g| g.code == code)?.id.clone();
        Some((h, id))
    })
    .collect();
    let at = audit.at;
    let first = &new_groups[0];
    let detail = format!("{} → {}", source.code, codes.join(", "));
    let audit = NewAudit {
        ward: Some(ward.code.clone()),
        action: "split-group".into(),
        target: source.code.clone(),
        detail: detail.clone(),
        ..audit
    };
    let sid = Val::from(&source.id);
    let mut steps = vec![
        Step::one(END_GROUP, vec![sid.clone(), at.into()]),
        Step::one(END_NAME, vec![sid.clone(), at.into()]),
    ];
    for g in &new_groups {
        steps.extend(insert_group_steps(g, at, None));
    }
    for (household, group) in &to {
        steps.push(Step::one(
            MOVE_HOUSEHOLD,
            vec![household.into(), group.into(), sid.clone()],
        ));
    }
    // Each inspection follows its household; the rest go to the first.
    for row in store
        .export(&scope, Some(sotay_domain::ReportKind::Inspection))
        .await?
    {
        if row.group != source.id {
            continue;
        }
        let household = row.payload.get("household_id").and_then(|v| v.as_str());
        if let Some(group) = household.and_then(|h| to.get(h)) {
            steps.push(Step::any(
                MOVE_REPORT,
                vec![Val::Uuid(row.id.0), group.into(), sid.clone()],
            ));
        }
    }
    for sql in [MOVE_DEVICES, MOVE_REPORTS, MOVE_CODES, ANNOUNCEMENTS_FOLLOW] {
        steps.push(Step::any(sql, vec![sid.clone(), (&first.id).into()]));
    }
    // Every group it became holds some of its households: each is in its
    // campaigns.
    for g in &new_groups {
        steps.push(Step::any(
            CAMPAIGNS_FOLLOW,
            vec![sid.clone(), (&g.id).into()],
        ));
    }
    steps.push(Step::any(PHOTOS_FOLLOW_REPORTS, vec![sid.clone()]));
    let after: Vec<&str> = new_groups.iter().map(|g| g.id.as_str()).collect();
    steps.extend(event_steps(
        &ward.code,
        "split",
        Level::Group,
        &[&source.id],
        &after,
        &audit,
    ));
    let before = vec![place(&source.code, &source.name)?];
    for g in &new_groups {
        steps.push(place_item(
            &g.id,
            device_place(ward, g)?,
            PlaceChange::Split,
            before.clone(),
            at,
        )?);
    }
    for (household, group) in &to {
        if let Some(data) = register.get(household) {
            steps.push(household_item(group, data, at)?);
        }
        if group != &first.id {
            // The devices that moved to the first group hold it: off their list.
            let household_id = household
                .parse()
                .map_err(|_| AdminError::SplitFile(format!("bad household id {household}")))?;
            let item = PullItem::HouseholdRemoved { household_id };
            steps.push(Step::one(
                INSERT_PULL,
                vec![
                    (&first.id).into(),
                    serde_json::to_string(&item)?.into(),
                    at.into(),
                ],
            ));
        }
    }
    run(store.as_ref(), &steps).await?;
    Ok(Changed {
        level: Level::Group,
        detail,
        groups_told: new_groups.len(),
    })
}

/// `CODE=NAME` of `admin place split --into`.
pub fn parse_new_group(raw: &str) -> Result<(String, String), AdminError> {
    let (code, name) = raw
        .split_once('=')
        .ok_or_else(|| AdminError::BadPlace(format!("{raw:?}: write CODE=NAME")))?;
    Ok((code.trim().to_owned(), name.trim().to_owned()))
}
