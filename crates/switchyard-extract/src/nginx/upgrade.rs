//! nginx `location`s that pass WebSocket upgrades on: `proxy_set_header Upgrade $http_upgrade`
//! in the location, or inherited from an enclosing level. As in nginx, a level inherits its
//! parent's `proxy_set_header`s only when it sets none of its own.

use super::parse::Directive;
use crate::source::SourceFile;
use switchyard_model::{ByteSpan, RepoFacts, SocketFact, SocketFactKind};

/// Records every upgrading `location` of a parsed configuration.
pub(super) fn record(tree: &[Directive], file: &SourceFile, out: &mut RepoFacts) {
    walk(tree, upgrades_at(tree).unwrap_or(false), file, out);
}

/// Whether a level's own `proxy_set_header`s pass `Upgrade` on; `None` when it sets none.
fn upgrades_at(block: &[Directive]) -> Option<bool> {
    let mut headers = block
        .iter()
        .filter(|d| d.block.is_none() && d.name.text == "proxy_set_header")
        .peekable();
    headers.peek()?;
    Some(headers.any(|d| {
        d.args
            .first()
            .is_some_and(|a| a.text.eq_ignore_ascii_case("upgrade"))
    }))
}

fn walk(block: &[Directive], inherited: bool, file: &SourceFile, out: &mut RepoFacts) {
    for d in block {
        let Some(children) = &d.block else {
            continue;
        };
        let upgrades = upgrades_at(children).unwrap_or(inherited);
        if d.name.text == "location"
            && upgrades
            && let Some(path) = d.args.last()
            && !path.text.starts_with('@')
        {
            let regex = d
                .args
                .first()
                .is_some_and(|m| d.args.len() > 1 && m.text.starts_with('~'));
            out.sockets.push(SocketFact {
                service: None,
                kind: SocketFactKind::UpgradeLocation {
                    prefix: path.text.clone(),
                    regex,
                    block: ByteSpan::new(d.name.start, subtree_end(d)),
                },
                location: file.location(path.start, path.end),
            });
        }
        walk(children, upgrades, file, out);
    }
}

/// The end of the last token of a directive and its children.
fn subtree_end(d: &Directive) -> usize {
    let own = d
        .args
        .iter()
        .map(|a| a.end)
        .chain([d.name.end])
        .max()
        .unwrap_or(d.name.end);
    d.block
        .iter()
        .flatten()
        .map(subtree_end)
        .chain([own])
        .max()
        .unwrap_or(own)
}
