//! CSV imports of enterprises and users (issue 10, point 6; docs/API.md, "Importing"):
//! `jiban import enterprises|users FILE.csv`, and `POST /v1/enterprises` or
//! `POST /v1/users` with `Content-Type: text/csv`.
//!
//! A file is CSV as RFC 4180 writes it (commas, double quotes around a cell that holds a
//! comma, a quote or a line break, `""` for a quote inside one), in UTF-8 with or without
//! a byte order mark, as a spreadsheet's "CSV UTF-8" saves it. Its first line names the
//! columns: exactly the field names of the JSON create body, in any order
//! ([`ENTERPRISE_COLUMNS`], [`USER_COLUMNS`]). An optional column may be left out, and an
//! empty cell of one is an absent field. Rows whose cells are all empty (blank lines, a
//! spreadsheet's trailing `,,,,`) are skipped.
//!
//! Each row becomes the create route's own request and goes through its own `parse`
//! (`CreateEnterpriseRequest`, `CreateUserRequest`: the `validator` rules and the
//! domain's parsers, the USCC's check character among them), and its cells through the
//! JSON bodies' refusal of control characters, so that a row and a JSON body are held to
//! the same rules. The use cases then check what only the database knows (a taken USCC or
//! username, a paired leader, department or enterprise), with the same checks as a single
//! create, for all rows at once, and duplicates within the file; and write every row in
//! one transaction, or none.
//!
//! An error names the line as a spreadsheet numbers its rows: the header is line 1, a line
//! break inside a quoted cell does not start a new line, and a blank line counts. With its
//! `field`, the column, when the fault is in one cell. Every bad line is reported at once,
//! except for what spoils the whole file: a header that does not name the columns, bytes
//! that are not UTF-8 (reported at their line), more than the limit of rows (413).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ops::Range;

use actix_web::http::StatusCode;
use serde::Serialize;
use uuid::Uuid;

use crate::extract::is_forbidden_control;
use crate::problem::{self, ApiError, FieldError};
use crate::routes::enterprises::CreateEnterpriseRequest;
use crate::routes::users::CreateUserRequest;
use crate::usecase::enterprises::NewEnterprise;
use crate::usecase::users::NewUser;

/// Data rows in one file at most: a county's enterprises, or its staff, in one go; a
/// larger list is split into files, each imported all or nothing.
pub const ROWS_MAX: usize = 10_000;

/// Users in one import over HTTP. Each password is an argon2id hash (19 MiB, tens of
/// milliseconds), and the server hashes an import's one batch at a time so that logins
/// keep their workers: 1,000 users took 28 s on two cores (a debug build, argon2
/// optimised), and a login meanwhile 0.09 s instead of 0.05 s. `jiban import users`
/// hashes on every core of its own process and takes [`ROWS_MAX`].
pub const HTTP_USERS_MAX: usize = 1_000;

/// Bytes in one file at most: 10,000 rows of a few hundred bytes each.
pub const BYTES_MAX: usize = 4 * 1024 * 1024;

/// A column of an import: the JSON create body's field of the same name.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
}

const fn required(name: &'static str) -> Column {
    Column {
        name,
        required: true,
    }
}

const fn optional(name: &'static str) -> Column {
    Column {
        name,
        required: false,
    }
}

/// The columns of an enterprise import: `POST /v1/enterprises`'s fields.
pub const ENTERPRISE_COLUMNS: [Column; 6] = [
    required("name"),
    required("uscc"),
    required("contact_name"),
    required("contact_phone"),
    required("contact_email"),
    optional("paired_leader_id"),
];

/// The columns of a user import: `POST /v1/users`'s fields.
pub const USER_COLUMNS: [Column; 7] = [
    required("username"),
    required("password"),
    required("role"),
    required("display_name"),
    required("email"),
    optional("department_id"),
    optional("enterprise_id"),
];

/// A value read from a line of the file.
#[derive(Debug)]
pub struct Line<T> {
    /// As a spreadsheet numbers it: the header is line 1.
    pub line: u64,
    pub value: T,
}

