//! `stoke unittest`: chart unit tests written in helm-unittest's format, run against
//! stoke's renderer.
//!
//! Each test renders the chart with its own values, release and capabilities, picks the
//! documents its assertions target (by template, `documentIndex` or `documentSelector`),
//! and evaluates them. docs/unittest.md lists what is supported.

pub mod assert;
pub mod junit;
pub mod path;
pub mod snapshot;
pub mod suite;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use crate::chart::Chart;
use crate::engine::{Capabilities, ReleaseInfo, RenderOptions};
use assert::Check;
use suite::{Assertion, Selector, Suite, Test};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The chart directory (or archive).
    pub chart: PathBuf,
    /// Suite file globs relative to the chart; `tests/*_test.yaml` when empty.
    pub patterns: Vec<String>,
    /// Rewrite snapshots that differ instead of failing.
    pub update_snapshots: bool,
}

/// One failed assertion.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Position of the assertion in the test (0-based).
    pub index: usize,
    /// The assertion type as written.
    pub written: String,
    /// Line of the assertion in the suite file.
    pub line: usize,
    /// Template the failure is about.
    pub template: Option<String>,
    /// Document index within the template.
    pub document_index: Option<usize>,
    /// The path the assertion looked at.
    pub path: Option<String>,
    /// Whether the assertion was negated.
    pub negate: bool,
    /// Expected, as text.
    pub expected: String,
    /// Found, as text.
    pub actual: String,
    /// Why the assertion could not be evaluated, if that is the failure.
    pub error: Option<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "- asserts[{}] `{}` failed (line {})",
            self.index, self.written, self.line
        )?;
        if let Some(t) = &self.template {
            writeln!(f, "    Template:      {t}")?;
        }
        if let Some(i) = self.document_index {
            writeln!(f, "    DocumentIndex: {i}")?;
        }
        if let Some(p) = &self.path {
            writeln!(f, "    Path:          {p}")?;
        }
        if let Some(e) = &self.error {
            for line in e.lines() {
                writeln!(f, "    Error:         {line}")?;
            }
            return Ok(());
        }
        let expected = if self.negate {
            "Expected NOT"
        } else {
            "Expected"
        };
        writeln!(f, "    {expected}:")?;
        for line in self.expected.lines() {
            writeln!(f, "        {line}")?;
        }
        writeln!(f, "    Actual:")?;
        for line in self.actual.lines() {
            writeln!(f, "        {line}")?;
        }
        if !self.negate && self.expected != self.actual && !self.expected.is_empty() {
            writeln!(f, "    Diff:")?;
            let diff = similar::TextDiff::from_lines(&self.expected, &self.actual);
            for change in diff.iter_all_changes() {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => "-",
                    similar::ChangeTag::Insert => "+",
                    similar::ChangeTag::Equal => " ",
                };
                write!(f, "        {sign}{}", change.value())?;
                if !change.value().ends_with('\n') {
                    writeln!(f)?;
                }
            }
        }
        Ok(())
    }
}

/// How one test ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Every assertion held.
    Passed,
    /// These assertions failed.
    Failed(Vec<Failure>),
    /// Skipped, with the reason.
    Skipped(String),
}

/// One test's result.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// `it`.
    pub name: String,
    /// The outcome.
    pub outcome: Outcome,
    /// Time taken.
    pub seconds: f64,
}

/// One suite's results.
#[derive(Debug, Clone)]
pub struct SuiteResult {
    /// Suite name.
    pub name: String,
    /// Suite file.
    pub file: PathBuf,
    /// Results per test.
    pub tests: Vec<TestResult>,
    /// Why the suite could not run at all (a malformed file, say).
    pub error: Option<String>,
}

impl SuiteResult {
    /// Whether anything in the suite failed.
    pub fn failed(&self) -> bool {
        self.error.is_some()
            || self
                .tests
                .iter()
                .any(|t| matches!(t.outcome, Outcome::Failed(_)))
    }
}

