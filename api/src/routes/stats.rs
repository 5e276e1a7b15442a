//! `GET /v1/stats/departments` and `GET /v1/stats/officers` (DESIGN.md sections 6 and 7,
//! issue 10): the 三率 per department and per officer over the tickets received in a
//! period, with the composite score and the ranking; the departments' table as a
//! spreadsheet (`GET /v1/stats/departments.csv`, [`spreadsheet`]); and `GET /v1/stats/trend`,
//! the tickets of each day, week or month and their rates. Supervisors and admins see
//! every department; an officer sees their own.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use jiban_domain::stats::{Bucket, Period, Rate, Row, Weights};
use jiban_domain::values::{DepartmentId, Role};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::problem::ApiError;
use crate::routes::paging::Params;
use crate::state::AppState;
use crate::usecase::stats::{self as usecase, Named};

mod spreadsheet;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/stats/departments").route(web::get().to(departments)))
        .service(web::resource("/v1/stats/departments.csv").route(web::get().to(departments_csv)))
        .service(web::resource("/v1/stats/officers").route(web::get().to(officers)))
        .service(web::resource("/v1/stats/trend").route(web::get().to(trend)));
}

/// Who reads the statistics: supervisors and admins, and officers for their department.
const READERS: &[Role] = &[Role::Officer, Role::Supervisor, Role::Admin];

/// The dates a period may start and end between: the service's own era, with room.
const EARLIEST: (i32, u32, u32) = (2000, 1, 1);
const LATEST: (i32, u32, u32) = (2100, 1, 1);

/// A date parameter, `YYYY-MM-DD` (a day in +08:00), required.
fn date(p: &mut Params, name: &str, raw: Option<&str>) -> Option<NaiveDate> {
    let Some(raw) = raw else {
        p.bad(name, "required", "a date YYYY-MM-DD is required");
        return None;
    };
    let bound = |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).expect("a valid date");
    // Exactly YYYY-MM-DD: chrono also reads `2026-3-1`.
    let parsed = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok();
    match parsed.filter(|_| raw.len() == 10) {
        Some(date) if (bound(EARLIEST)..=bound(LATEST)).contains(&date) => Some(date),
        Some(_) => {
            p.bad(
                name,
                "out_of_range",
                "must be from 2000-01-01 to 2100-01-01",
            );
            None
        }
        None => {
            p.bad(
                name,
                "invalid",
                "must be a date YYYY-MM-DD (a day in +08:00)",
            );
            None
        }
    }
}

/// `from` (inclusive) and `to` (exclusive), dates in +08:00 (DESIGN.md section 6).
fn period(p: &mut Params, from: Option<&str>, to: Option<&str>) -> Option<Period> {
    let (from, to) = (date(p, "from", from), date(p, "to", to));
    let (from, to) = (from?, to?);
    match Period::new(from, to) {
        Ok(period) => Some(period),
        Err(e) => {
            p.bad("to", "out_of_range", e.to_string());
            None
        }
    }
}

#[derive(Serialize)]
struct WeightsView {
    response: u32,
    resolution: u32,
    satisfaction: u32,
}

impl From<&Weights> for WeightsView {
    fn from(w: &Weights) -> Self {
        WeightsView {
            response: w.response(),
            resolution: w.resolution(),
            satisfaction: w.satisfaction(),
        }
    }
}

/// A table's answer: the period, the weights the scores used, and the rows in ranking
/// order (the unranked last).
#[derive(Serialize)]
struct TableResponse<T> {
    from: NaiveDate,
    to: NaiveDate,
    weights: WeightsView,
    items: Vec<T>,
}

/// The figures of one row (DESIGN.md section 6): the counts, the rates (`null` without a
/// denominator), the lower medians in whole minutes, the score and the rank (`null` for a
/// row without all three rates, and for the intake queue or the unassigned).
#[derive(Serialize)]
struct Figures {
    rank: Option<u32>,
    score: Option<Rate>,
    received: u64,
    disposed: u64,
    accepted: u64,
    withdrawn: u64,
    responded_on_time: u64,
    resolved: u64,
    with_outcome: u64,
    rated: u64,
    on_time: u64,
    overdue_now: u64,
    supervised_now: u64,
    response_rate: Option<Rate>,
    resolution_rate: Option<Rate>,
    satisfaction_rate: Option<Rate>,
    rating_rate: Option<Rate>,
    on_time_rate: Option<Rate>,
    withdrawal_rate: Option<Rate>,
    median_minutes_to_first_contact: Option<i64>,
    median_minutes_to_first_outcome: Option<i64>,
}

