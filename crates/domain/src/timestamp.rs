//! Timestamps written as text, digit by digit. chrono's `format` interprets its format
//! string item by item for every value, and the write path of a stock report pays that
//! half a dozen times; the two fixed layouts the service writes are produced here to
//! the same bytes chrono gives, with chrono itself for what this does not cover
//! (years outside 0–9999 and leap seconds).

use chrono::{DateTime, Datelike, NaiveDateTime, SecondsFormat, Timelike, Utc};

/// The two layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `2026-03-12 18:00:00.123456`: chrono's `%F %T%.f`, the text SQLite keeps.
    Sql,
    /// `2026-03-12T18:00:00.123456Z`: RFC 3339 in UTC with as many fractional digits
    /// as the value needs (0, 3, 6 or 9), as chrono's serde writes a `DateTime<Utc>`.
    Rfc3339Utc,
}

/// `t` as chrono's `%F %T%.f` writes it.
pub fn sql_text(t: &NaiveDateTime) -> String {
    fast(t, Layout::Sql).unwrap_or_else(|| t.format("%F %T%.f").to_string())
}

/// `t` as chrono's serde writes it (RFC 3339, `Z`, `SecondsFormat::AutoSi`).
pub fn rfc3339_utc(t: &DateTime<Utc>) -> String {
    fast(&t.naive_utc(), Layout::Rfc3339Utc)
        .unwrap_or_else(|| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Serialises a `DateTime<Utc>` field as [`rfc3339_utc`] (`#[serde(serialize_with)]`).
pub fn serialize_rfc3339<S: serde::Serializer>(
    t: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339_utc(t))
}

fn fast(t: &NaiveDateTime, layout: Layout) -> Option<String> {
    let year = t.year();
    let nano = t.nanosecond();
    if !(0..=9999).contains(&year) || nano >= 1_000_000_000 {
        return None;
    }
    let mut out = String::with_capacity(31);
    digits(&mut out, year as u32, 4);
    out.push('-');
    digits(&mut out, t.month(), 2);
    out.push('-');
    digits(&mut out, t.day(), 2);
    out.push(if layout == Layout::Sql { ' ' } else { 'T' });
    digits(&mut out, t.hour(), 2);
    out.push(':');
    digits(&mut out, t.minute(), 2);
    out.push(':');
    digits(&mut out, t.second(), 2);
    // Both layouts show the fraction to the coarsest of milli-, micro- and nanoseconds
    // that holds it exactly, and nothing when it is zero.
    if nano != 0 {
        out.push('.');
        if nano.is_multiple_of(1_000_000) {
            digits(&mut out, nano / 1_000_000, 3);
        } else if nano.is_multiple_of(1_000) {
            digits(&mut out, nano / 1_000, 6);
        } else {
            digits(&mut out, nano, 9);
        }
    }
    if layout == Layout::Rfc3339Utc {
        out.push('Z');
    }
    Some(out)
}

/// Appends the last `width` decimal digits of `n`, zero-padded.
fn digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        let d = (n / 10u32.pow(place)) % 10;
        out.push(char::from(b'0' + d as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeDelta};
    use proptest::prelude::*;

    fn at(secs: i64, nanos: u32) -> NaiveDateTime {
        DateTime::from_timestamp(secs, nanos).unwrap().naive_utc()
    }

    fn chrono_serde(t: &NaiveDateTime) -> String {
        serde_json::to_value(t.and_utc())
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn every_fraction_width_matches_chrono() {
        for nanos in [
            0,
            5_000_000,
            120_000_000,
            160_356_000,
            1_000,
            7,
            999_999_999,
        ] {
            let t = at(1_796_543_628, nanos);
            assert_eq!(sql_text(&t), t.format("%F %T%.f").to_string());
            assert_eq!(rfc3339_utc(&t.and_utc()), chrono_serde(&t));
        }
        assert_eq!(sql_text(&at(1_796_543_628, 0)), "2026-12-06 07:53:48");
        assert_eq!(
            rfc3339_utc(&at(1_796_543_628, 160_356_000).and_utc()),
            "2026-12-06T07:53:48.160356Z"
        );
    }

    #[test]
    fn years_and_leap_seconds_beyond_the_fast_path_fall_back_to_chrono() {
        let far = NaiveDate::from_ymd_opt(12_000, 1, 2)
            .unwrap()
            .and_hms_opt(3, 4, 5)
            .unwrap();
        let early = NaiveDate::from_ymd_opt(-1, 1, 2)
            .unwrap()
            .and_hms_opt(3, 4, 5)
            .unwrap();
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap();
        for t in [far, early, leap] {
            assert!(fast(&t, Layout::Sql).is_none());
            assert_eq!(sql_text(&t), t.format("%F %T%.f").to_string());
            assert_eq!(rfc3339_utc(&t.and_utc()), chrono_serde(&t));
        }
    }

    #[test]
    fn a_field_serialised_with_it_reads_back_as_the_same_time() {
        #[derive(serde::Serialize)]
        struct Stamped {
            #[serde(serialize_with = "serialize_rfc3339")]
            at: DateTime<Utc>,
        }
        let at = at(1_796_543_628, 160_356_000).and_utc() + TimeDelta::days(400);
        let json = serde_json::to_value(Stamped { at }).unwrap();
        let back: DateTime<Utc> = serde_json::from_value(json["at"].clone()).unwrap();
        assert_eq!(back, at);
    }

    proptest! {
        #[test]
        fn both_layouts_match_chrono_byte_for_byte(
            secs in -62_167_219_200i64..253_402_300_799,
            nanos in prop_oneof![
                Just(0u32),
                (0u32..1_000).prop_map(|ms| ms * 1_000_000),
                (0u32..1_000_000).prop_map(|us| us * 1_000),
                0u32..1_000_000_000,
            ],
        ) {
            let t = at(secs, nanos);
            prop_assert_eq!(sql_text(&t), t.format("%F %T%.f").to_string());
            prop_assert_eq!(rfc3339_utc(&t.and_utc()), chrono_serde(&t));
        }
    }
}
