//! One deadline in force: when it falls due, and how that instant was derived, so a
//! provisional one can be recomputed when its year's calendar arrives (DESIGN.md section 4).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::{Calendar, Counted, end_of_day, last_day, local_date};
use super::policy::{Limit, LimitUnit};

/// The three deadlines of a ticket (DESIGN.md section 4), and a co-handling request's
/// reply limit (issue 13), by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineName {
    /// 签收
    Accept,
    /// 联系 (响应)
    Contact,
    /// 办结反馈
    Resolve,
    /// 协办答复: a co-handling department's reply limit (issue 13).
    Reply,
}

impl DeadlineName {
    pub const ALL: [DeadlineName; 4] = [
        DeadlineName::Accept,
        DeadlineName::Contact,
        DeadlineName::Resolve,
        DeadlineName::Reply,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineName::Accept => "accept",
            DeadlineName::Contact => "contact",
            DeadlineName::Resolve => "resolve",
            DeadlineName::Reply => "reply",
        }
    }

    pub fn parse(s: &str) -> Option<DeadlineName> {
        DeadlineName::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The name an official reads in a mail: 签收, 联系, 办结.
    pub fn label(self) -> &'static str {
        match self {
            DeadlineName::Accept => "签收",
            DeadlineName::Contact => "联系",
            DeadlineName::Resolve => "办结",
            DeadlineName::Reply => "协办答复",
        }
    }
}

/// Something that moved a deadline after it was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Adjustment {
    /// The clock stopped while the ticket was awaiting information.
    Pause {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    /// An approved extension, in the limit's own unit.
    Extend { amount: u32 },
}

/// A deadline: its due instant (a snapshot), whether that instant assumed a year without
/// calendar data, and its derivation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub due_at: DateTime<Utc>,
    /// Counted on a year with no calendar loaded (Monday–Friday assumed).
    pub provisional: bool,
    pub started_at: DateTime<Utc>,
    pub limit: Limit,
    pub adjustments: Vec<Adjustment>,
    /// When the obligation was met (accepted, contacted, resolved or explained).
    pub met_at: Option<DateTime<Utc>>,
}

impl Deadline {
    /// A limit counted from `started_at` (DESIGN.md section 4, "Counting").
    pub fn start(started_at: DateTime<Utc>, limit: Limit, calendar: &Calendar) -> Deadline {
        let due = initial_due(started_at, limit, calendar);
        Deadline {
            due_at: due.value,
            provisional: due.is_provisional(),
            started_at,
            limit,
            adjustments: Vec::new(),
            met_at: None,
        }
    }

    /// The deadline after a pause from `from` to `to`.
    pub fn paused(&self, from: DateTime<Utc>, to: DateTime<Utc>, calendar: &Calendar) -> Self {
        self.adjusted(Adjustment::Pause { from, to }, calendar)
    }

    /// The deadline after an approved extension of `amount` in the limit's unit.
    pub fn extended(&self, amount: u32, calendar: &Calendar) -> Self {
        self.adjusted(Adjustment::Extend { amount }, calendar)
    }

    fn adjusted(&self, adjustment: Adjustment, calendar: &Calendar) -> Self {
        let moved = adjust(
            self.limit.unit(),
            definite(self.due_at),
            adjustment,
            calendar,
        );
        let mut next = self.clone();
        next.due_at = moved.value;
        next.provisional |= moved.is_provisional();
        next.adjustments.push(adjustment);
        next
    }

    /// Derives the deadline again on `calendar`: for a provisional deadline once its
    /// year's calendar is loaded (DESIGN.md section 4, "Deadlines are snapshots").
    pub fn recomputed(&self, calendar: &Calendar) -> Self {
        let mut due = initial_due(self.started_at, self.limit, calendar);
        for &adjustment in &self.adjustments {
            let moved = adjust(self.limit.unit(), due.clone(), adjustment, calendar);
            due = Counted {
                value: moved.value,
                assumed_years: due
                    .assumed_years
                    .union(&moved.assumed_years)
                    .copied()
                    .collect(),
            };
        }
        Deadline {
            due_at: due.value,
            provisional: due.is_provisional(),
            ..self.clone()
        }
    }

