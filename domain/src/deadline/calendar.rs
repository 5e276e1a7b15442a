//! The statutory working-day calendar (DESIGN.md section 4, "Deadlines").
//!
//! A working day is Monday to Friday, minus the State Council's holidays, plus its make-up
//! working days (调休). The holidays and make-up days are data: the crate ships the 2025
//! and 2026 notices, and admins replace a whole year through the API. A year without data
//! falls back to Monday–Friday, and every count that relied on such a year says so in
//! [`Counted::assumed_years`], so a later layer can recompute it once the year arrives.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// The years an admin may load, a guard against typos such as 226 or 20226.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The longest holiday name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 50;

/// The shipped notices, one JSON file per year (domain/data/calendar/).
const SHIPPED: [&str; 2] = [
    include_str!("../../data/calendar/2025.json"),
    include_str!("../../data/calendar/2026.json"),
];

/// +08:00, the county's zone: Asia/Shanghai has had no daylight saving time since 1991
/// (DESIGN.md section 4).
pub fn zone() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// The calendar date in the county's zone of an instant (DESIGN.md section 4: day limits
/// count in the county's zone).
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&zone()).date_naive()
}

/// 00:00 +08:00 of `date`, as UTC.
pub fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN)
        .and_local_timezone(zone())
        .single()
        .expect("a fixed offset maps each local time to one instant")
        .to_utc()
}

/// 24:00 +08:00 of `date` (= start of the next day), as UTC: a deadline "ends at 24:00 of
/// the last day" (民法典 Art. 203, the county's choice over close of office).
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    // A fixed offset has no DST, so every local day is 24 hours long.
    start_of_day(date) + TimeDelta::days(1)
}

/// The last counted day of a working-day deadline: the local date of the instant just
/// before `due`. For a 24:00 deadline (民法典 Art. 203) that is the day before its local
/// date; for any other instant, its own local date.
pub fn last_day(due: DateTime<Utc>) -> NaiveDate {
    local_date(due - TimeDelta::nanoseconds(1))
}

/// Saturday and Sunday are the weekly rest days of state organs
/// (国务院关于职工工作时间的规定 Art. 7), so without a notice Monday–Friday are worked.
fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn next_day(date: NaiveDate) -> NaiveDate {
    date.succ_opt()
        .expect("dates stay far below chrono's maximum")
}

/// What the State Council's notice says about one date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// Off, even if it falls on a weekday (放假).
    Holiday,
    /// A make-up working day, even if it falls on a weekend (调休上班).
    Workday,
}

/// One entry of a year's notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// The festival, e.g. "春节" or "春节调休".
    pub name: String,
}

/// A count and the years without calendar data it relied on (empty: definitive).
///
/// DESIGN.md section 4: a deadline that fell in a year with no calendar loaded is
/// provisional, and loading that year's calendar recomputes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted<T> {
    pub value: T,
    pub assumed_years: BTreeSet<i32>,
}

impl<T> Counted<T> {
    /// Whether the count relied on the Monday–Friday fallback for some year.
    pub fn is_provisional(&self) -> bool {
        !self.assumed_years.is_empty()
    }

    /// The same provenance for a derived value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Counted<U> {
        Counted {
            value: f(self.value),
            assumed_years: self.assumed_years,
        }
    }
}

/// A year's list refused by [`Calendar::set_year`]. `index` is the position of the
/// offending entry in the list as given (before sorting).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("year {year} is outside {min}..={max}", min = YEARS.start(), max = YEARS.end())]
    YearOutOfRange { year: i32 },
    #[error("day {index}: {date} is not in {year}")]
    DateOutsideYear {
        index: usize,
        date: NaiveDate,
        year: i32,
    },
    #[error("day {index}: {date} is already listed as day {first}")]
    DuplicateDate {
        index: usize,
        first: usize,
        date: NaiveDate,
    },
    #[error("day {index}: the name is blank")]
    NameBlank { index: usize },
    #[error("day {index}: the name has {chars} characters, more than {MAX_NAME_CHARS}")]
    NameTooLong { index: usize, chars: usize },
    /// A name is one line: no control character inside it, not even a line break or a
    /// tab (issue 8: only long texts keep those).
    #[error("day {index}: the name must be one line without control characters")]
    NameControlCharacter { index: usize },
}

