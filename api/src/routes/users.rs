//! `POST /v1/users`, `GET /v1/users?role=`, `GET`/`PATCH /v1/users/{id}` (admin only,
//! DESIGN.md section 7), except the list, which supervisors and officers read as a
//! directory of officials (issue 12: the dashboard names assignees and first responders).

use actix_web::{HttpResponse, guard, web};
use chrono::{DateTime, Utc};
use jiban_domain::values::{DepartmentId, Email, EnterpriseId, Role, UserId};
use jiban_persistence::repo::users::UserRecord;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Authenticated;
use crate::config::Secret;
use crate::extract::{CsvBody, Fields, JsonBody, double_option, is_csv};
use crate::import::{self, Imported};
use crate::limits::as_u64;
use crate::limits::{self, Name, PASSWORD_MAX, PASSWORD_MIN};
use crate::problem::{ApiError, FieldError};
use crate::routes::paging::{PageResponse, Params, encode_cursor};
use crate::state::AppState;
use crate::usecase::users::{self, NewUser, UserPatch};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/users")
            // A CSV body is an import (crate::import); any other goes to `create`.
            .route(web::post().guard(guard::fn_guard(is_csv)).to(import_csv))
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/v1/users/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(update)),
    );
}

/// A user as the API shows it: never a password or hash.
#[derive(Serialize)]
pub struct UserResponse {
    id: UserId,
    username: String,
    role: Role,
    display_name: String,
    email: String,
    department_id: Option<DepartmentId>,
    enterprise_id: Option<EnterpriseId>,
    active: bool,
    #[serde(serialize_with = "crate::time::serialize")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    updated_at: DateTime<Utc>,
}

