//! Test suites in helm-unittest's format, read with every unknown field reported by file
//! and line rather than silently ignored.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use crate::yamlpos::KeyLines;

/// The `release` block.
#[derive(Debug, Clone, Default)]
pub struct ReleaseSpec {
    /// `release.name`.
    pub name: Option<String>,
    /// `release.namespace`.
    pub namespace: Option<String>,
    /// `release.revision`.
    pub revision: Option<u64>,
    /// `release.upgrade`.
    pub upgrade: Option<bool>,
}

/// The `capabilities` block.
#[derive(Debug, Clone, Default)]
pub struct CapabilitiesSpec {
    /// Kubernetes major version.
    pub major: Option<u64>,
    /// Kubernetes minor version.
    pub minor: Option<u64>,
    /// Extra API versions.
    pub api_versions: Option<Vec<String>>,
}

/// The `chart` block: overrides of Chart.yaml.
#[derive(Debug, Clone, Default)]
pub struct ChartSpec {
    /// `chart.version`.
    pub version: Option<String>,
    /// `chart.appVersion`.
    pub app_version: Option<String>,
}

/// `documentSelector`.
#[derive(Debug, Clone)]
pub struct Selector {
    /// Path to look at in each document.
    pub path: String,
    /// Value it must have; any value when absent.
    pub value: Option<Value>,
    /// Whether several documents may match.
    pub match_many: bool,
    /// Whether templates with no match are skipped rather than failing.
    pub skip_empty_templates: bool,
}

/// One assertion of a test.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// The assertion type without its negation, e.g. `equal` for `notEqual`.
    pub kind: String,
    /// The type as written.
    pub written: String,
    /// Whether the result is inverted (`not: true` or a `not...` type).
    pub negate: bool,
    /// The assertion's parameters.
    pub params: Map<String, Value>,
    /// `template` on the assertion.
    pub template: Option<String>,
    /// `documentIndex` on the assertion.
    pub document_index: Option<i64>,
    /// `documentSelector` on the assertion.
    pub document_selector: Option<Selector>,
    /// Line of the assertion in the suite file.
    pub line: usize,
}

/// One test job.
#[derive(Debug, Clone)]
pub struct Test {
    /// `it`.
    pub name: String,
    /// Line of the test in the suite file.
    pub line: usize,
    /// `template` / `templates`.
    pub templates: Option<Vec<String>>,
    /// `documentIndex`.
    pub document_index: Option<i64>,
    /// `documentSelector`.
    pub document_selector: Option<Selector>,
    /// Values files, relative to the suite file.
    pub values: Vec<PathBuf>,
    /// `set`: values by path.
    pub set: Map<String, Value>,
    /// `release`.
    pub release: ReleaseSpec,
    /// `capabilities`.
    pub capabilities: CapabilitiesSpec,
    /// `chart`.
    pub chart: ChartSpec,
    /// Reason the test is skipped.
    pub skip: Option<String>,
    /// The assertions.
    pub asserts: Vec<Assertion>,
}

/// A suite file.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite file.
    pub file: PathBuf,
    /// `suite`, or the file name.
    pub name: String,
    /// `templates`.
    pub templates: Vec<String>,
    /// `excludeTemplates`.
    pub exclude_templates: Vec<String>,
    /// Values files, relative to the suite file.
    pub values: Vec<PathBuf>,
    /// `set`.
    pub set: Map<String, Value>,
    /// `release`.
    pub release: ReleaseSpec,
    /// `capabilities`.
    pub capabilities: CapabilitiesSpec,
    /// `chart`.
    pub chart: ChartSpec,
    /// Reason the suite is skipped.
    pub skip: Option<String>,
    /// The tests.
    pub tests: Vec<Test>,
}

/// Assertion types and the parameters each takes.
const ASSERTIONS: &[(&str, &[&str])] = &[
    ("equal", &["path", "value", "decodeBase64"]),
    ("equalRaw", &["value"]),
    ("matchRegex", &["path", "pattern", "decodeBase64"]),
    ("matchRegexRaw", &["pattern"]),
    ("contains", &["path", "content", "count", "any"]),
    ("isNull", &["path"]),
    ("isEmpty", &["path"]),
    ("isNullOrEmpty", &["path"]),
    ("isKind", &["of"]),
    ("isAPIVersion", &["of"]),
    ("hasDocuments", &["count", "filterAware"]),
    ("isSubset", &["path", "content"]),
    ("exists", &["path"]),
    ("lengthEqual", &["path", "paths", "count"]),
    ("isType", &["path", "type"]),
    ("failedTemplate", &["errorMessage", "errorPattern"]),
    ("matchSnapshot", &["path"]),
    ("matchSnapshotRaw", &[]),
    (
        "containsDocument",
        &["kind", "apiVersion", "name", "namespace", "any"],
    ),
];

