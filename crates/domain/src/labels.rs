//! Every user-facing text of the domain, in Vietnamese (the default) and
//! English, in one place.
//!
//! Keys follow the machine codes: `tip-category.drugs`, `status.queued`,
//! `rule.too-short`, `field.description`, `checklist.pccc-household.1.electrical`.
//! [`catalog`] lists them all, so the app's translation table can be built
//! from this file instead of being written twice.

use crate::inspection::{Answer, Applies, InspectionResult};
use crate::report::{ReportKind, ReportStatus};
use crate::tip::{TipCategory, Urgency};
use serde::{Deserialize, Serialize};

/// A display language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl std::str::FromStr for Lang {
    type Err = crate::validation::UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vi" => Ok(Lang::Vi),
            "en" => Ok(Lang::En),
            other => Err(crate::validation::UnknownCode {
                list: "Lang",
                value: other.to_owned(),
                allowed: vec!["vi", "en"],
            }),
        }
    }
}

/// One text in both languages, built into the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Label {
    pub vi: &'static str,
    pub en: &'static str,
}

impl Label {
    pub const fn new(vi: &'static str, en: &'static str) -> Self {
        Self { vi, en }
    }

    pub fn get(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Vi => self.vi,
            Lang::En => self.en,
        }
    }
}

/// One text in both languages that arrives as data (e.g. a checklist
/// template version sent by the ward).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Text {
    pub vi: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

impl From<Label> for Text {
    fn from(l: Label) -> Self {
        Self {
            vi: l.vi.to_owned(),
            en: l.en.to_owned(),
        }
    }
}

/// A value with a display label.
pub trait Labelled {
    fn label(&self) -> Label;
}

const fn l(vi: &'static str, en: &'static str) -> Label {
    Label::new(vi, en)
}

impl Labelled for TipCategory {
    fn label(&self) -> Label {
        match self {
            TipCategory::Drugs => l("Ma túy", "Drugs"),
            TipCategory::Theft => l("Trộm cắp", "Theft"),
            TipCategory::Gambling => l("Cờ bạc", "Gambling"),
            TipCategory::LoanSharking => l("Tín dụng đen", "Loan sharking"),
            TipCategory::Fraud => l("Lừa đảo", "Fraud"),
            TipCategory::SuspiciousPerson => l("Đối tượng khả nghi", "Suspicious person"),
            TipCategory::UnregisteredResidence => {
                l("Lưu trú không khai báo", "Unregistered residence")
            }
            TipCategory::PublicDisorder => l("Gây rối trật tự công cộng", "Public disorder"),
            TipCategory::Traffic => l("Trật tự an toàn giao thông", "Traffic"),
            TipCategory::UrbanOrder => l("Trật tự đô thị", "Urban order"),
            TipCategory::FireHazard => l("Nguy cơ cháy nổ", "Fire hazard"),
            TipCategory::Other => l("Khác", "Other"),
        }
    }
}

impl Labelled for Urgency {
    fn label(&self) -> Label {
        match self {
            Urgency::Normal => l("Bình thường", "Normal"),
            Urgency::Urgent => l("Khẩn cấp", "Urgent"),
        }
    }
}

impl Labelled for ReportKind {
    fn label(&self) -> Label {
        match self {
            ReportKind::Tip => l("Tin báo ANTT", "Security tip"),
            ReportKind::Inspection => l("Kiểm tra PCCC", "Fire-safety inspection"),
            ReportKind::IdCount => l("Số liệu Đề án 06", "Electronic-ID count"),
        }
    }
}

impl Labelled for ReportStatus {
    fn label(&self) -> Label {
        match self {
            ReportStatus::Draft => l("Bản nháp", "Draft"),
            ReportStatus::Queued => l("Chờ gửi", "Waiting to send"),
            ReportStatus::Sent => l("Đã gửi", "Sent"),
            ReportStatus::Quarantined => l("Bị từ chối", "Refused by the server"),
        }
    }
}

impl Labelled for crate::wire::WardStatus {
    fn label(&self) -> Label {
        use crate::wire::WardStatus;
        match self {
            WardStatus::Received => l("Đã tiếp nhận", "Received"),
            WardStatus::Verifying => l("Đang xác minh", "Being verified"),
            WardStatus::Resolved => l("Đã xử lý", "Resolved"),
            WardStatus::Unfounded => l("Không có cơ sở", "Unfounded"),
        }
    }
}

