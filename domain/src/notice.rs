//! Who is told what when a ticket changes, and what an alert's mail says (DESIGN.md
//! section 5): pure decisions and Chinese texts; the shell resolves audiences to addresses
//! and queues one outbox row per recipient.

use chrono::{DateTime, Duration, Utc};

use crate::alert::{AlertKey, AlertLevel};
use crate::deadline::calendar::zone;
use crate::ticket::{CloseReason, EscalationReason, Event, EventData, Ticket};
use crate::values::{DepartmentId, Disposition, EnterpriseId, Role, UserId};

/// A group of people, resolved to addresses by the shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The active officers of a department.
    DepartmentOfficers(DepartmentId),
    /// Every active supervisor.
    Supervisors,
    /// The enterprise's contact address.
    Enterprise(EnterpriseId),
    /// The enterprise's paired county leader (包联领导).
    PairedLeader(EnterpriseId),
    /// One user.
    User(UserId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub audience: Audience,
    pub subject: String,
    pub body: String,
}

/// What the texts need beyond the ticket.
#[derive(Clone, Debug)]
pub struct NoticeContext<'a> {
    pub enterprise_name: &'a str,
    /// The ticket's page for officials (the dashboard's), e.g.
    /// `https://jiban.example.gov.cn/dashboard/tickets/<id>`.
    pub official_link: &'a str,
    /// The ticket's page in the enterprises' own client app, when one is configured;
    /// without it the enterprise's mail carries no link, rather than one to a page that
    /// does not exist.
    pub enterprise_link: Option<&'a str>,
    /// The role of whoever caused the event (`None`: the system).
    pub actor_role: Option<Role>,
}

const FOOTER: &str = "此邮件由即办系统自动发送，请勿直接回复。";

