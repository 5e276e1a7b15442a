//! `jiban deadline`, run as a real process (DESIGN.md section 8).
//!
//! The expected instants are worked out by hand in each test's comment from the rules of
//! DESIGN.md section 4 and the State Council's notices for 2025 (国办发明电〔2024〕12号)
//! and 2026: the day received is not counted (民法典 Art. 201), a working-day deadline
//! ends at 24:00 of its last counted day (Art. 203), minute limits run on the clock.

use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn jiban(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jiban"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the jiban binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// Runs `jiban deadline` and returns its JSON, checking it succeeded without warnings.
fn deadlines(class: &str, from: &str) -> Value {
    let out = jiban(&["deadline", "--class", class, "--from", from]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{class} {from}: {stderr}");
    assert_eq!(stderr, "", "{class} {from}: nothing on stderr");
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

/// The whole object for a deadline that consulted only loaded years.
fn definite(accept: &str, contact: &str, resolve: &str) -> Value {
    json!({
        "accept_due_at": accept,
        "contact_due_at": contact,
        "resolve_due_at": resolve,
        "provisional": false,
        "warnings": [],
    })
}

/// Checks a refused command line: exit status 2, nothing on stdout, and a first stderr
/// line that contains each of `mentions`.
fn assert_refused(args: &[&str], mentions: &[&str]) {
    let out = jiban(args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(text(&out.stdout), "", "{args:?}: nothing on stdout");
    let first = stderr.lines().next().unwrap_or_default();
    for mention in mentions {
        assert!(first.contains(mention), "{args:?}: {mention:?} in {stderr}");
    }
}

/// DESIGN.md section 4's worked example (民法典 Art. 201, 203). Received Fri 2026-09-18
/// 10:00, general. Start day not counted; Sat 09-19 is off; Sun 09-20 is a make-up working
/// day (国庆节调休). Accept and contact, 1 working day: 09-20 → due 2026-09-21 00:00.
/// Resolve, 5: 09-20, 21, 22, 23, 24 → due 2026-09-25 00:00.
#[test]
fn design_example_friday_2026_09_18_general() {
    assert_eq!(
        deadlines("general", "2026-09-18T10:00:00+08:00"),
        definite(
            "2026-09-21T00:00:00+08:00",
            "2026-09-21T00:00:00+08:00",
            "2026-09-25T00:00:00+08:00",
        )
    );
}

/// DESIGN.md section 4: minute and hour limits run on the clock, 24×7, nights and holidays
/// included (emergency: 15 min, 30 min, 24 h, 参照 天津12345实施细则). Received Wed
/// 2026-09-30 23:50, the night before National Day: accept 10-01 00:05, contact 10-01
/// 00:20, resolve 10-01 23:50, all inside the holiday.
#[test]
fn emergency_runs_on_the_clock_through_a_holiday_night() {
    assert_eq!(
        deadlines("emergency", "2026-09-30T23:50:00+08:00"),
        definite(
            "2026-10-01T00:05:00+08:00",
            "2026-10-01T00:20:00+08:00",
            "2026-10-01T23:50:00+08:00",
        )
    );
}

/// DESIGN.md section 4 (utilities: 30 min, 2 h, 24 h on the clock). Received Mon
/// 2026-02-16 23:00, in the Spring Festival holiday: accept 23:30, contact 02-17 01:00,
/// resolve 02-17 23:00.
#[test]
fn utilities_run_on_the_clock_through_spring_festival() {
    assert_eq!(
        deadlines("utilities", "2026-02-16T23:00:00+08:00"),
        definite(
            "2026-02-16T23:30:00+08:00",
            "2026-02-17T01:00:00+08:00",
            "2026-02-17T23:00:00+08:00",
        )
    );
}

/// DESIGN.md section 4, 2026 notice (off 02-15..23, make-up Sat 02-14 and Sat 02-28);
/// 民法典 Art. 201, 203. Received Fri 2026-02-13 15:00, general. Accept and contact: Sat
/// 02-14 is a make-up day (1) → due 02-15 00:00. Resolve: 02-14 (1), 02-15..23 off, 02-24
/// (2), 25 (3), 26 (4), 27 (5) → due 2026-02-28 00:00.
#[test]
fn spring_festival_2026_from_friday_02_13() {
    assert_eq!(
        deadlines("general", "2026-02-13T15:00:00+08:00"),
        definite(
            "2026-02-15T00:00:00+08:00",
            "2026-02-15T00:00:00+08:00",
            "2026-02-28T00:00:00+08:00",
        )
    );
}

/// DESIGN.md section 4, 2026 notice; 民法典 Art. 201, 203. Received on the make-up Sat
/// 2026-02-14 10:00, general (the start day is not counted even though it is worked).
/// Accept and contact: 02-15..23 off, Tue 02-24 (1) → due 02-25 00:00. Resolve: 02-24 (1),
/// 25 (2), 26 (3), 27 (4), make-up Sat 02-28 (5) → due 2026-03-01 00:00.
#[test]
fn spring_festival_2026_from_the_make_up_saturday_02_14() {
    assert_eq!(
        deadlines("general", "2026-02-14T10:00:00+08:00"),
        definite(
            "2026-02-25T00:00:00+08:00",
            "2026-02-25T00:00:00+08:00",
            "2026-03-01T00:00:00+08:00",
        )
    );
}

/// DESIGN.md section 4, 2026 notice (off 10-01..07, make-up Sat 10-10); 民法典 Art. 201,
/// 203. Received Wed 2026-09-30 09:00, general. Accept and contact: 10-01..07 off, Thu
/// 10-08 (1) → due 10-09 00:00. Resolve: 10-08 (1), 09 (2), make-up Sat 10-10 (3), Mon
/// 10-12 (4), 13 (5) → due 2026-10-14 00:00.
#[test]
fn national_day_2026() {
    assert_eq!(
        deadlines("general", "2026-09-30T09:00:00+08:00"),
        definite(
            "2026-10-09T00:00:00+08:00",
            "2026-10-09T00:00:00+08:00",
            "2026-10-14T00:00:00+08:00",
        )
    );
}

/// DESIGN.md section 4, 2025 notice 国办发明电〔2024〕12号 (off 10-01..08, make-up Sun
/// 09-28 and Sat 10-11); 民法典 Art. 201, 203. Received Tue 2025-09-30 09:00, general.
/// Accept and contact: 10-01..08 off, Thu 10-09 (1) → due 10-10 00:00. Resolve: 10-09 (1),
/// 10 (2), make-up Sat 10-11 (3), Mon 10-13 (4), 14 (5) → due 2025-10-15 00:00.
#[test]
fn national_day_2025() {
    assert_eq!(
        deadlines("general", "2025-09-30T09:00:00+08:00"),
        definite(
            "2025-10-10T00:00:00+08:00",
            "2025-10-10T00:00:00+08:00",
            "2025-10-15T00:00:00+08:00",
        )
    );
}

/// DESIGN.md section 4, 2025 notice (make-up Sun 09-28 before National Day); 民法典 Art.
/// 201, 203. Received Fri 2025-09-26 16:00, general. Accept and contact: Sat 09-27 off,
/// make-up Sun 09-28 (1) → due 09-29 00:00. Resolve: 09-28 (1), 29 (2), 30 (3), 10-01..08
/// off, Thu 10-09 (4), Fri 10-10 (5) → due 2025-10-11 00:00.
#[test]
fn national_day_2025_make_up_sunday_before_it() {
    assert_eq!(
        deadlines("general", "2025-09-26T16:00:00+08:00"),
        definite(
            "2025-09-29T00:00:00+08:00",
            "2025-09-29T00:00:00+08:00",
            "2025-10-11T00:00:00+08:00",
        )
    );
}

/// DESIGN.md section 4: day limits count in the county's zone (Asia/Shanghai), so the
/// start day is the local date (民法典 Art. 201). 2026-09-17T16:30:00Z is Fri 2026-09-18
/// 00:30 +08:00, the same day as the design example, so the same deadlines: 09-21 00:00
/// and 09-25 00:00. Counting from the UTC date (Thu 09-17) would give 09-19 and 09-24.
#[test]
fn utc_instant_counts_from_the_local_date() {
    assert_eq!(
        deadlines("general", "2026-09-17T16:30:00Z"),
        definite(
            "2026-09-21T00:00:00+08:00",
            "2026-09-21T00:00:00+08:00",
            "2026-09-25T00:00:00+08:00",
        )
    );
}

/// DESIGN.md section 4 (complex: 1, 1 and 15 working days, 参照 湖北); 2026 notice (off
/// 09-25..27 and 10-01..07, make-up Sun 09-20 and Sat 10-10); 民法典 Art. 201, 203.
/// Received Fri 2026-09-18 10:00. Accept and contact → 09-21 00:00. Resolve: 09-20 (1),
/// 21..24 (2..5), 09-25..27 off, 28..30 (6..8), 10-01..07 off, 10-08 (9), 09 (10), make-up
/// Sat 10-10 (11), 12..15 (12..15) → due 2026-10-16 00:00.
#[test]
fn complex_fifteen_working_days_across_mid_autumn_and_national_day() {
    assert_eq!(
        deadlines("complex", "2026-09-18T10:00:00+08:00"),
        definite(
            "2026-09-21T00:00:00+08:00",
            "2026-09-21T00:00:00+08:00",
            "2026-10-16T00:00:00+08:00",
        )
    );
}

/// DESIGN.md section 4: a year with no calendar loaded counts Monday–Friday and says so.
/// Received Mon 2027-01-04 10:00, general: accept and contact Tue 01-05 (1) → due 01-06
/// 00:00; resolve 01-05..08 (1..4), Mon 01-11 (5) → due 2027-01-12 00:00. Provisional,
/// with the warning in the JSON and on stderr.
#[test]
fn year_without_calendar_is_provisional_and_warns() {
    let out = jiban(&[
        "deadline",
        "--class",
        "general",
        "--from",
        "2027-01-04T10:00:00+08:00",
    ]);
    assert!(out.status.success());
    let warning = "no holiday calendar for 2027: Monday to Friday assumed";
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report,
        json!({
            "accept_due_at": "2027-01-06T00:00:00+08:00",
            "contact_due_at": "2027-01-06T00:00:00+08:00",
            "resolve_due_at": "2027-01-12T00:00:00+08:00",
            "provisional": true,
            "warnings": [warning],
        })
    );
    assert_eq!(text(&out.stderr), format!("warning: {warning}\n"));
}

/// DESIGN.md section 4: a deadline counted into a year with no calendar is provisional even
/// when it starts in a loaded one. Received Thu 2026-12-31 10:00, general: Fri 2027-01-01
/// is assumed a working day (1) → accept and contact due 01-02 00:00; resolve 01-01, 04,
/// 05, 06, 07 → due 2027-01-08 00:00.
#[test]
fn counting_into_a_year_without_calendar_is_provisional() {
    let out = jiban(&[
        "deadline",
        "--class",
        "general",
        "--from",
        "2026-12-31T10:00:00+08:00",
    ]);
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["accept_due_at"], "2027-01-02T00:00:00+08:00");
    assert_eq!(report["resolve_due_at"], "2027-01-08T00:00:00+08:00");
    assert_eq!(report["provisional"], true);
    assert_eq!(
        report["warnings"],
        json!(["no holiday calendar for 2027: Monday to Friday assumed"])
    );
}

/// DESIGN.md section 4: clock limits consult no calendar, so they are never provisional.
/// Received Mon 2027-01-04 10:00, emergency: 10:15, 10:30, 01-05 10:00.
#[test]
fn clock_limits_in_a_year_without_calendar_are_definite() {
    assert_eq!(
        deadlines("emergency", "2027-01-04T10:00:00+08:00"),
        definite(
            "2027-01-04T10:15:00+08:00",
            "2027-01-04T10:30:00+08:00",
            "2027-01-05T10:00:00+08:00",
        )
    );
}

/// DESIGN.md section 4: the classes are emergency, utilities, general and complex; another
/// is refused with the list.
#[test]
fn unknown_class_is_refused_with_the_allowed_values() {
    assert_refused(
        &[
            "deadline",
            "--class",
            "urgent",
            "--from",
            "2026-09-18T10:00:00+08:00",
        ],
        &[
            "--class",
            "urgent",
            "emergency, utilities, general, complex",
        ],
    );
}

/// DESIGN.md section 7: instants are RFC 3339 with offset; a local time alone is refused,
/// naming the problem and the accepted form.
#[test]
fn instant_without_offset_is_refused() {
    assert_refused(
        &[
            "deadline",
            "--class",
            "general",
            "--from",
            "2026-09-18T10:00:00",
        ],
        &["--from", "no UTC offset", "2026-09-18T10:00:00+08:00"],
    );
    assert_refused(
        &["deadline", "--class", "general", "--from", "2026-09-18"],
        &["--from", "a date alone", "2026-09-18T10:00:00+08:00"],
    );
    assert_refused(
        &[
            "deadline",
            "--class",
            "general",
            "--from",
            "2026-02-30T10:00:00+08:00",
        ],
        &["--from", "not an RFC 3339 instant"],
    );
}

/// DESIGN.md section 8: `--from` is required; clap's usage error exits 2 and names it.
#[test]
fn missing_from_is_refused() {
    let args = ["deadline", "--class", "general"];
    assert_refused(&args, &["required"]);
    assert!(text(&jiban(&args).stderr).contains("--from"));
}
