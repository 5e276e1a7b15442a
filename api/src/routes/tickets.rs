//! Tickets (DESIGN.md section 7): create (with `Idempotency-Key`), list (filters, keyset
//! pages), get (`ETag`), the timeline, and every action. Scope is the domain's
//! `can_see`: a ticket outside it answers 404. State changes take `If-Match: "<version>"`
//! (428 without it, 412 when stale); comments and acknowledgements need none.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use jiban_domain::Actor;
use jiban_domain::deadline::LimitUnit;
use jiban_domain::ticket::{Command, Decision, Extension, Rating, Status, Ticket};
use jiban_domain::values::{
    AttachmentId, Body, CategoryCode, ContactMethod, DepartmentId, Description, Disposition,
    DispositionExplanation, EnterpriseId, Explanation, InfoItem, Kind, RatingLevel, Reason,
    ResultText, Role, TicketId, Title, Urgency, UserId, ValueError,
};
use jiban_persistence::tickets::{Cursor, Order, TicketFilter, TicketInput};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::extract::{Fields, JsonBody};
use crate::problem::{ApiError, FieldError};
use crate::routes::paging::{Params, encode_cursor};
use crate::state::AppState;
use crate::usecase::tickets::{self as usecase, Env};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/tickets")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    // Before `/v1/tickets/{id}`, which would take `changes` for an id.
    .service(web::resource("/v1/tickets/changes").route(web::get().to(super::changes::changes)))
    .service(web::resource("/v1/tickets/{id}").route(web::get().to(get)))
    .service(web::resource("/v1/tickets/{id}/events").route(web::get().to(events)))
    .service(web::resource("/v1/tickets/{id}/accept").route(web::post().to(accept)))
    .service(
        web::resource("/v1/tickets/{id}/dispose").route(web::post().to(action::<DisposeRequest>)),
    )
    .service(web::resource("/v1/tickets/{id}/assign").route(web::post().to(assign)))
    .service(
        web::resource("/v1/tickets/{id}/transfer").route(web::post().to(action::<TransferRequest>)),
    )
    .service(
        web::resource("/v1/tickets/{id}/contact").route(web::post().to(action::<ContactRequest>)),
    )
    .service(web::resource("/v1/tickets/{id}/comments").route(web::post().to(comment)))
    .service(
        web::resource("/v1/tickets/{id}/request-info")
            .route(web::post().to(action::<RequestInfoRequest>)),
    )
    .service(
        web::resource("/v1/tickets/{id}/supply-info")
            .route(web::post().to(action::<SupplyInfoRequest>)),
    )
    .service(
        web::resource("/v1/tickets/{id}/extension")
            .route(web::post().to(action::<ExtensionRequest>)),
    )
    .service(
        web::resource("/v1/tickets/{id}/extension/decision")
            .route(web::post().to(action::<ExtensionDecisionRequest>)),
    )
    .service(
        web::resource("/v1/tickets/{id}/resolve").route(web::post().to(action::<ResolveRequest>)),
    )
    .service(
        web::resource("/v1/tickets/{id}/explain").route(web::post().to(action::<ExplainRequest>)),
    )
    .service(web::resource("/v1/tickets/{id}/rate").route(web::post().to(action::<RateRequest>)))
    .service(web::resource("/v1/tickets/{id}/appeal").route(web::post().to(action::<Appeal>)))
    .service(
        web::resource("/v1/tickets/{id}/appeal/decision")
            .route(web::post().to(action::<AppealDecisionRequest>)),
    )
    .service(
        web::resource("/v1/tickets/{id}/withdraw").route(web::post().to(action::<Withdrawal>)),
    );
}

// ---------------------------------------------------------------------------------------
// The ticket as clients read it
// ---------------------------------------------------------------------------------------

