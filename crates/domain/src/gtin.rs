//! GS1 GTIN-8/12/13/14: verify the mod-10 check digit and normalise to 14 digits,
//! so one product has one stored form whatever label it was typed from.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GtinError {
    /// Not 8, 12, 13 or 14 ASCII digits.
    Length(usize),
    NotDigits,
    CheckDigit {
        expected: u8,
        found: u8,
    },
}

impl fmt::Display for GtinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GtinError::Length(n) => write!(f, "a GTIN has 8, 12, 13 or 14 digits, not {n}"),
            GtinError::NotDigits => write!(f, "a GTIN holds digits only"),
            GtinError::CheckDigit { expected, found } => {
                write!(
                    f,
                    "check digit is {found}, the digits before it give {expected}"
                )
            }
        }
    }
}

/// The GS1 check digit of a digit string without its check digit: weights 3,1,3,…
/// counted from the right.
pub fn check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Validates a GTIN (surrounding spaces allowed) and returns it zero-padded to 14 digits.
pub fn normalise(raw: &str) -> Result<String, GtinError> {
    let s = raw.trim();
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(GtinError::NotDigits);
    }
    if ![8, 12, 13, 14].contains(&s.len()) {
        return Err(GtinError::Length(s.len()));
    }
    let digits: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
    let (body, last) = digits.split_at(digits.len() - 1);
    let expected = check_digit(body);
    if expected != last[0] {
        return Err(GtinError::CheckDigit {
            expected,
            found: last[0],
        });
    }
    Ok(format!("{s:0>14}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_known_gtins_and_pads_them() {
        // EAN-13 of a real product label and a GTIN-8 example from the GS1 manual.
        assert_eq!(normalise("4006381333931").unwrap(), "04006381333931");
        assert_eq!(normalise("96385074").unwrap(), "00000096385074");
        assert_eq!(normalise(" 036000291452 ").unwrap(), "00036000291452");
    }

    #[test]
    fn rejects_bad_check_digit_and_lengths() {
        assert_eq!(
            normalise("4006381333932"),
            Err(GtinError::CheckDigit {
                expected: 1,
                found: 2
            })
        );
        assert_eq!(normalise("12345"), Err(GtinError::Length(5)));
        assert_eq!(normalise("40063813339x1"), Err(GtinError::NotDigits));
    }

    proptest! {
        #[test]
        fn every_body_with_its_check_digit_is_valid(body in proptest::collection::vec(0u8..10, 12)) {
            let cd = check_digit(&body);
            let s: String = body.iter().chain(std::iter::once(&cd)).map(|d| char::from(b'0' + d)).collect();
            let n = normalise(&s).unwrap();
            prop_assert_eq!(n.len(), 14);
            prop_assert!(n.ends_with(&s));
            // Any other final digit is refused.
            let wrong = (cd + 1) % 10;
            let bad: String = body.iter().chain(std::iter::once(&wrong)).map(|d| char::from(b'0' + d)).collect();
            prop_assert!(normalise(&bad).is_err());
        }
    }
}
