//! Golden files: the exact human output of a command, kept in tests/golden/NAME.txt and
//! compared after [`normalise`] has replaced what changes from run to run (times, ages,
//! temporary paths, stoke's version). A mismatch fails with a line diff; the files are
//! rewritten only when the run sets `STOKE_UPDATE_GOLDEN=1`, so a changed output is always
//! a reviewed change to a file in the tree.

use std::path::{Path, PathBuf};

/// The folder holding the golden files.
pub fn dir() -> PathBuf {
    super::repo().join("tests/golden")
}

/// Replaces what legitimately differs between runs, so the rest can be compared exactly:
/// `root` (the test's temporary folder) becomes `[TMP]`, RFC 3339 timestamps `[TIME]`,
/// the human dates stoke prints (`2026-12-01 11:54:07 +0000 UTC`, `Tue Dec  1 11:54:07
/// 2026`) `[TIME]`, stoke's own version `[VERSION]`, and the build's operating system and
/// architecture `[OS]`/`[ARCH]`. Trailing spaces are dropped.
pub fn normalise(text: &str, root: &Path) -> String {
    let mut out = text.to_string();
    // Longest first: a canonicalised /tmp path may be a prefix-extension of the plain one.
    let mut roots = vec![root.display().to_string()];
    if let Ok(c) = root.canonicalize() {
        roots.push(c.display().to_string());
    }
    roots.sort_by_key(|r| std::cmp::Reverse(r.len()));
    for r in roots {
        out = out.replace(&r, "[TMP]");
    }
    // Times keep their width (padded with spaces), so the columns of a table still line up
    // in the golden file; a time at the end of a line loses the padding with the trailing
    // spaces below.
    let times = [
        r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?( ?(Z|[+-]\d{2}:?\d{2}))?( UTC)?",
        r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}",
    ];
    for pattern in times {
        out = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&out, |c: &regex::Captures| {
                format!("{:<width$}", "[TIME]", width = c[0].len())
            })
            .into_owned();
    }
    out = regex::Regex::new(r"[ \t]+\n")
        .unwrap()
        .replace_all(&out, "\n")
        .into_owned();
    let version = env!("CARGO_PKG_VERSION");
    out = out.replace(&format!("v{version}"), "v[VERSION]");
    out = out.replace(&format!("\"{version}\""), "\"[VERSION]\"");
    out = out
        .replace(std::env::consts::OS, "[OS]")
        .replace(std::env::consts::ARCH, "[ARCH]");
    out
}

/// Whether this run rewrites golden files instead of comparing with them.
pub fn updating() -> bool {
    std::env::var("STOKE_UPDATE_GOLDEN").as_deref() == Ok("1")
}

/// The text a golden file holds for one run: stdout, then stderr (warnings are part of
/// what people read) after a `--- stderr` line when there is any.
pub fn transcript(run: &super::Run) -> String {
    if run.stderr.is_empty() {
        run.stdout.clone()
    } else {
        format!("{}--- stderr\n{}", run.stdout, run.stderr)
    }
}

/// Compares `actual` (normalised against `root`) with tests/golden/`name`.txt, failing
/// with a diff when they differ; with `STOKE_UPDATE_GOLDEN=1`, writes the file instead.
#[track_caller]
pub fn assert_golden(name: &str, actual: &str, root: &Path) {
    assert_golden_in(&dir(), name, actual, root);
}

/// [`assert_golden`] with the golden files in `dir` (tests of the harness use a temporary
/// one).
#[track_caller]
pub fn assert_golden_in(dir: &Path, name: &str, actual: &str, root: &Path) {
    let actual = normalise(actual, root);
    let path = dir.join(format!("{name}.txt"));
    if updating() {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with STOKE_UPDATE_GOLDEN=1 cargo test --test cli_golden, then review it\n--- actual\n{actual}",
            path.display()
        )
    });
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, &actual);
        let shown = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("tests/golden/{name}.txt"), "actual")
            .to_string();
        panic!(
            "{name}: output differs from tests/golden/{name}.txt (rerun with STOKE_UPDATE_GOLDEN=1 to accept, then review the change)\n{shown}"
        );
    }
}
