//! `POST /v1/webhooks`, `GET /v1/webhooks`, `DELETE /v1/webhooks/{id}` (DESIGN.md section
//! 7; issue 10, point 4): admins register where ticket events and alerts are delivered.
//! The server generates the signing secret and shows it once, in the create answer; the
//! list never shows it. The URL must point at public addresses
//! ([`crate::webhook::address`]) unless `JIBAN_WEBHOOK_ALLOW_PRIVATE=true`.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use jiban_domain::webhook;
use jiban_persistence::webhooks::{NewWebhook, Webhook};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Authenticated;
use crate::extract::{Fields, JsonBody};
use crate::problem::{ApiError, FieldError};
use crate::state::AppState;
use crate::usecase::webhooks as usecase;
use crate::webhook::address::{self, HostError, URL_MAX, WebhookUrl};
use crate::webhook::signature;

/// Event names one webhook may list: the catalogue has fewer.
pub const EVENTS_MAX: usize = 32;
/// The limits as `u64`, the type `validator`'s length rules take.
const URL_MAX_U64: u64 = URL_MAX as u64;
const EVENTS_MAX_U64: u64 = EVENTS_MAX as u64;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/webhooks")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(web::resource("/v1/webhooks/{id}").route(web::delete().to(delete)));
}

/// A webhook as the admin reads it; `secret` only in the create answer.
#[derive(Serialize)]
pub struct WebhookResponse {
    id: Uuid,
    url: String,
    events: Vec<String>,
    include_internal: bool,
    created_by: Option<Uuid>,
    #[serde(serialize_with = "crate::time::serialize")]
    created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl From<Webhook> for WebhookResponse {
    fn from(w: Webhook) -> Self {
        WebhookResponse {
            id: w.id,
            url: w.url,
            events: w.events,
            include_internal: w.include_internal,
            created_by: w.created_by,
            created_at: w.created_at,
            secret: None,
        }
    }
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    #[validate(length(max = URL_MAX_U64, code = "too_long"))]
    url: String,
    #[validate(length(max = EVENTS_MAX_U64, code = "too_many"))]
    events: Vec<String>,
    /// Deliver internal entries too (DESIGN.md rule 8); absent: `false`.
    #[serde(default, deserialize_with = "crate::extract::present")]
    include_internal: Option<bool>,
}

/// Every problem of a create body but the host's addresses, which need a lookup: the
/// parsed URL, the event names (each once, as the catalogue spells them) and
/// `include_internal`.
fn parse(body: &CreateWebhookRequest) -> (Fields, Option<(WebhookUrl, Vec<String>, bool)>) {
    let mut fields = Fields::validate(body);
    let include_internal = body.include_internal.unwrap_or(false);
    let url = match WebhookUrl::parse(&body.url) {
        Ok(url) => Some(url),
        Err(why) => {
            fields.push(FieldError::body("/url", "invalid", why));
            None
        }
    };
    if body.events.is_empty() {
        fields.push(FieldError::body(
            "/events",
            "blank",
            "name at least one event, or \"*\" for every event",
        ));
    }
    let mut events = Vec::new();
    for (i, raw) in body.events.iter().enumerate() {
        let pointer = format!("/events/{i}");
        match webhook::parse_name(raw) {
            None => fields.push(FieldError::body(
                pointer,
                "unknown_value",
                format!(
                    "unknown event {raw:?}: one of {}",
                    webhook::subscribable().collect::<Vec<_>>().join(", ")
                ),
            )),
            Some(name) if webhook::internal_only(name) && !include_internal => {
                fields.push(FieldError::body(
                    pointer,
                    "internal_event",
                    format!(
                        "{name} is an internal entry, which enterprises do not see \
                         (DESIGN.md rule 8): set include_internal to true to receive it"
                    ),
                ))
            }
            Some(name) => events.push(name.to_owned()),
        }
    }
    let parsed = match (url, fields.is_empty()) {
        (Some(url), true) => Some((url, events, include_internal)),
        _ => None,
    };
    (fields, parsed)
}

async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let body = body.into_inner()?;
    let (fields, parsed) = parse(&body);
    fields.finish()?;
    let Some((url, events, include_internal)) = parsed else {
        return Err(ApiError::internal("a parsed field is missing"));
    };
    if !state.webhook_allow_private {
        let checked = url.clone();
        let found = web::block(move || address::check_host(&checked))
            .await
            .map_err(|e| ApiError::internal(format!("a lookup thread failed: {e}")))?;
        match found {
            Ok(()) => {}
            Err(HostError::Unresolvable) => {
                return Err(ApiError::invalid_field(
                    "/url",
                    "unresolvable",
                    "its host does not resolve",
                ));
            }
            Err(e @ HostError::Refused(_)) => {
                return Err(ApiError::invalid_field(
                    "/url",
                    "forbidden_address",
                    e.to_string(),
                ));
            }
        }
    }
    let secret =
        signature::new_secret().map_err(|e| ApiError::internal(format!("getrandom: {e}")))?;
    let new = NewWebhook {
        id: Uuid::now_v7(),
        url: url.as_str().to_owned(),
        events,
        secret: secret.clone(),
        include_internal,
        created_by: Some(auth.id().as_uuid()),
        created_at: crate::now(),
    };
    let created = state.db.run(move |conn| usecase::create(conn, new)).await?;
    // The one answer that holds the secret: no cache may keep it.
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(WebhookResponse {
            secret: Some(secret),
            ..WebhookResponse::from(created)
        }))
}

