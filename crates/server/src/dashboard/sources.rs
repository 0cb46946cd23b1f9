//! Sealed sources on the dashboard: the "Xem nguồn tin" button and its
//! page, and granting or withdrawing the "see sources" permission.
//!
//! Invariants:
//! - A source is shown only in the answer to a CSRF-protected POST of an
//!   officer with the permission, on that page only, and the reveal is in
//!   the audit log *before* the page is sent; a refusal is audited too.
//! - Opening needs the officer's key in this session's memory
//!   (`crate::sources::SessionKeys`): the server alone cannot open it.

use super::pages::layout;
use super::text;
use super::{Officer, PageCode, PageError};
use crate::AppState;
use crate::sources::{self as custody, SourceError};
use crate::store::OfficerRow;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use sotay_domain::ReportId;
use sotay_domain::tip::Tip;

/// The button under a tip that has a sealed source, for officers with the
/// permission; a note for the others.
pub fn reveal_form(o: &Officer, id: ReportId, payload: &serde_json::Value) -> Markup {
    let l = o.lang;
    let sealed = serde_json::from_value::<Tip>(payload.clone()).is_ok_and(|t| t.sealed.is_some());
    html! {
        @if sealed {
            form #reveal-source method="post" action=(format!("/dashboard/tips/{id}/source")) {
                input type="hidden" name="csrf" value=(o.csrf);
                @if o.sees_sources {
                    button #reveal type="submit" { (text::SEE_SOURCE.get(l)) }
                    " " small { (text::SEEING_IT_IS_WRITTEN.get(l)) }
                } @else {
                    small { (text::ONLY_OFFICERS_GIVEN_SOURCES.get(l)) }
                }
            }
        }
    }
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /dashboard/tips/{id}/source`: shows the tip's source (name,
/// phone, confidential note) on this page only, after writing the audit
/// entry; refuses an officer without the permission, audited as well.
pub async fn reveal(
    State(state): State<AppState>,
    o: Officer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    o.check_csrf(&form.csrf)?;
    let l = o.lang;
    let id: ReportId = id.parse().map_err(|_| PageError::NotFound)?;
    o.report(&state, id).await?;
    let target = id.to_string();
    if !o.sees_sources {
        o.audit(&state, "source-reveal-refused", &target, "no permission")
            .await?;
        return Ok(refusal(
            &o,
            StatusCode::FORBIDDEN,
            text::YOU_DO_NOT_HAVE.get(l),
        ));
    }
    let revisions = state.store.report_revisions(id).await?;
    let Some((rev, sealed)) = revisions.iter().rev().find_map(|r| {
        serde_json::from_value::<Tip>(r.payload.clone())
            .ok()
            .and_then(|t| t.sealed.map(|s| (r.rev, s)))
    }) else {
        return Err(PageError::NotFound);
    };
    let opened = match state.session_keys.get(&o.token_hash) {
        None => Err(SourceError::NotHeld),
        Some(secret) => {
            let holder = custody::officer_holder(&o.username);
            match custody::held_keys(&state.store, &holder, &secret).await {
                Ok(keys) => custody::reveal(&keys, id, &sealed),
                Err(e) => Err(e),
            }
        }
    };
    let secret = match opened {
        Ok(secret) => secret,
        Err(SourceError::Store(e)) => return Err(e.into()),
        Err(e) => {
            o.audit(&state, "source-reveal-failed", &target, &e.to_string())
                .await?;
            let message = match e {
                SourceError::NotHeld => text::THIS_SESSION_HOLDS_NO.get(l),
                _ => text::SEALED_SOURCE_DOES_NOT.get(l),
            };
            return Ok(refusal(&o, StatusCode::CONFLICT, message));
        }
    };
    // Recorded before anything is shown: a reveal changes no data, but it
    // is the most sensitive read there is.
    o.audit(&state, "source-reveal", &target, &format!("rev {rev}"))
        .await?;
    let dash = "—";
    let body = html! {
        p { a href=(format!("/dashboard/tips/{id}")) { "← " (text::TIP.get(l)) } " · id " code { (id) } }
        dl #source {
            dt { (text::INFORMANT_S_NAME.get(l)) } dd #source-name { (secret.name.as_deref().unwrap_or(dash)) }
            dt { (text::PHONE.get(l)) } dd #source-phone { (secret.phone.as_deref().unwrap_or(dash)) }
            dt { (text::CONFIDENTIAL_NOTE.get(l)) } dd #source-note { (secret.note.as_deref().unwrap_or(dash)) }
        }
        p { small { (text::DO_NOT_COPY_PHOTOGRAPH.get(l)) } }
    };
    Ok(layout(&o, text::SOURCE_OF_TIP.get(l), body))
}

fn refusal(o: &Officer, status: StatusCode, message: &str) -> Response {
    let body = html! { p #refusal { (message) } };
    let mut res = layout(o, text::SOURCE_OF_TIP.get(o.lang), body);
    *res.status_mut() = status;
    res
}

/// The "sources" cell of an officer's row on the officers page: whether
/// they hold the permission, and for an admin who holds it the button to
/// grant or withdraw it.
pub fn access_cell(o: &Officer, r: &OfficerRow) -> Markup {
    let l = o.lang;
    html! {
        @if r.sees_sources { (text::YES.get(l)) } @else { (text::NO.get(l)) }
        @if o.sees_sources && r.username != o.username && r.deactivated_at.is_none() {
            " "
            form.inline method="post" action=(format!("/dashboard/officers/{}/sources", r.username)) {
                input type="hidden" name="csrf" value=(o.csrf);
                @if r.sees_sources {
                    input type="hidden" name="action" value="withdraw";
                    button type="submit" { (text::WITHDRAW.get(l)) }
                } @else {
                    input type="hidden" name="action" value="grant";
                    button type="submit" { (text::GRANT.get(l)) }
                }
            }
        }
    }
}

#[derive(serde::Deserialize)]
pub struct AccessForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
}

/// `POST /dashboard/officers/{name}/sources`: an admin who holds the ward
/// keys grants (seals them to the officer) or withdraws the permission.
pub async fn set_access(
    State(state): State<AppState>,
    o: Officer,
    Path(name): Path<String>,
    Form(form): Form<AccessForm>,
) -> Result<Response, PageError> {
    o.require_admin()?;
    o.check_csrf(&form.csrf)?;
    if !o.sees_sources {
        return Err(PageError::Forbidden(PageCode::SourcesHolderOnly));
    }
    if name == o.username {
        return Err(PageError::bad(PageCode::OwnSourcesPermission));
    }
    crate::dashboard::pages::same_ward_officer(&state, &o, &name).await?;
    match form.action.as_str() {
        "grant" => {
            let secret = state
                .session_keys
                .get(&o.token_hash)
                .ok_or(PageError::Forbidden(PageCode::NoSessionKey))?;
            let keys =
                custody::held_keys(&state.store, &custody::officer_holder(&o.username), &secret)
                    .await?;
            custody::grant(
                &state.store,
                &name,
                &keys,
                Some(&o.entry("grant-sources", &name, "")),
            )
            .await?;
        }
        "withdraw" => {
            if !state
                .store
                .set_source_access(&name, None, Some(&o.entry("withdraw-sources", &name, "")))
                .await?
            {
                return Err(PageError::NotFound);
            }
        }
        _ => {
            return Err(PageError::bad(PageCode::UnknownAction));
        }
    }
    Ok(Redirect::to("/dashboard/officers").into_response())
}