/// A data row: its line and its cells, in the order of the kind's columns. A cell is
/// `None` when its column is absent, or is optional and the cell empty.
#[derive(Debug)]
pub struct Row<const N: usize> {
    pub line: u64,
    pub cells: [Option<String>; N],
}

/// The answer to an import: how many were created, and each as the create route answers
/// it, in the file's order.
#[derive(Serialize)]
pub struct Imported<T> {
    created: usize,
    items: Vec<T>,
}

impl<T> Imported<T> {
    pub fn new(items: Vec<T>) -> Self {
        Imported {
            created: items.len(),
            items,
        }
    }
}

/// Reads an enterprise file: the enterprises of the lines whose fields are right, and an
/// error for each field that is not (the lines that are not right are not among the
/// enterprises). A fault of the whole file is the `Err`.
pub fn enterprises(
    input: &[u8],
    max_rows: usize,
) -> Result<(Vec<Line<NewEnterprise>>, Vec<FieldError>), ApiError> {
    let (rows, mut errors) = read(input, &ENTERPRISE_COLUMNS, max_rows)?;
    let mut parsed = Vec::with_capacity(rows.len());
    for Row { line, cells } in rows {
        let [
            name,
            uscc,
            contact_name,
            contact_phone,
            contact_email,
            paired_leader_id,
        ] = cells;
        let mut bad = Vec::new();
        let paired_leader_id = id(line, "paired_leader_id", paired_leader_id, &mut bad);
        let request = CreateEnterpriseRequest::new(
            name.unwrap_or_default(),
            uscc.unwrap_or_default(),
            contact_name.unwrap_or_default(),
            contact_phone.unwrap_or_default(),
            contact_email.unwrap_or_default(),
            paired_leader_id,
        );
        keep(line, request.parse(), bad, &mut parsed, &mut errors)?;
    }
    Ok((parsed, errors))
}

/// Reads a user file, as [`enterprises`] does.
pub fn users(
    input: &[u8],
    max_rows: usize,
) -> Result<(Vec<Line<NewUser>>, Vec<FieldError>), ApiError> {
    let (rows, mut errors) = read(input, &USER_COLUMNS, max_rows)?;
    let mut parsed = Vec::with_capacity(rows.len());
    for Row { line, cells } in rows {
        let [
            username,
            password,
            role,
            display_name,
            email,
            department_id,
            enterprise_id,
        ] = cells;
        let mut bad = Vec::new();
        let department_id = id(line, "department_id", department_id, &mut bad);
        let enterprise_id = id(line, "enterprise_id", enterprise_id, &mut bad);
        let request = CreateUserRequest::new(
            username.unwrap_or_default(),
            password.unwrap_or_default(),
            role.unwrap_or_default(),
            display_name.unwrap_or_default(),
            email.unwrap_or_default(),
            department_id,
            enterprise_id,
        );
        keep(line, request.parse(), bad, &mut parsed, &mut errors)?;
    }
    Ok((parsed, errors))
}

/// An id cell: a UUID, as the JSON body's field is. A cell that is not one is an error and
/// the field is then left out of the request, whose other fields are still checked.
fn id(line: u64, field: &str, cell: Option<String>, bad: &mut Vec<FieldError>) -> Option<Uuid> {
    let cell = cell?;
    match Uuid::parse_str(cell.trim()) {
        Ok(id) => Some(id),
        Err(_) => {
            bad.push(FieldError::line(
                line,
                Some(field),
                "invalid",
                "must be a UUID, e.g. 0196f1a2-7c3e-7b7a-9c1d-2f8e5a6b7c8d",
            ));
            None
        }
    }
}

