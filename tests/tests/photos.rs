//! Evidence photos end to end: `sotay-cli` takes a camera photo in, the
//! report syncs and gets its receipt, the photo follows in its own queue,
//! and the real server holds one upright JPEG of at most 1600 px, once,
//! however many reports list it or how often it is sent. The upload
//! protocol is tried as a client would break it: cut mid-photo, the wrong
//! offset, the wrong bytes, a photo no report lists, one over the limit.

use serde_json::Value;
use sotay_e2e::{camera_photo, workspace_binary};
use sotay_server::testing::{Backend, TestServer};
use std::path::Path;
use std::process::Output;

fn cli(data: &Path, args: &[&str]) -> Output {
    std::process::Command::new(workspace_binary("sotay-cli"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .expect("sotay-cli")
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json on stdout")
}

async fn enrolled_cli(server: &TestServer, group: &str, data: &Path) {
    let code = server.enroll_code(group).await.expect("code");
    let link = sotay_server::admin::enroll_link(&server.url(), &code);
    ok_json(&cli(data, &["--json", "enroll", "--link", &link]));
}

async fn photos_reach_the_server_once(backend: Backend) {
    let Some(server) = TestServer::start(backend, Default::default())
        .await
        .expect("server")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("device");
    enrolled_cli(&server, "k02-t04", &data).await;
    let photo = camera_photo(dir.path());
    let photo = photo.to_str().expect("path");

    let first = ok_json(&cli(
        &data,
        &[
            "--json",
            "tip",
            "add",
            "--category",
            "fraud",
            "--text",
            "Tin nhắn giả danh công an yêu cầu chuyển tiền, ảnh chụp màn hình kèm theo",
            "--location",
            "Ngõ 3 đường Lê Lợi",
            "--photo",
            photo,
        ],
    ));
    // A second tip shows the same screenshot.
    let second = ok_json(&cli(
        &data,
        &[
            "--json",
            "tip",
            "add",
            "--category",
            "fraud",
            "--text",
            "Cùng kiểu tin nhắn lừa đảo, gửi tới nhà bên cạnh",
            "--location",
            "Ngõ 5 đường Lê Lợi",
            "--photo",
            photo,
        ],
    ));
    let id = first["id"].as_str().expect("id").to_owned();
    let shown = ok_json(&cli(&data, &["--json", "show", &id]));
    let listed = &shown["body"]["photos"][0];
    let sha = listed["sha256"].as_str().expect("sha256").to_owned();
    assert_eq!(
        (listed["width"].as_u64(), listed["height"].as_u64()),
        (Some(1200), Some(1600)),
        "{shown}"
    );
    assert!(listed["bytes"].as_u64().expect("bytes") > 1000);
    let second = ok_json(&cli(
        &data,
        &["--json", "show", second["id"].as_str().expect("id")],
    ));
    assert_eq!(
        second["body"]["photos"][0]["sha256"].as_str(),
        Some(sha.as_str())
    );

    // And an inspection shows it on its failed item 6.
    let household = ok_json(&cli(
        &data,
        &[
            "--json",
            "household",
            "add",
            "--address",
            "Số 9 ngõ 3",
            "--head",
            "Phạm Thị Hoa",
            "--residents",
            "4",
        ],
    ));
    let hh = household["id"].as_str().expect("household id").to_owned();
    let deadline = (chrono::Utc::now() + chrono::TimeDelta::days(14))
        .format("%Y-%m-%d")
        .to_string();
    let inspection = ok_json(&cli(
        &data,
        &[
            "--json",
            "inspect",
            "--household",
            &hh,
            "--answers",
            "all=pass,6=fail:xe sạc ở lối thoát",
            "--violation",
            &format!("6|Dời chỗ sạc xe ra khỏi lối thoát|{deadline}"),
            "--photo",
            &format!("6:{photo}"),
        ],
    ));
    let refused = cli(
        &data,
        &[
            "--json",
            "inspect",
            "--household",
            &hh,
            "--answers",
            "all=pass",
            "--photo",
            &format!("3:{photo}"),
        ],
    );
    assert_eq!(
        refused.status.code(),
        Some(2),
        "a photo on an item that passed"
    );

    let synced = ok_json(&cli(&data, &["--json", "sync"]));
    assert_eq!(synced["report"]["accepted"], 3, "{synced}");
    assert_eq!(
        synced["report"]["photos_sent"], 1,
        "one photo, sent once: {synced}"
    );
    assert_eq!(synced["report"]["photos_pending"], 0);

    let store = server.store();
    let held = store
        .photos()
        .read(&sha)
        .await
        .expect("read")
        .expect("held");
    assert_eq!(sotay_server::store::photos::sha256_hex(&held), sha);
    assert_eq!(held.len() as u64, listed["bytes"].as_u64().expect("bytes"));
    let img = image::load_from_memory(&held).expect("a JPEG");
    assert_eq!((img.width(), img.height()), (1200, 1600), "upright");
    assert!(!held.windows(6).any(|w| w == b"Exif\0\0"), "no EXIF");
    let listing = store.photo_reports(&sha).await.expect("refs");
    assert_eq!(
        listing.len(),
        3,
        "both tips and the inspection list it: {listing:?}"
    );
    // An officer sees it on the household's page, under its item.
    sotay_server::dashboard::accounts::add_officer(
        store,
        sotay_server::dashboard::accounts::NewOfficer::own(
            "can-bo",
            "mật-khẩu-đủ-dài",
            sotay_server::dashboard::accounts::Role::Officer,
        ),
        sotay_server::store::now_micros(),
        None,
    )
    .await
    .expect("officer");
    let officer = sotay_e2e::Dashboard::login(&server.url(), "can-bo", "mật-khẩu-đủ-dài").await;
    let (status, html) = officer
        .get(&format!("/dashboard/fire/household/k02-t04/{hh}"))
        .await;
    assert_eq!(status, 200);
    let inspection_id = inspection["id"].as_str().expect("id");
    assert!(
        html.contains(&format!("/dashboard/photos/{inspection_id}/{sha}")),
        "{html}"
    );
    assert_eq!(store.photos().list().await.expect("list").len(), 1);

    if let sotay_server::testing::TestDb::Sqlite(dir) = server.db() {
        // The backup listing names the photo and the reports that list it.
        let db = dir.0.join("server.sqlite3");
        let out = std::process::Command::new(workspace_binary("sotay-server"))
            .arg("--db")
            .arg(&db)
            .args(["admin", "photos"])
            .env_remove("SOTAY_DB")
            .output()
            .expect("sotay-server");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "sha256\tbytes\treports");
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[1].starts_with(&format!("{sha}\t{}\t", held.len())),
            "{text}"
        );
        assert_eq!(
            lines[1].rsplit('\t').next().map(|r| r.split(',').count()),
            Some(3)
        );
        // And the export says, per report, which of its photos are here.
        let out = std::process::Command::new(workspace_binary("sotay-server"))
            .arg("--db")
            .arg(&db)
            .args(["admin", "export", "--format", "json"])
            .env_remove("SOTAY_DB")
            .output()
            .expect("sotay-server");
        let rows: Value = serde_json::from_slice(&out.stdout).expect("json");
        let first = rows
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["id"] == id.as_str())
            .expect("the first tip");
        assert_eq!(first["photos_stored"], serde_json::json!([sha]), "{first}");
        assert_eq!(first["photos_waiting"], serde_json::json!([]));
        // The folder beside the database is the server's alone.
        use std::os::unix::fs::PermissionsExt;
        let folder = dir.0.join("server.sqlite3.photos");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700);
        let file = folder.join(&sha[..2]).join(format!("{sha}.jpg"));
        assert_eq!(mode(&file), 0o600);
        assert_eq!(
            std::fs::read(&file).expect("raw"),
            held,
            "the raw file is the photo"
        );
        let small = folder.join(&sha[..2]).join(format!("{sha}.thumb.jpg"));
        assert_eq!(mode(&small), 0o600);
        let small = image::load_from_memory(&std::fs::read(&small).expect("thumb")).expect("jpeg");
        assert_eq!(
            (small.width(), small.height()),
            (240, 320),
            "the dashboard's small copy"
        );
    }

    // Syncing again sends nothing more.
    let again = ok_json(&cli(&data, &["--json", "sync"]));
    assert_eq!(again["report"]["photos_sent"], 0);
    assert_eq!(store.photos().list().await.expect("list").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_reach_the_sqlite_server_once() {
    photos_reach_the_server_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_reach_the_postgres_server_once() {
    photos_reach_the_server_once(Backend::Postgres).await;
}

/// A server that takes smaller photos than this one: the tip still gets
/// its receipt, the photo waits with the server's reason, nothing loops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_over_the_limit_waits_and_its_report_does_not() {
    let server = TestServer::start(
        Backend::Sqlite,
        sotay_server::Config {
            photo_max_bytes: 10_000,
            ..Default::default()
        },
    )
    .await
    .expect("server")
    .expect("sqlite");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("device");
    enrolled_cli(&server, "k02-t05", &data).await;
    let photo = camera_photo(dir.path());
    let tip = ok_json(&cli(
        &data,
        &[
            "--json",
            "tip",
            "add",
            "--category",
            "fire-hazard",
            "--text",
            "Xe đạp điện sạc ngay lối thoát duy nhất của nhà trọ",
            "--location",
            "Nhà trọ số 9",
            "--photo",
            photo.to_str().expect("path"),
        ],
    ));
    let synced = ok_json(&cli(&data, &["--json", "sync"]));
    assert_eq!(synced["report"]["accepted"], 1, "{synced}");
    assert_eq!(synced["report"]["photos_sent"], 0);
    assert_eq!(synced["report"]["photos_pending"], 1);
    let id = tip["id"].as_str().expect("id");
    let shown = ok_json(&cli(&data, &["--json", "show", id]));
    assert_eq!(shown["status"], "sent", "the tip got its receipt: {shown}");
    let store = sotay_device::Store::open_dir(&data).expect("store");
    let queue = store.photo_queue().expect("queue");
    assert_eq!(queue.pending, 1);
}

/// The upload protocol as a client would break it, on a real server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_resumes_and_refuses_what_it_must() {
    use sotay_domain::wire::photo_upload::{LENGTH, OFFSET};
    let server = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
        .expect("sqlite");
    let (_, token) = server.enroll_device("k04-t02").await.expect("device");
    let (_, other) = server.enroll_device("k04-t03").await.expect("device");
    let dir = tempfile::tempdir().expect("tempdir");
    let original = std::fs::read(camera_photo(dir.path())).expect("photo");
    let taken = sotay_device::photo::normalize(&original).expect("taken in");
    let (jpeg, sha) = (taken.jpeg.clone(), taken.photo.sha256.clone());
    // A new connection for each request: an answer given before the body
    // was read (a refusal) closes its connection, and a pooled client could
    // pick that one up again.
    let fresh = reqwest::Client::new;
    let url = format!("{}/v1/photos/{sha}", server.url());
    let put = |token: &str, from: usize, to: usize| {
        fresh()
            .put(&url)
            .bearer_auth(token)
            .header(LENGTH, jpeg.len().to_string())
            .header(OFFSET, from.to_string())
            .body(jpeg[from..to].to_vec())
            .send()
    };
    let offset = |r: &reqwest::Response| -> u64 {
        r.headers()[OFFSET]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("number")
    };

    // No report lists it yet: refused, for every group.
    let r = put(&token, 0, jpeg.len()).await.expect("put");
    assert_eq!(r.status(), 403);
    assert_eq!(code_of(r).await, "photo-not-listed");

    // The tip listing it arrives first.
    push_tip_listing(
        &server,
        &token,
        "Ảnh chụp bếp ga rò rỉ cạnh ổ điện",
        &taken.photo,
    )
    .await;

    // Another group's device still may not send it.
    let r = put(&other, 0, jpeg.len()).await.expect("put");
    assert_eq!(r.status(), 403);

    // Half of it, then the connection ends: the half is kept.
    let half = jpeg.len() / 2;
    let r = put(&token, 0, half).await.expect("put");
    assert_eq!(r.status(), 202);
    assert_eq!(offset(&r), half as u64);
    let head = fresh()
        .head(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("head");
    assert_eq!((head.status().as_u16(), offset(&head)), (404, half as u64));
    // Bytes that do not start where the server's copy ends.
    let r = put(&token, 10, jpeg.len()).await.expect("put");
    assert_eq!(r.status(), 409);
    assert_eq!(offset(&r), half as u64);
    // The rest, from where it ended.
    let r = put(&token, half, jpeg.len()).await.expect("put");
    assert_eq!(r.status(), 200);
    let head = fresh()
        .head(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), 200);
    let held = server
        .store()
        .photos()
        .read(&sha)
        .await
        .expect("read")
        .expect("held");
    assert_eq!(held, jpeg, "exactly the photo");
    // Sent again: nothing changes.
    let r = put(&token, 0, jpeg.len()).await.expect("put");
    assert_eq!(r.status(), 200);
    assert_eq!(server.store().photos().list().await.expect("list").len(), 1);

    // A name that is not a hash; a length over the limit, said up front.
    let r = fresh()
        .put(format!("{}/v1/photos/..%2F..%2Fetc%2Fpasswd", server.url()))
        .bearer_auth(&token)
        .header(LENGTH, "10")
        .body("0123456789")
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 400);
    assert_eq!(code_of(r).await, "bad-photo-name");
    let r = fresh()
        .put(&url)
        .bearer_auth(&token)
        .header(
            LENGTH,
            (sotay_domain::photo::PHOTO_BYTES_MAX + 1).to_string(),
        )
        .body(vec![0u8; 16])
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 413);
    assert_eq!(code_of(r).await, "photo-too-large", "never a bare 413");
}

