//! Announcements (thông báo): what the ward tells its group leaders at
//! once (a scam going round that impersonates the police, a wanted
//! person, a fire-safety warning before a holiday), to the whole ward or
//! to chosen blocks and groups. Devices pull them; a leader marks one
//! read, and the read receipt goes back to the ward, which sees who has
//! read it and who has not.

use crate::ids::AnnouncementId;
use crate::validation::{Checker, ValidationErrors};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// At most this many characters in a title.
pub const TITLE_MAX: usize = 120;
/// At most this many characters in the text.
pub const TEXT_MAX: usize = 4000;

/// One announcement as devices receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Announcement {
    pub id: AnnouncementId,
    pub title: String,
    pub text: String,
    /// Shown first, and raised as a notification that asks for attention.
    #[serde(default)]
    pub urgent: bool,
    pub sent_at: DateTime<Utc>,
    /// A photo the ward attached (a wanted person, a scam's screenshot),
    /// made by the server as devices make theirs (upright, at most 1600
    /// px, no metadata); the device fetches it by its hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<crate::photo::PhotoRef>,
}

impl Announcement {
    /// A title and a text, each within its limit.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        c.text("title", &self.title, 1, TITLE_MAX);
        c.text("text", &self.text, 1, TEXT_MAX);
        c.finish()
    }
}

/// A leader read an announcement on a device: sent back at the next sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadReceipt {
    pub announcement_id: AnnouncementId,
    pub read_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_and_a_text_are_needed_and_bounded() {
        let mut a = Announcement {
            id: AnnouncementId::new_v7(),
            title: "Cảnh giác lừa đảo giả danh công an".into(),
            text: "Không chuyển tiền theo yêu cầu qua điện thoại.".into(),
            urgent: true,
            sent_at: Utc::now(),
            photo: None,
        };
        assert!(a.validate().is_ok());
        a.title = " ".into();
        a.text = "x".repeat(TEXT_MAX + 1);
        let Err(e) = a.validate() else {
            panic!("a blank title and a long text are refused")
        };
        assert!(e.has("title", "required"), "{e:?}");
        assert_eq!(e.0.len(), 2, "{e:?}");
    }
}