impl Labelled for Answer {
    fn label(&self) -> Label {
        match self {
            Answer::Pass => l("Đạt", "Pass"),
            Answer::Fail => l("Không đạt", "Fail"),
            Answer::NotApplicable => l("Không áp dụng", "Not applicable"),
        }
    }
}

impl Labelled for InspectionResult {
    fn label(&self) -> Label {
        match self {
            InspectionResult::Pass => l("Đạt", "Pass"),
            InspectionResult::Fail => l("Không đạt", "Fail"),
        }
    }
}

impl Labelled for crate::campaign::CampaignKind {
    fn label(&self) -> Label {
        use crate::campaign::CampaignKind;
        match self {
            CampaignKind::FireSafety => l("Kiểm tra PCCC", "Fire-safety inspections"),
            CampaignKind::Id06 => l(
                "Kích hoạt định danh mức 2 (Đề án 06)",
                "Level-2 e-ID activation (Đề án 06)",
            ),
            CampaignKind::Tips => l("Tin báo ANTT", "Security tips"),
        }
    }
}

impl Labelled for crate::campaign::HouseholdScope {
    fn label(&self) -> Label {
        use crate::campaign::HouseholdScope;
        match self {
            HouseholdScope::All => l("mọi hộ", "every household"),
            HouseholdScope::Business => l("hộ kinh doanh", "homes with a business"),
            HouseholdScope::RentsRooms => l("hộ cho thuê trọ", "homes that rent rooms"),
        }
    }
}

/// A campaign's target in words: "100 % hộ kinh doanh được kiểm tra",
/// "60 % nhân khẩu kích hoạt mức 2", "3 tin mỗi tổ (Ma túy, Trộm cắp)".
pub fn campaign_goal(goal: &crate::campaign::Goal, lang: Lang) -> String {
    use crate::campaign::{Goal, HouseholdScope};
    match (goal, lang) {
        (Goal::FireSafety { target, households }, Lang::Vi) => {
            let whom = match households {
                HouseholdScope::All => "số hộ",
                h => h.label().vi,
            };
            format!("{target} % {whom} được kiểm tra")
        }
        (Goal::FireSafety { target, households }, Lang::En) => {
            let whom = match households {
                HouseholdScope::All => "households",
                h => h.label().en,
            };
            format!("{target} % of {whom} inspected")
        }
        (Goal::Id06 { target }, Lang::Vi) => {
            format!("{target} % nhân khẩu kích hoạt định danh mức 2")
        }
        (Goal::Id06 { target }, Lang::En) => {
            format!("{target} % of residents with a level-2 e-ID")
        }
        (Goal::Tips { target, categories }, lang) => {
            let per = match lang {
                Lang::Vi => format!("{target} tin mỗi tổ"),
                Lang::En => format!("{target} tips per group"),
            };
            if categories.is_empty() {
                per
            } else {
                let names: Vec<&str> = categories.iter().map(|c| c.label().get(lang)).collect();
                format!("{per} ({})", names.join(", "))
            }
        }
        (Goal::Unknown, Lang::Vi) => "loại đợt chưa biết".to_owned(),
        (Goal::Unknown, Lang::En) => "an unknown kind of campaign".to_owned(),
    }
}

/// What a campaign counts, its unit in words: what `count` and `of` are.
pub fn campaign_units(kind: crate::campaign::CampaignKind) -> (Label, Label) {
    use crate::campaign::CampaignKind;
    match kind {
        CampaignKind::FireSafety => (
            l("Số hộ đã kiểm tra", "Households inspected"),
            l("Số hộ trong diện", "Households in scope"),
        ),
        CampaignKind::Id06 => (
            l("Số người đã kích hoạt", "Residents activated"),
            l("Số nhân khẩu", "Residents"),
        ),
        CampaignKind::Tips => (
            l("Số tin đã gửi", "Tips sent"),
            l("Số tin theo chỉ tiêu", "Tips needed"),
        ),
    }
}

