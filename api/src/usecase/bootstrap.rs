//! What `jiban serve` does to the database once, at start, after the migrations: seed the
//! reference data and create the first admin. Both are idempotent and race-free, so any
//! number of nodes may start at once (DESIGN.md section 2).

use chrono::{DateTime, Utc};
use jiban_domain::deadline::{Calendar, SlaTable};
use jiban_domain::values::{Role, UserId};
use jiban_persistence::repo::{reference, users};
use jiban_persistence::{DbConnection, StoreError, write_tx};

use crate::auth::password;
use crate::config::Secret;
use crate::problem::ApiError;

/// The username of the first admin.
pub const ADMIN_USERNAME: &str = "admin";

/// What seeding wrote (nothing when another node or an earlier start did it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seeded {
    pub calendar_years: Vec<i32>,
    pub sla_classes: usize,
}

/// Loads the shipped calendar years (2025, 2026) that are not loaded yet and the default
/// SLA policy of each class that has none, in one transaction. A year or policy an admin
/// has set is never overwritten. Of several nodes seeding at once, the first writes and
/// the others, waiting on the primary keys, find the rows and write nothing.
pub fn seed_reference(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Seeded, StoreError> {
    write_tx(conn, |c| {
        let mut seeded = Seeded::default();
        for year in Calendar::shipped().years() {
            if reference::insert_year_if_absent(c, year, now)? {
                let days = Calendar::shipped_year(year).unwrap_or_default();
                reference::insert_days(c, &days)?;
                seeded.calendar_years.push(year);
            }
        }
        for (class, policy) in SlaTable::defaults().iter() {
            if reference::put_sla_policy(c, class, policy, now, false)? {
                seeded.sla_classes += 1;
            }
        }
        Ok(seeded)
    })
}

/// What happened to the first admin.
#[derive(Debug, PartialEq, Eq)]
pub enum Admin {
    /// Users exist already (or another node created the admin first).
    Existing,
    /// Created with the configured password.
    Created,
    /// Created with this generated password, to be printed once.
    CreatedWithPassword(String),
}

/// On first start (no users at all) creates `admin` with `configured` or a generated
/// password. `INSERT … ON CONFLICT (username) DO NOTHING`: of several nodes starting on an
/// empty database, exactly one creates it, and only that one prints a password.
pub fn ensure_admin(
    conn: &mut DbConnection,
    configured: Option<&Secret>,
    now: DateTime<Utc>,
) -> Result<Admin, ApiError> {
    if users::any(conn)? {
        return Ok(Admin::Existing);
    }
    let generated = match configured {
        Some(_) => None,
        None => {
            Some(password::generate().map_err(|e| ApiError::internal(format!("getrandom: {e}")))?)
        }
    };
    let plain = configured
        .map(Secret::expose)
        .or(generated.as_deref())
        .unwrap_or_default();
    let hash = password::hash(plain).map_err(|e| ApiError::internal(format!("argon2: {e}")))?;
    let created = write_tx(conn, |c| {
        users::insert_unless_username_taken(
            c,
            &users::NewUser {
                id: UserId::from_uuid(uuid::Uuid::new_v4()),
                username: ADMIN_USERNAME,
                password_hash: &hash,
                role: Role::Admin,
                display_name: "系统管理员",
                // `.invalid` (RFC 2606) never delivers; the admin sets a real address.
                email: "admin@jiban.invalid",
                department_id: None,
                enterprise_id: None,
                now,
            },
        )
    })?;
    Ok(match (created, generated) {
        (false, _) => Admin::Existing,
        (true, None) => Admin::Created,
        (true, Some(password)) => Admin::CreatedWithPassword(password),
    })
}
