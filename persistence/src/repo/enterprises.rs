//! Enterprises (企业) and the liaisons stationed at them (驻厂联络员).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use jiban_domain::values::{EnterpriseId, UserId};

use super::{CHUNK, on_backend};
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::{enterprise_liaisons, enterprises, users};
use crate::types::{DbInstant, DbUuid};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseRecord {
    pub id: EnterpriseId,
    pub name: String,
    /// 统一社会信用代码, verified by the caller (`Uscc::parse`).
    pub uscc: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    /// 包联领导: a supervisor.
    pub paired_leader_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = enterprises, treat_none_as_default_value = false)]
struct Row {
    id: DbUuid,
    name: String,
    uscc: String,
    contact_name: String,
    contact_phone: String,
    contact_email: String,
    paired_leader_id: Option<DbUuid>,
    created_at: DbInstant,
    updated_at: DbInstant,
}

impl From<Row> for EnterpriseRecord {
    fn from(r: Row) -> Self {
        EnterpriseRecord {
            id: EnterpriseId::from_uuid(r.id.0),
            name: r.name,
            uscc: r.uscc,
            contact_name: r.contact_name,
            contact_phone: r.contact_phone,
            contact_email: r.contact_email,
            paired_leader_id: r.paired_leader_id.map(|u| UserId::from_uuid(u.0)),
            created_at: r.created_at.get(),
            updated_at: r.updated_at.get(),
        }
    }
}

impl From<&EnterpriseRecord> for Row {
    fn from(e: &EnterpriseRecord) -> Self {
        Row {
            id: DbUuid(e.id.as_uuid()),
            name: e.name.clone(),
            uscc: e.uscc.clone(),
            contact_name: e.contact_name.clone(),
            contact_phone: e.contact_phone.clone(),
            contact_email: e.contact_email.clone(),
            paired_leader_id: e.paired_leader_id.map(|u| DbUuid(u.as_uuid())),
            created_at: DbInstant::from(e.created_at),
            updated_at: DbInstant::from(e.updated_at),
        }
    }
}

/// Inserts an enterprise. A taken USCC is a [`StoreError::Conflict`].
pub fn insert(conn: &mut DbConnection, enterprise: &EnterpriseRecord) -> Result<(), StoreError> {
    diesel::insert_into(enterprises::table)
        .values(Row::from(enterprise))
        .execute(conn)?;
    Ok(())
}

/// Inserts many enterprises (an import), [`CHUNK`] rows a statement. A taken USCC is a
/// [`StoreError::Conflict`]; run it inside the caller's transaction, which then writes
/// none of them.
pub fn insert_many(conn: &mut DbConnection, all: &[EnterpriseRecord]) -> Result<(), StoreError> {
    for chunk in all.chunks(CHUNK) {
        let rows: Vec<Row> = chunk.iter().map(Row::from).collect();
        // A multi-row INSERT does not pass through the MultiConnection enum.
        on_backend!(conn, |c| diesel::insert_into(enterprises::table)
            .values(&rows)
            .execute(c)?);
    }
    Ok(())
}

pub fn find(
    conn: &mut DbConnection,
    id: EnterpriseId,
) -> Result<Option<EnterpriseRecord>, StoreError> {
    Ok(enterprises::table
        .find(DbUuid(id.as_uuid()))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(EnterpriseRecord::from))
}

/// Which enterprises a page draws from: a caller's scope, decided by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Those this liaison is stationed at.
    StationedAt(UserId),
    /// This one alone (an enterprise user's own).
    Only(EnterpriseId),
}

/// Where a page of enterprises starts: after the one with this `(created_at, id)`, newest
/// first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: uuid::Uuid,
}

/// One page of the enterprises in `scope`, newest first by `(created_at, id)` (stable
/// while enterprises are renamed or added), and where the next page starts when more may
/// follow.
pub fn page(
    conn: &mut DbConnection,
    scope: Scope,
    limit: i64,
    after: Option<Cursor>,
) -> Result<(Vec<EnterpriseRecord>, Option<Cursor>), StoreError> {
    let mut query = enterprises::table.select(Row::as_select()).into_boxed();
    match scope {
        Scope::All => {}
        Scope::StationedAt(liaison) => {
            let stationed = enterprise_liaisons::table
                .filter(enterprise_liaisons::liaison_id.eq(DbUuid(liaison.as_uuid())))
                .select(enterprise_liaisons::enterprise_id)
                .load::<DbUuid>(conn)?;
            query = query.filter(enterprises::id.eq_any(stationed));
        }
        Scope::Only(id) => query = query.filter(enterprises::id.eq(DbUuid(id.as_uuid()))),
    }
    if let Some(c) = after {
        let at = DbInstant::from(c.created_at);
        query = query.filter(crate::types::keyset_before!(
            enterprises::created_at,
            enterprises::id,
            at,
            DbUuid(c.id)
        ));
    }
    let mut page: Vec<EnterpriseRecord> = query
        .order((enterprises::created_at.desc(), enterprises::id.desc()))
        .limit(limit + 1)
        .load::<Row>(conn)?
        .into_iter()
        .map(EnterpriseRecord::from)
        .collect();
    let next = if page.len() as i64 > limit {
        page.truncate(limit as usize);
        page.last().map(|e| Cursor {
            created_at: e.created_at,
            id: e.id.as_uuid(),
        })
    } else {
        None
    };
    Ok((page, next))
}

