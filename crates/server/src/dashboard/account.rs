//! An officer's own account: changing their password. The officer's key
//! is rewrapped under the new password, every other session of theirs
//! ends, and the change is audited.

use super::pages::{layout, t};
use super::{Officer, PageError, accounts};
use crate::AppState;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

fn page(o: &Officer, message: Option<(&str, bool)>) -> Response {
    let l = o.lang;
    let body = html! {
        @if o.must_change_password {
            p #must-change.error { (t(l,
                "Mật khẩu của bạn do người khác đặt. Hãy chọn mật khẩu của riêng bạn trước khi tiếp tục.",
                "Your password was set by someone else. Choose your own before you go on.")) }
        }
        @if let Some((text, ok)) = message {
            p #account-message class=(if ok { "ok" } else { "error" }) { (text) }
        }
        form #password-form method="post" action="/dashboard/account/password" {
            input type="hidden" name="csrf" value=(o.csrf);
            label { (t(l, "Mật khẩu hiện tại", "Current password")) " "
                input #current type="password" name="current" required autocomplete="current-password"; }
            label { (t(l, "Mật khẩu mới", "New password")) " "
                input #new type="password" name="new" required autocomplete="new-password" minlength=(accounts::PASSWORD_MIN); }
            label { (t(l, "Nhập lại mật khẩu mới", "New password again")) " "
                input #again type="password" name="again" required autocomplete="new-password"; }
            button #change-password type="submit" { (t(l, "Đổi mật khẩu", "Change password")) }
        }
        p { small { (t(l, "Đổi mật khẩu kết thúc mọi phiên đăng nhập khác của bạn.",
            "Changing your password ends every other session of yours.")) } }
    };
    layout(o, t(l, "Tài khoản", "Account"), body)
}

pub async fn show(o: Officer) -> Response {
    page(&o, None)
}

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    again: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    o: Officer,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    o.check_csrf(&form.csrf)?;
    let l = o.lang;
    let refused = |text: &str| {
        let mut res = page(&o, Some((text, false)));
        *res.status_mut() = StatusCode::BAD_REQUEST;
        res
    };
    if form.new != form.again {
        return Ok(refused(t(
            l,
            "Hai lần nhập mật khẩu mới không khớp.",
            "The two new passwords differ.",
        )));
    }
    match accounts::change_password(
        &state.store,
        &o.username,
        &form.current,
        &form.new,
        &o.token_hash,
        Some(&o.entry("change-password", &o.username, "")),
    )
    .await
    {
        Ok(secret) => {
            if let Some(secret) = secret {
                state.session_keys.insert(
                    &o.token_hash,
                    secret,
                    state.config.session_ttl.to_std().unwrap_or_default(),
                );
            }
            let o = Officer {
                must_change_password: false,
                ..o
            };
            Ok(page(
                &o,
                Some((t(l, "Đã đổi mật khẩu.", "Password changed."), true)),
            ))
        }
        Err(accounts::AccountError::WrongPassword) => {
            o.audit(
                &state,
                "change-password-refused",
                &o.username,
                "wrong current password",
            )
            .await?;
            Ok(refused(t(
                l,
                "Mật khẩu hiện tại không đúng.",
                "The current password is wrong.",
            )))
        }
        Err(accounts::AccountError::SamePassword) => Ok(refused(t(
            l,
            "Mật khẩu mới phải khác mật khẩu hiện tại.",
            "The new password must differ from the current one.",
        ))),
        Err(accounts::AccountError::WeakPassword(_)) => Ok(refused(t(
            l,
            "Mật khẩu mới cần ít nhất 10 ký tự.",
            "The new password needs at least 10 characters.",
        ))),
        Err(e) => Err(e.into()),
    }
}