#[derive(Serialize)]
pub struct TicketResponse {
    id: TicketId,
    number: String,
    enterprise_id: EnterpriseId,
    kind: Kind,
    urgency: Urgency,
    category: CategoryCode,
    title: String,
    description: String,
    status: Status,
    channel: jiban_domain::values::Channel,
    created_by: Option<UserId>,
    first_responder_id: Option<UserId>,
    department_id: Option<DepartmentId>,
    assignee_id: Option<UserId>,
    #[serde(serialize_with = "crate::time::serialize")]
    accept_due_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    contact_due_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    resolve_due_at: DateTime<Utc>,
    /// Some deadline assumed Monday to Friday for a year with no calendar yet.
    deadlines_provisional: bool,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    accepted_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    contacted_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    resolved_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    closed_at: Option<DateTime<Utc>>,
    paused: bool,
    supervised: bool,
    /// The deadlines now passed unmet: `accept`, `contact`, `resolve`.
    overdue: Vec<&'static str>,
    /// How many times information was requested (once; a supervisor may ask again).
    info_requested: u32,
    extension: Option<ExtensionResponse>,
    transfer_count: u32,
    redo_count: u32,
    close_reason: Option<jiban_domain::ticket::CloseReason>,
    duplicate_of: Option<TicketId>,
    resolution: Option<String>,
    explanation: Option<String>,
    policy_basis: Option<String>,
    plan: Option<String>,
    rating: Option<RatingResponse>,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    rating_due_at: Option<DateTime<Utc>>,
    /// 协办: the requests to co-handling departments, oldest first (issue 13); empty for
    /// enterprises.
    co_handlers: Vec<super::cohandling::CoHandlerResponse>,
    version: u64,
    #[serde(serialize_with = "crate::time::serialize")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    updated_at: DateTime<Utc>,
}

impl TicketResponse {
    pub(crate) fn new(t: Ticket, now: DateTime<Utc>) -> TicketResponse {
        let overdue = t.overdue(now);
        TicketResponse {
            id: t.id,
            number: t.number.to_string(),
            enterprise_id: t.enterprise_id,
            kind: t.kind,
            urgency: t.urgency,
            category: t.category,
            title: t.title,
            description: t.description,
            status: t.status,
            channel: t.channel,
            created_by: t.created_by,
            first_responder_id: t.first_responder_id,
            department_id: t.department_id,
            assignee_id: t.assignee_id,
            accept_due_at: t.accept_due.due_at,
            contact_due_at: t.contact_due.due_at,
            resolve_due_at: t.resolve_due.due_at,
            deadlines_provisional: t.accept_due.provisional
                || t.contact_due.provisional
                || t.resolve_due.provisional,
            accepted_at: t.accepted_at,
            contacted_at: t.contacted_at,
            resolved_at: t.resolved_at,
            closed_at: t.closed_at,
            paused: t.paused_since.is_some(),
            supervised: t.supervised,
            overdue,
            info_requested: t.info_requests,
            extension: t.extension.map(ExtensionResponse::from),
            transfer_count: t.transfer_count,
            redo_count: t.redo_count,
            close_reason: t.close_reason,
            duplicate_of: t.duplicate_of,
            resolution: t.resolution,
            explanation: t.explanation,
            policy_basis: t.policy_basis,
            plan: t.plan,
            rating: t.rating.map(RatingResponse::from),
            rating_due_at: t.rating_due.as_ref().map(|d| d.due_at),
            co_handlers: t.co_handlers.into_iter().map(Into::into).collect(),
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// The ticket's extension as clients read it: the domain's [`Extension`], its instant at
/// +08:00 (the domain type stays free of the API's conventions).
#[derive(Serialize)]
struct ExtensionResponse {
    amount: u32,
    unit: LimitUnit,
    reason: String,
    requested_by: Option<UserId>,
    #[serde(serialize_with = "crate::time::serialize")]
    requested_at: DateTime<Utc>,
    decision: Decision,
    decided_by: Option<UserId>,
    note: Option<String>,
}

impl From<Extension> for ExtensionResponse {
    fn from(e: Extension) -> Self {
        ExtensionResponse {
            amount: e.amount,
            unit: e.unit,
            reason: e.reason,
            requested_by: e.requested_by,
            requested_at: e.requested_at,
            decision: e.decision,
            decided_by: e.decided_by,
            note: e.note,
        }
    }
}

/// The latest rating and its appeal as clients read them (see [`ExtensionResponse`]).
#[derive(Serialize)]
struct RatingResponse {
    level: RatingLevel,
    comment: Option<String>,
    #[serde(serialize_with = "crate::time::serialize")]
    rated_at: DateTime<Utc>,
    appeal: Option<AppealResponse>,
}

#[derive(Serialize)]
struct AppealResponse {
    reason: String,
    appealed_by: Option<UserId>,
    #[serde(serialize_with = "crate::time::serialize")]
    appealed_at: DateTime<Utc>,
    /// `approved` means upheld.
    decision: Decision,
    note: Option<String>,
}

impl From<Rating> for RatingResponse {
    fn from(r: Rating) -> Self {
        RatingResponse {
            level: r.level,
            comment: r.comment,
            rated_at: r.rated_at,
            appeal: r.appeal.map(|a| AppealResponse {
                reason: a.reason,
                appealed_by: a.appealed_by,
                appealed_at: a.appealed_at,
                decision: a.decision,
                note: a.note,
            }),
        }
    }
}

/// A timeline entry as clients read it: the stored entry with `at`, and the instants inside
/// `data`, at +08:00 ([`crate::time::localize_event_data`] says which are instants).
#[derive(Serialize)]
pub struct EventResponse {
    id: i64,
    seq: i32,
    version: u64,
    kind: String,
    actor_id: Option<Uuid>,
    #[serde(serialize_with = "crate::time::serialize")]
    at: DateTime<Utc>,
    internal: bool,
    data: serde_json::Value,
}

impl From<jiban_persistence::tickets::StoredEvent> for EventResponse {
    fn from(e: jiban_persistence::tickets::StoredEvent) -> Self {
        let mut data = e.data;
        crate::time::localize_event_data(&mut data);
        EventResponse {
            id: e.id,
            seq: e.seq,
            version: e.version,
            kind: e.kind,
            actor_id: e.actor_id,
            at: e.at,
            internal: e.internal,
            data,
        }
    }
}

fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// 200 with the ticket as the viewer may read it, and its `ETag`.
fn ok(ticket: Ticket, viewer: &Actor, now: DateTime<Utc>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(ticket.version)))
        .json(TicketResponse::new(ticket.as_seen_by(viewer), now))
}

fn ticket_id(raw: &str) -> Result<TicketId, ApiError> {
    // Anything that is not a ticket id names no ticket.
    raw.parse().map_err(|_| ApiError::not_found())
}

fn env(state: &AppState) -> Env<'_> {
    Env::of(state)
}

