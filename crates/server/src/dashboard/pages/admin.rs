//! Devices, the audit log, officers and groups (admins only).

use super::*;
use crate::AppState;
use crate::dashboard::data;
use crate::dashboard::{Officer, PageError, accounts};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::html;
use sotay_domain::wire::DeviceId;

#[derive(serde::Deserialize)]
pub struct DevicesQuery {
    days: Option<i64>,
}

pub async fn devices(
    State(state): State<AppState>,
    o: Officer,
    Query(q): Query<DevicesQuery>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    let l = o.lang;
    let days = q.days.unwrap_or(7).clamp(1, 365);
    let groups = data::groups(&state.store, &o.scope()).await?;
    let devices = data::devices(&state.store, &groups, &o.scope()).await?;
    let (stale, without) = data::stale_groups(&devices, &groups, days, Utc::now());
    let body = html! {
        form method="get" action="/dashboard/devices" {
            label { (text::GROUPS_NOT_SYNCED_FOR.get(l)) input type="number" name="days" min="1" max="365" value=(days); }
            button type="submit" { "OK" }
        }
        p.exports { (text::EXPORT.get(l)) ": " a href="/dashboard/export/devices.csv" { "CSV" } " · " a href="/dashboard/export/devices.xlsx" { "XLSX" } }
        h2 { (text::GROUPS_NOT_SYNCED.get(l)) " (" (stale.len()) ")" }
        ul #stale { @for (g, at) in &stale { li { (g) ": " (at.map_or_else(|| text::NEVER.get(l).to_owned(), fmt_time)) } } }
        p { (text::GROUPS_WITHOUT_DEVICE.get(l)) ": " (without.len()) }
        (crate::dashboard::enroll::form(&o, &groups))
        h2 { (text::DEVICES.get(l)) }
        div.scroll { table #devices {
            thead { tr { th { (o.group_word()) } th { (text::NAME.get(l)) } th { (text::ENROLLED.get(l)) } th { (text::LAST_SYNC_WITH_DATA.get(l)) } th { (text::STATUS.get(l)) } th {} } }
            tbody { @for d in &devices { tr {
                td { (d.group) } td { (d.name) } td { (fmt_time(d.enrolled_at)) }
                td { (d.last_push.map_or_else(|| "–".to_owned(), fmt_time)) }
                td { @if d.revoked { (text::REVOKED.get(l)) } @else { (text::ACTIVE.get(l)) } }
                td { @if !d.revoked {
                    form.inline.revoke method="post" action=(format!("/dashboard/devices/{}/revoke", d.id)) {
                        input type="hidden" name="csrf" value=(o.csrf);
                        small.pending {
                            @match d.pending_at_last_seen {
                                Some(0) => { (text::NOTHING_WAITING_AT_LAST_CONTACT.get(l)) }
                                Some(n) => { (text::WAITING_AT_LAST_CONTACT.get(l)) " " strong { (n) } " " (text::CHANGES_HAD_NOT_BEEN.get(l)) }
                                None => { (text::UNKNOWN_WHETHER_ANYTHING_WAITS.get(l)) }
                            }
                        }
                        " "
                        button.danger type="submit" { (text::REVOKE_AND_WIPE_PHONE.get(l)) }
                    }
                } }
            } } }
        } }
    };
    Ok(layout(&o, text::DEVICES.get(l), body))
}

pub async fn revoke(
    State(state): State<AppState>,
    o: Officer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    let id = DeviceId(id.parse().map_err(|_| PageError::NotFound)?);
    // Another ward's device is not found.
    if !state
        .store
        .devices(&o.scope())
        .await?
        .iter()
        .any(|d| d.id == id)
    {
        return Err(PageError::NotFound);
    }
    let audit = o.entry("revoke-device", &id.0.to_string(), "");
    match crate::admin::revoke(&state.store, id, crate::store::now_micros(), &audit).await {
        Ok(()) => {}
        Err(crate::admin::AdminError::UnknownDevice(_)) => return Err(PageError::NotFound),
        Err(e) => return Err(PageError::Internal(e.to_string())),
    }
    Ok(Redirect::to("/dashboard/devices").into_response())
}

pub async fn audit(State(state): State<AppState>, o: Officer) -> Result<Response, PageError> {
    o.require_admin()?;
    let l = o.lang;
    let rows = state.store.audit_log(&o.scope(), 500).await?;
    let body = html! {
        p.exports { (text::EXPORT.get(l)) ": " a href="/dashboard/export/audit.csv" { "CSV" } " · " a href="/dashboard/export/audit.xlsx" { "XLSX" } }
        div.scroll { table #audit {
            thead { tr { th { (text::AT.get(l)) } th { (text::OFFICER.get(l)) } th { (text::ACTION.get(l)) } th { (text::TARGET.get(l)) } th { (text::DETAIL.get(l)) } } }
            tbody { @for r in &rows { tr { td { (fmt_time(r.at)) } td { (r.username) } td { (r.action) } td { (r.target) } td { (r.detail) } } } }
        } }
    };
    Ok(layout(&o, text::AUDIT_LOG.get(l), body))
}

