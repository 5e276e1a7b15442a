//! The reference data admins edit (DESIGN.md sections 3, 4 and 7): dispatch categories,
//! the working-day calendar, the SLA table. Everyone signed in may read them.

use chrono::{DateTime, Utc};
use jiban_domain::deadline::{Calendar, CalendarDay, CalendarError, SlaPolicy};
use jiban_domain::values::{CategoryCode, DepartmentId, Urgency};
use jiban_persistence::repo::departments;
use jiban_persistence::repo::reference::{self, CalendarYear, CategoryRecord, SlaRecord};
use jiban_persistence::{DbConnection, tickets, write_tx};

use crate::problem::{ApiError, FieldError};

pub fn categories(conn: &mut DbConnection) -> Result<Vec<CategoryRecord>, ApiError> {
    Ok(reference::categories(conn)?)
}

/// Creates or updates a category; returns it and whether it was created.
pub fn put_category(
    conn: &mut DbConnection,
    code: CategoryCode,
    name: String,
    department_id: Option<DepartmentId>,
) -> Result<(CategoryRecord, bool), ApiError> {
    let category = CategoryRecord {
        code,
        name,
        department_id,
    };
    let existed = write_tx(conn, |c| {
        if let Some(department) = category.department_id
            && !departments::exists(c, department)?
        {
            return Err(ApiError::invalid_field(
                "/department_id",
                "unknown_department",
                "no department has this id",
            ));
        }
        let existed = reference::category_exists(c, &category.code)?;
        reference::upsert_category(c, &category)?;
        Ok(existed)
    })?;
    Ok((category, !existed))
}

/// One year of the calendar, `None` when it is not loaded.
pub fn calendar_year(conn: &mut DbConnection, year: i32) -> Result<Option<CalendarYear>, ApiError> {
    Ok(reference::calendar_year(conn, year)?)
}

/// What a refused calendar says, at the pointer of the entry at fault.
fn calendar_problem(e: &CalendarError) -> ApiError {
    let field = match e.index() {
        Some(index) => FieldError::body(
            format!("/days/{index}/{}", e.field()),
            e.code(),
            e.to_string(),
        ),
        None => FieldError::parameter(e.field(), e.code(), e.to_string()),
    };
    ApiError::invalid(vec![field])
}

/// Replaces a year of the calendar (validated by `Calendar::set_year`) and, in the same
/// transaction, recomputes the provisional deadlines that counted through it (DESIGN.md
/// section 4: loading a year's calendar recomputes them; nothing else moves). Returns the
/// stored year and how many tickets moved.
pub fn put_calendar_year(
    conn: &mut DbConnection,
    year: i32,
    days: Vec<CalendarDay>,
    now: DateTime<Utc>,
) -> Result<(CalendarYear, usize), ApiError> {
    let mut check = Calendar::empty();
    check
        .set_year(year, days.clone())
        .map_err(|e| calendar_problem(&e))?;
    let sorted = check.year_days(year).unwrap_or_default().to_vec();
    write_tx(conn, |c| {
        reference::delete_year_days(c, year)?;
        reference::insert_days(c, &sorted)?;
        reference::mark_year_loaded(c, year, now)?;
        let rules = reference::load_rules(c)?;
        let moved = tickets::recompute_provisional(c, &rules, now)?;
        let stored = reference::calendar_year(c, year)?
            .ok_or_else(|| ApiError::internal("stored calendar year not found"))?;
        Ok((stored, moved))
    })
}

pub fn sla_policies(conn: &mut DbConnection) -> Result<Vec<SlaRecord>, ApiError> {
    Ok(reference::sla_policies(conn)?)
}

/// Replaces one class's policy. Deadlines already set keep their snapshot (DESIGN.md
/// section 4); the new limits apply to deadlines computed afterwards.
pub fn put_sla_policy(
    conn: &mut DbConnection,
    class: Urgency,
    policy: SlaPolicy,
    now: DateTime<Utc>,
) -> Result<SlaRecord, ApiError> {
    write_tx(conn, |c| -> Result<(), ApiError> {
        reference::put_sla_policy(c, class, &policy, now, true)?;
        Ok(())
    })?;
    Ok(SlaRecord {
        class,
        policy,
        updated_at: now,
    })
}
