//! The shared configuration cache of seed `004` as pure merge logic: last writer wins by the
//! writer's `timestamp`, deterministic tie-breaks, TTL expiry and tombstones. No I/O here; the
//! HTTP routes (`routes/config_sync.rs`) load a [`SyncState`], apply changes and persist what
//! changed.
//!
//! Rules:
//! - A version wins over another when its `timestamp` (writer's milliseconds) is greater.
//! - **Ties** (equal `timestamp`): a delete wins over a value; between two values the one whose
//!   canonical JSON (object keys sorted, no whitespace) is greater byte-wise wins. Identical
//!   versions are no change. So every replica that sees the same writes ends with the same value,
//!   whatever the order they arrived in.
//! - `remove` stores a tombstone (`deleted: true`) so an older write arriving later loses.
//!   `clear` tombstones every key and raises a watermark: any write with a `timestamp` below it
//!   (or equal, deletes win ties) is refused, even for keys that did not exist at the clear.
//! - `ttl` is in seconds, counted from when the server accepted the version; `0` or absent never
//!   expires. An expired entry is never returned, but still takes part in ordering.
//! - Every accepted change gets a server change stamp `seq` (milliseconds, strictly increasing
//!   and never below the wall clock), and every sync answers with a `timestamp` no later write
//!   can reach: `updates` are the versions with `seq > lastSync`, so a client never misses a
//!   write made in the same millisecond as its last sync.
//! - **Retention**: tombstones and expired versions written before the retention cutoff are
//!   purged ([`SyncState::purge`]). Two watermarks keep that safe: a write to a key that has no
//!   entry loses when its `timestamp` is at or below the newest purged version's (it is older
//!   than something already forgotten), and a sync whose `lastSync` is below the newest purged
//!   change stamp gets every live entry with `full: true` — it may have missed a deletion, so it
//!   replaces its cache instead of merging.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest accepted key, in bytes.
pub const MAX_KEY_BYTES: usize = 512;

/// One stored version of a key (also the shape of a sync update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub key: String,
    /// `null` for a tombstone.
    pub value: Value,
    /// Seconds from `writtenAt`; `None` never expires.
    pub ttl: Option<u64>,
    /// The writer's timestamp (milliseconds): the last-writer-wins order.
    pub timestamp: i64,
    pub deleted: bool,
    /// Server change stamp when this version was accepted.
    pub seq: i64,
    /// Server wall clock (milliseconds) when accepted: the TTL's start.
    pub written_at: i64,
}

/// A write as a client sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub key: String,
    pub value: Value,
    pub ttl: Option<u64>,
    pub timestamp: i64,
    pub deleted: bool,
}

impl Change {
    pub fn set(key: &str, value: Value, ttl: Option<u64>, timestamp: i64) -> Change {
        Change {
            key: key.to_string(),
            value,
            ttl: ttl.filter(|t| *t > 0),
            timestamp,
            deleted: false,
        }
    }

    pub fn remove(key: &str, timestamp: i64) -> Change {
        Change {
            key: key.to_string(),
            value: Value::Null,
            ttl: None,
            timestamp,
            deleted: true,
        }
    }

    /// A key the cache accepts: not empty, at most [`MAX_KEY_BYTES`], no control characters.
    pub fn validate(&self) -> Result<(), String> {
        if self.key.trim().is_empty() {
            return Err("`key` must not be empty".into());
        }
        if self.key.len() > MAX_KEY_BYTES {
            return Err(format!("`key` is longer than {MAX_KEY_BYTES} bytes"));
        }
        if self.key.chars().any(char::is_control) {
            return Err("`key` must not contain control characters".into());
        }
        if self.timestamp < 0 {
            return Err("`timestamp` must not be negative".into());
        }
        Ok(())
    }
}

/// What applying one change did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The change won and is now the stored version.
    Accepted(Entry),
    /// The stored version (or the clear watermark) wins; the current version, if any.
    Rejected(Option<Entry>),
    /// The same version was already stored.
    Unchanged(Entry),
}

/// Canonical JSON: object keys sorted at every level, no whitespace.
pub fn canonical(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    if let Some(v) = map.get(key) {
                        write(v, out);
                    }
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// The last-writer-wins order of two versions `(timestamp, deleted, value)`.
pub fn compare(a: (i64, bool, &Value), b: (i64, bool, &Value)) -> Ordering {
    a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then_with(|| {
        if a.1 && b.1 {
            Ordering::Equal
        } else {
            canonical(a.2).cmp(&canonical(b.2))
        }
    })
}

impl Entry {
    /// Whether the version has expired at `now` (milliseconds).
    pub fn expired(&self, now: i64) -> bool {
        match self.ttl {
            Some(ttl) if ttl > 0 => {
                let ms = i64::try_from(ttl).unwrap_or(i64::MAX).saturating_mul(1000);
                now >= self.written_at.saturating_add(ms)
            }
            _ => false,
        }
    }

    /// When it expires (milliseconds), if ever.
    pub fn expires_at(&self) -> Option<i64> {
        self.ttl.filter(|t| *t > 0).map(|ttl| {
            self.written_at
                .saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX).saturating_mul(1000))
        })
    }

    fn same_version(&self, change: &Change) -> bool {
        self.timestamp == change.timestamp
            && self.deleted == change.deleted
            && (self.deleted || canonical(&self.value) == canonical(&change.value))
    }
}

