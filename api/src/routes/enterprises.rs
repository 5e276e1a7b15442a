//! `POST`/`GET /v1/enterprises`, `GET`/`PATCH /v1/enterprises/{id}`,
//! `PUT /v1/enterprises/{id}/liaisons` (DESIGN.md section 7). Admins create and edit;
//! everyone lists and reads what their role may see (404 outside it).

use actix_web::{HttpResponse, guard, web};
use chrono::{DateTime, Utc};
use jiban_domain::values::{Email, EnterpriseId, Uscc, UserId};
use jiban_persistence::repo::enterprises::EnterpriseChanges;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Authenticated;
use crate::extract::{CsvBody, Fields, JsonBody, double_option, is_csv};
use crate::import::{self, Imported};
use crate::limits::as_u64;
use crate::limits::{self, EnterpriseName, Name};
use crate::problem::ApiError;
use crate::routes::paging::{PageResponse, Params, encode_cursor};
use crate::state::AppState;
use crate::usecase::enterprises::{self, EnterpriseView, NewEnterprise};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/enterprises")
            // A CSV body is an import (crate::import); any other goes to `create`.
            .route(web::post().guard(guard::fn_guard(is_csv)).to(import_csv))
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/v1/enterprises/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(update)),
    )
    .service(web::resource("/v1/enterprises/{id}/liaisons").route(web::put().to(set_liaisons)));
}

#[derive(Serialize)]
pub struct LiaisonResponse {
    id: UserId,
    display_name: String,
    email: String,
}

#[derive(Serialize)]
pub struct EnterpriseResponse {
    id: EnterpriseId,
    name: String,
    uscc: String,
    contact_name: String,
    contact_phone: String,
    contact_email: String,
    paired_leader_id: Option<UserId>,
    liaisons: Vec<LiaisonResponse>,
    #[serde(serialize_with = "crate::time::serialize")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    updated_at: DateTime<Utc>,
}

impl From<EnterpriseView> for EnterpriseResponse {
    fn from(v: EnterpriseView) -> Self {
        let e = v.enterprise;
        EnterpriseResponse {
            id: e.id,
            name: e.name,
            uscc: e.uscc,
            contact_name: e.contact_name,
            contact_phone: e.contact_phone,
            contact_email: e.contact_email,
            paired_leader_id: e.paired_leader_id,
            liaisons: v
                .liaisons
                .into_iter()
                .map(|l| LiaisonResponse {
                    id: l.id,
                    display_name: l.display_name,
                    email: l.email,
                })
                .collect(),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateEnterpriseRequest {
    #[validate(length(max = as_u64::ENTERPRISE_NAME_MAX, code = "too_long"))]
    name: String,
    uscc: String,
    #[validate(length(max = as_u64::NAME_MAX, code = "too_long"))]
    contact_name: String,
    #[validate(length(max = as_u64::PHONE_MAX, code = "too_long"))]
    contact_phone: String,
    #[validate(length(max = as_u64::EMAIL_MAX, code = "too_long"))]
    contact_email: String,
    #[serde(default)]
    paired_leader_id: Option<Uuid>,
}

impl CreateEnterpriseRequest {
    /// The same request from elsewhere than a JSON body (a line of a CSV import,
    /// `crate::import`), checked by the same [`parse`](Self::parse).
    pub(crate) fn new(
        name: String,
        uscc: String,
        contact_name: String,
        contact_phone: String,
        contact_email: String,
        paired_leader_id: Option<Uuid>,
    ) -> Self {
        CreateEnterpriseRequest {
            name,
            uscc,
            contact_name,
            contact_phone,
            contact_email,
            paired_leader_id,
        }
    }

    /// Every field's rules: lengths, the name, the USCC's check character, the contact.
    pub(crate) fn parse(self) -> Result<NewEnterprise, ApiError> {
        let mut fields = Fields::validate(&self);
        let name = fields.parse("/name", EnterpriseName::parse(&self.name));
        // GB 32100-2015: 18 characters, the last a check character over the first 17.
        let uscc = fields.parse("/uscc", Uscc::parse(&self.uscc));
        let contact_name = fields.parse("/contact_name", Name::parse(&self.contact_name));
        let contact_phone = fields.parse("/contact_phone", limits::phone(&self.contact_phone));
        let contact_email = fields.parse("/contact_email", Email::parse(&self.contact_email));
        fields.finish()?;
        let (Some(name), Some(uscc), Some(contact_name), Some(contact_phone), Some(contact_email)) =
            (name, uscc, contact_name, contact_phone, contact_email)
        else {
            return Err(ApiError::internal("a parsed field is missing"));
        };
        Ok(NewEnterprise {
            name: name.into_string(),
            uscc: uscc.as_str().to_owned(),
            contact_name: contact_name.into_string(),
            contact_phone,
            contact_email: contact_email.as_str().to_owned(),
            paired_leader_id: self.paired_leader_id.map(UserId::from_uuid),
        })
    }
}

async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<CreateEnterpriseRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let new = body.into_inner()?.parse()?;
    let now = crate::now();
    let created = state
        .db
        .run(move |conn| enterprises::create(conn, new, now))
        .await?;
    let id = created.enterprise.id;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/enterprises/{id}")))
        .json(EnterpriseResponse::from(created)))
}

/// `POST /v1/enterprises` with `Content-Type: text/csv`: an import of up to
/// [`import::ROWS_MAX`] enterprises, all or nothing (`crate::import`; docs/API.md,
/// "Importing").
async fn import_csv(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: CsvBody,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let bytes = body.into_inner()?;
    let (rows, errors) =
        web::block(move || import::enterprises(&bytes, import::ROWS_MAX)).await??;
    let now = crate::now();
    let created = state
        .db
        .run(move |conn| enterprises::import(conn, rows, errors, now))
        .await?;
    Ok(HttpResponse::Created().json(Imported::new(
        created.into_iter().map(EnterpriseResponse::from).collect(),
    )))
}

/// The default page size.
const DEFAULT_LIMIT: i64 = 50;

const LIST_PARAMETERS: &[&str] = &["limit", "cursor"];

fn parse_list(pairs: &[(String, String)]) -> Result<(i64, Option<enterprises::Cursor>), ApiError> {
    let mut p = Params::default();
    let q = p.known(pairs, LIST_PARAMETERS);
    let get = |name: &str| q.get(name).copied();
    let limit = p.limit(get("limit"), DEFAULT_LIMIT);
    let cursor = p
        .cursor(get("cursor"))
        .map(|(created_at, id)| enterprises::Cursor { created_at, id });
    p.finish((limit, cursor))
}

async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let (limit, cursor) = parse_list(&query)?;
    let viewer = auth.user().clone();
    let (found, next) = state
        .db
        .run(move |conn| enterprises::page(conn, &viewer, limit, cursor))
        .await?;
    Ok(HttpResponse::Ok().json(PageResponse {
        items: found.into_iter().map(EnterpriseResponse::from).collect(),
        next_cursor: next.map(|c| encode_cursor(c.created_at, c.id)),
    }))
}