impl<K> From<&Row<K>> for Figures {
    fn from(row: &Row<K>) -> Self {
        let t = &row.totals.tally;
        let f = &row.figures;
        Figures {
            rank: row.rank,
            score: f.score,
            received: t.received,
            disposed: t.disposed,
            accepted: t.accepted,
            withdrawn: t.withdrawn,
            responded_on_time: t.responded_on_time,
            resolved: t.resolved_now,
            with_outcome: t.with_outcome,
            rated: t.rated,
            on_time: t.on_time,
            overdue_now: t.overdue_now,
            supervised_now: t.supervised_now,
            response_rate: f.response_rate,
            resolution_rate: f.resolution_rate,
            satisfaction_rate: f.satisfaction_rate,
            rating_rate: f.rating_rate,
            on_time_rate: f.on_time_rate,
            withdrawal_rate: f.withdrawal_rate,
            median_minutes_to_first_contact: f.median_minutes_to_first_contact,
            median_minutes_to_first_outcome: f.median_minutes_to_first_outcome,
        }
    }
}

#[derive(Serialize)]
struct DepartmentItem {
    /// `null`: the intake queue (tickets no department holds yet).
    department_id: Option<Uuid>,
    name: Option<String>,
    #[serde(flatten)]
    figures: Figures,
    /// 协办 (issue 13), beside the 三率 and not part of the score: the co-handling
    /// requests the department received in the period, replied on time, late, and ended
    /// unanswered.
    co_handling_received: u64,
    co_handling_replied_on_time: u64,
    co_handling_replied_late: u64,
    co_handling_not_replied: u64,
}

#[derive(Serialize)]
struct OfficerItem {
    /// `null`: the tickets nobody is assigned.
    user_id: Option<Uuid>,
    display_name: Option<String>,
    #[serde(flatten)]
    figures: Figures,
}

const DEPARTMENT_PARAMETERS: &[&str] = &["from", "to"];
const OFFICER_PARAMETERS: &[&str] = &["from", "to", "department_id"];

/// The period and, where `known` takes it, the department; a 422 naming every bad one.
fn parse(
    pairs: &[(String, String)],
    known: &[&str],
) -> Result<(Period, Option<DepartmentId>), ApiError> {
    let mut p = Params::default();
    let q = p.known(pairs, known);
    let period = period(&mut p, q.get("from").copied(), q.get("to").copied());
    let department = p
        .id("department_id", q.get("department_id").copied())
        .map(DepartmentId::from_uuid);
    let (period, department) = p.finish((period, department))?;
    Ok((
        period.expect("a period when the parameters are valid"),
        department,
    ))
}

fn table<T: Serialize>(period: &Period, weights: &Weights, items: Vec<T>) -> HttpResponse {
    HttpResponse::Ok().json(TableResponse {
        from: period.from(),
        to: period.to(),
        weights: WeightsView::from(weights),
        items,
    })
}

/// The departments' table for the caller: the period and its items.
async fn department_items(
    state: &web::Data<AppState>,
    auth: Authenticated,
    query: &[(String, String)],
) -> Result<(Period, Vec<DepartmentItem>), ApiError> {
    auth.require(READERS)?;
    let (period, _) = parse(query, DEPARTMENT_PARAMETERS)?;
    let weights = state.score_weights;
    let now = crate::now();
    let actor = auth.into_actor();
    let rows = state
        .db
        .run(move |conn| usecase::departments(conn, &actor, &period, &weights, now))
        .await?;
    let items = rows
        .iter()
        .map(|named| DepartmentItem {
            department_id: named.row.key.map(|k| k.as_uuid()),
            name: named.name.clone(),
            figures: Figures::from(&named.row),
            co_handling_received: named.co_handling.received,
            co_handling_replied_on_time: named.co_handling.replied_on_time,
            co_handling_replied_late: named.co_handling.replied_late,
            co_handling_not_replied: named.co_handling.not_replied,
        })
        .collect();
    Ok((period, items))
}

