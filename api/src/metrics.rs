//! `/metrics` in the Prometheus text exposition format (version 0.0.4), written here: a
//! counter, a histogram and two gauges do not justify a metrics library.
//!
//! Routes are labelled by their pattern (`/v1/users/{id}`), never the raw path, so the
//! number of series stays bounded; a request that matched no route is `unmatched`. The
//! method is bounded the same way: the eight methods of RFC 9110 and PATCH by name,
//! anything else a client invents as `other`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds: fine below 25 ms, where the create
/// path's p99 target lies (DESIGN.md section 9).
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    /// Count per bucket (not cumulative; summed when rendered).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    durations: BTreeMap<String, Histogram>,
}

/// The counters of one process. A mutex is enough: two workers, a few map operations
/// per request.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// The pool's state at render time.
#[derive(Debug, Clone, Copy)]
pub struct PoolGauges {
    pub connections: u32,
    pub idle: u32,
    pub max_size: u32,
}

/// The `method` label: a standard method by name, any other as `other`, so that a client
/// sending made-up methods cannot grow the series without bound.
pub fn method_label(method: &str) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    STANDARD
        .into_iter()
        .find(|m| *m == method)
        .unwrap_or("other")
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, latency: Duration) {
        let seconds = latency.as_secs_f64();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner
            .requests
            .entry((method_label(method).to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let histogram = inner.durations.entry(route.to_owned()).or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        if let Some(i) = BUCKETS.iter().position(|&le| seconds <= le) {
            histogram.buckets[i] += 1;
        }
    }

    pub fn render(&self, pool: PoolGauges) -> String {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str("# HELP jiban_http_requests_total HTTP requests answered, by method, route pattern and status.\n");
        out.push_str("# TYPE jiban_http_requests_total counter\n");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "jiban_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(method),
                escape(route)
            );
        }
        out.push_str("# HELP jiban_http_request_duration_seconds Time from request to response, by route pattern.\n");
        out.push_str("# TYPE jiban_http_request_duration_seconds histogram\n");
        for (route, h) in &inner.durations {
            let route = escape(route);
            let mut cumulative = 0;
            for (le, n) in BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "jiban_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "jiban_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "jiban_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "jiban_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out.push_str(
            "# HELP jiban_db_pool_connections Database connections open in this node's pool.\n",
        );
        out.push_str("# TYPE jiban_db_pool_connections gauge\n");
        let _ = writeln!(out, "jiban_db_pool_connections {}", pool.connections);
        out.push_str("# HELP jiban_db_pool_idle Open database connections not in use.\n");
        out.push_str("# TYPE jiban_db_pool_idle gauge\n");
        let _ = writeln!(out, "jiban_db_pool_idle {}", pool.idle);
        out.push_str(
            "# HELP jiban_db_pool_max_size The pool's configured size (JIBAN_POOL_SIZE).\n",
        );
        out.push_str("# TYPE jiban_db_pool_max_size gauge\n");
        let _ = writeln!(out, "jiban_db_pool_max_size {}", pool.max_size);
        out
    }
}

/// Label values escape `\`, `"` and newlines (exposition format, "Text format details").
fn escape(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.observe("GET", "/v1/users/{id}", 200, Duration::from_millis(3));
        m.observe("GET", "/v1/users/{id}", 200, Duration::from_millis(30));
        m.observe("GET", "/v1/users/{id}", 404, Duration::from_secs(10));
        let text = m.render(PoolGauges {
            connections: 3,
            idle: 2,
            max_size: 8,
        });
        assert!(text.contains(
            "jiban_http_requests_total{method=\"GET\",route=\"/v1/users/{id}\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "jiban_http_request_duration_seconds_bucket{route=\"/v1/users/{id}\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "jiban_http_request_duration_seconds_bucket{route=\"/v1/users/{id}\",le=\"5\"} 2"
        ));
        assert!(text.contains(
            "jiban_http_request_duration_seconds_bucket{route=\"/v1/users/{id}\",le=\"+Inf\"} 3"
        ));
        assert!(text.contains("jiban_db_pool_connections 3\n"));
        assert!(text.contains("jiban_db_pool_idle 2\n"));
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn made_up_methods_share_one_series() {
        let m = Metrics::default();
        for method in ["FOO", "BAR", "get", "PROPFIND"] {
            m.observe(method, "unmatched", 405, Duration::from_millis(1));
        }
        m.observe("PATCH", "/v1/users/{id}", 200, Duration::from_millis(1));
        let text = m.render(PoolGauges {
            connections: 0,
            idle: 0,
            max_size: 1,
        });
        assert!(text.contains(
            "jiban_http_requests_total{method=\"other\",route=\"unmatched\",status=\"405\"} 4"
        ));
        assert!(text.contains("method=\"PATCH\""));
        assert!(!text.contains("FOO") && !text.contains("PROPFIND"));
    }
}
