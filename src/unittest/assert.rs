//! Evaluating one assertion against the documents of one template, with helm-unittest's
//! meaning: every selected document must pass, a path that leads nowhere fails a positive
//! assertion and satisfies a negative one, and `not: true` inverts the check itself.

use base64::Engine as _;
use serde_json::Value as Json;

use regex::Regex;

use super::kinds::{ErrorMatch, Kind};
use super::path::Path;
use super::snapshot::SnapshotFile;
use super::suite::Assertion;
use super::{Failure, values_equal};

/// One rendered document.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Its position among the documents of its template.
    pub index: usize,
    /// The parsed document (null for text templates such as NOTES.txt).
    pub value: Json,
    /// The document's text as rendered.
    pub raw: String,
}

/// What an assertion needs beyond the documents.
pub struct Env<'a> {
    /// The test's name, which keys its snapshots.
    pub test: &'a str,
    /// The suite file's snapshots.
    pub snapshots: &'a mut SnapshotFile,
}

/// Checks `a` against one template: `all` are its documents, `selected` those the document
/// index or selector chose. Returns the failures; none means the assertion passed.
pub fn check(
    a: &Assertion,
    template: &str,
    all: &[Doc],
    selected: &[&Doc],
    env: &mut Env,
) -> Vec<Failure> {
    let mut c = Checker {
        template,
        neg: a.negative(),
        failures: Vec::new(),
    };
    match &a.kind {
        Kind::Equal {
            path,
            value,
            decode_base64,
        } => equal(&mut c, selected, path, value, *decode_base64),
        Kind::EqualRaw { value } => equal_raw(&mut c, selected, value),
        Kind::MatchRegex {
            path,
            pattern,
            decode_base64,
        } => match_regex(&mut c, selected, path, pattern, *decode_base64),
        Kind::MatchRegexRaw { pattern } => match_regex_raw(&mut c, selected, pattern),
        Kind::Contains {
            path,
            content,
            count,
            any,
        } => contains(&mut c, selected, path, content, *count, *any),
        Kind::IsNullOrEmpty { path } => is_null_or_empty(&mut c, selected, path),
        Kind::Exists { path } => exists(&mut c, selected, path),
        Kind::IsKind { of } => top_field(&mut c, selected, "kind", of),
        Kind::IsApiVersion { of } => top_field(&mut c, selected, "apiVersion", of),
        Kind::HasDocuments {
            count,
            filter_aware,
        } => has_documents(&mut c, all, selected, *count, *filter_aware),
        Kind::IsSubset { path, content } => is_subset_of(&mut c, selected, path, content),
        Kind::LengthEqual { paths, count } => length_equal(&mut c, selected, paths, *count),
        Kind::IsType {
            path,
            type_name,
            want,
        } => is_type(&mut c, selected, path, type_name, want),
        Kind::MatchSnapshot {
            path,
            match_regex,
            not_match_regex,
        } => match_snapshot(
            &mut c,
            selected,
            path,
            match_regex.as_ref(),
            not_match_regex.as_ref(),
            env,
        ),
        Kind::MatchSnapshotRaw => match_snapshot_raw(&mut c, selected, env),
        Kind::ContainsDocument {
            kind,
            api_version,
            name,
            namespace,
            any,
        } => contains_document(
            &mut c,
            selected,
            kind,
            api_version,
            name.as_deref(),
            namespace.as_deref(),
            *any,
        ),
        Kind::Compare {
            path,
            value,
            greater,
        } => compare(&mut c, selected, path, value, *greater),
        Kind::FailedTemplate { .. } => unreachable!("failedTemplate is checked against the render"),
    }
    c.failures
}

/// A render that failed, as `failedTemplate` sees it.
pub(crate) struct RenderError {
    /// The whole message with its causes.
    pub(crate) full: String,
    /// The message a template's `fail`/`required` gave, when it can be told apart.
    pub(crate) message: String,
    /// Whether the failure happened inside a helper (a component or an include), the
    /// counterpart of a failure inside Helm's `include`.
    pub(crate) in_helper: bool,
}

