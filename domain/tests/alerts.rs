//! The alert schedule of DESIGN.md section 5, one scenario per rule: when each level
//! fires, to whom, under which key, and what pauses, extensions, transfers, redos and a
//! late calendar do to it.

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::{World, act, at};
use jiban_domain::alert::{self, Alert, AlertLevel};
use jiban_domain::deadline::{CalendarDay, DayKind, DeadlineName};
use jiban_domain::notice::Audience;
use jiban_domain::ticket::{Command, Ticket, recompute_provisional};
use jiban_domain::values::{
    Body, ContactMethod, InfoItem, Kind, RatingLevel, Reason, ResultText, Urgency,
};

fn accept() -> Command {
    Command::Accept {
        department_id: None,
        assignee: None,
        urgency: None,
        resolve_with: None,
    }
}

fn contact() -> Command {
    Command::Contact {
        method: ContactMethod::Phone,
        summary: Body::parse("电话联系企业负责人，了解停电情况").unwrap(),
    }
}

fn resolve() -> Command {
    Command::Resolve {
        result: ResultText::parse("已协调供电公司于当日下午恢复厂区供电。").unwrap(),
    }
}

/// (deadline, level, fires_at) of each alert, for compact assertions.
fn summary(alerts: &[Alert]) -> Vec<(DeadlineName, AlertLevel, DateTime<Utc>)> {
    alerts
        .iter()
        .map(|a| (a.key.deadline, a.key.level, a.fires_at))
        .collect()
}

fn officer_id(w: &World) -> jiban_domain::values::UserId {
    w.officer.id().unwrap()
}

/// A general ticket of department 1, received Mon 2026-03-02 09:00, accepted by the
/// officer at 09:10 and contacted at 10:00: only its resolve deadline is open, due Tue
/// 03-10 00:00 (5 working days: 03-03 … 03-09).
fn on_time(w: &World) -> Ticket {
    let mut t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    act(w, &mut t, accept(), &w.officer, at(2026, 3, 2, 9, 10)).unwrap();
    act(w, &mut t, contact(), &w.officer, at(2026, 3, 2, 10, 0)).unwrap();
    t
}

/// DESIGN.md section 5: a day limit warns at 00:00 of its last working day, is overdue at
/// the deadline and escalates at 24:00 of the first working day after its last day; each
/// level goes to its own people.
#[test]
fn a_day_limit_warns_then_is_overdue_then_escalates() {
    let w = World::new();
    let t = on_time(&w);
    let cal = &w.rules.calendar;
    assert!(alert::due(&t, at(2026, 3, 8, 23, 59), cal).is_empty());

    let warned = alert::due(&t, at(2026, 3, 9, 0, 0), cal);
    assert_eq!(
        summary(&warned),
        [(
            DeadlineName::Resolve,
            AlertLevel::Warning,
            at(2026, 3, 9, 0, 0)
        )]
    );
    // The officer is both assignee and first responder: named once.
    assert_eq!(warned[0].recipients, [Audience::User(officer_id(&w))]);
    assert_eq!(warned[0].key.due_at, at(2026, 3, 10, 0, 0));

    let overdue = alert::due(&t, at(2026, 3, 10, 0, 0), cal);
    assert_eq!(overdue.len(), 2);
    assert_eq!(overdue[1].key.level, AlertLevel::Overdue);
    assert_eq!(
        overdue[1].recipients,
        [
            Audience::User(officer_id(&w)),
            Audience::DepartmentOfficers(w.d1)
        ]
    );
    assert_eq!(
        alert::next_alert_at(&t, Some(at(2026, 3, 10, 0, 0)), cal),
        Some(at(2026, 3, 11, 0, 0)),
        "nothing more until 24:00 of Tue 03-10, the next working day"
    );
    let escalated = alert::due(&t, at(2026, 3, 11, 0, 0), cal);
    assert_eq!(escalated.len(), 3);
    assert_eq!(escalated[2].key.level, AlertLevel::Escalation);
    assert_eq!(
        escalated[2].recipients,
        [Audience::Supervisors, Audience::PairedLeader(w.e1)]
    );
    assert_eq!(
        alert::next_alert_at(&t, Some(at(2026, 3, 11, 0, 0)), cal),
        None,
        "after the escalation nothing more falls due"
    );
    // Computing again later gives the same keys: the ledger records each once.
    let later = alert::due(&t, at(2026, 6, 1, 0, 0), cal);
    assert_eq!(
        later.iter().map(|a| &a.key).collect::<Vec<_>>(),
        escalated.iter().map(|a| &a.key).collect::<Vec<_>>()
    );
}

