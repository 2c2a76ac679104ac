//! Compose port syntax: `ports:` short form (`[IP:][HOST:]CONTAINER[/PROTO]` with ranges and
//! bracketed IPv6) and `expose:` entries, with byte ranges of the host and container parts.

use std::ops::Range;
use switchyard_model::Protocol;

/// A port range `start..=end` and where it was written in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PortRange {
    pub start: u16,
    pub end: u16,
    pub span: Range<usize>,
}

/// One parsed `ports:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PortSpec {
    pub host_ip: Option<String>,
    /// `None` when only the container port is given (Docker picks an ephemeral host port).
    pub published: Option<PortRange>,
    pub target: PortRange,
    pub protocol: Protocol,
}

/// Parses `8080`, `8080-8081`, with `span` offset by `base`. Zero is refused.
pub(crate) fn parse_range(text: &str, base: usize) -> Result<PortRange, String> {
    let (a, b) = match text.split_once('-') {
        Some((a, b)) => (a, b),
        None => (text, text),
    };
    let start = parse_port(a)?;
    let end = parse_port(b)?;
    if end < start {
        return Err(format!("port range {text} ends before it starts"));
    }
    Ok(PortRange {
        start,
        end,
        span: base..base + text.len(),
    })
}

fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(0) => Err("port 0 is not a valid port".into()),
        Ok(p) if text.chars().all(|c| c.is_ascii_digit()) => Ok(p),
        _ => Err(format!("`{text}` is not a port number (1-65535)")),
    }
}

/// Splits a `/udp` protocol suffix; returns the body and the protocol.
pub(crate) fn split_protocol(text: &str) -> Result<(&str, Protocol), String> {
    match text.rsplit_once('/') {
        Some((body, proto)) => Protocol::parse(proto)
            .map(|p| (body, p))
            .ok_or_else(|| format!("unknown protocol `{proto}`")),
        None => Ok((text, Protocol::Tcp)),
    }
}

/// Parses a short-syntax `ports:` entry. Spans are byte ranges in `text`.
pub(crate) fn parse_short(text: &str) -> Result<PortSpec, String> {
    let (body, protocol) = split_protocol(text)?;
    if body.is_empty() {
        return Err("empty port".into());
    }
    // Separate the host IP: `[v6]:rest`, `ip:host:container`, or unbracketed IPv6.
    let (host_ip, rest, rest_at) = if let Some(after_open) = body.strip_prefix('[') {
        let close = after_open
            .find(']')
            .ok_or_else(|| "unclosed `[` in IPv6 address".to_string())?;
        let ip = &after_open[..close];
        let after = &after_open[close + 1..];
        let rest = after
            .strip_prefix(':')
            .ok_or_else(|| "expected `:` after the IPv6 address".to_string())?;
        (Some(ip.to_string()), rest, close + 3)
    } else {
        let colons: Vec<usize> = body.match_indices(':').map(|(i, _)| i).collect();
        match colons.len() {
            0 | 1 => (None, body, 0),
            2 => (
                Some(body[..colons[0]].to_string()),
                &body[colons[0] + 1..],
                colons[0] + 1,
            ),
            n => {
                let cut = colons[n - 2];
                (Some(body[..cut].to_string()), &body[cut + 1..], cut + 1)
            }
        }
    };
    let had_ip = host_ip.is_some();
    let (published, target) = match rest.split_once(':') {
        Some((host, container)) => {
            let target = parse_range(container, rest_at + host.len() + 1)?;
            // `0` or an empty host part asks Docker for an ephemeral port.
            let published = match host {
                "" | "0" => None,
                h => Some(parse_range(h, rest_at)?),
            };
            (published, target)
        }
        None if had_ip => return Err(format!("`{text}` has a host IP but no container port")),
        None => (None, parse_range(rest, rest_at)?),
    };
    if let Some(p) = &published {
        let host_len = p.end - p.start;
        let target_len = target.end - target.start;
        if target_len != 0 && host_len != target_len {
            return Err(format!(
                "host range {}-{} and container range {}-{} differ in size",
                p.start, p.end, target.start, target.end
            ));
        }
    }
    let host_ip = host_ip.filter(|ip| !ip.is_empty());
    Ok(PortSpec {
        host_ip,
        published,
        target,
        protocol,
    })
}

