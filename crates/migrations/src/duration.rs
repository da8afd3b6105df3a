//! Durations as people write them in directives and configuration: `500ms`, `2s`, `5min`, `1h`.
//! The one duration parser of haste: directives, `data.sql` headers, `haste.toml` and flags.

use std::time::Duration;

/// The longest duration haste accepts: PostgreSQL's `lock_timeout` and `statement_timeout`
/// take at most `INT_MAX` milliseconds (about 24.8 days). Lock waits and batch targets share
/// the bound, which is far beyond any sensible value for them too.
pub const MAX_DURATION: Duration = Duration::from_millis(i32::MAX as u64);

const NANOS_PER_MILLI: u128 = 1_000_000;

/// Parses `500ms`, `2s`, `5min`, `1h`, with an optional decimal fraction (`1.5s`); a bare
/// number is seconds, `0` disables. The units are PostgreSQL's own for its timeouts, so a value
/// means here what it means in `SET lock_timeout`: `m` is refused (minutes or milliseconds?
/// PostgreSQL refuses it too), as are spellings PostgreSQL does not read (`sec`). Refuses values above [`MAX_DURATION`] and fractions
/// of a millisecond (PostgreSQL counts whole milliseconds, so `0.5ms` would silently mean
/// "no limit"). Arithmetic is on integers and checked: no input panics.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let malformed = || format!("`{text}` is not a duration like 500ms, 2s, 5min or 1h");
    if text.starts_with('-') {
        return Err(format!("`{text}` is negative: a duration is 0 or more, like 500ms, 2s, 5min or 1h"));
    }
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let nanos_per_unit: u128 = match unit.trim() {
        "ms" => NANOS_PER_MILLI,
        "" | "s" => 1_000 * NANOS_PER_MILLI,
        "min" => 60_000 * NANOS_PER_MILLI,
        "h" => 3_600_000 * NANOS_PER_MILLI,
        "m" => return Err(format!("`{text}`: is `m` minutes or milliseconds? Write `min` or `ms`")),
        other => return Err(format!("unknown unit `{other}` in `{text}` (use ms, s, min or h)")),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return Err(malformed());
    }
    let too_long = || {
        format!(
            "`{text}` is longer than the maximum of {} ms (about 24 days, PostgreSQL's limit for timeouts)",
            MAX_DURATION.as_millis()
        )
    };
    // Digits only from here. Leading zeros say nothing; more than 20 other digits is beyond
    // any bound, and keeps the products below within u128.
    let whole = whole.trim_start_matches('0');
    if whole.len() > 20 {
        return Err(too_long());
    }
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| malformed())? };
    // Nanoseconds are the finest unit; further digits of a fraction cannot matter.
    let fraction = &fraction[..fraction.len().min(18)];
    let fraction_nanos = if fraction.is_empty() {
        0
    } else {
        let digits: u128 = fraction.parse().map_err(|_| malformed())?;
        digits * nanos_per_unit / 10u128.pow(fraction.len() as u32)
    };
    let nanos = whole.checked_mul(nanos_per_unit).and_then(|n| n.checked_add(fraction_nanos));
    let nanos = nanos.filter(|&n| n <= MAX_DURATION.as_nanos()).ok_or_else(too_long)?;
    if nanos % NANOS_PER_MILLI != 0 {
        return Err(format!("`{text}` is not a whole number of milliseconds"));
    }
    Ok(Duration::from_millis((nanos / NANOS_PER_MILLI) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_units() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration(" 2 s ").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration(".25s").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("5min").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("000000000000000000000000000007s").unwrap(), Duration::from_secs(7));
        assert!(parse_duration("2 weeks").is_err());
        for malformed in ["", ".", "s", "1.2.3s", "-1s", "1e3s", "½s"] {
            assert!(parse_duration(malformed).is_err(), "{malformed}");
        }
    }

    #[test]
    fn only_postgresqls_units_are_read() {
        let error = parse_duration("5m").unwrap_err();
        assert!(error.contains("`min` or `ms`"), "{error}");
        for text in ["5sec", "5mins", "5M", "5S", "1d"] {
            let error = parse_duration(text).unwrap_err();
            assert!(error.contains("use ms, s, min or h"), "{text}: {error}");
        }
    }

    #[test]
    fn a_negative_duration_is_called_negative() {
        for text in ["-1", "-500ms", "-0.5s"] {
            assert!(parse_duration(text).unwrap_err().contains("is negative"), "{text}");
        }
    }

    #[test]
    fn the_maximum_is_postgresqls_int_max_milliseconds() {
        assert_eq!(parse_duration("2147483647ms").unwrap(), MAX_DURATION);
        assert_eq!(parse_duration("2147483.647s").unwrap(), MAX_DURATION);
        for too_long in [
            "2147483648ms",
            "18446744073709551615s",
            "99999999999999999999999",
            "99999999999999999999999999999999999999999999h",
            "596524h",
        ] {
            let error = parse_duration(too_long).unwrap_err();
            assert!(error.contains(too_long) && error.contains("2147483647 ms"), "{error}");
        }
    }

    #[test]
    fn fractions_of_a_millisecond_are_refused_rather_than_rounded_to_no_limit() {
        assert!(parse_duration("0.5ms").unwrap_err().contains("whole number of milliseconds"));
        assert!(parse_duration("1.0001s").is_err());
        assert_eq!(parse_duration("1.000000000000000000000s").unwrap(), Duration::from_secs(1));
    }
}
