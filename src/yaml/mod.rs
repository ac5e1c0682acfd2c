//! The one home of YAML: parsing values files and other documents (with positions for
//! messages), converting to the JSON data model the rest of stoke works in, emitting, and
//! describing parse errors. No other module names a YAML crate: code elsewhere calls
//! [`from_str`], [`parse`], [`parse_stream`], [`parse_values_yaml`] and [`to_string`].

pub mod emit;
pub mod fast;
pub mod finite;
pub mod merge;
pub mod pos;
pub mod value;

use anyhow::{Result, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub use value::{Mapping, Number, Yaml};

/// Deepest nesting of mappings and sequences accepted by default
/// ([`crate::limits::YAML_DEPTH`]).
pub const DEFAULT_MAX_DEPTH: usize = crate::limits::YAML_DEPTH.default as usize;

/// The nesting limit in force ([`crate::limits::YAML_DEPTH`], read once per process).
pub fn max_depth() -> usize {
    static LIMIT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(|| crate::limits::YAML_DEPTH.get_usize().max(1))
}

/// The message for a document nested deeper than the limit.
pub(crate) fn depth_message() -> String {
    format!(
        "the YAML nests deeper than {} levels (set STOKE_YAML_MAX_DEPTH to allow more)",
        max_depth()
    )
}

/// How stoke reads YAML: YAML 1.2 scalars, a duplicate key is an error, `<<` is an
/// ordinary key here (readers that want merge keys call [`parse_merging`]), the nesting
/// limit above and no other budget
/// (inputs are size-capped where they come from).
fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = max_depth();
    budget.flow_nesting_limit = max_depth();
    budget.max_events = usize::MAX;
    budget.max_nodes = usize::MAX;
    budget.max_documents = usize::MAX;
    budget.max_total_scalar_bytes = usize::MAX;
    let mut o = serde_saphyr::Options::default();
    o.budget = Some(budget);
    o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    o.merge_keys = serde_saphyr::MergeKeyPolicy::AsOrdinary;
    o.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::PassThrough;
    o.with_snippet = false;
    o.strict_booleans = true;
    o.leading_zero_numbers_as_strings = true;
    o.underscored_numbers_as_strings = true;
    o.legacy_octal_numbers = false;
    o
}

/// Scalar rules of another tool's YAML reader, for files that tool defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// stoke's own rules (see [`options`]): `0755` and `1_000` stay strings.
    Stoke,
    /// go-yaml v3's, which helm-unittest reads suites and rendered documents with: `0755`
    /// is octal (493) and underscores in numbers are dropped (`1_000` is 1000).
    GoYamlV3,
}

fn options_for(dialect: Dialect) -> serde_saphyr::Options {
    let mut o = options();
    if dialect == Dialect::GoYamlV3 {
        o.leading_zero_numbers_as_strings = false;
        o.underscored_numbers_as_strings = false;
        o.legacy_octal_numbers = true;
    }
    o
}

/// Why a text is not the YAML expected: the message and, when known, where (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    line: Option<usize>,
    column: Option<usize>,
}