impl CalendarError {
    /// The offending entry of `days`, if the error is about one entry.
    pub fn index(&self) -> Option<usize> {
        match self {
            Self::YearOutOfRange { .. } => None,
            Self::DateOutsideYear { index, .. }
            | Self::DuplicateDate { index, .. }
            | Self::NameBlank { index }
            | Self::NameTooLong { index, .. }
            | Self::NameControlCharacter { index } => Some(*index),
        }
    }

    /// The offending field: of the entry at [`index`](Self::index) if there is one
    /// (`/days/3/date`), else of the year's document (`/year`).
    pub fn field(&self) -> &'static str {
        match self {
            Self::YearOutOfRange { .. } => "year",
            Self::DateOutsideYear { .. } | Self::DuplicateDate { .. } => "date",
            Self::NameBlank { .. }
            | Self::NameTooLong { .. }
            | Self::NameControlCharacter { .. } => "name",
        }
    }

    /// A stable snake_case code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::YearOutOfRange { .. } => "year_out_of_range",
            Self::DateOutsideYear { .. } => "date_outside_year",
            Self::DuplicateDate { .. } => "duplicate_date",
            Self::NameBlank { .. } => "name_blank",
            Self::NameTooLong { .. } => "name_too_long",
            Self::NameControlCharacter { .. } => "control_character",
        }
    }
}

/// The shape of a shipped file, domain/data/calendar/<year>.json.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    /// The notice the data was copied from; for the reader of the file.
    #[serde(rename = "source")]
    _source: String,
    days: Vec<CalendarDay>,
}

/// The working-day calendar: per year, the notice's days sorted by date.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i32, Vec<CalendarDay>>,
}

impl Calendar {
    /// No year loaded: every count falls back to Monday–Friday and is provisional.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The 2025 and 2026 arrangements shipped in the crate (国办发明电〔2024〕12号 and
    /// 国务院办公厅关于2026年部分节假日安排的通知).
    pub fn shipped() -> Self {
        let mut calendar = Self::empty();
        for json in SHIPPED {
            let file: YearFile =
                serde_json::from_str(json).expect("shipped calendar data is valid JSON");
            calendar
                .set_year(file.year, file.days)
                .expect("shipped calendar data passes validation");
        }
        calendar
    }

    /// The shipped days of one year, for seeding a database (None if not shipped).
    pub fn shipped_year(year: i32) -> Option<Vec<CalendarDay>> {
        Self::shipped().years.remove(&year)
    }

    /// Replaces one year's data: an admin's list replaces the whole year (DESIGN.md
    /// section 4, "the calendar is data"). Validated; the list is stored sorted by date.
    /// On error the calendar is unchanged. Names are kept trimmed, and their lengths are
    /// counted after trimming (DESIGN.md rule 12), so a blank name is refused.
    pub fn set_year(&mut self, year: i32, mut days: Vec<CalendarDay>) -> Result<(), CalendarError> {
        for day in &mut days {
            let trimmed = day.name.trim();
            if trimmed.len() != day.name.len() {
                day.name = trimmed.to_owned();
            }
        }
        validate_year(year, &days)?;
        days.sort_by_key(|day| day.date);
        self.years.insert(year, days);
        Ok(())
    }

    pub fn has_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The loaded years, ascending.
    pub fn years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// A loaded year's days, sorted by date.
    pub fn year_days(&self, year: i32) -> Option<&[CalendarDay]> {
        self.years.get(&year).map(Vec::as_slice)
    }

    /// Whether `date` is a working day: Monday–Friday, minus the notice's holidays, plus
    /// its make-up working days (DESIGN.md section 4). For a year without data,
    /// Monday–Friday, and the year is reported as assumed.
    pub fn is_working_day(&self, date: NaiveDate) -> Counted<bool> {
        let Some(days) = self.years.get(&date.year()) else {
            return Counted {
                value: is_weekday(date),
                assumed_years: BTreeSet::from([date.year()]),
            };
        };
        let value = match days.binary_search_by_key(&date, |day| day.date) {
            Ok(found) => days[found].kind == DayKind::Workday,
            Err(_) => is_weekday(date),
        };
        Counted {
            value,
            assumed_years: BTreeSet::new(),
        }
    }

