//! Places: ward (phường), block (khối), group (tổ dân cư).
//!
//! A device belongs to exactly one group; the group's block and ward come
//! with it. Codes are short lowercase machine codes such as `hht`, `k01`,
//! `k01-t03`.

use crate::validation::{Checker, Rule, ValidationErrors};
use serde::{Deserialize, Serialize};

/// A place code: 1 to 32 of `a-z`, `0-9` and `-`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct PlaceCode(String);

impl PlaceCode {
    /// Parses a code, accepting upper case (`K01-T03` → `k01-t03`).
    pub fn parse(raw: &str) -> Option<Self> {
        let s = raw.trim().to_ascii_lowercase();
        let ok = (1..=32).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-');
        ok.then_some(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PlaceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A place with its code and its name (e.g. `k01`, "Khối 1").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Place {
    pub code: PlaceCode,
    pub name: String,
}

/// Where a device belongs: its ward, block and group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DevicePlace {
    pub ward: Place,
    pub block: Place,
    pub group: Place,
}

impl DevicePlace {
    /// Builds a place from codes, naming each after its code when no name is
    /// given ("Phường hht", "Khối k01", "Tổ k01-t03").
    pub fn from_codes(
        ward: &str,
        block: &str,
        group: &str,
        names: [Option<&str>; 3],
    ) -> Result<Self, ValidationErrors> {
        let mut check = Checker::new();
        let mut place = |field: &str, code: &str, name: Option<&str>, prefix: &str| {
            match PlaceCode::parse(code) {
                Some(code) => {
                    let name = name
                        .map(str::trim)
                        .filter(|n| !n.is_empty())
                        .map_or_else(|| format!("{prefix} {code}"), str::to_owned);
                    check.optional_text(field, Some(&name), 120);
                    Some(Place { code, name })
                }
                None => {
                    check.push(field, Rule::BadFormat);
                    None
                }
            }
        };
        let w = place("ward", ward, names[0], "Phường");
        let b = place("block", block, names[1], "Khối");
        let g = place("group", group, names[2], "Tổ");
        check.finish()?;
        match (w, b, g) {
            (Some(ward), Some(block), Some(group)) => Ok(Self { ward, block, group }),
            _ => unreachable!("a missing place was reported as an error above"),
        }
    }
}

crate::code_enum! {
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    /// How a device's place changed centrally (the 2025–2026
    /// rearrangements merge, split and rename groups and blocks).
    pub enum PlaceChange {
        /// Renamed, or given a new code: the same unit.
        Renamed => "renamed",
        /// Merged into another unit (or other units merged into it).
        Merged => "merged",
        /// Split into several units; this device went to one of them.
        Split => "split",
        /// The group's ward merged into another ward (`before` names the
        /// old ward); the group itself is the same.
        WardMerged => "ward-merged",
        /// A kind from a newer server.
        #[serde(other)]
        Unknown => "unknown",
    }
}

/// The one line a leader reads when their group changed: `before` are the
/// units as they were (codes and names), `now` the device's group as it is.
pub fn place_notice(
    lang: crate::Lang,
    change: PlaceChange,
    before: &[Place],
    now: &DevicePlace,
    day: chrono::NaiveDate,
) -> String {
    let names = before
        .iter()
        .map(|p| format!("{} ({})", p.name, p.code))
        .collect::<Vec<_>>()
        .join(", ");
    let to = format!(
        "{} ({}), {}",
        now.group.name, now.group.code, now.block.name
    );
    let day = day.format("%d/%m/%Y");
    match (lang, change) {
        (crate::Lang::Vi, PlaceChange::Renamed) => format!("Từ {day}, {names} đổi thành {to}."),
        (crate::Lang::Vi, PlaceChange::Merged) => format!("Từ {day}, {names} gộp vào {to}."),
        (crate::Lang::Vi, PlaceChange::Split) => {
            format!("Từ {day}, {names} được tách; máy này nay thuộc {to}.")
        }
        (crate::Lang::Vi, PlaceChange::WardMerged) => {
            format!(
                "Từ {day}, {names} gộp vào {}; máy này nay thuộc {to}.",
                now.ward.name
            )
        }
        (crate::Lang::Vi, PlaceChange::Unknown) => format!("Từ {day}, máy này thuộc {to}."),
        (crate::Lang::En, PlaceChange::Renamed) => format!("From {day}, {names} is now {to}."),
        (crate::Lang::En, PlaceChange::Merged) => format!("From {day}, {names} merged into {to}."),
        (crate::Lang::En, PlaceChange::Split) => {
            format!("From {day}, {names} was split; this device now belongs to {to}.")
        }
        (crate::Lang::En, PlaceChange::WardMerged) => {
            format!(
                "From {day}, {names} merged into {}; this device now belongs to {to}.",
                now.ward.name
            )
        }
        (crate::Lang::En, PlaceChange::Unknown) => {
            format!("From {day}, this device belongs to {to}.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn a_merge_notice_names_both_groups() {
        let now = DevicePlace::from_codes(
            "hht",
            "k01",
            "k01-t02",
            [None, Some("Khối 1"), Some("Tổ 2")],
        )
        .expect("valid");
        let before = [Place {
            code: PlaceCode::parse("k01-t01").expect("code"),
            name: "Tổ 1".into(),
        }];
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("day");
        assert_eq!(
            place_notice(crate::Lang::Vi, PlaceChange::Merged, &before, &now, day),
            "Từ 01/12/2026, Tổ 1 (k01-t01) gộp vào Tổ 2 (k01-t02), Khối 1."
        );
    }

    #[test]
    fn a_ward_merge_notice_names_the_old_ward_and_the_new() {
        let now = DevicePlace::from_codes(
            "hht",
            "hnx-k01",
            "hnx-k01-t01",
            [Some("Hà Huy Tập"), Some("Khối 1"), Some("Tổ 1")],
        )
        .expect("valid");
        let before = [Place {
            code: PlaceCode::parse("hnx").expect("code"),
            name: "Hưng Nguyên Xá".into(),
        }];
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("day");
        assert_eq!(
            place_notice(crate::Lang::Vi, PlaceChange::WardMerged, &before, &now, day),
            "Từ 01/12/2026, Hưng Nguyên Xá (hnx) gộp vào Hà Huy Tập; máy này nay thuộc Tổ 1 (hnx-k01-t01), Khối 1."
        );
    }

    #[rstest]
    #[case("hht", true)]
    #[case("K01-T03", true)]
    #[case("k01-t03", true)]
    #[case("", false)]
    #[case("-k1", false)]
    #[case("khối 1", false)]
    #[case("k01_t03", false)]
    #[case(&"a".repeat(33), false)]
    fn place_codes(#[case] raw: &str, #[case] ok: bool) {
        assert_eq!(PlaceCode::parse(raw).is_some(), ok, "{raw:?}");
    }

    #[test]
    fn device_place_reports_each_bad_code() {
        let err = DevicePlace::from_codes("hht", "khối 1", "", [None, None, None])
            .expect_err("bad codes");
        assert!(err.has("block", "bad-format"));
        assert!(err.has("group", "bad-format"));
        assert!(!err.has("ward", "bad-format"));
    }

    #[test]
    fn default_names_follow_codes() {
        let p = DevicePlace::from_codes("hht", "k01", "k01-t03", [Some("Hà Huy Tập"), None, None])
            .expect("valid");
        assert_eq!(p.ward.name, "Hà Huy Tập");
        assert_eq!(p.group.name, "Tổ k01-t03");
    }
}
