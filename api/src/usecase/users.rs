//! Users (DESIGN.md section 7: admin creates, lists and edits them).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use jiban_domain::values::{DepartmentId, EnterpriseId, Role, UserId};
use jiban_persistence::repo::users::{self, UserChanges, UserRecord};
use jiban_persistence::repo::{auth as tokens, departments, enterprises};
use jiban_persistence::{DbConnection, StoreError, write_tx};

use crate::config::Secret;
use crate::import::Line;
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

const UNKNOWN_ENTERPRISE: &str = "no enterprise has this id";

/// What only the database can refuse in a new user, once its fields have parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// A user has its username (the column is unique).
    UsernameTaken,
    /// Its `department_id` names no department.
    UnknownDepartment,
    /// Its `enterprise_id` names no enterprise.
    UnknownEnterprise,
}

/// The refusals of each of `new` (by index), in the order a single create reports them:
/// the single create and the import apply these same checks, in a few queries however
/// many users there are.
fn refusals(conn: &mut DbConnection, new: &[&NewUser]) -> Result<Vec<(usize, Refusal)>, ApiError> {
    let names: Vec<&str> = new.iter().map(|u| u.username.as_str()).collect();
    let taken: HashSet<String> = users::usernames_taken(conn, &names)?.into_iter().collect();
    let mut wanted: Vec<DepartmentId> = new.iter().filter_map(|u| u.department_id).collect();
    wanted.sort();
    wanted.dedup();
    let found_departments: HashSet<DepartmentId> =
        departments::existing(conn, &wanted)?.into_iter().collect();
    let mut wanted: Vec<EnterpriseId> = new.iter().filter_map(|u| u.enterprise_id).collect();
    wanted.sort();
    wanted.dedup();
    let found_enterprises: HashSet<EnterpriseId> =
        enterprises::existing(conn, &wanted)?.into_iter().collect();
    let mut refused = Vec::new();
    for (i, u) in new.iter().enumerate() {
        if taken.contains(&u.username) {
            refused.push((i, Refusal::UsernameTaken));
        }
        if u.department_id
            .is_some_and(|d| !found_departments.contains(&d))
        {
            refused.push((i, Refusal::UnknownDepartment));
        }
        if u.enterprise_id
            .is_some_and(|e| !found_enterprises.contains(&e))
        {
            refused.push((i, Refusal::UnknownEnterprise));
        }
    }
    Ok(refused)
}

/// Creates a user with `hash`, the argon2id hash of `new.password` made beforehand (by
/// the server's password workers, or [`crate::auth::password::hash`] on the command line) so that no
/// database connection waits on it; the answer never holds the password or its hash.
/// A taken username is 409; a department or enterprise that does not exist, 422.
pub fn create(
    conn: &mut DbConnection,
    new: NewUser,
    hash: String,
    now: DateTime<Utc>,
) -> Result<UserRecord, ApiError> {
    let id = UserId::from_uuid(uuid::Uuid::new_v4());
    write_tx(conn, |c| {
        let refused = refusals(c, &[&new])?;
        if refused.iter().any(|&(_, r)| r == Refusal::UsernameTaken) {
            return Err(username_taken());
        }
        let missing: Vec<FieldError> = refused
            .iter()
            .filter_map(|&(_, refusal)| match refusal {
                Refusal::UsernameTaken => None,
                Refusal::UnknownDepartment => Some(unknown_department()),
                Refusal::UnknownEnterprise => Some(FieldError::body(
                    "/enterprise_id",
                    "unknown_enterprise",
                    UNKNOWN_ENTERPRISE,
                )),
            })
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::invalid(missing));
        }
        let inserted = users::insert(c, &row(id, &new, &hash, now));
        match inserted {
            // Checked above; a concurrent insert of the same name still lands here.
            Err(StoreError::Conflict(_)) => return Err(username_taken()),
            other => other?,
        }
        users::find(c, id)?.ok_or_else(|| ApiError::internal("inserted user not found"))
    })
}

