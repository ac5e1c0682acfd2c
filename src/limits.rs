//! Every bound stoke puts on what hostile or broken input may cost, in one place.
//!
//! Each limit sits far above anything a real chart needs (docs/limits.md gives the reasoning
//! and the measured cost at the bound), turns into a clear error naming the input and the
//! limit when crossed, and can be raised (or lowered) with its environment variable.

use anyhow::anyhow;

/// One bound: its default and the environment variable that overrides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The environment variable that sets it (a whole number; `_` separators allowed).
    pub env: &'static str,
    /// The value used when the variable is unset.
    pub default: u64,
    /// What is counted, for messages ("bytes", "levels", ...).
    pub unit: &'static str,
}

impl Limit {
    /// The value in force: the environment variable when it holds a number, else the
    /// default (an unreadable value is reported once and ignored).
    pub fn get(&self) -> u64 {
        match std::env::var(self.env) {
            Ok(v) => match v.replace('_', "").trim().parse::<u64>() {
                Ok(n) => n,
                Err(_) => {
                    warn_once(self.env, &v);
                    self.default
                }
            },
            Err(_) => self.default,
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

fn warn_once(env: &str, value: &str) {
    use std::sync::Mutex;
    static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if !seen.iter().any(|s| s == env) {
        seen.push(env.to_string());
        eprintln!("warning: {env}=`{value}` is not a whole number; using the default");
    }
}

const MIB: u64 = 1024 * 1024;

/// Largest single file in a chart (folder or package); Helm's limit too.
pub const CHART_FILE_BYTES: Limit = Limit {
    env: "STOKE_MAX_CHART_FILE_BYTES",
    default: 5 * MIB,
    unit: "bytes",
};

/// Largest sum of the files of a chart, subcharts included; Helm's limit too.
pub const CHART_TOTAL_BYTES: Limit = Limit {
    env: "STOKE_MAX_CHART_BYTES",
    default: 100 * MIB,
    unit: "bytes",
};

/// Most entries (files and folders) in a chart package.
pub const CHART_ENTRIES: Limit = Limit {
    env: "STOKE_MAX_CHART_ENTRIES",
    default: 20_000,
    unit: "entries",
};

/// Largest values file (`-f`, including `-f -`) and `--set-file` file.
pub const VALUES_FILE_BYTES: Limit = Limit {
    env: "STOKE_MAX_VALUES_FILE_BYTES",
    default: 16 * MIB,
    unit: "bytes",
};

/// Most list items the `--set` family may create by index padding (`a[65536]=1`), summed
/// over all arguments of one command.
pub const SET_LIST_ITEMS: Limit = Limit {
    env: "STOKE_MAX_SET_LIST_ITEMS",
    default: 1_000_000,
    unit: "list items",
};

/// Deepest nesting of `tpl`, `include` and component calls inside one another.
pub const TEMPLATE_DEPTH: Limit = Limit {
    env: "STOKE_MAX_TEMPLATE_DEPTH",
    default: 100,
    unit: "nested calls",
};

/// Deepest nesting of a value (lists in lists, maps in maps) that templates may serialise
/// or print, and that values files may hold.
pub const VALUE_DEPTH: Limit = Limit {
    env: "STOKE_MAX_VALUE_DEPTH",
    default: 200,
    unit: "levels",
};

/// Most bytes one render may produce, all templates together (etcd refuses objects over
/// ~1.5 MiB; the shipped charts render well under 1 MiB).
pub const RENDER_OUTPUT_BYTES: Limit = Limit {
    env: "STOKE_MAX_RENDER_BYTES",
    default: 64 * MIB,
    unit: "bytes",
};

/// Most loop iterations one render may run, all loops of all templates together.
pub const RENDER_ITERATIONS: Limit = Limit {
    env: "STOKE_MAX_RENDER_ITERATIONS",
    default: 1_000_000,
    unit: "loop iterations",
};

/// Longest one render may take, in seconds of wall-clock time.
pub const RENDER_SECONDS: Limit = Limit {
    env: "STOKE_MAX_RENDER_SECONDS",
    default: 60,
    unit: "seconds",
};

/// Most memory one render may add to the process (resident set growth).
pub const RENDER_MEMORY_BYTES: Limit = Limit {
    env: "STOKE_MAX_RENDER_MEMORY_BYTES",
    default: 1024 * MIB,
    unit: "bytes",
};

/// Largest release record the store reads (a revision holds the rendered manifests).
pub const RECORD_BYTES: Limit = Limit {
    env: "STOKE_MAX_RECORD_BYTES",
    default: 256 * MIB,
    unit: "bytes",
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
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_has_its_own_variable_and_is_documented() {
        let doc = include_str!("../docs/limits.md");
        let mut seen = std::collections::BTreeSet::new();
        for l in ALL {
            assert!(seen.insert(l.env), "{} twice", l.env);
            assert!(
                doc.contains(l.env),
                "docs/limits.md does not mention {}",
                l.env
            );
        }
    }
}
