//! Serialised answers of stored-forecast reads, kept until the stored rows change. Dashboards
//! poll the same few queries; between refreshes the answer is the same bytes. Validity is
//! checked against the tables themselves (see `forecasts::Version`), so a row written
//! by another server of a PostgreSQL deployment invalidates the answer too.

use ppe_persistence::forecasts::ForecastFilter;
pub use ppe_persistence::forecasts::Version;
use std::collections::HashMap;
use std::sync::Mutex;

/// Which answer: the read and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AnswerKey {
    SupplyStatus(ForecastFilter),
    /// Totals per district (`true`) or over the municipality, with their filter.
    Aggregates {
        by_district: bool,
        filter: ForecastFilter,
    },
}

/// A serialised answer and the number of stored rows it was made from.
pub type Answer = (actix_web::web::Bytes, usize);

/// Distinct queries kept; beyond this the cache starts afresh (filters are few in practice).
const CAPACITY: usize = 256;

#[derive(Default)]
pub struct AnswerCache {
    answers: Mutex<HashMap<AnswerKey, (Version, Answer)>>,
}

impl AnswerCache {
    pub fn get(&self, key: &AnswerKey, version: &Version) -> Option<Answer> {
        let answers = self.answers.lock().ok()?;
        answers
            .get(key)
            .filter(|(v, _)| v == version)
            .map(|(_, b)| b.clone())
    }

    pub fn put(&self, key: AnswerKey, version: Version, body: Answer) {
        if let Ok(mut answers) = self.answers.lock() {
            if answers.len() >= CAPACITY && !answers.contains_key(&key) {
                answers.clear();
            }
            answers.insert(key, (version, body));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_served_only_for_the_version_it_was_made_from() {
        let c = AnswerCache::default();
        let v1: Version = (None, 1, None);
        let v2: Version = (None, 1, Some(7));
        let q = AnswerKey::SupplyStatus(ForecastFilter::default());
        let other = AnswerKey::Aggregates {
            by_district: true,
            filter: ForecastFilter::default(),
        };
        c.put(q.clone(), v1, ("one".into(), 1));
        assert_eq!(c.get(&q, &v1), Some(("one".into(), 1)));
        assert!(c.get(&q, &v2).is_none());
        assert!(c.get(&other, &v1).is_none());
    }
}
