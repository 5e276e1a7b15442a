//! 驻厂走访 (六必访): liaisons' on-site visits and the tickets they link (issue 8). The use
//! case (`api/src/usecase/visits.rs`) checks the links and puts a `visit` event on each
//! linked ticket in the transaction that calls [`insert`]; this module writes and reads
//! the rows, scoped like [`jiban_domain::visit::can_see_visit`].

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use jiban_domain::Actor;
use jiban_domain::ticket::Ticket;
use jiban_domain::values::{EnterpriseId, Role, TicketId, UserId, VisitId};
use jiban_domain::visit::{Visit, can_see_visit};

use crate::conn::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::schema::{tickets, visit_tickets, visits};
use crate::types::{DbInstant, DbUuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = visits)]
struct Row {
    id: DbUuid,
    enterprise_id: DbUuid,
    liaison_id: DbUuid,
    visited_at: DbInstant,
    purpose: String,
    summary: String,
    created_at: DbInstant,
}

impl Row {
    fn new(v: &Visit) -> Row {
        Row {
            id: DbUuid(v.id.as_uuid()),
            enterprise_id: DbUuid(v.enterprise_id.as_uuid()),
            liaison_id: DbUuid(v.liaison_id.as_uuid()),
            visited_at: v.visited_at.into(),
            purpose: v.purpose.clone(),
            summary: v.summary.clone(),
            created_at: v.created_at.into(),
        }
    }

    fn into_visit(self, ticket_ids: Vec<TicketId>) -> Visit {
        Visit {
            id: VisitId::from_uuid(self.id.0),
            enterprise_id: EnterpriseId::from_uuid(self.enterprise_id.0),
            liaison_id: UserId::from_uuid(self.liaison_id.0),
            visited_at: self.visited_at.get(),
            purpose: self.purpose,
            summary: self.summary,
            ticket_ids,
            created_at: self.created_at.get(),
        }
    }
}

fn ticket_id(id: DbUuid) -> Result<TicketId, StoreError> {
    TicketId::from_uuid(id.0).map_err(|e| StoreError::Other(format!("linked ticket id: {e}")))
}

/// Writes a visit and its links. Call inside the transaction that also appends the
/// linked tickets' `visit` events.
pub fn insert(conn: &mut DbConnection, visit: &Visit) -> Result<(), StoreError> {
    diesel::insert_into(visits::table)
        .values(Row::new(visit))
        .execute(conn)?;
    let links: Vec<_> = visit
        .ticket_ids
        .iter()
        .map(|t| {
            (
                visit_tickets::visit_id.eq(DbUuid(visit.id.as_uuid())),
                visit_tickets::ticket_id.eq(DbUuid(t.as_uuid())),
            )
        })
        .collect();
    if !links.is_empty() {
        // A multi-row insert does not pass through the MultiConnection enum.
        let insert = diesel::insert_into(visit_tickets::table).values(&links);
        match conn {
            DbConnection::Pg(c) => insert.execute(c)?,
            DbConnection::Sqlite(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

/// The linked ticket ids of each visit of a page, in one query; ticket ids are UUID v7, so
/// each visit's come in the order the tickets were filed.
fn links_of(
    conn: &mut DbConnection,
    ids: &[DbUuid],
) -> Result<Vec<(uuid::Uuid, TicketId)>, StoreError> {
    let rows: Vec<(DbUuid, DbUuid)> = visit_tickets::table
        .filter(visit_tickets::visit_id.eq_any(ids))
        .select((visit_tickets::visit_id, visit_tickets::ticket_id))
        .order((visit_tickets::visit_id, visit_tickets::ticket_id))
        .load(conn)?;
    rows.into_iter()
        .map(|(v, t)| Ok((v.0, ticket_id(t)?)))
        .collect()
}

fn with_links(conn: &mut DbConnection, rows: Vec<Row>) -> Result<Vec<Visit>, StoreError> {
    let ids: Vec<DbUuid> = rows.iter().map(|r| r.id).collect();
    let links = links_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = links
                .iter()
                .filter(|(v, _)| *v == r.id.0)
                .map(|(_, t)| *t)
                .collect();
            r.into_visit(mine)
        })
        .collect())
}

/// One visit, if the actor may see it (otherwise `NotFound`, so ids do not leak).
pub fn get(conn: &mut DbConnection, id: VisitId, actor: &Actor) -> Result<Visit, StoreError> {
    let row: Row = visits::table
        .find(DbUuid(id.as_uuid()))
        .select(Row::as_select())
        .first(conn)?;
    let visit = with_links(conn, vec![row])?
        .pop()
        .ok_or(StoreError::NotFound)?;
    // Only an officer's scope depends on the linked tickets.
    let linked = if actor.role() == Some(Role::Officer) {
        linked_tickets(conn, &visit)?
    } else {
        Vec::new()
    };
    if can_see_visit(actor, &visit, &linked) {
        Ok(visit)
    } else {
        Err(StoreError::NotFound)
    }
}

fn linked_tickets(conn: &mut DbConnection, visit: &Visit) -> Result<Vec<Ticket>, StoreError> {
    let ids: Vec<DbUuid> = visit
        .ticket_ids
        .iter()
        .map(|t| DbUuid(t.as_uuid()))
        .collect();
    let states: Vec<String> = tickets::table
        .filter(tickets::id.eq_any(&ids))
        .select(tickets::state)
        .load(conn)?;
    states
        .iter()
        .map(|s| crate::tickets::ticket_from_state(s))
        .collect()
}

/// What the list filters on (`GET /v1/visits`). Empty means "any".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VisitFilter {
    pub enterprise_id: Option<EnterpriseId>,
    pub liaison_id: Option<UserId>,
    /// `visited_at` at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// `visited_at` before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// Where a page starts: after the visit with this `(visited_at, id)`, newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub visited_at: DateTime<Utc>,
    pub id: uuid::Uuid,
}

