//! `/dashboard`: the supervisors' web page (issue 12), served from the binary.
//!
//! One HTML shell, one stylesheet and one dependency-free script (`api/dashboard/`), and
//! Chart.js vendored from the npm registry with its licence (`api/dashboard/vendor/`),
//! all embedded at compile time: `cargo run -p jiban-api` serves it with nothing else to
//! install, and nothing is fetched at run time. The page holds no data of its own: the
//! script logs in through `/v1/auth/token` (tokens kept in memory only) and reads the same
//! public API as any client, so the API's scopes are the page's. Every path under
//! `/dashboard` that names a view answers the same shell; the script draws the view the
//! path names (`/dashboard/tickets/{id}` is the ticket that an alert's mail links to).
//!
//! Every answer carries a strict `Content-Security-Policy`: scripts, styles, images and
//! requests from this origin only, no inline script or style, no `eval`, no framing.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

const INDEX: &str = include_str!("../../dashboard/index.html");
const APP_JS: &str = include_str!("../../dashboard/app.js");
const APP_CSS: &str = include_str!("../../dashboard/app.css");
const CHART_JS: &str = include_str!("../../dashboard/vendor/chart.umd.min.js");
const CHART_LICENSE: &str = include_str!("../../dashboard/vendor/chart.js.LICENSE.md");

/// No inline script or style, no `eval`: only this origin's files. `img-src data:` is
/// for the empty favicon (so the browser asks for none), `blob:` for nothing but the
/// CSV download's object URL, which is a navigation and needs no source.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// The views the script draws: each answers the shell.
const VIEWS: &[&str] = &["ranking", "overdue", "trend", "queue"];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/dashboard").route(web::get().to(shell)))
        // The address as often typed: sent on to the page (the script reads the path).
        .service(web::resource("/dashboard/").route(web::get().to(to_the_page)))
        .service(web::resource("/dashboard/tickets/{id}").route(web::get().to(shell)))
        .service(web::resource("/dashboard/assets/{file}").route(web::get().to(asset)))
        .service(web::resource("/dashboard/{view}").route(web::get().to(view)));
}

fn page(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        // A new binary may ship a new script: browsers ask again (the files are small).
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

async fn shell() -> HttpResponse {
    page("text/html; charset=utf-8", INDEX)
}

async fn to_the_page() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/dashboard"))
        .finish()
}

async fn view(name: web::Path<String>) -> HttpResponse {
    if VIEWS.contains(&name.as_str()) {
        shell().await
    } else {
        not_found()
    }
}

async fn asset(file: web::Path<String>) -> HttpResponse {
    match file.as_str() {
        "app.js" => page("text/javascript; charset=utf-8", APP_JS),
        "app.css" => page("text/css; charset=utf-8", APP_CSS),
        "chart.umd.min.js" => page("text/javascript; charset=utf-8", CHART_JS),
        "chart.js.LICENSE.md" => page("text/plain; charset=utf-8", CHART_LICENSE),
        _ => not_found(),
    }
}

fn not_found() -> HttpResponse {
    use actix_web::ResponseError as _;
    crate::problem::ApiError::not_found().error_response()
}