/// Eight uploads of one photo at once: none is a server error, and the
/// server ends with the photo whole, once, byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_uploads_of_one_photo_stores_it_once() {
    use sotay_domain::wire::photo_upload::{LENGTH, OFFSET};
    let server = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
        .expect("sqlite");
    let (_, token) = server.enroll_device("k04-t05").await.expect("device");
    let dir = tempfile::tempdir().expect("tempdir");
    let original = std::fs::read(camera_photo(dir.path())).expect("photo");
    let taken = sotay_device::photo::normalize(&original).expect("taken in");
    push_tip_listing(
        &server,
        &token,
        "Cùng một ảnh gửi tám lần một lúc",
        &taken.photo,
    )
    .await;
    let url = format!("{}/v1/photos/{}", server.url(), taken.photo.sha256);
    let statuses = futures_util::future::join_all((0..8).map(|_| {
        let (url, token, jpeg) = (url.clone(), token.clone(), taken.jpeg.clone());
        async move {
            reqwest::Client::new()
                .put(&url)
                .bearer_auth(&token)
                .header(LENGTH, jpeg.len().to_string())
                .header(OFFSET, "0")
                .body(jpeg)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    }))
    .await;
    for s in &statuses {
        let s = s.as_ref().expect("an answer");
        assert!(matches!(s, 200 | 202 | 409), "{statuses:?}");
    }
    assert!(
        statuses.iter().any(|s| matches!(s, Ok(200))),
        "{statuses:?}"
    );
    let held = server
        .store()
        .photos()
        .read(&taken.photo.sha256)
        .await
        .expect("read")
        .expect("held");
    assert_eq!(held, taken.jpeg);
    assert_eq!(server.store().photos().list().await.expect("list").len(), 1);
}

