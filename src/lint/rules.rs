//! The lint rules, in the order they run. A rule that cannot run because an earlier one
//! failed (the chart does not load, say) is skipped.

use std::collections::HashMap;
use std::path::Path;

use super::{Finding, Severity};
use crate::chart::Chart;
use crate::engine::RenderOptions;
use crate::manifest::Manifest;
use crate::values::ValuesOptions;

fn push(
    out: &mut Vec<Finding>,
    severity: Severity,
    location: impl Into<String>,
    message: impl Into<String>,
) {
    out.push(Finding {
        severity,
        location: location.into(),
        message: message.into(),
    });
}

pub(super) fn run(
    path: &Path,
    values: &ValuesOptions,
    opts: &RenderOptions,
    out: &mut Vec<Finding>,
) {
    let chart = match crate::chart::load::load(path) {
        Ok(c) => c,
        Err(e) => {
            push(
                out,
                Severity::Error,
                path.display().to_string(),
                format!("{e:#}"),
            );
            return;
        }
    };
    metadata(&chart, out);
    yaml11_booleans(&chart, out);
    // A chart must work with its own defaults too, not only with the values given here.
    let given = !values.files.is_empty() || !values.sets.is_empty();
    if given {
        let defaults = crate::values::UserValues::default();
        if let Err(e) = crate::pipeline::render_chart(&chart, &defaults, opts, false) {
            push(
                out,
                Severity::Error,
                "templates/",
                format!("with the chart's default values: {e:#}"),
            );
        }
    }
    let user = match crate::values::read_user_values(values) {
        Ok(u) => u,
        Err(e) => {
            push(out, Severity::Error, "values", format!("{e:#}"));
            return;
        }
    };
    let outcome = match crate::pipeline::render_chart(&chart, &user, opts, false) {
        Ok(o) => o,
        Err(e) => {
            push(out, Severity::Error, "templates/", format!("{e:#}"));
            return;
        }
    };
    for w in &outcome.computed.warnings {
        push(out, Severity::Warning, "values", w.clone());
    }
    for u in &outcome.computed.unknown {
        push(
            out,
            Severity::Warning,
            u.origin.clone(),
            u.to_string()
                .split_once(": ")
                .map(|(_, m)| m.to_string())
                .unwrap_or_default(),
        );
    }
    for w in &outcome.rendered.warnings {
        push(out, Severity::Warning, "templates/", w.clone());
    }
    if chart
        .templates
        .iter()
        .all(|t| crate::engine::is_helper(&t.name))
        && !chart.metadata.is_library()
    {
        push(
            out,
            Severity::Warning,
            "templates/",
            "the chart has no templates that produce output",
        );
    }
    manifests(&outcome.rendered.manifests, out);
}

/// Strings that YAML 1.1 (Helm) reads as booleans but YAML 1.2 (stoke) reads as text.
const YAML11_BOOLEANS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

