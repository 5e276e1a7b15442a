//! Users: staff and enterprise members, their credentials, and the principal (who they
//! are to the rules) that the auth layer caches.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use jiban_domain::User;
use jiban_domain::values::{DepartmentId, EnterpriseId, Role, UserId};

use super::{CHUNK, on_backend, parse_stored};
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::{enterprise_liaisons, users};
use crate::types::{DbInstant, DbUuid};

/// A user as the API shows it: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub display_name: String,
    pub email: String,
    pub department_id: Option<DepartmentId>,
    pub enterprise_id: Option<EnterpriseId>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct Row {
    id: DbUuid,
    username: String,
    role: String,
    display_name: String,
    email: String,
    department_id: Option<DbUuid>,
    enterprise_id: Option<DbUuid>,
    active: bool,
    created_at: DbInstant,
    updated_at: DbInstant,
}

impl TryFrom<Row> for UserRecord {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(UserRecord {
            id: UserId::from_uuid(r.id.0),
            username: r.username,
            role: parse_stored("role", &r.role)?,
            display_name: r.display_name,
            email: r.email,
            department_id: r.department_id.map(|d| DepartmentId::from_uuid(d.0)),
            enterprise_id: r.enterprise_id.map(|e| EnterpriseId::from_uuid(e.0)),
            active: r.active,
            created_at: r.created_at.get(),
            updated_at: r.updated_at.get(),
        })
    }
}

/// A user to insert. The caller has checked the role's attachments (the table's CHECK
/// enforces only the enterprise one).
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub id: UserId,
    pub username: &'a str,
    /// An argon2id PHC string.
    pub password_hash: &'a str,
    pub role: Role,
    pub display_name: &'a str,
    pub email: &'a str,
    pub department_id: Option<DepartmentId>,
    pub enterprise_id: Option<EnterpriseId>,
    pub now: DateTime<Utc>,
}

/// NULLs bound, not rendered as DEFAULT, so the statement is prepared once.
#[derive(Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
struct NewRow<'a> {
    id: DbUuid,
    username: &'a str,
    password_hash: &'a str,
    role: &'a str,
    display_name: &'a str,
    email: &'a str,
    department_id: Option<DbUuid>,
    enterprise_id: Option<DbUuid>,
    active: bool,
    created_at: DbInstant,
    updated_at: DbInstant,
}

impl<'a> From<&NewUser<'a>> for NewRow<'a> {
    fn from(u: &NewUser<'a>) -> Self {
        let now = DbInstant::from(u.now);
        NewRow {
            id: DbUuid(u.id.as_uuid()),
            username: u.username,
            password_hash: u.password_hash,
            role: u.role.as_str(),
            display_name: u.display_name,
            email: u.email,
            department_id: u.department_id.map(|d| DbUuid(d.as_uuid())),
            enterprise_id: u.enterprise_id.map(|e| DbUuid(e.as_uuid())),
            active: true,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Inserts a user. A taken username is a [`StoreError::Conflict`].
pub fn insert(conn: &mut DbConnection, user: &NewUser<'_>) -> Result<(), StoreError> {
    diesel::insert_into(users::table)
        .values(NewRow::from(user))
        .execute(conn)?;
    Ok(())
}

/// Inserts many users (an import), [`CHUNK`] rows a statement. A taken username is a
/// [`StoreError::Conflict`]; run it inside the caller's transaction, which then writes
/// none of them.
pub fn insert_many(conn: &mut DbConnection, all: &[NewUser<'_>]) -> Result<(), StoreError> {
    for chunk in all.chunks(CHUNK) {
        let rows: Vec<NewRow<'_>> = chunk.iter().map(NewRow::from).collect();
        // A multi-row INSERT does not pass through the MultiConnection enum.
        on_backend!(conn, |c| diesel::insert_into(users::table)
            .values(&rows)
            .execute(c)?);
    }
    Ok(())
}

/// Inserts a user unless its username is taken; returns whether it did. Race-free across
/// nodes: of several inserting the same name at once, exactly one gets `true`.
pub fn insert_unless_username_taken(
    conn: &mut DbConnection,
    user: &NewUser<'_>,
) -> Result<bool, StoreError> {
    let insert = diesel::insert_into(users::table).values(NewRow::from(user));
    let inserted = on_backend!(conn, |c| insert
        .on_conflict(users::username)
        .do_nothing()
        .execute(c)?);
    Ok(inserted == 1)
}

/// Whether the table has any user at all (first start creates the admin).
pub fn any(conn: &mut DbConnection) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(users::table.select(users::id))).get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: UserId) -> Result<Option<UserRecord>, StoreError> {
    users::table
        .find(DbUuid(id.as_uuid()))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(UserRecord::try_from)
        .transpose()
}

/// The display names of `ids` (those that exist), for tables that name officers.
pub fn display_names(
    conn: &mut DbConnection,
    ids: &[UserId],
) -> Result<Vec<(UserId, String)>, StoreError> {
    let ids: Vec<DbUuid> = ids.iter().map(|id| DbUuid(id.as_uuid())).collect();
    let rows: Vec<(DbUuid, String)> = users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| (UserId::from_uuid(id.0), name))
        .collect())
}

