//! Taking photos in, through the real parts: a camera-like 12-megapixel
//! JPEG with EXIF orientation, GPS and camera fields (made by ImageMagick
//! and exiftool: `scripts/lib/camera-photo.sh`) becomes one upright JPEG of
//! at most 1600 px that exiftool finds no metadata in; it is stored once in
//! the encrypted store, listed by reports, and queued when they are.

mod common;

use common::*;
use sotay_device::{ErrorCode, Save};
use sotay_domain::ReportBody;
use sotay_domain::photo::PhotoRef;
use sotay_domain::tip::TipCategory;
use std::path::Path;
use std::process::Command;

fn camera_photo(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("camera.jpg");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lib/camera-photo.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(&path)
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "camera-photo.sh (needs imagemagick and libimage-exiftool-perl): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// Every metadata tag exiftool reads in `path`, as `group:name`.
fn exif_tags(path: &Path) -> Vec<String> {
    let out = Command::new("exiftool")
        .args(["-j", "-a", "-G1", "-s"])
        .arg(path)
        .output()
        .expect("exiftool (libimage-exiftool-perl)");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v[0].as_object()
        .expect("one file")
        .keys()
        .cloned()
        .collect()
}

#[test]
fn a_camera_photo_becomes_one_upright_small_jpeg_without_metadata() {
    let dir = tempfile::tempdir().expect("tempdir");
    let original = camera_photo(dir.path());
    let before = exif_tags(&original);
    assert!(
        before.iter().any(|t| t.ends_with(":GPSLatitude"))
            && before.iter().any(|t| t.ends_with(":Orientation")),
        "the fixture carries GPS and an orientation: {before:?}"
    );

    let bytes = std::fs::read(&original).expect("read");
    let taken = sotay_device::photo::normalize(&bytes).expect("taken in");
    // Turned upright (the pixels lay on their side) and scaled.
    assert_eq!((taken.photo.width, taken.photo.height), (1200, 1600));
    assert_eq!(taken.photo.mime, "image/jpeg");
    assert_eq!(taken.photo.bytes, taken.jpeg.len() as u64);
    assert_eq!(
        taken.photo.sha256,
        sotay_device::photo::sha256_hex(&taken.jpeg)
    );
    let img = image::load_from_memory(&taken.jpeg).expect("a JPEG");
    assert_eq!((img.width(), img.height()), (1200, 1600));
    // Rotating 90° clockwise moves the red top-left quarter to the top
    // right.
    let rgb = img.to_rgb8();
    let red = |x: u32, y: u32| {
        let p = rgb.get_pixel(x, y);
        p[0] > 200 && p[1] < 60 && p[2] < 60
    };
    assert!(red(900, 400), "top right is red");
    assert!(!red(300, 400), "top left is white");
    assert!(!red(900, 1200), "bottom right is white");

    // No metadata left: exiftool sees only what it derives from the file.
    let copy = dir.path().join("taken.jpg");
    std::fs::write(&copy, &taken.jpeg).expect("write");
    let after = exif_tags(&copy);
    for t in &after {
        assert!(
            t.starts_with("System:")
                || t.starts_with("File:")
                || t.starts_with("ExifTool:")
                || t.starts_with("Composite:")
                || t == "SourceFile"
                || t.starts_with("JFIF:"),
            "metadata left in the photo: {t} (all: {after:?})"
        );
    }
    assert!(
        !after
            .iter()
            .any(|t| t.contains("GPS") || t.contains("Make"))
    );
    // And no EXIF segment in the raw bytes at all.
    assert!(
        !taken.jpeg.windows(6).any(|w| w == b"Exif\0\0"),
        "an EXIF segment"
    );
    // Taking the same file in again gives the same photo.
    let again = sotay_device::photo::normalize(&bytes).expect("again");
    assert_eq!(again.photo, taken.photo);
}

#[test]
fn what_is_not_a_photo_is_refused_and_nothing_changes() {
    let (_dir, mut store) = store();
    let mut tip = tip(
        TipCategory::Fraud,
        "Tin nhắn giả danh công an đòi chuyển tiền",
    );
    let saved = store
        .save_report(None, ReportBody::Tip(tip.clone()), Save::Draft)
        .expect("draft");
    for junk in [
        &b"not an image at all"[..],
        &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0][..],
        &[][..],
    ] {
        let err = store.add_photo(junk).expect_err("refused");
        assert_eq!(err.code(), ErrorCode::PhotoUnreadable, "{err}");
        assert!(
            err.message(sotay_domain::Lang::Vi)
                .contains("Không đọc được ảnh"),
            "{}",
            err.message(sotay_domain::Lang::Vi)
        );
    }
    assert_eq!(store.photo_queue().expect("queue").pending, 0);
    assert_eq!(store.report(saved.id).expect("report").body, saved.body);

    // A report cannot list a photo the store does not hold.
    tip.photos.push(PhotoRef {
        sha256: "ab".repeat(32),
        bytes: 1000,
        width: 100,
        height: 100,
        mime: "image/jpeg".into(),
    });
    let err = store
        .save_report(Some(saved.id), ReportBody::Tip(tip), Save::Send)
        .expect_err("refused");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("photos[0]"), "{err}");
    assert_eq!(store.report(saved.id).expect("report").body, saved.body);
}

