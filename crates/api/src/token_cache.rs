//! Resolved API tokens, kept per process so that a request with a known token needs no
//! database round trip (on the write path that look-up cost as much as the write).
//!
//! What makes a cached token trustworthy is the number of revoked tokens in the
//! database: tokens are never un-revoked or deleted and their role and scope never
//! change, so while that number stands still, no token has changed in a way that
//! matters. A cached token is used only within [`RECHECK`] of the last time that number
//! was read; the first request after that reads it again (beside its own look-up), and
//! a changed number drops every entry. A revocation made by this process drops them at
//! once. Expiry is checked on every request from the cached expiry time.
//!
//! So a revoked token is refused on the very next request by the process that revoked
//! it, and within [`RECHECK`] by every other (another replica, or `ppe token revoke`).

use ppe_domain::access::TokenInfo;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a reading of the revoked-token count vouches for cached tokens.
pub const RECHECK: Duration = Duration::from_secs(1);
/// Above this many tokens the cache starts again (bounds memory; there are few tokens).
const MAX_ENTRIES: usize = 10_000;

/// The token cache of one process.
#[derive(Default)]
pub struct TokenCache {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The revoked-token count last read, and when its reading began.
    revoked: Option<(i64, Instant)>,
    /// Moves on whenever the entries are dropped: a look-up that began under an older
    /// generation may have read a token before its revocation and is not kept.
    generation: u64,
    entries: HashMap<String, TokenInfo>,
}

/// What a look-up must remember to store its result: see [`TokenCache::begin`].
#[derive(Debug, Clone, Copy)]
pub struct Lookup {
    generation: u64,
    started: Instant,
}

impl TokenCache {
    /// The token whose secret hashes to `hash`, when cached and vouched for at `now`.
    pub fn get(&self, hash: &str, now: Instant) -> Option<TokenInfo> {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (_, read_at) = s.revoked?;
        if now.saturating_duration_since(read_at) >= RECHECK {
            return None;
        }
        s.entries.get(hash).cloned()
    }

    /// Call before reading the revoked-token count and the token (in that order).
    pub fn begin(&self, now: Instant) -> Lookup {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        Lookup {
            generation: s.generation,
            started: now,
        }
    }

    /// Keeps what a look-up read: the revoked-token count, then the token (none for an
    /// unknown hash, which is not cached).
    pub fn store(&self, lookup: Lookup, revoked: i64, hash: String, token: Option<TokenInfo>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.generation != lookup.generation {
            return;
        }
        if s.revoked.map(|(n, _)| n) != Some(revoked) {
            s.entries.clear();
            s.generation += 1;
        }
        if s.revoked.is_none_or(|(_, at)| at < lookup.started) {
            s.revoked = Some((revoked, lookup.started));
        }
        if let Some(t) = token {
            if s.entries.len() >= MAX_ENTRIES {
                s.entries.clear();
            }
            s.entries.insert(hash, t);
        }
    }

    /// Drops every entry: this process revoked a token.
    pub fn forget_all(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.entries.clear();
        s.revoked = None;
        s.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ppe_domain::access::Role;

    fn token(id: i64) -> TokenInfo {
        TokenInfo {
            id,
            name: format!("t{id}"),
            role: Role::Admin,
            sites: vec![],
            created_at: chrono::Utc::now(),
            expires_at: None,
            revoked_at: None,
            last_used_at: None,
        }
    }

    #[test]
    fn a_token_is_served_only_while_the_revocation_count_is_fresh() {
        let c = TokenCache::default();
        let t0 = Instant::now();
        assert!(c.get("h", t0).is_none());
        let l = c.begin(t0);
        c.store(l, 3, "h".into(), Some(token(1)));
        assert_eq!(c.get("h", t0 + RECHECK / 2).map(|t| t.id), Some(1));
        assert!(c.get("other", t0).is_none());
        assert!(c.get("h", t0 + RECHECK).is_none());
    }

    #[test]
    fn a_new_revocation_count_drops_every_token() {
        let c = TokenCache::default();
        let t0 = Instant::now();
        c.store(c.begin(t0), 3, "a".into(), Some(token(1)));
        let t1 = t0 + RECHECK;
        c.store(c.begin(t1), 4, "b".into(), Some(token(2)));
        assert!(
            c.get("a", t1).is_none(),
            "a token cached before the revocation"
        );
        assert_eq!(c.get("b", t1).map(|t| t.id), Some(2));
    }

    #[test]
    fn a_look_up_overtaken_by_a_local_revocation_is_not_kept() {
        let c = TokenCache::default();
        let t0 = Instant::now();
        c.store(c.begin(t0), 0, "a".into(), Some(token(1)));
        let slow = c.begin(t0);
        c.forget_all();
        assert!(c.get("a", t0).is_none());
        // The slow look-up read the token before it was revoked.
        c.store(slow, 0, "a".into(), Some(token(1)));
        assert!(c.get("a", t0).is_none());
    }

    #[test]
    fn unknown_tokens_are_not_cached() {
        let c = TokenCache::default();
        let t0 = Instant::now();
        c.store(c.begin(t0), 0, "x".into(), None);
        assert!(c.get("x", t0).is_none());
    }
}
