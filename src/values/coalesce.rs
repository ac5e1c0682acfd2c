//! Helm's coalescing of user values over a chart tree's defaults.
//!
//! Maps merge deeply with the user's side winning; lists and scalars replace; a `null` in
//! the user's values deletes the default; each subchart's defaults land in its section of
//! the parent's values; `global` flows from parent to every subchart, the parent winning.

use serde_json::{Map, Value};

use crate::chart::Chart;

/// Coalesces `user` values over the defaults of `chart` and its subcharts.
pub fn coalesce(
    chart: &Chart,
    user: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Map<String, Value> {
    let mut dest = user.clone();
    coalesce_chart(chart, &mut dest, &chart.path, warnings);
    dest
}

fn coalesce_chart(
    chart: &Chart,
    dest: &mut Map<String, Value>,
    at: &str,
    warnings: &mut Vec<String>,
) {
    coalesce_tables(dest, &chart.values, at, warnings);
    for sub in &chart.subcharts {
        let name = sub.name().to_string();
        let parent_global = dest.get("global").cloned();
        let section = dest
            .entry(name.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if section.is_null() {
            *section = Value::Object(Map::new());
        }
        let Value::Object(section) = section else {
            warnings.push(format!(
                "values `{at}.{name}` should be a mapping for subchart `{name}`, found {}; its defaults are not applied",
                crate::values::kind_name(section)
            ));
            continue;
        };
        coalesce_globals(
            section,
            parent_global.as_ref(),
            &format!("{at}.{name}"),
            warnings,
        );
        coalesce_chart(sub, section, &format!("{at}.{name}"), warnings);
    }
}

/// Copies the parent's `global` into a subchart's section; the parent's entries win, the
/// subchart's own fill the gaps.
fn coalesce_globals(
    section: &mut Map<String, Value>,
    parent_global: Option<&Value>,
    at: &str,
    warnings: &mut Vec<String>,
) {
    let Some(Value::Object(pg)) = parent_global else {
        return;
    };
    let mut sg = match section.remove("global") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, pv) in pg {
        match (pv, sg.get(k)) {
            (Value::Object(pm), Some(Value::Object(sm))) => {
                let mut merged = pm.clone();
                coalesce_tables(&mut merged, sm, &format!("{at}.global.{k}"), warnings);
                sg.insert(k.clone(), Value::Object(merged));
            }
            _ => {
                sg.insert(k.clone(), pv.clone());
            }
        }
    }
    section.insert("global".into(), Value::Object(sg));
}

/// Fills `dst` from `src` where `dst` has nothing; `dst` wins; a null in `dst` deletes.
pub fn coalesce_tables(
    dst: &mut Map<String, Value>,
    src: &Map<String, Value>,
    at: &str,
    warnings: &mut Vec<String>,
) {
    for (k, sv) in src {
        match dst.get_mut(k) {
            None => {
                dst.insert(k.clone(), sv.clone());
            }
            Some(Value::Null) => {
                dst.remove(k);
            }
            Some(Value::Object(dm)) => match sv {
                Value::Object(sm) => coalesce_tables(dm, sm, &format!("{at}.{k}"), warnings),
                Value::Null => {}
                _ => warnings.push(format!(
                    "values `{at}.{k}`: the chart's default is {} but a mapping was given; the given value is used",
                    crate::values::kind_name(sv)
                )),
            },
            Some(dv) => {
                if sv.is_object() {
                    warnings.push(format!(
                        "values `{at}.{k}`: the chart's default is a mapping but {} was given; the given value is used",
                        crate::values::kind_name(dv)
                    ));
                }
            }
        }
    }
}

/// Merges values files the way Helm merges several `-f` files: maps deeply, later wins.
pub fn merge_user(dst: &mut Map<String, Value>, src: Map<String, Value>) {
    for (k, sv) in src {
        match (dst.get_mut(&k), sv) {
            (Some(Value::Object(dm)), Value::Object(sm)) => merge_user(dm, sm),
            (_, sv) => {
                dst.insert(k, sv);
            }
        }
    }
}
