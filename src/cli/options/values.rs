//! Values and render-target flags: `-f`/`--set*` into [`ValuesOptions`], `--kube-version`
//! and `--api-versions` into [`Capabilities`].

use anyhow::{Context, Result};
use clap::ArgMatches;

use crate::cli::flags::{ClusterFlags, ValuesFlags};
use crate::engine::Capabilities;
use crate::values::{SetKind, ValuesOptions};

/// Builds [`ValuesOptions`], ordering the `--set` family by position on the command line
/// (`matches` are the subcommand's), as Helm applies them.
pub fn values(flags: &ValuesFlags, matches: Option<&ArgMatches>) -> ValuesOptions {
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

/// The cluster a chart is rendered for.
pub fn capabilities(flags: &ClusterFlags) -> Result<Capabilities> {
    let mut caps = Capabilities::default();
    if let Some(v) = &flags.kube_version {
        caps.kube_version = crate::chart::version::parse_lenient(v).with_context(|| {
            format!("--kube-version `{v}` is not a Kubernetes version such as 1.29 or v1.29.3")
        })?;
    }
    caps.api_versions.extend(flags.api_versions.iter().cloned());
    Ok(caps)
}