/// Antonyms helm-unittest spells out, mapped to (base type, negated).
fn resolve_kind(written: &str) -> Option<(&'static str, bool)> {
    let antonyms: &[(&str, &str)] = &[
        ("notEqual", "equal"),
        ("notEqualRaw", "equalRaw"),
        ("notMatchRegex", "matchRegex"),
        ("notMatchRegexRaw", "matchRegexRaw"),
        ("notContains", "contains"),
        ("isNotNull", "isNull"),
        ("isNotEmpty", "isEmpty"),
        ("isNotNullOrEmpty", "isNullOrEmpty"),
        ("isNotSubset", "isSubset"),
        ("notExists", "exists"),
        ("notLengthEqual", "lengthEqual"),
        ("isNotType", "isType"),
        ("notFailedTemplate", "failedTemplate"),
    ];
    if let Some((_, base)) = antonyms.iter().find(|(n, _)| *n == written) {
        let base = ASSERTIONS
            .iter()
            .find(|(k, _)| k == base)
            .map(|(k, _)| *k)?;
        return Some((base, true));
    }
    ASSERTIONS
        .iter()
        .find(|(k, _)| *k == written)
        .map(|(k, _)| (*k, false))
}

fn params_of(kind: &str) -> &'static [&'static str] {
    ASSERTIONS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, p)| *p)
        .unwrap_or(&[])
}

/// Reads suite files with positions for messages.
struct Reader<'a> {
    file: &'a Path,
    lines: KeyLines,
}

