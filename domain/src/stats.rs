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

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Serialize, Serializer};
use thiserror::Error;

use crate::deadline::calendar::start_of_day;
use crate::ticket::rules::IN_HAND;
use crate::ticket::{CloseReason, Event, EventData, Outcome, Rating, Status, Ticket, evolve};
use crate::values::{DepartmentId, RatingLevel, TicketId, UserId};

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    rows(totals_by(facts, period, |f| f.department_id), weights)
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
    rows(totals_by(facts, period, |f| f.assignee_id), weights)
}

fn rows<K: Ord + Copy>(groups: BTreeMap<Option<K>, Totals>, weights: &Weights) -> Vec<Row<K>> {
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
