//! Operations: `/healthz`, `/readyz`, `/metrics`, `/openapi.yaml` (DESIGN.md section 7).
//! None needs a token: probes and scrapers do not log in. `/metrics` says nothing about
//! users or tickets; a deployment that wants it private keeps it off the public proxy.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use jiban_persistence::migrate;
use serde_json::json;

use crate::problem::ApiError;
use crate::state::AppState;

/// The contract, embedded at compile time.
pub const OPENAPI: &str = include_str!("../../../openapi.yaml");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(healthz)))
        .service(web::resource("/readyz").route(web::get().to(readyz)))
        .service(web::resource("/metrics").route(web::get().to(metrics)))
        .service(web::resource("/openapi.yaml").route(web::get().to(openapi)));
}

/// 200 while the process serves requests.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 when the database answers and every migration is applied; else 503, so a load
/// balancer sends no traffic to a node that cannot serve it. Readiness is the database's
/// alone: a mail outage must not take the API out of a load balancer (DESIGN.md section
/// 5), so the workers' state is in the body as information only; so is the attachment
/// store's (issue 11: a store outage fails uploads and downloads, not the node).
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let pending = state.db.run(migrate::pending_count).await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the database does not answer",
        )
    })?;
    if pending > 0 {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("{pending} database migrations are not applied yet"),
        ));
    }
    state.storage.probe().await;
    Ok(HttpResponse::Ok().json(json!({
        "status": "ready",
        "workers": state.workers.state(),
        "storage": state.storage.state(),
    })))
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    state.storage.probe().await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body({
            let mut out = state.metrics.render(state.pool_gauges());
            state.workers.render(crate::now(), &mut out);
            state.storage.render(&mut out);
            out
        })
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(OPENAPI)
}