impl From<UserRecord> for UserResponse {
    fn from(u: UserRecord) -> Self {
        UserResponse {
            id: u.id,
            username: u.username,
            role: u.role,
            display_name: u.display_name,
            email: u.email,
            department_id: u.department_id,
            enterprise_id: u.enterprise_id,
            active: u.active,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A user as supervisors and officers see it in the list: who an official is, nothing to
/// reach them by (no username, no email).
#[derive(Serialize)]
pub struct OfficialResponse {
    id: UserId,
    display_name: String,
    role: Role,
    department_id: Option<DepartmentId>,
}

impl From<UserRecord> for OfficialResponse {
    fn from(u: UserRecord) -> Self {
        OfficialResponse {
            id: u.id,
            display_name: u.display_name,
            role: u.role,
            department_id: u.department_id,
        }
    }
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[validate(length(max = as_u64::USERNAME_MAX, code = "too_long"))]
    username: String,
    password: String,
    role: String,
    #[validate(length(max = as_u64::NAME_MAX, code = "too_long"))]
    display_name: String,
    #[validate(length(max = as_u64::EMAIL_MAX, code = "too_long"))]
    email: String,
    #[serde(default)]
    department_id: Option<Uuid>,
    #[serde(default)]
    enterprise_id: Option<Uuid>,
}

fn not_allowed(pointer: &str, role: Role) -> FieldError {
    FieldError::body(
        pointer,
        "not_allowed",
        format!("a user of role {role} has no {}", &pointer[1..]),
    )
}

fn required(pointer: &str, role: Role) -> FieldError {
    FieldError::body(
        pointer,
        "required",
        format!("a user of role {role} needs {}", &pointer[1..]),
    )
}

/// The password must be 10–256 characters; it is not trimmed (spaces are characters).
pub(crate) fn check_password(fields: &mut Fields, pointer: &str, password: &str) {
    let count = password.chars().count();
    if count < PASSWORD_MIN {
        fields.push(FieldError::body(
            pointer,
            "too_short",
            format!("must be at least {PASSWORD_MIN} characters"),
        ));
    } else if count > PASSWORD_MAX {
        fields.push(FieldError::body(
            pointer,
            "too_long",
            format!("must be at most {PASSWORD_MAX} characters"),
        ));
    }
}

impl CreateUserRequest {
    /// The same request from elsewhere than HTTP (`jiban user add`), checked by the same
    /// [`parse`](Self::parse).
    pub(crate) fn new(
        username: String,
        password: String,
        role: String,
        display_name: String,
        email: String,
        department_id: Option<Uuid>,
        enterprise_id: Option<Uuid>,
    ) -> Self {
        CreateUserRequest {
            username,
            password,
            role,
            display_name,
            email,
            department_id,
            enterprise_id,
        }
    }

    /// Every field's rules and the role's attachments: an officer has a department, an
    /// enterprise user an enterprise, nobody else either (DESIGN.md section 1).
    pub(crate) fn parse(self) -> Result<NewUser, ApiError> {
        let mut fields = Fields::validate(&self);
        let username = fields.parse("/username", limits::username(&self.username));
        check_password(&mut fields, "/password", &self.password);
        let role = fields.parse("/role", self.role.parse::<Role>());
        let display_name = fields.parse("/display_name", Name::parse(&self.display_name));
        let email = fields.parse("/email", Email::parse(&self.email));
        if let Some(role) = role {
            let (needs_department, needs_enterprise) = match role {
                Role::Officer => (true, false),
                Role::Enterprise => (false, true),
                Role::Liaison | Role::Supervisor | Role::Admin => (false, false),
            };
            match (needs_department, self.department_id.is_some()) {
                (true, false) => fields.push(required("/department_id", role)),
                (false, true) => fields.push(not_allowed("/department_id", role)),
                _ => {}
            }
            match (needs_enterprise, self.enterprise_id.is_some()) {
                (true, false) => fields.push(required("/enterprise_id", role)),
                (false, true) => fields.push(not_allowed("/enterprise_id", role)),
                _ => {}
            }
        }
        fields.finish()?;
        let (Some(username), Some(role), Some(display_name), Some(email)) =
            (username, role, display_name, email)
        else {
            return Err(ApiError::internal("a parsed field is missing"));
        };
        Ok(NewUser {
            username,
            password: Secret::new(self.password),
            role,
            display_name: display_name.into_string(),
            email: email.as_str().to_owned(),
            department_id: self.department_id.map(DepartmentId::from_uuid),
            enterprise_id: self.enterprise_id.map(EnterpriseId::from_uuid),
        })
    }
}

async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let new = body.into_inner()?.parse()?;
    let hash = state
        .passwords
        .hash(new.password.expose().to_string())
        .await?;
    let now = crate::now();
    let user = state
        .db
        .run(move |conn| users::create(conn, new, hash, now))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/users/{}", user.id)))
        .json(UserResponse::from(user)))
}

/// `POST /v1/users` with `Content-Type: text/csv`: an import of up to
/// [`import::HTTP_USERS_MAX`] users, all or nothing (`crate::import`; docs/API.md,
/// "Importing"). Every line is checked, against the database too, before any password is
/// hashed; the hashes are made on the password workers a batch at a time
/// ([`PasswordWorkers::hash_many`](crate::auth::password::PasswordWorkers::hash_many)), and
/// no connection is held meanwhile; then one transaction checks again and writes them all.
async fn import_csv(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: CsvBody,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let bytes = body.into_inner()?;
    let (rows, mut errors) =
        web::block(move || import::users(&bytes, import::HTTP_USERS_MAX)).await??;
    let (rows, found) = state
        .db
        .run(move |conn| users::check_many(conn, &rows).map(|found| (rows, found)))
        .await?;
    errors.extend(found);
    if !errors.is_empty() {
        return Err(ApiError::invalid_lines(errors));
    }
    let passwords = rows
        .iter()
        .map(|row| row.value.password.expose().to_owned())
        .collect();
    let hashes = state.passwords.hash_many(passwords).await?;
    let now = crate::now();
    let created = state
        .db
        .run(move |conn| users::create_many(conn, rows, hashes, now))
        .await?;
    Ok(HttpResponse::Created().json(Imported::new(
        created.into_iter().map(UserResponse::from).collect(),
    )))
}

/// The default page size.
const DEFAULT_LIMIT: i64 = 50;

const LIST_PARAMETERS: &[&str] = &["role", "limit", "cursor"];

fn parse_list(
    pairs: &[(String, String)],
) -> Result<(Option<Role>, i64, Option<users::Cursor>), ApiError> {
    let mut p = Params::default();
    let q = p.known(pairs, LIST_PARAMETERS);
    let get = |name: &str| q.get(name).copied();
    let role = p.value::<Role>("role", get("role"));
    let limit = p.limit(get("limit"), DEFAULT_LIMIT);
    let cursor = p
        .cursor(get("cursor"))
        .map(|(created_at, id)| users::Cursor { created_at, id });
    p.finish((role, limit, cursor))
}

async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin, Role::Supervisor, Role::Officer])?;
    let (role, limit, cursor) = parse_list(&query)?;
    // Supervisors and officers read the officials only, each as `OfficialResponse`.
    let admin = auth.role() == Role::Admin;
    let (found, next) = state
        .db
        .run(move |conn| users::page(conn, role, !admin, limit, cursor))
        .await?;
    let next_cursor = next.map(|c| encode_cursor(c.created_at, c.id));
    Ok(if admin {
        HttpResponse::Ok().json(PageResponse {
            items: found.into_iter().map(UserResponse::from).collect(),
            next_cursor,
        })
    } else {
        HttpResponse::Ok().json(PageResponse {
            items: found.into_iter().map(OfficialResponse::from).collect(),
            next_cursor,
        })
    })
}