async fn departments(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let (period, items) = department_items(&state, auth, &query).await?;
    Ok(table(&period, &state.score_weights, items))
}

/// The same table as a spreadsheet (`spreadsheet::departments`).
async fn departments_csv(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let (period, items) = department_items(&state, auth, &query).await?;
    let body = spreadsheet::departments(&items)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(spreadsheet::attachment(&period))
        .body(body))
}

const TREND_PARAMETERS: &[&str] = &["from", "to", "bucket", "department_id"];

/// Buckets per answer at most: the whole range of dates by month, three years by day.
const MAX_BUCKETS: usize = 1200;

/// One bucket of a trend: its days (clipped to the period), its counts and rates.
#[derive(Serialize)]
struct TrendItem {
    from: NaiveDate,
    to: NaiveDate,
    received: u64,
    resolved: u64,
    overdue_now: u64,
    response_rate: Option<Rate>,
    resolution_rate: Option<Rate>,
    satisfaction_rate: Option<Rate>,
}

#[derive(Serialize)]
struct TrendResponse {
    from: NaiveDate,
    to: NaiveDate,
    bucket: &'static str,
    /// The department the figures are of; `null`: the whole county.
    department_id: Option<Uuid>,
    items: Vec<TrendItem>,
}

fn parse_trend(
    pairs: &[(String, String)],
) -> Result<(Period, Bucket, Option<DepartmentId>), ApiError> {
    let mut p = Params::default();
    let q = p.known(pairs, TREND_PARAMETERS);
    let period = period(&mut p, q.get("from").copied(), q.get("to").copied());
    let bucket: Option<Bucket> = match q.get("bucket") {
        None => {
            p.bad("bucket", "required", "day, week or month is required");
            None
        }
        raw => p.value("bucket", raw.copied()),
    };
    if let (Some(period), Some(bucket)) = (period, bucket)
        && period.buckets(bucket).len() > MAX_BUCKETS
    {
        p.bad(
            "bucket",
            "too_many_buckets",
            format!("the period holds more than {MAX_BUCKETS} buckets of this size"),
        );
    }
    let department = p
        .id("department_id", q.get("department_id").copied())
        .map(DepartmentId::from_uuid);
    let (period, bucket, department) = p.finish((period, bucket, department))?;
    Ok((
        period.expect("a period when the parameters are valid"),
        bucket.expect("a bucket when the parameters are valid"),
        department,
    ))
}

/// `GET /v1/stats/trend`: the tickets received in each bucket, what became of them, and
/// the three rates, for charts. An officer's is their own department's.
async fn trend(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    auth.require(READERS)?;
    let (period, bucket, department) = parse_trend(&query)?;
    let weights = state.score_weights;
    let now = crate::now();
    let actor = auth.into_actor();
    let (department, rows) = state
        .db
        .run(move |conn| usecase::trend(conn, &actor, &period, bucket, department, &weights, now))
        .await?;
    let items = rows
        .into_iter()
        .map(|(bucket, tally, figures)| TrendItem {
            from: bucket.from(),
            to: bucket.to(),
            received: tally.received,
            resolved: tally.resolved_now,
            overdue_now: tally.overdue_now,
            response_rate: figures.response_rate,
            resolution_rate: figures.resolution_rate,
            satisfaction_rate: figures.satisfaction_rate,
        })
        .collect();
    Ok(HttpResponse::Ok().json(TrendResponse {
        from: period.from(),
        to: period.to(),
        bucket: bucket.as_str(),
        department_id: department.map(|d| d.as_uuid()),
        items,
    }))
}

async fn officers(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    auth.require(READERS)?;
    let (period, department) = parse(&query, OFFICER_PARAMETERS)?;
    let weights = state.score_weights;
    let now = crate::now();
    let actor = auth.into_actor();
    let rows = state
        .db
        .run(move |conn| usecase::officers(conn, &actor, &period, department, &weights, now))
        .await?;
    let items = rows
        .iter()
        .map(|Named { row, name, .. }| OfficerItem {
            user_id: row.key.map(|k| k.as_uuid()),
            display_name: name.clone(),
            figures: Figures::from(row),
        })
        .collect();
    Ok(table(&period, &weights, items))
}
