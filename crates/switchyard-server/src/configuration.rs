//! `POST /coordinate-configuration`'s view of the fleet's env facts: for each key, the distinct
//! values (compared by the hash of the real value, shown redacted) and which repositories and
//! locations hold each. Pure over a [`Snapshot`]; values are never read here, only the facts'
//! redacted `display` and `value_hash`, and secret keys are shown as `***` whatever the display.
//!
//! The facts' `value_hash` is a plain blake3 of the value, so for a secret it would let anyone
//! with read access confirm a guess offline (`blake3("changeme")`). Values of secret keys, and
//! values with a redacted part (URL passwords), are therefore shown with [`keyed_hash`]: equal
//! values still compare equal within one server run, but the hash says nothing without the
//! server's random per-process key.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};
use switchyard_model::redact::{REDACTED, is_secret_key, redact_passwords};

use crate::analysis::Snapshot;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyConfiguration {
    pub key: String,
    /// One value (or none) across the repositories that define the key.
    pub consistent: bool,
    pub secret: bool,
    pub repositories: Vec<String>,
    /// Most widely used first.
    pub values: Vec<ValueUse>,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValueUse {
    pub value_hash: String,
    /// Redacted when the key is secret; URL passwords always redacted.
    pub display: String,
    pub repositories: Vec<String>,
    /// `repo/path:line:column`.
    pub locations: Vec<String>,
}

/// HMAC-SHA256 of a fact's value hash with a random key made once per process.
pub fn keyed_hash(value_hash: &str) -> String {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        use std::io::Read;
        let mut seed = Sha256::new();
        let mut random = [0u8; 32];
        if let Ok(mut urandom) = std::fs::File::open("/dev/urandom")
            && urandom.read_exact(&mut random).is_ok()
        {
            seed.update(random);
        }
        // The standard library's per-process random SipHash keys, where there is no urandom.
        for n in 0..4u8 {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u8(n);
            seed.update(hasher.finish().to_le_bytes());
        }
        seed.update(std::process::id().to_le_bytes());
        seed.finalize().into()
    });
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return REDACTED.to_string();
    };
    mac.update(value_hash.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a value's hash must not be shown as is: a secret key, or a partly redacted value.
fn hide_hash(key: &str, display: &str) -> bool {
    is_secret_key(key) || display.contains(REDACTED)
}

/// Whether a value can be compared (not empty, not an unresolved `${VAR}`), as env drift does.
fn comparable(display: &str) -> bool {
    let d = display.trim();
    !d.is_empty() && !d.contains("${")
}

/// The configurations of `repositories`: the keys asked for, or (without `keys`) every key at
/// least two of them define. Sorted by key.
pub fn coordinate(
    snapshot: &Snapshot,
    repositories: &[String],
    keys: Option<&[String]>,
) -> Vec<KeyConfiguration> {
    // key → value hash → (display, shown hash, repositories, locations)
    type Values = BTreeMap<String, (String, String, BTreeSet<String>, BTreeSet<String>)>;
    let mut by_key: BTreeMap<String, Values> = BTreeMap::new();
    for name in repositories {
        let Some(facts) = snapshot.facts_of(name) else {
            continue;
        };
        for entry in facts.env.iter().filter(|e| comparable(&e.display)) {
            if keys.is_some_and(|keys| !keys.iter().any(|k| k == &entry.key)) {
                continue;
            }
            let slot = by_key
                .entry(entry.key.clone())
                .or_default()
                .entry(entry.value_hash.clone())
                .or_insert_with(|| {
                    let display = if is_secret_key(&entry.key) {
                        REDACTED.to_string()
                    } else {
                        redact_passwords(&entry.display)
                    };
                    let shown = if hide_hash(&entry.key, &display) {
                        keyed_hash(&entry.value_hash)
                    } else {
                        entry.value_hash.clone()
                    };
                    (display, shown, BTreeSet::new(), BTreeSet::new())
                });
            slot.2.insert(name.clone());
            slot.3.insert(entry.location.to_string());
        }
    }
    by_key
        .into_iter()
        .filter_map(|(key, values)| {
            let repos: BTreeSet<String> = values.values().flat_map(|v| v.2.clone()).collect();
            if keys.is_none() && repos.len() < 2 {
                return None;
            }
            let mut values: Vec<ValueUse> = values
                .into_iter()
                .map(|(_, (display, hash, repos, locations))| ValueUse {
                    value_hash: hash,
                    display,
                    repositories: repos.into_iter().collect(),
                    locations: locations.into_iter().collect(),
                })
                .collect();
            values.sort_by(|a, b| {
                b.repositories
                    .len()
                    .cmp(&a.repositories.len())
                    .then(a.value_hash.cmp(&b.value_hash))
            });
            Some(KeyConfiguration {
                consistent: values.len() <= 1,
                secret: is_secret_key(&key),
                repositories: repos.into_iter().collect(),
                key,
                values,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_hashes_compare_equal_but_hide_the_plain_hash() {
        let plain = "5f351877c0c3d4137aadfdaf3d7288f9effeb01ea076b4b5ca801b7e227b0fd9";
        assert_eq!(keyed_hash(plain), keyed_hash(plain));
        assert_ne!(keyed_hash(plain), plain);
        assert_ne!(keyed_hash(plain), keyed_hash("another"));
        assert_eq!(keyed_hash(plain).len(), 64);
        assert!(hide_hash("SESSION_SECRET", "x"));
        assert!(hide_hash("DATABASE_URL", "postgres://api:***@db/api"));
        assert!(!hide_hash("DATABASE_URL", "postgres://api@db/api"));
    }
}
