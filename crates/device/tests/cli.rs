//! `sotay-cli` through the real binary on a real data folder.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

struct Device {
    dir: TempDir,
}

impl Device {
    fn new() -> Self {
        let d = Self {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        d.ok(&[
            "init", "--ward", "hht", "--block", "k01", "--group", "k01-t03",
        ]);
        d
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("sotay-cli").expect("binary");
        c.arg("--data").arg(self.dir.path()).args(args);
        c.env_remove("SOTAY_LANG");
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self
            .cmd(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).expect("utf-8")
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("json")
    }

    fn count(&self) -> usize {
        self.json(&["list", "--limit", "500"])
            .as_array()
            .map_or(0, Vec::len)
    }
}

#[test]
fn a_tip_is_saved_queued_and_listed() {
    let d = Device::new();
    let saved = d.json(&[
        "tip",
        "add",
        "--category",
        "drugs",
        "--text",
        "Nghi vấn mua bán ma túy ở hẻm 5",
        "--location",
        "hẻm 5 Lê Lợi",
        "--urgent",
        "--anonymous",
    ]);
    assert_eq!(saved["status"], "queued");
    assert_eq!(saved["rev"], 1);
    let list = d.json(&["list"]);
    let items = list.as_array().expect("array");
    assert_eq!(items.len(), 1);
    for key in ["id", "kind", "status", "rev"] {
        assert!(items[0].get(key).is_some(), "list item has {key}");
    }
    assert_eq!(items[0]["id"], saved["id"]);
    assert_eq!(items[0]["kind"], "tip");
    let id = saved["id"].as_str().expect("id");
    let shown = d.json(&["show", id]);
    assert_eq!(shown["body"]["urgency"], "urgent");
    assert_eq!(shown["body"]["source"]["informant"]["kind"], "anonymous");
}

#[test]
fn bad_input_names_the_field_and_writes_nothing() {
    let d = Device::new();
    d.cmd(&[
        "tip",
        "add",
        "--category",
        "drug",
        "--text",
        "Nghi vấn mua bán ma túy",
        "--no-location",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("invalid-input").and(predicate::str::contains("Loại tin")));
    d.cmd(&[
        "tip",
        "add",
        "--category",
        "drugs",
        "--text",
        "ngắn",
        "--no-location",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("Nội dung: cần ít nhất 10 ký tự"));
    d.cmd(&[
        "--lang",
        "en",
        "tip",
        "add",
        "--category",
        "drugs",
        "--text",
        "Nghi vấn mua bán ma túy",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("Location"));
    d.cmd(&[
        "count",
        "--date",
        "2026-11-20",
        "--residents",
        "-3",
        "--collected",
        "0",
        "--activated",
        "0",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("Số nhân khẩu"));
    d.cmd(&[
        "count",
        "--date",
        "2026-11-20",
        "--residents",
        "10",
        "--collected",
        "5",
        "--activated",
        "6",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("kích hoạt"));
    let out = d
        .cmd(&[
            "--json",
            "count",
            "--date",
            "2026-11-20",
            "--residents",
            "10",
            "--collected",
            "11",
            "--activated",
            "0",
        ])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err: Value = serde_json::from_slice(&out).expect("json error");
    assert_eq!(err["error"]["code"], "invalid-input");
    assert_eq!(err["error"]["fields"][0]["field"], "collected");
    assert_eq!(err["error"]["fields"][0]["code"], "exceeds-residents");
    assert_eq!(d.count(), 0, "nothing was written");
}

#[test]
fn drafts_are_sent_later() {
    let d = Device::new();
    let draft = d.json(&[
        "tip",
        "add",
        "--category",
        "theft",
        "--text",
        "Mất xe",
        "--no-location",
        "--draft",
    ]);
    assert_eq!(draft["status"], "draft");
    let id = draft["id"].as_str().expect("id");
    d.cmd(&["send", id]).assert().code(2);
    d.json(&[
        "tip",
        "add",
        "--id",
        id,
        "--category",
        "theft",
        "--text",
        "Mất trộm xe máy đêm qua",
        "--no-location",
        "--draft",
    ]);
    let sent = d.json(&["send", id]);
    assert_eq!(sent["status"], "queued");
    assert_eq!(d.json(&["outbox"]).as_array().map(Vec::len), Some(1));
}

#[test]
fn households_import_inspect_and_search() {
    let d = Device::new();
    let csv = d.dir.path().join("ho.csv");
    std::fs::write(
        &csv,
        "Địa chỉ,Chủ hộ,Số nhân khẩu,Số điện thoại,Kinh doanh\n\
         12 đường Lê Lợi,Nguyễn Văn An,4,0912 345 678,x\n\
         5 hẻm 3 Nguyễn Du,Trần Thị Bình,2,,\n",
    )
    .expect("csv");
    let bad = d.dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "Địa chỉ,Chủ hộ,Số nhân khẩu\n1 Lê Lợi,An,3\n2 Lê Lợi,Bình,ba\n",
    )
    .expect("csv");
    d.cmd(&["household", "import", bad.to_str().expect("path")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Dòng 3"));
    assert_eq!(
        d.json(&["household", "list"]).as_array().map(Vec::len),
        Some(0)
    );

    assert_eq!(
        d.json(&["household", "import", csv.to_str().expect("path")])["imported"],
        2
    );
    let found = d.json(&["household", "list", "--search", "le loi"]);
    let h = found[0]["id"].as_str().expect("household id").to_owned();

    let r = d.json(&[
        "inspect",
        "--household",
        &h,
        "--answers",
        "all=pass,6=fail:bình hết hạn,11=fail",
        "--violation",
        "6|Thay bình chữa cháy mới|2099-12-30",
        "--violation",
        "11|Ngăn cách khu kinh doanh với chỗ ở|2099-12-30",
        "--ack-by",
        "Chị Lan",
    ]);
    assert_eq!(r["result"], "fail");
    d.cmd(&[
        "inspect",
        "--household",
        &h,
        "--answers",
        "all=pass,13=pass",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("Mục kiểm tra"));

    let hits = d.json(&["search", "NGUYEN van"]);
    let hits = hits.as_array().expect("array");
    assert!(hits.iter().any(|x| x["type"] == "household"));
    assert!(
        hits.iter()
            .any(|x| x["type"] == "report" && x["kind"] == "inspection")
    );
}

#[test]
fn counts_revise_instead_of_doubling() {
    let d = Device::new();
    let a = d.json(&[
        "count",
        "--date",
        "2026-11-20",
        "--residents",
        "110",
        "--collected",
        "80",
        "--activated",
        "40",
    ]);
    let b = d.json(&[
        "count",
        "--date",
        "2026-11-20",
        "--residents",
        "110",
        "--collected",
        "82",
        "--activated",
        "41",
        "--helped",
        "3",
    ]);
    assert_eq!(a["id"], b["id"]);
    assert_eq!(d.count(), 1);
    let shown = d.json(&["show", a["id"].as_str().expect("id")]);
    assert_eq!(shown["body"]["collected"], 82);
}

#[test]
fn export_json_and_csv() {
    let d = Device::new();
    d.ok(&[
        "tip",
        "add",
        "--category",
        "fraud",
        "--text",
        "Lừa đảo qua điện thoại, giả công an",
        "--no-location",
    ]);
    d.ok(&[
        "count",
        "--date",
        "2026-11-20",
        "--residents",
        "110",
        "--collected",
        "80",
        "--activated",
        "40",
    ]);
    let all: Value = serde_json::from_str(&d.ok(&["export", "--json"])).expect("json");
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    let csv = d.ok(&["export", "--csv"]);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(rows.records().count(), 2);
    assert!(csv.contains("giả công an"));
}

#[test]
fn a_device_without_a_group_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    Command::cargo_bin("sotay-cli")
        .expect("binary")
        .arg("--data")
        .arg(dir.path())
        .args([
            "tip",
            "add",
            "--category",
            "drugs",
            "--text",
            "Nghi vấn mua bán ma túy",
            "--no-location",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not-initialized"));
}
