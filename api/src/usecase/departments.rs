//! Departments (DESIGN.md section 7: admin creates; staff list them).

use chrono::{DateTime, Utc};
use jiban_domain::values::DepartmentId;
use jiban_persistence::repo::departments::{self, DepartmentRecord};
use jiban_persistence::{DbConnection, StoreError, write_tx};

use crate::problem::ApiError;

fn code_taken() -> ApiError {
    ApiError::conflict(
        "department_code_taken",
        "a department with this code exists",
    )
}

pub fn create(
    conn: &mut DbConnection,
    code: String,
    name: String,
    now: DateTime<Utc>,
) -> Result<DepartmentRecord, ApiError> {
    let department = DepartmentRecord {
        id: DepartmentId::from_uuid(uuid::Uuid::new_v4()),
        code,
        name,
        created_at: now,
    };
    write_tx(conn, |c| {
        if departments::code_taken(c, &department.code)? {
            return Err(code_taken());
        }
        match departments::insert(c, &department) {
            Err(StoreError::Conflict(_)) => Err(code_taken()),
            other => Ok(other?),
        }
    })?;
    Ok(department)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<DepartmentRecord>, ApiError> {
    Ok(departments::list(conn)?)
}
