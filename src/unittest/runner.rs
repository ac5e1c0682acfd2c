//! Running suites: finding suite files, rendering the chart once per test with the test's
//! values and settings, choosing documents and evaluating assertions.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use globset::{GlobBuilder, GlobMatcher};
use serde_json::{Map, Value as Json};

use super::assert::{self, Doc, Env, RenderError};
use super::kinds::Kind;
use super::path::{SetPath, SetStep};
use super::snapshot::SnapshotFile;
use super::suite::{self, Assertion, Selector, Suite, TestJob};
use super::{AssertionFailure, Failure, Report, SuiteResult, TestResult, TestStatus};
use crate::chart::{Chart, ChartId};
use crate::engine::{self, Capabilities, ReleaseInfo, RenderOptions};
use crate::values::UserValues;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The chart directory.
    pub chart: PathBuf,
    /// Suite file globs relative to the chart; `tests/*_test.yaml` when empty.
    pub files: Vec<String>,
    /// Rewrite snapshots that differ instead of failing.
    pub update_snapshots: bool,
    /// Unknown suite fields helm-unittest ignores fail the suite instead of warning.
    pub strict: bool,
    /// Extra values files applied to every suite, after the suite's own.
    pub values: Vec<PathBuf>,
    /// What templates see as `release.service` (Helm's `.Release.Service`); [`HELM_SERVICE`]
    /// when `None`, as under helm-unittest, so suites written for Helm charts that label
    /// `app.kubernetes.io/managed-by` from it run unchanged.
    pub release_service: Option<String>,
}

/// The release service helm-unittest renders with (it runs Helm's engine).
pub const HELM_SERVICE: &str = "Helm";

/// Default suite files, as helm-unittest looks for them.
pub(crate) const DEFAULT_SUITES: &str = "tests/*_test.yaml";

/// Runs every suite file of `opts.chart` matched by `opts.files`.
pub fn run(opts: &Options) -> Result<Report> {
    if !opts.chart.is_dir() {
        bail!(
            "`{}` is not a chart directory; unit tests run from the chart's sources (the suites live in its tests/ folder)",
            opts.chart.display()
        );
    }
    let chart = crate::chart::load::load(&opts.chart)?;
    let patterns = if opts.files.is_empty() {
        vec![DEFAULT_SUITES.to_string()]
    } else {
        opts.files.clone()
    };
    let files = find_suite_files(&opts.chart, &patterns)?;
    if files.is_empty() {
        bail!(
            "no test suites in `{}` match {} (write suites as tests/<name>_test.yaml or pass -f GLOB)",
            opts.chart.display(),
            patterns.join(", ")
        );
    }
    let mut report = Report {
        chart_name: chart.name().to_string(),
        ..Report::default()
    };
    for file in files {
        let mut snaps = SnapshotFile::open(&file, opts.update_snapshots)?;
        match suite::parse_file_with(&file, opts.strict) {
            Ok((suites, warnings)) => {
                report.warnings.extend(warnings);
                for s in &suites {
                    report.suites.push(run_suite(&chart, s, opts, &mut snaps));
                }
            }
            Err(e) => report.suites.push(SuiteResult {
                name: file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                file: file.clone(),
                tests: Vec::new(),
                error: Some(format!("{e:#}")),
            }),
        }
        let s = &mut report.snapshots;
        s.total += snaps.total;
        s.created += snaps.inserted;
        if opts.update_snapshots {
            s.updated += snaps.changed;
        } else {
            s.failed += snaps.changed;
        }
        snaps.save()?;
    }
    Ok(report)
}

