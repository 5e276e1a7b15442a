//! The statistics of DESIGN.md section 6 (三率): response, resolution and satisfaction
//! rates per department and per officer, and the composite ranking.
//!
//! In layers, so that the persistence layer can aggregate in SQL (a year's tickets are
//! never loaded into memory) and a test can prove that SQL agrees with this definition:
//!
//! 1. [`TicketFacts`]: what one ticket contributes, as flat values a save can store in
//!    columns (booleans, instants, whole minutes, a rating weight in tenths).
//! 2. [`Tally`] and [`Medians`] ([`Totals`] together): what a group of tickets adds up to,
//!    the counts SQL returns with `SUM` and the lower medians it returns with a window
//!    query ([`Medians`] shows it).
//! 3. [`Figures`]: the rates, medians and composite score computed from a group's totals,
//!    in shared Rust (DESIGN.md section 6: "counts come from SQL on both backends; rates and
//!    medians are computed in shared Rust").
//! 4. [`rank`]: the ranking by composite score, ties sharing a rank (1, 1, 3).
//!
//! [`departments`] and [`officers`] run all four over facts in memory: the definition
//! that the SQL path must reproduce exactly.
//!
//! Arithmetic is exact: counts and weights are integers, a satisfaction weight is counted
//! in tenths, and each rate or score is rounded once, at the end, half up to 4 decimals
//! ([`Rate`]).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize, Serializer};
use thiserror::Error;

use crate::deadline::calendar::start_of_day;
use crate::ticket::rules::IN_HAND;
use crate::ticket::{CloseReason, Event, EventData, Outcome, Rating, Status, Ticket, evolve};
use crate::values::{DepartmentId, RatingLevel, TicketId, UserId, ValueError};

// ---------------------------------------------------------------------------------------
// The period
// ---------------------------------------------------------------------------------------

/// The tickets received from `from` (inclusive) to `to` (exclusive), dates in +08:00
/// (DESIGN.md section 6). `from == to` is an empty period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    from: NaiveDate,
    to: NaiveDate,
}

#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("the period ends ({to}) before it starts ({from})")]
pub struct PeriodError {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, PeriodError> {
        if to < from {
            Err(PeriodError { from, to })
        } else {
            Ok(Period { from, to })
        }
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }

    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// 00:00 +08:00 of `from`: SQL's `received_at >= starts_at`.
    pub fn starts_at(&self) -> DateTime<Utc> {
        start_of_day(self.from)
    }

    /// 00:00 +08:00 of `to`: SQL's `received_at < ends_at`.
    pub fn ends_at(&self) -> DateTime<Utc> {
        start_of_day(self.to)
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.starts_at() <= at && at < self.ends_at()
    }

    /// The period cut into `bucket`s, in order, each clipped to the period: by week, a
    /// period from a Wednesday starts with a bucket of five days. None for an empty period.
    pub fn buckets(&self, bucket: Bucket) -> Vec<Period> {
        let mut buckets = Vec::new();
        let mut from = self.from;
        while from < self.to {
            let to = bucket.after(from).min(self.to);
            buckets.push(Period { from, to });
            from = to;
        }
        buckets
    }
}

/// How a trend cuts its period (`GET /v1/stats/trend`, DESIGN.md section 7): days, weeks
/// from Monday to Sunday (ISO 8601, as Chinese calendars show them), or calendar months,
/// all of days in +08:00 like the period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Week,
    Month,
}

impl Bucket {
    const NAMES: &'static [&'static str] = &["day", "week", "month"];

    /// Its name in the API: `day`, `week` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }

    /// The first day of the bucket holding `date`.
    pub fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            Bucket::Day => date,
            Bucket::Week => date - Days::new(u64::from(date.weekday().num_days_from_monday())),
            Bucket::Month => date.with_day(1).expect("every month has a first day"),
        }
    }

    /// The first day of the next bucket after the one holding `date`.
    pub fn after(self, date: NaiveDate) -> NaiveDate {
        let start = self.start_of(date);
        match self {
            Bucket::Day => start + Days::new(1),
            Bucket::Week => start + Days::new(7),
            Bucket::Month => start + Months::new(1),
        }
    }
}

impl FromStr for Bucket {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Bucket, ValueError> {
        [Bucket::Day, Bucket::Week, Bucket::Month]
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or(ValueError::NotOneOf {
                allowed: Bucket::NAMES,
            })
    }
}

/// The trend of DESIGN.md section 7 (`GET /v1/stats/trend`): for each bucket of `period`,
/// empty ones included, the tally of the tickets received in it (each bucket a period of
/// section 6 of its own, so its rates are section 6's). The definition that
/// [`roll_up`] of SQL's per-day counts must reproduce.
pub fn trend<'a>(
    facts: impl IntoIterator<Item = &'a TicketFacts>,
    period: &Period,
    bucket: Bucket,
) -> Vec<(Period, Tally)> {
    let facts: Vec<&TicketFacts> = facts.into_iter().collect();
    period
        .buckets(bucket)
        .into_iter()
        .map(|b| {
            let mut tally = Tally::default();
            for f in facts.iter().filter(|f| b.contains(f.received_at)) {
                tally.add(f);
            }
            (b, tally)
        })
        .collect()
}

