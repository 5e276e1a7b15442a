//! The ticket aggregate: `submit` and `decide` say what happens, `evolve` and `apply` make
//! it so (DESIGN.md sections 2 and 3).

pub mod cohandling;
mod command;
mod decide;
mod event;
pub mod rules;
mod state;

use std::collections::BTreeMap;

pub use cohandling::{CoHandler, CoHandlingAsked, CoHandlingEnd, CoHandlingStatus, ReplyDueMoved};
pub use command::{Command, NewTicket};
pub use decide::{decide, recompute_provisional, submit};
pub use event::{Deadlines, EscalationReason, Event, EventData, Submitted};
pub use rules::can_see;
pub use state::{
    Appeal, CloseReason, Decision, Extension, Outcome, Rating, Status, Ticket, apply, evolve,
};

use crate::deadline::{Calendar, SlaTable};
use crate::values::{CategoryCode, DepartmentId};

/// The rating window: 5 working days after resolve or explain (DESIGN.md section 4).
pub const RATING_WINDOW_WORKING_DAYS: u32 = 5;

/// The data the rules read: calendar, SLA table and the dispatch map (派单目录).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    pub calendar: Calendar,
    pub sla: SlaTable,
    /// Category code → the department it dispatches to (`None`: the intake queue).
    pub categories: BTreeMap<CategoryCode, Option<DepartmentId>>,
}

impl Rules {
    /// The shipped calendar, the default SLA table and the seeded categories, none mapped.
    pub fn defaults() -> Rules {
        Rules {
            calendar: Calendar::shipped(),
            sla: SlaTable::defaults(),
            categories: SEEDED_CATEGORIES
                .iter()
                .map(|(code, _)| (CategoryCode::parse(code).expect("a seeded code"), None))
                .collect(),
        }
    }
}

/// The seeded dispatch categories (DESIGN.md section 3, "Dispatch"): code and name.
pub const SEEDED_CATEGORIES: &[(&str, &str)] = &[
    ("policy", "政策兑现"),
    ("financing", "融资"),
    ("land", "用地"),
    ("approval", "审批服务"),
    ("utilities", "水电气热"),
    ("enforcement", "执法检查"),
    ("safety", "安全生产"),
    ("labour", "用工"),
    ("logistics", "物流运输"),
    ("market", "市场准入"),
    ("other", "其他"),
];