#[derive(Serialize)]
struct WebhookList {
    items: Vec<WebhookResponse>,
}

async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    super::paging::no_parameters(&query)?;
    let found = state.db.run(usecase::list).await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        items: found.into_iter().map(WebhookResponse::from).collect(),
    }))
}

async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let id: Uuid = id.parse().map_err(|_| ApiError::not_found())?;
    let now = crate::now();
    state
        .db
        .run(move |conn| usecase::delete(conn, id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> CreateWebhookRequest {
        crate::extract::parse_json(json.as_bytes()).unwrap()
    }

    fn errors(json: &str) -> Vec<(String, String)> {
        let (fields, parsed) = parse(&body(json));
        match fields.finish() {
            Ok(()) => {
                assert!(parsed.is_some());
                Vec::new()
            }
            Err(e) => {
                assert_eq!(e.status().as_u16(), 422);
                assert!(parsed.is_none());
                e.errors()
                    .iter()
                    .map(|f| (f.pointer.clone().unwrap(), f.code.to_string()))
                    .collect()
            }
        }
    }

    #[test]
    fn a_good_body_parses_into_the_catalogues_names() {
        let (fields, parsed) = parse(&body(
            r#"{"url": "https://Hooks.example.gov.cn/j", "events": ["ticket.commented", "*"]}"#,
        ));
        assert!(fields.finish().is_ok());
        let (url, events, internal) = parsed.unwrap();
        assert_eq!(url.as_str(), "https://hooks.example.gov.cn/j");
        assert_eq!(events, ["ticket.commented", "*"]);
        assert!(!internal);
        assert!(
            errors(
                r#"{"url": "http://h.example/", "events": ["alert.*"], "include_internal": true}"#
            )
            .is_empty()
        );
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let long = format!("https://h.example/{}", "a".repeat(URL_MAX));
        let many: Vec<&str> = std::iter::repeat_n("*", EVENTS_MAX + 1).collect();
        for (json, expected) in [
            (
                r#"{"url": "ftp://h.example/", "events": ["ticket.nope", "alert.overdue"]}"#
                    .to_owned(),
                vec![
                    ("/url", "invalid"),
                    ("/events/0", "unknown_value"),
                    ("/events/1", "internal_event"),
                ],
            ),
            (
                r#"{"url": "https://u:p@h.example/", "events": []}"#.to_owned(),
                vec![("/url", "invalid"), ("/events", "blank")],
            ),
            (
                format!(r#"{{"url": "{long}", "events": ["*"]}}"#),
                vec![("/url", "too_long")],
            ),
            (
                format!(
                    r#"{{"url": "https://h.example/", "events": {}}}"#,
                    serde_json::to_string(&many).unwrap()
                ),
                vec![("/events", "too_many")],
            ),
            (
                r#"{"url": "https://h.example/", "events": ["ticket.assigned"], "include_internal": false}"#
                    .to_owned(),
                vec![("/events/0", "internal_event")],
            ),
        ] {
            let mut got = errors(&json);
            got.sort();
            let mut expected: Vec<(String, String)> = expected
                .into_iter()
                .map(|(p, c)| (p.to_owned(), c.to_owned()))
                .collect();
            expected.sort();
            assert_eq!(got, expected, "{json}");
        }
    }

    #[test]
    fn strict_json() {
        for (json, code) in [
            (
                r#"{"url": "https://h.example/", "events": ["*"], "secret": "mine"}"#,
                "unknown_field",
            ),
            (
                r#"{"url": "https://h.example/", "events": ["*"], "include_internal": null}"#,
                "wrong_type",
            ),
            (
                r#"{"url": "https://h.example/", "events": "*"}"#,
                "wrong_type",
            ),
            (r#"{"events": ["*"]}"#, "required"),
            (
                "{\"url\": \"https://h.example/\\u0000\", \"events\": [\"*\"]}",
                "control_character",
            ),
        ] {
            let e = crate::extract::parse_json::<CreateWebhookRequest>(json.as_bytes())
                .err()
                .unwrap_or_else(|| panic!("{json} parsed"));
            assert_eq!(e.status().as_u16(), 422, "{json}");
            assert_eq!(e.errors()[0].code, code, "{json}");
        }
    }
}