impl RenderError {
    /// The forms of the message a suite may match: the whole error, the template's own
    /// message and, for a failure inside a helper, that message as Helm words a failure
    /// inside `include` once helm-unittest has cut Go's location frame off
    /// (`error calling include: MESSAGE`), so suites written for Helm match it unchanged.
    fn forms(&self) -> Vec<String> {
        let mut forms = vec![self.full.clone(), self.message.clone()];
        if self.in_helper {
            forms.push(format!("error calling include: {}", self.message));
        }
        forms
    }
}

/// `failedTemplate` / `notFailedTemplate`: checked against the render as a whole, since a
/// failed render has no documents. `render` is the error when the chart failed to render.
pub(crate) fn failed_template(
    expect: Option<&ErrorMatch>,
    neg: bool,
    render: Option<&RenderError>,
) -> Vec<Failure> {
    let Some(err) = render else {
        if neg {
            return Vec::new();
        }
        return vec![Failure::message(
            "Expected the chart to fail to render, but it rendered",
        )];
    };
    let (matched, want, verb) = match expect {
        Some(ErrorMatch::Message(m)) => (
            err.forms().iter().any(|f| f.contains(m.as_str())),
            m.clone(),
            "to equal",
        ),
        // helm-unittest matches the error without Go's location frame, so a pattern anchored
        // with `^` at the message a template failed with must match here too.
        Some(ErrorMatch::Pattern(re)) => (
            err.forms().iter().any(|f| re.is_match(f)),
            re.as_str().to_string(),
            "to match",
        ),
        None => (true, String::new(), "to equal"),
    };
    if matched != neg {
        return Vec::new();
    }
    vec![Failure {
        message: format!(
            "Expected{} the render error {verb}",
            if neg { " NOT" } else { "" }
        ),
        expected: Some(want),
        actual: Some(err.message.clone()),
        diff: !matches!(expect, Some(ErrorMatch::Pattern(_))) && !neg,
        ..Failure::default()
    }]
}

fn equal(c: &mut Checker, docs: &[&Doc], path: &Path, value: &Json, decode_base64: bool) {
    c.per_value(docs, path, |c, doc, p, actual| {
        let actual = match text_of(actual, decode_base64) {
            Ok(a) => a,
            Err(msg) => return Some(c.fail(doc, p, msg)),
        };
        if values_equal(value, &actual) == c.neg {
            let mut f = c.fail(doc, p, "to equal");
            f.expected = Some(yaml(value));
            if !c.neg {
                f.actual = Some(yaml(&actual));
                f.diff = true;
            }
            return Some(f);
        }
        None
    })
}

fn equal_raw(c: &mut Checker, docs: &[&Doc], value: &str) {
    for doc in docs {
        let actual = uniform(&doc.raw);
        if (actual == value) == c.neg {
            let mut f = c.fail(Some(doc), None, "to equal");
            f.expected = Some(value.to_string());
            if !c.neg {
                f.actual = Some(actual);
                f.diff = true;
            }
            c.failures.push(f);
        }
    }
    c.no_documents(docs, "to equal");
}

fn match_regex(c: &mut Checker, docs: &[&Doc], path: &Path, re: &Regex, decode_base64: bool) {
    c.per_value(docs, path, |c, doc, p, actual| {
        if !actual.is_string() {
            return Some(c.error(doc, p, format!("expected a string, got:\n{}", yaml(actual))));
        }
        let text = match text_of(actual, decode_base64) {
            Ok(Json::String(s)) => s,
            Ok(_) => unreachable!("strings stay strings"),
            Err(msg) => return Some(c.fail(doc, p, msg)),
        };
        if re.is_match(&text) == c.neg {
            let mut f = c.fail(doc, p, "to match");
            f.expected = Some(re.as_str().to_string());
            f.actual = Some(text);
            return Some(f);
        }
        None
    })
}

fn match_regex_raw(c: &mut Checker, docs: &[&Doc], re: &Regex) {
    for doc in docs {
        let actual = uniform(&doc.raw);
        if re.is_match(&actual) == c.neg {
            let mut f = c.fail(Some(doc), None, "to match");
            f.expected = Some(re.as_str().to_string());
            f.actual = Some(actual);
            c.failures.push(f);
        }
    }
    c.no_documents(docs, "to match");
}

