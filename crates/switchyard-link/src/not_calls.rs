//! References that name a service without calling it: allow-lists (CORS origins, allowed hosts,
//! cookie domains) and a service's own public URL, which the browser or the service's clients use,
//! not the service itself.

use switchyard_model::Reference;

/// What a reference's key says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// An address the service may connect to.
    Call,
    /// Origins or hosts the service accepts requests from: never a call.
    AllowList,
    /// The domain the service is published under (`VIRTUAL_HOST`): never a call.
    OwnHost,
    /// The service's own public URL (`ROOT_URL`, `PUBLIC_URL`, `NEXTAUTH_URL`…): a self-reference
    /// when the proxy that serves that domain leads back to the service.
    OwnUrl,
}

/// Parts of a key that make it an allow-list.
const ALLOW_LIST_PARTS: [&str; 8] = [
    "CORS",
    "ALLOWED_ORIGIN",
    "ALLOW_ORIGIN",
    "ALLOWED_HOST",
    "TRUSTED_ORIGIN",
    "TRUSTED_HOST",
    "COOKIE_DOMAIN",
    "CSRF",
];

/// Keys that name the domain a container is published under (nginx-proxy, acme companion).
const OWN_HOST_KEYS: [&str; 3] = ["VIRTUAL_HOST", "LETSENCRYPT_HOST", "VIRTUAL_HOST_ALIAS"];

/// Keys (their last part) that hold a service's own public URL.
const OWN_URL_KEYS: [&str; 12] = [
    "ROOT_URL",
    "PUBLIC_URL",
    "SITE_URL",
    "EXTERNAL_URL",
    "BASE_URL",
    "PUBLIC_BASE_URL",
    "APP_URL",
    "CANONICAL_URL",
    "NEXTAUTH_URL",
    "SERVER_ROOT_URL",
    "ORIGIN",
    "PUBLIC_ORIGIN",
];

pub(crate) fn role(reference: &Reference) -> Role {
    let Some(key) = reference.key.as_deref() else {
        return Role::Call;
    };
    let whole = snake(key);
    if ALLOW_LIST_PARTS.iter().any(|p| whole.contains(p)) {
        return Role::AllowList;
    }
    // `GITEA__server__ROOT_URL`, `server.rootUrl`: the last part names the setting.
    let last = key
        .rsplit(['.', '['])
        .next()
        .unwrap_or(key)
        .rsplit("__")
        .next()
        .unwrap_or(key);
    let last = snake(last);
    if OWN_HOST_KEYS.contains(&last.as_str()) {
        Role::OwnHost
    } else if OWN_URL_KEYS.contains(&last.as_str()) {
        Role::OwnUrl
    } else {
        Role::Call
    }
}

/// `rootUrl`, `root-url`, `ROOT_URL` → `ROOT_URL`.
fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut prev_lower = false;
    for c in key.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                out.push('_');
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_uppercase());
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_model::{Location, Mechanism, Scope, Target};

    fn keyed(key: &str) -> Reference {
        Reference {
            from: Some("app".into()),
            target: Target::Address {
                text: "https://app.example.com".into(),
            },
            mechanism: Mechanism::Env,
            key: Some(key.into()),
            location: Location::file("r", "compose.yaml"),
            scope: Scope::Host,
        }
    }

    #[test]
    fn keys_say_what_an_address_is_for() {
        for key in [
            "CORS_ORIGINS",
            "ALLOWED_HOSTS",
            "cors.allowedOrigins",
            "CSRF_TRUSTED_ORIGINS",
        ] {
            assert_eq!(role(&keyed(key)), Role::AllowList, "{key}");
        }
        for key in ["VIRTUAL_HOST", "LETSENCRYPT_HOST"] {
            assert_eq!(role(&keyed(key)), Role::OwnHost, "{key}");
        }
        for key in [
            "ROOT_URL",
            "GITEA__server__ROOT_URL",
            "server.rootUrl",
            "NEXTAUTH_URL",
            "ORIGIN",
        ] {
            assert_eq!(role(&keyed(key)), Role::OwnUrl, "{key}");
        }
        // A client's base URL of another service is a call: only the exact setting names count.
        for key in ["API_BASE_URL", "AUTH_URL", "DATABASE_URL", "ORIGIN_SERVER"] {
            assert_eq!(role(&keyed(key)), Role::Call, "{key}");
        }
    }
}