/// Whether another enterprise than `except` has this USCC.
pub fn uscc_taken(
    conn: &mut DbConnection,
    uscc: &str,
    except: Option<EnterpriseId>,
) -> Result<bool, StoreError> {
    let same_code = enterprises::table.filter(enterprises::uscc.eq(uscc));
    let taken = match except {
        Some(id) => diesel::select(diesel::dsl::exists(
            same_code.filter(enterprises::id.ne(DbUuid(id.as_uuid()))),
        ))
        .get_result(conn)?,
        None => diesel::select(diesel::dsl::exists(same_code)).get_result(conn)?,
    };
    Ok(taken)
}

/// Which of `usccs` (upper-cased, as stored) an enterprise has already.
pub fn usccs_taken(conn: &mut DbConnection, usccs: &[&str]) -> Result<Vec<String>, StoreError> {
    let mut taken = Vec::new();
    for chunk in usccs.chunks(CHUNK) {
        taken.extend(
            enterprises::table
                .filter(enterprises::uscc.eq_any(chunk.to_vec()))
                .select(enterprises::uscc)
                .load::<String>(conn)?,
        );
    }
    Ok(taken)
}

/// Which of `ids` name an enterprise.
pub fn existing(
    conn: &mut DbConnection,
    ids: &[EnterpriseId],
) -> Result<Vec<EnterpriseId>, StoreError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let chunk: Vec<DbUuid> = chunk.iter().map(|id| DbUuid(id.as_uuid())).collect();
        found.extend(
            enterprises::table
                .filter(enterprises::id.eq_any(chunk))
                .select(enterprises::id)
                .load::<DbUuid>(conn)?
                .into_iter()
                .map(|id| EnterpriseId::from_uuid(id.0)),
        );
    }
    Ok(found)
}

/// What a PATCH may change; `None` leaves the column alone, and for the paired leader
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnterpriseChanges {
    pub name: Option<String>,
    pub uscc: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub paired_leader_id: Option<Option<UserId>>,
}

#[derive(AsChangeset)]
#[diesel(table_name = enterprises)]
struct ChangeRow {
    name: Option<String>,
    uscc: Option<String>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    contact_email: Option<String>,
    paired_leader_id: Option<Option<DbUuid>>,
    updated_at: DbInstant,
}

/// Applies `changes` and sets `updated_at`; returns whether the enterprise exists.
pub fn update(
    conn: &mut DbConnection,
    id: EnterpriseId,
    changes: EnterpriseChanges,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let row = ChangeRow {
        name: changes.name,
        uscc: changes.uscc,
        contact_name: changes.contact_name,
        contact_phone: changes.contact_phone,
        contact_email: changes.contact_email,
        paired_leader_id: changes
            .paired_leader_id
            .map(|leader| leader.map(|u| DbUuid(u.as_uuid()))),
        updated_at: DbInstant::from(now),
    };
    let updated = diesel::update(enterprises::table.find(DbUuid(id.as_uuid())))
        .set(row)
        .execute(conn)?;
    Ok(updated == 1)
}

/// A liaison as an enterprise's page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiaisonRecord {
    pub id: UserId,
    pub display_name: String,
    pub email: String,
}

/// The liaisons stationed at each of `ids`, by enterprise and display name.
pub fn liaisons(
    conn: &mut DbConnection,
    ids: &[EnterpriseId],
) -> Result<Vec<(EnterpriseId, LiaisonRecord)>, StoreError> {
    let ids: Vec<DbUuid> = ids.iter().map(|id| DbUuid(id.as_uuid())).collect();
    let rows: Vec<(DbUuid, DbUuid, String, String)> = enterprise_liaisons::table
        .inner_join(users::table)
        .filter(enterprise_liaisons::enterprise_id.eq_any(ids))
        .select((
            enterprise_liaisons::enterprise_id,
            users::id,
            users::display_name,
            users::email,
        ))
        .order((
            enterprise_liaisons::enterprise_id,
            users::display_name,
            users::id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(enterprise, id, display_name, email)| {
            (
                EnterpriseId::from_uuid(enterprise.0),
                LiaisonRecord {
                    id: UserId::from_uuid(id.0),
                    display_name,
                    email,
                },
            )
        })
        .collect())
}

