//! Reading many tickets: the scoped, filtered, keyset-paginated list; the scanner's due
//! tickets; the provisional ones a calendar load recomputes.

use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use jiban_domain::ticket::{self, Rules, Status, Ticket};
use jiban_domain::values::{DepartmentId, EnterpriseId, Kind, Role, TicketId, Urgency, UserId};
use jiban_domain::{Actor, User};

use super::rows::ticket_from_state;
use super::store::{TicketError, load_for_update, save};
use crate::conn::{Backend, DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::schema::{ticket_co_handlers, tickets};
use crate::types::{DbInstant, DbUuid, Replanned};

/// The list filters of DESIGN.md section 7. Empty means "any".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TicketFilter {
    pub status: Vec<Status>,
    pub urgency: Option<Urgency>,
    pub kind: Option<Kind>,
    pub enterprise_id: Option<EnterpriseId>,
    pub department_id: Option<DepartmentId>,
    pub assignee_id: Option<UserId>,
    /// Some deadline passed unmet (`true`), or none (`false`), at `now`.
    pub overdue: Option<bool>,
    pub supervised: Option<bool>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Exactly this ticket number (issue 8: find a ticket by its number).
    pub number: Option<jiban_domain::values::TicketNumber>,
    /// The title or the description contains this text (issue 9; `super::search`).
    pub q: Option<jiban_domain::search::SearchQuery>,
    /// 协办 (issue 13): `true`, the tickets the actor's department was asked to co-handle
    /// (any department's, for an actor without one); `false`, the others.
    pub co_handling: Option<bool>,
    /// The list's order (`sort`).
    pub order: Order,
}

/// The orders of the ticket list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// Newest first, by `(created_at, id)`.
    #[default]
    Newest,
    /// Earliest open deadline first (`sort=due`, issue 12: the dashboard's overdue list and
    /// an officer's queue), by `(overdue_at, id)`: `overdue_at` is the earliest open deadline
    /// whose clock runs (`Ticket::overdue_since`), so only the tickets that have one are
    /// listed; a ticket awaiting information (its clock paused) or finished is not. The
    /// index `tickets_due_idx` is walked in this order, so a page costs what the first
    /// does however many tickets are open.
    Due,
}

/// Where a page starts: after the ticket with this `(created_at, id)`, in the list's
/// order. For [`Order::Due`] `created_at` is the ticket's open deadline (`overdue_at`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: uuid::Uuid,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub items: Vec<Ticket>,
    /// Present when more tickets may follow.
    pub next: Option<Cursor>,
}

pub const MAX_LIMIT: i64 = 100;

type Boxed<'a> = tickets::BoxedQuery<'a, MultiBackend>;

/// The tickets an actor may see, in SQL: the same rule as `jiban_domain::ticket::can_see`
/// (DESIGN.md section 1). A test checks the two agree.
fn visible_to<'a>(query: Boxed<'a>, actor: &Actor) -> Boxed<'a> {
    match visible_predicate(actor) {
        Some(predicate) => query.filter(predicate),
        None => query,
    }
}

#[diesel::declare_sql_function]
extern "SQL" {
    /// SQL's `coalesce` of a nullable id and an id, the same on both backends.
    fn coalesce(
        value: diesel::sql_types::Nullable<crate::types::Uuid>,
        otherwise: crate::types::Uuid,
    ) -> crate::types::Uuid;
}

/// A condition on the tickets an actor may see.
pub type Visible<QS> =
    Box<dyn BoxableExpression<QS, MultiBackend, SqlType = diesel::sql_types::Bool>>;