/// Keeps a line's parsed value, or its errors: those the route's `parse` found, each
/// named by its field, after `bad` (the line's own). An error that names no field is not
/// the line's fault and ends the import.
fn keep<T>(
    line: u64,
    parsed: Result<T, ApiError>,
    mut bad: Vec<FieldError>,
    values: &mut Vec<Line<T>>,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    match parsed {
        Ok(value) if bad.is_empty() => values.push(Line { line, value }),
        Ok(_) => {}
        Err(e) if e.errors().is_empty() => return Err(e),
        Err(e) => bad.extend(e.errors().iter().map(|f| {
            let field = f
                .pointer
                .as_deref()
                .map(|p| p.trim_start_matches('/'))
                .filter(|p| !p.is_empty());
            FieldError::line(line, field, f.code.clone(), f.detail.clone())
        })),
    }
    errors.extend(bad);
    Ok(())
}

/// `duplicate` for each line whose `key` (a parsed, normalised value: an upper-cased
/// USCC, a lower-cased username) an earlier line of the file has, naming that line.
pub fn duplicates<T>(rows: &[Line<T>], field: &str, key: impl Fn(&T) -> &str) -> Vec<FieldError> {
    let mut first: HashMap<&str, u64> = HashMap::new();
    let mut found = Vec::new();
    for row in rows {
        match first.entry(key(&row.value)) {
            Entry::Occupied(earlier) => found.push(FieldError::line(
                row.line,
                Some(field),
                "duplicate",
                format!("line {} of the file has the same {field}", earlier.get()),
            )),
            Entry::Vacant(slot) => {
                slot.insert(row.line);
            }
        }
    }
    found
}

/// 413 `too_many_rows`: the file has more data rows than the import takes.
fn too_many_rows(max_rows: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_many_rows",
        format!(
            "the file has more than {max_rows} rows; split it into files of at most {max_rows}"
        ),
    )
}

fn not_utf8(line: u64) -> ApiError {
    ApiError::invalid_lines(vec![FieldError::line(
        line,
        None,
        "not_utf8",
        "the file is not UTF-8 from this line on (a spreadsheet's plain CSV may be GBK): save it as \"CSV UTF-8\"",
    )])
}

/// The columns' names as a sentence: `a, b and, optional, c`.
fn describe(columns: &[Column]) -> String {
    let names = |required: bool| -> Vec<&str> {
        columns
            .iter()
            .filter(|c| c.required == required)
            .map(|c| c.name)
            .collect()
    };
    let (required, optional) = (names(true), names(false));
    if optional.is_empty() {
        required.join(", ")
    } else {
        format!("{}; optional: {}", required.join(", "), optional.join(", "))
    }
}

