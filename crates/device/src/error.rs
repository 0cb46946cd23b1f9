//! The device engine's errors, each with a stable code for programs and the
//! UI, and a message in Vietnamese or English.

use serde::Serialize;
use sotay_domain::household::CsvErrors;
use sotay_domain::labels::Lang;
use sotay_domain::validation::ValidationErrors;

sotay_domain::code_enum! {
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    /// Stable machine codes of [`DeviceError`]; the UI branches and localises on these.
    pub enum ErrorCode {
        InvalidInput => "invalid-input",
        CsvInvalid => "csv-invalid",
        NotInitialized => "not-initialized",
        AlreadyInitialized => "already-initialized",
        NotFound => "not-found",
        KindMismatch => "kind-mismatch",
        Storage => "storage",
        /// The phone's storage is full: nothing new could be written, nothing
        /// saved before is lost.
        StorageFull => "storage-full",
        StorageCorrupt => "storage-corrupt",
        /// The store's key is gone (the keystore was reset, the key file
        /// deleted): the encrypted store cannot be opened.
        StorageKeyMissing => "storage-key-missing",
        /// The operating system's keystore refused to keep or give the key.
        Keystore => "keystore",
        /// A photo that is not an image this app reads, or is damaged.
        PhotoUnreadable => "photo-unreadable",
        /// A photo larger than the app takes in.
        PhotoTooLarge => "photo-too-large",
        Io => "io",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error("{0}")]
    Csv(#[from] CsvErrors),
    #[error("this device has not been set up for a group yet")]
    NotInitialized,
    #[error("this device already belongs to group {current}")]
    AlreadyInitialized { current: String },
    #[error("no {what} with id {id}")]
    NotFound { what: &'static str, id: String },
    #[error("report {id} is a {existing}, not a {given}")]
    KindMismatch {
        id: String,
        existing: &'static str,
        given: &'static str,
    },
    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("storage migration error: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// A migration this store applied was edited since, or the store is
    /// newer than this build: it is not opened.
    #[error("{0}")]
    Schema(#[from] sotay_domain::migrations::MigrationError),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("the store is encrypted and its key is missing")]
    KeyMissing,
    #[error("the keystore failed: {0}")]
    Keystore(String),
    #[error("{0}")]
    Photo(#[from] crate::photo::PhotoError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl DeviceError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DeviceError::Invalid(_) => ErrorCode::InvalidInput,
            DeviceError::Csv(_) => ErrorCode::CsvInvalid,
            DeviceError::NotInitialized => ErrorCode::NotInitialized,
            DeviceError::AlreadyInitialized { .. } => ErrorCode::AlreadyInitialized,
            DeviceError::NotFound { .. } => ErrorCode::NotFound,
            DeviceError::KindMismatch { .. } => ErrorCode::KindMismatch,
            DeviceError::Storage(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) =>
            {
                ErrorCode::StorageFull
            }
            DeviceError::Storage(_) | DeviceError::Migration(_) | DeviceError::Schema(_) => {
                ErrorCode::Storage
            }
            DeviceError::Corrupt(_) => ErrorCode::StorageCorrupt,
            DeviceError::KeyMissing => ErrorCode::StorageKeyMissing,
            DeviceError::Keystore(_) => ErrorCode::Keystore,
            DeviceError::Photo(crate::photo::PhotoError::Unreadable(_)) => {
                ErrorCode::PhotoUnreadable
            }
            DeviceError::Photo(crate::photo::PhotoError::TooLarge(_)) => ErrorCode::PhotoTooLarge,
            DeviceError::Io(_) => ErrorCode::Io,
        }
    }

    /// A message for the leader in `lang`. Storage internals are not shown;
    /// they go to the log.
    pub fn message(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        match self {
            DeviceError::Invalid(v) => v.messages(lang).join("\n"),
            DeviceError::Csv(c) => {
                c.0.iter()
                    .map(|e| e.message(lang))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            DeviceError::NotInitialized if vi => {
                "Máy chưa được gắn với tổ dân cư nào. Hãy đăng ký máy trước.".into()
            }
            DeviceError::AlreadyInitialized { current } if vi => {
                format!("Máy đã được gắn với tổ {current}.")
            }
            DeviceError::NotFound { what, id } if vi => {
                let what = match *what {
                    "household" => "hộ gia đình",
                    "report" => "báo cáo",
                    other => other,
                };
                format!("Không tìm thấy {what} có mã {id}.")
            }
            DeviceError::KindMismatch { .. } if vi => {
                "Mã này thuộc về một loại báo cáo khác.".into()
            }
            _ if self.code() == ErrorCode::StorageFull && vi => {
                "Bộ nhớ máy đã đầy: hãy xóa bớt ảnh, video hoặc ứng dụng rồi lưu lại. \
                 Dữ liệu đã lưu trước đó không bị mất."
                    .into()
            }
            _ if self.code() == ErrorCode::StorageFull => {
                "The phone's storage is full: free some space and save again. \
                 Data saved before is not lost."
                    .into()
            }
            DeviceError::Storage(_)
            | DeviceError::Migration(_)
            | DeviceError::Schema(_)
            | DeviceError::Corrupt(_)
                if vi =>
            {
                "Lỗi lưu trữ trên máy. Dữ liệu đã lưu trước đó không bị mất.".into()
            }
            DeviceError::Storage(_)
            | DeviceError::Migration(_)
            | DeviceError::Schema(_)
            | DeviceError::Corrupt(_) => {
                "Storage error on this device. Data saved before is not lost.".into()
            }
            DeviceError::KeyMissing if vi => {
                "Không mở được dữ liệu trên máy: khoá mã hoá đã mất (kho khoá của máy bị xoá). \
                 Chỉ có thể xoá dữ liệu và đăng ký lại."
                    .into()
            }
            DeviceError::KeyMissing => {
                "The data on this device cannot be opened: its encryption key is gone (the \
                 phone's keystore was reset). Only erasing the data and enrolling again is left."
                    .into()
            }
            DeviceError::Keystore(_) if vi => {
                "Kho khoá của máy không giữ được khoá mã hoá dữ liệu.".into()
            }
            DeviceError::Keystore(_) => "The phone's keystore could not keep the data key.".into(),
            DeviceError::Photo(crate::photo::PhotoError::Unreadable(_)) if vi => {
                "Không đọc được ảnh này (chỉ nhận ảnh JPEG, PNG hoặc WebP). \
                 Báo cáo vẫn giữ nguyên như trước."
                    .into()
            }
            DeviceError::Photo(crate::photo::PhotoError::Unreadable(_)) => {
                "This photo could not be read (JPEG, PNG or WebP only). \
                 The report stays as it was."
                    .into()
            }
            DeviceError::Photo(crate::photo::PhotoError::TooLarge(_)) if vi => {
                "Ảnh quá lớn để đưa vào. Báo cáo vẫn giữ nguyên như trước.".into()
            }
            DeviceError::Photo(crate::photo::PhotoError::TooLarge(_)) => {
                "This photo is too large to take in. The report stays as it was.".into()
            }
            DeviceError::Io(e) if vi => format!("Lỗi đọc/ghi tệp: {e}"),
            other => other.to_string(),
        }
    }

    /// The `{code, message}` form every boundary (CLI, app) uses.
    pub fn to_body(&self, lang: Lang) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.message(lang),
            fields: match self {
                DeviceError::Invalid(v) => Some(serde_json::to_value(v).unwrap_or_default()),
                DeviceError::Csv(c) => Some(serde_json::to_value(c).unwrap_or_default()),
                _ => None,
            },
        }
    }
}

/// An error as it crosses a boundary: stable code, localised message and,
/// for invalid input, which fields broke which rules.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<serde_json::Value>,
}

pub type Result<T, E = DeviceError> = std::result::Result<T, E>;