/// A value read from a DTO string, or a field error at `pointer`.
fn value<T: std::str::FromStr<Err = ValueError>>(
    fields: &mut Fields,
    pointer: &str,
    raw: &str,
) -> Option<T> {
    fields.parse(pointer, raw.parse())
}

fn optional<T>(
    fields: &mut Fields,
    pointer: &str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, ValueError>,
) -> Option<T> {
    raw.and_then(|raw| fields.parse(pointer, parse(raw)))
}

/// The one field of a one-field body, or the 422 naming it.
pub(super) fn field<T>(pointer: &str, parsed: Result<T, ValueError>) -> Result<T, ApiError> {
    parsed.map_err(|e| ApiError::invalid(vec![FieldError::value(pointer, &e)]))
}

fn missing() -> ApiError {
    ApiError::internal("a parsed field is missing")
}

// ---------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketRequest {
    #[serde(default)]
    enterprise_id: Option<Uuid>,
    kind: String,
    #[serde(default, deserialize_with = "crate::extract::present")]
    urgency: Option<String>,
    category: String,
    title: String,
    description: String,
}

impl CreateTicketRequest {
    fn parse(&self) -> Result<TicketInput, ApiError> {
        let mut f = Fields::default();
        let kind = value::<Kind>(&mut f, "/kind", &self.kind);
        let urgency = optional(&mut f, "/urgency", self.urgency.as_deref(), str::parse);
        let category = f.parse("/category", CategoryCode::parse(&self.category));
        let title = f.parse("/title", Title::parse(&self.title));
        let description = f.parse("/description", Description::parse(&self.description));
        f.finish()?;
        Ok(TicketInput {
            enterprise_id: self.enterprise_id.map(EnterpriseId::from_uuid),
            kind: kind.ok_or_else(missing)?,
            urgency,
            category: category.ok_or_else(missing)?,
            title: title.ok_or_else(missing)?,
            description: description.ok_or_else(missing)?,
        })
    }

