//! What the paged lists outside tickets share: strict query parameters, each invalid one
//! named in one 422, and opaque keyset cursors over `(created_at, id)`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::problem::{ApiError, FieldError};

/// `limit` is 1 to this on every list (DESIGN.md section 7).
pub const MAX_LIMIT: i64 = 100;

/// A page's position: after the row with this `(created_at, id)`, newest first.
pub fn encode_cursor(created_at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{id}", created_at.timestamp_micros()))
}

pub fn decode_cursor(raw: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (micros, id) = text.split_once('.')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        id.parse().ok()?,
    ))
}

/// A timeline page's position: after the event with this `seq` (`/events` pages by `seq`
/// ascending). Opaque like the others, and told apart from them by its prefix.
pub fn encode_seq_cursor(seq: i32) -> String {
    URL_SAFE_NO_PAD.encode(format!("seq.{seq}"))
}

pub fn decode_seq_cursor(raw: &str) -> Option<i32> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    text.strip_prefix("seq.")?
        .parse()
        .ok()
        .filter(|seq: &i32| *seq >= 0)
}

/// A position in the ticket list's deadline order (`sort=due`): after the ticket `id` whose
/// open deadline is `due_at`. Told apart from the newest-first cursor by its prefix, so a
/// cursor of one order given to the other is 422.
pub fn encode_due_cursor(due_at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("due.{}.{id}", due_at.timestamp_micros()))
}

pub fn decode_due_cursor(raw: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (micros, id) = text.strip_prefix("due.")?.split_once('.')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        id.parse().ok()?,
    ))
}

/// A change feed's position: after the ticket `id` at position `changed`
/// (`GET /v1/tickets/changes`). Opaque, and told apart from the others by its prefix.
pub fn encode_feed_cursor(changed: i64, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("feed.{changed}.{id}"))
}

pub fn decode_feed_cursor(raw: &str) -> Option<(i64, Uuid)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (changed, id) = text.strip_prefix("feed.")?.split_once('.')?;
    let changed: i64 = changed.parse().ok().filter(|c: &i64| *c >= -1)?;
    Some((changed, id.parse().ok()?))
}

/// A query's invalid parameters, all reported at once.
#[derive(Default)]
pub struct Params {
    errors: Vec<FieldError>,
}

impl Params {
    pub fn bad(&mut self, name: &str, code: &'static str, detail: impl Into<String>) {
        self.errors.push(FieldError::parameter(name, code, detail));
    }

    pub fn id(&mut self, name: &str, raw: Option<&str>) -> Option<Uuid> {
        let parsed = raw?.parse().ok();
        if parsed.is_none() {
            self.bad(name, "invalid", "must be a UUID");
        }
        parsed
    }

