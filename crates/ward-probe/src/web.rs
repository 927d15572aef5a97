//! The web probe (assets with role `web`): `http://<domain>/` and `https://<domain>/`, and
//! the same for `www.<domain>` when that name resolves, each followed through its redirects
//! by ward itself (the client never follows), at most [`WebObservation::MAX_HOPS`] of them,
//! every hop recorded; then `https://<domain>/.well-known/security.txt` (RFC 9116 §3).
//!
//! A `Location` is followed only to `http:` and `https:` URLs with a plain host name; a
//! loop, an IP-literal target, or an eleventh redirect stops the chain with the reason
//! recorded. No verdicts here: the checks decide what a chain means.

use std::net::IpAddr;

use ward_model::http::{HttpFetch, HttpOutcome, WebChain, WebObservation};
use ward_model::observe::AssetObservation;
use ward_model::{Asset, DnsOutcome, Role};
use ward_net::Net;
use ward_net::http::{HttpClient, HttpRequest};

/// Where security.txt lives (RFC 9116 §3).
pub const SECURITY_TXT_PATH: &str = "/.well-known/security.txt";

/// Longest `Location` ward will follow, and longest URL one may lead to, counted as
/// `scheme://host:port/path` (so a URL has one length however the server spelled it).
const MAX_LOCATION: usize = 2048;

async fn ensure(net: &Net, obs: &mut AssetObservation, name: &str, rtype: &str) {
    if obs.resolved(name, rtype).is_none() {
        let lookup = net.resolve(name, rtype).await;
        obs.dns.push(lookup);
    }
}

async fn address(net: &Net, obs: &mut AssetObservation, host: &str) -> Option<IpAddr> {
    ensure(net, obs, host, "A").await;
    ensure(net, obs, host, "AAAA").await;
    ["A", "AAAA"]
        .iter()
        .find_map(|t| match obs.resolved(host, t) {
            Some(o @ DnsOutcome::Answer { .. }) => {
                o.records_of(t).find_map(|r| r.data.parse().ok())
            }
            _ => None,
        })
}

/// A `Location` resolved against the request it answered: (tls, host, port, path).
///
/// The cap applies to the URL it leads to as well as to its text: a relative reference
/// is resolved against the path of the request before, so without it each hop of a
/// redirect chain could add [`MAX_LOCATION`] bytes to the path ward requests, and one
/// URL would be followed or refused depending on how it was spelled.
pub fn resolve_location(
    base: &HttpRequest,
    location: &str,
) -> Result<(bool, String, u16, String), String> {
    let (tls, host, port, path) = resolve(base, location)?;
    let scheme = if tls { "https" } else { "http" };
    let len = scheme.len() + "://".len() + host.len() + 1 + port.to_string().len() + path.len();
    if len > MAX_LOCATION {
        return Err(format!("Location leads to a URL of {len} bytes"));
    }
    Ok((tls, host, port, path))
}

