//! Serialised answers of stored-forecast reads, kept until the stored rows change. Dashboards
//! poll the same few queries; between refreshes the answer is the same bytes. Validity is
//! checked against the table itself (newest computation time and row count), so a row written
//! by another server of a PostgreSQL deployment invalidates the answer too.

use chrono::NaiveDateTime;
use std::collections::HashMap;
use std::sync::Mutex;

pub type Version = (Option<NaiveDateTime>, i64);

/// Distinct queries kept; beyond this the cache starts afresh (filters are few in practice).
const CAPACITY: usize = 256;

#[derive(Default)]
pub struct AnswerCache {
    answers: Mutex<HashMap<String, (Version, actix_web::web::Bytes)>>,
}

impl AnswerCache {
    pub fn get(&self, key: &str, version: &Version) -> Option<actix_web::web::Bytes> {
        let answers = self.answers.lock().ok()?;
        answers
            .get(key)
            .filter(|(v, _)| v == version)
            .map(|(_, b)| b.clone())
    }

    pub fn put(&self, key: String, version: Version, body: actix_web::web::Bytes) {
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
        let v1: Version = (None, 1);
        let v2: Version = (None, 2);
        c.put("q".into(), v1, "one".into());
        assert_eq!(c.get("q", &v1).as_deref(), Some(&b"one"[..]));
        assert!(c.get("q", &v2).is_none());
        assert!(c.get("other", &v1).is_none());
    }
}
