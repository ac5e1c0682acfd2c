//! JUnit XML for CI systems: one `<testsuite>` per suite, one `<testcase>` per test, with
//! `<failure>`, `<error>` or `<skipped>` as the test ended.

use std::fmt::Write as _;

use super::{Report, TestStatus};

/// The report as a JUnit XML document.
pub fn render(report: &Report, describe_failures: impl Fn(&TestStatus) -> String) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total: usize = report.suites.iter().map(|s| s.tests.len().max(1)).sum();
    let failures: usize = report
        .suites
        .iter()
        .flat_map(|s| &s.tests)
        .filter(|t| matches!(t.status, TestStatus::Failed(_)))
        .count();
    let errors: usize = report
        .suites
        .iter()
        .map(|s| {
            if s.error.is_some() {
                1
            } else {
                s.tests
                    .iter()
                    .filter(|t| matches!(t.status, TestStatus::Error(_)))
                    .count()
            }
        })
        .sum();
    let _ = writeln!(
        out,
        "<testsuites tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\">"
    );
    for (id, s) in report.suites.iter().enumerate() {
        let file = s.file.display().to_string();
        let secs: f64 = s.tests.iter().map(|t| t.duration.as_secs_f64()).sum();
        let count = |f: fn(&TestStatus) -> bool| s.tests.iter().filter(|t| f(&t.status)).count();
        let _ = writeln!(
            out,
            "  <testsuite id=\"{id}\" name=\"{}\" package=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{secs:.3}\">",
            esc(&s.name),
            esc(&file),
            s.tests.len().max(usize::from(s.error.is_some())),
            count(|st| matches!(st, TestStatus::Failed(_))),
            count(|st| matches!(st, TestStatus::Error(_))) + usize::from(s.error.is_some()),
            count(|st| matches!(st, TestStatus::Skipped(_))),
        );
        if let Some(e) = &s.error {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"suite file\" time=\"0.000\">\n      <error message=\"the suite file is invalid\" type=\"Error\">{}</error>\n    </testcase>",
                esc(&s.name),
                esc(e)
            );
        }
        for t in &s.tests {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                esc(&s.name),
                esc(&t.name),
                t.duration.as_secs_f64()
            );
            match &t.status {
                TestStatus::Passed => out.push_str("/>\n"),
                TestStatus::Skipped(reason) => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        esc(reason)
                    );
                }
                TestStatus::Failed(_) => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"Failed\" type=\"\">{}</failure>\n    </testcase>",
                        esc(&describe_failures(&t.status))
                    );
                }
                TestStatus::Error(e) => {
                    let _ = writeln!(
                        out,
                        ">\n      <error message=\"Error\" type=\"\">{}</error>\n    </testcase>",
                        esc(e)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escapes text for XML attributes and content, dropping characters XML 1.0 cannot hold
/// (such as the escape codes of coloured output).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(esc("a<b & \"c\"\u{1b}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
