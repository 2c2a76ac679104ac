//! GitHub webhooks at `POST /api/webhooks/github`. The route is exempt from bearer tokens: its
//! authentication is `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body with
//! `[server.webhooks] secret`, compared in constant time. Missing, malformed or wrong
//! signatures, and a server without a secret, are 401 `UNAUTHORIZED`.
//!
//! After the signature: a body that is not JSON is 400; `ping` is 200; `push` for a fleet
//! repository re-reads that one repository (after `git pull --ff-only` when
//! `webhooks.git_pull`), re-analyses incrementally, publishes `repository.changed` and conflict
//! events, and answers 200 with the change summary. Other events, and pushes for repositories
//! the fleet does not know, are 202 with `ignored: true` (GitHub counts any 2xx as delivered,
//! and an organisation-wide hook sends pushes for every repository).
//!
//! Which fleet repository a push is for, first match wins: `repository.name` equal to a fleet
//! repository name; then the last segment of `repository.full_name`; then the last path
//! segment (without `.git`) of `clone_url`, `ssh_url` or `html_url`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
pub const EVENT_HEADER: &str = "x-github-event";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(github))
}

/// Checks `header` (`sha256=<64 hex>`) against the HMAC-SHA256 of `body` with `secret`.
pub fn verify_signature(
    secret: Option<&str>,
    header: Option<&str>,
    body: &[u8],
) -> Result<(), ApiError> {
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return Err(ApiError::unauthorized(
            "webhooks are disabled: no webhook secret is configured ([server.webhooks] secret or SWITCHYARD_WEBHOOK_SECRET)",
        ));
    };
    let Some(header) = header else {
        return Err(ApiError::unauthorized("missing X-Hub-Signature-256 header"));
    };
    let expected = header
        .trim()
        .strip_prefix("sha256=")
        .and_then(decode_hex)
        .filter(|bytes| bytes.len() == 32)
        .ok_or_else(|| {
            ApiError::unauthorized(
                "malformed X-Hub-Signature-256 (expected sha256=<64 hex digits>)",
            )
        })?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| ApiError::internal(format!("webhook secret unusable: {e}")))?;
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| ApiError::unauthorized("X-Hub-Signature-256 does not match the body"))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(digits, 16).ok()
        })
        .collect()
}

/// The last `/`-separated segment of a URL or `owner/name`, without a trailing `.git`.
fn last_segment(text: &str) -> Option<&str> {
    let trimmed = text.trim_end_matches('/');
    let segment = trimmed.rsplit(['/', ':']).next()?;
    let segment = segment.strip_suffix(".git").unwrap_or(segment);
    (!segment.is_empty()).then_some(segment)
}

/// The fleet repository `payload` (a push) is for, by the rule in the module documentation.
pub fn repository_of(payload: &Value, fleet: &[String]) -> Option<String> {
    let repository = payload.get("repository")?;
    let field = |key: &str| repository.get(key).and_then(Value::as_str);
    let known = |name: &str| fleet.iter().find(|n| n.as_str() == name).cloned();
    if let Some(found) = field("name").and_then(known) {
        return Some(found);
    }
    ["full_name", "clone_url", "ssh_url", "html_url"]
        .iter()
        .filter_map(|key| field(key).and_then(last_segment))
        .find_map(known)
}

/// GitHub webhook: `ping`, `push` (re-analysis of the pushed repository), others ignored.
#[utoipa::path(
    post,
    path = "/api/webhooks/github",
    tag = "webhooks",
    params(
        ("X-Hub-Signature-256" = String, Header, description = "sha256=<hex HMAC-SHA256 of the raw body with the webhook secret>"),
        ("X-GitHub-Event" = String, Header, description = "ping, push, …")
    ),
    request_body(content = Value, description = "The GitHub event payload (content type application/json, or application/x-www-form-urlencoded with the JSON in `payload`)", content_type = "application/json"),
    responses(
        (status = 200, description = "ping answered, or push re-analysed: `{ success, event, repository, changed, summary }`", body = Value),
        (status = 202, description = "Accepted and ignored (other events, or a repository the fleet does not know)", body = Value),
        (status = 400, description = "Body is not JSON, or a push without `repository`"),
        (status = 401, description = "Missing, malformed or wrong signature, or no secret configured"),
        (status = 502, description = "git pull failed")
    ),
    security(())
)]
async fn github(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = body.map_err(crate::input::body_rejection)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    verify_signature(
        state.config.webhooks.secret.as_deref(),
        header(SIGNATURE_HEADER),
        &body,
    )?;
    let event = header(EVENT_HEADER)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiError::validation("missing X-GitHub-Event header"))?
        .to_string();
    // GitHub sends either content type; a form delivery carries the JSON in `payload=`. The
    // signature covers the raw body either way.
    let form = header("content-type").is_some_and(|t| {
        t.split(';').next().is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    });
    let json_bytes = if form {
        form_payload(&body)?.into_bytes()
    } else {
        body.to_vec()
    };
    let payload: Value = serde_json::from_slice(&json_bytes).map_err(|error| {
        ApiError::validation(format!(
            "webhook body is not JSON (set the hook's content type to application/json): {error}"
        ))
        .with_details(json!({ "line": error.line(), "column": error.column() }))
    })?;
    match event.as_str() {
        "ping" => Ok((
            StatusCode::OK,
            Json(json!({
                "success": true,
                "event": "ping",
                "zen": payload.get("zen").cloned().unwrap_or(Value::Null),
                "hookId": payload.get("hook_id").cloned().unwrap_or(Value::Null),
            })),
        )),
        "push" => push(&state, &payload).await,
        _ => Ok(ignored(&event, "only ping and push are handled")),
    }
}

