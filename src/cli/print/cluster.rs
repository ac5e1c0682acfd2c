//! Output of the commands that read the live cluster: `stoke test`, `stoke diff live` and
//! the live part of `stoke status`.

use anyhow::Result;
use serde::Serialize;

use super::{OutputFormat, lines, structured};
use crate::record::{ReleaseKey, Revision};
use crate::release::live::LiveResource;
use crate::target::cluster::HookRun;

#[derive(Serialize)]
struct TestRow {
    name: String,
    phase: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logs: Option<String>,
}

/// `stoke test`: each test hook's phase, message and logs.
pub fn tests(
    key: &ReleaseKey,
    rev: &Revision,
    runs: Vec<HookRun>,
    format: OutputFormat,
) -> Result<()> {
    let rows: Vec<TestRow> = runs
        .into_iter()
        .map(|r| TestRow {
            name: r.object,
            phase: r.phase,
            message: r.message,
            logs: r.logs,
        })
        .collect();
    if format != OutputFormat::Table {
        return structured(&rows, format);
    }
    let mut out = vec![format!(
        "NAME: {}\nNAMESPACE: {}\nREVISION: {}",
        key.name, key.namespace, rev.revision
    )];
    if rows.is_empty() {
        out.push("TEST SUITE: None (the chart has no helm.sh/hook: test objects)".into());
    }
    for r in &rows {
        out.push(format!(
            "TEST SUITE:     {}\nPhase:          {}",
            r.name, r.phase
        ));
        if let Some(m) = &r.message {
            out.push(format!(
                "Message:        {}",
                m.replace('\n', "\n                ")
            ));
        }
        if let Some(l) = &r.logs {
            out.push(format!("POD LOGS: {}\n{}", r.name, l.trim_end()));
        }
    }
    lines(&out)
}

fn object_name(r: &LiveResource) -> String {
    let ns = r
        .namespace
        .as_deref()
        .map(|n| format!("{n}/"))
        .unwrap_or_default();
    format!("{} {ns}{}", r.kind, r.name)
}

/// `stoke diff live`: the drifted resources, or that the cluster (`at`) matches.
pub fn drift(
    key: &ReleaseKey,
    rev: &Revision,
    at: &str,
    resources: &[LiveResource],
    format: OutputFormat,
) -> Result<()> {
    if format != OutputFormat::Table {
        return structured(&resources, format);
    }
    let mut out = Vec::new();
    if resources.is_empty() {
        out.push(format!(
            "release {} matches revision {} in {at}",
            key.name, rev.revision
        ));
    }
    for r in resources {
        if r.state == "missing" {
            out.push(format!("{}: missing from the cluster", object_name(r)));
            continue;
        }
        out.push(format!("{}:", object_name(r)));
        for f in &r.drift {
            out.push(format!(
                "  {}: revision {} has {}, the cluster has {}",
                f.path,
                rev.revision,
                f.applied.as_deref().unwrap_or("nothing"),
                f.live.as_deref().unwrap_or("nothing")
            ));
        }
    }
    lines(&out)
}

/// The live states as lines under `LIVE RESOURCES:` (after `stoke status`'s report).
pub fn live_text(resources: &[LiveResource]) -> String {
    let mut out = String::from("LIVE RESOURCES:\n");
    for r in resources {
        match &r.reason {
            Some(why) => out.push_str(&format!("  {}: {} ({why})\n", object_name(r), r.state)),
            None => out.push_str(&format!("  {}: {}\n", object_name(r), r.state)),
        }
    }
    out
}