/// Officer accounts (admin only): an admin sees them, adds one with an
/// initial password (also possible with `sotay-server admin officer add`),
/// lifts a lock-out and deactivates an officer who left.
pub async fn officers(State(state): State<AppState>, o: Officer) -> Result<Response, PageError> {
    o.require_admin()?;
    let l = o.lang;
    let now = Utc::now();
    let rows = state.store.officers(&o.scope()).await?;
    let body = html! {
        form #add-officer method="post" action="/dashboard/officers" {
            input type="hidden" name="csrf" value=(o.csrf);
            label { (text::USERNAME.get(l)) " " input name="username" required autocomplete="off"; }
            label { (text::ROLE.get(l)) " " select name="role" {
                option value="officer" { (text::OFFICER.get(l)) }
                option value="admin" { (text::ADMIN.get(l)) }
            } }
            label { (text::INITIAL_PASSWORD.get(l)) " " input type="password" name="password" required autocomplete="new-password" minlength=(accounts::PASSWORD_MIN); }
            button type="submit" { (text::ADD_OFFICER.get(l)) }
        }
        div.scroll { table #officers {
            thead { tr { th { (text::USERNAME.get(l)) } th { (text::ROLE.get(l)) } th { (text::CREATED.get(l)) } th { (text::FAILED_LOGINS.get(l)) } th { (text::LOCKED_UNTIL.get(l)) } th { (text::STATUS.get(l)) } th { (text::SOURCES.get(l)) } th {} } }
            tbody { @for r in &rows { tr {
                td { (r.username) } td { (r.role) } td { (fmt_time(r.created_at)) } td { (r.failed_logins) }
                td { @if let Some(u) = r.locked_until.filter(|u| *u > now) { (fmt_time(u)) } }
                td { @if let Some(d) = r.deactivated_at { (text::DEACTIVATED.get(l)) (fmt_time(d)) } @else { (text::ACTIVE.get(l)) } }
                td.sources { (crate::dashboard::sources::access_cell(&o, r)) }
                td {
                    @if r.locked_until.is_some_and(|u| u > now) || r.failed_logins > 0 {
                        form.inline method="post" action=(format!("/dashboard/officers/{}/unlock", r.username)) {
                            input type="hidden" name="csrf" value=(o.csrf);
                            button type="submit" { (text::UNLOCK.get(l)) }
                        }
                    }
                    @if r.deactivated_at.is_none() && r.username != o.username {
                        form.inline method="post" action=(format!("/dashboard/officers/{}/deactivate", r.username)) {
                            input type="hidden" name="csrf" value=(o.csrf);
                            button type="submit" { (text::DEACTIVATE.get(l)) }
                        }
                    }
                }
            } } }
        } }
    };
    Ok(layout(&o, text::OFFICERS.get(l), body))
}

#[derive(Debug, serde::Deserialize)]
pub struct NewOfficerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// Adds an officer with the initial password the admin typed (passed on
/// in person); the audit entry names the account and role, never the
/// password.
pub async fn add_officer(
    State(state): State<AppState>,
    o: Officer,
    Form(form): Form<NewOfficerForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    let role: accounts::Role = form.role.parse().map_err(PageError::from)?;
    let username = form.username.trim();
    let officer = accounts::NewOfficer {
        username,
        password: &form.password,
        role,
        origin: accounts::PasswordOrigin::Assigned,
        ward: accounts::OfficerWard::Ward(o.acting_ward()?),
    };
    accounts::add_officer(
        &state.store,
        officer,
        crate::store::now_micros(),
        Some(&o.entry("add-officer", username, role.code())),
    )
    .await?;
    Ok(Redirect::to("/dashboard/officers").into_response())
}

/// Deactivates an officer ([`accounts::deactivate_officer`] holds the rules).
pub async fn deactivate_officer(
    State(state): State<AppState>,
    o: Officer,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    same_ward_officer(&state, &o, &name).await?;
    accounts::deactivate_officer(&state.store, &o.username, &name, crate::store::now_micros())
        .await?;
    Ok(Redirect::to("/dashboard/officers").into_response())
}

/// Refuses an officer of another ward (or none) as "not found".
pub async fn same_ward_officer(state: &AppState, o: &Officer, name: &str) -> Result<(), PageError> {
    match state.store.officer(name).await? {
        Some(other) if other.ward.is_some() && other.ward == o.ward => Ok(()),
        _ => Err(PageError::NotFound),
    }
}

