//! What kind of dependency each reference makes (call, start-up order, build, browser), whether
//! it carries telemetry, and how sure the link is; an edge adds up the references behind it.

use switchyard_model::redact::key_words;
use switchyard_model::{Confidence, EdgeKind, Mechanism, Reference, Service, ServiceKind};

/// Env prefixes that build tools inline into code shipped to the browser.
const BROWSER_PREFIXES: [&str; 11] = [
    "REACT_APP_",
    "VITE_",
    "NEXT_PUBLIC_",
    "EXPO_PUBLIC_",
    "VUE_APP_",
    "NUXT_PUBLIC_",
    "GATSBY_",
    "PUBLIC_",
    "NG_APP_",
    "SNOWPACK_PUBLIC_",
    "STORYBOOK_",
];

/// Words of a key or config path that name metrics, traces or logs.
const TELEMETRY_WORDS: [&str; 24] = [
    "OTEL",
    "OTLP",
    "JAEGER",
    "ZIPKIN",
    "TRACING",
    "TRACES",
    "TRACER",
    "TELEMETRY",
    "METRICS",
    "PROMETHEUS",
    "STATSD",
    "DOGSTATSD",
    "LOKI",
    "FLUENTD",
    "FLUENT",
    "LOGSTASH",
    "SYSLOG",
    "GELF",
    "APM",
    "SENTRY",
    "TEMPO",
    "SCRAPE",
    "EXPORTERS",
    "PUSHGATEWAY",
];

/// Config files whose addresses are all telemetry (OpenTelemetry collector, log shippers), by
/// the start of their file name. Prometheus is not among them: a Grafana datasource file is
/// often named `prometheus.yml`, and Prometheus's own targets are told by their key
/// (`scrape_configs`, `remote_write`).
const TELEMETRY_FILES: [&str; 6] = ["otel", "otelcol", "promtail", "fluent", "alloy", "vector"];

/// How a reference's target was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// By a name in scope, a domain, a DNS name, a package or federation name.
    Direct,
    /// `localhost:PORT` (or the Docker host) to whoever publishes that port on the host.
    HostPort,
    /// A bare name in a loose file, matched against every service name of its repository.
    LooseName,
}

/// What one reference says about its edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Contribution {
    pub kind: EdgeKind,
    pub telemetry: bool,
    pub confidence: Confidence,
}

/// The contribution of `reference`, made by `from`, whose target was found by `route`.
pub(crate) fn contribution(reference: &Reference, from: &Service, route: Route) -> Contribution {
    let kind = match reference.mechanism {
        Mechanism::DependsOn | Mechanism::Link | Mechanism::VolumesFrom => EdgeKind::Startup,
        Mechanism::Workspace | Mechanism::Registry
            if package_section(reference) == Some("peerDependencies") =>
        {
            EdgeKind::Peer
        }
        Mechanism::Workspace | Mechanism::Registry => EdgeKind::Build,
        _ if is_browser(reference) => EdgeKind::Browser,
        _ => EdgeKind::Call,
    };
    let confidence = match kind {
        EdgeKind::Startup | EdgeKind::Build | EdgeKind::Peer => Confidence::High,
        EdgeKind::Call | EdgeKind::Browser => {
            let own_declaration = from.kind != ServiceKind::Application
                && from
                    .sources
                    .iter()
                    .any(|s| s.path == reference.location.path);
            match route {
                // An address book says where a service is, not that this consumer calls it.
                _ if reference.mechanism == Mechanism::EnvFrom => Confidence::Low,
                Route::LooseName => Confidence::Low,
                Route::HostPort => Confidence::Medium,
                Route::Direct if own_declaration => Confidence::High,
                Route::Direct => Confidence::Medium,
            }
        }
    };
    Contribution {
        kind,
        telemetry: matches!(kind, EdgeKind::Call) && is_telemetry(reference),
        confidence,
    }
}

