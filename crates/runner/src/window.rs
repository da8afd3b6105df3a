//! Deploy windows: the hours an environment takes deploys in (`window = "Sat 02:00-05:00
//! Europe/Berlin"` in its section of haste.toml), read in the window's own time zone, so a
//! change of daylight saving time moves the window with the clock on the wall.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// When deploys may start.
#[derive(Debug, Clone)]
pub struct DeployWindow {
    /// As written, for messages.
    text: String,
    days: Vec<Weekday>,
    start: Time,
    end: Time,
    zone: TimeZone,
}

const DAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

/// A day's English name or its first three letters, in any case: `Sat`, `saturday`. A word that
/// only begins like a day (`Saturnalia`) is not one.
fn day(text: &str) -> Result<Weekday, String> {
    let lower = text.to_ascii_lowercase();
    DAYS.iter()
        .find(|(name, _)| lower == *name || (lower.len() == 3 && name.starts_with(lower.as_str())))
        .map(|(_, day)| *day)
        .ok_or_else(|| format!("`{text}` is not a day (Mon, Tue, ..., Sun)"))
}

/// `Sat`, `Mon-Fri`, `Sat,Sun`, or `daily`.
fn days(text: &str) -> Result<Vec<Weekday>, String> {
    if text.eq_ignore_ascii_case("daily") {
        return Ok(DAYS.iter().map(|(_, day)| *day).collect());
    }
    let mut days = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((first, last)) => {
                let (mut current, last) = (day(first)?, day(last)?);
                days.push(current);
                while current != last {
                    current = current.wrapping_add(1);
                    days.push(current);
                }
            }
            None => days.push(day(part)?),
        }
    }
    Ok(days)
}

fn time(text: &str) -> Result<Time, String> {
    let (hour, minute) = text.split_once(':').ok_or_else(|| format!("`{text}` is not a time (HH:MM)"))?;
    // Two digits each: `parse` alone would take `+2` for 02.
    let number = |n: &str, max: i8| {
        (n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()))
            .then(|| n.parse::<i8>().ok())
            .flatten()
            .filter(|v| (0..=max).contains(v))
    };
    match (number(hour, 23), number(minute, 59)) {
        (Some(hour), Some(minute)) => Time::new(hour, minute, 0, 0).map_err(|e| e.to_string()),
        // 24:00 closes a window at midnight.
        _ if text == "24:00" => Ok(Time::MAX),
        _ => Err(format!("`{text}` is not a time (HH:MM, 00:00 to 24:00)")),
    }
}

impl DeployWindow {
    /// Reads `<days> <HH:MM>-<HH:MM> <time zone>`: `Sat 02:00-05:00 Europe/Berlin`, `Mon-Fri
    /// 22:00-02:00 UTC` (a window past midnight belongs to the day it starts on).
    pub fn parse(text: &str) -> Result<DeployWindow, String> {
        let shape = "a window is `<days> <HH:MM>-<HH:MM> <time zone>`, e.g. `Sat 02:00-05:00 Europe/Berlin`";
        let [days_text, hours, zone_name] = text.split_whitespace().collect::<Vec<_>>()[..] else {
            return Err(format!("`{text}`: {shape}"));
        };
        let (start, end) = hours.split_once('-').ok_or_else(|| format!("`{hours}`: {shape}"))?;
        let zone = TimeZone::get(zone_name).map_err(|_| {
            format!("`{zone_name}` is not a time zone (an IANA name such as Europe/Berlin, or UTC)")
        })?;
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Err(format!("`{hours}`: the window is empty"));
        }
        Ok(DeployWindow { text: text.to_owned(), days: days(days_text)?, start, end, zone })
    }

    /// Whether a deploy may start at `now`.
    pub fn contains(&self, now: Timestamp) -> bool {
        let local: Zoned = now.to_zoned(self.zone.clone());
        let (today, at) = (local.weekday(), local.time());
        if self.start < self.end {
            self.days.contains(&today) && self.start <= at && at < self.end
        } else {
            // Past midnight: the evening part today, or the morning part of yesterday's window.
            (self.days.contains(&today) && at >= self.start)
                || (self.days.contains(&today.wrapping_sub(1)) && at < self.end)
        }
    }

    /// As written in haste.toml.
    pub fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::DeployWindow;

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_window_is_read_in_its_own_time_zone() {
        let window = DeployWindow::parse("Sat 02:00-05:00 Europe/Berlin").unwrap();
        // 2026-12-05 is a Saturday; Berlin is UTC+1 in December.
        assert!(window.contains(at("2026-12-05T01:30:00Z")));
        assert!(!window.contains(at("2026-12-05T04:00:00Z")));
        assert!(!window.contains(at("2026-12-05T00:30:00Z")));
        assert!(!window.contains(at("2026-12-06T01:30:00Z")), "Sunday");
        // In July, UTC+2.
        assert!(window.contains(at("2026-07-04T00:30:00Z")));
    }

    #[test]
    fn ranges_lists_and_midnight() {
        let weekdays = DeployWindow::parse("Mon-Fri 22:00-02:00 UTC").unwrap();
        assert!(weekdays.contains(at("2026-12-04T23:00:00Z")), "Friday evening");
        assert!(weekdays.contains(at("2026-12-05T01:00:00Z")), "Friday's window after midnight");
        assert!(!weekdays.contains(at("2026-12-06T01:00:00Z")), "Saturday's would start on Saturday");
        let weekend = DeployWindow::parse("sat,SUN 00:00-24:00 UTC").unwrap();
        assert!(weekend.contains(at("2026-12-06T23:59:00Z")));
        assert!(DeployWindow::parse("daily 09:00-17:00 America/New_York").is_ok());
    }

    #[test]
    fn bad_windows_say_what_is_wrong() {
        for (text, says) in [
            ("Sat 02:00-05:00", "a window is"),
            ("Sat 02:00-05:00 Mars/Olympus", "not a time zone"),
            ("Sat 2:00-05:00 UTC", "not a time"),
            ("Sat 25:00-05:00 UTC", "not a time"),
            ("Caturday 02:00-05:00 UTC", "not a day"),
            ("Sat 02:00-02:00 UTC", "empty"),
        ] {
            let error = DeployWindow::parse(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