/// [`visible_to`]'s condition over the query source `$qs` (the tickets, or a join from
/// another table such as the alert ledger's), as a function `$name`; `None` when the
/// actor sees every ticket. A condition rather than a subquery because a boxed subquery
/// does not pass through the `MultiConnection` enum; a macro because diesel proves a
/// nullable column's comparison usable only on a concrete source.
macro_rules! visible_predicate {
    ($(#[$doc:meta])* $name:ident, $qs:ty) => {
        $(#[$doc])*
        pub fn $name(actor: &Actor) -> Option<Visible<$qs>> {
            let Actor::User(user) = actor else {
                return None;
            };
            let me = DbUuid(user.id.as_uuid());
            match user.role {
                Role::Enterprise => Some(match user.enterprise_id {
                    Some(e) => Box::new(tickets::enterprise_id.eq(DbUuid(e.as_uuid()))),
                    None => Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0")),
                }),
                // A comparison with a nullable column is typed nullable; in a WHERE
                // clause NULL is false, so it is taken as a plain condition.
                Role::Liaison => Some(Box::new(
                    tickets::enterprise_id
                        .eq_any(stationed(user))
                        .or(tickets::assignee_id.eq(me).assume_not_null()),
                )),
                // The intake queue (no department) and the own department, written as
                // `coalesce(department_id, own) = own`: no index serves it, so
                // PostgreSQL checks it on the rows a filter's index finds instead of
                // building a bitmap of the whole scope (a tenth of the history) to AND
                // with them (issue 9). The unfiltered list walks (created_at, id) and
                // meets its page within a few hundred rows either way.
                //
                // And the tickets its department co-handles (主办/协办, issue 13), open or
                // ended: a subquery on `ticket_co_handlers`' department index.
                Role::Officer => {
                    let handled: Visible<$qs> = match user.department_id {
                        Some(d) => {
                            let own = DbUuid(d.as_uuid());
                            Box::new(
                                coalesce(tickets::department_id, own).eq(own).or(
                                    tickets::id.eq_any(
                                        ticket_co_handlers::table
                                            .filter(ticket_co_handlers::department_id.eq(own))
                                            .select(ticket_co_handlers::ticket_id),
                                    ),
                                ),
                            )
                        }
                        None => Box::new(tickets::department_id.is_null()),
                    };
                    Some(Box::new(
                        handled
                            .or(tickets::assignee_id.eq(me).assume_not_null())
                            .or(tickets::first_responder_id.eq(me).assume_not_null()),
                    ))
                }
                Role::Supervisor | Role::Admin => None,
            }
        }
    };
}

visible_predicate!(visible_predicate, tickets::table);
visible_predicate!(
    /// The alerts on tickets the actor may see (`alerts` joined with `tickets`).
    visible_alerts,
    diesel::dsl::InnerJoinQuerySource<crate::schema::alerts::table, tickets::table>
);

fn stationed(user: &User) -> Vec<DbUuid> {
    user.stationed_at
        .iter()
        .map(|e| DbUuid(e.as_uuid()))
        .collect()
}

/// Overdue at `now` (DESIGN.md section 7, `overdue`): the stored `overdue_at` is the
/// domain's `Ticket::overdue_since`, so the filter, the ticket's `overdue` field and the
/// scanner agree, pauses included.
fn overdue_at(
    now: DbInstant,
) -> Box<dyn BoxableExpression<tickets::table, MultiBackend, SqlType = diesel::sql_types::Bool>> {
    Box::new(tickets::overdue_at.le(now).assume_not_null())
}

/// One page of the tickets the actor may see, newest first.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    filter: &TicketFilter,
    limit: i64,
    after: Option<Cursor>,
    now: DateTime<Utc>,
) -> Result<Page, StoreError> {
    let limit = limit.clamp(1, MAX_LIMIT);
    let mut rows = match &filter.q {
        // The newest-first walk of a common text does not apply to the deadline order,
        // which reads the open tickets only (few next to the history).
        Some(q)
            if conn.backend() == Backend::Postgres
                && q.needs_recheck()
                && filter.order == Order::Newest =>
        {
            search_recent_first(conn, actor, filter, q, limit, after, now)?
        }
        Some(q) => {
            let query = filtered(actor, filter, after, now).filter(super::search::matching(
                conn.backend(),
                q,
                false,
            ));
            page(conn, query, filter, limit + 1)?
        }
        None => page(conn, filtered(actor, filter, after, now), filter, limit + 1)?,
    };
    rows.truncate(limit as usize + 1);
    let mut items = rows
        .iter()
        .map(|state| ticket_from_state(state))
        .collect::<Result<Vec<_>, _>>()?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().and_then(|t| {
            Some(Cursor {
                created_at: match filter.order {
                    Order::Newest => t.created_at,
                    // The stored `overdue_at` is this (written with every save).
                    Order::Due => t.overdue_since()?,
                },
                id: t.id.as_uuid(),
            })
        })
    } else {
        None
    };
    Ok(Page { items, next })
}