impl Reader<'_> {
    fn at(&self, path: &str) -> String {
        match self.lines.line_of(path) {
            Some(l) => format!("{}:{l}", self.file.display()),
            None => self.file.display().to_string(),
        }
    }

    fn line(&self, path: &str) -> usize {
        self.lines.line_of(path).unwrap_or(0)
    }

    fn check_keys(
        &self,
        map: &Map<String, Value>,
        allowed: &[&str],
        path: &str,
        what: &str,
    ) -> Result<()> {
        for k in map.keys() {
            if !allowed.contains(&k.as_str()) {
                let full = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let hint = crate::suggest::did_you_mean(k, allowed.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                bail!(
                    "{}: unknown field `{k}` in {what}{hint}; expected one of: {}",
                    self.at(&full),
                    allowed.join(", ")
                );
            }
        }
        Ok(())
    }

    fn map<'v>(&self, v: &'v Value, path: &str, what: &str) -> Result<&'v Map<String, Value>> {
        v.as_object()
            .with_context(|| format!("{}: {what} must be a mapping", self.at(path)))
    }

    fn string(&self, v: Option<&Value>, path: &str) -> Result<Option<String>> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => bail!("{}: `{path}` must be a string", self.at(path)),
        }
    }

    fn strings(&self, v: Option<&Value>, path: &str) -> Result<Vec<String>> {
        match v {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    self.string(Some(x), &format!("{path}[{i}]"))
                        .map(Option::unwrap_or_default)
                })
                .collect(),
            Some(_) => bail!("{}: `{path}` must be a list of strings", self.at(path)),
        }
    }

    fn release(&self, v: Option<&Value>, path: &str) -> Result<ReleaseSpec> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(ReleaseSpec::default());
        };
        let m = self.map(v, path, "release")?;
        self.check_keys(
            m,
            &["name", "namespace", "revision", "upgrade"],
            path,
            "release",
        )?;
        Ok(ReleaseSpec {
            name: self.string(m.get("name"), &format!("{path}.name"))?,
            namespace: self.string(m.get("namespace"), &format!("{path}.namespace"))?,
            revision: m.get("revision").and_then(Value::as_u64),
            upgrade: m.get("upgrade").and_then(Value::as_bool),
        })
    }

    fn capabilities(&self, v: Option<&Value>, path: &str) -> Result<CapabilitiesSpec> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(CapabilitiesSpec::default());
        };
        let m = self.map(v, path, "capabilities")?;
        self.check_keys(
            m,
            &["majorVersion", "minorVersion", "apiVersions"],
            path,
            "capabilities",
        )?;
        let num = |k: &str| {
            m.get(k).and_then(|v| {
                v.as_u64().or_else(|| {
                    v.as_str()
                        .and_then(|s| s.trim_end_matches('+').parse().ok())
                })
            })
        };
        Ok(CapabilitiesSpec {
            major: num("majorVersion"),
            minor: num("minorVersion"),
            api_versions: match m.get("apiVersions") {
                None => None,
                v => Some(self.strings(v, &format!("{path}.apiVersions"))?),
            },
        })
    }

    fn chart(&self, v: Option<&Value>, path: &str) -> Result<ChartSpec> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(ChartSpec::default());
        };
        let m = self.map(v, path, "chart")?;
        self.check_keys(m, &["version", "appVersion"], path, "chart")?;
        Ok(ChartSpec {
            version: self.string(m.get("version"), &format!("{path}.version"))?,
            app_version: self.string(m.get("appVersion"), &format!("{path}.appVersion"))?,
        })
    }

    fn skip(&self, v: Option<&Value>, path: &str) -> Result<Option<String>> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let m = self.map(v, path, "skip")?;
        self.check_keys(m, &["reason", "minimumVersion"], path, "skip")?;
        Ok(Some(
            self.string(m.get("reason"), &format!("{path}.reason"))?
                .unwrap_or_else(|| "skipped".into()),
        ))
    }

    fn selector(&self, v: Option<&Value>, path: &str) -> Result<Option<Selector>> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let m = self.map(v, path, "documentSelector")?;
        self.check_keys(
            m,
            &["path", "value", "matchMany", "skipEmptyTemplates"],
            path,
            "documentSelector",
        )?;
        Ok(Some(Selector {
            path: self
                .string(m.get("path"), &format!("{path}.path"))?
                .with_context(|| format!("{}: documentSelector needs a `path`", self.at(path)))?,
            value: m.get("value").cloned(),
            match_many: m.get("matchMany").and_then(Value::as_bool).unwrap_or(false),
            skip_empty_templates: m
                .get("skipEmptyTemplates")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }))
    }

    fn values_files(&self, v: Option<&Value>, path: &str) -> Result<Vec<PathBuf>> {
        let base = self.file.parent().unwrap_or(Path::new("."));
        Ok(self
            .strings(v, path)?
            .into_iter()
            .map(|f| base.join(f))
            .collect())
    }

    fn set(&self, v: Option<&Value>, path: &str) -> Result<Map<String, Value>> {
        match v {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(v) => Ok(self.map(v, path, "set")?.clone()),
        }
    }

    fn assertion(&self, v: &Value, path: &str) -> Result<Assertion> {
        let m = self.map(v, path, "an assertion")?;
        let common = ["not", "template", "documentIndex", "documentSelector"];
        let types: Vec<&String> = m.keys().filter(|k| !common.contains(&k.as_str())).collect();
        // One real type beside other keys: those are misspelt common fields, not types.
        let real: Vec<&&String> = types.iter().filter(|k| resolve_kind(k).is_some()).collect();
        if real.len() == 1 && types.len() > 1 {
            let stray = types
                .iter()
                .find(|k| resolve_kind(k).is_none())
                .expect("more keys than real types");
            let hint = crate::suggest::did_you_mean(stray, common.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            bail!(
                "{}: unknown field `{stray}` in an assertion{hint}; expected the assertion type and any of: {}",
                self.at(&format!("{path}.{stray}")),
                common.join(", ")
            );
        }
        let written = match types.as_slice() {
            [one] => one.as_str(),
            [] => bail!(
                "{}: the assertion names no assertion type (e.g. `equal:`)",
                self.at(path)
            ),
            many => bail!(
                "{}: one assertion holds several types ({}); give each its own list item",
                self.at(path),
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let at_type = format!("{path}.{written}");
        let Some((kind, negated)) = resolve_kind(written) else {
            let known: Vec<&str> = ASSERTIONS.iter().map(|(k, _)| *k).collect();
            let hint = crate::suggest::did_you_mean(written, known.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            bail!(
                "{}: unknown assertion type `{written}`{hint}",
                self.at(&at_type)
            );
        };
        let params = match m.get(written) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(p)) => p.clone(),
            Some(_) => bail!(
                "{}: the parameters of `{written}` must be a mapping",
                self.at(&at_type)
            ),
        };
        self.check_keys(&params, params_of(kind), &at_type, &format!("`{written}`"))?;
        Ok(Assertion {
            kind: kind.to_string(),
            written: written.to_string(),
            negate: negated ^ m.get("not").and_then(Value::as_bool).unwrap_or(false),
            params,
            template: self.string(m.get("template"), &format!("{path}.template"))?,
            document_index: m.get("documentIndex").and_then(Value::as_i64),
            document_selector: self.selector(
                m.get("documentSelector"),
                &format!("{path}.documentSelector"),
            )?,
            line: self.line(path),
        })
    }

    fn test(&self, v: &Value, path: &str) -> Result<Test> {
        let m = self.map(v, path, "a test")?;
        self.check_keys(
            m,
            &[
                "it",
                "template",
                "templates",
                "documentIndex",
                "documentSelector",
                "values",
                "set",
                "release",
                "capabilities",
                "chart",
                "skip",
                "asserts",
                "kubernetesProvider",
                "postRenderer",
            ],
            path,
            "a test",
        )?;
        for unsupported in ["kubernetesProvider", "postRenderer"] {
            if m.contains_key(unsupported) {
                bail!(
                    "{}: `{unsupported}` is not supported by stoke unittest",
                    self.at(&format!("{path}.{unsupported}"))
                );
            }
        }
        let mut templates = self.strings(m.get("templates"), &format!("{path}.templates"))?;
        templates.extend(self.string(m.get("template"), &format!("{path}.template"))?);
        let asserts = match m.get("asserts") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, a)| self.assertion(a, &format!("{path}.asserts[{i}]")))
                .collect::<Result<Vec<_>>>()?,
            None | Some(Value::Null) => bail!("{}: the test has no `asserts`", self.at(path)),
            Some(_) => bail!(
                "{}: `asserts` must be a list",
                self.at(&format!("{path}.asserts"))
            ),
        };
        Ok(Test {
            name: self
                .string(m.get("it"), &format!("{path}.it"))?
                .unwrap_or_else(|| path.to_string()),
            line: self.line(path),
            templates: if templates.is_empty() {
                None
            } else {
                Some(templates)
            },
            document_index: m.get("documentIndex").and_then(Value::as_i64),
            document_selector: self.selector(
                m.get("documentSelector"),
                &format!("{path}.documentSelector"),
            )?,
            values: self.values_files(m.get("values"), &format!("{path}.values"))?,
            set: self.set(m.get("set"), &format!("{path}.set"))?,
            release: self.release(m.get("release"), &format!("{path}.release"))?,
            capabilities: self
                .capabilities(m.get("capabilities"), &format!("{path}.capabilities"))?,
            chart: self.chart(m.get("chart"), &format!("{path}.chart"))?,
            skip: self.skip(m.get("skip"), &format!("{path}.skip"))?,
            asserts,
        })
    }
}