/// Parses an `expose:` entry (`3000`, `3000-3005`, `3000/udp`).
pub(crate) fn parse_expose(text: &str) -> Result<(PortRange, Protocol), String> {
    let (body, protocol) = split_protocol(text)?;
    Ok((parse_range(body, 0)?, protocol))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Expected = (
        Option<&'static str>,
        Option<(u16, u16)>,
        (u16, u16),
        Protocol,
    );

    #[test]
    fn short_forms_table() {
        use Protocol::*;
        let cases: &[(&str, Expected)] = &[
            ("80", (None, None, (80, 80), Tcp)),
            ("8080:80", (None, Some((8080, 8080)), (80, 80), Tcp)),
            (
                "127.0.0.1:9229:9229",
                (Some("127.0.0.1"), Some((9229, 9229)), (9229, 9229), Tcp),
            ),
            ("8080-8081:80-81", (None, Some((8080, 8081)), (80, 81), Tcp)),
            (
                "9090-9091:8080-8081",
                (None, Some((9090, 9091)), (8080, 8081), Tcp),
            ),
            ("8000-9000:80", (None, Some((8000, 9000)), (80, 80), Tcp)),
            ("[::1]:80:80", (Some("::1"), Some((80, 80)), (80, 80), Tcp)),
            (
                "[::1]:6001:6001/udp",
                (Some("::1"), Some((6001, 6001)), (6001, 6001), Udp),
            ),
            (
                "::1:6000:6000",
                (Some("::1"), Some((6000, 6000)), (6000, 6000), Tcp),
            ),
            (
                "5054:5054/udp",
                (None, Some((5054, 5054)), (5054, 5054), Udp),
            ),
            ("53:53/tcp", (None, Some((53, 53)), (53, 53), Tcp)),
            ("67:67/UDP", (None, Some((67, 67)), (67, 67), Udp)),
            ("3000-3005", (None, None, (3000, 3005), Tcp)),
            (
                "127.0.0.1::5000",
                (Some("127.0.0.1"), None, (5000, 5000), Tcp),
            ),
            (
                "0.0.0.0:8000:8000",
                (Some("0.0.0.0"), Some((8000, 8000)), (8000, 8000), Tcp),
            ),
            (
                "6060:6060/sctp",
                (None, Some((6060, 6060)), (6060, 6060), Sctp),
            ),
            ("0:80", (None, None, (80, 80), Tcp)),
        ];
        for (text, (ip, published, target, protocol)) in cases {
            let spec = parse_short(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(spec.host_ip.as_deref(), *ip, "{text}");
            assert_eq!(
                spec.published.as_ref().map(|p| (p.start, p.end)),
                *published,
                "{text}"
            );
            assert_eq!((spec.target.start, spec.target.end), *target, "{text}");
            assert_eq!(spec.protocol, *protocol, "{text}");
        }
    }

    #[test]
    fn spans_point_at_parts() {
        let text = "127.0.0.1:8080:80/tcp";
        let spec = parse_short(text).unwrap();
        assert_eq!(&text[spec.published.unwrap().span], "8080");
        assert_eq!(&text[spec.target.span], "80");
        let text = "[::1]:8080-8081:80-81";
        let spec = parse_short(text).unwrap();
        assert_eq!(&text[spec.published.unwrap().span], "8080-8081");
        assert_eq!(&text[spec.target.span], "80-81");
        let text = "3000";
        assert_eq!(&text[parse_short(text).unwrap().target.span], "3000");
    }

    #[test]
    fn bad_forms_are_errors() {
        for bad in [
            "",
            "abc",
            "8080:http",
            "70000:80",
            "80:0",
            "8080/quic",
            "[::1:80:80",
            "1.2.3.4:80",
            "8081-8080:80",
            "8080-8082:80-81",
            "80:80:",
            "-1:80",
        ] {
            assert!(parse_short(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn expose_forms() {
        assert_eq!(parse_expose("3000").unwrap().0.start, 3000);
        let (range, proto) = parse_expose("4000-4002/udp").unwrap();
        assert_eq!((range.start, range.end, proto), (4000, 4002, Protocol::Udp));
        assert!(parse_expose("x").is_err());
    }
}
