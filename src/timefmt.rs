//! Formatting record times with a Go reference-time layout (`2006-01-02 15:04:05`), the
//! form Helm's `--time-format` takes, so the layouts Helm users keep in scripts work as
//! they are. Record times are UTC, so zone tokens print UTC.

use anyhow::{Result, bail};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The layout tokens, longest first so that `January` wins over `Jan` and `2006` over `2`.
const TOKENS: [&str; 27] = [
    "January", "Monday", "Z07:00", "-07:00", "Z0700", "-0700", "2006", "Jan", "Mon", "MST", "002",
    "-07", "_2", "01", "02", "03", "04", "05", "06", "15", "PM", "pm", "1", "2", "3", "4", "5",
];

struct Parts {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    /// Fractional-second digits as written (up to nanoseconds).
    frac: String,
}

fn parse(rfc3339: &str) -> Option<Parts> {
    let t = rfc3339.strip_suffix('Z')?;
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<u32>().ok();
    if t.len() < 19 || &t[4..5] != "-" || &t[10..11] != "T" {
        return None;
    }
    let frac = t.get(19..).unwrap_or("");
    let frac = frac.strip_prefix('.').unwrap_or(frac);
    Some(Parts {
        year: t.get(0..4)?.parse().ok()?,
        month: num(5..7)?,
        day: num(8..10)?,
        hour: num(11..13)?,
        minute: num(14..16)?,
        second: num(17..19)?,
        frac: frac.chars().take_while(char::is_ascii_digit).collect(),
    })
}

/// Days since 1970-01-01 (Howard Hinnant's days-from-civil).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Checks a layout once, before any row is printed: one with no Go token at all is almost
/// always a strftime pattern (`%Y-%m-%d`), which Helm does not take either.
pub fn check_layout(layout: &str) -> Result<()> {
    if layout.contains('%') {
        bail!(
            "--time-format `{layout}` looks like a strftime pattern; it takes a Go layout written with the reference time, e.g. --time-format '2006-01-02 15:04:05'"
        );
    }
    Ok(())
}

/// Formats an RFC 3339 UTC time with a Go layout; a time that is not RFC 3339 is returned
/// unchanged.
pub fn format(rfc3339: &str, layout: &str) -> String {
    let Some(p) = parse(rfc3339) else {
        return rfc3339.to_string();
    };
    let days = days_from_civil(p.year, p.month, p.day);
    // 1970-01-01 was a Thursday (index 3 from Monday).
    let weekday = DAYS[(days + 3).rem_euclid(7) as usize];
    let month = MONTHS[(p.month as usize).saturating_sub(1).min(11)];
    let yday = days - days_from_civil(p.year, 1, 1) + 1;
    let hour12 = match p.hour % 12 {
        0 => 12,
        h => h,
    };
    let mut out = String::new();
    let mut rest = layout;
    'scan: while !rest.is_empty() {
        // Fractional seconds: `.000` pads, `.999` trims trailing zeros.
        if let Some(after) = rest.strip_prefix(['.', ',']) {
            let n = after.chars().take_while(|c| *c == '0').count();
            let m = after.chars().take_while(|c| *c == '9').count();
            if n > 0 || m > 0 {
                let width = n.max(m);
                let mut digits: String = p
                    .frac
                    .chars()
                    .chain(std::iter::repeat('0'))
                    .take(width)
                    .collect();
                if m > 0 {
                    digits = digits.trim_end_matches('0').to_string();
                }
                if !digits.is_empty() {
                    out.push(rest.as_bytes()[0] as char);
                    out.push_str(&digits);
                }
                rest = &after[width..];
                continue;
            }
        }
        for token in TOKENS {
            if let Some(after) = rest.strip_prefix(token) {
                let text = match token {
                    "January" => month.to_string(),
                    "Jan" => month[..3].to_string(),
                    "Monday" => weekday.to_string(),
                    "Mon" => weekday[..3].to_string(),
                    "MST" => "UTC".to_string(),
                    "Z07:00" | "Z0700" => "Z".to_string(),
                    "-07:00" => "+00:00".to_string(),
                    "-0700" => "+0000".to_string(),
                    "-07" => "+00".to_string(),
                    "2006" => format!("{:04}", p.year),
                    "06" => format!("{:02}", p.year.rem_euclid(100)),
                    "002" => format!("{yday:03}"),
                    "01" => format!("{:02}", p.month),
                    "1" => p.month.to_string(),
                    "02" => format!("{:02}", p.day),
                    "_2" => format!("{:>2}", p.day),
                    "2" => p.day.to_string(),
                    "15" => format!("{:02}", p.hour),
                    "03" => format!("{hour12:02}"),
                    "3" => hour12.to_string(),
                    "04" => format!("{:02}", p.minute),
                    "4" => p.minute.to_string(),
                    "05" => format!("{:02}", p.second),
                    "5" => p.second.to_string(),
                    "PM" => if p.hour < 12 { "AM" } else { "PM" }.to_string(),
                    "pm" => if p.hour < 12 { "am" } else { "pm" }.to_string(),
                    _ => unreachable!("every token has a rendering"),
                };
                out.push_str(&text);
                rest = after;
                continue 'scan;
            }
        }
        let c = rest.chars().next().expect("rest is not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "2024-02-29T13:04:05.678Z";

    #[test]
    fn go_layouts_print_as_go_prints_them() {
        assert_eq!(format(T, "2006-01-02 15:04:05"), "2024-02-29 13:04:05");
        assert_eq!(
            format(T, "2006-01-02T15:04:05Z07:00"),
            "2024-02-29T13:04:05Z"
        );
        assert_eq!(format(T, "Mon Jan _2 3:04PM"), "Thu Feb 29 1:04PM");
        assert_eq!(
            format(T, "Monday, 2 January 06"),
            "Thursday, 29 February 24"
        );
        assert_eq!(format(T, "15:04:05.000 MST"), "13:04:05.678 UTC");
        assert_eq!(format("2024-02-29T13:04:05.600Z", "05.999"), "05.6");
        assert_eq!(format(T, "002"), "060");
    }

    #[test]
    fn strftime_patterns_are_refused_with_the_go_form() {
        let e = check_layout("%Y-%m-%d").unwrap_err().to_string();
        assert!(e.contains("2006-01-02"), "{e}");
        assert_eq!(format("not a time", "2006"), "not a time");
    }
}