impl Error {
    fn from_backend(e: serde_saphyr::Error) -> Error {
        let (line, column) = match e.location() {
            Some(l) if l.line() > 0 => (Some(l.line() as usize), Some(l.column() as usize)),
            _ => (None, None),
        };
        let mut message = e.to_string();
        // The backend leads with "line X column Y: "; the position is kept apart.
        if let Some(rest) = message.strip_prefix("error: ") {
            message = rest.to_string();
        }
        if let Some(i) = message.find(": ").filter(|_| message.starts_with("line ")) {
            message = message[i + 2..].to_string();
        }
        if let Some(i) = message.rfind(" at line ") {
            message.truncate(i);
        }
        if message.contains("recursion limit") || message.contains("Depth") {
            message = depth_message();
        } else if message.contains("budget breached")
            && (message.contains("Alias") || message.contains("Anchor"))
        {
            message = "alias repetition limit exceeded: the document's aliases expand to far more data than it holds".into();
        }
        Error {
            message,
            line,
            column,
        }
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The line of the problem, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The column of the problem, when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// `ORIGIN:LINE:COL: invalid YAML: message`, the form every command reports.
    pub fn describe(&self, origin: &str) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{origin}:{l}:{c}: invalid YAML: {}", self.message),
            _ => format!("{origin}: invalid YAML: {}", self.message),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{} at line {l} column {c}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

/// Documents nested at most this deep are read on the calling thread; deeper ones (up to
/// the limit) on a thread with a stack sized for them, since reading a tree recurses.
const INLINE_DEPTH: usize = 64;

/// Stack per level of nesting for deep documents, generous enough for debug builds.
const STACK_PER_LEVEL: usize = 64 * 1024;

/// The deepest nesting in `text`, from one pass over the parser's events (which keeps its
/// own stack and never recurses); an error at the first node past the limit. Syntax errors
/// are left to the real parse, which describes them better.
fn nesting_depth(text: &str) -> std::result::Result<usize, Error> {
    use saphyr_parser::{Event, Parser};
    let limit = max_depth();
    let (mut depth, mut deepest) = (0usize, 0usize);
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else {
            break;
        };
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                depth += 1;
                deepest = deepest.max(depth);
                if depth > limit {
                    return Err(Error {
                        message: depth_message(),
                        line: Some(span.start.line()),
                        column: Some(span.start.col() + 1),
                    });
                }
            }
            Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(deepest)
}

/// An upper bound on the nesting of `text` (as [`nesting_depth`] counts it), from its bytes
/// alone. A block collection starts where a line's run of spaces and indicators (`-`, `?`,
/// `:`) ends, and a nested block collection starts further right than its parent, except
/// a sequence under a mapping key, which may share the key's column; so block nesting is
/// at most two levels per column of the widest such run. Each flow collection adds at most
/// one level and opens with `[` or `{`; an empty one (`[]`, `{}`) is a leaf, and a path
/// holds one leaf. Every bracket counts, even inside quotes: the bound only ever errs high.
fn nesting_bound(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut run, mut widest, mut flow) = (0usize, 0usize, 0usize);
    let mut line_start = true;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            // YAML breaks lines at CR as well as LF.
            b'\n' | b'\r' => {
                line_start = true;
                run = 0;
                continue;
            }
            b' ' | b'\t' | b'-' | b'?' | b':' if line_start => {
                run += 1;
                widest = widest.max(run);
                continue;
            }
            b'[' if bytes.get(i + 1) != Some(&b']') => flow += 1,
            b'{' if bytes.get(i + 1) != Some(&b'}') => flow += 1,
            _ => {}
        }
        line_start = false;
    }
    2 * (widest + 1) + flow + 2
}

/// Whether the single document `text` is a mapping with a key at `path` (each step a
/// mapping key below the one before, e.g. `metadata`, `annotations`, `helm.sh/hook`), read
/// from the parser's events without building a tree. `None` when the events alone cannot
/// tell as a full parse would (an alias, a key that is a collection, more than one
/// document) or the text is not valid YAML; callers then parse it fully.
pub fn has_key_path(text: &str, path: &[&str]) -> Option<bool> {
    use saphyr_parser::{Event, Parser};
    struct Frame {
        is_map: bool,
        /// For a mapping: the next scalar is a key.
        at_key: bool,
        /// How many steps of `path` lead to this collection, when it is on the path.
        on_path: Option<usize>,
        /// For a mapping on the path: the steps that lead to the value being read.
        value_on_path: Option<usize>,
    }
    let mut frames: Vec<Frame> = Vec::new();
    let mut found = false;
    let mut documents = 0;
    for item in Parser::new_from_str(text) {
        let (event, _) = item.ok()?;
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return None;
                }
            }
            Event::Alias(..) => return None,
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let on_path = match frames.last_mut() {
                    None => Some(0),
                    Some(parent) if parent.is_map => {
                        if parent.at_key {
                            return None;
                        }
                        parent.value_on_path.take()
                    }
                    Some(_) => None,
                };
                frames.push(Frame {
                    is_map: matches!(event, Event::MappingStart(..)),
                    at_key: true,
                    on_path,
                    value_on_path: None,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                frames.pop();
                if let Some(parent) = frames.last_mut()
                    && parent.is_map
                {
                    parent.at_key = true;
                }
            }
            Event::Scalar(value, ..) => {
                let Some(top) = frames.last_mut() else {
                    continue;
                };
                if !top.is_map {
                    continue;
                }
                if top.at_key {
                    top.value_on_path = None;
                    if let Some(k) = top.on_path
                        && path.get(k) == Some(&value.as_ref())
                    {
                        if k + 1 == path.len() {
                            found = true;
                        } else {
                            top.value_on_path = Some(k + 1);
                        }
                    }
                    top.at_key = false;
                } else {
                    top.value_on_path = None;
                    top.at_key = true;
                }
            }
            _ => {}
        }
    }
    Some(found)
}