/// Everything a run produced.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Results per suite, in file order.
    pub suites: Vec<SuiteResult>,
    /// Snapshots written for the first time.
    pub snapshots_created: usize,
    /// Snapshots rewritten with `--update-snapshot`.
    pub snapshots_updated: usize,
}

impl Report {
    /// (tests, failed, skipped).
    pub fn counts(&self) -> (usize, usize, usize) {
        let all = self.suites.iter().flat_map(|s| &s.tests);
        let (mut n, mut failed, mut skipped) = (0, 0, 0);
        for t in all {
            n += 1;
            match t.outcome {
                Outcome::Failed(_) => failed += 1,
                Outcome::Skipped(_) => skipped += 1,
                Outcome::Passed => {}
            }
        }
        (n, failed, skipped)
    }

    /// Whether the run failed.
    pub fn failed(&self) -> bool {
        self.suites.iter().any(SuiteResult::failed)
    }
}

/// Finds the suite files of a chart.
pub fn find_suites(chart_dir: &Path, patterns: &[String]) -> Result<Vec<PathBuf>> {
    let patterns: Vec<String> = if patterns.is_empty() {
        vec!["tests/*_test.yaml".into()]
    } else {
        patterns.to_vec()
    };
    let mut builder = globset::GlobSetBuilder::new();
    for p in &patterns {
        let glob = globset::GlobBuilder::new(p.trim_start_matches("./"))
            .literal_separator(true)
            .build()
            .with_context(|| format!("bad suite pattern `{p}`"))?;
        builder.add(glob);
    }
    let set = builder.build()?;
    let mut found = Vec::new();
    let mut stack = vec![chart_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path
                .strip_prefix(chart_dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if path.is_dir() {
                if !rel.starts_with("charts") && !rel.ends_with("__snapshot__") {
                    stack.push(path);
                }
            } else if set.is_match(&rel) {
                found.push(path);
            }
        }
    }
    found.sort();
    if found.is_empty() {
        bail!(
            "no test suites in `{}` match {}",
            chart_dir.display(),
            patterns.join(", ")
        );
    }
    Ok(found)
}

/// Runs the suites of a chart.
pub fn run(opts: &Options) -> Result<Report> {
    let chart = crate::chart::load::load(&opts.chart)?;
    // Compiled once from every template; a compile error surfaces in each test instead.
    let _ = crate::engine::precompile(&chart);
    let files = find_suites(&opts.chart, &opts.patterns)?;
    let mut report = Report::default();
    for file in files {
        let result = match suite::load(&file) {
            Ok(suite) => run_suite(&chart, &suite, opts.update_snapshots, &mut report)?,
            Err(e) => SuiteResult {
                name: file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                file: file.clone(),
                tests: Vec::new(),
                error: Some(format!("{e:#}")),
            },
        };
        report.suites.push(result);
    }
    Ok(report)
}

