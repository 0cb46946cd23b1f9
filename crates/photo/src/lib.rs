//! `sotay-photo`: taking a photo in, on the device (a leader's evidence) and
//! on the server (an officer's announcement), the same way.
//!
//! Taking a photo in: whatever the camera or the gallery gave (JPEG, PNG or
//! WebP) becomes one upright JPEG of at most [`LONG_EDGE_MAX`] pixels on its
//! long edge, at quality [`JPEG_QUALITY`], with no metadata at all, named
//! by its SHA-256.
//!
//! Everything is done by the `image` crate: its decoders read the EXIF
//! orientation, `apply_orientation` turns the pixels upright, and its JPEG
//! encoder writes pixels only, so no EXIF field (GPS, camera, time) can
//! survive: the tip's GPS is its own explicit field, never hidden in a
//! photo. Decoding is bounded ([`limits`]), so a crafted file cannot make
//! the phone allocate without end.

use sha2::{Digest, Sha256};
use sotay_domain::photo::{LONG_EDGE_MAX, PHOTO_BYTES_MAX, PHOTO_MIME, PhotoRef};

/// The JPEG quality photos are stored at.
pub const JPEG_QUALITY: u8 = 75;

/// Why a photo could not be taken in. The report it was for stays as it
/// was.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// Not an image this app reads (JPEG, PNG, WebP), or a damaged one.
    #[error("the photo could not be read: {0}")]
    Unreadable(String),
    /// Larger than the decoder may allocate, or than a stored photo may be.
    #[error("the photo is too large: {0}")]
    TooLarge(String),
}

/// A photo taken in: its JPEG bytes and its manifest entry.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub jpeg: Vec<u8>,
    pub photo: PhotoRef,
}

/// The bounds of decoding: 100 megapixels at most and 768 MiB of
/// allocation (a 12-megapixel camera photo needs about 36 MiB).
fn limits() -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(20_000);
    l.max_image_height = Some(20_000);
    l.max_alloc = Some(768 * 1024 * 1024);
    l
}

/// Takes `bytes` (a file's content) in.
pub fn normalize(bytes: &[u8]) -> Result<Normalized, PhotoError> {
    use image::ImageDecoder;
    let unreadable = |e: image::ImageError| match e {
        image::ImageError::Limits(l) => PhotoError::TooLarge(l.to_string()),
        other => PhotoError::Unreadable(other.to_string()),
    };
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PhotoError::Unreadable(e.to_string()))?;
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    // Scale first, turn second: the bound is the same on both edges, and
    // turning the small image needs a small copy, not a second full one.
    if img.width().max(img.height()) > LONG_EDGE_MAX {
        // `thumbnail` averages the source pixels under each target pixel in
        // integers: right for a large reduction, and it needs no floating
        // point copy of the whole photo (a filtered resize of a 12 MP
        // photo held three times its size in memory).
        img = img.thumbnail(LONG_EDGE_MAX, LONG_EDGE_MAX);
    }
    img.apply_orientation(orientation);
    let rgb = img.into_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(unreadable)?;
    let len = jpeg.len() as u64;
    if len > PHOTO_BYTES_MAX {
        return Err(PhotoError::TooLarge(format!("{len} bytes")));
    }
    let photo = PhotoRef {
        sha256: sha256_hex(&jpeg),
        bytes: len,
        width: rgb.width(),
        height: rgb.height(),
        mime: PHOTO_MIME.to_owned(),
    };
    Ok(Normalized { jpeg, photo })
}

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The long edge of a photo's small copy, in pixels.
pub const THUMB_EDGE: u32 = 320;

/// A small JPEG copy of `jpeg` for the dashboard's pages, or `None` when
/// the bytes do not decode as an image (the server only checks a photo's
/// hash; the page then shows the photo itself). Decoding is bounded: the
/// bytes come from a device.
pub fn thumbnail(jpeg: &[u8]) -> Option<Vec<u8>> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(jpeg))
        .with_guessed_format()
        .ok()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(4096);
    limits.max_image_height = Some(4096);
    limits.max_alloc = Some(128 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().ok()?.thumbnail(THUMB_EDGE, THUMB_EDGE);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
        .encode_image(&img.into_rgb8())
        .ok()?;
    Some(out)
}
