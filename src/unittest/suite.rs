//! Reading helm-unittest suite files. Every field is checked: an unknown field or assertion
//! type is an error naming the file and line, so a typo never turns into a silent pass.

use std::path::{Path, PathBuf};

use crate::yaml::Yaml;
use anyhow::{Result, anyhow, bail};
use serde_json::Value as Json;

use super::kinds::{self, Kind};
use super::path::SetPath;
use crate::yaml::Dialect;
use crate::yaml::pos::KeyLines;

/// One suite: the tests of one YAML document in a suite file.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    /// `suite:`, or the file name when absent.
    pub name: String,
    /// The suite file.
    pub file: PathBuf,
    /// Values files, resolved against the suite file's folder.
    pub values: Vec<PathBuf>,
    /// `set:` entries in file order.
    pub set: Vec<(SetPath, Json)>,
    /// Templates in scope (patterns relative to `templates/`).
    pub templates: Vec<String>,
    /// Templates taken out of scope.
    pub exclude_templates: Vec<String>,
    /// Release settings shared by the tests.
    pub release: ReleaseSpec,
    /// Cluster settings shared by the tests.
    pub capabilities: CapabilitiesSpec,
    /// Chart metadata overrides shared by the tests.
    pub chart: ChartSpec,
    /// Why the whole suite is skipped.
    pub skip: Option<String>,
    /// `kubernetesProvider.objects`: what `lookup` finds in the cluster.
    pub objects: Vec<Json>,
    /// `includeCrds`: the chart's `crds/` files are in scope as documents.
    pub include_crds: bool,
    /// The tests, in file order.
    pub tests: Vec<TestJob>,
}

/// `release:` of a suite or test.
#[derive(Debug, Clone, Default)]
pub struct ReleaseSpec {
    /// Release name.
    pub name: Option<String>,
    /// Release namespace.
    pub namespace: Option<String>,
    /// Revision number.
    pub revision: Option<u64>,
    /// Whether the render is an upgrade.
    pub upgrade: Option<bool>,
}

/// `capabilities:` of a suite or test.
#[derive(Debug, Clone, Default)]
pub struct CapabilitiesSpec {
    /// Kubernetes major version.
    pub major: Option<u64>,
    /// Kubernetes minor version.
    pub minor: Option<u64>,
    /// Extra API versions the cluster serves.
    pub api_versions: Vec<String>,
}

/// `chart:` of a suite or test.
#[derive(Debug, Clone, Default)]
pub struct ChartSpec {
    /// Overrides Chart.yaml's version.
    pub version: Option<String>,
    /// Overrides Chart.yaml's appVersion.
    pub app_version: Option<String>,
}

/// One test (`- it: ...`).
#[derive(Debug, Clone, Default)]
pub struct TestJob {
    /// `it:`.
    pub name: String,
    /// Line of the test in the suite file.
    pub line: usize,
    /// Values files of the test, after the suite's.
    pub values: Vec<PathBuf>,
    /// `set:` of the test, applied after the suite's.
    pub set: Vec<(SetPath, Json)>,
    /// `template:` / `templates:`.
    pub templates: Vec<String>,
    /// `documentIndex:`.
    pub document_index: Option<i64>,
    /// `documentSelector:`.
    pub selector: Option<Selector>,
    /// Release settings over the suite's.
    pub release: ReleaseSpec,
    /// Cluster settings over the suite's.
    pub capabilities: CapabilitiesSpec,
    /// Chart overrides over the suite's.
    pub chart: ChartSpec,
    /// Why the test is skipped.
    pub skip: Option<String>,
    /// `kubernetesProvider.objects`, added to the suite's.
    pub objects: Vec<Json>,
    /// The assertions.
    pub asserts: Vec<Assertion>,
}

/// `documentSelector:`.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    /// Path to look up in each document.
    pub path: super::path::Path,
    /// Value the path must have; any value when absent.
    pub value: Option<Json>,
    /// Allow more than one matching document.
    pub match_many: bool,
    /// Skip templates that have no matching document instead of failing.
    pub skip_empty_templates: bool,
}

