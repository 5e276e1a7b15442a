//! A small county for the ticket tests: two enterprises, two departments, and one user of
//! each kind, with helpers to file and act on tickets.
#![allow(dead_code)]

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use jiban_domain::ticket::{Command, Event, NewTicket, Rules, Ticket, apply, decide, submit};
use jiban_domain::values::{
    CategoryCode, DepartmentId, Description, EnterpriseId, Kind, Role, TicketId, TicketNumber,
    Title, Urgency, UserId,
};
use jiban_domain::{Actor, DomainError, User};
use uuid::Uuid;

pub struct World {
    pub rules: Rules,
    pub e1: EnterpriseId,
    pub e2: EnterpriseId,
    pub d1: DepartmentId,
    pub d2: DepartmentId,
    pub enterprise: Actor,
    pub other_enterprise: Actor,
    pub liaison: Actor,
    pub far_liaison: Actor,
    pub officer: Actor,
    pub colleague: Actor,
    pub other_officer: Actor,
    pub supervisor: Actor,
    pub admin: Actor,
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn user(n: u128, role: Role) -> User {
    User {
        id: UserId::from_uuid(id(n)),
        role,
        department_id: None,
        enterprise_id: None,
        stationed_at: Vec::new(),
    }
}

impl World {
    pub fn new() -> World {
        let e1 = EnterpriseId::from_uuid(id(0xE1));
        let e2 = EnterpriseId::from_uuid(id(0xE2));
        let d1 = DepartmentId::from_uuid(id(0xD1));
        let d2 = DepartmentId::from_uuid(id(0xD2));
        let mut rules = Rules::defaults();
        // Utilities complaints go straight to department 1; the rest wait in intake.
        rules
            .categories
            .insert(CategoryCode::parse("utilities").unwrap(), Some(d1));
        let with_enterprise = |mut u: User, e| {
            u.enterprise_id = Some(e);
            Actor::User(u)
        };
        let with_department = |mut u: User, d| {
            u.department_id = Some(d);
            Actor::User(u)
        };
        let stationed = |mut u: User, e| {
            u.stationed_at = vec![e];
            Actor::User(u)
        };
        World {
            rules,
            e1,
            e2,
            d1,
            d2,
            enterprise: with_enterprise(user(1, Role::Enterprise), e1),
            other_enterprise: with_enterprise(user(2, Role::Enterprise), e2),
            liaison: stationed(user(3, Role::Liaison), e1),
            far_liaison: stationed(user(4, Role::Liaison), e2),
            officer: with_department(user(5, Role::Officer), d1),
            colleague: with_department(user(6, Role::Officer), d1),
            other_officer: with_department(user(7, Role::Officer), d2),
            supervisor: Actor::User(user(8, Role::Supervisor)),
            admin: Actor::User(user(9, Role::Admin)),
        }
    }

    pub fn all_actors(&self) -> Vec<Actor> {
        vec![
            self.enterprise.clone(),
            self.other_enterprise.clone(),
            self.liaison.clone(),
            self.far_liaison.clone(),
            self.officer.clone(),
            self.colleague.clone(),
            self.other_officer.clone(),
            self.supervisor.clone(),
            self.admin.clone(),
            Actor::System,
        ]
    }

    /// A ticket filed by enterprise 1 at `at` in `category`.
    pub fn file(
        &self,
        category: &str,
        kind: Kind,
        urgency: Option<Urgency>,
        at: DateTime<Utc>,
    ) -> Ticket {
        let new = self.new_ticket(category, kind, urgency, 1);
        let event = submit(new, &self.enterprise, at, &self.rules).expect("filed");
        Ticket::replay(&[event]).expect("a ticket")
    }

    pub fn new_ticket(
        &self,
        category: &str,
        kind: Kind,
        urgency: Option<Urgency>,
        seq: u64,
    ) -> NewTicket {
        NewTicket {
            id: TicketId::from_uuid(Uuid::from_u128(
                0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(seq),
            ))
            .unwrap(),
            number: TicketNumber::new(2026, seq).unwrap(),
            enterprise_id: None,
            kind,
            urgency,
            category: CategoryCode::parse(category).unwrap(),
            title: Title::parse("停电影响生产").unwrap(),
            description: Description::parse("厂区自昨晚起停电，三条产线停工。").unwrap(),
        }
    }
}

/// Decides and applies; returns the events.
pub fn act(
    world: &World,
    ticket: &mut Ticket,
    command: Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, DomainError> {
    let events = decide(ticket, command, actor, now, &world.rules)?;
    *ticket = apply(ticket.clone(), &events);
    Ok(events)
}

pub fn user_of(actor: &Actor) -> User {
    actor.user().expect("a user").clone()
}

/// An instant in +08:00.
pub fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}
