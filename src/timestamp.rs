//! The one timestamp type: an instant in UTC, written as RFC 3339. Release records use
//! milliseconds (`2026-01-02T03:04:05.678Z`); repository indexes use nanoseconds, as Go's
//! `time.Time` marshals them and as Helm writes `index.yaml`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant, as seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// The current time.
    pub fn now() -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }

    /// The instant `t`; times before the epoch are clamped to it.
    pub(crate) fn from_system_time(t: SystemTime) -> Timestamp {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        Timestamp::from_unix(d)
    }

    /// The instant `d` after the epoch.
    pub(crate) fn from_unix(d: Duration) -> Timestamp {
        Timestamp {
            secs: d.as_secs() as i64,
            nanos: d.subsec_nanos(),
        }
    }

    /// RFC 3339 with milliseconds, as release records store times.
    pub(crate) fn rfc3339_millis(self) -> String {
        format!("{}.{:03}Z", self.date_time(), self.nanos / 1_000_000)
    }

    /// RFC 3339 with nanoseconds, as Helm's `index.yaml` stores times.
    pub(crate) fn rfc3339_nanos(self) -> String {
        format!("{}.{:09}Z", self.date_time(), self.nanos)
    }

    /// `YYYY-MM-DDTHH:MM:SS` in UTC.
    fn date_time(self) -> String {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's civil-from-days algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// The current time as release records store it, e.g. `2026-01-02T03:04:05.678Z`.
pub(crate) fn now_rfc3339() -> String {
    Timestamp::now().rfc3339_millis()
}

/// An RFC 3339 timestamp as people read it in tables: `2026-01-02 03:04:05 UTC`. Text
/// that is not a UTC timestamp is shown as it is.
pub(crate) fn human_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..19)) {
        (Some(date), Some(time)) if rfc3339.ends_with('Z') => format!("{date} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, nanos: u32) -> Timestamp {
        Timestamp::from_unix(Duration::new(secs, nanos))
    }

    #[test]
    fn records_use_milliseconds_in_utc() {
        assert_eq!(at(0, 0).rfc3339_millis(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            at(1_709_251_199, 5_000_000).rfc3339_millis(),
            "2024-02-29T23:59:59.005Z"
        );
        assert_eq!(
            at(951_782_400, 0).rfc3339_millis(),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn indexes_use_nanoseconds_as_go_does() {
        assert_eq!(
            at(1_700_000_000, 5).rfc3339_nanos(),
            "2023-11-14T22:13:20.000000005Z"
        );
    }

    #[test]
    fn tables_show_a_readable_utc_time() {
        assert_eq!(
            human_time("2024-02-29T23:59:59.005Z"),
            "2024-02-29 23:59:59 UTC"
        );
        assert_eq!(human_time("yesterday"), "yesterday");
    }
}