/// DESIGN.md section 5: an escalation over a weekend or holiday waits for the first
/// working day after the last day. Received Wed 2026-09-16 10:00, 5 working days: 09-17,
/// 18, Sun 09-20 (make-up day), 21, 22 → due Wed 09-23 00:00; the first working day after
/// Tue 09-22 is Wed 09-23, so it escalates at Thu 09-24 00:00. One received on Fri 09-18
/// is due Fri 09-25 00:00 and escalates only at Tue 09-29 00:00 (09-25..27 are off).
#[test]
fn escalation_counts_working_days() {
    let w = World::new();
    let cal = &w.rules.calendar;
    let t = w.file("utilities", Kind::Complaint, None, at(2026, 9, 16, 10, 0));
    let fires = |t: &Ticket, level| alert::fires_at(&t.resolve_due, level, cal);
    assert_eq!(t.resolve_due.due_at, at(2026, 9, 23, 0, 0));
    assert_eq!(fires(&t, AlertLevel::Warning), at(2026, 9, 22, 0, 0));
    assert_eq!(fires(&t, AlertLevel::Escalation), at(2026, 9, 24, 0, 0));
    let t = w.file("utilities", Kind::Complaint, None, at(2026, 9, 18, 10, 0));
    assert_eq!(t.resolve_due.due_at, at(2026, 9, 25, 0, 0));
    assert_eq!(fires(&t, AlertLevel::Escalation), at(2026, 9, 29, 0, 0));
}