/// The package.json section of a package dependency (`devDependencies` of the key
/// `devDependencies.@repo/ui`).
pub(crate) fn package_section(reference: &Reference) -> Option<&str> {
    if !matches!(
        reference.mechanism,
        Mechanism::Workspace | Mechanism::Registry
    ) {
        return None;
    }
    reference
        .key
        .as_deref()
        .and_then(|k| k.split_once('.'))
        .map(|(section, _)| section)
        .filter(|s| s.ends_with("ependencies"))
}

/// An address used by code that runs in the browser: a build-time public env variable, or a
/// config file a web client fetches (`public/`, `static/`).
pub(crate) fn is_browser(reference: &Reference) -> bool {
    if let Some(key) = &reference.key {
        let upper = key.to_ascii_uppercase();
        if BROWSER_PREFIXES.iter().any(|p| upper.starts_with(p)) {
            return true;
        }
    }
    reference.mechanism == Mechanism::Url
        && reference
            .location
            .path
            .split('/')
            .rev()
            .skip(1)
            .any(|dir| dir == "public" || dir == "static")
}

fn is_telemetry(reference: &Reference) -> bool {
    let file = reference
        .location
        .path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if reference.mechanism == Mechanism::Url && TELEMETRY_FILES.iter().any(|f| file.starts_with(f))
    {
        return true;
    }
    reference.key.as_deref().is_some_and(|key| {
        key.to_ascii_uppercase().contains("REMOTE_WRITE")
            || key_words(key)
                .iter()
                .any(|w| TELEMETRY_WORDS.contains(&w.as_str()))
    })
}

/// The contributions of every reference behind one edge.
#[derive(Debug, Default)]
pub(crate) struct EdgeClass {
    call: bool,
    /// A call that is not telemetry.
    plain_call: bool,
    browser: bool,
    build: bool,
    peer: bool,
    startup: bool,
    confidence: Option<Confidence>,
}

impl EdgeClass {
    pub fn add(&mut self, c: Contribution) {
        match c.kind {
            EdgeKind::Call => {
                self.call = true;
                self.plain_call |= !c.telemetry;
            }
            EdgeKind::Browser => self.browser = true,
            EdgeKind::Build => self.build = true,
            EdgeKind::Peer => self.peer = true,
            EdgeKind::Startup => self.startup = true,
        }
        self.confidence = Some(
            self.confidence
                .map_or(c.confidence, |k| k.max(c.confidence)),
        );
    }