/// The row of a new user.
fn row<'a>(id: UserId, new: &'a NewUser, hash: &'a str, now: DateTime<Utc>) -> users::NewUser<'a> {
    users::NewUser {
        id,
        username: &new.username,
        password_hash: hash,
        role: new.role,
        display_name: &new.display_name,
        email: &new.email,
        department_id: new.department_id,
        enterprise_id: new.enterprise_id,
        now,
    }
}

/// An import's checks of what only the database, or the rest of the file, can refuse:
/// each line whose username a user has already (`username_taken`) or an earlier line of
/// the file has (`duplicate`), whose department or enterprise does not exist
/// (`unknown_department`, `unknown_enterprise`); the same checks as [`create`], for every
/// line at once. Reads only: the passwords are hashed after this and before
/// [`create_many`].
pub fn check_many(
    conn: &mut DbConnection,
    rows: &[Line<NewUser>],
) -> Result<Vec<FieldError>, ApiError> {
    let new: Vec<&NewUser> = rows.iter().map(|row| &row.value).collect();
    let mut errors: Vec<FieldError> = refusals(conn, &new)?
        .into_iter()
        .map(|(i, refusal)| {
            let line = rows[i].line;
            match refusal {
                Refusal::UsernameTaken => FieldError::line(
                    line,
                    Some("username"),
                    "username_taken",
                    "a user with this username exists",
                ),
                Refusal::UnknownDepartment => FieldError::line(
                    line,
                    Some("department_id"),
                    "unknown_department",
                    "no department has this id",
                ),
                Refusal::UnknownEnterprise => FieldError::line(
                    line,
                    Some("enterprise_id"),
                    "unknown_enterprise",
                    UNKNOWN_ENTERPRISE,
                ),
            }
        })
        .collect();
    errors.extend(crate::import::duplicates(rows, "username", |u| {
        u.username.as_str()
    }));
    Ok(errors)
}

/// Creates every user of an import in one transaction, each with its hash (`hashes[i]`
/// is `rows[i]`'s, made beforehand: see [`create`]), after [`check_many`] again inside it
/// (another request may have taken a username since): any refusal is a 422 listing each
/// line, and nothing is written. The answer is in the file's order.
pub fn create_many(
    conn: &mut DbConnection,
    rows: Vec<Line<NewUser>>,
    hashes: Vec<String>,
    now: DateTime<Utc>,
) -> Result<Vec<UserRecord>, ApiError> {
    if hashes.len() != rows.len() {
        return Err(ApiError::internal(
            "an import's hashes do not match its rows",
        ));
    }
    write_tx(conn, |c| {
        let errors = check_many(c, &rows)?;
        if !errors.is_empty() {
            return Err(ApiError::invalid_lines(errors));
        }
        let ids: Vec<UserId> = rows
            .iter()
            .map(|_| UserId::from_uuid(uuid::Uuid::new_v4()))
            .collect();
        let new: Vec<users::NewUser<'_>> = rows
            .iter()
            .zip(&ids)
            .zip(&hashes)
            .map(|((r, &id), hash)| row(id, &r.value, hash, now))
            .collect();
        match users::insert_many(c, &new) {
            // Checked above; a concurrent create of the same name still lands here.
            Err(StoreError::Conflict(_)) => return Err(username_taken()),
            other => other?,
        }
        Ok(rows
            .iter()
            .zip(ids)
            .map(|(r, id)| UserRecord {
                id,
                username: r.value.username.clone(),
                role: r.value.role,
                display_name: r.value.display_name.clone(),
                email: r.value.email.clone(),
                department_id: r.value.department_id,
                enterprise_id: r.value.enterprise_id,
                active: true,
                created_at: now,
                updated_at: now,
            })
            .collect())
    })
}

pub use users::Cursor;

/// One page of the users, all or of one role, newest first; with `officials_only`, no
/// enterprise user (the directory that supervisors and officers read).
pub fn page(
    conn: &mut DbConnection,
    role: Option<Role>,
    officials_only: bool,
    limit: i64,
    after: Option<Cursor>,
) -> Result<(Vec<UserRecord>, Option<Cursor>), ApiError> {
    Ok(users::page(conn, role, officials_only, limit, after)?)
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