fn ambiguous_booleans(v: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) if YAML11_BOOLEANS.contains(&s.as_str()) => {
            out.push(path.to_string())
        }
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                ambiguous_booleans(v, &p, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                ambiguous_booleans(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Bare `yes`/`no`/`on`/`off` in values.yaml: read differently by stoke and by Helm.
fn yaml11_booleans(chart: &Chart, out: &mut Vec<Finding>) {
    let mut paths = Vec::new();
    ambiguous_booleans(
        &serde_json::Value::Object(chart.values.clone()),
        "",
        &mut paths,
    );
    let lines = crate::yaml::pos::KeyLines::scan(&chart.values_text);
    let text: Vec<&str> = chart.values_text.lines().collect();
    for p in paths {
        let Some(line) = lines.line_of(&p) else {
            continue;
        };
        // Only a bare word is read differently; a quoted one is a string to both.
        let written = text.get(line - 1).copied().unwrap_or("");
        let value = written.rsplit_once(':').map(|(_, v)| v).unwrap_or(written);
        let value = value.trim().trim_start_matches("- ").trim();
        if YAML11_BOOLEANS.contains(&value) {
            push(
                out,
                Severity::Warning,
                format!("values.yaml:{line}"),
                format!(
                    "`{p}: {value}` is a string to stoke but a boolean to Helm (YAML 1.1); quote it or write true/false"
                ),
            );
        }
    }
}

fn metadata(chart: &Chart, out: &mut Vec<Finding>) {
    let m = &chart.metadata;
    if m.api_version == "v1" {
        push(
            out,
            Severity::Warning,
            "Chart.yaml",
            "apiVersion v1 is deprecated: use `apiVersion: v2`",
        );
    }
    if m.icon.is_none() {
        push(out, Severity::Info, "Chart.yaml", "icon is recommended");
    }
    if m.description.as_deref().unwrap_or("").is_empty() {
        push(
            out,
            Severity::Info,
            "Chart.yaml",
            "description is recommended",
        );
    }
    if chart.values_text.trim().is_empty() && !m.is_library() {
        push(
            out,
            Severity::Info,
            "values.yaml",
            "file is missing or empty",
        );
    }
    if let Some(dir) = chart.origin.file_name().and_then(|n| n.to_str())
        && chart.origin.is_dir()
        && dir != m.name
    {
        push(
            out,
            Severity::Warning,
            "Chart.yaml",
            format!("chart name `{}` differs from its directory `{dir}`", m.name),
        );
    }
}

/// RFC 1123 subdomain: what most resource names must be.
fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// RFC 1123 label: Services and Namespaces need this stricter form.
fn is_dns_label(name: &str) -> bool {
    name.len() <= 63 && !name.contains('.') && is_dns_subdomain(name)
}

fn manifests(manifests: &[Manifest], out: &mut Vec<Finding>) {
    let mut seen: HashMap<(String, String, String), &str> = HashMap::new();
    for m in manifests {
        let needs_label = matches!(m.kind.as_str(), "Service" | "Namespace");
        let ok = if needs_label {
            is_dns_label(&m.name)
        } else {
            is_dns_subdomain(&m.name)
        };
        if !ok {
            let rule = if needs_label {
                "an RFC 1123 label (lower-case letters, digits and `-`, at most 63 characters)"
            } else {
                "an RFC 1123 subdomain (lower-case letters, digits, `-` and `.`, at most 253 characters)"
            };
            push(
                out,
                Severity::Error,
                m.source.clone(),
                format!("{} name `{}` is not {rule}", m.kind, m.name),
            );
        }
        let key = (
            m.kind.clone(),
            m.namespace.clone().unwrap_or_default(),
            m.name.clone(),
        );
        if let Some(first) = seen.insert(key, &m.source) {
            push(
                out,
                Severity::Error,
                m.source.clone(),
                format!(
                    "{} `{}` is rendered twice (also by {first})",
                    m.kind, m.name
                ),
            );
        }
        required_fields(m, out);
    }
}

fn required_fields(m: &Manifest, out: &mut Vec<Finding>) {
    let Ok(doc) = crate::yaml::try_from_str::<crate::yaml::Yaml>(&m.body) else {
        return;
    };
    let doc = crate::yaml::yaml_to_json(doc);
    let pod_spec = match m.kind.as_str() {
        "Pod" => doc.pointer("/spec"),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            doc.pointer("/spec/template/spec")
        }
        "CronJob" => doc.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    };
    if let Some(spec) = pod_spec {
        let containers = spec.get("containers").and_then(|c| c.as_array());
        match containers {
            None => push(
                out,
                Severity::Error,
                m.source.clone(),
                format!("{} `{}` has no containers", m.kind, m.name),
            ),
            Some(list) => {
                for (i, c) in list
                    .iter()
                    .chain(
                        spec.get("initContainers")
                            .and_then(|c| c.as_array())
                            .into_iter()
                            .flatten(),
                    )
                    .enumerate()
                {
                    for field in ["name", "image"] {
                        if c.get(field)
                            .and_then(|v| v.as_str())
                            .is_none_or(str::is_empty)
                        {
                            push(
                                out,
                                Severity::Error,
                                m.source.clone(),
                                format!("{} `{}`: container {i} has no {field}", m.kind, m.name),
                            );
                        }
                    }
                }
            }
        }
    }
    if matches!(
        m.kind.as_str(),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
    ) && doc.pointer("/spec/selector").is_none()
    {
        push(
            out,
            Severity::Error,
            m.source.clone(),
            format!("{} `{}` has no spec.selector", m.kind, m.name),
        );
    }
    if m.kind == "Service"
        && doc.pointer("/spec/type").and_then(|t| t.as_str()) != Some("ExternalName")
        && doc
            .pointer("/spec/ports")
            .and_then(|p| p.as_array())
            .is_none_or(|p| p.is_empty())
        && doc.pointer("/spec/clusterIP").and_then(|p| p.as_str()) != Some("None")
    {
        push(
            out,
            Severity::Error,
            m.source.clone(),
            format!("Service `{}` has no ports", m.name),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        assert!(is_dns_label("ignition-gw-0"));
        assert!(!is_dns_label("Ignition"));
        assert!(!is_dns_label("a.b"));
        assert!(is_dns_subdomain("a.b-c"));
        assert!(!is_dns_subdomain("a_b"));
        assert!(!is_dns_label(&"a".repeat(64)));
    }
}
