//! The group's household register (sổ hộ gia đình) and its CSV import.

use crate::ids::HouseholdId;
use crate::labels::Lang;
use crate::text::fold;
use crate::tip::non_blank;
use crate::validation::{Checker, FieldError, Rule, ValidationErrors, normalize_phone};
use serde::{Deserialize, Serialize};

/// Most residents one household may list: a large boarding house, not a typo.
pub const RESIDENTS_MAX: u32 = 1000;

/// A household as the leader enters or edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HouseholdInput {
    pub address: String,
    /// Head of household (chủ hộ).
    pub head: String,
    pub residents: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Home with a business (nhà ở kết hợp kinh doanh).
    #[serde(default)]
    pub has_business: bool,
    /// Rents out rooms (nhà trọ, phòng cho thuê).
    #[serde(default)]
    pub rents_rooms: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A household in the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Household {
    pub id: HouseholdId,
    #[serde(flatten)]
    pub data: HouseholdInput,
}

impl std::ops::Deref for Household {
    type Target = HouseholdInput;
    fn deref(&self) -> &HouseholdInput {
        &self.data
    }
}

impl HouseholdInput {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        c.text("address", &self.address, 1, 200);
        c.text("head", &self.head, 1, 120);
        c.range(
            "residents",
            f64::from(self.residents),
            0.0,
            f64::from(RESIDENTS_MAX),
        );
        c.phone("phone", self.phone.as_deref());
        c.optional_text("notes", self.notes.as_deref(), 2000);
        c.finish()
    }

    /// Trimmed text, canonical phone, blank optional values dropped.
    pub fn normalized(mut self) -> Self {
        self.address = self.address.trim().to_owned();
        self.head = self.head.trim().to_owned();
        self.phone = non_blank(self.phone.take()).map(|p| normalize_phone(&p).unwrap_or(p));
        self.notes = non_blank(self.notes.take());
        self
    }

    /// Text for search: address, head of household, phone, notes.
    pub fn search_text(&self) -> String {
        let mut parts = vec![self.address.as_str(), self.head.as_str()];
        parts.extend(self.phone.as_deref());
        parts.extend(self.notes.as_deref());
        parts.join(" ")
    }
}

/// A CSV column of the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Address,
    Head,
    Residents,
    Phone,
    HasBusiness,
    RentsRooms,
    Notes,
}

/// Accepted header names, compared after [`fold`] (so "Địa chỉ", "dia chi"
/// and "ĐỊA CHỈ" are the same header).
const HEADERS: &[(&str, Column)] = &[
    ("address", Column::Address),
    ("dia chi", Column::Address),
    ("head", Column::Head),
    ("chu ho", Column::Head),
    ("ho ten chu ho", Column::Head),
    ("ten chu ho", Column::Head),
    ("residents", Column::Residents),
    ("so nhan khau", Column::Residents),
    ("nhan khau", Column::Residents),
    ("so nguoi", Column::Residents),
    ("phone", Column::Phone),
    ("so dien thoai", Column::Phone),
    ("dien thoai", Column::Phone),
    ("sdt", Column::Phone),
    ("has-business", Column::HasBusiness),
    ("kinh doanh", Column::HasBusiness),
    ("co kinh doanh", Column::HasBusiness),
    ("nha o ket hop kinh doanh", Column::HasBusiness),
    ("rents-rooms", Column::RentsRooms),
    ("cho thue", Column::RentsRooms),
    ("cho thue phong", Column::RentsRooms),
    ("cho thue tro", Column::RentsRooms),
    ("nha tro", Column::RentsRooms),
    ("notes", Column::Notes),
    ("ghi chu", Column::Notes),
];

/// One problem in a CSV file, with the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CsvRowError {
    pub line: u64,
    #[serde(flatten)]
    pub error: FieldError,
}

impl CsvRowError {
    pub fn message(&self, lang: Lang) -> String {
        let prefix = match lang {
            Lang::Vi => "Dòng",
            Lang::En => "Line",
        };
        format!("{prefix} {}: {}", self.line, self.error.message(lang))
    }
}

/// Every problem found in a CSV file. An import with any problem imports nothing.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{} problem(s) in the CSV file, first: {}", .0.len(), .0.first().map(|e| e.message(Lang::En)).unwrap_or_default())]
#[serde(transparent)]
pub struct CsvErrors(pub Vec<CsvRowError>);

