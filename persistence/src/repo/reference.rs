//! The reference data admins edit and the rules read (DESIGN.md sections 3 and 4): the
//! dispatch categories (派单目录), the working-day calendar and the SLA table.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use jiban_domain::deadline::{
    Calendar, CalendarDay, DayKind, Limit, LimitUnit, SlaPolicy, SlaTable,
};
use jiban_domain::ticket::Rules;
use jiban_domain::values::{CategoryCode, DepartmentId, Urgency};

use super::{on_backend, parse_stored};
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::{calendar_days, calendar_years, categories, sla_policies};
use crate::types::{DbInstant, DbUuid};

// ---------------------------------------------------------------------------------------
// Categories
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRecord {
    pub code: CategoryCode,
    pub name: String,
    /// The department new tickets of this category are dispatched to; `None`: the intake
    /// queue.
    pub department_id: Option<DepartmentId>,
}

/// Every category, by code.
pub fn categories(conn: &mut DbConnection) -> Result<Vec<CategoryRecord>, StoreError> {
    let rows: Vec<(String, String, Option<DbUuid>)> = categories::table
        .select((
            categories::code,
            categories::name,
            categories::department_id,
        ))
        .order(categories::code)
        .load(conn)?;
    rows.into_iter()
        .map(|(code, name, department_id)| {
            Ok(CategoryRecord {
                code: parse_stored("category code", &code)?,
                name,
                department_id: department_id.map(|d| DepartmentId::from_uuid(d.0)),
            })
        })
        .collect()
}

pub fn category_exists(conn: &mut DbConnection, code: &CategoryCode) -> Result<bool, StoreError> {
    Ok(
        diesel::select(diesel::dsl::exists(categories::table.find(code.as_str())))
            .get_result(conn)?,
    )
}

/// Creates the category or replaces its name and department.
pub fn upsert_category(
    conn: &mut DbConnection,
    category: &CategoryRecord,
) -> Result<(), StoreError> {
    let insert = diesel::insert_into(categories::table).values((
        categories::code.eq(category.code.as_str()),
        categories::name.eq(&category.name),
        categories::department_id.eq(category.department_id.map(|d| DbUuid(d.as_uuid()))),
    ));
    on_backend!(conn, |c| insert
        .on_conflict(categories::code)
        .do_update()
        .set((
            categories::name.eq(excluded(categories::name)),
            categories::department_id.eq(excluded(categories::department_id)),
        ))
        .execute(c)?);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------------------

/// A loaded year of the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarYear {
    pub year: i32,
    pub loaded_at: DateTime<Utc>,
    /// Sorted by date.
    pub days: Vec<CalendarDay>,
}

fn year_range(year: i32) -> Result<(NaiveDate, NaiveDate), StoreError> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1);
    let last = NaiveDate::from_ymd_opt(year, 12, 31);
    first
        .zip(last)
        .ok_or_else(|| StoreError::Other(format!("year {year} has no dates")))
}

fn day_kind(raw: &str) -> Result<DayKind, StoreError> {
    match raw {
        "holiday" => Ok(DayKind::Holiday),
        "workday" => Ok(DayKind::Workday),
        other => Err(StoreError::Other(format!(
            "stored calendar day kind {other:?} does not parse"
        ))),
    }
}

fn day_kind_text(kind: DayKind) -> &'static str {
    match kind {
        DayKind::Holiday => "holiday",
        DayKind::Workday => "workday",
    }
}

