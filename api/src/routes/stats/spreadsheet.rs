//! `GET /v1/stats/departments.csv` (DESIGN.md section 7, issue 10): the departments'
//! table as a file that spreadsheet programs open with the Chinese intact.
//!
//! - UTF-8 with a byte order mark: without it, Excel on a Chinese Windows reads a CSV as
//!   GBK and shows mojibake.
//! - RFC 4180: comma-separated, CRLF line ends, a field quoted when it holds a comma, a
//!   quote or a line break, quotes doubled (the `csv` crate writes it).
//! - The same numbers as the JSON: counts, rates as fractions to 4 decimals, medians in
//!   whole minutes; an empty cell where the JSON has `null`.
//! - A name that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`,
//!   a tab or a carriage return) is written after an apostrophe, which spreadsheets show
//!   as text (OWASP, "CSV injection"): names are typed by people.
//! - `Content-Disposition: attachment` with an ASCII `filename` and the Chinese one as
//!   `filename*` (RFC 6266 and RFC 5987), so a browser saves it under its Chinese name.

use actix_web::http::header::{
    Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use jiban_domain::stats::{Period, Rate};

use super::DepartmentItem;
use crate::problem::ApiError;

/// The byte order mark of UTF-8.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The columns, in the order of the JSON's fields.
const HEADERS: [&str; 27] = [
    "排名",
    "部门ID",
    "部门",
    "综合得分",
    "受理诉求数",
    "不予受理数",
    "签收数",
    "撤回数",
    "按时响应数",
    "已解决数",
    "已办结数",
    "已评价数",
    "按期办结数",
    "当前超期数",
    "当前督办数",
    "响应率",
    "解决率",
    "满意率",
    "参评率",
    "按期办结率",
    "撤回率",
    "首次联系用时中位数（分钟）",
    "首次办结用时中位数（分钟）",
    "协办收到数",
    "协办按时答复数",
    "协办逾期答复数",
    "协办未答复数",
];

/// What the intake queue (tickets no department holds yet) is called in the file.
const INTAKE_QUEUE: &str = "（待分派）";

/// A name as a spreadsheet shows it, never as a formula it would run.
fn text_cell(name: &str) -> String {
    if name.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{name}")
    } else {
        name.to_owned()
    }
}

fn rate(r: Option<Rate>) -> String {
    r.map(|r| r.to_string()).unwrap_or_default()
}

fn number<T: ToString>(n: Option<T>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// The file: BOM, header, one line per item, in the table's order.
pub(super) fn departments(items: &[DepartmentItem]) -> Result<Vec<u8>, ApiError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(BOM.to_vec());
    let write = |writer: &mut csv::Writer<Vec<u8>>, record: &[String]| {
        writer
            .write_record(record)
            .map_err(|e| ApiError::internal(format!("writing the CSV: {e}")))
    };
    write(&mut writer, &HEADERS.map(str::to_owned))?;
    for item in items {
        let f = &item.figures;
        let name = match (&item.department_id, &item.name) {
            (None, _) => INTAKE_QUEUE.to_owned(),
            (Some(_), Some(name)) => text_cell(name),
            (Some(_), None) => String::new(),
        };
        write(
            &mut writer,
            &[
                number(f.rank),
                number(item.department_id),
                name,
                rate(f.score),
                f.received.to_string(),
                f.disposed.to_string(),
                f.accepted.to_string(),
                f.withdrawn.to_string(),
                f.responded_on_time.to_string(),
                f.resolved.to_string(),
                f.with_outcome.to_string(),
                f.rated.to_string(),
                f.on_time.to_string(),
                f.overdue_now.to_string(),
                f.supervised_now.to_string(),
                rate(f.response_rate),
                rate(f.resolution_rate),
                rate(f.satisfaction_rate),
                rate(f.rating_rate),
                rate(f.on_time_rate),
                rate(f.withdrawal_rate),
                number(f.median_minutes_to_first_contact),
                number(f.median_minutes_to_first_outcome),
                item.co_handling_received.to_string(),
                item.co_handling_replied_on_time.to_string(),
                item.co_handling_replied_late.to_string(),
                item.co_handling_not_replied.to_string(),
            ],
        )?;
    }
    writer
        .into_inner()
        .map_err(|e| ApiError::internal(format!("writing the CSV: {e}")))
}

/// `attachment`, named after the period: `部门三率统计_2026-11-01_2026-12-01.csv`, and in
/// ASCII for clients that know only `filename`.
pub(super) fn attachment(period: &Period) -> ContentDisposition {
    let dates = format!("{}_{}", period.from(), period.to());
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(format!("jiban-departments_{dates}.csv")),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: format!("部门三率统计_{dates}.csv").into_bytes(),
            }),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_run_as_formulas() {
        assert_eq!(
            text_cell("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(text_cell("+1"), "'+1");
        assert_eq!(text_cell("-1"), "'-1");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text_cell("供电服务中心"), "供电服务中心");
        assert_eq!(text_cell("a=b"), "a=b");
    }
}
