//! References that name a service without calling it: allow-lists (CORS origins, allowed hosts,
//! cookie domains), OAuth/OIDC client registrations (redirect and home URLs the identity provider
//! sends the browser to) and a service's own public URL, which the browser or the service's
//! clients use, not the service itself.

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
    /// Part of an OAuth/OIDC client registration: where the identity provider redirects the
    /// browser (`redirectUris`, `post_logout_redirect_uris`, an app's `OIDC_CALLBACK_URL`) or the
    /// client's home page as shown to users (`clients[0].rootUrl`): never a call.
    ClientRegistration,
}

/// Settings of a registered client (inside a client list) that are browser-facing pages of the
/// client. `adminUrl` and back-channel logout URIs are left out: the provider does call those.
const CLIENT_PAGE_KEYS: [&str; 9] = [
    "ROOT_URL",
    "BASE_URL",
    "HOME_URL",
    "WEB_ORIGINS",
    "CLIENT_URI",
    "LOGO_URI",
    "POLICY_URI",
    "TOS_URI",
    "INITIATE_LOGIN_URI",
];

/// Words that mark a callback as the end of a sign-in flow (`OIDC_CALLBACK_URL`,
/// `GITHUB_CALLBACK_URL=…/auth/github/callback`) rather than a webhook.
const SIGN_IN_WORDS: [&str; 5] = ["AUTH", "OIDC", "SSO", "LOGIN", "SAML"];

/// Whether a reference with key `whole` (snake-cased) and last setting `last` (snake-cased,
/// list indices dropped) belongs to a client registration.
fn is_client_registration(reference: &Reference, whole: &str, last: &str) -> bool {
    // Every redirect URI is a place the browser is sent to (OAuth `redirect_uri`, logout
    // redirects); none is called by the service that lists it.
    if whole.contains("REDIRECT") || whole.contains("FRONTCHANNEL_LOGOUT") {
        return true;
    }
    if whole.contains("CALLBACK") {
        let target = match &reference.target {
            switchyard_model::Target::Address { text } => text.to_ascii_uppercase(),
            _ => String::new(),
        };
        if SIGN_IN_WORDS
            .iter()
            .any(|w| whole.contains(w) || target.contains(w))
        {
            return true;
        }
    }
    // An item of a client list (`clients[2].rootUrl`: Keycloak realm `clients`, Dex
    // `staticClients`, Authelia `identity_providers.oidc.clients`).
    let parts: Vec<&str> = whole.split('_').collect();
    let in_client_list = parts
        .windows(2)
        .any(|w| w[0] == "CLIENTS" && !w[1].is_empty() && w[1].chars().all(|c| c.is_ascii_digit()));
    in_client_list && CLIENT_PAGE_KEYS.contains(&last)
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
    if is_client_registration(reference, &whole, &setting_name(key)) {
        Role::ClientRegistration
    } else if OWN_HOST_KEYS.contains(&last.as_str()) {
        Role::OwnHost
    } else if OWN_URL_KEYS.contains(&last.as_str()) {
        Role::OwnUrl
    } else {
        Role::Call
    }
}

/// The last setting of a key path without list indices: `clients[0].webOrigins[1]` →
/// `WEB_ORIGINS`.
fn setting_name(key: &str) -> String {
    let mut k = key;
    while let Some(open) = k.rfind('[').filter(|_| k.ends_with(']')) {
        k = &k[..open];
    }
    snake(k.rsplit(['.', '[']).next().unwrap_or(k))
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

    #[test]
    fn client_registrations_are_not_calls() {
        // Keycloak realm export, Dex `staticClients`, Authelia clients, an app's own env.
        for key in [
            "clients[0].redirectUris[0]",
            "clients[1].attributes.post.logout.redirect.uris",
            "clients[0].rootUrl",
            "clients[0].baseUrl",
            "clients[2].webOrigins[0]",
            "staticClients[0].redirectURIs[1]",
            "identity_providers.oidc.clients[0].redirect_uris[0]",
            "OIDC_REDIRECT_URI",
            "OAUTH_CALLBACK_URL",
            "frontchannel_logout_uri",
        ] {
            assert_eq!(role(&keyed(key)), Role::ClientRegistration, "{key}");
        }
        // A sign-in callback recognised by its path.
        let mut github = keyed("GITHUB_CALLBACK_URL");
        github.target = Target::Address {
            text: "http://localhost:3170/v1/auth/github/callback".into(),
        };
        assert_eq!(role(&github), Role::ClientRegistration);
    }

    #[test]
    fn what_an_identity_provider_does_call_stays_a_call() {
        // Keycloak calls a client's admin URL and back-channel logout URL itself; a webhook
        // callback is an address, and a client's base URL outside a client list is a call.
        for key in [
            "clients[0].adminUrl",
            "clients[0].attributes.backchannel.logout.url",
            "PAYMENT_WEBHOOK_CALLBACK_URL",
            "API_CLIENTS_BASE_URL",
            "smtp.host",
        ] {
            assert_ne!(role(&keyed(key)), Role::ClientRegistration, "{key}");
        }
        assert_eq!(setting_name("clients[0].webOrigins[1]"), "WEB_ORIGINS");
    }
}