fn run_suite(
    chart: &Chart,
    suite: &Suite,
    update: bool,
    report: &mut Report,
) -> Result<SuiteResult> {
    let mut snapshots = snapshot::Store::load(&suite.file)?;
    let mut tests = Vec::new();
    for test in &suite.tests {
        let started = Instant::now();
        let outcome = match suite.skip.as_ref().or(test.skip.as_ref()) {
            Some(reason) => Outcome::Skipped(reason.clone()),
            None => run_test(chart, suite, test, &mut snapshots, update),
        };
        tests.push(TestResult {
            name: test.name.clone(),
            outcome,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    snapshots.save()?;
    report.snapshots_created += snapshots.created;
    report.snapshots_updated += snapshots.updated;
    Ok(SuiteResult {
        name: suite.name.clone(),
        file: suite.file.clone(),
        tests,
        error: None,
    })
}

/// A template's rendered output: its raw text and its documents.
struct Rendered {
    /// (template path relative to the chart, e.g. `templates/service.yaml`, text, documents)
    templates: Vec<(String, String, Vec<Value>)>,
}

/// Strips the chart path so templates read as `templates/x.yaml`.
fn relative(chart: &Chart, full: &str) -> String {
    full.strip_prefix(&format!("{}/", chart.path))
        .unwrap_or(full)
        .to_string()
}

/// Whether a suite's template name (`x.yaml`, `templates/x.yaml`, a glob) names `rel`.
fn names(pattern: &str, rel: &str) -> bool {
    let p = pattern.trim_start_matches("./");
    let p = p.strip_prefix("templates/").unwrap_or(p);
    let r = rel.strip_prefix("templates/").unwrap_or(rel);
    if p == r {
        return true;
    }
    globset::Glob::new(p)
        .map(|g| g.compile_matcher().is_match(r))
        .unwrap_or(false)
}

/// Inserts `value` at a helm-unittest `set` path (dots, `\.` escapes); maps merge deeply.
fn set_at(dst: &mut Map<String, Value>, key: &str, value: Value) {
    let mut parts = vec![String::new()];
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                parts.last_mut().expect("starts non-empty").push('.');
                chars.next();
            }
            '.' => parts.push(String::new()),
            c => parts.last_mut().expect("starts non-empty").push(c),
        }
    }
    let mut cur = dst;
    for p in &parts[..parts.len() - 1] {
        let entry = cur
            .entry(p.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        cur = entry.as_object_mut().expect("made a map above");
    }
    let last = parts.last().expect("at least one part").clone();
    match (cur.get_mut(&last), value) {
        (Some(Value::Object(d)), Value::Object(s)) => crate::values::coalesce::merge_user(d, s),
        (_, v) => {
            cur.insert(last, v);
        }
    }
}

fn render_for(chart: &Chart, suite: &Suite, test: &Test) -> Result<Rendered, String> {
    // Chart.yaml overrides.
    let mut owned;
    let mut chart = chart;
    let version = test.chart.version.as_ref().or(suite.chart.version.as_ref());
    let app_version = test
        .chart
        .app_version
        .as_ref()
        .or(suite.chart.app_version.as_ref());
    if version.is_some() || app_version.is_some() {
        owned = chart.clone();
        if let Some(v) = version {
            owned.metadata.version = v.clone();
        }
        if let Some(v) = app_version {
            owned.metadata.app_version = Some(v.clone());
        }
        chart = &owned;
    }
    // Only the templates in scope render (and their helpers), as in helm-unittest.
    let mut wanted: Vec<&String> = suite.templates.iter().collect();
    wanted.extend(test.templates.iter().flatten());
    wanted.extend(test.asserts.iter().filter_map(|a| a.template.as_ref()));
    if !wanted.is_empty() || !suite.exclude_templates.is_empty() {
        owned = chart.clone();
        // The shared compiled form must hold every template; if the chart's own is not
        // there (it failed to compile), this copy compiles its own.
        if owned.render_cache.0.get().is_none() {
            owned.render_cache = Default::default();
        }
        owned.templates.retain(|t| {
            crate::engine::is_helper(&t.name)
                || ((wanted.is_empty() || wanted.iter().any(|w| names(w, &t.name)))
                    && !suite.exclude_templates.iter().any(|x| names(x, &t.name)))
        });
        chart = &owned;
    }

    let files: Vec<PathBuf> = suite.values.iter().chain(&test.values).cloned().collect();
    let mut user = crate::values::read_user_values(&crate::values::ValuesOptions {
        files,
        sets: Vec::new(),
    })
    .map_err(|e| format!("{e:#}"))?;
    for (k, v) in suite.set.iter().chain(&test.set) {
        set_at(&mut user.merged, k, v.clone());
    }
    user.sources.clear();

    let release = ReleaseInfo {
        name: test
            .release
            .name
            .clone()
            .or(suite.release.name.clone())
            .unwrap_or_else(|| "RELEASE-NAME".into()),
        namespace: test
            .release
            .namespace
            .clone()
            .or(suite.release.namespace.clone())
            .unwrap_or_else(|| "NAMESPACE".into()),
        revision: test
            .release
            .revision
            .or(suite.release.revision)
            .unwrap_or(1),
        is_install: !test
            .release
            .upgrade
            .or(suite.release.upgrade)
            .unwrap_or(false),
        is_upgrade: test
            .release
            .upgrade
            .or(suite.release.upgrade)
            .unwrap_or(false),
        ..ReleaseInfo::default()
    };
    let mut capabilities = Capabilities::default();
    let major = test.capabilities.major.or(suite.capabilities.major);
    let minor = test.capabilities.minor.or(suite.capabilities.minor);
    if let Some(m) = major {
        capabilities.kube_version.major = m;
    }
    if let Some(m) = minor {
        capabilities.kube_version.minor = m;
        capabilities.kube_version.patch = 0;
    }
    for extra in suite
        .capabilities
        .api_versions
        .iter()
        .chain(test.capabilities.api_versions.iter())
        .flatten()
    {
        capabilities.api_versions.push(extra.clone());
    }
    let opts = RenderOptions {
        release,
        capabilities,
        deployed: Vec::new(),
    };

    crate::pipeline::check_kube_version(chart, &opts.capabilities.kube_version)
        .map_err(|e| format!("{e:#}"))?;
    let tree = crate::chart::deps::resolve(chart, &user.merged).map_err(|e| format!("{e:#}"))?;
    let computed = crate::values::compute_resolved(&tree, &user).map_err(|e| format!("{e:#}"))?;
    let raw =
        crate::engine::render_raw(&tree, &computed.values, &opts).map_err(|e| format!("{e:#}"))?;
    let mut templates = Vec::new();
    for (name, text) in raw.outputs {
        let manifests =
            crate::engine::manifest::parse_output(&name, &text).map_err(|e| format!("{e:#}"))?;
        let mut docs = Vec::new();
        for m in manifests {
            let doc: serde_yaml::Value =
                serde_yaml::from_str(&m.body).map_err(|e| format!("{name}: {e}"))?;
            docs.push(crate::values::yaml_to_json(doc));
        }
        templates.push((relative(&tree, &name), text, docs));
    }
    if let Some(notes) = raw.notes {
        templates.push(("templates/NOTES.txt".into(), notes, Vec::new()));
    }
    Ok(Rendered { templates })
}

/// Documents of one template that an assertion looks at, with their indices.
fn select<'a>(
    docs: &'a [Value],
    index: Option<i64>,
    selector: Option<&Selector>,
) -> Result<Vec<(usize, &'a Value)>, String> {
    let all = docs.iter().enumerate();
    if let Some(sel) = selector {
        let steps = path::parse(&sel.path).map_err(|e| e.to_string())?;
        return Ok(all
            .filter(|(_, d)| {
                let found = path::select(d, &steps);
                match &sel.value {
                    None => !found.is_empty(),
                    Some(v) => found.iter().any(|f| assert::same(f, v)),
                }
            })
            .collect());
    }
    match index {
        Some(i) if i >= 0 => match docs.get(i as usize) {
            Some(d) => Ok(vec![(i as usize, d)]),
            None => Err(format!(
                "documentIndex {i} is out of range: the template rendered {} document(s)",
                docs.len()
            )),
        },
        _ => Ok(all.collect()),
    }
}