/// The ward's blocks and groups (admin only), with forms to add a block
/// or a group, rename either (code and name), merge groups or blocks,
/// split a group (its own page), and the history of the ward's merges,
/// splits and renames.
pub async fn groups(State(state): State<AppState>, o: Officer) -> Result<Response, PageError> {
    o.require_admin()?;
    let l = o.lang;
    let rows = state.store.groups(&o.scope()).await?;
    let blocks = state.store.blocks(&o.scope()).await?;
    let events = state.store.place_events(&o.scope()).await?;
    let rename = |code: &str, name: &str| {
        html! { form.inline method="post" action=(format!("/dashboard/groups/{code}/rename")) {
            input type="hidden" name="csrf" value=(o.csrf);
            input name="code" value=(code) required size="10";
            input name="name" value=(name) required;
            button type="submit" { (text::RENAME.get(l)) }
        } }
    };
    let body = html! {
        form #add-group method="post" action="/dashboard/groups" {
            input type="hidden" name="csrf" value=(o.csrf);
            label { (o.block_word()) " " select name="block" {
                @for b in &blocks { option value=(b.code) { (b.code) " – " (b.name) } }
            } }
            label { (text::GROUP_CODE.get(l)) " " input name="code" required placeholder="k01-t20"; }
            label { (text::GROUP_NAME.get(l)) " " input name="name" required; }
            button type="submit" { (text::ADD_GROUP.get(l)) }
        }
        form #add-block method="post" action="/dashboard/blocks" {
            input type="hidden" name="csrf" value=(o.csrf);
            label { (text::BLOCK_CODE.get(l)) " " input name="code" required placeholder="k21"; }
            label { (text::BLOCK_NAME.get(l)) " " input name="name" required; }
            button type="submit" { (text::ADD_BLOCK.get(l)) }
        }
        form #merge-groups method="post" action="/dashboard/groups/merge" {
            input type="hidden" name="csrf" value=(o.csrf);
            label { (text::MERGE_GROUPS.get(l)) " " input name="from" required placeholder="k01-t12 k01-t13"; }
            label { (text::MERGE_INTO.get(l)) " " select name="into" {
                optgroup label=(text::GROUPS.get(l)) {
                    @for g in &rows { option value=(g.code) { (g.code) " – " (g.name) } }
                }
                optgroup label=(text::BLOCKS.get(l)) {
                    @for b in &blocks { option value=(b.code) { (b.code) " – " (b.name) } }
                }
            } }
            button type="submit" { (text::MERGE.get(l)) }
        }
        div.scroll { table #groups {
            thead { tr { th { (o.block_word()) } th { (text::GROUP_CODE.get(l)) } th { (text::GROUP_NAME.get(l)) } th {} } }
            tbody { @for g in &rows { tr {
                td { (g.block_code) " – " (g.block_name) } td { (g.code) }
                td { (rename(&g.code, &g.name)) }
                td { a.split href=(format!("/dashboard/groups/{}/split", g.code)) { (text::SPLIT.get(l)) } }
            } } }
        } }
        h2 { (text::BLOCKS.get(l)) }
        div.scroll { table #blocks {
            thead { tr { th { (text::BLOCK_CODE.get(l)) } th { (text::BLOCK_NAME.get(l)) } } }
            tbody { @for b in &blocks { tr { td { (b.code) } td { (rename(&b.code, &b.name)) } } } }
        } }
        h2 { (text::PLACE_HISTORY.get(l)) }
        ul #place-events { @for e in &events {
            li { (fmt_time(e.at)) " · " (e.kind) " " (e.level) " · " (e.detail) " · " (e.username) }
        } }
    };
    Ok(layout(&o, text::GROUPS.get(l), body))
}

#[derive(Debug, serde::Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    block: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
}

/// The admin's ward, for a change of its places.
async fn acting_ward(state: &AppState, o: &Officer) -> Result<crate::store::WardRow, PageError> {
    Ok(crate::places::resolve_ward(&state.store, Some(o.acting_ward()?)).await?)
}

/// Adds a group to an existing block ([`crate::places::add_group`] holds
/// the rules).
pub async fn add_group(
    State(state): State<AppState>,
    o: Officer,
    Form(form): Form<GroupForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    let ward = acting_ward(&state, &o).await?;
    let group = crate::places::NewGroup {
        block: &form.block,
        code: &form.code,
        name: &form.name,
    };
    crate::places::add_group(&state.store, &ward, group, o.entry("add-group", "", "")).await?;
    Ok(Redirect::to("/dashboard/groups").into_response())
}

