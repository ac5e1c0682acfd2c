//! Runs the helm-unittest suites shipped with the charts (`charts/*/tests/*_test.yaml`) against
//! the built binary, until `stoke unittest` exists to run them itself.
//!
//! Each test renders the chart with `stoke template` (its `set` values, values files and
//! release), selects documents by `documentIndex` or `documentSelector`, and checks the
//! assertions. The subset of helm-unittest understood here is what the suites use: equal,
//! notEqual, exists, notExists, isNull, isNotNull, isEmpty, isNotEmpty, contains, notContains,
//! isSubset, lengthEqual, matchRegex, notMatchRegex, isKind, isAPIVersion, hasDocuments,
//! failedTemplate and matchRegexRaw/notMatchRegexRaw (NOTES.txt). Anything else fails loudly.

mod common;

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The suites of one chart.
fn suites(chart: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(chart.join("tests"))
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with("_test.yaml"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn get<'a>(m: &'a Value, key: &str) -> Option<&'a Value> {
    m.as_mapping()
        .and_then(|m| m.get(Value::String(key.into())))
}

fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other).unwrap().trim_end().to_string(),
    }
}

/// Splits a helm-unittest `set` key on unescaped dots.
fn set_path(key: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                parts.last_mut().unwrap().push('.');
                chars.next();
            }
            '.' => parts.push(String::new()),
            c => parts.last_mut().unwrap().push(c),
        }
    }
    parts
}

fn merge_into(dst: &mut Mapping, path: &[String], value: Value) {
    let key = Value::String(path[0].clone());
    if path.len() == 1 {
        match (dst.get_mut(&key), value) {
            (Some(Value::Mapping(d)), Value::Mapping(s)) => {
                for (k, v) in s {
                    merge_into(d, &[str_of(&k)], v);
                }
            }
            (_, v) => {
                dst.insert(key, v);
            }
        }
        return;
    }
    let child = dst
        .entry(key)
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if !child.is_mapping() {
        *child = Value::Mapping(Mapping::new());
    }
    merge_into(child.as_mapping_mut().unwrap(), &path[1..], value);
}

/// One path step: a field or a list index.
enum Step {
    Key(String),
    Index(usize),
}

/// Parses helm-unittest paths: `a.b[0].c`, `metadata.annotations["checksum/config"]`.
fn parse_path(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let b = path.as_bytes();
    let mut i = 0;
    let mut cur = String::new();
    while i < b.len() {
        match b[i] {
            b'.' => {
                if !cur.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut cur)));
                }
                i += 1;
            }
            b'[' => {
                if !cur.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut cur)));
                }
                let end = path[i..].find(']').expect("unclosed [ in path") + i;
                let inner = path[i + 1..end].trim();
                if let Ok(n) = inner.parse::<usize>() {
                    steps.push(Step::Index(n));
                } else {
                    steps.push(Step::Key(inner.trim_matches(['"', '\'']).to_string()));
                }
                i = end + 1;
            }
            _ => {
                let next = path[i..].find(['.', '[']).map_or(path.len(), |n| n + i);
                cur.push_str(&path[i..next]);
                i = next;
            }
        }
    }
    if !cur.is_empty() {
        steps.push(Step::Key(cur));
    }
    steps
}

fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = doc;
    for step in parse_path(path) {
        cur = match step {
            Step::Key(k) => get(cur, &k)?,
            Step::Index(n) => cur.as_sequence()?.get(n)?,
        };
    }
    Some(cur)
}

/// Values compare as YAML: numbers by value, so `1` equals `1.0` only when both parse alike.
fn same(a: &Value, b: &Value) -> bool {
    a == b
}

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Sequence(s)) => s.is_empty(),
        Some(Value::Mapping(m)) => m.is_empty(),
        Some(Value::Bool(b)) => !b,
        _ => false,
    }
}

fn is_subset(sub: &Value, sup: &Value) -> bool {
    match (sub, sup) {
        (Value::Mapping(a), Value::Mapping(b)) => a
            .iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| is_subset(v, w))),
        _ => a_eq(sub, sup),
    }
}

fn a_eq(a: &Value, b: &Value) -> bool {
    same(a, b)
}

/// The rendered output of one test: documents, NOTES text, or the error.
struct Output {
    docs: Vec<Value>,
    notes: String,
    error: Option<String>,
}

