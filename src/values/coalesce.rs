//! Helm's coalescing of user values over a chart tree's defaults.
//!
//! Maps merge deeply with the user's side winning; lists and scalars replace; a `null` in
//! the user's values deletes the default; null defaults are dropped; each subchart's
//! defaults land in its section of the parent's values; `global` flows from parent to every
//! subchart, the parent winning. The rules, down to their corner cases, are Helm's, and
//! tests/helm_differential.rs checks them against Helm itself.

use anyhow::{Result, bail};
use serde_json::{Map, Value};

use crate::chart::Chart;

/// Coalesces `user` values over the defaults of `chart` and its subcharts.
pub(crate) fn coalesce(
    chart: &Chart,
    user: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Result<Map<String, Value>> {
    let mut dest = user.clone();
    coalesce_chart(chart, &mut dest, "", false, warnings)?;
    Ok(dest)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn coalesce_chart(
    chart: &Chart,
    dest: &mut Map<String, Value>,
    prefix: &str,
    merge: bool,
    warnings: &mut Vec<String>,
) -> Result<()> {
    coalesce_values(chart, dest, prefix, merge, warnings);
    coalesce_deps(chart, dest, prefix, merge, warnings)
}

/// Removes null entries at every depth.
fn clean_nulls(m: &mut Map<String, Value>) {
    m.retain(|_, v| !v.is_null());
    for v in m.values_mut() {
        if let Value::Object(sub) = v {
            clean_nulls(sub);
        }
    }
}

/// Brings the chart's own defaults into `v`.
fn coalesce_values(
    chart: &Chart,
    v: &mut Map<String, Value>,
    prefix: &str,
    merge: bool,
    warnings: &mut Vec<String>,
) {
    let at = join(prefix, chart.name());
    for (key, default) in &chart.values {
        match v.get_mut(key) {
            Some(Value::Null) if !merge => {
                v.remove(key);
            }
            Some(Value::Object(dest)) => match default {
                Value::Object(src) => {
                    // A subchart's section from the parent's defaults keeps its nulls: they
                    // are for the subchart's own coalescing to act on.
                    let merge = merge || chart.subcharts.iter().any(|s| s.name() == key);
                    let mut src = src.clone();
                    if !merge {
                        clean_nulls(&mut src);
                    }
                    coalesce_tables(dest, src, &join(&at, key), merge, warnings);
                }
                Value::Null => {}
                _ => warnings.push(format!(
                    "skipped value for {at}.{key}: the default is not a mapping"
                )),
            },
            Some(_) => {}
            None => {
                let mut default = default.clone();
                if !merge {
                    match &mut default {
                        Value::Null => continue,
                        Value::Object(sub) => clean_nulls(sub),
                        _ => {}
                    }
                }
                v.insert(key.clone(), default);
            }
        }
    }
}

/// Fills `dst` from `src`; `dst` wins. Unless merging, a null in `dst` deletes the key
/// `src` has a value for.
pub(crate) fn coalesce_tables(
    dst: &mut Map<String, Value>,
    src: Map<String, Value>,
    prefix: &str,
    merge: bool,
    warnings: &mut Vec<String>,
) {
    // A key's full path is only spelled out to descend or to warn: this runs for every key
    // of every chart's defaults on every render.
    for (key, val) in src {
        match dst.get_mut(&key) {
            // A null in `dst` stands whatever `src` has there; unless merging, it takes the
            // key away when `src` has a value for it.
            Some(Value::Null) => {
                if !merge && !val.is_null() {
                    dst.remove(&key);
                }
            }
            None => {
                dst.insert(key, val);
            }
            Some(dv) => match (dv, val) {
                (Value::Object(d), Value::Object(s)) => {
                    coalesce_tables(d, s, &join(prefix, &key), merge, warnings)
                }
                (_, Value::Object(_)) => warnings.push(format!(
                    "cannot overwrite table with non table for {}",
                    join(prefix, &key)
                )),
                (Value::Object(_), v) if !v.is_null() => warnings.push(format!(
                    "destination for {} is a table; ignoring the non-table value",
                    join(prefix, &key)
                )),
                _ => {}
            },
        }
    }
}

fn coalesce_deps(
    chart: &Chart,
    dest: &mut Map<String, Value>,
    prefix: &str,
    merge: bool,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let sub_prefix = join(prefix, chart.name());
    for sub in &chart.subcharts {
        let name = sub.name();
        let mut section = match dest.remove(name) {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(other) => bail!(
                "values for subchart `{name}` must be a mapping, found {} (at `{}`)",
                crate::yaml::kind_name(&other),
                join(&sub_prefix, name)
            ),
        };
        coalesce_globals(&mut section, dest, &sub_prefix, warnings);
        coalesce_chart(sub, &mut section, &sub_prefix, merge, warnings)?;
        dest.insert(name.to_string(), Value::Object(section));
    }
    Ok(())
}

/// Copies the parent's `global` into a subchart's section: the parent's entries win,
/// the subchart's fill the gaps, and a parent scalar never replaces a subchart map.
fn coalesce_globals(
    section: &mut Map<String, Value>,
    parent: &Map<String, Value>,
    prefix: &str,
    warnings: &mut Vec<String>,
) {
    let mut dg = match section.get("global") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            warnings
                .push("skipping globals because the subchart's `global` is not a mapping".into());
            return;
        }
    };
    let sg = match parent.get("global") {
        None => return finish_globals(section, dg),
        Some(Value::Object(m)) => m,
        Some(_) => {
            warnings.push("skipping globals because `global` is not a mapping".into());
            return;
        }
    };
    for (key, val) in sg {
        match val {
            Value::Object(pm) => match dg.get(key) {
                None => {
                    dg.insert(key.clone(), val.clone());
                }
                Some(Value::Object(sm)) => {
                    let mut merged = pm.clone();
                    coalesce_tables(&mut merged, sm.clone(), &join(prefix, key), true, warnings);
                    dg.insert(key.clone(), Value::Object(merged));
                }
                Some(_) => warnings.push(format!(
                    "cannot merge map onto non-map for global `{key}`; skipped"
                )),
            },
            _ if dg.get(key).is_some_and(Value::is_object) => warnings.push(format!(
                "global `{key}` is a table in the subchart; skipped"
            )),
            _ => {
                dg.insert(key.clone(), val.clone());
            }
        }
    }
    finish_globals(section, dg);
}

