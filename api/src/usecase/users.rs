//! Users (DESIGN.md section 7: admin creates, lists and edits them).

use chrono::{DateTime, Utc};
use jiban_domain::values::{DepartmentId, EnterpriseId, Role, UserId};
use jiban_persistence::repo::users::{self, UserChanges, UserRecord};
use jiban_persistence::repo::{auth as tokens, departments, enterprises};
use jiban_persistence::{DbConnection, StoreError, write_tx};

use crate::config::Secret;
use crate::problem::{ApiError, FieldError};

/// A user to create, already parsed; the role's attachments are checked (an officer has
/// a department, an enterprise user an enterprise, nobody else either).
#[derive(Debug)]
pub struct NewUser {
    pub username: String,
    pub password: Secret,
    pub role: Role,
    pub display_name: String,
    pub email: String,
    pub department_id: Option<DepartmentId>,
    pub enterprise_id: Option<EnterpriseId>,
}

fn username_taken() -> ApiError {
    ApiError::conflict("username_taken", "a user with this username exists")
}

fn unknown_department() -> FieldError {
    FieldError::body(
        "/department_id",
        "unknown_department",
        "no department has this id",
    )
}

/// Creates a user with `hash`, the argon2id hash of `new.password` made beforehand (by
/// the server's password workers, or [`crate::auth::password::hash`] on the command line) so that no
/// database connection waits on it; the answer never holds the password or its hash.
pub fn create(
    conn: &mut DbConnection,
    new: NewUser,
    hash: String,
    now: DateTime<Utc>,
) -> Result<UserRecord, ApiError> {
    let id = UserId::from_uuid(uuid::Uuid::new_v4());
    write_tx(conn, |c| {
        if users::username_taken(c, &new.username)? {
            return Err(username_taken());
        }
        let mut missing = Vec::new();
        if let Some(department) = new.department_id
            && !departments::exists(c, department)?
        {
            missing.push(unknown_department());
        }
        if let Some(enterprise) = new.enterprise_id
            && !enterprises::exists(c, enterprise)?
        {
            missing.push(FieldError::body(
                "/enterprise_id",
                "unknown_enterprise",
                "no enterprise has this id",
            ));
        }
        if !missing.is_empty() {
            return Err(ApiError::invalid(missing));
        }
        let inserted = users::insert(
            c,
            &users::NewUser {
                id,
                username: &new.username,
                password_hash: &hash,
                role: new.role,
                display_name: &new.display_name,
                email: &new.email,
                department_id: new.department_id,
                enterprise_id: new.enterprise_id,
                now,
            },
        );
        match inserted {
            // Checked above; a concurrent insert of the same name still lands here.
            Err(StoreError::Conflict(_)) => return Err(username_taken()),
            other => other?,
        }
        users::find(c, id)?.ok_or_else(|| ApiError::internal("inserted user not found"))
    })
}

pub use users::Cursor;

/// One page of the users, all or of one role, newest first.
pub fn page(
    conn: &mut DbConnection,
    role: Option<Role>,
    limit: i64,
    after: Option<Cursor>,
) -> Result<(Vec<UserRecord>, Option<Cursor>), ApiError> {
    Ok(users::page(conn, role, limit, after)?)
}

pub fn get(conn: &mut DbConnection, id: UserId) -> Result<UserRecord, ApiError> {
    users::find(conn, id)?.ok_or_else(ApiError::not_found)
}

/// A PATCH, parsed. `department_id: Some(None)` asks to clear it.
#[derive(Debug, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub department_id: Option<Option<DepartmentId>>,
    pub active: Option<bool>,
    /// A new password's hash (an admin's reset), made before the transaction.
    pub password_hash: Option<String>,
}

/// Edits a user. Deactivating or a new password revokes its refresh tokens in the same
/// transaction; the
/// caller drops it from this node's principal cache, and other nodes' copies expire
/// within `JIBAN_AUTH_CACHE_SECONDS`.
pub fn update(
    conn: &mut DbConnection,
    acting_admin: UserId,
    id: UserId,
    patch: UserPatch,
    now: DateTime<Utc>,
) -> Result<UserRecord, ApiError> {
    write_tx(conn, |c| {
        let user = users::find(c, id)?.ok_or_else(ApiError::not_found)?;
        let department_id = match (patch.department_id, user.role) {
            (None, _) => None,
            (Some(Some(department)), Role::Officer) => {
                if !departments::exists(c, department)? {
                    return Err(ApiError::invalid(vec![unknown_department()]));
                }
                Some(department)
            }
            (Some(None), Role::Officer) => {
                return Err(ApiError::invalid_field(
                    "/department_id",
                    "required",
                    "an officer belongs to a department",
                ));
            }
            // Clearing what a non-officer does not have changes nothing.
            (Some(None), _) => None,
            (Some(Some(_)), _) => {
                return Err(ApiError::invalid_field(
                    "/department_id",
                    "not_allowed",
                    "only officers belong to a department",
                ));
            }
        };
        if patch.active == Some(false) && id == acting_admin {
            // An admin locking itself out could leave nobody able to administer.
            return Err(ApiError::conflict(
                "cannot_deactivate_self",
                "an admin cannot deactivate its own account",
            ));
        }
        let changes = UserChanges {
            display_name: patch.display_name,
            email: patch.email,
            department_id,
            active: patch.active,
            password_hash: patch.password_hash.clone(),
        };
        users::update(c, id, changes, now)?;
        if patch.active == Some(false) || patch.password_hash.is_some() {
            tokens::revoke_all_refresh_tokens(c, id, now)?;
        }
        users::find(c, id)?.ok_or_else(|| ApiError::internal("updated user not found"))
    })
}
