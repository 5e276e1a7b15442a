//! Instants as Jiban writes them: RFC 3339 at +08:00, China Standard Time, the zone in which
//! the statute's days are counted (DESIGN.md section 7). Requests accept any offset; every
//! answer, and every line the `jiban` command prints, writes instants through
//! [`rfc3339`] here, so that a client never has to convert a deadline to read its day.
//!
//! Response structs keep `DateTime<Utc>` fields and name [`serialize`] or
//! [`serialize_opt`] in `#[serde(serialize_with = …)]`. The ticket timeline stores its
//! `data` as JSON written by the domain's serde (UTC); [`localize_event_data`] rewrites
//! its instants on the way out. Both are the domain's (`jiban_domain::instant`), which the
//! webhooks' payloads write through too.

use chrono::{DateTime, Utc};
use serde::Serializer;

pub use jiban_domain::instant::{localize_event_data, rfc3339};

/// `#[serde(serialize_with = "crate::time::serialize")]` on a `DateTime<Utc>` field.
pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*at))
}

/// `#[serde(serialize_with = "crate::time::serialize_opt")]` on an `Option<DateTime<Utc>>`
/// field: `null` when absent.
pub fn serialize_opt<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize(at, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;

    fn instant(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn seconds_always_fractions_only_when_some() {
        assert_eq!(
            rfc3339(instant("2026-12-03T16:00:00Z")),
            "2026-12-04T00:00:00+08:00"
        );
        assert_eq!(
            rfc3339(instant("2026-12-03T16:00:00.250Z")),
            "2026-12-04T00:00:00.250+08:00"
        );
        assert_eq!(
            rfc3339(instant("2026-12-03T16:00:00.123456Z")),
            "2026-12-04T00:00:00.123456+08:00"
        );
        // Any offset in, the same instant out at +08:00.
        assert_eq!(
            rfc3339(instant("2026-12-03T11:00:00-05:00")),
            "2026-12-04T00:00:00+08:00"
        );
    }

    #[test]
    fn fields_serialize_at_plus_eight() {
        #[derive(Serialize)]
        struct Answer {
            #[serde(serialize_with = "serialize")]
            at: DateTime<Utc>,
            #[serde(serialize_with = "serialize_opt")]
            some: Option<DateTime<Utc>>,
            #[serde(serialize_with = "serialize_opt")]
            none: Option<DateTime<Utc>>,
        }
        let answer = Answer {
            at: instant("2026-12-31T23:59:59Z"),
            some: Some(instant("2026-12-03T16:00:00.5Z")),
            none: None,
        };
        assert_eq!(
            serde_json::to_value(answer).unwrap(),
            json!({
                "at": "2027-01-01T07:59:59+08:00",
                "some": "2026-12-04T00:00:00.500+08:00",
                "none": null,
            })
        );
    }

    /// Every instant the domain's events carry, as the domain serialises them, comes out at
    /// +08:00; free text that looks like an instant is left as written.
    #[test]
    fn event_data_instants_are_localized_and_text_is_not() {
        use jiban_domain::deadline::{Adjustment, Calendar, Deadline, Limit};
        let calendar = Calendar::shipped();
        let mut deadline = Deadline::start(
            instant("2026-12-01T02:00:00Z"),
            Limit::minutes(60),
            &calendar,
        );
        deadline.met_at = Some(instant("2026-12-01T02:30:00.25Z"));
        deadline.adjustments.push(Adjustment::Pause {
            from: instant("2026-12-01T02:10:00Z"),
            to: instant("2026-12-01T02:20:00Z"),
        });
        let mut data = json!({
            "body": "2026-12-01T02:00:00Z",
            "items": ["2026-12-01T02:00:00Z"],
            "visited_at": "2026-12-01T01:00:00Z",
            "resolve": serde_json::to_value(&deadline).unwrap(),
            "deadlines": {"accept": serde_json::to_value(&deadline).unwrap()},
        });
        localize_event_data(&mut data);
        assert_eq!(data["body"], "2026-12-01T02:00:00Z");
        assert_eq!(data["items"][0], "2026-12-01T02:00:00Z");
        assert_eq!(data["visited_at"], "2026-12-01T09:00:00+08:00");
        for d in [&data["resolve"], &data["deadlines"]["accept"]] {
            assert_eq!(d["started_at"], "2026-12-01T10:00:00+08:00");
            assert_eq!(d["due_at"], "2026-12-01T11:00:00+08:00");
            assert_eq!(d["met_at"], "2026-12-01T10:30:00.250+08:00");
            assert_eq!(d["adjustments"][0]["from"], "2026-12-01T10:10:00+08:00");
            assert_eq!(d["adjustments"][0]["to"], "2026-12-01T10:20:00+08:00");
        }
    }
}