/// The trend from the tallies of single days (in +08:00; days without tickets may be
/// missing), as SQL counts them: counts add up, so each bucket is the sum of its days.
pub fn roll_up(
    days: &BTreeMap<NaiveDate, Tally>,
    period: &Period,
    bucket: Bucket,
) -> Vec<(Period, Tally)> {
    period
        .buckets(bucket)
        .into_iter()
        .map(|b| {
            let mut tally = Tally::default();
            for day in days.range(b.from..b.to).map(|(_, t)| t) {
                tally.merge(day);
            }
            (b, tally)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. Per-ticket facts
// ---------------------------------------------------------------------------------------

/// What the snapshot forgets once a bad rating reopens a ticket (DESIGN.md rule 7: the
/// redo gets fresh contact and resolve deadlines, and its outcome is cleared): the first
/// round's contact and resolve deadlines, and when its outcome came. Section 6 judges the
/// response and the punctuality of a ticket by this first round ("first contacted by
/// their contact deadline", "first resolve or explain came by the resolve deadline").
///
/// Each instant is the one in force at the end of the first round: pauses, an approved
/// extension and the recompute of a provisional deadline during that round are in it; a
/// recompute after the redo began no longer reaches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstRound {
    pub contact_due_at: DateTime<Utc>,
    pub resolve_due_at: DateTime<Utc>,
    /// The first resolve or explain.
    pub outcome_at: Option<DateTime<Utc>>,
}

impl FirstRound {
    /// The round in force in `ticket`: the first round while `ticket.redo_count == 0`.
    pub fn current(ticket: &Ticket) -> FirstRound {
        FirstRound {
            contact_due_at: ticket.contact_due.due_at,
            resolve_due_at: ticket.resolve_due.due_at,
            // A resolve or explain meets the resolve deadline, and a later one keeps the
            // first instant (`Deadline::met`).
            outcome_at: ticket.resolve_due.met_at,
        }
    }

    /// The first round after one command: `kept` is the first round as it stood before
    /// (as stored), `before` the ticket before the command, `events` what the command
    /// caused. A save can keep the first round in columns this way without reading the
    /// timeline; once the ticket has been reopened, it no longer changes.
    pub fn after(kept: FirstRound, before: &Ticket, events: &[Event]) -> FirstRound {
        let mut ticket = before.clone();
        let mut round = kept;
        for event in events {
            if ticket.redo_count > 0 {
                break;
            }
            ticket = evolve(ticket, event);
            if ticket.redo_count == 0 {
                round = FirstRound::current(&ticket);
            }
        }
        round
    }

    /// The first round a snapshot knows: the one it keeps (`Ticket::first_round`), or the
    /// round in force if it was never reopened. `None` for a state stored before the
    /// first round was kept, of a ticket reopened since: read the timeline ([`Self::of`]).
    pub fn of_ticket(ticket: &Ticket) -> Option<FirstRound> {
        ticket
            .first_round
            .or_else(|| (ticket.redo_count == 0).then(|| FirstRound::current(ticket)))
    }

    /// The first round read from a whole timeline; `None` if it does not start with
    /// `submitted`.
    pub fn of(events: &[Event]) -> Option<FirstRound> {
        let (first, rest) = events.split_first()?;
        let EventData::Submitted(submitted) = &first.data else {
            return None;
        };
        let ticket = Ticket::new(submitted, first.at, first.actor_id);
        Some(FirstRound::after(
            FirstRound::current(&ticket),
            &ticket,
            rest,
        ))
    }
}

/// What one ticket contributes to the statistics (DESIGN.md section 6). Every field but
/// `overdue_now` is independent of `now`, so a save can store them in columns; SQL reads
/// `overdue_now` as `overdue_at <= now` ([`Ticket::overdue_since`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketFacts {
    pub ticket_id: TicketId,
    /// The received instant, which places the ticket in a period.
    pub received_at: DateTime<Utc>,
    /// Credited to the department and assignee holding it now (section 6); `None`: the
    /// intake queue, or nobody assigned.
    pub department_id: Option<DepartmentId>,
    pub assignee_id: Option<UserId>,
    /// Closed by a non-accept disposition: counted as received only (rule 2; section 6).
    pub disposed: bool,
    /// Has an accept event.
    pub accepted: bool,
    pub withdrawn: bool,
    /// Accepted, and first responded to before its first contact deadline passed.
    pub responded_on_time: bool,
    /// Its current outcome is `resolved`.
    pub resolved_now: bool,
    /// Resolved or explained at least once.
    pub has_outcome: bool,
    /// The latest rating no upheld appeal removed.
    pub rating: Option<RatingLevel>,
    /// That rating's weight in the satisfaction rate, in tenths; 0 when unrated.
    pub rating_score_tenths: u32,
    /// Its first resolve or explain came before the first round's resolve deadline passed.
    pub on_time: bool,
    /// Whole minutes from received to the first response.
    pub minutes_to_first_contact: Option<i64>,
    /// Whole minutes from received to the first resolve or explain.
    pub minutes_to_first_outcome: Option<i64>,
    pub overdue_now: bool,
    pub supervised_now: bool,
}

impl TicketFacts {
    /// The facts of a ticket from its snapshot and its whole timeline (the timeline only
    /// for the first round, [`FirstRound`]). A timeline without its `submitted` event is
    /// read as a ticket never reopened.
    pub fn of(ticket: &Ticket, events: &[Event], now: DateTime<Utc>) -> TicketFacts {
        let first_round = FirstRound::of(events).unwrap_or_else(|| FirstRound::current(ticket));
        TicketFacts::new(ticket, &first_round, now)
    }

    /// The facts of a ticket from its snapshot alone ([`FirstRound::of_ticket`]): what a
    /// save stores. `None` for an old state that needs its timeline ([`Self::of`]).
    pub fn of_snapshot(ticket: &Ticket, now: DateTime<Utc>) -> Option<TicketFacts> {
        FirstRound::of_ticket(ticket).map(|round| TicketFacts::new(ticket, &round, now))
    }

    /// The facts of a ticket from its snapshot and its first round, as a save would keep
    /// it ([`FirstRound::after`]).
    pub fn new(ticket: &Ticket, first_round: &FirstRound, now: DateTime<Utc>) -> TicketFacts {
        let rating = effective_rating(ticket).map(|r| r.level);
        let first_response = first_response_at(ticket, first_round);
        let minutes_since_received = |at: DateTime<Utc>| (at - ticket.created_at).num_minutes();
        TicketFacts {
            ticket_id: ticket.id,
            received_at: ticket.created_at,
            department_id: ticket.department_id,
            assignee_id: ticket.assignee_id,
            disposed: is_disposed(ticket),
            accepted: ticket.accepted_at.is_some(),
            withdrawn: ticket.status == Status::Withdrawn,
            responded_on_time: ticket.accepted_at.is_some()
                && first_response.is_some_and(|at| by_deadline(at, first_round.contact_due_at)),
            resolved_now: ticket.outcome == Some(Outcome::Resolved),
            has_outcome: first_round.outcome_at.is_some(),
            rating,
            rating_score_tenths: rating.map_or(0, satisfaction_tenths),
            on_time: first_round
                .outcome_at
                .is_some_and(|at| by_deadline(at, first_round.resolve_due_at)),
            minutes_to_first_contact: first_response.map(minutes_since_received),
            minutes_to_first_outcome: first_round.outcome_at.map(minutes_since_received),
            overdue_now: !ticket.overdue(now).is_empty(),
            supervised_now: is_supervised_now(ticket),
        }
    }
}

/// Disposals are the non-accept dispositions: redirect, duplicate, out of scope (北京市接诉即办
/// 工作条例 Art. 11; DESIGN.md rule 2).
fn is_disposed(ticket: &Ticket) -> bool {
    matches!(
        ticket.close_reason,
        Some(CloseReason::Redirect | CloseReason::Duplicate | CloseReason::OutOfScope)
    )
}

/// Met "by" a deadline: before it. At the deadline's instant the ticket is already overdue
/// (DESIGN.md section 5, "超期 overdue at the deadline"; `Deadline::is_overdue`), and a
/// day limit's instant is 24:00 of its last day (section 4).
fn by_deadline(at: DateTime<Utc>, due_at: DateTime<Utc>) -> bool {
    at < due_at
}

/// The first response to the enterprise: its first contact (rule 8), or its first resolve
/// or explain if that came earlier, since the result is fed back to the enterprise (rule 6)
/// and ends the contact deadline (section 5 alerts on it no more). A consultation answered
/// at acceptance (当场办结, section 4) is thus responded to at once.
fn first_response_at(ticket: &Ticket, first_round: &FirstRound) -> Option<DateTime<Utc>> {
    [ticket.contacted_at, first_round.outcome_at]
        .into_iter()
        .flatten()
        .min()
}

/// The rating the satisfaction rate uses: "each ticket's latest rating that no upheld
/// appeal removed" (DESIGN.md section 6, rule 7), of this round or an earlier one. A
/// removed rating lets the one before it count: that one was given and not removed.
pub fn effective_rating(ticket: &Ticket) -> Option<&Rating> {
    ticket
        .rating
        .iter()
        .chain(ticket.past_ratings.iter().rev())
        .find(|r| r.counts())
}

/// A rating's weight in 满意率, in tenths: very satisfied and satisfied 1, basically
/// satisfied 0.9, the bad levels 0 (DESIGN.md section 6). Tenths keep SQL's sums exact.
pub fn satisfaction_tenths(level: RatingLevel) -> u32 {
    match level {
        RatingLevel::VerySatisfied | RatingLevel::Satisfied => 10,
        RatingLevel::BasicallySatisfied => 9,
        RatingLevel::Dissatisfied | RatingLevel::VeryDissatisfied => 0,
    }
}

/// "Supervised now": 提级督办 (DESIGN.md rule 7, section 5) and still in hand (submitted,
/// in progress or awaiting information), the scope of "overdue now". The ticket's
/// `supervised` flag is never cleared, so without the status every ticket ever escalated
/// would count as supervised for good.
fn is_supervised_now(ticket: &Ticket) -> bool {
    ticket.supervised && IN_HAND.contains(&ticket.status)
}

// ---------------------------------------------------------------------------------------
// 2. Tally and medians
// ---------------------------------------------------------------------------------------

/// The additive counts of a group of tickets: in SQL, each field is the `SUM` of the
/// matching [`TicketFacts`] column over the group (a boolean as 0 or 1), `overdue_now`
/// being `SUM(overdue_at <= :now)`.
///
/// Section 6 names two denominators that are one set: "tickets resolved or explained at
/// least once" (解决率) and "tickets with an outcome" (rating rate, on-time rate). A
/// ticket reopened by a bad rating has no current outcome, yet its first outcome, its bad
/// rating and its redo must all count, so "with an outcome" means "ever": otherwise the
/// rating rate could exceed 1. Both are `with_outcome`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub received: u64,
    pub disposed: u64,
    pub accepted: u64,
    pub withdrawn: u64,
    pub responded_on_time: u64,
    pub resolved_now: u64,
    pub with_outcome: u64,
    pub rated: u64,
    pub rating_score_tenths: u64,
    pub on_time: u64,
    pub overdue_now: u64,
    pub supervised_now: u64,
}

impl Tally {
    /// Counts one ticket.
    pub fn add(&mut self, facts: &TicketFacts) {
        let one = |yes: bool| u64::from(yes);
        self.received += 1;
        self.disposed += one(facts.disposed);
        self.accepted += one(facts.accepted);
        self.withdrawn += one(facts.withdrawn);
        self.responded_on_time += one(facts.responded_on_time);
        self.resolved_now += one(facts.resolved_now);
        self.with_outcome += one(facts.has_outcome);
        self.rated += one(facts.rating.is_some());
        self.rating_score_tenths += u64::from(facts.rating_score_tenths);
        self.on_time += one(facts.on_time);
        self.overdue_now += one(facts.overdue_now);
        self.supervised_now += one(facts.supervised_now);
    }

    /// Adds another group's counts (e.g. for a county-wide total).
    pub fn merge(&mut self, other: &Tally) {
        self.received += other.received;
        self.disposed += other.disposed;
        self.accepted += other.accepted;
        self.withdrawn += other.withdrawn;
        self.responded_on_time += other.responded_on_time;
        self.resolved_now += other.resolved_now;
        self.with_outcome += other.with_outcome;
        self.rated += other.rated;
        self.rating_score_tenths += other.rating_score_tenths;
        self.on_time += other.on_time;
        self.overdue_now += other.overdue_now;
        self.supervised_now += other.supervised_now;
    }
}

/// The lower medians of a group (DESIGN.md section 6): minutes to first contact, over the
/// tickets that had a response, and minutes to first outcome, over those with an outcome.
///
/// Medians do not add up, so SQL computes them itself, the same on PostgreSQL and SQLite
/// (window functions, SQLite 3.25+), without sending the values over:
///
/// ```sql
/// SELECT department_id, minutes FROM (
///   SELECT department_id, minutes_to_first_contact AS minutes,
///          ROW_NUMBER() OVER (PARTITION BY department_id ORDER BY minutes_to_first_contact) AS n,
///          COUNT(*) OVER (PARTITION BY department_id) AS total
///   FROM ... WHERE received_at >= :from AND received_at < :to
///     AND minutes_to_first_contact IS NOT NULL
/// ) AS ranked WHERE n = (total + 1) / 2
/// ```
///
/// `(total + 1) / 2` is integer division on both backends: the `⌈n/2⌉`-th smallest value,
/// which is [`lower_median`]. Ties in the ordering do not matter: equal values are equal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Medians {
    pub minutes_to_first_contact: Option<i64>,
    pub minutes_to_first_outcome: Option<i64>,
}

/// The lower median: of an even count, the smaller of the two middle values, so the
/// median is always a value that occurred, in whole minutes (DESIGN.md section 6). `None`
/// for no values.
pub fn lower_median(mut values: Vec<i64>) -> Option<i64> {
    values.sort_unstable();
    let middle = values.len().checked_sub(1)? / 2;
    values.get(middle).copied()
}

/// What a group's figures are computed from: what SQL returns per group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub tally: Tally,
    pub medians: Medians,
}

