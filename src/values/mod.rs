//! Values: parsing values files, the `--set` family, Helm's coalescing of user values over
//! chart defaults, schema checks, and warnings for keys the chart does not define.

pub mod coalesce;
pub mod input;
pub mod lenient;
pub mod schema;
pub mod strvals;
pub mod unknown;
mod verdicts;

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::{Map, Value};

pub use strvals::SetKind;

use crate::chart::Chart;
use crate::yaml::pos::KeyLines;

/// The values options of a command, in command-line order.
#[derive(Debug, Clone, Default)]
pub struct ValuesOptions {
    /// `-f/--values` files, in order; later files win. `-` reads standard input.
    pub files: Vec<PathBuf>,
    /// `--set`-family arguments, in the order given; applied after the files.
    pub sets: Vec<(SetKind, String)>,
    /// `--skip-schema-validation`: do not check the values against values.schema.json.
    pub skip_schema_validation: bool,
}

/// One place user values came from, kept to point messages at lines.
#[derive(Debug, Clone)]
pub struct ValuesSource {
    /// A file path, or the `--set` argument as typed.
    pub origin: String,
    /// The values it contributed.
    pub values: Map<String, Value>,
    /// Where each key is written, for files.
    pub lines: KeyLines,
}

/// User-supplied values: the merged map and where each part came from.
#[derive(Debug, Clone, Default)]
pub struct UserValues {
    /// Files merged in order, then the `--set` family applied.
    pub merged: Map<String, Value>,
    /// Each file and `--set` argument on its own (shared: a fleet's releases list the same
    /// files).
    pub sources: Vec<std::sync::Arc<ValuesSource>>,
    /// The user asked not to check the values against the charts' schemas.
    pub skip_schema_validation: bool,
}

impl UserValues {
    /// Where the value at `path` was given last: `file:line` or the `--set` argument.
    pub(crate) fn origin_of(&self, path: &str) -> Option<String> {
        for src in self.sources.iter().rev() {
            if lookup(&src.values, &strip_indices(path)).is_some() {
                return Some(src.lines.locate(&src.origin, path));
            }
        }
        None
    }
}

fn strip_indices(path: &str) -> String {
    match path.find('[') {
        Some(i) => path[..i].to_string(),
        None => path.to_string(),
    }
}

/// Reads the values files and applies the `--set` family, in Helm's order.
pub fn read_user_values(opts: &ValuesOptions) -> Result<UserValues> {
    read_user_values_with(opts, &|path| {
        read_source(path, crate::chart::parsed::values_yaml).map(std::sync::Arc::new)
    })
}

/// Reads and parses one values file (`-` is standard input). Unlike [`read_user_values`],
/// which a one-chart command runs with the same few files again and again, this does not
/// keep the parse in the artifact cache: a fleet reads many small per-site files once each.
pub fn read_values_source(path: &Path) -> Result<ValuesSource> {
    read_source(path, crate::yaml::parse_values_yaml)
}

fn read_source(
    path: &Path,
    parse: fn(&str, &str) -> Result<Map<String, Value>>,
) -> Result<ValuesSource> {
    let (text, origin) = read_values_file(path)?;
    let values = parse(&text, &origin)?;
    Ok(ValuesSource {
        origin,
        values,
        lines: KeyLines::scan(&text),
    })
}

