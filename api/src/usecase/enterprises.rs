//! Enterprises and their liaisons (DESIGN.md sections 1 and 7): admin creates and edits;
//! each role sees what it may: an enterprise user its own enterprise, a liaison those it
//! is stationed at, officers, supervisors and admins all. Outside its scope a caller gets
//! 404, never 403, so ids do not leak.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use jiban_domain::User;
use jiban_domain::values::{EnterpriseId, Role, UserId};
use jiban_persistence::repo::enterprises::{
    self, EnterpriseChanges, EnterpriseRecord, LiaisonRecord, Scope,
};
use jiban_persistence::repo::users;
use jiban_persistence::{DbConnection, StoreError, write_tx};

use crate::import::Line;
use crate::problem::{ApiError, FieldError};

/// An enterprise with the liaisons stationed at it.
#[derive(Debug, Clone)]
pub struct EnterpriseView {
    pub enterprise: EnterpriseRecord,
    pub liaisons: Vec<LiaisonRecord>,
}

/// An enterprise to create, parsed (`uscc` verified by `Uscc::parse`).
#[derive(Debug)]
pub struct NewEnterprise {
    pub name: String,
    pub uscc: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub paired_leader_id: Option<UserId>,
}

fn uscc_taken() -> ApiError {
    ApiError::conflict(
        "uscc_taken",
        "an enterprise with this unified social credit code exists",
    )
}

const NOT_A_SUPERVISOR: &str = "the paired leader must be an active supervisor";

/// Which of `leaders` are active supervisors (包联领导 are county leaders, DESIGN.md
/// section 1).
fn supervisors(conn: &mut DbConnection, leaders: &[UserId]) -> Result<HashSet<UserId>, ApiError> {
    Ok(users::roles(conn, leaders)?
        .into_iter()
        .filter(|&(_, role, active)| role == Role::Supervisor && active)
        .map(|(id, _, _)| id)
        .collect())
}

/// 422 unless `leader` is an active supervisor.
fn check_leader(conn: &mut DbConnection, leader: UserId) -> Result<(), ApiError> {
    if supervisors(conn, &[leader])?.contains(&leader) {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            "/paired_leader_id",
            "not_a_supervisor",
            NOT_A_SUPERVISOR,
        ))
    }
}

/// What only the database can refuse in a new enterprise, once its fields have parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Another enterprise has its USCC (the column is unique).
    UsccTaken,
    /// Its paired leader is not an active supervisor.
    NotASupervisor,
}

/// The refusals of each of `new` (by index), for one enterprise or a whole import: the
/// single create and the import apply these same checks, in a few queries however many
/// enterprises there are.
fn refusals(
    conn: &mut DbConnection,
    new: &[&NewEnterprise],
) -> Result<Vec<(usize, Refusal)>, ApiError> {
    let usccs: Vec<&str> = new.iter().map(|e| e.uscc.as_str()).collect();
    let taken: HashSet<String> = enterprises::usccs_taken(conn, &usccs)?
        .into_iter()
        .collect();
    let mut leaders: Vec<UserId> = new.iter().filter_map(|e| e.paired_leader_id).collect();
    leaders.sort();
    leaders.dedup();
    let supervisors = supervisors(conn, &leaders)?;
    let mut refused = Vec::new();
    for (i, e) in new.iter().enumerate() {
        if taken.contains(&e.uscc) {
            refused.push((i, Refusal::UsccTaken));
        }
        if e.paired_leader_id
            .is_some_and(|l| !supervisors.contains(&l))
        {
            refused.push((i, Refusal::NotASupervisor));
        }
    }
    Ok(refused)
}

fn view(conn: &mut DbConnection, enterprise: EnterpriseRecord) -> Result<EnterpriseView, ApiError> {
    let liaisons = enterprises::liaisons(conn, &[enterprise.id])?
        .into_iter()
        .map(|(_, liaison)| liaison)
        .collect();
    Ok(EnterpriseView {
        enterprise,
        liaisons,
    })
}

