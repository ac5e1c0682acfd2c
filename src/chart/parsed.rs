//! A chart's `Chart.yaml`, `values.yaml` and `values.schema.json` as parsed (and the values
//! files given with `-f`), saved in the artifact cache ([`crate::artifact_cache`]): parsing
//! them was the largest cost of loading a chart, and a short `stoke template` loads the same
//! chart and values again on every run.
//!
//! An entry is a function of the file's exact bytes and of the YAML nesting limit in force
//! (the only setting the parse reads), so it holds exactly what parsing would give. Only
//! successful parses are saved: a file that does not parse is parsed again every time, so
//! its error is always the parser's own. The saved form is a small tagged encoding of JSON
//! values (postcard cannot carry `serde_json::Value`, which needs a self-describing format).

use anyhow::{Context, Result};
use serde_json::{Map, Number, Value};

use super::Metadata;
use crate::artifact_cache::{self, KeyBuilder};

/// Entry kind (and file-name prefix) of parsed values files.
const VALUES: &str = "values";
/// Entry kind of parsed `Chart.yaml` files.
const CHART: &str = "chartyaml";
/// Entry kind of parsed schemas.
const SCHEMA: &str = "jsonschema";

/// `values.yaml`'s text parsed as [`crate::yaml::parse_values_yaml`] parses it; `origin`
/// names the file in errors.
pub(crate) fn values_yaml(text: &str, origin: &str) -> Result<Map<String, Value>> {
    let depth = (crate::yaml::max_depth() as u64).to_le_bytes();
    let parsed = saved(VALUES, &[&depth, text.as_bytes()], || {
        crate::yaml::parse_values_yaml(text, origin).map(Value::Object)
    })?;
    match parsed {
        Value::Object(map) => Ok(map),
        // Only maps are saved under this kind; anything else is parsed again.
        _ => crate::yaml::parse_values_yaml(text, origin),
    }
}

/// `Chart.yaml`'s text parsed and checked as [`Metadata::parse`] does; `origin` names the
/// file in errors. The entry holds the metadata as JSON, which carries every field exactly
/// (strings, lists, maps and the JSON of `import-values`); it is checked again on reading.
pub(crate) fn chart_yaml(text: &str, origin: &str) -> Result<Metadata> {
    let depth = (crate::yaml::max_depth() as u64).to_le_bytes();
    let parsed = saved(CHART, &[&depth, text.as_bytes()], || {
        let meta = Metadata::parse(text, origin)?;
        serde_json::to_value(&meta).with_context(|| format!("cannot save {origin}"))
    })?;
    match serde_json::from_value::<Metadata>(parsed) {
        Ok(meta) if meta.validate().is_ok() => Ok(meta),
        // Only checked metadata is saved; anything else is parsed again.
        _ => Metadata::parse(text, origin),
    }
}

/// `values.schema.json`'s bytes parsed as JSON; `origin` names the file in errors.
pub(crate) fn schema_json(bytes: &[u8], origin: &str) -> Result<Value> {
    saved(SCHEMA, &[bytes], || {
        serde_json::from_slice(bytes).with_context(|| format!("{origin} is not valid JSON"))
    })
}

/// The value saved under `kind` for `inputs`, else `parse`'s, saved when it succeeds.
fn saved(kind: &str, inputs: &[&[u8]], parse: impl FnOnce() -> Result<Value>) -> Result<Value> {
    let slot = artifact_cache::global().map(|cache| {
        let mut key = KeyBuilder::new(kind);
        for input in inputs {
            key.part(input);
        }
        (cache, key.finish())
    });
    if let Some((cache, key)) = &slot
        && let Some(value) = cache.read(kind, key).and_then(|b| decode(&b))
    {
        return Ok(value);
    }
    let value = parse()?;
    if let Some((cache, key)) = &slot {
        let mut out = Vec::new();
        encode(&value, &mut out);
        cache.write(kind, key, &out);
    }
    Ok(value)
}

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const U64: u8 = 3;
const I64: u8 = 4;
const F64: u8 = 5;
const STRING: u8 = 6;
const ARRAY: u8 = 7;
const OBJECT: u8 = 8;

fn encode(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                out.push(U64);
                out.extend_from_slice(&u.to_le_bytes());
            } else if let Some(i) = n.as_i64() {
                out.push(I64);
                out.extend_from_slice(&i.to_le_bytes());
            } else {
                out.push(F64);
                out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_bits().to_le_bytes());
            }
        }
        Value::String(s) => {
            out.push(STRING);
            put_str(s, out);
        }
        Value::Array(items) => {
            out.push(ARRAY);
            put_len(items.len(), out);
            for item in items {
                encode(item, out);
            }
        }
        Value::Object(map) => {
            out.push(OBJECT);
            put_len(map.len(), out);
            for (k, v) in map {
                put_str(k, out);
                encode(v, out);
            }
        }
    }
}