/// The household fire-safety checklist, version 1: code, label, required,
/// which households it applies to.
pub(crate) const CHECKLIST_V1: &[(&str, Label, bool, Applies)] = &[
    (
        "electrical",
        l(
            "Điện an toàn: có cầu dao/aptomat, dây dẫn không câu móc, không quá tải",
            "Safe electrics: a circuit breaker, no hooked-up wiring, no overload",
        ),
        true,
        Applies::All,
    ),
    (
        "kitchen-gas",
        l(
            "Bếp và bình gas đặt an toàn, khóa van khi không dùng",
            "Stove and gas cylinder placed safely, valve closed when not in use",
        ),
        true,
        Applies::All,
    ),
    (
        "altar-votive",
        l(
            "Nơi thờ cúng, đốt vàng mã an toàn, xa vật dễ cháy",
            "Altar and votive-paper burning safe, away from flammables",
        ),
        true,
        Applies::All,
    ),
    (
        "flammables-near-heat",
        l(
            "Không để chất, hàng hóa dễ cháy gần nguồn nhiệt",
            "No flammable substances or goods near heat sources",
        ),
        true,
        Applies::All,
    ),
    (
        "vehicle-charging",
        l(
            "Xe máy, xe điện để và sạc ở nơi an toàn, không chắn lối thoát",
            "Motorbikes and e-bikes parked and charged safely, not blocking the exit",
        ),
        true,
        Applies::All,
    ),
    (
        "extinguisher",
        l(
            "Có bình chữa cháy phù hợp, còn hạn",
            "A suitable fire extinguisher, within its expiry date",
        ),
        true,
        Applies::All,
    ),
    (
        "escape-routes",
        l(
            "Lối thoát nạn thông thoáng; có lối thoát nạn thứ hai",
            "Escape route clear; a second escape route exists",
        ),
        true,
        Applies::All,
    ),
    (
        "cage-escape-hatch",
        l(
            "Chuồng cọp, lồng sắt có ô cửa thoát hiểm mở được",
            "Caged balconies and windows have an escape hatch that opens",
        ),
        true,
        Applies::All,
    ),
    (
        "smoke-alarm",
        l("Có thiết bị báo cháy, báo khói", "A fire or smoke alarm"),
        false,
        Applies::All,
    ),
    (
        "rescue-tools",
        l(
            "Có đèn pin, búa hoặc kìm cộng lực, mặt nạ lọc độc",
            "A torch, a hammer or bolt cutter, a smoke hood",
        ),
        false,
        Applies::All,
    ),
    (
        "business-separation",
        l(
            "Nhà ở kết hợp kinh doanh: ngăn cách khu kinh doanh với khu ở, có nội quy PCCC, hàng hóa gọn gàng",
            "Home with a business: business area separated from living area, fire rules posted, goods kept in order",
        ),
        true,
        Applies::HasBusiness,
    ),
    (
        "occupants-trained",
        l(
            "Người trong nhà biết dùng bình chữa cháy và có phương án thoát nạn",
            "Occupants can use the extinguisher and have an escape plan",
        ),
        true,
        Applies::All,
    ),
];

pub(crate) const CHECKLIST_V1_TITLE: Label = l(
    "Kiểm tra an toàn PCCC hộ gia đình",
    "Household fire-safety inspection",
);