pub fn username_taken(conn: &mut DbConnection, username: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        users::table.filter(users::username.eq(username)),
    ))
    .get_result(conn)?)
}

/// Which of `usernames` (folded to lower case, as stored) a user has already.
pub fn usernames_taken(
    conn: &mut DbConnection,
    usernames: &[&str],
) -> Result<Vec<String>, StoreError> {
    let mut taken = Vec::new();
    for chunk in usernames.chunks(CHUNK) {
        taken.extend(
            users::table
                .filter(users::username.eq_any(chunk.to_vec()))
                .select(users::username)
                .load::<String>(conn)?,
        );
    }
    Ok(taken)
}

/// Where a page of users starts: after the user with this `(created_at, id)`, newest
/// first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: uuid::Uuid,
}

/// One page of the users, all or those of one role, newest first by `(created_at, id)`
/// (a stable order a new user cannot reshuffle), and where the next page starts when more
/// may follow.
pub fn page(
    conn: &mut DbConnection,
    role: Option<Role>,
    officials_only: bool,
    limit: i64,
    after: Option<Cursor>,
) -> Result<(Vec<UserRecord>, Option<Cursor>), StoreError> {
    let mut query = users::table.select(Row::as_select()).into_boxed();
    if let Some(role) = role {
        query = query.filter(users::role.eq(role.as_str()));
    }
    if officials_only {
        query = query.filter(users::role.ne(Role::Enterprise.as_str()));
    }
    if let Some(c) = after {
        let at = DbInstant::from(c.created_at);
        query = query.filter(crate::types::keyset_before!(
            users::created_at,
            users::id,
            at,
            DbUuid(c.id)
        ));
    }
    let mut page = query
        .order((users::created_at.desc(), users::id.desc()))
        .limit(limit + 1)
        .load(conn)?
        .into_iter()
        .map(UserRecord::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let next = if page.len() as i64 > limit {
        page.truncate(limit as usize);
        page.last().map(|u| Cursor {
            created_at: u.created_at,
            id: u.id.as_uuid(),
        })
    } else {
        None
    };
    Ok((page, next))
}

/// Role and active flag of the given users that exist (to check references such as a
/// paired leader or a liaison list).
pub fn roles(
    conn: &mut DbConnection,
    ids: &[UserId],
) -> Result<Vec<(UserId, Role, bool)>, StoreError> {
    let mut rows: Vec<(DbUuid, String, bool)> = Vec::new();
    // An import checks the paired leaders of thousands of enterprises at once.
    for chunk in ids.chunks(CHUNK) {
        let chunk: Vec<DbUuid> = chunk.iter().map(|id| DbUuid(id.as_uuid())).collect();
        rows.extend(
            users::table
                .filter(users::id.eq_any(chunk))
                .select((users::id, users::role, users::active))
                .load::<(DbUuid, String, bool)>(conn)?,
        );
    }
    rows.into_iter()
        .map(|(id, role, active)| {
            Ok((
                UserId::from_uuid(id.0),
                parse_stored("role", &role)?,
                active,
            ))
        })
        .collect()
}

/// What a PATCH may change; `None` leaves the column alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub department_id: Option<DepartmentId>,
    pub active: Option<bool>,
    /// A new argon2id PHC string (an admin's reset).
    pub password_hash: Option<String>,
}

