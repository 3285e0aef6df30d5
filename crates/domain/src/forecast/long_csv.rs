//! The long CSV layout `unique_id,ds,y` (header, dates `YYYY-MM-DD`): parsing into
//! [`Series`] with the date step detected per series. Pure: takes the text, does no I/O.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{
    batch::Series,
    dates::{DateStep, detect_step},
};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LongCsvError {
    #[error("CSV: {0}")]
    Csv(String),
    #[error("missing column {0:?} in the header")]
    MissingColumn(&'static str),
    #[error("line {line}: bad date {value:?} (want YYYY-MM-DD)")]
    BadDate { line: u64, value: String },
    #[error("line {line}: bad value {value:?} (want a number ≥ 0 or empty)")]
    BadValue { line: u64, value: String },
    #[error("series {id:?}: date {date} appears twice")]
    DuplicateDate { id: String, date: NaiveDate },
    #[error("series {id:?}: date {date} is off the series' {step:?} grid")]
    OffGrid {
        id: String,
        date: NaiveDate,
        step: DateStep,
    },
}

/// One row of a series: its date and value (`None` when empty).
type DatedValue = (NaiveDate, Option<f64>);

/// Fast path for the fixed `YYYY-MM-DD` layout (chrono's format parser is slower).
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// Parses the long CSV. Rows may come in any order; series keep the order of their first row.
/// An empty `y` is read as unknown (censored). Gaps between dates become unknown values too.
/// A series with a single month-start date takes the step most other series use.
pub fn parse_long_csv(text: &str) -> Result<Vec<Series>, LongCsvError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| LongCsvError::Csv(e.to_string()))?
        .clone();
    let col = |name: &'static str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or(LongCsvError::MissingColumn(name))
    };
    let (c_id, c_ds, c_y) = (col("unique_id")?, col("ds")?, col("y")?);
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut rows: Vec<(String, Vec<DatedValue>)> = Vec::new();
    // Byte records skip per-field UTF-8 checks (the input is already a `&str`); only the id is
    // converted, and only when it changes.
    let mut rec = csv::ByteRecord::new();
    let mut last: Option<usize> = None;
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| LongCsvError::Csv(e.to_string()))?
    {
        let line = rec.position().map_or(0, |p| p.line());
        let field = |c: usize| std::str::from_utf8(rec.get(c).unwrap_or(b"")).unwrap_or("");
        let id = field(c_id);
        let ds = field(c_ds).trim();
        let ys = field(c_y).trim();
        let date = parse_date(ds).ok_or_else(|| LongCsvError::BadDate {
            line,
            value: ds.to_string(),
        })?;
        let value = if ys.is_empty() {
            None
        } else {
            match ys.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
                _ => {
                    return Err(LongCsvError::BadValue {
                        line,
                        value: ys.to_string(),
                    });
                }
            }
        };
        // Sorted input is the common case: avoid hashing when the id repeats.
        let slot = match last {
            Some(i) if rows[i].0 == id => i,
            _ => *index.entry(id.to_string()).or_insert_with(|| {
                rows.push((id.to_string(), Vec::new()));
                rows.len() - 1
            }),
        };
        last = Some(slot);
        rows[slot].1.push((date, value));
    }
    let mut detected: Vec<Option<DateStep>> = Vec::with_capacity(rows.len());
    for (id, obs) in &mut rows {
        obs.sort_by_key(|r| r.0);
        if let Some(w) = obs.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(LongCsvError::DuplicateDate {
                id: id.clone(),
                date: w[0].0,
            });
        }
        let dates: Vec<NaiveDate> = obs.iter().map(|r| r.0).collect();
        detected.push(detect_step(&dates));
    }
    let monthly = detected
        .iter()
        .filter(|s| **s == Some(DateStep::MonthStart))
        .count();
    let daily = detected
        .iter()
        .filter(|s| **s == Some(DateStep::Day))
        .count();
    let default = if monthly > daily {
        DateStep::MonthStart
    } else {
        DateStep::Day
    };
    rows.into_iter()
        .zip(detected)
        .map(|((id, obs), step)| {
            let step = step.unwrap_or(default);
            let Some(&(start, _)) = obs.first() else {
                return Err(LongCsvError::Csv(format!("series {id:?} has no rows")));
            };
            let mut values = Vec::with_capacity(obs.len());
            for (date, v) in obs {
                let k = step
                    .steps_between(start, date)
                    .ok_or_else(|| LongCsvError::OffGrid {
                        id: id.clone(),
                        date,
                        step,
                    })?;
                values.resize(k, None);
                values.push(v);
            }
            Ok(Series {
                id,
                start,
                step,
                values,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_ids_gaps_and_steps() {
        let text = "unique_id,ds,y\n\"A, b\",2021-01-01,1\n\"A, b\",2021-01-03,2\nM,2021-01-01,5\nM,2021-03-01,\n";
        let s = parse_long_csv(text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].id, "A, b");
        assert_eq!(s[0].step, DateStep::Day);
        assert_eq!(s[0].values, vec![Some(1.0), None, Some(2.0)]);
        assert_eq!(s[1].step, DateStep::MonthStart);
        assert_eq!(s[1].values, vec![Some(5.0), None, None]);
        assert_eq!(
            s[1].last_date(),
            NaiveDate::from_ymd_opt(2021, 3, 1).unwrap()
        );
    }

    #[test]
    fn rejects_duplicates_and_bad_values() {
        assert!(matches!(
            parse_long_csv("unique_id,ds,y\na,2021-01-01,1\na,2021-01-01,2\n"),
            Err(LongCsvError::DuplicateDate { .. })
        ));
        assert!(matches!(
            parse_long_csv("unique_id,ds,y\na,2021-01-01,-1\n"),
            Err(LongCsvError::BadValue { .. })
        ));
        assert!(matches!(
            parse_long_csv("unique_id,ds,y\na,01/02/2021,1\n"),
            Err(LongCsvError::BadDate { .. })
        ));
    }
}
