//! JUnit XML, the report format CI systems read.

use std::fmt::Write as _;

use super::{Outcome, Report};

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// The report as a JUnit XML document.
pub fn render(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let (tests, failures, skipped) = report.counts();
    let _ = writeln!(
        out,
        "<testsuites tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\">"
    );
    for s in &report.suites {
        let t = s.tests.len();
        let f = s
            .tests
            .iter()
            .filter(|t| matches!(t.outcome, Outcome::Failed(_)))
            .count()
            + usize::from(s.error.is_some());
        let sk = s
            .tests
            .iter()
            .filter(|t| matches!(t.outcome, Outcome::Skipped(_)))
            .count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" file=\"{}\" tests=\"{t}\" failures=\"{f}\" skipped=\"{sk}\">",
            escape(&s.name),
            escape(&s.file.display().to_string())
        );
        if let Some(e) = &s.error {
            let _ = writeln!(
                out,
                "    <testcase name=\"(suite)\" classname=\"{}\">\n      <failure message=\"the suite could not run\">{}</failure>\n    </testcase>",
                escape(&s.name),
                escape(e)
            );
        }
        for test in &s.tests {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
                escape(&test.name),
                escape(&s.name),
                test.seconds
            );
            match &test.outcome {
                Outcome::Passed => out.push_str("/>\n"),
                Outcome::Skipped(reason) => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(reason)
                    );
                }
                Outcome::Failed(failures) => {
                    let text: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{} assertion(s) failed\">{}</failure>\n    </testcase>",
                        failures.len(),
                        escape(&text.join("\n\n"))
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
