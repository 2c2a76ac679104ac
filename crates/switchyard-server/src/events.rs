//! The event bus: every change the server makes is published once here and fanned out to
//! WebSocket and Socket.IO subscribers. Payloads are redacted before they are published.
//! The bus also carries the server's shutdown signal, so every subscriber stream can end
//! (and close its socket) when the server stops.
//!
//! On a store shared by several replicas (PostgreSQL) the bus is *clustered*: `publish` hands
//! the event to the store's event log (through [`crate::cluster`]) instead of delivering it,
//! and every replica, this one included, delivers what it reads back from the log, in the
//! log's order, each event once, with its cluster-wide `seq`.

use serde::Serialize;
use serde_json::Value;
use switchyard_store::{NewEvent, Timestamp};
use tokio::sync::{broadcast, mpsc, watch};

/// Events whose name starts with this are messages between replicas (a webhook push to act
/// on), carried by the event log but never delivered to subscribers.
pub const CLUSTER_PREFIX: &str = "cluster.";

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
    /// The event's place in the cluster's order (shared store only): a client resumes after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
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
            seq: None,
        }
        .matches(&topics)
    })
}

/// A cheap-to-clone handle on the bus.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
    closing: std::sync::Arc<watch::Sender<bool>>,
    /// Clustered: where published events go (to the store's event log) instead of `sender`.
    outbox: Option<mpsc::UnboundedSender<NewEvent>>,
    /// This replica, as the events it publishes name it.
    origin: std::sync::Arc<str>,
    /// The outbox's receiving end, until the relay takes it.
    queued: std::sync::Arc<std::sync::Mutex<Option<mpsc::UnboundedReceiver<NewEvent>>>>,
}

impl EventBus {
    /// A bus of one process: published events are delivered at once.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(16));
        let (closing, _) = watch::channel(false);
        EventBus {
            sender,
            closing: std::sync::Arc::new(closing),
            outbox: None,
            origin: format!("replica_{}", ulid::Ulid::generate()).into(),
            queued: Default::default(),
        }
    }

    /// A bus of one replica among several: published events are queued for the event log
    /// (the relay takes the queue with [`EventBus::take_queue`]); delivery is
    /// [`EventBus::deliver`], from the log.
    pub fn clustered(capacity: usize) -> Self {
        let (outbox, queued) = mpsc::unbounded_channel();
        EventBus {
            outbox: Some(outbox),
            queued: std::sync::Arc::new(std::sync::Mutex::new(Some(queued))),
            ..EventBus::new(capacity)
        }
    }

    /// The queue of published events, once (the relay's).
    pub fn take_queue(&self) -> Option<mpsc::UnboundedReceiver<NewEvent>> {
        self.queued.lock().ok()?.take()
    }

    pub fn is_clustered(&self) -> bool {
        self.outbox.is_some()
    }

    /// This replica's name in the events it publishes.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Hands an event read from the log to this replica's subscribers.
    pub fn deliver(&self, event: Event) {
        let _ = self.sender.send(event);
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

    /// Publishes `event` with `data`; no subscriber is not an error. Clustered, the event is
    /// delivered once the log has it (to this replica's subscribers too).
    pub fn publish(&self, event: &str, data: Value, now: Timestamp) -> Event {
        let event = Event {
            id: format!(
                "evt_{}",
                ulid::Ulid::from_datetime(now.to_system_time()).to_string()
            ),
            event: event.to_string(),
            timestamp: now.to_rfc3339(),
            data,
            seq: None,
        };
        match &self.outbox {
            Some(outbox) => {
                // The relay is gone only when the server stops.
                let _ = outbox.send(NewEvent {
                    id: event.id.clone(),
                    name: event.event.clone(),
                    origin: self.origin.to_string(),
                    data: event.data.clone(),
                    timestamp: event.timestamp.clone(),
                });
            }
            // Messages between replicas mean nothing to a single process.
            None if event.event.starts_with(CLUSTER_PREFIX) => {}
            None => {
                let _ = self.sender.send(event.clone());
            }
        }
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