    /// The n-th working day after `from`; `from` itself is not counted (民法典 Art. 201:
    /// a period in days starts on the next day). n = 0 gives `from`.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Counted<NaiveDate> {
        let mut day = from;
        let mut counted = 0;
        let mut assumed_years = BTreeSet::new();
        // Terminates: only the at most 101 loaded years can lack working days.
        while counted < n {
            day = next_day(day);
            let working = self.is_working_day(day);
            assumed_years.extend(working.assumed_years);
            if working.value {
                counted += 1;
            }
        }
        Counted {
            value: day,
            assumed_years,
        }
    }

    /// The number of working days d with from < d <= to (0 when to <= from); the inverse of
    /// [`add_working_days`](Self::add_working_days), used to split a limit around a pause
    /// (DESIGN.md section 4, "Pause").
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> Counted<u32> {
        let mut day = from;
        let mut counted = 0;
        let mut assumed_years = BTreeSet::new();
        while day < to {
            day = next_day(day);
            let working = self.is_working_day(day);
            assumed_years.extend(working.assumed_years);
            if working.value {
                counted += 1;
            }
        }
        Counted {
            value: counted,
            assumed_years,
        }
    }

    /// The deadline n working days after an instant: 24:00 +08:00 of the n-th working day
    /// after its local date (民法典 Art. 201: the start day is not counted; Art. 203: the
    /// period ends at 24:00 of its last day).
    pub fn deadline_after(&self, start: DateTime<Utc>, n: u32) -> Counted<DateTime<Utc>> {
        self.add_working_days(local_date(start), n).map(end_of_day)
    }
}

