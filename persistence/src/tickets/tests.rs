//! The ticket store on both backends: what is written reads back exactly; commands are
//! all or nothing; concurrency neither loses updates nor duplicates numbers, keys or
//! claims; the SQL scope is the domain's `can_see`.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use jiban_domain::deadline::{CalendarDay, DayKind};
use jiban_domain::ticket::{Command, Event, EventData, Rules, Status, Ticket, can_see};
use jiban_domain::values::{
    Body, CategoryCode, DepartmentId, Description, EnterpriseId, Kind, RatingLevel, ResultText,
    Role, Title, Urgency, UserId,
};
use jiban_domain::{Actor, DomainError, User};

use super::rows::NewEventRow;
use super::*;
use crate::both_backends;
use crate::conn::{Backend, DbConnection};
use crate::outbox;
use crate::schema::{departments, enterprise_liaisons, enterprises, ticket_events, tickets, users};
use crate::testdb::TestDb;
use crate::types::{DbInstant, DbUuid};

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// A county in the database: two enterprises, two departments, one user per role.
struct County {
    rules: Rules,
    e1: EnterpriseId,
    e2: EnterpriseId,
    d1: DepartmentId,
    enterprise: Actor,
    other_enterprise: Actor,
    liaison: Actor,
    officer: Actor,
    other_officer: Actor,
    supervisor: Actor,
}

const PUBLIC_URL: &str = "https://jiban.example.gov.cn";

impl County {
    fn ctx(&self) -> Context<'_> {
        Context {
            rules: &self.rules,
            public_url: PUBLIC_URL,
            enterprise_ticket_url: Some("https://qiye.example.com/t/{number}?id={id}"),
        }
    }

    fn new(conn: &mut DbConnection) -> County {
        let now = DbInstant::from(at(2026, 1, 1, 0, 0));
        let d1 = DepartmentId::from_uuid(uuid::Uuid::now_v7());
        let d2 = DepartmentId::from_uuid(uuid::Uuid::now_v7());
        for (d, code) in [(d1, "power"), (d2, "land")] {
            diesel::insert_into(departments::table)
                .values((
                    departments::id.eq(DbUuid(d.as_uuid())),
                    departments::code.eq(code),
                    departments::name.eq(code),
                    departments::created_at.eq(now),
                ))
                .execute(conn)
                .unwrap();
        }
        let e1 = EnterpriseId::from_uuid(uuid::Uuid::now_v7());
        let e2 = EnterpriseId::from_uuid(uuid::Uuid::now_v7());
        for (e, uscc) in [(e1, "91350100M000100Y43"), (e2, "91110000600037341L")] {
            diesel::insert_into(enterprises::table)
                .values((
                    enterprises::id.eq(DbUuid(e.as_uuid())),
                    enterprises::name.eq(format!("企业{uscc}")),
                    enterprises::uscc.eq(uscc),
                    enterprises::contact_name.eq("王经理"),
                    enterprises::contact_phone.eq("13800000000"),
                    enterprises::contact_email.eq(format!("{uscc}@example.cn")),
                    enterprises::created_at.eq(now),
                    enterprises::updated_at.eq(now),
                ))
                .execute(conn)
                .unwrap();
        }
        let mut add =
            |name: &str, role: Role, dept: Option<DepartmentId>, ent: Option<EnterpriseId>| {
                let id = UserId::from_uuid(uuid::Uuid::now_v7());
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(DbUuid(id.as_uuid())),
                        users::username.eq(name),
                        users::password_hash.eq("x"),
                        users::role.eq(role.as_str()),
                        users::display_name.eq(name),
                        users::email.eq(format!("{name}@example.gov.cn")),
                        users::department_id.eq(dept.map(|d| DbUuid(d.as_uuid()))),
                        users::enterprise_id.eq(ent.map(|e| DbUuid(e.as_uuid()))),
                        users::active.eq(true),
                        users::created_at.eq(now),
                        users::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .unwrap();
                Actor::User(User {
                    id,
                    role,
                    department_id: dept,
                    enterprise_id: ent,
                    stationed_at: Vec::new(),
                })
            };
        let enterprise = add("ent1", Role::Enterprise, None, Some(e1));
        let other_enterprise = add("ent2", Role::Enterprise, None, Some(e2));
        let mut liaison = add("liaison", Role::Liaison, None, None);
        let officer = add("officer", Role::Officer, Some(d1), None);
        let other_officer = add("officer2", Role::Officer, Some(d2), None);
        let supervisor = add("supervisor", Role::Supervisor, None, None);
        diesel::insert_into(enterprise_liaisons::table)
            .values((
                enterprise_liaisons::enterprise_id.eq(DbUuid(e1.as_uuid())),
                enterprise_liaisons::liaison_id.eq(DbUuid(liaison.id().unwrap().as_uuid())),
            ))
            .execute(conn)
            .unwrap();
        if let Actor::User(u) = &mut liaison {
            u.stationed_at = vec![e1];
        }
        let mut rules = Rules::defaults();
        rules
            .categories
            .insert(CategoryCode::parse("utilities").unwrap(), Some(d1));
        County {
            rules,
            e1,
            e2,
            d1,
            enterprise,
            other_enterprise,
            liaison,
            officer,
            other_officer,
            supervisor,
        }
    }

    fn input(&self, category: &str, enterprise: Option<EnterpriseId>) -> TicketInput {
        TicketInput {
            enterprise_id: enterprise,
            kind: Kind::Complaint,
            urgency: None,
            category: CategoryCode::parse(category).unwrap(),
            title: Title::parse("厂区停电").unwrap(),
            description: Description::parse("自昨晚起停电，三条产线停工。").unwrap(),
        }
    }

    fn file(&self, conn: &mut DbConnection, category: &str, now: DateTime<Utc>) -> Ticket {
        create(
            conn,
            self.input(category, None),
            &self.enterprise,
            now,
            self.ctx(),
            None,
        )
        .unwrap()
        .ticket
    }
}

fn accept() -> Command {
    Command::Accept {
        department_id: None,
        assignee: None,
        urgency: None,
        resolve_with: None,
    }
}

fn seqs(conn: &mut DbConnection, t: &Ticket) -> Vec<i32> {
    ticket_events::table
        .filter(ticket_events::ticket_id.eq(DbUuid(t.id.as_uuid())))
        .select(ticket_events::seq)
        .order(ticket_events::seq)
        .load(conn)
        .unwrap()
}

both_backends!(a_created_ticket_reads_back_exactly, |db| {
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    // Nanoseconds are cut to the microsecond both backends keep, before the domain sees it.
    let now = at(2026, 9, 18, 10, 0) + Duration::nanoseconds(123_456_789);
    let first = county.file(&mut conn, "utilities", now);
    assert_eq!(first.number.to_string(), "JB-2026-000001");
    assert_eq!(
        first.created_at,
        at(2026, 9, 18, 10, 0) + Duration::microseconds(123_456)
    );
    assert_eq!(first.resolve_due.due_at, at(2026, 9, 25, 0, 0));
    assert_eq!(first.department_id, Some(county.d1));
    assert_eq!(get(&mut conn, first.id, &county.enterprise).unwrap(), first);
    let second = county.file(&mut conn, "land", now);
    assert_eq!(second.number.to_string(), "JB-2026-000002");
    // Another year starts its own sequence.
    let next_year = county.file(&mut conn, "land", at(2027, 1, 4, 9, 0));
    assert_eq!(next_year.number.to_string(), "JB-2027-000001");

    let (timeline, _) = events(&mut conn, first.id, &county.officer, 100, None).unwrap();
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].kind, "submitted");
    assert_eq!(
        Ticket::replay(&[timeline[0].to_event().unwrap()]).unwrap(),
        first
    );

    // The new ticket is announced to its department's officers, the intake one to the
    // supervisors (DESIGN.md section 5).
    let mail = outbox::list(&mut conn, None, 100).unwrap();
    let to: BTreeSet<_> = mail.iter().map(|m| m.recipient.as_str()).collect();
    assert!(to.contains("officer@example.gov.cn"));
    assert!(to.contains("supervisor@example.gov.cn"));
    assert!(!to.contains("officer2@example.gov.cn"));
    let officer_mail = mail
        .iter()
        .find(|m| m.recipient == "officer@example.gov.cn")
        .unwrap();
    assert!(officer_mail.subject.contains("JB-2026-000001"));
    assert!(
        officer_mail
            .body
            .contains(&format!("{PUBLIC_URL}/dashboard/tickets/{}", first.id))
    );
    assert!(
        officer_mail.body.contains("企业：企业91350100M000100Y43"),
        "{}",
        officer_mail.body
    );
});

/// DEPENDENCIES.md: on PostgreSQL a create is one statement that takes its own number,
/// prepared once per connection; no separate `nextval` goes out.
#[test]
fn postgres_prepares_the_create_statement_once() {
    let Some(db) = TestDb::postgres() else { return };
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    for minute in 0..3 {
        county.file(&mut conn, "utilities", at(2026, 5, 6, 9, minute));
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    for (statement, times) in [
        ("WITH n AS MATERIALIZED (SELECT v, 'JB-'%", 1),
        ("%nextval%", 1),
    ] {
        let prepared = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE '{}'",
            statement.replace('\'', "''")
        ))
        .get_result::<Count>(&mut *conn)
        .unwrap();
        assert_eq!(prepared.n, times, "{statement}");
    }
}

