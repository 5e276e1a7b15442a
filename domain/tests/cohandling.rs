//! 主办/协办: lead and co-handling departments (issue 13), one test (or a few) per rule.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{World, act, at, user_of};
use jiban_domain::alert::{self, AlertLevel, Party};
use jiban_domain::deadline::{DeadlineName, Limit, LimitUnit};
use jiban_domain::notice::Audience;
use jiban_domain::ticket::{
    CoHandlingEnd, CoHandlingStatus, Command, EventData, Status, Ticket, can_see, decide,
};
use jiban_domain::values::{
    Body, CoHandlingRequest, DepartmentId, InfoItem, Kind, Opinion, RatingLevel, Reason,
    ResultText, Role, Urgency, UserId, ValueError,
};
use jiban_domain::{Actor, DomainError, ErrorKind, User};
use uuid::Uuid;

/// A third department and its officer, beside the world's two.
fn third() -> (DepartmentId, Actor) {
    let d3 = DepartmentId::from_uuid(Uuid::from_u128(0xD3));
    let officer = User {
        id: UserId::from_uuid(Uuid::from_u128(0x33)),
        role: Role::Officer,
        department_id: Some(d3),
        enterprise_id: None,
        stationed_at: Vec::new(),
    };
    (d3, Actor::User(officer))
}

fn request() -> CoHandlingRequest {
    CoHandlingRequest::parse("请核实该厂区停电原因并提出恢复供电方案").unwrap()
}

fn add(departments: &[DepartmentId]) -> Command {
    Command::AddCoHandlers {
        department_ids: departments.to_vec(),
        request: request(),
        due_at: None,
    }
}

fn add_until(departments: &[DepartmentId], due_at: DateTime<Utc>) -> Command {
    Command::AddCoHandlers {
        department_ids: departments.to_vec(),
        request: request(),
        due_at: Some(due_at),
    }
}

fn reply(department: DepartmentId, text: &str) -> Command {
    Command::ReplyCoHandling {
        department_id: department,
        opinion: Opinion::parse(text).unwrap(),
    }
}

fn request_info() -> Command {
    Command::RequestInfo {
        items: vec![InfoItem::parse("电费凭证").unwrap()],
        note: None,
    }
}

fn supply_info() -> Command {
    Command::SupplyInfo {
        body: Body::parse("已补充").unwrap(),
        attachment_ids: Vec::new(),
    }
}

