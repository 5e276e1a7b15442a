//! Instants as Jiban writes them: RFC 3339 at +08:00, China Standard Time, the zone in which
//! the statute's days are counted (DESIGN.md section 7). The api's answers
//! (`api/src/time.rs`) and the webhooks' payloads ([`crate::webhook`]) write every instant
//! through here, so that a reader never has to convert a deadline to read its day.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::deadline::calendar::zone;

/// An instant as RFC 3339 at +08:00: seconds always, a fraction only when there is one
/// (`2026-12-04T00:00:00+08:00`, `2026-12-04T00:00:00.250+08:00`).
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.with_timezone(&zone())
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Rewrites at +08:00 every instant in a timeline entry's `data`, at any depth.
///
/// Which strings are instants is decided by their key, not by their look: the domain names
/// every instant `*_at` (`due_at`, `started_at`, `met_at`, `visited_at`), except a
/// deadline's pause, `{kind: "pause", from, to}`. Free text (a comment, a reason, a
/// summary) never sits under those keys, so a comment whose body happens to be an RFC 3339
/// string is shown as written. A value under such a key that does not parse as RFC 3339 is
/// left alone.
pub fn localize_event_data(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(s) if is_instant_key(key) => {
                        if let Ok(at) = DateTime::parse_from_rfc3339(s) {
                            *s = rfc3339(at.to_utc());
                        }
                    }
                    _ => localize_event_data(item),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(localize_event_data),
        _ => {}
    }
}

fn is_instant_key(key: &str) -> bool {
    key.ends_with("_at") || key == "from" || key == "to"
}
