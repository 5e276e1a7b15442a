//! `POST /v1/departments` (admin), `GET /v1/departments` (staff: liaisons, officers,
//! supervisors, admins; liaisons too, since they accept tickets on a department's behalf).

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use jiban_domain::values::{DepartmentId, Role};
use jiban_persistence::repo::departments::DepartmentRecord;
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::auth::Authenticated;
use crate::extract::{Fields, JsonBody};
use crate::limits::as_u64;
use crate::limits::{self, Name};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::usecase::departments;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/departments")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    );
}

#[derive(Serialize)]
pub struct DepartmentResponse {
    id: DepartmentId,
    code: String,
    name: String,
    #[serde(serialize_with = "crate::time::serialize")]
    created_at: DateTime<Utc>,
}

impl From<DepartmentRecord> for DepartmentResponse {
    fn from(d: DepartmentRecord) -> Self {
        DepartmentResponse {
            id: d.id,
            code: d.code,
            name: d.name,
            created_at: d.created_at,
        }
    }
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateDepartmentRequest {
    #[validate(length(max = as_u64::NAME_MAX, code = "too_long"))]
    name: String,
    #[validate(length(max = as_u64::DEPARTMENT_CODE_MAX, code = "too_long"))]
    code: String,
}

async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<CreateDepartmentRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let body = body.into_inner()?;
    let mut fields = Fields::validate(&body);
    let name = fields.parse("/name", Name::parse(&body.name));
    let code = fields.parse("/code", limits::department_code(&body.code));
    fields.finish()?;
    let (Some(name), Some(code)) = (name, code) else {
        return Err(ApiError::internal("a parsed field is missing"));
    };
    let now = crate::now();
    let department = state
        .db
        .run(move |conn| departments::create(conn, code, name.into_string(), now))
        .await?;
    Ok(HttpResponse::Created().json(DepartmentResponse::from(department)))
}

#[derive(Serialize)]
struct DepartmentList {
    items: Vec<DepartmentResponse>,
}

async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Liaison, Role::Officer, Role::Supervisor, Role::Admin])?;
    super::paging::no_parameters(&query)?;
    let found = state.db.run(departments::list).await?;
    Ok(HttpResponse::Ok().json(DepartmentList {
        items: found.into_iter().map(DepartmentResponse::from).collect(),
    }))
}