fn failure(
    a: &Assertion,
    index: usize,
    template: Option<&str>,
    doc: Option<usize>,
    check: Result<Check, String>,
) -> Option<Failure> {
    let path = a
        .params
        .get("path")
        .and_then(Value::as_str)
        .map(str::to_string);
    let base = Failure {
        index,
        written: a.written.clone(),
        line: a.line,
        template: template.map(str::to_string),
        document_index: doc,
        path,
        negate: a.negate,
        expected: String::new(),
        actual: String::new(),
        error: None,
    };
    match check {
        Ok(c) if c.held != a.negate => None,
        Ok(c) => Some(Failure {
            expected: c.expected,
            actual: c.actual,
            ..base
        }),
        Err(e) => Some(Failure {
            error: Some(e),
            ..base
        }),
    }
}

fn run_test(
    chart: &Chart,
    suite: &Suite,
    test: &Test,
    snapshots: &mut snapshot::Store,
    update: bool,
) -> Outcome {
    let rendered = render_for(chart, suite, test);
    let mut failures = Vec::new();
    let mut snapshot_index = 0;
    for (i, a) in test.asserts.iter().enumerate() {
        if a.kind == "failedTemplate" {
            let check = match &rendered {
                Ok(_) => Ok(Check {
                    held: false,
                    expected: "the render to fail".into(),
                    actual: "it succeeded".into(),
                }),
                Err(e) => failed_template(a, e),
            };
            failures.extend(failure(a, i, None, None, check));
            continue;
        }
        let rendered = match &rendered {
            Ok(r) => r,
            Err(e) => {
                failures.extend(failure(
                    a,
                    i,
                    None,
                    None,
                    Err(format!("the chart did not render: {e}")),
                ));
                continue;
            }
        };
        let scope: Vec<&String> = match (&a.template, &test.templates) {
            (Some(t), _) => vec![t],
            (None, Some(ts)) => ts.iter().collect(),
            (None, None) => suite.templates.iter().collect(),
        };
        let targets: Vec<&(String, String, Vec<Value>)> = rendered
            .templates
            .iter()
            .filter(|(name, _, _)| {
                if scope.is_empty() {
                    !name.ends_with("NOTES.txt")
                } else {
                    scope.iter().any(|s| names(s, name))
                }
            })
            .collect();
        if targets.is_empty() {
            let what = if scope.is_empty() {
                "any template".to_string()
            } else {
                scope
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            // A template that renders nothing has no output to assert on, except its count.
            if a.kind == "hasDocuments" {
                let want = a.params.get("count").and_then(Value::as_u64).unwrap_or(0);
                let check = Ok(Check {
                    held: want == 0,
                    expected: want.to_string(),
                    actual: "0".into(),
                });
                failures.extend(failure(a, i, None, None, check));
            } else {
                failures.extend(failure(
                    a,
                    i,
                    None,
                    None,
                    Err(format!("no rendered output for {what}")),
                ));
            }
            continue;
        }
        let index = a.document_index.or(test.document_index);
        let selector = a
            .document_selector
            .as_ref()
            .or(test.document_selector.as_ref());
        let mut selected_total = 0;
        let mut per_template = Vec::new();
        for (name, text, docs) in &targets {
            match a.kind.as_str() {
                "equalRaw" | "matchRegexRaw" => {
                    failures.extend(failure(a, i, Some(name), None, assert::on_raw(a, text)));
                    continue;
                }
                "matchSnapshotRaw" => {
                    snapshot_index += 1;
                    failures.extend(failure(
                        a,
                        i,
                        Some(name),
                        None,
                        snapshot(snapshots, test, snapshot_index, text, update),
                    ));
                    continue;
                }
                "hasDocuments" => {
                    let aware = a
                        .params
                        .get("filterAware")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    let n = if aware {
                        select(docs, index, selector).map(|d| d.len()).unwrap_or(0)
                    } else {
                        docs.len()
                    };
                    let want = a.params.get("count").and_then(Value::as_u64);
                    let check = Ok(Check {
                        held: want.is_none_or(|w| w == n as u64) && (want.is_some() || n > 0),
                        expected: want
                            .map(|w| w.to_string())
                            .unwrap_or_else(|| "at least 1".into()),
                        actual: n.to_string(),
                    });
                    failures.extend(failure(a, i, Some(name), None, check));
                    continue;
                }
                "containsDocument" => {
                    failures.extend(failure(
                        a,
                        i,
                        Some(name),
                        None,
                        assert::contains_document(a, docs),
                    ));
                    continue;
                }
                _ => {}
            }
            match select(docs, index, selector) {
                Ok(chosen) => {
                    selected_total += chosen.len();
                    per_template.push((name, chosen));
                }
                Err(e) => failures.extend(failure(a, i, Some(name), None, Err(e))),
            }
        }
        if matches!(
            a.kind.as_str(),
            "equalRaw" | "matchRegexRaw" | "matchSnapshotRaw" | "hasDocuments" | "containsDocument"
        ) {
            continue;
        }
        if let Some(sel) = selector {
            if !sel.match_many && selected_total > 1 {
                failures.extend(failure(a, i, None, None, Err(format!("documentSelector `{}` matched {selected_total} documents; set matchMany: true to allow that", sel.path))));
                continue;
            }
            if selected_total == 0 {
                failures.extend(failure(
                    a,
                    i,
                    None,
                    None,
                    Err(format!(
                        "documentSelector `{}` matched no document",
                        sel.path
                    )),
                ));
                continue;
            }
        }
        for (name, chosen) in per_template {
            if chosen.is_empty() {
                let message = match selector {
                    Some(s) if s.skip_empty_templates => continue,
                    Some(s) => format!(
                        "documentSelector `{}` matched no document in this template; set skipEmptyTemplates: true to allow that",
                        s.path
                    ),
                    None => "the template rendered no documents".into(),
                };
                failures.extend(failure(a, i, Some(name), None, Err(message)));
                continue;
            }
            for (di, doc) in chosen {
                let check = if a.kind == "matchSnapshot" {
                    snapshot_index += 1;
                    let value = match a.params.get("path").and_then(Value::as_str) {
                        Some(p) => path::parse(p).map(|s| {
                            path::select(doc, &s)
                                .first()
                                .map(|v| (*v).clone())
                                .unwrap_or(Value::Null)
                        }),
                        None => Ok(doc.clone()),
                    };
                    match value {
                        Ok(v) => {
                            snapshot(snapshots, test, snapshot_index, &assert::show(&v), update)
                        }
                        Err(e) => Err(e.to_string()),
                    }
                } else {
                    assert::on_document(a, doc)
                };
                failures.extend(failure(a, i, Some(name), Some(di), check));
            }
        }
    }
    if failures.is_empty() {
        Outcome::Passed
    } else {
        Outcome::Failed(failures)
    }
}

fn failed_template(a: &Assertion, error: &str) -> Result<Check, String> {
    if let Some(msg) = a.params.get("errorMessage").and_then(Value::as_str) {
        return Ok(Check {
            held: error.contains(msg),
            expected: msg.to_string(),
            actual: error.to_string(),
        });
    }
    if let Some(p) = a.params.get("errorPattern").and_then(Value::as_str) {
        let re = regex::Regex::new(p).map_err(|e| format!("bad errorPattern `{p}`: {e}"))?;
        return Ok(Check {
            held: re.is_match(error),
            expected: format!("an error matching /{p}/"),
            actual: error.to_string(),
        });
    }
    Ok(Check {
        held: true,
        expected: "the render to fail".into(),
        actual: error.to_string(),
    })
}

fn snapshot(
    store: &mut snapshot::Store,
    test: &Test,
    index: usize,
    text: &str,
    update: bool,
) -> Result<Check, String> {
    Ok(match store.check(&test.name, index, text, update) {
        snapshot::Outcome::Matched | snapshot::Outcome::Created | snapshot::Outcome::Updated => {
            Check {
                held: true,
                expected: String::new(),
                actual: String::new(),
            }
        }
        snapshot::Outcome::Differs(old) => Check {
            held: false,
            expected: old,
            actual: text.to_string(),
        },
    })
}
