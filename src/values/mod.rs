//! Values: parsing values files, the `--set` family, Helm's coalescing of user values over
//! chart defaults, schema checks, and warnings for keys the chart does not define.

pub mod coalesce;
pub mod lenient;
pub mod schema;
pub mod strvals;
pub mod unknown;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

pub use strvals::SetKind;

use crate::chart::Chart;
use crate::yamlpos::KeyLines;

/// The values options of a command, in command-line order.
#[derive(Debug, Clone, Default)]
pub struct ValuesOptions {
    /// `-f/--values` files, in order; later files win. `-` reads standard input.
    pub files: Vec<PathBuf>,
    /// `--set`-family arguments, in the order given; applied after the files.
    pub sets: Vec<(SetKind, String)>,
}

/// One place user values came from, kept to point messages at lines.
#[derive(Debug, Clone)]
pub struct ValuesSource {
    /// A file path, or the `--set` argument as typed.
    pub origin: String,
    /// The values it contributed.
    pub values: Map<String, Value>,
    /// Where each key is written, for files.
    pub lines: KeyLines,
}

/// User-supplied values: the merged map and where each part came from.
#[derive(Debug, Clone, Default)]
pub struct UserValues {
    /// Files merged in order, then the `--set` family applied.
    pub merged: Map<String, Value>,
    /// Each file and `--set` argument on its own.
    pub sources: Vec<ValuesSource>,
}

impl UserValues {
    /// Where the value at `path` was given last: `file:line` or the `--set` argument.
    pub fn origin_of(&self, path: &str) -> Option<String> {
        for src in self.sources.iter().rev() {
            if crate::chart::deps::lookup(&src.values, &strip_indices(path)).is_some() {
                return Some(match src.lines.line_of(path) {
                    Some(line) => format!("{}:{line}", src.origin),
                    None => src.origin.clone(),
                });
            }
        }
        None
    }
}

fn strip_indices(path: &str) -> String {
    match path.find('[') {
        Some(i) => path[..i].to_string(),
        None => path.to_string(),
    }
}

/// Reads the values files and applies the `--set` family, in Helm's order.
pub fn read_user_values(opts: &ValuesOptions) -> Result<UserValues> {
    let mut out = UserValues::default();
    for file in &opts.files {
        let (text, origin) = read_values_file(file)?;
        let values = parse_values_yaml(&text, &origin)?;
        coalesce::merge_user(&mut out.merged, values.clone());
        out.sources.push(ValuesSource {
            origin,
            values,
            lines: KeyLines::scan(&text),
        });
    }
    for (kind, arg) in &opts.sets {
        let flag = kind.flag();
        // strvals::apply names the flag, the argument and the file in its errors.
        let read = |path: &str| -> Result<String> { Ok(std::fs::read_to_string(path)?) };
        strvals::apply(&mut out.merged, arg, *kind, &read)?;
        let mut alone = Map::new();
        strvals::apply(&mut alone, arg, *kind, &read)?;
        out.sources.push(ValuesSource {
            origin: format!("{flag} {arg}"),
            values: alone,
            lines: KeyLines::default(),
        });
    }
    Ok(out)
}

fn read_values_file(path: &Path) -> Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("cannot read values from standard input")?;
        return Ok((text, "<stdin>".into()));
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read values file `{}`", path.display()))?;
    Ok((text, path.display().to_string()))
}

/// The merged user-supplied values of `opts`.
pub fn user_values(opts: &ValuesOptions) -> Result<Map<String, Value>> {
    Ok(read_user_values(opts)?.merged)
}

/// The result of computing a chart's values.
#[derive(Debug, Clone, Default)]
pub struct Computed {
    /// The values templates see (top-level chart's; subcharts under their names).
    pub values: Map<String, Value>,
    /// Notes on suspicious input that did not stop the computation.
    pub warnings: Vec<String>,
    /// Keys the user gave that the chart does not define.
    pub unknown: Vec<unknown::UnknownKey>,
}

/// Coalesces `user` over the chart's defaults and checks the schemas.
pub fn compute(chart: &Chart, user: &Map<String, Value>) -> Result<Map<String, Value>> {
    Ok(compute_full(
        chart,
        &UserValues {
            merged: user.clone(),
            sources: Vec::new(),
        },
    )?
    .values)
}

/// Like [`compute`], keeping warnings and unknown keys, and pointing schema violations at
/// the file and line that set the value.
pub fn compute_full(chart: &Chart, user: &UserValues) -> Result<Computed> {
    let tree = crate::chart::deps::resolve(chart, &user.merged)?;
    compute_resolved(&tree, user)
}

/// [`compute_full`] for a chart tree whose dependencies are already resolved.
pub fn compute_resolved(tree: &Chart, user: &UserValues) -> Result<Computed> {
    let mut warnings = Vec::new();
    let mut values = coalesce::coalesce(tree, &user.merged, &mut warnings)?;
    let mut unknown = Vec::new();
    if !user.sources.is_empty() {
        let defaults = coalesce::coalesce(tree, &Map::new(), &mut Vec::new())?;
        for src in &user.sources {
            unknown.extend(unknown::find_in_tree(
                tree,
                &src.values,
                &defaults,
                &mut |path| match src.lines.line_of(path) {
                    Some(line) => format!("{}:{line}", src.origin),
                    None => src.origin.clone(),
                },
            ));
        }
    }
    lenient::relax_tree(tree, &mut values, &mut warnings, &|path| {
        user.origin_of(path)
    })?;
    // A schema refusal often comes from a typo; name the likely culprits with it.
    schema::enforce(tree, &values, &|path| user.origin_of(path)).map_err(|e| {
        if unknown.is_empty() {
            return e;
        }
        let hints: Vec<String> = unknown.iter().map(|u| format!("  - {u}")).collect();
        anyhow::anyhow!("{e}\nkeys the chart does not define:\n{}", hints.join("\n"))
    })?;
    Ok(Computed {
        values,
        warnings,
        unknown,
    })
}

/// Parses YAML values text into a map; `origin` names the file in errors. An empty
/// document is an empty map; any other non-map document is an error.
pub fn parse_values_yaml(text: &str, origin: &str) -> Result<Map<String, Value>> {
    let doc: serde_yaml::Value = serde_yaml::from_str(text)
        .map_err(|e| anyhow::anyhow!("{}", crate::yamlpos::describe_yaml_error(origin, &e)))?;
    match yaml_to_json(doc) {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => bail!(
            "{origin}: values must be a mapping of keys to values, found {}",
            kind_name(&other)
        ),
    }
}

/// Converts a YAML value into JSON's model: keys become strings, tags are dropped.
pub fn yaml_to_json(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (yaml_key_to_string(k), yaml_to_json(v)))
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

fn yaml_key_to_string(k: serde_yaml::Value) -> String {
    use serde_yaml::Value as Y;
    match k {
        Y::String(s) => s,
        Y::Null => "null".into(),
        Y::Bool(b) => b.to_string(),
        Y::Number(n) => n.to_string(),
        other => serde_yaml::to_string(&other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// A short name for a value's type, for messages.
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