/// Reads the rows of a file whose header names `columns`: each well-formed row with its
/// line, and an error for each row or cell that is not (a row with as many cells as the
/// header, without control characters in them). Errors of the whole file are the `Err`:
/// larger than [`BYTES_MAX`] or more than `max_rows` data rows (413), no header, a header
/// that does not name the columns, no data rows, bytes that are not UTF-8 (422).
pub fn read<const N: usize>(
    input: &[u8],
    columns: &[Column; N],
    max_rows: usize,
) -> Result<(Vec<Row<N>>, Vec<FieldError>), ApiError> {
    if input.len() > BYTES_MAX {
        return Err(problem::body_too_large(BYTES_MAX));
    }
    // A UTF-8 byte order mark at the start is skipped by the csv crate (csv-core).
    let mut records = Records::new(input);
    let Some((header_line, header)) = records.next() else {
        return Err(ApiError::invalid_lines(vec![FieldError::line(
            1,
            None,
            "empty_file",
            format!(
                "the file is empty; its first line names the columns: {}",
                describe(columns)
            ),
        )]));
    };
    let positions = read_header(header_line, &header, columns)?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut data_rows = 0;
    let mut last_line = header_line;
    for (line, record) in records {
        last_line = line;
        if record
            .iter()
            .all(|cell| cell.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        data_rows += 1;
        if data_rows > max_rows {
            return Err(too_many_rows(max_rows));
        }
        if record.len() != positions.len() {
            errors.push(FieldError::line(
                line,
                None,
                "cell_count",
                format!(
                    "has {} cells; the header has {}",
                    record.len(),
                    positions.len()
                ),
            ));
            continue;
        }
        let mut cells: [Option<String>; N] = std::array::from_fn(|_| None);
        for (raw, &k) in record.iter().zip(&positions) {
            let column = columns[k];
            let text = std::str::from_utf8(raw).map_err(|_| not_utf8(line))?;
            if text.chars().any(is_forbidden_control) {
                errors.push(FieldError::line(
                    line,
                    Some(column.name),
                    "control_character",
                    "must not contain NUL or other control characters (line breaks and tabs are allowed)",
                ));
            }
            if column.required || !text.trim().is_empty() {
                cells[k] = Some(text.to_owned());
            }
        }
        rows.push(Row { line, cells });
    }
    if data_rows == 0 {
        return Err(ApiError::invalid_lines(vec![FieldError::line(
            last_line + 1,
            None,
            "no_rows",
            "the file has no rows below its header",
        )]));
    }
    Ok((rows, errors))
}

/// Where each of the header's columns goes among `columns`, or the 422 naming each column
/// that is unknown, named twice or missing.
fn read_header<const N: usize>(
    line: u64,
    header: &csv::ByteRecord,
    columns: &[Column; N],
) -> Result<Vec<usize>, ApiError> {
    let mut positions = Vec::with_capacity(header.len());
    let mut seen = [false; N];
    let mut errors = Vec::new();
    for (j, raw) in header.iter().enumerate() {
        let name = std::str::from_utf8(raw).map_err(|_| not_utf8(line))?.trim();
        match columns.iter().position(|c| c.name == name) {
            Some(k) if seen[k] => errors.push(FieldError::line(
                line,
                Some(name),
                "duplicate",
                "the header names this column twice",
            )),
            Some(k) => {
                seen[k] = true;
                positions.push(k);
            }
            None if name.is_empty() => errors.push(FieldError::line(
                line,
                None,
                "unknown_field",
                format!(
                    "column {} of the header has no name; the columns are {}",
                    j + 1,
                    describe(columns)
                ),
            )),
            None => errors.push(FieldError::line(
                line,
                Some(name),
                "unknown_field",
                format!("no such column; the columns are {}", describe(columns)),
            )),
        }
    }
    for (column, seen) in columns.iter().zip(seen) {
        if column.required && !seen {
            errors.push(FieldError::line(
                line,
                Some(column.name),
                "required",
                "the header lacks this column, which is required",
            ));
        }
    }
    if errors.is_empty() {
        Ok(positions)
    } else {
        Err(ApiError::invalid_lines(errors))
    }
}

/// The records of a file (the csv crate's, RFC 4180 quoting), each with the line a
/// spreadsheet shows it on.
///
/// The crate skips blank lines, and a quoted cell may hold line breaks, so neither its
/// record count nor the physical line is that number. A record's line is one more than
/// the line breaks before its first byte (blank lines included) less those inside the
/// cells of the records before it. A line break is `\n`, `\r\n` or a lone `\r`, counted
/// the same way in the file and in the cells, whose bytes the crate keeps as written.
struct Records<'a> {
    input: &'a [u8],
    reader: csv::Reader<&'a [u8]>,
    /// Bytes the reader has consumed.
    consumed: usize,
    /// Line breaks in `input[..counted]`.
    breaks: u64,
    counted: usize,
    /// Line breaks inside the cells of the records read so far.
    inside: u64,
}

impl<'a> Records<'a> {
    fn new(input: &'a [u8]) -> Self {
        Records {
            input,
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(input),
            consumed: 0,
            breaks: 0,
            counted: 0,
            inside: 0,
        }
    }
}

/// The line breaks in `bytes[range]` (a `\r` followed by `\n` is counted at the `\n`).
fn line_breaks(bytes: &[u8], range: Range<usize>) -> u64 {
    range
        .filter(|&i| match bytes[i] {
            b'\n' => true,
            b'\r' => bytes.get(i + 1) != Some(&b'\n'),
            _ => false,
        })
        .count() as u64
}

