//! Reading helm-unittest suite files. Every field is checked: an unknown field or assertion
//! type is an error naming the file and line, so a typo never turns into a silent pass.

use std::path::{Path, PathBuf};

use crate::yaml::Yaml;
use anyhow::{Result, anyhow, bail};
use serde_json::Value as Json;

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
    pub set: Vec<(String, Json)>,
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
    pub set: Vec<(String, Json)>,
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
    pub path: String,
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

/// The checks, one per family of assertion types (antonyms share one).
#[derive(Debug, Clone)]
pub enum Kind {
    /// `equal` / `notEqual`.
    Equal {
        path: String,
        value: Json,
        decode_base64: bool,
    },
    /// `equalRaw` / `notEqualRaw`.
    EqualRaw { value: String },
    /// `matchRegex` / `notMatchRegex`.
    MatchRegex {
        path: String,
        pattern: String,
        decode_base64: bool,
    },
    /// `matchRegexRaw` / `notMatchRegexRaw`.
    MatchRegexRaw { pattern: String },
    /// `contains` / `notContains`.
    Contains {
        path: String,
        content: Json,
        count: Option<i64>,
        any: bool,
    },
    /// `isNullOrEmpty`, `isEmpty` and antonyms.
    IsNullOrEmpty { path: String },
    /// `exists`, `notExists`.
    Exists { path: String },
    /// `isNull` / `isNotNull`: the value is null or absent.
    IsNull { path: String },
    /// `isKind`.
    IsKind { of: String },
    /// `isAPIVersion`.
    IsApiVersion { of: String },
    /// `hasDocuments`.
    HasDocuments { count: usize, filter_aware: bool },
    /// `isSubset` / `isNotSubset`.
    IsSubset { path: String, content: Json },
    /// `lengthEqual` / `notLengthEqual`.
    LengthEqual {
        paths: Vec<String>,
        count: Option<usize>,
    },
    /// `isType` / `isNotType`.
    IsType { path: String, type_name: String },
    /// `failedTemplate` / `notFailedTemplate`.
    FailedTemplate {
        message: Option<String>,
        pattern: Option<String>,
    },
    /// `matchSnapshot`.
    MatchSnapshot {
        path: String,
        match_regex: Option<String>,
        not_match_regex: Option<String>,
    },
    /// `matchSnapshotRaw`.
    MatchSnapshotRaw,
    /// `greaterOrEqual` / `lessOrEqual` and their antonyms.
    Compare {
        path: String,
        value: Json,
        greater: bool,
    },
    /// `containsDocument`.
    ContainsDocument {
        kind: String,
        api_version: String,
        name: Option<String>,
        namespace: Option<String>,
        any: bool,
    },
}

