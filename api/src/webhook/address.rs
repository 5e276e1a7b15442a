//! Where a webhook may point (issue 10, point 4): a public http(s) address, so that an
//! admin's webhook cannot make the server reach into the county's own networks or the
//! machine it runs on (server-side request forgery).
//!
//! - On create ([`WebhookUrl::parse`], then [`resolve`] and [`check_all`]): only `http://`
//!   and `https://`, no `user:password@`, no `#fragment`, at most [`URL_MAX`] characters,
//!   and a host whose every address is public.
//! - At each delivery (`super::Deliverer`) the host is resolved again, every address is
//!   checked, and the connection goes only to the addresses checked: the resolver hands
//!   them to the HTTP client, which looks nothing up itself (no DNS rebinding between the
//!   check and the connection). Redirects are not followed.
//!
//! `JIBAN_WEBHOOK_ALLOW_PRIVATE=true` lifts the address check (tests receive on
//! 127.0.0.1; a closed network may have no public addresses); the URL's form is checked
//! whatever it says.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

/// The longest URL a webhook may have, in characters.
pub const URL_MAX: usize = 2048;

/// Why an address is not public, in words for the admin; `None` for a public one.
///
/// IPv4 (RFC 6890 and the IANA special-purpose registry): `0.0.0.0/8` (this network, the
/// unspecified address), `10/8`, `172.16/12`, `192.168/16` (private, RFC 1918),
/// `100.64/10` (shared address space, carrier-grade NAT, RFC 6598), `127/8` (loopback),
/// `169.254/16` (link-local, where clouds serve instance metadata), `192.0.0/24` (IETF
/// protocol assignments), `192.0.2/24`, `198.51.100/24`, `203.0.113/24` (documentation),
/// `192.88.99/24` (6to4 relay anycast), `198.18/15` (benchmarking), `224/4` (multicast),
/// `240/4` (reserved) and `255.255.255.255` (broadcast).
///
/// IPv6: an IPv4-mapped address (`::ffff:a.b.c.d`) is judged as its IPv4 address, since a
/// dual-stack socket reaches exactly that; otherwise only global unicast (`2000::/3`,
/// RFC 4291) is public, less `2001::/23` (IETF protocol assignments, Teredo among them),
/// `2001:db8::/32` and `3fff::/20` (documentation) and `2002::/16` (6to4, which tunnels to
/// an IPv4 address of its own). Outside `2000::/3` lie `::` (unspecified), `::1`
/// (loopback), the IPv4-compatible and NAT64 prefixes (`::/96`, `64:ff9b::/96`),
/// `fc00::/7` (unique local), `fe80::/10` (link-local), `fec0::/10` (site-local) and
/// `ff00::/8` (multicast): all refused.
pub fn not_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => not_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => not_public_v4(v4).map(|_| "an IPv4-mapped address that is not public"),
            None => not_public_v6(v6),
        },
    }
}

fn not_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_broadcast() => "the broadcast address",
        (0, _, _) => "the unspecified address (this network)",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "a private address",
        (100, 64..=127, _) => "shared address space (carrier-grade NAT)",
        (127, _, _) => "a loopback address",
        (169, 254, _) => "a link-local address",
        (192, 0, 0) => "an IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (192, 88, 99) => "the 6to4 relay anycast address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved address",
        _ => return None,
    })
}

fn not_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(match s {
        _ if ip.is_unspecified() => "the unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        [0xff00..=0xffff, ..] => "a multicast address",
        [0xfc00..=0xfdff, ..] => "a unique local (private) address",
        [0xfe80..=0xfebf, ..] => "a link-local address",
        [0xfec0..=0xfeff, ..] => "a site-local address",
        [first, ..] if first & 0xe000 != 0x2000 => "not a global unicast address",
        [0x2001, 0x0000..=0x01ff, ..] => "an IETF protocol assignment",
        [0x2001, 0x0db8, ..] => "a documentation address",
        [0x3fff, 0x0000..=0x0fff, ..] => "a documentation address",
        [0x2002, ..] => "a 6to4 address",
        _ => return None,
    })
}

/// An address refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{addr} is {reason}")]
pub struct Refused {
    pub addr: IpAddr,
    pub reason: &'static str,
}

/// Every address must be public: a host with one public and one private address could be
/// reached at either.
pub fn check_all(addrs: &[SocketAddr]) -> Result<(), Refused> {
    for addr in addrs {
        if let Some(reason) = not_public(addr.ip()) {
            return Err(Refused {
                addr: addr.ip(),
                reason,
            });
        }
    }
    Ok(())
}

/// A webhook's URL as the admin gave it, checked for its form (not yet for its addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    /// `http://` or `https://` with a host, no credentials, no fragment, at most
    /// [`URL_MAX`] characters. The reason is for the admin (a 422's detail).
    pub fn parse(raw: &str) -> Result<WebhookUrl, &'static str> {
        let raw = raw.trim();
        if raw.chars().count() > URL_MAX {
            return Err("must be at most 2048 characters");
        }
        let url = url::Url::parse(raw).map_err(|_| "is not a URL")?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must be an http:// or https:// URL");
        }
        if url.host().is_none() {
            return Err("must name a host");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user or password: the signature authenticates us");
        }
        if url.fragment().is_some() {
            return Err("must not have a #fragment: it is never sent");
        }
        Ok(WebhookUrl(url))
    }

    /// The URL as stored and shown: normalised (lower-case host, IDN as punycode).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host (an IPv6 address without brackets) and the port (the scheme's default when
    /// none is written).
    pub fn host_and_port(&self) -> (String, u16) {
        let host = match self.0.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        };
        (host, self.0.port_or_known_default().unwrap_or(80))
    }
}

