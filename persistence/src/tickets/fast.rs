//! Filing a ticket on PostgreSQL in one statement.
//!
//! A create takes the ticket's number (`nextval` of the year's sequence), writes the
//! ticket, its statistics row (`crate::stats`), its search row (`search.rs`), its first
//! event, one outbox row per recipient of the new-ticket notice and one per webhook
//! subscribed to `ticket.submitted` (`crate::webhooks`). Round trips dominate its cost
//! (DEPENDENCIES.md, "What makes a create fast"), so on PostgreSQL these are one
//! data-modifying CTE:
//!
//! - the number is taken inside it; the service builds the ticket with a placeholder
//!   (`numbers::placeholder`) and the statement writes the real number over it in the
//!   texts that carry it (the state, the event's data, the notice, the webhook body), then
//!   returns the sequence value;
//! - the recipients are selected inside it (the department's active officers, or the
//!   supervisors), and the enterprise's name is put into the mail there too;
//! - so are the webhooks subscribed (none, mostly: the CTE then reads an empty table).
//!
//! The statement's text never changes, so diesel prepares it once per connection (a
//! static `QueryId`); `diesel::sql_query` would be parsed and planned on every create.
//! SQLite needs none of this: its "round trips" are function calls.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text};
use diesel::{QueryResult, RunQueryDsl};
use jiban_domain::search::Indexed;

use super::rows::{NewEventRow, StatRow, TicketRow};
use crate::types::{DbInstant, DbUuid, UtcTime, Uuid};

/// Where the enterprise's name goes in the notice's body; replaced in SQL.
/// A private-use character, not a control one: `notice::one_line` keeps it.
pub(crate) const ENTERPRISE_NAME: &str = "\u{E000}enterprise\u{E000}";

/// The new-ticket notice, to be sent to every active user of `role` whose department is
/// `department_id` (NULL matches supervisors, who have none).
pub(crate) struct Announcement<'a> {
    pub dedupe_prefix: String,
    pub subject: &'a str,
    pub body: &'a str,
    pub role: &'static str,
    pub department_id: Option<DbUuid>,
    pub now: DbInstant,
}

/// The new ticket's delivery to every webhook subscribed to it: `ticket.submitted` is
/// public and read whole, so every subscriber gets the same body
/// (`jiban_domain::webhook::delivery`).
pub(crate) struct Submitted<'a> {
    /// The dedupe key after `webhook:<webhook id>` (`webhooks::entry_key_suffix`).
    pub key_suffix: String,
    pub event: &'a str,
    pub body: &'a str,
    /// The subscriptions that cover it: the event itself, `ticket.*` and `*`.
    pub covering: [&'a str; 3],
}

pub(crate) struct CreateStatement<'a> {
    /// The year whose sequence numbers the ticket.
    pub year: i32,
    /// The placeholder number's text, as the texts below carry it.
    pub placeholder: &'a str,
    pub ticket: &'a TicketRow,
    pub event: &'a NewEventRow,
    pub stats: &'a StatRow,
    pub search: &'a Indexed,
    pub announcement: Announcement<'a>,
    pub webhooks: Submitted<'a>,
}

/// The statement's identity for diesel's prepared-statement cache.
pub(crate) struct CreateStatementId;

impl QueryId for CreateStatement<'_> {
    type QueryId = CreateStatementId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

/// It returns the sequence value the ticket was numbered with.
impl Query for CreateStatement<'_> {
    type SqlType = BigInt;
}

impl RunQueryDsl<diesel::PgConnection> for CreateStatement<'_> {}