/// DESIGN.md section 5: before anyone accepts, alerts go to the department's officers, or
/// to the supervisors while the ticket waits in the intake queue.
#[test]
fn unaccepted_tickets_alert_their_department_or_the_supervisors() {
    let w = World::new();
    let cal = &w.rules.calendar;
    let dispatched = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    let warned = alert::due(&dispatched, at(2026, 3, 3, 0, 0), cal);
    assert_eq!(
        summary(&warned),
        [
            (
                DeadlineName::Accept,
                AlertLevel::Warning,
                at(2026, 3, 3, 0, 0)
            ),
            (
                DeadlineName::Contact,
                AlertLevel::Warning,
                at(2026, 3, 3, 0, 0)
            ),
        ]
    );
    assert_eq!(warned[0].recipients, [Audience::DepartmentOfficers(w.d1)]);
    let intake = w.file("land", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    let warned = alert::due(&intake, at(2026, 3, 3, 0, 0), cal);
    assert_eq!(warned[0].recipients, [Audience::Supervisors]);
    // Accepting stops the accept deadline's alerts.
    let mut t = dispatched;
    act(&w, &mut t, accept(), &w.officer, at(2026, 3, 3, 8, 0)).unwrap();
    assert!(
        alert::due(&t, at(2026, 4, 1, 0, 0), cal)
            .iter()
            .all(|a| a.key.deadline != DeadlineName::Accept)
    );
}

/// DESIGN.md section 4, "Pause", and issue 7: while a ticket awaits information no alert
/// falls due and nothing is overdue but what had passed when the pause began; it resumes
/// with its deadlines moved.
#[test]
fn a_pause_stops_the_alerts_and_moves_them() {
    let w = World::new();
    let cal = &w.rules.calendar;
    let mut t = on_time(&w);
    let ask = Command::RequestInfo {
        items: vec![InfoItem::parse("电费缴纳凭证").unwrap()],
        note: None,
    };
    act(&w, &mut t, ask, &w.officer, at(2026, 3, 4, 15, 0)).unwrap();
    assert!(alert::due(&t, at(2026, 3, 12, 0, 0), cal).is_empty());
    assert!(
        t.overdue(at(2026, 3, 12, 0, 0)).is_empty(),
        "the clock stopped"
    );
    assert_eq!(t.overdue_since(), None);
    assert_eq!(alert::next_alert_at(&t, None, cal), None);

    // Resumed Mon 03-09: 3 working days were left → due Fri 03-13 00:00.
    let supply = Command::SupplyInfo {
        attachment_ids: Vec::new(),
        body: Body::parse("已补充电费缴纳凭证").unwrap(),
    };
    act(&w, &mut t, supply, &w.enterprise, at(2026, 3, 9, 11, 0)).unwrap();
    assert_eq!(t.resolve_due.due_at, at(2026, 3, 13, 0, 0));
    assert_eq!(
        alert::next_alert_at(&t, None, cal),
        Some(at(2026, 3, 12, 0, 0))
    );
    assert!(alert::due(&t, at(2026, 3, 11, 23, 59), cal).is_empty());
}

/// Issue 7: a deadline that had passed when the pause began stays overdue while paused,
/// and its alerts up to the pause still fire; later ones wait.
#[test]
fn what_passed_before_a_pause_stays_overdue() {
    let w = World::new();
    let cal = &w.rules.calendar;
    let mut t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    act(&w, &mut t, accept(), &w.officer, at(2026, 3, 2, 9, 10)).unwrap();
    // Contact was due Wed 03-04 00:00 and escalated at Thu 03-05 00:00; nobody called.
    let ask = Command::RequestInfo {
        items: vec![InfoItem::parse("营业执照").unwrap()],
        note: None,
    };
    act(&w, &mut t, ask, &w.officer, at(2026, 3, 4, 15, 0)).unwrap();
    assert_eq!(t.overdue(at(2026, 3, 20, 0, 0)), ["contact"]);
    assert_eq!(t.overdue_since(), Some(at(2026, 3, 4, 0, 0)));
    let due = alert::due(&t, at(2026, 3, 20, 0, 0), cal);
    assert_eq!(
        summary(&due),
        [
            (
                DeadlineName::Contact,
                AlertLevel::Warning,
                at(2026, 3, 3, 0, 0)
            ),
            (
                DeadlineName::Contact,
                AlertLevel::Overdue,
                at(2026, 3, 4, 0, 0)
            ),
        ],
        "the escalation at 03-05 00:00 waits: the clock stopped on 03-04"
    );
}

/// DESIGN.md section 5: a resolved ticket gets no more resolve alerts; the scanner's next
/// look is the end of its rating window.
#[test]
fn a_resolved_ticket_alerts_no_more() {
    let w = World::new();
    let cal = &w.rules.calendar;
    let mut t = on_time(&w);
    act(&w, &mut t, resolve(), &w.officer, at(2026, 3, 9, 10, 0)).unwrap();
    assert!(alert::due(&t, at(2026, 5, 1, 0, 0), cal).is_empty());
    assert!(t.overdue(at(2026, 5, 1, 0, 0)).is_empty());
    let window = t.rating_due.as_ref().unwrap().due_at;
    assert_eq!(window, at(2026, 3, 17, 0, 0));
    assert_eq!(alert::next_alert_at(&t, None, cal), Some(window));
}

/// DESIGN.md section 5: a transferred ticket alerts the new department's officers from
/// then on; the first responder stays named (rule 1).
#[test]
fn after_a_transfer_the_new_department_is_alerted() {
    let w = World::new();
    let cal = &w.rules.calendar;
    let mut t = on_time(&w);
    let transfer = Command::Transfer {
        department_id: w.d2,
        reason: Reason::parse("职能调整，由二部门办理").unwrap(),
    };
    act(&w, &mut t, transfer, &w.officer, at(2026, 3, 3, 9, 0)).unwrap();
    let due = alert::due(&t, at(2026, 3, 10, 0, 0), cal);
    assert_eq!(
        due[0].recipients,
        [
            Audience::User(officer_id(&w)),
            Audience::DepartmentOfficers(w.d2)
        ],
        "no assignee: the warning goes to the new department too"
    );
    assert_eq!(
        due[1].recipients,
        [
            Audience::User(officer_id(&w)),
            Audience::DepartmentOfficers(w.d2)
        ]
    );
}

/// DESIGN.md rule 7 and issue 7: a bad rating reopens the ticket with fresh deadlines,
/// which alert under new keys; the redo has no current outcome or rating, and an unrated
/// close after it records none.
#[test]
fn a_redo_alerts_on_its_fresh_deadlines() {
    let w = World::new();
    let cal = &w.rules.calendar;
    let mut t = on_time(&w);
    act(&w, &mut t, resolve(), &w.officer, at(2026, 3, 9, 10, 0)).unwrap();
    let old_resolve = t.resolve_due.due_at;
    let rate = Command::Rate {
        level: RatingLevel::Dissatisfied,
        comment: None,
    };
    act(&w, &mut t, rate, &w.enterprise, at(2026, 3, 10, 9, 0)).unwrap();
    assert_eq!(t.outcome, None, "a reopened ticket is not resolved");
    assert_eq!((t.resolution.as_deref(), t.rating.as_ref()), (None, None));
    assert_eq!(
        t.past_ratings.len(),
        1,
        "the bad rating stays in the history"
    );
    // Fresh from Tue 03-10 09:00: contact Thu 03-12 00:00, resolve Wed 03-18 00:00.
    assert_eq!(t.resolve_due.due_at, at(2026, 3, 18, 0, 0));
    assert_ne!(t.resolve_due.due_at, old_resolve);
    let due = alert::due(&t, at(2026, 3, 18, 0, 0), cal);
    assert!(due.iter().all(|a| a.key.due_at != old_resolve));
    assert!(
        due.iter()
            .any(|a| a.key.deadline == DeadlineName::Resolve && a.key.level == AlertLevel::Overdue)
    );

    // Resolved again and never rated: closed with no rating.
    act(&w, &mut t, contact(), &w.officer, at(2026, 3, 10, 10, 0)).unwrap();
    act(&w, &mut t, resolve(), &w.officer, at(2026, 3, 11, 10, 0)).unwrap();
    let end = t.rating_due.as_ref().unwrap().due_at;
    act(
        &w,
        &mut t,
        Command::CloseUnrated,
        &jiban_domain::Actor::System,
        end,
    )
    .unwrap();
    assert_eq!(t.rating, None);
    assert_eq!(t.past_ratings.len(), 1);
}

/// DESIGN.md section 5: a clock limit warns when 80% of its span has run, pauses excluded,
/// and escalates 2 hours after its deadline.
#[test]
fn a_clock_limit_warns_at_eighty_percent_of_its_running_time() {
    let w = World::new();
    let cal = &w.rules.calendar;
    // Utilities class: accept 30 min, contact 2 h, resolve 24 h.
    let mut t = w.file(
        "utilities",
        Kind::Complaint,
        Some(Urgency::Utilities),
        at(2026, 3, 2, 9, 0),
    );
    assert_eq!(
        alert::fires_at(&t.accept_due, AlertLevel::Warning, cal),
        at(2026, 3, 2, 9, 24)
    );
    assert_eq!(
        alert::fires_at(&t.accept_due, AlertLevel::Escalation, cal),
        at(2026, 3, 2, 11, 30)
    );
    act(&w, &mut t, accept(), &w.officer, at(2026, 3, 2, 9, 10)).unwrap();
    act(&w, &mut t, contact(), &w.officer, at(2026, 3, 2, 9, 20)).unwrap();
    // 80% of 24 h is 19 h 12 min: 04:12 the next day.
    assert_eq!(
        alert::fires_at(&t.resolve_due, AlertLevel::Warning, cal),
        at(2026, 3, 3, 4, 12)
    );
    let ask = Command::RequestInfo {
        items: vec![InfoItem::parse("停电起止时间").unwrap()],
        note: None,
    };
    act(&w, &mut t, ask, &w.officer, at(2026, 3, 2, 10, 0)).unwrap();
    let supply = Command::SupplyInfo {
        attachment_ids: Vec::new(),
        body: Body::parse("停电自昨晚22时起").unwrap(),
    };
    act(&w, &mut t, supply, &w.enterprise, at(2026, 3, 2, 12, 0)).unwrap();
    // Two hours paused: the deadline and its warning move by two hours.
    assert_eq!(t.resolve_due.due_at, at(2026, 3, 3, 11, 0));
    assert_eq!(
        alert::fires_at(&t.resolve_due, AlertLevel::Warning, cal),
        at(2026, 3, 3, 6, 12)
    );
    assert_eq!(
        alert::fires_at(&t.resolve_due, AlertLevel::Escalation, cal),
        at(2026, 3, 3, 13, 0)
    );
}

/// DESIGN.md section 4: a deadline in a year without calendar data is provisional; when
/// the year arrives it is recomputed, and its alerts follow the new instant. The rating
/// window is recomputed with the other deadlines.
#[test]
fn a_calendar_that_arrives_later_moves_the_alerts() {
    let mut w = World::new();
    // Received Mon 2026-12-28: 5 working days assuming Mon–Fri in 2027 → 12-29, 30, 31,
    // Fri 2027-01-01, Mon 01-04 → due Tue 2027-01-05 00:00.
    let mut t = w.file("utilities", Kind::Complaint, None, at(2026, 12, 28, 9, 0));
    assert!(t.resolve_due.provisional);
    assert_eq!(t.resolve_due.due_at, at(2027, 1, 5, 0, 0));
    let before = alert::schedule(&t, &w.rules.calendar);
    let new_year = CalendarDay {
        date: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        kind: DayKind::Holiday,
        name: "元旦".to_owned(),
    };
    w.rules.calendar.set_year(2027, vec![new_year]).unwrap();
    let event = recompute_provisional(&t, at(2026, 12, 29, 9, 0), &w.rules).unwrap();
    t = jiban_domain::ticket::apply(t, &[event]);
    assert_eq!(t.resolve_due.due_at, at(2027, 1, 6, 0, 0));
    let after = alert::schedule(&t, &w.rules.calendar);
    let resolve_keys = |s: &[Alert]| {
        s.iter()
            .filter(|a| a.key.deadline == DeadlineName::Resolve)
            .map(|a| a.key.due_at)
            .collect::<Vec<_>>()
    };
    assert_ne!(resolve_keys(&before), resolve_keys(&after));

    // The rating window: resolved Wed 2026-12-30, counted through 2027.
    let mut w = World::new();
    let mut t = w.file("utilities", Kind::Complaint, None, at(2026, 12, 21, 9, 0));
    act(&w, &mut t, accept(), &w.officer, at(2026, 12, 21, 9, 10)).unwrap();
    act(&w, &mut t, resolve(), &w.officer, at(2026, 12, 30, 10, 0)).unwrap();
    let window = t.rating_due.clone().unwrap();
    assert!(window.provisional, "counted through 2027");
    let new_year = CalendarDay {
        date: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        kind: DayKind::Holiday,
        name: "元旦".to_owned(),
    };
    w.rules.calendar.set_year(2027, vec![new_year]).unwrap();
    let event = recompute_provisional(&t, at(2026, 12, 30, 11, 0), &w.rules).unwrap();
    t = jiban_domain::ticket::apply(t, &[event]);
    let again = t.rating_due.clone().unwrap();
    assert!(!again.provisional);
    assert_eq!(again.due_at, window.due_at + Duration::days(1));
    assert_eq!(
        alert::next_alert_at(&t, None, &w.rules.calendar),
        Some(again.due_at)
    );
}

/// DESIGN.md section 3, rule 5, and section 5: an approved extension moves the resolve
/// deadline, and its alerts with it: a new due instant is a new key, and nothing of the
/// old deadline fires after the extension.
#[test]
fn an_extension_moves_the_alerts() {
    let w = World::new();
    let cal = &w.rules.calendar;
    let mut t = on_time(&w);
    let old_due = t.resolve_due.due_at;
    let ask = Command::RequestExtension {
        reason: Reason::parse("需协调上级供电公司").unwrap(),
        amount: 3,
    };
    act(&w, &mut t, ask, &w.officer, at(2026, 3, 3, 9, 0)).unwrap();
    let grant = Command::DecideExtension {
        approve: true,
        note: None,
    };
    act(&w, &mut t, grant, &w.supervisor, at(2026, 3, 3, 10, 0)).unwrap();
    // Due Tue 03-10 00:00 (last day Mon 03-09) + 3 working days: 03-10, 11, 12.
    assert_eq!(t.resolve_due.due_at, at(2026, 3, 13, 0, 0));
    assert!(
        alert::due(&t, old_due, cal).is_empty(),
        "the old deadline's alerts do not fire"
    );
    let warned = alert::due(&t, at(2026, 3, 12, 0, 0), cal);
    assert_eq!(
        summary(&warned),
        [(
            DeadlineName::Resolve,
            AlertLevel::Warning,
            at(2026, 3, 12, 0, 0)
        )]
    );
    assert_eq!(warned[0].key.due_at, at(2026, 3, 13, 0, 0));
}
