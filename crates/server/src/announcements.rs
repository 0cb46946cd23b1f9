//! The ward's announcements to its group leaders (issue 16): sent with
//! `admin announce` or from the dashboard, to the whole ward or chosen
//! blocks and groups; each reaches the devices of its groups as a pull
//! item, and each device's read receipt comes back
//! (`POST /v1/announcements/read`), so the ward sees who has read it.
//!
//! An announcement's groups are resolved when it is sent: "block k01"
//! means the groups k01 has that day. Sending is one transaction of
//! [`Step`]s, the same SQL on both backends.

use crate::admin::AdminError;
use crate::store::steps::{Step, Val};
use crate::store::{DeviceAuth, DynStore, NewAudit, Scope, StoreError, WardRow};
use chrono::{DateTime, Utc};
use sotay_domain::AnnouncementId;
use sotay_domain::announcement::{Announcement, ReadReceipt};
use sotay_domain::wire::PullItem;

pub use crate::places::Audience;

const INSERT_ANNOUNCEMENT: &str = "INSERT INTO announcements
     (id, ward_code, title, text, urgent, audience, created_at, created_by, photo, photo_sha256)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const INSERT_TARGET: &str =
    "INSERT INTO announcement_groups (announcement_id, group_id) VALUES (?1, ?2)";
const INSERT_PULL: &str = "INSERT INTO pull_items (group_id, item, dedupe_key, created_at)
     VALUES (?1, ?2, NULL, ?3)";
const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, username, action, target, detail, ward_code)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
/// A receipt counts only for an announcement the device's group received;
/// a second receipt of the same device changes nothing.
const INSERT_READ: &str = "INSERT INTO announcement_reads (announcement_id, device_id, read_at)
     SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM announcement_groups
       WHERE announcement_id = ?1 AND group_id = ?4)
     ON CONFLICT DO NOTHING";

/// At most this many receipts in one request.
pub const MAX_RECEIPTS: usize = 500;

/// What sending did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub id: AnnouncementId,
    /// The groups it went to.
    pub groups: usize,
}

/// An announcement to send.
#[derive(Debug, Clone, Copy)]
pub struct NewAnnouncement<'a> {
    pub title: &'a str,
    pub text: &'a str,
    pub urgent: bool,
    /// Empty: the whole ward.
    pub to: &'a [Audience],
    /// A picture as the officer gave it (JPEG, PNG or WebP): taken in as
    /// devices take theirs in ([`sotay_photo::normalize`]) and kept with
    /// the other photos.
    pub photo: Option<&'a [u8]>,
}

/// Sends an announcement of `ward` to the groups `new.to` names (all or
/// nothing: an unknown block or group sends nothing); `audit` is written
/// in the same transaction.
pub async fn announce(
    store: &DynStore,
    ward: &WardRow,
    new: NewAnnouncement<'_>,
    audit: NewAudit,
) -> Result<Sent, AdminError> {
    let at = audit.at;
    let mut announcement = Announcement {
        id: AnnouncementId::new_v7(),
        title: new.title.trim().to_owned(),
        text: new.text.trim().to_owned(),
        urgent: new.urgent,
        sent_at: at,
        photo: None,
    };
    announcement
        .validate()
        .map_err(AdminError::InvalidAnnouncement)?;
    let groups = store.groups(&Scope::Ward(ward.code.clone())).await?;
    let (targets, audience) = crate::places::resolve_audience(&groups, new.to)?;
    if let Some(bytes) = new.photo {
        announcement.photo = Some(keep_photo(store, bytes.to_vec()).await?);
    }
    let photo_json = announcement
        .photo
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let id = announcement.id.to_string();
    let item = serde_json::to_string(&PullItem::Announcement {
        announcement: announcement.clone(),
    })?;
    let mut steps = vec![Step::one(
        INSERT_ANNOUNCEMENT,
        vec![
            (&id).into(),
            (&ward.code).into(),
            (&announcement.title).into(),
            (&announcement.text).into(),
            Val::Bool(announcement.urgent),
            (&audience).into(),
            at.into(),
            (&audit.username).into(),
            Val::OptText(photo_json),
            Val::OptText(announcement.photo.as_ref().map(|p| p.sha256.clone())),
        ],
    )];
    for g in &targets {
        steps.push(Step::one(INSERT_TARGET, vec![(&id).into(), g.into()]));
        steps.push(Step::one(
            INSERT_PULL,
            vec![g.into(), (&item).into(), at.into()],
        ));
    }
    steps.push(Step::one(
        INSERT_AUDIT,
        vec![
            at.into(),
            (&audit.username).into(),
            "announce".into(),
            (&id).into(),
            format!("{} · {audience}", announcement.title).into(),
            Val::OptText(Some(ward.code.clone())),
        ],
    ));
    store
        .run_steps(&steps)
        .await?
        .map_err(|_| AdminError::Conflict)?;
    Ok(Sent {
        id: announcement.id,
        groups: targets.len(),
    })
}

/// Takes a picture in ([`sotay_photo::normalize`], off the async
/// workers: decoding a camera photo takes a while) and keeps it with the
/// other photos, by its hash. Keeping a photo the server holds already
/// changes nothing. A photo kept for an announcement that then fails to
/// send stays, unlisted: photos are content-addressed, and one no
/// announcement lists is shown to no device.
pub async fn keep_photo(
    store: &DynStore,
    bytes: Vec<u8>,
) -> Result<sotay_domain::photo::PhotoRef, AdminError> {
    // One picture at a time: decoding a camera photo may take hundreds
    // of megabytes, and officers may send at the same moment.
    static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
    let _turn = DECODING
        .acquire()
        .await
        .map_err(|e| AdminError::BadPhoto(e.to_string()))?;
    let taken = tokio::task::spawn_blocking(move || sotay_photo::normalize(&bytes))
        .await
        .map_err(|e| AdminError::BadPhoto(e.to_string()))?
        .map_err(|e| AdminError::BadPhoto(e.to_string()))?;
    let photos = store.photos();
    let sha = &taken.photo.sha256;
    match photos.append(sha, 0, &taken.jpeg).await? {
        Ok(_) => {
            if !photos.finish(sha).await? {
                return Err(AdminError::BadPhoto("stored bytes differ".into()));
            }
        }
        Err(crate::store::photos::AppendRefusal::Stored) => {}
        Err(crate::store::photos::AppendRefusal::Offset(_)) => {
            // Part of it arrived before and was left: start again.
            return Err(AdminError::Conflict);
        }
    }
    Ok(taken.photo)
}

/// Stores a device's read receipts (idempotent; a receipt for an
/// announcement its group never received is ignored; a read time in the
/// future is taken as now). Returns how many receipts were taken.
pub async fn record_reads(
    store: &DynStore,
    device: &DeviceAuth,
    reads: &[ReadReceipt],
    now: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let steps: Vec<Step> = reads
        .iter()
        .map(|r| {
            Step::any(
                INSERT_READ,
                vec![
                    r.announcement_id.to_string().into(),
                    Val::Uuid(device.device_id.0),
                    r.read_at.min(now).into(),
                    (&device.group).into(),
                ],
            )
        })
        .collect();
    // Steps that may change any number of rows cannot fail their guard.
    let _ = store.run_steps(&steps).await?;
    Ok(u32::try_from(reads.len()).unwrap_or(u32::MAX))
}