    /// What makes two requests "the same" for an `Idempotency-Key`: the parsed body, so
    /// whitespace and key order do not matter.
    fn fingerprint(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        format!("sha256:{:x}", Sha256::digest(canonical))
    }
}

/// The longest `Idempotency-Key` accepted.
const IDEMPOTENCY_KEY_MAX: usize = 255;

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(raw) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw.to_str().unwrap_or("").trim();
    if key.is_empty()
        || key.len() > IDEMPOTENCY_KEY_MAX
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ApiError::invalid(vec![FieldError::parameter(
            "Idempotency-Key",
            "invalid",
            "an Idempotency-Key is 1 to 255 printable ASCII characters",
        )]));
    }
    Ok(Some(key.to_owned()))
}

async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    body: JsonBody<CreateTicketRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[
        Role::Enterprise,
        Role::Liaison,
        Role::Officer,
        Role::Supervisor,
    ])?;
    let key = idempotency_key(&req)?;
    let body = body.into_inner()?;
    let input = body.parse()?;
    let idempotency = key.map(|k| (k, body.fingerprint()));
    let now = crate::now();
    let actor = auth.into_actor();
    let state2 = state.clone();
    let created = state
        .db
        .run(move |conn| usecase::create(conn, &env(&state2), input, &actor, now, idempotency))
        .await?;
    let id = created.ticket.id;
    let mut response = HttpResponse::Created();
    response
        .insert_header((header::LOCATION, format!("/v1/tickets/{id}")))
        .insert_header((header::ETAG, etag(created.ticket.version)));
    if created.replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(TicketResponse::new(created.ticket, now)))
}

// ---------------------------------------------------------------------------------------
// List, get, events
// ---------------------------------------------------------------------------------------

/// The filters and paging of `GET /v1/tickets` (DESIGN.md section 7).
const LIST_PARAMETERS: &[&str] = &[
    "status",
    "urgency",
    "kind",
    "enterprise_id",
    "department_id",
    "assignee_id",
    "overdue",
    "supervised",
    "created_from",
    "created_to",
    "number",
    "q",
    "co_handling",
    "sort",
    "limit",
    "cursor",
];

/// The default page size.
const DEFAULT_LIMIT: i64 = 20;