/// The checks on an admin's list for one year (DESIGN.md section 4: one entry per date).
fn validate_year(year: i32, days: &[CalendarDay]) -> Result<(), CalendarError> {
    if !YEARS.contains(&year) {
        return Err(CalendarError::YearOutOfRange { year });
    }
    let mut seen = BTreeMap::new();
    for (index, day) in days.iter().enumerate() {
        if day.date.year() != year {
            return Err(CalendarError::DateOutsideYear {
                index,
                date: day.date,
                year,
            });
        }
        if let Some(&first) = seen.get(&day.date) {
            return Err(CalendarError::DuplicateDate {
                index,
                first,
                date: day.date,
            });
        }
        seen.insert(day.date, index);
        if day.name.is_empty() {
            return Err(CalendarError::NameBlank { index });
        }
        let chars = day.name.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(CalendarError::NameTooLong { index, chars });
        }
        if day.name.chars().any(char::is_control) {
            return Err(CalendarError::NameControlCharacter { index });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("a test date")
    }

    fn instant(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .expect("a test instant")
            .to_utc()
    }

    fn dates(from: &str, to: &str) -> Vec<NaiveDate> {
        date(from)
            .iter_days()
            .take_while(|d| *d <= date(to))
            .collect()
    }

    fn day(d: &str, kind: DayKind, name: &str) -> CalendarDay {
        CalendarDay {
            date: date(d),
            kind,
            name: name.to_owned(),
        }
    }

    /// DESIGN.md section 4's example (民法典 Art. 201, 203): received Fri 2026-09-18 10:00,
    /// 5 working days: 09-20 make-up (1), 09-21..24 (2..5), due 2026-09-25 00:00 +08:00.
    #[test]
    fn design_example_five_working_days_from_friday_2026_09_18() {
        let due = Calendar::shipped().deadline_after(instant("2026-09-18T10:00:00+08:00"), 5);
        assert_eq!(due.value, instant("2026-09-25T00:00:00+08:00"));
        assert!(!due.is_provisional());
        assert_eq!(last_day(due.value), date("2026-09-24"));
    }

    /// 国务院办公厅关于2026年部分节假日安排的通知: 02-14, 02-28, 10-10 (Saturdays) and
    /// 09-20, 01-04 (Sundays) are worked; 10-01..07 are off, weekdays included.
    #[test]
    fn make_up_days_are_worked_and_holidays_are_not_2026() {
        let calendar = Calendar::shipped();
        for d in ["2026-02-14", "2026-02-28", "2026-10-10"] {
            assert_eq!(date(d).weekday(), Weekday::Sat, "{d}");
        }
        for d in [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ] {
            assert!(calendar.is_working_day(date(d)).value, "{d}");
        }
        for d in dates("2026-10-01", "2026-10-07") {
            assert!(!calendar.is_working_day(d).value, "{d}");
        }
        // An ordinary weekend and an ordinary weekday.
        assert!(!calendar.is_working_day(date("2026-10-11")).value);
        assert!(calendar.is_working_day(date("2026-10-08")).value);
    }

    /// 2026 Spring Festival (国务院办公厅关于2026年部分节假日安排的通知): received Fri 02-13,
    /// 5 working days: 02-14 make-up (1), 02-15..23 off, 02-24..27 (2..5).
    #[test]
    fn spring_festival_2026_counts_the_make_up_saturday_and_skips_the_holiday() {
        let due = Calendar::shipped().deadline_after(instant("2026-02-13T09:30:00+08:00"), 5);
        assert_eq!(due.value, instant("2026-02-28T00:00:00+08:00"));
        let calendar = Calendar::shipped();
        assert_eq!(
            calendar.add_working_days(date("2026-02-13"), 1).value,
            date("2026-02-14")
        );
        assert_eq!(
            calendar.add_working_days(date("2026-02-14"), 1).value,
            date("2026-02-24")
        );
    }

    /// 2026 National Day (国务院办公厅关于2026年部分节假日安排的通知): from Wed 09-30, 10-01..07
    /// off, 10-08 (1), 10-09 (2), Sat 10-10 make-up (3).
    #[test]
    fn national_day_2026() {
        let counted = Calendar::shipped().add_working_days(date("2026-09-30"), 3);
        assert_eq!(counted.value, date("2026-10-10"));
        assert!(!counted.is_provisional());
    }

    /// 2025 National Day and Mid-Autumn (国办发明电〔2024〕12号): from Sat 09-27, Sun 09-28
    /// make-up (1), 09-29 (2), 09-30 (3), 10-01..08 off, 10-09 (4), 10-10 (5),
    /// Sat 10-11 make-up (6).
    #[test]
    fn national_day_2025() {
        let calendar = Calendar::shipped();
        assert_eq!(
            calendar.add_working_days(date("2025-09-27"), 6).value,
            date("2025-10-11")
        );
        assert_eq!(
            calendar
                .working_days_between(date("2025-09-30"), date("2025-10-11"))
                .value,
            3
        );
        for d in dates("2025-10-01", "2025-10-08") {
            assert!(!calendar.is_working_day(d).value, "{d}");
        }
    }

    /// New Year across the two notices: from Wed 2025-12-31, 2026-01-01..03 off,
    /// Sun 01-04 make-up (1), Mon 01-05 (2); both years loaded, so definitive.
    #[test]
    fn new_year_2025_to_2026() {
        let due = Calendar::shipped().deadline_after(instant("2025-12-31T17:45:00+08:00"), 2);
        assert_eq!(due.value, instant("2026-01-06T00:00:00+08:00"));
        assert!(due.assumed_years.is_empty());
    }

    /// 民法典 Art. 201: the start day is not counted, even when the clock starts at 00:00
    /// of a working day (Mon 2026-03-02).
    #[test]
    fn start_day_is_not_counted_even_at_midnight_of_a_working_day() {
        let start = instant("2026-03-02T00:00:00+08:00");
        assert_eq!(start, instant("2026-03-01T16:00:00Z"));
        assert_eq!(local_date(start), date("2026-03-02"));
        let due = Calendar::shipped().deadline_after(start, 1);
        assert_eq!(due.value, instant("2026-03-04T00:00:00+08:00"));
        // n = 0 ends the start day itself.
        let same_day = Calendar::shipped().deadline_after(start, 0);
        assert_eq!(same_day.value, end_of_day(date("2026-03-02")));
    }

    /// 民法典 Art. 203 and DESIGN.md section 4: the deadline is 24:00 +08:00 of the last
    /// day, which is 16:00 UTC of that same day.
    #[test]
    fn deadline_at_24_00_local_is_16_00_utc_of_the_last_day() {
        let due = Calendar::shipped().deadline_after(instant("2026-09-18T10:00:00+08:00"), 5);
        assert_eq!(due.value, instant("2026-09-24T16:00:00Z"));
        assert_eq!(
            end_of_day(date("2026-09-24")),
            instant("2026-09-24T16:00:00Z")
        );
        assert_eq!(
            start_of_day(date("2026-09-25")),
            instant("2026-09-24T16:00:00Z")
        );
        assert_eq!(
            local_date(instant("2026-09-24T15:59:59Z")),
            date("2026-09-24")
        );
        assert_eq!(
            local_date(instant("2026-09-24T16:00:00Z")),
            date("2026-09-25")
        );
        assert_eq!(
            last_day(instant("2026-09-24T16:00:00Z")),
            date("2026-09-24")
        );
        assert_eq!(
            last_day(instant("2026-09-24T16:00:01Z")),
            date("2026-09-25")
        );
    }

    /// DESIGN.md section 4: a year with no calendar counts Mon–Fri and says so. 2027-01-01
    /// (Friday) will surely be 元旦, but without data it counts, provisionally.
    #[test]
    fn a_year_without_data_counts_monday_to_friday_and_says_so() {
        let calendar = Calendar::shipped();
        assert!(!calendar.has_year(2027));

        let counted = calendar.add_working_days(date("2026-12-31"), 1);
        assert_eq!(counted.value, date("2027-01-01"));
        assert_eq!(counted.assumed_years, BTreeSet::from([2027]));
        assert!(counted.is_provisional());

        let weekend = calendar.is_working_day(date("2027-01-02"));
        assert_eq!(
            (weekend.value, weekend.assumed_years),
            (false, BTreeSet::from([2027]))
        );

        let inside_2026 = calendar.add_working_days(date("2026-12-01"), 10);
        assert_eq!(inside_2026.value, date("2026-12-15"));
        assert!(!inside_2026.is_provisional());

        let empty = Calendar::empty().add_working_days(date("2026-10-01"), 1);
        assert_eq!(empty.value, date("2026-10-02"));
        assert_eq!(empty.assumed_years, BTreeSet::from([2026]));

        // 2027 was only a candidate for the start day, which is not consulted.
        let ending_on_new_years_eve =
            calendar.deadline_after(instant("2026-12-30T12:00:00+08:00"), 1);
        assert_eq!(
            ending_on_new_years_eve.value,
            end_of_day(date("2026-12-31"))
        );
        assert!(!ending_on_new_years_eve.is_provisional());
    }

    /// DESIGN.md section 4, "the calendar is data": a year's list replaces the whole year,
    /// sorted, and other years are untouched.
    #[test]
    fn set_year_replaces_the_whole_year() {
        let mut calendar = Calendar::shipped();
        calendar
            .set_year(
                2026,
                vec![
                    day("2026-10-10", DayKind::Holiday, "县庆"),
                    day("2026-01-01", DayKind::Holiday, "元旦"),
                ],
            )
            .expect("valid");
        assert_eq!(
            calendar
                .year_days(2026)
                .map(|days| days.iter().map(|d| d.date).collect::<Vec<_>>()),
            Some(vec![date("2026-01-01"), date("2026-10-10")])
        );
        // 02-16 (Mon, Spring Festival in the notice) is now an ordinary Monday.
        assert!(calendar.is_working_day(date("2026-02-16")).value);
        assert!(!calendar.is_working_day(date("2026-10-10")).value);
        assert_eq!(
            calendar.year_days(2025),
            Calendar::shipped().year_days(2025)
        );
        assert_eq!(calendar.years(), vec![2025, 2026]);

        calendar
            .set_year(2027, Vec::new())
            .expect("an empty list is valid");
        assert!(calendar.has_year(2027));
        assert!(!calendar.is_working_day(date("2027-01-02")).is_provisional());
    }

    /// DESIGN.md section 4, "one entry per date", and the API's error codes (STYLE.md:
    /// stable snake_case codes): each refusal names its entry and leaves the year unchanged.
    #[test]
    fn set_year_validates_and_leaves_the_calendar_unchanged_on_error() {
        let ok = || day("2026-01-01", DayKind::Holiday, "元旦");
        let cases = [
            (1999, vec![ok()], "year_out_of_range", None, "year"),
            (2101, vec![], "year_out_of_range", None, "year"),
            (
                2026,
                vec![ok(), day("2025-12-31", DayKind::Holiday, "x")],
                "date_outside_year",
                Some(1),
                "date",
            ),
            (
                2026,
                vec![ok(), day("2026-01-02", DayKind::Holiday, "元旦"), ok()],
                "duplicate_date",
                Some(2),
                "date",
            ),
            (2026, vec![ok(), ok()], "duplicate_date", Some(1), "date"),
            (
                2026,
                vec![day("2026-01-01", DayKind::Holiday, " \t")],
                "name_blank",
                Some(0),
                "name",
            ),
            (
                2026,
                vec![ok(), day("2026-01-02", DayKind::Holiday, &"节".repeat(51))],
                "name_too_long",
                Some(1),
                "name",
            ),
        ];
        for (year, days, code, index, field) in cases {
            let mut calendar = Calendar::shipped();
            let error = calendar.set_year(year, days).expect_err(code);
            assert_eq!(
                (error.code(), error.index(), error.field()),
                (code, index, field),
                "{error}"
            );
            assert_eq!(calendar, Calendar::shipped());
        }
        assert_eq!(
            Calendar::empty().set_year(2026, vec![ok(), ok()]),
            Err(CalendarError::DuplicateDate {
                index: 1,
                first: 0,
                date: date("2026-01-01")
            })
        );
        // Exactly 50 characters, and the year's bounds, are accepted.
        let mut calendar = Calendar::empty();
        let fifty = day("2100-12-31", DayKind::Holiday, &"节".repeat(50));
        assert_eq!(calendar.set_year(2100, vec![fifty]), Ok(()));
        assert_eq!(calendar.set_year(2000, vec![]), Ok(()));
    }

    /// DESIGN.md rule 12: names are stored trimmed and their length counted after trimming;
    /// a name of only (ideographic) spaces is blank.
    #[test]
    fn set_year_trims_names() {
        let mut calendar = Calendar::empty();
        let padded = format!(" \u{3000}{}\t ", "节".repeat(50));
        calendar
            .set_year(
                2027,
                vec![
                    day("2027-01-01", DayKind::Holiday, "  元旦\n"),
                    day("2027-02-20", DayKind::Workday, &padded),
                ],
            )
            .expect("50 characters once trimmed");
        let names: Vec<&str> = calendar
            .year_days(2027)
            .unwrap()
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(names, vec!["元旦".to_owned(), "节".repeat(50)]);
        let error = calendar
            .set_year(2027, vec![day("2027-01-01", DayKind::Holiday, "\u{3000}")])
            .expect_err("blank");
        assert_eq!(error.code(), "name_blank");
    }

    fn expected(holidays: &[(&str, &str, &str)], workdays: &[(&str, &str)]) -> Vec<CalendarDay> {
        let mut days: Vec<CalendarDay> = holidays
            .iter()
            .flat_map(|(from, to, name)| {
                dates(from, to).into_iter().map(move |date| CalendarDay {
                    date,
                    kind: DayKind::Holiday,
                    name: name.to_string(),
                })
            })
            .chain(
                workdays
                    .iter()
                    .map(|(d, name)| day(d, DayKind::Workday, name)),
            )
            .collect();
        days.sort_by_key(|d| d.date);
        days
    }

    fn count(days: &[CalendarDay], kind: DayKind) -> usize {
        days.iter().filter(|d| d.kind == kind).count()
    }

    /// 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04): 33 holiday dates
    /// (3 + 9 + 3 + 5 + 3 + 3 + 7), 6 make-up working days.
    #[test]
    fn shipped_2026_is_the_notice() {
        let shipped = Calendar::shipped_year(2026).expect("2026 is shipped");
        assert_eq!(
            shipped,
            expected(
                &[
                    ("2026-01-01", "2026-01-03", "元旦"),
                    ("2026-02-15", "2026-02-23", "春节"),
                    ("2026-04-04", "2026-04-06", "清明节"),
                    ("2026-05-01", "2026-05-05", "劳动节"),
                    ("2026-06-19", "2026-06-21", "端午节"),
                    ("2026-09-25", "2026-09-27", "中秋节"),
                    ("2026-10-01", "2026-10-07", "国庆节"),
                ],
                &[
                    ("2026-01-04", "元旦调休"),
                    ("2026-02-14", "春节调休"),
                    ("2026-02-28", "春节调休"),
                    ("2026-05-09", "劳动节调休"),
                    ("2026-09-20", "国庆节调休"),
                    ("2026-10-10", "国庆节调休"),
                ],
            )
        );
        assert_eq!(
            (
                count(&shipped, DayKind::Holiday),
                count(&shipped, DayKind::Workday)
            ),
            (33, 6)
        );
        // Every make-up day is a weekend day, or it would change nothing.
        assert!(
            shipped
                .iter()
                .filter(|d| d.kind == DayKind::Workday)
                .all(|d| !is_weekday(d.date))
        );
    }

    /// 国办发明电〔2024〕12号: 28 holiday dates (1 + 8 + 3 + 5 + 3 + 8), 5 make-up
    /// working days.
    #[test]
    fn shipped_2025_is_the_notice() {
        let shipped = Calendar::shipped_year(2025).expect("2025 is shipped");
        assert_eq!(
            shipped,
            expected(
                &[
                    ("2025-01-01", "2025-01-01", "元旦"),
                    ("2025-01-28", "2025-02-04", "春节"),
                    ("2025-04-04", "2025-04-06", "清明节"),
                    ("2025-05-01", "2025-05-05", "劳动节"),
                    ("2025-05-31", "2025-06-02", "端午节"),
                    ("2025-10-01", "2025-10-08", "国庆节、中秋节"),
                ],
                &[
                    ("2025-01-26", "春节调休"),
                    ("2025-02-08", "春节调休"),
                    ("2025-04-27", "劳动节调休"),
                    ("2025-09-28", "国庆节、中秋节调休"),
                    ("2025-10-11", "国庆节、中秋节调休"),
                ],
            )
        );
        assert_eq!(
            (
                count(&shipped, DayKind::Holiday),
                count(&shipped, DayKind::Workday)
            ),
            (28, 5)
        );
        assert!(
            shipped
                .iter()
                .filter(|d| d.kind == DayKind::Workday)
                .all(|d| !is_weekday(d.date))
        );
    }

    /// DESIGN.md section 4: exactly the 2025 and 2026 notices are shipped.
    #[test]
    fn shipped_years_are_2025_and_2026() {
        let calendar = Calendar::shipped();
        assert_eq!(calendar.years(), vec![2025, 2026]);
        assert_eq!(Calendar::shipped_year(2024), None);
        assert_eq!(Calendar::shipped_year(2027), None);
        // What is loaded is the data file's list, sorted by date; read the file here rather
        // than through `shipped_year`, which is `shipped()` again.
        for (year, json) in [(2025, SHIPPED[0]), (2026, SHIPPED[1])] {
            let file: YearFile = serde_json::from_str(json).unwrap();
            assert_eq!(file.year, year);
            let mut days = file.days;
            days.sort_by_key(|d| d.date);
            assert!(days.len() > 20, "{year}: a whole notice");
            assert_eq!(calendar.year_days(year), Some(days.as_slice()));
            assert_eq!(Calendar::shipped_year(year), Some(days));
        }
        assert!(Calendar::empty().years().is_empty());
    }

    /// The inverse count (DESIGN.md section 4, "Pause"): from < d <= to, 0 when to <= from.
    #[test]
    fn working_days_between_counts_the_half_open_range() {
        let calendar = Calendar::shipped();
        assert_eq!(
            calendar
                .working_days_between(date("2026-09-18"), date("2026-09-24"))
                .value,
            5
        );
        assert_eq!(
            calendar
                .working_days_between(date("2026-09-18"), date("2026-09-18"))
                .value,
            0
        );
        assert_eq!(
            calendar
                .working_days_between(date("2026-09-24"), date("2026-09-18"))
                .value,
            0
        );
        let across = calendar.working_days_between(date("2026-12-30"), date("2027-01-04"));
        assert_eq!(
            (across.value, across.assumed_years),
            (3, BTreeSet::from([2027]))
        );
    }

    const SHIPPED_YEARS: [i32; 2] = [2025, 2026];

    /// Instants from 2024-01-01 to 2028-12-31 (+08:00).
    fn any_start() -> impl Strategy<Value = DateTime<Utc>> {
        let from = start_of_day(date("2024-01-01")).timestamp();
        let to = end_of_day(date("2028-12-31")).timestamp();
        (from..to).prop_map(|secs| DateTime::from_timestamp(secs, 0).expect("in range"))
    }

    proptest! {
        /// 民法典 Art. 201, 203: for n ≥ 1 a deadline is 24:00 of a working day after the
        /// start day.
        #[test]
        fn a_deadline_ends_a_working_day(start in any_start(), n in 1u32..=40) {
            let calendar = Calendar::shipped();
            let due = calendar.deadline_after(start, n).value;
            let last = last_day(due);
            prop_assert_eq!(due, end_of_day(last));
            prop_assert!(calendar.is_working_day(last).value);
            prop_assert!(last > local_date(start));
        }

        /// Counting is additive: m then n working days is m + n working days.
        #[test]
        fn adding_is_additive(start in any_start(), m in 0u32..=40, n in 0u32..=40) {
            let calendar = Calendar::shipped();
            let from = local_date(start);
            let stepwise = calendar.add_working_days(calendar.add_working_days(from, m).value, n);
            prop_assert_eq!(stepwise.value, calendar.add_working_days(from, m + n).value);
        }

        /// working_days_between inverts add_working_days (the pause split relies on it).
        #[test]
        fn between_inverts_add(start in any_start(), n in 0u32..=40) {
            let calendar = Calendar::shipped();
            let from = local_date(start);
            let to = calendar.add_working_days(from, n);
            let between = calendar.working_days_between(from, to.value);
            prop_assert_eq!(between.value, n);
            prop_assert_eq!(between.assumed_years, to.assumed_years);
        }

        /// More days, or a later start, never give an earlier deadline.
        #[test]
        fn counting_is_monotonic(a in any_start(), b in any_start(), n in 0u32..=40, more in 1u32..=10) {
            let calendar = Calendar::shipped();
            let (early, late) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(calendar.deadline_after(early, n).value <= calendar.deadline_after(late, n).value);
            prop_assert!(calendar.deadline_after(early, n).value < calendar.deadline_after(early, n + more).value);
        }

        /// DESIGN.md section 4: provisional exactly when a year without data (2024, 2027,
        /// 2028, 2029 here) was consulted, i.e. lies between the day after the start and the
        /// last day.
        #[test]
        fn provisional_exactly_when_a_missing_year_was_consulted(start in any_start(), n in 0u32..=40) {
            let calendar = Calendar::shipped();
            let from = local_date(start);
            let counted = calendar.add_working_days(from, n);
            let consulted: BTreeSet<i32> = if n == 0 {
                BTreeSet::new()
            } else {
                (next_day(from).year()..=counted.value.year())
                    .filter(|year| !SHIPPED_YEARS.contains(year))
                    .collect()
            };
            prop_assert_eq!(counted.is_provisional(), !consulted.is_empty());
            prop_assert_eq!(&counted.assumed_years, &consulted);
            prop_assert_eq!(calendar.deadline_after(start, n).assumed_years, consulted);
        }
    }
}
