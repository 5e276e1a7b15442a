//! The statistics (DESIGN.md section 6; issue 10): the domain's table
//! (`jiban_domain::stats::table`) over the totals SQL counts (`jiban_persistence::stats`),
//! with the names of departments and officers, cut to what the caller may see.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jiban_domain::stats::{
    Bucket, CoHandlingTally, Figures, Medians, Period, Row, Tally, Totals, Weights, table,
};
use jiban_domain::values::{DepartmentId, Role, UserId};
use jiban_domain::{Actor, User};
use jiban_persistence::repo::{departments, users};
use jiban_persistence::{DbConnection, stats};

use crate::problem::ApiError;

/// A row of a table with the name of its department or officer (`None` for the intake
/// queue or the unassigned tickets).
pub struct Named<K> {
    pub row: Row<K>,
    pub name: Option<String>,
    /// 协办 (issue 13): a department's co-handling over the period, beside its 三率
    /// (zero for officers, and for the intake queue).
    pub co_handling: CoHandlingTally,
}

/// The department an officer's statistics are cut to (DESIGN.md section 7: "an officer:
/// their own department"); `None` for supervisors and admins, who see every one. An
/// officer without a department has no statistics to see.
pub fn own_department(user: &User) -> Result<Option<DepartmentId>, ApiError> {
    match user.role {
        Role::Officer => user
            .department_id
            .map(Some)
            .ok_or_else(ApiError::not_permitted),
        _ => Ok(None),
    }
}

/// The department a figure is asked for, as the caller may see it: an officer their own
/// (asking for another is refused), supervisors and admins the one asked, or all (`None`).
fn scoped(actor: &Actor, asked: Option<DepartmentId>) -> Result<Option<DepartmentId>, ApiError> {
    Ok(match actor {
        Actor::User(user) => match (own_department(user)?, asked) {
            (Some(own), Some(asked)) if own != asked => return Err(ApiError::not_permitted()),
            (Some(own), _) => Some(own),
            (None, asked) => asked,
        },
        Actor::System => asked,
    })
}

/// Every department's row over `period`, ranked county-wide; an officer gets their own
/// department's row, with its county-wide rank.
pub fn departments(
    conn: &mut DbConnection,
    actor: &Actor,
    period: &Period,
    weights: &Weights,
    now: DateTime<Utc>,
) -> Result<Vec<Named<DepartmentId>>, ApiError> {
    let own = match actor {
        Actor::User(user) => own_department(user)?,
        Actor::System => None,
    };
    let mut groups = stats::departments(conn, period, now)?;
    // A department asked to co-handle but holding no ticket of the period has a row too,
    // with no 三率 and so no rank: co-handling is not part of the score (issue 13).
    let co_handling = stats::co_handling(conn, period)?;
    for department in co_handling.keys() {
        groups.entry(Some(*department)).or_default();
    }
    let rows = table(groups, weights);
    let names: HashMap<DepartmentId, String> = departments::list(conn)?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    Ok(rows
        .into_iter()
        .filter(|row| own.is_none() || row.key == own)
        .map(|row| Named {
            name: row.key.and_then(|k| names.get(&k).cloned()),
            co_handling: row
                .key
                .and_then(|k| co_handling.get(&k).copied())
                .unwrap_or_default(),
            row,
        })
        .collect())
}

/// The officers' rows over `period`, of the tickets `department` holds (every
/// department's when `None`), ranked among them. An officer sees their own department's,
/// and asking for another is refused.
pub fn officers(
    conn: &mut DbConnection,
    actor: &Actor,
    period: &Period,
    department: Option<DepartmentId>,
    weights: &Weights,
    now: DateTime<Utc>,
) -> Result<Vec<Named<UserId>>, ApiError> {
    let department = scoped(actor, department)?;
    let rows = table(stats::officers(conn, period, department, now)?, weights);
    let ids: Vec<UserId> = rows.iter().filter_map(|r| r.key).collect();
    let names: HashMap<UserId, String> = users::display_names(conn, &ids)?.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|row| Named {
            name: row.key.and_then(|k| names.get(&k).cloned()),
            co_handling: CoHandlingTally::default(),
            row,
        })
        .collect())
}

/// A trend: the department it is of (`None`: the county), and each bucket.
pub type TrendRows = (Option<DepartmentId>, Vec<(Period, Tally, Figures)>);

/// The trend of `department` (the county's when `None`; an officer's own department)
/// over `period` by `bucket`: the department it is of, and each bucket's tally and its
/// figures (DESIGN.md sections 6 and 7).
pub fn trend(
    conn: &mut DbConnection,
    actor: &Actor,
    period: &Period,
    bucket: Bucket,
    department: Option<DepartmentId>,
    weights: &Weights,
    now: DateTime<Utc>,
) -> Result<TrendRows, ApiError> {
    let department = scoped(actor, department)?;
    let rows = stats::trend(conn, period, bucket, department, now)?
        .into_iter()
        .map(|(bucket, tally)| {
            let totals = Totals {
                tally,
                medians: Medians::default(),
            };
            (bucket, tally, Figures::of(&totals, weights))
        })
        .collect();
    Ok((department, rows))
}
