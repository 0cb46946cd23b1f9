//! The dashboard as a browser sees it: a client that does not follow
//! redirects, logging in, pages, forms and downloads, and the officers the
//! dashboard tests log in as.

use reqwest::StatusCode;
use sotay_server::dashboard::accounts::{NewOfficer, Role, add_officer};
use sotay_server::store::now_micros;
use sotay_server::testing::TestServer;

pub const PASSWORD: &str = "mật-khẩu-đủ-dài";

/// An HTTP client that does not follow redirects, so tests see them.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

pub fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

/// Logs in; returns the session cookie (`name=value`) and its CSRF token.
pub async fn login(
    s: &TestServer,
    user: &str,
    password: &str,
) -> Result<(String, String), StatusCode> {
    let session = login_session(s, user, password).await?;
    let page = browser()
        .get(format!("{}/dashboard/tips", s.url()))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    Ok((session, csrf_in(&page.text().await.unwrap())))
}

/// Logs in; returns the session cookie (`name=value`) only.
pub async fn login_session(
    s: &TestServer,
    user: &str,
    password: &str,
) -> Result<String, StatusCode> {
    let c = browser();
    let res = c
        .get(format!("{}/dashboard/login", s.url()))
        .send()
        .await
        .unwrap();
    let pre = set_cookie(&res, "sotay_login_csrf").unwrap();
    let token = csrf_in(&res.text().await.unwrap());
    let res = c
        .post(format!("{}/dashboard/login", s.url()))
        .header("cookie", &pre)
        .form(&[
            ("csrf", token.as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    if res.status() != StatusCode::SEE_OTHER {
        return Err(res.status());
    }
    let session = set_cookie(&res, "sotay_session").unwrap();
    let set = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    Ok(session)
}

pub async fn page(s: &TestServer, cookie: &str, path: &str) -> (StatusCode, String) {
    let res = browser()
        .get(format!("{}{path}", s.url()))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

pub async fn form(s: &TestServer, cookie: &str, path: &str, fields: &[(&str, &str)]) -> StatusCode {
    form_page(s, cookie, path, fields).await.0
}

/// Submits a form and returns the answer's status and page.
pub async fn form_page(
    s: &TestServer,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let res = browser()
        .post(format!("{}{path}", s.url()))
        .header("cookie", cookie)
        .form(fields)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

/// Every sheet of an XLSX workbook, in order: its name and every cell as
/// text. Numbers read back as their shortest decimal form (26.0 → "26"),
/// which is how the CSV export writes them.
pub fn read_sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = book.sheet_names();
    names
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).unwrap();
            let rows = range
                .rows()
                .map(|row| {
                    row.iter()
                        .map(|c| match c {
                            Data::Empty => String::new(),
                            Data::String(s) => s.clone(),
                            Data::Float(f) => f.to_string(),
                            Data::Int(i) => i.to_string(),
                            other => panic!("unexpected cell {other:?}"),
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

/// Every cell of an XLSX export's one sheet as text, the header row first.
pub fn read_xlsx(bytes: &[u8], sheet: &str) -> Vec<Vec<String>> {
    let mut sheets = read_sheets(bytes);
    assert_eq!(sheets.len(), 1, "one sheet");
    let (name, rows) = sheets.remove(0);
    assert_eq!(name, sheet);
    rows
}

pub async fn download(s: &TestServer, cookie: &str, path: &str) -> Vec<u8> {
    let res = browser()
        .get(format!("{}{path}", s.url()))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.bytes().await.unwrap().to_vec()
}

pub fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF]);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..]);
    r.records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

pub async fn officers(s: &TestServer) {
    add_officer(
        s.store(),
        NewOfficer::own("can-bo", PASSWORD, Role::Officer),
        now_micros(),
        None,
    )
    .await
    .unwrap();
    add_officer(
        s.store(),
        NewOfficer::own("quan-tri", PASSWORD, Role::Admin),
        now_micros(),
        None,
    )
    .await
    .unwrap();
}

/// A multipart form as a browser sends it: text fields, then a file.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----sotay-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let (filename, bytes) = file.unwrap_or(("", b""));
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Submits a multipart form (the announcement form, which carries a
/// photo) with no file chosen, as a browser does; the answer's status and
/// page.
pub async fn multipart_page(
    s: &TestServer,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let (mime, body) = multipart(fields, None);
    let res = browser()
        .post(format!("{}{path}", s.url()))
        .header("cookie", cookie)
        .header("content-type", mime)
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}
