//! UTC civil time for releases: RFC 3339 timestamps and the fused model id, with the `time`
//! crate doing the calendar and the parsing.
//!
//! `SOURCE_DATE_EPOCH` (reproducible-builds.org) fixes "now", so a federation run with the same
//! inputs writes byte-identical output.

use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Seconds since the Unix epoch: `$SOURCE_DATE_EPOCH` when set, else the system clock.
pub fn now_epoch() -> Result<i64, String> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|&epoch| (0..=LATEST_NOW).contains(&epoch))
            .ok_or_else(|| {
                format!(
                    "SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01, at most \
                     {LATEST_NOW} (years after that leave no room for an expiry), got {text:?}"
                )
            }),
        Err(_) => Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)),
    }
}

/// The latest "now" a release can be dated: 9989-12-31, so that `expires` (at most 3650 days
/// later, `gates.rs`) stays within the four-digit years RFC 3339 has.
const LATEST_NOW: i64 = 253_086_767_999;

/// `epoch` in UTC. Instants outside years -9999..=9999, which no release reaches (see
/// [`now_epoch`]), saturate at the ends of that range instead of failing.
fn utc(epoch: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(epoch).unwrap_or_else(|_| {
        let end = if epoch < 0 {
            PrimitiveDateTime::MIN
        } else {
            PrimitiveDateTime::MAX
        };
        end.assume_utc()
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(epoch: i64) -> String {
    let t = utc(epoch);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `spiralverse-ai-federated-vYYYY.MM.DD.HHMM`, as the original federation named releases.
pub fn fused_model_id(epoch: i64) -> String {
    let t = utc(epoch);
    format!(
        "spiralverse-ai-federated-v{:04}.{:02}.{:02}.{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into epoch seconds (fraction dropped).
/// Offsets are hours 00-23 and minutes 00-59, as RFC 3339 has them.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    // The `time` crate takes any character between date and time (RFC 3339 allows a space);
    // releases are written with `T`, and only that is accepted back.
    if !matches!(text.as_bytes().get(10), Some(b'T' | b't')) {
        return None;
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(
            fused_model_id(1_767_225_600 + 13 * 3600 + 7 * 60 + 59),
            "spiralverse-ai-federated-v2026.01.01.1307"
        );
    }

    #[test]
    fn parse_inverts_format_across_four_centuries() {
        let mut epoch = -2_208_988_800; // 1900-01-01
        while epoch < 10_413_792_000 {
            assert_eq!(parse_rfc3339(&format_rfc3339(epoch)), Some(epoch));
            epoch += 86_400 * 7 + 3_661;
        }
    }

    #[test]
    fn parse_accepts_offsets_and_fractions_and_rejects_nonsense() {
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.999Z"), Some(0));
        assert_eq!(parse_rfc3339("1969-12-31T23:30:00-00:30"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01t00:00:00z"), Some(0));
        for bad in [
            "",
            "1970-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1970-01-01 00:00:00Z",
            "1970-01-01T00:00:00",
            "2026-12-01T00:00:00+99:99",
            "2026-12-01T00:00:00+24:00",
            "2026-12-01T00:00:00+01:60",
            "2026-12-01T00:00:00+0100",
            "2026-12-01T25:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_latest_now_leaves_room_for_the_longest_expiry() {
        let expires = LATEST_NOW + 3650 * 86_400;
        assert_eq!(format_rfc3339(LATEST_NOW), "9989-12-31T23:59:59Z");
        assert_eq!(parse_rfc3339(&format_rfc3339(expires)), Some(expires));
    }
}