/// The `payload` field of a form-encoded delivery.
fn form_payload(body: &[u8]) -> Result<String, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::validation("form-encoded webhook body is not UTF-8"))?;
    let raw = text
        .split('&')
        .find_map(|pair| pair.strip_prefix("payload="))
        .ok_or_else(|| ApiError::validation("form-encoded webhook body has no `payload` field"))?;
    crate::input::percent_decode(raw)
}

fn ignored(event: &str, reason: &str) -> (StatusCode, Json<Value>) {
    (
        StatusCode::ACCEPTED,
        Json(json!({ "success": true, "event": event, "ignored": true, "reason": reason })),
    )
}

async fn push(state: &AppState, payload: &Value) -> ApiResult<(StatusCode, Json<Value>)> {
    if !payload.get("repository").is_some_and(Value::is_object) {
        return Err(ApiError::validation(
            "push payload has no `repository` object",
        ));
    }
    let fleet: Vec<String> = state
        .snapshot()
        .repositories
        .iter()
        .map(|r| r.name.clone())
        .collect();
    let Some(name) = repository_of(payload, &fleet) else {
        let named = payload
            .pointer("/repository/full_name")
            .or_else(|| payload.pointer("/repository/name"))
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)");
        return Ok(ignored(
            "push",
            &format!("repository {named} is not in the fleet"),
        ));
    };
    let summary = state
        .reanalyze(vec![name.clone()], state.config.webhooks.git_pull)
        .await?;
    Ok((
        StatusCode::OK,
        Json(json!({
            "success": true,
            "event": "push",
            "repository": name,
            "ref": payload.get("ref").cloned().unwrap_or(Value::Null),
            "changed": summary.changed(),
            "summary": summary,
        })),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(body);
        let bytes = mac.finalize().into_bytes();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256={hex}")
    }

    #[test]
    fn signatures() {
        let body = br#"{"zen":"hi"}"#;
        let good = sign("s3cret", body);
        assert!(verify_signature(Some("s3cret"), Some(&good), body).is_ok());
        assert!(
            verify_signature(
                Some("s3cret"),
                Some(&good.to_uppercase().replace("SHA256=", "sha256=")),
                body
            )
            .is_ok()
        );
        let status = |r: Result<(), ApiError>| r.err().map(|e| (e.status.as_u16(), e.code));
        let unauthorized = Some((401, "UNAUTHORIZED"));
        assert_eq!(
            status(verify_signature(Some("other"), Some(&good), body)),
            unauthorized
        );
        assert_eq!(
            status(verify_signature(Some("s3cret"), Some(&good), b"{}")),
            unauthorized
        );
        assert_eq!(
            status(verify_signature(Some("s3cret"), None, body)),
            unauthorized
        );
        assert_eq!(
            status(verify_signature(None, Some(&good), body)),
            unauthorized
        );
        assert_eq!(
            status(verify_signature(Some(""), Some(&good), body)),
            unauthorized
        );
        for bad in [
            "sha1=abc",
            "sha256=",
            "sha256=zz",
            "sha256=abc",
            &good[..good.len() - 2],
        ] {
            assert_eq!(
                status(verify_signature(Some("s3cret"), Some(bad), body)),
                unauthorized,
                "{bad}"
            );
        }
    }

    #[test]
    fn repository_matching_rule() {
        let fleet = vec!["api".to_string(), "auth".to_string()];
        let of = |repository: Value| repository_of(&json!({ "repository": repository }), &fleet);
        assert_eq!(of(json!({ "name": "api" })), Some("api".into()));
        assert_eq!(
            of(json!({ "name": "homelab-api", "full_name": "me/auth" })),
            Some("auth".into())
        );
        assert_eq!(
            of(json!({ "clone_url": "https://github.com/me/api.git" })),
            Some("api".into())
        );
        assert_eq!(
            of(json!({ "ssh_url": "git@github.com:api.git" })),
            Some("api".into())
        );
        assert_eq!(
            of(json!({ "html_url": "https://github.com/me/auth/" })),
            Some("auth".into())
        );
        assert_eq!(of(json!({ "name": "web", "full_name": "me/web" })), None);
        assert_eq!(of(json!({ "name": 3 })), None);
        assert_eq!(repository_of(&json!({}), &fleet), None);
    }
}
