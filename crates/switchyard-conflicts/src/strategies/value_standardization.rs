//! `value-standardization`: the value most repositories use wins (ties: the repository listed
//! first in the fleet), and every other occurrence is rewritten to it. Never for secrets.

use super::common::{Files, resolution};
use super::{FileSource, Strategy};
use crate::detect::index::and_list;
use crate::{Conflict, ConflictKind, FleetInput, Occurrence, Resolution};
use std::collections::{BTreeMap, HashSet};
use switchyard_model::redact::{is_secret_key, redact_value};
use switchyard_model::{EnvEntry, Location};

/// The value the fleet agrees on most, with its real text (read from a file, never `display`).
pub(crate) struct Winner<'c, 'm> {
    pub key: String,
    pub text: String,
    /// Printable form (redacted like every output).
    pub display: String,
    pub repositories: Vec<String>,
    /// Occurrences holding another value, with their env entries.
    pub losers: Vec<(&'c Occurrence, &'m EnvEntry)>,
}

/// Per value hash: the repositories using it and the occurrences holding it.
type Holders<'a, 'c, 'm> = (Vec<&'a str>, Vec<&'a (&'c Occurrence, &'m EnvEntry)>);

/// The env entry recorded at an occurrence's location.
fn entry_at<'m>(input: FleetInput<'m>, occurrence: &Occurrence) -> Option<&'m EnvEntry> {
    input
        .facts_of(&occurrence.repository)?
        .env
        .iter()
        .find(|e| {
            e.location.path == occurrence.location.path
                && e.location.span == occurrence.location.span
        })
}

/// Whether `text` is (or holds) a URL with a user or password (`scheme://user:pass@host`): the
/// values then name accounts, and copying one repository's account into another is a decision
/// for a person, not an automatic fix.
fn carries_credentials(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let after = &rest[at + 3..];
        let authority_end = after
            .find(['/', '?', '#', ' ', '"', '\''])
            .unwrap_or(after.len());
        if after[..authority_end].contains('@') {
            return true;
        }
        rest = after;
    }
    false
}

fn hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// Picks the winning value of an env drift conflict. `None` for secret keys, values carrying a
/// password, or when no file holds the winning value verbatim.
pub(crate) fn winning_value<'c, 'm>(
    conflict: &'c Conflict,
    input: FleetInput<'m>,
    files: &Files<'_>,
) -> Option<Winner<'c, 'm>> {
    if conflict.kind != ConflictKind::EnvDrift {
        return None;
    }
    let order = |repo: &str| input.repository_index(repo).unwrap_or(usize::MAX);
    let mut entries = Vec::new();
    for o in &conflict.occurrences {
        entries.push((o, entry_at(input, o)?));
    }
    let key = entries.first()?.1.key.clone();
    if is_secret_key(&key) || entries.iter().any(|(_, e)| e.key != key) {
        return None;
    }
    let mut by_value: BTreeMap<&str, Holders<'_, '_, '_>> = BTreeMap::new();
    // (value, repository) pairs already counted: a conflict can have thousands of occurrences.
    let mut counted: HashSet<(&str, &str)> = HashSet::new();
    for pair in &entries {
        let value = pair.1.value_hash.as_str();
        let slot = by_value.entry(value).or_default();
        if counted.insert((value, pair.0.repository.as_str())) {
            slot.0.push(&pair.0.repository);
        }
        slot.1.push(pair);
    }
    if by_value.len() < 2 {
        return None;
    }
    let (hash_won, (repos, holders)) = by_value.iter().min_by_key(|(_, (repos, _))| {
        let first = repos.iter().map(|r| order(r)).min().unwrap_or(usize::MAX);
        (std::cmp::Reverse(repos.len()), first)
    })?;
    // The real text, from a place that holds it verbatim (not interpolated or escaped).
    let text = holders
        .iter()
        .filter_map(|(o, _)| files.text_at(&o.location))
        .find(|t| hash(t) == *hash_won)?;
    if redact_value(&key, &text) != text {
        return None;
    }
    let mut repositories: Vec<String> = repos.iter().map(|r| r.to_string()).collect();
    repositories.sort_by_key(|r| order(r));
    let losers = entries
        .iter()
        .filter(|(_, e)| e.value_hash != *hash_won)
        .map(|(o, e)| (*o, *e))
        .collect();
    Some(Winner {
        display: holders.first().map(|(_, e)| e.display.clone())?,
        key,
        text,
        repositories,
        losers,
    })
}