/// Bytes that do not hash to the name are discarded whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_that_do_not_match_the_name_are_discarded() {
    use sotay_domain::wire::photo_upload::{LENGTH, OFFSET};
    let server = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
        .expect("sqlite");
    let (_, token) = server.enroll_device("k04-t04").await.expect("device");
    let claimed = sotay_domain::photo::PhotoRef {
        sha256: "ab".repeat(32),
        bytes: 5000,
        width: 100,
        height: 100,
        mime: "image/jpeg".into(),
    };
    push_tip_listing(
        &server,
        &token,
        "Ảnh không khớp với mã băm của nó",
        &claimed,
    )
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/photos/{}", server.url(), claimed.sha256);
    let r = http
        .put(&url)
        .bearer_auth(&token)
        .header(LENGTH, "5000")
        .header(OFFSET, "0")
        .body(vec![7u8; 5000])
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 422);
    assert_eq!(code_of(r).await, "photo-hash-mismatch");
    let head = http
        .head(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), 404);
    assert_eq!(head.headers()[OFFSET], "0", "the copy was discarded");
    assert!(
        server
            .store()
            .photos()
            .list()
            .await
            .expect("list")
            .is_empty()
    );
}

/// Pushes, as the device with `token`, a tip listing `photo`.
async fn push_tip_listing(
    server: &TestServer,
    token: &str,
    text: &str,
    photo: &sotay_domain::photo::PhotoRef,
) {
    let tip = sotay_domain::Tip {
        photos: vec![photo.clone()],
        ..sotay_e2e::tip_body(text)
    };
    let change = serde_json::json!({"report_id": uuid::Uuid::now_v7(), "device_seq": 1, "rev": 1,
        "kind": "tip", "payload": tip});
    let pushed: Value = reqwest::Client::new()
        .post(format!("{}/v1/sync/push", server.url()))
        .bearer_auth(token)
        .json(&serde_json::json!({"changes": [change]}))
        .send()
        .await
        .expect("push")
        .json()
        .await
        .expect("json");
    assert_eq!(pushed["results"][0]["outcome"], "accepted", "{pushed}");
}

async fn code_of(r: reqwest::Response) -> String {
    let v: Value = r.json().await.expect("a JSON error body");
    v["code"].as_str().expect("code").to_owned()
}
