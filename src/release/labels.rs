//! Release labels, as Helm keeps them: `--labels a=b,c=d` on install and upgrade, and the
//! `-l/--selector` query of `list`.

use std::collections::BTreeMap;

use anyhow::{Result, bail};

/// Keys Helm's storage writes on every release record itself; a user label with one of
/// these names would be ambiguous there, so Helm refuses them and so does stoke.
pub const RESERVED: [&str; 6] = [
    "name",
    "owner",
    "status",
    "version",
    "createdAt",
    "modifiedAt",
];

/// Parses `--labels` arguments (`key=value`, comma-separated, repeatable). A value of
/// `null` asks an upgrade to remove that label, as in Helm; it is `None` here.
pub fn parse_labels<'a>(
    args: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeMap<String, Option<String>>> {
    let mut out = BTreeMap::new();
    for arg in args {
        for pair in arg.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((k, v)) = pair.split_once('=') else {
                bail!(
                    "--labels `{pair}`: expected KEY=VALUE (e.g. --labels site=plant-1,tier=edge)"
                );
            };
            let (k, v) = (k.trim(), v.trim());
            check_key(k).map_err(|e| anyhow::anyhow!("--labels `{pair}`: {e}"))?;
            if RESERVED.contains(&k) {
                bail!(
                    "--labels `{pair}`: `{k}` is reserved for the release record itself ({}); choose another key",
                    RESERVED.join(", ")
                );
            }
            check_value(v).map_err(|e| anyhow::anyhow!("--labels `{pair}`: {e}"))?;
            out.insert(k.to_string(), (v != "null").then(|| v.to_string()));
        }
    }
    Ok(out)
}

/// The labels an install records: the given ones, `null` values dropped.
pub fn for_install(given: &BTreeMap<String, Option<String>>) -> BTreeMap<String, String> {
    given
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
        .collect()
}

/// The labels an upgrade records: the current ones with the given ones merged over them;
/// a `null` value removes a label (Helm's upgrade semantics).
pub fn merged(
    current: &BTreeMap<String, String>,
    given: &BTreeMap<String, Option<String>>,
) -> BTreeMap<String, String> {
    let mut out = current.clone();
    for (k, v) in given {
        match v {
            Some(v) => out.insert(k.clone(), v.clone()),
            None => out.remove(k),
        };
    }
    out
}

/// Label keys follow Kubernetes' syntax (an optional DNS prefix and `/`, then at most 63
/// characters of letters, digits, `-`, `_`, `.`), since Helm stores them as object labels.
fn check_key(k: &str) -> Result<()> {
    let name = k.rsplit_once('/').map_or(k, |(_, n)| n);
    if name.is_empty() || name.len() > 63 || !is_label_text(name) {
        bail!(
            "label key `{k}` must be 1-63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit"
        );
    }
    Ok(())
}

fn check_value(v: &str) -> Result<()> {
    if v.len() > 63 || (!v.is_empty() && !is_label_text(v)) {
        bail!(
            "label value `{v}` must be at most 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit"
        );
    }
    Ok(())
}

fn is_label_text(s: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric();
    s.starts_with(ok)
        && s.ends_with(ok)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
}

/// A label query, as `kubectl -l` and Helm's `list -l` take it: comma-separated
/// `key=value`, `key==value`, `key!=value`, `key` (has the label) and `!key` (has not);
/// every requirement must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// Parses a selector, naming the part that is not understood.
    pub fn parse(text: &str) -> Result<Selector> {
        let mut requirements = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let req = if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEquals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once("==") {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once('=') {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some(k) = part.strip_prefix('!') {
                Requirement::Absent(k.trim().into())
            } else if part.contains([' ', '(', ')']) {
                bail!(
                    "--selector `{part}`: set-based queries (in, notin) are not supported; use key=value, key!=value, key or !key"
                );
            } else {
                Requirement::Exists(part.into())
            };
            let key = match &req {
                Requirement::Equals(k, _)
                | Requirement::NotEquals(k, _)
                | Requirement::Exists(k)
                | Requirement::Absent(k) => k,
            };
            check_key(key).map_err(|e| anyhow::anyhow!("--selector `{part}`: {e}"))?;
            requirements.push(req);
        }
        Ok(Selector { requirements })
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::Absent(k) => !labels.contains_key(k),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn labels_parse_comma_separated_and_null_removes_on_upgrade() {
        let given = parse_labels(["site=plant-1,tier=edge", "old=null"]).unwrap();
        assert_eq!(
            for_install(&given),
            labels(&[("site", "plant-1"), ("tier", "edge")])
        );
        let current = labels(&[("old", "x"), ("keep", "y")]);
        assert_eq!(
            merged(&current, &given),
            labels(&[("keep", "y"), ("site", "plant-1"), ("tier", "edge")])
        );
    }

    #[test]
    fn reserved_and_malformed_labels_are_refused_with_the_reason() {
        let e = parse_labels(["status=ok"]).unwrap_err().to_string();
        assert!(e.contains("reserved"), "{e}");
        assert!(parse_labels(["novalue"]).is_err());
        assert!(parse_labels(["bad key=x"]).is_err());
    }

    #[test]
    fn selectors_take_kubectl_equality_and_existence_forms() {
        let l = labels(&[("site", "plant-1"), ("tier", "edge")]);
        for (sel, want) in [
            ("site=plant-1", true),
            ("site==plant-1,tier=edge", true),
            ("site!=plant-1", false),
            ("tier", true),
            ("!tier", false),
            ("!owner-team", true),
            ("site=plant-2", false),
        ] {
            assert_eq!(Selector::parse(sel).unwrap().matches(&l), want, "{sel}");
        }
        assert!(Selector::parse("site in (a,b)").is_err());
    }
}
