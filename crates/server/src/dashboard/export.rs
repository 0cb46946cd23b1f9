//! Exports of every dashboard table as CSV (UTF-8 with a byte-order mark,
//! which is what makes Excel read Vietnamese correctly) and XLSX, with
//! Vietnamese headers.

use super::data::{self, TipFilter};
use super::pages::{fire_data, fmt_time, id06_data};
use super::{Officer, PageError, no_store};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use sotay_domain::{Labelled, Lang};

/// A table to export: headers and rows of text.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// CSV with a UTF-8 BOM and CRLF line ends.
/// A CSV cell a spreadsheet would run as a formula (text from a device
/// starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
/// leading apostrophe, as OWASP advises, so it shows as text; a real number
/// ("-3", "+84") is left as it is.
pub fn formula_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.trim().parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

pub fn to_csv(table: &Table) -> Result<Vec<u8>, PageError> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        let fail = |e: csv::Error| PageError::Internal(e.to_string());
        w.write_record(&table.headers).map_err(fail)?;
        for r in &table.rows {
            w.write_record(r.iter().map(|c| formula_safe(c).into_owned()))
                .map_err(fail)?;
        }
        w.flush().map_err(|e| PageError::Internal(e.to_string()))?;
    }
    Ok(out)
}

/// One worksheet; numbers are written as numbers so sums work in Excel.
pub fn to_xlsx(table: &Table, sheet: &str) -> Result<Vec<u8>, PageError> {
    let fail = |e: rust_xlsxwriter::XlsxError| PageError::Internal(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let ws = book.add_worksheet();
    ws.set_name(sheet).map_err(fail)?;
    for (c, h) in table.headers.iter().enumerate() {
        let c = u16::try_from(c).map_err(|e| PageError::Internal(e.to_string()))?;
        ws.write_string_with_format(0, c, *h, &bold).map_err(fail)?;
        ws.set_column_width(c, 18).map_err(fail)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|e| PageError::Internal(e.to_string()))?;
        for (c, v) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(|e| PageError::Internal(e.to_string()))?;
            match v.parse::<f64>() {
                Ok(n) if !v.is_empty() && !v.starts_with('0') || v == "0" => {
                    ws.write_number(r, c, n).map_err(fail)?;
                }
                _ => {
                    ws.write_string(r, c, v).map_err(fail)?;
                }
            }
        }
    }
    book.save_to_buffer().map_err(fail)
}

/// One cell of a sheet written by [`workbook`].
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// Bold text: a heading.
    Heading(String),
}

/// A workbook of named sheets, each rows of cells.
pub fn workbook(sheets: &[(String, Vec<Vec<Cell>>)]) -> Result<Vec<u8>, PageError> {
    let fail = |e: rust_xlsxwriter::XlsxError| PageError::Internal(e.to_string());
    let too_big = |e: std::num::TryFromIntError| PageError::Internal(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (name, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(name).map_err(fail)?;
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        for c in 0..columns {
            ws.set_column_width(
                u16::try_from(c).map_err(too_big)?,
                if c == 0 { 28 } else { 16 },
            )
            .map_err(fail)?;
        }
        for (r, row) in rows.iter().enumerate() {
            let r = u32::try_from(r).map_err(too_big)?;
            for (c, cell) in row.iter().enumerate() {
                let c = u16::try_from(c).map_err(too_big)?;
                match cell {
                    Cell::Text(t) => ws.write_string(r, c, t).map(|_| ()),
                    Cell::Heading(t) => ws.write_string_with_format(r, c, t, &bold).map(|_| ()),
                    Cell::Number(n) => ws.write_number(r, c, *n).map(|_| ()),
                }
                .map_err(fail)?;
            }
        }
    }
    book.save_to_buffer().map_err(fail)
}

/// An Excel sheet name from a title: at most 31 characters, none of
/// `[]:*?/\`, unique among `taken` (numbered).
fn sheet_name(n: usize, title: &str) -> String {
    let clean: String = title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { ' ' } else { c })
        .collect();
    let name = format!("{n}. {}", clean.trim());
    // Excel also refuses a name that ends with an apostrophe.
    name.chars()
        .take(31)
        .collect::<String>()
        .trim_end()
        .trim_end_matches('\'')
        .to_owned()
}

