//! Text folding for search: Vietnamese without diacritics, lower case.
//!
//! "Nguyễn Văn Đường" folds to "nguyen van duong", so a leader typing on a
//! phone keyboard without Telex finds what was written with it. `đ`/`Đ` do
//! not decompose in Unicode, so they are mapped to `d` explicitly.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds `s` for diacritics- and case-insensitive matching: NFD, combining
/// marks dropped, `đ`→`d`, lower case, runs of whitespace collapsed to one
/// space, trimmed.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The folded search terms of a query: words, deduplicated, in order.
pub fn terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for t in fold(query).split(' ') {
        if !t.is_empty() && !terms.iter().any(|x| x == t) {
            terms.push(t.to_owned());
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("ma túy", "ma tuy")]
    #[case("Nguyễn Văn", "nguyen van")]
    #[case("đường", "duong")]
    #[case("ĐƯỜNG Lê Lợi", "duong le loi")]
    #[case("  Khối   7 ", "khoi 7")]
    #[case("Chuồng cọp", "chuong cop")]
    #[case("tín dụng đen", "tin dung den")]
    #[case("Hà Huy Tập", "ha huy tap")]
    // precomposed and decomposed input fold the same
    #[case("Nguye\u{302}\u{303}n", "nguyen")]
    fn folds_vietnamese(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(fold(input), expected);
    }

    #[test]
    fn terms_are_folded_words_without_repeats() {
        assert_eq!(terms("Ma  TÚY ma"), vec!["ma", "tuy"]);
        assert!(terms("   ").is_empty());
    }
}
