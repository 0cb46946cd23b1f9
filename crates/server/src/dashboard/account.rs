//! An officer's own account: changing their password. The officer's key
//! is rewrapped under the new password, every other session of theirs
//! ends, and the change is audited.

use super::pages::layout;
use super::text;
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
            p #must-change.error { (text::YOUR_PASSWORD_WAS_SET.get(l)) }
        }
        @if let Some((text, ok)) = message {
            p #account-message class=(if ok { "ok" } else { "error" }) { (text) }
        }
        form #password-form method="post" action="/dashboard/account/password" {
            input type="hidden" name="csrf" value=(o.csrf);
            label { (text::CURRENT_PASSWORD.get(l)) " "
                input #current type="password" name="current" required autocomplete="current-password"; }
            label { (text::NEW_PASSWORD.get(l)) " "
                input #new type="password" name="new" required autocomplete="new-password" minlength=(accounts::PASSWORD_MIN); }
            label { (text::NEW_PASSWORD_AGAIN.get(l)) " "
                input #again type="password" name="again" required autocomplete="new-password"; }
            button #change-password type="submit" { (text::CHANGE_PASSWORD.get(l)) }
        }
        p { small { (text::CHANGING_YOUR_PASSWORD_ENDS.get(l)) } }
    };
    layout(o, text::ACCOUNT.get(l), body)
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
    let change = accounts::OwnPasswordChange {
        username: &o.username,
        current: &form.current,
        new: &form.new,
        again: &form.again,
        keep_session: &o.token_hash,
    };
    match accounts::change_password(
        &state.store,
        &change,
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
            Ok(page(&o, Some((text::PASSWORD_CHANGED.get(l), true))))
        }
        Err(accounts::AccountError::WrongPassword) => {
            o.audit(
                &state,
                "change-password-refused",
                &o.username,
                "wrong current password",
            )
            .await?;
            Ok(refused(text::CURRENT_PASSWORD_IS_WRONG.get(l)))
        }
        Err(accounts::AccountError::Mismatch) => Ok(refused(text::TWO_NEW_PASSWORDS_DIFFER.get(l))),
        Err(accounts::AccountError::SamePassword) => {
            Ok(refused(text::NEW_PASSWORD_MUST_DIFFER.get(l)))
        }
        Err(accounts::AccountError::WeakPassword(_)) => {
            Ok(refused(text::NEW_PASSWORD_NEEDS_AT.get(l)))
        }
        Err(e) => Err(e.into()),
    }
}