/// The ids of the liaisons stationed at an enterprise.
pub fn liaison_ids(conn: &mut DbConnection, id: EnterpriseId) -> Result<Vec<UserId>, StoreError> {
    Ok(enterprise_liaisons::table
        .filter(enterprise_liaisons::enterprise_id.eq(DbUuid(id.as_uuid())))
        .select(enterprise_liaisons::liaison_id)
        .load::<DbUuid>(conn)?
        .into_iter()
        .map(|u| UserId::from_uuid(u.0))
        .collect())
}

/// Removes every liaison of an enterprise.
pub fn clear_liaisons(conn: &mut DbConnection, id: EnterpriseId) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        enterprise_liaisons::table
            .filter(enterprise_liaisons::enterprise_id.eq(DbUuid(id.as_uuid()))),
    )
    .execute(conn)?)
}

/// Stations liaisons at an enterprise (ids without duplicates).
pub fn add_liaisons(
    conn: &mut DbConnection,
    id: EnterpriseId,
    liaisons: &[UserId],
) -> Result<usize, StoreError> {
    let enterprise = DbUuid(id.as_uuid());
    let mut added = 0;
    // One row per statement: SQLite's multi-row insert does not pass through the
    // MultiConnection enum, and a station list is short.
    for liaison in liaisons {
        added += diesel::insert_into(enterprise_liaisons::table)
            .values((
                enterprise_liaisons::enterprise_id.eq(enterprise),
                enterprise_liaisons::liaison_id.eq(DbUuid(liaison.as_uuid())),
            ))
            .execute(conn)?;
    }
    Ok(added)
}

pub fn exists(conn: &mut DbConnection, id: EnterpriseId) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        enterprises::table.find(DbUuid(id.as_uuid())),
    ))
    .get_result(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use crate::repo::users::{self, NewUser};
    use crate::write_tx;
    use jiban_domain::values::Role;

    fn enterprise(n: usize, now: DateTime<Utc>) -> EnterpriseRecord {
        EnterpriseRecord {
            id: EnterpriseId::from_uuid(uuid::Uuid::new_v4()),
            name: format!("企业{n}"),
            // Not a valid code: the repository stores what the caller verified.
            uscc: format!("U{n:017}"),
            contact_name: "王".to_owned(),
            contact_phone: "110".to_owned(),
            contact_email: "wang@example.cn".to_owned(),
            paired_leader_id: None,
            created_at: now,
            updated_at: now,
        }
    }

    // An import's queries over more rows than one statement takes (CHUNK), on both
    // backends: multi-row inserts, and the `IN (…)` lookups that find them.
    both_backends!(many_are_written_and_found_chunk_by_chunk, |db| {
        let mut conn = db.conn();
        // At the storage's precision, so that what is read back is equal.
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
        let all: Vec<EnterpriseRecord> = (0..CHUNK * 2 + 7).map(|n| enterprise(n, now)).collect();
        insert_many(&mut conn, &all).unwrap();
        let usccs: Vec<&str> = all.iter().map(|e| e.uscc.as_str()).collect();
        let mut taken = usccs_taken(&mut conn, &usccs).unwrap();
        taken.sort();
        assert_eq!(taken, usccs);
        assert!(usccs_taken(&mut conn, &["nobody's"]).unwrap().is_empty());
        let mut ids: Vec<EnterpriseId> = all.iter().map(|e| e.id).collect();
        ids.push(EnterpriseId::from_uuid(uuid::Uuid::new_v4()));
        assert_eq!(existing(&mut conn, &ids).unwrap().len(), all.len());
        let found = find(&mut conn, all[CHUNK + 1].id).unwrap().unwrap();
        assert_eq!(found, all[CHUNK + 1]);

        // A taken code among many: the caller's transaction writes none of them.
        let again: Vec<EnterpriseRecord> = vec![enterprise(90_000, now), enterprise(5, now)];
        let refused = write_tx(&mut conn, |c| insert_many(c, &again));
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        assert!(
            usccs_taken(&mut conn, &[again[0].uscc.as_str()])
                .unwrap()
                .is_empty()
        );

        let names: Vec<String> = (0..CHUNK + 3).map(|n| format!("user{n}")).collect();
        let people: Vec<NewUser<'_>> = names
            .iter()
            .map(|name| NewUser {
                id: UserId::from_uuid(uuid::Uuid::new_v4()),
                username: name,
                password_hash: "x",
                role: Role::Enterprise,
                display_name: "王",
                email: "wang@example.cn",
                department_id: None,
                enterprise_id: Some(all[0].id),
                now,
            })
            .collect();
        users::insert_many(&mut conn, &people).unwrap();
        let wanted: Vec<&str> = names.iter().map(String::as_str).chain(["nobody"]).collect();
        assert_eq!(
            users::usernames_taken(&mut conn, &wanted).unwrap().len(),
            names.len()
        );
        let found = users::find(&mut conn, people[CHUNK].id).unwrap().unwrap();
        assert_eq!(found.enterprise_id, Some(all[0].id));
        assert!(found.active);
    });
}