/// Every filter's problem at once, each naming its parameter: an unknown enum value, a
/// malformed id, flag, instant, number, `q`, `limit` or `cursor` is 422, never ignored.
fn parse_list(pairs: &[(String, String)]) -> Result<(TicketFilter, i64, Option<Cursor>), ApiError> {
    let mut p = Params::default();
    let q = p.known(pairs, LIST_PARAMETERS);
    let get = |name: &str| q.get(name).copied();
    let mut filter = TicketFilter::default();
    for part in get("status").into_iter().flat_map(|raw| raw.split(',')) {
        match Status::parse(part.trim()) {
            Some(s) => filter.status.push(s),
            None => p.bad(
                "status",
                "unknown_value",
                format!(
                    "unknown status {part:?}: give one or more of {}, separated by commas",
                    Status::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    filter.urgency = p.value("urgency", get("urgency"));
    filter.kind = p.value("kind", get("kind"));
    filter.enterprise_id = p
        .id("enterprise_id", get("enterprise_id"))
        .map(EnterpriseId::from_uuid);
    filter.department_id = p
        .id("department_id", get("department_id"))
        .map(DepartmentId::from_uuid);
    filter.assignee_id = p
        .id("assignee_id", get("assignee_id"))
        .map(UserId::from_uuid);
    filter.overdue = p.optional_flag("overdue", get("overdue"));
    filter.supervised = p.optional_flag("supervised", get("supervised"));
    filter.created_from = p.instant("created_from", get("created_from"));
    filter.created_to = p.instant("created_to", get("created_to"));
    filter.number = p.value("number", get("number").map(str::trim));
    // Text search (issue 9): 2 to 100 characters, holding something the index can find.
    filter.q = p.value("q", get("q"));
    // 协办 (issue 13): the tickets asked of the caller's department.
    filter.co_handling = p.optional_flag("co_handling", get("co_handling"));
    // The order (issue 12): newest first, or earliest open deadline first.
    filter.order = match get("sort") {
        None | Some("newest") => Order::Newest,
        Some("due") => Order::Due,
        Some(other) => {
            p.bad(
                "sort",
                "unknown_value",
                format!("unknown sort {other:?}: give newest or due"),
            );
            Order::Newest
        }
    };
    let limit = p.limit(get("limit"), DEFAULT_LIMIT);
    let cursor = match filter.order {
        Order::Newest => p.cursor(get("cursor")),
        Order::Due => p.due_cursor(get("cursor")),
    }
    .map(|(created_at, id)| Cursor { created_at, id });
    p.finish((filter, limit, cursor))
}

async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let (filter, limit, cursor) = parse_list(&query)?;
    let order = filter.order;
    let now = crate::now();
    let actor = auth.into_actor();
    // Who co-handles is the administration inside government (issue 13): an enterprise
    // may not list its tickets by it.
    if filter.co_handling.is_some() && actor.role() == Some(Role::Enterprise) {
        return Err(ApiError::invalid(vec![FieldError::parameter(
            "co_handling",
            "not_allowed",
            "co-handling is internal to government: a filter for officials",
        )]));
    }
    let viewer = actor.clone();
    let page = state
        .db
        .run(move |conn| usecase::list(conn, &actor, &filter, limit, cursor, now))
        .await?;
    let encode = match order {
        Order::Newest => encode_cursor,
        Order::Due => super::paging::encode_due_cursor,
    };
    Ok(HttpResponse::Ok().json(super::paging::PageResponse {
        next_cursor: page.next.map(|c| encode(c.created_at, c.id)),
        items: page
            .items
            .into_iter()
            .map(|t| TicketResponse::new(t.as_seen_by(&viewer), now))
            .collect(),
    }))
}

async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ticket_id(&id)?;
    let actor = auth.into_actor();
    let viewer = actor.clone();
    let ticket = state
        .db
        .run(move |conn| usecase::get(conn, id, &actor))
        .await?;
    Ok(ok(ticket, &viewer, crate::now()))
}

/// The default page size of a timeline: most tickets' whole timeline.
const DEFAULT_EVENTS_LIMIT: i64 = 100;

const EVENTS_PARAMETERS: &[&str] = &["limit", "cursor"];

fn parse_events(pairs: &[(String, String)]) -> Result<(i64, Option<i32>), ApiError> {
    let mut p = super::paging::Params::default();
    let q = p.known(pairs, EVENTS_PARAMETERS);
    let get = |name: &str| q.get(name).copied();
    let limit = p.limit(get("limit"), DEFAULT_EVENTS_LIMIT);
    let after = p.seq_cursor(get("cursor"));
    p.finish((limit, after))
}

async fn events(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let id = ticket_id(&id)?;
    let (limit, after) = parse_events(&query)?;
    let actor = auth.into_actor();
    let (items, next) = state
        .db
        .run(move |conn| usecase::events(conn, id, &actor, limit, after))
        .await?;
    Ok(HttpResponse::Ok().json(super::paging::PageResponse {
        items: items
            .into_iter()
            .map(EventResponse::from)
            .collect::<Vec<_>>(),
        next_cursor: next.map(super::paging::encode_seq_cursor),
    }))
}

// ---------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------

/// What the client's `If-Match` asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Precondition {
    /// None sent: a state change answers 428, once the ticket is known to be in scope, so
    /// the answer can name its current version.
    Missing,
    /// `*`: any version.
    Any,
    Version(u64),
}

/// The longest version `If-Match` may name: 18 digits always fit a `u64`, so a longer tag
/// is refused as malformed rather than overflowing (openapi.yaml's `IfMatch` pattern).
const IF_MATCH_DIGITS_MAX: usize = 18;

/// The client's `If-Match`: exactly `"<version>"` or `W/"<version>"` (an entity tag, RFC
/// 9110 section 8.8.3), or `*` for any version. State changes require it (428), so nobody
/// overwrites a change they have not seen. Anything else (a bare number, a sign, spaces
/// inside the quotes) is 400: the document's pattern is the whole rule.
pub(super) fn if_match(req: &HttpRequest) -> Result<Precondition, ApiError> {
    let Some(raw) = req.headers().get(header::IF_MATCH) else {
        return Ok(Precondition::Missing);
    };
    let raw = raw.to_str().unwrap_or("");
    if raw == "*" {
        return Ok(Precondition::Any);
    }
    raw.strip_prefix("W/")
        .unwrap_or(raw)
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|digits| {
            (1..=IF_MATCH_DIGITS_MAX).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
        })
        .and_then(|digits| digits.parse().ok())
        .map(Precondition::Version)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_if_match",
                "If-Match must be the ticket's ETag, e.g. \"3\", or *",
            )
        })
}