/// The tickets newest first after `after`, in the actor's scope and the filter's every
/// condition but the text.
fn filtered<'a>(
    actor: &Actor,
    filter: &TicketFilter,
    after: Option<Cursor>,
    now: DateTime<Utc>,
) -> Boxed<'a> {
    let mut query = visible_to(tickets::table.into_boxed(), actor);
    match filter.status.as_slice() {
        [] => {}
        // One status is `=`, not `= ANY`: PostgreSQL then reads (status, created_at, id)
        // in the list's order and stops at the page's end, where `= ANY` sorts every
        // match first (issue 9).
        [one] => query = query.filter(tickets::status.eq(one.as_str())),
        many => {
            let statuses: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
            query = query.filter(tickets::status.eq_any(statuses));
        }
    }
    if let Some(u) = filter.urgency {
        query = query.filter(tickets::urgency.eq(u.as_str()));
    }
    if let Some(k) = filter.kind {
        query = query.filter(tickets::kind.eq(k.as_str()));
    }
    if let Some(e) = filter.enterprise_id {
        query = query.filter(tickets::enterprise_id.eq(DbUuid(e.as_uuid())));
    }
    if let Some(d) = filter.department_id {
        query = query.filter(tickets::department_id.eq(DbUuid(d.as_uuid())));
    }
    if let Some(a) = filter.assignee_id {
        query = query.filter(tickets::assignee_id.eq(DbUuid(a.as_uuid())));
    }
    if let Some(overdue) = filter.overdue {
        let now = DbInstant::from(now);
        query = if overdue {
            query.filter(overdue_at(now))
        } else {
            query.filter(
                tickets::overdue_at
                    .is_null()
                    .or(tickets::overdue_at.gt(now)),
            )
        };
    }
    if let Some(s) = filter.supervised {
        query = query.filter(tickets::supervised.eq(s));
    }
    if let Some(from) = filter.created_from {
        query = query.filter(tickets::created_at.ge(DbInstant::from(from)));
    }
    if let Some(to) = filter.created_to {
        query = query.filter(tickets::created_at.lt(DbInstant::from(to)));
    }
    if let Some(number) = filter.number {
        query = query.filter(tickets::number.eq(number.to_string()));
    }
    if let Some(wanted) = filter.co_handling {
        // Each branch its own subquery type: a boxed subquery does not pass through the
        // MultiConnection enum.
        use diesel::dsl::not;
        let asked = ticket_co_handlers::table.select(ticket_co_handlers::ticket_id);
        let department = actor.user().and_then(|u| u.department_id);
        query = match (department, wanted) {
            (Some(d), true) => {
                query.filter(tickets::id.eq_any(
                    asked.filter(ticket_co_handlers::department_id.eq(DbUuid(d.as_uuid()))),
                ))
            }
            (Some(d), false) => query.filter(not(tickets::id
                .eq_any(asked.filter(ticket_co_handlers::department_id.eq(DbUuid(d.as_uuid())))))),
            (None, true) => query.filter(tickets::id.eq_any(asked)),
            (None, false) => query.filter(not(tickets::id.eq_any(asked))),
        };
    }
    match filter.order {
        Order::Newest => {
            if let Some(c) = after {
                let at = DbInstant::from(c.created_at);
                query = query.filter(crate::types::keyset_before!(
                    tickets::created_at,
                    tickets::id,
                    at,
                    DbUuid(c.id)
                ));
            }
        }
        Order::Due => {
            query = query.filter(tickets::overdue_at.is_not_null());
            if let Some(c) = after {
                // (overdue_at, id) > the cursor's, written so the index scan starts there.
                let at = DbInstant::from(c.created_at);
                query = query.filter(
                    tickets::overdue_at
                        .ge(at)
                        .and(
                            tickets::overdue_at
                                .gt(at)
                                .or(tickets::id.gt(DbUuid(c.id)).nullable()),
                        )
                        .assume_not_null(),
                );
            }
        }
    }
    query
}