/// The totals of the tickets received in `period`, grouped by `key` (DESIGN.md section 6).
pub fn totals_by<'a, K: Ord>(
    facts: impl IntoIterator<Item = &'a TicketFacts>,
    period: &Period,
    key: impl Fn(&TicketFacts) -> K,
) -> BTreeMap<K, Totals> {
    let mut groups: BTreeMap<K, (Tally, Vec<i64>, Vec<i64>)> = BTreeMap::new();
    for f in facts.into_iter().filter(|f| period.contains(f.received_at)) {
        let (tally, contact, outcome) = groups.entry(key(f)).or_default();
        tally.add(f);
        contact.extend(f.minutes_to_first_contact);
        outcome.extend(f.minutes_to_first_outcome);
    }
    groups
        .into_iter()
        .map(|(k, (tally, contact, outcome))| {
            let medians = Medians {
                minutes_to_first_contact: lower_median(contact),
                minutes_to_first_outcome: lower_median(outcome),
            };
            (k, Totals { tally, medians })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// 3. Figures
// ---------------------------------------------------------------------------------------

/// A fraction from 0 to 1 rounded to 4 decimals (DESIGN.md section 6), kept as a whole
/// number of ten-thousandths so it compares and ranks exactly. Rounding is half up (all
/// values are positive), done once on the exact fraction. Serialized as a JSON number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u32);

impl Rate {
    /// Ten-thousandths in one.
    pub const SCALE: u32 = 10_000;

    /// `numerator ÷ denominator` rounded half up to 4 decimals; `None` when the
    /// denominator is 0 (section 6: `null`).
    pub fn of(numerator: u64, denominator: u64) -> Option<Rate> {
        Fraction::new(u128::from(numerator), u128::from(denominator)).map(Fraction::rounded)
    }

    pub fn from_ten_thousandths(n: u32) -> Option<Rate> {
        (n <= Rate::SCALE).then_some(Rate(n))
    }

    pub fn ten_thousandths(self) -> u32 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / f64::from(Rate::SCALE)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:04}", self.0 / Rate::SCALE, self.0 % Rate::SCALE)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

/// An exact non-negative fraction with a positive denominator.
#[derive(Clone, Copy, Debug)]
struct Fraction {
    num: u128,
    den: u128,
}

impl Fraction {
    fn new(num: u128, den: u128) -> Option<Fraction> {
        (den > 0).then(|| {
            let g = gcd(num, den);
            Fraction {
                num: num / g,
                den: den / g,
            }
        })
    }

    /// Half up to 4 decimals: ⌊(2·num·10⁴ + den) / (2·den)⌋.
    fn rounded(self) -> Rate {
        let scaled = (2 * self.num * u128::from(Rate::SCALE) + self.den) / (2 * self.den);
        Rate(u32::try_from(scaled).expect("a rate is a fraction of at most 1"))
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// 响应率 = accepted tickets first contacted by their contact deadline ÷ accepted tickets
/// (DESIGN.md section 6).
fn response(t: &Tally) -> Option<Fraction> {
    Fraction::new(t.responded_on_time.into(), t.accepted.into())
}

/// 解决率 = tickets whose current outcome is resolved ÷ tickets resolved or explained at
/// least once (DESIGN.md section 6; disposals have no outcome, rule 2).
fn resolution(t: &Tally) -> Option<Fraction> {
    Fraction::new(t.resolved_now.into(), t.with_outcome.into())
}

/// 满意率 = (very satisfied + satisfied + 0.9 × basically satisfied) ÷ rated tickets
/// (DESIGN.md section 6): the weights are in tenths, so the denominator is too.
fn satisfaction(t: &Tally) -> Option<Fraction> {
    Fraction::new(t.rating_score_tenths.into(), u128::from(t.rated) * 10)
}

/// Rating rate = rated ÷ tickets with an outcome, so unrated tickets cannot hide
/// (DESIGN.md section 6; rule 7).
fn rating(t: &Tally) -> Option<Fraction> {
    Fraction::new(t.rated.into(), t.with_outcome.into())
}

/// On-time rate = tickets whose first resolve or explain came by the resolve deadline ÷
/// tickets with an outcome (DESIGN.md section 6).
fn on_time(t: &Tally) -> Option<Fraction> {
    Fraction::new(t.on_time.into(), t.with_outcome.into())
}

/// Withdrawal rate = withdrawn ÷ received (DESIGN.md section 6 and rule 10: pressure to
/// withdraw, 劝撤, shows). Over everything received, as the withdrawals may come at any
/// stage, before acceptance too.
fn withdrawal(t: &Tally) -> Option<Fraction> {
    Fraction::new(t.withdrawn.into(), t.received.into())
}

/// The composite score: the weighted mean of 响应率, 解决率 and 满意率 with the weights in
/// percent (DESIGN.md section 6, 参照 the 接诉即办 三率 practice), from the exact fractions,
/// rounded once; `None` unless all three rates exist.
///
/// Exact while each count stays below 2³² tickets; beyond that the u128 arithmetic would
/// overflow, which panics rather than give a wrong score.
fn score(t: &Tally, w: &Weights) -> Option<Rate> {
    let parts = [
        (w.response, response(t)?),
        (w.resolution, resolution(t)?),
        (w.satisfaction, satisfaction(t)?),
    ];
    let overflow = "statistics counts below 2^32";
    let den = parts
        .iter()
        .try_fold(u128::from(Weights::TOTAL), |d, (_, f)| d.checked_mul(f.den))
        .expect(overflow);
    let num = parts
        .iter()
        .try_fold(0u128, |sum, (weight, f)| {
            let term = u128::from(*weight)
                .checked_mul(f.num)?
                .checked_mul(den / (u128::from(Weights::TOTAL) * f.den))?;
            sum.checked_add(term)
        })
        .expect(overflow);
    Fraction::new(num, den).map(Fraction::rounded)
}

/// The figures of one group (DESIGN.md section 6): every rate `None` when its denominator
/// is 0, the lower medians, and the composite score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub response_rate: Option<Rate>,
    pub resolution_rate: Option<Rate>,
    pub satisfaction_rate: Option<Rate>,
    pub rating_rate: Option<Rate>,
    pub on_time_rate: Option<Rate>,
    pub withdrawal_rate: Option<Rate>,
    pub median_minutes_to_first_contact: Option<i64>,
    pub median_minutes_to_first_outcome: Option<i64>,
    /// Only for a group with all three rates.
    pub score: Option<Rate>,
}

impl Figures {
    pub fn of(totals: &Totals, weights: &Weights) -> Figures {
        let t = &totals.tally;
        let rate = |f: Option<Fraction>| f.map(Fraction::rounded);
        Figures {
            response_rate: rate(response(t)),
            resolution_rate: rate(resolution(t)),
            satisfaction_rate: rate(satisfaction(t)),
            rating_rate: rate(rating(t)),
            on_time_rate: rate(on_time(t)),
            withdrawal_rate: rate(withdrawal(t)),
            median_minutes_to_first_contact: totals.medians.minutes_to_first_contact,
            median_minutes_to_first_outcome: totals.medians.minutes_to_first_outcome,
            score: score(t, weights),
        }
    }
}

/// The composite score's weights, whole percentages for 响应率, 解决率 and 满意率 that add
/// up to 100 (DESIGN.md section 6: 10/50/40 by default, configurable). A sum other than
/// 100 is refused rather than rescaled: "20/50/40" is a typo more often than a choice, and
/// a score always reads as the stated percentages of the three rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weights {
    response: u32,
    resolution: u32,
    satisfaction: u32,
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum WeightsError {
    #[error(
        "score weights are three whole percentages, response/resolution/satisfaction, such as 10/50/40; found {found} part(s)"
    )]
    Parts { found: usize },
    #[error("score weight {part:?} is not a whole percentage from 0 to 100 (such as 10/50/40)")]
    NotAPercentage { part: String },
    #[error("score weights add up to {sum}, not 100 (such as 10/50/40)")]
    Sum { sum: u32 },
}

impl Weights {
    pub const TOTAL: u32 = 100;

    pub fn new(response: u32, resolution: u32, satisfaction: u32) -> Result<Weights, WeightsError> {
        let sum = response
            .saturating_add(resolution)
            .saturating_add(satisfaction);
        if sum != Weights::TOTAL {
            return Err(WeightsError::Sum { sum });
        }
        Ok(Weights {
            response,
            resolution,
            satisfaction,
        })
    }

    pub fn response(&self) -> u32 {
        self.response
    }

    pub fn resolution(&self) -> u32 {
        self.resolution
    }

    pub fn satisfaction(&self) -> u32 {
        self.satisfaction
    }
}

/// 10% 响应率 + 50% 解决率 + 40% 满意率 (DESIGN.md section 6).
impl Default for Weights {
    fn default() -> Weights {
        Weights {
            response: 10,
            resolution: 50,
            satisfaction: 40,
        }
    }
}

/// `10/50/40`: three whole percentages separated by `/`, spaces around each allowed.
impl FromStr for Weights {
    type Err = WeightsError;

    fn from_str(s: &str) -> Result<Weights, WeightsError> {
        let parts: Vec<&str> = s.split('/').map(str::trim).collect();
        let [response, resolution, satisfaction] = parts[..] else {
            return Err(WeightsError::Parts { found: parts.len() });
        };
        let percent = |part: &str| {
            part.parse::<u32>()
                .ok()
                .filter(|p| *p <= Weights::TOTAL && part.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| WeightsError::NotAPercentage {
                    part: part.to_owned(),
                })
        };
        Weights::new(
            percent(response)?,
            percent(resolution)?,
            percent(satisfaction)?,
        )
    }
}

impl fmt::Display for Weights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.response, self.resolution, self.satisfaction
        )
    }
}

// ---------------------------------------------------------------------------------------
// 4. Ranking
// ---------------------------------------------------------------------------------------

/// A place in the ranking; `rank` is `None` for a group without a score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranked<K> {
    pub key: K,
    pub score: Option<Rate>,
    pub rank: Option<u32>,
}

/// Ranks by composite score, highest first (DESIGN.md section 6): only groups with a score
/// are ranked, and equal scores share a rank, the next one skipping (1, 1, 3). Scores are
/// compared as published, rounded to 4 decimals, so two groups that read the same share a
/// rank. Ties are listed by key; the unranked follow, by key.
pub fn rank<K: Ord>(scores: impl IntoIterator<Item = (K, Option<Rate>)>) -> Vec<Ranked<K>> {
    let mut rows: Vec<Ranked<K>> = scores
        .into_iter()
        .map(|(key, score)| Ranked {
            key,
            score,
            rank: None,
        })
        .collect();
    // `None` sorts below every score, so descending by score puts the unranked last.
    rows.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
    for i in 0..rows.len() {
        if rows[i].score.is_none() {
            break;
        }
        let rank = if i > 0 && rows[i - 1].score == rows[i].score {
            rows[i - 1].rank
        } else {
            Some(u32::try_from(i + 1).expect("fewer than 2^32 groups"))
        };
        rows[i].rank = rank;
    }
    rows
}