fn resolve(base: &HttpRequest, location: &str) -> Result<(bool, String, u16, String), String> {
    let loc = location.trim();
    if loc.len() > MAX_LOCATION {
        return Err(format!("Location is {} bytes", loc.len()));
    }
    if loc.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        return Err("Location holds spaces, controls or non-ASCII".into());
    }
    // The fragment is the client's own and never goes in a request (RFC 9110 §7.1); a
    // reference that is only a fragment names the page itself (RFC 3986 §5.2.2).
    let loc = loc.split('#').next().unwrap_or_default();
    if loc.is_empty() {
        return Ok((base.tls, base.host.clone(), base.port, base.path.clone()));
    }
    let lower = loc.to_ascii_lowercase();
    let (tls, rest) = if let Some(r) = lower.strip_prefix("https://") {
        (true, &loc[loc.len() - r.len()..])
    } else if let Some(r) = lower.strip_prefix("http://") {
        (false, &loc[loc.len() - r.len()..])
    } else if let Some(r) = loc.strip_prefix("//") {
        (base.tls, r)
    } else if loc.starts_with('/') {
        return Ok((base.tls, base.host.clone(), base.port, loc.to_string()));
    } else if match (lower.find(':'), lower.find('/')) {
        (Some(c), Some(s)) => c < s,
        (Some(_), None) => true,
        _ => false,
    } {
        return Err(format!("Location {loc} is not http or https"));
    } else {
        let dir = base.path.rsplit_once('/').map_or("", |(d, _)| d);
        return Ok((
            base.tls,
            base.host.clone(),
            base.port,
            format!("{dir}/{loc}"),
        ));
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    let authority = authority.rsplit('@').next().unwrap_or_default();
    if authority.starts_with('[') {
        return Err("Location names an IPv6 literal".into());
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("bad port in Location {loc}"))?,
        ),
        None => (authority, if tls { 443 } else { 80 }),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty()
        || host.parse::<IpAddr>().is_ok()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(format!("Location host {host:?} is not a host name"));
    }
    let path = path.split('#').next().unwrap_or("/").to_string();
    Ok((tls, host, port, path))
}

/// Follows one chain from `start`.
async fn follow(
    net: &Net,
    client: &HttpClient,
    obs: &mut AssetObservation,
    start: HttpRequest,
) -> WebChain {
    let mut chain = WebChain {
        start: start.url(),
        hops: Vec::new(),
        stopped: None,
    };
    let mut req = start;
    loop {
        let url = req.url();
        let Some(ip) = address(net, obs, &req.host).await else {
            chain.hops.push(HttpFetch {
                url,
                ip: None,
                outcome: HttpOutcome::NoAddress,
            });
            return chain;
        };
        let fetch = client.fetch(net, ip, &req).await;
        let next = match &fetch.outcome {
            HttpOutcome::Response { status, .. } if (300..400).contains(status) => {
                fetch.header("location").map(str::to_string)
            }
            _ => None,
        };
        chain.hops.push(fetch);
        let Some(location) = next else {
            return chain;
        };
        if chain.hops.len() > WebObservation::MAX_HOPS {
            chain.stopped = Some(format!("more than {} redirects", WebObservation::MAX_HOPS));
            return chain;
        }
        match resolve_location(&req, &location) {
            Ok((tls, host, port, path)) => {
                let next = HttpRequest {
                    tls,
                    host,
                    port,
                    path,
                    ..req.clone()
                };
                if chain.hops.iter().any(|h| h.url == next.url()) {
                    chain.stopped = Some(format!("redirect loop back to {}", next.url()));
                    return chain;
                }
                req = next;
            }
            Err(why) => {
                chain.stopped = Some(why);
                return chain;
            }
        }
    }
}