/// As helm-unittest counts: with `count`, the assertion holds when some item matches and
/// exactly `count` do (so `count: 0` never holds; `notContains` says "none").
fn contains(
    c: &mut Checker,
    docs: &[&Doc],
    path: &Path,
    content: &Json,
    count: Option<i64>,
    any: bool,
) {
    c.per_value(docs, path, |c, doc, p, actual| {
        let Json::Array(items) = actual else {
            return Some(c.error(doc, p, format!("expected a list, got:\n{}", yaml(actual))));
        };
        let found = items
            .iter()
            .filter(|item| match (item, content, any) {
                (Json::Object(i), Json::Object(want), true) => is_subset(i, want),
                _ => values_equal(item, content),
            })
            .count();
        let ok = match count {
            Some(n) => found > 0 && found as i64 == n,
            None => found > 0,
        };
        if ok == c.neg {
            let what = match count {
                Some(n) => format!("to contain {n} time(s) (found {found})"),
                None => "to contain".to_string(),
            };
            let mut f = c.fail(doc, p, what);
            f.expected = Some(yaml(&Json::Array(vec![content.clone()])));
            f.actual = Some(yaml(actual));
            return Some(f);
        }
        None
    })
}

/// Null, `""`, `0`, `false`, `[]` and `{}` are empty. A path that leads nowhere fails
/// `isEmpty` ("unknown path") and satisfies `isNotEmpty`, as in helm-unittest.
fn is_null_or_empty(c: &mut Checker, docs: &[&Doc], path: &Path) {
    c.per_value(docs, path, |c, doc, p, actual| {
        let empty = match actual {
            Json::Null => true,
            Json::String(s) => s.is_empty(),
            Json::Array(a) => a.is_empty(),
            Json::Object(m) => m.is_empty(),
            Json::Bool(b) => !b,
            Json::Number(n) => n.as_f64() == Some(0.0),
        };
        if empty == c.neg {
            let mut f = c.fail(doc, p, "to be null or empty");
            f.actual = Some(yaml(actual));
            return Some(f);
        }
        None
    })
}

/// The path leads to a value; a null value counts as present.
fn exists(c: &mut Checker, docs: &[&Doc], path: &Path) {
    for doc in docs {
        let exists = !path.find(&doc.value).is_empty();
        if exists == c.neg {
            let f = c.fail(Some(doc), Some(path.text()), "to exist");
            c.failures.push(f);
        }
    }
    c.no_documents(docs, "to exist");
}

/// `isKind` and `isAPIVersion`: a top-level string field of each document.
fn top_field(c: &mut Checker, docs: &[&Doc], field: &str, of: &str) {
    let what = format!("to be {field}");
    for doc in docs {
        let actual = doc.value.get(field).cloned().unwrap_or(Json::Null);
        if (actual.as_str() == Some(of)) == c.neg {
            let mut f = c.fail(Some(doc), None, what.as_str());
            f.expected = Some(of.to_string());
            if !c.neg {
                f.actual = Some(yaml(&actual));
            }
            c.failures.push(f);
        }
    }
    c.no_documents(docs, &what);
}

fn has_documents(
    c: &mut Checker,
    all: &[Doc],
    selected: &[&Doc],
    count: usize,
    filter_aware: bool,
) {
    let n = if filter_aware {
        selected.len()
    } else {
        all.len()
    };
    if (n == count) == c.neg {
        let mut f = c.fail(None, None, "documents count to be");
        f.expected = Some(count.to_string());
        f.actual = Some(n.to_string());
        c.failures.push(f);
    }
}

fn is_subset_of(c: &mut Checker, docs: &[&Doc], path: &Path, content: &Json) {
    c.per_value(docs, path, |c, doc, p, actual| {
        let (Json::Object(have), Json::Object(want)) = (actual, content) else {
            return Some(c.error(
                doc,
                p,
                format!(
                    "expected a mapping at the path and as `content`, got:\n{}",
                    yaml(actual)
                ),
            ));
        };
        if is_subset(have, want) == c.neg {
            let mut f = c.fail(doc, p, "to contain");
            f.expected = Some(yaml(content));
            f.actual = Some(yaml(actual));
            return Some(f);
        }
        None
    })
}