/// Runs a command built inside the database call (some need a lookup, e.g. an
/// assignee), answering 200 with the ticket and its new `ETag`.
pub(super) async fn run(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: &str,
    precondition: Precondition,
    command: impl FnOnce(&mut jiban_persistence::DbConnection) -> Result<Command, ApiError>
    + Send
    + 'static,
) -> Result<HttpResponse, ApiError> {
    let id = ticket_id(id)?;
    let now = crate::now();
    let actor = auth.into_actor();
    let viewer = actor.clone();
    let state2 = state.clone();
    let ticket = state
        .db
        .run(move |conn| {
            // Scope first: looking up what the body names (an assignee) must not tell an
            // outsider whether it exists (issue 8).
            let current = usecase::get(conn, id, &actor)?;
            let version = match precondition {
                Precondition::Missing => {
                    return Err(ApiError::new(
                        actix_web::http::StatusCode::PRECONDITION_REQUIRED,
                        "if_match_required",
                        format!(
                            "send If-Match with the ticket's ETag: If-Match: \"{}\"",
                            current.version
                        ),
                    ));
                }
                Precondition::Any => None,
                Precondition::Version(v) => Some(v),
            };
            let command = command(conn)?;
            usecase::act(conn, &env(&state2), id, version, command, &actor, now)
        })
        .await?;
    Ok(ok(ticket, &viewer, now))
}

/// A request body that becomes one command without looking anything up.
trait ActionBody: serde::de::DeserializeOwned + 'static {
    fn command(self) -> Result<Command, ApiError>;
}

/// A state change whose command needs nothing from the database: `If-Match`, then the
/// body, then the command.
async fn action<B: ActionBody>(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    id: Id,
    body: JsonBody<B>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match(&req)?;
    let command = body.into_inner().and_then(B::command)?;
    run(state, auth, &id, version, move |_| Ok(command)).await
}

pub(super) type Id = web::Path<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    #[serde(default)]
    department_id: Option<Uuid>,
    #[serde(default)]
    assignee_id: Option<Uuid>,
    #[serde(default, deserialize_with = "crate::extract::present")]
    urgency: Option<String>,
    /// 当场办结: a consultation answered at acceptance.
    #[serde(default)]
    result: Option<String>,
}