/// `value` written where `location` sits: inside `"…"`, `'…'` or bare, in YAML, `.env` or
/// another format. `None` when it cannot be written there without quoting changes.
pub(crate) fn encode_for(value: &str, location: &Location, file_text: &str) -> Option<String> {
    if value.is_empty() || value.chars().any(char::is_control) {
        return None;
    }
    let before = file_text
        .get(..location.span.start)
        .and_then(|t| t.chars().next_back());
    let after = file_text
        .get(location.span.end..)
        .and_then(|t| t.chars().next());
    match (before, after) {
        (Some('"'), Some('"')) => (!value.contains(['"', '\\', '$'])).then(|| value.to_string()),
        (Some('\''), Some('\'')) => (!value.contains('\'')).then(|| value.to_string()),
        _ => {
            let lower = location.path.to_ascii_lowercase();
            let yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
            let safe = value.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || ":/._-?=&%@+~*!()".contains(c)
                    || (!yaml && ",;".contains(c))
            });
            let yaml_ok = !yaml
                || !(value.starts_with(['-', '?', ':', '!', '&', '*', '%', '@'])
                    || value.ends_with(':'));
            (safe && yaml_ok).then(|| value.to_string())
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ValueStandardization;

impl Strategy for ValueStandardization {
    fn name(&self) -> &'static str {
        "value-standardization"
    }

    fn propose(
        &self,
        conflict: &Conflict,
        input: FleetInput<'_>,
        files: &dyn FileSource,
    ) -> Option<Resolution> {
        let files = Files::new(files);
        let winner = winning_value(conflict, input, &files)?;
        let mut edits = Vec::new();
        let mut places = Vec::new();
        let mut credentials = carries_credentials(&winner.text);
        for (occurrence, entry) in &winner.losers {
            let location = &occurrence.location;
            let text = files.read(&location.repository, &location.path)?;
            let current = text.get(location.span.start..location.span.end)?;
            // Only a value written verbatim can be replaced by its span.
            if hash(current) != entry.value_hash {
                return None;
            }
            credentials |= carries_credentials(current);
            let replacement = encode_for(&winner.text, location, &text)?;
            edits.push(files.edit(
                &location.repository,
                &location.path,
                location.span,
                replacement,
            )?);
            places.push(location.to_string());
        }
        // A fleet-wide key can have thousands of places: the edits list them all.
        let mut description = format!(
            "Set {} to the value {} uses ({}) in {}.",
            winner.key,
            and_list(&winner.repositories),
            winner.display,
            and_list(&places)
        );
        if credentials {
            description.push_str(
                " The values carry credentials (a user or password in the URL): apply only if the \
                 services really share that account.",
            );
        }
        let (confidence, automatic) = if credentials {
            (0.4, false)
        } else {
            (0.7, true)
        };
        Some(resolution(
            conflict,
            self.name(),
            confidence,
            automatic,
            description,
            edits,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::testkit::{TestFleet, changed_lines, env_conflict};

    const ALPHA: &str = "services:\n  app:\n    image: a\n    environment:\n      AUTH_URL: http://auth.internal:9000 # shared\n";
    const GAMMA: &str = "services:\n  worker:\n    image: g\n    environment:\n      - LOG=1\n      - AUTH_URL=http://auth.internal:9001\n      - \"OTHER=x\"\n";

    fn fleet() -> TestFleet {
        TestFleet::new()
            .repo("gamma", &[("docker-compose.yml", GAMMA)])
            .repo("alpha", &[("docker-compose.yml", ALPHA)])
            .repo(
                "beta",
                &[(".env", "# beta\nAUTH_URL=\"http://auth.internal:9000\"\n")],
            )
    }

    fn hashes(an: &crate::strategies::testkit::Analyzed, key: &str) -> Vec<String> {
        let mut h: Vec<String> = an
            .facts
            .iter()
            .flat_map(|f| &f.env)
            .filter(|e| e.key == key)
            .map(|e| e.value_hash.clone())
            .collect();
        h.dedup();
        h
    }

    #[test]
    fn most_common_value_wins() {
        let fleet = fleet();
        let an = fleet.analyze();
        let conflict = env_conflict(&an, "AUTH_URL");
        assert_eq!(conflict.occurrences.len(), 3);
        let res = ValueStandardization
            .propose(&conflict, an.input(), &fleet)
            .unwrap();
        assert!(res.automatic);
        assert_eq!(res.edits.len(), 1);
        assert!(
            res.description.contains("alpha and beta"),
            "{}",
            res.description
        );
        let after = fleet.apply(&res);
        assert_eq!(
            changed_lines(GAMMA, &after.text("gamma", "docker-compose.yml")),
            [(
                "      - AUTH_URL=http://auth.internal:9001".into(),
                "      - AUTH_URL=http://auth.internal:9000".into()
            )]
        );
        assert_eq!(after.text("alpha", "docker-compose.yml"), ALPHA);
        assert_eq!(hashes(&after.analyze(), "AUTH_URL").len(), 1);
    }

    #[test]
    fn urls_with_a_user_or_password_carry_credentials() {
        assert!(carries_credentials("postgres://api:***@db:5432/api"));
        assert!(carries_credentials(
            "postgres://auth@host.docker.internal:5432/auth"
        ));
        assert!(carries_credentials("a=1 redis://:pw@cache:6379/0"));
        assert!(!carries_credentials(
            "http://auth.internal:9000/login?next=a@b"
        ));
        assert!(!carries_credentials("https://ntfy.sh/homelab-alerts"));
        assert!(!carries_credentials("not a url @ all"));
    }

    #[test]
    fn accounts_in_urls_are_proposed_but_never_automatic() {
        let fleet = TestFleet::new()
            .repo(
                "zeta",
                &[(".env", "DATABASE_URL=postgres://zeta@db:5432/zeta\n")],
            )
            .repo(
                "alpha",
                &[(".env", "DATABASE_URL=postgres://alpha@db:5432/alpha\n")],
            );
        let an = fleet.analyze();
        let res = ValueStandardization
            .propose(&env_conflict(&an, "DATABASE_URL"), an.input(), &fleet)
            .unwrap();
        assert!(
            !res.automatic,
            "copying another repository's account needs a person"
        );
        assert!(res.confidence < 0.5);
        assert!(
            res.description.contains("credentials"),
            "{}",
            res.description
        );
        assert_eq!(res.edits.len(), 1, "still proposed, for a person to apply");
    }

    #[test]
    fn ties_go_to_the_first_repository_of_the_fleet() {
        // zeta is listed before alpha: its value wins, though alpha sorts first by name.
        let fleet = TestFleet::new()
            .repo("zeta", &[(".env", "QUEUE_URL=amqp://mq:5672\n")])
            .repo("alpha", &[("config/.env", "QUEUE_URL='amqp://mq:5673'\n")]);
        let an = fleet.analyze();
        let res = ValueStandardization
            .propose(&env_conflict(&an, "QUEUE_URL"), an.input(), &fleet)
            .unwrap();
        let after = fleet.apply(&res);
        assert_eq!(
            after.text("alpha", "config/.env"),
            "QUEUE_URL='amqp://mq:5672'\n"
        );
        assert_eq!(after.text("zeta", ".env"), "QUEUE_URL=amqp://mq:5672\n");
        assert_eq!(hashes(&after.analyze(), "QUEUE_URL").len(), 1);
    }

    #[test]
    fn never_copies_secrets() {
        let fleet = TestFleet::new()
            .repo(
                "a",
                &[(
                    ".env",
                    "JWT_SECRET=one\nDATABASE_URL=postgres://u:pw@db/x\n",
                )],
            )
            .repo(
                "b",
                &[(".env", "JWT_SECRET=two\nDATABASE_URL=postgres://db/y\n")],
            )
            .repo("c", &[(".env", "DATABASE_URL=postgres://u:pw@db/x\n")]);
        let an = fleet.analyze();
        for key in ["JWT_SECRET", "DATABASE_URL"] {
            let conflict = env_conflict(&an, key);
            assert_eq!(
                conflict.occurrences.len(),
                if key == "JWT_SECRET" { 2 } else { 3 }
            );
            assert!(
                ValueStandardization
                    .propose(&conflict, an.input(), &fleet)
                    .is_none(),
                "{key}"
            );
        }
    }

    #[test]
    fn refuses_values_it_cannot_write_safely() {
        let location = Location::new("r", "c.yml", 1, 1, switchyard_model::ByteSpan::new(5, 6));
        assert_eq!(
            encode_for("http://x:1/a", &location, "KEY: v\n").as_deref(),
            Some("http://x:1/a")
        );
        assert_eq!(encode_for("a b", &location, "KEY: v\n"), None);
        assert_eq!(encode_for("-x", &location, "KEY: v\n"), None);
        let quoted = Location::new("r", "c.yml", 1, 1, switchyard_model::ByteSpan::new(6, 7));
        assert_eq!(
            encode_for("a b", &quoted, "KEY: \"v\"\n").as_deref(),
            Some("a b")
        );
        assert_eq!(encode_for("a\"b", &quoted, "KEY: \"v\"\n"), None);
        // A stale file (the value changed since analysis) is refused.
        let fleet = fleet();
        let an = fleet.analyze();
        let conflict = env_conflict(&an, "AUTH_URL");
        let mut changed = fleet.clone();
        changed.repos[0]
            .1
            .insert("docker-compose.yml".into(), GAMMA.replace("9001", "9002"));
        assert!(
            ValueStandardization
                .propose(&conflict, an.input(), &changed)
                .is_none()
        );
    }
}