/// Parses one YAML document into `T`, keeping the error's position apart for callers that
/// word their own message (most call [`from_str`]). An empty text is an empty document.
/// Time is linear in the size of the text; nesting deeper than [`max_depth`] is refused
/// before any tree is built.
pub fn try_from_str<T: DeserializeOwned + Send>(text: &str) -> std::result::Result<T, Error> {
    try_from_str_as(text, Dialect::Stoke)
}

/// [`try_from_str`] with another tool's scalar rules.
pub fn try_from_str_as<T: DeserializeOwned + Send>(
    text: &str,
    dialect: Dialect,
) -> std::result::Result<T, Error> {
    let read = || {
        serde_saphyr::from_str_with_options(text, options_for(dialect)).map_err(Error::from_backend)
    };
    // Most texts are provably shallow from their bytes alone, which costs a small fraction
    // of the event pass that measures the nesting exactly.
    if nesting_bound(text) <= INLINE_DEPTH.min(max_depth()) {
        return read();
    }
    let depth = nesting_depth(text)?;
    if depth <= INLINE_DEPTH {
        return read();
    }
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("yaml".into())
            .stack_size((1 << 20) + depth * STACK_PER_LEVEL)
            .spawn_scoped(s, read)
            .map_err(|e| Error {
                message: format!("cannot start a thread to read deeply nested YAML: {e}"),
                line: None,
                column: None,
            })?
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Parses one YAML document into `T`; errors read `ORIGIN:LINE:COL: invalid YAML: ...`.
pub fn from_str<T: DeserializeOwned + Send>(text: &str, origin: &str) -> Result<T> {
    try_from_str(text).map_err(|e| anyhow::anyhow!("{}", e.describe(origin)))
}

/// Parses one YAML document in YAML's model.
pub fn parse(text: &str, origin: &str) -> Result<Yaml> {
    from_str(text, origin)
}

/// Parses one YAML document into the JSON model (see [`yaml_to_json`]).
pub fn parse_json(text: &str, origin: &str) -> Result<Value> {
    parse(text, origin).map(yaml_to_json)
}

/// Parses one YAML document and resolves its merge keys with `how`'s precedence (see
/// [`merge`]); a document without a plain `<<` key reads as [`parse`] reads it.
pub fn parse_merging(text: &str, origin: &str, how: merge::Precedence) -> Result<Yaml> {
    let doc = parse(text, origin)?;
    if !merge::has_merge_keys(text) {
        return Ok(doc);
    }
    // Resolving walks the tree recursively: deep documents get a stack sized for them.
    let depth = nesting_depth(text).map_err(|e| anyhow::anyhow!("{}", e.describe(origin)))?;
    if depth <= INLINE_DEPTH {
        return merge::resolve(doc, how, origin);
    }
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("yaml-merge".into())
            .stack_size((1 << 20) + depth * STACK_PER_LEVEL)
            .spawn_scoped(s, || merge::resolve(doc, how, origin))
            .map_err(|e| anyhow::anyhow!("cannot start a thread to read deeply nested YAML: {e}"))?
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Parses every document of a `---`-separated stream, in order.
pub fn parse_stream(text: &str, origin: &str) -> Result<Vec<Yaml>> {
    serde_saphyr::from_multiple_with_options(text, options())
        .map_err(|e| anyhow::anyhow!("{}", Error::from_backend(e).describe(origin)))
}

/// Builds a `T` from a document already parsed.
pub fn from_yaml<T: DeserializeOwned + Send>(doc: Yaml) -> Result<T> {
    // Through the text form: the one deserializer, so the rules are the same as parsing.
    Ok(try_from_str(&serde_saphyr::to_string(&doc)?)?)
}

/// Turns `value` into YAML's model, keeping the order its `Serialize` gives.
pub fn to_yaml<T: Serialize>(value: &T) -> Result<Yaml> {
    // The serializer's text is read straight back: one set of rules for what a scalar is.
    let text = serde_saphyr::to_string(value)?;
    Ok(try_from_str(&text)?)
}

/// Writes `value` as a YAML document (block style, no leading `---`; see [`emit`]).
pub fn to_string<T: Serialize>(value: &T) -> Result<String> {
    Ok(emit::emit(&to_yaml(value)?))
}

/// What a plain scalar with this text reads as: null, a boolean, a number or a string.
pub(crate) fn resolve_plain(text: &str) -> Yaml {
    try_from_str::<Yaml>(text).unwrap_or(Yaml::Null)
}

/// Parses YAML values text into a map; `origin` names the file in errors. An empty
/// document is an empty map; any other non-map document is an error.
///
/// Merge keys (`<<: *defaults`) are resolved as Helm resolves them in values files (go-yaml
/// v2 through sigs.k8s.io/yaml: entries apply in the order written; see [`merge`]).
pub fn parse_values_yaml(text: &str, origin: &str) -> Result<Map<String, Value>> {
    let doc = parse_merging(text, origin, merge::Precedence::InOrder)?;
    finite::refuse_non_finite(&doc, origin)?;
    match yaml_to_json(doc) {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => bail!(
            "{origin}: values must be a mapping of keys to values, found {}",
            kind_name(&other)
        ),
    }
}

/// Converts a YAML value into JSON's model: keys become strings; numbers JSON cannot hold
/// (infinities, NaN) become null.
pub fn yaml_to_json(v: Yaml) -> Value {
    match v {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(Number::Neg(i)) => Value::from(i),
        Yaml::Number(Number::Pos(u)) => Value::from(u),
        Yaml::Number(Number::Float(f)) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Yaml::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (yaml_key_to_string(k), yaml_to_json(v)))
                .collect(),
        ),
    }
}

