//! The ward's announcements: the list with how many devices read each,
//! the form to send one, and each one's read list (who has read it and
//! who has not). Every officer of a ward sends; the province reads.

use super::*;
use crate::AppState;
use crate::announcements::{Audience, NewAnnouncement};
use crate::dashboard::PageCode;
use crate::dashboard::{Officer, PageError};
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

pub async fn announcements(
    State(state): State<AppState>,
    o: Officer,
) -> Result<Response, PageError> {
    let l = o.lang;
    let rows = state.store.announcements(&o.scope()).await?;
    let body = html! {
        @if o.ward.is_some() {
            form #announce method="post" action="/dashboard/announcements" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(o.csrf);
                h2 { (text::SEND_ANNOUNCEMENT.get(l)) }
                label { (text::TITLE.get(l)) " " input name="title" required maxlength="120" size="60"; }
                br;
                label { (text::TEXT.get(l)) br; textarea name="text" required maxlength="4000" rows="4" cols="70" {} }
                br;
                label { input type="checkbox" name="urgent" value="1"; " " (text::URGENT.get(l)) }
                br;
                label { (text::SEND_TO.get(l)) " " input name="to" size="40" placeholder="block:k01 group:k02-t03"; }
                label { (text::ANNOUNCEMENT_PHOTO.get(l)) " " input type="file" name="photo" accept="image/jpeg,image/png,image/webp"; }
                button type="submit" { (text::SEND.get(l)) }
            }
        }
        @if rows.is_empty() { p.note { (text::NO_ANNOUNCEMENT_YET.get(l)) } }
        div.scroll { table #announcements {
            thead { tr { th { (text::SENT_AT.get(l)) } th { (text::TITLE.get(l)) } th { (text::SEND_TO.get(l).split(" (").next().unwrap_or_default()) } th { (text::READ_BY.get(l)) } } }
            tbody { @for a in &rows { tr {
                td { (fmt_time(a.created_at)) }
                td { @if a.urgent { strong.urgent { (text::URGENT.get(l)) } " " } a href=(format!("/dashboard/announcements/{}", a.id)) { (a.title) } @if a.photo.is_some() { " 📷" } }
                td { (a.audience) }
                td.read-count { (a.read) " / " (a.devices) }
            } } }
        } }
    };
    Ok(layout(&o, text::ANNOUNCEMENTS.get(l), body))
}

/// The announcement form's fields, read from its multipart body.
#[derive(Debug, Default)]
struct AnnounceForm {
    csrf: String,
    title: String,
    text: String,
    urgent: bool,
    to: String,
    /// The chosen file's bytes; `None` when no file was chosen.
    photo: Option<Vec<u8>>,
}

impl AnnounceForm {
    async fn read(mut form: Multipart) -> Result<Self, PageError> {
        let bad = |_| PageError::bad(PageCode::BadPhoto);
        let mut out = AnnounceForm::default();
        while let Some(field) = form.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "photo" {
                let bytes = field.bytes().await.map_err(bad)?;
                // A form sent without choosing a file carries an empty part.
                if !bytes.is_empty() {
                    out.photo = Some(bytes.to_vec());
                }
                continue;
            }
            let value = field.text().await.map_err(bad)?;
            match name.as_str() {
                "csrf" => out.csrf = value,
                "title" => out.title = value,
                "text" => out.text = value,
                "urgent" => out.urgent = true,
                "to" => out.to = value,
                _ => {}
            }
        }
        Ok(out)
    }
}

/// Sends an announcement ([`crate::announcements::announce`] holds the
/// rules): every officer of a ward may; the province may not. The form is
/// multipart, for its photo; the CSRF token is checked before the photo
/// is looked at.
pub async fn announce(
    State(state): State<AppState>,
    o: Officer,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    // Not the page's form (say, a urlencoded post): the CSRF token cannot
    // be read from it, and it is refused as a forged form would be.
    let form = form.map_err(|_| PageError::Forbidden(PageCode::Csrf))?;
    let form = AnnounceForm::read(form).await?;
    o.check_csrf(&form.csrf)?;
    let ward = crate::places::resolve_ward(&state.store, Some(o.acting_ward()?)).await?;
    let to = form
        .to
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<Vec<Audience>, _>>()?;
    let new = NewAnnouncement {
        title: &form.title,
        text: &form.text,
        urgent: form.urgent,
        to: &to,
        photo: form.photo.as_deref(),
    };
    let sent =
        crate::announcements::announce(&state.store, &ward, new, o.entry("announce", "", ""))
            .await?;
    Ok(Redirect::to(&format!("/dashboard/announcements/{}", sent.id)).into_response())
}

/// The photo of an announcement this officer sees (its small copy with
/// `?small`), never cached.
pub async fn announcement_photo(
    State(state): State<AppState>,
    o: Officer,
    Path(id): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let a = find(&state, &o, &id).await?;
    let sha = a.photo.ok_or(PageError::NotFound)?.sha256;
    let photos = state.store.photos();
    let bytes = if q.contains_key("small") {
        photos.read_thumb(&sha).await?
    } else {
        None
    };
    let bytes = match bytes {
        Some(b) => b,
        None => photos.read(&sha).await?.ok_or(PageError::NotFound)?,
    };
    Ok((
        crate::dashboard::no_store(),
        [(
            axum::http::header::CONTENT_TYPE,
            sotay_domain::photo::PHOTO_MIME,
        )],
        bytes,
    )
        .into_response())
}

/// One announcement with its read list: every device of its groups,
/// those that have not read it first.
pub async fn announcement(
    State(state): State<AppState>,
    o: Officer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let l = o.lang;
    let a = find(&state, &o, &id).await?;
    let readers = state.store.announcement_readers(&a.id).await?;
    let groups = crate::dashboard::data::groups(&state.store, &o.scope()).await?;
    let body = html! {
        h2 { @if a.urgent { strong.urgent { (text::URGENT.get(l)) } " " } (a.title) }
        p #announcement-text { (a.text) }
        @if a.photo.is_some() {
            p { a href=(format!("/dashboard/announcements/{}/photo", a.id)) {
                img #announcement-photo src=(format!("/dashboard/announcements/{}/photo?small", a.id)) alt=(text::ANNOUNCEMENT_PHOTO.get(l)) width="320";
            } }
        }
        p.note { (text::SENT_AT.get(l)) " " (fmt_time(a.created_at)) " · " (a.created_by) " · " (a.audience) }
        p { (text::READ_BY.get(l)) ": " strong #read-count { (a.read) " / " (a.devices) } }
        div.scroll { table #readers {
            thead { tr { th { (o.group_word()) } th { (text::DEVICE.get(l)) } th { (text::READ_BY.get(l)) } } }
            tbody { @for r in &readers { tr.(if r.read_at.is_some() { "read" } else { "unread" }) {
                td { (groups.label(&r.group_id)) } td { (r.device_name) }
                td { @match r.read_at { Some(t) => (fmt_time(t)), None => em { (text::NOT_READ_YET.get(l)) } } }
            } } }
        } }
    };
    Ok(layout(&o, text::ANNOUNCEMENTS.get(l), body))
}

/// Announcement `id`, when this officer's scope holds it.
async fn find(
    state: &AppState,
    o: &Officer,
    id: &str,
) -> Result<crate::store::AnnouncementRow, PageError> {
    state
        .store
        .announcements(&o.scope())
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(PageError::NotFound)
}
