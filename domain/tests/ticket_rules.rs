//! The ticket rules of DESIGN.md sections 1 and 3, one test (or a few) per rule.

mod common;

use chrono::{Duration, NaiveDate};
use common::{World, act, at, user_of};
use jiban_domain::deadline::{Adjustment, CalendarDay, DayKind, Limit};
use jiban_domain::ticket::{
    CloseReason, Command, Decision, EventData, Outcome, Status, Ticket, can_see, decide,
    recompute_provisional, submit,
};
use jiban_domain::values::{
    Body, ContactMethod, Disposition, DispositionExplanation, Explanation, InfoItem, Kind,
    RatingLevel, Reason, ResultText, Urgency,
};
use jiban_domain::{Actor, DomainError, ErrorKind};

fn reason(s: &str) -> Reason {
    Reason::parse(s).unwrap()
}

fn body(s: &str) -> Body {
    Body::parse(s).unwrap()
}

fn result_text() -> ResultText {
    ResultText::parse("已协调供电公司于当日下午恢复厂区供电。").unwrap()
}

fn accept() -> Command {
    Command::Accept {
        department_id: None,
        assignee: None,
        urgency: None,
        resolve_with: None,
    }
}

fn resolve() -> Command {
    Command::Resolve {
        result: result_text(),
    }
}

fn request_info() -> Command {
    Command::RequestInfo {
        items: vec![
            InfoItem::parse("电费缴纳凭证").unwrap(),
            InfoItem::parse("停电起止时间").unwrap(),
        ],
        note: None,
    }
}

fn rate(level: RatingLevel) -> Command {
    Command::Rate {
        level,
        comment: None,
    }
}

/// A utilities ticket (dispatched to department 1), received Mon 2026-03-02 09:00 and
/// accepted by the officer at 09:10.
fn accepted(w: &World) -> Ticket {
    let mut t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    act(w, &mut t, accept(), &w.officer, at(2026, 3, 2, 9, 10)).unwrap();
    t
}

fn resolved(w: &World) -> Ticket {
    let mut t = accepted(w);
    act(w, &mut t, resolve(), &w.officer, at(2026, 3, 3, 10, 0)).unwrap();
    t
}

// ----- filing and dispatch -------------------------------------------------------------

/// DESIGN.md section 3, "Dispatch": a mapped category dispatches at once; an unmapped one
/// waits in the intake queue; no urgency means `general`.
#[test]
fn category_dispatches_or_waits_in_intake() {
    let w = World::new();
    let t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    assert_eq!(t.department_id, Some(w.d1));
    assert_eq!(t.urgency, Urgency::General);
    assert_eq!(t.status, Status::Submitted);
    let t = w.file("land", Kind::Request, None, at(2026, 3, 2, 9, 0));
    assert_eq!(t.department_id, None);
}

/// DESIGN.md section 3: an unknown category is refused with the field named.
#[test]
fn unknown_category_is_refused() {
    let w = World::new();
    let mut rules = w.rules.clone();
    rules.categories.clear();
    let new = w.new_ticket("land", Kind::Request, None, 1);
    let err = submit(new, &w.enterprise, at(2026, 3, 2, 9, 0), &rules).unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("unknown_category", Some("category"))
    );
    assert_eq!(err.kind(), ErrorKind::Invalid);
}

/// DESIGN.md section 1: an enterprise files for itself; a liaison for the enterprises it is
/// stationed at (channel `liaison`); an officer names the enterprise (channel `hotline`);
/// an admin files nothing.
#[test]
fn who_files_for_whom() {
    let w = World::new();
    let now = at(2026, 3, 2, 9, 0);
    let mut new = w.new_ticket("land", Kind::Request, None, 1);
    new.enterprise_id = Some(w.e2);
    let err = submit(new.clone(), &w.enterprise, now, &w.rules).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);

    let err = submit(new.clone(), &w.liaison, now, &w.rules).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    new.enterprise_id = Some(w.e1);
    let filed = Ticket::replay(&[submit(new.clone(), &w.liaison, now, &w.rules).unwrap()]).unwrap();
    assert_eq!(filed.channel.as_str(), "liaison");

    let filed = Ticket::replay(&[submit(new.clone(), &w.officer, now, &w.rules).unwrap()]).unwrap();
    assert_eq!(
        (filed.channel.as_str(), filed.enterprise_id),
        ("hotline", w.e1)
    );
    new.enterprise_id = None;
    let err = submit(new.clone(), &w.officer, now, &w.rules).unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("required", Some("enterprise_id"))
    );
    assert_eq!(
        submit(new, &w.admin, now, &w.rules).unwrap_err().kind(),
        ErrorKind::Forbidden
    );
}

// ----- scope -----------------------------------------------------------------------------

/// DESIGN.md section 1: nobody sees a ticket outside their scope, and acting on one answers
/// "not found", never "forbidden", so ids do not leak.
#[test]
fn out_of_scope_is_not_found() {
    let w = World::new();
    let t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    for outsider in [&w.other_enterprise, &w.far_liaison, &w.other_officer] {
        assert!(!can_see(outsider, &t));
        let err = decide(&t, accept(), outsider, at(2026, 3, 2, 9, 5), &w.rules).unwrap_err();
        assert_eq!(err, DomainError::NotFound);
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }
    for insider in [
        &w.enterprise,
        &w.liaison,
        &w.officer,
        &w.colleague,
        &w.supervisor,
        &w.admin,
    ] {
        assert!(can_see(insider, &t));
    }
}