type Boxed<'a> = visits::BoxedQuery<'a, MultiBackend>;

/// The visits an actor may see, in SQL: [`can_see_visit`]'s rule.
fn visible_to<'a>(query: Boxed<'a>, actor: &Actor) -> Boxed<'a> {
    let Actor::User(user) = actor else {
        return query;
    };
    match user.role {
        Role::Enterprise => match user.enterprise_id {
            Some(e) => query.filter(visits::enterprise_id.eq(DbUuid(e.as_uuid()))),
            None => query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0")),
        },
        Role::Liaison => {
            let stationed: Vec<DbUuid> = user
                .stationed_at
                .iter()
                .map(|e| DbUuid(e.as_uuid()))
                .collect();
            query.filter(visits::enterprise_id.eq_any(stationed))
        }
        Role::Officer => query.filter(linked_to_a_ticket_the_officer_sees(
            user.id,
            user.department_id.map(|d| DbUuid(d.as_uuid())),
        )),
        Role::Supervisor | Role::Admin => query,
    }
}

/// An officer's visits: those linked to a ticket in its scope, the officer's branch of
/// `jiban_domain::ticket::can_see` (and of `tickets::query`'s `visible_predicate`): the
/// intake queue, its department's, those assigned to it or first responded to by it. SQL
/// text because a subquery filtered by that boxed condition does not pass through the
/// `MultiConnection` enum; the end-to-end tests hold it to the rule.
fn linked_to_a_ticket_the_officer_sees(
    officer: UserId,
    department: Option<DbUuid>,
) -> diesel::expression::SqlLiteral<
    diesel::sql_types::Bool,
    impl diesel::query_builder::QueryFragment<MultiBackend>,
> {
    use crate::types::Uuid;
    use diesel::sql_types::Nullable;
    let me = DbUuid(officer.as_uuid());
    diesel::dsl::sql::<diesel::sql_types::Bool>(
        "EXISTS (SELECT 1 FROM visit_tickets vt JOIN tickets t ON t.id = vt.ticket_id \
         WHERE vt.visit_id = visits.id AND (t.department_id IS NULL OR t.department_id = ",
    )
    .bind::<Nullable<Uuid>, _>(department)
    .sql(" OR t.assignee_id = ")
    .bind::<Uuid, _>(me)
    .sql(" OR t.first_responder_id = ")
    .bind::<Uuid, _>(me)
    .sql("))")
}

/// One page of the visits the actor may see, newest `visited_at` first, and where the next
/// page starts when more may follow.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    filter: &VisitFilter,
    limit: i64,
    after: Option<Cursor>,
) -> Result<(Vec<Visit>, Option<Cursor>), StoreError> {
    let mut query = visible_to(visits::table.into_boxed(), actor);
    if let Some(e) = filter.enterprise_id {
        query = query.filter(visits::enterprise_id.eq(DbUuid(e.as_uuid())));
    }
    if let Some(l) = filter.liaison_id {
        query = query.filter(visits::liaison_id.eq(DbUuid(l.as_uuid())));
    }
    if let Some(from) = filter.from {
        query = query.filter(visits::visited_at.ge(DbInstant::from(from)));
    }
    if let Some(to) = filter.to {
        query = query.filter(visits::visited_at.lt(DbInstant::from(to)));
    }
    if let Some(c) = after {
        let at = DbInstant::from(c.visited_at);
        query = query.filter(crate::types::keyset_before!(
            visits::visited_at,
            visits::id,
            at,
            DbUuid(c.id)
        ));
    }
    let rows: Vec<Row> = query
        .select(Row::as_select())
        .order((visits::visited_at.desc(), visits::id.desc()))
        .limit(limit + 1)
        .load(conn)?;
    let mut page = with_links(conn, rows)?;
    let next = if page.len() as i64 > limit {
        page.truncate(limit as usize);
        page.last().map(|v| Cursor {
            visited_at: v.visited_at,
            id: v.id.as_uuid(),
        })
    } else {
        None
    };
    Ok((page, next))
}