fn put_len(n: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

fn put_str(s: &str, out: &mut Vec<u8>) {
    put_len(s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

/// The value `bytes` encode, or `None` for anything that is not one whole encoded value.
fn decode(bytes: &[u8]) -> Option<Value> {
    let mut r = Reader { bytes, depth: 0 };
    let v = r.value()?;
    r.bytes.is_empty().then_some(v)
}

struct Reader<'a> {
    bytes: &'a [u8],
    depth: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = self.bytes.split_at_checked(n)?;
        self.bytes = rest;
        Some(head)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    /// A length, which can never exceed the bytes left (every element takes at least one).
    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.bytes.len()).then_some(n)
    }

    fn string(&mut self) -> Option<String> {
        let n = self.len()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }

    fn value(&mut self) -> Option<Value> {
        let (&tag, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(match tag {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            U64 => Value::from(self.u64()?),
            I64 => Value::from(self.u64()? as i64),
            F64 => Value::Number(Number::from_f64(f64::from_bits(self.u64()?))?),
            STRING => Value::String(self.string()?),
            ARRAY | OBJECT => {
                // Bounded like the parsers that made the value, so no entry can recurse deep.
                self.depth += 1;
                if self.depth > crate::yaml::max_depth() + 1 {
                    return None;
                }
                let n = self.len()?;
                let v = if tag == ARRAY {
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.value()?);
                    }
                    Value::Array(items)
                } else {
                    let mut map = Map::new();
                    for _ in 0..n {
                        let k = self.string()?;
                        let v = self.value()?;
                        map.insert(k, v);
                    }
                    Value::Object(map)
                };
                self.depth -= 1;
                v
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_json_value_reads_back_as_written() {
        let v = serde_json::json!({
            "null": null, "t": true, "f": false, "u": 18446744073709551615u64, "i": -42,
            "f64": 0.25, "big": 1e300, "s": "päss\n\"w\"", "empty": "", "list": [1, [2, {}], []],
            "map": {"nested": {"deeper": ["x"]}}
        });
        let mut out = Vec::new();
        encode(&v, &mut out);
        assert_eq!(decode(&out), Some(v));
    }

    /// What a saved `Chart.yaml` reads back as: through JSON and the tagged encoding.
    fn through_an_entry(meta: &Metadata) -> Metadata {
        let mut out = Vec::new();
        encode(&serde_json::to_value(meta).unwrap(), &mut out);
        serde_json::from_value(decode(&out).unwrap()).unwrap()
    }

    #[test]
    fn a_saved_chart_yaml_reads_back_field_for_field() {
        let every_field = r#"apiVersion: v2
name: full
version: 1.0.0-rc.1+build.5
appVersion: 8.1.44
description: "A chart: with every field"
type: library
kubeVersion: ">=1.25.0-0"
keywords: [scada, ignition]
home: https://example.com
sources: [https://example.com/src]
icon: https://example.com/icon.png
deprecated: true
maintainers:
  - name: Ops
    email: ops@example.com
    url: https://example.com/ops
annotations:
  category: Automation
  "example.com/empty": ""
dependencies:
  - name: db
    version: "~1.2"
    repository: oci://registry.example.com/charts
    condition: db.enabled,global.db
    tags: [storage]
    alias: database
    import-values:
      - child: exports.data
        parent: imported
      - simple
  - name: local
    version: ""
    repository: ""
"#;
        let mut texts = vec![("every field".to_string(), every_field.to_string())];
        let charts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("charts");
        for entry in std::fs::read_dir(&charts).unwrap() {
            let file = entry.unwrap().path().join("Chart.yaml");
            if let Ok(text) = std::fs::read_to_string(&file) {
                texts.push((file.display().to_string(), text));
            }
        }
        assert!(texts.len() >= 3, "the repository's charts were found");
        for (origin, text) in texts {
            let meta = Metadata::parse(&text, &origin).unwrap();
            assert_eq!(through_an_entry(&meta), meta, "{origin}");
        }
    }

    #[test]
    fn a_damaged_or_truncated_encoding_is_no_value() {
        let v = serde_json::json!({"a": [1, "two", {"three": 3.5}]});
        let mut out = Vec::new();
        encode(&v, &mut out);
        for cut in 0..out.len() {
            assert_eq!(decode(&out[..cut]), None, "cut at {cut}");
        }
        let mut extra = out.clone();
        extra.push(NULL);
        assert_eq!(decode(&extra), None);
        let mut huge = vec![ARRAY];
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(decode(&huge), None);
    }
}