/// Reads and checks one suite file.
pub fn load(file: &Path) -> Result<Suite> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read test suite `{}`", file.display()))?;
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}",
            crate::yamlpos::describe_yaml_error(&file.display().to_string(), &e)
        )
    })?;
    let doc = crate::values::yaml_to_json(doc);
    let r = Reader {
        file,
        lines: KeyLines::scan(&text),
    };
    let m = r.map(&doc, "", "a test suite")?;
    r.check_keys(
        m,
        &[
            "suite",
            "templates",
            "excludeTemplates",
            "values",
            "set",
            "release",
            "capabilities",
            "chart",
            "skip",
            "tests",
            "includeCrds",
            "kubernetesProvider",
            "postRenderer",
        ],
        "",
        "the suite",
    )?;
    for unsupported in ["kubernetesProvider", "postRenderer"] {
        if m.contains_key(unsupported) {
            bail!(
                "{}: `{unsupported}` is not supported by stoke unittest",
                r.at(unsupported)
            );
        }
    }
    let tests = match m.get("tests") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, t)| r.test(t, &format!("tests[{i}]")))
            .collect::<Result<Vec<_>>>()?,
        _ => bail!("{}: the suite has no `tests` list", r.at("tests")),
    };
    let default_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Suite {
        file: file.to_path_buf(),
        name: r.string(m.get("suite"), "suite")?.unwrap_or(default_name),
        templates: r.strings(m.get("templates"), "templates")?,
        exclude_templates: r.strings(m.get("excludeTemplates"), "excludeTemplates")?,
        values: r.values_files(m.get("values"), "values")?,
        set: r.set(m.get("set"), "set")?,
        release: r.release(m.get("release"), "release")?,
        capabilities: r.capabilities(m.get("capabilities"), "capabilities")?,
        chart: r.chart(m.get("chart"), "chart")?,
        skip: r.skip(m.get("skip"), "skip")?,
        tests,
    })
}
