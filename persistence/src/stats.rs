//! The statistics of DESIGN.md section 6 counted by SQL (issue 10).
//!
//! Every save stores what the ticket contributes in its row of `ticket_stats`
//! (`rows::StatRow`, computed by `jiban_domain::stats::TicketFacts`), so a period's counts
//! are `SUM`s over the rows received in it, found through `received_at`, and its medians
//! one window query each: a year's tickets are never loaded into memory. The rates, medians' use and
//! ranking are the domain's (`jiban_domain::stats::table`), so a test can hold this side
//! to the pure definition exactly.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use jiban_domain::stats::{FirstRound, Medians, Period, Tally, TicketFacts, Totals};
use jiban_domain::values::{DepartmentId, UserId};

use crate::conn::{Backend, DbConnection, write_tx};
use crate::error::StoreError;
use crate::repo::on_backend;
use crate::schema::{ticket_events, ticket_stats, tickets};
use crate::tickets::rows::{EventRow, StatRow, StoredEvent, to_json};
use crate::tickets::ticket_from_state;
use crate::types::{DbInstant, DbUuid, UtcTime, Uuid};

/// Which tickets a table groups by.
#[derive(Clone, Copy, Debug)]
enum Group {
    Department,
    /// The assignees, of one department's tickets when given.
    Officer(Option<DepartmentId>),
}

impl Group {
    fn column(self) -> &'static str {
        match self {
            Group::Department => "department_id",
            Group::Officer(_) => "assignee_id",
        }
    }
}

/// The totals of each department (the one holding each ticket now, `None` the intake
/// queue) over the tickets received in `period`, at `now` for "overdue now".
pub fn departments(
    conn: &mut DbConnection,
    period: &Period,
    now: DateTime<Utc>,
) -> Result<BTreeMap<Option<DepartmentId>, Totals>, StoreError> {
    Ok(totals(conn, period, now, Group::Department)?
        .into_iter()
        .map(|(k, t)| (k.map(|u| DepartmentId::from_uuid(u.0)), t))
        .collect())
}

/// The totals of each officer (the assignee holding each ticket now, `None` the
/// unassigned) over the tickets received in `period` and held by `department` (all when
/// `None`).
pub fn officers(
    conn: &mut DbConnection,
    period: &Period,
    department: Option<DepartmentId>,
    now: DateTime<Utc>,
) -> Result<BTreeMap<Option<UserId>, Totals>, StoreError> {
    Ok(totals(conn, period, now, Group::Officer(department))?
        .into_iter()
        .map(|(k, t)| (k.map(|u| UserId::from_uuid(u.0)), t))
        .collect())
}

#[derive(QueryableByName)]
struct TallyRow {
    #[diesel(sql_type = Nullable<Uuid>)]
    key: Option<DbUuid>,
    #[diesel(sql_type = BigInt)]
    received: i64,
    #[diesel(sql_type = BigInt)]
    disposed: i64,
    #[diesel(sql_type = BigInt)]
    accepted: i64,
    #[diesel(sql_type = BigInt)]
    withdrawn: i64,
    #[diesel(sql_type = BigInt)]
    responded_on_time: i64,
    #[diesel(sql_type = BigInt)]
    resolved_now: i64,
    #[diesel(sql_type = BigInt)]
    with_outcome: i64,
    #[diesel(sql_type = BigInt)]
    rated: i64,
    #[diesel(sql_type = BigInt)]
    rating_score_tenths: i64,
    #[diesel(sql_type = BigInt)]
    on_time: i64,
    #[diesel(sql_type = BigInt)]
    overdue_now: i64,
    #[diesel(sql_type = BigInt)]
    supervised_now: i64,
}

impl TallyRow {
    fn tally(&self) -> Tally {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Tally {
            received: n(self.received),
            disposed: n(self.disposed),
            accepted: n(self.accepted),
            withdrawn: n(self.withdrawn),
            responded_on_time: n(self.responded_on_time),
            resolved_now: n(self.resolved_now),
            with_outcome: n(self.with_outcome),
            rated: n(self.rated),
            rating_score_tenths: n(self.rating_score_tenths),
            on_time: n(self.on_time),
            overdue_now: n(self.overdue_now),
            supervised_now: n(self.supervised_now),
        }
    }
}

#[derive(QueryableByName)]
struct MedianRow {
    #[diesel(sql_type = Nullable<Uuid>)]
    key: Option<DbUuid>,
    #[diesel(sql_type = BigInt)]
    minutes: i64,
}

/// Placeholders in the order they appear in the text: `$1, $2, …` on PostgreSQL, `?` on
/// SQLite; binds follow the same order on both.
struct Placeholders {
    pg: bool,
    next: usize,
}

impl Placeholders {
    fn next(&mut self) -> String {
        self.next += 1;
        if self.pg {
            format!("${}", self.next)
        } else {
            "?".to_owned()
        }
    }
}

/// The period's rows, and the department's when the group asks for one:
/// `received_at >= from AND received_at < to [AND department_id = d]`, served by
/// `(received_at)` (or `(department_id, received_at)`).
fn period_condition(p: &mut Placeholders, group: Group) -> String {
    let mut sql = format!("received_at >= {} AND received_at < {}", p.next(), p.next());
    if let Group::Officer(Some(_)) = group {
        sql.push_str(&format!(" AND department_id = {}", p.next()));
    }
    sql
}

