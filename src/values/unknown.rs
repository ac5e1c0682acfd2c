//! Finding keys in user values that the chart does not define: a typo Helm silently ignores.

use serde_json::{Map, Value};

use crate::suggest::did_you_mean;

/// A user-supplied key that no default and no schema declares.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownKey {
    /// Dotted path of the key.
    pub path: String,
    /// Where it was given: `file:line` or the `--set` argument.
    pub origin: String,
    /// The closest known key at the same level, if any.
    pub suggestion: Option<String>,
}

impl std::fmt::Display for UnknownKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: key `{}` is not defined by the chart",
            self.origin, self.path
        )?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean `{s}`?)")?;
        }
        Ok(())
    }
}

/// Walks `user` against the chart tree's `defaults` (coalesced with no user values, or a
/// chart's own values: a null default counts as none, as coalescing drops it) and the
/// top-level `schema`. A default of `{}` marks an open map; so does a schema that allows
/// additional properties explicitly or declares no properties.
pub fn find(
    user: &Map<String, Value>,
    defaults: &Map<String, Value>,
    schema: Option<&Value>,
    mut origin_of: impl FnMut(&str) -> String,
) -> Vec<UnknownKey> {
    let mut out = Vec::new();
    walk(user, Some(defaults), schema, "", &mut out, &mut origin_of);
    out
}

/// [`find`] over a chart tree: each subchart's section is checked against that subchart's
/// own schema (and its `global` is open), the rest against the parent's.
pub(crate) fn find_in_tree(
    chart: &crate::chart::Chart,
    user: &Map<String, Value>,
    defaults: &Map<String, Value>,
    origin_of: &mut dyn FnMut(&str) -> String,
) -> Vec<UnknownKey> {
    let mut out = Vec::new();
    tree_walk(chart, user, defaults, "", &mut out, origin_of);
    out
}

fn tree_walk(
    chart: &crate::chart::Chart,
    user: &Map<String, Value>,
    defaults: &Map<String, Value>,
    prefix: &str,
    out: &mut Vec<UnknownKey>,
    origin_of: &mut dyn FnMut(&str) -> String,
) {
    // Only a tree with subcharts needs the user's map cut into sections.
    let mut own = std::borrow::Cow::Borrowed(user);
    for sub in &chart.subcharts {
        let Some(Value::Object(section)) = own.to_mut().remove(sub.name()) else {
            continue;
        };
        let sub_defaults = match defaults.get(sub.name()) {
            Some(Value::Object(d)) => d.clone(),
            _ => Map::new(),
        };
        let path = if prefix.is_empty() {
            sub.name().to_string()
        } else {
            format!("{prefix}.{}", sub.name())
        };
        let mut section = section;
        section.remove("global");
        tree_walk(sub, &section, &sub_defaults, &path, out, origin_of);
    }
    let mut found = Vec::new();
    walk(
        &own,
        Some(defaults),
        chart.schema.as_ref(),
        "",
        &mut found,
        &mut |p: &str| {
            origin_of(&if prefix.is_empty() {
                p.to_string()
            } else {
                format!("{prefix}.{p}")
            })
        },
    );
    for mut f in found {
        if !prefix.is_empty() {
            f.path = format!("{prefix}.{}", f.path);
            f.suggestion = f.suggestion.map(|s| format!("{prefix}.{s}"));
        }
        out.push(f);
    }
}

/// The default at `key`; a null default is no default (coalescing drops it).
fn default_at<'a>(defaults: Option<&'a Map<String, Value>>, key: &str) -> Option<&'a Value> {
    defaults?.get(key).filter(|v| !v.is_null())
}

/// Whether `defaults` has no default at all (an open map), nulls not counting.
fn no_defaults(defaults: Option<&Map<String, Value>>) -> bool {
    defaults.is_none_or(|d| d.values().all(Value::is_null))
}

fn schema_child<'a>(schema: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    let s = schema?;
    if let Some(p) = s.get("properties").and_then(|p| p.get(key)) {
        return Some(p);
    }
    if let Some(pp) = s.get("patternProperties").and_then(Value::as_object) {
        for (pat, sub) in pp {
            if regex::Regex::new(pat).is_ok_and(|re| re.is_match(key)) {
                return Some(sub);
            }
        }
    }
    None
}

