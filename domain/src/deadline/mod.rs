//! Deadlines (DESIGN.md section 4): the working-day calendar, the SLA table, and the
//! deadlines in force.

pub mod calendar;
mod due;
mod policy;

pub use calendar::{Calendar, CalendarDay, CalendarError, Counted, DayKind};
pub use due::{Adjustment, Deadline, DeadlineName, extend, pause_shift};
pub use policy::{
    Limit, LimitUnit, MAX_MINUTES, MAX_WORKING_DAYS, SlaPolicy, SlaTable, default_policy,
};
