//! Evidence photos: what a report says about its photos (its *manifest*).
//!
//! A report lists its photos by content hash; the photos themselves travel
//! apart, after the report (`sotay-device`'s photo queue, the server's
//! `/v1/photos/{sha256}`), so a report is sent and gets its receipt without
//! waiting for them, and a photo sent twice, or shared by two reports, is
//! stored once. Every photo is a JPEG the device made itself (upright,
//! scaled, every metadata field gone), so the manifest's facts can be
//! checked against the bytes.
//!
//! Where a photo belongs is where it is listed: a tip's [`Tip::photos`]
//! (at most [`TIP_PHOTOS_MAX`]) or a failed checklist item's
//! [`ItemAnswer::photos`] (at most [`ITEM_PHOTOS_MAX`]).
//!
//! [`Tip::photos`]: crate::tip::Tip::photos
//! [`ItemAnswer::photos`]: crate::inspection::ItemAnswer::photos

use crate::validation::{Checker, Rule};
use serde::{Deserialize, Serialize};

/// Most photos on one tip.
pub const TIP_PHOTOS_MAX: usize = 5;
/// Most photos on one failed checklist item.
pub const ITEM_PHOTOS_MAX: usize = 3;
/// The longest edge of a stored photo, in pixels.
pub const LONG_EDGE_MAX: u32 = 1600;
/// The largest stored photo, in bytes. A 1600-pixel JPEG at quality 75 is
/// a few hundred kilobytes; this leaves room for busy scenes.
pub const PHOTO_BYTES_MAX: u64 = 3 * 1024 * 1024;
/// The one format photos are stored and sent in.
pub const PHOTO_MIME: &str = "image/jpeg";

/// One photo of a report, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhotoRef {
    /// SHA-256 of the JPEG's bytes, 64 lowercase hex digits: the photo's
    /// name everywhere.
    pub sha256: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    /// Always [`PHOTO_MIME`].
    pub mime: String,
}

/// Whether `s` is a photo's name: 64 lowercase hex digits.
pub fn is_photo_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl PhotoRef {
    fn check(&self, c: &mut Checker, field: &str) {
        if !is_photo_hash(&self.sha256) {
            c.push(format!("{field}.sha256"), Rule::BadFormat);
        }
        if self.mime != PHOTO_MIME {
            c.push(
                format!("{field}.mime"),
                Rule::UnknownCode {
                    allowed: vec![PHOTO_MIME.to_owned()],
                },
            );
        }
        if self.bytes == 0 || self.bytes > PHOTO_BYTES_MAX {
            c.push(
                format!("{field}.bytes"),
                Rule::OutOfRange {
                    min: 1.0,
                    max: PHOTO_BYTES_MAX as f64,
                },
            );
        }
        let edge = f64::from(LONG_EDGE_MAX);
        for (name, v) in [("width", self.width), ("height", self.height)] {
            if v == 0 || v > LONG_EDGE_MAX {
                c.push(
                    format!("{field}.{name}"),
                    Rule::OutOfRange {
                        min: 1.0,
                        max: edge,
                    },
                );
            }
        }
    }
}

/// Checks a list of photos at `field`: at most `max`, each well formed,
/// none twice.
pub(crate) fn check_photos(c: &mut Checker, field: &str, photos: &[PhotoRef], max: usize) {
    if photos.len() > max {
        c.push(field, Rule::TooMany { max });
    }
    let mut seen = std::collections::HashSet::new();
    for (i, p) in photos.iter().enumerate() {
        let f = format!("{field}[{i}]");
        p.check(c, &f);
        if !seen.insert(p.sha256.as_str()) {
            c.push(f, Rule::Duplicate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(n: u8) -> PhotoRef {
        PhotoRef {
            sha256: format!("{n:02x}").repeat(32),
            bytes: 200_000,
            width: 1200,
            height: 1600,
            mime: PHOTO_MIME.to_owned(),
        }
    }

    fn codes(photos: &[PhotoRef], max: usize) -> Vec<(String, &'static str)> {
        let mut c = Checker::new();
        check_photos(&mut c, "photos", photos, max);
        c.finish()
            .err()
            .map(|e| e.0.into_iter().map(|f| (f.field, f.rule.code())).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_manifest_is_checked_entry_by_entry() {
        assert!(codes(&[photo(1), photo(2)], TIP_PHOTOS_MAX).is_empty());
        let six: Vec<_> = (0..6).map(photo).collect();
        assert_eq!(
            codes(&six, TIP_PHOTOS_MAX),
            vec![("photos".into(), "too-many")]
        );
        assert_eq!(
            codes(&[photo(1), photo(1)], 3),
            vec![("photos[1]".into(), "duplicate")]
        );
        let bad = PhotoRef {
            sha256: "ABC".into(),
            bytes: PHOTO_BYTES_MAX + 1,
            width: 4000,
            height: 0,
            mime: "image/png".into(),
        };
        assert_eq!(
            codes(&[bad], 3),
            vec![
                ("photos[0].sha256".into(), "bad-format"),
                ("photos[0].mime".into(), "unknown-code"),
                ("photos[0].bytes".into(), "out-of-range"),
                ("photos[0].width".into(), "out-of-range"),
                ("photos[0].height".into(), "out-of-range"),
            ]
        );
        assert!(is_photo_hash(&"0a".repeat(32)));
        assert!(!is_photo_hash(&"0A".repeat(32)));
        assert!(!is_photo_hash("0a"));
    }
}
