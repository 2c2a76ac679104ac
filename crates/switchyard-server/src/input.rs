//! Request input: JSON bodies and query strings parsed into clear 400/413 errors, with the
//! API's conventions (booleans `true/false/1/0`, `limit` 1–100, comma lists).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::error::ApiError;

/// A JSON body. Malformed JSON, wrong types and missing fields are `VALIDATION_ERROR` with
/// the position serde reports; an over-limit body is `PAYLOAD_TOO_LARGE`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The error for a body that could not be read: too large (413), not sent in time (408, see
/// [`crate::listener`]), or broken off (400).
pub fn body_rejection(rejection: axum::extract::rejection::BytesRejection) -> ApiError {
    use axum::http::StatusCode;
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large()
    } else if crate::listener::is_body_timeout(&rejection) {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            "the request body did not arrive in time",
        )
    } else {
        ApiError::validation(format!("could not read the body: {rejection}"))
    }
}

/// Parses a JSON body, which must be an object (serde would also read a struct from an array
/// of its fields in order, which no client means); an empty body reads as `{}` so all-default
/// requests may omit it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text: &[u8] = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => b"{}",
        Some(b'{') => bytes,
        Some(_) => {
            return Err(ApiError::validation(
                "invalid request body: expected a JSON object",
            ));
        }
    };
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    serde_path_to_error(&mut deserializer)
}

fn serde_path_to_error<'de, T: DeserializeOwned>(
    deserializer: &mut serde_json::Deserializer<serde_json::de::SliceRead<'de>>,
) -> Result<T, ApiError> {
    let value = T::deserialize(&mut *deserializer).map_err(|error| {
        ApiError::validation(format!("invalid request body: {error}")).with_details(json!({
            "line": error.line(),
            "column": error.column(),
        }))
    })?;
    deserializer
        .end()
        .map_err(|error| ApiError::validation(format!("invalid request body: {error}")))?;
    Ok(value)
}

/// A whole number JSON may spell `50` or `50.0` (JSON Schema counts both as integers), for
/// `#[serde(deserialize_with = "whole")]`; fractions, negatives and overflow are errors.
pub fn whole<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::Deserialize;
    use serde::de::Error;
    let number = serde_json::Number::deserialize(deserializer)?;
    let n = match (number.as_u64(), number.as_f64()) {
        (Some(n), _) => Some(n),
        (None, Some(f)) if f.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&f) => {
            Some(f as u64)
        }
        _ => None,
    };
    n.and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| D::Error::custom(format!("expected a whole number in range, got {number}")))
}

/// [`whole`] for an optional field (`null` or absent is `None`; pair with `#[serde(default)]`).
pub fn opt_whole<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::Deserialize;
    #[derive(Deserialize)]
    struct Whole<T: TryFrom<u64>>(#[serde(deserialize_with = "whole")] T);
    Ok(Option::<Whole<T>>::deserialize(deserializer)?.map(|w| w.0))
}

/// Query parameters with typed getters that explain what was wrong.
#[derive(Debug, Default, Clone)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(query)?;
        Ok(Params(pairs.into_iter().collect()))
    }
}

fn serde_urlencoded_pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(key)?, percent_decode(value)?))
        })
        .collect()
}

/// Decodes `%XX` escapes and `+` (space) of a query-string component.
pub(crate) fn percent_decode(text: &str) -> Result<String, ApiError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| ApiError::validation("malformed percent-encoding in query"))?;
                out.push(hex);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::validation("query string is not UTF-8"))
}

impl Params {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// `true/false/1/0` (case-insensitive); anything else is a 400.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        let Some(text) = self.get(key) else {
            return Ok(None);
        };
        parse_bool(text).map(Some).ok_or_else(|| {
            ApiError::validation(format!("`{key}` must be true, false, 1 or 0, got `{text}`"))
                .with_details(json!({ "parameter": key }))
        })
    }

    /// An integer within `min..=max`.
    pub fn int(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>, ApiError> {
        let Some(text) = self.get(key) else {
            return Ok(None);
        };
        match text.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::validation(format!(
                "`{key}` must be a whole number from {min} to {max}, got `{text}`"
            ))
            .with_details(json!({ "parameter": key, "min": min, "max": max }))),
        }
    }

    /// A positive number (hours, for example), at most `max`.
    pub fn number(&self, key: &str, max: f64) -> Result<Option<f64>, ApiError> {
        let Some(text) = self.get(key) else {
            return Ok(None);
        };
        match text.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && n > 0.0 && n <= max => Ok(Some(n)),
            _ => Err(ApiError::validation(format!(
                "`{key}` must be a number above 0 and at most {max}, got `{text}`"
            ))
            .with_details(json!({ "parameter": key }))),
        }
    }

    /// A comma-separated list; empty items dropped. `None` when absent.
    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        self.get(key).map(|text| {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
    }

    /// `limit` (1–100, default 20) and `offset` (≥ 0, default 0).
    pub fn page(&self) -> Result<Page, ApiError> {
        Ok(Page {
            limit: self.int("limit", 1, 100)?.unwrap_or(20) as usize,
            offset: self.int("offset", 0, u64::from(u32::MAX))?.unwrap_or(0) as usize,
        })
    }
}

pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// A page request and the `pagination` block of its answer.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
}

impl Page {
    pub fn slice<T: Clone>(&self, items: &[T]) -> Vec<T> {
        items
            .iter()
            .skip(self.offset)
            .take(self.limit)
            .cloned()
            .collect()
    }

    pub fn describe(&self, total: usize) -> serde_json::Value {
        json!({
            "total": total,
            "limit": self.limit,
            "offset": self.offset,
            "hasMore": self.offset.saturating_add(self.limit) < total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn booleans_follow_the_api() {
        let p = params(&[("a", "false"), ("b", "1"), ("c", "TRUE"), ("d", "yes")]);
        assert_eq!(p.bool("a").ok(), Some(Some(false)));
        assert_eq!(p.bool("b").ok(), Some(Some(true)));
        assert_eq!(p.bool("c").ok(), Some(Some(true)));
        assert_eq!(p.bool("missing").ok(), Some(None));
        let error = p.bool("d").err().map(|e| e.code);
        assert_eq!(error, Some("VALIDATION_ERROR"));
    }

    #[test]
    fn pagination_bounds_and_has_more() {
        let page = params(&[("limit", "2"), ("offset", "1")]).page();
        let page = page.ok().filter(|p| p.limit == 2 && p.offset == 1);
        let Some(page) = page else {
            panic!("limit/offset not parsed")
        };
        assert_eq!(page.slice(&[1, 2, 3, 4]), vec![2, 3]);
        assert_eq!(page.describe(4)["hasMore"], true);
        assert_eq!(page.describe(3)["hasMore"], false);
        assert!(params(&[("limit", "0")]).page().is_err());
        assert!(params(&[("limit", "1")]).page().is_ok());
        assert!(params(&[("limit", "101")]).page().is_err());
        assert!(params(&[("limit", "ten")]).page().is_err());
        assert!(params(&[("offset", "-1")]).page().is_err());
        let default = params(&[]).page().ok().map(|p| (p.limit, p.offset));
        assert_eq!(default, Some((20, 0)));
    }

    #[test]
    fn whole_numbers_may_be_spelled_as_floats() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Body {
            #[serde(deserialize_with = "whole")]
            n: u32,
            #[serde(default, deserialize_with = "opt_whole")]
            m: Option<u64>,
        }
        let read = |text: &str| parse_json::<Body>(text.as_bytes()).ok();
        assert_eq!(read(r#"{"n": 50}"#), Some(Body { n: 50, m: None }));
        assert_eq!(
            read(r#"{"n": 50.0, "m": 7.0}"#),
            Some(Body { n: 50, m: Some(7) })
        );
        assert_eq!(read(r#"{"n": 1, "m": null}"#), Some(Body { n: 1, m: None }));
        for bad in [
            r#"{"n": 1.5}"#,
            r#"{"n": -1}"#,
            r#"{"n": 4294967296}"#,
            r#"{"n": "5"}"#,
        ] {
            assert_eq!(read(bad), None, "{bad}");
        }
    }

    #[test]
    fn json_errors_are_validation_errors_with_position() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            repository: String,
        }
        let error = parse_json::<Body>(br#"{"repository": 3}"#).err();
        assert_eq!(error.as_ref().map(|e| e.code), Some("VALIDATION_ERROR"));
        let error = parse_json::<Body>(b"{").err();
        assert_eq!(error.map(|e| e.status.as_u16()), Some(400));
        assert!(parse_json::<Body>(b"").is_err(), "missing field");
        assert!(parse_json::<Body>(br#"{"repository":"a"} x"#).is_err());
        // serde reads a struct from an array of its fields; a body must be an object.
        let error = parse_json::<Body>(br#"["a"]"#).err();
        assert!(
            error.is_some_and(|e| e.message.contains("expected a JSON object")),
            "an array body is refused"
        );
        assert!(parse_json::<Body>(b" \n {\"repository\": \"a\"}").is_ok());
    }

    #[test]
    fn query_decoding_and_lists() {
        let pairs = serde_urlencoded_pairs("repositories=a%2Cb,+c&x=%zz").err();
        assert!(pairs.is_some(), "bad escape is an error");
        let pairs = serde_urlencoded_pairs("repositories=a%2Cb,+c,").ok();
        let p = Params(pairs.unwrap_or_default().into_iter().collect());
        assert_eq!(
            p.list("repositories"),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
    }
}