async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let viewer = auth.user().clone();
    let id = EnterpriseId::from_uuid(id.into_inner());
    let found = state
        .db
        .run(move |conn| enterprises::get(conn, &viewer, id))
        .await?;
    Ok(HttpResponse::Ok().json(EnterpriseResponse::from(found)))
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct UpdateEnterpriseRequest {
    #[validate(length(max = as_u64::ENTERPRISE_NAME_MAX, code = "too_long"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    name: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::present")]
    uscc: Option<String>,
    #[validate(length(max = as_u64::NAME_MAX, code = "too_long"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    contact_name: Option<String>,
    #[validate(length(max = as_u64::PHONE_MAX, code = "too_long"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    contact_phone: Option<String>,
    #[validate(length(max = as_u64::EMAIL_MAX, code = "too_long"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    contact_email: Option<String>,
    /// Absent: unchanged; `null`: no paired leader any more.
    #[serde(default, deserialize_with = "double_option")]
    paired_leader_id: Option<Option<Uuid>>,
}

impl UpdateEnterpriseRequest {
    fn parse(self) -> Result<EnterpriseChanges, ApiError> {
        let mut fields = Fields::validate(&self);
        let changes = EnterpriseChanges {
            name: self
                .name
                .as_deref()
                .and_then(|raw| fields.parse("/name", EnterpriseName::parse(raw)))
                .map(EnterpriseName::into_string),
            uscc: self
                .uscc
                .as_deref()
                .and_then(|raw| fields.parse("/uscc", Uscc::parse(raw)))
                .map(String::from),
            contact_name: self
                .contact_name
                .as_deref()
                .and_then(|raw| fields.parse("/contact_name", Name::parse(raw)))
                .map(Name::into_string),
            contact_phone: self
                .contact_phone
                .as_deref()
                .and_then(|raw| fields.parse("/contact_phone", limits::phone(raw))),
            contact_email: self
                .contact_email
                .as_deref()
                .and_then(|raw| fields.parse("/contact_email", Email::parse(raw)))
                .map(String::from),
            paired_leader_id: self
                .paired_leader_id
                .map(|leader| leader.map(UserId::from_uuid)),
        };
        fields.finish()?;
        Ok(changes)
    }
}

async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateEnterpriseRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let changes = body.into_inner()?.parse()?;
    let id = EnterpriseId::from_uuid(id.into_inner());
    let now = crate::now();
    let updated = state
        .db
        .run(move |conn| enterprises::update(conn, id, changes, now))
        .await?;
    Ok(HttpResponse::Ok().json(EnterpriseResponse::from(updated)))
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct LiaisonsRequest {
    #[validate(length(max = as_u64::LIAISONS_MAX, code = "too_many"))]
    liaison_ids: Vec<Uuid>,
}

async fn set_liaisons(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<Uuid>,
    body: JsonBody<LiaisonsRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let body = body.into_inner()?;
    Fields::validate(&body).finish()?;
    let id = EnterpriseId::from_uuid(id.into_inner());
    let liaisons: Vec<UserId> = body
        .liaison_ids
        .into_iter()
        .map(UserId::from_uuid)
        .collect();
    let (view, changed) = state
        .db
        .run(move |conn| enterprises::set_liaisons(conn, id, liaisons))
        .await?;
    // Their stations changed: this node re-reads them at their next request.
    for user in changed {
        state.principals.invalidate(user);
    }
    Ok(HttpResponse::Ok().json(EnterpriseResponse::from(view)))
}