/// One assertion of a test.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// The type as written (`notEqual`, `isNull`, ...).
    pub type_name: String,
    /// What it checks.
    pub kind: Kind,
    /// `not: true`.
    pub not: bool,
    /// Whether the type itself is a negation (`notEqual`).
    pub antonym: bool,
    /// `template:` of the assertion.
    pub template: Option<String>,
    /// `documentIndex:` of the assertion.
    pub document_index: Option<i64>,
    /// `documentSelector:` of the assertion.
    pub selector: Option<Selector>,
    /// Line of the assertion in the suite file.
    pub line: usize,
}

impl Assertion {
    /// Whether the assertion expects the opposite of its base check.
    pub(crate) fn negative(&self) -> bool {
        self.not != self.antonym
    }
}

/// The helm-unittest release whose DOCUMENT.md stoke's suite format follows, for
/// `skip.minimumVersion`.
pub const HELM_UNITTEST_VERSION: &str = "1.1.0";

/// Whether [`HELM_UNITTEST_VERSION`] is at least `minimum` (`v1.0`, `0.8.0`); a version that
/// does not read as one is not met, as helm-unittest treats it.
fn meets_minimum(minimum: &str) -> bool {
    let parse = |v: &str| {
        let v = v.trim().trim_start_matches('v');
        let (core, pre) = v.split_once('-').map_or((v, None), |(c, p)| (c, Some(p)));
        let padded = match core.matches('.').count() {
            0 => format!("{core}.0.0"),
            1 => format!("{core}.0"),
            _ => core.to_string(),
        };
        let full = pre.map_or(padded.clone(), |p| format!("{padded}-{p}"));
        semver::Version::parse(&full).ok()
    };
    match (parse(HELM_UNITTEST_VERSION), parse(minimum)) {
        (Some(current), Some(min)) => current >= min,
        _ => false,
    }
}

/// Reads every suite in `file` (documents separated by `---`).
/// Also returns warnings for unknown fields helm-unittest would ignore:
/// top-level keys other than `x-...` ones (commonly holding YAML anchors, accepted
/// silently) and unknown assertion parameters. Under `strict` they are errors instead.
pub(crate) fn parse_file_with(file: &Path, strict: bool) -> Result<(Vec<Suite>, Vec<String>)> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow!("cannot read suite file `{}`: {e}", file.display()))?;
    parse_text_with(&text, file, strict)
}

/// Reads the suites in `text`; `file` names the source in messages and anchors relative
/// values files.
#[cfg(test)]
pub(crate) fn parse_text(text: &str, file: &Path) -> Result<Vec<Suite>> {
    parse_text_with(text, file, false).map(|(s, _)| s)
}

fn parse_text_with(text: &str, file: &Path, strict: bool) -> Result<(Vec<Suite>, Vec<String>)> {
    let mut suites = Vec::new();
    let mut warnings = Vec::new();
    for (start, doc) in crate::engine::manifest::split_documents(text) {
        if crate::engine::manifest::is_blank(&doc) {
            continue;
        }
        let origin = file.display().to_string();
        // Read as helm-unittest reads suites (go-yaml v3): `0755` is a number, as in the
        // rendered documents the suite checks.
        let yaml: Yaml = crate::yaml::try_from_str_as(&doc, Dialect::GoYamlV3).map_err(|e| {
            // Lines in the error are relative to the document; shift them to the file.
            let shifted = match (e.line(), e.column()) {
                (Some(line), Some(column)) => format!(
                    "{origin}:{}:{column}: invalid YAML: {}",
                    line + start - 1,
                    e.message()
                ),
                _ => format!("{origin}: invalid YAML: {e}"),
            };
            anyhow!(shifted)
        })?;
        // helm-unittest reads suites with yaml.v3, which resolves merge keys.
        let yaml = if crate::yaml::merge::has_merge_keys(&doc) {
            crate::yaml::merge::resolve(yaml, crate::yaml::merge::Precedence::OwnKeysWin, &origin)?
        } else {
            yaml
        };
        let ctx = Ctx {
            file,
            origin: &origin,
            lines: KeyLines::scan(&doc),
            offset: start - 1,
            strict,
            warnings: Default::default(),
        };
        suites.push(ctx.suite(&yaml)?);
        warnings.extend(ctx.warnings.take());
    }
    if suites.is_empty() {
        bail!("{}: the suite file is empty", file.display());
    }
    Ok((suites, warnings))
}

