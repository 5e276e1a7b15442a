//! The statistics of DESIGN.md section 6 counted by SQL (issue 10).
//!
//! Every save stores what the ticket contributes in its row of `ticket_stats`
//! (`rows::StatRow`, computed by `jiban_domain::stats::TicketFacts`), so a period's counts
//! are `SUM`s over the rows received in it, found through `received_at`, and its medians
//! one window query each: a year's tickets are never loaded into memory. The rates, medians' use and
//! ranking are the domain's (`jiban_domain::stats::table`), so a test can hold this side
//! to the pure definition exactly.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::sql_types::{BigInt, Nullable, Text};
use jiban_domain::stats::{
    Bucket, CoHandlingTally, FirstRound, Medians, Period, Tally, TicketFacts, Totals, roll_up,
};
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

/// A group's counts as [`SUMS`] selects them.
#[derive(QueryableByName)]
struct TallyRow {
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

/// The counts of one department or officer.
#[derive(QueryableByName)]
struct KeyedRow {
    #[diesel(sql_type = Nullable<Uuid>)]
    key: Option<DbUuid>,
    #[diesel(embed)]
    counts: TallyRow,
}

/// The counts of one day in +08:00, `YYYY-MM-DD`.
#[derive(QueryableByName)]
struct DayRow {
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(embed)]
    counts: TallyRow,
}

