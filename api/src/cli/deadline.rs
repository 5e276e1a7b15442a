//! `jiban deadline`: the three deadlines of a ticket received at an instant, computed with
//! the shipped calendar and the default SLA table (DESIGN.md sections 4 and 8).

use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::ExitCode;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use clap::Args;
use serde::Serialize;

use jiban_domain::deadline::calendar::{last_day, local_date};
use jiban_domain::deadline::{Calendar, Deadline, SlaTable};
use jiban_domain::values::Urgency;

/// The accepted form of `--from`, quoted in every message about it.
const INSTANT_FORM: &str = "an RFC 3339 instant with a UTC offset, \
     e.g. 2026-09-18T10:00:00+08:00 or 2026-09-18T02:00:00Z";

#[derive(Debug, Args)]
#[command(after_long_help = "\
Prints {\"accept_due_at\", \"contact_due_at\", \"resolve_due_at\", \"provisional\", \"warnings\"}: \
the instants in RFC 3339 at +08:00 (Asia/Shanghai). Minute limits run on the clock; \
working-day limits skip weekends and the State Council's holidays, count its make-up \
working days, do not count the day received, and end at 24:00 of the last counted day. \
`provisional` is true when a deadline fell in a year with no holiday calendar \
(2025 and 2026 are shipped), where Monday to Friday is assumed; `warnings` then says which \
year (each warning is also printed on stderr), and is an empty list otherwise.")]
pub struct DeadlineArgs {
    /// Urgency class: emergency, utilities, general or complex.
    #[arg(long, value_name = "CLASS", value_parser = parse_class)]
    pub class: Urgency,

    /// When the ticket was received: an RFC 3339 instant with its UTC offset, e.g.
    /// 2026-09-18T10:00:00+08:00 or 2026-09-18T02:00:00Z.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub from: DateTime<Utc>,
}

/// What `jiban deadline` prints. The shape is fixed: `warnings` is always present, empty
/// when no deadline is provisional.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeadlineReport {
    pub accept_due_at: String,
    pub contact_due_at: String,
    pub resolve_due_at: String,
    /// Some deadline was counted on a year without calendar data (DESIGN.md section 4).
    pub provisional: bool,
    pub warnings: Vec<String>,
}

/// The deadlines of a ticket of `class` received at `received_at` (DESIGN.md section 4),
/// the same derivation as a submitted ticket's (`Deadline::start` on each limit).
pub fn compute_deadlines(
    class: Urgency,
    received_at: DateTime<Utc>,
    calendar: &Calendar,
    sla: &SlaTable,
) -> DeadlineReport {
    let policy = sla.get(class);
    let [accept, contact, resolve] = [policy.accept, policy.contact, policy.resolve]
        .map(|limit| Deadline::start(received_at, limit, calendar));
    let deadlines = [&accept, &contact, &resolve];
    let assumed: BTreeSet<i32> = deadlines
        .iter()
        .flat_map(|deadline| assumed_years(deadline, calendar))
        .collect();
    DeadlineReport {
        accept_due_at: local_rfc3339(accept.due_at),
        contact_due_at: local_rfc3339(contact.due_at),
        resolve_due_at: local_rfc3339(resolve.due_at),
        provisional: deadlines.iter().any(|deadline| deadline.provisional),
        warnings: assumed
            .into_iter()
            .map(|year| format!("no holiday calendar for {year}: Monday to Friday assumed"))
            .collect(),
    }
}

/// The years without calendar data that a provisional deadline counted through. A
/// working-day count looks at every date from the day after the start (民法典 Art. 201) to
/// its last counted day; a clock limit looks at none and is never provisional.
fn assumed_years(deadline: &Deadline, calendar: &Calendar) -> Vec<i32> {
    if !deadline.provisional {
        return Vec::new();
    }
    let first = local_date(deadline.started_at)
        .succ_opt()
        .unwrap_or(NaiveDate::MAX);
    let last = last_day(deadline.due_at);
    (first.year()..=last.year())
        .filter(|&year| !calendar.has_year(year))
        .collect()
}

/// An instant as RFC 3339 at +08:00, the county's zone, as the API answers it.
pub(super) use crate::time::rfc3339 as local_rfc3339;

