//! Helpers every strategy shares: cached file reads, edits checked against the file text, the
//! order occurrences are kept or changed in, and which references point at a changed service.

use super::FileSource;
use crate::{Conflict, Edit, FleetInput, Occurrence, Resolution};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_model::{ByteSpan, Endpoint, Location, Service};

/// Texts read so far, by (repository, path); `None` for files that do not exist.
type Cache = HashMap<(String, String), Option<Arc<str>>>;

/// A [`FileSource`] that reads each file once.
pub(crate) struct Files<'a> {
    source: &'a dyn FileSource,
    cache: RefCell<Cache>,
}

impl<'a> Files<'a> {
    pub fn new(source: &'a dyn FileSource) -> Self {
        Self {
            source,
            cache: RefCell::new(HashMap::new()),
        }
    }

    pub fn read(&self, repository: &str, path: &str) -> Option<Arc<str>> {
        let key = (repository.to_string(), path.to_string());
        if let Some(hit) = self.cache.borrow().get(&key) {
            return hit.clone();
        }
        let text = self.source.read(repository, path);
        self.cache.borrow_mut().insert(key, text.clone());
        text
    }

    /// The current text at a location's span.
    pub fn text_at(&self, location: &Location) -> Option<String> {
        let text = self.read(&location.repository, &location.path)?;
        text.get(location.span.start..location.span.end)
            .map(str::to_string)
    }

    /// An edit replacing `span` of a file, with the file's current bytes as `expected`; `None`
    /// when the span is not inside the file on character boundaries.
    pub fn edit(
        &self,
        repository: &str,
        path: &str,
        span: ByteSpan,
        replacement: impl Into<String>,
    ) -> Option<Edit> {
        let text = self.read(repository, path)?;
        let expected = text.get(span.start..span.end)?.to_string();
        Some(Edit {
            repository: repository.to_string(),
            path: path.to_string(),
            span,
            expected,
            replacement: replacement.into(),
        })
    }
}

/// Occurrences sorted by repository, then path, then position: the first is kept.
pub(crate) fn in_order(conflict: &Conflict) -> Vec<&Occurrence> {
    let mut list: Vec<&Occurrence> = conflict.occurrences.iter().collect();
    list.sort_by(|a, b| {
        (&a.repository, &a.location.path, a.location.span.start).cmp(&(
            &b.repository,
            &b.location.path,
            b.location.span.start,
        ))
    });
    list
}

/// A resolution with its edits sorted and deduplicated (several facts can share one span).
pub(crate) fn resolution(
    conflict: &Conflict,
    strategy: &'static str,
    confidence: f32,
    automatic: bool,
    description: String,
    mut edits: Vec<Edit>,
) -> Resolution {
    edits.sort_by(|a, b| {
        (&a.repository, &a.path, a.span.start, a.span.end).cmp(&(
            &b.repository,
            &b.path,
            b.span.start,
            b.span.end,
        ))
    });
    edits.dedup();
    Resolution {
        conflict_id: conflict.id.clone(),
        strategy,
        confidence,
        automatic,
        description,
        edits,
    }
}

/// The service of the fleet a repository declares under `name`.
pub(crate) fn service<'m>(
    input: FleetInput<'m>,
    repository: &str,
    name: &str,
) -> Option<&'m Service> {
    input.services_of(repository).find(|s| s.name == name)
}

/// The endpoint declared at an occurrence's location, with its service.
pub(crate) fn endpoint_at<'m>(
    input: FleetInput<'m>,
    occurrence: &Occurrence,
) -> Option<(&'m Service, &'m Endpoint)> {
    let same =
        |l: &Location| l.path == occurrence.location.path && l.span == occurrence.location.span;
    input
        .services_of(&occurrence.repository)
        .filter(|s| occurrence.service.as_ref().is_none_or(|n| *n == s.name))
        .find_map(|s| {
            s.endpoints
                .iter()
                .find(|e| same(&e.location))
                .map(|e| (s, e))
        })
}

/// A repository name as one DNS label / resource-name prefix: lowercase letters, digits, `-`.
pub(crate) fn dns_label(repository: &str) -> String {
    let mut out = String::new();
    for c in repository.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed: String = out.trim_matches('-').chars().take(63).collect();
    let trimmed = trimmed.trim_end_matches('-').to_string();
    if trimmed.is_empty() {
        "repo".to_string()
    } else {
        trimmed
    }
}

/// Byte spans (absolute) of `needle` inside `text[span]`, ASCII case-insensitive, where the
/// characters around it are not `part` characters (so `api.example.com` is not found inside
/// `myapi.example.com`).
pub(crate) fn find_token(
    text: &str,
    span: ByteSpan,
    needle: &str,
    part: impl Fn(char) -> bool,
) -> Vec<ByteSpan> {
    let Some(hay) = text.get(span.start..span.end) else {
        return Vec::new();
    };
    if needle.is_empty() {
        return Vec::new();
    }
    let lower_hay = hay.to_ascii_lowercase();
    let lower_needle = needle.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = lower_hay.get(from..).and_then(|h| h.find(&lower_needle)) {
        let start = from + pos;
        let end = start + lower_needle.len();
        let before = hay[..start].chars().next_back();
        let after = hay[end..].chars().next();
        if !before.is_some_and(&part) && !after.is_some_and(&part) {
            found.push(ByteSpan::new(span.start + start, span.start + end));
        }
        from = end;
    }
    found
}

/// Characters that continue a host name.
pub(crate) fn host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'
}

/// The Kubernetes `Ingress` document of a YAML file that contains byte `at`.
pub(crate) fn ingress_at(text: &str, at: usize) -> Option<switchyard_extract::yaml::Node> {
    let docs = switchyard_extract::yaml::parse_documents(text).ok()?;
    docs.into_iter().find(|d| {
        d.start <= at && at < d.end && d.get("kind").and_then(|k| k.as_str()) == Some("Ingress")
    })
}

/// The span of a scalar's content (without quotes), by its node.
pub(crate) fn content_span(text: &str, node: &switchyard_extract::yaml::Node) -> ByteSpan {
    let bytes = text.as_bytes();
    let (start, end) = (node.start, node.end);
    if end > start + 1 {
        let first = bytes.get(start).copied();
        if matches!(first, Some(b'"' | b'\'')) && bytes.get(end - 1).copied() == first {
            return ByteSpan::new(start + 1, end - 1);
        }
    }
    ByteSpan::new(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(dns_label("Billing_Service"), "billing-service");
        assert_eq!(dns_label("--x--"), "x");
        assert_eq!(dns_label("__"), "repo");
    }

    #[test]
    fn tokens_respect_boundaries() {
        let text = "Host(`api.example.com`) || Host(`myapi.example.com`)";
        let all = ByteSpan::new(0, text.len());
        let found = find_token(text, all, "API.example.com", host_char);
        assert_eq!(found, vec![ByteSpan::new(6, 21)]);
        assert!(find_token(text, ByteSpan::new(0, 200), "api", host_char).is_empty());
    }
}
