//! Every bound stoke puts on what hostile or broken input may cost, in one place.
//!
//! Each limit sits far above anything a real chart needs (docs/limits.md gives the reasoning
//! and the measured cost at the bound), turns into a clear error naming the input and the
//! limit when crossed, and can be raised (or lowered) with its environment variable.

use anyhow::anyhow;

/// One bound: its default and the environment variable that overrides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// A short name, for code and tests (`chart-file-bytes`).
    pub name: &'static str,
    /// The environment variable that sets it (a whole number; `_` separators allowed).
    pub env: &'static str,
    /// The value used when the variable is unset.
    pub default: u64,
    /// What is counted, for messages ("bytes", "levels", ...).
    pub unit: &'static str,
    /// What it bounds, as docs/limits.md's table says (a test keeps the two equal).
    pub bounds: &'static str,
}

impl Limit {
    /// The value in force: the environment variable when it holds a number, else the
    /// default (an unreadable value is ignored here; [`unreadable`] names it for the
    /// command line to warn about).
    pub fn get(&self) -> u64 {
        let read = |env: &str| std::env::var(env).ok().and_then(|v| parse(&v));
        // Read once per process: limits are consulted per template call and per release,
        // and stoke never changes its own environment.
        static SET: std::sync::OnceLock<Vec<(&'static str, Option<u64>)>> =
            std::sync::OnceLock::new();
        let set = SET.get_or_init(|| ALL.iter().map(|l| (l.env, read(l.env))).collect());
        match set.iter().find(|(env, _)| *env == self.env) {
            Some((_, value)) => value.unwrap_or(self.default),
            None => read(self.env).unwrap_or(self.default),
        }
    }

    /// [`Limit::get`] as a `usize`, saturating.
    pub fn get_usize(&self) -> usize {
        usize::try_from(self.get()).unwrap_or(usize::MAX)
    }

    /// The error for `what` going past this limit, saying how to raise it.
    pub fn exceeded(&self, what: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{}", self.message(what))
    }

    /// The text of [`Limit::exceeded`], for errors built elsewhere (template engines).
    pub fn message(&self, what: impl std::fmt::Display) -> String {
        format!(
            "{what}: over the limit of {} {} (set {}=N to raise it if this is intended; see docs/limits.md)",
            self.get(),
            self.unit,
            self.env
        )
    }
}

impl Limit {
    /// The default as docs/limits.md writes it: `5 MiB`, `1 GiB`, `20,000`.
    pub fn default_text(&self) -> String {
        const GIB: u64 = 1024 * MIB;
        let n = self.default;
        if self.unit == "bytes" && n >= GIB && n.is_multiple_of(GIB) {
            return format!("{} GiB", n / GIB);
        }
        if self.unit == "bytes" && n >= MIB && n.is_multiple_of(MIB) {
            return format!("{} MiB", n / MIB);
        }
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }
}

fn parse(value: &str) -> Option<u64> {
    value.replace('_', "").trim().parse::<u64>().ok()
}

/// A warning for every limit whose variable is set but is not a whole number (its default
/// is used instead), for the command line to print before it starts.
pub fn unreadable() -> Vec<String> {
    ALL.iter()
        .filter_map(|l| {
            let v = std::env::var(l.env).ok()?;
            parse(&v)
                .is_none()
                .then(|| format!("{}=`{v}` is not a whole number; using the default", l.env))
        })
        .collect()
}

const MIB: u64 = 1024 * 1024;

/// Largest single file in a chart (folder or package); Helm's limit too.
pub const CHART_FILE_BYTES: Limit = Limit {
    name: "chart-file-bytes",
    env: "STOKE_MAX_CHART_FILE_BYTES",
    default: 5 * MIB,
    unit: "bytes",
    bounds: "one file of a chart, folder or package (Helm's limit)",
};

/// Largest sum of the files of a chart, subcharts included; Helm's limit too.
pub const CHART_TOTAL_BYTES: Limit = Limit {
    name: "chart-bytes",
    env: "STOKE_MAX_CHART_BYTES",
    default: 100 * MIB,
    unit: "bytes",
    bounds: "all files of a chart with its subcharts (Helm's limit)",
};

/// Most entries (files and folders) in a chart package.
pub const CHART_ENTRIES: Limit = Limit {
    name: "chart-entries",
    env: "STOKE_MAX_CHART_ENTRIES",
    default: 20_000,
    unit: "entries",
    bounds: "entries of a package",
};

/// Largest values file (`-f`, including `-f -`) and `--set-file` file.
pub const VALUES_FILE_BYTES: Limit = Limit {
    name: "values-file-bytes",
    env: "STOKE_MAX_VALUES_FILE_BYTES",
    default: 16 * MIB,
    unit: "bytes",
    bounds: "one `-f` file, `-f -` (standard input), one `--set-file` file",
};

/// Most list items the `--set` family may create by index padding (`a[65536]=1`), summed
/// over all arguments of one command.
pub const SET_LIST_ITEMS: Limit = Limit {
    name: "set-list-items",
    env: "STOKE_MAX_SET_LIST_ITEMS",
    default: 1_000_000,
    unit: "list items",
    bounds: "list items the `--set` family creates by index padding (`a[65536]=1`), summed over all arguments of a command",
};

/// Deepest nesting of `tpl`, `include` and component calls inside one another.
pub const TEMPLATE_DEPTH: Limit = Limit {
    name: "template-depth",
    env: "STOKE_MAX_TEMPLATE_DEPTH",
    default: 100,
    unit: "nested calls",
    bounds: "`tpl` and `include` calls nested in each other (Tera itself stops direct component recursion at 20)",
};

/// Deepest nesting of a value (lists in lists, maps in maps) that templates may serialise
/// or print, and that values files may hold.
pub const VALUE_DEPTH: Limit = Limit {
    name: "value-depth",
    env: "STOKE_MAX_VALUE_DEPTH",
    default: 200,
    unit: "levels",
    bounds: "nesting of a value passed to `to_json`, `to_pretty_json`, `to_yaml` or printed through stoke's functions",
};

/// Most bytes one render may produce, all templates together (etcd refuses objects over
/// ~1.5 MiB; the shipped charts render well under 1 MiB).
pub const RENDER_OUTPUT_BYTES: Limit = Limit {
    name: "render-bytes",
    env: "STOKE_MAX_RENDER_BYTES",
    default: 64 * MIB,
    unit: "bytes",
    bounds: "output of one render, all templates together (etcd refuses objects over ~1.5 MiB; the shipped charts render well under 1 MiB)",
};

/// Most loop iterations one render may run, all loops of all templates together.
pub const RENDER_ITERATIONS: Limit = Limit {
    name: "render-iterations",
    env: "STOKE_MAX_RENDER_ITERATIONS",
    default: 1_000_000,
    unit: "loop iterations",
    bounds: "elements produced by `range` in one render (what nested loops multiply)",
};

/// Longest one render may take, in seconds of wall-clock time.
pub const RENDER_SECONDS: Limit = Limit {
    name: "render-seconds",
    env: "STOKE_MAX_RENDER_SECONDS",
    default: 60,
    unit: "seconds",
    bounds: "wall-clock time of one render",
};

/// Most memory one render may add to the process (resident set growth).
pub const RENDER_MEMORY_BYTES: Limit = Limit {
    name: "render-memory-bytes",
    env: "STOKE_MAX_RENDER_MEMORY_BYTES",
    default: 1024 * MIB,
    unit: "bytes",
    bounds: "memory one render may add to the process (resident set growth)",
};

/// Largest release record the store reads (a revision holds the rendered manifests).
pub const RECORD_BYTES: Limit = Limit {
    name: "record-bytes",
    env: "STOKE_MAX_RECORD_BYTES",
    default: 256 * MIB,
    unit: "bytes",
    bounds: "the record of one release revision (rendered manifests, values, notes, as JSON); a larger one is refused before anything is written, in every store",
};

/// Deepest nesting of mappings and sequences in any YAML stoke reads (values files, charts,
/// repository indexes): serde_yaml's old limit, so every document that read before still
/// reads; every layer that walks values recurses once per level.
pub const YAML_DEPTH: Limit = Limit {
    name: "yaml-depth",
    env: "STOKE_YAML_MAX_DEPTH",
    default: 128,
    unit: "levels",
    bounds: "nesting of mappings and sequences in any YAML read: values files, Chart.yaml, packages' values.yaml, repository indexes (parsing stays linear in the input)",
};

/// Every limit, for documentation and tests.
pub const ALL: &[Limit] = &[
    CHART_FILE_BYTES,
    CHART_TOTAL_BYTES,
    CHART_ENTRIES,
    VALUES_FILE_BYTES,
    SET_LIST_ITEMS,
    TEMPLATE_DEPTH,
    VALUE_DEPTH,
    RENDER_OUTPUT_BYTES,
    RENDER_ITERATIONS,
    RENDER_SECONDS,
    RENDER_MEMORY_BYTES,
    RECORD_BYTES,
    YAML_DEPTH,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of the table in docs/limits.md: (variable, default, bounds).
    fn documented() -> Vec<(String, String, String)> {
        include_str!("../docs/limits.md")
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l
                    .strip_prefix('|')?
                    .strip_suffix('|')?
                    .split(" | ")
                    .collect();
                let env = cells.first()?.trim().strip_prefix('`')?.strip_suffix('`')?;
                env.starts_with("STOKE_").then(|| {
                    (
                        env.to_string(),
                        cells.get(1).unwrap_or(&"").trim().to_string(),
                        cells[2..].join(" | ").trim().to_string(),
                    )
                })
            })
            .collect()
    }

    #[test]
    fn the_documented_table_is_exactly_the_table_in_the_code() {
        let rows = documented();
        let mut names = std::collections::BTreeSet::new();
        for l in ALL {
            assert!(names.insert(l.name), "{} twice", l.name);
            let row = rows.iter().find(|r| r.0 == l.env);
            let Some((_, default, bounds)) = row else {
                panic!("docs/limits.md has no row for {}", l.env);
            };
            assert_eq!(
                default,
                &l.default_text(),
                "default of {} in docs/limits.md",
                l.env
            );
            assert_eq!(bounds, l.bounds, "what {} bounds, in docs/limits.md", l.env);
        }
        for (env, ..) in &rows {
            assert!(
                ALL.iter().any(|l| l.env == env),
                "docs/limits.md lists {env}, which src/limits.rs does not have"
            );
        }
        assert_eq!(
            rows.len(),
            ALL.len(),
            "a variable is listed twice in docs/limits.md"
        );
    }

    #[test]
    fn defaults_are_written_the_way_people_read_them() {
        let l = |default, unit| Limit {
            name: "x",
            env: "X",
            default,
            unit,
            bounds: "",
        };
        assert_eq!(l(5 * MIB, "bytes").default_text(), "5 MiB");
        assert_eq!(l(1024 * MIB, "bytes").default_text(), "1 GiB");
        assert_eq!(l(1_000_000, "list items").default_text(), "1,000,000");
        assert_eq!(l(100, "levels").default_text(), "100");
    }
}