    /// Strictly `true` or `false`; absent is `false`.
    pub fn flag(&mut self, name: &str, raw: Option<&str>) -> bool {
        match raw {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                self.bad(name, "invalid", "must be true or false");
                false
            }
        }
    }

    /// Strictly `true` or `false`; absent is `None` (no filter either way).
    pub fn optional_flag(&mut self, name: &str, raw: Option<&str>) -> Option<bool> {
        raw.is_some().then(|| self.flag(name, raw))
    }

    /// 1 to [`MAX_LIMIT`], `default` when absent.
    pub fn limit(&mut self, raw: Option<&str>, default: i64) -> i64 {
        match raw.map(str::parse::<i64>) {
            None => default,
            Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                self.bad(
                    "limit",
                    "out_of_range",
                    format!("must be a number from 1 to {MAX_LIMIT}"),
                );
                default
            }
        }
    }

    /// An RFC 3339 instant with any offset, or a date `YYYY-MM-DD` meaning 00:00 of it in
    /// +08:00 (the county's days, DESIGN.md section 4).
    pub fn instant(&mut self, name: &str, raw: Option<&str>) -> Option<DateTime<Utc>> {
        let raw = raw?;
        let parsed = DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .ok()
                    .map(jiban_domain::deadline::calendar::start_of_day)
            });
        if parsed.is_none() {
            self.bad(
                name,
                "invalid",
                "must be an RFC 3339 instant with offset, or a date YYYY-MM-DD (00:00 +08:00)",
            );
        }
        parsed
    }

    /// Takes the query's pairs for the `known` names: an unknown name or one given twice
    /// is named in the 422 (a typo in a filter must not widen the answer silently).
    pub fn known<'q>(
        &mut self,
        pairs: &'q [(String, String)],
        known: &[&str],
    ) -> std::collections::HashMap<String, &'q str> {
        let mut values = std::collections::HashMap::new();
        for (name, value) in pairs {
            if !known.contains(&name.as_str()) {
                self.bad(
                    name,
                    "unknown_parameter",
                    format!("unknown parameter; this list takes {}", known.join(", ")),
                );
            } else if values.insert(name.clone(), value.as_str()).is_some() {
                self.bad(name, "duplicate_parameter", "give this parameter once");
            }
        }
        values
    }

    pub fn cursor(&mut self, raw: Option<&str>) -> Option<(DateTime<Utc>, Uuid)> {
        let c = decode_cursor(raw?);
        if c.is_none() {
            self.bad("cursor", "invalid", "is not a cursor this API gave out");
        }
        c
    }

    /// A cursor of [`encode_due_cursor`].
    pub fn due_cursor(&mut self, raw: Option<&str>) -> Option<(DateTime<Utc>, Uuid)> {
        let c = decode_due_cursor(raw?);
        if c.is_none() {
            self.bad("cursor", "invalid", "is not a cursor this API gave out");
        }
        c
    }

    /// A cursor of [`encode_seq_cursor`].
    pub fn seq_cursor(&mut self, raw: Option<&str>) -> Option<i32> {
        let c = decode_seq_cursor(raw?);
        if c.is_none() {
            self.bad("cursor", "invalid", "is not a cursor this API gave out");
        }
        c
    }

    /// A cursor of [`encode_feed_cursor`].
    pub fn feed_cursor(&mut self, raw: Option<&str>) -> Option<(i64, Uuid)> {
        let c = decode_feed_cursor(raw?);
        if c.is_none() {
            self.bad("cursor", "invalid", "is not a cursor this API gave out");
        }
        c
    }

    /// A value the domain parses (`role`, `urgency`…): its error, the allowed values
    /// included, names the parameter. The empty string is a value like any other (`role=`
    /// must not mean "every role").
    pub fn value<T: std::str::FromStr<Err = jiban_domain::values::ValueError>>(
        &mut self,
        name: &str,
        raw: Option<&str>,
    ) -> Option<T> {
        match raw?.parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.bad(name, e.code(), e.to_string());
                None
            }
        }
    }

    /// The parsed values, or the 422 naming every invalid parameter.
    pub fn finish<T>(self, parsed: T) -> Result<T, ApiError> {
        if self.errors.is_empty() {
            Ok(parsed)
        } else {
            Err(ApiError::invalid(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let at = DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(at, id)), Some((at, id)));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        assert_eq!(decode_cursor(""), None);
        assert_eq!(decode_seq_cursor(&encode_seq_cursor(7)), Some(7));
        assert_eq!(decode_seq_cursor(&encode_cursor(at, id)), None);
        assert_eq!(decode_cursor(&encode_seq_cursor(7)), None);
        assert_eq!(
            decode_feed_cursor(&encode_feed_cursor(42, id)),
            Some((42, id))
        );
        assert_eq!(
            decode_feed_cursor(&encode_feed_cursor(-1, id)),
            Some((-1, id))
        );
        assert_eq!(decode_feed_cursor(&encode_cursor(at, id)), None);
        assert_eq!(decode_feed_cursor(&encode_seq_cursor(7)), None);
        assert_eq!(decode_cursor(&encode_feed_cursor(42, id)), None);
        assert_eq!(
            decode_due_cursor(&encode_due_cursor(at, id)),
            Some((at, id))
        );
        assert_eq!(decode_due_cursor(&encode_cursor(at, id)), None);
        assert_eq!(decode_cursor(&encode_due_cursor(at, id)), None);
    }

    #[test]
    fn dates_in_filters_start_at_midnight_in_the_county() {
        let mut p = Params::default();
        let t = p.instant("from", Some("2026-03-02")).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-01T16:00:00+00:00");
        assert!(
            p.instant("from", Some("2026-03-02T09:00:00+08:00"))
                .is_some()
        );
        assert!(p.errors.is_empty());
        assert!(p.instant("from", Some("2026-03-02T09:00:00")).is_none());
        assert_eq!(p.errors.len(), 1, "an instant without offset is refused");
    }

    #[test]
    fn flags_and_limits_are_strict() {
        let mut p = Params::default();
        assert!(p.flag("mine", Some("true")));
        assert!(!p.flag("mine", None));
        assert!(!p.flag("mine", Some("1")));
        assert_eq!(p.limit(Some("100"), 50), 100);
        assert_eq!(p.limit(None, 50), 50);
        p.limit(Some("0"), 50);
        p.limit(Some("101"), 50);
        assert_eq!(p.errors.len(), 3);
    }
}

/// A page of any list: `{items, next_cursor}` (DESIGN.md section 7, keyset pagination).
#[derive(serde::Serialize)]
pub struct PageResponse<T> {
    pub items: Vec<T>,
    /// Present when more items may follow.
    pub next_cursor: Option<String>,
}

/// A route that takes no query parameters refuses any it is given, naming each (issue 8:
/// an unknown parameter is never silently ignored).
pub fn no_parameters(pairs: &[(String, String)]) -> Result<(), ApiError> {
    let mut p = Params::default();
    for (name, _) in pairs {
        p.bad(
            name,
            "unknown_parameter",
            "this route takes no query parameters",
        );
    }
    p.finish(())
}