/// Suite files under `chart` matching any of `patterns` (relative to the chart), sorted.
fn find_suite_files(chart: &Path, patterns: &[String]) -> Result<Vec<PathBuf>> {
    let mut matchers = Vec::new();
    let mut direct = Vec::new();
    for p in patterns {
        let as_path = Path::new(p);
        if as_path.is_absolute() {
            direct.push(as_path.to_path_buf());
            continue;
        }
        let glob = GlobBuilder::new(p.trim_start_matches("./"))
            .literal_separator(true)
            .build()
            .with_context(|| format!("invalid suite file pattern `{p}`"))?;
        matchers.push(glob.compile_matcher());
    }
    let mut found = direct;
    walk(chart, "", &matchers, &mut found)?;
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(root: &Path, rel: &str, matchers: &[GlobMatcher], out: &mut Vec<PathBuf>) -> Result<()> {
    let dir = root.join(rel);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list `{}`", dir.display()))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "__snapshot__" {
            continue;
        }
        let rel_path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let path = e.path();
        if path.is_dir() {
            walk(root, &rel_path, matchers, out)?;
        } else if matchers.iter().any(|m| m.is_match(&rel_path)) {
            out.push(path);
        }
    }
    Ok(())
}

/// A template pattern as helm-unittest reads it: relative to `templates/` unless it already
/// names `templates/`, `charts/` or `crds/`.
fn template_pattern(p: &str) -> String {
    let p = p.trim_start_matches("./");
    if ["templates/", "charts/", "crds/", "**"]
        .iter()
        .any(|pre| p.starts_with(pre))
    {
        p.to_string()
    } else {
        format!("templates/{p}")
    }
}