/// Prints the report on stdout, and each warning on stderr too.
pub(super) fn run(args: &DeadlineArgs) -> ExitCode {
    let report = compute_deadlines(
        args.class,
        args.from,
        &Calendar::shipped(),
        &SlaTable::defaults(),
    );
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    let json = serde_json::to_string_pretty(&report).expect("the report serialises");
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{json}").and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("jiban: cannot write the deadlines to stdout: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `--class`: one of the urgency classes of DESIGN.md section 4.
fn parse_class(s: &str) -> Result<Urgency, String> {
    s.parse()
        .map_err(|error| format!("unknown urgency class; the class {error}"))
}

/// `--from`: an instant, so it must carry its offset; a local time alone would be
/// ambiguous between the county's zone and the machine's.
pub(super) fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    match DateTime::parse_from_rfc3339(s) {
        Ok(at) => Ok(at.to_utc()),
        Err(_) if is_local_time(s) => Err(format!(
            "the time has no UTC offset (+08:00 or Z); give {INSTANT_FORM}"
        )),
        Err(_) if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => Err(format!(
            "a date alone is not an instant; give {INSTANT_FORM}"
        )),
        Err(error) => Err(format!("not {INSTANT_FORM} ({error})")),
    }
}

/// A date and time of day without an offset, as RFC 3339 would have it otherwise.
fn is_local_time(s: &str) -> bool {
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .any(|format| NaiveDateTime::parse_from_str(s, format).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    /// DESIGN.md section 4: a provisional deadline always says which year it assumed, and a
    /// definite one never warns. Every start from 2026-11-01 to 2028-01-31, every class.
    #[test]
    fn provisional_exactly_when_warned() {
        let calendar = Calendar::shipped();
        let sla = SlaTable::defaults();
        let mut day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        while day <= NaiveDate::from_ymd_opt(2028, 1, 31).unwrap() {
            let at = instant(&format!("{day}T10:00:00+08:00"));
            for &class in Urgency::ALL {
                let report = compute_deadlines(class, at, &calendar, &sla);
                assert_eq!(
                    report.provisional,
                    !report.warnings.is_empty(),
                    "{class} from {day}: {report:?}"
                );
            }
            day = day.succ_opt().unwrap();
        }
    }

    /// A count from late 2027 into 2028 names both years it assumed.
    #[test]
    fn every_assumed_year_is_named() {
        let report = compute_deadlines(
            Urgency::Complex,
            instant("2027-12-27T10:00:00+08:00"),
            &Calendar::shipped(),
            &SlaTable::defaults(),
        );
        assert_eq!(
            report.warnings,
            [
                "no holiday calendar for 2027: Monday to Friday assumed",
                "no holiday calendar for 2028: Monday to Friday assumed"
            ]
        );
    }

    /// The offset is required, and each bad form is named with the accepted one.
    #[test]
    fn instants_need_an_offset() {
        assert_eq!(
            parse_instant("2026-09-18T02:00:00Z"),
            Ok(instant("2026-09-18T10:00:00+08:00"))
        );
        for (input, problem) in [
            ("2026-09-18T10:00:00", "no UTC offset"),
            ("2026-09-18 10:00:00", "no UTC offset"),
            ("2026-09-18", "a date alone"),
            ("2026-02-30T10:00:00+08:00", "not an RFC 3339"),
            ("yesterday", "not an RFC 3339"),
        ] {
            let message = parse_instant(input).unwrap_err();
            assert!(message.contains(problem), "{input}: {message}");
            assert!(
                message.contains("2026-09-18T10:00:00+08:00"),
                "{input}: {message}"
            );
        }
    }

    #[test]
    fn classes_are_listed_when_unknown() {
        assert_eq!(parse_class("complex"), Ok(Urgency::Complex));
        assert_eq!(
            parse_class("urgent").unwrap_err(),
            "unknown urgency class; the class must be one of: emergency, utilities, general, complex"
        );
    }

    /// Sub-second instants keep their fraction; whole seconds print none.
    #[test]
    fn instants_print_at_plus_eight() {
        assert_eq!(
            local_rfc3339(instant("2026-09-18T02:00:00Z")),
            "2026-09-18T10:00:00+08:00"
        );
        assert_eq!(
            local_rfc3339(instant("2026-09-18T02:00:00.250Z")),
            "2026-09-18T10:00:00.250+08:00"
        );
    }
}
