//! `/metrics`: what the server has done, in the Prometheus text format, on
//! a listen address of its own (`serve --metrics-listen`), never on the
//! address devices and officers reach.
//!
//! Counted as they happen (per process: a server copy counts its own, and
//! Prometheus adds the copies up): requests by route and status, pushes,
//! changes accepted and refused by code, and push latency. Read from the
//! database at each scrape (the same for every copy): devices seen in the
//! last day, per ward.

use crate::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sotay_domain::wire::RejectionCode;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The route's pattern (`/v1/sync/push`, `/dashboard/tips/{id}`), never
    /// the path itself, so ids do not become label values.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChangeLabels {
    /// `accepted` or `refused`.
    outcome: String,
    /// The refusal's code ([`RejectionCode`]); empty when accepted.
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WardLabels {
    ward: String,
}

/// The server's metrics, one set per process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    pushes: Counter,
    changes: Family<ChangeLabels, Counter>,
    push_seconds: Histogram,
    devices_seen: Family<WardLabels, Gauge>,
    /// One scrape at a time: the per-ward gauges are cleared and set again.
    scraping: tokio::sync::Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("sotay");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered by a route, by its pattern and status",
            requests.clone(),
        );
        let pushes = Counter::default();
        registry.register(
            "pushes",
            "Pushes answered (each a batch of changes)",
            pushes.clone(),
        );
        let changes = Family::<ChangeLabels, Counter>::default();
        registry.register(
            "changes",
            "Changes pushed, by outcome and refusal code",
            changes.clone(),
        );
        // 1 ms to about 16 s.
        let push_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        registry.register(
            "push_duration_seconds",
            "Time to check, store and answer a push, from its parsed body to its answer",
            push_seconds.clone(),
        );
        let devices_seen = Family::<WardLabels, Gauge>::default();
        registry.register(
            "devices_seen_last_day",
            "Enrolled, unrevoked devices that pushed or pulled in the last 24 hours, per ward",
            devices_seen.clone(),
        );
        Self {
            registry,
            requests,
            pushes,
            changes,
            push_seconds,
            devices_seen,
            scraping: tokio::sync::Mutex::new(()),
        }
    }
}

impl Metrics {
    /// One push answered after `took`, with the outcome of each change
    /// (`None` accepted, else the refusal's code).
    pub fn push(&self, took: Duration, outcomes: impl Iterator<Item = Option<RejectionCode>>) {
        self.pushes.inc();
        self.push_seconds.observe(took.as_secs_f64());
        for o in outcomes {
            let labels = match o {
                None => ChangeLabels {
                    outcome: "accepted".into(),
                    code: String::new(),
                },
                Some(code) => ChangeLabels {
                    outcome: "refused".into(),
                    code: code.code().into(),
                },
            };
            self.changes.get_or_create(&labels).inc();
        }
    }

    /// The text a scrape answers: the counters, and the per-ward device
    /// figures read from the store now.
    pub async fn render(&self, state: &AppState) -> Result<String, crate::store::StoreError> {
        let _one = self.scraping.lock().await;
        let since = crate::store::now_micros() - chrono::TimeDelta::days(1);
        let group_wards: HashMap<String, String> = state
            .store
            .groups(&crate::store::Scope::Province)
            .await?
            .into_iter()
            .map(|g| (g.id, g.ward_code))
            .collect();
        let seen: HashMap<_, _> = state
            .store
            .last_push_per_device()
            .await?
            .into_iter()
            .collect();
        // Every ward of today, with no device seen (or no group yet) too.
        let mut per_ward: HashMap<String, i64> = state
            .store
            .wards()
            .await?
            .into_iter()
            .filter(|w| w.merged_into.is_none())
            .map(|w| (w.code, 0))
            .collect();
        for d in state.store.devices(&crate::store::Scope::Province).await? {
            let ward = group_wards.get(&d.group).cloned().unwrap_or_default();
            let recent = d.revoked_at.is_none() && seen.get(&d.id).is_some_and(|at| *at >= since);
            *per_ward.entry(ward).or_default() += i64::from(recent);
        }
        self.devices_seen.clear();
        for (ward, n) in per_ward {
            self.devices_seen.get_or_create(&WardLabels { ward }).set(n);
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .map_err(|e| crate::store::StoreError::Corrupt(format!("encoding metrics: {e}")))?;
        Ok(out)
    }
}

/// The route pattern a request matched: filled in by [`note_route`]
/// inside the router, read by [`count_requests`] outside every layer, so
/// that answers made outside a route are counted too (no route: 404; a
/// body over the limit by its length: 413, `route="unmatched"`; a timeout:
/// 408, under the route it matched).
#[derive(Clone, Default)]
pub struct RouteSlot(std::sync::Arc<std::sync::OnceLock<String>>);

/// Notes the matched route in the request's [`RouteSlot`] (a route layer).
pub async fn note_route(req: Request, next: Next) -> Response {
    if let (Some(slot), Some(path)) = (
        req.extensions().get::<RouteSlot>(),
        req.extensions().get::<MatchedPath>(),
    ) {
        let _ = slot.0.set(path.as_str().to_owned());
    }
    next.run(req).await
}

/// Counts every answer by its route's pattern and status (the outermost
/// layer but tracing and compression).
pub async fn count_requests(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let slot = RouteSlot::default();
    req.extensions_mut().insert(slot.clone());
    let res = next.run(req).await;
    let route = slot
        .0
        .get()
        .cloned()
        .unwrap_or_else(|| "unmatched".to_owned());
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            status: res.status().as_u16(),
        })
        .inc();
    res
}

async fn scrape(State(state): State<AppState>) -> Response {
    match state.metrics.render(&state).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The router of the metrics address: `/metrics` only.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}