/// Probes the asset's web presence into `obs.web` (role `web` only).
pub async fn probe(net: &Net, client: &HttpClient, asset: &Asset, obs: &mut AssetObservation) {
    if !asset.has(Role::Web) {
        return;
    }
    let domain = asset.domain.clone();
    let www = format!("www.{domain}");
    let mut hosts = vec![domain.clone()];
    if address(net, obs, &www).await.is_some() {
        hosts.push(www);
    }
    // Every chain and security.txt at once, each on its own copy of the DNS answers: a
    // site that never answers then costs one wait, not five in a row.
    let starts: Vec<HttpRequest> = hosts
        .iter()
        .flat_map(|h| {
            [
                HttpRequest::http_get(h, "/"),
                HttpRequest::https_get(h, "/"),
            ]
        })
        .collect();
    let chains = futures::future::join_all(starts.into_iter().map(|start| {
        let mut part = obs.clone();
        async move {
            let chain = follow(net, client, &mut part, start).await;
            (chain, part)
        }
    }));
    let mut part = obs.clone();
    let security_txt = async {
        let req = HttpRequest::https_get(&domain, SECURITY_TXT_PATH);
        match address(net, &mut part, &domain).await {
            Some(ip) => client.fetch(net, ip, &req).await,
            None => HttpFetch {
                url: req.url(),
                ip: None,
                outcome: HttpOutcome::NoAddress,
            },
        }
    };
    let (chains, security_txt) = tokio::join!(chains, security_txt);
    let mut web = WebObservation {
        security_txt: Some(security_txt),
        ..WebObservation::default()
    };
    crate::merge_dns(obs, part);
    for (chain, part) in chains {
        web.chains.push(chain);
        crate::merge_dns(obs, part);
    }
    obs.web = Some(web);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let base = HttpRequest::http_get("example.org", "/a/b");
        assert_eq!(
            resolve_location(&base, "https://Example.org./x?y#z"),
            Ok((true, "example.org".into(), 443, "/x?y".into()))
        );
        assert_eq!(
            resolve_location(&base, "/p"),
            Ok((false, "example.org".into(), 80, "/p".into()))
        );
        assert_eq!(
            resolve_location(&base, "c"),
            Ok((false, "example.org".into(), 80, "/a/c".into()))
        );
        assert_eq!(
            resolve_location(&base, "//www.example.org"),
            Ok((false, "www.example.org".into(), 80, "/".into()))
        );
        assert_eq!(
            resolve_location(&base, "https://h.example:8443?q"),
            Ok((true, "h.example".into(), 8443, "/?q".into()))
        );
        assert!(resolve_location(&base, "ftp://x/").is_err());
        assert!(resolve_location(&base, "mailto:a@b").is_err());
        assert!(resolve_location(&base, "https://127.0.0.1/").is_err());
        assert!(resolve_location(&base, "https://[::1]/").is_err());
        assert!(resolve_location(&base, "https://x/\u{e9}").is_err());
    }

    #[test]
    fn relative_locations_do_not_grow_the_url_past_the_cap() {
        // Found by tests/fuzz.rs (location_mutated, 20,000 cases): the cap was on the
        // Location's text only, so `//host/<2,030 bytes>` was followed and the same URL
        // written `https://host:443/<2,030 bytes>` refused, and a chain of relative
        // references could add 2 KB to the requested path at every hop.
        let long_dir = format!("/{}/", "d".repeat(1500));
        let base = HttpRequest::https_get("example.org", &format!("{long_dir}page"));
        let got = resolve_location(&base, &"x".repeat(1000));
        assert_eq!(got, Err("Location leads to a URL of 2525 bytes".into()));
        let path = format!("/{}", "p".repeat(2025));
        let net_path = format!("//cdn.example.net{path}");
        assert!(net_path.len() <= MAX_LOCATION);
        let absolute = format!("https://cdn.example.net:443{path}");
        assert!(resolve_location(&base, &net_path).is_err());
        assert!(resolve_location(&base, &absolute).is_err());
        // Up to the cap, every spelling of one URL gives the same answer.
        let path = format!("/{}", "p".repeat(2000));
        let want = Ok((true, "cdn.example.net".into(), 443, path.clone()));
        assert_eq!(
            resolve_location(&base, &format!("//cdn.example.net{path}")),
            want
        );
        assert_eq!(
            resolve_location(&base, &format!("https://cdn.example.net:443{path}")),
            want
        );
    }

    #[test]
    fn fragments_of_relative_locations_are_not_requested() {
        // Found by tests/fuzz.rs (location_arbitrary): only absolute URLs lost their
        // fragment, so `Location: next#top` made ward ask for `GET /a/next#top`.
        let base = HttpRequest::http_get("example.org", "/a/b?q");
        let at = |path: &str| Ok((false, "example.org".into(), 80, path.into()));
        assert_eq!(resolve_location(&base, "next#top"), at("/a/next"));
        assert_eq!(resolve_location(&base, "/p?x#y"), at("/p?x"));
        assert_eq!(resolve_location(&base, "#only"), at("/a/b?q"));
        assert_eq!(
            resolve_location(&base, "//h.example#f").map(|l| l.3),
            Ok("/".into())
        );
    }
}
