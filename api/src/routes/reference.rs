//! The reference data (DESIGN.md section 7): `GET /v1/categories`,
//! `PUT /v1/categories/{code}`, `GET`/`PUT /v1/calendar/{year}`, `GET /v1/sla-policies`,
//! `PUT /v1/sla-policies/{class}`. Any signed-in user reads; admins write.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use jiban_domain::deadline::calendar::YEARS;
use jiban_domain::deadline::{CalendarDay, DayKind, Limit, LimitUnit, SlaPolicy};
use jiban_domain::values::{CategoryCode, DepartmentId, Reason, Urgency};
use jiban_persistence::repo::reference::{CalendarYear, CategoryRecord, SlaRecord};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Authenticated;
use crate::extract::{Fields, JsonBody};
use crate::limits::Name;
use crate::limits::as_u64;
use crate::problem::{ApiError, FieldError};
use crate::state::AppState;
use crate::usecase::reference;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/categories").route(web::get().to(categories)))
        .service(web::resource("/v1/categories/{code}").route(web::put().to(put_category)))
        .service(
            web::resource("/v1/calendar/{year}")
                .route(web::get().to(calendar_year))
                .route(web::put().to(put_calendar_year)),
        )
        .service(web::resource("/v1/sla-policies").route(web::get().to(sla_policies)))
        .service(web::resource("/v1/sla-policies/{class}").route(web::put().to(put_sla_policy)));
}

// ---------------------------------------------------------------------------------------
// Categories (派单目录)
// ---------------------------------------------------------------------------------------

#[derive(Serialize)]
pub struct CategoryResponse {
    code: CategoryCode,
    name: String,
    department_id: Option<DepartmentId>,
}

impl From<CategoryRecord> for CategoryResponse {
    fn from(c: CategoryRecord) -> Self {
        CategoryResponse {
            code: c.code,
            name: c.name,
            department_id: c.department_id,
        }
    }
}

#[derive(Serialize)]
struct CategoryList {
    items: Vec<CategoryResponse>,
}

async fn categories(
    state: web::Data<AppState>,
    _auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    super::paging::no_parameters(&query)?;
    let found = state.db.run(reference::categories).await?;
    Ok(HttpResponse::Ok().json(CategoryList {
        items: found.into_iter().map(CategoryResponse::from).collect(),
    }))
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct PutCategoryRequest {
    #[validate(length(max = as_u64::NAME_MAX, code = "too_long"))]
    name: String,
    /// The department new tickets of this category go to; absent or `null`: the intake
    /// queue.
    #[serde(default)]
    department_id: Option<Uuid>,
}

async fn put_category(
    state: web::Data<AppState>,
    auth: Authenticated,
    code: web::Path<String>,
    body: JsonBody<PutCategoryRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let body = body.into_inner()?;
    let mut fields = Fields::validate(&body);
    let code = match CategoryCode::parse(&code) {
        Ok(code) => Some(code),
        Err(e) => {
            fields.push(FieldError::parameter("code", e.code(), e.to_string()));
            None
        }
    };
    let name = fields.parse("/name", Name::parse(&body.name));
    fields.finish()?;
    let (Some(code), Some(name)) = (code, name) else {
        return Err(ApiError::internal("a parsed field is missing"));
    };
    let department = body.department_id.map(DepartmentId::from_uuid);
    let (category, created) = state
        .db
        .run(move |conn| reference::put_category(conn, code, name.into_string(), department))
        .await?;
    state.rules.invalidate();
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(CategoryResponse::from(category)))
}

// ---------------------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct DayDto {
    date: NaiveDate,
    kind: DayKind,
    /// Trimmed and checked by `Calendar::set_year`: lengths count after trimming (rule 12).
    name: String,
}

/// A year of the calendar. A year without data is not an error: it answers
/// `loaded: false` and no days, and deadlines in it count Monday to Friday, provisionally
/// (DESIGN.md section 4).
#[derive(Serialize)]
pub struct CalendarResponse {
    year: i32,
    loaded: bool,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    loaded_at: Option<DateTime<Utc>>,
    days: Vec<DayDto>,
    /// PUT only: tickets whose provisional deadlines the new year moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    recomputed_tickets: Option<usize>,
}

fn day_dto(day: CalendarDay) -> DayDto {
    DayDto {
        date: day.date,
        kind: day.kind,
        name: day.name,
    }
}

impl CalendarResponse {
    fn new(year: i32, stored: Option<CalendarYear>, recomputed: Option<usize>) -> Self {
        match stored {
            Some(y) => CalendarResponse {
                year,
                loaded: true,
                loaded_at: Some(y.loaded_at),
                days: y.days.into_iter().map(day_dto).collect(),
                recomputed_tickets: recomputed,
            },
            None => CalendarResponse {
                year,
                loaded: false,
                loaded_at: None,
                days: Vec::new(),
                recomputed_tickets: recomputed,
            },
        }
    }
}

