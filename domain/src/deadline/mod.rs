//! Deadlines (DESIGN.md section 4): the working-day calendar and the SLA table.

pub mod calendar;