// ---------------------------------------------------------------------------------------
// The whole definition
// ---------------------------------------------------------------------------------------

/// One row of a statistics table: a department (or officer), its totals, figures and rank.
/// The key `None` is the intake queue (for departments) or the unassigned tickets (for
/// officers): shown, never ranked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row<K> {
    pub key: Option<K>,
    pub totals: Totals,
    pub figures: Figures,
    pub rank: Option<u32>,
}

/// Per department, over the tickets received in `period`, each credited to the department
/// holding it now (DESIGN.md section 6), in ranking order ([`rank`]), the intake queue last.
pub fn departments<'a>(
    facts: impl IntoIterator<Item = &'a TicketFacts>,
    period: &Period,
    weights: &Weights,
) -> Vec<Row<DepartmentId>> {
    table(totals_by(facts, period, |f| f.department_id), weights)
}

/// Per officer (the assignee holding each ticket now; DESIGN.md section 6), over the
/// tickets received in `period` and credited to `department` (all when `None`), ranked
/// like departments, the unassigned tickets last.
pub fn officers<'a>(
    facts: impl IntoIterator<Item = &'a TicketFacts>,
    period: &Period,
    department: Option<DepartmentId>,
    weights: &Weights,
) -> Vec<Row<UserId>> {
    let facts = facts
        .into_iter()
        .filter(|f| department.is_none_or(|d| f.department_id == Some(d)));
    table(totals_by(facts, period, |f| f.assignee_id), weights)
}

/// The table of groups from their totals, however they were counted (in memory by
/// [`totals_by`], or by SQL): figures, ranking order, the group `None` last.
pub fn table<K: Ord + Copy>(groups: BTreeMap<Option<K>, Totals>, weights: &Weights) -> Vec<Row<K>> {
    let figures: BTreeMap<Option<K>, Figures> = groups
        .iter()
        .map(|(k, totals)| (*k, Figures::of(totals, weights)))
        .collect();
    let ranked = rank(figures.iter().filter_map(|(k, f)| k.map(|k| (k, f.score))));
    let row = |key: Option<K>, rank: Option<u32>| Row {
        key,
        totals: groups[&key],
        figures: figures[&key],
        rank,
    };
    let mut table: Vec<Row<K>> = ranked
        .into_iter()
        .map(|r| row(Some(r.key), r.rank))
        .collect();
    if groups.contains_key(&None) {
        table.push(row(None, None));
    }
    table
}

/// 协办 (issue 13): what a department was asked to co-handle over a period, shown beside
/// the 三率 and not part of the composite score (the lead answers for the result): the
/// requests made in the period (`requested_at`), those whose first reply came by the reply
/// limit, those replied late, and those ended unanswered (the lead resolved or explained,
/// or the ticket was withdrawn or closed, first: counted against the department). A
/// request still open, or ended because the department became the lead, is received only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CoHandlingTally {
    pub received: u64,
    pub replied_on_time: u64,
    pub replied_late: u64,
    pub not_replied: u64,
}

impl CoHandlingTally {
    /// Counts one request.
    pub fn add(&mut self, request: &crate::ticket::CoHandler) {
        use crate::ticket::CoHandlingStatus;
        self.received += 1;
        match request.replied_on_time() {
            Some(true) => self.replied_on_time += 1,
            Some(false) => self.replied_late += 1,
            None if request.status() == CoHandlingStatus::NotReplied => self.not_replied += 1,
            None => {}
        }
    }
}

/// [`CoHandlingTally`] per department asked, over the requests made in `period` on
/// `tickets`: the definition SQL is held to.
pub fn co_handling<'a>(
    tickets: impl IntoIterator<Item = &'a Ticket>,
    period: &Period,
) -> BTreeMap<DepartmentId, CoHandlingTally> {
    let mut out: BTreeMap<DepartmentId, CoHandlingTally> = BTreeMap::new();
    for request in tickets
        .into_iter()
        .flat_map(|t| &t.co_handlers)
        .filter(|c| period.contains(c.requested_at))
    {
        out.entry(request.department_id).or_default().add(request);
    }
    out
}

#[cfg(test)]
mod tests {
    //! Tickets are built by driving the real domain (`submit`, `decide`, `apply`), so the
    //! facts are read from real histories.

    use chrono::{Duration, FixedOffset, TimeZone};
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;
    use crate::actor::{Actor, User};
    use crate::ticket::{Command, NewTicket, Rules, apply, decide, submit};
    use crate::values::{
        Body, CategoryCode, ContactMethod, Description, Disposition, DispositionExplanation,
        EnterpriseId, Explanation, InfoItem, Kind, Reason, ResultText, Role, TicketNumber, Title,
        Urgency,
    };

    /// A county in miniature: one enterprise, two departments, an officer in each (and a
    /// colleague in the first), a supervisor. Utilities tickets go to department 1, with
    /// the utilities class's clock limits: accept 30 min, contact 2 h, resolve 24 h.
    struct County {
        rules: Rules,
        d1: DepartmentId,
        d2: DepartmentId,
        enterprise: Actor,
        officer: Actor,
        colleague: Actor,
        other_officer: Actor,
        supervisor: Actor,
    }

    fn user(n: u128, role: Role) -> User {
        User {
            id: UserId::from_uuid(Uuid::from_u128(n)),
            role,
            department_id: None,
            enterprise_id: None,
            stationed_at: Vec::new(),
        }
    }

    impl County {
        fn new() -> County {
            let d1 = DepartmentId::from_uuid(Uuid::from_u128(0xD1));
            let d2 = DepartmentId::from_uuid(Uuid::from_u128(0xD2));
            let mut rules = Rules::defaults();
            rules
                .categories
                .insert(CategoryCode::parse("utilities").unwrap(), Some(d1));
            let in_department = |n, d| {
                let mut u = user(n, Role::Officer);
                u.department_id = Some(d);
                Actor::User(u)
            };
            let mut enterprise = user(1, Role::Enterprise);
            enterprise.enterprise_id = Some(EnterpriseId::from_uuid(Uuid::from_u128(0xE1)));
            County {
                rules,
                d1,
                d2,
                enterprise: Actor::User(enterprise),
                officer: in_department(5, d1),
                colleague: in_department(6, d1),
                other_officer: in_department(7, d2),
                supervisor: Actor::User(user(8, Role::Supervisor)),
            }
        }

        /// A utilities ticket of `kind`, filed by the enterprise at `at`.
        fn file(&self, seq: u64, kind: Kind, category: &str, at: DateTime<Utc>) -> Story<'_> {
            let new = NewTicket {
                id: TicketId::from_uuid(Uuid::from_u128(
                    0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(seq),
                ))
                .unwrap(),
                number: TicketNumber::new(2026, seq).unwrap(),
                enterprise_id: None,
                kind,
                urgency: Some(Urgency::Utilities),
                category: CategoryCode::parse(category).unwrap(),
                title: Title::parse("停电影响生产").unwrap(),
                description: Description::parse("厂区自昨晚起停电，三条产线停工。").unwrap(),
            };
            let submitted = submit(new, &self.enterprise, at, &self.rules).expect("filed");
            Story {
                county: self,
                ticket: Ticket::replay(std::slice::from_ref(&submitted)).unwrap(),
                events: vec![submitted],
            }
        }