/// The whole cache: every key's winning version, the change clock and the clear watermark.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncState {
    pub entries: BTreeMap<String, Entry>,
    /// The highest change stamp or sync timestamp handed out.
    pub clock: i64,
    /// Writes with a timestamp below this lost to a `clear`.
    pub cleared_at: Option<i64>,
    /// Newest writer `timestamp` among purged versions: writes to absent keys at or below it lose.
    pub purged_timestamp: Option<i64>,
    /// Newest change stamp among purged versions: a sync from before it must start over.
    pub purged_seq: Option<i64>,
}

impl SyncState {
    /// The next change stamp: never below `now`, always above anything handed out.
    fn tick(&mut self, now: i64) -> i64 {
        self.clock = now.max(self.clock.saturating_add(1));
        self.clock
    }

    /// A sync's answer timestamp: at least `now`, and every later change stamp is above it.
    pub fn sync_timestamp(&mut self, now: i64) -> i64 {
        self.clock = self.clock.max(now);
        self.clock
    }

    /// Applies one change at server time `now`.
    pub fn apply(&mut self, change: Change, now: i64) -> Applied {
        if let Some(current) = self.entries.get(&change.key) {
            if current.same_version(&change) {
                return Applied::Unchanged(current.clone());
            }
            let order = compare(
                (change.timestamp, change.deleted, &change.value),
                (current.timestamp, current.deleted, &current.value),
            );
            if order != Ordering::Greater {
                return Applied::Rejected(Some(current.clone()));
            }
        }
        if !self.entries.contains_key(&change.key)
            && self.purged_timestamp.is_some_and(|t| change.timestamp <= t)
        {
            return Applied::Rejected(None);
        }
        if let Some(cleared) = self.cleared_at {
            let loses =
                change.timestamp < cleared || (change.timestamp == cleared && !change.deleted);
            if loses {
                return Applied::Rejected(self.entries.get(&change.key).cloned());
            }
        }
        let entry = Entry {
            key: change.key.clone(),
            value: if change.deleted {
                Value::Null
            } else {
                change.value
            },
            ttl: if change.deleted {
                None
            } else {
                change.ttl.filter(|t| *t > 0)
            },
            timestamp: change.timestamp,
            deleted: change.deleted,
            seq: self.tick(now),
            written_at: now,
        };
        self.entries.insert(change.key, entry.clone());
        Applied::Accepted(entry)
    }

    /// Tombstones every key older than `timestamp` and refuses older writes from now on.
    /// Returns the new tombstones.
    pub fn clear(&mut self, timestamp: i64, now: i64) -> Vec<Entry> {
        self.cleared_at = Some(self.cleared_at.map_or(timestamp, |c| c.max(timestamp)));
        let keys: Vec<String> = self.entries.keys().cloned().collect();
        let mut out = Vec::new();
        for key in keys {
            if let Applied::Accepted(entry) = self.apply(Change::remove(&key, timestamp), now) {
                out.push(entry);
            }
        }
        out
    }

    /// An administrator's repair, outside last-writer-wins: `key` becomes a tombstone stamped
    /// with the server's `now` (so any later write with a sane clock wins), and the clear and
    /// purge watermarks are pulled back to `now` if a wrong clock pushed them past it. Returns
    /// the tombstone, or `None` when the key has no entry.
    pub fn force_delete(&mut self, key: &str, now: i64) -> Option<Entry> {
        self.cleared_at = self.cleared_at.map(|c| c.min(now));
        self.purged_timestamp = self.purged_timestamp.map(|t| t.min(now));
        if !self.entries.contains_key(key) {
            return None;
        }
        let entry = Entry {
            key: key.to_string(),
            value: Value::Null,
            ttl: None,
            timestamp: now,
            deleted: true,
            seq: self.tick(now),
            written_at: now,
        };
        self.entries.insert(key.to_string(), entry.clone());
        Some(entry)
    }

