//! Hints for what Helm users type by habit and stoke spells differently: replaces clap's
//! generic tip (which can point somewhere misleading, e.g. `test` -> `template`) with the
//! stoke way.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// Helm subcommands stoke does not have, and what to use instead.
const SUBCOMMANDS: &[(&str, &str)] = &[
    (
        "test",
        "Helm's `helm test` runs a release's test hooks in a cluster; to check a chart without a cluster use `stoke unittest CHART` (helm-unittest suites) or `stoke lint CHART --strict`",
    ),
    (
        "plugin",
        "stoke has no plugins: diff is built in (`stoke diff upgrade|revision`), unit tests too (`stoke unittest`)",
    ),
    (
        "init",
        "stoke needs no init: the release store is created on first use (`stoke env STOKE_STORE` shows where)",
    ),
    (
        "upgrade-all",
        "to move many releases at once, describe them in a fleet file: `stoke fleet apply -f FLEET.yaml`",
    ),
];

/// Helm flags stoke does not take, and what to use instead.
const FLAGS: &[(&str, &str)] = &[
    (
        "--debug",
        "stoke always prints an error's causes; there is no --debug",
    ),
    (
        "--replace",
        "`stoke install` reuses a name uninstalled with --keep-history without --replace",
    ),
    (
        "--reuse-name",
        "`stoke install` reuses a name uninstalled with --keep-history by itself",
    ),
];

/// The stoke way for a parse error about a Helm habit, or `None` to keep clap's message.
pub fn for_error(e: &clap::Error) -> Option<String> {
    let (table, kind) = match e.kind() {
        ErrorKind::InvalidSubcommand => (SUBCOMMANDS, ContextKind::InvalidSubcommand),
        ErrorKind::UnknownArgument => (FLAGS, ContextKind::InvalidArg),
        _ => return None,
    };
    let Some(ContextValue::String(word)) = e.get(kind) else {
        return None;
    };
    let flag = word.split('=').next().unwrap_or(word);
    let hint = table.iter().find(|(w, _)| *w == flag)?.1;
    let what = if kind == ContextKind::InvalidSubcommand {
        "command"
    } else {
        "option"
    };
    Some(format!(
        "error: stoke has no {what} `{flag}`\n\n  hint: {hint}\n\nFor more information, try 'stoke --help'."
    ))
}