#[test]
fn photos_are_stored_once_and_queued_with_their_reports() {
    let (dir, mut store) = store();
    let original = std::fs::read(camera_photo(dir.path())).expect("read");
    let photo = store.add_photo(&original).expect("added");
    assert_eq!(store.add_photo(&original).expect("again"), photo, "once");
    let jpeg = store.photo(&photo.sha256).expect("stored");
    assert_eq!(sotay_device::photo::sha256_hex(&jpeg), photo.sha256);

    let mut first = tip(TipCategory::Fraud, "Ảnh chụp tin nhắn lừa đảo chuyển khoản");
    first.photos.push(photo.clone());
    // A draft's photos wait with it.
    let draft = store
        .save_report(None, ReportBody::Tip(first.clone()), Save::Draft)
        .expect("draft");
    assert_eq!(store.photo_queue().expect("queue").pending, 0);
    store.send(draft.id).expect("sent");
    let q = store.photo_queue().expect("queue");
    assert_eq!((q.pending, q.pending_bytes), (1, photo.bytes));
    // A second report showing the same photo does not queue it twice.
    let mut second = tip(TipCategory::Fraud, "Cùng ảnh đó, một vụ lừa khác trong tổ");
    second.photos.push(photo.clone());
    store
        .save_report(None, ReportBody::Tip(second), Save::Send)
        .expect("second");
    assert_eq!(store.photo_queue().expect("queue").pending, 1);
    let due = store.due_photos(chrono::Utc::now()).expect("due");
    assert_eq!(due.len(), 1);
    // A failure waits out its backoff, then comes back.
    let later = chrono::Utc::now() + chrono::TimeDelta::minutes(5);
    store
        .photo_failed(&photo.sha256, "network", later)
        .expect("failed");
    assert!(
        store
            .due_photos(chrono::Utc::now())
            .expect("due")
            .is_empty()
    );
    assert_eq!(store.due_photos(later).expect("due").len(), 1);
    store.photo_sent(&photo.sha256).expect("sent");
    assert!(store.due_photos(later).expect("due").is_empty());
    let q = store.photo_queue().expect("queue");
    assert_eq!((q.pending, q.sent), (0, 1));
    // Stored in the encrypted file: the JPEG's bytes are not in it.
    drop(store);
    let raw = std::fs::read(dir.path().join(sotay_device::store::DB_FILE)).expect("raw");
    assert!(
        !raw.windows(64)
            .any(|w| w == &jpeg[jpeg.len() / 2..jpeg.len() / 2 + 64]),
        "the photo's bytes are in the file in clear"
    );
}