/// [`read_user_values`] with the files obtained from `read` (e.g. a cache shared by the
/// releases of a fleet that use the same files), combined exactly as the command line
/// combines them.
pub fn read_user_values_with(
    opts: &ValuesOptions,
    read: &dyn Fn(&Path) -> Result<std::sync::Arc<ValuesSource>>,
) -> Result<UserValues> {
    let mut out = UserValues {
        skip_schema_validation: opts.skip_schema_validation,
        ..UserValues::default()
    };
    for file in &opts.files {
        let source = read(file)?;
        crate::merge::deep_merge(
            &mut out.merged,
            source.values.clone(),
            crate::merge::Conflict::Overwrite,
        );
        out.sources.push(source);
    }
    let budget = strvals::ListBudget::from_limit();
    let unlimited = strvals::ListBudget::unlimited();
    let read = |path: &str| -> Result<String> { input::read_set_file(path) };
    for (kind, arg) in &opts.sets {
        // Each argument is parsed on its own first: that checks it (and its list growth,
        // against one budget for the whole command) without copying the merged values,
        // which is then changed in place. A failure ends the command, so nothing
        // half-applied is ever used, and many arguments cost linear time.
        let mut alone = Map::new();
        strvals::apply_in_place(&mut alone, arg, *kind, &read, &budget)?;
        // Padding the merged lists never needs more than the argument alone did.
        strvals::apply_in_place(&mut out.merged, arg, *kind, &read, &unlimited)?;
        out.sources.push(std::sync::Arc::new(ValuesSource {
            // The flag only: the argument's values (a password, say) stay out of messages.
            origin: kind.flag().to_string(),
            values: alone,
            lines: KeyLines::default(),
        }));
    }
    Ok(out)
}

fn read_values_file(path: &Path) -> Result<(String, String)> {
    if path.as_os_str() == "-" {
        return Ok((input::read_stdin()?, "<stdin>".into()));
    }
    if let Some(url) = path.to_str().filter(|p| input::is_url(p)) {
        return Ok((input::read_url(url)?, url.to_string()));
    }
    let text = input::read_regular_file(path, "values file")?;
    Ok((text, path.display().to_string()))
}

/// The result of computing a chart's values.
#[derive(Debug, Clone, Default)]
pub struct Computed {
    /// The values templates see (top-level chart's; subcharts under their names).
    pub values: Map<String, Value>,
    /// Notes on suspicious input that did not stop the computation.
    pub warnings: Vec<String>,
    /// Keys the user gave that the chart does not define.
    pub unknown: Vec<unknown::UnknownKey>,
}

/// Coalesces `user` over the defaults of a chart tree whose dependencies are resolved
/// (see [`crate::resolve`]), checks the schemas, and finds keys the chart does not define,
/// pointing schema violations at the file and line that set the value.
pub(crate) fn compute_resolved(tree: &Chart, user: &UserValues) -> Result<Computed> {
    let mut warnings = Vec::new();
    let mut values = coalesce::coalesce(tree, &user.merged, &mut warnings)?;
    let mut unknown: Vec<unknown::UnknownKey> = Vec::new();
    if !user.sources.is_empty() {
        // Without subcharts, the defaults are the chart's own values less the nulls, which
        // the walk passes over: a coalesced copy of them would only cost time.
        let coalesced;
        let defaults = if tree.subcharts.is_empty() {
            &tree.values
        } else {
            coalesced = coalesce::coalesce(tree, &Map::new(), &mut Vec::new())?;
            &coalesced
        };
        for src in &user.sources {
            unknown.extend(unknown::find_in_tree(
                tree,
                &src.values,
                defaults,
                &mut |path| src.lines.locate(&src.origin, path),
            ));
        }
        // The same key given twice (two `--set` arguments) is one warning.
        let mut seen = std::collections::HashSet::new();
        unknown.retain(|u| seen.insert((u.origin.clone(), u.path.clone())));
    }
    let matched = lenient::relax_tree(tree, &mut values, &mut warnings, &|path| {
        user.origin_of(path)
    })?;
    // A schema refusal often comes from a typo; name the likely culprits with it.
    if !user.skip_schema_validation && !matched {
        schema::enforce(tree, &mut values, &|path| user.origin_of(path)).map_err(|e| {
            if unknown.is_empty() {
                return e;
            }
            let hints: Vec<String> = unknown.iter().map(|u| format!("  - {u}")).collect();
            anyhow::anyhow!("{e}\nkeys the chart does not define:\n{}", hints.join("\n"))
        })?;
    }
    Ok(Computed {
        values,
        warnings,
        unknown,
    })
}

/// Looks up a dotted path in values.
pub fn lookup<'a>(values: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = values.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}