/// DESIGN.md section 1: officers see the intake queue (tickets not dispatched), and the
/// tickets they first responded to even after they leave their department.
#[test]
fn officers_see_intake_and_what_they_answered_for() {
    let w = World::new();
    let mut t = w.file("land", Kind::Request, None, at(2026, 3, 2, 9, 0));
    assert!(can_see(&w.other_officer, &t));
    act(&w, &mut t, accept(), &w.other_officer, at(2026, 3, 2, 9, 5)).unwrap();
    assert_eq!(
        t.department_id,
        Some(w.d2),
        "accepting defaults to the officer's department"
    );
    assert!(!can_see(&w.officer, &t));
    let transfer = Command::Transfer {
        department_id: w.d1,
        reason: reason("属供电所辖区"),
    };
    act(
        &w,
        &mut t,
        transfer,
        &w.other_officer,
        at(2026, 3, 2, 9, 30),
    )
    .unwrap();
    assert!(can_see(&w.officer, &t));
    assert!(
        can_see(&w.other_officer, &t),
        "the first responder keeps sight of it"
    );
}

/// DESIGN.md section 1: admins read every ticket for support and act on none, not even a
/// comment.
#[test]
fn admins_act_on_nothing() {
    let w = World::new();
    let t = accepted(&w);
    let comment = Command::Comment {
        attachment_ids: Vec::new(),
        body: body("请核实"),
        internal: true,
    };
    let err = decide(&t, comment, &w.admin, at(2026, 3, 2, 10, 0), &w.rules).unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("not_permitted", ErrorKind::Forbidden)
    );
}

// ----- rule 1: first responder -------------------------------------------------------------

/// 北京市接诉即办工作条例 Art. 14 (首问负责): the first to accept is the first responder,
/// and stays so through reassignment and transfers.
#[test]
fn first_responder_never_changes() {
    let w = World::new();
    let mut t = accepted(&w);
    let officer = w.officer.id();
    assert_eq!(t.first_responder_id, officer);
    assert_eq!(t.assignee_id, officer);
    act(
        &w,
        &mut t,
        Command::Assign {
            assignee: user_of(&w.colleague),
        },
        &w.officer,
        at(2026, 3, 2, 10, 0),
    )
    .unwrap();
    let transfer = Command::Transfer {
        department_id: w.d2,
        reason: reason("涉及规划审批"),
    };
    act(&w, &mut t, transfer, &w.supervisor, at(2026, 3, 2, 11, 0)).unwrap();
    assert_eq!(t.first_responder_id, officer);
    assert_eq!(
        t.assignee_id, None,
        "a transfer leaves it to the new department"
    );
}

// ----- rule 2: intake disposition ------------------------------------------------------------

/// 北京市接诉即办工作条例 Art. 11: a non-accept disposition closes the ticket with its
/// explanation; a duplicate must link the ticket it duplicates.
#[test]
fn disposition_closes_with_explanation() {
    let w = World::new();
    let mut t = w.file("land", Kind::Request, None, at(2026, 3, 2, 9, 0));
    let explanation =
        DispositionExplanation::parse("该事项属于司法程序，请通过法院诉讼渠道解决，已告知企业。")
            .unwrap();
    let dup = Command::Dispose {
        disposition: Disposition::Duplicate,
        explanation: explanation.clone(),
        duplicate_of: None,
    };
    let err = decide(&t, dup, &w.officer, at(2026, 3, 2, 9, 5), &w.rules).unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("required", Some("duplicate_of"))
    );
    let redirect = Command::Dispose {
        disposition: Disposition::Redirect,
        explanation,
        duplicate_of: None,
    };
    let err = decide(
        &t,
        redirect.clone(),
        &w.liaison,
        at(2026, 3, 2, 9, 5),
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    act(&w, &mut t, redirect, &w.officer, at(2026, 3, 2, 9, 5)).unwrap();
    assert_eq!(t.status, Status::Closed);
    assert_eq!(t.close_reason, Some(CloseReason::Redirect));
    assert!(
        t.first_responder_id.is_none(),
        "a disposition is not an acceptance"
    );
}

// ----- rule 3: ask once, and the paused clock -------------------------------------------------

