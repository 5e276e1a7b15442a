//! Webhooks (DESIGN.md section 5; issue 10, point 4): the events an integration can
//! subscribe to, which of them the timeline hides from enterprises, and what a delivery
//! says. Pure: queuing is the store's (`jiban_persistence::webhooks`), signing and sending
//! the api's.
//!
//! **Event names.** Every entry of a ticket's timeline is `ticket.<kind>`, its kind as the
//! timeline names it (`ticket.submitted`, `ticket.commented`, …), except `alerted`: the
//! scanner's alert is delivered as the alert itself, `alert.<level>` with the ledger's
//! levels (`alert.warning` 预警, `alert.overdue` 超期, `alert.escalation` 督办). `*`
//! subscribes to everything, `ticket.*` and `alert.*` to either family.
//!
//! **Internal entries** (DESIGN.md rule 8; [`EventData::is_internal`]): a webhook receives
//! them only when the admin chose `include_internal`. Without it, a webhook reads what the
//! enterprise reads on its timeline ([`EventData::for_enterprise`]): no internal comment,
//! none of the administration inside government (assignments, transfers, appeals,
//! escalations, alerts), and an extension's decision without the supervisor's note or
//! name. An event kind that is always internal (the alerts among them) is therefore refused
//! in a subscription without `include_internal` ([`internal_only`]): it could never arrive.

use serde::Serialize;
use serde_json::Value;

use crate::alert::AlertLevel;
use crate::instant::{localize_event_data, rfc3339};
use crate::ticket::{Event, EventData, Ticket};
use crate::values::{
    AlertId, CategoryCode, DepartmentId, EnterpriseId, Kind, TicketId, TicketNumber, Urgency,
    UserId,
};

/// Subscribes to every event.
pub const ALL: &str = "*";
/// Subscribes to every ticket event.
pub const ALL_TICKET: &str = "ticket.*";
/// Subscribes to every alert.
pub const ALL_ALERT: &str = "alert.*";

/// Whether the timeline shows an event kind to enterprises (DESIGN.md rule 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Always shown.
    Public,
    /// Never shown: the administration of a ticket inside government.
    Internal,
    /// Depends on the entry: a comment marked internal, an extension refused.
    Either,
}

/// Every ticket event a webhook can name, as `ticket.<kind>`, and whether enterprises see
/// it. A test holds this list to [`EventData::kind`] and [`EventData::is_internal`].
pub const TICKET_EVENTS: &[(&str, Visibility)] = &[
    ("ticket.submitted", Visibility::Public),
    ("ticket.accepted", Visibility::Public),
    ("ticket.disposed", Visibility::Public),
    ("ticket.assigned", Visibility::Internal),
    ("ticket.transferred", Visibility::Internal),
    ("ticket.contacted", Visibility::Public),
    ("ticket.commented", Visibility::Either),
    ("ticket.info_requested", Visibility::Public),
    ("ticket.info_supplied", Visibility::Public),
    ("ticket.extension_requested", Visibility::Internal),
    ("ticket.extension_decided", Visibility::Either),
    ("ticket.resolved", Visibility::Public),
    ("ticket.explained", Visibility::Public),
    ("ticket.rated", Visibility::Public),
    ("ticket.reopened", Visibility::Public),
    ("ticket.escalated", Visibility::Internal),
    ("ticket.appealed", Visibility::Internal),
    ("ticket.appeal_decided", Visibility::Internal),
    ("ticket.withdrawn", Visibility::Public),
    ("ticket.closed", Visibility::Public),
    ("ticket.alert_acknowledged", Visibility::Internal),
    ("ticket.deadlines_recomputed", Visibility::Internal),
    ("ticket.co_handlers_added", Visibility::Internal),
    ("ticket.co_handler_replied", Visibility::Internal),
    ("ticket.co_handling_ended", Visibility::Internal),
    ("ticket.visit", Visibility::Public),
    ("ticket.attachment_added", Visibility::Either),
];

