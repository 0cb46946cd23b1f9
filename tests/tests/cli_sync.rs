//! `sotay-cli enroll`, `sync` and `status` through the real binary against
//! a real server.

use serde_json::Value;
use sotay_e2e::workspace_binary;
use sotay_server::testing::{Backend, TestServer};
use std::process::Output;

fn cli(data: &std::path::Path, args: &[&str]) -> Output {
    std::process::Command::new(workspace_binary("sotay-cli"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .expect("sotay-cli")
}

/// `out`, once it is known to have succeeded.
fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A real server on its embedded SQLite, and its database file (for
/// `sotay-server admin` commands run beside it).
async fn sqlite_server() -> (TestServer, std::path::PathBuf) {
    let server = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
        .expect("sqlite");
    let sotay_server::testing::TestDb::Sqlite(dir) = server.db() else {
        unreachable!("sqlite")
    };
    let db = dir.0.join("server.sqlite3");
    (server, db)
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("json on stdout")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_by_link_sync_and_status() {
    let server = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
        .expect("sqlite");
    let code = server.enroll_code("k03-t05").await.expect("code");
    let link = sotay_server::admin::enroll_link(&server.url(), &code);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();

    let out = cli(
        data,
        &[
            "--json",
            "enroll",
            "--link",
            &link,
            "--name",
            "Điện thoại tổ 5",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let enrolled = json(&out);
    assert_eq!(enrolled["place"]["group"]["code"], "k03-t05");
    let printed =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let store = sotay_device::Store::open_dir(data).expect("store");
    let token = store.enrollment().expect("e").expect("enrolled").token;
    drop(store);
    assert!(!printed.contains(&token), "the token is never printed");

    for text in [
        "Tụ tập đánh bạc ở bãi đất trống",
        "Xe máy lạ đỗ trước nhà số 9 ba ngày",
    ] {
        let out = cli(
            data,
            &[
                "tip",
                "add",
                "--category",
                "gambling",
                "--text",
                text,
                "--no-location",
            ],
        );
        assert!(out.status.success());
    }
    let status = json(&cli(data, &["--json", "status"]));
    for key in ["pending", "sent", "quarantined", "last_sync", "last_error"] {
        assert!(status.get(key).is_some(), "status has {key}: {status}");
    }
    assert_eq!(status["pending"], 2);

    let out = cli(data, &["--json", "sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = json(&cli(data, &["--json", "status"]));
    assert_eq!(
        (status["pending"].as_u64(), status["sent"].as_u64()),
        (Some(0), Some(2))
    );
    assert!(status["last_sync"].is_string());
    let listed = json(&cli(data, &["--json", "list"]));
    assert!(
        listed
            .as_array()
            .expect("array")
            .iter()
            .all(|r| r["receipt"]["server_seq"].is_i64())
    );

    // With the server gone, sync exits non-zero with the reason; nothing is lost.
    cli(
        data,
        &[
            "tip",
            "add",
            "--category",
            "theft",
            "--text",
            "Mất trộm điện thoại ở chợ",
            "--no-location",
        ],
    );
    drop(server);
    let out = cli(
        data,
        &["--json", "sync", "--timeout", "2", "--attempts", "1"],
    );
    assert!(!out.status.success());
    let err: Value = serde_json::from_slice(&out.stderr).expect("json error");
    assert_eq!(err["error"]["code"], "network");
    let status = json(&cli(data, &["--json", "status"]));
    assert_eq!(status["pending"], 1);
    assert_eq!(status["last_error"]["code"], "network");
}

fn server_admin(db: &std::path::Path, args: &[&str]) -> Output {
    std::process::Command::new(workspace_binary("sotay-server"))
        .arg("--db")
        .arg(db)
        .arg("admin")
        .args(args)
        .env_remove("SOTAY_DB")
        .output()
        .expect("sotay-server")
}

/// A checklist the ward publishes with `sotay-server admin template
/// publish` reaches the device at its next sync; the device's next
/// inspection is made against it (every item of it asked), and the server
/// accepts it and names its items on the dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_checklist_is_the_one_the_next_inspection_uses() {
    let (server, db) = sqlite_server().await;
    let mut v2 = sotay_domain::ChecklistTemplate::household_v2_example();
    let work = tempfile::tempdir().expect("tempdir");
    let file = work.path().join("v2.json");
    std::fs::write(&file, serde_json::to_vec(&v2).expect("json")).expect("write");
    let out = server_admin(&db, &["template", "publish", file.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("version 2"));
    // The same version with other text is refused, and says why.
    v2.title.vi = "Khác".into();
    std::fs::write(&file, serde_json::to_vec(&v2).expect("json")).expect("write");
    let out = server_admin(&db, &["template", "publish", file.to_str().expect("path")]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not newer"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed =
        String::from_utf8_lossy(&server_admin(&db, &["template", "list"]).stdout).into_owned();
    assert_eq!(listed.lines().count(), 3, "{listed}");

    let code = server.enroll_code("k03-t05").await.expect("code");
    let data = work.path().join("device");
    let out = cli(
        &data,
        &[
            "enroll",
            "--server",
            &server.url(),
            "--code",
            &code,
            "--name",
            "t",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&data, &["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(
        &data,
        &[
            "--json",
            "household",
            "add",
            "--address",
            "9 Lê Lợi",
            "--head",
            "An",
            "--residents",
            "3",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let household = json(&out)["id"].as_str().expect("id").to_owned();
    // Answering only version 1's items leaves the new one unanswered.
    let out = cli(
        &data,
        &[
            "--json",
            "inspect",
            "--household",
            &household,
            "--answers",
            "1=pass,2=pass,3=pass,4=pass,5=pass,6=pass,7=pass,8=pass,9=pass,10=pass,12=pass",
        ],
    );
    assert!(!out.status.success());
    let err: Value = serde_json::from_slice(&out.stderr).expect("json error");
    assert_eq!(
        err["error"]["fields"][0]["field"], "answers.lightning-rod",
        "{err}"
    );
    let out = cli(
        &data,
        &[
            "--json",
            "inspect",
            "--household",
            &household,
            "--answers",
            "all=pass",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&data, &["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = server
        .store()
        .export(
            &sotay_server::store::Scope::Province,
            Some(sotay_domain::ReportKind::Inspection),
        )
        .await
        .expect("export");
    assert_eq!(rows.len(), 1, "accepted");
    assert_eq!(rows[0].payload["template"]["version"], 2);
    assert_eq!(
        rows[0].payload["answers"].as_array().map(Vec::len),
        Some(13)
    );
}

/// The ward merges a group with `sotay-server admin place merge` while a
/// leader's phone holds a sent tip: at its next sync the phone belongs to
/// the group it merged into (`status --json` says so, with one line for
/// the leader), its tip counts there, and it keeps sending. Once the
/// server has a second ward, an admin command must name its ward.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_groups_phone_moves_with_it_and_is_told() {
    let (server, db) = sqlite_server().await;
    let code = server.enroll_code("k04-t01").await.expect("code");
    let link = sotay_server::admin::enroll_link(&server.url(), &code);
    let work = tempfile::tempdir().expect("tempdir");
    let data = work.path();
    ok(cli(
        data,
        &["enroll", "--link", &link, "--name", "Máy tổ 1"],
    ));
    let tip = |text: &str| {
        ok(cli(
            data,
            &[
                "tip",
                "add",
                "--category",
                "theft",
                "--text",
                text,
                "--no-location",
            ],
        ))
    };
    tip("Mất trộm xe đạp trước cổng trường");
    ok(cli(data, &["sync"]));
    let status = json(&cli(data, &["--json", "status"]));
    assert_eq!(
        (status["ward"].as_str(), status["group"].as_str()),
        (Some("hht"), Some("k04-t01"))
    );
    assert!(status.get("place_notice").is_none(), "{status}");

    let out = ok(server_admin(
        &db,
        &["place", "merge", "--into", "k04-t02", "k04-t01"],
    ));
    assert!(String::from_utf8_lossy(&out.stdout).contains("k04-t01 → k04-t02"));
    ok(cli(data, &["sync"]));
    let status = json(&cli(data, &["--json", "status"]));
    assert_eq!(status["group"], "k04-t02", "{status}");
    let notice = status["place_notice"].as_str().expect("a notice");
    assert!(
        notice.contains("k04-t01") && notice.contains("gộp vào"),
        "{notice}"
    );

    // The phone keeps sending, now as the merged group's.
    tip("Người lạ hỏi thăm nhà vắng chủ");
    ok(cli(data, &["sync"]));
    let status = json(&cli(data, &["--json", "status"]));
    assert_eq!(
        (status["pending"].as_u64(), status["sent"].as_u64()),
        (Some(0), Some(2))
    );
    let into = sotay_server::places::find_group(server.store(), "hht", "k04-t02")
        .await
        .expect("group");
    let rows = server
        .store()
        .export(&sotay_server::store::Scope::Province, None)
        .await
        .expect("export");
    assert_eq!(rows.iter().filter(|r| r.group == into.id).count(), 2);

    // A second ward: a command that names a place must now say which ward.
    let out = ok(server_admin(
        &db,
        &["ward", "add", "hnx", "--name", "Hưng Nguyên Xá"],
    ));
    let hnx_passphrase = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let register = db.with_file_name("register.csv");
    std::fs::write(
        &register,
        "Địa chỉ,Chủ hộ,Số nhân khẩu\n3 Lê Lợi,Hồ Văn Ba,3\n",
    )
    .expect("csv");
    let register = register.to_str().expect("path");
    for args in [
        &["place", "rename", "k04-t02", "--name", "Tổ Hai"][..],
        &["enroll", "--group", "k04-t02", "--no-qr"],
        &["households", "import", "--group", "k04-t02", register],
        &["enroll-codes", "list", "--ward", "xyz"],
    ] {
        let out = server_admin(&db, args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--ward") || err.contains("xyz"),
            "{args:?}: {err}"
        );
    }
    for args in [
        &["enroll", "--ward", "hht", "--group", "k04-t02", "--no-qr"][..],
        &[
            "households",
            "import",
            "--ward",
            "hht",
            "--group",
            "k04-t02",
            register,
        ],
    ] {
        ok(server_admin(&db, args));
    }
    ok(server_admin(
        &db,
        &[
            "place", "rename", "k04-t02", "--ward", "hht", "--name", "Tổ Hai",
        ],
    ));
    let out = ok(server_admin(&db, &["place", "history", "--ward", "hht"]));
    let history = String::from_utf8_lossy(&out.stdout);
    assert!(
        history.contains("merge") && history.contains("rename"),
        "{history}"
    );

    // The second ward merges into the first: its codes clash (k04), so the
    // command asks for --prefix; with it, and the ward's passphrase on
    // stdin, hnx is gone and commands need no --ward again.
    for args in [
        &[
            "place", "add", "--ward", "hnx", "--block", "k04", "--name", "Khối 4",
        ][..],
        &[
            "place", "add", "--ward", "hnx", "--block", "k04", "--group", "k04-t02", "--name",
            "Tổ 2",
        ],
    ] {
        ok(server_admin(&db, args));
    }
    let merge = |extra: &[&str]| {
        let mut child = std::process::Command::new(workspace_binary("sotay-server"))
            .arg("--db")
            .arg(&db)
            .args(["admin", "ward", "merge", "--into", "hht", "hnx"])
            .args(extra)
            .env_remove("SOTAY_DB")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sotay-server");
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{hnx_passphrase}").expect("passphrase");
        drop(stdin);
        child.wait_with_output().expect("merge")
    };
    let out = merge(&[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("k04-t02") && err.contains("--prefix"), "{err}");
    let out = ok(merge(&["--prefix"]));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("1 groups moved, 1 source keys"), "{said}");
    let out = ok(server_admin(&db, &["ward", "list"]));
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.lines()
            .any(|l| l.starts_with("hnx\t") && l.ends_with("\thht")),
        "{list}"
    );
    ok(server_admin(
        &db,
        &["place", "rename", "hnx-k04-t02", "--name", "Tổ Hai mới"],
    ));

    // A block splits by a `group,block` file; a split names its file.
    let groups = db.with_file_name("k05.csv");
    let mut csv = "group,block\n".to_owned();
    for g in 1..=13 {
        csv.push_str(&format!(
            "k05-t{g:02},{}\n",
            if g <= 6 { "k23" } else { "k24" }
        ));
    }
    std::fs::write(&groups, csv).expect("csv");
    let split = [
        "place",
        "split",
        "k05",
        "--into",
        "k23=Khối 23",
        "--into",
        "k24=Khối 24",
    ];
    assert!(!server_admin(&db, &split).status.success());
    let mut args = split.to_vec();
    args.extend(["--groups", groups.to_str().expect("path")]);
    let out = ok(server_admin(&db, &args));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("split block: k05 → k23, k24; 13 groups told"),
        "{said}"
    );
}

/// `sotay-server admin announce` to one block; a phone of that block and
/// one of another sync with the real `sotay-cli`: only the first lists it
/// (`announcements --json`), marks it read (`announcement read ID`), and
/// its next sync carries the receipt to the server, which lists it read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_is_listed_read_and_the_ward_learns_it() {
    let (server, db) = sqlite_server().await;
    let phones = tempfile::tempdir().expect("tempdir");
    let mut data = Vec::new();
    for group in ["k02-t03", "k05-t01"] {
        let code = server.enroll_code(group).await.expect("code");
        let dir = phones.path().join(group);
        ok(cli(
            &dir,
            &[
                "enroll",
                "--server",
                &server.url(),
                "--code",
                &code,
                "--name",
                group,
            ],
        ));
        data.push(dir);
    }
    let out = ok(server_admin(
        &db,
        &[
            "announce",
            "--title",
            "Truy tìm đối tượng trộm xe",
            "--text",
            "Ai thấy xe Wave màu đỏ biển 37 báo ngay cho công an phường.",
            "--urgent",
            "--to",
            "block:k02",
        ],
    ));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("to 13 groups of ward hht"), "{said}");
    for d in &data {
        ok(cli(d, &["sync"]));
    }
    let listed = json(&ok(cli(&data[0], &["announcements", "--json"])));
    let list = listed.as_array().expect("an array");
    assert_eq!(list.len(), 1, "{listed}");
    assert_eq!(list[0]["title"], "Truy tìm đối tượng trộm xe");
    assert_eq!(list[0]["urgent"], true);
    assert_eq!(list[0]["read"], false);
    let id = list[0]["id"].as_str().expect("id").to_owned();
    let other = json(&ok(cli(&data[1], &["announcements", "--json"])));
    assert_eq!(other.as_array().map(Vec::len), Some(0), "not block k02");
    // A wrong id is refused with its code; the real one is marked read.
    let out = cli(
        &data[0],
        &[
            "--json",
            "announcement",
            "read",
            &uuid::Uuid::now_v7().to_string(),
        ],
    );
    assert!(!out.status.success());
    ok(cli(&data[0], &["announcement", "read", &id]));
    let listed = json(&ok(cli(&data[0], &["announcements", "--json"])));
    assert_eq!(listed[0]["read"], true);
    ok(cli(&data[0], &["sync"]));
    let readers = server
        .store()
        .announcement_readers(&id)
        .await
        .expect("readers");
    assert_eq!(readers.len(), 1);
    assert!(
        readers[0].read_at.is_some(),
        "the receipt reached the server"
    );
    let out = ok(server_admin(&db, &["announcements"]));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&id) && l.contains("\ttrue\t1\t1\tblock:k02\t")),
        "{table}"
    );
}

/// `sotay-server admin campaign add` sets a fire-safety campaign over one
/// group's homes with a business; two phones of that group sync with the
/// real `sotay-cli`. One inspects a home: its `campaigns --json` counts it
/// at once, offline; after both sync, the other's list counts it too and
/// no longer asks for that home. `admin campaigns` has the ward's figures;
/// `admin campaign cancel` takes it off both phones. Bad commands are
/// refused with the rule they broke, nothing set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_reaches_both_phones_of_a_group_and_counts_each_inspection_once() {
    let (server, db) = sqlite_server().await;
    let register = db.with_file_name("ho.csv");
    std::fs::write(
        &register,
        "Địa chỉ,Chủ hộ,Số nhân khẩu,Kinh doanh\n\
         12 Lê Lợi,Hồ Văn Ba,3,có\n\
         2 Lê Lợi,Lê Thị Hai,4,có\n\
         7 Lê Lợi,Trần Bảy,2,không\n\
         5 Lê Lợi,Ngô Năm,5,có\n",
    )
    .expect("csv");
    ok(server_admin(
        &db,
        &[
            "households",
            "import",
            "--group",
            "k06-t01",
            register.to_str().expect("path"),
        ],
    ));
    let phones = tempfile::tempdir().expect("tempdir");
    let mut data = Vec::new();
    for name in ["a", "b"] {
        let code = server.enroll_code("k06-t01").await.expect("code");
        let dir = phones.path().join(name);
        ok(cli(
            &dir,
            &[
                "enroll",
                "--server",
                &server.url(),
                "--code",
                &code,
                "--name",
                name,
            ],
        ));
        data.push(dir);
    }
    let today = sotay_domain::vietnam_date(chrono::Utc::now());
    let (from, to) = (
        (today - chrono::TimeDelta::days(1)).to_string(),
        (today + chrono::TimeDelta::days(7)).to_string(),
    );
    let title = "Kiểm tra PCCC hộ kinh doanh trước Tết";
    // Refused: households for a tip campaign; an end before the start.
    let out = server_admin(
        &db,
        &[
            "campaign",
            "add",
            "--title",
            title,
            "--kind",
            "tips",
            "--from",
            &from,
            "--to",
            &to,
            "--target",
            "2",
            "--households",
            "business",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--households"));
    let out = server_admin(
        &db,
        &[
            "campaign",
            "add",
            "--title",
            title,
            "--kind",
            "fire-safety",
            "--from",
            &to,
            "--to",
            &from,
            "--target",
            "100",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("End date: cannot be before the start"),
        "{err}"
    );
    let out = ok(server_admin(
        &db,
        &[
            "campaign",
            "add",
            "--title",
            title,
            "--kind",
            "fire-safety",
            "--from",
            &from,
            "--to",
            &to,
            "--target",
            "100",
            "--scope",
            "group:k06-t01",
            "--households",
            "business",
        ],
    ));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("for 1 groups of ward hht"), "{said}");

    for d in &data {
        ok(cli(d, &["sync"]));
    }
    let listed = json(&ok(cli(&data[0], &["campaigns", "--json"])));
    let list = listed.as_array().expect("an array");
    assert_eq!(list.len(), 1, "{listed}");
    let c = &list[0];
    assert_eq!(c["title"], title);
    assert_eq!(c["kind"], "fire-safety");
    assert_eq!(c["target"], 100);
    assert_eq!(c["done"], 0.0);
    assert_eq!(c["days_left"], 7);
    let id = c["id"].as_str().expect("id").to_owned();
    let remaining: Vec<&str> = c["remaining"]
        .as_array()
        .expect("remaining")
        .iter()
        .map(|h| h["address"].as_str().expect("address"))
        .collect();
    assert_eq!(
        remaining,
        ["2 Lê Lợi", "5 Lê Lợi", "12 Lê Lợi"],
        "nearest first by address"
    );
    let first = c["remaining"][0]["id"].as_str().expect("id").to_owned();

    // Phone A inspects "2 Lê Lợi": counted at once, before any sync.
    ok(cli(
        &data[0],
        &["inspect", "--household", &first, "--answers", "all=pass"],
    ));
    let mine = json(&ok(cli(&data[0], &["campaigns", "--json"])));
    assert_eq!(
        (mine[0]["count"].as_u64(), mine[0]["of"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(mine[0]["done"], 33.3);
    assert_eq!(mine[0]["left"], 2);
    assert_eq!(mine[0]["remaining"].as_array().map(Vec::len), Some(2));
    let theirs = json(&ok(cli(&data[1], &["campaigns", "--json"])));
    assert_eq!(theirs[0]["count"], 0, "B has not heard yet");

    ok(cli(&data[0], &["sync"]));
    ok(cli(&data[1], &["sync"]));
    let theirs = json(&ok(cli(&data[1], &["campaigns", "--json"])));
    assert_eq!(theirs[0]["count"], 1, "A's inspection, through the server");
    let left: Vec<&str> = theirs[0]["remaining"]
        .as_array()
        .expect("remaining")
        .iter()
        .map(|h| h["address"].as_str().expect("address"))
        .collect();
    assert_eq!(left, ["5 Lê Lợi", "12 Lê Lợi"]);
    let mine = json(&ok(cli(&data[0], &["campaigns", "--json"])));
    assert_eq!(mine[0]["count"], 1, "sent, and counted once");
    let text = String::from_utf8_lossy(&ok(cli(&data[1], &["campaigns"])).stdout).into_owned();
    assert!(
        text.contains("1/3") && text.contains("còn 7 ngày") && text.contains("5 Lê Lợi"),
        "{text}"
    );

    let out = ok(server_admin(&db, &["campaigns"]));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.lines().any(|l| l.starts_with(&id)
            && l.contains("\tfire-safety\t")
            && l.contains("\t33.3\t1\t3\trunning\t")),
        "{table}"
    );
    ok(server_admin(&db, &["campaign", "cancel", &id]));
    let out = server_admin(&db, &["campaign", "cancel", &id]);
    assert!(!out.status.success(), "called off once");
    for d in &data {
        ok(cli(d, &["sync"]));
        let none = json(&ok(cli(d, &["campaigns", "--json"])));
        assert_eq!(none.as_array().map(Vec::len), Some(0), "{none}");
    }
}

/// `sotay-server admin announce --photo` with a camera's photo (12
/// megapixels on its side, EXIF orientation, GPS, camera make): a phone
/// of the block syncs with the real `sotay-cli`, lists the announcement
/// with its photo on the phone, and writes it out: upright, 1200×1600, no
/// metadata left (exiftool), its bytes the ones its name says. A phone of
/// another group cannot fetch it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcements_photo_reaches_the_phone_upright_and_without_metadata() {
    let (server, db) = sqlite_server().await;
    let work = tempfile::tempdir().expect("tempdir");
    let camera = work.path().join("camera.jpg");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/camera-photo.sh");
    let made = std::process::Command::new("bash")
        .arg(script)
        .arg(&camera)
        .output()
        .expect("bash");
    assert!(
        made.status.success(),
        "camera-photo.sh: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let phone = work.path().join("phone");
    let code = server.enroll_code("k02-t03").await.expect("code");
    ok(cli(
        &phone,
        &[
            "enroll",
            "--server",
            &server.url(),
            "--code",
            &code,
            "--name",
            "k02-t03",
        ],
    ));
    let out = ok(server_admin(
        &db,
        &[
            "announce",
            "--title",
            "Truy tìm đối tượng trộm xe",
            "--text",
            "Ai thấy người trong ảnh báo ngay.",
            "--to",
            "block:k02",
            "--photo",
            camera.to_str().expect("path"),
        ],
    ));
    assert!(String::from_utf8_lossy(&out.stdout).contains("to 13 groups"));
    let bad = server_admin(
        &db,
        &[
            "announce",
            "--title",
            "x",
            "--text",
            "y",
            "--photo",
            db.to_str().expect("path"),
        ],
    );
    assert!(!bad.status.success(), "a database file is no picture");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("photo"));

    ok(cli(&phone, &["sync"]));
    let listed = json(&ok(cli(&phone, &["announcements", "--json"])));
    let a = &listed[0];
    assert_eq!(a["photo_saved"], true, "{listed}");
    assert_eq!(
        (a["photo"]["width"].as_u64(), a["photo"]["height"].as_u64()),
        (Some(1200), Some(1600))
    );
    let id = a["id"].as_str().expect("id");
    let sha = a["photo"]["sha256"].as_str().expect("sha").to_owned();
    let copy = work.path().join("copy.jpg");
    ok(cli(
        &phone,
        &[
            "announcement",
            "photo",
            id,
            "--out",
            copy.to_str().expect("path"),
        ],
    ));
    let bytes = std::fs::read(&copy).expect("copy");
    assert_eq!(sotay_server::store::photos::sha256_hex(&bytes), sha);
    let tags = std::process::Command::new("exiftool")
        .args(["-j", "-a", "-G1", "-s"])
        .arg(&copy)
        .output()
        .expect("exiftool");
    let tags: Value = serde_json::from_slice(&tags.stdout).expect("json");
    for key in tags[0].as_object().expect("one file").keys() {
        assert!(
            key == "SourceFile"
                || ["System:", "File:", "ExifTool:", "Composite:", "JFIF:"]
                    .iter()
                    .any(|g| key.starts_with(g)),
            "metadata left in the announcement's photo: {key}"
        );
    }

    // Another group's phone: the photo is not there for it.
    let other = server.enroll_code("k05-t01").await.expect("code");
    let enrolled: Value = reqwest::Client::new()
        .post(format!("{}/v1/enroll", server.url()))
        .json(&serde_json::json!({"code": other, "device_name": "k05"}))
        .send()
        .await
        .expect("enroll")
        .json()
        .await
        .expect("json");
    let res = reqwest::Client::new()
        .get(format!("{}/v1/photos/{sha}", server.url()))
        .bearer_auth(enrolled["token"].as_str().expect("token"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), reqwest::StatusCode::NOT_FOUND);
}
