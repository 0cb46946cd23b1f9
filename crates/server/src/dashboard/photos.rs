//! Evidence photos on the dashboard: the photos a report lists, small on
//! its page and whole on click, served only to logged-in officers, each
//! view written to the audit log. A photo that has not arrived yet says so
//! ("Ảnh đang chờ tải lên"): the report came first, as it should.

use super::{Officer, PageError, text};
use crate::AppState;
use crate::store::photos::PhotoState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use sotay_domain::ReportId;
use sotay_domain::photo::PhotoRef;

/// The address of one photo of one report.
pub fn photo_path(report: ReportId, sha256: &str) -> String {
    format!("/dashboard/photos/{report}/{sha256}")
}

/// The photos `photos` of `report`, each small and a link to the whole
/// photo, or a note that it is still on its way.
pub async fn gallery(
    state: &AppState,
    o: &Officer,
    report: ReportId,
    photos: &[&PhotoRef],
) -> Result<Markup, PageError> {
    let l = o.lang;
    let mut arrived = Vec::with_capacity(photos.len());
    for p in photos {
        arrived.push(matches!(
            state.store.photos().state(&p.sha256).await?,
            PhotoState::Stored(_)
        ));
    }
    Ok(html! {
        @if !photos.is_empty() {
            ul.photos {
                @for (i, (p, here)) in photos.iter().zip(&arrived).enumerate() {
                    li {
                        @if *here {
                            a href=(photo_path(report, &p.sha256)) target="_blank" {
                                img src=(format!("{}?size=thumb", photo_path(report, &p.sha256))) width="160" loading="lazy"
                                    alt=(format!("{} {}", text::PHOTO.get(l), i + 1));
                            }
                        } @else {
                            span.photo-pending { (text::PHOTO_NOT_UPLOADED_YET.get(l)) }
                        }
                    }
                }
            }
        }
    })
}

/// `GET /dashboard/photos/{report}/{sha256}`: one photo of one report,
/// for logged-in officers only; each view is audited.
/// `?size=thumb` asks for the small copy.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Size {
    #[serde(default)]
    size: String,
}

pub async fn show(
    State(state): State<AppState>,
    o: Officer,
    Path((report, sha256)): Path<(String, String)>,
    Query(size): Query<Size>,
) -> Result<Response, PageError> {
    let report: ReportId = report.parse().map_err(|_| PageError::NotFound)?;
    if !sotay_domain::photo::is_photo_hash(&sha256) {
        return Err(PageError::NotFound);
    }
    let listed = state
        .store
        .photo_reports(&sha256)
        .await?
        .iter()
        .any(|(r, _)| *r == report);
    if !listed {
        return Err(PageError::NotFound);
    }
    o.report(&state, report).await?;
    let photos = state.store.photos();
    let small = if size.size == "thumb" {
        photos.read_thumb(&sha256).await?
    } else {
        None
    };
    // A photo with no small copy (its bytes do not decode) is shown whole.
    let bytes = match small {
        Some(b) => b,
        None => photos.read(&sha256).await?.ok_or(PageError::NotFound)?,
    };
    o.audit(&state, "view-photo", &report.to_string(), &sha256)
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(sotay_domain::photo::PHOTO_MIME),
            ),
            // Evidence: never kept by the browser or a proxy.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response())
}
