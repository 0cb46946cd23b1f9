//! Logging in and out.

use super::*;
use crate::AppState;
use crate::dashboard::{Officer, PageCode, PageError, accounts, no_store};
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use sotay_domain::Lang;

fn login_page(lang: Lang, csrf: &str, message: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (text::LOG_IN.get(lang)) " · Sổ tay" }
                link rel="stylesheet" href="/dashboard/static/app.css";
            }
            body.login {
                main {
                    h1 { "Sổ tay · " (text::WARD_POLICE.get(lang)) }
                    @if let Some(m) = message { p.error role="alert" { (m) } }
                    form method="post" action="/dashboard/login" {
                        input type="hidden" name="csrf" value=(csrf);
                        label { (text::USERNAME.get(lang)) input name="username" autocomplete="username" required; }
                        label { (text::PASSWORD.get(lang)) input name="password" type="password" autocomplete="current-password" required; }
                        button #login type="submit" { (text::LOG_IN.get(lang)) }
                    }
                    p { a href=(if lang == Lang::Vi { "/dashboard/lang/en" } else { "/dashboard/lang/vi" }) { (text::OTHER_LANGUAGE.get(lang)) } }
                }
            }
        }
    }
}

/// The login form sets a double-submit cookie for its CSRF token: there
/// is no session yet to keep one in.
pub async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let csrf = crate::auth::new_token();
    let mut res = (
        no_store(),
        Html(login_page(crate::dashboard::lang(&headers), &csrf, None).into_string()),
    )
        .into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        crate::dashboard::set_cookie(
            crate::dashboard::LOGIN_CSRF_COOKIE,
            &csrf,
            3600,
            crate::dashboard::secure(&state, &headers),
        ),
    );
    res
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let lang = crate::dashboard::lang(&headers);
    let expected =
        crate::dashboard::cookie(&headers, crate::dashboard::LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !accounts::same_secret(&form.csrf, expected) {
        return Err(PageError::Forbidden(PageCode::Csrf));
    }
    // Each attempt costs an argon2 run: bounded per address and overall,
    // checked and counted in one step.
    let ip = crate::api::client_ip(&extensions, &headers, &state.config.trusted_proxies);
    if state.logins.hit(ip).is_err() || state.logins_overall.hit(crate::EVERYONE).is_err() {
        let message = text::TOO_MANY_LOGIN_ATTEMPTS.get(lang);
        return Ok((
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            no_store(),
            Html(login_page(lang, &form.csrf, Some(message)).into_string()),
        )
            .into_response());
    }
    let now = crate::store::now_micros();
    match accounts::login(
        &state.store,
        &state.config,
        &form.username,
        &form.password,
        now,
    )
    .await?
    {
        Ok(accounts::LoggedIn {
            token,
            session,
            secret,
        }) => {
            if let Some(secret) = secret {
                state.session_keys.insert(
                    &crate::auth::hash_secret(&token),
                    secret,
                    state.config.session_ttl.to_std().unwrap_or_default(),
                );
            }
            let mut res = Redirect::to("/dashboard/tips").into_response();
            let max_age = (session.expires_at - now).num_seconds();
            res.headers_mut().append(
                header::SET_COOKIE,
                crate::dashboard::set_cookie(
                    crate::dashboard::SESSION_COOKIE,
                    &token,
                    max_age,
                    crate::dashboard::secure(&state, &headers),
                ),
            );
            Ok(res)
        }
        Err(refusal) => {
            let message = match refusal {
                accounts::LoginRefusal::BadCredentials => {
                    text::WRONG_USERNAME_OR_PASSWORD.get(lang).to_owned()
                }
                accounts::LoginRefusal::Locked(until) => format!(
                    "{} {}",
                    text::ACCOUNT_LOCKED_AFTER_REPEATED.get(lang),
                    fmt_time(until)
                ),
            };
            let status = match refusal {
                accounts::LoginRefusal::BadCredentials => axum::http::StatusCode::UNAUTHORIZED,
                accounts::LoginRefusal::Locked(_) => axum::http::StatusCode::TOO_MANY_REQUESTS,
            };
            Ok((
                status,
                no_store(),
                Html(login_page(lang, &form.csrf, Some(&message)).into_string()),
            )
                .into_response())
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    o: Officer,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    o.check_csrf(&form.csrf)?;
    state.store.delete_session(&o.token_hash).await?;
    state.session_keys.remove(&o.token_hash);
    o.audit(&state, "logout", "", "").await?;
    let mut res = Redirect::to("/dashboard/login").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        crate::dashboard::set_cookie(
            crate::dashboard::SESSION_COOKIE,
            "",
            0,
            crate::dashboard::secure(&state, &headers),
        ),
    );
    Ok(res)
}