fn matcher(p: &str) -> Option<GlobMatcher> {
    GlobBuilder::new(&template_pattern(p))
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

fn is_glob(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

/// The folders a subchart renders under, relative to its parent: one per alias that names
/// it in the parent's dependencies (`charts/backend/`, `charts/frontend/`), or its own.
fn sub_prefixes(parent: &Chart, sub: &Chart, prefixes: &[String]) -> Vec<String> {
    let mut names: Vec<String> = parent
        .metadata
        .dependencies
        .iter()
        .filter(|d| d.name == sub.name())
        .map(|d| d.effective_name().to_string())
        .collect();
    if names.is_empty() {
        names.push(
            sub.path
                .rsplit('/')
                .next()
                .unwrap_or(sub.name())
                .to_string(),
        );
    }
    prefixes
        .iter()
        .flat_map(|p| names.iter().map(move |n| format!("{p}charts/{n}/")))
        .collect()
}

/// Every renderable template of the chart tree, relative to the top chart, under each
/// name aliases give it.
fn all_templates(chart: &Chart, prefixes: &[String], out: &mut Vec<String>) {
    if !chart.metadata.is_library() {
        for t in chart
            .templates
            .iter()
            .filter(|t| !engine::is_helper(&t.name))
        {
            for p in prefixes {
                let name = format!("{p}{}", t.name);
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    for sub in &chart.subcharts {
        all_templates(sub, &sub_prefixes(chart, sub, prefixes), out);
    }
}

fn relative(full: &str, top_path: &str) -> String {
    full.strip_prefix(top_path)
        .and_then(|s| s.strip_prefix('/'))
        .unwrap_or(full)
        .to_string()
}

/// A copy of the chart tree that renders only the templates in `scope` (helpers always
/// stay), so a broken template outside the suite cannot fail its tests. A subchart used
/// under several aliases keeps a template any of them needs.
fn scoped(chart: &Chart, prefixes: &[String], scope: &[String]) -> Chart {
    let mut c = chart.clone();
    c.id = ChartId::new();
    c.templates.retain(|t| {
        engine::is_helper(&t.name)
            || prefixes
                .iter()
                .any(|p| scope.contains(&format!("{p}{}", t.name)))
    });
    c.subcharts = chart
        .subcharts
        .iter()
        .map(|s| scoped(s, &sub_prefixes(chart, s, prefixes), scope))
        .collect();
    c
}

fn run_suite(chart: &Chart, s: &Suite, opts: &Options, snaps: &mut SnapshotFile) -> SuiteResult {
    let crds = if s.include_crds {
        match crd_documents(chart) {
            Ok(c) => c,
            Err(e) => {
                return SuiteResult {
                    name: s.name.clone(),
                    file: s.file.clone(),
                    tests: Vec::new(),
                    error: Some(format!("{e:#}")),
                };
            }
        }
    } else {
        Vec::new()
    };
    let mut all = Vec::new();
    let top = [String::new()];
    all_templates(chart, &top, &mut all);
    let includes: Vec<GlobMatcher> = s.templates.iter().filter_map(|p| matcher(p)).collect();
    let excludes: Vec<GlobMatcher> = s
        .exclude_templates
        .iter()
        .filter_map(|p| matcher(p))
        .collect();
    let scope: Vec<String> = all
        .iter()
        .filter(|t| s.templates.is_empty() || includes.iter().any(|m| m.is_match(t)))
        .filter(|t| !excludes.iter().any(|m| m.is_match(t)))
        .cloned()
        .collect();
    // Templates a test or assertion names render too, so they can be checked explicitly;
    // assertions that name none check only the suite's scope.
    let named: Vec<GlobMatcher> = s
        .tests
        .iter()
        .flat_map(|t| {
            t.templates
                .iter()
                .chain(t.asserts.iter().filter_map(|a| a.template.as_ref()))
        })
        .filter_map(|p| matcher(p))
        .collect();
    let render_scope: Vec<String> = all
        .iter()
        .filter(|t| scope.contains(t) || named.iter().any(|m| m.is_match(t)))
        .cloned()
        .collect();
    // As `helm template --include-crds`: the CRDs join the suite's scope whatever its
    // `templates` say, and are named `crds/FILE` in assertions.
    let mut scope = scope;
    for (name, _) in &crds {
        scope.push(name.clone());
        all.push(name.clone());
    }
    let scope = Scope {
        asserted: scope,
        rendered: render_scope,
        all,
        crds,
    };
    let scoped_chart = scoped(chart, &top, &scope.rendered);
    let mut tests = Vec::new();
    for t in &s.tests {
        let start = Instant::now();
        let status = if let Some(reason) = s.skip.as_ref().or(t.skip.as_ref()) {
            snaps.keep(&t.name);
            TestStatus::Skipped(reason.clone())
        } else {
            match run_test(&scoped_chart, s, t, &scope, opts, snaps) {
                Ok(failed) if failed.is_empty() => TestStatus::Passed,
                Ok(failed) => TestStatus::Failed(failed),
                Err(e) => {
                    snaps.keep(&t.name);
                    TestStatus::Error(format!("{e:#}"))
                }
            }
        };
        tests.push(TestResult {
            name: t.name.clone(),
            line: t.line,
            status,
            duration: start.elapsed(),
        });
    }
    SuiteResult {
        name: s.name.clone(),
        file: s.file.clone(),
        tests,
        error: None,
    }
}

/// Which templates a suite renders, and which its assertions check unless they name one.
struct Scope {
    /// The suite's `templates` (all when empty) minus `excludeTemplates`.
    asserted: Vec<String>,
    /// Those plus every template a test or assertion names.
    rendered: Vec<String>,
    /// Every template of the chart tree (and the CRD files, with `includeCrds`).
    all: Vec<String>,
    /// With `includeCrds`, the documents of each CRD file, which are not templated.
    crds: Rendered,
}

/// The documents of the chart tree's `crds/` files, named relative to the top chart.
fn crd_documents(chart: &Chart) -> Result<Rendered> {
    let mut out: Rendered = Vec::new();
    for m in crate::kube::crds::crds(chart)? {
        let name = relative(&m.source, &chart.path);
        let value = crate::yaml::parse_json(&m.body, &m.source)?;
        if out.last().is_none_or(|(last, _)| *last != name) {
            out.push((name, Vec::new()));
        }
        let docs = &mut out.last_mut().expect("pushed above").1;
        docs.push(Doc {
            index: docs.len(),
            value,
            raw: m.body,
        });
    }
    Ok(out)
}

/// The rendered documents of each template in scope, in rendering order.
type Rendered = Vec<(String, Vec<Doc>)>;

fn run_test(
    chart: &Chart,
    s: &Suite,
    t: &TestJob,
    scope: &Scope,
    opts: &Options,
    snaps: &mut SnapshotFile,
) -> Result<Vec<AssertionFailure>> {
    let merged = user_values(s, t, opts)?;
    let mut chart = chart.clone();
    if let Some(v) = t.chart.version.as_ref().or(s.chart.version.as_ref()) {
        chart.metadata.version = v.clone();
    }
    if let Some(v) = t
        .chart
        .app_version
        .as_ref()
        .or(s.chart.app_version.as_ref())
    {
        chart.metadata.app_version = Some(v.clone());
    }
    let mut render_opts = render_options(s, t);
    render_opts.release.service = opts
        .release_service
        .clone()
        .unwrap_or_else(|| HELM_SERVICE.to_string());
    render_opts.deployed = s
        .objects
        .iter()
        .chain(&t.objects)
        .map(|o| crate::manifest::Manifest {
            source: "kubernetesProvider".into(),
            api_version: str_at(o, "/apiVersion"),
            kind: str_at(o, "/kind"),
            name: str_at(o, "/metadata/name"),
            namespace: o
                .pointer("/metadata/namespace")
                .and_then(Json::as_str)
                .map(str::to_string),
            body: crate::yaml::to_string(o).unwrap_or_default(),
        })
        .collect();
    let mut rendered = render(&chart, merged, &render_opts, &scope.rendered)?;
    if let Ok(r) = &mut rendered {
        r.extend(scope.crds.iter().cloned());
    }
    let mut failed = Vec::new();
    let mut env = Env {
        test: &t.name,
        snapshots: snaps,
    };
    for (i, a) in t.asserts.iter().enumerate() {
        let failures = evaluate(a, t, scope, &rendered, &mut env);
        if !failures.is_empty() {
            failed.push(AssertionFailure {
                index: i,
                type_name: a.type_name.clone(),
                not: a.not,
                line: a.line,
                failures,
            });
        }
    }
    Ok(failed)
}

fn str_at(v: &Json, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Values files (suite, command line, test) merged in order, then the suite's and the
/// test's `set` entries.
fn user_values(s: &Suite, t: &TestJob, opts: &Options) -> Result<Map<String, Json>> {
    let mut merged = Map::new();
    for file in s.values.iter().chain(&opts.values).chain(&t.values) {
        let text = std::fs::read_to_string(file).with_context(|| {
            format!(
                "cannot read values file `{}` (values files are relative to the suite file)",
                file.display()
            )
        })?;
        let v = crate::yaml::parse_values_yaml(&text, &file.display().to_string())?;
        crate::merge::deep_merge(&mut merged, v, crate::merge::Conflict::Overwrite);
    }
    for (key, value) in s.set.iter().chain(&t.set) {
        set_value(&mut merged, key, value.clone());
    }
    Ok(merged)
}

/// Writes `value` at the `set` path `key`, creating mappings and list items on the way;
/// a mapping value merges into a mapping already there.
fn set_value(target: &mut Map<String, Json>, key: &SetPath, value: Json) {
    let mut root = Json::Object(std::mem::take(target));
    let mut cur = &mut root;
    for step in &key.steps {
        cur = match step {
            SetStep::Key(k) => {
                if !cur.is_object() {
                    *cur = Json::Object(Map::new());
                }
                cur.as_object_mut()
                    .expect("made a mapping above")
                    .entry(k.clone())
                    .or_insert(Json::Null)
            }
            SetStep::Index(i) => {
                if !cur.is_array() {
                    *cur = Json::Array(Vec::new());
                }
                let a = cur.as_array_mut().expect("made a list above");
                if a.len() <= *i {
                    a.resize(*i + 1, Json::Null);
                }
                &mut a[*i]
            }
        };
    }
    match (cur, value) {
        (Json::Object(existing), Json::Object(new)) => {
            crate::merge::deep_merge(existing, new, crate::merge::Conflict::Overwrite)
        }
        (slot, v) => *slot = v,
    }
    if let Json::Object(m) = root {
        *target = m;
    }
}

fn render_options(s: &Suite, t: &TestJob) -> RenderOptions {
    let upgrade = t.release.upgrade.or(s.release.upgrade).unwrap_or(false);
    let release = ReleaseInfo {
        name: t
            .release
            .name
            .clone()
            .or_else(|| s.release.name.clone())
            .unwrap_or_else(|| "RELEASE-NAME".into()),
        namespace: t
            .release
            .namespace
            .clone()
            .or_else(|| s.release.namespace.clone())
            .unwrap_or_else(|| "NAMESPACE".into()),
        revision: t.release.revision.or(s.release.revision).unwrap_or(1),
        is_install: !upgrade,
        is_upgrade: upgrade,
        ..ReleaseInfo::default()
    };
    let mut capabilities = Capabilities::default();
    let major = t.capabilities.major.or(s.capabilities.major);
    let minor = t.capabilities.minor.or(s.capabilities.minor);
    if major.is_some() || minor.is_some() {
        let d = &capabilities.kube_version;
        capabilities.kube_version =
            semver::Version::new(major.unwrap_or(d.major), minor.unwrap_or(d.minor), 0);
    }
    for v in s
        .capabilities
        .api_versions
        .iter()
        .chain(&t.capabilities.api_versions)
    {
        if !capabilities.api_versions.contains(v) {
            capabilities.api_versions.push(v.clone());
        }
    }
    RenderOptions {
        release,
        capabilities,
        deployed: Vec::new(),
    }
}

fn render(
    chart: &Chart,
    user: Map<String, Json>,
    opts: &RenderOptions,
    scope: &[String],
) -> Result<std::result::Result<Rendered, RenderError>> {
    let attempt = || -> Result<engine::RawRender> {
        crate::pipeline::check_kube_version(chart, &opts.capabilities.kube_version)?;
        let user = UserValues {
            merged: user,
            sources: Vec::new(),
            ..UserValues::default()
        };
        let tree = crate::resolve::resolve(chart, &user.merged)?;
        let computed = crate::values::compute_resolved(&tree, &user)?;
        engine::render_raw(&tree, &computed.values, opts)
    };
    let raw = match attempt() {
        Ok(r) => r,
        Err(e) => {
            let full = format!("{e:#}");
            return Ok(Err(RenderError {
                message: fail_message(&full),
                in_helper: failed_in_helper(&full),
                full,
            }));
        }
    };
    let mut out: Rendered = Vec::new();
    for (name, text) in &raw.outputs {
        let rel = relative(name, &chart.path);
        // A subchart shared by aliases renders what any alias needs; assert only the scope.
        if !scope.contains(&rel) {
            continue;
        }
        let docs = if rel.ends_with(".txt") {
            vec![Doc {
                index: 0,
                value: Json::Null,
                raw: text.clone(),
            }]
        } else {
            parse_documents(&rel, text)?
        };
        out.push((rel, docs));
    }
    if let Some(notes) = raw.notes {
        let rel = "templates/NOTES.txt".to_string();
        if scope.contains(&rel) {
            out.push((
                rel,
                vec![Doc {
                    index: 0,
                    value: Json::Null,
                    raw: notes,
                }],
            ));
        }
    }
    Ok(Ok(out))
}

fn parse_documents(template: &str, text: &str) -> Result<Vec<Doc>> {
    let mut docs = Vec::new();
    for (start, doc) in engine::manifest::split_documents(text) {
        if engine::manifest::is_blank(&doc) {
            continue;
        }
        // As helm-unittest reads them (go-yaml v3), so `defaultMode: 0755` is 493 on both
        // sides of an assertion.
        let y: crate::yaml::Yaml =
            crate::yaml::try_from_str_as(&doc, crate::yaml::Dialect::GoYamlV3).map_err(|e| {
                let line = e.line().map_or(start, |l| l + start - 1);
                anyhow::anyhow!(
                    "{template}: the rendered output is not valid YAML near output line {line}: {e}"
                )
            })?;
        let value = crate::yaml::yaml_to_json(y);
        if value.is_null() {
            continue;
        }
        docs.push(Doc {
            index: docs.len(),
            value,
            raw: doc,
        });
    }
    Ok(docs)
}

/// The message a template failed with, without stoke's `cannot render X:` lead-in and the
/// source excerpt that follows it.
fn fail_message(full: &str) -> String {
    let mut lines = full.lines();
    let Some(first) = lines.next() else {
        return String::new();
    };
    if !(first.starts_with("cannot render ") && first.ends_with(':')) {
        return full.to_string();
    }
    let msg: Vec<&str> = lines
        .take_while(|l| !l.trim_start().starts_with("--> "))
        .collect();
    msg.join("\n").trim().to_string()
}

/// Whether the render error says it was raised inside a helper: the engine adds a
/// `called from` note for each component or include the failure passed through.
fn failed_in_helper(full: &str) -> bool {
    full.lines()
        .any(|l| l.trim_start().starts_with("note: called from "))
}

fn evaluate(
    a: &Assertion,
    t: &TestJob,
    scope: &Scope,
    rendered: &std::result::Result<Rendered, RenderError>,
    env: &mut Env,
) -> Vec<Failure> {
    if let Kind::FailedTemplate { expect } = &a.kind {
        return assert::failed_template(expect.as_ref(), a.negative(), rendered.as_ref().err());
    }
    let rendered = match rendered {
        Ok(r) => r,
        Err(err) => {
            return vec![Failure::message(format!(
                "Error: the chart failed to render:\n{}",
                err.full
            ))];
        }
    };
    // Which templates: the assertion's, else the test's, else the suite's scope.
    let wanted: Vec<String> = match (&a.template, t.templates.is_empty()) {
        (Some(one), _) => vec![one.clone()],
        (None, false) => t.templates.clone(),
        (None, true) => Vec::new(),
    };
    let mut failures = Vec::new();
    let mut chosen: Vec<&(String, Vec<Doc>)> = Vec::new();
    if wanted.is_empty() {
        chosen.extend(rendered.iter().filter(|(n, _)| scope.asserted.contains(n)));
    } else {
        for w in &wanted {
            let pat = template_pattern(w);
            let hits: Vec<&(String, Vec<Doc>)> = if is_glob(w) {
                let m = matcher(w);
                rendered
                    .iter()
                    .filter(|(n, _)| m.as_ref().is_some_and(|m| m.is_match(n)))
                    .collect()
            } else {
                rendered.iter().filter(|(n, _)| *n == pat).collect()
            };
            if hits.is_empty() && !is_glob(w) {
                let why = if scope.rendered.contains(&pat) {
                    "it rendered nothing".to_string()
                } else {
                    format!(
                        "the chart has no such template (it has: {})",
                        scope.all.join(", ")
                    )
                };
                failures.push(Failure::message(format!(
                    "Error: template `{pat}` was not rendered: {why}"
                )));
            }
            for h in hits {
                if !chosen.iter().any(|c| c.0 == h.0) {
                    chosen.push(h);
                }
            }
        }
    }
    if !failures.is_empty() {
        return failures;
    }
    if chosen.is_empty() {
        return vec![Failure::message(
            "Error: no template to check: the suite's scope rendered nothing",
        )];
    }
    let selector = a.selector.as_ref().or(t.selector.as_ref());
    let index = a.document_index.or(t.document_index).filter(|i| *i >= 0);
    let selection = match select(&chosen, selector, index) {
        Ok(s) => s,
        Err(msg) => return vec![Failure::message(format!("Error: {msg}"))],
    };
    if selection.is_empty() {
        // Every template was skipped by `skipEmptyTemplates`: nothing to assert.
        return Vec::new();
    }
    for (template, all, selected) in selection {
        failures.extend(assert::check(a, template, all, &selected, env));
    }
    failures
}

type Selection<'r> = Vec<(&'r str, &'r [Doc], Vec<&'r Doc>)>;

fn select<'r>(
    chosen: &[&'r (String, Vec<Doc>)],
    selector: Option<&Selector>,
    index: Option<i64>,
) -> std::result::Result<Selection<'r>, String> {
    let mut out = Vec::new();
    if let Some(sel) = selector {
        let p = &sel.path;
        let mut total = 0;
        for (name, docs) in chosen.iter().map(|c| (&c.0, &c.1)) {
            let hits: Vec<&Doc> = docs
                .iter()
                .filter(|d| {
                    p.find(&d.value).iter().any(|v| match &sel.value {
                        None => true,
                        Some(want) => super::values_equal(v, want),
                    })
                })
                .collect();
            total += hits.len();
            if hits.is_empty() {
                if sel.skip_empty_templates {
                    continue;
                }
                return Err(format!(
                    "documentSelector found no document in `{name}` where `{}`{} (each template in scope needs a match; set skipEmptyTemplates: true to skip templates without one)",
                    sel.path.text(),
                    sel.value
                        .as_ref()
                        .map(|v| format!(" is {}", assert::yaml(v)))
                        .unwrap_or_else(|| " exists".into())
                ));
            }
            out.push((name.as_str(), docs.as_slice(), hits));
        }
        if !sel.match_many && total > 1 {
            return Err(format!(
                "documentSelector matched {total} documents but expects one; set matchMany: true to check them all"
            ));
        }
        return Ok(out);
    }
    for (name, docs) in chosen.iter().map(|c| (&c.0, &c.1)) {
        let selected = match index {
            Some(i) => {
                let Some(d) = docs.get(i as usize) else {
                    return Err(format!(
                        "documentIndex {i} is out of range: `{name}` rendered {} document(s)",
                        docs.len()
                    ));
                };
                vec![d]
            }
            None => docs.iter().collect(),
        };
        out.push((name.as_str(), docs.as_slice(), selected));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_keys_build_nested_values_and_merge_mappings() {
        let mut m = Map::new();
        let set = |m: &mut Map<String, Json>, key: &str, v: Json| {
            set_value(m, &SetPath::parse(key).unwrap(), v);
        };
        set(&mut m, "image.tag", json!("v1"));
        set(&mut m, "list[1].name", json!("b"));
        set(&mut m, "a\\.b", json!(1));
        set(&mut m, "image", json!({"repo": "x"}));
        assert_eq!(
            Json::Object(m),
            json!({"image": {"tag": "v1", "repo": "x"}, "list": [null, {"name": "b"}], "a.b": 1})
        );
    }

    #[test]
    fn template_patterns_are_relative_to_templates() {
        assert_eq!(
            template_pattern("deployment.yaml"),
            "templates/deployment.yaml"
        );
        assert_eq!(template_pattern("templates/x.yaml"), "templates/x.yaml");
        assert_eq!(
            template_pattern("charts/sub/templates/x.yaml"),
            "charts/sub/templates/x.yaml"
        );
    }

    #[test]
    fn the_fail_message_is_cut_from_the_render_error() {
        let full =
            "cannot render c/templates/a.yaml:\nboom: x set\n --> c/templates/a.yaml:2:21\n  |";
        assert_eq!(fail_message(full), "boom: x set");
        assert_eq!(fail_message("schema says no"), "schema says no");
    }

    #[test]
    fn a_failure_is_inside_a_helper_when_the_engine_notes_a_call() {
        let inner = "cannot render c/templates/a.yaml:\nboom\n   --> c/templates/_h.tera:3:4\n\
                     \nnote: called from c/templates/a.yaml:2:17\n    |";
        assert!(failed_in_helper(inner));
        assert!(!failed_in_helper(
            "cannot render c/templates/a.yaml:\nboom\n --> c/templates/a.yaml:2:21"
        ));
    }
}