async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let id = UserId::from_uuid(id.into_inner());
    let user = state.db.run(move |conn| users::get(conn, id)).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(user)))
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[validate(length(max = as_u64::NAME_MAX, code = "too_long"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    display_name: Option<String>,
    #[validate(length(max = as_u64::EMAIL_MAX, code = "too_long"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    email: Option<String>,
    /// Absent: unchanged; `null`: refused for officers (they need one).
    #[serde(default, deserialize_with = "double_option")]
    department_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::extract::present")]
    active: Option<bool>,
    /// An admin's reset: the user's sessions are revoked.
    #[serde(default, deserialize_with = "crate::extract::present")]
    password: Option<String>,
}

impl UpdateUserRequest {
    fn parse(self) -> Result<UserPatch, ApiError> {
        let mut fields = Fields::validate(&self);
        let display_name = self
            .display_name
            .as_deref()
            .and_then(|raw| fields.parse("/display_name", Name::parse(raw)));
        let email = self
            .email
            .as_deref()
            .and_then(|raw| fields.parse("/email", Email::parse(raw)));
        if let Some(password) = &self.password {
            check_password(&mut fields, "/password", password);
        }
        fields.finish()?;
        Ok(UserPatch {
            display_name: display_name.map(Name::into_string),
            email: email.map(String::from),
            department_id: self.department_id.map(|d| d.map(DepartmentId::from_uuid)),
            active: self.active,
            password_hash: None,
        })
    }
}

async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let body = body.into_inner()?;
    let password = body.password.clone();
    let mut patch = body.parse()?;
    if let Some(password) = password {
        // On the password workers, before any connection is taken.
        patch.password_hash = Some(state.passwords.hash(password).await?);
    }
    let id = UserId::from_uuid(id.into_inner());
    let admin = auth.id();
    let now = crate::now();
    let user = state
        .db
        .run(move |conn| users::update(conn, admin, id, patch, now))
        .await?;
    // This node forgets the user at once; the others within JIBAN_AUTH_CACHE_SECONDS.
    state.principals.invalidate(id);
    Ok(HttpResponse::Ok().json(UserResponse::from(user)))
}