/// The alerts a webhook can name, one per level of the ledger (DESIGN.md section 5). All
/// are internal: the timeline hides `alerted` from enterprises.
pub const ALERT_EVENTS: &[&str] = &["alert.warning", "alert.overdue", "alert.escalation"];

/// The name of an alert of `level`: `alert.warning`, `alert.overdue`, `alert.escalation`.
pub fn alert_event(level: AlertLevel) -> &'static str {
    match level {
        AlertLevel::Warning => ALERT_EVENTS[0],
        AlertLevel::Overdue => ALERT_EVENTS[1],
        AlertLevel::Escalation => ALERT_EVENTS[2],
    }
}

/// Every name a subscription may hold: the wildcards, then the ticket events, then the
/// alerts.
pub fn subscribable() -> impl Iterator<Item = &'static str> {
    [ALL, ALL_TICKET, ALL_ALERT]
        .into_iter()
        .chain(TICKET_EVENTS.iter().map(|(name, _)| *name))
        .chain(ALERT_EVENTS.iter().copied())
}

/// The name as the catalogue spells it, or `None` for a name it does not know. Names are
/// matched exactly: `Ticket.Commented` is not a name.
pub fn parse_name(raw: &str) -> Option<&'static str> {
    subscribable().find(|name| *name == raw)
}

/// Whether every event of this name is an internal entry (DESIGN.md rule 8), so that a
/// webhook without `include_internal` would never receive it: `alert.*`, each alert, and
/// the ticket events of [`Visibility::Internal`].
pub fn internal_only(name: &str) -> bool {
    name == ALL_ALERT
        || ALERT_EVENTS.contains(&name)
        || TICKET_EVENTS
            .iter()
            .any(|(n, v)| *n == name && *v == Visibility::Internal)
}

/// The name an event is delivered under: `alert.<level>` for the scanner's alert,
/// `ticket.<kind>` for every other entry.
pub fn event_name(data: &EventData) -> String {
    match data {
        EventData::Alerted { level, .. } => alert_event(*level).to_owned(),
        other => format!("ticket.{}", other.kind()),
    }
}

/// Whether a subscription to `subscribed` covers an event named `name`.
pub fn covers(subscribed: &str, name: &str) -> bool {
    subscribed == name
        || subscribed == ALL
        || (subscribed == ALL_TICKET && name.starts_with("ticket."))
        || (subscribed == ALL_ALERT && name.starts_with("alert."))
}

/// The subscriptions that cover an event named `name`: itself, its family's wildcard and
/// `*` (what a store looks subscribers up by).
pub fn covering(name: &str) -> [&str; 3] {
    let family = if name.starts_with("alert.") {
        ALL_ALERT
    } else {
        ALL_TICKET
    };
    [name, family, ALL]
}

/// One delivery: the event's name (`X-Jiban-Event`) and the JSON body, as sent and signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub event: String,
    pub body: String,
}

