//! The text policy: which characters a text field may hold, and the stricter set of a
//! code (site code, SKU, vehicle code).
//!
//! Every text field refuses characters that are invisible or change how the text
//! around them is shown: control characters (Unicode category Cc, NUL included — and
//! PostgreSQL cannot store NUL in text at all), format characters (Cf: bidirectional
//! embeddings, overrides and isolates, zero-width space and joiners, the byte-order
//! mark, soft hyphen) and the line and paragraph separators. Two strings that look the
//! same on screen then differ only in visible characters. Codes go further: letters of
//! the Latin script (Norwegian and Sámi included), digits and a few separators, in
//! Unicode composed form (NFC, Unicode Standard Annex #15), so that a code typed on a
//! phone and one typed on a PC are the same code.
//!
//! The ranges below are the one place the rule lives: the validators and the patterns
//! the API document publishes are both built from them. The refused set is limited to
//! the Basic Multilingual Plane so that the published pattern reads the same in every
//! regular-expression dialect (ECMA-262 without the `u` flag, Python, Rust).

/// Characters refused in every text field (inclusive ranges).
pub const REFUSED: &[(char, char)] = &[
    ('\u{0000}', '\u{001F}'), // C0 controls
    ('\u{007F}', '\u{009F}'), // DEL and C1 controls
    ('\u{00AD}', '\u{00AD}'), // soft hyphen
    ('\u{0600}', '\u{0605}'), // Arabic number signs
    ('\u{061C}', '\u{061C}'), // Arabic letter mark
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    ('\u{180E}', '\u{180E}'), // Mongolian vowel separator
    ('\u{200B}', '\u{200F}'), // zero-width space, joiners, LRM, RLM
    ('\u{2028}', '\u{202E}'), // line/paragraph separators, bidi embeddings and overrides
    ('\u{2060}', '\u{2064}'), // word joiner, invisible operators
    ('\u{2066}', '\u{206F}'), // bidi isolates, deprecated format characters
    ('\u{FEFF}', '\u{FEFF}'), // byte-order mark / zero-width no-break space
    ('\u{FFF9}', '\u{FFFB}'), // interlinear annotation
];

/// Characters a code may hold besides the separators (inclusive ranges): ASCII digits
/// and letters, and the precomposed Latin letters of Latin-1 and Latin Extended-A/B.
pub const CODE_LETTERS: &[(char, char)] = &[
    ('0', '9'),
    ('A', 'Z'),
    ('a', 'z'),
    ('\u{00C0}', '\u{00D6}'),
    ('\u{00D8}', '\u{00F6}'),
    ('\u{00F8}', '\u{024F}'),
];

/// Separators allowed inside a code, never first or last.
pub const CODE_SEPARATORS: &[char] = &['-', '_', '.', '/'];

/// Longest code, in characters.
pub const CODE_MAX: usize = 32;

/// Longest SKU, in characters.
pub const SKU_MAX: usize = 64;

fn in_ranges(c: char, ranges: &[(char, char)]) -> bool {
    ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// The first refused character of `s`, if any.
pub fn refused_char(s: &str) -> Option<char> {
    s.chars().find(|&c| in_ranges(c, REFUSED))
}

/// Why `s` may not be stored in a text field, if it may not.
pub fn check(s: &str) -> Result<(), String> {
    match refused_char(s) {
        None => Ok(()),
        Some(c) => Err(format!(
            "must not contain control, format or invisible characters (found U+{:04X})",
            c as u32
        )),
    }
}

/// A code in its stored form: NFC-normalised, then checked against the code set.
pub fn normalise_code(s: &str, max: usize) -> Result<String, String> {
    use unicode_normalization::UnicodeNormalization;
    let nfc: String = s.nfc().collect();
    if nfc.is_empty() {
        return Err("must not be empty".into());
    }
    if nfc.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    let first = nfc
        .chars()
        .next()
        .is_some_and(|c| in_ranges(c, CODE_LETTERS));
    let last = nfc
        .chars()
        .last()
        .is_some_and(|c| in_ranges(c, CODE_LETTERS));
    let inner = nfc
        .chars()
        .all(|c| in_ranges(c, CODE_LETTERS) || CODE_SEPARATORS.contains(&c));
    if first && last && inner {
        Ok(nfc)
    } else {
        Err(format!(
            "must be Latin letters and digits, with {} between them",
            CODE_SEPARATORS
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

fn class_body(ranges: &[(char, char)], singles: &[char]) -> String {
    let esc = |c: char| {
        if c.is_ascii_alphanumeric() {
            c.to_string()
        } else {
            format!("\\u{:04X}", c as u32)
        }
    };
    let mut s = String::new();
    for &(lo, hi) in ranges {
        if lo == hi {
            s += &esc(lo);
        } else {
            s += &format!("{}-{}", esc(lo), esc(hi));
        }
    }
    for &c in singles {
        s += &esc(c);
    }
    s
}

/// The JSON Schema pattern of a free text field: no refused character.
pub fn text_pattern() -> String {
    format!("^[^{}]*$", class_body(REFUSED, &[]))
}

/// The pattern of a required text field: no refused character and at least one that
/// is not white space (the server trims).
pub fn required_text_pattern() -> String {
    let refused = class_body(REFUSED, &[]);
    format!("^[^{refused}]*[^{refused}\\s][^{refused}]*$")
}

/// The pattern of a code: code letters, separators only between them.
pub fn code_pattern() -> String {
    let letters = class_body(CODE_LETTERS, &[]);
    let all = class_body(CODE_LETTERS, CODE_SEPARATORS);
    format!("^[{letters}]([{all}]*[{letters}])?$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_controls_bidi_and_zero_width_and_keeps_visible_text() {
        for bad in [
            "a\0b",
            "tab\there",
            "\u{202E}evil",
            "zero\u{200B}width",
            "\u{FEFF}bom",
            "iso\u{2066}late",
            "c1\u{0085}",
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
        for good in ["Sykehjem Øst", "Ŋ Čáhppes", "مرحبا", "日本", "a – b"] {
            assert!(check(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn codes_are_nfc_latin_letters_digits_and_inner_separators() {
        assert_eq!(normalise_code("NH-01", 32).unwrap(), "NH-01");
        // A decomposed Å (A + combining ring) is stored composed.
        assert_eq!(normalise_code("A\u{030A}S", 32).unwrap(), "\u{00C5}S");
        for bad in [
            "",
            "-NH",
            "NH-",
            "NH 01",
            "NH\u{200B}01",
            "NH\u{202E}01",
            "ИH-01",
        ] {
            assert!(normalise_code(bad, 32).is_err(), "{bad:?}");
        }
        assert!(normalise_code(&"A".repeat(33), 32).is_err());
    }
}