    pub fn met(&self, at: DateTime<Utc>) -> Self {
        Deadline {
            met_at: Some(self.met_at.unwrap_or(at)),
            ..self.clone()
        }
    }

    pub fn is_met(&self) -> bool {
        self.met_at.is_some()
    }

    /// Passed unmet by `now` (DESIGN.md section 5, "超期 overdue at the deadline").
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.met_at.is_none() && now >= self.due_at
    }
}

/// A clock count: it consults no calendar.
fn definite<T>(value: T) -> Counted<T> {
    Counted {
        value,
        assumed_years: Default::default(),
    }
}

/// Clock limits run 24×7; day limits count working days from the day after the start and
/// end at 24:00 of the last (民法典 Art. 201, 203; DESIGN.md section 4).
fn initial_due(start: DateTime<Utc>, limit: Limit, calendar: &Calendar) -> Counted<DateTime<Utc>> {
    match limit.unit() {
        LimitUnit::Minutes => definite(start + Duration::minutes(i64::from(limit.amount()))),
        LimitUnit::WorkingDays => calendar.deadline_after(start, limit.amount()),
    }
}

fn adjust(
    unit: LimitUnit,
    due: Counted<DateTime<Utc>>,
    adjustment: Adjustment,
    calendar: &Calendar,
) -> Counted<DateTime<Utc>> {
    match adjustment {
        Adjustment::Pause { from, to } => pause_shift(unit, due.value, from, to, calendar),
        Adjustment::Extend { amount } => extend(unit, due.value, amount, calendar),
    }
}

/// DESIGN.md section 4, "Pause": clock limits move by the paused duration; for day limits
/// the working days up to the day the pause began (inclusive) are used, and the rest count
/// from the day the information arrived (exclusive). A pause that begins on the last day
/// leaves none to count: the deadline becomes the end of the first working day from the
/// day the information arrived. A pause that begins after the deadline has passed moves
/// nothing, and a pause never shortens a limit.
pub fn pause_shift(
    unit: LimitUnit,
    due: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    calendar: &Calendar,
) -> Counted<DateTime<Utc>> {
    if from >= due || to <= from {
        return definite(due);
    }
    match unit {
        LimitUnit::Minutes => definite(due + (to - from)),
        LimitUnit::WorkingDays => {
            let remaining = calendar.working_days_between(local_date(from), last_day(due));
            let resumed = if remaining.value == 0 {
                // Paused on the last day: the deadline is the first working day from the
                // day the information arrived, never a weekend or holiday.
                calendar.add_working_days(local_date(to) - chrono::Days::new(1), 1)
            } else {
                calendar.add_working_days(local_date(to), remaining.value)
            };
            let mut assumed = remaining.assumed_years;
            assumed.extend(resumed.assumed_years);
            Counted {
                value: end_of_day(resumed.value).max(due),
                assumed_years: assumed,
            }
        }
    }
}