        fn complaint(&self, seq: u64, at: DateTime<Utc>) -> Story<'_> {
            self.file(seq, Kind::Complaint, "utilities", at)
        }

        /// The officer of the department holding `ticket` (department 1 by default).
        fn officer_of(&self, ticket: &Ticket) -> &Actor {
            if ticket.department_id == Some(self.d2) {
                &self.other_officer
            } else {
                &self.officer
            }
        }
    }

    /// One ticket's history, kept as the shell keeps it: the snapshot and the timeline.
    struct Story<'c> {
        county: &'c County,
        ticket: Ticket,
        events: Vec<Event>,
    }

    impl Story<'_> {
        fn then(&mut self, command: Command, actor: &Actor, at: DateTime<Utc>) -> &mut Self {
            let name = command.name();
            let events = decide(&self.ticket, command, actor, at, &self.county.rules)
                .unwrap_or_else(|e| panic!("cannot {name}: {e}"));
            self.ticket = apply(self.ticket.clone(), &events);
            self.events.extend(events);
            self
        }

        /// The ticket's officer does it.
        fn by_officer(&mut self, command: Command, at: DateTime<Utc>) -> &mut Self {
            let officer = self.county.officer_of(&self.ticket).clone();
            self.then(command, &officer, at)
        }

        fn by_enterprise(&mut self, command: Command, at: DateTime<Utc>) -> &mut Self {
            let enterprise = self.county.enterprise.clone();
            self.then(command, &enterprise, at)
        }

        fn by_supervisor(&mut self, command: Command, at: DateTime<Utc>) -> &mut Self {
            let supervisor = self.county.supervisor.clone();
            self.then(command, &supervisor, at)
        }

        fn facts(&self, now: DateTime<Utc>) -> TicketFacts {
            TicketFacts::of(&self.ticket, &self.events, now)
        }
    }

    /// 2026-03-`day` `h`:`m` +08:00 (Monday 2026-03-02 is a working day).
    fn at(day: u32, h: u32, m: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 3, day, h, m, 0)
            .unwrap()
            .to_utc()
    }

    fn march() -> Period {
        Period::new(
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
        )
        .unwrap()
    }

    fn reason(s: &str) -> Reason {
        Reason::parse(s).unwrap()
    }

    fn accept() -> Command {
        Command::Accept {
            department_id: None,
            assignee: None,
            urgency: None,
            resolve_with: None,
        }
    }

    fn contact() -> Command {
        Command::Contact {
            method: ContactMethod::Phone,
            summary: Body::parse("电话联系企业负责人了解停电情况").unwrap(),
        }
    }

    fn result_text() -> ResultText {
        ResultText::parse("已协调供电公司于当日下午恢复厂区供电。").unwrap()
    }

    fn resolve() -> Command {
        Command::Resolve {
            result: result_text(),
        }
    }

    fn explain() -> Command {
        Command::Explain {
            explanation: Explanation::parse(
                &"受现行政策限制，该事项暂无法办理，已向企业详细说明政策依据和后续可行路径。"
                    .repeat(2),
            )
            .unwrap(),
            policy_basis: reason("相关政策文件"),
            plan: None,
        }
    }

    fn rate(level: RatingLevel) -> Command {
        Command::Rate {
            level,
            comment: None,
        }
    }

    fn appeal() -> Command {
        Command::Appeal {
            reason: reason("评价与办理无关"),
        }
    }

    fn decide_appeal(uphold: bool) -> Command {
        Command::DecideAppeal { uphold, note: None }
    }

    fn withdraw() -> Command {
        Command::Withdraw {
            reason: reason("已自行解决"),
        }
    }

    fn dispose() -> Command {
        Command::Dispose {
            disposition: Disposition::Redirect,
            explanation: DispositionExplanation::parse(
                "该诉求属于司法程序事项，已告知企业通过法院途径依法解决。",
            )
            .unwrap(),
            duplicate_of: None,
        }
    }

    fn transfer(to: DepartmentId) -> Command {
        Command::Transfer {
            department_id: to,
            reason: reason("职能调整"),
        }
    }

    fn request_info() -> Command {
        Command::RequestInfo {
            items: vec![InfoItem::parse("电费缴纳凭证").unwrap()],
            note: None,
        }
    }

    fn tally(facts: &[TicketFacts]) -> Tally {
        let mut t = Tally::default();
        for f in facts {
            t.add(f);
        }
        t
    }

    fn figures(facts: &[TicketFacts]) -> Figures {
        let totals = totals_by(facts, &march(), |_| ());
        Figures::of(
            &totals.get(&()).copied().unwrap_or_default(),
            &Weights::default(),
        )
    }

    fn rate_of(n: u64, d: u64) -> Option<Rate> {
        Rate::of(n, d)
    }

    // ----- rates and their denominators ------------------------------------------------

    /// DESIGN.md section 6: a rate is `null` when its denominator is 0, and the score needs
    /// all three rates.
    #[test]
    fn rates_without_a_denominator_are_none() {
        let nothing = Figures::of(&Totals::default(), &Weights::default());
        assert_eq!(
            nothing,
            Figures {
                response_rate: None,
                resolution_rate: None,
                satisfaction_rate: None,
                rating_rate: None,
                on_time_rate: None,
                withdrawal_rate: None,
                median_minutes_to_first_contact: None,
                median_minutes_to_first_outcome: None,
                score: None,
            }
        );

        // Received only: the withdrawal rate has its denominator, nothing else does.
        let c = County::new();
        let filed = c.complaint(1, at(2, 9, 0)).facts(at(2, 9, 5));
        let f = figures(&[filed]);
        assert_eq!(f.withdrawal_rate, rate_of(0, 1));
        assert_eq!(
            (f.response_rate, f.resolution_rate, f.satisfaction_rate),
            (None, None, None)
        );
        assert_eq!((f.rating_rate, f.on_time_rate, f.score), (None, None, None));

        // Accepted and resolved but never rated: no 满意率, so no score and no rank.
        let mut s = c.complaint(2, at(2, 9, 0));
        s.by_officer(accept(), at(2, 9, 10))
            .by_officer(resolve(), at(2, 10, 0));
        let f = figures(&[s.facts(at(2, 11, 0))]);
        assert_eq!(f.response_rate, rate_of(1, 1));
        assert_eq!(f.resolution_rate, rate_of(1, 1));
        assert_eq!(f.rating_rate, rate_of(0, 1), "unrated tickets cannot hide");
        assert_eq!((f.satisfaction_rate, f.score), (None, None));
    }

    /// 响应率 (DESIGN.md section 6): first contact before the contact deadline passes; at
    /// its instant the ticket is already overdue. A result fed back before any contact is
    /// the first response (当场办结). Tickets never accepted are not in the denominator.
    #[test]
    fn response_rate_counts_the_first_contact_against_the_contact_deadline() {
        let c = County::new();
        // Received 09:00: the contact deadline is 11:00.
        let mut on_time = c.complaint(1, at(2, 9, 0));
        on_time
            .by_officer(accept(), at(2, 9, 10))
            .by_officer(contact(), at(2, 10, 59))
            .by_officer(contact(), at(2, 12, 0));
        let mut at_deadline = c.complaint(2, at(2, 9, 0));
        at_deadline
            .by_officer(accept(), at(2, 9, 10))
            .by_officer(contact(), at(2, 11, 0));
        let mut never = c.complaint(3, at(2, 9, 0));
        never.by_officer(accept(), at(2, 9, 10));
        let mut answered_at_once = c.file(4, Kind::Consultation, "utilities", at(2, 9, 0));
        answered_at_once.by_officer(
            Command::Accept {
                department_id: None,
                assignee: None,
                urgency: None,
                resolve_with: Some(result_text()),
            },
            at(2, 9, 10),
        );
        let not_accepted = c.complaint(5, at(2, 9, 0));

        let now = at(2, 13, 0);
        let facts: Vec<TicketFacts> = [on_time, at_deadline, never, answered_at_once, not_accepted]
            .iter()
            .map(|s| s.facts(now))
            .collect();
        let responded: Vec<bool> = facts.iter().map(|f| f.responded_on_time).collect();
        assert_eq!(responded, [true, false, false, true, false]);
        let minutes: Vec<Option<i64>> = facts.iter().map(|f| f.minutes_to_first_contact).collect();
        assert_eq!(minutes, [Some(119), Some(120), None, Some(10), None]);

        let t = tally(&facts);
        assert_eq!((t.accepted, t.responded_on_time), (4, 2));
        let f = figures(&facts);
        assert_eq!(f.response_rate, rate_of(1, 2));
        // Lower median of 10, 119, 120.
        assert_eq!(f.median_minutes_to_first_contact, Some(119));
    }

    /// 解决率 (DESIGN.md section 6, rule 7): a ticket reopened by a bad rating counts as
    /// unresolved until resolved again; its first outcome, its bad rating and its
    /// supervision count meanwhile; the on-time rate judges its first outcome only.
    #[test]
    fn a_ticket_reopened_by_a_bad_rating_is_unresolved_until_resolved_again() {
        let c = County::new();
        let mut s = c.complaint(1, at(2, 9, 0));
        s.by_officer(accept(), at(2, 9, 10))
            .by_officer(contact(), at(2, 9, 30))
            .by_officer(resolve(), at(2, 15, 0))
            .by_enterprise(rate(RatingLevel::Dissatisfied), at(3, 10, 0));
        let reopened = s.facts(at(3, 11, 0));
        assert_eq!(s.ticket.redo_count, 1);
        assert!(reopened.has_outcome && !reopened.resolved_now);
        assert_eq!(reopened.rating, Some(RatingLevel::Dissatisfied));
        assert_eq!(reopened.rating_score_tenths, 0);
        assert!(reopened.on_time, "the first resolve came in time");
        assert!(reopened.supervised_now, "a bad rating escalates (提级督办)");
        assert_eq!(reopened.minutes_to_first_outcome, Some(6 * 60));
        let f = figures(std::slice::from_ref(&reopened));
        assert_eq!(f.resolution_rate, rate_of(0, 1));
        assert_eq!(f.satisfaction_rate, rate_of(0, 1));
        assert_eq!(f.rating_rate, rate_of(1, 1));

        // The redo's own deadline (24 h from the rating) is missed: the first round was
        // on time, and that is what the on-time rate judges.
        s.by_officer(resolve(), at(5, 9, 0));
        let resolved_again = s.facts(at(5, 10, 0));
        assert!(resolved_again.resolved_now && resolved_again.on_time);
        assert_eq!(resolved_again.minutes_to_first_outcome, Some(6 * 60));
        assert!(!resolved_again.supervised_now, "no longer in hand");
        assert_eq!(figures(&[resolved_again]).resolution_rate, rate_of(1, 1));

        s.by_enterprise(rate(RatingLevel::Satisfied), at(5, 11, 0));
        let closed = s.facts(at(6, 0, 0));
        assert_eq!(closed.rating, Some(RatingLevel::Satisfied));
        assert_eq!(closed.rating_score_tenths, 10);
        assert_eq!(figures(&[closed]).satisfaction_rate, rate_of(1, 1));
    }

    /// DESIGN.md section 6: on time means the first resolve or explain before the first
    /// round's resolve deadline passed, whatever a redo does; an explanation is an outcome
    /// but not a resolution.
    #[test]
    fn the_on_time_rate_judges_the_first_outcome() {
        let c = County::new();
        // Received 09:00 on 03-02: the resolve deadline is 09:00 on 03-03.
        let mut late = c.complaint(1, at(2, 9, 0));
        late.by_officer(accept(), at(2, 9, 10))
            .by_officer(resolve(), at(3, 9, 0))
            .by_enterprise(rate(RatingLevel::VeryDissatisfied), at(3, 10, 0))
            .by_officer(resolve(), at(3, 11, 0));
        let mut explained = c.complaint(2, at(2, 9, 0));
        explained
            .by_officer(accept(), at(2, 9, 10))
            .by_officer(explain(), at(3, 8, 59));
        let now = at(3, 12, 0);
        let (late, explained) = (late.facts(now), explained.facts(now));
        assert!(!late.on_time && late.resolved_now);
        assert!(explained.on_time && explained.has_outcome && !explained.resolved_now);
        let f = figures(&[late, explained]);
        assert_eq!(f.on_time_rate, rate_of(1, 2));
        assert_eq!(f.resolution_rate, rate_of(1, 2));
        // Lower median of 1439 and 1440 minutes.
        assert_eq!(f.median_minutes_to_first_outcome, Some(1439));
    }

    // ----- ratings and appeals ---------------------------------------------------------

    /// 满意率 (DESIGN.md section 6): very satisfied and satisfied count 1, basically
    /// satisfied 0.9, exactly.
    #[test]
    fn satisfaction_weighs_basically_satisfied_at_nine_tenths() {
        let c = County::new();
        let levels = [
            RatingLevel::VerySatisfied,
            RatingLevel::Satisfied,
            RatingLevel::BasicallySatisfied,
        ];
        let facts: Vec<TicketFacts> = levels
            .iter()
            .enumerate()
            .map(|(i, level)| {
                let mut s = c.complaint(i as u64 + 1, at(2, 9, 0));
                s.by_officer(accept(), at(2, 9, 10))
                    .by_officer(resolve(), at(2, 10, 0))
                    .by_enterprise(rate(*level), at(2, 11, 0));
                s.facts(at(2, 12, 0))
            })
            .collect();
        assert_eq!(tally(&facts).rating_score_tenths, 29);
        let f = figures(&facts);
        assert_eq!(f.satisfaction_rate, rate_of(29, 30));
        assert_eq!(f.satisfaction_rate.unwrap().to_string(), "0.9667");
    }

    /// Resolved at 10:00, rated `level` at 11:00.
    fn rated(c: &County, seq: u64, level: RatingLevel) -> Story<'_> {
        let mut s = c.complaint(seq, at(2, 9, 0));
        s.by_officer(accept(), at(2, 9, 10))
            .by_officer(resolve(), at(2, 10, 0))
            .by_enterprise(rate(level), at(2, 11, 0));
        s
    }

    /// DESIGN.md rule 7 and section 6: an upheld appeal removes the rating from the
    /// statistics (the redo stays); a rejected one keeps it; a pending one keeps it.
    #[test]
    fn an_upheld_appeal_removes_the_rating_and_a_rejected_one_keeps_it() {
        let c = County::new();
        let now = at(2, 15, 0);

        let mut upheld = rated(&c, 1, RatingLevel::VeryDissatisfied);
        upheld
            .by_officer(appeal(), at(2, 12, 0))
            .by_supervisor(decide_appeal(true), at(2, 13, 0));
        let upheld = upheld.facts(now);
        assert_eq!((upheld.rating, upheld.rating_score_tenths), (None, 0));
        assert!(upheld.has_outcome && !upheld.resolved_now, "the redo stays");

        let mut rejected = rated(&c, 2, RatingLevel::VeryDissatisfied);
        rejected
            .by_officer(appeal(), at(2, 12, 0))
            .by_supervisor(decide_appeal(false), at(2, 13, 0));
        assert_eq!(
            rejected.facts(now).rating,
            Some(RatingLevel::VeryDissatisfied)
        );

        let mut pending = rated(&c, 3, RatingLevel::Dissatisfied);
        pending.by_officer(appeal(), at(2, 12, 0));
        assert_eq!(pending.facts(now).rating, Some(RatingLevel::Dissatisfied));

        // A good rating can be appealed too; upheld, the closed ticket is unrated.
        let mut good = rated(&c, 4, RatingLevel::BasicallySatisfied);
        good.by_officer(appeal(), at(2, 12, 0))
            .by_supervisor(decide_appeal(true), at(2, 13, 0));
        assert_eq!(good.facts(now).rating, None);

        let t = tally(&[
            upheld,
            rejected.facts(now),
            pending.facts(now),
            good.facts(now),
        ]);
        assert_eq!((t.with_outcome, t.rated, t.rating_score_tenths), (4, 2, 0));
    }

    /// DESIGN.md section 6: "each ticket's latest rating that no upheld appeal removed":
    /// when the latest is removed, the one before it counts.
    #[test]
    fn a_removed_latest_rating_lets_the_one_before_it_count() {
        let c = County::new();
        let mut s = rated(&c, 1, RatingLevel::Dissatisfied);
        s.by_officer(resolve(), at(3, 9, 0))
            .by_enterprise(rate(RatingLevel::VeryDissatisfied), at(3, 10, 0))
            .by_officer(appeal(), at(3, 11, 0))
            .by_supervisor(decide_appeal(true), at(3, 12, 0));
        assert_eq!(s.ticket.redo_count, 2);
        assert_eq!(
            s.facts(at(3, 13, 0)).rating,
            Some(RatingLevel::Dissatisfied)
        );
    }

    // ----- withdrawals, disposals, transfers --------------------------------------------

    /// DESIGN.md rule 10 and section 6: withdrawals are counted, before acceptance and
    /// during a redo alike, and a withdrawn redo stays unresolved.
    #[test]
    fn withdrawals_count_and_hide_nothing() {
        let c = County::new();
        let mut early = c.complaint(1, at(2, 9, 0));
        early.by_enterprise(withdraw(), at(2, 9, 5));
        let mut redo = rated(&c, 2, RatingLevel::Dissatisfied);
        redo.by_enterprise(withdraw(), at(2, 12, 0));
        let kept = rated(&c, 3, RatingLevel::Satisfied);

        let now = at(2, 13, 0);
        let (early, redo, kept) = (early.facts(now), redo.facts(now), kept.facts(now));
        assert!(early.withdrawn && !early.accepted && !early.has_outcome);
        assert!(redo.withdrawn && redo.has_outcome && !redo.resolved_now);
        assert_eq!(redo.rating, Some(RatingLevel::Dissatisfied));
        assert!(
            !redo.supervised_now && !redo.overdue_now,
            "withdrawn is final"
        );

        let t = tally(&[early, redo, kept]);
        assert_eq!((t.received, t.withdrawn, t.accepted), (3, 2, 2));
        let f = Figures::of(
            &Totals {
                tally: t,
                medians: Medians::default(),
            },
            &Weights::default(),
        );
        assert_eq!(f.withdrawal_rate, rate_of(2, 3));
        assert_eq!(f.resolution_rate, rate_of(1, 2));
    }

    /// DESIGN.md rule 2 and section 6: a disposal is counted as received (and disposed)
    /// only, even one escalated while it waited.
    #[test]
    fn disposals_count_as_received_only() {
        let c = County::new();
        let mut s = c.complaint(1, at(2, 9, 0));
        s.by_officer(dispose(), at(2, 9, 20));
        let facts = s.facts(at(2, 12, 0));
        assert_eq!(
            facts,
            TicketFacts {
                ticket_id: s.ticket.id,
                received_at: at(2, 9, 0),
                department_id: Some(c.d1),
                assignee_id: None,
                disposed: true,
                accepted: false,
                withdrawn: false,
                responded_on_time: false,
                resolved_now: false,
                has_outcome: false,
                rating: None,
                rating_score_tenths: 0,
                on_time: false,
                minutes_to_first_contact: None,
                minutes_to_first_outcome: None,
                overdue_now: false,
                supervised_now: false,
            }
        );
        assert_eq!(
            tally(&[facts]),
            Tally {
                received: 1,
                disposed: 1,
                ..Tally::default()
            }
        );
    }

    /// DESIGN.md section 6: a ticket is credited to the department and assignee holding it
    /// when the statistics are computed, not to those it passed through.
    #[test]
    fn a_transferred_ticket_is_credited_where_it_is_now() {
        let c = County::new();
        let mut s = c.complaint(1, at(2, 9, 0));
        s.by_officer(accept(), at(2, 9, 10))
            .by_officer(transfer(c.d2), at(2, 9, 30));
        let facts = s.facts(at(2, 10, 0));
        assert_eq!((facts.department_id, facts.assignee_id), (Some(c.d2), None));
        let table = departments([&facts], &march(), &Weights::default());
        assert_eq!(table.len(), 1);
        assert_eq!(table[0].key, Some(c.d2));
        assert_eq!(table[0].totals.tally.received, 1);

        let other = c.other_officer.user().unwrap().clone();
        s.by_officer(Command::Assign { assignee: other }, at(2, 10, 0))
            .by_officer(contact(), at(2, 10, 30));
        let facts = s.facts(at(2, 11, 0));
        let table = officers([&facts], &march(), Some(c.d2), &Weights::default());
        assert_eq!(table.len(), 1);
        assert_eq!(table[0].key, c.other_officer.id());
        assert_eq!(table[0].figures.response_rate, rate_of(1, 1));
        assert!(officers([&facts], &march(), Some(c.d1), &Weights::default()).is_empty());
    }

    // ----- overdue and supervised now --------------------------------------------------

    /// DESIGN.md section 6 "overdue now": an open deadline passed unmet at `now`, the
    /// clock stopped while awaiting information, nothing once answered; the same rule as
    /// the stored `overdue_at` SQL reads.
    #[test]
    fn overdue_now_follows_the_open_deadlines() {
        let c = County::new();
        let mut s = c.complaint(1, at(2, 9, 0));
        s.by_officer(accept(), at(2, 9, 10));
        assert!(!s.facts(at(2, 10, 59)).overdue_now);
        assert!(s.facts(at(2, 11, 0)).overdue_now, "contact deadline 11:00");
        s.by_officer(contact(), at(2, 11, 30));
        assert!(!s.facts(at(2, 12, 0)).overdue_now);
        assert!(
            s.facts(at(3, 9, 0)).overdue_now,
            "resolve deadline 03-03 09:00"
        );

        let mut paused = c.complaint(2, at(2, 9, 0));
        paused
            .by_officer(accept(), at(2, 9, 10))
            .by_officer(request_info(), at(2, 10, 0));
        assert!(
            !paused.facts(at(4, 0, 0)).overdue_now,
            "the clock is stopped"
        );

        s.by_officer(resolve(), at(3, 10, 0));
        let answered = s.facts(at(4, 0, 0));
        assert!(!answered.overdue_now && !answered.on_time);
        for (story, now) in [(&s, at(4, 0, 0)), (&paused, at(4, 0, 0))] {
            let t = &story.ticket;
            assert_eq!(
                story.facts(now).overdue_now,
                t.overdue_since().is_some_and(|since| since <= now)
            );
        }
    }

    // ----- arithmetic --------------------------------------------------------------------

    /// DESIGN.md section 6: fractions rounded to 4 decimals, here half up, once.
    #[test]
    fn rates_round_half_up_to_four_decimals() {
        let shown = |n, d| Rate::of(n, d).map(|r| r.to_string());
        assert_eq!(shown(1, 3).as_deref(), Some("0.3333"));
        assert_eq!(shown(2, 3).as_deref(), Some("0.6667"));
        assert_eq!(shown(1, 8).as_deref(), Some("0.1250"));
        assert_eq!(shown(1, 20_000).as_deref(), Some("0.0001"), "half up");
        assert_eq!(shown(1, 20_001).as_deref(), Some("0.0000"));
        assert_eq!(shown(7, 7).as_deref(), Some("1.0000"));
        assert_eq!(shown(0, 7).as_deref(), Some("0.0000"));
        assert_eq!(Rate::of(0, 0), None);
        assert_eq!(
            serde_json::to_string(&Rate::of(2, 3)).unwrap(),
            "0.6667",
            "a JSON number"
        );
        assert_eq!(Rate::from_ten_thousandths(10_001), None);
    }

    /// The score comes from the exact rates, rounded once: 0.1·⅓ + 0.5·⅔ + 0.4·29/30 =
    /// 0.75333…, where the rounded rates would give 0.75336.
    #[test]
    fn the_score_is_rounded_once_from_the_exact_rates() {
        let tally = Tally {
            received: 3,
            accepted: 3,
            responded_on_time: 1,
            with_outcome: 3,
            resolved_now: 2,
            rated: 3,
            rating_score_tenths: 29,
            ..Tally::default()
        };
        let totals = Totals {
            tally,
            medians: Medians::default(),
        };
        let f = Figures::of(&totals, &Weights::default());
        assert_eq!(f.score.unwrap().to_string(), "0.7533");
        let equal = Figures::of(&totals, &"0/100/0".parse().unwrap());
        assert_eq!(equal.score, f.resolution_rate);
    }

    /// DESIGN.md section 6: the lower median, a value that occurred.
    #[test]
    fn the_lower_median() {
        assert_eq!(lower_median(vec![]), None);
        assert_eq!(lower_median(vec![5]), Some(5));
        assert_eq!(lower_median(vec![2, 1]), Some(1));
        assert_eq!(lower_median(vec![3, 1, 2]), Some(2));
        assert_eq!(lower_median(vec![4, 1, 3, 2]), Some(2));
        assert_eq!(lower_median(vec![7, 7, 1, 7]), Some(7));
    }

    /// DESIGN.md section 6: `from` inclusive, `to` exclusive, dates in +08:00.
    #[test]
    fn the_period_runs_from_midnight_to_midnight_in_the_county() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let p = march();
        assert!(
            p.contains(at(1, 0, 0)),
            "00:00 +08:00 is 16:00 UTC the day before"
        );
        assert!(!p.contains(at(1, 0, 0) - Duration::seconds(1)));
        assert!(p.contains(at(31, 23, 59)));
        assert!(!p.contains(p.ends_at()));
        assert_eq!(p.ends_at(), start_of_day(day(4, 1)));
        assert!(Period::new(day(3, 2), day(3, 1)).is_err());
        assert!(
            !Period::new(day(3, 2), day(3, 2))
                .unwrap()
                .contains(at(2, 9, 0))
        );

        let c = County::new();
        let inside = c.complaint(1, at(1, 0, 0)).facts(at(2, 0, 0));
        let before = c
            .complaint(2, at(1, 0, 0) - Duration::minutes(1))
            .facts(at(2, 0, 0));
        let totals = totals_by([&inside, &before], &p, |f| f.department_id);
        assert_eq!(totals[&Some(c.d1)].tally.received, 1);
    }

    /// `GET /v1/stats/trend` (DESIGN.md section 7): days, weeks from Monday and calendar
    /// months of the county, each bucket clipped to the period.
    #[test]
    fn buckets_cut_the_period_by_the_county_calendar() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let period = |a, b| Period::new(a, b).unwrap();
        // 2026-03-04 is a Wednesday.
        assert_eq!(
            period(day(3, 4), day(3, 20)).buckets(Bucket::Week),
            vec![
                period(day(3, 4), day(3, 9)),
                period(day(3, 9), day(3, 16)),
                period(day(3, 16), day(3, 20)),
            ]
        );
        assert_eq!(
            period(day(1, 15), day(3, 2)).buckets(Bucket::Month),
            vec![
                period(day(1, 15), day(2, 1)),
                period(day(2, 1), day(3, 1)),
                period(day(3, 1), day(3, 2)),
            ]
        );
        assert_eq!(
            period(day(2, 27), day(3, 2)).buckets(Bucket::Day),
            vec![
                period(day(2, 27), day(2, 28)),
                period(day(2, 28), day(3, 1)),
                period(day(3, 1), day(3, 2)),
            ]
        );
        assert!(period(day(3, 4), day(3, 4)).buckets(Bucket::Day).is_empty());
        // A Sunday belongs to the week that began the Monday before.
        assert_eq!(Bucket::Week.start_of(day(3, 8)), day(3, 2));
        assert_eq!(Bucket::Week.start_of(day(3, 9)), day(3, 9));
        assert_eq!(
            Bucket::Month.after(day(12, 31)),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
        assert_eq!("week".parse::<Bucket>(), Ok(Bucket::Week));
        for bad in ["Week", "year", "", "day "] {
            assert_eq!(
                bad.parse::<Bucket>().map_err(|e| e.code()),
                Err("unknown_value"),
                "{bad:?}"
            );
        }
    }

    // ----- weights and ranking -----------------------------------------------------------

    /// DESIGN.md section 6: weights configurable, default 10/50/40; they must add up to
    /// 100, and a bad value says what is wrong.
    #[test]
    fn weights_parse_from_three_percentages() {
        assert_eq!("10/50/40".parse::<Weights>(), Ok(Weights::default()));
        assert_eq!(Weights::default().to_string(), "10/50/40");
        let w: Weights = " 20 / 40 / 40 ".parse().unwrap();
        assert_eq!(
            (w.response(), w.resolution(), w.satisfaction()),
            (20, 40, 40)
        );
        assert_eq!("0/100/0".parse::<Weights>().unwrap().to_string(), "0/100/0");
        assert_eq!(
            "10/50".parse::<Weights>(),
            Err(WeightsError::Parts { found: 2 })
        );
        assert_eq!(
            "10/50/40/0".parse::<Weights>(),
            Err(WeightsError::Parts { found: 4 })
        );
        for bad in [
            "10/50/x",
            "10/50/",
            "10/50/+40",
            "10/50/40.0",
            "-10/70/40",
            "10/50/400",
        ] {
            assert!(
                matches!(
                    bad.parse::<Weights>(),
                    Err(WeightsError::NotAPercentage { .. })
                ),
                "{bad}"
            );
        }
        let err = "20/50/40".parse::<Weights>().unwrap_err();
        assert_eq!(err, WeightsError::Sum { sum: 110 });
        assert_eq!(
            err.to_string(),
            "score weights add up to 110, not 100 (such as 10/50/40)"
        );
        assert!(Weights::new(u32::MAX, 1, 0).is_err());
    }

    /// DESIGN.md section 6: ranked by score, ties share a rank (1, 1, 3), the unranked
    /// last; ties listed by key.
    #[test]
    fn ties_share_a_rank() {
        let r = |n| Rate::from_ten_thousandths(n);
        let ranked = rank([("d", None), ("c", r(8000)), ("b", r(9000)), ("a", r(9000))]);
        let got: Vec<(&str, Option<u32>)> = ranked.iter().map(|x| (x.key, x.rank)).collect();
        assert_eq!(
            got,
            [("a", Some(1)), ("b", Some(1)), ("c", Some(3)), ("d", None)]
        );
        let ranked = rank([("x", r(5000)), ("y", r(5000)), ("z", r(5000))]);
        assert!(ranked.iter().all(|x| x.rank == Some(1)));
        assert!(rank(Vec::<(u8, Option<Rate>)>::new()).is_empty());
    }

    /// The whole definition over a small county: each department ranked by its score, ties
    /// sharing a rank, the intake queue shown last and never ranked.
    #[test]
    fn departments_are_ranked_with_the_intake_queue_last() {
        let mut c = County::new();
        let d3 = DepartmentId::from_uuid(Uuid::from_u128(0xD3));
        let mut third = user(9, Role::Officer);
        third.department_id = Some(d3);
        for (code, d) in [("land", c.d2), ("approval", d3)] {
            c.rules
                .categories
                .insert(CategoryCode::parse(code).unwrap(), Some(d));
        }
        let third = Actor::User(third);
        let mut facts = Vec::new();
        let now = at(6, 0, 0);
        // Department 1 and department 3 do the same: resolved, contacted, satisfied.
        for (seq, category, officer) in [(1, "utilities", &c.officer), (2, "approval", &third)] {
            let mut s = c.file(seq, Kind::Complaint, category, at(2, 9, 0));
            s.then(accept(), officer, at(2, 9, 10))
                .then(contact(), officer, at(2, 9, 20))
                .then(resolve(), officer, at(2, 10, 0))
                .by_enterprise(rate(RatingLevel::Satisfied), at(2, 11, 0));
            facts.push(s.facts(now));
        }
        // Department 2 resolves late and is rated basically satisfied.
        let mut s = c.file(3, Kind::Complaint, "land", at(2, 9, 0));
        s.by_officer(accept(), at(2, 9, 10))
            .by_officer(resolve(), at(4, 10, 0))
            .by_enterprise(rate(RatingLevel::BasicallySatisfied), at(4, 11, 0));
        facts.push(s.facts(now));
        // One waits in the intake queue.
        facts.push(c.file(4, Kind::Complaint, "other", at(2, 9, 0)).facts(now));
        // One was received in February: outside the period.
        let mut old = c.file(5, Kind::Complaint, "land", at(2, 9, 0) - Duration::days(5));
        old.by_officer(accept(), at(2, 8, 0));
        facts.push(old.facts(now));

        let table = departments(&facts, &march(), &Weights::default());
        let got: Vec<(Option<DepartmentId>, Option<u32>, Option<String>)> = table
            .iter()
            .map(|r| (r.key, r.rank, r.figures.score.map(|s| s.to_string())))
            .collect();
        // Department 2: 10% × 0 (never contacted, no outcome before 11:00) + 50% × 1 +
        // 40% × 0.9 = 0.86.
        assert_eq!(
            got,
            [
                (Some(c.d1), Some(1), Some("1.0000".into())),
                (Some(d3), Some(1), Some("1.0000".into())),
                (Some(c.d2), Some(3), Some("0.8600".into())),
                (None, None, None),
            ]
        );
        assert_eq!(table[2].totals.tally.received, 1, "February is outside");
        assert_eq!(table[3].totals.tally.received, 1);
    }

    // ----- properties over random histories --------------------------------------------

    /// One random step: a verb, a choice among its variants, minutes after the last step.
    #[derive(Clone, Debug)]
    struct Step {
        verb: u8,
        choice: u8,
        minutes_later: i64,
    }

    /// Verbs weighted so that lives get far (dispose, withdraw and the unrated close end
    /// them early), minutes mostly within the utilities class's limits.
    fn steps() -> impl Strategy<Value = Vec<Step>> {
        // accept, dispose, transfer, assign, contact, request and supply information,
        // request and decide an extension, resolve, explain, rate, appeal and decide it,
        // withdraw, close unrated.
        let weights = [6, 1, 2, 2, 4, 2, 3, 2, 2, 6, 2, 6, 4, 4, 1, 1];
        let verbs: Vec<u8> = (0u8..)
            .zip(weights)
            .flat_map(|(verb, w)| std::iter::repeat_n(verb, w))
            .collect();
        let minutes = prop_oneof![3 => 0i64..180, 1 => 0i64..(3 * 24 * 60)];
        let step = (prop::sample::select(verbs), 0u8..5, minutes).prop_map(
            |(verb, choice, minutes_later)| Step {
                verb,
                choice,
                minutes_later,
            },
        );
        prop::collection::vec(step, 0..30)
    }

    /// Plays the steps, each by whoever may do it; a refused command is skipped. Checks on
    /// the way that the first round a save would keep command by command is the one read
    /// from the whole timeline.
    fn play<'c>(
        c: &'c County,
        seq: u64,
        steps: &[Step],
    ) -> Result<(Story<'c>, DateTime<Utc>), TestCaseError> {
        let kind = if seq.is_multiple_of(3) {
            Kind::Consultation
        } else {
            Kind::Complaint
        };
        let mut now = at(2, 9, 0) + Duration::minutes(i64::try_from(seq % 50).unwrap() * 97);
        let mut s = c.file(seq, kind, "utilities", now);
        let mut kept = FirstRound::current(&s.ticket);
        for step in steps {
            now += Duration::minutes(step.minutes_later);
            let officer = c.officer_of(&s.ticket).clone();
            let choice = usize::from(step.choice);
            let (command, actor) = match step.verb {
                0 => (
                    Command::Accept {
                        department_id: None,
                        assignee: None,
                        urgency: None,
                        resolve_with: (choice == 4).then(result_text),
                    },
                    officer,
                ),
                1 => (dispose(), officer),
                2 => {
                    let to = if s.ticket.department_id == Some(c.d2) {
                        c.d1
                    } else {
                        c.d2
                    };
                    let by = if choice == 0 {
                        c.supervisor.clone()
                    } else {
                        officer
                    };
                    (transfer(to), by)
                }
                3 => {
                    let assignee = if s.ticket.department_id == Some(c.d2) {
                        c.other_officer.clone()
                    } else {
                        c.colleague.clone()
                    };
                    let assignee = assignee.user().unwrap().clone();
                    (Command::Assign { assignee }, officer)
                }
                4 => (contact(), officer),
                5 => (request_info(), officer),
                6 => (
                    Command::SupplyInfo {
                        attachment_ids: Vec::new(),
                        body: Body::parse("已补充材料").unwrap(),
                    },
                    c.enterprise.clone(),
                ),
                7 => (
                    Command::RequestExtension {
                        reason: reason("需跨部门协调"),
                        amount: 60 * (1 + u32::from(step.choice)),
                    },
                    officer,
                ),
                8 => (
                    Command::DecideExtension {
                        approve: choice.is_multiple_of(2),
                        note: None,
                    },
                    c.supervisor.clone(),
                ),
                9 => (resolve(), officer),
                10 => (explain(), officer),
                11 => (rate(RatingLevel::ALL[choice]), c.enterprise.clone()),
                12 => (appeal(), officer),
                13 => (
                    decide_appeal(choice.is_multiple_of(2)),
                    c.supervisor.clone(),
                ),
                14 => (withdraw(), c.enterprise.clone()),
                _ => (Command::CloseUnrated, Actor::System),
            };
            if let Ok(events) = decide(&s.ticket, command, &actor, now, &c.rules) {
                kept = FirstRound::after(kept, &s.ticket, &events);
                s.ticket = apply(s.ticket.clone(), &events);
                s.events.extend(events);
            }
        }
        prop_assert_eq!(Some(kept), FirstRound::of(&s.events));
        // The snapshot keeps it too, so a save needs no timeline.
        prop_assert_eq!(Some(kept), s.ticket.first_round);
        prop_assert_eq!(Some(kept), FirstRound::of_ticket(&s.ticket));
        if s.ticket.redo_count == 0 {
            prop_assert_eq!(kept, FirstRound::current(&s.ticket));
        }
        Ok((s, now))
    }

    proptest! {
        /// The facts of any history keep section 6's sets nested: a disposal is received
        /// only; a response, an outcome and a rating need an accepted ticket; a rating
        /// needs an outcome; every rate lies between 0 and 1.
        #[test]
        fn facts_of_any_history_are_consistent(steps in steps(), seq in 1u64..1000, later in 0i64..5000) {
            let c = County::new();
            let (s, last) = play(&c, seq, &steps)?;
            let now = last + Duration::minutes(later);
            let f = s.facts(now);
            if f.disposed {
                prop_assert_eq!(tally(std::slice::from_ref(&f)), Tally { received: 1, disposed: 1, ..Tally::default() });
            }
            prop_assert!(!f.responded_on_time || f.accepted);
            prop_assert!(!f.has_outcome || f.accepted);
            prop_assert!(!f.resolved_now || f.has_outcome);
            prop_assert!(!f.on_time || f.has_outcome);
            prop_assert!(f.rating.is_none() || f.has_outcome);
            prop_assert!(!(f.withdrawn && f.disposed));
            prop_assert_eq!(f.minutes_to_first_outcome.is_some(), f.has_outcome);
            prop_assert!(f.minutes_to_first_contact.is_none_or(|m| m >= 0));
            prop_assert!(f.minutes_to_first_contact <= f.minutes_to_first_outcome || f.minutes_to_first_outcome.is_none());
            prop_assert!(f.rating_score_tenths <= 10);
            prop_assert_eq!(
                f.overdue_now,
                s.ticket.overdue_since().is_some_and(|since| since <= now)
            );
            let figures = Figures::of(
                &Totals { tally: tally(std::slice::from_ref(&f)), medians: Medians::default() },
                &Weights::default(),
            );
            for r in [figures.response_rate, figures.resolution_rate, figures.satisfaction_rate,
                      figures.rating_rate, figures.on_time_rate, figures.withdrawal_rate, figures.score]
                .into_iter().flatten()
            {
                prop_assert!(r.ten_thousandths() <= Rate::SCALE);
            }
        }

        /// SQL counts a trend per day in +08:00 and the buckets add those days up: for
        /// tickets received at any instants, and any period, that is the definition, bucket
        /// by bucket, empty buckets included, and the buckets add up to the period.
        #[test]
        fn a_trend_rolled_up_from_days_is_the_definition(
            offsets in prop::collection::vec(0i64..(100 * 24 * 60), 0..40),
            start in 0u64..60,
            length in 0u64..60,
        ) {
            let c = County::new();
            let facts: Vec<TicketFacts> = offsets
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let filed = at(1, 0, 0) - Duration::days(10) + Duration::minutes(*m);
                    c.complaint(i as u64 + 1, filed).facts(filed + Duration::days(200))
                })
                .collect();
            let mut days: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
            for f in &facts {
                days.entry(crate::deadline::calendar::local_date(f.received_at))
                    .or_default()
                    .add(f);
            }
            let from = NaiveDate::from_ymd_opt(2026, 2, 15).unwrap() + Days::new(start);
            let period = Period::new(from, from + Days::new(length)).unwrap();
            for bucket in [Bucket::Day, Bucket::Week, Bucket::Month] {
                let rolled = roll_up(&days, &period, bucket);
                prop_assert_eq!(&rolled, &trend(&facts, &period, bucket));
                let mut all = Tally::default();
                for (_, t) in &rolled {
                    all.merge(t);
                }
                let whole = totals_by(&facts, &period, |_| ()).get(&()).map(|t| t.tally);
                prop_assert_eq!(all, whole.unwrap_or_default());
            }
        }

        /// Tallies add up: any split of the tickets, tallied apart and merged, equals the
        /// tally of all; the departments' tallies add up to the county's. (SQL's `SUM` per
        /// group relies on this.)
        #[test]
        fn tallies_are_additive(stories in prop::collection::vec(steps(), 1..8), split in 0usize..8) {
            let c = County::new();
            let mut facts = Vec::new();
            for (i, steps) in stories.iter().enumerate() {
                let (s, now) = play(&c, i as u64 + 1, steps)?;
                facts.push(s.facts(now));
            }
            let split = split.min(facts.len());
            let mut merged = tally(&facts[..split]);
            merged.merge(&tally(&facts[split..]));
            prop_assert_eq!(merged, tally(&facts));
            let mut by_department = Tally::default();
            for totals in totals_by(&facts, &march(), |f| f.department_id).values() {
                by_department.merge(&totals.tally);
            }
            prop_assert_eq!(by_department, tally(&facts));
        }
    }
}