/// On PostgreSQL the create statement numbers the ticket: every text that carries the
/// number (the ticket's state, its first event, the notice, the webhook body) carries the
/// one the sequence gave, never the placeholder the service built them with; and a
/// seventh digit is kept, not cut to six.
#[test]
fn postgres_writes_the_sequence_number_everywhere() {
    let Some(db) = TestDb::postgres() else { return };
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    county.file(&mut conn, "utilities", at(2026, 5, 6, 9, 0));
    diesel::sql_query("SELECT setval('ticket_number_2026', 999999)")
        .execute(&mut *conn)
        .unwrap();
    let hook = crate::webhooks::tests::hook(&mut conn, &["ticket.*"], false).id;
    let t = county.file(&mut conn, "utilities", at(2026, 5, 6, 9, 1));
    assert_eq!(t.number.to_string(), "JB-2026-1000000");
    assert_eq!(get(&mut conn, t.id, &county.officer).unwrap(), t);
    let placeholder = super::numbers::placeholder(2026).unwrap().to_string();
    #[derive(QueryableByName)]
    struct Texts {
        #[diesel(sql_type = diesel::sql_types::Text)]
        n: String,
    }
    let row = diesel::sql_query(format!(
        "SELECT t.number || t.state || e.data || string_agg(o.subject || o.body, '') AS n \
         FROM tickets t JOIN ticket_events e ON e.ticket_id = t.id \
         JOIN outbox o ON o.ticket_id = t.id WHERE t.id = '{}' \
         GROUP BY t.number, t.state, e.data",
        t.id
    ))
    .get_result::<Texts>(&mut *conn)
    .unwrap()
    .n;
    assert!(!row.contains(&placeholder), "{row}");
    assert!(!row.contains("JB-2026-100000\""), "{row}");
    // The number, the state, the event, two mails and a webhook each carry it.
    assert!(row.matches("JB-2026-1000000").count() >= 6, "{row}");
    let rows = outbox::list(&mut conn, None, 100).unwrap();
    let delivery = rows
        .iter()
        .find(|m| m.webhook_id == Some(hook) && m.ticket_id == Some(t.id.as_uuid()))
        .expect("the create's webhook row");
    let body: serde_json::Value = serde_json::from_str(&delivery.body).unwrap();
    assert_eq!(body["ticket"]["number"], "JB-2026-1000000");
}

/// Issue 9: a filtered list goes out unnamed, so PostgreSQL plans it for the values asked
/// (an enterprise's three tickets or its thirty thousand) rather than keeping one generic
/// plan after five executions; the unfiltered list stays prepared.
#[test]
fn postgres_plans_a_filtered_list_for_each_request() {
    let Some(db) = TestDb::postgres() else { return };
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    county.file(&mut conn, "utilities", at(2026, 5, 6, 9, 0));
    let now = at(2026, 5, 6, 10, 0);
    let mine = TicketFilter {
        enterprise_id: Some(county.e1),
        ..TicketFilter::default()
    };
    for _ in 0..6 {
        for filter in [&mine, &TicketFilter::default()] {
            let page = list(&mut conn, &county.supervisor, filter, 20, None, now).unwrap();
            assert_eq!(page.items.len(), 1);
        }
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut prepared = |pattern: &str| {
        diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_prepared_statements \
             WHERE statement LIKE 'SELECT \"tickets\".\"state\" FROM \"tickets\" {pattern}'"
        ))
        .get_result::<Count>(&mut *conn)
        .unwrap()
        .n
    };
    assert_eq!(prepared("%enterprise_id%"), 0, "the filtered list");
    assert_eq!(prepared("%ORDER BY%"), 1, "the unfiltered list");
}

/// The seqs of every page of one entry of a ticket's timeline, as `actor` reads it.
fn event_pages(
    conn: &mut DbConnection,
    id: jiban_domain::values::TicketId,
    actor: &Actor,
) -> Vec<Vec<i32>> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = events(conn, id, actor, 1, after).unwrap();
        pages.push(page.iter().map(|e| e.seq).collect());
        match next {
            Some(seq) => after = Some(seq),
            None => return pages,
        }
    }
}

// A row whose stored flag says public while the rule now hides it (a refused extension
// stored before issue 8 made it internal; the table is append-only, so such rows stay):
// `seen_by` drops it, and the enterprise's page is filled past it instead of ending the
// timeline there.
both_backends!(event_pages_fill_past_entries_hidden_by_the_rule, |db| {
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let t = county.file(&mut conn, "land", at(2026, 3, 2, 9, 0));
    let comment = |seq: u32, internal: bool| Event {
        at: at(2026, 3, 2, 10, seq),
        actor_id: None,
        version: 1,
        data: EventData::Commented {
            attachment_ids: Vec::new(),
            body: format!("第{seq}条"),
            internal,
        },
    };
    for (seq, internal) in [(2, true), (3, false)] {
        let mut row = NewEventRow::new(&t, seq as i32, &comment(seq, internal)).unwrap();
        row.internal = false;
        diesel::insert_into(ticket_events::table)
            .values(row)
            .execute(&mut conn)
            .unwrap();
    }
    assert_eq!(event_pages(&mut conn, t.id, &county.enterprise), [[1], [3]]);
    assert_eq!(
        event_pages(&mut conn, t.id, &county.officer),
        [[1], [2], [3]]
    );
});

both_backends!(commands_write_row_events_and_notices_together, |db| {
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let t = county.file(&mut conn, "utilities", at(2026, 3, 2, 9, 0));
    let ctx = county.ctx();
    let t = execute(
        &mut conn,
        t.id,
        Some(1),
        accept(),
        &county.officer,
        at(2026, 3, 2, 9, 5),
        ctx,
    )
    .unwrap();
    assert_eq!((t.status, t.version), (Status::InProgress, 2));
    let comment = Command::Comment {
        attachment_ids: Vec::new(),
        body: Body::parse("已联系供电所").unwrap(),
        internal: true,
    };
    let t = execute(
        &mut conn,
        t.id,
        None,
        comment,
        &county.officer,
        at(2026, 3, 2, 9, 6),
        ctx,
    )
    .unwrap();
    assert_eq!(t.version, 2, "comments do not change the version");
    let resolve = Command::Resolve {
        result: ResultText::parse("已协调供电公司恢复厂区供电。").unwrap(),
    };
    let t = execute(
        &mut conn,
        t.id,
        Some(2),
        resolve,
        &county.officer,
        at(2026, 3, 3, 9, 0),
        ctx,
    )
    .unwrap();
    assert_eq!(t.status, Status::Resolved);
    assert_eq!(get(&mut conn, t.id, &county.supervisor).unwrap(), t);
    assert_eq!(seqs(&mut conn, &t), vec![1, 2, 3, 4]);
    // The enterprise is told of acceptance and of the result; it does not see internal notes.
    let to_enterprise = outbox::list(&mut conn, None, 100)
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == "91350100M000100Y43@example.cn")
        .count();
    assert_eq!(to_enterprise, 2);
    let seen: Vec<String> = events(&mut conn, t.id, &county.enterprise, 100, None)
        .unwrap()
        .0
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(seen, ["submitted", "accepted", "resolved"]);
    // Pages of one by seq: the hidden internal note (seq 3) neither fills a page nor ends
    // the timeline early; the officer's pages hold it.
    assert_eq!(
        event_pages(&mut conn, t.id, &county.enterprise),
        [[1], [2], [4]]
    );
    assert_eq!(
        event_pages(&mut conn, t.id, &county.officer),
        [[1], [2], [3], [4]]
    );
    // A refused command writes nothing.
    let rate = Command::Rate {
        level: RatingLevel::Satisfied,
        comment: None,
    };
    let err = execute(
        &mut conn,
        t.id,
        Some(3),
        rate,
        &county.officer,
        at(2026, 3, 3, 10, 0),
        ctx,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        TicketError::Domain(DomainError::NotPermitted(_))
    ));
    assert_eq!(seqs(&mut conn, &t).len(), 4);
});

both_backends!(stale_versions_and_outsiders_are_refused, |db| {
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let t = county.file(&mut conn, "utilities", at(2026, 3, 2, 9, 0));
    let ctx = county.ctx();
    let err = execute(
        &mut conn,
        t.id,
        Some(7),
        accept(),
        &county.officer,
        at(2026, 3, 2, 9, 5),
        ctx,
    )
    .unwrap_err();
    assert!(matches!(err, TicketError::VersionMismatch { current: 1 }));
    // An outsider learns nothing, not even that its version is stale.
    let err = execute(
        &mut conn,
        t.id,
        Some(7),
        accept(),
        &county.other_officer,
        at(2026, 3, 2, 9, 5),
        ctx,
    )
    .unwrap_err();
    assert!(matches!(err, TicketError::Domain(DomainError::NotFound)));
    assert!(matches!(
        get(&mut conn, t.id, &county.other_enterprise),
        Err(TicketError::Domain(DomainError::NotFound))
    ));
});

