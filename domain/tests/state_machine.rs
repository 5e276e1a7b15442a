//! Property tests of the ticket state machine: random command sequences by random actors
//! at random, increasing instants (DESIGN.md section 3, rules 1, 9, 11; section 4).

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{World, at};
use jiban_domain::Actor;
use jiban_domain::alert::{self, AlertLevel, Party};
use jiban_domain::deadline::Calendar;
use jiban_domain::ticket::rules::{ACCEPTED_OPEN, IN_HAND};
use jiban_domain::ticket::{Command, Event, EventData, Status, Ticket, apply, can_see, decide};
use jiban_domain::values::{
    AlertId, Body, CoHandlingRequest, ContactMethod, Disposition, DispositionExplanation,
    Explanation, InfoItem, Kind, Opinion, RatingLevel, Reason, ResultText, Urgency,
};
use proptest::prelude::*;

/// One step: who acts, what, and how long after the previous step.
#[derive(Clone, Debug)]
struct Step {
    actor: usize,
    command: usize,
    choice: usize,
    minutes_later: i64,
}

/// Verbs weighted so that lives get far (withdraw and dispose end them early), and actors
/// mostly those who may do the verb, sometimes anyone (to probe the refusals).
fn steps() -> impl Strategy<Value = Vec<Step>> {
    let weights = [6, 1, 2, 2, 3, 2, 3, 3, 2, 2, 4, 2, 4, 2, 2, 1, 2, 1, 3, 3];
    let verbs: Vec<usize> = weights
        .iter()
        .enumerate()
        .flat_map(|(verb, &w)| std::iter::repeat_n(verb, w))
        .collect();
    let step = (
        prop::sample::select(verbs),
        prop::bool::weighted(0.75),
        0usize..10,
        0usize..8,
        0i64..(2 * 24 * 60),
    );
    prop::collection::vec(
        step.prop_map(|(command, natural, anyone, choice, minutes_later)| Step {
            actor: if natural {
                natural_actor(command, choice)
            } else {
                anyone
            },
            command,
            choice,
            minutes_later,
        }),
        1..40,
    )
}

/// An index into `World::all_actors` of someone who may do `verb` (0 enterprise, 2
/// liaison, 4 officer, 5 colleague, 7 supervisor, 9 system).
fn natural_actor(verb: usize, choice: usize) -> usize {
    let pick = |options: &[usize]| options[choice % options.len()];
    match verb {
        0 | 4 | 10 => pick(&[4, 5, 2]),
        1 | 8 | 11 | 13 => pick(&[4, 5]),
        2 | 3 => pick(&[4, 7]),
        5 => pick(&[0, 2, 4, 7]),
        6 => pick(&[4, 2, 7]),
        7 => pick(&[0, 2]),
        9 | 14 => 7,
        12 | 15 => 0,
        16 => 9,
        18 => pick(&[4, 7, 5]),
        19 => pick(&[6, 6, 4]),
        _ => pick(&[4, 7]),
    }
}