/// Assertion types stoke knows, with whether each is an antonym.
pub(crate) const ASSERTION_TYPES: &[(&str, bool)] = &[
    ("equal", false),
    ("notEqual", true),
    ("equalRaw", false),
    ("notEqualRaw", true),
    ("matchRegex", false),
    ("notMatchRegex", true),
    ("matchRegexRaw", false),
    ("notMatchRegexRaw", true),
    ("contains", false),
    ("notContains", true),
    ("isNullOrEmpty", false),
    ("isNotNullOrEmpty", true),
    ("isEmpty", false),
    ("isNotEmpty", true),
    ("exists", false),
    ("notExists", true),
    ("isNull", false),
    ("isNotNull", true),
    ("isKind", false),
    ("isAPIVersion", false),
    ("hasDocuments", false),
    ("isSubset", false),
    ("isNotSubset", true),
    ("lengthEqual", false),
    ("notLengthEqual", true),
    ("isType", false),
    ("isNotType", true),
    ("failedTemplate", false),
    ("notFailedTemplate", true),
    ("matchSnapshot", false),
    ("matchSnapshotRaw", false),
    ("containsDocument", false),
    ("greaterOrEqual", false),
    ("notGreaterOrEqual", true),
    ("lessOrEqual", false),
    ("notLessOrEqual", true),
];

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
        let yaml: Yaml = crate::yaml::try_from_str(&doc).map_err(|e| {
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

struct Ctx<'a> {
    file: &'a Path,
    origin: &'a str,
    lines: KeyLines,
    offset: usize,
    /// Unknown fields helm-unittest ignores are errors rather than warnings.
    strict: bool,
    warnings: std::cell::RefCell<Vec<String>>,
}

/// A mapping whose keys are taken one by one; what is left over is unknown.
struct Fields<'a> {
    path: String,
    entries: Vec<(String, &'a Yaml)>,
}

impl Ctx<'_> {
    fn line(&self, path: &str) -> usize {
        self.lines.line_of(path).unwrap_or(1) + self.offset
    }

    fn at(&self, path: &str) -> String {
        format!("{}:{}", self.origin, self.line(path))
    }

    fn err(&self, path: &str, msg: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{}: {msg}", self.at(path))
    }

    fn fields<'y>(&self, path: &str, v: &'y Yaml, what: &str) -> Result<Fields<'y>> {
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

    fn finish(&self, f: Fields, what: &str, known: &[&str]) -> Result<()> {
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
    fn finish_lenient(&self, f: Fields, what: &str, known: &[&str], allow_x: bool) -> Result<()> {
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

    fn string(&self, path: &str, v: &Yaml) -> Result<String> {
        match v {
            Yaml::String(s) => Ok(s.clone()),
            Yaml::Number(n) => Ok(n.to_string()),
            Yaml::Bool(b) => Ok(b.to_string()),
            _ => Err(self.err(path, "expected a string")),
        }
    }

    fn opt_string(&self, path: &str, v: Option<&Yaml>) -> Result<Option<String>> {
        match v {
            None | Some(Yaml::Null) => Ok(None),
            Some(v) => self.string(path, v).map(Some),
        }
    }

    fn bool(&self, path: &str, v: Option<&Yaml>) -> Result<bool> {
        match v {
            None | Some(Yaml::Null) => Ok(false),
            Some(Yaml::Bool(b)) => Ok(*b),
            Some(_) => Err(self.err(path, "expected true or false")),
        }
    }

    fn uint(&self, path: &str, v: Option<&Yaml>) -> Result<Option<u64>> {
        match v {
            None | Some(Yaml::Null) => Ok(None),
            Some(Yaml::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            Some(Yaml::String(s)) if s.parse::<u64>().is_ok() => Ok(s.parse().ok()),
            Some(_) => Err(self.err(path, "expected a whole number")),
        }
    }

    fn int(&self, path: &str, v: Option<&Yaml>) -> Result<Option<i64>> {
        match v {
            None | Some(Yaml::Null) => Ok(None),
            Some(Yaml::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
            Some(_) => Err(self.err(path, "expected a whole number")),
        }
    }

    fn strings(&self, path: &str, v: Option<&Yaml>) -> Result<Vec<String>> {
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

    fn set(&self, path: &str, v: Option<&Yaml>) -> Result<Vec<(String, Json)>> {
        match v {
            None | Some(Yaml::Null) => Ok(Vec::new()),
            Some(Yaml::Mapping(m)) => {
                let mut out = Vec::new();
                for (k, val) in m {
                    let key = self.string(path, k)?;
                    super::path::set_path(&key).map_err(|e| self.err(&join(path, &key), e))?;
                    out.push((key, crate::yaml::yaml_to_json(val.clone())));
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
        Ok(reason.or_else(|| {
            minimum.map(|m| format!("requires helm-unittest {m}; stoke skips version-gated suites"))
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
        super::path::Path::parse(&sel_path).map_err(|e| self.err(&join(path, "path"), e))?;
        let sel = Selector {
            path: sel_path,
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
            tests: Vec::new(),
        };
        if let Some(v) = f.take("includeCrds") {
            // CRDs are not rendered by stoke's unit tests; asking for them must not pass silently.
            if self.bool("includeCrds", Some(v))? {
                return Err(self.err(
                    "includeCrds",
                    "`includeCrds: true` is not supported by stoke; remove it and test CRDs another way",
                ));
            }
        }
        if let Some(t) = f.take("template") {
            // Older suites name one template; helm-unittest still accepts it.
            suite.templates.push(self.string("template", t)?);
        }
        let tests = f.take("tests");
        for unsupported in [
            "kubernetesProvider",
            "postRenderer",
            "includeCrds",
            "snapshotId",
        ] {
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
        let known: Vec<&str> = ASSERTION_TYPES.iter().map(|(n, _)| *n).collect();
        let mut found: Option<(String, &Yaml)> = None;
        for (key, val) in std::mem::take(&mut f.entries) {
            if !known.contains(&key.as_str()) {
                const OPTIONS: [&str; 4] = ["not", "template", "documentIndex", "documentSelector"];
                if let Some(option) = crate::suggest::did_you_mean(&key, OPTIONS) {
                    return Err(self.err(
                        &p(&key),
                        format!("unknown field `{key}` in an assertion; did you mean `{option}`?"),
                    ));
                }
                let hint = crate::suggest::did_you_mean(&key, known.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| {
                        "; an assertion is one type key (equal, contains, matchSnapshot, ...) plus optional not, template, documentIndex, documentSelector".into()
                    });
                return Err(self.err(&p(&key), format!("unknown assertion type `{key}`{hint}")));
            }
            if let Some((first, _)) = &found {
                return Err(self.err(
                    &p(&key),
                    format!("an assertion has one type, but this one has `{first}` and `{key}`"),
                ));
            }
            found = Some((key, val));
        }
        let Some((type_name, params)) = found else {
            return Err(self.err(path, "the assertion has no type (equal, contains, ...)"));
        };
        let antonym = ASSERTION_TYPES.iter().any(|(n, a)| *n == type_name && *a);
        let kind = self.kind(&p(&type_name), &type_name, params)?;
        Ok(Assertion {
            type_name,
            kind,
            not,
            antonym,
            template,
            document_index,
            selector,
            line: self.line(path),
        })
    }

    fn kind(&self, path: &str, type_name: &str, params: &Yaml) -> Result<Kind> {
        let empty = Yaml::Mapping(Default::default());
        let params = if params.is_null() { &empty } else { params };
        let mut f = self.fields(path, params, &format!("`{type_name}`"))?;
        let p = |k: &str| join(path, k);
        let what = format!("`{type_name}`");
        let req_str = |f: &mut Fields, key: &str| -> Result<String> {
            self.opt_string(&p(key), f.take(key))?
                .ok_or_else(|| self.err(path, format!("{what} needs `{key}`")))
        };
        let opt_path = |f: &mut Fields| -> Result<String> {
            let s = self
                .opt_string(&p("path"), f.take("path"))?
                .unwrap_or_default();
            super::path::Path::parse(&s).map_err(|e| self.err(&p("path"), e))?;
            Ok(s)
        };
        let req_path = |f: &mut Fields| -> Result<String> {
            let s = req_str(f, "path")?;
            super::path::Path::parse(&s).map_err(|e| self.err(&p("path"), e))?;
            Ok(s)
        };
        let json = |v: Option<&Yaml>| v.map(|v| crate::yaml::yaml_to_json(v.clone()));
        let base = type_name
            .trim_start_matches("not")
            .trim_start_matches("isNot")
            .to_ascii_lowercase();
        let (kind, known): (Kind, &[&str]) = match type_name {
            "equal" | "notEqual" => (
                Kind::Equal {
                    path: req_path(&mut f)?,
                    value: json(f.take("value")).unwrap_or(Json::Null),
                    decode_base64: self.bool(&p("decodeBase64"), f.take("decodeBase64"))?,
                },
                &["path", "value", "decodeBase64"],
            ),
            "equalRaw" | "notEqualRaw" => (
                Kind::EqualRaw {
                    value: req_str(&mut f, "value")?,
                },
                &["value"],
            ),
            "matchRegex" | "notMatchRegex" => (
                Kind::MatchRegex {
                    path: req_path(&mut f)?,
                    pattern: self.regex(&p("pattern"), req_str(&mut f, "pattern")?)?,
                    decode_base64: self.bool(&p("decodeBase64"), f.take("decodeBase64"))?,
                },
                &["path", "pattern", "decodeBase64"],
            ),
            "matchRegexRaw" | "notMatchRegexRaw" => (
                Kind::MatchRegexRaw {
                    pattern: self.regex(&p("pattern"), req_str(&mut f, "pattern")?)?,
                },
                &["pattern"],
            ),
            "contains" | "notContains" => (
                Kind::Contains {
                    path: req_path(&mut f)?,
                    content: json(f.take("content")).unwrap_or(Json::Null),
                    count: self.int(&p("count"), f.take("count"))?,
                    any: self.bool(&p("any"), f.take("any"))?,
                },
                &["path", "content", "count", "any"],
            ),
            "isNullOrEmpty" | "isNotNullOrEmpty" | "isEmpty" | "isNotEmpty" => (
                Kind::IsNullOrEmpty {
                    path: req_path(&mut f)?,
                },
                &["path"],
            ),
            "isNull" | "isNotNull" => (
                Kind::IsNull {
                    path: req_path(&mut f)?,
                },
                &["path"],
            ),
            "exists" | "notExists" => (
                Kind::Exists {
                    path: req_path(&mut f)?,
                },
                &["path"],
            ),
            "isKind" => (
                Kind::IsKind {
                    of: req_str(&mut f, "of")?,
                },
                &["of"],
            ),
            "isAPIVersion" => (
                Kind::IsApiVersion {
                    of: req_str(&mut f, "of")?,
                },
                &["of"],
            ),
            "hasDocuments" => (
                Kind::HasDocuments {
                    count: self
                        .uint(&p("count"), f.take("count"))?
                        .ok_or_else(|| self.err(path, "`hasDocuments` needs `count`"))?
                        as usize,
                    filter_aware: self.bool(&p("filterAware"), f.take("filterAware"))?,
                },
                &["count", "filterAware"],
            ),
            "isSubset" | "isNotSubset" => (
                Kind::IsSubset {
                    path: req_path(&mut f)?,
                    content: json(f.take("content")).unwrap_or(Json::Null),
                },
                &["path", "content"],
            ),
            "lengthEqual" | "notLengthEqual" => {
                let single = self.opt_string(&p("path"), f.take("path"))?;
                let many = self.strings(&p("paths"), f.take("paths"))?;
                let count = self.uint(&p("count"), f.take("count"))?.map(|c| c as usize);
                let paths = match (single, many.is_empty()) {
                    (Some(_), false) => {
                        return Err(
                            self.err(path, "`lengthEqual` takes `path` or `paths`, not both")
                        );
                    }
                    (Some(s), true) => {
                        if count.is_none() {
                            return Err(self.err(path, "`lengthEqual` with `path` needs `count`"));
                        }
                        vec![s]
                    }
                    (None, false) => many,
                    (None, true) => {
                        return Err(self.err(path, "`lengthEqual` needs `path` or `paths`"));
                    }
                };
                for (i, s) in paths.iter().enumerate() {
                    super::path::Path::parse(s)
                        .map_err(|e| self.err(&format!("{path}.paths[{i}]"), e))?;
                }
                (
                    Kind::LengthEqual { paths, count },
                    &["path", "paths", "count"],
                )
            }
            "isType" | "isNotType" => (
                Kind::IsType {
                    path: req_path(&mut f)?,
                    type_name: req_str(&mut f, "type")?,
                },
                &["path", "type"],
            ),
            "failedTemplate" | "notFailedTemplate" => {
                let message = self.opt_string(&p("errorMessage"), f.take("errorMessage"))?;
                let pattern = self.opt_string(&p("errorPattern"), f.take("errorPattern"))?;
                if message.is_some() && pattern.is_some() {
                    return Err(self.err(path, "give `errorMessage` or `errorPattern`, not both"));
                }
                (
                    Kind::FailedTemplate { message, pattern },
                    &["errorMessage", "errorPattern"],
                )
            }
            "matchSnapshot" => {
                let sub = |f: &mut Fields, key: &str| -> Result<Option<String>> {
                    let Some(v) = f.take(key) else {
                        return Ok(None);
                    };
                    let mut g = self.fields(&p(key), v, &format!("`{key}`"))?;
                    let pat = self.opt_string(&join(&p(key), "pattern"), g.take("pattern"))?;
                    self.finish(g, &format!("`{key}`"), &["pattern"])?;
                    pat.map(|s| self.regex(&join(&p(key), "pattern"), s))
                        .transpose()
                };
                (
                    Kind::MatchSnapshot {
                        path: opt_path(&mut f)?,
                        match_regex: sub(&mut f, "matchRegex")?,
                        not_match_regex: sub(&mut f, "notMatchRegex")?,
                    },
                    &["path", "matchRegex", "notMatchRegex"],
                )
            }
            "matchSnapshotRaw" => (Kind::MatchSnapshotRaw, &[]),
            "greaterOrEqual" | "notGreaterOrEqual" | "lessOrEqual" | "notLessOrEqual" => {
                let value = json(f.take("value"))
                    .filter(|v| v.is_number() || v.is_string())
                    .ok_or_else(|| {
                        self.err(path, format!("{what} needs `value`, a number or a string"))
                    })?;
                (
                    Kind::Compare {
                        path: req_path(&mut f)?,
                        value,
                        greater: type_name.contains("reater"),
                    },
                    &["path", "value"],
                )
            }
            "containsDocument" => (
                Kind::ContainsDocument {
                    kind: req_str(&mut f, "kind")?,
                    api_version: req_str(&mut f, "apiVersion")?,
                    name: self.opt_string(&p("name"), f.take("name"))?,
                    namespace: self.opt_string(&p("namespace"), f.take("namespace"))?,
                    any: self.bool(&p("any"), f.take("any"))?,
                },
                &["kind", "apiVersion", "name", "namespace", "any"],
            ),
            other => bail!(
                "{}: assertion type `{other}` ({base}) is not handled",
                self.at(path)
            ),
        };
        self.finish_lenient(f, &what, known, false)?;
        Ok(kind)
    }

    fn regex(&self, path: &str, pattern: String) -> Result<String> {
        regex::Regex::new(&pattern).map_err(|e| self.err(path, format!("invalid pattern: {e}")))?;
        Ok(pattern)
    }
}

impl<'a> Fields<'a> {
    fn take(&mut self, key: &str) -> Option<&'a Yaml> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(i).1)
    }
}

fn join(path: &str, key: &str) -> String {
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
        assert_eq!(s.set[0].0, "image.tag");
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
    fn lines_count_from_the_file_start_in_later_documents() {
        let err = parse("tests:\n  - it: a\n    asserts: [{exists: {path: a}}]\n---\ntests:\n  - it: b\n    bogus: 1\n    asserts: [{exists: {path: a}}]\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("tests/x_test.yaml:7:"), "{err}");
    }
}