fn schema_is_open(schema: Option<&Value>) -> bool {
    match schema {
        None => false,
        Some(s) => match s.get("additionalProperties") {
            Some(Value::Bool(b)) => *b,
            Some(Value::Object(_)) => true,
            _ => {
                s.get("properties").is_none()
                    && s.get("patternProperties").is_none()
                    && s.get("$ref").is_none()
            }
        },
    }
}

fn walk(
    user: &Map<String, Value>,
    defaults: Option<&Map<String, Value>>,
    schema: Option<&Value>,
    prefix: &str,
    out: &mut Vec<UnknownKey>,
    origin_of: &mut dyn FnMut(&str) -> String,
) {
    let defaults_open = no_defaults(defaults);
    if defaults_open && (schema.is_none() || schema_is_open(schema)) {
        return;
    }
    for (k, v) in user {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if prefix.is_empty() && k == "global" {
            continue;
        }
        let d = default_at(defaults, k);
        let s = schema_child(schema, k);
        if d.is_none() && s.is_none() {
            if schema_is_open(schema) && !defaults_open {
                // The schema admits it even though the defaults do not list it.
                continue;
            }
            if defaults_open && schema_is_open(schema) {
                continue;
            }
            let mut known: Vec<&str> = defaults
                .map(|d| {
                    d.iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, _)| k.as_str())
                        .collect()
                })
                .unwrap_or_default();
            if let Some(props) = schema
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
            {
                known.extend(props.keys().map(String::as_str));
            }
            let suggestion = did_you_mean(k, known.iter().copied()).map(|s| {
                if prefix.is_empty() {
                    s.to_string()
                } else {
                    format!("{prefix}.{s}")
                }
            });
            out.push(UnknownKey {
                origin: origin_of(&path),
                path,
                suggestion,
            });
            continue;
        }
        if let Value::Object(child) = v {
            match d {
                Some(Value::Object(dm)) => walk(child, Some(dm), s, &path, out, origin_of),
                None if s.is_some() => walk(child, None, s, &path, out, origin_of),
                // A scalar default or null: the user's map replaces it; nothing to compare.
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_misspelt_key_is_found_with_a_suggestion() {
        let d = obj(json!({"replicaCount": 1, "image": {"tag": "x"}}));
        let u = obj(json!({"replicaCont": 2, "image": {"tga": "y"}}));
        let found = find(&u, &d, None, |p| format!("f.yaml ({p})"));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].path, "image.tga");
        assert_eq!(found[0].suggestion.as_deref(), Some("image.tag"));
        assert_eq!(found[1].suggestion.as_deref(), Some("replicaCount"));
    }

    #[test]
    fn empty_maps_in_defaults_are_open() {
        let d = obj(json!({"podAnnotations": {}}));
        let u = obj(json!({"podAnnotations": {"a": "b"}}));
        assert!(find(&u, &d, None, |p| p.to_string()).is_empty());
    }

    #[test]
    fn keys_the_schema_declares_are_known() {
        let d = obj(json!({"a": 1}));
        let s = json!({"type": "object", "properties": {"a": {}, "b": {"type": "string"}}, "additionalProperties": false});
        let u = obj(json!({"b": "x", "c": 1}));
        let found = find(&u, &d, Some(&s), |p| p.to_string());
        assert_eq!(
            found.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            ["c"]
        );
    }

    #[test]
    fn a_null_default_counts_as_no_default_as_coalescing_drops_it() {
        fn without_nulls(m: &Map<String, Value>) -> Map<String, Value> {
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| match v {
                    Value::Object(sub) => (k.clone(), Value::Object(without_nulls(sub))),
                    _ => (k.clone(), v.clone()),
                })
                .collect()
        }
        let raw = obj(json!({
            "gone": null,
            "image": {"tag": null, "repository": "x"},
            "annotations": {"only": null},
            "list": [null, 1],
        }));
        let users = [
            json!({"gone": 1}),
            json!({"image": {"tag": "8.3", "repository": "y", "tga": 1}}),
            json!({"annotations": {"anything": "goes"}}),
            json!({"list": [1], "lst": 2}),
            json!({"image": {"tag": {"deep": 1}}}),
        ];
        for user in users {
            let user = obj(user);
            assert_eq!(
                find(&user, &raw, None, |p| p.to_string()),
                find(&user, &without_nulls(&raw), None, |p| p.to_string()),
                "{user:?}"
            );
        }
    }

    #[test]
    fn global_is_always_allowed() {
        let d = obj(json!({"a": 1}));
        let u = obj(json!({"global": {"anything": true}}));
        assert!(find(&u, &d, None, |p| p.to_string()).is_empty());
    }
}