    /// The edge's kind (a call wins over a browser call, which wins over a build dependency,
    /// which wins over start-up order, which wins over a peer dependency), its telemetry tag and
    /// its confidence.
    pub fn finish(&self) -> (EdgeKind, bool, Confidence) {
        let kind = if self.call {
            EdgeKind::Call
        } else if self.browser {
            EdgeKind::Browser
        } else if self.build {
            EdgeKind::Build
        } else if self.peer && !self.startup {
            EdgeKind::Peer
        } else {
            EdgeKind::Startup
        };
        (
            kind,
            self.call && !self.plain_call,
            self.confidence.unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_model::{Location, Scope, Target};

    fn service(kind: ServiceKind) -> Service {
        let source = Location::file("shop", "compose.yaml");
        Service {
            id: "shop/web".into(),
            repository: "shop".into(),
            name: "web".into(),
            kind,
            source: source.clone(),
            sources: vec![source],
            scopes: vec![Scope::Host],
            aliases: Vec::new(),
            endpoints: Vec::new(),
            networks: Vec::new(),
            image: None,
            test_harness: false,
            variants: Vec::new(),
            profiles: Vec::new(),
        }
    }

    fn reference(mechanism: Mechanism, key: Option<&str>, path: &str) -> Reference {
        Reference {
            from: Some("web".into()),
            target: Target::Address {
                text: "http://api:8080".into(),
            },
            mechanism,
            key: key.map(str::to_string),
            location: Location::file("shop", path),
            scope: Scope::Host,
        }
    }

    #[test]
    fn kinds_follow_the_mechanism_and_the_key() {
        let web = service(ServiceKind::Compose);
        let of = |m, key, path| contribution(&reference(m, key, path), &web, Route::Direct).kind;
        assert_eq!(
            of(Mechanism::DependsOn, None, "compose.yaml"),
            EdgeKind::Startup
        );
        assert_eq!(
            of(Mechanism::Workspace, None, "package.json"),
            EdgeKind::Build
        );
        assert_eq!(
            of(Mechanism::Env, Some("API_URL"), "compose.yaml"),
            EdgeKind::Call
        );
        assert_eq!(
            of(Mechanism::Env, Some("VITE_API_URL"), ".env"),
            EdgeKind::Browser
        );
        assert_eq!(
            of(Mechanism::Env, Some("NEXT_PUBLIC_BACKEND"), ".env.local"),
            EdgeKind::Browser
        );
        assert_eq!(
            of(Mechanism::Url, Some("apiUrl"), "web/public/config.json"),
            EdgeKind::Browser
        );
        // `publicUrl` in a server config is no browser variable.
        assert_eq!(
            of(Mechanism::Env, Some("REPUBLIC_URL"), "compose.yaml"),
            EdgeKind::Call
        );
    }

    #[test]
    fn telemetry_is_tagged_from_keys_and_files() {
        let web = service(ServiceKind::Compose);
        let tagged =
            |m, key, path| contribution(&reference(m, key, path), &web, Route::Direct).telemetry;
        assert!(tagged(
            Mechanism::Env,
            Some("OTEL_EXPORTER_OTLP_ENDPOINT"),
            "compose.yaml"
        ));
        assert!(tagged(
            Mechanism::Env,
            Some("jaegerAgentHost"),
            "compose.yaml"
        ));
        assert!(tagged(
            Mechanism::Url,
            Some("scrape_configs[0].static_configs[0].targets[0]"),
            "monitoring/prometheus.yml"
        ));
        assert!(!tagged(
            Mechanism::Env,
            Some("DATABASE_URL"),
            "compose.yaml"
        ));
        assert!(!tagged(
            Mechanism::Url,
            Some("datasources[0].url"),
            "grafana/datasource.yml"
        ));
    }

    #[test]
    fn confidence_follows_where_the_address_was_written() {
        let web = service(ServiceKind::Compose);
        let env = reference(Mechanism::Env, Some("API_URL"), "compose.yaml");
        let of = |r: &Reference, s: &Service, route| contribution(r, s, route).confidence;
        assert_eq!(of(&env, &web, Route::Direct), Confidence::High);
        assert_eq!(of(&env, &web, Route::HostPort), Confidence::Medium);
        let mounted = reference(Mechanism::Url, Some("upstream"), "nginx/default.conf");
        assert_eq!(of(&mounted, &web, Route::Direct), Confidence::Medium);
        let app = service(ServiceKind::Application);
        assert_eq!(of(&env, &app, Route::Direct), Confidence::Medium);
        assert_eq!(of(&mounted, &web, Route::LooseName), Confidence::Low);
        let imported = reference(Mechanism::EnvFrom, Some("ORDERS_URL"), "compose.yaml");
        assert_eq!(of(&imported, &web, Route::Direct), Confidence::Low);
    }

    #[test]
    fn an_edge_is_a_call_when_any_reference_calls() {
        let mut class = EdgeClass::default();
        let c = |kind, telemetry, confidence| Contribution {
            kind,
            telemetry,
            confidence,
        };
        class.add(c(EdgeKind::Startup, false, Confidence::High));
        assert_eq!(class.finish(), (EdgeKind::Startup, false, Confidence::High));
        class.add(c(EdgeKind::Browser, false, Confidence::Medium));
        assert_eq!(class.finish().0, EdgeKind::Browser);
        class.add(c(EdgeKind::Call, true, Confidence::Medium));
        assert_eq!(class.finish(), (EdgeKind::Call, true, Confidence::High));
        class.add(c(EdgeKind::Call, false, Confidence::Low));
        assert_eq!(class.finish(), (EdgeKind::Call, false, Confidence::High));
    }
}
