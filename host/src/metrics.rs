//! Prometheus metrics (`GET /metrics`). Features register their own metrics
//! on [`Metrics::registry_mut`] at start-up, before the server starts.

use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The matched route as written in spin.toml, or a host endpoint name.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The host's metrics registry and its HTTP metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    in_flight: Gauge,
    instantiate: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("edgeimg");
        let requests = Family::<RequestLabels, Counter>::default();
        // 100 µs to ~6.5 s.
        let latency: LatencyFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0001, 2.0, 17)));
        let in_flight = Gauge::default();
        // 5 µs to ~20 ms.
        let instantiate = Histogram::new(exponential_buckets(0.000005, 2.0, 12));
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to response headers by route",
            latency.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "Requests being handled",
            in_flight.clone(),
        );
        registry.register(
            "instantiate_duration_seconds",
            "Time to create a store and instantiate a component, per request",
            instantiate.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            in_flight,
            instantiate,
        }
    }

    /// For features that add metrics at start-up.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Records one answered request.
    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The per-request instantiation histogram (cheap to clone).
    pub fn instantiate(&self) -> Histogram {
        self.instantiate.clone()
    }

    /// Tracks a request in flight until the guard drops.
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// Decrements the in-flight gauge on drop.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_by_route_and_status() {
        let m = Metrics::new();
        m.observe("/upload", 201, Duration::from_millis(3));
        m.observe("/upload", 201, Duration::from_millis(3));
        let text = m.encode();
        assert!(
            text.contains(r#"edgeimg_http_requests_total{route="/upload",status="201"} 2"#),
            "{text}"
        );
        assert!(
            text.contains("edgeimg_http_request_duration_seconds_bucket"),
            "{text}"
        );
    }
}