/// The notices one event causes, given the ticket after it (DESIGN.md section 5):
/// - to officials: a new ticket to its department's officers, or the supervisors while it
///   waits in the intake queue; a transferred ticket to the new department; an assignment
///   to the assignee; a co-handling request to the departments asked and each opinion to
///   the lead (issue 13); a bad rating's escalation to the supervisors and, from the second
///   bad rating, the paired leader;
/// - to the enterprise (DESIGN.md section 5 and issue 7): its ticket accepted, disposed
///   of (with the explanation), information requested (every item), the deadline
///   extended, a public comment from an official, resolved or explained (with the result
///   and the end of the rating window), reopened after its bad rating, and closed.
pub fn notices_for(event: &Event, ticket: &Ticket, ctx: &NoticeContext<'_>) -> Vec<Notice> {
    let number = ticket.number.to_string();
    let title = one_line(&ticket.title);
    let about = format!(
        "工单编号：{number}\n企业：{}\n标题：{title}\n",
        one_line(ctx.enterprise_name)
    );
    let body = |link: Option<&str>, text: String| {
        let link = link
            .map(|l| format!("查看详情：{l}\n\n"))
            .unwrap_or_default();
        format!("{about}\n{text}\n\n{link}{FOOTER}")
    };
    let official = |audience, subject: String, text: String| Notice {
        audience,
        subject,
        body: body(Some(ctx.official_link), text),
    };
    let enterprise = |subject: String, text: String| {
        vec![Notice {
            audience: Audience::Enterprise(ticket.enterprise_id),
            subject,
            body: body(ctx.enterprise_link, text),
        }]
    };
    let rating_request = || {
        ticket
            .rating_due
            .as_ref()
            .map(|d| {
                format!(
                    "\n\n请登录系统对办理结果进行评价，评价截止时间：{}。",
                    local(d.due_at)
                )
            })
            .unwrap_or_default()
    };
    match &event.data {
        EventData::Submitted(s) => {
            let audience = match s.department_id {
                Some(department) => Audience::DepartmentOfficers(department),
                None => Audience::Supervisors,
            };
            vec![official(
                audience,
                format!("【即办】新工单 {number}：{title}"),
                format!(
                    "请在 {} 前签收，{} 前办结反馈。",
                    local(ticket.accept_due.due_at),
                    local(ticket.resolve_due.due_at)
                ),
            )]
        }
        EventData::Accepted { .. } => enterprise(
            format!("【即办】您的诉求 {number} 已受理"),
            format!(
                "我们将在 {} 前办结并反馈结果。",
                local(ticket.resolve_due.due_at)
            ),
        ),
        EventData::Disposed {
            disposition,
            explanation,
            duplicate_of,
        } => {
            let what = match disposition {
                Disposition::Redirect => "您的诉求需通过其他法定或应急渠道办理",
                Disposition::Duplicate => "您的诉求与已受理的诉求重复，将合并办理",
                Disposition::OutOfScope => "您的诉求不属于本平台受理范围",
            };
            let duplicate = duplicate_of
                .map(|d| format!("\n重复的工单：{d}"))
                .unwrap_or_default();
            enterprise(
                format!("【即办】诉求 {number} 办理情况告知"),
                format!("{what}。\n\n说明：\n{explanation}{duplicate}"),
            )
        }
        EventData::InfoRequested { items, note } => {
            let list: String = items
                .iter()
                .enumerate()
                .map(|(i, item)| format!("{}. {item}\n", i + 1))
                .collect();
            let note = note
                .as_deref()
                .map(|n| format!("说明：{n}\n"))
                .unwrap_or_default();
            enterprise(
                format!("【即办】诉求 {number} 需要补充材料"),
                format!("请一次性补充以下材料，补齐后继续办理（等待期间不计时）：\n{list}{note}"),
            )
        }
        EventData::ExtensionDecided {
            approve: true,
            resolve: Some(resolve),
            ..
        } => enterprise(
            format!("【即办】诉求 {number} 办理时限已延长"),
            format!("经审批，办结时限延长至 {}。", local(resolve.due_at)),
        ),
        EventData::Commented {
            body,
            internal: false,
            ..
        } if ctx.actor_role.is_some_and(|r| r != Role::Enterprise) => enterprise(
            format!("【即办】诉求 {number} 有新的回复"),
            format!("办理人员回复：\n{body}"),
        ),
        EventData::Resolved { result, .. } => enterprise(
            format!("【即办】诉求 {number} 已办结"),
            format!("办理结果：\n{result}{}", rating_request()),
        ),
        EventData::Explained {
            explanation,
            policy_basis,
            plan,
            ..
        } => {
            let plan = plan
                .as_deref()
                .map(|p| format!("\n\n后续安排：\n{p}"))
                .unwrap_or_default();
            enterprise(
                format!("【即办】诉求 {number} 办理情况说明"),
                format!(
                    "情况说明：\n{explanation}\n\n政策依据：{policy_basis}{plan}{}",
                    rating_request()
                ),
            )
        }
        EventData::Reopened { resolve, .. } => enterprise(
            format!("【即办】诉求 {number} 已重新办理"),
            format!(
                "收到您的评价后，诉求已重新办理并提级督办，新的办结时限：{}。",
                local(resolve.due_at)
            ),
        ),
        EventData::Closed { reason } => {
            let why = match reason {
                CloseReason::RatingWindowEnded => "评价期限已过，您未作评价，诉求已办结归档。",
                _ => "感谢您的评价，诉求已办结归档。",
            };
            enterprise(format!("【即办】诉求 {number} 已办结归档"), why.to_owned())
        }
        EventData::Transferred {
            to_department_id,
            reason,
            ..
        } => vec![official(
            Audience::DepartmentOfficers(*to_department_id),
            format!("【即办】转办工单 {number}：{title}"),
            format!(
                "转办原因：{reason}\n办结时限不变：{}。",
                local(ticket.resolve_due.due_at)
            ),
        )],
        // 协办 (issue 13): the departments asked are told what is asked and by when; the
        // lead (its assignee, or its officers while it has none) is told of each opinion.
        EventData::CoHandlersAdded { request, asked } => asked
            .iter()
            .map(|a| {
                official(
                    Audience::DepartmentOfficers(a.department_id),
                    format!("【协办】工单 {number} 请求协办：{title}"),
                    format!(
                        "主办部门请贵部门协办：\n{request}\n\n请在 {} 前答复意见。",
                        local(a.reply_due.due_at)
                    ),
                )
            })
            .collect(),
        EventData::CoHandlerReplied { opinion, .. } => vec![official(
            match ticket.assignee_id {
                Some(assignee) => Audience::User(assignee),
                None => crate::alert::handlers(ticket),
            },
            format!("【协办】工单 {number} 收到协办意见：{title}"),
            format!("协办部门答复意见：\n{opinion}"),
        )],
        EventData::Assigned { assignee_id } => vec![official(
            Audience::User(*assignee_id),
            format!("【即办】工单 {number} 已指派给您"),
            format!("办结时限：{}。", local(ticket.resolve_due.due_at)),
        )],
        EventData::Escalated {
            reason: EscalationReason::BadRating,
            to_paired_leader,
            ..
        } => {
            let text = format!(
                "企业对办理结果不满意，工单已重新办理并提级督办。新的办结时限：{}。",
                local(ticket.resolve_due.due_at)
            );
            let subject = format!("【督办】{number} 企业不满意：{title}");
            let mut out = vec![official(
                Audience::Supervisors,
                subject.clone(),
                text.clone(),
            )];
            if *to_paired_leader {
                out.push(official(
                    Audience::PairedLeader(ticket.enterprise_id),
                    subject,
                    text,
                ));
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Whether an event may notify anyone at all: `notices_for` answers nothing for the
/// others, so the shell can skip looking up what the texts need.
pub fn notifies(data: &EventData) -> bool {
    matches!(
        data,
        EventData::Submitted(_)
            | EventData::Accepted { .. }
            | EventData::Disposed { .. }
            | EventData::InfoRequested { .. }
            | EventData::ExtensionDecided { approve: true, .. }
            | EventData::Commented {
                internal: false,
                ..
            }
            | EventData::Resolved { .. }
            | EventData::Explained { .. }
            | EventData::Reopened { .. }
            | EventData::Closed { .. }
            | EventData::Transferred { .. }
            | EventData::Assigned { .. }
            | EventData::CoHandlersAdded { .. }
            | EventData::CoHandlerReplied { .. }
            | EventData::Escalated {
                reason: EscalationReason::BadRating,
                ..
            }
    )
}

/// What an alert's mail needs beyond the ticket.
#[derive(Clone, Debug)]
pub struct AlertContext<'a> {
    pub enterprise_name: &'a str,
    /// The first responder's name (首问负责人), if anyone has accepted the ticket.
    pub first_responder: Option<&'a str>,
    /// The ticket's page on the dashboard.
    pub official_link: &'a str,
}

/// An alert's mail (DESIGN.md section 5): the subject begins with 【预警】, 【超期】 or
/// 【督办】 and names the ticket and the deadline (签收, 联系, 办结); the body names the
/// enterprise, the title, the deadline in +08:00, how late it is at `now` (or how much
/// time is left, for a warning), who is accountable (the first responder, rule 1), and
/// the link.
pub fn alert_notice(
    ticket: &Ticket,
    key: &AlertKey,
    now: DateTime<Utc>,
    ctx: &AlertContext<'_>,
) -> (String, String) {
    let number = ticket.number.to_string();
    let title = one_line(&ticket.title);
    let label = key.deadline.label();
    let state = match key.level {
        AlertLevel::Warning => "即将到期",
        AlertLevel::Overdue => "已超期",
        AlertLevel::Escalation => "超期未办，提级督办",
    };
    let subject = format!("{}{number} {label}时限{state}：{title}", key.level.tag());
    let timing = if now < key.due_at {
        format!("距时限还有 {}", span(key.due_at - now))
    } else {
        format!("已超期 {}", span(now - key.due_at))
    };
    let ask = match (key.party, key.level) {
        // 协办 (issue 13): the co-handling department owes the lead its opinion.
        (crate::alert::Party::CoHandler(_), AlertLevel::Warning) => {
            "协办答复即将到期，请协办部门抓紧向主办部门答复意见。"
        }
        (crate::alert::Party::CoHandler(_), AlertLevel::Overdue) => {
            "协办答复已超期，请协办部门立即向主办部门答复意见。"
        }
        (crate::alert::Party::CoHandler(_), AlertLevel::Escalation) => {
            "协办答复超期未复，已提请督办，请督办人员跟进。"
        }
        (_, AlertLevel::Warning) => "请抓紧办理，按时反馈。",
        (_, AlertLevel::Overdue) => "请立即办理并向企业反馈，说明超期原因。",
        (_, AlertLevel::Escalation) => {
            "该工单已提级督办，请督办人员跟进并确认（在系统中确认督办提醒）。"
        }
    };
    let accountable = ctx
        .first_responder
        .map(one_line)
        .unwrap_or_else(|| "尚无（工单未签收，由受理部门负责）".to_owned());
    let body = format!(
        "工单编号：{number}\n企业：{}\n标题：{title}\n时限：{label}，{}\n情况：{timing}\n首问负责人：{accountable}\n\n{ask}\n\n查看详情：{}\n\n{FOOTER}",
        one_line(ctx.enterprise_name),
        local(key.due_at),
        ctx.official_link,
    );
    (subject, body)
}

/// A duration as an official reads it: `2天3小时`, `5小时20分钟`, `不足1分钟`.
pub fn span(d: Duration) -> String {
    let minutes = d.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours, mins) {
        (0, 0, 0) => "不足1分钟".to_owned(),
        (0, 0, m) => format!("{m}分钟"),
        (0, h, 0) => format!("{h}小时"),
        (0, h, m) => format!("{h}小时{m}分钟"),
        (d, 0, _) => format!("{d}天"),
        (d, h, _) => format!("{d}天{h}小时"),
    }
}

/// Text from a client on one line: control characters (line breaks included) become
/// spaces, so a title cannot break a subject or the layout of a mail.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// An instant as the county reads it: `2026-09-25 00:00 (北京时间)`.
pub fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&zone())
        .format("%Y-%m-%d %H:%M (北京时间)")
        .to_string()
}
