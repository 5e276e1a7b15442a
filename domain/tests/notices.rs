//! Who is told what (DESIGN.md section 5; issue 7, point 4): the enterprise hears of each
//! step of its ticket, officials of what they must act on, and each mail says what the
//! reader needs; alert mails name the ticket, the deadline, how late, and who answers.

mod common;

use chrono::Duration;
use common::{World, act, at};
use jiban_domain::alert::{AlertKey, AlertLevel, Party};
use jiban_domain::deadline::DeadlineName;
use jiban_domain::notice::{
    AlertContext, Audience, Notice, NoticeContext, alert_notice, notices_for,
};
use jiban_domain::ticket::{Command, Event, Ticket};
use jiban_domain::values::{
    Body, ContactMethod, Disposition, DispositionExplanation, Explanation, InfoItem, Kind,
    RatingLevel, Reason, ResultText, Role,
};

const OFFICIAL_LINK: &str = "https://jiban.example.gov.cn/dashboard/tickets/x";
const APP_LINK: &str = "https://qiye.example.com/t/JB-2026-000001";

fn ctx(role: Role, app_link: Option<&'static str>) -> NoticeContext<'static> {
    NoticeContext {
        enterprise_name: "苏州精密制造有限公司",
        official_link: OFFICIAL_LINK,
        enterprise_link: app_link,
        actor_role: Some(role),
    }
}

/// The notices of the events a command caused, for the ticket after them.
fn told(events: &[Event], t: &Ticket, role: Role) -> Vec<Notice> {
    events
        .iter()
        .flat_map(|e| notices_for(e, t, &ctx(role, Some(APP_LINK))))
        .collect()
}

fn to_enterprise(notices: &[Notice], w: &World) -> Vec<Notice> {
    notices
        .iter()
        .filter(|n| n.audience == Audience::Enterprise(w.e1))
        .cloned()
        .collect()
}

fn accept() -> Command {
    Command::Accept {
        department_id: None,
        assignee: None,
        urgency: None,
        resolve_with: None,
    }
}

/// Issue 7, point 4: accepted, information requested (every item), a public comment from
/// an official (not an internal one, not the enterprise's own), resolved with the result
/// and the rating window's end, reopened after a bad rating, and closed.
#[test]
fn the_enterprise_hears_of_each_step() {
    let w = World::new();
    let mut t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    let e = act(&w, &mut t, accept(), &w.officer, at(2026, 3, 2, 9, 10)).unwrap();
    let n = to_enterprise(&told(&e, &t, Role::Officer), &w);
    assert_eq!(n.len(), 1);
    assert!(n[0].subject.contains("已受理") && n[0].subject.contains("JB-2026-000001"));
    assert!(n[0].body.contains(APP_LINK) && !n[0].body.contains(OFFICIAL_LINK));

    let ask = Command::RequestInfo {
        items: vec![
            InfoItem::parse("电费缴纳凭证").unwrap(),
            InfoItem::parse("停电起止时间").unwrap(),
        ],
        note: None,
    };
    let e = act(&w, &mut t, ask, &w.officer, at(2026, 3, 2, 10, 0)).unwrap();
    let n = to_enterprise(&told(&e, &t, Role::Officer), &w);
    assert!(n[0].body.contains("1. 电费缴纳凭证") && n[0].body.contains("2. 停电起止时间"));
    let supply = Command::SupplyInfo {
        attachment_ids: Vec::new(),
        body: Body::parse("已补充").unwrap(),
    };
    act(&w, &mut t, supply, &w.enterprise, at(2026, 3, 2, 11, 0)).unwrap();

    let comment = |internal| Command::Comment {
        attachment_ids: Vec::new(),
        body: Body::parse("供电公司已派员到场").unwrap(),
        internal,
    };
    let e = act(
        &w,
        &mut t,
        comment(false),
        &w.officer,
        at(2026, 3, 2, 12, 0),
    )
    .unwrap();
    let n = to_enterprise(&told(&e, &t, Role::Officer), &w);
    assert!(n[0].body.contains("供电公司已派员到场"));
    let e = act(&w, &mut t, comment(true), &w.officer, at(2026, 3, 2, 12, 5)).unwrap();
    assert!(told(&e, &t, Role::Officer).is_empty(), "internal");
    let e = act(
        &w,
        &mut t,
        comment(false),
        &w.enterprise,
        at(2026, 3, 2, 12, 6),
    )
    .unwrap();
    assert!(told(&e, &t, Role::Enterprise).is_empty(), "its own comment");

    let contact = Command::Contact {
        method: ContactMethod::Phone,
        summary: Body::parse("电话联系").unwrap(),
    };
    act(&w, &mut t, contact, &w.officer, at(2026, 3, 2, 13, 0)).unwrap();
    let resolve = Command::Resolve {
        result: ResultText::parse("已协调供电公司于当日下午恢复厂区供电。").unwrap(),
    };
    let e = act(&w, &mut t, resolve, &w.officer, at(2026, 3, 3, 10, 0)).unwrap();
    let n = to_enterprise(&told(&e, &t, Role::Officer), &w);
    assert!(n[0].body.contains("恢复厂区供电"));
    assert!(
        n[0].body.contains("评价截止时间：2026-03-11 00:00"),
        "{}",
        n[0].body
    );

    let bad = Command::Rate {
        level: RatingLevel::Dissatisfied,
        comment: None,
    };
    let e = act(&w, &mut t, bad, &w.enterprise, at(2026, 3, 4, 9, 0)).unwrap();
    let all = told(&e, &t, Role::Enterprise);
    let n = to_enterprise(&all, &w);
    assert_eq!(n.len(), 1);
    assert!(n[0].subject.contains("重新办理"));
    assert!(
        all.iter()
            .any(|x| x.audience == Audience::Supervisors && x.subject.starts_with("【督办】"))
    );

    let resolve = Command::Resolve {
        result: ResultText::parse("已更换变压器，供电恢复稳定。").unwrap(),
    };
    act(&w, &mut t, resolve, &w.officer, at(2026, 3, 5, 10, 0)).unwrap();
    let end = t.rating_due.as_ref().unwrap().due_at;
    let e = act(
        &w,
        &mut t,
        Command::CloseUnrated,
        &jiban_domain::Actor::System,
        end,
    )
    .unwrap();
    let n: Vec<_> = e
        .iter()
        .flat_map(|e| notices_for(e, &t, &ctx(Role::Officer, None)))
        .collect();
    assert_eq!(n.len(), 1);
    assert!(n[0].body.contains("未作评价"));
    assert!(
        !n[0].body.contains("查看详情"),
        "no app configured: no link"
    );
}

/// Issue 7, point 4: disposed (with the explanation), an extension granted, explained
/// (with the explanation, the policy basis and the rating window).
#[test]
fn dispositions_extensions_and_explanations_are_told() {
    let w = World::new();
    let mut t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    let explanation = "该事项属于司法程序范围，请通过人民法院依法提起诉讼，本平台无法受理。";
    let dispose = Command::Dispose {
        disposition: Disposition::Redirect,
        explanation: DispositionExplanation::parse(explanation).unwrap(),
        duplicate_of: None,
    };
    let e = act(&w, &mut t, dispose, &w.officer, at(2026, 3, 2, 9, 30)).unwrap();
    let n = to_enterprise(&told(&e, &t, Role::Officer), &w);
    assert!(n[0].body.contains(explanation));

    let mut t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    act(&w, &mut t, accept(), &w.officer, at(2026, 3, 2, 9, 10)).unwrap();
    let ask = Command::RequestExtension {
        reason: Reason::parse("需协调上级供电公司").unwrap(),
        amount: 2,
    };
    let e = act(&w, &mut t, ask, &w.officer, at(2026, 3, 2, 10, 0)).unwrap();
    assert!(
        to_enterprise(&told(&e, &t, Role::Officer), &w).is_empty(),
        "not yet granted"
    );
    let grant = Command::DecideExtension {
        approve: true,
        note: None,
    };
    let e = act(&w, &mut t, grant, &w.supervisor, at(2026, 3, 2, 11, 0)).unwrap();
    let n = to_enterprise(&told(&e, &t, Role::Supervisor), &w);
    assert!(
        n[0].body.contains("延长至 2026-03-12 00:00"),
        "{}",
        n[0].body
    );

    let text =
        "受现行政策限制，该事项暂无法办理，已向企业详细说明政策依据和后续可行路径。".repeat(2);
    let explain = Command::Explain {
        explanation: Explanation::parse(&text).unwrap(),
        policy_basis: Reason::parse("《电力供应与使用条例》第二十八条").unwrap(),
        plan: None,
    };
    let e = act(&w, &mut t, explain, &w.officer, at(2026, 3, 3, 10, 0)).unwrap();
    let n = to_enterprise(&told(&e, &t, Role::Officer), &w);
    assert!(n[0].body.contains(&text));
    assert!(n[0].body.contains("第二十八条"));
    assert!(n[0].body.contains("评价截止时间"));
}

/// Issue 7, point 3: an alert's subject begins with its level's tag and names the ticket
/// and the deadline; its body says when it was due, how late it is, who answers for it,
/// and links the dashboard; a title cannot break the subject onto a new line.
#[test]
fn an_alert_mail_says_what_is_late_and_who_answers() {
    let w = World::new();
    let mut t = w.file("utilities", Kind::Complaint, None, at(2026, 3, 2, 9, 0));
    t.title = "停电\r\nBcc: evil@example.com".to_owned();
    let key = AlertKey {
        ticket_id: t.id,
        deadline: DeadlineName::Accept,
        party: Party::Handler,
        level: AlertLevel::Overdue,
        due_at: t.accept_due.due_at,
    };
    let ctx = AlertContext {
        enterprise_name: "苏州精密制造有限公司",
        first_responder: Some("王立"),
        official_link: OFFICIAL_LINK,
    };
    let now = t.accept_due.due_at + Duration::hours(26) + Duration::minutes(5);
    let (subject, body) = alert_notice(&t, &key, now, &ctx);
    assert!(
        subject.starts_with("【超期】JB-2026-000001 签收"),
        "{subject}"
    );
    assert!(
        !subject.contains('\r') && !subject.contains('\n'),
        "{subject:?}"
    );
    assert!(
        body.contains("时限：签收，2026-03-04 00:00 (北京时间)"),
        "{body}"
    );
    assert!(body.contains("已超期 1天2小时"), "{body}");
    assert!(body.contains("首问负责人：王立"));
    assert!(body.contains(OFFICIAL_LINK));
    assert!(body.contains("苏州精密制造有限公司"));

    let warning = AlertKey {
        level: AlertLevel::Warning,
        ..key
    };
    let (subject, body) = alert_notice(
        &t,
        &warning,
        t.accept_due.due_at - Duration::minutes(90),
        &ctx,
    );
    assert!(subject.starts_with("【预警】"));
    assert!(body.contains("距时限还有 1小时30分钟"), "{body}");
    let unaccepted = AlertContext {
        first_responder: None,
        ..ctx
    };
    let escalation = AlertKey {
        level: AlertLevel::Escalation,
        ..key
    };
    let (subject, body) = alert_notice(&t, &escalation, now, &unaccepted);
    assert!(subject.starts_with("【督办】"));
    assert!(body.contains("首问负责人：尚无"), "{body}");
}
