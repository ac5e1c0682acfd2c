//! Drift: where a live object no longer says what the release applied. Every field the
//! chart sets is compared with the live value; fields only the live object has are the
//! server's (defaults, status, bookkeeping) and are left out, except labels and
//! annotations someone added. Secret values are never shown, only that they differ.

use serde_json::{Map, Value};

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldDrift {
    /// The field, e.g. `.spec.replicas` or `.data["gateway.conf"]`.
    pub path: String,
    /// What the release applied (`None`: the field is only in the cluster).
    pub applied: Option<String>,
    /// What the cluster has (`None`: the field is gone).
    pub live: Option<String>,
}

/// Metadata the server maintains; never drift.
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
    "finalizers",
    "ownerReferences",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

fn key_path(parent: &str, key: &str) -> String {
    if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("{parent}.{key}")
    } else {
        format!("{parent}[{key:?}]")
    }
}

fn show(v: &Value, masked: bool) -> String {
    if masked {
        return "(hidden)".into();
    }
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// Numbers the API server normalises (1.0 -> 1) and strings it stores for quantities are
/// compared loosely so they do not show as drift.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn walk(
    path: &str,
    applied: &Value,
    live: Option<&Value>,
    (secret, masked): (bool, bool),
    out: &mut Vec<FieldDrift>,
) {
    match (applied, live) {
        (Value::Object(a), Some(Value::Object(l))) => {
            for (k, av) in a {
                // A Secret's values are never shown, only that they differ.
                let masked =
                    masked || (secret && path.is_empty() && (k == "data" || k == "stringData"));
                walk(&key_path(path, k), av, l.get(k), (secret, masked), out);
            }
        }
        (Value::Array(a), Some(Value::Array(l))) if a.len() == l.len() => {
            for (i, (av, lv)) in a.iter().zip(l).enumerate() {
                walk(&format!("{path}[{i}]"), av, Some(lv), (secret, masked), out);
            }
        }
        (Value::Null, None) => {}
        // An empty value the server fills in (a Service's `clusterIP: ""`) is a default.
        (Value::String(a), Some(_)) if a.is_empty() => {}
        (a, Some(l)) if same(a, l) => {}
        // An empty map or list the server drops is not a change.
        (Value::Object(a), None) if a.is_empty() => {}
        (Value::Array(a), None) if a.is_empty() => {}
        (a, l) => out.push(FieldDrift {
            path: path.to_string(),
            applied: Some(show(a, masked)),
            live: l.map(|l| show(l, masked)),
        }),
    }
}

/// Secrets are read back with `data` only: `stringData` is folded into `data` (base64)
/// before comparing.
fn normalise_secret(applied: &Value) -> Value {
    let mut a = applied.clone();
    if let Some(obj) = a.as_object_mut()
        && let Some(Value::Object(string_data)) = obj.remove("stringData")
    {
        use base64::Engine;
        let data = obj
            .entry("data")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(data) = data.as_object_mut() {
            for (k, v) in string_data {
                let text = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                data.insert(
                    k,
                    Value::String(base64::engine::general_purpose::STANDARD.encode(text)),
                );
            }
        }
    }
    a
}

/// The fields where `live` differs from what was `applied` (both whole objects).
pub fn drift(kind: &str, applied: &Value, live: &Value) -> Vec<FieldDrift> {
    let applied = if kind == "Secret" {
        normalise_secret(applied)
    } else {
        applied.clone()
    };
    let mut a = applied;
    if let Some(meta) = a.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in SERVER_METADATA {
            meta.remove(*k);
        }
    }
    let mut out = Vec::new();
    walk("", &a, Some(live), (kind == "Secret", false), &mut out);
    // Labels and annotations someone added by hand are drift too.
    for section in ["labels", "annotations"] {
        let applied_keys = a
            .pointer(&format!("/metadata/{section}"))
            .and_then(Value::as_object);
        if let Some(live_map) = live
            .pointer(&format!("/metadata/{section}"))
            .and_then(Value::as_object)
        {
            for (k, v) in live_map {
                if applied_keys.is_none_or(|m| !m.contains_key(k))
                    && k != "kubectl.kubernetes.io/last-applied-configuration"
                {
                    out.push(FieldDrift {
                        path: key_path(&format!(".metadata.{section}"), k),
                        applied: None,
                        live: Some(show(v, false)),
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_set_fields_are_not_drift_but_changed_and_removed_ones_are() {
        let applied = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "gw", "labels": {"app": "gw"}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "gw", "image": "a:1"}]}}}});
        let mut live = applied.clone();
        live["metadata"]["uid"] = json!("123");
        live["metadata"]["managedFields"] = json!([{"manager": "stoke"}]);
        live["status"] = json!({"readyReplicas": 1});
        live["spec"]["template"]["spec"]["dnsPolicy"] = json!("ClusterFirst");
        assert_eq!(drift("StatefulSet", &applied, &live), vec![]);

        live["spec"]["replicas"] = json!(3);
        live["metadata"]["labels"]["edited-by"] = json!("hand");
        live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("b:2");
        let d = drift("StatefulSet", &applied, &live);
        let paths: Vec<&str> = d.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                ".spec.replicas",
                ".spec.template.spec.containers[0].image",
                ".metadata.labels[\"edited-by\"]"
            ]
        );
        assert_eq!(d[0].applied.as_deref(), Some("1"));
        assert_eq!(d[0].live.as_deref(), Some("3"));
    }

    #[test]
    fn secret_values_are_compared_after_base64_and_never_shown() {
        let applied = json!({"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": "hunter2"}});
        let live = json!({"kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "aHVudGVyMg=="}});
        assert_eq!(drift("Secret", &applied, &live), vec![]);
        let changed =
            json!({"kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "b3RoZXI="}});
        let d = drift("Secret", &applied, &changed);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, ".data.password");
        assert_eq!(d[0].applied.as_deref(), Some("(hidden)"));
        assert_eq!(d[0].live.as_deref(), Some("(hidden)"));
    }
}