/// Up to `rows` of `query`, in the filter's order.
fn page(
    conn: &mut DbConnection,
    query: Boxed<'_>,
    filter: &TicketFilter,
    rows: i64,
) -> Result<Vec<String>, StoreError> {
    // A filter's value decides the plan (an enterprise with three tickets or thirty
    // thousand); the unfiltered list walks (created_at, id) whoever asks, and stays
    // prepared, as does the unfiltered deadline order over (overdue_at, id).
    let unfiltered = TicketFilter {
        order: filter.order,
        ..TicketFilter::default()
    };
    let replan = conn.backend() == Backend::Postgres && *filter != unfiltered;
    let query = in_order(query, filter.order)
        .select(tickets::state)
        .limit(rows);
    Ok(Replanned { query, replan }.load(conn)?)
}

/// `query` in the list's order: each walks its index, `(created_at, id)` backwards or
/// `tickets_due_idx` forwards.
fn in_order(query: Boxed<'_>, order: Order) -> Boxed<'_> {
    match order {
        Order::Newest => query.order((tickets::created_at.desc(), tickets::id.desc())),
        Order::Due => query.order((tickets::overdue_at.asc(), tickets::id.asc())),
    }
}

/// How many of the county's newest tickets (before the page's cursor) a text of several
/// grams is first looked for among, those in the caller's scope one by one, before the
/// index is asked about the older ones.
#[cfg(not(test))]
const WINDOW: i64 = 10_000;
#[cfg(test)]
const WINDOW: i64 = 3;

/// A text of several grams on PostgreSQL (issue 9): first the tickets in scope among the
/// county's newest [`WINDOW`] are walked newest first, each checked for the text
/// (`strpos` on its folded row); a common text fills its page there, however long the
/// history. Only if the page is not full and older tickets remain does the GIN index find
/// the matches among those, which for a text that is not common are few. Left to the
/// planner, a common text of several grams took the GIN path and sorted every match
/// (66,647 at a million tickets): it multiplies the grams' frequencies, far below the
/// truth for the grams of one word. At a million tickets the phrase and the text in no
/// ticket run at 1.06 and 0.92 times their speed at 10,000 (docs/BENCHMARKS.md; with the
/// pool's `jit = off`: the walk is costed for the whole table, and PostgreSQL compiled it).
///
/// The window's edge is counted over all tickets, not the caller's: counted in scope, the
/// planner, which cannot estimate the scope's `coalesce`, read the whole table and sorted
/// it at 100,000 tickets (81 ms) rather than walk the index.
fn search_recent_first(
    conn: &mut DbConnection,
    actor: &Actor,
    filter: &TicketFilter,
    q: &jiban_domain::search::SearchQuery,
    limit: i64,
    after: Option<Cursor>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    // The oldest of the county's newest WINDOW before the cursor, if there are that many.
    let mut newest = tickets::table.into_boxed::<MultiBackend>();
    if let Some(c) = after {
        let at = DbInstant::from(c.created_at);
        newest = newest.filter(crate::types::keyset_before!(
            tickets::created_at,
            tickets::id,
            at,
            DbUuid(c.id)
        ));
    }
    let edge: Option<(DbInstant, DbUuid)> = newest
        .select((tickets::created_at, tickets::id))
        .order((tickets::created_at.desc(), tickets::id.desc()))
        .offset(WINDOW - 1)
        .limit(1)
        .load(conn)?
        .pop();
    let mut walk = filtered(actor, filter, after, now).filter(super::search::matching(
        Backend::Postgres,
        q,
        true,
    ));
    if let Some((at, id)) = edge {
        // (created_at, id) >= the edge's, written so the index scan stops at the edge.
        walk = walk.filter(
            tickets::created_at
                .ge(at)
                .and(tickets::created_at.gt(at).or(tickets::id.ge(id))),
        );
    }
    let mut rows = page(conn, walk, filter, limit + 1)?;
    if let (true, Some((at, id))) = (rows.len() as i64 <= limit, edge) {
        let older = Cursor {
            created_at: at.get(),
            id: id.0,
        };
        let query = filtered(actor, filter, Some(older), now).filter(super::search::matching(
            Backend::Postgres,
            q,
            false,
        ));
        rows.extend(page(conn, query, filter, limit + 1 - rows.len() as i64)?);
    }
    Ok(rows)
}

/// The statuses the scanner looks at: those of the partial index `tickets_next_alert_at_idx`.
pub(crate) const SCANNED: [&str; 5] = [
    "submitted",
    "in_progress",
    "awaiting_info",
    "resolved",
    "explained",
];

/// Claims up to `limit` open tickets whose `next_alert_at` has passed, soonest first.
/// Call inside a transaction and act on them in it: on PostgreSQL the rows are locked
/// `FOR UPDATE SKIP LOCKED`, so scanners on several nodes never take the same ticket and
/// never wait for each other; on SQLite the write transaction already serialises them.
/// Each ticket comes with the seq of its latest event.
pub fn claim_due(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(Ticket, i32)>, StoreError> {
    let query = tickets::table
        .filter(tickets::status.eq_any(SCANNED))
        .filter(tickets::next_alert_at.le(DbInstant::from(now)))
        .order((tickets::next_alert_at, tickets::id))
        .limit(limit)
        .select((tickets::state, tickets::last_seq));
    let rows: Vec<(String, i32)> = match conn {
        DbConnection::Pg(c) => query.for_update().skip_locked().load(c)?,
        DbConnection::Sqlite(c) => query.load(c)?,
    };
    rows.iter()
        .map(|(s, seq)| Ok((ticket_from_state(s)?, *seq)))
        .collect()
}

/// The earliest `next_alert_at` at or before `now`: how far behind the scanner is (its lag
/// is `now` minus this); `None` when nothing is due. One read of the partial index.
pub fn oldest_due(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let oldest: Option<Option<DbInstant>> = tickets::table
        .filter(tickets::status.eq_any(SCANNED))
        .filter(tickets::next_alert_at.le(DbInstant::from(now)))
        .order(tickets::next_alert_at)
        .select(tickets::next_alert_at)
        .first(conn)
        .optional()?;
    Ok(oldest.flatten().map(DbInstant::get))
}

/// Recomputes provisional deadlines on the calendar now loaded (DESIGN.md section 4),
/// appending a `deadlines_recomputed` event to each ticket that moved. Call in the
/// transaction that stores a year's calendar. Returns how many tickets moved. The partial
/// index on `provisional` keeps this to the few tickets that assumed a missing year.
pub fn recompute_provisional(
    conn: &mut DbConnection,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let now = now.trunc_subsecs(6);
    let ids: Vec<DbUuid> = tickets::table
        .filter(tickets::provisional.eq(true))
        .select(tickets::id)
        .load(conn)?;
    let mut moved = 0;
    for id in ids {
        let id =
            TicketId::from_uuid(id.0).map_err(|e| StoreError::Other(format!("ticket id: {e}")))?;
        let (current, last_seq) = load_for_update(conn, id).map_err(store_error)?;
        if let Some(event) = ticket::recompute_provisional(&current, now, rules) {
            let next = ticket::apply(current, std::slice::from_ref(&event));
            save(conn, &next, last_seq, std::slice::from_ref(&event), rules)
                .map_err(store_error)?;
            moved += 1;
        }
    }
    Ok(moved)
}

fn store_error(e: TicketError) -> StoreError {
    match e {
        TicketError::Store(e) => e,
        other => StoreError::Other(other.to_string()),
    }
}

#[cfg(test)]
mod plans {
    use diesel::query_builder::{AstPass, QueryFragment, QueryId};

    use super::*;
    use crate::testdb::TestDb;

    /// `EXPLAIN` of a query, through the MultiConnection.
    struct Explained<Q>(Q);

    impl<Q> diesel::query_builder::Query for Explained<Q> {
        type SqlType = diesel::sql_types::Text;
    }

    impl<Q: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for Explained<Q> {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
            out.unsafe_to_cache_prepared();
            out.push_sql("EXPLAIN ");
            self.0.walk_ast(out.reborrow())
        }
    }

    impl<Q> QueryId for Explained<Q> {
        type QueryId = ();
        const HAS_STATIC_QUERY_ID: bool = false;
    }

    impl<Q, C> RunQueryDsl<C> for Explained<Q> {}

    /// The plan PostgreSQL chooses for `query` when sorting and sequential scans are a last
    /// resort: on a test's few rows a sort is cheapest, so only this shows whether an index
    /// gives the order.
    fn plan_without_sort<Q>(conn: &mut DbConnection, query: Q) -> String
    where
        Q: QueryFragment<MultiBackend>,
    {
        for setting in ["SET enable_sort = off", "SET enable_seqscan = off"] {
            diesel::sql_query(setting).execute(conn).unwrap();
        }
        Explained(query).load::<String>(conn).unwrap().join("\n")
    }

    /// Issue 12: a page of `sort=due` after a cursor starts inside `tickets_due_idx` and
    /// reads in its order, so the open tickets before the cursor cost nothing and nothing
    /// is sorted, however many tickets are open.
    #[test]
    fn postgres_due_order_walks_its_index() {
        let Some(db) = TestDb::postgres() else { return };
        let mut conn = db.conn();
        let filter = TicketFilter {
            order: Order::Due,
            ..TicketFilter::default()
        };
        let now = Utc::now();
        let after = Cursor {
            created_at: now,
            id: uuid::Uuid::now_v7(),
        };
        let query = in_order(
            filtered(&Actor::System, &filter, Some(after), now),
            Order::Due,
        )
        .select(tickets::state)
        .limit(21);
        let plan = plan_without_sort(&mut conn, query);
        assert!(plan.contains("tickets_due_idx"), "{plan}");
        assert!(
            plan.lines()
                .any(|l| l.contains("Index Cond:") && l.contains("overdue_at >=")),
            "the cursor bounds the walk\n{plan}"
        );
        assert!(
            !plan.contains("Sort"),
            "no sort: the index is in the order\n{plan}"
        );
    }

    /// The dashboard's 超期与督办 list (`sort=due&supervised=true`) walks the index of the
    /// supervised open tickets only, in its order, not every open ticket (issue 12).
    #[test]
    fn postgres_supervised_due_order_walks_its_own_index() {
        let Some(db) = TestDb::postgres() else { return };
        let mut conn = db.conn();
        let filter = TicketFilter {
            order: Order::Due,
            supervised: Some(true),
            ..TicketFilter::default()
        };
        let now = Utc::now();
        let query = in_order(filtered(&Actor::System, &filter, None, now), Order::Due)
            .select(tickets::state)
            .limit(21);
        let plan = plan_without_sort(&mut conn, query);
        assert!(plan.contains("tickets_due_supervised_idx"), "{plan}");
        assert!(
            !plan.contains("Sort"),
            "no sort: the index is in the order\n{plan}"
        );
    }
}