/// DESIGN.md section 3, rule 5: an approved extension adds its amount after the deadline
/// in force, in the limit's unit.
pub fn extend(
    unit: LimitUnit,
    due: DateTime<Utc>,
    amount: u32,
    calendar: &Calendar,
) -> Counted<DateTime<Utc>> {
    match unit {
        LimitUnit::Minutes => definite(due + Duration::minutes(i64::from(amount))),
        LimitUnit::WorkingDays => {
            let last = calendar.add_working_days(last_day(due), amount);
            Counted {
                value: end_of_day(last.value),
                assumed_years: last.assumed_years,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn general_resolve(start: DateTime<Utc>) -> Deadline {
        Deadline::start(start, Limit::working_days(5), &Calendar::shipped())
    }

    /// DESIGN.md section 4: the worked example, Fri 2026-09-18 10:00 + 5 working days.
    #[test]
    fn design_example() {
        let d = general_resolve(at(2026, 9, 18, 10, 0));
        assert_eq!(d.due_at, at(2026, 9, 25, 0, 0));
        assert!(!d.provisional);
    }

    /// DESIGN.md section 4: clock limits run through nights and holidays.
    #[test]
    fn clock_limits_ignore_holidays() {
        let start = at(2026, 10, 1, 23, 50);
        let d = Deadline::start(start, Limit::minutes(30), &Calendar::shipped());
        assert_eq!(d.due_at, at(2026, 10, 2, 0, 20));
    }

    /// DESIGN.md section 4, "Pause": clock limits move by the paused duration.
    #[test]
    fn clock_pause_moves_by_its_duration() {
        let cal = Calendar::shipped();
        let d = Deadline::start(at(2026, 3, 2, 9, 0), Limit::minutes(120), &cal);
        let d = d.paused(at(2026, 3, 2, 9, 30), at(2026, 3, 2, 10, 15), &cal);
        assert_eq!(d.due_at, at(2026, 3, 2, 11, 45));
    }

    /// DESIGN.md section 4, "Pause": used days up to the pause day, the rest from the day
    /// the information arrived. Received Mon 03-02, 5 days → due Tue 03-10 00:00. Paused
    /// Wed 03-04 (2 used: 03-03, 03-04), resumed Mon 03-09: 3 left → 03-10, 11, 12.
    #[test]
    fn day_pause_keeps_used_days() {
        let cal = Calendar::shipped();
        let d = general_resolve(at(2026, 3, 2, 9, 0));
        assert_eq!(d.due_at, at(2026, 3, 10, 0, 0));
        let d = d.paused(at(2026, 3, 4, 15, 0), at(2026, 3, 9, 11, 0), &cal);
        assert_eq!(d.due_at, at(2026, 3, 13, 0, 0));
    }

    /// DESIGN.md section 4: a pause and resume on one day moves nothing.
    #[test]
    fn same_day_pause_moves_nothing() {
        let cal = Calendar::shipped();
        let d = general_resolve(at(2026, 3, 2, 9, 0));
        let paused = d.paused(at(2026, 3, 4, 9, 0), at(2026, 3, 4, 17, 0), &cal);
        assert_eq!(paused.due_at, d.due_at);
    }

    /// A pause on the last day resumed on a Saturday ends on the next working day, not on
    /// the Saturday (found by the property test).
    #[test]
    fn pause_on_the_last_day_resumed_on_a_weekend_ends_a_working_day() {
        let cal = Calendar::shipped();
        let d = general_resolve(at(2026, 3, 2, 9, 0)); // last day Mon 03-09
        let paused = d.paused(at(2026, 3, 9, 15, 0), at(2026, 3, 14, 10, 0), &cal);
        assert_eq!(paused.due_at, at(2026, 3, 17, 0, 0)); // Mon 03-16, 24:00
    }

    /// A pause that begins after the deadline passed does not rescue the ticket.
    #[test]
    fn pause_after_the_deadline_moves_nothing() {
        let cal = Calendar::shipped();
        let d = general_resolve(at(2026, 3, 2, 9, 0));
        let paused = d.paused(at(2026, 3, 10, 9, 0), at(2026, 3, 20, 9, 0), &cal);
        assert_eq!(paused.due_at, d.due_at);
    }

    /// DESIGN.md section 3, rule 5: an extension adds working days after the deadline.
    #[test]
    fn extension_adds_after_the_deadline() {
        let cal = Calendar::shipped();
        // Due 2026-09-25 00:00 (last day Thu 09-24); +3: Mon 09-28, Tue 09-29, Wed 09-30.
        let d = general_resolve(at(2026, 9, 18, 10, 0)).extended(3, &cal);
        assert_eq!(d.due_at, at(2026, 10, 1, 0, 0));
        let c = Deadline::start(at(2026, 9, 18, 10, 0), Limit::minutes(1440), &cal);
        assert_eq!(c.extended(60, &cal).due_at, at(2026, 9, 19, 11, 0));
    }

    /// DESIGN.md section 4: a deadline in a year without calendar data is provisional, and
    /// recomputing it once the year is loaded gives the real instant.
    #[test]
    fn provisional_deadline_is_recomputed_with_the_new_year() {
        let mut cal = Calendar::shipped();
        // Thu 2026-12-31 + 5: Fri 2027-01-01 is a weekday, so Mon–Fri counts it.
        let d = Deadline::start(at(2026, 12, 31, 10, 0), Limit::working_days(5), &cal);
        assert!(d.provisional);
        assert_eq!(d.due_at, at(2027, 1, 8, 0, 0));
        let new_year = crate::deadline::calendar::CalendarDay {
            date: chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            kind: crate::deadline::calendar::DayKind::Holiday,
            name: "元旦".to_owned(),
        };
        cal.set_year(2027, vec![new_year]).unwrap();
        let again = d.recomputed(&cal);
        assert!(!again.provisional);
        assert_eq!(again.due_at, at(2027, 1, 9, 0, 0));
    }

    /// DESIGN.md section 4: deadlines are snapshots; a definite deadline recomputed on the
    /// same calendar is unchanged, adjustments included.
    #[test]
    fn recompute_replays_adjustments() {
        let cal = Calendar::shipped();
        let d = general_resolve(at(2026, 3, 2, 9, 0))
            .paused(at(2026, 3, 4, 15, 0), at(2026, 3, 9, 11, 0), &cal)
            .extended(2, &cal);
        assert_eq!(d.recomputed(&cal), d);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Instants from 2025 to 2027, so some counts fall on a year with no calendar.
        fn instant() -> impl Strategy<Value = DateTime<Utc>> {
            (0i64..(3 * 365 * 24 * 60)).prop_map(|m| at(2025, 1, 1, 0, 0) + Duration::minutes(m))
        }

        fn limit() -> impl Strategy<Value = Limit> {
            prop_oneof![
                (1u32..=2880).prop_map(Limit::minutes),
                (1u32..=20).prop_map(Limit::working_days),
            ]
        }

        proptest! {
            /// DESIGN.md section 4: a pause never shortens a limit, and one that starts
            /// and ends on the same day moves nothing.
            #[test]
            fn pause_then_resume_never_shortens(
                start in instant(),
                limit in limit(),
                pause_after in 0i64..(20 * 24 * 60),
                pause_for in 0i64..(20 * 24 * 60),
            ) {
                let cal = Calendar::shipped();
                let d = Deadline::start(start, limit, &cal);
                let from = start + Duration::minutes(pause_after);
                let to = from + Duration::minutes(pause_for);
                let paused = d.paused(from, to, &cal);
                prop_assert!(paused.due_at >= d.due_at);
                if limit.unit() == LimitUnit::WorkingDays && local_date(from) == local_date(to) {
                    prop_assert_eq!(paused.due_at, d.due_at);
                }
                if limit.unit() == LimitUnit::Minutes && from < d.due_at {
                    prop_assert_eq!(paused.due_at - d.due_at, to - from);
                }
            }

            /// DESIGN.md section 4: working-day deadlines end at 24:00 of a working day,
            /// after pauses and extensions too; recomputing on the same calendar is a no-op.
            #[test]
            fn day_deadlines_end_a_working_day(
                start in instant(),
                days in 1u32..=20,
                pause_after in 0i64..(10 * 24 * 60),
                pause_for in 0i64..(10 * 24 * 60),
                extension in 0u32..=5,
            ) {
                let cal = Calendar::shipped();
                let from = start + Duration::minutes(pause_after);
                let mut d = Deadline::start(start, Limit::working_days(days), &cal)
                    .paused(from, from + Duration::minutes(pause_for), &cal);
                if extension > 0 {
                    d = d.extended(extension, &cal);
                }
                let last = last_day(d.due_at);
                prop_assert_eq!(end_of_day(last), d.due_at);
                prop_assert!(cal.is_working_day(last).value);
                prop_assert_eq!(d.recomputed(&cal), d);
            }
        }
    }
}
