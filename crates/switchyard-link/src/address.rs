//! Parses reference text into network addresses: URLs and DSNs (several hosts allowed),
//! `host:port`, `host#port` (DNS forwarders), `[v6]:port`, ADO-style `Server=host,port;…`, bare
//! hosts. Anything that is not an address (flags, numbers, versions, paths) parses to nothing.

/// One host (and maybe port) a reference points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub scheme: Option<String>,
    /// Lowercased host name or IP literal (without brackets).
    pub host: String,
    /// The explicit port, or the scheme's well-known port.
    pub port: Option<u16>,
    pub path: Option<String>,
}

/// Well-known ports of URL schemes.
pub fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        "postgres" | "postgresql" | "postgis" => 5432,
        "mysql" | "mariadb" => 3306,
        "mongodb" => 27017,
        "redis" => 6379,
        "rediss" => 6380,
        "amqp" => 5672,
        "amqps" => 5671,
        "nats" => 4222,
        "kafka" => 9092,
        "memcached" => 11211,
        "ldap" => 389,
        "ldaps" => 636,
        "smtp" => 25,
        "ftp" => 21,
        "grpc" => 50051,
        "mqtt" => 1883,
        "sqlserver" | "mssql" => 1433,
        "clickhouse" => 8123,
        "elasticsearch" => 9200,
        _ => return None,
    })
}

/// Parses reference text into the addresses it names (empty when it names none).
///
/// ```
/// use switchyard_link::address::parse;
/// let a = parse("postgres://app:***@db:5432/app");
/// assert_eq!((a[0].host.as_str(), a[0].port), ("db", Some(5432)));
/// assert_eq!(parse("mongodb://m1:27017,m2:27018/x").len(), 2);
/// assert!(parse("true").is_empty());
/// ```
pub fn parse(text: &str) -> Vec<Address> {
    let text = text.trim().trim_matches(|c| c == '"' || c == '\'');
    if text.contains(char::is_whitespace) && !text.contains("${") {
        return parse_keyword_value(text).into_iter().collect();
    }
    if text.is_empty() || text.contains("${") {
        return Vec::new();
    }
    if let Some((scheme, rest)) = text.split_once("://") {
        return parse_url(scheme, rest);
    }
    if text.contains('=') && text.contains(';') || text.to_ascii_lowercase().starts_with("server=")
    {
        return parse_connection_string(text).into_iter().collect();
    }
    if text.starts_with('/') || text.starts_with('.') {
        return Vec::new();
    }
    let (hostport, path) = match text.find('/') {
        Some(i) => (&text[..i], Some(text[i..].to_string())),
        None => (text, None),
    };
    parse_host_port(hostport)
        .map(|(host, port)| Address {
            scheme: None,
            host,
            port,
            path,
        })
        .into_iter()
        .collect()
}

fn parse_url(scheme: &str, rest: &str) -> Vec<Address> {
    let scheme = scheme.to_ascii_lowercase();
    if !scheme
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+.-:".contains(c))
        || scheme == "file"
        || scheme == "unix"
    {
        return Vec::new();
    }
    // `jdbc:postgresql://` and `mongodb+srv://` keep their last component as the scheme.
    let scheme = scheme
        .rsplit(':')
        .next()
        .unwrap_or(&scheme)
        .split('+')
        .next()
        .unwrap_or("")
        .to_string();
    match scheme.as_str() {
        // gRPC name resolution: `dns:///host:port` (or `dns://resolver/host:port`) names the
        // target in the path; the authority is the DNS server to ask.
        "dns" => {
            let target = rest.split_once('/').map_or("", |(_, t)| t);
            return parse_host_port(target)
                .map(|(host, port)| Address {
                    scheme: Some(scheme.clone()),
                    host,
                    port,
                    path: None,
                })
                .into_iter()
                .collect();
        }
        // Object storage URLs (`s3://bucket/prefix`, gocloud.dev blob URLs) name a bucket, not
        // a host; a self-hosted store is the `endpoint` query parameter.
        "s3" | "s3a" | "gs" | "azblob" => {
            let endpoint = rest
                .split_once('?')
                .map_or("", |(_, q)| q)
                .split('&')
                .find_map(|kv| kv.strip_prefix("endpoint="));
            return endpoint.map_or_else(Vec::new, |e| {
                let e = e
                    .replace("%3A", ":")
                    .replace("%3a", ":")
                    .replace("%2F", "/")
                    .replace("%2f", "/");
                match e.split_once("://") {
                    Some((scheme, rest)) => parse_url(scheme, rest),
                    None => parse(&e),
                }
            });
        }
        _ => {}
    }
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    let path = rest[auth_end..]
        .split(['?', '#'])
        .next()
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    hosts
        .split(',')
        .filter_map(parse_host_port)
        .map(|(host, port)| Address {
            port: port.or_else(|| default_port(&scheme)),
            scheme: Some(scheme.clone()),
            host,
            path: path.clone(),
        })
        .collect()
}