fn finish_globals(section: &mut Map<String, Value>, dg: Map<String, Value>) {
    section.insert("global".into(), Value::Object(dg));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table rule written as Helm's Go code reads: every key `dst` holds as null is
    /// first set to null in `src` (the null stands), then `src` is walked.
    fn by_the_rule(
        dst: &mut Map<String, Value>,
        mut src: Map<String, Value>,
        prefix: &str,
        merge: bool,
        warnings: &mut Vec<String>,
    ) {
        let src_non_null: BTreeSet<String> = src
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k.clone())
            .collect();
        for (k, dv) in dst.iter() {
            if dv.is_null() {
                src.insert(k.clone(), Value::Null);
            }
        }
        for (key, val) in src {
            let full = join(prefix, &key);
            match dst.get_mut(&key) {
                Some(Value::Null) if !merge && src_non_null.contains(&key) => {
                    dst.remove(&key);
                }
                None => {
                    dst.insert(key, val);
                }
                Some(dv) => match (dv, val) {
                    (Value::Object(d), Value::Object(s)) => {
                        by_the_rule(d, s, &full, merge, warnings)
                    }
                    (_, Value::Object(_)) => {
                        warnings.push(format!("cannot overwrite table with non table for {full}"))
                    }
                    (Value::Object(_), v) if !v.is_null() => warnings.push(format!(
                        "destination for {full} is a table; ignoring the non-table value"
                    )),
                    _ => {}
                },
            }
        }
    }

    use std::collections::BTreeSet;

    use crate::testing::Lcg;

    fn table(rng: &mut Lcg, depth: usize) -> Map<String, Value> {
        let mut m = Map::new();
        for _ in 0..rng.next(5) {
            let key = ["a", "b", "c", "d"][rng.next(4)].to_string();
            let v = match rng.next(if depth == 0 { 3 } else { 4 }) {
                0 => Value::Null,
                1 => Value::from(rng.next(3)),
                2 => Value::from(vec![Value::Null]),
                _ => Value::Object(table(rng, depth - 1)),
            };
            m.insert(key, v);
        }
        m
    }

    #[test]
    fn tables_coalesce_as_the_rule_says_on_random_tables() {
        let mut rng = Lcg(11);
        for _ in 0..20_000 {
            let (dst, src) = (table(&mut rng, 3), table(&mut rng, 3));
            let merge = rng.next(2) == 1;
            let (mut a, mut b) = (dst.clone(), dst.clone());
            let (mut wa, mut wb) = (Vec::new(), Vec::new());
            coalesce_tables(&mut a, src.clone(), "p", merge, &mut wa);
            by_the_rule(&mut b, src.clone(), "p", merge, &mut wb);
            assert_eq!((a, wa), (b, wb), "dst {dst:?} src {src:?} merge {merge}");
        }
    }
}