/// How long a lookup at creation may take.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a URL's host was refused at creation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("its host does not resolve")]
    Unresolvable,
    #[error("its host resolves to {0}; webhooks go to public addresses only")]
    Refused(Refused),
}

/// The host's addresses, checked: an IP literal is itself, a name is looked up (at most
/// [`RESOLVE_TIMEOUT`]). Blocking: call it off the async threads.
pub fn check_host(url: &WebhookUrl) -> Result<(), HostError> {
    let (host, port) = url.host_and_port();
    let addrs = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => resolve(&host, port, RESOLVE_TIMEOUT).map_err(|_| HostError::Unresolvable)?,
    };
    if addrs.is_empty() {
        return Err(HostError::Unresolvable);
    }
    check_all(&addrs).map_err(HostError::Refused)
}

/// The system resolver's answer for `host:port`, within `timeout` (the lookup itself
/// cannot be interrupted: it finishes on its own thread).
pub fn resolve(host: &str, port: u16, timeout: Duration) -> std::io::Result<Vec<SocketAddr>> {
    let (tx, rx) = mpsc::sync_channel(1);
    let target = (host.to_owned(), port);
    std::thread::spawn(move || {
        let _ = tx.send(target.to_socket_addrs().map(|a| a.collect::<Vec<_>>()));
    });
    rx.recv_timeout(timeout)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "lookup timed out"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> bool {
        not_public(ip.parse().unwrap()).is_some()
    }

    #[test]
    fn ipv4_ranges_that_are_not_public() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.10",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(refused(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn public_ipv4_is_allowed_up_to_the_edges_of_the_ranges() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.0.3.1",
            "192.88.98.1",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "198.51.99.1",
            "203.0.112.1",
            "223.255.255.255",
            "114.114.114.114",
        ] {
            assert!(!refused(ip), "{ip} is public");
        }
    }

    #[test]
    fn ipv6_ranges_that_are_not_public() {
        for ip in [
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:1ff::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "3fff::1",
            "3fff:fff::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "4000::1",
            "e000::1",
        ] {
            assert!(refused(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn public_ipv6_is_allowed() {
        for ip in [
            "2400:3200::1",
            "2001:4860:4860::8888",
            "2001:200::1",
            "2003::1",
            "2a00:1450::1",
            "3ffe::1",
            "3fff:1000::1",
            "::ffff:8.8.8.8",
            "::ffff:114.114.114.114",
        ] {
            assert!(!refused(ip), "{ip} is public");
        }
    }

    #[test]
    fn one_private_address_among_public_ones_refuses_the_host() {
        let addrs: Vec<SocketAddr> = ["8.8.8.8:443", "[2001:4860:4860::8888]:443", "10.0.0.5:443"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let e = check_all(&addrs).unwrap_err();
        assert_eq!(e.addr, "10.0.0.5".parse::<IpAddr>().unwrap());
        assert_eq!(e.to_string(), "10.0.0.5 is a private address");
        assert!(check_all(&addrs[..2]).is_ok());
    }

    #[test]
    fn urls_of_the_right_form() {
        let u = WebhookUrl::parse(" https://Hooks.Example.gov.cn/jiban?x=1 ").unwrap();
        assert_eq!(u.as_str(), "https://hooks.example.gov.cn/jiban?x=1");
        assert_eq!(u.host_and_port(), ("hooks.example.gov.cn".to_owned(), 443));
        let u = WebhookUrl::parse("http://[2001:4860:4860::8888]:8080/h").unwrap();
        assert_eq!(u.host_and_port(), ("2001:4860:4860::8888".to_owned(), 8080));
        let u = WebhookUrl::parse("http://127.0.0.1:9/h").unwrap();
        assert_eq!(u.host_and_port(), ("127.0.0.1".to_owned(), 9));
        for bad in [
            "ftp://hooks.example.gov.cn/",
            "file:///etc/passwd",
            "gopher://hooks.example.gov.cn/",
            "javascript:alert(1)",
            "https://user:pw@hooks.example.gov.cn/",
            "https://user@hooks.example.gov.cn/",
            "https://hooks.example.gov.cn/#frag",
            "hooks.example.gov.cn/jiban",
            "https://",
            "",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("https://hooks.example.gov.cn/{}", "a".repeat(URL_MAX));
        assert!(WebhookUrl::parse(&long).is_err());
    }

    #[test]
    fn hosts_are_checked_by_every_address() {
        let check = |raw: &str| check_host(&WebhookUrl::parse(raw).unwrap());
        assert!(matches!(
            check("http://127.0.0.1:8080/"),
            Err(HostError::Refused(Refused {
                reason: "a loopback address",
                ..
            }))
        ));
        assert!(matches!(
            check("http://[::ffff:169.254.169.254]/"),
            Err(HostError::Refused(_))
        ));
        assert!(matches!(
            check("http://0x7f.1/"),
            Err(HostError::Refused(_))
        ));
        // `localhost` resolves to loopback addresses wherever it resolves at all.
        assert!(matches!(
            check("http://localhost:8080/"),
            Err(HostError::Refused(_) | HostError::Unresolvable)
        ));
        assert!(check("https://8.8.8.8/hook").is_ok());
        assert_eq!(
            check("https://no-such-host.invalid/"),
            Err(HostError::Unresolvable)
        );
    }
}