    /// Forgets tombstones and expired versions written before `cutoff` (server milliseconds);
    /// returns their keys. See the module's retention rule for what keeps this safe.
    pub fn purge(&mut self, cutoff: i64, now: i64) -> Vec<String> {
        let gone: Vec<String> = self
            .entries
            .values()
            .filter(|e| e.written_at < cutoff && (e.deleted || e.expired(now)))
            .map(|e| e.key.clone())
            .collect();
        for key in &gone {
            if let Some(entry) = self.entries.remove(key) {
                self.purged_timestamp = Some(
                    self.purged_timestamp
                        .map_or(entry.timestamp, |t| t.max(entry.timestamp)),
                );
                self.purged_seq = Some(self.purged_seq.map_or(entry.seq, |s| s.max(entry.seq)));
            }
        }
        gone
    }

    /// Whether a client that last synced at `last_sync` may have missed a purged deletion and
    /// must replace its cache (`0` is a first sync: it has nothing to replace).
    pub fn needs_full_sync(&self, last_sync: i64) -> bool {
        last_sync > 0 && self.purged_seq.is_some_and(|s| last_sync < s)
    }

    /// Versions changed after `last_sync` that have not expired at `now`, minus the ones the
    /// client already has (`known`: exactly the version it sent).
    pub fn updates_since(&self, last_sync: i64, now: i64, known: &[Change]) -> Vec<Entry> {
        self.entries
            .values()
            .filter(|e| e.seq > last_sync && !e.expired(now))
            .filter(|e| !known.iter().any(|k| k.key == e.key && e.same_version(k)))
            .cloned()
            .collect()
    }