#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct ChangeRow {
    display_name: Option<String>,
    email: Option<String>,
    department_id: Option<DbUuid>,
    active: Option<bool>,
    password_hash: Option<String>,
    updated_at: DbInstant,
}

/// Applies `changes` and sets `updated_at`; returns whether the user exists.
pub fn update(
    conn: &mut DbConnection,
    id: UserId,
    changes: UserChanges,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let row = ChangeRow {
        display_name: changes.display_name,
        email: changes.email,
        department_id: changes.department_id.map(|d| DbUuid(d.as_uuid())),
        active: changes.active,
        password_hash: changes.password_hash,
        updated_at: DbInstant::from(now),
    };
    let updated = diesel::update(users::table.find(DbUuid(id.as_uuid())))
        .set(row)
        .execute(conn)?;
    Ok(updated == 1)
}

/// What a login checks.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub id: UserId,
    pub password_hash: String,
    pub active: bool,
}

/// The stored password hash of a user, if it exists.
pub fn password_hash(conn: &mut DbConnection, id: UserId) -> Result<Option<String>, StoreError> {
    Ok(users::table
        .find(DbUuid(id.as_uuid()))
        .select(users::password_hash)
        .first(conn)
        .optional()?)
}

pub fn credentials(
    conn: &mut DbConnection,
    username: &str,
) -> Result<Option<Credentials>, StoreError> {
    let row: Option<(DbUuid, String, bool)> = users::table
        .filter(users::username.eq(username))
        .select((users::id, users::password_hash, users::active))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, password_hash, active)| Credentials {
        id: UserId::from_uuid(id.0),
        password_hash,
        active,
    }))
}

/// A user as the rules see it, and whether it may act at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
    pub active: bool,
}

/// The principal of a user: its row and, for a liaison, the enterprises it is stationed
/// at. `None` if the user does not exist.
pub fn principal(conn: &mut DbConnection, id: UserId) -> Result<Option<Principal>, StoreError> {
    let key = DbUuid(id.as_uuid());
    let row: Option<(String, Option<DbUuid>, Option<DbUuid>, bool)> = users::table
        .find(key)
        .select((
            users::role,
            users::department_id,
            users::enterprise_id,
            users::active,
        ))
        .first(conn)
        .optional()?;
    let Some((role, department_id, enterprise_id, active)) = row else {
        return Ok(None);
    };
    let role: Role = parse_stored("role", &role)?;
    // Only liaisons are stationed; skip the query for everyone else.
    let stationed_at = if role == Role::Liaison {
        enterprise_liaisons::table
            .filter(enterprise_liaisons::liaison_id.eq(key))
            .select(enterprise_liaisons::enterprise_id)
            .order(enterprise_liaisons::enterprise_id)
            .load::<DbUuid>(conn)?
            .into_iter()
            .map(|e| EnterpriseId::from_uuid(e.0))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Some(Principal {
        user: User {
            id,
            role,
            department_id: department_id.map(|d| DepartmentId::from_uuid(d.0)),
            enterprise_id: enterprise_id.map(|e| EnterpriseId::from_uuid(e.0)),
            stationed_at,
        },
        active,
    }))
}
