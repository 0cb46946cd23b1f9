//! How errors cross into the UI: `{code, message, fields}`. The code is the
//! engine's stable kebab-case code (`DeviceError::code`, `SyncError::code`),
//! the message is localised, `fields` lists the broken rules of invalid
//! input. Never a bare string.

use serde::Serialize;
use sotay_device::DeviceError;
use sotay_device::sync::{Code, SyncError};
use sotay_domain::labels::Lang;

sotay_domain::code_enum! {
    #[derive(ts_rs::TS)]
    /// The app's own error codes, beside the engine's.
    pub enum ShellCode {
        /// The app is locked: the PIN comes first.
        AppLocked => "app-locked",
        /// A panic left the store unusable for this run.
        Internal => "internal",
    }
}

/// Every code an [`AppError`] carries: the engine's or the app's own. The
/// UI branches and localises on it; it serialises as the bare code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[cfg_attr(test, derive(serde::Deserialize))]
#[serde(untagged)]
pub enum AppCode {
    Engine(Code),
    Shell(ShellCode),
}

impl std::fmt::Display for AppCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppCode::Engine(c) => f.write_str(c.as_str()),
            AppCode::Shell(c) => f.write_str(c.code()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[cfg_attr(test, derive(serde::Deserialize))]
#[derive(ts_rs::TS)]
#[error("{code}: {message}")]
pub struct AppError {
    pub code: AppCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub fields: Option<serde_json::Value>,
}

impl AppError {
    pub fn device(e: &DeviceError, lang: Lang) -> Self {
        let body = e.to_body(lang);
        Self {
            code: AppCode::Engine(Code::Device(body.code)),
            message: body.message,
            fields: body.fields,
        }
    }

    pub fn sync(e: &SyncError, lang: Lang) -> Self {
        match e {
            SyncError::Device(d) => Self::device(d, lang),
            other => Self {
                code: AppCode::Engine(other.code()),
                message: other.message(lang),
                fields: None,
            },
        }
    }

    /// The app is locked: the PIN comes first.
    pub fn locked(lang: Lang) -> Self {
        Self {
            code: AppCode::Shell(ShellCode::AppLocked),
            message: match lang {
                Lang::Vi => "Ứng dụng đang khoá: hãy nhập mã PIN.",
                Lang::En => "The app is locked: enter the PIN.",
            }
            .into(),
            fields: None,
        }
    }

    /// Another thread panicked while holding the store: nothing more can be
    /// done safely in this run.
    pub fn poisoned(lang: Lang) -> Self {
        Self {
            code: AppCode::Shell(ShellCode::Internal),
            message: match lang {
                Lang::Vi => "Lỗi nội bộ. Hãy đóng và mở lại ứng dụng.",
                Lang::En => "Internal error. Close and reopen the app.",
            }
            .into(),
            fields: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sotay_domain::validation::{FieldError, Rule, ValidationErrors};

    #[test]
    fn invalid_input_crosses_with_code_message_and_fields() {
        let e = DeviceError::from(ValidationErrors(vec![FieldError::new(
            "description",
            Rule::TooShort { min: 10 },
        )]));
        let json = serde_json::to_value(AppError::device(&e, Lang::Vi)).expect("json");
        assert_eq!(json["code"], "invalid-input");
        assert_eq!(json["message"], "Nội dung: cần ít nhất 10 ký tự");
        assert_eq!(json["fields"][0]["field"], "description");
    }

    #[test]
    fn sync_errors_keep_their_codes_and_are_localised() {
        let e = SyncError::Server {
            status: 400,
            code: sotay_domain::wire::ServerCode::EnrollCodeExpired,
            message: "expired".into(),
        };
        let vi = AppError::sync(&e, Lang::Vi);
        assert_eq!(
            serde_json::to_value(vi.code).expect("json"),
            "enroll-code-expired"
        );
        assert!(vi.message.contains("hết hạn"), "{}", vi.message);
        let en = AppError::sync(&SyncError::Network("refused".into()), Lang::En);
        assert_eq!(
            serde_json::to_value(&en).expect("json"),
            serde_json::json!({"code": "network", "message": "The server cannot be reached. Your data is safe here and will be sent when online."})
        );
    }
}
