//! Turning Tera's errors into stoke's messages.

/// The full text of a Tera error: its report (file, line, column, caret) and its causes.
pub(crate) fn describe(err: &tera::Error) -> String {
    let full = err.to_string();
    // Tera's reports start with their own `error: `; ours already says it.
    let mut text = full.strip_prefix("error: ").unwrap_or(&full).to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str("\n  caused by: ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}
