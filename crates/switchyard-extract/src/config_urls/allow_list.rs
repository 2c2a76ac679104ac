//! CORS allow-lists in JSON/YAML config files: Express `cors` options (`cors.origin`), node-config
//! and Spring-style custom keys (`cors.allowedOrigins`, `security.cors.allowed-origins`),
//! Flask-CORS settings (`CORS_ORIGINS`, `resources` under a `cors` key), `ALLOWED_ORIGINS`.
//! Each becomes an env entry under its key path, its items joined by commas, for the
//! `cors_missing_origin` detector; never a reference (an allow-list names callers).

use crate::yaml::Node;

/// Last keys that hold an allow-list wherever they sit (normalized: lowercase, no `_`/`-`).
const ALLOW_LIST_KEYS: [&str; 8] = [
    "allowedorigins",
    "alloworigins",
    "allowedorigin",
    "corsorigins",
    "corsorigin",
    "corsallowedorigins",
    "trustedorigins",
    "accesscontrolalloworigin",
];

fn normalized(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether the value at `path` (`cors.origins`, last key `key`) is a CORS allow-list.
pub fn is_allow_list(path: &str, key: &str) -> bool {
    let key = normalized(key);
    if ALLOW_LIST_KEYS.contains(&key.as_str()) {
        return true;
    }
    (key == "origin" || key == "origins") && path.to_ascii_lowercase().contains("cors")
}

/// The allow-list a value holds: a string as it is, or a sequence of strings joined by commas.
/// `None` for anything else (`origin: true` reflects any origin: no list to check).
pub fn allow_list_value(node: &Node) -> Option<String> {
    if let Some(items) = node.as_seq() {
        let texts: Vec<&str> = items.iter().filter_map(Node::as_str).collect();
        return (!texts.is_empty() && texts.len() == items.len()).then(|| texts.join(","));
    }
    if node.as_bool().is_some() || node.is_null() {
        return None;
    }
    node.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_keys() {
        assert!(is_allow_list("cors.origin", "origin"));
        assert!(is_allow_list("server.cors.origins", "origins"));
        assert!(is_allow_list("cors.allowedOrigins", "allowedOrigins"));
        assert!(is_allow_list(
            "app.security.allowed-origins",
            "allowed-origins"
        ));
        assert!(is_allow_list("CORS_ORIGINS", "CORS_ORIGINS"));
        assert!(is_allow_list("ALLOWED_ORIGINS", "ALLOWED_ORIGINS"));
        assert!(is_allow_list("CORS_RESOURCES./api/*.origins", "origins"));
        // An origin that is not an allow-list: a WebSocket server's own origin setting.
        assert!(!is_allow_list("socket.origin", "origin"));
        assert!(!is_allow_list("cors.allowedHeaders", "allowedHeaders"));
        assert!(!is_allow_list("cors.credentials", "credentials"));
    }
}