/// Parses a household register CSV (UTF-8, optional BOM, comma or
/// semicolon separated, Vietnamese or English headers). Returns every row
/// or every problem; never some of the rows.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<HouseholdInput>, CsvErrors> {
    let err = |line: u64, field: &str, rule: Rule| CsvRowError {
        line,
        error: FieldError::new(field, rule),
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64
                + 1;
            return Err(CsvErrors(vec![err(line, "file", Rule::BadFormat)]));
        }
    };
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = if first_line.contains(';') && !first_line.contains(',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());

    let headers = reader
        .headers()
        .map_err(|_| CsvErrors(vec![err(1, "file", Rule::BadFormat)]))?
        .clone();
    let mut columns = Vec::with_capacity(headers.len());
    let mut errors = Vec::new();
    for h in headers.iter() {
        let folded = fold(h);
        let col = HEADERS
            .iter()
            .find(|(name, _)| *name == folded)
            .map(|x| x.1);
        if col.is_some() && columns.contains(&col) {
            errors.push(err(1, h, Rule::Duplicate));
        }
        columns.push(col);
    }
    for (required, field) in [
        (Column::Address, "address"),
        (Column::Head, "head"),
        (Column::Residents, "residents"),
    ] {
        if !columns.contains(&Some(required)) {
            errors.push(err(1, field, Rule::Required));
        }
    }
    if !errors.is_empty() {
        return Err(CsvErrors(errors));
    }

    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(err(line, "file", Rule::BadFormat));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let mut h = HouseholdInput {
            address: String::new(),
            head: String::new(),
            residents: 0,
            phone: None,
            has_business: false,
            rents_rooms: false,
            notes: None,
        };
        for (value, col) in record.iter().zip(&columns) {
            match col {
                Some(Column::Address) => h.address = value.to_owned(),
                Some(Column::Head) => h.head = value.to_owned(),
                Some(Column::Residents) => match value.parse::<u32>() {
                    Ok(n) => h.residents = n,
                    Err(_) if value.is_empty() => {
                        errors.push(err(line, "residents", Rule::Required));
                    }
                    Err(_) => errors.push(err(
                        line,
                        "residents",
                        Rule::OutOfRange {
                            min: 0.0,
                            max: f64::from(RESIDENTS_MAX),
                        },
                    )),
                },
                Some(Column::Phone) => h.phone = Some(value.to_owned()),
                Some(Column::HasBusiness) => match parse_flag(value) {
                    Some(b) => h.has_business = b,
                    None => errors.push(err(line, "has_business", Rule::BadFormat)),
                },
                Some(Column::RentsRooms) => match parse_flag(value) {
                    Some(b) => h.rents_rooms = b,
                    None => errors.push(err(line, "rents_rooms", Rule::BadFormat)),
                },
                Some(Column::Notes) => h.notes = Some(value.to_owned()),
                None => {}
            }
        }
        if let Err(v) = h.validate() {
            // A residents cell that did not parse was reported above; do not
            // report the placeholder value as well.
            let unparsed_residents = errors_has(&errors, line, "residents");
            errors.extend(
                v.0.into_iter()
                    .filter(|e| !(unparsed_residents && e.field == "residents"))
                    .map(|error| CsvRowError { line, error }),
            );
        }
        rows.push(h.normalized());
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(CsvErrors(errors))
    }
}

fn errors_has(errors: &[CsvRowError], line: u64, field: &str) -> bool {
    errors
        .iter()
        .any(|e| e.line == line && e.error.field == field)
}

/// Yes/no cells: "x", "có", "1", "yes", "true" or blank, "không", "0", "no", "false".
fn parse_flag(value: &str) -> Option<bool> {
    match fold(value).as_str() {
        "x" | "co" | "1" | "yes" | "y" | "true" | "c" => Some(true),
        "" | "khong" | "k" | "0" | "no" | "n" | "false" => Some(false),
        _ => None,
    }
}

/// The order a leader walks a group's addresses in: street by street, and
/// along a street by house number, so "2 Lê Lợi" comes before "12 Lê Lợi"
/// and "12 Lê Lợi" before "12A Lê Lợi" and "12/3 Lê Lợi". The street is
/// what remains of the folded address once its numbers are taken out;
/// the numbers compare in the order they are written (a house, then its
/// alley or room), each as a number and then its letters. Ties fall back
/// to the folded text, so the order is total.
pub fn address_order(a: &str, b: &str) -> std::cmp::Ordering {
    AddressKey::of(a).cmp(&AddressKey::of(b))
}

/// An address split for [`address_order`].
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct AddressKey {
    street: String,
    numbers: Vec<(u64, String)>,
    folded: String,
}

impl AddressKey {
    fn of(address: &str) -> Self {
        /// Words that only say "number" before a house number.
        const NUMBER_WORDS: &[&str] = &["so", "nha", "no", "sn"];
        let folded = fold(address);
        let mut street: Vec<&str> = Vec::new();
        let mut numbers = Vec::new();
        for word in folded.split([' ', ',']).filter(|w| !w.is_empty()) {
            if word.starts_with(|c: char| c.is_ascii_digit()) {
                // "12a", "5/2", "12-14": each run of digits with the
                // letters that follow it.
                for part in word.split(['/', '-', '.']).filter(|p| !p.is_empty()) {
                    let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
                    let rest = part[digits.len()..].to_owned();
                    // A house number too long for u64 is no house number:
                    // it sorts last among numbers.
                    numbers.push((digits.parse().unwrap_or(u64::MAX), rest));
                }
            } else if !(street.is_empty() && NUMBER_WORDS.contains(&word)) {
                street.push(word);
            }
        }
        AddressKey {
            street: street.join(" "),
            numbers,
            folded,
        }
    }
}

#[cfg(test)]
mod address_tests {
    use super::address_order;

    #[test]
    fn addresses_sort_street_by_street_then_by_number() {
        let mut addresses = vec![
            "12A Lê Lợi",
            "3 Trần Phú",
            "Số 12 Lê Lợi",
            "2 Lê Lợi",
            "12/3 Lê Lợi",
            "hẻm 5 Lê Lợi",
            "10 Trần Phú",
            "Lê Lợi",
        ];
        addresses.sort_by(|a, b| address_order(a, b));
        assert_eq!(
            addresses,
            vec![
                "hẻm 5 Lê Lợi",
                "Lê Lợi",
                "2 Lê Lợi",
                "Số 12 Lê Lợi",
                "12/3 Lê Lợi",
                "12A Lê Lợi",
                "3 Trần Phú",
                "10 Trần Phú",
            ]
        );
    }
}