/// The message of a validation rule, by its code. Placeholders `{min}`,
/// `{max}` and `{allowed}` are filled in by [`crate::Rule::message`].
pub fn rule(code: &str) -> Label {
    match code {
        "required" => l("không được để trống", "is required"),
        "too-short" => l("cần ít nhất {min} ký tự", "needs at least {min} characters"),
        "too-long" => l("tối đa {max} ký tự", "at most {max} characters"),
        "out-of-range" => l("phải từ {min} đến {max}", "must be between {min} and {max}"),
        "too-many" => l("tối đa {max} mục", "at most {max} entries"),
        "in-future" => l("không được ở tương lai", "cannot be in the future"),
        "too-old" => l(
            "quá xa trong quá khứ, kiểm tra lại năm",
            "too far in the past; check the year",
        ),
        "bad-format" => l("không đúng định dạng", "is not in the right format"),
        "unknown-code" => l(
            "không hợp lệ; chọn một trong: {allowed}",
            "is not valid; choose one of: {allowed}",
        ),
        "location-required" => l(
            "cần ghi địa điểm, chọn hộ, lấy vị trí GPS hoặc chọn «không nhớ địa điểm»",
            "give a place, a household or GPS, or choose “location not remembered”",
        ),
        "location-conflict" => l(
            "đã chọn «không nhớ địa điểm» thì không ghi địa điểm",
            "“location not remembered” cannot come with a location",
        ),
        "exceeds-collected" => l(
            "số kích hoạt không được lớn hơn số thu nhận",
            "activated cannot exceed collected",
        ),
        "exceeds-residents" => l(
            "số thu nhận không được lớn hơn số nhân khẩu",
            "collected cannot exceed residents",
        ),
        "before-inspection" => l(
            "không được trước ngày kiểm tra",
            "cannot be before the inspection",
        ),
        "unknown-item" => l(
            "không có trong danh mục kiểm tra",
            "is not on the checklist",
        ),
        "missing-answer" => l("chưa trả lời", "has no answer"),
        "duplicate" => l("bị trùng", "is given twice"),
        "not-applicable" => l(
            "không áp dụng cho hộ này",
            "does not apply to this household",
        ),
        "item-not-failed" => l(
            "mục này không bị đánh giá «Không đạt»",
            "this item did not fail",
        ),
        "fix-required" => l(
            "mục «Không đạt» cần biện pháp khắc phục và hạn khắc phục",
            "a failed item needs a fix and a deadline",
        ),
        "not-found" => l("không tìm thấy", "was not found"),
        "too-simple" => l("quá dễ đoán", "is too easy to guess"),
        "before-start" => l(
            "không được trước ngày bắt đầu",
            "cannot be before the start",
        ),
        "period-too-long" => l(
            "đợt dài tối đa {max} ngày",
            "a period has at most {max} days",
        ),
        "in-past" => l("đã qua", "has already passed"),
        "too-far-ahead" => l(
            "quá xa (tối đa {max} ngày tới)",
            "is too far ahead (at most {max} days from today)",
        ),
        "source-sealed" => l(
            "đã niêm phong: chỉ có thể nhập lại từ đầu",
            "is sealed: it can only be entered again from scratch",
        ),
        _ => l("không hợp lệ", "is not valid"),
    }
}

/// The label of a field path: `suspects[2].description` is labelled as
/// `suspects.description`; unknown fields get `None`.
pub fn field(path: &str) -> Option<Label> {
    let mut key = String::with_capacity(path.len());
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => key.push(c),
            _ => {}
        }
    }
    let key = if key.starts_with("answers.") {
        "answers"
    } else {
        key.as_str()
    };
    Some(match key {
        "description" => l("Nội dung", "Description"),
        "category" => l("Loại tin", "Category"),
        "location" => l("Địa điểm", "Location"),
        "location.text" => l("Địa điểm", "Location"),
        "location.household_id" => l("Hộ gia đình", "Household"),
        "location.gps.lat" => l("Vĩ độ", "Latitude"),
        "location.gps.lon" => l("Kinh độ", "Longitude"),
        "location.gps.accuracy_m" => l("Độ chính xác GPS (m)", "GPS accuracy (m)"),
        "occurred_at" => l("Thời điểm xảy ra", "When it happened"),
        "urgency" => l("Mức độ", "Urgency"),
        "source" => l("Nguồn tin", "Source"),
        "source.name" => l("Tên người báo", "Informant's name"),
        "source.phone" => l("Số điện thoại người báo", "Informant's phone"),
        "confidential_note" => l("Ghi chú mật", "Confidential note"),
        "pin" => l("Mã PIN", "PIN"),
        "sealed" => l("Nguồn tin niêm phong", "Sealed source"),
        "suspects" => l("Đối tượng", "Suspects"),
        "suspects.name_or_alias" => l("Tên hoặc biệt danh đối tượng", "Suspect's name or alias"),
        "suspects.description" => l("Đặc điểm đối tượng", "Suspect's description"),
        "address" => l("Địa chỉ", "Address"),
        "head" => l("Chủ hộ", "Head of household"),
        "residents" => l("Số nhân khẩu", "Residents"),
        "phone" => l("Số điện thoại", "Phone"),
        "has_business" => l("Nhà ở kết hợp kinh doanh", "Home with a business"),
        "rents_rooms" => l("Cho thuê phòng trọ", "Rents rooms"),
        "notes" => l("Ghi chú", "Notes"),
        "household_id" => l("Hộ gia đình", "Household"),
        "template" => l("Mẫu kiểm tra", "Checklist template"),
        "inspector" => l("Người kiểm tra", "Inspector"),
        "inspected_at" => l("Thời điểm kiểm tra", "Inspection time"),
        "answers" => l("Mục kiểm tra", "Checklist item"),
        "answers.note" => l("Ghi chú mục kiểm tra", "Item note"),
        "violations.item" => l("Vi phạm", "Violation"),
        "violations.fix" => l("Biện pháp khắc phục", "Recommended fix"),
        "violations.deadline" => l("Hạn khắc phục", "Fix deadline"),
        "reinspect_on" => l("Ngày kiểm tra lại", "Re-inspection date"),
        "acknowledged_by" => l("Người đại diện hộ xác nhận", "Acknowledged by"),
        "date" => l("Ngày", "Date"),
        "collected" => l("Số tài khoản thu nhận", "Accounts collected"),
        "activated" => l(
            "Số tài khoản kích hoạt mức 2",
            "Accounts activated (level 2)",
        ),
        "helped" => l(
            "Số người được hướng dẫn cài đặt",
            "People helped to install",
        ),
        "ward" => l("Phường", "Ward"),
        "block" => l("Khối", "Block"),
        "group" => l("Tổ dân cư", "Group"),
        "file" => l("Tệp", "File"),
        "title" => l("Tiêu đề", "Title"),
        "text" => l("Nội dung", "Text"),
        "starts_on" => l("Ngày bắt đầu", "Start date"),
        "ends_on" => l("Ngày kết thúc", "End date"),
        "target" => l("Chỉ tiêu", "Target"),
        "categories" => l("Loại tin", "Tip categories"),
        "kind" => l("Loại đợt", "Kind of campaign"),
        "id" => l("Mã báo cáo", "Report id"),
        _ => return None,
    })
}