/// 优化营商环境条例 Art. 36 (一次性告知): an officer asks once; only a supervisor may ask a
/// second time; nobody a third.
#[test]
fn information_is_requested_once() {
    let w = World::new();
    let mut t = accepted(&w);
    act(
        &w,
        &mut t,
        request_info(),
        &w.officer,
        at(2026, 3, 2, 10, 0),
    )
    .unwrap();
    assert_eq!(t.status, Status::AwaitingInfo);
    let supply = Command::SupplyInfo {
        attachment_ids: Vec::new(),
        body: body("已上传缴费凭证。"),
    };
    act(
        &w,
        &mut t,
        supply.clone(),
        &w.enterprise,
        at(2026, 3, 2, 11, 0),
    )
    .unwrap();
    for asker in [&w.officer, &w.liaison] {
        let err = decide(&t, request_info(), asker, at(2026, 3, 2, 12, 0), &w.rules).unwrap_err();
        assert_eq!(
            (err.code(), err.kind()),
            ("info_already_requested", ErrorKind::Conflict)
        );
    }
    act(
        &w,
        &mut t,
        request_info(),
        &w.supervisor,
        at(2026, 3, 2, 12, 0),
    )
    .unwrap();
    act(&w, &mut t, supply, &w.liaison, at(2026, 3, 2, 13, 0)).unwrap();
    let err = decide(
        &t,
        request_info(),
        &w.supervisor,
        at(2026, 3, 2, 14, 0),
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(err.code(), "info_already_requested");
}

/// DESIGN.md section 4, "Pause": while awaiting information the clock stops; day limits
/// keep the working days used before the pause.
#[test]
fn awaiting_information_pauses_the_deadlines() {
    let w = World::new();
    let mut t = accepted(&w);
    // General, received Mon 03-02: resolve due Tue 03-10 00:00.
    assert_eq!(t.resolve_due.due_at, at(2026, 3, 10, 0, 0));
    act(
        &w,
        &mut t,
        request_info(),
        &w.officer,
        at(2026, 3, 4, 15, 0),
    )
    .unwrap();
    assert!(t.is_paused());
    let supply = Command::SupplyInfo {
        attachment_ids: Vec::new(),
        body: body("材料已补齐。"),
    };
    act(&w, &mut t, supply, &w.enterprise, at(2026, 3, 9, 11, 0)).unwrap();
    assert!(!t.is_paused());
    // Two days used (03-03, 03-04); three from 03-09: 03-10, 03-11, 03-12.
    assert_eq!(t.resolve_due.due_at, at(2026, 3, 13, 0, 0));
    assert_eq!(t.status, Status::InProgress);
}

// ----- rule 4: transfer -------------------------------------------------------------------------

/// DESIGN.md rule 4: a transfer does not restart the deadlines; after two transfers only a
/// supervisor transfers; transferring to the same department is refused.
#[test]
fn transfers_keep_deadlines_and_need_a_supervisor_after_two() {
    let w = World::new();
    let mut t = accepted(&w);
    let due = t.resolve_due.due_at;
    let to = |d| Command::Transfer {
        department_id: d,
        reason: reason("职能调整"),
    };
    let err = decide(&t, to(w.d1), &w.officer, at(2026, 3, 2, 10, 0), &w.rules).unwrap_err();
    assert_eq!(err.code(), "same_department");
    act(&w, &mut t, to(w.d2), &w.officer, at(2026, 3, 2, 10, 0)).unwrap();
    act(
        &w,
        &mut t,
        to(w.d1),
        &w.other_officer,
        at(2026, 3, 2, 11, 0),
    )
    .unwrap();
    assert_eq!(t.transfer_count, 2);
    assert_eq!(t.resolve_due.due_at, due);
    let err = decide(&t, to(w.d2), &w.officer, at(2026, 3, 2, 12, 0), &w.rules).unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("transfer_needs_supervisor", ErrorKind::Forbidden)
    );
    act(&w, &mut t, to(w.d2), &w.supervisor, at(2026, 3, 2, 12, 0)).unwrap();
    assert_eq!(t.department_id, Some(w.d2));
}

// ----- rule 5: extension -------------------------------------------------------------------------

