//! The actix application: shared state, extractor configuration, the middleware and the
//! routes. `jiban serve` builds one per worker.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, middleware, web};

use crate::extract::BODY_LIMIT;
use crate::problem::{self, ApiError};
use crate::state::AppState;

pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        // actix's own extractors answer problem+json too (see crate::problem).
        .app_data(
            web::JsonConfig::default()
                .limit(BODY_LIMIT)
                .error_handler(problem::json_error),
        )
        .app_data(web::PathConfig::default().error_handler(problem::path_error))
        .app_data(web::QueryConfig::default().error_handler(problem::query_error))
        .app_data(web::PayloadConfig::new(BODY_LIMIT))
        .wrap(middleware::from_fn(crate::middleware::observe))
        .configure(crate::routes::configure)
        .default_service(web::to(not_found))
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}