/// Every label with its key, for building the app's translation table.
/// What "re-inspection due" means
/// ([`crate::inspection::Inspection::reinspection_due`]), said wherever a
/// due day is shown: the phone's summary and the ward's fire-safety page.
pub const REINSPECTION_DUE_MEANS: Label = l(
    "ngày hẹn tái kiểm tra; nếu chưa hẹn thì hạn khắc phục sớm nhất",
    "the re-inspection day set, or else the earliest fix deadline",
);

pub fn catalog() -> Vec<(String, Label)> {
    let mut out = vec![(
        "inspection.reinspection-due-means".to_owned(),
        REINSPECTION_DUE_MEANS,
    )];
    for c in TipCategory::ALL {
        out.push((format!("tip-category.{c}"), c.label()));
    }
    for u in Urgency::ALL {
        out.push((format!("urgency.{u}"), u.label()));
    }
    for k in ReportKind::ALL {
        out.push((format!("report-kind.{k}"), k.label()));
    }
    for s in ReportStatus::ALL {
        out.push((format!("status.{s}"), s.label()));
    }
    for w in crate::wire::WardStatus::ALL {
        out.push((format!("ward-status.{w}"), w.label()));
    }
    for a in Answer::ALL {
        out.push((format!("answer.{a}"), a.label()));
    }
    for r in InspectionResult::ALL {
        out.push((format!("inspection-result.{r}"), r.label()));
    }
    for k in crate::campaign::CampaignKind::ALL {
        out.push((format!("campaign-kind.{k}"), k.label()));
    }
    for h in crate::campaign::HouseholdScope::ALL {
        out.push((format!("household-scope.{h}"), h.label()));
    }
    for (i, (code, label, _, _)) in CHECKLIST_V1.iter().enumerate() {
        out.push((
            format!("checklist.pccc-household.1.{}.{code}", i + 1),
            *label,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_both_languages() {
        for (key, label) in catalog() {
            assert!(!label.vi.trim().is_empty(), "{key} has no Vietnamese");
            assert!(!label.en.trim().is_empty(), "{key} has no English");
        }
    }

    #[test]
    fn field_paths_drop_indices() {
        assert_eq!(
            field("suspects[3].description").map(|l| l.en),
            Some("Suspect's description")
        );
        assert_eq!(
            field("answers.extinguisher").map(|l| l.vi),
            Some("Mục kiểm tra")
        );
        assert_eq!(field("no-such-field"), None);
    }
}