fn yaml_key_to_string(k: Yaml) -> String {
    match k {
        Yaml::String(s) => s,
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        other => to_string(&other).unwrap_or_default().trim().to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nesting_bound_is_never_below_the_nesting() {
        let cases = [
            "a: 1\n",
            "a:\n- b:\n  - c:\n    - d\n",
            "- - - - a\n",
            "? - a\n  - b\n: x\n",
            "a: [[[[1]]]]\n",
            "a: {b: {c: [{}, []]}}\n",
            "a:\r  b:\r    c:\r      d: 1\r",
            "x:\n  y: \"[not a list\"\n  z: [\n    [\n      1\n    ]\n  ]\n",
            "k: |\n        deep text\n",
        ];
        for text in cases {
            let depth = nesting_depth(text).unwrap();
            assert!(
                nesting_bound(text) >= depth,
                "bound {} < depth {depth} for {text:?}",
                nesting_bound(text)
            );
        }
        let deep = "a: ".to_string() + &"[".repeat(70) + &"]".repeat(70) + "\n";
        assert!(nesting_bound(&deep) > INLINE_DEPTH);
    }

    const HOOK: [&str; 3] = ["metadata", "annotations", "helm.sh/hook"];

    #[test]
    fn key_paths_are_read_from_events_as_a_full_parse_reads_them() {
        let cases = [
            (
                "metadata:\n  annotations:\n    helm.sh/hook: test\n",
                Some(true),
            ),
            (
                "metadata:\n  annotations:\n    \"helm.sh/hook\": test\n",
                Some(true),
            ),
            ("metadata:\n  annotations:\n    helm.sh/hook:\n", Some(true)),
            (
                "metadata:\n  annotations:\n    helm.sh/hook-weight: \"1\"\n",
                Some(false),
            ),
            ("metadata:\n  labels:\n    helm.sh/hook: x\n", Some(false)),
            ("spec:\n  annotations:\n    helm.sh/hook: x\n", Some(false)),
            (
                "data:\n  x: |\n    metadata:\n      helm.sh/hook: x\n",
                Some(false),
            ),
            (
                "metadata:\n  name: a\n  annotations: {x: 1, helm.sh/hook: post-install}\n",
                Some(true),
            ),
            (
                "metadata:\n  annotations:\n    a: [1, {helm.sh/hook: x}]\n    b: c\n",
                Some(false),
            ),
            (
                "- metadata:\n    annotations:\n      helm.sh/hook: x\n",
                Some(false),
            ),
            ("a: &x 1\nmetadata: *x\n", None),
            ("? [a]\n: b\n", None),
            ("a: 1\n---\nb: 2\n", None),
            ("a: [\n", None),
        ];
        for (text, want) in cases {
            assert_eq!(has_key_path(text, &HOOK), want, "{text:?}");
            if let Some(found) = want {
                let full = try_from_str::<Value>(text).unwrap();
                assert_eq!(
                    full["metadata"]["annotations"]
                        .get("helm.sh/hook")
                        .is_some(),
                    found,
                    "{text:?}"
                );
            }
        }
    }
}