fn command(w: &World, actors: &[Actor], t: &Ticket, step: &Step) -> Command {
    let text = |s: &str| Reason::parse(s).unwrap();
    let body = |s: &str| Body::parse(s).unwrap();
    let pick_user = || {
        let candidates: Vec<_> = actors.iter().filter_map(|a| a.user().cloned()).collect();
        candidates[step.choice % candidates.len()].clone()
    };
    let departments = [w.d1, w.d2];
    match step.command {
        0 => Command::Accept {
            department_id: (step.choice % 3 == 2).then(|| departments[step.choice % 2]),
            assignee: (step.choice % 4 == 3).then(pick_user),
            urgency: (step.choice % 2 == 1).then(|| Urgency::ALL[step.choice % 4]),
            resolve_with: (step.choice == 5)
                .then(|| ResultText::parse("已当场答复企业咨询的政策问题。").unwrap()),
        },
        1 => Command::Dispose {
            disposition: Disposition::ALL[step.choice % 3],
            explanation: DispositionExplanation::parse(
                "该诉求不属于本平台受理范围，已告知企业通过司法途径解决。",
            )
            .unwrap(),
            duplicate_of: (step.choice.is_multiple_of(2)).then_some(t.id),
        },
        2 => Command::Assign {
            assignee: pick_user(),
        },
        3 => Command::Transfer {
            department_id: departments[step.choice % 2],
            reason: text("职能调整"),
        },
        4 => Command::Contact {
            method: ContactMethod::ALL[step.choice % 4],
            summary: body("电话联系企业负责人"),
        },
        5 => Command::Comment {
            attachment_ids: Vec::new(),
            body: body("进展如何？"),
            internal: step.choice.is_multiple_of(2),
        },
        6 => Command::RequestInfo {
            items: vec![InfoItem::parse("营业执照").unwrap()],
            note: None,
        },
        7 => Command::SupplyInfo {
            attachment_ids: Vec::new(),
            body: body("已补充材料"),
        },
        8 => Command::RequestExtension {
            reason: text("需跨部门协调"),
            amount: 1 + step.choice as u32,
        },
        9 => Command::DecideExtension {
            approve: step.choice.is_multiple_of(2),
            note: None,
        },
        10 => Command::Resolve {
            result: ResultText::parse("已协调解决企业反映的问题并电话回访。").unwrap(),
        },
        11 => Command::Explain {
            explanation: Explanation::parse(
                &"受现行政策限制，该事项暂无法办理，已向企业详细说明政策依据和后续可行路径。"
                    .repeat(2),
            )
            .unwrap(),
            policy_basis: text("相关政策文件"),
            plan: None,
        },
        12 => Command::Rate {
            level: RatingLevel::ALL[step.choice % 5],
            comment: None,
        },
        13 => Command::Appeal {
            reason: text("评价与办理无关"),
        },
        14 => Command::DecideAppeal {
            uphold: step.choice.is_multiple_of(2),
            note: None,
        },
        15 => Command::Withdraw {
            reason: text("已自行解决"),
        },
        16 => Command::CloseUnrated,
        18 => Command::AddCoHandlers {
            department_ids: vec![departments[(step.choice / 2) % 2]],
            request: CoHandlingRequest::parse("请核实停电原因并提出恢复方案").unwrap(),
            due_at: None,
        },
        19 => Command::ReplyCoHandling {
            department_id: departments[(step.choice / 2) % 2],
            opinion: Opinion::parse("经核实，线路故障已排除，已恢复供电。").unwrap(),
        },
        17 => Command::AcknowledgeAlert {
            alert_id: AlertId::from_uuid(uuid::Uuid::from_u128(step.choice as u128)),
            recipients: vec![pick_user().id],
        },
        _ => Command::AcknowledgeAlert {
            alert_id: AlertId::from_uuid(uuid::Uuid::from_u128(step.choice as u128)),
            recipients: vec![pick_user().id],
        },
    }
}

/// The deadlines that may move earlier only by an urgency correction at acceptance, a
/// redo's fresh deadlines, or the recompute of a provisional one (DESIGN.md section 4).
fn may_move_earlier(data: &EventData) -> bool {
    matches!(
        data,
        EventData::Accepted {
            deadlines: Some(_),
            ..
        } | EventData::Reopened { .. }
            | EventData::DeadlinesRecomputed { .. }
    )
}

/// The alert schedule's invariants at `now` (DESIGN.md section 5, issue 7): the ticket is
/// overdue exactly when its stored `overdue_since` has passed; nothing fires inside a
/// pause; the levels of a deadline fire in order; what a command stores as
/// `next_alert_at` never skips an alert already due (no alert is lost), and what the
/// scanner stores lies after the instant it scanned at.
fn check_alerts(t: &Ticket, now: DateTime<Utc>, cal: &Calendar) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        !t.overdue(now).is_empty(),
        t.overdue_since().is_some_and(|since| since <= now)
    );
    let due = alert::due(t, now, cal);
    for a in &due {
        prop_assert!(a.fires_at <= now);
        if let Some(since) = t.paused_since {
            prop_assert!(a.fires_at <= since, "an alert inside the pause");
        }
        prop_assert!(!a.recipients.is_empty());
    }
    if !IN_HAND.contains(&t.status) {
        prop_assert!(alert::schedule(t, cal).is_empty());
    }
    for (_, d) in t.open_deadlines() {
        let fire = |level| alert::fires_at(d, level, cal);
        prop_assert!(fire(AlertLevel::Warning) <= fire(AlertLevel::Overdue));
        prop_assert!(fire(AlertLevel::Overdue) < fire(AlertLevel::Escalation));
        prop_assert!(fire(AlertLevel::Warning) >= d.started_at);
    }
    if let Some(first) = due.first() {
        let stored = alert::next_alert_at(t, None, cal);
        prop_assert!(stored.is_some_and(|at| at <= first.fires_at));
    }
    if let Some(next) = alert::next_alert_at(t, Some(now), cal) {
        let answered = matches!(t.status, Status::Resolved | Status::Explained);
        prop_assert!(next > now || answered, "the scanner would loop on {next}");
    }
    Ok(())
}