/// The weekly report of campaigns (the dashboard's "Báo cáo tuần"): a
/// sheet per campaign, in Vietnamese, with the campaign's figures at the
/// end of the week (or of the campaign) and its groups ranked, then its
/// blocks; a single sheet saying so when no campaign ran that week.
pub fn weekly_workbook(
    reports: &[crate::campaigns::CampaignReport],
    week_start: chrono::NaiveDate,
    week_end: chrono::NaiveDate,
) -> Result<Vec<u8>, PageError> {
    use sotay_domain::labels::{campaign_goal, campaign_units};
    let l = Lang::Vi;
    let day = |d: chrono::NaiveDate| d.format("%d/%m/%Y").to_string();
    let t = |s: &str| Cell::Text(s.to_owned());
    let h = |s: &str| Cell::Heading(s.to_owned());
    let n = |v: f64| Cell::Number(v);
    let week = format!("{} – {}", day(week_start), day(week_end));
    if reports.is_empty() {
        return workbook(&[(
            "Báo cáo tuần".to_owned(),
            vec![
                vec![h("Tuần"), t(&week)],
                vec![t("Không có đợt cao điểm nào diễn ra trong tuần.")],
            ],
        )]);
    }
    let mut sheets = Vec::new();
    for (i, r) in reports.iter().enumerate() {
        let c = r.campaign();
        let (count_word, of_word) = c.kind().map_or(("Đã làm", "Trên tổng"), |k| {
            let (a, b) = campaign_units(k);
            (a.vi, b.vi)
        });
        let kind = c.kind().map_or("?", |k| k.label().get(l));
        let yes_no = |reached: bool| if reached { "Đạt" } else { "Chưa đạt" };
        let last = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "chưa có".to_owned(), day);
        let mut rows = vec![
            vec![h("Đợt"), t(&c.title)],
            vec![h("Loại"), t(kind)],
            vec![
                h("Thời gian"),
                t(&format!("{} – {}", day(c.starts_on), day(c.ends_on))),
            ],
            vec![h("Chỉ tiêu"), t(&campaign_goal(&c.goal, l))],
            vec![h("Áp dụng cho"), t(&r.row.audience)],
            vec![h("Tuần"), t(&week)],
            vec![h("Số liệu đến hết ngày"), t(&day(r.as_of))],
            vec![
                h("Toàn đợt"),
                n(r.total.count as f64),
                n(r.total.of as f64),
                n(r.total.share),
                n(r.week_gain as f64),
                n(r.total.left as f64),
                t(yes_no(r.total.reached)),
            ],
            vec![],
            vec![
                h("Hạng"),
                h("Khối"),
                h("Tổ"),
                h(count_word),
                h(of_word),
                h("Tỉ lệ (%)"),
                h("Tăng trong tuần"),
                h("Còn thiếu"),
                h("Đạt chỉ tiêu"),
                h("Tiến triển gần nhất"),
            ],
        ];
        // One line a unit: rank, (block,) name, then its figures.
        let line = |rank: usize, u: &crate::campaigns::UnitLine, group: bool| {
            let mut cells = vec![
                n((rank + 1) as f64),
                t(if group { &u.block } else { &u.label }),
            ];
            if group {
                cells.push(t(&u.label));
            }
            cells.extend([
                n(u.standing.count as f64),
                n(u.standing.of as f64),
                n(u.standing.share),
                n(u.week_gain as f64),
                n(u.standing.left as f64),
                t(yes_no(u.standing.reached)),
            ]);
            if group {
                cells.push(t(&last(u.last_gain)));
            }
            cells
        };
        rows.extend(
            r.groups
                .iter()
                .enumerate()
                .map(|(rank, g)| line(rank, g, true)),
        );
        rows.push(vec![]);
        rows.push(vec![
            h("Hạng"),
            h("Khối"),
            h(count_word),
            h(of_word),
            h("Tỉ lệ (%)"),
            h("Tăng trong tuần"),
            h("Còn thiếu"),
            h("Đạt chỉ tiêu"),
        ]);
        rows.extend(
            r.blocks
                .iter()
                .enumerate()
                .map(|(rank, b)| line(rank, b, false)),
        );
        sheets.push((sheet_name(i + 1, &c.title), rows));
    }
    workbook(&sheets)
}