/// Creates one enterprise: a taken USCC is 409, a paired leader who is not an active
/// supervisor 422.
pub fn create(
    conn: &mut DbConnection,
    new: NewEnterprise,
    now: DateTime<Utc>,
) -> Result<EnterpriseView, ApiError> {
    write_tx(conn, |c| {
        let refused = refusals(c, &[&new])?;
        if refused.iter().any(|&(_, r)| r == Refusal::UsccTaken) {
            return Err(uscc_taken());
        }
        if !refused.is_empty() {
            return Err(ApiError::invalid_field(
                "/paired_leader_id",
                "not_a_supervisor",
                NOT_A_SUPERVISOR,
            ));
        }
        let enterprise = record(new, now);
        match enterprises::insert(c, &enterprise) {
            Err(StoreError::Conflict(_)) => return Err(uscc_taken()),
            other => other?,
        }
        Ok(EnterpriseView {
            enterprise,
            liaisons: Vec::new(),
        })
    })
}

/// The row of a new enterprise, with a fresh id.
fn record(new: NewEnterprise, now: DateTime<Utc>) -> EnterpriseRecord {
    EnterpriseRecord {
        id: EnterpriseId::from_uuid(uuid::Uuid::new_v4()),
        name: new.name,
        uscc: new.uscc,
        contact_name: new.contact_name,
        contact_phone: new.contact_phone,
        contact_email: new.contact_email,
        paired_leader_id: new.paired_leader_id,
        created_at: now,
        updated_at: now,
    }
}

/// An import's checks of what only the database, or the rest of the file, can refuse:
/// each line whose USCC an enterprise has already (`uscc_taken`) or an earlier line of
/// the file has (`duplicate`), and each whose paired leader is not an active supervisor
/// (`not_a_supervisor`); the same checks as [`create`], for every line at once. Reads
/// only.
fn check_many(
    conn: &mut DbConnection,
    rows: &[Line<NewEnterprise>],
) -> Result<Vec<FieldError>, ApiError> {
    let new: Vec<&NewEnterprise> = rows.iter().map(|row| &row.value).collect();
    let mut errors: Vec<FieldError> = refusals(conn, &new)?
        .into_iter()
        .map(|(i, refusal)| {
            let line = rows[i].line;
            match refusal {
                Refusal::UsccTaken => FieldError::line(
                    line,
                    Some("uscc"),
                    "uscc_taken",
                    "an enterprise with this unified social credit code exists",
                ),
                Refusal::NotASupervisor => FieldError::line(
                    line,
                    Some("paired_leader_id"),
                    "not_a_supervisor",
                    NOT_A_SUPERVISOR,
                ),
            }
        })
        .collect();
    errors.extend(crate::import::duplicates(rows, "uscc", |e| e.uscc.as_str()));
    Ok(errors)
}

/// Imports enterprises (`crate::import`): in one transaction, [`check_many`] over the
/// lines that parsed, then, if neither it nor `errors` (the lines that did not parse)
/// found anything, every enterprise written; otherwise a 422 listing every bad line, and
/// nothing is written. The answer is in the file's order.
pub fn import(
    conn: &mut DbConnection,
    rows: Vec<Line<NewEnterprise>>,
    mut errors: Vec<FieldError>,
    now: DateTime<Utc>,
) -> Result<Vec<EnterpriseView>, ApiError> {
    write_tx(conn, |c| {
        errors.extend(check_many(c, &rows)?);
        if !errors.is_empty() {
            return Err(ApiError::invalid_lines(errors));
        }
        let records: Vec<EnterpriseRecord> =
            rows.into_iter().map(|row| record(row.value, now)).collect();
        match enterprises::insert_many(c, &records) {
            // Checked above; a concurrent create of the same code still lands here.
            Err(StoreError::Conflict(_)) => return Err(uscc_taken()),
            other => other?,
        }
        Ok(records
            .into_iter()
            .map(|enterprise| EnterpriseView {
                enterprise,
                liaisons: Vec::new(),
            })
            .collect())
    })
}

pub use enterprises::Cursor;