/// 主办/协办 (issue 13) across one command: requests are never removed and their first
/// reply never changes; an open request lives only on an accepted, unanswered ticket and
/// never for the lead's own department; a department that co-handled keeps read access;
/// only requests awaiting a reply raise alerts; a reply limit moves only later.
fn check_co_handling(
    w: &World,
    before: &Ticket,
    t: &Ticket,
    cal: &Calendar,
) -> Result<(), TestCaseError> {
    prop_assert!(t.co_handlers.len() >= before.co_handlers.len());
    for (old, new) in before.co_handlers.iter().zip(&t.co_handlers) {
        prop_assert_eq!(old.department_id, new.department_id);
        prop_assert_eq!(old.requested_at, new.requested_at);
        if old.replied_at.is_some() {
            prop_assert_eq!(old.replied_at, new.replied_at, "the first reply counts");
        }
        if old.ended_at.is_some() {
            prop_assert_eq!(old, new, "an ended request never changes");
        }
        prop_assert!(new.reply_due.due_at >= old.reply_due.due_at);
    }
    for c in t.open_co_handlers() {
        prop_assert!(
            ACCEPTED_OPEN.contains(&t.status),
            "open request on a {} ticket",
            t.status
        );
        prop_assert_ne!(Some(c.department_id), t.department_id);
    }
    for (d, officer) in [(w.d1, &w.officer), (w.d2, &w.other_officer)] {
        if t.co_handled_by(Some(d)) {
            prop_assert!(can_see(officer, t), "a co-handler lost read access");
        }
    }
    for a in alert::schedule(t, cal) {
        if let Party::CoHandler(d) = a.key.party {
            prop_assert!(
                t.open_co_handlers()
                    .any(|c| c.department_id == d && c.awaits_reply())
            );
        }
    }
    Ok(())
}

/// What replaying a timeline must give, read off the events by a table written here rather
/// than by `evolve` (DESIGN.md rule 9): the status the last status-setting event names, the
/// version the last event carries, `updated_at` at the last state change, and the counts of
/// transfers, redos and requests for information. Comparing `replay` with the ticket the
/// walk built would only compare `evolve` with itself.
fn check_replay(timeline: &[Event]) -> Result<(), TestCaseError> {
    let t = Ticket::replay(timeline).unwrap();
    let status = timeline
        .iter()
        .filter_map(|e| match &e.data {
            EventData::Submitted(_) => Some(Status::Submitted),
            EventData::Accepted { .. }
            | EventData::InfoSupplied { .. }
            | EventData::Reopened { .. } => Some(Status::InProgress),
            EventData::InfoRequested { .. } => Some(Status::AwaitingInfo),
            EventData::Resolved { .. } => Some(Status::Resolved),
            EventData::Explained { .. } => Some(Status::Explained),
            EventData::Disposed { .. } | EventData::Closed { .. } => Some(Status::Closed),
            EventData::Withdrawn { .. } => Some(Status::Withdrawn),
            _ => None,
        })
        .next_back()
        .unwrap();
    prop_assert_eq!(t.status, status);
    prop_assert_eq!(t.is_paused(), status == Status::AwaitingInfo);
    prop_assert_eq!(t.version, timeline.last().unwrap().version);
    let mut state_changes = timeline.iter().filter(|e| {
        !matches!(
            e.data,
            EventData::Commented { .. }
                | EventData::AlertAcknowledged { .. }
                | EventData::Alerted { .. }
        )
    });
    prop_assert_eq!(t.updated_at, state_changes.next_back().unwrap().at);
    let count = |kind: &str| timeline.iter().filter(|e| e.data.kind() == kind).count() as u32;
    prop_assert_eq!(t.transfer_count, count("transferred"));
    prop_assert_eq!(t.redo_count, count("reopened"));
    prop_assert_eq!(t.info_requests, count("info_requested"));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_state_machine_keeps_its_invariants(
        category in prop::sample::select(vec!["utilities", "land"]),
        kind in prop::sample::select(Kind::ALL.to_vec()),
        start_minutes in 0i64..(365 * 24 * 60),
        steps in steps(),
    ) {
        let w = World::new();
        let actors = w.all_actors();
        let mut now = at(2026, 1, 1, 0, 0) + Duration::minutes(start_minutes);
        let first = jiban_domain::ticket::submit(w.new_ticket(category, kind, None, 1), &w.enterprise, now, &w.rules).unwrap();
        let mut t = Ticket::replay(std::slice::from_ref(&first)).unwrap();
        let mut timeline = vec![first];

        for step in &steps {
            now += Duration::minutes(step.minutes_later);
            let actor = &actors[step.actor];
            let cmd = command(&w, &actors, &t, step);
            // Rule 11, read off the command, not off `changes_state` (which sets the version):
            // comments and acknowledgements keep the version, any other command bumps it once.
            let keeps_version =
                matches!(cmd, Command::Comment { .. } | Command::AcknowledgeAlert { .. });
            let before = t.clone();
            check_alerts(&t, now, &w.rules.calendar)?;
            match decide(&t, cmd, actor, now, &w.rules) {
                // A refused command produces no event, so the ticket stays as it was. An
                // actor never acts on a ticket it cannot see, and learns nothing from it.
                Err(err) => {
                    prop_assert_eq!(err.code() == "not_found", !can_see(actor, &t));
                }
                Ok(events) => {
                    prop_assert!(can_see(actor, &before));
                    prop_assert!(!events.is_empty());
                    t = apply(t, &events);
                    check_co_handling(&w, &before, &t, &w.rules.calendar)?;
                    timeline.extend(events.iter().cloned());

                    prop_assert_eq!(t.version, before.version + u64::from(!keeps_version));
                    prop_assert!(events.iter().all(|e| e.version == t.version));

                    // 首问负责: once set, the first responder never changes (rule 1).
                    if before.first_responder_id.is_some() {
                        prop_assert_eq!(t.first_responder_id, before.first_responder_id);
                    }
                    // Closed and withdrawn are final.
                    if before.status.is_final() {
                        prop_assert_eq!(t.status, before.status);
                    }
                    // A deadline never moves earlier but by the three named exceptions.
                    if !events.iter().any(|e| may_move_earlier(&e.data)) {
                        prop_assert!(t.accept_due.due_at >= before.accept_due.due_at);
                        prop_assert!(t.contact_due.due_at >= before.contact_due.due_at);
                        prop_assert!(t.resolve_due.due_at >= before.resolve_due.due_at);
                    }
                    // A met deadline stays met until a redo gives fresh ones.
                    if !events.iter().any(|e| may_move_earlier(&e.data)) {
                        prop_assert!(!before.resolve_due.is_met() || t.resolve_due.is_met());
                    }
                }
            }
        }
        // The timeline is the whole truth (rule 9): every prefix replays to what its events
        // say, and the whole one to the ticket the walk built.
        for n in 1..=timeline.len() {
            check_replay(&timeline[..n])?;
        }
        prop_assert_eq!(Ticket::replay(&timeline).unwrap(), t);
    }
}

