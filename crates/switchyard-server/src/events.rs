//! The event bus: every change the server makes is published once here and fanned out to
//! WebSocket and Socket.IO subscribers. Payloads are redacted before they are published.
//! The bus also carries the server's shutdown signal, so every subscriber stream can end
//! (and close its socket) when the server stops.

use serde::Serialize;
use serde_json::Value;
use switchyard_store::Timestamp;
use tokio::sync::{broadcast, watch};

/// The event names of API.md (plus `config.changed` for config sync).
pub const EVENT_NAMES: &[&str] = &[
    "analysis.completed",
    "repository.changed",
    "conflict.detected",
    "conflict.resolved",
    "resource.registered",
    "resource.claimed",
    "resource.released",
    "claims.expired",
    "deployment.planned",
    "deployment.progress",
    "deployment.rolling_back",
    "deployment.completed",
    "alert.raised",
    "alert.cleared",
    "alert.acknowledged",
    "config.changed",
];

/// One published event, as sent to subscribers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    pub id: String,
    pub event: String,
    pub timestamp: String,
    pub data: Value,
}

impl Event {
    /// Whether a subscriber asking for `topics` wants this event. A topic is an event name,
    /// a prefix ending in `.` or `.*` (`deployment.*`), or `*`; no topics means everything.
    pub fn matches(&self, topics: &[String]) -> bool {
        topics.is_empty()
            || topics.iter().any(|topic| {
                let topic = topic.as_str();
                topic == "*"
                    || topic == self.event
                    || topic
                        .strip_suffix('*')
                        .is_some_and(|prefix| self.event.starts_with(prefix))
                    || (topic.ends_with('.') && self.event.starts_with(topic))
            })
    }
}

/// Whether `topic` selects at least one event of [`EVENT_NAMES`] (so a typo is an error rather
/// than a silent, empty stream).
pub fn known_topic(topic: &str) -> bool {
    let topics = [topic.to_string()];
    EVENT_NAMES.iter().any(|name| {
        Event {
            id: String::new(),
            event: (*name).to_string(),
            timestamp: String::new(),
            data: Value::Null,
        }
        .matches(&topics)
    })
}

/// A cheap-to-clone handle on the bus.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
    closing: std::sync::Arc<watch::Sender<bool>>,
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(16));
        let (closing, _) = watch::channel(false);
        EventBus {
            sender,
            closing: std::sync::Arc::new(closing),
        }
    }

    /// Tells every subscriber stream to end (server shutdown). Idempotent.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn is_closed(&self) -> bool {
        *self.closing.borrow()
    }

    /// Resolves once [`EventBus::close`] was called (at once when it already was).
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut receiver = self.closing.subscribe();
        async move {
            // An error means the bus itself is gone: nothing will be published any more.
            let _ = receiver.wait_for(|closed| *closed).await;
        }
    }

    /// Publishes `event` with `data`; no subscriber is not an error.
    pub fn publish(&self, event: &str, data: Value, now: Timestamp) -> Event {
        let event = Event {
            id: format!(
                "evt_{}",
                ulid::Ulid::from_datetime(now.to_system_time()).to_string()
            ),
            event: event.to_string(),
            timestamp: now.to_rfc3339(),
            data,
        };
        let _ = self.sender.send(event.clone());
        event
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn topic_filters() {
        let bus = EventBus::new(16);
        let mut rx = bus.subscribe();
        let event = bus.publish(
            "deployment.progress",
            json!({}),
            Timestamp::from_unix_millis(0),
        );
        assert!(event.id.starts_with("evt_"));
        assert_eq!(rx.try_recv().ok(), Some(event.clone()));
        let t = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(event.matches(&[]));
        assert!(event.matches(&t(&["*"])));
        assert!(event.matches(&t(&["deployment.*"])));
        assert!(event.matches(&t(&["deployment."])));
        assert!(event.matches(&t(&["resource.claimed", "deployment.progress"])));
        assert!(!event.matches(&t(&["deployment.completed"])));
        assert!(!event.matches(&t(&["resource.*"])));
    }

    #[test]
    fn known_topics() {
        assert!(known_topic("*"));
        assert!(known_topic("resource.*"));
        assert!(known_topic("resource."));
        assert!(known_topic("res*"));
        assert!(known_topic("alert.raised"));
        assert!(!known_topic("resource.clamed"));
        assert!(!known_topic("nothing.*"));
        assert!(!known_topic(""));
    }

    #[tokio::test]
    async fn close_wakes_waiters_before_and_after() {
        let bus = EventBus::new(16);
        let waiting = tokio::spawn(bus.closed());
        assert!(!bus.is_closed());
        bus.close();
        assert!(bus.is_closed());
        let done = tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await;
        assert!(matches!(done, Ok(Ok(()))));
        let late = tokio::time::timeout(std::time::Duration::from_secs(5), bus.closed()).await;
        assert!(late.is_ok());
    }
}
