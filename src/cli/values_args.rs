//! The values options shared by every command that renders a chart, gathered in
//! command-line order across the `--set` family, as Helm applies them.

use std::path::PathBuf;

use clap::{ArgMatches, Args};

use crate::values::{SetKind, ValuesOptions};

/// `-f` and the `--set` family.
#[derive(Debug, Clone, Args, Default)]
pub struct ValuesFlags {
    /// Values file or http(s):// URL (repeatable; later files win; `-` reads stdin).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Set values: `a.b=1,c[0]=x` (typed: numbers, true/false, null).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Set values as strings.
    #[arg(long = "set-string", value_name = "KEY=VALUE")]
    pub set_string: Vec<String>,
    /// Set a value from a file's contents: `key=path`.
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// Set values as JSON: `key={"a":1}`.
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Set one literal string value, no escapes or lists.
    #[arg(long = "set-literal", value_name = "KEY=VALUE")]
    pub set_literal: Vec<String>,
    /// Do not check the values against the chart's values.schema.json.
    #[arg(long)]
    pub skip_schema_validation: bool,
}

/// Builds [`ValuesOptions`], ordering the `--set` family by position on the command line.
pub fn options(flags: &ValuesFlags, matches: Option<&ArgMatches>) -> ValuesOptions {
    let groups = [
        ("set", SetKind::Set, &flags.set),
        ("set_string", SetKind::String, &flags.set_string),
        ("set_file", SetKind::File, &flags.set_file),
        ("set_json", SetKind::Json, &flags.set_json),
        ("set_literal", SetKind::Literal, &flags.set_literal),
    ];
    let mut ordered: Vec<(usize, SetKind, String)> = Vec::new();
    for (id, kind, values) in groups {
        let indices: Vec<usize> = matches
            .and_then(|m| m.indices_of(id))
            .map(|i| i.collect())
            .unwrap_or_default();
        for (n, v) in values.iter().enumerate() {
            let pos = indices.get(n).copied().unwrap_or(usize::MAX);
            ordered.push((pos, kind, v.clone()));
        }
    }
    ordered.sort_by_key(|(pos, _, _)| *pos);
    ValuesOptions {
        files: flags.files.clone(),
        sets: ordered.into_iter().map(|(_, k, v)| (k, v)).collect(),
        skip_schema_validation: flags.skip_schema_validation,
    }
}