impl QueryFragment<Pg> for CreateStatement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let t = self.ticket;
        // The number as `TicketNumber` writes it: `JB-<year>-` and at least six digits
        // (`lpad` alone would cut a seventh).
        out.push_sql("WITH n AS MATERIALIZED (SELECT v, 'JB-' || ");
        out.push_bind_param::<Integer, _>(&self.year)?;
        out.push_sql(
            "::text || '-' || lpad(v::text, greatest(6, length(v::text)), '0') AS number \
             FROM (SELECT nextval(('ticket_number_' || ",
        );
        out.push_bind_param::<Integer, _>(&self.year)?;
        out.push_sql(
            ")::regclass) AS v) x), t AS (INSERT INTO tickets (id, number, enterprise_id, kind, urgency, \
             category, title, status, channel, created_by, first_responder_id, department_id, \
             assignee_id, accept_due_at, contact_due_at, resolve_due_at, provisional, \
             accepted_at, contacted_at, resolved_at, closed_at, overdue_at, supervised, \
             transfer_count, redo_count, close_reason, next_alert_at, version, last_seq, \
             created_at, updated_at, state) SELECT ",
        );
        out.push_bind_param::<Uuid, _>(&t.id)?;
        out.push_sql(", n.number, ");
        out.push_bind_param::<Uuid, _>(&t.enterprise_id)?;
        for text in [t.kind, t.urgency] {
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(text)?;
        }
        for text in [&t.category, &t.title] {
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(text)?;
        }
        for text in [t.status, t.channel] {
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(text)?;
        }
        for id in [
            &t.created_by,
            &t.first_responder_id,
            &t.department_id,
            &t.assignee_id,
        ] {
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Uuid>, _>(id)?;
        }
        for at in [&t.accept_due_at, &t.contact_due_at, &t.resolve_due_at] {
            out.push_sql(", ");
            out.push_bind_param::<UtcTime, _>(at)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Bool, _>(&t.provisional)?;
        for at in [
            &t.accepted_at,
            &t.contacted_at,
            &t.resolved_at,
            &t.closed_at,
            &t.overdue_at,
        ] {
            out.push_sql(", ");
            out.push_bind_param::<Nullable<UtcTime>, _>(at)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Bool, _>(&t.supervised)?;
        for n in [&t.transfer_count, &t.redo_count] {
            out.push_sql(", ");
            out.push_bind_param::<Integer, _>(n)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&t.close_reason)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<UtcTime>, _>(&t.next_alert_at)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&t.version)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&t.last_seq)?;
        for at in [&t.created_at, &t.updated_at] {
            out.push_sql(", ");
            out.push_bind_param::<UtcTime, _>(at)?;
        }
        out.push_sql(", ");
        self.numbered(&mut out, &t.state, "n")?;

        let e = self.event;
        out.push_sql(
            " FROM n RETURNING id, number), e AS (INSERT INTO ticket_events (ticket_id, seq, version, kind, \
             actor_id, at, internal, data) SELECT t.id, ",
        );
        out.push_bind_param::<Integer, _>(&e.seq)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&e.version)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(e.kind)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Uuid>, _>(&e.actor_id)?;
        out.push_sql(", ");
        out.push_bind_param::<UtcTime, _>(&e.at)?;
        out.push_sql(", ");
        out.push_bind_param::<Bool, _>(&e.internal)?;
        out.push_sql(", ");
        self.numbered(&mut out, &e.data, "t")?;

        let st = self.stats;
        out.push_sql(
            " FROM t), st AS (INSERT INTO ticket_stats (ticket_id, received_at, department_id, \
             assignee_id, overdue_at, filled, disposed, accepted, withdrawn, responded_on_time, \
             resolved_now, has_outcome, rated, on_time, supervised_now, rating_tenths, \
             minutes_to_contact, minutes_to_outcome) SELECT t.id, ",
        );
        out.push_bind_param::<UtcTime, _>(&st.received_at)?;
        for id in [&st.department_id, &st.assignee_id] {
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Uuid>, _>(id)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Nullable<UtcTime>, _>(&st.overdue_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Bool, _>(&st.filled)?;
        for flag in [
            &st.disposed,
            &st.accepted,
            &st.withdrawn,
            &st.responded_on_time,
            &st.resolved_now,
            &st.has_outcome,
            &st.rated,
            &st.on_time,
            &st.supervised_now,
            &st.rating_tenths,
        ] {
            out.push_sql(", ");
            out.push_bind_param::<Integer, _>(flag)?;
        }
        for minutes in [&st.minutes_to_contact, &st.minutes_to_outcome] {
            out.push_sql(", ");
            out.push_bind_param::<Nullable<BigInt>, _>(minutes)?;
        }

        let s = self.search;
        out.push_sql(
            " FROM t), s AS (INSERT INTO ticket_search (ticket_id, folded, grams) SELECT t.id, ",
        );
        out.push_bind_param::<Text, _>(&s.folded)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&s.grams)?;

        let a = &self.announcement;
        let w = &self.webhooks;
        out.push_sql(
            " FROM t), wh AS (INSERT INTO outbox (id, dedupe_key, kind, recipient, subject, \
             body, payload, ticket_id, status, attempts, next_attempt_at, created_at, \
             webhook_id) SELECT gen_random_uuid(), 'webhook:' || w.id::text || ",
        );
        out.push_bind_param::<Text, _>(&w.key_suffix)?;
        out.push_sql(", 'webhook', w.url, ");
        out.push_bind_param::<Text, _>(w.event)?;
        out.push_sql(", ");
        self.numbered(&mut out, w.body, "t")?;
        out.push_sql(", NULL, t.id, 'pending', 0, ");
        out.push_bind_param::<UtcTime, _>(&a.now)?;
        out.push_sql(", ");
        out.push_bind_param::<UtcTime, _>(&a.now)?;
        out.push_sql(
            ", w.id FROM t, webhooks w WHERE w.deleted_at IS NULL AND EXISTS (SELECT 1 \
             FROM webhook_events we WHERE we.webhook_id = w.id AND we.event IN (",
        );
        for (i, name) in w.covering.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<Text, _>(*name)?;
        }
        out.push_sql(")) ON CONFLICT (dedupe_key) DO NOTHING)");
        out.push_sql(
            ", o AS (INSERT INTO outbox (id, dedupe_key, kind, recipient, subject, body, \
             payload, ticket_id, status, attempts, next_attempt_at, created_at) \
             SELECT gen_random_uuid(), ",
        );
        out.push_bind_param::<Text, _>(&a.dedupe_prefix)?;
        out.push_sql(" || u.id::text, 'email', u.email, ");
        self.numbered(&mut out, a.subject, "t")?;
        out.push_sql(", replace(");
        self.numbered(&mut out, a.body, "t")?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(ENTERPRISE_NAME)?;
        out.push_sql(", en.name), NULL, t.id, 'pending', 0, ");
        out.push_bind_param::<UtcTime, _>(&a.now)?;
        out.push_sql(", ");
        out.push_bind_param::<UtcTime, _>(&a.now)?;
        out.push_sql(" FROM t, users u, enterprises en WHERE u.active AND u.role = ");
        out.push_bind_param::<Text, _>(a.role)?;
        out.push_sql(" AND u.department_id IS NOT DISTINCT FROM ");
        out.push_bind_param::<Nullable<Uuid>, _>(&a.department_id)?;
        out.push_sql(" AND en.id = ");
        out.push_bind_param::<Uuid, _>(&t.enterprise_id)?;
        out.push_sql(" ON CONFLICT (dedupe_key) DO NOTHING) SELECT v FROM n");
        Ok(())
    }
}

impl<'a> CreateStatement<'a> {
    /// `text` with the real number, from `from.number`, over the placeholder.
    fn numbered<'b>(
        &'b self,
        out: &mut AstPass<'_, 'b, Pg>,
        text: &'b str,
        from: &'static str,
    ) -> QueryResult<()>
    where
        'a: 'b,
    {
        out.push_sql("replace(");
        out.push_bind_param::<Text, _>(text)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.placeholder)?;
        out.push_sql(", ");
        out.push_sql(from);
        out.push_sql(".number)");
        Ok(())
    }
}