fn days_between(
    conn: &mut DbConnection,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<CalendarDay>, StoreError> {
    let rows: Vec<(NaiveDate, String, String)> = calendar_days::table
        .filter(calendar_days::date.between(first, last))
        .select((
            calendar_days::date,
            calendar_days::kind,
            calendar_days::name,
        ))
        .order(calendar_days::date)
        .load(conn)?;
    rows.into_iter()
        .map(|(date, kind, name)| {
            Ok(CalendarDay {
                date,
                kind: day_kind(&kind)?,
                name,
            })
        })
        .collect()
}

/// One year of the calendar, `None` if it is not loaded.
pub fn calendar_year(
    conn: &mut DbConnection,
    year: i32,
) -> Result<Option<CalendarYear>, StoreError> {
    let loaded_at: Option<DbInstant> = calendar_years::table
        .find(year)
        .select(calendar_years::loaded_at)
        .first(conn)
        .optional()?;
    let Some(loaded_at) = loaded_at else {
        return Ok(None);
    };
    let (first, last) = year_range(year)?;
    Ok(Some(CalendarYear {
        year,
        loaded_at: loaded_at.get(),
        days: days_between(conn, first, last)?,
    }))
}

/// Marks a year loaded unless it already is; returns whether it was absent. Of several
/// nodes doing this at once, exactly one gets `true` (the others wait for its commit on
/// the primary key, then find the row).
pub fn insert_year_if_absent(
    conn: &mut DbConnection,
    year: i32,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let insert = diesel::insert_into(calendar_years::table).values((
        calendar_years::year.eq(year),
        calendar_years::loaded_at.eq(DbInstant::from(now)),
    ));
    let inserted = on_backend!(conn, |c| insert
        .on_conflict(calendar_years::year)
        .do_nothing()
        .execute(c)?);
    Ok(inserted == 1)
}

/// Marks a year loaded now, whether or not it was.
pub fn mark_year_loaded(
    conn: &mut DbConnection,
    year: i32,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let insert = diesel::insert_into(calendar_years::table).values((
        calendar_years::year.eq(year),
        calendar_years::loaded_at.eq(DbInstant::from(now)),
    ));
    on_backend!(conn, |c| insert
        .on_conflict(calendar_years::year)
        .do_update()
        .set(calendar_years::loaded_at.eq(excluded(calendar_years::loaded_at)))
        .execute(c)?);
    Ok(())
}

/// Deletes the listed days of a year.
pub fn delete_year_days(conn: &mut DbConnection, year: i32) -> Result<usize, StoreError> {
    let (first, last) = year_range(year)?;
    Ok(
        diesel::delete(calendar_days::table.filter(calendar_days::date.between(first, last)))
            .execute(conn)?,
    )
}

/// Inserts days (their dates must not be listed yet).
pub fn insert_days(conn: &mut DbConnection, days: &[CalendarDay]) -> Result<usize, StoreError> {
    let mut inserted = 0;
    // One statement per day keeps the statement shape fixed (and prepared): a year has
    // a few dozen entries and is loaded once a year.
    for day in days {
        inserted += diesel::insert_into(calendar_days::table)
            .values((
                calendar_days::date.eq(day.date),
                calendar_days::kind.eq(day_kind_text(day.kind)),
                calendar_days::name.eq(&day.name),
            ))
            .execute(conn)?;
    }
    Ok(inserted)
}

/// Every loaded year with its days, for [`load_rules`].
pub fn calendar(conn: &mut DbConnection) -> Result<Calendar, StoreError> {
    let years: Vec<i32> = calendar_years::table
        .select(calendar_years::year)
        .order(calendar_years::year)
        .load(conn)?;
    let mut by_year: BTreeMap<i32, Vec<CalendarDay>> =
        years.iter().map(|&year| (year, Vec::new())).collect();
    let rows: Vec<(NaiveDate, String, String)> = calendar_days::table
        .select((
            calendar_days::date,
            calendar_days::kind,
            calendar_days::name,
        ))
        .order(calendar_days::date)
        .load(conn)?;
    for (date, kind, name) in rows {
        // Days of a year that is not marked loaded do not count (none are written so).
        if let Some(days) = by_year.get_mut(&date.year()) {
            days.push(CalendarDay {
                date,
                kind: day_kind(&kind)?,
                name,
            });
        }
    }
    let mut calendar = Calendar::empty();
    for (year, days) in by_year {
        calendar
            .set_year(year, days)
            .map_err(|e| StoreError::Other(format!("stored calendar {year}: {e}")))?;
    }
    Ok(calendar)
}

// ---------------------------------------------------------------------------------------
// SLA table
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaRecord {
    pub class: Urgency,
    pub policy: SlaPolicy,
    pub updated_at: DateTime<Utc>,
}

type SlaRow = (
    String,
    i32,
    String,
    i32,
    String,
    i32,
    String,
    String,
    DbInstant,
);

fn limit(what: &str, amount: i32, unit: &str) -> Result<Limit, StoreError> {
    let unit: LimitUnit = parse_stored(what, unit)?;
    u32::try_from(amount)
        .ok()
        .and_then(|amount| Limit::new(amount, unit).ok())
        .ok_or_else(|| StoreError::Other(format!("stored {what} limit {amount} is out of range")))
}

fn sla_record(row: SlaRow) -> Result<SlaRecord, StoreError> {
    let (class, a, au, c, cu, r, ru, basis, updated_at) = row;
    Ok(SlaRecord {
        class: parse_stored("urgency class", &class)?,
        policy: SlaPolicy {
            accept: limit("accept", a, &au)?,
            contact: limit("contact", c, &cu)?,
            resolve: limit("resolve", r, &ru)?,
            basis,
        },
        updated_at: updated_at.get(),
    })
}

/// The stored SLA rows, in the order of [`Urgency::ALL`].
pub fn sla_policies(conn: &mut DbConnection) -> Result<Vec<SlaRecord>, StoreError> {
    let rows: Vec<SlaRow> = sla_policies::table
        .select((
            sla_policies::class,
            sla_policies::accept_amount,
            sla_policies::accept_unit,
            sla_policies::contact_amount,
            sla_policies::contact_unit,
            sla_policies::resolve_amount,
            sla_policies::resolve_unit,
            sla_policies::basis,
            sla_policies::updated_at,
        ))
        .load(conn)?;
    let mut records = rows
        .into_iter()
        .map(sla_record)
        .collect::<Result<Vec<_>, _>>()?;
    records.sort_by_key(|r| r.class);
    Ok(records)
}

fn amount(limit: Limit) -> i32 {
    // Limit::new caps amounts far below i32::MAX (MAX_MINUTES).
    i32::try_from(limit.amount()).expect("a limit's amount fits i32")
}

/// Stores one class's policy; `replace` decides what happens when the class has a row
/// already: replaced, or left alone (seeding). Returns whether a row was written.
pub fn put_sla_policy(
    conn: &mut DbConnection,
    class: Urgency,
    policy: &SlaPolicy,
    now: DateTime<Utc>,
    replace: bool,
) -> Result<bool, StoreError> {
    let insert = diesel::insert_into(sla_policies::table).values((
        sla_policies::class.eq(class.as_str()),
        sla_policies::accept_amount.eq(amount(policy.accept)),
        sla_policies::accept_unit.eq(policy.accept.unit().as_str()),
        sla_policies::contact_amount.eq(amount(policy.contact)),
        sla_policies::contact_unit.eq(policy.contact.unit().as_str()),
        sla_policies::resolve_amount.eq(amount(policy.resolve)),
        sla_policies::resolve_unit.eq(policy.resolve.unit().as_str()),
        sla_policies::basis.eq(&policy.basis),
        sla_policies::updated_at.eq(DbInstant::from(now)),
    ));
    let written = if replace {
        on_backend!(conn, |c| insert
            .on_conflict(sla_policies::class)
            .do_update()
            .set((
                sla_policies::accept_amount.eq(excluded(sla_policies::accept_amount)),
                sla_policies::accept_unit.eq(excluded(sla_policies::accept_unit)),
                sla_policies::contact_amount.eq(excluded(sla_policies::contact_amount)),
                sla_policies::contact_unit.eq(excluded(sla_policies::contact_unit)),
                sla_policies::resolve_amount.eq(excluded(sla_policies::resolve_amount)),
                sla_policies::resolve_unit.eq(excluded(sla_policies::resolve_unit)),
                sla_policies::basis.eq(excluded(sla_policies::basis)),
                sla_policies::updated_at.eq(excluded(sla_policies::updated_at)),
            ))
            .execute(c)?)
    } else {
        on_backend!(conn, |c| insert
            .on_conflict(sla_policies::class)
            .do_nothing()
            .execute(c)?)
    };
    Ok(written == 1)
}

// ---------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------

/// What the ticket rules read, as stored: the loaded calendar years, the SLA table (the
/// defaults for a class without a row) and the dispatch map.
pub fn load_rules(conn: &mut DbConnection) -> Result<Rules, StoreError> {
    let calendar = calendar(conn)?;
    let mut sla = SlaTable::defaults();
    for record in sla_policies(conn)? {
        sla.set(record.class, record.policy);
    }
    let categories = categories(conn)?
        .into_iter()
        .map(|c| (c.code, c.department_id))
        .collect();
    Ok(Rules {
        calendar,
        sla,
        categories,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::both_backends;
    use crate::conn::write_tx;

    fn seed(conn: &mut DbConnection, now: DateTime<Utc>) {
        write_tx(conn, |c| -> Result<(), StoreError> {
            for year in [2025, 2026] {
                if insert_year_if_absent(c, year, now)? {
                    insert_days(c, &Calendar::shipped_year(year).unwrap())?;
                }
            }
            for (class, policy) in SlaTable::defaults().iter() {
                put_sla_policy(c, class, policy, now, false)?;
            }
            Ok(())
        })
        .unwrap();
    }

    both_backends!(seeded_rules_equal_the_defaults, |db| {
        let mut conn = db.conn();
        let now = Utc::now();
        seed(&mut conn, now);
        seed(&mut conn, now);
        assert_eq!(load_rules(&mut conn).unwrap(), Rules::defaults());
    });

    both_backends!(a_replaced_year_and_policy_are_read_back, |db| {
        let mut conn = db.conn();
        let now = Utc::now();
        seed(&mut conn, now);
        let day = CalendarDay {
            date: NaiveDate::from_ymd_opt(2027, 2, 8).unwrap(),
            kind: DayKind::Holiday,
            name: "春节".into(),
        };
        write_tx(&mut conn, |c| -> Result<(), StoreError> {
            delete_year_days(c, 2027)?;
            insert_days(c, std::slice::from_ref(&day))?;
            mark_year_loaded(c, 2027, now)?;
            Ok(())
        })
        .unwrap();
        let stored = calendar_year(&mut conn, 2027).unwrap().unwrap();
        assert_eq!(stored.days, vec![day]);
        assert_eq!(calendar_year(&mut conn, 2028).unwrap(), None);
        let mut policy = SlaTable::defaults().get(Urgency::General).clone();
        policy.resolve = Limit::working_days(3);
        assert!(put_sla_policy(&mut conn, Urgency::General, &policy, now, true).unwrap());
        let rules = load_rules(&mut conn).unwrap();
        assert_eq!(rules.sla.get(Urgency::General), &policy);
        assert!(rules.calendar.has_year(2027));
        assert_eq!(sla_policies(&mut conn).unwrap().len(), Urgency::ALL.len());
    });
}