/// Adds a block to the ward ([`crate::places::add_block`]).
pub async fn add_block(
    State(state): State<AppState>,
    o: Officer,
    Form(form): Form<GroupForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    let ward = acting_ward(&state, &o).await?;
    crate::places::add_block(
        &state.store,
        &ward,
        &form.code,
        &form.name,
        o.entry("add-block", "", ""),
    )
    .await?;
    Ok(Redirect::to("/dashboard/groups").into_response())
}

/// The split form of one group: the new groups (one `CODE=NAME` a line)
/// and, for each household of its register, the new group it goes to.
pub async fn split_form(
    State(state): State<AppState>,
    o: Officer,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    let ward = acting_ward(&state, &o).await?;
    let group = crate::places::find_group(&state.store, &ward.code, &code).await?;
    let mut register = Vec::new();
    for (_, data) in state.store.household_rows(&group.id).await? {
        let h: sotay_domain::household::Household = serde_json::from_str(&data)
            .map_err(|e| PageError::Internal(format!("household: {e}")))?;
        register.push(h);
    }
    register.sort_by(|a, b| a.address.cmp(&b.address));
    let l = o.lang;
    let column = |field: &str| sotay_domain::labels::field(field).map_or("", |t| t.get(l));
    let body = html! {
        h2 { (text::SPLIT_GROUP.get(l)) " " (group.code) " – " (group.name) }
        @if register.is_empty() {
            p.note #no-register { (text::NO_HOUSEHOLDS_TO_SPLIT.get(l)) }
        } @else {
            form #split-group method="post" action=(format!("/dashboard/groups/{}/split", group.code)) {
                input type="hidden" name="csrf" value=(o.csrf);
                p.note { (text::SPLIT_HOW.get(l)) }
                label { (text::NEW_GROUPS.get(l)) br;
                    textarea name="into" rows="3" cols="40" required placeholder=(format!("{0}a=Tổ …\n{0}b=Tổ …", group.code)) {} }
                div.scroll { table #split-households {
                    thead { tr { th { (column("address")) } th { (column("head")) } th { (text::NEW_GROUP.get(l)) } } }
                    tbody { @for h in &register { tr {
                        td { (h.address) } td { (h.head) }
                        td { input name=(format!("h:{}", h.id)) required size="10"; }
                    } } }
                } }
                button type="submit" { (text::SPLIT.get(l)) }
            }
        }
    };
    Ok(layout(&o, text::SPLIT_GROUP.get(l), body))
}

/// Splits a group by its form ([`crate::places::split`]): fields `csrf`,
/// `into` (the new groups, `CODE=NAME` a line) and `h:HOUSEHOLD` (that
/// household's new group code), all or nothing.
pub async fn split_group(
    State(state): State<AppState>,
    o: Officer,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    o.check_csrf(field("csrf"))?;
    let ward = acting_ward(&state, &o).await?;
    let into = field("into")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(crate::places::parse_new_group)
        .collect::<Result<Vec<_>, _>>()?;
    let assignments: Vec<(String, String)> = fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("h:")?.to_owned(), v.clone())))
        .collect();
    crate::places::split(
        &state.store,
        &ward,
        &code,
        &into,
        &assignments,
        o.entry("split", &code, ""),
    )
    .await?;
    Ok(Redirect::to("/dashboard/groups").into_response())
}

/// Renames a group, or gives it a new code ([`crate::places::rename`]).
pub async fn rename_group(
    State(state): State<AppState>,
    o: Officer,
    Path(code): Path<String>,
    Form(form): Form<GroupForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    let ward = acting_ward(&state, &o).await?;
    let new_code = Some(form.code.trim()).filter(|c| !c.is_empty());
    crate::places::rename(
        &state.store,
        &ward,
        &code,
        new_code,
        Some(&form.name),
        o.entry("rename-group", &code, ""),
    )
    .await?;
    Ok(Redirect::to("/dashboard/groups").into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct MergeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    into: String,
    /// Codes separated by spaces or commas.
    #[serde(default)]
    from: String,
}

/// Merges groups into a group ([`crate::places::merge`]).
pub async fn merge_groups(
    State(state): State<AppState>,
    o: Officer,
    Form(form): Form<MergeForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    let ward = acting_ward(&state, &o).await?;
    let from: Vec<String> = form
        .from
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    crate::places::merge(
        &state.store,
        &ward,
        &form.into,
        &from,
        o.entry("merge-group", &form.into, ""),
    )
    .await?;
    Ok(Redirect::to("/dashboard/groups").into_response())
}

pub async fn unlock(
    State(state): State<AppState>,
    o: Officer,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    same_ward_officer(&state, &o, &name).await?;
    state
        .store
        .set_login_state(&name, 0, None, Some(&o.entry("unlock-officer", &name, "")))
        .await?;
    Ok(Redirect::to("/dashboard/officers").into_response())
}
