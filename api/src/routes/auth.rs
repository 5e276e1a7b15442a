//! `POST /v1/auth/token`, `POST /v1/auth/refresh`, `POST /v1/auth/logout`, `GET /v1/me`,
//! `POST /v1/me/password` (DESIGN.md section 7).

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use jiban_domain::values::{DepartmentId, EnterpriseId, Role, UserId};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::auth::Authenticated;
use crate::extract::{Fields, JsonBody};
use crate::limits::as_u64;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::usecase::auth::TokenPair;
use crate::usecase::{self, users};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/auth/token").route(web::post().to(token)))
        .service(web::resource("/v1/auth/refresh").route(web::post().to(refresh)))
        .service(web::resource("/v1/auth/logout").route(web::post().to(logout)))
        .service(web::resource("/v1/me").route(web::get().to(me)))
        .service(web::resource("/v1/me/password").route(web::post().to(change_password)));
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[validate(length(min = 1, max = as_u64::USERNAME_MAX, code = "invalid_length"))]
    username: String,
    #[validate(length(min = 1, max = as_u64::PASSWORD_MAX, code = "invalid_length"))]
    password: String,
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 256, code = "invalid_length"))]
    refresh_token: String,
}

#[derive(Serialize)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
}

/// Tokens must not be cached by anything between us and the client (RFC 6749 5.1).
fn tokens(pair: TokenPair) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(TokenResponse {
            access_token: pair.access_token,
            token_type: "Bearer",
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token,
        })
}

/// Logs in. The client address for throttling is the TCP peer: behind a reverse proxy
/// every client would share the proxy's address, and honouring `X-Forwarded-For` by
/// default would let anyone choose their own (docs/API.md, "Login throttling").
async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    Fields::validate(&body).finish()?;
    let username = body.username.trim().to_lowercase();
    let address = req.peer_addr().map(|a| a.ip());
    let pair = usecase::auth::login(&state, username, body.password, address, crate::now()).await?;
    Ok(tokens(pair))
}

async fn refresh(
    state: web::Data<AppState>,
    body: JsonBody<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    Fields::validate(&body).finish()?;
    let now = crate::now();
    let shared = state.clone();
    let days = state.session_days;
    let pair = state
        .db
        .run(move |conn| usecase::auth::refresh(conn, &shared.keys, &body.refresh_token, days, now))
        .await?;
    Ok(tokens(pair))
}

/// Revokes the refresh token's whole session; 204 whatever the token was (see
/// `usecase::auth::logout`).
async fn logout(
    state: web::Data<AppState>,
    body: JsonBody<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    Fields::validate(&body).finish()?;
    let now = crate::now();
    state
        .db
        .run(move |conn| usecase::auth::logout(conn, &body.refresh_token, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[validate(length(min = 1, max = as_u64::PASSWORD_MAX, code = "invalid_length"))]
    current_password: String,
    new_password: String,
}

async fn change_password(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    let mut fields = Fields::validate(&body);
    crate::routes::users::check_password(&mut fields, "/new_password", &body.new_password);
    fields.finish()?;
    usecase::auth::change_password(
        &state,
        auth.id(),
        auth.session(),
        body.current_password,
        body.new_password,
        crate::now(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
pub struct MeResponse {
    id: UserId,
    username: String,
    role: Role,
    display_name: String,
    email: String,
    department_id: Option<DepartmentId>,
    enterprise_id: Option<EnterpriseId>,
}

async fn me(state: web::Data<AppState>, auth: Authenticated) -> Result<HttpResponse, ApiError> {
    let id = auth.id();
    let user = state.db.run(move |conn| users::get(conn, id)).await?;
    Ok(HttpResponse::Ok().json(MeResponse {
        id: user.id,
        username: user.username,
        role: user.role,
        display_name: user.display_name,
        email: user.email,
        department_id: user.department_id,
        enterprise_id: user.enterprise_id,
    }))
}