fn render(chart: &Path, suite: &Value, test: &Value, tmp: &Path) -> Output {
    let release = get(test, "release").or_else(|| get(suite, "release"));
    let name = release
        .and_then(|r| get(r, "name"))
        .map(str_of)
        .unwrap_or_else(|| "rel".into());
    let namespace = release
        .and_then(|r| get(r, "namespace"))
        .map(str_of)
        .unwrap_or_else(|| "default".into());
    let templates = get(test, "templates")
        .or_else(|| get(suite, "templates"))
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    let mut args: Vec<String> = vec![
        "template".into(),
        name,
        chart.display().to_string(),
        "-n".into(),
        namespace,
        "--notes".into(),
    ];
    if release
        .and_then(|r| get(r, "upgrade"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        args.push("--is-upgrade".into());
    }
    for source in [suite, test] {
        for f in get(source, "values")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            args.push("-f".into());
            args.push(chart.join("tests").join(str_of(f)).display().to_string());
        }
    }
    let mut set = Mapping::new();
    for source in [suite, test] {
        if let Some(Value::Mapping(m)) = get(source, "set") {
            for (k, v) in m {
                merge_into(&mut set, &set_path(&str_of(k)), v.clone());
            }
        }
    }
    if !set.is_empty() {
        let file = tmp.join(format!("set-{}.yaml", rand_suffix()));
        std::fs::write(&file, serde_yaml::to_string(&Value::Mapping(set)).unwrap()).unwrap();
        args.push("-f".into());
        args.push(file.display().to_string());
    }
    let wants_notes = templates.iter().any(|t| str_of(t).ends_with("NOTES.txt"));
    for t in &templates {
        let t = str_of(t);
        if !t.ends_with("NOTES.txt") {
            args.push("--show-only".into());
            args.push(t);
        }
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = common::stoke_in(&repo(), &argv);
    // Like helm-unittest, a selected template that renders nothing is no documents, not an error.
    if run.code != 0 && run.stderr.contains("could not find template") {
        return Output {
            docs: vec![],
            notes: String::new(),
            error: None,
        };
    }
    if run.code != 0 {
        return Output {
            docs: vec![],
            notes: String::new(),
            error: Some(run.stderr),
        };
    }
    // NOTES come last, as comment lines under their own `# Source:` line.
    let (manifests, notes) = match run.stdout.find("/templates/NOTES.txt\n") {
        Some(i) => {
            let start = run.stdout[..i].rfind("---").unwrap_or(i);
            let notes: Vec<&str> = run.stdout[i..]
                .lines()
                .skip(1)
                .map(|l| {
                    l.strip_prefix("# ")
                        .or_else(|| l.strip_prefix('#'))
                        .unwrap_or(l)
                })
                .collect();
            (run.stdout[..start].to_string(), notes.join("\n"))
        }
        None => (run.stdout.clone(), String::new()),
    };
    let docs = if wants_notes && templates.len() == 1 {
        vec![]
    } else {
        serde_yaml::Deserializer::from_str(&manifests)
            .map(|d| Value::deserialize(d).unwrap())
            .filter(|v| !v.is_null())
            .collect()
    };
    Output {
        docs,
        notes,
        error: None,
    }
}

use serde::Deserialize;

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

/// Checks one assertion; returns a description of the failure.
fn check(kind: &str, spec: &Value, out: &Output, test: &Value) -> Result<(), String> {
    let spec_str = |k: &str| get(spec, k).map(str_of).unwrap_or_default();
    match kind {
        "failedTemplate" => {
            let Some(err) = &out.error else {
                return Err("expected the render to fail, but it succeeded".into());
            };
            if let Some(m) = get(spec, "errorMessage") {
                let m = str_of(m);
                if !err.contains(&m) {
                    return Err(format!("error does not contain {m:?}:\n{err}"));
                }
            }
            if let Some(p) = get(spec, "errorPattern") {
                let re = regex::Regex::new(&str_of(p)).unwrap();
                if !re.is_match(err) {
                    return Err(format!("error does not match {p:?}:\n{err}"));
                }
            }
            return Ok(());
        }
        _ => {
            if let Some(err) = &out.error {
                return Err(format!("render failed:\n{err}"));
            }
        }
    }
    match kind {
        "matchRegexRaw" | "notMatchRegexRaw" => {
            let re = regex::Regex::new(&spec_str("pattern")).unwrap();
            let hit = re.is_match(&out.notes);
            return if hit == (kind == "matchRegexRaw") {
                Ok(())
            } else {
                Err(format!(
                    "NOTES {kind} {:?}:\n{}",
                    spec_str("pattern"),
                    out.notes
                ))
            };
        }
        "hasDocuments" => {
            let want = get(spec, "count").and_then(Value::as_u64).unwrap() as usize;
            return if out.docs.len() == want {
                Ok(())
            } else {
                Err(format!("expected {want} documents, got {}", out.docs.len()))
            };
        }
        _ => {}
    }
    // Document selection.
    let docs: Vec<&Value> = if let Some(sel) =
        get(spec, "documentSelector").or_else(|| get(test, "documentSelector"))
    {
        let path = str_of(get(sel, "path").unwrap());
        let value = get(sel, "value").unwrap();
        out.docs
            .iter()
            .filter(|d| lookup(d, &path).is_some_and(|v| same(v, value)))
            .collect()
    } else if let Some(i) = get(spec, "documentIndex").or_else(|| get(test, "documentIndex")) {
        let i = i.as_u64().unwrap() as usize;
        match out.docs.get(i) {
            Some(d) => vec![d],
            None => return Err(format!("no document {i} (of {})", out.docs.len())),
        }
    } else {
        out.docs.iter().collect()
    };
    if docs.is_empty() {
        return Err("no document selected".into());
    }
    let path = spec_str("path");
    for doc in docs {
        let at = lookup(doc, &path);
        let ok = match kind {
            "equal" => at.is_some_and(|v| same(v, get(spec, "value").unwrap())),
            "notEqual" => !at.is_some_and(|v| same(v, get(spec, "value").unwrap())),
            "exists" => at.is_some(),
            "notExists" => at.is_none(),
            "isNull" => matches!(at, None | Some(Value::Null)),
            "isNotNull" => !matches!(at, None | Some(Value::Null)),
            "isEmpty" => is_empty(at),
            "isNotEmpty" => !is_empty(at),
            "contains" | "notContains" => {
                let content = get(spec, "content").unwrap();
                let found = at
                    .and_then(Value::as_sequence)
                    .is_some_and(|s| s.iter().any(|item| same(item, content)));
                found == (kind == "contains")
            }
            "isSubset" => at.is_some_and(|v| is_subset(get(spec, "content").unwrap(), v)),
            "lengthEqual" => {
                let want = get(spec, "count").and_then(Value::as_u64).unwrap() as usize;
                at.is_some_and(|v| match v {
                    Value::Sequence(s) => s.len() == want,
                    Value::Mapping(m) => m.len() == want,
                    _ => false,
                })
            }
            "matchRegex" | "notMatchRegex" => {
                let re = regex::Regex::new(&spec_str("pattern")).unwrap();
                let hit = at.is_some_and(|v| re.is_match(&str_of(v)));
                hit == (kind == "matchRegex")
            }
            "isKind" => get(doc, "kind").is_some_and(|k| str_of(k) == spec_str("of")),
            "isAPIVersion" => get(doc, "apiVersion").is_some_and(|k| str_of(k) == spec_str("of")),
            other => {
                return Err(format!(
                    "assertion `{other}` is not supported by this runner"
                ));
            }
        };
        if !ok {
            let name = lookup(doc, "metadata.name").map(str_of).unwrap_or_default();
            return Err(format!(
                "{kind} {} failed on {}/{name}: found {}",
                serde_yaml::to_string(spec).unwrap().replace('\n', " "),
                lookup(doc, "kind").map(str_of).unwrap_or_default(),
                at.map(|v| serde_yaml::to_string(v).unwrap())
                    .unwrap_or_else(|| "nothing".into())
            ));
        }
    }
    Ok(())
}

fn run_chart(chart_name: &str) {
    let chart = repo().join("charts").join(chart_name);
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut count = 0;
    let files = suites(&chart);
    assert!(!files.is_empty(), "{chart_name} has no test suites");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let suite: Value = serde_yaml::from_str(&text).unwrap();
        let suite_name = get(&suite, "suite").map(str_of).unwrap_or_default();
        for test in get(&suite, "tests").and_then(Value::as_sequence).unwrap() {
            count += 1;
            let it = get(test, "it").map(str_of).unwrap_or_default();
            let out = render(&chart, &suite, test, tmp.path());
            for a in get(test, "asserts").and_then(Value::as_sequence).unwrap() {
                let (kind, spec) = a.as_mapping().unwrap().iter().next().unwrap();
                let kind = str_of(kind);
                let mut spec = spec.clone();
                // `documentIndex`/`documentSelector` may sit beside the assertion.
                for k in ["documentIndex", "documentSelector"] {
                    if let Some(v) = get(a, k)
                        && let Some(m) = spec.as_mapping_mut()
                    {
                        m.insert(Value::String(k.into()), v.clone());
                    }
                }
                if let Err(e) = check(&kind, &spec, &out, test) {
                    failures.push(format!(
                        "{} / {suite_name} / {it}: {e}",
                        file.file_name().unwrap().to_string_lossy()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} tests failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn ignition_chart_suites_pass() {
    run_chart("ignition");
}

#[test]
fn ignition_scaleout_chart_suites_pass() {
    run_chart("ignition-scaleout");
}