async fn calendar_year(
    state: web::Data<AppState>,
    _auth: Authenticated,
    year: web::Path<i32>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    super::paging::no_parameters(&query)?;
    let year = year.into_inner();
    // A year outside 2000–2100 can never be loaded: there is no such resource.
    if !YEARS.contains(&year) {
        return Err(ApiError::not_found());
    }
    let stored = state
        .db
        .run(move |conn| reference::calendar_year(conn, year))
        .await?;
    Ok(HttpResponse::Ok().json(CalendarResponse::new(year, stored, None)))
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct PutCalendarRequest {
    #[validate(length(max = as_u64::CALENDAR_DAYS_MAX, code = "too_many"), nested)]
    days: Vec<DayDto>,
}

async fn put_calendar_year(
    state: web::Data<AppState>,
    auth: Authenticated,
    year: web::Path<i32>,
    body: JsonBody<PutCalendarRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let body = body.into_inner()?;
    Fields::validate(&body).finish()?;
    let year = year.into_inner();
    let days: Vec<CalendarDay> = body
        .days
        .into_iter()
        .map(|d| CalendarDay {
            date: d.date,
            kind: d.kind,
            name: d.name,
        })
        .collect();
    let now = crate::now();
    let (stored, moved) = state
        .db
        .run(move |conn| reference::put_calendar_year(conn, year, days, now))
        .await?;
    state.rules.invalidate();
    Ok(HttpResponse::Ok().json(CalendarResponse::new(year, Some(stored), Some(moved))))
}

// ---------------------------------------------------------------------------------------
// SLA table
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitDto {
    amount: u32,
    unit: String,
}

#[derive(Serialize)]
pub struct SlaResponse {
    class: Urgency,
    accept: LimitDto,
    contact: LimitDto,
    resolve: LimitDto,
    basis: String,
    #[serde(serialize_with = "crate::time::serialize")]
    updated_at: DateTime<Utc>,
}

fn limit_dto(limit: Limit) -> LimitDto {
    LimitDto {
        amount: limit.amount(),
        unit: limit.unit().as_str().to_owned(),
    }
}

impl From<SlaRecord> for SlaResponse {
    fn from(r: SlaRecord) -> Self {
        SlaResponse {
            class: r.class,
            accept: limit_dto(r.policy.accept),
            contact: limit_dto(r.policy.contact),
            resolve: limit_dto(r.policy.resolve),
            basis: r.policy.basis,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Serialize)]
struct SlaList {
    items: Vec<SlaResponse>,
}

async fn sla_policies(
    state: web::Data<AppState>,
    _auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    super::paging::no_parameters(&query)?;
    let found = state.db.run(reference::sla_policies).await?;
    Ok(HttpResponse::Ok().json(SlaList {
        items: found.into_iter().map(SlaResponse::from).collect(),
    }))
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct PutSlaRequest {
    accept: LimitDto,
    contact: LimitDto,
    resolve: LimitDto,
    #[validate(length(max = as_u64::SHORT_TEXT_MAX, code = "too_long"))]
    basis: String,
}

/// A limit in its unit, bounded by `Limit::new` (at least 1; at most 30 days of minutes
/// or 60 working days).
fn parse_limit(fields: &mut Fields, name: &str, dto: &LimitDto) -> Option<Limit> {
    let unit = fields.parse(&format!("/{name}/unit"), dto.unit.parse::<LimitUnit>())?;
    match Limit::new(dto.amount, unit) {
        Ok(limit) => Some(limit),
        Err(e) => {
            fields.push(FieldError::body(
                format!("/{name}/amount"),
                "out_of_range",
                e.to_string(),
            ));
            None
        }
    }
}

async fn put_sla_policy(
    state: web::Data<AppState>,
    auth: Authenticated,
    class: web::Path<String>,
    body: JsonBody<PutSlaRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    // The four classes are the resources; another name names none.
    let class: Urgency = class.parse().map_err(|_| ApiError::not_found())?;
    let body = body.into_inner()?;
    let mut fields = Fields::validate(&body);
    let accept = parse_limit(&mut fields, "accept", &body.accept);
    let contact = parse_limit(&mut fields, "contact", &body.contact);
    let resolve = parse_limit(&mut fields, "resolve", &body.resolve);
    let basis = fields.parse("/basis", Reason::parse(&body.basis));
    fields.finish()?;
    let (Some(accept), Some(contact), Some(resolve), Some(basis)) =
        (accept, contact, resolve, basis)
    else {
        return Err(ApiError::internal("a parsed field is missing"));
    };
    let policy = SlaPolicy {
        accept,
        contact,
        resolve,
        basis: basis.into_string(),
    };
    let now = crate::now();
    let stored = state
        .db
        .run(move |conn| reference::put_sla_policy(conn, class, policy, now))
        .await?;
    state.rules.invalidate();
    Ok(HttpResponse::Ok().json(SlaResponse::from(stored)))
}