/// A null value counts 0; a path that leads nowhere fails (and satisfies the negated
/// form), as in helm-unittest.
fn length_equal(c: &mut Checker, docs: &[&Doc], paths: &[Path], count: Option<usize>) {
    let shown = paths.iter().map(Path::text).collect::<Vec<_>>().join(", ");
    for doc in docs {
        let mut lengths: Vec<(&str, usize)> = Vec::new();
        for p in paths {
            let found = p.find(&doc.value);
            // A path that leads nowhere measures 0, like a null (issue 14's rule; helm-unittest
            // 1.1.0's source fails it instead, see docs/unittest.md).
            if found.is_empty() {
                lengths.push((p.text(), 0));
            }
            for v in found {
                match v {
                    Json::Null => lengths.push((p.text(), 0)),
                    Json::Array(a) => lengths.push((p.text(), a.len())),
                    // A mapping counts its keys (helm-unittest only measures lists).
                    Json::Object(m) => lengths.push((p.text(), m.len())),
                    other => {
                        let e = c.error(
                            Some(doc),
                            Some(p.text()),
                            format!("expected a list or a mapping, got:\n{}", yaml(other)),
                        );
                        c.failures.push(e);
                    }
                }
            }
        }
        let ok = match count {
            Some(n) => !lengths.is_empty() && lengths.iter().all(|(_, l)| *l == n),
            None => !lengths.is_empty() && lengths.iter().all(|(_, l)| *l == lengths[0].1),
        };
        if ok == c.neg {
            let mut f = c.fail(Some(doc), Some(&shown), "to match count");
            f.expected = Some(count.map_or("equal lengths".into(), |n| n.to_string()));
            f.actual = Some(
                lengths
                    .iter()
                    .map(|(p, l)| format!("{p}: {l}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
            c.failures.push(f);
        }
    }
    c.no_documents(docs, "to match count");
}

fn is_type(c: &mut Checker, docs: &[&Doc], path: &Path, type_name: &str, want: &str) {
    c.per_value(docs, path, |c, doc, p, actual| {
        let have = type_of(actual);
        if (have == want) == c.neg {
            let mut f = c.fail(doc, p, "to be of type");
            f.expected = Some(type_name.to_string());
            f.actual = Some(have.to_string());
            return Some(f);
        }
        None
    })
}

/// With no documents to snapshot the assertion holds, as in helm-unittest (there is
/// nothing that could differ from the snapshot).
fn match_snapshot(
    c: &mut Checker,
    docs: &[&Doc],
    path: &Path,
    match_regex: Option<&Regex>,
    not_match_regex: Option<&Regex>,
    env: &mut Env,
) {
    if docs.is_empty() {
        if c.neg {
            let f = c.fail(None, path.shown(), "to match the snapshot");
            c.failures.push(Failure {
                message: format!("{}, but there is no document to compare", f.message),
                ..f
            });
        }
        return;
    }
    c.per_value(docs, path, |c, doc, p, actual| {
        let text = super::snapshot::to_yaml(actual);
        let compared = env.snapshots.compare(env.test, text.clone());
        let by_pattern = match_regex.is_some() || not_match_regex.is_some();
        let ok = if by_pattern {
            match_regex.is_none_or(|re| re.is_match(&text))
                && not_match_regex.is_none_or(|re| !re.is_match(&text))
        } else {
            compared.passed
        };
        if ok == c.neg {
            let what = if by_pattern {
                "to match the snapshot patterns".to_string()
            } else {
                format!("to match snapshot {}", compared.index)
            };
            let mut f = c.fail(doc, p, what);
            f.expected = Some(compared.cached.clone());
            if !c.neg {
                f.actual = Some(compared.current.clone());
                f.diff = !by_pattern;
            }
            return Some(f);
        }
        None
    })
}

fn match_snapshot_raw(c: &mut Checker, docs: &[&Doc], env: &mut Env) {
    for doc in docs {
        let text = super::snapshot::to_yaml(&Json::String(uniform(&doc.raw)));
        let compared = env.snapshots.compare(env.test, text);
        if compared.passed == c.neg {
            let mut f = c.fail(
                Some(doc),
                None,
                format!("to match snapshot {}", compared.index),
            );
            f.expected = Some(compared.cached);
            if !c.neg {
                f.actual = Some(compared.current);
                f.diff = true;
            }
            c.failures.push(f);
        }
    }
}

/// Every selected document has the identity (one is enough with `any: true`), as in
/// helm-unittest; `not` inverts that as a whole.
fn contains_document(
    c: &mut Checker,
    docs: &[&Doc],
    kind: &str,
    api_version: &str,
    name: Option<&str>,
    namespace: Option<&str>,
    any: bool,
) {
    let is_it = |d: &&Doc| {
        let v = &d.value;
        v.get("kind").and_then(Json::as_str) == Some(kind)
            && v.get("apiVersion").and_then(Json::as_str) == Some(api_version)
            && name.is_none_or(|n| v.pointer("/metadata/name").and_then(Json::as_str) == Some(n))
            && namespace
                .is_none_or(|n| v.pointer("/metadata/namespace").and_then(Json::as_str) == Some(n))
    };
    let holds = !docs.is_empty()
        && if any {
            docs.iter().any(is_it)
        } else {
            docs.iter().all(is_it)
        };
    if holds == c.neg {
        let what = if any || c.neg {
            "to contain document"
        } else {
            "every selected document to be"
        };
        let mut f = c.fail(None, None, what);
        let mut want = format!("kind: {kind}\napiVersion: {api_version}");
        if let Some(n) = name {
            want.push_str(&format!("\nname: {n}"));
        }
        if let Some(n) = namespace {
            want.push_str(&format!("\nnamespace: {n}"));
        }
        f.expected = Some(want);
        if !any && !c.neg {
            let others: Vec<String> = docs
                .iter()
                .filter(|d| !is_it(d))
                .map(|d| identity(&d.value))
                .collect();
            if !others.is_empty() {
                f.actual = Some(others.join("\n"));
            }
        }
        c.failures.push(f);
    }
}

fn identity(v: &Json) -> String {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Json::as_str)
            .unwrap_or("?")
            .to_string()
    };
    format!(
        "{} {} {}",
        s("/apiVersion"),
        s("/kind"),
        s("/metadata/name")
    )
}

/// Numbers compare with numbers of the same kind (whole with whole, decimal with decimal)
/// and strings with strings, as helm-unittest does; any other pair is an error.
fn compare(c: &mut Checker, docs: &[&Doc], path: &Path, value: &Json, greater: bool) {
    c.per_value(docs, path, |c, doc, p, actual| {
        let order = match (actual, value) {
            (Json::Number(a), Json::Number(b)) if a.is_f64() == b.is_f64() => {
                a.as_f64().partial_cmp(&b.as_f64())
            }
            (Json::String(a), Json::String(b)) => Some(a.cmp(b)),
            _ => {
                return Some(c.error(
                    doc,
                    p,
                    format!("cannot compare {} with {}", type_of(actual), type_of(value)),
                ));
            }
        };
        let holds = match order {
            Some(std::cmp::Ordering::Equal) => true,
            Some(std::cmp::Ordering::Greater) => greater,
            Some(std::cmp::Ordering::Less) => !greater,
            None => false,
        };
        if holds == c.neg {
            let what = if greater {
                "to be greater than or equal to"
            } else {
                "to be less than or equal to"
            };
            let mut f = c.fail(doc, p, what);
            f.expected = Some(yaml(value));
            f.actual = Some(yaml(actual));
            return Some(f);
        }
        None
    })
}

struct Checker<'t> {
    template: &'t str,
    neg: bool,
    failures: Vec<Failure>,
}