/// A fixed walk of the generator's steps from a utilities complaint filed Mon 2026-03-02
/// 09:00, half an hour apart: (actor index, verb, choice) each.
fn walk(steps: &[(usize, usize, usize)]) -> Ticket {
    let w = World::new();
    let actors = w.all_actors();
    let mut now = at(2026, 3, 2, 9, 0);
    let first = jiban_domain::ticket::submit(
        w.new_ticket("utilities", Kind::Complaint, None, 1),
        &w.enterprise,
        now,
        &w.rules,
    )
    .unwrap();
    let mut t = Ticket::replay(&[first]).unwrap();
    for &(actor, verb, choice) in steps {
        now += Duration::minutes(30);
        let step = Step {
            actor,
            command: verb,
            choice,
            minutes_later: 0,
        };
        let cmd = command(&w, &actors, &t, &step);
        let events = decide(&t, cmd, &actors[actor], now, &w.rules).unwrap();
        t = apply(t, &events);
    }
    t
}

/// Indices into `World::all_actors`.
const ENTERPRISE: usize = 0;
const OFFICER: usize = 4;
const OTHER_OFFICER: usize = 6;

/// Guards the generator: a fixed walk of its steps takes a ticket through its whole life.
#[test]
fn the_generator_walks_a_whole_life() {
    let t = walk(&[
        (OFFICER, 0, 0),
        (OFFICER, 6, 0),
        (ENTERPRISE, 7, 0),
        (OFFICER, 10, 0),
        (ENTERPRISE, 12, 0),
    ]);
    assert!(t.status.is_final());
}

/// Guards the generator's co-handling verbs: a fixed walk asks department 2, which replies.
#[test]
fn the_generator_asks_and_replies() {
    let t = walk(&[
        (OFFICER, 0, 0),
        (OFFICER, 18, 2),
        (OTHER_OFFICER, 19, 2),
        (OFFICER, 10, 0),
    ]);
    assert_eq!(t.co_handlers.len(), 1);
    assert!(t.co_handlers[0].replied_at.is_some() && !t.co_handlers[0].is_open());
}
