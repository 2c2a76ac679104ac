//! Per-client token buckets: `per_second` sustained, `burst` at once. An empty bucket answers
//! 429 `RATE_LIMITED` with `Retry-After` (whole seconds until a token is back).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::RateLimitConfig;
use crate::error::ApiError;

/// Buckets by client address. Idle full buckets are dropped so the map stays small.
#[derive(Clone)]
pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: Arc<Mutex<HashMap<IpAddr, Bucket>>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            buckets: Arc::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.config.per_second > 0.0
    }

    /// Takes one token for `client` at `now`; `Err(seconds)` to wait when none is left.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        if !self.enabled() {
            return Ok(());
        }
        let rate = self.config.per_second;
        let burst = f64::from(self.config.burst.max(1));
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / rate;
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

pub async fn layer(State(limiter): State<RateLimiter>, request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    match limiter.check(client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(seconds) => ApiError::rate_limited(seconds).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill_per_client() {
        let limiter = RateLimiter::new(RateLimitConfig {
            per_second: 2.0,
            burst: 3,
        });
        let t0 = Instant::now();
        let a = IpAddr::from([127, 0, 0, 1]);
        let b = IpAddr::from([127, 0, 0, 2]);
        for _ in 0..3 {
            assert_eq!(limiter.check(a, t0), Ok(()));
        }
        assert_eq!(limiter.check(a, t0), Err(1));
        assert_eq!(limiter.check(b, t0), Ok(()), "other clients unaffected");
        assert_eq!(limiter.check(a, t0 + Duration::from_millis(500)), Ok(()));
        assert!(limiter.check(a, t0 + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn zero_rate_is_off() {
        let limiter = RateLimiter::new(RateLimitConfig {
            per_second: 0.0,
            burst: 1,
        });
        let now = Instant::now();
        for _ in 0..100 {
            assert!(limiter.check(IpAddr::from([10, 0, 0, 1]), now).is_ok());
        }
    }
}
