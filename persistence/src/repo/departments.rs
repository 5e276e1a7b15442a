//! Departments (职能部门): where officers work and tickets are dispatched.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use jiban_domain::values::DepartmentId;

use super::CHUNK;
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::departments;
use crate::types::{DbInstant, DbUuid};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentRecord {
    pub id: DepartmentId,
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = departments)]
struct Row {
    id: DbUuid,
    code: String,
    name: String,
    created_at: DbInstant,
}

impl From<Row> for DepartmentRecord {
    fn from(r: Row) -> Self {
        DepartmentRecord {
            id: DepartmentId::from_uuid(r.id.0),
            code: r.code,
            name: r.name,
            created_at: r.created_at.get(),
        }
    }
}

/// Inserts a department. A taken code is a [`StoreError::Conflict`].
pub fn insert(conn: &mut DbConnection, department: &DepartmentRecord) -> Result<(), StoreError> {
    diesel::insert_into(departments::table)
        .values(Row {
            id: DbUuid(department.id.as_uuid()),
            code: department.code.clone(),
            name: department.name.clone(),
            created_at: DbInstant::from(department.created_at),
        })
        .execute(conn)?;
    Ok(())
}

/// All departments, by code.
pub fn list(conn: &mut DbConnection) -> Result<Vec<DepartmentRecord>, StoreError> {
    Ok(departments::table
        .select(Row::as_select())
        .order(departments::code)
        .load(conn)?
        .into_iter()
        .map(DepartmentRecord::from)
        .collect())
}

pub fn exists(conn: &mut DbConnection, id: DepartmentId) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        departments::table.find(DbUuid(id.as_uuid())),
    ))
    .get_result(conn)?)
}

/// Which of `ids` name a department.
pub fn existing(
    conn: &mut DbConnection,
    ids: &[DepartmentId],
) -> Result<Vec<DepartmentId>, StoreError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let chunk: Vec<DbUuid> = chunk.iter().map(|id| DbUuid(id.as_uuid())).collect();
        found.extend(
            departments::table
                .filter(departments::id.eq_any(chunk))
                .select(departments::id)
                .load::<DbUuid>(conn)?
                .into_iter()
                .map(|id| DepartmentId::from_uuid(id.0)),
        );
    }
    Ok(found)
}

pub fn code_taken(conn: &mut DbConnection, code: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        departments::table.filter(departments::code.eq(code)),
    ))
    .get_result(conn)?)
}
