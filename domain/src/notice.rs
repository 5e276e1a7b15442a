//! Who is told what when a ticket changes (DESIGN.md section 5, notifications): pure
//! decisions and Chinese texts; the shell resolves audiences to addresses and queues one
//! outbox row per recipient.

use chrono::{DateTime, Utc};

use crate::deadline::calendar::zone;
use crate::ticket::{Event, EventData, Ticket};
use crate::values::{DepartmentId, EnterpriseId, UserId};

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
    /// The ticket's address for people, e.g. `https://jiban.example.gov.cn/tickets/<id>`.
    pub link: &'a str,
}

/// The notices one event causes, given the ticket after it (DESIGN.md section 5): a new
/// ticket to its department's officers, or the supervisors while it waits in the intake
/// queue; the enterprise when its ticket is accepted, information is requested, the
/// deadline is extended, or it is resolved or explained; a transferred ticket to the new
/// department; an assignment to the assignee; an escalation to the supervisors and, from
/// the second bad rating, the paired leader.
pub fn notices_for(event: &Event, ticket: &Ticket, ctx: &NoticeContext<'_>) -> Vec<Notice> {
    let number = ticket.number.to_string();
    let about = format!(
        "工单编号：{number}\n企业：{}\n标题：{}\n",
        ctx.enterprise_name, ticket.title
    );
    let link = format!("查看详情：{}\n", ctx.link);
    let notice = |audience, subject: String, text: String| Notice {
        audience,
        subject,
        body: format!("{about}\n{text}\n{link}\n此邮件由即办系统自动发送，请勿直接回复。"),
    };
    let to_enterprise = Audience::Enterprise(ticket.enterprise_id);
    match &event.data {
        EventData::Submitted(s) => {
            let audience = match s.department_id {
                Some(department) => Audience::DepartmentOfficers(department),
                None => Audience::Supervisors,
            };
            vec![notice(
                audience,
                format!("【即办】新工单 {number}：{}", ticket.title),
                format!(
                    "请在 {} 前签收，{} 前办结反馈。",
                    local(ticket.accept_due.due_at),
                    local(ticket.resolve_due.due_at)
                ),
            )]
        }
        EventData::Accepted { .. } => vec![notice(
            to_enterprise,
            format!("【即办】您的诉求 {number} 已受理"),
            format!(
                "我们将在 {} 前办结并反馈结果。",
                local(ticket.resolve_due.due_at)
            ),
        )],
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
            vec![notice(
                to_enterprise,
                format!("【即办】诉求 {number} 需要补充材料"),
                format!("请一次性补充以下材料，补齐后继续办理（等待期间不计时）：\n{list}{note}"),
            )]
        }
        EventData::ExtensionDecided {
            approve: true,
            resolve: Some(resolve),
            ..
        } => vec![notice(
            to_enterprise,
            format!("【即办】诉求 {number} 办理时限已延长"),
            format!("经审批，办结时限延长至 {}。", local(resolve.due_at)),
        )],
        EventData::Resolved { result, .. } => vec![notice(
            to_enterprise,
            format!("【即办】诉求 {number} 已办结"),
            format!(
                "办理结果：\n{result}\n\n请登录系统对办理结果进行评价（{} 前）。",
                ticket.rating_due_at.map(local).unwrap_or_default()
            ),
        )],
        EventData::Explained {
            explanation,
            policy_basis,
            plan,
            ..
        } => {
            let plan = plan
                .as_deref()
                .map(|p| format!("\n后续安排：\n{p}\n"))
                .unwrap_or_default();
            vec![notice(
                to_enterprise,
                format!("【即办】诉求 {number} 办理情况说明"),
                format!("情况说明：\n{explanation}\n\n政策依据：{policy_basis}\n{plan}"),
            )]
        }
        EventData::Transferred {
            to_department_id,
            reason,
            ..
        } => vec![notice(
            Audience::DepartmentOfficers(*to_department_id),
            format!("【即办】转办工单 {number}：{}", ticket.title),
            format!(
                "转办原因：{reason}\n办结时限不变：{}。",
                local(ticket.resolve_due.due_at)
            ),
        )],
        EventData::Assigned { assignee_id } => vec![notice(
            Audience::User(*assignee_id),
            format!("【即办】工单 {number} 已指派给您"),
            format!("办结时限：{}。", local(ticket.resolve_due.due_at)),
        )],
        EventData::Escalated {
            to_paired_leader, ..
        } => {
            let text = format!(
                "企业对办理结果不满意，工单已重新办理并提级督办。新的办结时限：{}。",
                local(ticket.resolve_due.due_at)
            );
            let subject = format!("【即办】督办：{number} 企业不满意");
            let mut out = vec![notice(Audience::Supervisors, subject.clone(), text.clone())];
            if *to_paired_leader {
                out.push(notice(
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

/// Whether an event notifies anyone at all: `notices_for` answers nothing for the others,
/// so the shell can skip looking up what the texts need.
pub fn notifies(data: &EventData) -> bool {
    matches!(
        data,
        EventData::Submitted(_)
            | EventData::Accepted { .. }
            | EventData::InfoRequested { .. }
            | EventData::ExtensionDecided { approve: true, .. }
            | EventData::Resolved { .. }
            | EventData::Explained { .. }
            | EventData::Transferred { .. }
            | EventData::Assigned { .. }
            | EventData::Escalated { .. }
    )
}

/// An instant as the county reads it: `2026-09-25 00:00 (北京时间)`.
pub fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&zone())
        .format("%Y-%m-%d %H:%M (北京时间)")
        .to_string()
}