    /// The live (not deleted, not expired) entries at `now`.
    pub fn live(&self, now: i64) -> impl Iterator<Item = &Entry> {
        self.entries
            .values()
            .filter(move |e| !e.deleted && !e.expired(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn accepted(applied: &Applied) -> bool {
        matches!(applied, Applied::Accepted(_))
    }

    #[test]
    fn purge_forgets_old_tombstones_and_expired_versions_but_not_their_order() {
        let mut s = SyncState::default();
        s.apply(Change::set("live", json!(1), None, 10), 100);
        s.apply(Change::set("gone", json!(1), None, 10), 100);
        s.apply(Change::remove("gone", 20), 200);
        s.apply(Change::set("brief", json!(1), Some(1), 30), 300);
        s.apply(Change::remove("recent", 40), 5_000);
        let stamp_before = s.clock;
        let mut purged = s.purge(4_000, 5_000);
        purged.sort();
        assert_eq!(purged, ["brief", "gone"]);
        assert!(s.entries.contains_key("live") && s.entries.contains_key("recent"));
        assert_eq!(s.purged_timestamp, Some(30));
        // A late write older than what was forgotten cannot bring the key back...
        assert!(matches!(
            s.apply(Change::set("gone", json!(2), None, 15), 6_000),
            Applied::Rejected(None)
        ));
        assert!(matches!(
            s.apply(Change::set("other", json!(2), None, 30), 6_000),
            Applied::Rejected(None)
        ));
        // ...a newer one can, and keys that still have entries keep their own order.
        assert!(accepted(
            &s.apply(Change::set("gone", json!(3), None, 31), 6_000)
        ));
        assert!(accepted(
            &s.apply(Change::set("live", json!(4), None, 11), 6_000)
        ));
        // A client that synced before the purged versions' stamps must start over.
        assert!(s.needs_full_sync(1));
        assert!(!s.needs_full_sync(0), "a first sync has nothing to replace");
        assert!(!s.needs_full_sync(stamp_before));
        assert!(s.purge(4_000, 6_000).is_empty(), "nothing more to forget");
    }

    #[test]
    fn last_writer_wins_by_timestamp_in_any_order() {
        let mut a = SyncState::default();
        assert!(accepted(
            &a.apply(Change::set("k", json!(1), None, 10), 100)
        ));
        assert!(accepted(
            &a.apply(Change::set("k", json!(2), None, 20), 100)
        ));
        assert!(!accepted(
            &a.apply(Change::set("k", json!(3), None, 15), 100)
        ));
        assert_eq!(a.entries["k"].value, json!(2));

        let mut b = SyncState::default();
        b.apply(Change::set("k", json!(3), None, 15), 100);
        b.apply(Change::set("k", json!(2), None, 20), 100);
        b.apply(Change::set("k", json!(1), None, 10), 100);
        assert_eq!(b.entries["k"].value, json!(2));
    }

    #[test]
    fn ties_are_deterministic_and_deletes_win() {
        let one = json!({"b": 1, "a": "x"});
        let two = json!({"a": "y"});
        for order in [[&one, &two], [&two, &one]] {
            let mut s = SyncState::default();
            for v in order {
                s.apply(Change::set("k", v.clone(), None, 5), 0);
            }
            // `{"a":"y"}` > `{"a":"x","b":1}` byte-wise.
            assert_eq!(s.entries["k"].value, two);
            s.apply(Change::remove("k", 5), 0);
            assert!(s.entries["k"].deleted, "a delete wins a tie");
            assert!(!accepted(
                &s.apply(Change::set("k", json!("z"), None, 5), 0)
            ));
        }
        assert_eq!(
            canonical(&json!({"b": [1, {"d": 2, "c": 1}], "a": null})),
            r#"{"a":null,"b":[1,{"c":1,"d":2}]}"#
        );
    }

    #[test]
    fn same_version_is_unchanged() {
        let mut s = SyncState::default();
        s.apply(Change::set("k", json!({"x": 1}), Some(60), 5), 0);
        let again = s.apply(Change::set("k", json!({"x": 1}), Some(60), 5), 0);
        assert!(matches!(again, Applied::Unchanged(_)));
    }

    #[test]
    fn tombstones_stop_resurrection() {
        let mut s = SyncState::default();
        s.apply(Change::set("k", json!(1), None, 10), 0);
        assert!(accepted(&s.apply(Change::remove("k", 20), 0)));
        assert!(!accepted(&s.apply(Change::set("k", json!(2), None, 15), 0)));
        assert!(accepted(&s.apply(Change::set("k", json!(3), None, 25), 0)));

        s.apply(Change::set("other", json!(1), None, 40), 0);
        let cleared = s.clear(30, 0);
        assert_eq!(cleared.len(), 1, "k (25) is cleared, other (40) is newer");
        assert!(s.entries["k"].deleted && !s.entries["other"].deleted);
        // A key unknown at the clear, written before it, stays out.
        assert!(!accepted(
            &s.apply(Change::set("new", json!(1), None, 29), 0)
        ));
        assert!(!accepted(
            &s.apply(Change::set("new", json!(1), None, 30), 0)
        ));
        assert!(accepted(
            &s.apply(Change::set("new", json!(1), None, 31), 0)
        ));
    }

    #[test]
    fn ttl_expiry_and_updates_since() {
        let mut s = SyncState::default();
        s.apply(Change::set("short", json!(1), Some(60), 1), 1_000);
        s.apply(Change::set("forever", json!(1), Some(0), 1), 1_000);
        assert_eq!(s.entries["short"].expires_at(), Some(61_000));
        assert_eq!(s.updates_since(0, 60_999, &[]).len(), 2);
        let later = s.updates_since(0, 61_000, &[]);
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].key, "forever");
        assert_eq!(s.live(61_000).count(), 1);
    }

    #[test]
    fn sync_timestamps_never_hide_a_later_write() {
        let mut s = SyncState::default();
        s.apply(Change::set("a", json!(1), None, 1), 500);
        let t = s.sync_timestamp(500);
        assert!(s.updates_since(t, 500, &[]).is_empty());
        // Same millisecond, after the sync: still seen by the next sync.
        s.apply(Change::set("b", json!(1), None, 1), 500);
        let next = s.updates_since(t, 500, &[]);
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].key, "b");
        // What the client itself sent is not echoed back.
        let sent = Change::set("b", json!(1), None, 1);
        assert!(s.updates_since(t, 500, &[sent]).is_empty());
    }

    #[test]
    fn force_delete_unpins_a_key_stamped_in_the_future() {
        let mut s = SyncState::default();
        let year_5138 = 100_000_000_000_000;
        assert!(accepted(
            &s.apply(Change::set("k", json!(1), None, year_5138), 1000)
        ));
        s.clear(year_5138, 1001);
        assert!(!accepted(
            &s.apply(Change::set("k", json!(2), None, 2000), 1002)
        ));
        let tombstone = s.force_delete("k", 1500);
        assert!(tombstone.is_some_and(|t| t.deleted && t.timestamp == 1500));
        assert_eq!(s.cleared_at, Some(1500));
        assert!(accepted(
            &s.apply(Change::set("k", json!(2), None, 2000), 1600)
        ));
        assert!(accepted(
            &s.apply(Change::set("other", json!(3), None, 2000), 1600)
        ));
        assert_eq!(s.force_delete("absent", 1700), None);
    }

    #[test]
    fn keys_are_validated() {
        assert!(Change::set("", json!(1), None, 1).validate().is_err());
        assert!(Change::set("a\nb", json!(1), None, 1).validate().is_err());
        assert!(
            Change::set(&"k".repeat(513), json!(1), None, 1)
                .validate()
                .is_err()
        );
        assert!(Change::set("k", json!(1), None, -1).validate().is_err());
        assert!(
            Change::set("user_data", json!(1), None, 1)
                .validate()
                .is_ok()
        );
    }
}