/// Where a suite document came from, for messages, and the warnings reading it gave.
pub(super) struct Ctx<'a> {
    file: &'a Path,
    origin: &'a str,
    lines: KeyLines,
    offset: usize,
    /// Unknown fields helm-unittest ignores are errors rather than warnings.
    strict: bool,
    warnings: std::cell::RefCell<Vec<String>>,
}

/// A mapping whose keys are taken one by one; what is left over is unknown.
pub(super) struct Fields<'a> {
    path: String,
    entries: Vec<(String, &'a Yaml)>,
}

impl Ctx<'_> {
    pub(super) fn line(&self, path: &str) -> usize {
        self.lines.line_of(path).unwrap_or(1) + self.offset
    }

    pub(super) fn at(&self, path: &str) -> String {
        format!("{}:{}", self.origin, self.line(path))
    }

    pub(super) fn err(&self, path: &str, msg: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{}: {msg}", self.at(path))
    }

    pub(super) fn fields<'y>(&self, path: &str, v: &'y Yaml, what: &str) -> Result<Fields<'y>> {
        let Yaml::Mapping(m) = v else {
            return Err(self.err(path, format!("{what} must be a mapping")));
        };
        let mut entries = Vec::new();
        for (k, val) in m {
            let key = match k {
                Yaml::String(s) => s.clone(),
                other => crate::yaml::to_string(other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            entries.push((key, val));
        }
        Ok(Fields {
            path: path.to_string(),
            entries,
        })
    }

    pub(super) fn finish(&self, f: Fields, what: &str, known: &[&str]) -> Result<()> {
        if let Some((key, _)) = f.entries.first() {
            let p = join(&f.path, key);
            let hint = crate::suggest::did_you_mean(key, known.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| format!(" (known fields: {})", known.join(", ")));
            return Err(self.err(&p, format!("unknown field `{key}` in {what}{hint}")));
        }
        Ok(())
    }

    /// Like [`Ctx::finish`] for the places helm-unittest reads leniently: every leftover
    /// field is a warning (an error under `strict`); with `allow_x`, `x-...` keys (YAML
    /// anchor holders) pass silently.
    pub(super) fn finish_lenient(
        &self,
        f: Fields,
        what: &str,
        known: &[&str],
        allow_x: bool,
    ) -> Result<()> {
        for (key, _) in &f.entries {
            if allow_x && key.starts_with("x-") {
                continue;
            }
            let p = join(&f.path, key);
            let hint = crate::suggest::did_you_mean(key, known.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| format!(" (known fields: {})", known.join(", ")));
            if self.strict {
                return Err(self.err(&p, format!("unknown field `{key}` in {what}{hint}")));
            }
            self.warnings.borrow_mut().push(format!(
                "{}: unknown field `{key}` in {what} ignored, as helm-unittest ignores it{hint}",
                self.at(&p)
            ));
        }
        Ok(())
    }

    pub(super) fn string(&self, path: &str, v: &Yaml) -> Result<String> {
        match v {
            Yaml::String(s) => Ok(s.clone()),
            Yaml::Number(n) => Ok(n.to_string()),
            Yaml::Bool(b) => Ok(b.to_string()),
            _ => Err(self.err(path, "expected a string")),
        }
    }

    pub(super) fn opt_string(&self, path: &str, v: Option<&Yaml>) -> Result<Option<String>> {
        match v {
            None | Some(Yaml::Null) => Ok(None),
            Some(v) => self.string(path, v).map(Some),
        }
    }

    pub(super) fn bool(&self, path: &str, v: Option<&Yaml>) -> Result<bool> {
        match v {
            None | Some(Yaml::Null) => Ok(false),
            Some(Yaml::Bool(b)) => Ok(*b),
            Some(_) => Err(self.err(path, "expected true or false")),
        }
    }

    pub(super) fn uint(&self, path: &str, v: Option<&Yaml>) -> Result<Option<u64>> {
        match v {
            None | Some(Yaml::Null) => Ok(None),
            Some(Yaml::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            Some(Yaml::String(s)) if s.parse::<u64>().is_ok() => Ok(s.parse().ok()),
            Some(_) => Err(self.err(path, "expected a whole number")),
        }
    }

    pub(super) fn int(&self, path: &str, v: Option<&Yaml>) -> Result<Option<i64>> {
        match v {
            None | Some(Yaml::Null) => Ok(None),
            Some(Yaml::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
            Some(_) => Err(self.err(path, "expected a whole number")),
        }
    }

    pub(super) fn strings(&self, path: &str, v: Option<&Yaml>) -> Result<Vec<String>> {
        match v {
            None | Some(Yaml::Null) => Ok(Vec::new()),
            Some(Yaml::Sequence(items)) => items
                .iter()
                .enumerate()
                .map(|(i, s)| self.string(&format!("{path}[{i}]"), s))
                .collect(),
            Some(Yaml::String(s)) => Ok(vec![s.clone()]),
            Some(_) => Err(self.err(path, "expected a list of strings")),
        }
    }

    fn values_files(&self, path: &str, v: Option<&Yaml>) -> Result<Vec<PathBuf>> {
        let dir = self.file.parent().unwrap_or(Path::new("."));
        Ok(self
            .strings(path, v)?
            .into_iter()
            .map(|s| {
                let p = PathBuf::from(&s);
                if p.is_absolute() { p } else { dir.join(p) }
            })
            .collect())
    }

    fn set(&self, path: &str, v: Option<&Yaml>) -> Result<Vec<(SetPath, Json)>> {
        match v {
            None | Some(Yaml::Null) => Ok(Vec::new()),
            Some(Yaml::Mapping(m)) => {
                let mut out = Vec::new();
                for (k, val) in m {
                    let key = self.string(path, k)?;
                    let parsed =
                        SetPath::parse(&key).map_err(|e| self.err(&join(path, &key), e))?;
                    out.push((parsed, crate::yaml::yaml_to_json(val.clone())));
                }
                Ok(out)
            }
            Some(_) => Err(self.err(path, "`set` must map value paths to values")),
        }
    }

    fn skip(&self, path: &str, v: Option<&Yaml>) -> Result<Option<String>> {
        let Some(v) = v else { return Ok(None) };
        if v.is_null() {
            return Ok(None);
        }
        let mut f = self.fields(path, v, "`skip`")?;
        let reason = self.opt_string(&join(path, "reason"), f.take("reason"))?;
        let minimum = self.opt_string(&join(path, "minimumVersion"), f.take("minimumVersion"))?;
        self.finish(f, "`skip`", &["reason", "minimumVersion"])?;
        // As in helm-unittest, a reason always skips; a minimum version skips only when the
        // helm-unittest stoke follows is older.
        Ok(reason.or_else(|| {
            minimum.filter(|m| !meets_minimum(m)).map(|m| {
                format!(
                    "requires helm-unittest {m}; stoke reads suites as helm-unittest {HELM_UNITTEST_VERSION} does"
                )
            })
        }))
    }

    fn release(&self, path: &str, v: Option<&Yaml>) -> Result<ReleaseSpec> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(ReleaseSpec::default());
        };
        let mut f = self.fields(path, v, "`release`")?;
        let spec = ReleaseSpec {
            name: self.opt_string(&join(path, "name"), f.take("name"))?,
            namespace: self.opt_string(&join(path, "namespace"), f.take("namespace"))?,
            revision: self.uint(&join(path, "revision"), f.take("revision"))?,
            upgrade: match f.take("upgrade") {
                None | Some(Yaml::Null) => None,
                some => Some(self.bool(&join(path, "upgrade"), some)?),
            },
        };
        self.finish(
            f,
            "`release`",
            &["name", "namespace", "revision", "upgrade"],
        )?;
        Ok(spec)
    }

    fn capabilities(&self, path: &str, v: Option<&Yaml>) -> Result<CapabilitiesSpec> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(CapabilitiesSpec::default());
        };
        let mut f = self.fields(path, v, "`capabilities`")?;
        let spec = CapabilitiesSpec {
            major: self.uint(&join(path, "majorVersion"), f.take("majorVersion"))?,
            minor: self.uint(&join(path, "minorVersion"), f.take("minorVersion"))?,
            api_versions: self.strings(&join(path, "apiVersions"), f.take("apiVersions"))?,
        };
        self.finish(
            f,
            "`capabilities`",
            &["majorVersion", "minorVersion", "apiVersions"],
        )?;
        Ok(spec)
    }

    fn chart(&self, path: &str, v: Option<&Yaml>) -> Result<ChartSpec> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(ChartSpec::default());
        };
        let mut f = self.fields(path, v, "`chart`")?;
        let spec = ChartSpec {
            version: self.opt_string(&join(path, "version"), f.take("version"))?,
            app_version: self.opt_string(&join(path, "appVersion"), f.take("appVersion"))?,
        };
        self.finish(f, "`chart`", &["version", "appVersion"])?;
        Ok(spec)
    }

    /// `kubernetesProvider`: the objects `lookup` sees. The scheme helm-unittest needs for
    /// its fake client is accepted and not needed: stoke's `lookup` matches by apiVersion
    /// and kind directly.
    fn provider(&self, path: &str, v: Option<&Yaml>) -> Result<Vec<Json>> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(Vec::new());
        };
        let mut f = self.fields(path, v, "`kubernetesProvider`")?;
        let _scheme = f.take("scheme");
        let objects = f.take("objects");
        self.finish(f, "`kubernetesProvider`", &["scheme", "objects"])?;
        let items = match objects {
            None | Some(Yaml::Null) => return Ok(Vec::new()),
            Some(Yaml::Sequence(items)) => items,
            Some(_) => {
                return Err(self.err(
                    &join(path, "objects"),
                    "`objects` must be a list of Kubernetes objects",
                ));
            }
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("{path}.objects[{i}]");
            let obj = crate::yaml::yaml_to_json(item.clone());
            for (field, ptr) in [
                ("apiVersion", "/apiVersion"),
                ("kind", "/kind"),
                ("metadata.name", "/metadata/name"),
            ] {
                if obj
                    .pointer(ptr)
                    .and_then(Json::as_str)
                    .is_none_or(str::is_empty)
                {
                    return Err(self.err(&at, format!("the object needs `{field}`")));
                }
            }
            out.push(obj);
        }
        Ok(out)
    }

    fn selector(&self, path: &str, v: Option<&Yaml>) -> Result<Option<Selector>> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let mut f = self.fields(path, v, "`documentSelector`")?;
        let sel_path = self
            .opt_string(&join(path, "path"), f.take("path"))?
            .ok_or_else(|| self.err(path, "`documentSelector` needs a `path`"))?;
        let sel = Selector {
            path: super::path::Path::parse(&sel_path)
                .map_err(|e| self.err(&join(path, "path"), e))?,
            value: f
                .take("value")
                .map(|v| crate::yaml::yaml_to_json(v.clone())),
            match_many: self.bool(&join(path, "matchMany"), f.take("matchMany"))?,
            skip_empty_templates: self.bool(
                &join(path, "skipEmptyTemplates"),
                f.take("skipEmptyTemplates"),
            )?,
        };
        self.finish(
            f,
            "`documentSelector`",
            &["path", "value", "matchMany", "skipEmptyTemplates"],
        )?;
        Ok(Some(sel))
    }

    fn suite(&self, v: &Yaml) -> Result<Suite> {
        let mut f = self.fields("", v, "a test suite")?;
        let name = self
            .opt_string("suite", f.take("suite"))?
            .unwrap_or_else(|| {
                self.file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        let mut suite = Suite {
            name,
            file: self.file.to_path_buf(),
            values: self.values_files("values", f.take("values"))?,
            set: self.set("set", f.take("set"))?,
            templates: self.strings("templates", f.take("templates"))?,
            exclude_templates: self.strings("excludeTemplates", f.take("excludeTemplates"))?,
            release: self.release("release", f.take("release"))?,
            capabilities: self.capabilities("capabilities", f.take("capabilities"))?,
            chart: self.chart("chart", f.take("chart"))?,
            skip: self.skip("skip", f.take("skip"))?,
            objects: self.provider("kubernetesProvider", f.take("kubernetesProvider"))?,
            include_crds: false,
            tests: Vec::new(),
        };
        suite.include_crds = self.bool("includeCrds", f.take("includeCrds"))?;
        if let Some(t) = f.take("template") {
            // Older suites name one template; helm-unittest still accepts it.
            suite.templates.push(self.string("template", t)?);
        }
        let tests = f.take("tests");
        for unsupported in ["postRenderer", "snapshotId"] {
            if f.take(unsupported).is_some() {
                return Err(self.err(
                    unsupported,
                    format!("`{unsupported}` is a helm-unittest feature stoke does not support; remove it"),
                ));
            }
        }
        self.finish_lenient(
            f,
            "a test suite",
            &[
                "suite",
                "values",
                "set",
                "templates",
                "excludeTemplates",
                "release",
                "capabilities",
                "chart",
                "skip",
                "kubernetesProvider",
                "includeCrds",
                "tests",
            ],
            true,
        )?;
        let Some(Yaml::Sequence(items)) = tests else {
            return Err(self.err("tests", "a suite needs `tests:`, a list of tests"));
        };
        if items.is_empty() {
            return Err(self.err("tests", "the suite has no tests"));
        }
        for (i, t) in items.iter().enumerate() {
            suite.tests.push(self.test(&format!("tests[{i}]"), t)?);
        }
        Ok(suite)
    }

    fn test(&self, path: &str, v: &Yaml) -> Result<TestJob> {
        let mut f = self.fields(path, v, "a test")?;
        let p = |k: &str| join(path, k);
        let mut templates = self.strings(&p("templates"), f.take("templates"))?;
        if let Some(t) = f.take("template") {
            templates.insert(0, self.string(&p("template"), t)?);
        }
        let mut job = TestJob {
            name: self.opt_string(&p("it"), f.take("it"))?.unwrap_or_default(),
            line: self.line(path),
            values: self.values_files(&p("values"), f.take("values"))?,
            set: self.set(&p("set"), f.take("set"))?,
            templates,
            document_index: self.int(&p("documentIndex"), f.take("documentIndex"))?,
            selector: self.selector(&p("documentSelector"), f.take("documentSelector"))?,
            release: self.release(&p("release"), f.take("release"))?,
            capabilities: self.capabilities(&p("capabilities"), f.take("capabilities"))?,
            chart: self.chart(&p("chart"), f.take("chart"))?,
            skip: self.skip(&p("skip"), f.take("skip"))?,
            objects: self.provider(&p("kubernetesProvider"), f.take("kubernetesProvider"))?,
            asserts: Vec::new(),
        };
        let asserts = f.take("asserts");
        for unsupported in ["postRenderer"] {
            if f.take(unsupported).is_some() {
                return Err(self.err(
                    &p(unsupported),
                    format!("`{unsupported}` is a helm-unittest feature stoke does not support; remove it"),
                ));
            }
        }
        self.finish(
            f,
            "a test",
            &[
                "it",
                "values",
                "set",
                "template",
                "templates",
                "documentIndex",
                "documentSelector",
                "release",
                "capabilities",
                "chart",
                "skip",
                "kubernetesProvider",
                "asserts",
            ],
        )?;
        if job.name.is_empty() {
            return Err(self.err(path, "the test has no `it:` name"));
        }
        let Some(Yaml::Sequence(items)) = asserts else {
            return Err(self.err(
                path,
                format!("test `{}` needs `asserts:`, a list of assertions", job.name),
            ));
        };
        if items.is_empty() {
            return Err(self.err(
                &p("asserts"),
                format!("test `{}` has no assertions", job.name),
            ));
        }
        for (i, a) in items.iter().enumerate() {
            job.asserts
                .push(self.assertion(&format!("{path}.asserts[{i}]"), a)?);
        }
        Ok(job)
    }

    fn assertion(&self, path: &str, v: &Yaml) -> Result<Assertion> {
        let mut f = self.fields(path, v, "an assertion")?;
        let p = |k: &str| join(path, k);
        let not = self.bool(&p("not"), f.take("not"))?;
        let template = self.opt_string(&p("template"), f.take("template"))?;
        let document_index = self.int(&p("documentIndex"), f.take("documentIndex"))?;
        let selector = self.selector(&p("documentSelector"), f.take("documentSelector"))?;
        let mut found: Option<(&'static kinds::AssertionType, &Yaml)> = None;
        for (key, val) in std::mem::take(&mut f.entries) {
            let Some(ty) = kinds::lookup(&key) else {
                const OPTIONS: [&str; 4] = ["not", "template", "documentIndex", "documentSelector"];
                if let Some(option) = crate::suggest::did_you_mean(&key, OPTIONS) {
                    return Err(self.err(
                        &p(&key),
                        format!("unknown field `{key}` in an assertion; did you mean `{option}`?"),
                    ));
                }
                let hint = crate::suggest::did_you_mean(&key, kinds::names())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| {
                        "; an assertion is one type key (equal, contains, matchSnapshot, ...) plus optional not, template, documentIndex, documentSelector".into()
                    });
                return Err(self.err(&p(&key), format!("unknown assertion type `{key}`{hint}")));
            };
            if let Some((first, _)) = &found {
                return Err(self.err(
                    &p(&key),
                    format!(
                        "an assertion has one type, but this one has `{}` and `{key}`",
                        first.name
                    ),
                ));
            }
            found = Some((ty, val));
        }
        let Some((ty, params)) = found else {
            return Err(self.err(path, "the assertion has no type (equal, contains, ...)"));
        };
        let kind = kinds::parse(self, &p(ty.name), ty, params)?;
        Ok(Assertion {
            type_name: ty.name.to_string(),
            kind,
            not,
            antonym: ty.antonym,
            template,
            document_index,
            selector,
            line: self.line(path),
        })
    }
}

impl<'a> Fields<'a> {
    pub(super) fn take(&mut self, key: &str) -> Option<&'a Yaml> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(i).1)
    }
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Suite>> {
        parse_text(text, Path::new("tests/x_test.yaml"))
    }

    #[test]
    fn reads_a_full_suite() {
        let s = &parse(
            "suite: s\ntemplates: [a.yaml]\nset:\n  image.tag: v1\ntests:\n  - it: works\n    documentIndex: 0\n    asserts:\n      - notEqual:\n          path: a\n          value: 1\n        not: true\n",
        )
        .unwrap()[0];
        assert_eq!(s.name, "s");
        assert_eq!(s.set[0].0.text, "image.tag");
        let a = &s.tests[0].asserts[0];
        assert!(a.antonym && a.not && !a.negative());
        assert_eq!(s.tests[0].line, 6);
    }

    #[test]
    fn unknown_fields_name_the_file_and_line() {
        let err = parse("suite: s\ntests:\n  - it: a\n    assert:\n      - exists: {path: a}\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("tests/x_test.yaml:4: unknown field `assert`"),
            "{err}"
        );
        assert!(err.contains("did you mean `asserts`"), "{err}");
    }

    #[test]
    fn unknown_assertion_types_and_parameters_are_errors() {
        let err = parse("tests:\n  - it: a\n    asserts:\n      - equl: {path: a, value: 1}\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("tests/x_test.yaml:4: unknown assertion type `equl`"),
            "{err}"
        );
        let text = "tests:\n  - it: a\n    asserts:\n      - equal:\n          path: a\n          value: 1\n          valeu: 1\n";
        let err = parse_text_with(text, Path::new("tests/x_test.yaml"), true)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("tests/x_test.yaml:7: unknown field `valeu`"),
            "{err}"
        );
        let (_, warnings) = parse_text_with(text, Path::new("tests/x_test.yaml"), false).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("tests/x_test.yaml:7: unknown field `valeu`"),
            "{warnings:?}"
        );
    }

    #[test]
    fn unknown_top_level_keys_warn_and_x_keys_pass_silently() {
        let text = "x-common: &c {path: a, value: 1}\nsuit: typo\ntests:\n  - it: a\n    asserts:\n      - equal: *c\n";
        let (suites, warnings) =
            parse_text_with(text, Path::new("tests/x_test.yaml"), false).unwrap();
        assert_eq!(suites.len(), 1);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("tests/x_test.yaml:2: unknown field `suit`")
                && warnings[0].contains("did you mean `suite`"),
            "{warnings:?}"
        );
        assert!(parse_text_with(text, Path::new("tests/x_test.yaml"), true).is_err());
    }

    #[test]
    fn a_minimum_version_skips_only_when_stoke_follows_an_older_helm_unittest() {
        assert!(meets_minimum("0.8.0") && meets_minimum("v1.1") && meets_minimum("1"));
        assert!(!meets_minimum("1.2.0") && !meets_minimum("2") && !meets_minimum("soon"));
    }

    #[test]
    fn lines_count_from_the_file_start_in_later_documents() {
        let err = parse("tests:\n  - it: a\n    asserts: [{exists: {path: a}}]\n---\ntests:\n  - it: b\n    bogus: 1\n    asserts: [{exists: {path: a}}]\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("tests/x_test.yaml:7:"), "{err}");
    }
}
