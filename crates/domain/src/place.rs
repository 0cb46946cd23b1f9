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

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

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