/// The select list of a group's counts ([`TallyRow`]): `overdue` is the placeholder of
/// "now", for "overdue now".
fn sums(overdue: &str) -> String {
    format!(
        "COUNT(*) AS received, SUM(disposed) AS disposed, \
         SUM(accepted) AS accepted, SUM(withdrawn) AS withdrawn, \
         SUM(responded_on_time) AS responded_on_time, SUM(resolved_now) AS resolved_now, \
         SUM(has_outcome) AS with_outcome, SUM(rated) AS rated, \
         SUM(rating_tenths) AS rating_score_tenths, SUM(on_time) AS on_time, \
         SUM(CASE WHEN overdue_at <= {overdue} THEN 1 ELSE 0 END) AS overdue_now, \
         SUM(supervised_now) AS supervised_now"
    )
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

/// The period's rows, and one department's when `department`:
/// `received_at >= from AND received_at < to [AND department_id = d]`, served by
/// `(received_at)` (or `(department_id, received_at)`).
fn period_condition(p: &mut Placeholders, department: bool) -> String {
    let mut sql = format!("received_at >= {} AND received_at < {}", p.next(), p.next());
    if department {
        sql.push_str(&format!(" AND department_id = {}", p.next()));
    }
    sql
}

/// Each group's counts: binds now, from, to and the department if `department`.
fn counts_sql(pg: bool, key: &str, department: bool) -> String {
    let mut p = Placeholders { pg, next: 0 };
    let sums = sums(&p.next());
    format!(
        "SELECT {key} AS key, {sums} FROM ticket_stats WHERE {} GROUP BY {key}",
        period_condition(&mut p, department)
    )
}

/// Each group's lower median of `column`, the ⌈n/2⌉-th smallest value
/// (`jiban_domain::stats::Medians`): binds from, to and the department if `department`.
fn median_sql(pg: bool, key: &str, column: &str, department: bool) -> String {
    let mut p = Placeholders { pg, next: 0 };
    format!(
        "SELECT key, minutes FROM (SELECT {key} AS key, {column} AS minutes, \
         ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {column}) AS n, \
         COUNT(*) OVER (PARTITION BY {key}) AS total \
         FROM ticket_stats WHERE {} AND {column} IS NOT NULL) ranked \
         WHERE n = (total + 1) / 2",
        period_condition(&mut p, department)
    )
}

/// Each day's counts, the day in the county (+08:00 all year: no daylight saving since
/// 1991) as `YYYY-MM-DD`: binds now, from, to and the department if `department`.
fn days_sql(pg: bool, department: bool) -> String {
    let day = if pg {
        "to_char((received_at AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM-DD')"
    } else {
        "date(received_at, '+8 hours')"
    };
    let mut p = Placeholders { pg, next: 0 };
    let sums = sums(&p.next());
    format!(
        "SELECT {day} AS day, {sums} FROM ticket_stats WHERE {} GROUP BY 1",
        period_condition(&mut p, department)
    )
}

/// A statement of the texts above with its binds in the order they place them: "now"
/// (the counts' "overdue now"; the medians take none), the period, and the department
/// when there is one.
fn bound<'a, DB>(
    sql: String,
    now: Option<DbInstant>,
    from: DbInstant,
    to: DbInstant,
    department: Option<DbUuid>,
) -> BoxedSqlQuery<'a, DB, SqlQuery>
where
    DB: diesel::backend::Backend + HasSqlType<UtcTime> + HasSqlType<Uuid>,
    DbInstant: ToSql<UtcTime, DB>,
    DbUuid: ToSql<Uuid, DB>,
{
    let mut query = diesel::sql_query(sql).into_boxed();
    if let Some(now) = now {
        query = query.bind::<UtcTime, _>(now);
    }
    query = query.bind::<UtcTime, _>(from).bind::<UtcTime, _>(to);
    if let Some(d) = department {
        query = query.bind::<Uuid, _>(d);
    }
    query
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
    let counted: Vec<KeyedRow> = on_backend!(conn, |c| {
        let sql = counts_sql(pg, key, department.is_some());
        bound(sql, Some(now), from, to, department).load(c)?
    });
    let mut groups: BTreeMap<Option<DbUuid>, Totals> = counted
        .iter()
        .map(|row| {
            let totals = Totals {
                tally: row.counts.tally(),
                medians: Medians::default(),
            };
            (row.key, totals)
        })
        .collect();
    for (column, contact) in [("minutes_to_contact", true), ("minutes_to_outcome", false)] {
        let medians: Vec<MedianRow> = on_backend!(conn, |c| {
            let sql = median_sql(pg, key, column, department.is_some());
            bound(sql, None, from, to, department).load(c)?
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

/// The trend (DESIGN.md section 7, `GET /v1/stats/trend`): the tally of each bucket of
/// `period`, of the tickets `department` holds (all when `None`), empty buckets included.
/// SQL counts each day in +08:00 (one row per day with tickets, through `received_at`);
/// the domain adds the days up into buckets (`jiban_domain::stats::roll_up`).
pub fn trend(
    conn: &mut DbConnection,
    period: &Period,
    bucket: Bucket,
    department: Option<DepartmentId>,
    now: DateTime<Utc>,
) -> Result<Vec<(Period, Tally)>, StoreError> {
    let from = DbInstant::from(period.starts_at());
    let to = DbInstant::from(period.ends_at());
    let now = DbInstant::from(now);
    let department = department.map(|d| DbUuid(d.as_uuid()));
    let pg = conn.backend() == Backend::Postgres;
    let rows: Vec<DayRow> = on_backend!(conn, |c| {
        let sql = days_sql(pg, department.is_some());
        bound(sql, Some(now), from, to, department).load(c)?
    });
    let days = rows
        .iter()
        .map(|row| {
            let day = NaiveDate::parse_from_str(&row.day, "%Y-%m-%d")
                .map_err(|e| StoreError::Other(format!("a day {:?}: {e}", row.day)))?;
            Ok((day, row.counts.tally()))
        })
        .collect::<Result<BTreeMap<_, _>, StoreError>>()?;
    Ok(roll_up(&days, period, bucket))
}

/// 协办 (issue 13): each department's co-handling requests made in the period, as
/// [`CoHandlingTally`] defines them, counted over `ticket_co_handlers` through
/// `requested_at`. Instants compare as instants on PostgreSQL and as their fixed-width
/// UTC text on SQLite, which sorts the same.
#[derive(QueryableByName)]
struct CoHandlingRow {
    #[diesel(sql_type = Uuid)]
    key: DbUuid,
    #[diesel(sql_type = BigInt)]
    received: i64,
    #[diesel(sql_type = BigInt)]
    replied_on_time: i64,
    #[diesel(sql_type = BigInt)]
    replied_late: i64,
    #[diesel(sql_type = BigInt)]
    not_replied: i64,
}

fn co_handling_sql(pg: bool) -> String {
    let mut p = Placeholders { pg, next: 0 };
    format!(
        "SELECT department_id AS key, COUNT(*) AS received, \
         SUM(CASE WHEN replied_at <= due_at THEN 1 ELSE 0 END) AS replied_on_time, \
         SUM(CASE WHEN replied_at > due_at THEN 1 ELSE 0 END) AS replied_late, \
         SUM(CASE WHEN status = 'not_replied' THEN 1 ELSE 0 END) AS not_replied \
         FROM ticket_co_handlers WHERE requested_at >= {} AND requested_at < {} \
         GROUP BY department_id",
        p.next(),
        p.next()
    )
}

/// Each department's co-handling over `period` (issue 13).
pub fn co_handling(
    conn: &mut DbConnection,
    period: &Period,
) -> Result<BTreeMap<DepartmentId, CoHandlingTally>, StoreError> {
    let from = DbInstant::from(period.starts_at());
    let to = DbInstant::from(period.ends_at());
    let pg = conn.backend() == Backend::Postgres;
    let rows: Vec<CoHandlingRow> = on_backend!(conn, |c| {
        bound(co_handling_sql(pg), None, from, to, None).load(c)?
    });
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                DepartmentId::from_uuid(r.key.0),
                CoHandlingTally {
                    received: n(r.received),
                    replied_on_time: n(r.replied_on_time),
                    replied_late: n(r.replied_late),
                    not_replied: n(r.not_replied),
                },
            )
        })
        .collect())
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

#[cfg(test)]
pub(crate) mod tests {
    use diesel::connection::SimpleConnection;

    use super::*;
    use crate::testdb::TestDb;

    #[derive(QueryableByName)]
    struct PlanLine {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }

    /// PostgreSQL's plan of `sql` with its binds, as text, with sequential scans made a
    /// last resort: on a test's few rows the planner would rightly read the table, so
    /// this shows whether the statement, as written, can walk an index at all.
    pub(crate) fn plan<'q>(
        conn: &mut diesel::PgConnection,
        query: diesel::query_builder::BoxedSqlQuery<
            'q,
            diesel::pg::Pg,
            diesel::query_builder::SqlQuery,
        >,
    ) -> String {
        conn.batch_execute("SET enable_seqscan = off").unwrap();
        let lines: Vec<PlanLine> = query.load(conn).unwrap();
        conn.batch_execute("RESET enable_seqscan").unwrap();
        lines
            .into_iter()
            .map(|l| l.line)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Issue 10, point 5: every statement of the statistics finds the period's rows
    /// through `received_at` (or the department's `(department_id, received_at)`), never by
    /// reading the whole history.
    #[test]
    fn postgres_statistics_read_the_period_through_an_index() {
        let Some(db) = TestDb::postgres() else { return };
        let mut pooled = db.conn();
        let DbConnection::Pg(conn) = &mut *pooled else {
            unreachable!("a PostgreSQL test database")
        };
        let at = |s: &str| DbInstant::from(s.parse::<DateTime<Utc>>().unwrap());
        let (now, from, to) = (
            at("2026-12-01T00:00:00Z"),
            at("2026-10-31T16:00:00Z"),
            at("2026-11-30T16:00:00Z"),
        );
        let department = DbUuid(uuid::Uuid::now_v7());
        let mut statements = Vec::new();
        for key in ["department_id", "assignee_id"] {
            for with_department in [false, true] {
                statements.push((
                    counts_sql(true, key, with_department),
                    true,
                    with_department,
                ));
                for column in ["minutes_to_contact", "minutes_to_outcome"] {
                    statements.push((
                        median_sql(true, key, column, with_department),
                        false,
                        with_department,
                    ));
                }
            }
        }
        for with_department in [false, true] {
            statements.push((days_sql(true, with_department), true, with_department));
        }
        for (sql, binds_now, with_department) in statements {
            let query = bound(
                format!("EXPLAIN {sql}"),
                binds_now.then_some(now),
                from,
                to,
                with_department.then_some(department),
            );
            let plan = plan(conn, query);
            let index = if with_department {
                "ticket_stats_department_id_idx"
            } else {
                "ticket_stats_received_at_idx"
            };
            assert!(plan.contains(index), "{sql}\n{plan}");
            assert!(!plan.contains("Seq Scan"), "{sql}\n{plan}");
        }
    }
}
