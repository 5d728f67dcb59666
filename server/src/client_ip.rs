//! The client address that per-IP limits count against (issue 8, item 7).
//!
//! Behind a reverse proxy the peer is the proxy, so every client would share one
//! bucket. When the peer is one of the configured `trusted_proxies`, the client is
//! the right-most address in `X-Forwarded-For` (or, without it, `Forwarded: for=`)
//! that is not itself a trusted proxy: entries further left were written by the
//! client and can be forged. Headers from any other peer are ignored. IPv6
//! addresses count per /64, the block one subscriber gets, so rotating addresses
//! inside it does not escape the limits.

use std::net::{IpAddr, Ipv6Addr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's limit key (IPv6 reduced to its /64), set by the HTTP guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl core::fmt::Display for ClientIp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
            IpAddr::V4(v4) => write!(f, "{v4}"),
        }
    }
}

impl ClientIp {
    /// The limit key of a request from `peer` with these headers.
    pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Self {
        Self(aggregate(
            forwarded_client(peer, headers, trusted).unwrap_or(peer),
        ))
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    let ip = canonical(ip);
    trusted.iter().any(|n| n.contains(&ip))
}

/// The first untrusted hop, right to left, when the peer is a trusted proxy.
fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    if !is_trusted(peer, trusted) {
        return None;
    }
    let hops: Vec<IpAddr> = if headers.contains_key("x-forwarded-for") {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|h| parse_hop(h.trim()))
            .collect::<Option<_>>()?
    } else {
        headers
            .get_all("forwarded")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|el| {
                el.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| v.trim())
                })
            })
            .map(parse_hop)
            .collect::<Option<_>>()?
    };
    hops.into_iter().rev().find(|ip| !is_trusted(*ip, trusted))
}

/// One hop: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `"[2001:db8::1]:80"`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    let t = text.trim_matches('"');
    if let Ok(ip) = t.parse() {
        return Some(ip);
    }
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    t.rsplit_once(':').and_then(|(host, _)| host.parse().ok())
}

/// IPv4-mapped IPv6 as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// IPv6 reduced to its /64.
fn aggregate(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn trusts_only_configured_proxies_and_groups_ipv6() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let xff = h(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.9")]);
        // From a trusted proxy: the right-most untrusted hop (6.6.6.6 is client-written).
        assert_eq!(
            ClientIp::resolve(proxy, &xff, &trusted).0,
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // From anyone else the header is ignored.
        let peer: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(ClientIp::resolve(peer, &xff, &trusted).0, peer);
        assert_eq!(ClientIp::resolve(proxy, &xff, &[]).0, proxy);
        // Forwarded (RFC 7239), quoted IPv6 with a port, reduced to /64.
        let fwd = h(&[(
            "forwarded",
            "for=\"[2001:db8:1:2:3:4:5:6]:443\";proto=https",
        )]);
        assert_eq!(
            ClientIp::resolve(proxy, &fwd, &trusted).to_string(),
            "2001:db8:1:2::/64"
        );
        // Garbage in the header: fall back to the peer, never to a forged value.
        let bad = h(&[("x-forwarded-for", "6.6.6.6, nonsense")]);
        assert_eq!(ClientIp::resolve(proxy, &bad, &trusted).0, proxy);
        // Two addresses in one /64 are one client.
        let a = ClientIp::resolve("2001:db8::1".parse().unwrap(), &HeaderMap::new(), &[]);
        let b = ClientIp::resolve("2001:db8::ffff:1".parse().unwrap(), &HeaderMap::new(), &[]);
        assert_eq!(a, b);
    }
}