pub async fn tips_table(
    state: &AppState,
    scope: &crate::store::Scope,
    filter: &TipFilter,
) -> Result<Table, PageError> {
    let l = Lang::Vi;
    let groups = data::groups(&state.store, scope).await?;
    let rows = data::all_tips(&state.store, &groups, filter).await?;
    Ok(Table {
        headers: vec![
            "Mã tin",
            "Nhận lúc",
            "Khối",
            "Tổ",
            "Loại",
            "Mức độ",
            "Nội dung",
            "Địa điểm",
            "Trạng thái",
            "Ghi chú của phường",
            "Bản",
            "Ảnh",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    fmt_time(r.received_at),
                    r.block.clone(),
                    r.group.clone(),
                    r.category().map_or("", |c| c.label().get(l)).to_owned(),
                    r.urgency().label().get(l).to_owned(),
                    r.tip
                        .as_ref()
                        .map_or_else(String::new, |t| t.description.clone()),
                    r.tip
                        .as_ref()
                        .and_then(|t| t.location.text.clone())
                        .unwrap_or_default(),
                    r.status.map_or("Mới", |s| s.label().get(l)).to_owned(),
                    r.note.clone().unwrap_or_default(),
                    r.rev.to_string(),
                    // Photos by id and link, never their bytes.
                    r.tip
                        .as_ref()
                        .map(|t| {
                            t.photos
                                .iter()
                                .map(|p| {
                                    format!(
                                        "{} {}",
                                        p.sha256,
                                        super::photos::photo_path(r.id, &p.sha256)
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join("\n")
                        })
                        .unwrap_or_default(),
                ]
            })
            .collect(),
    })
}

async fn table_named(
    state: &AppState,
    o: &Officer,
    name: &str,
    filter: &TipFilter,
) -> Result<Table, PageError> {
    match name {
        "tips" => tips_table(state, &o.scope(), filter).await,
        "fire" => {
            let r = fire_data(state, &o.scope()).await?;
            Ok(Table {
                headers: vec![
                    "Khối",
                    "Tổ",
                    "Hộ đã kiểm tra",
                    "Hộ đăng ký",
                    "Hộ đạt",
                    "Vi phạm quá hạn",
                    "Cần tái kiểm tra",
                ],
                rows: r
                    .groups
                    .iter()
                    .map(|(b, g, f)| {
                        vec![
                            b.clone(),
                            g.clone(),
                            f.inspected.to_string(),
                            f.registered.map_or_else(String::new, |r| r.to_string()),
                            f.passing.to_string(),
                            f.overdue_violations.to_string(),
                            f.reinspect_due.to_string(),
                        ]
                    })
                    .collect(),
            })
        }
        "id06" => {
            let r = id06_data(state, &o.scope()).await?;
            Ok(Table {
                headers: vec!["Khối", "Tổ", "Ngày", "Dân số", "Thu nhận", "Kích hoạt"],
                rows: r
                    .groups
                    .iter()
                    .map(|(b, g, d, f)| {
                        vec![
                            b.clone(),
                            g.clone(),
                            d.format("%Y-%m-%d").to_string(),
                            f.residents.to_string(),
                            f.collected.to_string(),
                            f.activated.to_string(),
                        ]
                    })
                    .collect(),
            })
        }
        "devices" => {
            o.require_admin()?;
            let groups = data::groups(&state.store, &o.scope()).await?;
            let devices = data::devices(&state.store, &groups, &o.scope()).await?;
            Ok(Table {
                headers: vec![
                    "Mã thiết bị",
                    "Khối",
                    "Tổ",
                    "Tên",
                    "Đăng ký lúc",
                    "Gửi dữ liệu lần cuối",
                    "Trạng thái",
                ],
                rows: devices
                    .iter()
                    .map(|d| {
                        vec![
                            d.id.0.to_string(),
                            d.block.clone(),
                            d.group.clone(),
                            d.name.clone(),
                            fmt_time(d.enrolled_at),
                            d.last_push.map_or_else(String::new, fmt_time),
                            if d.revoked {
                                "Đã thu hồi"
                            } else {
                                "Hoạt động"
                            }
                            .to_owned(),
                        ]
                    })
                    .collect(),
            })
        }
        "audit" => {
            o.require_admin()?;
            let rows = state.store.audit_log(&o.scope(), 100_000).await?;
            Ok(Table {
                headers: vec!["Lúc", "Cán bộ", "Thao tác", "Đối tượng", "Chi tiết"],
                rows: rows
                    .into_iter()
                    .map(|r| vec![fmt_time(r.at), r.username, r.action, r.target, r.detail])
                    .collect(),
            })
        }
        _ => Err(PageError::NotFound),
    }
}

/// `GET /dashboard/export/{table}.{csv|xlsx}`; the tips export takes the
/// inbox's filters.
pub async fn download(
    State(state): State<AppState>,
    o: Officer,
    Path(file): Path<String>,
    Query(filter): Query<TipFilter>,
) -> Result<Response, PageError> {
    let (name, ext) = file.rsplit_once('.').ok_or(PageError::NotFound)?;
    let table = table_named(&state, &o, name, &filter).await?;
    o.audit(
        &state,
        "export",
        &file,
        &format!("{} rows", table.rows.len()),
    )
    .await?;
    let (body, mime) = match ext {
        "csv" => (to_csv(&table)?, "text/csv; charset=utf-8"),
        "xlsx" => (
            to_xlsx(&table, name)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return Err(PageError::NotFound),
    };
    let stamp = chrono::Utc::now().format("%Y%m%d");
    Ok((
        no_store(),
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"sotay-{name}-{stamp}.{ext}\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_what_excel_takes() {
        assert_eq!(super::sheet_name(1, "Đợt [A]: 1/2?"), "1. Đợt  A   1 2");
        assert_eq!(
            super::sheet_name(2, "Tháng 'cao điểm'"),
            "2. Tháng 'cao điểm"
        );
        let long = super::sheet_name(10, &"x".repeat(60));
        assert_eq!(long.chars().count(), 31);
    }

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        use super::formula_safe;
        for (cell, want) in [
            (
                "=HYPERLINK(\"http://x\",\"bấm\")",
                "'=HYPERLINK(\"http://x\",\"bấm\")",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("-3", "-3"),
            ("+84", "+84"),
            ("12.5", "12.5"),
            ("Mất trộm xe máy", "Mất trộm xe máy"),
        ] {
            assert_eq!(formula_safe(cell), want, "{cell}");
        }
    }

    #[test]
    fn csv_has_bom_and_quotes() {
        let t = Table {
            headers: vec!["Tổ", "Nội dung"],
            rows: vec![vec!["k01-t01".into(), "a, \"b\"\nc".into()]],
        };
        let csv = to_csv(&t).expect("csv");
        assert_eq!(&csv[..3], &[0xEF, 0xBB, 0xBF]);
        let text = String::from_utf8(csv[3..].to_vec()).expect("utf-8");
        assert!(text.starts_with("Tổ,Nội dung\r\n"), "{text}");
        assert!(text.contains("\"a, \"\"b\"\"\nc\""), "{text}");
        let x = to_xlsx(&t, "tips").expect("xlsx");
        assert_eq!(&x[..2], b"PK");
    }
}