/// What a webhook receives for the timeline entry `seq` of `ticket` (the ticket as the
/// command that caused the entry left it), or `None` when it is an internal entry and the
/// webhook did not choose `include_internal` (DESIGN.md rule 8). The body (docs/API.md,
/// "Webhooks"), instants at +08:00:
///
/// ```json
/// {"event": "ticket.commented", "occurred_at": "…",
///  "ticket": {"id", "number", "version", "status", "kind", "urgency", "category", "title",
///             "enterprise_id", "department_id", "supervised"},
///  "entry": {"seq", "version", "kind", "actor_id", "at", "internal", "data"}}
/// ```
///
/// `entry` is the timeline's entry (`GET /v1/tickets/{id}/events`) without its `id`, as
/// the enterprise reads it unless `include_internal`. An alert has `alert` instead:
/// `{"id", "deadline", "level", "due_at", "recipients"}`.
pub fn delivery(
    ticket: &Ticket,
    seq: i32,
    event: &Event,
    include_internal: bool,
) -> Option<Delivery> {
    let internal = event.data.is_internal();
    let (data, show_actor) = if include_internal {
        (event.data.clone(), true)
    } else {
        event.data.for_enterprise()?
    };
    let name = event_name(&data);
    let (alert, entry) = match &data {
        EventData::Alerted {
            alert_id,
            deadline,
            level,
            due_at,
            recipients,
        } => (
            Some(AlertPart {
                deadline: deadline.as_str(),
                due_at: rfc3339(*due_at),
                id: alert_id,
                level: level.as_str(),
                recipients,
            }),
            None,
        ),
        _ => (
            None,
            Some(EntryPart {
                actor_id: event.actor_id.filter(|_| show_actor),
                at: rfc3339(event.at),
                data: entry_data(&data),
                internal,
                kind: data.kind(),
                seq,
                version: event.version,
            }),
        ),
    };
    let body = Body {
        alert,
        entry,
        event: &name,
        occurred_at: rfc3339(event.at),
        ticket: TicketPart {
            category: &ticket.category,
            department_id: ticket.department_id,
            enterprise_id: ticket.enterprise_id,
            id: ticket.id,
            kind: ticket.kind,
            number: &ticket.number,
            status: ticket.status.as_str(),
            supervised: ticket.supervised,
            title: &ticket.title,
            urgency: ticket.urgency,
            version: ticket.version,
        },
    };
    let body = serde_json::to_string(&body).expect("a delivery serializes");
    Some(Delivery { event: name, body })
}

// A delivery's body, written straight to its text: it is built for every event, the
// creates' included, whether or not a webhook subscribes (the store learns that in the
// same statement), so it goes without an intermediate `Value`. The fields are in
// alphabetical order, as a `Value`'s map writes them.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    alert: Option<AlertPart<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<EntryPart>,
    event: &'a str,
    occurred_at: String,
    ticket: TicketPart<'a>,
}

#[derive(Serialize)]
struct TicketPart<'a> {
    category: &'a CategoryCode,
    department_id: Option<DepartmentId>,
    enterprise_id: EnterpriseId,
    id: TicketId,
    kind: Kind,
    number: &'a TicketNumber,
    status: &'static str,
    supervised: bool,
    title: &'a str,
    urgency: Urgency,
    version: u64,
}

#[derive(Serialize)]
struct AlertPart<'a> {
    deadline: &'static str,
    due_at: String,
    id: &'a AlertId,
    level: &'static str,
    recipients: &'a [UserId],
}

#[derive(Serialize)]
struct EntryPart {
    actor_id: Option<UserId>,
    at: String,
    data: Value,
    internal: bool,
    kind: &'static str,
    seq: i32,
    version: u64,
}

