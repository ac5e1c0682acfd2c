//! Checking computed values against each chart's `values.schema.json`.

use anyhow::{Result, anyhow, bail};
use serde_json::{Map, Value};

use crate::chart::Chart;

/// One schema violation, with the dotted path of the offending value.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Dotted values path, e.g. `gateway.replicas` or `env[2].name`; empty for the root.
    pub path: String,
    /// What was expected.
    pub message: String,
}

/// Validates the values of `chart` and of each subchart (against its own section) with
/// their schemas. Returns every violation, grouped per chart. The values are borrowed
/// mutably only to be seen as one JSON value without copying them; they come back as they
/// were.
pub(crate) fn check_tree(
    chart: &Chart,
    values: &mut Map<String, Value>,
) -> Result<Vec<(String, Vec<Violation>)>> {
    let mut out = Vec::new();
    check_into(chart, values, "", &mut out)?;
    Ok(out)
}

fn check_into(
    chart: &Chart,
    values: &mut Map<String, Value>,
    prefix: &str,
    out: &mut Vec<(String, Vec<Violation>)>,
) -> Result<()> {
    if let Some(schema) = &chart.schema {
        // A verdict saved by an earlier run for exactly this schema and these values spares
        // compiling the schema and validating (values/verdicts.rs). Only "valid" is ever
        // saved, so every violation is always worked out, and worded, afresh. Once the
        // schema is compiled in this process (a fleet's releases, unit tests), validating
        // costs less than digesting the inputs, so the cache is left out.
        let verdict = match SCHEMAS.get(&chart.schema_id) {
            Some(_) => None,
            None => super::verdicts::Verdict::for_inputs(schema, values),
        };
        let violations = if verdict.as_ref().is_some_and(|v| v.known_valid()) {
            Vec::new()
        } else {
            let validator = compiled(chart, schema).map_err(|e| {
                anyhow!("{}: {e}", chart.origin.join("values.schema.json").display())
            })?;
            let found = violations(&validator, values).map_err(|e| {
                anyhow!("{}: {e}", chart.origin.join("values.schema.json").display())
            })?;
            if found.is_empty()
                && let Some(v) = &verdict
            {
                v.remember_valid();
            }
            found
        };
        if !violations.is_empty() {
            let violations = violations
                .into_iter()
                .map(|mut v| {
                    if !prefix.is_empty() {
                        v.path = if v.path.is_empty() {
                            prefix.trim_end_matches('.').to_string()
                        } else {
                            format!("{prefix}{}", v.path)
                        };
                    }
                    v
                })
                .collect();
            out.push((chart.name().to_string(), violations));
        }
    }
    for sub in &chart.subcharts {
        let mut scoped = match values.get(sub.name()) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        // Coalescing gives every subchart a `global`; a schema that does not mention it
        // is not asked to allow it.
        let declares_global = sub
            .schema
            .as_ref()
            .is_some_and(|s| s.pointer("/properties/global").is_some());
        if !declares_global {
            scoped.remove("global");
        }
        check_into(sub, &mut scoped, &format!("{prefix}{}.", sub.name()), out)?;
    }
    Ok(())
}

/// Compiled schemas of every chart checked in this process, by chart identity.
static SCHEMAS: crate::chart::ChartCache<jsonschema::Validator> = crate::chart::ChartCache::new();

/// The chart's schema compiled, kept while the chart lives: compiling costs far more than
/// validating.
fn compiled(chart: &Chart, schema: &Value) -> Result<std::sync::Arc<jsonschema::Validator>> {
    SCHEMAS.get_or_try_insert(&chart.schema_id, || {
        Ok(std::sync::Arc::new(
            jsonschema::validator_for(schema)
                .map_err(|e| anyhow!("the schema itself is invalid: {e}"))?,
        ))
    })
}

/// Compiles the schemas of `chart` and its subcharts now rather than on first use, so that
/// renders sharing the chart (a fleet's releases, on several threads) find them compiled.
pub fn precompile(chart: &Chart) -> Result<()> {
    if let Some(schema) = &chart.schema {
        compiled(chart, schema)
            .map_err(|e| anyhow!("{}: {e}", chart.origin.join("values.schema.json").display()))?;
    }
    for sub in &chart.subcharts {
        precompile(sub)?;
    }
    Ok(())
}

/// Validates `values` against one schema.
pub fn check(schema: &Value, values: &Map<String, Value>) -> Result<Vec<Violation>> {
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| anyhow!("the schema itself is invalid: {e}"))?;
    violations(&validator, &mut values.clone())
}

fn violations(
    validator: &jsonschema::Validator,
    values: &mut Map<String, Value>,
) -> Result<Vec<Violation>> {
    // Seen as one value by moving the map in and back out: a copy of a chart's whole values
    // for every check was most of the cost of checking valid values.
    let instance = Value::Object(std::mem::take(values));
    // Valid values, the usual case, are told by the validator's quick pass, which stops at
    // nothing and builds no error.
    let mut out: Vec<Violation> = if validator.is_valid(&instance) {
        Vec::new()
    } else {
        validator
            .iter_errors(&instance)
            .map(|e| Violation {
                path: pointer_to_path(&instance, &e.instance_path().to_string()),
                message: e.to_string(),
            })
            .collect()
    };
    if let Value::Object(map) = instance {
        *values = map;
    }
    out.sort_by(|a, b| a.path.cmp(&b.path).then(a.message.cmp(&b.message)));
    out.dedup();
    Ok(out)
}

/// Turns a JSON pointer into the dotted path users write (`a.b[0].c`), looking at the
/// values to tell list indices from keys that happen to be digits.
pub(crate) fn pointer_to_path(instance: &Value, pointer: &str) -> String {
    let mut out = String::new();
    let mut cur = Some(instance);
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        match cur {
            Some(Value::Array(items)) => {
                out.push_str(&format!("[{seg}]"));
                cur = seg.parse::<usize>().ok().and_then(|i| items.get(i));
            }
            other => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&seg);
                cur = other.and_then(|v| v.get(&seg));
            }
        }
    }
    out
}

/// Fails with one message listing every violation.
pub(crate) fn enforce(
    chart: &Chart,
    values: &mut Map<String, Value>,
    locate: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    let found = check_tree(chart, values)?;
    if found.is_empty() {
        return Ok(());
    }
    let mut msg = String::from("the values do not match the chart's schema:");
    for (chart_name, violations) in found {
        for v in violations {
            let at = if v.path.is_empty() {
                "(top level)".to_string()
            } else {
                format!("`{}`", v.path)
            };
            let origin = locate(&v.path)
                .map(|o| format!(" (set in {o})"))
                .unwrap_or_default();
            msg.push_str(&format!(
                "\n  - {at}: {}{origin} [schema of chart `{chart_name}`]",
                v.message
            ));
        }
    }
    bail!(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn violations_name_the_dotted_path() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "object", "properties": {"n": {"type": "integer"}}}, "l": {"type": "array", "items": {"type": "string"}}}});
        let values = json!({"a": {"n": "x"}, "l": ["ok", 3]});
        let v = check(&schema, values.as_object().unwrap()).unwrap();
        let paths: Vec<_> = v.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["a.n", "l[1]"]);
        assert!(v[0].message.contains("integer"), "{}", v[0].message);
    }
}