impl Checker<'_> {
    fn fail(&self, doc: Option<&Doc>, path: Option<&str>, what: impl Into<String>) -> Failure {
        let what = what.into();
        Failure {
            template: Some(self.template.to_string()),
            document: doc.map(|d| d.index),
            path: path.map(str::to_string),
            message: format!("Expected{} {what}", if self.neg { " NOT" } else { "" }),
            expected: None,
            actual: None,
            diff: false,
        }
    }

    /// A failure that is not about the expectation (wrong type, bad input): `not` does not
    /// turn it into a pass.
    fn error(&self, doc: Option<&Doc>, path: Option<&str>, msg: String) -> Failure {
        Failure {
            template: Some(self.template.to_string()),
            document: doc.map(|d| d.index),
            path: path.map(str::to_string),
            message: format!("Error: {msg}"),
            expected: None,
            actual: None,
            diff: false,
        }
    }

    fn no_documents(&mut self, selected: &[&Doc], what: &str) {
        if selected.is_empty() && !self.neg {
            let f = self.fail(None, None, what);
            self.failures.push(Failure {
                message: format!("{}, but the template rendered no documents", f.message),
                ..f
            });
        }
    }

    /// Runs `each` on every value `path` reaches in every selected document. A document
    /// where the path leads nowhere fails a positive assertion and satisfies a negative one.
    fn per_value<F>(&mut self, selected: &[&Doc], path: &Path, mut each: F)
    where
        F: FnMut(&Checker, Option<&Doc>, Option<&str>, &Json) -> Option<Failure>,
    {
        let shown = path.shown();
        for doc in selected {
            let values = path.find(&doc.value);
            if values.is_empty() {
                if !self.neg {
                    let f = self.error(
                        Some(doc),
                        shown,
                        format!("unknown path `{}`: it leads to no value", path.text()),
                    );
                    self.failures.push(f);
                }
                continue;
            }
            for v in values {
                if let Some(f) = each(self, Some(doc), shown, v) {
                    self.failures.push(f);
                }
            }
        }
        let what = "to pass";
        if selected.is_empty() && !self.neg {
            let f = self.fail(None, shown, what);
            self.failures.push(Failure {
                message: "Error: no documents to check: the template rendered none (or none was selected)"
                    .into(),
                ..f
            });
        }
    }
}