async fn accept(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    id: Id,
    body: JsonBody<AcceptRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match(&req)?;
    let body = body.into_inner()?;
    let mut f = Fields::default();
    let urgency = optional(&mut f, "/urgency", body.urgency.as_deref(), str::parse);
    let result = optional(&mut f, "/result", body.result.as_deref(), ResultText::parse);
    f.finish()?;
    let department_id = body.department_id.map(DepartmentId::from_uuid);
    let assignee_id = body.assignee_id.map(UserId::from_uuid);
    run(state, auth, &id, version, move |conn| {
        Ok(Command::Accept {
            department_id,
            assignee: assignee_id
                .map(|a| usecase::assignee(conn, a))
                .transpose()?,
            urgency,
            resolve_with: result,
        })
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisposeRequest {
    disposition: String,
    explanation: String,
    #[serde(default)]
    duplicate_of: Option<Uuid>,
}

impl ActionBody for DisposeRequest {
    fn command(self) -> Result<Command, ApiError> {
        let mut f = Fields::default();
        let disposition = value::<Disposition>(&mut f, "/disposition", &self.disposition);
        let explanation = f.parse(
            "/explanation",
            DispositionExplanation::parse(&self.explanation),
        );
        let duplicate_of = self
            .duplicate_of
            .and_then(|d| f.parse("/duplicate_of", TicketId::from_uuid(d)));
        f.finish()?;
        Ok(Command::Dispose {
            disposition: disposition.ok_or_else(missing)?,
            explanation: explanation.ok_or_else(missing)?,
            duplicate_of,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    assignee_id: Uuid,
}

async fn assign(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    id: Id,
    body: JsonBody<AssignRequest>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match(&req)?;
    let assignee_id = UserId::from_uuid(body.into_inner()?.assignee_id);
    run(state, auth, &id, version, move |conn| {
        Ok(Command::Assign {
            assignee: usecase::assignee(conn, assignee_id)?,
        })
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    department_id: Uuid,
    reason: String,
}

impl ActionBody for TransferRequest {
    fn command(self) -> Result<Command, ApiError> {
        let mut f = Fields::default();
        let reason = f.parse("/reason", Reason::parse(&self.reason));
        f.finish()?;
        Ok(Command::Transfer {
            department_id: DepartmentId::from_uuid(self.department_id),
            reason: reason.ok_or_else(missing)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    method: String,
    summary: String,
}

impl ActionBody for ContactRequest {
    fn command(self) -> Result<Command, ApiError> {
        let mut f = Fields::default();
        let method = value::<ContactMethod>(&mut f, "/method", &self.method);
        let summary = f.parse("/summary", Body::parse(&self.summary));
        f.finish()?;
        Ok(Command::Contact {
            method: method.ok_or_else(missing)?,
            summary: summary.ok_or_else(missing)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    body: String,
    #[serde(default)]
    internal: bool,
    #[serde(default)]
    attachment_ids: Vec<Uuid>,
}

/// The most attachments one comment or supply may name.
const NAMED_ATTACHMENTS_MAX: usize = 100;

/// `attachment_ids` as the command takes them: duplicates dropped, at most 100 (issue 11;
/// the use case checks each belongs to the ticket).
fn attachment_ids(raw: &[Uuid]) -> Result<Vec<AttachmentId>, ApiError> {
    if raw.len() > NAMED_ATTACHMENTS_MAX {
        return Err(ApiError::invalid_field(
            "/attachment_ids",
            "too_many",
            format!("name at most {NAMED_ATTACHMENTS_MAX} attachments"),
        ));
    }
    let mut ids = Vec::with_capacity(raw.len());
    for id in raw.iter().copied().map(AttachmentId::from_uuid) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Comments change no state, so they need no `If-Match` (DESIGN.md rule 11).
async fn comment(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: Id,
    body: JsonBody<CommentRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner()?;
    let command = Command::Comment {
        body: field("/body", Body::parse(&b.body))?,
        internal: b.internal,
        attachment_ids: attachment_ids(&b.attachment_ids)?,
    };
    run(state, auth, &id, Precondition::Any, move |_| Ok(command)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestInfoRequest {
    items: Vec<String>,
    #[serde(default)]
    note: Option<String>,
}

impl ActionBody for RequestInfoRequest {
    fn command(self) -> Result<Command, ApiError> {
        let mut f = Fields::default();
        let items: Vec<_> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| f.parse(&format!("/items/{i}"), InfoItem::parse(item)))
            .collect();
        let note = optional(&mut f, "/note", self.note.as_deref(), Reason::parse);
        f.finish()?;
        Ok(Command::RequestInfo { items, note })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplyInfoRequest {
    body: String,
    #[serde(default)]
    attachment_ids: Vec<Uuid>,
}

impl ActionBody for SupplyInfoRequest {
    fn command(self) -> Result<Command, ApiError> {
        Ok(Command::SupplyInfo {
            body: field("/body", Body::parse(&self.body))?,
            attachment_ids: attachment_ids(&self.attachment_ids)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequest {
    reason: String,
    amount: u32,
}

impl ActionBody for ExtensionRequest {
    /// An amount of 0 is malformed input (openapi.yaml: `minimum: 1`), refused with the
    /// body's other errors before the ticket is read, not after its version is checked
    /// (Schemathesis found it answered 412). Its upper bound depends on the ticket's
    /// class, so the domain checks that.
    fn command(self) -> Result<Command, ApiError> {
        let mut f = Fields::default();
        let reason = f.parse("/reason", Reason::parse(&self.reason));
        if self.amount == 0 {
            f.push(FieldError::body(
                "/amount",
                "out_of_range",
                "must be at least 1",
            ));
        }
        f.finish()?;
        Ok(Command::RequestExtension {
            reason: reason.ok_or_else(missing)?,
            amount: self.amount,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDecisionRequest {
    approve: bool,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionRequest {
    uphold: bool,
    #[serde(default)]
    note: Option<String>,
}

fn decision_note(note: Option<&str>) -> Result<Option<Reason>, ApiError> {
    note.map(|n| field("/note", Reason::parse(n))).transpose()
}

impl ActionBody for ExtensionDecisionRequest {
    fn command(self) -> Result<Command, ApiError> {
        Ok(Command::DecideExtension {
            approve: self.approve,
            note: decision_note(self.note.as_deref())?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    result: String,
}

impl ActionBody for ResolveRequest {
    fn command(self) -> Result<Command, ApiError> {
        Ok(Command::Resolve {
            result: field("/result", ResultText::parse(&self.result))?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainRequest {
    explanation: String,
    policy_basis: String,
    #[serde(default)]
    plan: Option<String>,
}

impl ActionBody for ExplainRequest {
    fn command(self) -> Result<Command, ApiError> {
        let mut f = Fields::default();
        let explanation = f.parse("/explanation", Explanation::parse(&self.explanation));
        let policy_basis = f.parse("/policy_basis", Reason::parse(&self.policy_basis));
        let plan = optional(&mut f, "/plan", self.plan.as_deref(), Body::parse);
        f.finish()?;
        Ok(Command::Explain {
            explanation: explanation.ok_or_else(missing)?,
            policy_basis: policy_basis.ok_or_else(missing)?,
            plan,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    level: String,
    #[serde(default)]
    comment: Option<String>,
}

/// Ratings come only from this authenticated POST, never from following a link
/// (DESIGN.md section 7).
impl ActionBody for RateRequest {
    fn command(self) -> Result<Command, ApiError> {
        let mut f = Fields::default();
        let level = value::<RatingLevel>(&mut f, "/level", &self.level);
        let comment = optional(&mut f, "/comment", self.comment.as_deref(), Body::parse);
        f.finish()?;
        Ok(Command::Rate {
            level: level.ok_or_else(missing)?,
            comment,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    reason: String,
}

fn reason_of(b: ReasonRequest) -> Result<Reason, ApiError> {
    field("/reason", Reason::parse(&b.reason))
}

impl ActionBody for AppealDecisionRequest {
    fn command(self) -> Result<Command, ApiError> {
        Ok(Command::DecideAppeal {
            uphold: self.uphold,
            note: decision_note(self.note.as_deref())?,
        })
    }
}

/// `{reason}` bodies: an appeal or a withdrawal.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct Appeal(ReasonRequest);

#[derive(Deserialize)]
#[serde(transparent)]
pub struct Withdrawal(ReasonRequest);

impl ActionBody for Appeal {
    fn command(self) -> Result<Command, ApiError> {
        Ok(Command::Appeal {
            reason: reason_of(self.0)?,
        })
    }
}

impl ActionBody for Withdrawal {
    fn command(self) -> Result<Command, ApiError> {
        Ok(Command::Withdraw {
            reason: reason_of(self.0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// openapi.yaml is the contract: every ticket route is in it.
    #[test]
    fn the_fingerprint_ignores_layout_but_not_content() {
        let a: CreateTicketRequest = serde_json::from_str(
            r#"{"kind":"complaint","category":"land","title":"t","description":"d"}"#,
        )
        .unwrap();
        let b: CreateTicketRequest = serde_json::from_str(
            r#"{ "title":"t", "description":"d", "category":"land", "kind":"complaint" }"#,
        )
        .unwrap();
        let c: CreateTicketRequest = serde_json::from_str(
            r#"{"kind":"complaint","category":"land","title":"t2","description":"d"}"#,
        )
        .unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }
}