fn entry_data(data: &EventData) -> Value {
    let mut value = serde_json::to_value(data)
        .ok()
        .and_then(|mut tagged| tagged.get_mut("data").map(Value::take))
        .unwrap_or(Value::Null);
    localize_event_data(&mut value);
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertLevel;
    use crate::deadline::{Calendar, Deadline, DeadlineName, Limit, LimitUnit};
    use crate::ticket::{
        CloseReason, Deadlines, EscalationReason, NewTicket, Rules, Ticket, submit,
    };
    use crate::values::{
        AlertId, CategoryCode, ContactMethod, DepartmentId, Description, Disposition, EnterpriseId,
        Kind, RatingLevel, Role, TicketId, TicketNumber, Title, UserId, VisitId,
    };
    use crate::{Actor, User};
    use chrono::{DateTime, Utc};
    use serde_json::json;
    use uuid::Uuid;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-03T02:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn enterprise() -> Actor {
        Actor::User(User {
            id: UserId::from_uuid(Uuid::from_u128(0xA)),
            role: Role::Enterprise,
            department_id: None,
            enterprise_id: Some(EnterpriseId::from_uuid(Uuid::from_u128(0xE))),
            stationed_at: Vec::new(),
        })
    }

    fn filed() -> (Ticket, Event) {
        let new = NewTicket {
            id: TicketId::from_uuid(Uuid::new_v7(uuid::Timestamp::from_unix(
                uuid::NoContext,
                1_800_000_000,
                0,
            )))
            .unwrap(),
            number: TicketNumber::new(2026, 7).unwrap(),
            enterprise_id: None,
            kind: Kind::Complaint,
            urgency: None,
            category: CategoryCode::parse("utilities").unwrap(),
            title: Title::parse("厂区停电").unwrap(),
            description: Description::parse("自昨晚22时起厂区停电，三条产线停工。").unwrap(),
        };
        let event = submit(new, &enterprise(), at(), &Rules::defaults()).unwrap();
        let ticket = Ticket::replay(std::slice::from_ref(&event)).unwrap();
        (ticket, event)
    }

    fn deadline() -> Deadline {
        Deadline::start(at(), Limit::minutes(60), &Calendar::shipped())
    }

    /// One entry of every kind the timeline has (a new kind must be added here, or the
    /// catalogue test below fails to find it).
    fn every_kind() -> Vec<EventData> {
        let user = UserId::from_uuid(Uuid::from_u128(0xB));
        let department = DepartmentId::from_uuid(Uuid::from_u128(0xD));
        let (_, submitted) = filed();
        let EventData::Submitted(s) = submitted.data else {
            unreachable!()
        };
        vec![
            EventData::Submitted(s),
            EventData::Accepted {
                department_id: Some(department),
                assignee_id: Some(user),
                urgency: crate::values::Urgency::General,
                deadlines: None,
            },
            EventData::Disposed {
                disposition: Disposition::Redirect,
                explanation: "属于司法程序，请向人民法院起诉。".repeat(2),
                duplicate_of: None,
            },
            EventData::Assigned { assignee_id: user },
            EventData::Transferred {
                from_department_id: None,
                to_department_id: department,
                reason: "职责调整".into(),
            },
            EventData::Contacted {
                method: ContactMethod::Phone,
                summary: "电话联系".into(),
            },
            EventData::Commented {
                attachment_ids: Vec::new(),
                body: "已转供电公司".into(),
                internal: false,
            },
            EventData::InfoRequested {
                items: vec!["营业执照".into()],
                note: None,
            },
            EventData::InfoSupplied {
                attachment_ids: Vec::new(),
                body: "已上传".into(),
                contact: deadline(),
                resolve: deadline(),
                co_handlers: Vec::new(),
            },
            EventData::ExtensionRequested {
                amount: 2,
                unit: LimitUnit::WorkingDays,
                reason: "跨部门协调".into(),
            },
            EventData::ExtensionDecided {
                approve: true,
                note: Some("同意".into()),
                resolve: Some(deadline()),
            },
            EventData::Resolved {
                result: "已恢复供电。".into(),
                rating_due: deadline(),
            },
            EventData::Explained {
                explanation: "说明".into(),
                policy_basis: "依据".into(),
                plan: None,
                rating_due: deadline(),
            },
            EventData::Rated {
                level: RatingLevel::Satisfied,
                comment: None,
            },
            EventData::Reopened {
                contact: deadline(),
                resolve: deadline(),
            },
            EventData::Escalated {
                reason: EscalationReason::BadRating,
                to_paired_leader: false,
                deadline: None,
            },
            EventData::Appealed {
                reason: "评价针对电价政策".into(),
            },
            EventData::AppealDecided {
                uphold: true,
                note: None,
            },
            EventData::Withdrawn {
                reason: "已自行解决".into(),
            },
            EventData::Closed {
                reason: CloseReason::Rated,
            },
            EventData::AlertAcknowledged {
                alert_id: AlertId::from_uuid(Uuid::from_u128(1)),
            },
            EventData::Alerted {
                alert_id: AlertId::from_uuid(Uuid::from_u128(1)),
                deadline: DeadlineName::Accept,
                level: AlertLevel::Overdue,
                due_at: at(),
                recipients: vec![user],
            },
            EventData::DeadlinesRecomputed {
                deadlines: Box::new(Deadlines {
                    accept: deadline(),
                    contact: deadline(),
                    resolve: deadline(),
                }),
                rating: None,
                co_handlers: Vec::new(),
            },
            EventData::CoHandlersAdded {
                request: "请提供停电原因及恢复时间".into(),
                asked: vec![crate::ticket::CoHandlingAsked {
                    department_id: department,
                    reply_due: deadline(),
                }],
            },
            EventData::CoHandlerReplied {
                department_id: department,
                opinion: "线路故障，预计今晚恢复供电".into(),
            },
            EventData::CoHandlingEnded {
                department_ids: vec![department],
                reason: crate::ticket::CoHandlingEnd::Resolved,
            },
            EventData::Visit {
                visit_id: VisitId::from_uuid(Uuid::from_u128(2)),
                visited_at: at(),
                purpose: "走访".into(),
                summary: "了解生产情况".into(),
            },
            EventData::AttachmentAdded {
                attachment_id: crate::values::AttachmentId::from_uuid(Uuid::from_u128(3)),
                filename: "营业执照.pdf".into(),
                content_type: "application/pdf".into(),
                size: 1024,
                sha256: "0".repeat(64),
                internal: false,
            },
        ]
    }

    /// The catalogue names every kind of the timeline, each as visible as the timeline
    /// makes it, and nothing else; each alert level has its name.
    #[test]
    fn the_catalogue_is_the_timeline() {
        let kinds = every_kind();
        let mut named = Vec::new();
        for data in &kinds {
            let name = event_name(data);
            assert_eq!(parse_name(&name), Some(name.as_str()), "{name}");
            if let EventData::Alerted { .. } = data {
                assert!(internal_only(&name) && data.is_internal());
                continue;
            }
            let (_, visibility) = TICKET_EVENTS
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("{name} is not in TICKET_EVENTS"));
            match visibility {
                Visibility::Public => assert!(!data.is_internal(), "{name}"),
                Visibility::Internal => assert!(data.is_internal(), "{name}"),
                Visibility::Either => {}
            }
            named.push(name);
        }
        let listed: Vec<&str> = TICKET_EVENTS.iter().map(|(n, _)| *n).collect();
        assert_eq!(named, listed, "one entry per kind, in the same order");
        // The two that depend on the entry do.
        let internal_comment = EventData::Commented {
            attachment_ids: Vec::new(),
            body: "内部".into(),
            internal: true,
        };
        let refused = EventData::ExtensionDecided {
            approve: false,
            note: None,
            resolve: None,
        };
        assert!(internal_comment.is_internal() && refused.is_internal());
        for level in AlertLevel::ALL {
            assert_eq!(
                alert_event(level),
                format!("alert.{}", level.as_str()),
                "the ledger's level names"
            );
        }
    }

    #[test]
    fn names_parse_exactly_and_wildcards_cover_their_family() {
        assert_eq!(parse_name("ticket.commented"), Some("ticket.commented"));
        for bad in [
            "Ticket.Commented",
            " ticket.commented",
            "ticket.alerted",
            "ticket",
            "",
        ] {
            assert_eq!(parse_name(bad), None, "{bad:?}");
        }
        assert!(covers("*", "alert.overdue") && covers("*", "ticket.closed"));
        assert!(covers("ticket.*", "ticket.closed") && !covers("ticket.*", "alert.overdue"));
        assert!(covers("alert.*", "alert.warning") && !covers("alert.*", "ticket.rated"));
        assert!(covers("ticket.rated", "ticket.rated") && !covers("ticket.rated", "ticket.rate"));
        assert_eq!(covering("alert.overdue"), ["alert.overdue", "alert.*", "*"]);
        assert_eq!(covering("ticket.visit"), ["ticket.visit", "ticket.*", "*"]);
        assert!(internal_only("alert.*") && internal_only("ticket.assigned"));
        assert!(!internal_only("*") && !internal_only("ticket.*"));
        assert!(!internal_only("ticket.commented") && !internal_only("ticket.submitted"));
    }

    fn body(d: &Delivery) -> Value {
        serde_json::from_str(&d.body).unwrap()
    }

    #[test]
    fn a_ticket_event_carries_the_ticket_and_the_entry_at_plus_eight() {
        let (ticket, event) = filed();
        let d = delivery(&ticket, 1, &event, false).unwrap();
        assert_eq!(d.event, "ticket.submitted");
        let b = body(&d);
        assert_eq!(b["event"], "ticket.submitted");
        assert_eq!(b["occurred_at"], "2026-12-03T10:00:00+08:00");
        assert_eq!(b["ticket"]["number"], "JB-2026-000007");
        assert_eq!(b["ticket"]["status"], "submitted");
        assert_eq!(b["ticket"]["id"], ticket.id.to_string());
        assert_eq!(b["ticket"]["version"], 1);
        assert_eq!(b["entry"]["seq"], 1);
        assert_eq!(b["entry"]["kind"], "submitted");
        assert_eq!(b["entry"]["internal"], false);
        assert_eq!(b["entry"]["at"], "2026-12-03T10:00:00+08:00");
        assert_eq!(b["entry"]["data"]["title"], "厂区停电");
        let started = b["entry"]["data"]["deadlines"]["accept"]["started_at"]
            .as_str()
            .unwrap();
        assert!(started.ends_with("+08:00"), "{started}");
        assert!(b.get("alert").is_none());
        // A new ticket is public and read whole: every subscriber gets the same body
        // (the PostgreSQL create queues one body for all of them).
        assert_eq!(delivery(&ticket, 1, &event, true), Some(d));
    }

    #[test]
    fn internal_entries_only_with_include_internal() {
        let (ticket, first) = filed();
        let officer = UserId::from_uuid(Uuid::from_u128(0xC));
        let entry = |data| Event {
            at: at(),
            actor_id: Some(officer),
            version: 1,
            data,
        };
        let note = entry(EventData::Commented {
            attachment_ids: Vec::new(),
            body: "内部备注：供电公司检修".into(),
            internal: true,
        });
        assert_eq!(delivery(&ticket, 2, &note, false), None);
        let whole = body(&delivery(&ticket, 2, &note, true).unwrap());
        assert_eq!(whole["entry"]["internal"], true);
        assert_eq!(whole["entry"]["data"]["body"], "内部备注：供电公司检修");
        assert_eq!(whole["entry"]["actor_id"], officer.to_string());

        // An approved extension: the enterprise reads it without the note or who decided.
        let granted = entry(EventData::ExtensionDecided {
            approve: true,
            note: Some("同意，注意协调".into()),
            resolve: Some(deadline()),
        });
        let public = body(&delivery(&ticket, 3, &granted, false).unwrap());
        assert_eq!(public["entry"]["data"]["note"], Value::Null);
        assert_eq!(public["entry"]["actor_id"], Value::Null);
        let whole = body(&delivery(&ticket, 3, &granted, true).unwrap());
        assert_eq!(whole["entry"]["data"]["note"], "同意，注意协调");

        // An alert is internal; with include_internal it is delivered as the alert.
        let alert = entry(EventData::Alerted {
            alert_id: AlertId::from_uuid(Uuid::from_u128(9)),
            deadline: DeadlineName::Accept,
            level: AlertLevel::Escalation,
            due_at: first.at,
            recipients: vec![officer],
        });
        assert_eq!(delivery(&ticket, 4, &alert, false), None);
        let d = delivery(&ticket, 4, &alert, true).unwrap();
        assert_eq!(d.event, "alert.escalation");
        let b = body(&d);
        assert_eq!(b["alert"]["id"], Uuid::from_u128(9).to_string());
        assert_eq!(b["alert"]["deadline"], "accept");
        assert_eq!(b["alert"]["level"], "escalation");
        assert_eq!(b["alert"]["due_at"], "2026-12-03T10:00:00+08:00");
        assert_eq!(b["alert"]["recipients"][0], officer.to_string());
        assert!(b.get("entry").is_none());
        assert_eq!(b["ticket"]["number"], "JB-2026-000007");
    }

    /// The body as it was first written, through a `Value` (its map writes keys in order):
    /// the typed body must say the same, byte for byte.
    fn delivery_through_a_value(
        ticket: &Ticket,
        seq: i32,
        event: &Event,
        include_internal: bool,
    ) -> Option<Delivery> {
        let internal = event.data.is_internal();
        let (data, show_actor) = if include_internal {
            (event.data.clone(), true)
        } else {
            event.data.for_enterprise()?
        };
        let name = event_name(&data);
        let mut body = json!({
            "event": name,
            "occurred_at": rfc3339(event.at),
            "ticket": {
                "id": ticket.id,
                "number": ticket.number,
                "version": ticket.version,
                "status": ticket.status.as_str(),
                "kind": ticket.kind,
                "urgency": ticket.urgency,
                "category": ticket.category,
                "title": ticket.title,
                "enterprise_id": ticket.enterprise_id,
                "department_id": ticket.department_id,
                "supervised": ticket.supervised,
            },
        });
        if let EventData::Alerted {
            alert_id,
            deadline,
            level,
            due_at,
            recipients,
        } = &data
        {
            body["alert"] = json!({
                "id": alert_id,
                "deadline": deadline.as_str(),
                "level": level.as_str(),
                "due_at": rfc3339(*due_at),
                "recipients": recipients,
            });
        } else {
            body["entry"] = json!({
                "seq": seq,
                "version": event.version,
                "kind": data.kind(),
                "actor_id": event.actor_id.filter(|_| show_actor),
                "at": rfc3339(event.at),
                "internal": internal,
                "data": entry_data(&data),
            });
        }
        Some(Delivery {
            event: name,
            body: body.to_string(),
        })
    }

    /// An entry's `data` as the timeline shows it: the event's fields without its kind, every
    /// instant at +08:00.

    #[test]
    fn the_typed_body_writes_what_the_value_wrote() {
        let (ticket, first) = filed();
        let officer = UserId::from_uuid(Uuid::from_u128(0xC));
        let entry = |data| Event {
            at: at(),
            actor_id: Some(officer),
            version: 1,
            data,
        };
        let events = [
            first.clone(),
            entry(EventData::Commented {
                attachment_ids: Vec::new(),
                body: "内部备注：\"供电\"公司检修\n".into(),
                internal: true,
            }),
            entry(EventData::ExtensionDecided {
                approve: true,
                note: Some("同意".into()),
                resolve: Some(deadline()),
            }),
            entry(EventData::Alerted {
                alert_id: AlertId::from_uuid(Uuid::from_u128(9)),
                deadline: DeadlineName::Accept,
                level: AlertLevel::Escalation,
                due_at: first.at,
                recipients: vec![officer, UserId::from_uuid(Uuid::from_u128(0xD))],
            }),
        ];
        let mut compared = 0;
        for (seq, event) in (1..).zip(&events) {
            for include_internal in [false, true] {
                let typed = delivery(&ticket, seq, event, include_internal);
                let through_value = delivery_through_a_value(&ticket, seq, event, include_internal);
                assert_eq!(typed, through_value, "{seq} {include_internal}");
                compared += usize::from(typed.is_some());
            }
        }
        assert_eq!(compared, 6, "public and internal bodies both compared");
    }
}