/// A string value with decoding and helm-unittest's whitespace normalisation applied; other
/// values unchanged.
fn text_of(v: &Json, decode_base64: bool) -> Result<Json, String> {
    let Json::String(s) = v else {
        return Ok(v.clone());
    };
    let s = if decode_base64 {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| format!("cannot decode the value as base64: {e}"))?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        s.clone()
    };
    Ok(Json::String(uniform(&s)))
}

/// Drops spaces before line ends and leading blank lines, as helm-unittest compares text.
pub(crate) fn uniform(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        out.push_str(line.trim_end_matches(' '));
    }
    // The last line keeps trailing spaces only if no newline follows it.
    if !s.ends_with('\n') {
        let last = s.rsplit('\n').next().unwrap_or("");
        let trimmed = last.trim_end_matches(' ');
        out.push_str(&last[trimmed.len()..]);
    }
    out.trim_start_matches('\n').to_string()
}

fn is_subset(have: &serde_json::Map<String, Json>, want: &serde_json::Map<String, Json>) -> bool {
    want.iter()
        .all(|(k, v)| have.get(k).is_some_and(|h| values_equal(h, v)))
}

/// The YAML text of a value, as snapshots and messages show it.
pub fn yaml(v: &Json) -> String {
    match v {
        Json::String(s) if !s.contains('\n') => s.clone(),
        _ => crate::yaml::to_string(v)
            .unwrap_or_default()
            .trim_end_matches('\n')
            .to_string(),
    }
}

/// Go's type names as helm-unittest reports them, so suites written for it keep working.
fn type_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "nil",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_i64() || n.is_u64() => "int",
        Json::Number(_) => "float64",
        Json::String(_) => "string",
        Json::Array(_) => "[]interface {}",
        Json::Object(_) => "map[string]interface {}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_drops_trailing_spaces_and_leading_newlines() {
        assert_eq!(uniform("\n\na  \nb \n"), "a\nb\n");
        assert_eq!(uniform("x"), "x");
    }
}