fn resolve() -> Command {
    Command::Resolve {
        result: ResultText::parse("已协调供电公司于当日下午恢复厂区供电。").unwrap(),
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

/// A utilities complaint (24-hour resolve limit) dispatched to department 1, accepted by
/// its officer at `start`.
fn utilities(w: &World, start: DateTime<Utc>) -> Ticket {
    let mut t = w.file(
        "utilities",
        Kind::Complaint,
        Some(Urgency::Utilities),
        start,
    );
    act(w, &mut t, accept(), &w.officer, start).unwrap();
    t
}

/// A general land request (5 working days) from the intake queue, accepted into
/// department 1 at `start`.
fn general(w: &World, start: DateTime<Utc>) -> Ticket {
    let mut t = w.file("land", Kind::Request, Some(Urgency::General), start);
    act(w, &mut t, accept(), &w.officer, start).unwrap();
    t
}

fn refusal(
    w: &World,
    t: &Ticket,
    command: Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainError {
    decide(t, command, actor, now, &w.rules).expect_err("refused")
}

#[test]
fn texts_are_at_least_ten_characters() {
    assert_eq!(
        CoHandlingRequest::parse("  请协助  "),
        Err(ValueError::TooShort { min: 10 })
    );
    assert_eq!(
        Opinion::parse("同意。"),
        Err(ValueError::TooShort { min: 10 })
    );
    assert!(Opinion::parse("经核实，线路已于今晨修复完毕。").is_ok());
}

/// The lead's officers or a supervisor add co-handlers; the reply limit defaults to half
/// of the resolve limit still left, in the class's unit.
#[test]
fn the_lead_or_a_supervisor_adds_co_handlers_with_a_default_limit() {
    let w = World::new();
    let (d3, officer3) = third();
    let start = at(2026, 3, 2, 9, 0); // Mon
    let mut t = utilities(&w, start);
    // 24 h = 1440 min; 4 h later 1200 min are left: half is 600 minutes.
    let now = start + Duration::hours(4);
    let events = act(&w, &mut t, add(&[w.d2, d3]), &w.officer, now).unwrap();
    assert!(matches!(events[0].data, EventData::CoHandlersAdded { .. }));
    assert_eq!(
        t.version, 3,
        "adding co-handlers is a state change (needs If-Match)"
    );
    assert_eq!(t.co_handlers.len(), 2);
    for c in &t.co_handlers {
        assert_eq!(c.reply_due.limit, Limit::minutes(600));
        assert_eq!(c.reply_due.due_at, now + Duration::minutes(600));
        assert_eq!(c.status(), CoHandlingStatus::Open);
        assert_eq!(c.requested_by, Some(user_of(&w.officer).id));
    }
    // Co-handling officers now see it; the department's outsiders still do not.
    assert!(can_see(&w.other_officer, &t));
    assert!(can_see(&officer3, &t));

    // A supervisor may add too; another department's officer may not.
    let mut t = utilities(&w, start);
    assert_eq!(
        refusal(&w, &t, add(&[d3]), &w.other_officer, now).kind(),
        ErrorKind::NotFound,
        "an officer who cannot see the ticket learns nothing"
    );
    act(&w, &mut t, add(&[w.d2]), &w.supervisor, now).unwrap();
    assert_eq!(
        refusal(&w, &t, add(&[d3]), &w.other_officer, now).kind(),
        ErrorKind::Forbidden,
        "a co-handler does not bring in others"
    );
    assert_eq!(
        refusal(&w, &t, add(&[d3]), &w.liaison, now).kind(),
        ErrorKind::Forbidden
    );
}

/// Working days: the days after today to the resolve deadline's last day, halved, at least
/// one.
#[test]
fn the_default_limit_in_working_days_is_at_least_one() {
    let w = World::new();
    let start = at(2026, 3, 2, 9, 0); // Mon; due Tue 03-10 00:00 (last day Mon 03-09)
    let mut t = general(&w, start);
    // On Mon 03-02: 5 working days left (03-03..03-06, 03-09): half is 2 → Wed 03-04 24:00.
    act(&w, &mut t, add(&[w.d2]), &w.officer, start).unwrap();
    assert_eq!(t.co_handlers[0].reply_due.limit, Limit::working_days(2));
    assert_eq!(t.co_handlers[0].reply_due.due_at, at(2026, 3, 5, 0, 0));
    // On Fri 03-06 only Mon 03-09 is left: half rounds down to 0, so 1 → Mon 03-09 24:00.
    let (d3, _) = third();
    act(&w, &mut t, add(&[d3]), &w.officer, at(2026, 3, 6, 15, 0)).unwrap();
    assert_eq!(t.co_handlers[1].reply_due.due_at, at(2026, 3, 10, 0, 0));
}

/// A clock class's limit is at least 60 minutes, even past the resolve deadline.
#[test]
fn the_default_clock_limit_is_at_least_an_hour() {
    let w = World::new();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    let late = start + Duration::hours(23) + Duration::minutes(30);
    act(&w, &mut t, add(&[w.d2]), &w.officer, late).unwrap();
    assert_eq!(t.co_handlers[0].reply_due.limit, Limit::minutes(60));
    let mut t = utilities(&w, start);
    let overdue = start + Duration::hours(30);
    act(&w, &mut t, add(&[w.d2]), &w.officer, overdue).unwrap();
    assert_eq!(
        t.co_handlers[0].reply_due.due_at,
        overdue + Duration::hours(1)
    );
}

/// A `due_at` given is held to the class's unit: minutes rounded up, or the end of the
/// last working day on or before the day asked for; never in the past.
#[test]
fn a_given_due_at_is_counted_in_the_class_unit() {
    let w = World::new();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    act(
        &w,
        &mut t,
        add_until(&[w.d2], start + Duration::seconds(90 * 60 + 1)),
        &w.officer,
        start,
    )
    .unwrap();
    assert_eq!(t.co_handlers[0].reply_due.limit, Limit::minutes(91));

    let mut t = general(&w, start);
    // Asked for Sat 03-07 12:00: the last working day on or before it is Fri 03-06.
    act(
        &w,
        &mut t,
        add_until(&[w.d2], at(2026, 3, 7, 12, 0)),
        &w.officer,
        start,
    )
    .unwrap();
    let due = &t.co_handlers[0].reply_due;
    assert_eq!(due.limit, Limit::working_days(4));
    assert_eq!(due.due_at, at(2026, 3, 7, 0, 0));

    let t = general(&w, start);
    for bad in [start - Duration::minutes(1), at(2026, 3, 2, 23, 0)] {
        let err = refusal(&w, &t, add_until(&[w.d2], bad), &w.officer, start);
        assert_eq!(err.field(), Some("due_at"), "{bad}");
        assert_eq!(err.kind(), ErrorKind::Invalid);
    }
}

/// Never the lead's own department, each department once, none with a request open.
#[test]
fn which_departments_may_be_asked() {
    let w = World::new();
    let (d3, _) = third();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    let err = refusal(&w, &t, add(&[w.d1]), &w.officer, start);
    assert_eq!(
        (err.code(), err.field()),
        ("lead_department", Some("department_ids"))
    );
    let err = refusal(&w, &t, add(&[w.d2, w.d2]), &w.officer, start);
    assert_eq!(err.code(), "duplicate");
    let err = refusal(&w, &t, add(&[]), &w.officer, start);
    assert_eq!(err.code(), "department_ids_count");
    act(&w, &mut t, add(&[w.d2]), &w.officer, start).unwrap();
    let err = refusal(&w, &t, add(&[d3, w.d2]), &w.officer, start);
    assert_eq!(err, DomainError::AlreadyCoHandling);
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(t.co_handlers.len(), 1, "a refusal changes nothing");
}

/// Co-handlers are added to a ticket being handled: accepted and not yet answered.
#[test]
fn co_handlers_join_an_accepted_open_ticket() {
    let w = World::new();
    let start = at(2026, 3, 2, 9, 0);
    let t = w.file("utilities", Kind::Complaint, None, start);
    let err = refusal(&w, &t, add(&[w.d2]), &w.officer, start);
    assert!(matches!(err, DomainError::WrongStatus { .. }));
    let mut t = utilities(&w, start);
    act(&w, &mut t, resolve(), &w.officer, start).unwrap();
    let err = refusal(&w, &t, add(&[w.d2]), &w.officer, start);
    assert!(matches!(err, DomainError::WrongStatus { .. }));
}

/// Co-handling officers see, comment and reply; the first reply's time counts, later ones
/// amend the opinion; nothing that is the lead's.
#[test]
fn co_handlers_comment_and_reply_and_do_nothing_of_the_lead() {
    let w = World::new();
    let (d3, officer3) = third();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    act(&w, &mut t, add(&[w.d2, d3]), &w.officer, start).unwrap();
    let due = t.co_handlers[0].reply_due.due_at;

    let comment = Command::Comment {
        body: Body::parse("我局已派员赶赴现场").unwrap(),
        internal: true,
        attachment_ids: Vec::new(),
    };
    let version = t.version;
    act(&w, &mut t, comment, &w.other_officer, start).unwrap();
    assert_eq!(t.version, version);

    let first = start + Duration::hours(2);
    act(
        &w,
        &mut t,
        reply(w.d2, "线路故障已查明，预计今晚恢复供电。"),
        &w.other_officer,
        first,
    )
    .unwrap();
    assert_eq!(t.version, version + 1, "a reply changes the ticket");
    let later = due + Duration::hours(1);
    act(
        &w,
        &mut t,
        reply(w.d2, "更正：线路已于傍晚修复，已恢复供电。"),
        &w.other_officer,
        later,
    )
    .unwrap();
    let c = &t.co_handlers[0];
    assert_eq!(c.replied_at, Some(first), "the first reply counts");
    assert_eq!(c.amended_at, Some(later));
    assert_eq!(
        c.reply.as_deref(),
        Some("更正：线路已于傍晚修复，已恢复供电。")
    );
    assert_eq!(c.replied_on_time(), Some(true));
    assert_eq!(c.status(), CoHandlingStatus::Replied);

    // Replies only for one's own department, and only an officer's.
    let err = refusal(
        &w,
        &t,
        reply(d3, "代为答复，线路已修复完毕。"),
        &w.other_officer,
        later,
    );
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let err = refusal(
        &w,
        &t,
        reply(w.d2, "主办部门代为答复意见。"),
        &w.officer,
        later,
    );
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let err = refusal(
        &w,
        &t,
        reply(w.d2, "督办人员代为答复意见。"),
        &w.supervisor,
        later,
    );
    assert_eq!(err.kind(), ErrorKind::Forbidden);

    // Nothing of the lead's: resolve, explain, transfer, assign, contact, request info.
    for command in [
        resolve(),
        Command::Transfer {
            department_id: w.d2,
            reason: Reason::parse("职能调整").unwrap(),
        },
        Command::Contact {
            method: jiban_domain::values::ContactMethod::Phone,
            summary: Body::parse("电话联系企业").unwrap(),
        },
        request_info(),
        add(&[w.d2]),
    ] {
        let name = command.name();
        let err = refusal(&w, &t, command, &w.other_officer, later);
        assert_eq!(err.kind(), ErrorKind::Forbidden, "{name}");
    }
    // A department asked nothing cannot even see the ticket.
    let mut other = utilities(&w, start);
    act(&w, &mut other, add(&[d3]), &w.officer, start).unwrap();
    assert_eq!(
        refusal(
            &w,
            &other,
            reply(w.d2, "未被邀请也来答复意见。"),
            &w.other_officer,
            start
        ),
        DomainError::NotFound,
        "department 2 cannot see a ticket it was not asked about"
    );
    assert_eq!(
        refusal(
            &w,
            &other,
            reply(w.d2, "未被邀请也来答复意见。"),
            &officer3,
            start
        ),
        DomainError::NotCoHandling,
        "department 2 was never asked on this ticket"
    );
}

/// Only the lead resolves or explains; that ends every open request, those unanswered
/// recorded as not replied; ended requests raise no alerts and take no replies; the
/// departments keep read access.
#[test]
fn resolving_ends_every_open_request() {
    let w = World::new();
    let (d3, officer3) = third();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    act(&w, &mut t, add(&[w.d2, d3]), &w.officer, start).unwrap();
    act(
        &w,
        &mut t,
        reply(w.d2, "线路故障已查明，预计今晚恢复供电。"),
        &w.other_officer,
        start,
    )
    .unwrap();
    let now = start + Duration::hours(3);
    let events = act(&w, &mut t, resolve(), &w.officer, now).unwrap();
    let ended = events
        .iter()
        .find_map(|e| match &e.data {
            EventData::CoHandlingEnded {
                department_ids,
                reason,
            } => Some((department_ids.clone(), *reason)),
            _ => None,
        })
        .expect("an ended entry");
    assert_eq!(ended, (vec![w.d2, d3], CoHandlingEnd::Resolved));
    assert_eq!(t.co_handlers[0].status(), CoHandlingStatus::Replied);
    assert_eq!(t.co_handlers[1].status(), CoHandlingStatus::NotReplied);
    assert!(t.co_handlers.iter().all(|c| c.ended_at == Some(now)));
    assert_eq!(
        refusal(
            &w,
            &t,
            reply(d3, "迟到的答复，线路已修复完毕。"),
            &officer3,
            now
        ),
        DomainError::CoHandlingEnded
    );
    assert!(can_see(&officer3, &t) && can_see(&w.other_officer, &t));
    assert!(
        alert::schedule(&t, &w.rules.calendar).is_empty(),
        "ended requests raise no alerts"
    );
    // Through the rating and the close, read access stays.
    act(
        &w,
        &mut t,
        Command::Rate {
            level: RatingLevel::Satisfied,
            comment: None,
        },
        &w.enterprise,
        now,
    )
    .unwrap();
    assert_eq!(t.status, Status::Closed);
    assert!(can_see(&officer3, &t));
}

/// Explain ends them too; so does a withdrawal.
#[test]
fn explaining_and_withdrawing_end_them() {
    let w = World::new();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    act(&w, &mut t, add(&[w.d2]), &w.officer, start).unwrap();
    let explain = Command::Explain {
        explanation: jiban_domain::values::Explanation::parse(
            &"受现行政策限制，该事项暂无法办理，已向企业详细说明政策依据和后续可行路径。".repeat(2),
        )
        .unwrap(),
        policy_basis: Reason::parse("相关政策文件").unwrap(),
        plan: None,
    };
    act(&w, &mut t, explain, &w.officer, start).unwrap();
    assert_eq!(t.co_handlers[0].end_reason, Some(CoHandlingEnd::Explained));

    let mut t = utilities(&w, start);
    act(&w, &mut t, add(&[w.d2]), &w.officer, start).unwrap();
    let withdraw = Command::Withdraw {
        reason: Reason::parse("已自行解决").unwrap(),
    };
    act(&w, &mut t, withdraw, &w.enterprise, start).unwrap();
    assert_eq!(t.co_handlers[0].end_reason, Some(CoHandlingEnd::Withdrawn));
    assert_eq!(t.co_handlers[0].status(), CoHandlingStatus::NotReplied);
    assert!(can_see(&w.other_officer, &t));
}

/// A transfer keeps the other co-handlers; to a co-handling department it ends that
/// department's request, which is then counted neither way.
#[test]
fn transferring_the_lead() {
    let w = World::new();
    let (d3, officer3) = third();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    act(&w, &mut t, add(&[w.d2, d3]), &w.officer, start).unwrap();
    let transfer = Command::Transfer {
        department_id: w.d2,
        reason: Reason::parse("主要职责在供电部门").unwrap(),
    };
    act(&w, &mut t, transfer, &w.officer, start).unwrap();
    assert_eq!(t.department_id, Some(w.d2));
    assert_eq!(t.co_handlers[0].status(), CoHandlingStatus::BecameLead);
    assert_eq!(t.co_handlers[1].status(), CoHandlingStatus::Open);
    // Department 2 now leads: it resolves; department 3 still replies.
    act(
        &w,
        &mut t,
        reply(d3, "已安排应急电源车前往现场。"),
        &officer3,
        start,
    )
    .unwrap();
    act(&w, &mut t, resolve(), &w.other_officer, start).unwrap();
    assert_eq!(t.status, Status::Resolved);
    // The old lead's officer answered first (首问) and keeps seeing it.
    assert!(can_see(&w.officer, &t));
}

/// A transfer elsewhere keeps every request, and the new lead may not ask its own
/// department while that is the lead.
#[test]
fn a_transfer_elsewhere_keeps_the_co_handlers() {
    let w = World::new();
    let (d3, officer3) = third();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    act(&w, &mut t, add(&[w.d2]), &w.officer, start).unwrap();
    let transfer = Command::Transfer {
        department_id: d3,
        reason: Reason::parse("属地管理").unwrap(),
    };
    act(&w, &mut t, transfer, &w.supervisor, start).unwrap();
    assert_eq!(t.co_handlers[0].status(), CoHandlingStatus::Open);
    let err = refusal(&w, &t, add(&[d3]), &officer3, start);
    assert_eq!(err.code(), "lead_department");
}

/// The reply limit stands still while the ticket awaits information (clock and day
/// limits), like the ticket's own.
#[test]
fn reply_limits_respect_pauses() {
    let w = World::new();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    act(&w, &mut t, add(&[w.d2]), &w.officer, start).unwrap();
    let before = t.co_handlers[0].reply_due.due_at; // 720 minutes
    act(
        &w,
        &mut t,
        request_info(),
        &w.officer,
        start + Duration::hours(1),
    )
    .unwrap();
    // Paused: no reply alert falls due inside the pause.
    let far = start + Duration::days(3);
    assert!(
        alert::due(&t, far, &w.rules.calendar)
            .iter()
            .all(|a| a.fires_at <= start + Duration::hours(1))
    );
    act(
        &w,
        &mut t,
        supply_info(),
        &w.enterprise,
        start + Duration::hours(4),
    )
    .unwrap();
    assert_eq!(
        t.co_handlers[0].reply_due.due_at,
        before + Duration::hours(3)
    );

    // Working days: paused Tue 03-03, resumed Mon 03-09: the days used stay used.
    let mut t = general(&w, start);
    act(&w, &mut t, add(&[w.d2]), &w.officer, start).unwrap(); // Wed 03-04 24:00
    act(
        &w,
        &mut t,
        request_info(),
        &w.officer,
        at(2026, 3, 3, 10, 0),
    )
    .unwrap();
    act(
        &w,
        &mut t,
        supply_info(),
        &w.enterprise,
        at(2026, 3, 9, 10, 0),
    )
    .unwrap();
    // 1 of 2 days used (03-03); the other counted from 03-09: Tue 03-10, due 03-11 00:00.
    assert_eq!(t.co_handlers[0].reply_due.due_at, at(2026, 3, 11, 0, 0));

    // A request made during the pause stands still from its own start.
    let mut t = utilities(&w, start);
    act(&w, &mut t, request_info(), &w.officer, start).unwrap();
    act(
        &w,
        &mut t,
        add(&[w.d2]),
        &w.officer,
        start + Duration::hours(2),
    )
    .unwrap();
    let set = t.co_handlers[0].reply_due.due_at;
    act(
        &w,
        &mut t,
        supply_info(),
        &w.enterprise,
        start + Duration::hours(5),
    )
    .unwrap();
    assert_eq!(t.co_handlers[0].reply_due.due_at, set + Duration::hours(3));
}

/// Each reply limit runs the alert ladder: 预警 to the co-handling department, 超期 to it
/// and the lead's assignee, 督办 to the supervisors; a reply stops it.
#[test]
fn reply_limits_run_the_alert_ladder() {
    let w = World::new();
    let (d3, officer3) = third();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    act(&w, &mut t, add(&[w.d2, d3]), &w.officer, start).unwrap();
    let due = t.co_handlers[0].reply_due.due_at;
    let replies: Vec<_> = alert::schedule(&t, &w.rules.calendar)
        .into_iter()
        .filter(|a| a.key.deadline == DeadlineName::Reply)
        .collect();
    assert_eq!(replies.len(), 6, "three levels for each of two departments");
    let of = |level| {
        replies
            .iter()
            .find(|a| a.key.party == Party::CoHandler(w.d2) && a.key.level == level)
            .unwrap()
            .clone()
    };
    let assignee = t.assignee_id.unwrap();
    let warning = of(AlertLevel::Warning);
    assert_eq!(warning.fires_at, start + Duration::minutes(576)); // 80% of 720
    assert_eq!(warning.recipients, vec![Audience::DepartmentOfficers(w.d2)]);
    let overdue = of(AlertLevel::Overdue);
    assert_eq!(overdue.fires_at, due);
    assert_eq!(
        overdue.recipients,
        vec![Audience::DepartmentOfficers(w.d2), Audience::User(assignee)]
    );
    let escalation = of(AlertLevel::Escalation);
    assert_eq!(escalation.fires_at, due + Duration::hours(2));
    assert_eq!(escalation.recipients, vec![Audience::Supervisors]);
    assert_ne!(
        warning.key.dedupe_key("user:x"),
        alert::AlertKey {
            party: Party::CoHandler(d3),
            ..warning.key.clone()
        }
        .dedupe_key("user:x"),
        "each department's alert is its own"
    );

    // A reply stops its ladder; the other's runs on.
    act(
        &w,
        &mut t,
        reply(d3, "已安排应急电源车前往现场。"),
        &officer3,
        start,
    )
    .unwrap();
    let parties: Vec<_> = alert::schedule(&t, &w.rules.calendar)
        .into_iter()
        .filter(|a| a.key.deadline == DeadlineName::Reply)
        .map(|a| a.key.party)
        .collect();
    assert_eq!(parties, vec![Party::CoHandler(w.d2); 3]);
    assert!(alert::next_alert_at(&t, None, &w.rules.calendar).unwrap() <= warning.fires_at);
}

/// The enterprise reads neither the requests nor their entries (the administration of the
/// ticket inside government, DESIGN.md rule 8).
#[test]
fn enterprises_do_not_see_co_handling() {
    let w = World::new();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    let mut timeline = act(&w, &mut t, add(&[w.d2]), &w.officer, start).unwrap();
    timeline.extend(
        act(
            &w,
            &mut t,
            reply(w.d2, "线路故障已查明，预计今晚恢复供电。"),
            &w.other_officer,
            start,
        )
        .unwrap(),
    );
    act(&w, &mut t, request_info(), &w.officer, start).unwrap();
    act(&w, &mut t, add(&[third().0]), &w.officer, start).unwrap();
    let supplied = act(
        &w,
        &mut t,
        supply_info(),
        &w.enterprise,
        start + Duration::hours(1),
    )
    .unwrap();
    assert!(
        matches!(&supplied[0].data, EventData::InfoSupplied { co_handlers, .. } if co_handlers.len() == 1)
    );
    timeline.extend(act(&w, &mut t, resolve(), &w.officer, start).unwrap());
    assert!(t.as_seen_by(&w.enterprise).co_handlers.is_empty());
    assert_eq!(t.as_seen_by(&w.officer).co_handlers.len(), 2);
    for e in &timeline {
        let kind = e.data.kind();
        if kind.starts_with("co_handl") {
            assert!(e.seen_by(&w.enterprise).is_none(), "{kind}");
        }
    }
    match supplied[0].seen_by(&w.enterprise).unwrap().data {
        EventData::InfoSupplied { co_handlers, .. } => assert!(co_handlers.is_empty()),
        _ => unreachable!(),
    }
}

/// A limit counted through a year with no calendar is provisional and recomputed when the
/// year is loaded, like the ticket's own (DESIGN.md section 4).
#[test]
fn provisional_reply_limits_are_recomputed() {
    let mut w = World::new();
    let start = at(2026, 12, 28, 9, 0); // Mon; 5 working days reach into 2027
    let mut t = general(&w, start);
    act(
        &w,
        &mut t,
        add_until(&[w.d2], at(2027, 1, 2, 0, 0)),
        &w.officer,
        start,
    )
    .unwrap();
    let due = t.co_handlers[0].reply_due.clone();
    assert!(due.provisional);
    assert_eq!(due.limit.unit(), LimitUnit::WorkingDays);
    assert_eq!(due.due_at, at(2027, 1, 2, 0, 0)); // Fri 01-01 counted Mon–Fri
    let new_year = jiban_domain::deadline::CalendarDay {
        date: chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        kind: jiban_domain::deadline::DayKind::Holiday,
        name: "元旦".to_owned(),
    };
    w.rules.calendar.set_year(2027, vec![new_year]).unwrap();
    let event = jiban_domain::ticket::recompute_provisional(&t, start, &w.rules).unwrap();
    let t = jiban_domain::ticket::apply(t, &[event]);
    assert!(!t.co_handlers[0].reply_due.provisional);
    assert_eq!(t.co_handlers[0].reply_due.due_at, at(2027, 1, 5, 0, 0)); // Mon 01-04
}

/// A department asked again after its request ended (a redo after a bad rating) gets a
/// new request, counted on its own; its reply goes to the open one.
#[test]
fn a_department_is_asked_again_in_a_redo() {
    let w = World::new();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    act(&w, &mut t, add(&[w.d2]), &w.officer, start).unwrap();
    act(&w, &mut t, resolve(), &w.officer, start).unwrap();
    let bad = Command::Rate {
        level: RatingLevel::Dissatisfied,
        comment: None,
    };
    act(&w, &mut t, bad, &w.enterprise, start).unwrap();
    assert_eq!(t.status, Status::InProgress);
    act(&w, &mut t, add(&[w.d2]), &w.officer, start).unwrap();
    act(
        &w,
        &mut t,
        reply(w.d2, "重新核查后确认线路已修复。"),
        &w.other_officer,
        start,
    )
    .unwrap();
    let statuses: Vec<_> = t.co_handlers.iter().map(|c| c.status()).collect();
    assert_eq!(
        statuses,
        vec![CoHandlingStatus::NotReplied, CoHandlingStatus::Replied]
    );
}

/// The departments asked are told what is asked and by when; the lead's assignee is told
/// of each opinion (issue 13).
#[test]
fn co_handling_is_announced() {
    use jiban_domain::notice::{NoticeContext, notices_for};
    let w = World::new();
    let (d3, officer3) = third();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    let ctx = NoticeContext {
        enterprise_name: "示例制造有限公司",
        official_link: "https://jiban.example/dashboard/tickets/1",
        enterprise_link: None,
        actor_role: Some(Role::Officer),
    };
    let added = act(&w, &mut t, add(&[w.d2, d3]), &w.officer, start).unwrap();
    let notices = notices_for(&added[0], &t, &ctx);
    let audiences: Vec<_> = notices.iter().map(|n| n.audience.clone()).collect();
    assert_eq!(
        audiences,
        vec![
            Audience::DepartmentOfficers(w.d2),
            Audience::DepartmentOfficers(d3)
        ]
    );
    assert!(notices[0].subject.starts_with("【协办】"));
    assert!(notices[0].body.contains("请核实该厂区停电原因"));
    assert!(jiban_domain::notice::notifies(&added[0].data));
    let replied = act(
        &w,
        &mut t,
        reply(d3, "已安排应急电源车前往现场。"),
        &officer3,
        start,
    )
    .unwrap();
    let notices = notices_for(&replied[0], &t, &ctx);
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].audience, Audience::User(t.assignee_id.unwrap()));
    assert!(notices[0].body.contains("已安排应急电源车前往现场"));
}

/// The statistics: per department asked, the requests made in the period, replied on time,
/// late, and ended unanswered; a request that ended as the lead counts as received only.
#[test]
fn co_handling_statistics() {
    use jiban_domain::stats::{CoHandlingTally, Period, co_handling};
    let w = World::new();
    let (d3, officer3) = third();
    let start = at(2026, 3, 2, 9, 0);
    let mut t = utilities(&w, start);
    act(&w, &mut t, add(&[w.d2, d3]), &w.officer, start).unwrap();
    let due = t.co_handlers[0].reply_due.due_at;
    act(
        &w,
        &mut t,
        reply(w.d2, "线路故障已查明，预计今晚恢复供电。"),
        &w.other_officer,
        due,
    )
    .unwrap();
    let late = due + Duration::minutes(1);
    act(
        &w,
        &mut t,
        reply(d3, "已安排应急电源车前往现场。"),
        &officer3,
        late,
    )
    .unwrap();
    act(&w, &mut t, resolve(), &w.officer, late).unwrap();
    let mut u = utilities(&w, start);
    act(&w, &mut u, add(&[w.d2, d3]), &w.officer, start).unwrap();
    let transfer = Command::Transfer {
        department_id: d3,
        reason: Reason::parse("属地管理").unwrap(),
    };
    act(&w, &mut u, transfer, &w.officer, start).unwrap();
    act(&w, &mut u, resolve(), &officer3, start).unwrap();
    // Outside the period: not counted.
    let mut v = utilities(&w, at(2026, 4, 1, 9, 0));
    act(&w, &mut v, add(&[w.d2]), &w.officer, at(2026, 4, 1, 9, 0)).unwrap();

    let march = Period::new(
        chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
    )
    .unwrap();
    let table = co_handling([&t, &u, &v], &march);
    assert_eq!(
        table[&w.d2],
        CoHandlingTally {
            received: 2,
            replied_on_time: 1,
            replied_late: 0,
            not_replied: 1,
        }
    );
    assert_eq!(
        table[&d3],
        CoHandlingTally {
            received: 2,
            replied_on_time: 0,
            replied_late: 1,
            not_replied: 0,
        },
        "became_lead is received only"
    );
    assert_eq!(table.len(), 2);
}