/// 北京市接诉即办工作条例 Art. 15 (DESIGN.md rule 5): one extension per ticket, at most the
/// class's limit again, decided by a supervisor; approval moves the resolve deadline.
#[test]
fn one_extension_decided_by_a_supervisor() {
    let w = World::new();
    let mut t = accepted(&w);
    let ask = |amount| Command::RequestExtension {
        reason: reason("需协调上级供电公司"),
        amount,
    };
    let err = decide(&t, ask(6), &w.officer, at(2026, 3, 3, 9, 0), &w.rules).unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("extension_out_of_range", Some("amount"))
    );
    let decision = Command::DecideExtension {
        approve: true,
        note: None,
    };
    let err = decide(
        &t,
        decision.clone(),
        &w.supervisor,
        at(2026, 3, 3, 9, 0),
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(err.code(), "no_pending_extension");
    act(&w, &mut t, ask(3), &w.officer, at(2026, 3, 3, 9, 0)).unwrap();
    let err = decide(
        &t,
        decision.clone(),
        &w.officer,
        at(2026, 3, 3, 10, 0),
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let events = act(&w, &mut t, decision, &w.supervisor, at(2026, 3, 3, 10, 0)).unwrap();
    assert!(
        !events[0].data.is_internal(),
        "the enterprise is told of the extension"
    );
    // Due Tue 03-10 00:00 (last day Mon 03-09) + 3 working days: 03-10, 11, 12.
    assert_eq!(t.resolve_due.due_at, at(2026, 3, 13, 0, 0));
    assert_eq!(t.extension.as_ref().unwrap().decision, Decision::Approved);
    let err = decide(&t, ask(1), &w.officer, at(2026, 3, 4, 9, 0), &w.rules).unwrap_err();
    assert_eq!(err.code(), "extension_already_used");
}

/// DESIGN.md rule 5: an extension is asked for the round it would extend. A request still
/// pending at resolve or explain lapses; the supervisor cannot approve it later, so it cannot
/// move a redo's resolve deadline, and the ticket's one extension is spent.
#[test]
fn a_pending_extension_lapses_at_resolve_and_never_extends_a_redo() {
    let ask = Command::RequestExtension {
        reason: reason("需协调上级供电公司"),
        amount: 3,
    };
    let approve = Command::DecideExtension {
        approve: true,
        note: None,
    };
    let w = World::new();
    for explain in [false, true] {
        let mut t = accepted(&w);
        act(&w, &mut t, ask.clone(), &w.officer, at(2026, 3, 3, 9, 0)).unwrap();
        let finish = if explain {
            Command::Explain {
                explanation: Explanation::parse(&"因上级政策调整，本项补贴需待省级文件下发后方可兑现，我们已登记并将持续跟进，届时第一时间告知企业。".repeat(2)).unwrap(),
                policy_basis: reason("省财政厅2026年第3号通知"),
                plan: None,
            }
        } else {
            resolve()
        };
        act(&w, &mut t, finish, &w.officer, at(2026, 3, 3, 10, 0)).unwrap();
        assert_eq!(t.extension.as_ref().unwrap().decision, Decision::Lapsed);
        let err = decide(
            &t,
            approve.clone(),
            &w.supervisor,
            at(2026, 3, 3, 11, 0),
            &w.rules,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);

        act(
            &w,
            &mut t,
            rate(RatingLevel::VeryDissatisfied),
            &w.enterprise,
            at(2026, 3, 4, 9, 0),
        )
        .unwrap();
        assert_eq!((t.status, t.redo_count), (Status::InProgress, 1));
        let due = t.resolve_due.due_at;
        let err = decide(
            &t,
            approve.clone(),
            &w.supervisor,
            at(2026, 3, 4, 10, 0),
            &w.rules,
        )
        .unwrap_err();
        assert_eq!(err.code(), "no_pending_extension");
        assert_eq!(t.resolve_due.due_at, due);
        let err = decide(&t, ask.clone(), &w.officer, at(2026, 3, 4, 10, 0), &w.rules).unwrap_err();
        assert_eq!(err.code(), "extension_already_used");
    }
}

// ----- rule 6: feedback is the result ------------------------------------------------------------

/// DESIGN.md rule 6: resolving records the result the enterprise reads and opens the
/// 5-working-day rating window; a liaison resolves only what is assigned to it.
#[test]
fn resolve_records_the_result_and_opens_the_rating_window() {
    let w = World::new();
    let mut t = accepted(&w);
    let err = decide(&t, resolve(), &w.liaison, at(2026, 3, 3, 10, 0), &w.rules).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    act(&w, &mut t, resolve(), &w.officer, at(2026, 3, 3, 10, 0)).unwrap();
    assert_eq!(t.status, Status::Resolved);
    assert_eq!(t.outcome, Some(Outcome::Resolved));
    assert_eq!(t.resolution.as_deref(), Some(result_text().as_str()));
    assert!(t.resolve_due.is_met());
    // Tue 03-03 + 5 working days: 03-04..06, 03-09, 03-10 → 03-11 00:00.
    assert_eq!(
        t.rating_due.as_ref().map(|d| d.due_at),
        Some(at(2026, 3, 11, 0, 0))
    );
}

/// DESIGN.md rule 6 ("政策等原因一时无法解决的要耐心细致解释"): explaining records the
/// explanation and its policy basis.
#[test]
fn explain_records_policy_basis() {
    let w = World::new();
    let mut t = accepted(&w);
    let explain = Command::Explain {
        explanation: Explanation::parse(&"根据现行土地利用总体规划，该地块暂不能调整为工业用地，待新一轮国土空间规划批复后重新申请。".repeat(2)).unwrap(),
        policy_basis: reason("《土地管理法》第二十三条"),
        plan: Some(body("规划批复后主动联系企业。")),
    };
    act(&w, &mut t, explain, &w.officer, at(2026, 3, 3, 10, 0)).unwrap();
    assert_eq!(t.status, Status::Explained);
    assert_eq!(t.policy_basis.as_deref(), Some("《土地管理法》第二十三条"));
}

/// DESIGN.md section 4: consultations may be resolved at acceptance (当场办结); other
/// kinds may not.
#[test]
fn consultations_resolve_at_acceptance() {
    let w = World::new();
    let answer = Command::Accept {
        department_id: None,
        assignee: None,
        urgency: None,
        resolve_with: Some(result_text()),
    };
    let t = w.file("policy", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    let err = decide(
        &t,
        answer.clone(),
        &w.officer,
        at(2026, 3, 2, 9, 5),
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("result"));
    let mut t = w.file("policy", Kind::Consultation, None, at(2026, 3, 2, 9, 0));
    act(&w, &mut t, answer, &w.officer, at(2026, 3, 2, 9, 5)).unwrap();
    assert_eq!(t.status, Status::Resolved);
    assert_eq!(t.version, 2, "one command, one version");
}

/// DESIGN.md section 3: the accepting officer may correct the urgency; the deadlines are
/// then recomputed from the received instant.
#[test]
fn urgency_correction_recomputes_from_received() {
    let w = World::new();
    let mut t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    let accept_utilities = Command::Accept {
        department_id: None,
        assignee: None,
        urgency: Some(Urgency::Utilities),
        resolve_with: None,
    };
    act(
        &w,
        &mut t,
        accept_utilities,
        &w.officer,
        at(2026, 3, 2, 9, 10),
    )
    .unwrap();
    assert_eq!(t.urgency, Urgency::Utilities);
    assert_eq!(t.contact_due.due_at, at(2026, 3, 2, 11, 0));
    assert_eq!(t.resolve_due.due_at, at(2026, 3, 3, 9, 0));
    assert_eq!(t.resolve_due.limit, Limit::minutes(1440));
}

// ----- rule 7: rating -----------------------------------------------------------------------------

/// DESIGN.md rule 7: a good rating closes the ticket.
#[test]
fn good_rating_closes() {
    let w = World::new();
    let mut t = resolved(&w);
    let err = decide(
        &t,
        rate(RatingLevel::Satisfied),
        &w.officer,
        at(2026, 3, 4, 9, 0),
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    act(
        &w,
        &mut t,
        rate(RatingLevel::BasicallySatisfied),
        &w.enterprise,
        at(2026, 3, 4, 9, 0),
    )
    .unwrap();
    assert_eq!(t.status, Status::Closed);
    assert_eq!(t.close_reason, Some(CloseReason::Rated));
    assert!(t.closed_at.is_some());
}

/// DESIGN.md rule 7: a bad rating reopens the ticket as a redo with fresh contact and
/// resolve deadlines from the rating, escalates it and marks it supervised; a second bad
/// rating also escalates to the paired leader; allowances stay per ticket.
#[test]
fn bad_rating_reopens_and_escalates() {
    let w = World::new();
    let mut t = resolved(&w);
    let ask = Command::RequestExtension {
        reason: reason("需协调"),
        amount: 1,
    };
    act(&w, &mut t, ask.clone(), &w.officer, at(2026, 3, 3, 9, 0)).unwrap_err();
    let rated_at = at(2026, 3, 4, 9, 0);
    let events = act(
        &w,
        &mut t,
        rate(RatingLevel::Dissatisfied),
        &w.enterprise,
        rated_at,
    )
    .unwrap();
    assert_eq!(t.status, Status::InProgress);
    assert_eq!(t.redo_count, 1);
    assert!(t.supervised);
    assert!(events.iter().any(|e| matches!(
        e.data,
        EventData::Escalated {
            to_paired_leader: false,
            ..
        }
    )));
    assert_eq!(t.contact_due.started_at, rated_at);
    // Wed 03-04 + 5 working days: 03-05, 06, 09, 10, 11 → 03-12 00:00.
    assert_eq!(t.resolve_due.due_at, at(2026, 3, 12, 0, 0));
    assert!(!t.resolve_due.is_met());

    act(&w, &mut t, ask.clone(), &w.officer, at(2026, 3, 5, 9, 0)).unwrap();
    act(&w, &mut t, resolve(), &w.officer, at(2026, 3, 6, 9, 0)).unwrap();
    let events = act(
        &w,
        &mut t,
        rate(RatingLevel::VeryDissatisfied),
        &w.enterprise,
        at(2026, 3, 6, 10, 0),
    )
    .unwrap();
    assert!(events.iter().any(|e| matches!(
        e.data,
        EventData::Escalated {
            to_paired_leader: true,
            ..
        }
    )));
    assert_eq!(t.redo_count, 2);
    let err = decide(&t, ask, &w.officer, at(2026, 3, 6, 11, 0), &w.rules).unwrap_err();
    assert_eq!(
        err.code(),
        "extension_already_used",
        "one extension per ticket, not per redo"
    );
}

/// DESIGN.md rule 7: ratings are given within the window; after it the scanner closes the
/// ticket unrated, and not before.
#[test]
fn rating_window_ends_in_an_unrated_close() {
    let w = World::new();
    let mut t = resolved(&w);
    let window_end = t.rating_due.as_ref().unwrap().due_at;
    let err = decide(
        &t,
        rate(RatingLevel::Satisfied),
        &w.enterprise,
        window_end,
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("rating_window_closed", ErrorKind::Conflict)
    );
    let early = window_end - Duration::minutes(1);
    let err = decide(&t, Command::CloseUnrated, &Actor::System, early, &w.rules).unwrap_err();
    assert_eq!(err.code(), "rating_window_open");
    let err = decide(
        &t,
        Command::CloseUnrated,
        &w.supervisor,
        window_end,
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    act(
        &w,
        &mut t,
        Command::CloseUnrated,
        &Actor::System,
        window_end,
    )
    .unwrap();
    assert_eq!(t.status, Status::Closed);
    assert_eq!(t.close_reason, Some(CloseReason::RatingWindowEnded));
    assert!(t.rating.is_none());
}

/// DESIGN.md rule 7: an officer may appeal a rating once; a supervisor decides; an upheld
/// appeal removes the rating from the statistics only: the redo stays.
#[test]
fn appeals_remove_a_rating_from_statistics_only() {
    let w = World::new();
    let mut t = resolved(&w);
    let appeal = Command::Appeal {
        reason: reason("企业不满意的是电价政策，非办理结果"),
    };
    assert_eq!(
        decide(
            &t,
            appeal.clone(),
            &w.officer,
            at(2026, 3, 4, 8, 0),
            &w.rules
        )
        .unwrap_err()
        .code(),
        "no_rating"
    );
    act(
        &w,
        &mut t,
        rate(RatingLevel::VeryDissatisfied),
        &w.enterprise,
        at(2026, 3, 4, 9, 0),
    )
    .unwrap();
    act(
        &w,
        &mut t,
        appeal.clone(),
        &w.officer,
        at(2026, 3, 4, 10, 0),
    )
    .unwrap();
    assert_eq!(
        decide(&t, appeal, &w.officer, at(2026, 3, 4, 11, 0), &w.rules)
            .unwrap_err()
            .code(),
        "appeal_already_filed"
    );
    let uphold = Command::DecideAppeal {
        uphold: true,
        note: None,
    };
    assert_eq!(
        decide(
            &t,
            uphold.clone(),
            &w.officer,
            at(2026, 3, 4, 12, 0),
            &w.rules
        )
        .unwrap_err()
        .kind(),
        ErrorKind::Forbidden
    );
    act(
        &w,
        &mut t,
        uphold.clone(),
        &w.supervisor,
        at(2026, 3, 4, 12, 0),
    )
    .unwrap();
    assert!(t.rating.is_none(), "a redo has no current rating");
    assert!(!t.latest_rating().unwrap().counts());
    assert_eq!((t.status, t.redo_count), (Status::InProgress, 1));
    assert_eq!(
        decide(&t, uphold, &w.supervisor, at(2026, 3, 4, 13, 0), &w.rules)
            .unwrap_err()
            .code(),
        "no_pending_appeal"
    );
}

// ----- rule 8: comments and contacts -----------------------------------------------------------------

/// DESIGN.md rule 8 and rule 11: comments are public or internal, enterprises never write
/// internal ones, and comments do not change the version.
#[test]
fn comments_are_public_or_internal_and_keep_the_version() {
    let w = World::new();
    let mut t = accepted(&w);
    let version = t.version;
    let internal = |b: bool| Command::Comment {
        attachment_ids: Vec::new(),
        body: body("请尽快处理"),
        internal: b,
    };
    let err = decide(
        &t,
        internal(true),
        &w.enterprise,
        at(2026, 3, 2, 10, 0),
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let events = act(
        &w,
        &mut t,
        internal(false),
        &w.enterprise,
        at(2026, 3, 2, 10, 0),
    )
    .unwrap();
    assert!(!events[0].data.is_internal());
    let events = act(
        &w,
        &mut t,
        internal(true),
        &w.officer,
        at(2026, 3, 2, 10, 5),
    )
    .unwrap();
    assert!(events[0].data.is_internal());
    assert_eq!(t.version, version);
}

/// DESIGN.md rule 8: the first contact sets `contacted_at` and meets the contact deadline;
/// later contacts do not move it.
#[test]
fn first_contact_is_kept() {
    let w = World::new();
    let mut t = accepted(&w);
    let contact = |m| Command::Contact {
        method: m,
        summary: body("电话了解停电情况"),
    };
    act(
        &w,
        &mut t,
        contact(ContactMethod::Phone),
        &w.officer,
        at(2026, 3, 2, 9, 30),
    )
    .unwrap();
    act(
        &w,
        &mut t,
        contact(ContactMethod::Visit),
        &w.liaison,
        at(2026, 3, 2, 14, 0),
    )
    .unwrap();
    assert_eq!(t.contacted_at, Some(at(2026, 3, 2, 9, 30)));
    assert_eq!(t.contact_due.met_at, Some(at(2026, 3, 2, 9, 30)));
    let err = decide(
        &t,
        contact(ContactMethod::Phone),
        &w.enterprise,
        at(2026, 3, 2, 15, 0),
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
}

// ----- rule 9: the timeline ------------------------------------------------------------------------

/// DESIGN.md rule 9: the timeline is the whole truth: replaying it gives the ticket.
#[test]
fn replaying_the_timeline_gives_the_ticket() {
    let w = World::new();
    let received = at(2026, 3, 2, 9, 0);
    let first = submit(
        w.new_ticket("utilities", Kind::Complaint, None, 1),
        &w.enterprise,
        received,
        &w.rules,
    )
    .unwrap();
    let mut t = Ticket::replay(std::slice::from_ref(&first)).unwrap();
    let mut timeline = vec![first];
    timeline.extend(act(&w, &mut t, accept(), &w.officer, at(2026, 3, 2, 9, 10)).unwrap());
    timeline.extend(
        act(
            &w,
            &mut t,
            request_info(),
            &w.officer,
            at(2026, 3, 2, 10, 0),
        )
        .unwrap(),
    );
    timeline.extend(
        act(
            &w,
            &mut t,
            Command::SupplyInfo {
                attachment_ids: Vec::new(),
                body: body("已补充"),
            },
            &w.enterprise,
            at(2026, 3, 3, 10, 0),
        )
        .unwrap(),
    );
    timeline.extend(act(&w, &mut t, resolve(), &w.officer, at(2026, 3, 3, 11, 0)).unwrap());

    // What each prefix of the timeline says, written out here: comparing the replay with `t`
    // alone would compare `evolve` with itself.
    let officer = w.officer.id();
    let paused = Ticket::replay(&timeline[..3]).unwrap();
    assert_eq!(paused.status, Status::AwaitingInfo);
    assert_eq!(paused.paused_since, Some(at(2026, 3, 2, 10, 0)));
    assert_eq!((paused.version, paused.info_requests), (3, 1));
    let resumed = Ticket::replay(&timeline[..4]).unwrap();
    assert_eq!(
        (resumed.status, resumed.paused_since),
        (Status::InProgress, None)
    );
    assert_eq!(
        resumed.resolve_due.adjustments,
        vec![Adjustment::Pause {
            from: at(2026, 3, 2, 10, 0),
            to: at(2026, 3, 3, 10, 0),
        }]
    );
    let replayed = Ticket::replay(&timeline).unwrap();
    assert_eq!(replayed.status, Status::Resolved);
    assert_eq!(replayed.outcome, Some(Outcome::Resolved));
    assert_eq!(replayed.resolution.as_deref(), Some(result_text().as_str()));
    assert_eq!(replayed.first_responder_id, officer);
    assert_eq!(replayed.department_id, Some(w.d1));
    assert_eq!(replayed.accepted_at, Some(at(2026, 3, 2, 9, 10)));
    assert_eq!(replayed.resolved_at, Some(at(2026, 3, 3, 11, 0)));
    assert_eq!(replayed.resolve_due.met_at, Some(at(2026, 3, 3, 11, 0)));
    assert_eq!(
        replayed.resolve_due.adjustments,
        resumed.resolve_due.adjustments
    );
    assert!(replayed.rating_due.is_some());
    assert_eq!(
        (replayed.version, replayed.updated_at),
        (5, at(2026, 3, 3, 11, 0))
    );
    assert_eq!(replayed, t);
}

// ----- rule 10: withdraw ----------------------------------------------------------------------------

/// DESIGN.md rule 10: the enterprise may withdraw, with a reason, until the ticket is
/// resolved or explained; withdrawn is final.
#[test]
fn withdraw_until_answered() {
    let w = World::new();
    let withdraw = Command::Withdraw {
        reason: reason("问题已自行解决"),
    };
    let t = resolved(&w);
    let err = decide(
        &t,
        withdraw.clone(),
        &w.enterprise,
        at(2026, 3, 4, 9, 0),
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("wrong_status", ErrorKind::Conflict)
    );
    let mut t = accepted(&w);
    let err = decide(
        &t,
        withdraw.clone(),
        &w.officer,
        at(2026, 3, 2, 10, 0),
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Forbidden,
        "only the enterprise withdraws"
    );
    act(&w, &mut t, withdraw, &w.enterprise, at(2026, 3, 2, 10, 0)).unwrap();
    assert_eq!(t.status, Status::Withdrawn);
    let err = decide(&t, resolve(), &w.officer, at(2026, 3, 2, 11, 0), &w.rules).unwrap_err();
    assert_eq!(err.code(), "wrong_status");
}

// ----- rule 11: versions ----------------------------------------------------------------------------

/// DESIGN.md rule 11: each state change bumps the version by one; alert acknowledgements do
/// not, and only recipients or supervisors acknowledge.
#[test]
fn versions_count_state_changes() {
    let w = World::new();
    let mut t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    assert_eq!(t.version, 1);
    act(&w, &mut t, accept(), &w.officer, at(2026, 3, 2, 9, 10)).unwrap();
    assert_eq!(t.version, 2);
    let ack = |recipients| Command::AcknowledgeAlert {
        alert_id: jiban_domain::values::AlertId::from_uuid(uuid::Uuid::from_u128(77)),
        recipients,
    };
    let err = decide(&t, ack(vec![]), &w.officer, at(2026, 3, 3, 9, 0), &w.rules).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    act(
        &w,
        &mut t,
        ack(vec![w.officer.id().unwrap()]),
        &w.officer,
        at(2026, 3, 3, 9, 0),
    )
    .unwrap();
    act(&w, &mut t, ack(vec![]), &w.supervisor, at(2026, 3, 3, 9, 5)).unwrap();
    assert_eq!(t.version, 2);
}

// ----- deadlines as snapshots -----------------------------------------------------------------------

/// DESIGN.md section 4: a deadline counted on a year without calendar data is provisional,
/// and loading that year's calendar recomputes it; definite deadlines never move.
#[test]
fn provisional_deadlines_are_recomputed_when_the_year_arrives() {
    let mut w = World::new();
    let t = w.file("land", Kind::Request, None, at(2026, 12, 31, 10, 0));
    assert!(t.resolve_due.provisional);
    assert!(
        recompute_provisional(&t, at(2026, 12, 31, 11, 0), &w.rules).is_none(),
        "nothing new yet"
    );
    let new_year = CalendarDay {
        date: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        kind: DayKind::Holiday,
        name: "元旦".into(),
    };
    w.rules.calendar.set_year(2027, vec![new_year]).unwrap();
    let event = recompute_provisional(&t, at(2026, 12, 31, 11, 0), &w.rules).unwrap();
    let t2 = jiban_domain::ticket::apply(t.clone(), &[event]);
    assert!(!t2.resolve_due.provisional);
    assert_eq!(t2.resolve_due.due_at, at(2027, 1, 9, 0, 0));
    assert_eq!(
        t2.resolve_due.due_at - t.resolve_due.due_at,
        Duration::days(1)
    );
    assert_eq!(t2.version, t.version + 1);
}

/// DESIGN.md section 4: editing the SLA table does not move deadlines already set.
#[test]
fn sla_edits_do_not_move_existing_deadlines() {
    let mut w = World::new();
    let mut t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    let before = t.resolve_due.clone();
    let mut general = w.rules.sla.get(Urgency::General).clone();
    general.resolve = Limit::working_days(2);
    w.rules.sla.set(Urgency::General, general);
    act(&w, &mut t, accept(), &w.officer, at(2026, 3, 2, 9, 10)).unwrap();
    assert_eq!(t.resolve_due.due_at, before.due_at);
}

/// DESIGN.md section 7: refusals map to 403 / 404 / 409 / 422 through their kind.
#[test]
fn refusals_carry_their_http_kind() {
    assert_eq!(
        DomainError::InfoAlreadyRequested.kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        DomainError::TransferNeedsSupervisor.kind(),
        ErrorKind::Forbidden
    );
    assert_eq!(DomainError::NotFound.kind(), ErrorKind::NotFound);
}

/// DESIGN.md section 5: overdue names the deadlines passed unmet, and only while open.
#[test]
fn overdue_names_the_deadlines_passed() {
    let w = World::new();
    let t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    assert!(t.overdue(at(2026, 3, 2, 23, 0)).is_empty());
    assert_eq!(t.overdue(at(2026, 3, 4, 0, 0)), vec!["accept", "contact"]);
    let t = resolved(&w);
    assert!(t.overdue(at(2026, 4, 1, 0, 0)).is_empty());
}

/// DESIGN.md rule 8: an enterprise does not see an appeal against its rating, nor an
/// extension that was not granted; staff see both.
#[test]
fn enterprises_do_not_read_the_internal_administration() {
    let w = World::new();
    let mut t = accepted(&w);
    let ask = Command::RequestExtension {
        reason: reason("需协调上级供电公司"),
        amount: 2,
    };
    act(&w, &mut t, ask, &w.officer, at(2026, 3, 3, 9, 0)).unwrap();
    assert!(t.as_seen_by(&w.enterprise).extension.is_none(), "pending");
    assert!(t.as_seen_by(&w.officer).extension.is_some());
    let approve = Command::DecideExtension {
        approve: true,
        note: Some(reason("同意")),
    };
    act(&w, &mut t, approve, &w.supervisor, at(2026, 3, 3, 10, 0)).unwrap();
    let seen = t.as_seen_by(&w.enterprise).extension.unwrap();
    assert_eq!((seen.amount, seen.note, seen.decided_by), (2, None, None));

    act(&w, &mut t, resolve(), &w.officer, at(2026, 3, 4, 10, 0)).unwrap();
    act(
        &w,
        &mut t,
        rate(RatingLevel::Dissatisfied),
        &w.enterprise,
        at(2026, 3, 4, 11, 0),
    )
    .unwrap();
    let appeal = Command::Appeal {
        reason: reason("评价针对电价政策"),
    };
    act(&w, &mut t, appeal, &w.officer, at(2026, 3, 4, 12, 0)).unwrap();
    let appeal_seen_by = |actor| t.as_seen_by(actor).latest_rating().unwrap().appeal.clone();
    assert!(appeal_seen_by(&w.enterprise).is_none());
    assert!(appeal_seen_by(&w.supervisor).is_some());
}

/// DESIGN.md section 7 (`accept`) and issue 8: a dispatched ticket keeps its department
/// when accepted (moving it is a transfer, rule 4); from the intake queue an officer
/// accepts into its own department and a liaison names the department.
#[test]
fn accepting_keeps_or_names_the_department() {
    let w = World::new();
    let accept_into = |department| Command::Accept {
        department_id: department,
        assignee: None,
        urgency: None,
        resolve_with: None,
    };
    let now = at(2026, 3, 2, 9, 10);
    let dispatched = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    let err = decide(
        &dispatched,
        accept_into(Some(w.d2)),
        &w.officer,
        now,
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("use_transfer", ErrorKind::Conflict)
    );
    for asked in [None, Some(w.d1)] {
        let mut t = dispatched.clone();
        act(&w, &mut t, accept_into(asked), &w.officer, now).unwrap();
        assert_eq!(t.department_id, Some(w.d1));
    }
    // A liaison stationed at the enterprise accepts it where it was dispatched, too.
    let err = decide(
        &dispatched,
        accept_into(Some(w.d2)),
        &w.liaison,
        now,
        &w.rules,
    )
    .unwrap_err();
    assert_eq!(err.code(), "use_transfer");

    let intake = w.file("land", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    let err = decide(&intake, accept_into(Some(w.d2)), &w.officer, now, &w.rules).unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("not_own_department", Some("department_id"))
    );
    let mut t = intake.clone();
    act(&w, &mut t, accept_into(None), &w.officer, now).unwrap();
    assert_eq!(t.department_id, Some(w.d1));
    let err = decide(&intake, accept_into(None), &w.liaison, now, &w.rules).unwrap_err();
    assert_eq!((err.code(), err.kind()), ("required", ErrorKind::Invalid));
    let mut t = intake;
    act(&w, &mut t, accept_into(Some(w.d2)), &w.liaison, now).unwrap();
    assert_eq!(t.department_id, Some(w.d2));
    let err = decide(&t, accept_into(None), &w.supervisor, now, &w.rules).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Forbidden,
        "a supervisor dispatches with transfer"
    );
}