fn totals(
    conn: &mut DbConnection,
    period: &Period,
    now: DateTime<Utc>,
    group: Group,
) -> Result<BTreeMap<Option<DbUuid>, Totals>, StoreError> {
    let from = DbInstant::from(period.starts_at());
    let to = DbInstant::from(period.ends_at());
    let now = DbInstant::from(now);
    let department = match group {
        Group::Officer(Some(d)) => Some(DbUuid(d.as_uuid())),
        _ => None,
    };
    let key = group.column();
    let pg = conn.backend() == Backend::Postgres;
    let counted: Vec<TallyRow> = on_backend!(conn, |c| {
        let mut p = Placeholders { pg, next: 0 };
        let overdue = p.next();
        let sql = format!(
            "SELECT {key} AS key, COUNT(*) AS received, SUM(disposed) AS disposed, \
             SUM(accepted) AS accepted, SUM(withdrawn) AS withdrawn, \
             SUM(responded_on_time) AS responded_on_time, SUM(resolved_now) AS resolved_now, \
             SUM(has_outcome) AS with_outcome, SUM(rated) AS rated, \
             SUM(rating_tenths) AS rating_score_tenths, SUM(on_time) AS on_time, \
             SUM(CASE WHEN overdue_at <= {overdue} THEN 1 ELSE 0 END) AS overdue_now, \
             SUM(supervised_now) AS supervised_now \
             FROM ticket_stats WHERE {} GROUP BY {key}",
            period_condition(&mut p, group)
        );
        let query = diesel::sql_query(sql)
            .bind::<UtcTime, _>(now)
            .bind::<UtcTime, _>(from)
            .bind::<UtcTime, _>(to);
        match department {
            Some(d) => query.bind::<Uuid, _>(d).load(c)?,
            None => query.load(c)?,
        }
    });
    let mut groups: BTreeMap<Option<DbUuid>, Totals> = counted
        .iter()
        .map(|row| {
            let totals = Totals {
                tally: row.tally(),
                medians: Medians::default(),
            };
            (row.key, totals)
        })
        .collect();
    for (column, contact) in [("minutes_to_contact", true), ("minutes_to_outcome", false)] {
        let medians: Vec<MedianRow> = on_backend!(conn, |c| {
            let mut p = Placeholders { pg, next: 0 };
            // The ⌈n/2⌉-th smallest value of each group: `jiban_domain::stats::Medians`.
            let sql = format!(
                "SELECT key, minutes FROM (SELECT {key} AS key, {column} AS minutes, \
                 ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {column}) AS n, \
                 COUNT(*) OVER (PARTITION BY {key}) AS total \
                 FROM ticket_stats WHERE {} AND {column} IS NOT NULL) ranked \
                 WHERE n = (total + 1) / 2",
                period_condition(&mut p, group)
            );
            let query = diesel::sql_query(sql)
                .bind::<UtcTime, _>(from)
                .bind::<UtcTime, _>(to);
            match department {
                Some(d) => query.bind::<Uuid, _>(d).load(c)?,
                None => query.load(c)?,
            }
        });
        for row in medians {
            if let Some(totals) = groups.get_mut(&row.key) {
                let slot = if contact {
                    &mut totals.medians.minutes_to_first_contact
                } else {
                    &mut totals.medians.minutes_to_first_outcome
                };
                *slot = Some(row.minutes);
            }
        }
    }
    Ok(groups)
}

/// Tickets per transaction of the backfill.
const BACKFILL_BATCH: i64 = 500;

/// Fills in the statistics rows that the migration `ticket_stats` left unfilled for the
/// tickets written before it (SQL cannot replay a timeline), and keeps the first round in
/// the state of those reopened before the snapshot kept it. Runs after the migrations,
/// under their lock; once done, one read of an empty partial index. Each batch commits on
/// its own, so an interrupted backfill goes on at the next start. Returns how many rows it
/// filled in.
pub fn backfill(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let mut filled = 0;
    loop {
        let n = write_tx(conn, backfill_batch)?;
        filled += n;
        if (n as i64) < BACKFILL_BATCH {
            return Ok(filled);
        }
    }
}

fn backfill_batch(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let pending: Vec<(DbUuid, String)> = ticket_stats::table
        .inner_join(tickets::table)
        .filter(diesel::dsl::not(ticket_stats::filled))
        .select((tickets::id, tickets::state))
        .limit(BACKFILL_BATCH)
        .load(conn)?;
    for (id, state) in &pending {
        let mut ticket = ticket_from_state(state)?;
        let facts = match TicketFacts::of_snapshot(&ticket, ticket.updated_at) {
            Some(facts) => facts,
            None => {
                let rows: Vec<EventRow> = ticket_events::table
                    .filter(ticket_events::ticket_id.eq(*id))
                    .order(ticket_events::seq)
                    .select(EventRow::as_select())
                    .load(conn)?;
                let events = rows
                    .into_iter()
                    .map(|row| StoredEvent::try_from(row)?.to_event())
                    .collect::<Result<Vec<_>, _>>()?;
                ticket.first_round = FirstRound::of(&events);
                diesel::update(tickets::table.find(*id))
                    .set(tickets::state.eq(to_json(&ticket)?))
                    .execute(conn)?;
                TicketFacts::of(&ticket, &events, ticket.updated_at)
            }
        };
        diesel::update(ticket_stats::table.find(*id))
            .set(&StatRow::new(&ticket, Some(&facts)))
            .execute(conn)?;
    }
    Ok(pending.len())
}