impl Iterator for Records<'_> {
    type Item = (u64, csv::ByteRecord);

    fn next(&mut self) -> Option<Self::Item> {
        let mut record = csv::ByteRecord::new();
        // Reading from memory fails in no way but the end.
        if !self.reader.read_byte_record(&mut record).unwrap_or(false) {
            return None;
        }
        let end = (self.reader.position().byte() as usize).min(self.input.len());
        // The record starts after the line breaks the reader skipped (blank lines, the
        // `\n` of the previous record's `\r\n`).
        let start = self.consumed
            + self.input[self.consumed..end]
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
        self.breaks += line_breaks(self.input, self.counted..start);
        self.counted = start;
        self.consumed = end;
        let line = self.breaks - self.inside + 1;
        self.inside += record
            .iter()
            .map(|cell| line_breaks(cell, 0..cell.len()))
            .sum::<u64>();
        Some((line, record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 3] = [required("a"), required("b"), optional("c")];

    /// (line, field, code) of each error.
    type Found = Vec<(u64, Option<String>, String)>;

    fn found(errors: &[FieldError]) -> Found {
        errors
            .iter()
            .map(|e| (e.line.expect("a line"), e.field.clone(), e.code.to_string()))
            .collect()
    }

    fn at(line: u64, field: Option<&str>, code: &str) -> (u64, Option<String>, String) {
        (line, field.map(str::to_owned), code.to_owned())
    }

    fn rows(input: &str) -> Vec<(u64, [Option<String>; 3])> {
        let (rows, errors) = read(input.as_bytes(), &COLUMNS, 100).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        rows.into_iter().map(|r| (r.line, r.cells)).collect()
    }

    fn cells(a: &str, b: &str, c: Option<&str>) -> [Option<String>; 3] {
        [Some(a.to_owned()), Some(b.to_owned()), c.map(str::to_owned)]
    }

    /// The 4xx of a file refused as a whole, and its errors.
    fn refused(input: &[u8], max_rows: usize) -> (u16, String, Found) {
        let e = read(input, &COLUMNS, max_rows).unwrap_err();
        (e.status().as_u16(), e.code().to_owned(), found(e.errors()))
    }

    #[test]
    fn reads_cells_by_header_name_with_or_without_a_bom() {
        let plain = "b,a,c\n1,2,3\n4,5,\n";
        let expected = vec![(2, cells("2", "1", Some("3"))), (3, cells("5", "4", None))];
        assert_eq!(rows(plain), expected);
        assert_eq!(rows(&format!("\u{feff}{plain}")), expected);
        // An optional column may be left out; CRLF, and no line break at the end.
        assert_eq!(
            rows("a,b\r\n1,2\r\n3,4"),
            vec![(2, cells("1", "2", None)), (3, cells("3", "4", None))]
        );
        // Header names are trimmed; cells are not (the fields' parsers trim).
        assert_eq!(rows(" a , b\n 1 ,2\n"), vec![(2, cells(" 1 ", "2", None))]);
    }

    #[test]
    fn quoted_cells_hold_commas_quotes_and_line_breaks() {
        let input = "a,b,c\n\"苏州, 工业园区\",\"他说 \"\"好\"\"\",x\n\"第一行\n第二行\r\n第三行\",2,\n\"\",z,\n";
        assert_eq!(
            rows(input),
            vec![
                (2, cells("苏州, 工业园区", "他说 \"好\"", Some("x"))),
                // Its line breaks are kept as written and do not start lines.
                (3, cells("第一行\n第二行\r\n第三行", "2", None)),
                (4, cells("", "z", None)),
            ]
        );
    }

    #[test]
    fn lines_are_numbered_as_a_spreadsheet_shows_them() {
        // A blank line is a line; a line break inside quotes is not; CR, LF and CRLF
        // alike; all-empty rows are skipped but counted.
        let input = "a,b\r\n1,\"x\r\ny\"\r\n\r\n2,\"p\nq\nr\"\n,\n3,4\r5,6\n\n\n";
        let lines: Vec<u64> = rows(input).into_iter().map(|(line, _)| line).collect();
        assert_eq!(lines, [2, 4, 6, 7]);
        // Blank lines before the header move it too.
        let lines: Vec<u64> = rows("\n\na,b\n1,2\n")
            .into_iter()
            .map(|(line, _)| line)
            .collect();
        assert_eq!(lines, [4]);
    }

    #[test]
    fn a_bad_header_names_each_column() {
        let (status, code, errors) = refused(b"a,x,a,,d\n1,2,3,4,5\n", 100);
        assert_eq!((status, code.as_str()), (422, "invalid_input"));
        assert_eq!(
            errors,
            [
                at(1, Some("x"), "unknown_field"),
                at(1, Some("a"), "duplicate"),
                at(1, None, "unknown_field"),
                at(1, Some("d"), "unknown_field"),
                at(1, Some("b"), "required"),
            ]
        );
        // Names are exact: case matters.
        let (_, _, errors) = refused(b"A,b\n1,2\n", 100);
        assert_eq!(
            errors,
            [
                at(1, Some("A"), "unknown_field"),
                at(1, Some("a"), "required")
            ]
        );
    }

    #[test]
    fn bad_rows_are_reported_each_with_its_line() {
        let input = "a,b,c\n1,2\n1,2,3,4\nok,fine,\n\"x\u{7}\",y,\"\u{0}\"\n";
        let (rows, errors) = read(input.as_bytes(), &COLUMNS, 100).unwrap();
        assert_eq!(
            found(&errors),
            [
                at(2, None, "cell_count"),
                at(3, None, "cell_count"),
                at(5, Some("a"), "control_character"),
                at(5, Some("c"), "control_character"),
            ]
        );
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(
            lines,
            [4, 5],
            "a row with control characters is still parsed"
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_name_their_line() {
        // 苏州 in GBK, as a spreadsheet's plain "CSV" saves it in China.
        let (status, _, errors) = refused(b"a,b\nok,1\n\xcb\xd5\xd6\xdd,2\n", 100);
        assert_eq!((status, errors), (422, vec![at(3, None, "not_utf8")]));
        let (_, _, errors) = refused(b"a,\xff\n1,2\n", 100);
        assert_eq!(errors, [at(1, None, "not_utf8")]);
        // UTF-16, as "Unicode text" saves it: its BOM is not UTF-8's.
        let utf16: Vec<u8> = "\u{feff}a,b\n1,2\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let (_, _, errors) = refused(&utf16, 100);
        assert_eq!(errors, [at(1, None, "not_utf8")]);
    }

    #[test]
    fn empty_files_and_limits() {
        assert_eq!(refused(b"", 100).2, [at(1, None, "empty_file")]);
        assert_eq!(
            refused(b"\xEF\xBB\xBF\n\n", 100).2,
            [at(1, None, "empty_file")]
        );
        assert_eq!(refused(b"a,b\n", 100).2, [at(2, None, "no_rows")]);
        assert_eq!(refused(b"a,b\n,\n \n", 100).2, [at(4, None, "no_rows")]);
        // Rows: blank ones do not count.
        assert!(read(b"a,b\n1,2\n,\n3,4\n", &COLUMNS, 2).is_ok());
        let (status, code, _) = refused(b"a,b\n1,2\n3,4\n5,6\n", 2);
        assert_eq!((status, code.as_str()), (413, "too_many_rows"));
        // Bytes.
        let mut big = b"a,b\n".to_vec();
        big.resize(BYTES_MAX + 1, b' ');
        let (status, code, _) = refused(&big, 100);
        assert_eq!((status, code.as_str()), (413, "payload_too_large"));
    }

    fn enterprise_file(rows: &[&str]) -> String {
        let mut file = "name,uscc,contact_name,contact_phone,contact_email\n".to_owned();
        for row in rows {
            file.push_str(row);
            file.push('\n');
        }
        file
    }

    #[test]
    fn enterprise_lines_are_held_to_the_json_bodys_rules() {
        let good = "苏州精密机械有限公司,91320500MA1MQ5WX2A,王经理,0512-6666 8888,wang@example.cn";
        // The same code in lower case: upper-cased, then a duplicate of line 2.
        let again = "\"苏州精密机械, 二厂\",91320500ma1mq5wx2a,李经理,0512-6666 8889,li@example.cn";
        let bad = ",91320500MA1MQ5WX2B,,call me,not-an-email";
        let (parsed, errors) =
            enterprises(enterprise_file(&[good, again, bad]).as_bytes(), 100).unwrap();
        assert_eq!(
            found(&errors),
            [
                at(4, Some("name"), "blank"),
                at(4, Some("uscc"), "invalid"),
                at(4, Some("contact_name"), "blank"),
                at(4, Some("contact_phone"), "invalid"),
                at(4, Some("contact_email"), "invalid"),
            ]
        );
        let lines: Vec<u64> = parsed.iter().map(|l| l.line).collect();
        assert_eq!(lines, [2, 3]);
        assert_eq!(parsed[1].value.name, "苏州精密机械, 二厂");
        assert_eq!(parsed[1].value.uscc, "91320500MA1MQ5WX2A");
        assert_eq!(
            found(&duplicates(&parsed, "uscc", |e| e.uscc.as_str())),
            [at(3, Some("uscc"), "duplicate")]
        );
    }

    #[test]
    fn a_paired_leader_that_is_not_a_uuid_is_named_with_the_other_fields() {
        let file = "name,uscc,contact_name,contact_phone,contact_email,paired_leader_id\n\
                    甲公司,91320500MA1MQ5WX2A,王经理,110,wang@example.cn,not-a-uuid\n\
                    乙公司,91320500MA1MQ5WX2A,王经理,1,wang@example.cn,\n";
        let (parsed, errors) = enterprises(file.as_bytes(), 100).unwrap();
        assert!(parsed.is_empty());
        assert_eq!(
            found(&errors),
            [
                at(2, Some("paired_leader_id"), "invalid"),
                at(3, Some("contact_phone"), "invalid"),
            ]
        );
    }

    #[test]
    fn user_lines_are_held_to_the_json_bodys_rules() {
        let file = "username,password,role,display_name,email,department_id,enterprise_id\n\
                    Wang.Li,a long enough password,officer,王丽,wang@example.cn,0196f1a2-7c3e-7b7a-9c1d-2f8e5a6b7c8d,\n\
                    wang.li,a long enough password,supervisor,王丽,wang@example.cn,,\n\
                    zhao,short,emperor,赵,zhao@example.cn,,\n\
                    qian,a long enough password,enterprise,钱,qian@example.cn,,\n";
        let (parsed, errors) = users(file.as_bytes(), 100).unwrap();
        assert_eq!(
            found(&errors),
            [
                at(4, Some("password"), "too_short"),
                at(4, Some("role"), "unknown_value"),
                at(5, Some("enterprise_id"), "required"),
            ]
        );
        let names: Vec<(u64, &str)> = parsed
            .iter()
            .map(|l| (l.line, l.value.username.as_str()))
            .collect();
        assert_eq!(names, [(2, "wang.li"), (3, "wang.li")]);
        assert_eq!(parsed[0].value.password.expose(), "a long enough password");
        assert_eq!(
            found(&duplicates(&parsed, "username", |u| u.username.as_str())),
            [at(3, Some("username"), "duplicate")]
        );
    }

    #[test]
    fn errors_of_a_file_are_one_422_by_line() {
        let e = ApiError::invalid_lines(vec![
            FieldError::line(5, Some("uscc"), "invalid", "wrong"),
            FieldError::line(2, Some("name"), "blank", "blank"),
            FieldError::line(5, Some("uscc"), "duplicate", "again"),
        ]);
        assert_eq!(e.status().as_u16(), 422);
        assert_eq!(
            found(e.errors()),
            [at(2, Some("name"), "blank"), at(5, Some("uscc"), "invalid")]
        );
    }
}