/// One page of the enterprises `viewer` may see, with their liaisons, newest first; and
/// where the next page starts.
pub fn page(
    conn: &mut DbConnection,
    viewer: &User,
    limit: i64,
    after: Option<Cursor>,
) -> Result<(Vec<EnterpriseView>, Option<Cursor>), ApiError> {
    let scope = match viewer.role {
        Role::Enterprise => match viewer.enterprise_id {
            Some(own) => Scope::Only(own),
            None => return Ok((Vec::new(), None)),
        },
        Role::Liaison => Scope::StationedAt(viewer.id),
        Role::Officer | Role::Supervisor | Role::Admin => Scope::All,
    };
    let (records, next) = enterprises::page(conn, scope, limit, after)?;
    let ids: Vec<EnterpriseId> = records.iter().map(|e| e.id).collect();
    let mut liaisons: HashMap<EnterpriseId, Vec<LiaisonRecord>> = HashMap::new();
    for (enterprise, liaison) in enterprises::liaisons(conn, &ids)? {
        liaisons.entry(enterprise).or_default().push(liaison);
    }
    let views = records
        .into_iter()
        .map(|enterprise| EnterpriseView {
            liaisons: liaisons.remove(&enterprise.id).unwrap_or_default(),
            enterprise,
        })
        .collect();
    Ok((views, next))
}

/// One enterprise, if `viewer` may see it (else 404).
pub fn get(
    conn: &mut DbConnection,
    viewer: &User,
    id: EnterpriseId,
) -> Result<EnterpriseView, ApiError> {
    let enterprise = enterprises::find(conn, id)?.ok_or_else(ApiError::not_found)?;
    let found = view(conn, enterprise)?;
    let visible = match viewer.role {
        Role::Enterprise => viewer.enterprise_id == Some(id),
        Role::Liaison => found.liaisons.iter().any(|l| l.id == viewer.id),
        Role::Officer | Role::Supervisor | Role::Admin => true,
    };
    if visible {
        Ok(found)
    } else {
        Err(ApiError::not_found())
    }
}

/// Edits an enterprise. A new `uscc` must be free; a new paired leader must be an active
/// supervisor.
pub fn update(
    conn: &mut DbConnection,
    id: EnterpriseId,
    changes: EnterpriseChanges,
    now: DateTime<Utc>,
) -> Result<EnterpriseView, ApiError> {
    write_tx(conn, |c| {
        if !enterprises::exists(c, id)? {
            return Err(ApiError::not_found());
        }
        if let Some(uscc) = &changes.uscc
            && enterprises::uscc_taken(c, uscc, Some(id))?
        {
            return Err(uscc_taken());
        }
        if let Some(Some(leader)) = changes.paired_leader_id {
            check_leader(c, leader)?;
        }
        match enterprises::update(c, id, changes, now) {
            Err(StoreError::Conflict(_)) => return Err(uscc_taken()),
            other => other?,
        };
        let enterprise = enterprises::find(c, id)?
            .ok_or_else(|| ApiError::internal("updated enterprise not found"))?;
        view(c, enterprise)
    })
}

/// Replaces the liaisons stationed at an enterprise; each must be an active liaison.
/// Returns the enterprise and every user whose stations changed (their cached principals
/// are stale).
pub fn set_liaisons(
    conn: &mut DbConnection,
    id: EnterpriseId,
    liaison_ids: Vec<UserId>,
) -> Result<(EnterpriseView, Vec<UserId>), ApiError> {
    write_tx(conn, |c| {
        let enterprise = enterprises::find(c, id)?.ok_or_else(ApiError::not_found)?;
        let found = users::roles(c, &liaison_ids)?;
        let refused: Vec<FieldError> = liaison_ids
            .iter()
            .enumerate()
            .filter(|(_, wanted)| {
                !found
                    .iter()
                    .any(|&(u, role, active)| u == **wanted && role == Role::Liaison && active)
            })
            .map(|(index, _)| {
                FieldError::body(
                    format!("/liaison_ids/{index}"),
                    "not_a_liaison",
                    "not the id of an active liaison",
                )
            })
            .collect();
        if !refused.is_empty() {
            return Err(ApiError::invalid(refused));
        }
        let mut unique = liaison_ids.clone();
        unique.sort();
        unique.dedup();
        let before = enterprises::liaison_ids(c, id)?;
        enterprises::clear_liaisons(c, id)?;
        enterprises::add_liaisons(c, id, &unique)?;
        let mut changed: Vec<UserId> = before
            .iter()
            .filter(|u| !unique.contains(u))
            .chain(unique.iter().filter(|u| !before.contains(u)))
            .copied()
            .collect();
        changed.sort();
        Ok((view(c, enterprise)?, changed))
    })
}