/// `Server=tcp:db,1433;Database=x` / `Host=db;Port=5432` / `Data Source=db`.
fn parse_connection_string(text: &str) -> Option<Address> {
    let mut host = None;
    let mut port = None;
    for part in text.split(';') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let key = k.trim().to_ascii_lowercase();
        let value = v.trim();
        match key.as_str() {
            "server" | "host" | "data source" | "address" | "addr" | "hostname" => {
                let value = value.strip_prefix("tcp:").unwrap_or(value);
                let (h, p) = match value.split_once(',') {
                    Some((h, p)) => (h, p.trim().parse().ok()),
                    None => (value, None),
                };
                if let Some((h, hp)) = parse_host_port(h) {
                    host = Some(h);
                    port = p.or(hp);
                }
            }
            "port" => port = value.parse().ok(),
            _ => {}
        }
    }
    Some(Address {
        scheme: None,
        host: host?,
        port,
        path: None,
    })
}

/// A libpq keyword/value string (`host=db port=5432 dbname=app`): every word is `key=value`
/// and one key names the host.
fn parse_keyword_value(text: &str) -> Option<Address> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if !words.iter().all(|w| w.contains('=') && !w.starts_with('=')) {
        return None;
    }
    parse_connection_string(&words.join(";"))
}

/// `host`, `host:port`, `host#port`, `[::1]:port`; `None` when not a plausible host.
fn parse_host_port(text: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_ascii_lowercase(), port));
    }
    let (host, port) = match text.rsplit_once([':', '#']) {
        Some((h, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => {
            (h, Some(p.parse().ok()?))
        }
        Some((_, "")) => return None,
        Some(_) => return None,
        None => (text, None),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    is_plausible_host(&host).then_some((host, port))
}

fn is_plausible_host(host: &str) -> bool {
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    const WORDS: [&str; 12] = [
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "null",
        "none",
        "nil",
        "enabled",
        "disabled",
        "undefined",
    ];
    if WORDS.contains(&host) {
        return false;
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
    {
        return false;
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.iter().any(|l| l.is_empty() || l.starts_with('-')) {
        return false;
    }
    // `1.2.3` (a version) and `12` (a number) are not hosts; `*.example.com` is handled elsewhere.
    let last = labels.last().copied().unwrap_or("");
    !last.chars().all(|c| c.is_ascii_digit())
}

/// True for names that mean "this machine".
pub fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "0.0.0.0" | "::1" | "::") || host.starts_with("127.")
}

/// True for names a container uses to reach its host.
pub fn is_docker_host(host: &str) -> bool {
    matches!(
        host,
        "host.docker.internal" | "host-gateway" | "gateway.docker.internal" | "172.17.0.1"
    )
}

/// Splits a Kubernetes DNS name (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`)
/// into service and namespace; `None` for names that are not of that shape.
pub fn kubernetes_dns(host: &str) -> Option<(&str, Option<&str>)> {
    let host = host.strip_suffix(".cluster.local").unwrap_or(host);
    let host = host.strip_suffix(".svc").unwrap_or(host);
    let mut parts = host.split('.');
    let name = parts.next()?;
    match (parts.next(), parts.next()) {
        (None, _) => Some((name, None)),
        (Some(ns), None) => Some((name, Some(ns))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (String, Option<u16>) {
        let a = parse(text);
        assert_eq!(a.len(), 1, "{text} → {a:?}");
        (a[0].host.clone(), a[0].port)
    }

    #[test]
    fn forms() {
        assert_eq!(one("http://api:8080/v1"), ("api".into(), Some(8080)));
        assert_eq!(
            one("https://App.Example.com"),
            ("app.example.com".into(), Some(443))
        );
        assert_eq!(one("redis://cache"), ("cache".into(), Some(6379)));
        assert_eq!(one("mysql://root:***@db/wp"), ("db".into(), Some(3306)));
        assert_eq!(
            one("jdbc:postgresql://pg:5433/x"),
            ("pg".into(), Some(5433))
        );
        assert_eq!(
            one("mongodb+srv://cluster0.example.net/x"),
            ("cluster0.example.net".into(), Some(27017))
        );
        assert_eq!(one("db:5432"), ("db".into(), Some(5432)));
        assert_eq!(one("172.20.0.2#5054"), ("172.20.0.2".into(), Some(5054)));
        assert_eq!(one("[::1]:8080"), ("::1".into(), Some(8080)));
        assert_eq!(one("redis"), ("redis".into(), None));
        assert_eq!(
            one("Server=tcp:sql,1433;Database=x;Password=***"),
            ("sql".into(), Some(1433))
        );
        assert_eq!(
            one("Host=pg;Port=5433;Username=u"),
            ("pg".into(), Some(5433))
        );
        assert_eq!(
            one("host=pg-main port=5433 dbname=app user=app sslmode=disable"),
            ("pg-main".into(), Some(5433))
        );
        assert_eq!(one("dns:///orders:50051"), ("orders".into(), Some(50051)));
        assert_eq!(
            one("dns://10.0.0.2/orders.shop.svc:50051"),
            ("orders.shop.svc".into(), Some(50051))
        );
        assert_eq!(
            one("s3://profiles?region=us-east-1&endpoint=blobs:8333&s3ForcePathStyle=true"),
            ("blobs".into(), Some(8333))
        );
        assert_eq!(
            one("s3://media?endpoint=http%3A%2F%2Fminio%3A9000"),
            ("minio".into(), Some(9000))
        );
        assert_eq!(
            one("tcp://docker-proxy:2375"),
            ("docker-proxy".into(), Some(2375))
        );
        assert_eq!(
            one("amqp://guest:***@rabbit/vhost"),
            ("rabbit".into(), Some(5672))
        );
        assert_eq!(
            one("api.internal:9000/health"),
            ("api.internal".into(), Some(9000))
        );
    }

    #[test]
    fn host_lists() {
        let hosts = |t: &str| -> Vec<(String, Option<u16>)> {
            parse(t).into_iter().map(|a| (a.host, a.port)).collect()
        };
        assert_eq!(
            hosts("jdbc:postgresql://pg-a:5432,pg-b:5433/app?targetServerType=primary"),
            vec![("pg-a".into(), Some(5432)), ("pg-b".into(), Some(5433))]
        );
        assert_eq!(
            hosts("mongodb://***:***@rs0,rs1:27018,rs2/app?replicaSet=rs"),
            vec![
                ("rs0".into(), Some(27017)),
                ("rs1".into(), Some(27018)),
                ("rs2".into(), Some(27017))
            ]
        );
    }

    #[test]
    fn not_addresses() {
        for t in [
            "true",
            "8080",
            "1.2.3",
            "/var/run/docker.sock",
            "./x",
            "${API_URL}",
            "a b",
            "unix:///x.sock",
            "file:///etc",
            // A bucket on the public cloud is not a host of the fleet.
            "s3://profiles/2024?region=eu-west-1",
            "gs://backups",
            // Words that are not all key=value are prose, not a libpq string.
            "host=db and more",
            "x:",
            "12:30:00",
        ] {
            assert!(parse(t).is_empty(), "{t} parsed as {:?}", parse(t));
        }
    }

    #[test]
    fn kubernetes_names() {
        assert_eq!(kubernetes_dns("api"), Some(("api", None)));
        assert_eq!(kubernetes_dns("api.prod"), Some(("api", Some("prod"))));
        assert_eq!(kubernetes_dns("api.prod.svc"), Some(("api", Some("prod"))));
        assert_eq!(
            kubernetes_dns("api.prod.svc.cluster.local"),
            Some(("api", Some("prod")))
        );
        assert_eq!(kubernetes_dns("a.b.example.com"), None);
    }
}