both_backends!(sixteen_writers_with_one_version_one_wins, |db| {
    let county = County::new(&mut db.conn());
    let t = county.file(&mut db.conn(), "utilities", at(2026, 3, 2, 9, 0));
    let barrier = Arc::new(Barrier::new(16));
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let barrier = barrier.clone();
                let county = &county;
                s.spawn(move || {
                    let mut conn = db.conn();
                    barrier.wait();
                    let who = if i % 2 == 0 {
                        &county.officer
                    } else {
                        &county.liaison
                    };
                    execute(
                        &mut conn,
                        t.id,
                        Some(1),
                        accept(),
                        who,
                        at(2026, 3, 2, 9, 5),
                        county.ctx(),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won = results.iter().filter(|r| r.is_ok()).count();
    let stale = results
        .iter()
        .filter(|r| matches!(r, Err(TicketError::VersionMismatch { current: 2 })))
        .count();
    assert_eq!((won, stale), (1, 15), "{results:?}");
    assert_eq!(seqs(&mut db.conn(), &t), vec![1, 2]);
});

both_backends!(sixteen_creators_get_distinct_numbers, |db| {
    let county = County::new(&mut db.conn());
    let numbers: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let county = &county;
                s.spawn(move || {
                    let mut conn = db.conn();
                    (0..4)
                        .map(|_| {
                            county
                                .file(&mut conn, "land", at(2026, 5, 6, 9, 0))
                                .number
                                .to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let distinct: BTreeSet<_> = numbers.iter().collect();
    assert_eq!(distinct.len(), 64);
});

/// DESIGN.md section 9: on PostgreSQL no create waits for another's commit to get its
/// number: a create finishes while another create's transaction is still open.
#[test]
fn postgres_creates_do_not_wait_for_each_other() {
    let Some(db) = TestDb::postgres() else { return };
    let county = County::new(&mut db.conn());
    county.file(&mut db.conn(), "land", at(2026, 5, 6, 9, 0)); // the year's sequence exists
    let holding = Arc::new(Barrier::new(2));
    let done = Arc::new(Barrier::new(2));
    std::thread::scope(|s| {
        let (county, db) = (&county, &db);
        let (holding2, done2) = (holding.clone(), done.clone());
        s.spawn(move || {
            let mut conn = db.conn();
            conn.transaction::<_, diesel::result::Error, _>(|conn| {
                county.file(conn, "land", at(2026, 5, 6, 9, 1));
                holding2.wait();
                done2.wait(); // stay open until the other create has finished
                Err::<(), _>(diesel::result::Error::RollbackTransaction)
            })
            .unwrap_err();
        });
        holding.wait();
        let (tx, rx) = std::sync::mpsc::channel();
        s.spawn(move || {
            let t = county.file(&mut db.conn(), "land", at(2026, 5, 6, 9, 2));
            tx.send(t.number).unwrap();
        });
        let number = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("a create waited for another's open transaction");
        assert_eq!(number.seq(), 3);
        done.wait();
    });
}

both_backends!(one_idempotency_key_makes_one_ticket, |db| {
    let county = County::new(&mut db.conn());
    let barrier = Arc::new(Barrier::new(16));
    let key = Idempotency {
        key: "retry-7f3a",
        fingerprint: "sha256:aaa",
    };
    let results: Vec<Created> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let barrier = barrier.clone();
                let county = &county;
                s.spawn(move || {
                    let mut conn = db.conn();
                    barrier.wait();
                    let now = at(2026, 5, 6, 9, 0) + Duration::seconds(i);
                    create(
                        &mut conn,
                        county.input("land", None),
                        &county.enterprise,
                        now,
                        county.ctx(),
                        Some(key),
                    )
                    .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ids: BTreeSet<_> = results.iter().map(|c| c.ticket.id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(results.iter().filter(|c| !c.replayed).count(), 1);
    let first = results.iter().find(|c| !c.replayed).unwrap();
    assert!(
        results.iter().all(|c| c.ticket == first.ticket),
        "retries answer the first response"
    );
    let count: i64 = tickets::table.count().get_result(&mut db.conn()).unwrap();
    assert_eq!(count, 1);
    // The same key with another body is refused; another user's same key is its own.
    let other = Idempotency {
        key: "retry-7f3a",
        fingerprint: "sha256:bbb",
    };
    let err = create(
        &mut db.conn(),
        county.input("land", None),
        &county.enterprise,
        at(2026, 5, 6, 10, 0),
        county.ctx(),
        Some(other),
    )
    .unwrap_err();
    assert!(matches!(err, TicketError::IdempotencyMismatch));
    let theirs = create(
        &mut db.conn(),
        county.input("land", None),
        &county.other_enterprise,
        at(2026, 5, 6, 10, 0),
        county.ctx(),
        Some(key),
    )
    .unwrap();
    assert!(!theirs.replayed);
    // After 24 hours the key is forgotten.
    let later = create(
        &mut db.conn(),
        county.input("land", None),
        &county.enterprise,
        at(2026, 5, 7, 10, 0),
        county.ctx(),
        Some(other),
    )
    .unwrap();
    assert!(!later.replayed);
});

// Housekeeping (DESIGN.md section 8): keys past their day go, younger ones stay and still
// replay; the whole pass is safe to run twice.
both_backends!(old_idempotency_keys_are_pruned_and_young_ones_kept, |db| {
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let filed_with = |conn: &mut DbConnection, key: &str, now| {
        create(
            conn,
            county.input("land", None),
            &county.enterprise,
            now,
            county.ctx(),
            Some(Idempotency {
                key,
                fingerprint: "sha256:aaa",
            }),
        )
        .unwrap()
    };
    let now = at(2026, 5, 7, 12, 0);
    filed_with(&mut conn, "old", now - Duration::hours(25));
    let young = filed_with(&mut conn, "young", now - Duration::hours(23));
    let keys = |conn: &mut DbConnection| -> Vec<String> {
        crate::schema::idempotency_keys::table
            .select(crate::schema::idempotency_keys::key)
            .order(crate::schema::idempotency_keys::key)
            .load(conn)
            .unwrap()
    };
    assert_eq!(keys(&mut conn), ["old", "young"]);
    let report = crate::housekeeping::run(&mut conn, now, now - Duration::minutes(15)).unwrap();
    assert_eq!((report.idempotency_keys, report.skipped), (1, false));
    assert_eq!(keys(&mut conn), ["young"]);
    let again = crate::housekeeping::run(&mut conn, now, now - Duration::minutes(15)).unwrap();
    assert_eq!(again.idempotency_keys, 0, "twice is safe");
    let retried = filed_with(&mut conn, "young", now);
    assert!(
        retried.replayed,
        "a young key still answers its first response"
    );
    assert_eq!(retried.ticket.id, young.ticket.id);
});

both_backends!(events_cannot_be_changed_or_deleted, |db| {
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let t = county.file(&mut conn, "land", at(2026, 3, 2, 9, 0));
    let mine = ticket_events::ticket_id.eq(DbUuid(t.id.as_uuid()));
    let update = diesel::update(ticket_events::table.filter(mine))
        .set(ticket_events::data.eq("{}"))
        .execute(&mut conn);
    assert!(update.is_err(), "UPDATE went through");
    let delete = diesel::delete(ticket_events::table.filter(mine)).execute(&mut conn);
    assert!(delete.is_err(), "DELETE went through");
    assert_eq!(seqs(&mut conn, &t), vec![1]);
});

both_backends!(the_list_shows_exactly_what_can_see_allows, |db| {
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let ctx = county.ctx();
    let mut all = Vec::new();
    for (i, category) in ["utilities", "land", "utilities", "land", "policy"]
        .iter()
        .enumerate()
    {
        let now = at(2026, 3, 2, 9, i as u32);
        all.push(county.file(&mut conn, category, now));
        let theirs = create(
            &mut conn,
            county.input(category, None),
            &county.other_enterprise,
            now,
            ctx,
            None,
        )
        .unwrap();
        all.push(theirs.ticket);
    }
    // The other department's officer takes one intake ticket: it leaves everyone's intake.
    let t = execute(
        &mut conn,
        all[3].id,
        Some(1),
        accept(),
        &county.other_officer,
        at(2026, 3, 2, 10, 0),
        ctx,
    )
    .unwrap();
    all[3] = t;
    let now = at(2026, 3, 2, 12, 0);
    for actor in [
        &county.enterprise,
        &county.other_enterprise,
        &county.liaison,
        &county.officer,
        &county.other_officer,
        &county.supervisor,
    ] {
        let expected: BTreeSet<_> = all
            .iter()
            .filter(|t| can_see(actor, t))
            .map(|t| t.id)
            .collect();
        // Pages of two, following the cursor, give each visible ticket once, newest first.
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = list(&mut conn, actor, &TicketFilter::default(), 2, after, now).unwrap();
            seen.extend(page.items.iter().map(|t| (t.created_at, t.id)));
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        let ids: BTreeSet<_> = seen.iter().map(|(_, id)| *id).collect();
        assert_eq!(ids, expected, "{actor:?}");
        assert_eq!(ids.len(), seen.len());
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");
    }
});

// Each filter keeps some tickets and drops others: with three tickets that differ in every
// filtered column, a filter that is ignored, or one that drops everything, fails.
both_backends!(list_filters, |db| {
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let ctx = county.ctx();
    let old = county.file(&mut conn, "utilities", at(2026, 3, 2, 9, 0));
    let new = county.file(&mut conn, "land", at(2026, 3, 20, 9, 0));
    execute(
        &mut conn,
        new.id,
        Some(1),
        accept(),
        &county.officer,
        at(2026, 3, 20, 9, 5),
        ctx,
    )
    .unwrap();
    // The other enterprise's emergency request, in the intake queue (no department), escalated.
    let other = create(
        &mut conn,
        TicketInput {
            urgency: Some(Urgency::Emergency),
            kind: Kind::Request,
            ..county.input("land", None)
        },
        &county.other_enterprise,
        at(2026, 3, 15, 9, 0),
        ctx,
        None,
    )
    .unwrap()
    .ticket;
    // The column the filter reads, as the scanner's escalation leaves it.
    diesel::update(tickets::table.filter(tickets::id.eq(DbUuid(other.id.as_uuid()))))
        .set(tickets::supervised.eq(true))
        .execute(&mut conn)
        .unwrap();
    let ids = |filter: TicketFilter, now| -> Vec<_> {
        let mut conn = db.conn();
        list(&mut conn, &county.supervisor, &filter, 100, None, now)
            .unwrap()
            .items
            .into_iter()
            .map(|t| t.id)
            .collect()
    };
    let now = at(2026, 3, 20, 10, 0);
    assert_eq!(
        ids(TicketFilter::default(), now),
        [new.id, other.id, old.id],
        "newest first, all three"
    );
    let cases = [
        (
            TicketFilter {
                status: vec![Status::InProgress],
                ..Default::default()
            },
            vec![new.id],
        ),
        (
            TicketFilter {
                status: vec![Status::Submitted],
                ..Default::default()
            },
            vec![other.id, old.id],
        ),
        (
            TicketFilter {
                department_id: Some(county.d1),
                ..Default::default()
            },
            vec![new.id, old.id],
        ),
        (
            TicketFilter {
                overdue: Some(true),
                ..Default::default()
            },
            vec![other.id, old.id],
        ),
        (
            TicketFilter {
                overdue: Some(false),
                ..Default::default()
            },
            vec![new.id],
        ),
        (
            TicketFilter {
                urgency: Some(Urgency::Emergency),
                ..Default::default()
            },
            vec![other.id],
        ),
        (
            TicketFilter {
                urgency: Some(Urgency::General),
                ..Default::default()
            },
            vec![new.id, old.id],
        ),
        (
            TicketFilter {
                kind: Some(Kind::Request),
                ..Default::default()
            },
            vec![other.id],
        ),
        (
            TicketFilter {
                kind: Some(Kind::Complaint),
                ..Default::default()
            },
            vec![new.id, old.id],
        ),
        (
            TicketFilter {
                enterprise_id: Some(county.e2),
                ..Default::default()
            },
            vec![other.id],
        ),
        (
            TicketFilter {
                enterprise_id: Some(county.e1),
                ..Default::default()
            },
            vec![new.id, old.id],
        ),
        (
            TicketFilter {
                assignee_id: county.officer.id(),
                ..Default::default()
            },
            vec![new.id],
        ),
        (
            TicketFilter {
                created_from: Some(at(2026, 3, 1, 0, 0)),
                created_to: Some(at(2026, 3, 10, 0, 0)),
                ..Default::default()
            },
            vec![old.id],
        ),
        (
            TicketFilter {
                created_from: Some(at(2026, 3, 10, 0, 0)),
                ..Default::default()
            },
            vec![new.id, other.id],
        ),
        (
            TicketFilter {
                supervised: Some(true),
                ..Default::default()
            },
            vec![other.id],
        ),
        (
            TicketFilter {
                supervised: Some(false),
                ..Default::default()
            },
            vec![new.id, old.id],
        ),
    ];
    for (filter, expected) in cases {
        let described = format!("{filter:?}");
        assert_eq!(ids(filter, now), expected, "{described}");
    }
});

both_backends!(scanners_claim_each_due_ticket_once, |db| {
    let county = County::new(&mut db.conn());
    let mut conn = db.conn();
    for i in 0..60 {
        county.file(
            &mut conn,
            "land",
            at(2026, 3, 2, 9, 0) + Duration::seconds(i),
        );
    }
    // The alert schedule is another issue's: set next_alert_at by hand.
    diesel::update(tickets::table)
        .set(tickets::next_alert_at.eq(Some(DbInstant::from(at(2026, 3, 3, 0, 0)))))
        .execute(&mut conn)
        .unwrap();
    let not_yet = claim_due(&mut conn, at(2026, 3, 2, 23, 59), 10).unwrap();
    assert!(not_yet.is_empty());
    let claimed: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    let mut conn = db.conn();
                    let mut mine = Vec::new();
                    loop {
                        let batch = crate::conn::write_tx(&mut conn, |conn| {
                            let batch = claim_due(conn, at(2026, 3, 3, 0, 0), 5)?;
                            let ids: Vec<_> =
                                batch.iter().map(|(t, _)| DbUuid(t.id.as_uuid())).collect();
                            // Acting on a ticket moves its next alert on.
                            diesel::update(tickets::table.filter(tickets::id.eq_any(&ids)))
                                .set(tickets::next_alert_at.eq(None::<DbInstant>))
                                .execute(conn)?;
                            Ok::<_, crate::StoreError>(batch)
                        })
                        .unwrap();
                        if batch.is_empty() {
                            break mine;
                        }
                        mine.extend(batch.into_iter().map(|(t, _)| t.id));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let distinct: BTreeSet<_> = claimed.iter().collect();
    assert_eq!((claimed.len(), distinct.len()), (60, 60));
});

both_backends!(loading_a_year_recomputes_its_provisional_deadlines, |db| {
    let mut conn = db.conn();
    let mut county = County::new(&mut conn);
    let t = county.file(&mut conn, "land", at(2026, 12, 31, 10, 0));
    let settled = county.file(&mut conn, "land", at(2026, 6, 1, 10, 0));
    assert!(t.resolve_due.provisional);
    assert_eq!(t.resolve_due.due_at, at(2027, 1, 8, 0, 0));
    let holiday = CalendarDay {
        date: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        kind: DayKind::Holiday,
        name: "元旦".into(),
    };
    county.rules.calendar.set_year(2027, vec![holiday]).unwrap();
    let moved = recompute_provisional(&mut conn, &county.rules, at(2027, 1, 2, 8, 0)).unwrap();
    assert_eq!(moved, 1);
    let t = get(&mut conn, t.id, &county.supervisor).unwrap();
    assert!(!t.resolve_due.provisional);
    assert_eq!(t.resolve_due.due_at, at(2027, 1, 9, 0, 0));
    assert_eq!(seqs(&mut conn, &t), vec![1, 2]);
    assert_eq!(
        get(&mut conn, settled.id, &county.supervisor).unwrap(),
        settled
    );
    assert_eq!(
        recompute_provisional(&mut conn, &county.rules, at(2027, 1, 2, 8, 0)).unwrap(),
        0
    );
});

both_backends!(filing_for_an_unknown_enterprise_is_refused, |db| {
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let nowhere = EnterpriseId::from_uuid(uuid::Uuid::now_v7());
    let err = create(
        &mut conn,
        county.input("land", Some(nowhere)),
        &county.officer,
        at(2026, 3, 2, 9, 0),
        county.ctx(),
        None,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            TicketError::Domain(DomainError::Refused {
                field: "enterprise_id",
                ..
            })
        ),
        "{err:?}"
    );
    let count: i64 = tickets::table.count().get_result(&mut conn).unwrap();
    assert_eq!(count, 0);
});

both_backends!(an_alert_is_recorded_once_whoever_decides_it, |db| {
    use crate::alerts::{self, AlertFilter};
    use jiban_domain::alert::{AlertKey, AlertLevel, Party};
    use jiban_domain::deadline::DeadlineName;
    let county = County::new(&mut db.conn());
    let t = county.file(&mut db.conn(), "utilities", at(2026, 3, 2, 9, 0));
    let officer = county.officer.id().unwrap().as_uuid();
    let supervisor = county.supervisor.id().unwrap().as_uuid();
    let key = AlertKey {
        ticket_id: t.id,
        deadline: DeadlineName::Accept,
        party: Party::Handler,
        level: AlertLevel::Escalation,
        due_at: t.accept_due.due_at,
    };
    let recipients = [officer, supervisor];
    let barrier = Arc::new(Barrier::new(16));
    let decided: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (barrier, key) = (barrier.clone(), &key);
                s.spawn(move || {
                    let mut conn = db.conn();
                    barrier.wait();
                    crate::conn::write_tx(&mut conn, |conn| {
                        alerts::record(conn, key, &recipients, at(2026, 3, 4, 0, 0))
                    })
                    .unwrap()
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(decided.len(), 1, "decided once");
    let mut conn = db.conn();
    let id = decided[0];
    assert!(alerts::is_recorded(&mut conn, &key).unwrap());
    assert_eq!(
        alerts::for_ticket(&mut conn, t.id.as_uuid()).unwrap().len(),
        1
    );
    let mut expected = vec![officer, supervisor];
    expected.sort();
    assert_eq!(alerts::recipients(&mut conn, id).unwrap(), expected);
    let unacknowledged = |conn: &mut DbConnection, actor: &Actor| {
        let filter = AlertFilter {
            recipient: actor.id().map(|u| u.as_uuid()),
            unacknowledged: true,
            ..AlertFilter::default()
        };
        alerts::list(conn, actor, &filter, 10, None).unwrap().0
    };
    assert_eq!(unacknowledged(&mut conn, &county.officer).len(), 1);
    assert!(alerts::acknowledge(&mut conn, id, supervisor, at(2026, 3, 4, 1, 0)).unwrap());
    assert!(!alerts::acknowledge(&mut conn, id, officer, at(2026, 3, 4, 2, 0)).unwrap());
    assert!(unacknowledged(&mut conn, &county.officer).is_empty());
    let acked = &alerts::for_ticket(&mut conn, t.id.as_uuid()).unwrap()[0];
    assert_eq!(acked.acknowledged_by, Some(supervisor));
    // A moved deadline is a new alert.
    let moved = AlertKey {
        due_at: t.accept_due.due_at + Duration::days(1),
        ..key
    };
    assert!(
        alerts::record(&mut conn, &moved, &[], at(2026, 3, 5, 0, 0))
            .unwrap()
            .is_some()
    );
    // Scope: the other department's officer sees none of them, the supervisor both.
    let all = AlertFilter::default();
    let (seen, _) = alerts::list(&mut conn, &county.other_officer, &all, 10, None).unwrap();
    assert!(seen.is_empty());
    let (seen, next) = alerts::list(&mut conn, &county.supervisor, &all, 1, None).unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].ticket_number, t.number.to_string());
    let (rest, end) = alerts::list(&mut conn, &county.supervisor, &all, 1, next).unwrap();
    assert_eq!((rest.len(), end), (1, None));
    assert_ne!(rest[0].alert.id, seen[0].alert.id);
});

both_backends!(scanners_record_each_alert_once_and_escalate, |db| {
    let county = County::new(&mut db.conn());
    let mut ids = Vec::new();
    for i in 0..30 {
        // The intake queue: every alert goes to the supervisors.
        let t = county.file(
            &mut db.conn(),
            "land",
            at(2026, 3, 2, 9, 0) + Duration::seconds(i),
        );
        ids.push(t.id);
    }
    // Rows from before the alert schedule: no overdue_at yet (the migration's backfill).
    diesel::update(tickets::table)
        .set(tickets::overdue_at.eq(None::<DbInstant>))
        .execute(&mut db.conn())
        .unwrap();
    // Everything has fired by 03-20: three deadlines, three levels each.
    let now = at(2026, 3, 20, 9, 0);
    let reports: Vec<ScanReport> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut conn = db.conn();
                    scan(&mut conn, now, county.ctx(), 4, 100).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let alerts: usize = reports.iter().map(|r| r.alerts).sum();
    let escalated: usize = reports.iter().map(|r| r.escalated).sum();
    assert_eq!((alerts, escalated), (30 * 9, 30), "{reports:?}");
    let mut conn = db.conn();
    let mail = outbox::list(&mut conn, None, 10_000).unwrap();
    let alert_mail: Vec<_> = mail
        .iter()
        .filter(|m| m.dedupe_key.starts_with("alert:"))
        .collect();
    assert_eq!(alert_mail.len(), 30 * 9, "one supervisor, each alert once");
    assert!(
        alert_mail
            .iter()
            .all(|m| m.recipient == "supervisor@example.gov.cn")
    );
    for id in &ids {
        let t = get(&mut conn, *id, &county.supervisor).unwrap();
        assert!(t.supervised);
        let kinds: Vec<String> = events(&mut conn, *id, &county.supervisor, 100, None)
            .unwrap()
            .0
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds.iter().filter(|k| *k == "alerted").count(), 9);
        assert_eq!(kinds.iter().filter(|k| *k == "escalated").count(), 1);
    }
    // Nothing is left due, and the overdue filter agrees with the tickets again.
    let again = scan(&mut conn, now + Duration::days(30), county.ctx(), 4, 100).unwrap();
    assert_eq!((again.scanned, again.alerts), (0, 0));
    let overdue = TicketFilter {
        overdue: Some(true),
        ..TicketFilter::default()
    };
    let page = list(&mut conn, &county.supervisor, &overdue, 100, None, now).unwrap();
    assert_eq!(page.items.len(), 30);
});

both_backends!(
    tickets_filed_before_search_existed_are_found_after_the_backfill,
    |db| {
        use diesel_migrations::MigrationHarness;
        let mut conn = db.conn();
        let county = County::new(&mut conn);
        let ctx = county.ctx();
        // Both ways a ticket is written: one statement, and the transaction of a keyed create.
        let plain = county.file(&mut conn, "utilities", at(2026, 3, 2, 9, 0));
        let keyed = create(
            &mut conn,
            TicketInput {
                title: Title::parse("Land USE 用地审批").unwrap(),
                ..county.input("land", None)
            },
            &county.enterprise,
            at(2026, 3, 3, 9, 0),
            ctx,
            Some(Idempotency {
                key: "k1",
                fingerprint: "f1",
            }),
        )
        .unwrap()
        .ticket;
        let found = |conn: &mut DbConnection, q: &str| -> Vec<_> {
            let filter = TicketFilter {
                q: Some(jiban_domain::search::SearchQuery::parse(q).unwrap()),
                ..TicketFilter::default()
            };
            list(
                conn,
                &county.supervisor,
                &filter,
                100,
                None,
                at(2026, 4, 1, 0, 0),
            )
            .unwrap()
            .items
            .into_iter()
            .map(|t| t.id)
            .collect()
        };
        let expect = |conn: &mut DbConnection| {
            assert_eq!(found(conn, "停电"), [keyed.id, plain.id]);
            assert_eq!(found(conn, "use 用"), [keyed.id]);
            assert_eq!(found(conn, "产线停工"), [keyed.id, plain.id]);
            assert_eq!(found(conn, "电自"), [], "not across title and description");
        };
        expect(&mut conn);

        // As if the tickets predated the search step: revert down to it, apply again.
        let steps = crate::migrate::step_names(conn.backend());
        let step = steps
            .iter()
            .find(|s| s.ends_with("_ticket_search"))
            .unwrap();
        let version: String = step
            .chars()
            .take_while(|c| *c != '_')
            .filter(char::is_ascii_digit)
            .collect();
        let mut reverted = 0;
        loop {
            let last = match &mut *conn {
                DbConnection::Pg(c) => c
                    .revert_last_migration(crate::migrate::POSTGRES)
                    .map(|v| v.to_string()),
                DbConnection::Sqlite(c) => c
                    .revert_last_migration(crate::migrate::SQLITE)
                    .map(|v| v.to_string()),
            }
            .unwrap();
            reverted += 1;
            if last == version {
                break;
            }
        }
        assert_eq!(crate::migrate::run_pending(&mut conn).unwrap(), reverted);
        expect(&mut conn);
        assert_eq!(
            backfill_search(&mut conn).unwrap(),
            0,
            "nothing left to fill in"
        );
    }
);

// Issue 10: the statistics SQL counts (`crate::stats`) equal the domain's definition
// (`jiban_domain::stats`) over the same tickets read back with their timelines, for
// departments and officers and several periods; and again after the rows are taken back
// to what the migration leaves (unfilled, some states without their first round) and
// the backfill has filled them in.
both_backends!(statistics_from_sql_equal_the_definition, |db| {
    use jiban_domain::stats::{Bucket, Period, TicketFacts, totals_by, trend};
    use jiban_domain::values::{
        ContactMethod, Disposition, DispositionExplanation, Explanation, Reason,
    };

    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let d2 = DepartmentId::from_uuid(
        departments::table
            .filter(departments::code.eq("land"))
            .select(departments::id)
            .first::<DbUuid>(&mut conn)
            .unwrap()
            .0,
    );
    // A fixed xorshift, so a failure repeats.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let reason = |s: &str| Reason::parse(s).unwrap();
    let start = at(2026, 3, 2, 9, 0);
    let mut ids = Vec::new();
    for i in 0..240 {
        let filed = start + Duration::minutes(i * 211);
        let category = if next(6) == 0 { "other" } else { "utilities" };
        let mut ticket = county.file(&mut conn, category, filed);
        let mut clock = filed;
        for _ in 0..next(10) {
            // From minutes to two days: some deadlines are met, some pass.
            clock += Duration::minutes(1 + i64::try_from(next(2_880)).unwrap());
            let officer = if ticket.department_id == Some(d2) {
                &county.other_officer
            } else {
                &county.officer
            };
            let (command, actor) = match next(13) {
                0 | 1 => (accept(), officer),
                2 => (
                    Command::Contact {
                        method: ContactMethod::Phone,
                        summary: Body::parse("电话联系企业负责人了解情况").unwrap(),
                    },
                    officer,
                ),
                3 | 4 => (
                    Command::Resolve {
                        result: ResultText::parse("已协调供电公司恢复厂区供电。").unwrap(),
                    },
                    officer,
                ),
                5 => (
                    Command::Explain {
                        explanation: Explanation::parse(
                            &"受现行政策限制，该事项暂无法办理，已向企业详细说明政策依据。"
                                .repeat(2),
                        )
                        .unwrap(),
                        policy_basis: reason("相关政策文件"),
                        plan: None,
                    },
                    officer,
                ),
                6 | 7 => (
                    Command::Rate {
                        level: RatingLevel::ALL[usize::try_from(next(5)).unwrap()],
                        comment: None,
                    },
                    &county.enterprise,
                ),
                8 => (
                    Command::Appeal {
                        reason: reason("评价与办理无关"),
                    },
                    officer,
                ),
                9 => (
                    Command::DecideAppeal {
                        uphold: next(2) == 0,
                        note: None,
                    },
                    &county.supervisor,
                ),
                10 => (
                    Command::Withdraw {
                        reason: reason("已自行解决"),
                    },
                    &county.enterprise,
                ),
                11 => (
                    Command::Dispose {
                        disposition: Disposition::Redirect,
                        explanation: DispositionExplanation::parse(
                            "该诉求属于司法程序事项，已告知企业通过法院途径依法解决。",
                        )
                        .unwrap(),
                        duplicate_of: None,
                    },
                    officer,
                ),
                _ => (
                    Command::Transfer {
                        department_id: d2,
                        reason: reason("职能调整"),
                    },
                    &county.supervisor,
                ),
            };
            if let Ok(after) = execute(
                &mut conn,
                ticket.id,
                None,
                command,
                actor,
                clock,
                county.ctx(),
            ) {
                ticket = after;
            }
        }
        ids.push(ticket.id);
    }
    let now = start + Duration::days(40);
    let date = |m: u32, d: u32| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    let periods = [
        Period::new(date(3, 1), date(5, 1)).unwrap(),
        Period::new(date(3, 10), date(3, 21)).unwrap(),
        Period::new(date(4, 30), date(5, 1)).unwrap(),
    ];
    let check = |conn: &mut DbConnection| {
        let facts: Vec<TicketFacts> = ids
            .iter()
            .map(|id| {
                let ticket = get(conn, *id, &county.supervisor).unwrap();
                let (timeline, more) = events(conn, *id, &county.supervisor, 100, None).unwrap();
                assert!(more.is_none());
                let timeline: Vec<Event> = timeline.iter().map(|e| e.to_event().unwrap()).collect();
                TicketFacts::of(&ticket, &timeline, now)
            })
            .collect();
        for period in &periods {
            assert_eq!(
                crate::stats::departments(conn, period, now).unwrap(),
                totals_by(&facts, period, |f| f.department_id),
                "departments, {period:?}"
            );
            assert_eq!(
                crate::stats::officers(conn, period, None, now).unwrap(),
                totals_by(&facts, period, |f| f.assignee_id),
                "officers, {period:?}"
            );
            let of_d2 = facts.iter().filter(|f| f.department_id == Some(d2));
            assert_eq!(
                crate::stats::officers(conn, period, Some(d2), now).unwrap(),
                totals_by(of_d2, period, |f| f.assignee_id),
                "officers of one department, {period:?}"
            );
            // The trend: SQL's days in +08:00 added up into buckets, against the tickets
            // received in each bucket.
            for bucket in [Bucket::Day, Bucket::Week, Bucket::Month] {
                assert_eq!(
                    crate::stats::trend(conn, period, bucket, None, now).unwrap(),
                    trend(&facts, period, bucket),
                    "trend by {bucket:?}, {period:?}"
                );
                let of_d2 = facts.iter().filter(|f| f.department_id == Some(d2));
                assert_eq!(
                    crate::stats::trend(conn, period, bucket, Some(d2), now).unwrap(),
                    trend(of_d2, period, bucket),
                    "trend of one department by {bucket:?}, {period:?}"
                );
            }
        }
        facts
    };
    let facts = check(&mut conn);
    // The histories hold every case the rates distinguish, so the comparison is not vacuous.
    let all = &totals_by(&facts, &periods[0], |_| ())[&()];
    let t = &all.tally;
    for (case, count) in [
        ("disposed", t.disposed),
        ("withdrawn", t.withdrawn),
        ("responded on time", t.responded_on_time),
        ("late response", t.accepted - t.responded_on_time),
        ("resolved", t.resolved_now),
        ("unresolved outcome", t.with_outcome - t.resolved_now),
        ("rated", t.rated),
        ("on time", t.on_time),
        ("overdue now", t.overdue_now),
    ] {
        assert!(count > 0, "no ticket {case}");
    }
    let reopened: i64 = tickets::table
        .filter(tickets::redo_count.gt(0))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!(reopened > 0, "no ticket reopened by a bad rating");
    let transferred: i64 = tickets::table
        .filter(tickets::department_id.eq(DbUuid(d2.as_uuid())))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!(transferred > 0, "no ticket transferred");

    // As the migration leaves them: no facts, and the reopened tickets' states without
    // their first round, which only the timeline can give back.
    diesel::update(crate::schema::ticket_stats::table)
        .set((
            crate::schema::ticket_stats::filled.eq(false),
            crate::schema::ticket_stats::accepted.eq(0),
            crate::schema::ticket_stats::on_time.eq(0),
            crate::schema::ticket_stats::minutes_to_contact.eq(None::<i64>),
        ))
        .execute(&mut conn)
        .unwrap();
    let strip = match conn.backend() {
        Backend::Postgres => "UPDATE tickets SET state = (state::jsonb - 'first_round')::text",
        Backend::Sqlite => "UPDATE tickets SET state = json_remove(state, '$.first_round')",
    };
    diesel::sql_query(strip).execute(&mut conn).unwrap();
    assert_eq!(crate::stats::backfill(&mut conn).unwrap(), ids.len());
    assert_eq!(check(&mut conn), facts);
    assert_eq!(crate::stats::backfill(&mut conn).unwrap(), 0);
});

// Issue 9: a text of several grams is looked for among the newest tickets first (here the
// newest 3, `query::WINDOW` under test), then by the index among the older ones; the
// pages join without a gap or a repeat, newest first, on both backends.
both_backends!(a_text_is_found_in_recent_tickets_then_older_ones, |db| {
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let mut filed = Vec::new();
    for i in 0..9 {
        let title = if [0, 1, 5, 8].contains(&i) {
            "厂区停电影响生产"
        } else {
            "用地审批进度"
        };
        let input = TicketInput {
            title: Title::parse(title).unwrap(),
            description: Description::parse("详见附件。").unwrap(),
            ..county.input("utilities", None)
        };
        let t = create(
            &mut conn,
            input,
            &county.enterprise,
            at(2026, 3, 2, 9, i),
            county.ctx(),
            None,
        )
        .unwrap()
        .ticket;
        filed.push(t.id);
    }
    let filter = TicketFilter {
        q: Some(jiban_domain::search::SearchQuery::parse("厂区停电").unwrap()),
        ..TicketFilter::default()
    };
    for limit in [1, 2, 3, 10] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = list(
                &mut conn,
                &county.officer,
                &filter,
                limit,
                after,
                at(2026, 4, 1, 0, 0),
            )
            .unwrap();
            assert!(page.items.len() as i64 <= limit);
            seen.extend(page.items.iter().map(|t| t.id));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(
            seen,
            [filed[8], filed[5], filed[1], filed[0]],
            "pages of {limit}"
        );
    }
});

/// Follows the feed from `after` until a page comes back empty: the tickets seen, by id,
/// with the last seq each was seen at, and where it stopped.
fn follow(
    conn: &mut DbConnection,
    mut after: FeedCursor,
    limit: i64,
) -> (Vec<(uuid::Uuid, i32)>, FeedCursor) {
    let mut seen = Vec::new();
    loop {
        let (page, next) = changes(conn, after, limit).unwrap();
        if page.is_empty() {
            assert_eq!(
                next, after,
                "an empty page keeps the consumer where it stood"
            );
            return (seen, after);
        }
        assert!(page.len() as i64 <= limit);
        seen.extend(page.iter().map(|c| (c.ticket.id.as_uuid(), c.last_seq)));
        after = next;
    }
}

/// [`follow`] again and again until `done` holds for what was seen, or half a minute. On
/// PostgreSQL other tests' transactions in flight hold the feed back (never lose a change),
/// so what this test wrote may come a moment later.
fn follow_until(
    conn: &mut DbConnection,
    mut after: FeedCursor,
    limit: i64,
    done: impl Fn(&[(uuid::Uuid, i32)]) -> bool,
) -> (Vec<(uuid::Uuid, i32)>, FeedCursor) {
    let mut seen = Vec::new();
    for _ in 0..1500 {
        let (more, next) = follow(conn, after, limit);
        seen.extend(more);
        after = next;
        if done(&seen) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (seen, after)
}

both_backends!(the_feed_moves_a_ticket_with_each_of_its_events, |db| {
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let ctx = county.ctx();
    let tickets: Vec<Ticket> = (0..5)
        .map(|i| county.file(&mut conn, "utilities", at(2026, 3, 2, 9, i)))
        .collect();
    let (seen, cursor) = follow_until(&mut conn, FeedCursor::START, 2, |s| s.len() >= 5);
    let ids: BTreeSet<uuid::Uuid> = tickets.iter().map(|t| t.id.as_uuid()).collect();
    assert_eq!(seen.iter().map(|s| s.0).collect::<BTreeSet<_>>(), ids);
    assert!(seen.iter().all(|(_, seq)| *seq == 1));
    assert_eq!(seen.len(), 5, "each ticket once: {seen:?}");

    // A comment leaves the version alone and still moves the ticket; so does an accept.
    let comment = Command::Comment {
        attachment_ids: Vec::new(),
        body: Body::parse("已联系供电所").unwrap(),
        internal: true,
    };
    let t = execute(
        &mut conn,
        tickets[1].id,
        None,
        comment,
        &county.officer,
        at(2026, 3, 2, 9, 10),
        ctx,
    )
    .unwrap();
    assert_eq!(t.version, 1);
    execute(
        &mut conn,
        tickets[3].id,
        Some(1),
        accept(),
        &county.officer,
        at(2026, 3, 2, 9, 11),
        ctx,
    )
    .unwrap();
    let (seen, cursor) = follow_until(&mut conn, cursor, 10, |s| s.len() >= 2);
    assert_eq!(
        seen,
        vec![(tickets[1].id.as_uuid(), 2), (tickets[3].id.as_uuid(), 2)]
    );
    // Nothing new: the same cursor, no items.
    assert_eq!(follow(&mut conn, cursor, 10), (Vec::new(), cursor));
});

/// Transactions commit out of order: one that started writing first and commits last must
/// not be skipped by a consumer that already read the other's change (DESIGN.md section 7).
#[test]
fn postgres_feed_waits_for_a_transaction_still_in_flight() {
    let Some(db) = TestDb::postgres() else { return };
    let county = County::new(&mut db.conn());
    let ctx = county.ctx();
    let first = county.file(&mut db.conn(), "utilities", at(2026, 3, 2, 9, 0));
    let second = county.file(&mut db.conn(), "utilities", at(2026, 3, 2, 9, 1));
    let (_, start) = follow_until(&mut db.conn(), FeedCursor::START, 100, |s| s.len() >= 2);
    let written = Arc::new(Barrier::new(2));
    let commit = Arc::new(Barrier::new(2));
    std::thread::scope(|s| {
        let (county, db) = (&county, &db);
        let (written2, commit2) = (written.clone(), commit.clone());
        s.spawn(move || {
            let mut conn = db.conn();
            conn.transaction::<_, diesel::result::Error, _>(|conn| {
                let comment = Command::Comment {
                    attachment_ids: Vec::new(),
                    body: Body::parse("先写后提交").unwrap(),
                    internal: false,
                };
                execute(
                    conn,
                    first.id,
                    None,
                    comment,
                    &county.officer,
                    at(2026, 3, 2, 9, 5),
                    ctx,
                )
                .unwrap();
                written2.wait();
                commit2.wait();
                Ok(())
            })
            .unwrap();
        });
        written.wait();
        // The later transaction commits first.
        let comment = Command::Comment {
            attachment_ids: Vec::new(),
            body: Body::parse("后写先提交").unwrap(),
            internal: false,
        };
        let mut conn = db.conn();
        execute(
            &mut conn,
            second.id,
            None,
            comment,
            &county.officer,
            at(2026, 3, 2, 9, 6),
            ctx,
        )
        .unwrap();
        let (seen, cursor) = follow(&mut conn, start, 100);
        // Let the other transaction go before asserting: a failure must not leave it
        // waiting at the barrier.
        commit.wait();
        assert!(
            !seen.contains(&(second.id.as_uuid(), 2)),
            "served a change beyond a transaction still in flight: {seen:?}"
        );
        // Once the first has committed, both come, the first before the second. Other
        // tests' transactions may hold the feed back a moment; it only ever waits.
        let (seen, _) = follow_until(&mut conn, cursor, 100, |s| {
            s.contains(&(second.id.as_uuid(), 2))
        });
        // (The creates may come here too, had another test held the first drain back.)
        let ours: Vec<_> = seen
            .into_iter()
            .filter(|(id, seq)| *seq == 2 && [first.id.as_uuid(), second.id.as_uuid()].contains(id))
            .collect();
        assert_eq!(
            ours,
            vec![(first.id.as_uuid(), 2), (second.id.as_uuid(), 2)]
        );
    });
}

// Webhooks (issue 10, point 4): every entry appended, by a create (PostgreSQL's one
// statement too), a command or the scanner, is queued once per webhook subscribed to it,
// in the same transaction; an internal entry only for a webhook that chose
// include_internal; a deleted webhook gets nothing.
both_backends!(each_event_is_queued_once_per_subscribed_webhook, |db| {
    use crate::outbox::{Message, OutboxKind};
    use crate::webhooks::{self, tests::hook};
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let everything = hook(&mut conn, &["*"], false).id;
    let with_internal = hook(&mut conn, &["ticket.commented", "alert.*"], true).id;
    let resolved = hook(&mut conn, &["ticket.resolved"], false).id;
    let deleted = hook(&mut conn, &["*"], true).id;
    webhooks::delete(&mut conn, deleted, at(2026, 3, 1, 0, 0)).unwrap();

    let t = county.file(&mut conn, "utilities", at(2026, 3, 2, 9, 0));
    let ctx = county.ctx();
    let t = execute(
        &mut conn,
        t.id,
        Some(1),
        accept(),
        &county.officer,
        at(2026, 3, 2, 9, 5),
        ctx,
    )
    .unwrap();
    for (body, internal) in [("内部：供电所检修中", true), ("已联系供电所", false)] {
        let comment = Command::Comment {
            attachment_ids: Vec::new(),
            body: Body::parse(body).unwrap(),
            internal,
        };
        execute(
            &mut conn,
            t.id,
            None,
            comment,
            &county.officer,
            at(2026, 3, 2, 9, 6),
            ctx,
        )
        .unwrap();
    }
    let resolve = Command::Resolve {
        result: ResultText::parse("已协调供电公司恢复厂区供电。").unwrap(),
    };
    let t = execute(
        &mut conn,
        t.id,
        Some(2),
        resolve,
        &county.officer,
        at(2026, 3, 3, 9, 0),
        ctx,
    )
    .unwrap();

    let deliveries = |conn: &mut DbConnection, webhook: uuid::Uuid| -> Vec<Message> {
        let mut rows: Vec<Message> = outbox::list(conn, None, 10_000)
            .unwrap()
            .into_iter()
            .filter(|m| m.webhook_id == Some(webhook))
            .collect();
        rows.sort_by(|a, b| a.dedupe_key.cmp(&b.dedupe_key));
        rows
    };
    let seqs_of = |rows: &[Message]| -> Vec<(String, u64)> {
        rows.iter()
            .map(|m| {
                let body: serde_json::Value = serde_json::from_str(&m.body).unwrap();
                assert_eq!(m.kind, OutboxKind::Webhook);
                assert_eq!(body["event"], m.subject.as_str());
                assert_eq!(body["ticket"]["id"], t.id.to_string());
                (m.subject.clone(), body["entry"]["seq"].as_u64().unwrap())
            })
            .collect()
    };
    let all = deliveries(&mut conn, everything);
    assert_eq!(
        seqs_of(&all),
        [
            ("ticket.submitted".to_owned(), 1),
            ("ticket.accepted".to_owned(), 2),
            ("ticket.commented".to_owned(), 4),
            ("ticket.resolved".to_owned(), 5),
        ],
        "the internal note (seq 3) is not for a webhook without include_internal"
    );
    assert_eq!(
        all[0].dedupe_key,
        format!("webhook:{everything}:ticket:{}:1", t.id),
        "the same key on both backends (PostgreSQL's create builds it in SQL)"
    );
    assert!(all.iter().all(|m| m.ticket_id == Some(t.id.as_uuid())));
    let notes = deliveries(&mut conn, with_internal);
    assert_eq!(
        seqs_of(&notes),
        [
            ("ticket.commented".to_owned(), 3),
            ("ticket.commented".to_owned(), 4)
        ]
    );
    let note: serde_json::Value = serde_json::from_str(&notes[0].body).unwrap();
    assert_eq!(note["entry"]["data"]["body"], "内部：供电所检修中");
    assert_eq!(note["entry"]["internal"], true);
    assert_eq!(
        seqs_of(&deliveries(&mut conn, resolved)),
        [("ticket.resolved".to_owned(), 5)]
    );
    assert!(deliveries(&mut conn, deleted).is_empty());

    // Queuing the same entries again queues nothing.
    let (stored, _) = events(&mut conn, t.id, &county.supervisor, 100, None).unwrap();
    let timeline: Vec<Event> = stored.iter().map(|e| e.to_event().unwrap()).collect();
    assert_eq!(
        crate::webhooks::enqueue_events(&mut conn, &t, 1, &timeline).unwrap(),
        0
    );

    // The scanner's alerts go to the webhook of alert.*, each once, as alerts; the
    // escalation (internal) to nobody here.
    let waiting = county.file(&mut conn, "land", at(2026, 3, 2, 9, 0));
    scan(&mut conn, at(2026, 3, 20, 9, 0), ctx, 10, 10).unwrap();
    scan(&mut conn, at(2026, 3, 21, 9, 0), ctx, 10, 10).unwrap();
    let alerts: Vec<Message> = deliveries(&mut conn, with_internal)
        .into_iter()
        .filter(|m| m.ticket_id == Some(waiting.id.as_uuid()))
        .collect();
    assert_eq!(alerts.len(), 9, "three deadlines, three levels each");
    assert!(alerts.iter().all(|m| {
        m.subject.starts_with("alert.")
            && m.dedupe_key
                .starts_with(&format!("webhook:{with_internal}:alert:"))
    }));
    let escalation = alerts
        .iter()
        .find(|m| m.subject == "alert.escalation")
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&escalation.body).unwrap();
    assert_eq!(body["alert"]["level"], "escalation");
    assert_eq!(body["ticket"]["number"], waiting.number.to_string());
    let public: Vec<String> = deliveries(&mut conn, everything)
        .into_iter()
        .filter(|m| m.ticket_id == Some(waiting.id.as_uuid()))
        .map(|m| m.subject)
        .collect();
    assert_eq!(
        public,
        ["ticket.submitted"],
        "alerts and escalations are internal"
    );
});

// 主办/协办 (issue 13): the requests' rows follow the ticket's state; the co-handling
// department's officers find the ticket in their list (the SQL scope is still `can_see`),
// also after the lead resolves; `co_handling` lists what was asked of the department.
both_backends!(co_handlers_are_stored_scoped_and_filtered, |db| {
    use crate::schema::ticket_co_handlers as ch;
    use jiban_domain::values::{CoHandlingRequest, Opinion};
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let ctx = county.ctx();
    let d2 = county.other_officer.user().unwrap().department_id.unwrap();
    let start = at(2026, 3, 2, 9, 0);
    let asked = county.file(&mut conn, "utilities", start);
    let other = county.file(&mut conn, "utilities", start + Duration::minutes(1));
    let t = execute(
        &mut conn,
        asked.id,
        Some(1),
        accept(),
        &county.officer,
        start,
        ctx,
    )
    .unwrap();
    let add = Command::AddCoHandlers {
        department_ids: vec![d2],
        request: CoHandlingRequest::parse("请核实停电原因并提出恢复方案").unwrap(),
        due_at: None,
    };
    let t = execute(
        &mut conn,
        t.id,
        Some(t.version),
        add,
        &county.officer,
        start,
        ctx,
    )
    .unwrap();
    let rows = |conn: &mut DbConnection| -> Vec<(i32, String, Option<DbInstant>)> {
        ch::table
            .filter(ch::ticket_id.eq(DbUuid(asked.id.as_uuid())))
            .select((ch::seq, ch::status, ch::replied_at))
            .order(ch::seq)
            .load(conn)
            .unwrap()
    };
    assert_eq!(rows(&mut conn), vec![(1, "open".to_owned(), None)]);
    let due: DbInstant = ch::table.select(ch::due_at).first(&mut conn).unwrap();
    assert_eq!(
        DateTime::<Utc>::from(due),
        t.co_handlers[0].reply_due.due_at
    );

    let ids = |conn: &mut DbConnection, actor: &Actor, co_handling: Option<bool>| {
        let filter = TicketFilter {
            co_handling,
            ..TicketFilter::default()
        };
        let page = list(conn, actor, &filter, 100, None, start).unwrap();
        page.items.iter().map(|t| t.id).collect::<BTreeSet<_>>()
    };
    let check_scope = |conn: &mut DbConnection, tickets: &[&Ticket]| {
        for actor in [
            &county.enterprise,
            &county.liaison,
            &county.officer,
            &county.other_officer,
            &county.supervisor,
        ] {
            let expected: BTreeSet<_> = tickets
                .iter()
                .filter(|t| can_see(actor, t))
                .map(|t| t.id)
                .collect();
            assert_eq!(ids(conn, actor, None), expected, "{actor:?}");
        }
    };
    check_scope(&mut conn, &[&t, &other]);
    assert!(ids(&mut conn, &county.other_officer, None).contains(&asked.id));
    assert_eq!(
        ids(&mut conn, &county.other_officer, Some(true)),
        BTreeSet::from([asked.id])
    );
    assert!(ids(&mut conn, &county.officer, Some(true)).is_empty());
    assert_eq!(
        ids(&mut conn, &county.officer, Some(false)),
        BTreeSet::from([asked.id, other.id])
    );
    assert_eq!(
        ids(&mut conn, &county.supervisor, Some(true)),
        BTreeSet::from([asked.id])
    );
    assert_eq!(
        ids(&mut conn, &county.supervisor, Some(false)),
        BTreeSet::from([other.id])
    );

    // A reply (no If-Match needed) and the lead's resolve: the row follows; scope stays.
    let reply = Command::ReplyCoHandling {
        department_id: d2,
        opinion: Opinion::parse("线路故障已查明，预计今晚恢复供电。").unwrap(),
    };
    let replied_at = start + Duration::hours(1);
    execute(
        &mut conn,
        t.id,
        None,
        reply,
        &county.other_officer,
        replied_at,
        ctx,
    )
    .unwrap();
    assert_eq!(
        rows(&mut conn),
        vec![(1, "replied".to_owned(), Some(DbInstant::from(replied_at)))]
    );
    let resolve = Command::Resolve {
        result: ResultText::parse("已协调供电公司于当日下午恢复厂区供电。").unwrap(),
    };
    let t = execute(
        &mut conn,
        t.id,
        None,
        resolve,
        &county.officer,
        replied_at,
        ctx,
    )
    .unwrap();
    let ended: Option<DbInstant> = ch::table.select(ch::ended_at).first(&mut conn).unwrap();
    assert_eq!(ended, Some(DbInstant::from(replied_at)));
    check_scope(&mut conn, &[&t, &other]);
    assert!(ids(&mut conn, &county.other_officer, None).contains(&asked.id));
    // The department's officers were told of the request.
    let asked_mail: i64 = crate::schema::outbox::table
        .filter(crate::schema::outbox::subject.like("【协办】%"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(
        asked_mail, 2,
        "the request to department 2, the reply to the lead"
    );
});

// 协办 statistics (issue 13): SQL's counts over ticket_co_handlers equal the domain's
// definition over the same tickets, for requests replied on time, late, never (the lead
// resolved first), still open, and ended because the department became the lead; a period
// that leaves some out leaves them out of both.
both_backends!(co_handling_statistics_from_sql_equal_the_definition, |db| {
    use jiban_domain::stats::{Period, co_handling};
    use jiban_domain::values::{CoHandlingRequest, Opinion, Reason};
    let mut conn = db.conn();
    let county = County::new(&mut conn);
    let ctx = county.ctx();
    let d2 = county.other_officer.user().unwrap().department_id.unwrap();
    let resolve = || Command::Resolve {
        result: ResultText::parse("已协调供电公司于当日下午恢复厂区供电。").unwrap(),
    };
    let reply = || Command::ReplyCoHandling {
        department_id: d2,
        opinion: Opinion::parse("线路故障已查明，预计今晚恢复供电。").unwrap(),
    };
    let mut tickets = Vec::new();
    for (i, fate) in ["on_time", "late", "unanswered", "open", "lead", "on_time"]
        .into_iter()
        .enumerate()
    {
        // One a day from Mon 03-02; the last in April.
        let start = if i == 5 {
            at(2026, 4, 1, 9, 0)
        } else {
            at(2026, 3, 2 + i as u32, 9, 0)
        };
        let t = county.file(&mut conn, "utilities", start);
        let t = execute(&mut conn, t.id, None, accept(), &county.officer, start, ctx).unwrap();
        let add = Command::AddCoHandlers {
            department_ids: vec![d2],
            request: CoHandlingRequest::parse("请核实停电原因并提出恢复方案").unwrap(),
            due_at: None,
        };
        let t = execute(&mut conn, t.id, None, add, &county.officer, start, ctx).unwrap();
        let due = t.co_handlers[0].reply_due.due_at;
        let (officer, other) = (&county.officer, &county.other_officer);
        let t = match fate {
            "on_time" => execute(&mut conn, t.id, None, reply(), other, due, ctx).unwrap(),
            "late" => {
                let late = due + Duration::seconds(1);
                execute(&mut conn, t.id, None, reply(), other, late, ctx).unwrap()
            }
            "unanswered" => execute(&mut conn, t.id, None, resolve(), officer, due, ctx).unwrap(),
            "lead" => {
                let transfer = Command::Transfer {
                    department_id: d2,
                    reason: Reason::parse("主要职责在用地部门").unwrap(),
                };
                execute(&mut conn, t.id, None, transfer, officer, start, ctx).unwrap()
            }
            _ => t,
        };
        tickets.push(t);
    }
    let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    for period in [
        Period::new(day(3, 1), day(5, 1)).unwrap(),
        Period::new(day(3, 1), day(4, 1)).unwrap(),
        Period::new(day(3, 3), day(3, 5)).unwrap(),
    ] {
        let sql = crate::stats::co_handling(&mut conn, &period).unwrap();
        assert_eq!(sql, co_handling(&tickets, &period), "{period:?}");
    }
    let march =
        crate::stats::co_handling(&mut conn, &Period::new(day(3, 1), day(4, 1)).unwrap()).unwrap();
    let t = march[&d2];
    assert_eq!(
        (t.received, t.replied_on_time, t.replied_late, t.not_replied),
        (5, 1, 1, 1)
    );
});
