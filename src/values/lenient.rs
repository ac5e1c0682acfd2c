//! Values that Go-template charts take loosely and a strict schema would refuse: a number
//! written as a string (`replicas: "3"`, which Helm's templates print as `3`) and an empty
//! string where the schema lists the allowed words and names a default (`service.type: ""`,
//! which the official Ignition templates treat as the default). Such values are read as what
//! they mean, each with a warning that says what was read, before the schema check runs; any
//! other violation is left for the schema check to report.

use anyhow::{Result, anyhow};
use serde_json::{Map, Value};

use crate::chart::Chart;
use jsonschema::JsonType;
use jsonschema::error::{TypeKind, ValidationErrorKind};

/// One value read other than as written.
struct Reading {
    /// JSON pointer of the value inside the chart's own values.
    pointer: String,
    /// What it is read as.
    value: Value,
    /// How it was read, for the warning: `the string "3" as the number 3`.
    how: String,
}

/// Rewrites, in place, the values of `chart` and of each subchart (in its section) that are
/// loose spellings of what the schema asks for, and adds one warning per rewrite to
/// `warnings`. `origin_of` names where a dotted path was set (`file:line`), when known.
/// Returns whether the values already matched every schema, untouched: the schema check
/// that follows then has nothing to find and need not validate them again.
pub fn relax_tree(
    chart: &Chart,
    values: &mut Map<String, Value>,
    warnings: &mut Vec<String>,
    origin_of: &dyn Fn(&str) -> Option<String>,
) -> Result<bool> {
    // The usual case, values that match, costs one (cached) validation and nothing more.
    if super::schema::check_tree(chart, values)?.is_empty() {
        return Ok(true);
    }
    relax_into(chart, values, "", warnings, origin_of)?;
    Ok(false)
}

fn relax_into(
    chart: &Chart,
    values: &mut Map<String, Value>,
    prefix: &str,
    warnings: &mut Vec<String>,
    origin_of: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    if let Some(schema) = &chart.schema {
        let schema_file = chart.origin.join("values.schema.json");
        let validator = jsonschema::validator_for(schema).map_err(|e| {
            anyhow!(
                "{}: the schema itself is invalid: {e}",
                schema_file.display()
            )
        })?;
        let mut instance = Value::Object(std::mem::take(values));
        let readings = readings(&validator, schema, &instance);
        for reading in readings {
            let path = super::schema::pointer_to_path(&instance, &reading.pointer);
            if let Some(slot) = instance.pointer_mut(&reading.pointer) {
                *slot = reading.value;
            }
            let full = format!("{prefix}{path}");
            let origin = origin_of(&full)
                .map(|o| format!(" (set in {o})"))
                .unwrap_or_default();
            warnings.push(format!(
                "`{full}`: read {}{origin}; the schema of chart `{}` asks for that form, so write it that way",
                reading.how,
                chart.name()
            ));
        }
        if let Value::Object(map) = instance {
            *values = map;
        }
    }
    for sub in &chart.subcharts {
        if let Some(Value::Object(section)) = values.get_mut(sub.name()) {
            relax_into(
                sub,
                section,
                &format!("{prefix}{}.", sub.name()),
                warnings,
                origin_of,
            )?;
        }
    }
    Ok(())
}

/// The loose values among the schema violations of `instance`.
fn readings(validator: &jsonschema::Validator, schema: &Value, instance: &Value) -> Vec<Reading> {
    let mut out: Vec<Reading> = Vec::new();
    for error in validator.iter_errors(instance) {
        let pointer = error.instance_path().to_string();
        if out.iter().any(|r| r.pointer == pointer) {
            continue;
        }
        let found = match (error.kind(), error.instance().as_ref()) {
            (ValidationErrorKind::Type { kind }, Value::String(text)) => number_from(kind, text),
            (ValidationErrorKind::Enum { .. }, Value::String(text)) if text.is_empty() => {
                let keyword = error.schema_path().to_string();
                default_beside(schema, &keyword).map(|default| {
                    let how = format!("the empty string as the default {}", show(&default));
                    (default, how)
                })
            }
            _ => None,
        };
        if let Some((value, how)) = found {
            out.push(Reading {
                pointer,
                value,
                how,
            });
        }
    }
    out
}

/// The number a string spells, when the schema wants a number and not a string.
fn number_from(kind: &TypeKind, text: &str) -> Option<(Value, String)> {
    let wants = |ty: JsonType| match kind {
        TypeKind::Single(one) => *one == ty,
        TypeKind::Multiple(set) => set.contains(ty),
    };
    if wants(JsonType::String) {
        return None;
    }
    let trimmed = text.trim();
    let value = if wants(JsonType::Integer) || wants(JsonType::Number) {
        match trimmed.parse::<i64>() {
            Ok(i) => Some(Value::from(i)),
            Err(_) if wants(JsonType::Number) => trimmed
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number),
            Err(_) => None,
        }
    } else {
        None
    }?;
    let how = format!(
        "the string {} as the number {value}",
        show(&Value::from(text))
    );
    Some((value, how))
}

/// The `default` of the schema object holding the keyword at `keyword_pointer`
/// (`/properties/service/properties/type/enum` -> that object's `default`).
fn default_beside(schema: &Value, keyword_pointer: &str) -> Option<Value> {
    let parent = &keyword_pointer[..keyword_pointer.rfind('/')?];
    schema.pointer(parent)?.get("default").cloned()
}

fn show(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Schemas and values built in memory; the charts' own cases are in tests/charts_values.rs.
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn relax(schema: Value, values: Value) -> (Value, Vec<String>) {
        let validator = jsonschema::validator_for(&schema).unwrap();
        let mut instance = values;
        for r in readings(&validator, &schema, &instance.clone()) {
            *instance.pointer_mut(&r.pointer).unwrap() = r.value;
        }
        let hows = readings(&validator, &schema, &instance)
            .into_iter()
            .map(|r| r.how)
            .collect();
        (instance, hows)
    }

    #[test]
    fn a_number_written_as_a_string_is_read_as_the_number() {
        let schema = json!({"properties": {"n": {"type": "integer"}, "f": {"type": "number"}}});
        let (v, left) = relax(schema, json!({"n": "3", "f": " 2.5"}));
        assert_eq!(v, json!({"n": 3, "f": 2.5}));
        assert!(left.is_empty());
    }

    #[test]
    fn words_and_strings_that_are_allowed_are_left_alone() {
        let schema = json!({"properties": {
            "n": {"type": "integer"},
            "tag": {"type": ["string", "number"]},
        }});
        let (v, _) = relax(schema, json!({"n": "three", "tag": "8.3"}));
        assert_eq!(v, json!({"n": "three", "tag": "8.3"}));
    }

    #[test]
    fn an_empty_word_is_read_as_the_default_only_when_the_schema_names_one() {
        let schema = json!({"properties": {
            "type": {"type": "string", "enum": ["ClusterIP", "NodePort"], "default": "ClusterIP"},
            "mode": {"type": "string", "enum": ["a", "b"]},
        }});
        let validator = jsonschema::validator_for(&schema).unwrap();
        let found = readings(&validator, &schema, &json!({"type": "", "mode": ""}));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].pointer, "/type");
        assert_eq!(found[0].value, json!("ClusterIP"));
        assert_eq!(
            found[0].how,
            "the empty string as the default \"ClusterIP\""
        );
    }
}
