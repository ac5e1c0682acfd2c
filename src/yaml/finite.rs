//! Values must be representable in JSON (the release record, the Kubernetes API): YAML's
//! `.nan` and `.inf` are not, and silently turning them into null would change a setting.

use anyhow::{Result, bail};

/// Refuses `.nan` and `.inf` in values: JSON (and so the release record and Kubernetes)
/// cannot hold them, and turning them into null would change the value silently.
pub fn refuse_non_finite(doc: &super::Yaml, origin: &str) -> Result<()> {
    fn walk(v: &super::Yaml, path: &mut Vec<String>) -> Option<(String, f64)> {
        use super::{Number, Yaml as Y};
        match v {
            Y::Number(Number::Float(f)) if !f.is_finite() => Some((path.join("."), *f)),
            Y::Sequence(items) => items.iter().enumerate().find_map(|(i, item)| {
                path.push(format!("[{i}]"));
                let r = walk(item, path);
                path.pop();
                r
            }),
            Y::Mapping(m) => m.iter().find_map(|(k, item)| {
                path.push(match k {
                    Y::String(s) => s.clone(),
                    other => super::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                });
                let r = walk(item, path);
                path.pop();
                r
            }),
            _ => None,
        }
    }
    if let Some((path, f)) = walk(doc, &mut Vec::new()) {
        let path = path.replace(".[", "[");
        let shown = if f.is_nan() {
            ".nan"
        } else if f > 0.0 {
            ".inf"
        } else {
            "-.inf"
        };
        bail!(
            "{origin}: `{path}` is {shown}, a number JSON and Kubernetes cannot represent; quote it (\"{shown}\") to pass the text, or use a finite number"
        );
    }
    Ok(())
}
