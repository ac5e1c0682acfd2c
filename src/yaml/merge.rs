//! YAML merge keys (`<<: *defaults`), resolved after parsing. The parser reads `<<` as an
//! ordinary key; a reader that wants merge keys asks for them with the precedence of the
//! tool whose files it reads, since the two Go YAML libraries differ:
//!
//! - [`Precedence::OwnKeysWin`] is yaml.v3's (and the YAML 1.1 merge spec's), which
//!   helm-unittest reads suites with: a mapping's own keys win over merged ones wherever
//!   they stand, and in `<<: [*a, *b]` the earlier mapping wins.
//! - [`Precedence::InOrder`] is go-yaml v2's, which Helm reads values files with (through
//!   sigs.k8s.io/yaml): entries apply in the order written, so a key written before `<<`
//!   is overwritten by the merge, one written after it overwrites the merge; in a list the
//!   earlier mapping still wins.
//!
//! Only plain `<<` keys merge; a quoted `"<<"` stays an ordinary key, as in both libraries.

use anyhow::{Result, bail};

use super::value::{Mapping, Yaml};

/// Which keys win when a merge key brings in one a mapping already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precedence {
    /// yaml.v3 / helm-unittest: the mapping's own keys always win.
    OwnKeysWin,
    /// go-yaml v2 / Helm's values files: later entries win, in the order written.
    InOrder,
}

/// Whether `text` has a plain `<<` scalar anywhere, from one pass over the parser's events
/// (no tree, no recursion). Documents without one skip resolution, so a quoted `"<<"`
/// alone keeps its meaning as an ordinary key.
pub(crate) fn has_merge_keys(text: &str) -> bool {
    use saphyr_parser::{Event, Parser, ScalarStyle};
    if !text.contains("<<") {
        return false;
    }
    Parser::new_from_str(text)
        .any(|item| matches!(item, Ok((Event::Scalar(v, ScalarStyle::Plain, ..), _)) if v == "<<"))
}

/// Resolves every merge key in `doc`; `origin` names the file in errors. A merge key must
/// hold a mapping or a list of mappings, as in both Go libraries.
pub fn resolve(doc: Yaml, how: Precedence, origin: &str) -> Result<Yaml> {
    match doc {
        Yaml::Mapping(m) => Ok(Yaml::Mapping(mapping(m, how, origin)?)),
        Yaml::Sequence(items) => Ok(Yaml::Sequence(
            items
                .into_iter()
                .map(|v| resolve(v, how, origin))
                .collect::<Result<_>>()?,
        )),
        other => Ok(other),
    }
}

fn is_merge_key(k: &Yaml) -> bool {
    k.as_str() == Some("<<")
}

fn mapping(m: Mapping, how: Precedence, origin: &str) -> Result<Mapping> {
    let mut out = Mapping::new();
    // Under OwnKeysWin, keys a merge may no longer set: the mapping's own keys, plus keys
    // earlier merges brought (the earlier merge wins).
    let mut taken: Vec<Yaml> = match how {
        Precedence::OwnKeysWin => m
            .iter()
            .filter(|(k, _)| !is_merge_key(k))
            .map(|(k, _)| k.clone())
            .collect(),
        Precedence::InOrder => Vec::new(),
    };
    for (k, v) in m {
        if !is_merge_key(&k) {
            out.insert(k, resolve(v, how, origin)?);
            continue;
        }
        let sources = match resolve(v, how, origin)? {
            Yaml::Mapping(one) => vec![one],
            Yaml::Sequence(items) => items
                .into_iter()
                .map(|item| match item {
                    Yaml::Mapping(one) => Ok(one),
                    _ => merge_error(origin),
                })
                .collect::<Result<_>>()?,
            _ => return merge_error(origin),
        };
        match how {
            Precedence::OwnKeysWin => {
                for source in sources {
                    for (mk, mv) in source {
                        if !taken.contains(&mk) {
                            taken.push(mk.clone());
                            out.insert(mk, mv);
                        }
                    }
                }
            }
            Precedence::InOrder => {
                // Within one `<<` the earlier mapping of a list wins; against the
                // surrounding entries only the order written counts.
                let mut brought: Vec<Yaml> = Vec::new();
                for source in sources {
                    for (mk, mv) in source {
                        if !brought.contains(&mk) {
                            brought.push(mk.clone());
                            out.insert(mk, mv);
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

fn merge_error<T>(origin: &str) -> Result<T> {
    bail!(
        "{origin}: a merge key `<<` must hold a mapping or a list of mappings (`<<: *defaults` or `<<: [*a, *b]`)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, how: Precedence) -> serde_json::Value {
        let doc: Yaml = crate::yaml::try_from_str(text).unwrap();
        crate::yaml::yaml_to_json(resolve(doc, how, "t.yaml").unwrap())
    }

    const DOC: &str = "base: &base {a: 1, b: 2}\nother: &other {b: 20, c: 30}\nfirst:\n  a: 100\n  <<: *base\nlast:\n  <<: *base\n  a: 100\nlist:\n  <<: [*base, *other]\n";

    #[test]
    fn own_keys_win_wherever_they_stand_as_in_yaml_v3() {
        let v = read(DOC, Precedence::OwnKeysWin);
        assert_eq!(v["first"], serde_json::json!({"a": 100, "b": 2}));
        assert_eq!(v["last"], serde_json::json!({"a": 100, "b": 2}));
        assert_eq!(v["list"], serde_json::json!({"a": 1, "b": 2, "c": 30}));
    }

    #[test]
    fn entries_apply_in_order_as_in_go_yaml_v2() {
        // Checked against real Helm (helm-python-sdk) rendering `toJson .Values` of this values.yaml.
        let v = read(DOC, Precedence::InOrder);
        assert_eq!(v["first"], serde_json::json!({"a": 1, "b": 2}));
        assert_eq!(v["last"], serde_json::json!({"a": 100, "b": 2}));
        assert_eq!(v["list"], serde_json::json!({"a": 1, "b": 2, "c": 30}));
    }

    #[test]
    fn only_plain_merge_keys_count_and_bad_ones_are_errors() {
        assert!(has_merge_keys("a:\n  <<: {b: 1}\n"));
        assert!(!has_merge_keys("a:\n  \"<<\": {b: 1}\n"));
        assert!(!has_merge_keys("a: b\n"));
        let doc: Yaml = crate::yaml::try_from_str("a:\n  <<: 3\n").unwrap();
        let err = resolve(doc, Precedence::InOrder, "v.yaml").unwrap_err();
        assert!(err.to_string().starts_with("v.yaml: a merge key"), "{err}");
    }
}
