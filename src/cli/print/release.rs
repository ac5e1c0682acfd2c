//! Output of the release commands: lifecycle reports, where a write went, list and history
//! tables, status, `get` and the release rows' stable JSON.
//!
//! JSON field names (stable, documented in docs/store.md): list rows and history rows use
//! `name`, `namespace`, `revision`, `status`, `chart`, `app_version`, `updated`,
//! `description`; status adds `first_deployed`, `chart_digest`, `resources` and `notes`.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use super::{OutputFormat, Table, TimeFormat, structured, warning, warnings};
use crate::cli::options::session::Session;
use crate::cli::release::GetWhat;
use crate::record::Head;
use crate::record::{ReleaseKey, Revision, Summary};
use crate::release::live::LiveResource;
use crate::release::status::StatusReport;
use crate::release::{self, Done};
use crate::storage::Damaged;

/// A row of `list` and `history` output: the stable JSON field names.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    revision: u64,
    updated: String,
    status: String,
    chart: String,
    app_version: String,
    description: String,
}

fn row(key: Option<&ReleaseKey>, s: &Summary) -> Row {
    Row {
        name: key.map(|k| k.name.clone()),
        namespace: key.map(|k| k.namespace.clone()),
        revision: s.revision,
        updated: s.updated.clone(),
        status: s.status.to_string(),
        chart: format!("{}-{}", s.chart, s.chart_version),
        app_version: s.app_version.clone().unwrap_or_default(),
        description: s.description.clone(),
    }
}

/// The row of a record that cannot be read: status `damaged`, the problem as description,
/// and a warning pointing at `stoke store check`.
fn damaged_row(with_key: bool, d: &Damaged) -> Row {
    warning(&format!(
        "{}: {} (see `stoke store check`, then `stoke store repair`)",
        d.key, d.problem
    ));
    Row {
        name: with_key.then(|| d.key.name.clone()),
        namespace: with_key.then(|| d.key.namespace.clone()),
        revision: d.revision.unwrap_or(0),
        updated: String::new(),
        status: "damaged".into(),
        chart: String::new(),
        app_version: String::new(),
        description: "unreadable record; see `stoke store check`".into(),
    }
}

/// `stoke history`: the revisions, damaged ones flagged.
pub fn history(summaries: &[Result<Summary, Damaged>], format: OutputFormat) -> Result<()> {
    let rows: Vec<Row> = summaries
        .iter()
        .map(|s| match s {
            Ok(s) => row(None, s),
            Err(d) => damaged_row(false, d),
        })
        .collect();
    if format != OutputFormat::Table {
        return structured(&rows, format);
    }
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.revision.to_string(),
                crate::timestamp::human_time(&r.updated),
                r.status,
                r.chart,
                r.app_version,
                r.description,
            ]
        })
        .collect();
    Table::new(&[
        "REVISION",
        "UPDATED",
        "STATUS",
        "CHART",
        "APP VERSION",
        "DESCRIPTION",
    ])
    .rows(cells)
    .print()
}

/// How `stoke list` prints.
pub struct ListStyle<'a> {
    /// `-o`.
    pub format: OutputFormat,
    /// `-q`: names only.
    pub short: bool,
    /// `--no-headers`.
    pub no_headers: bool,
    /// `--time-format`.
    pub time: &'a TimeFormat,
}

/// `stoke list`: the releases, then the damaged records.
pub fn list(heads: &[Head], damaged: &[Damaged], style: &ListStyle<'_>) -> Result<()> {
    if style.short {
        let names: Vec<&str> = heads.iter().map(|h| h.key.name.as_str()).collect();
        if style.format != OutputFormat::Table {
            return structured(&names, style.format);
        }
        return super::lines(&names);
    }
    let mut rows: Vec<Row> = heads
        .iter()
        .map(|h| row(Some(&h.key), &h.summary))
        .collect();
    rows.extend(damaged.iter().map(|d| damaged_row(true, d)));
    if style.format != OutputFormat::Table {
        return structured(&rows, style.format);
    }
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.name.unwrap_or_default(),
                r.namespace.unwrap_or_default(),
                r.revision.to_string(),
                style.time.show(&r.updated),
                r.status,
                r.chart,
                r.app_version,
            ]
        })
        .collect();
    Table::new(&[
        "NAME",
        "NAMESPACE",
        "REVISION",
        "UPDATED",
        "STATUS",
        "CHART",
        "APP VERSION",
    ])
    .no_headers(style.no_headers)
    .rows(cells)
    .print()
}

/// `stoke status`: the report, with the live states when a cluster gave them.
pub fn status(
    mut report: StatusReport,
    live: Option<Vec<LiveResource>>,
    format: OutputFormat,
) -> Result<()> {
    report.live = live.clone();
    if format != OutputFormat::Table {
        return structured(&report, format);
    }
    let mut out = std::io::stdout().lock();
    write!(out, "{}", report_text(&report, false))?;
    if let Some(live) = &live {
        write!(out, "{}", super::cluster::live_text(live))?;
    }
    Ok(())
}

/// A status report as people read it (Helm's layout): the revision's facts, its resources
/// by kind, its notes. A revision that was `recorded_only` (applied to no cluster and no
/// folder) gets no `deployed` status and no notes, which tell people how to reach a running
/// release, but what to do to deploy it.
fn report_text(report: &StatusReport, recorded_only: bool) -> String {
    let (when, status) = if recorded_only {
        (
            "RECORDED",
            "recorded only, not deployed (no cluster is configured)".to_string(),
        )
    } else {
        ("LAST DEPLOYED", report.status.to_string())
    };
    let mut out = format!(
        "NAME: {}\n{when}: {}\nNAMESPACE: {}\nSTATUS: {}\nREVISION: {}\nCHART: {}\nAPP VERSION: {}\nDESCRIPTION: {}\n",
        report.name,
        crate::timestamp::human_time(&report.updated),
        report.namespace,
        status,
        report.revision,
        report.chart,
        report.app_version.as_deref().unwrap_or(""),
        report.description
    );
    if !report.resources.is_empty() {
        out.push_str("RESOURCES:\n");
        for (kind, names) in &report.resources {
            out.push_str(&format!(
                "  {kind} ({}): {}\n",
                names.len(),
                names.join(", ")
            ));
        }
    }
    let notes = report.notes.as_deref().filter(|n| !n.trim().is_empty());
    match notes {
        Some(_) if recorded_only => out.push_str(&format!(
            "NOTES: not shown, as nothing runs yet (`stoke get notes {} -n {}` prints them)\n",
            report.name, report.namespace
        )),
        Some(notes) => {
            out.push_str("NOTES:\n");
            out.push_str(notes.trim_end());
            out.push('\n');
        }
        None => {}
    }
    if recorded_only {
        out.push_str(
            "To deploy, configure a cluster (--kubeconfig, --kube-context or KUBECONFIG) and upgrade the release, or write it to a folder with --output-dir.\n",
        );
    }
    out
}

fn values_yaml(values: &serde_json::Map<String, serde_json::Value>) -> Result<String> {
    if values.is_empty() {
        return Ok("null\n".into());
    }
    crate::yaml::to_string(values)
}

/// `stoke get`: one part of a stored revision, or all of it.
pub fn get(rev: &Revision, what: GetWhat, all: bool, format: OutputFormat) -> Result<()> {
    let mut out = anstream::stdout();
    match what {
        GetWhat::Values => {
            let values = if all {
                &rev.computed_values
            } else {
                &rev.user_values
            };
            match format {
                OutputFormat::Table => {
                    writeln!(
                        out,
                        "{}",
                        if all {
                            "COMPUTED VALUES:"
                        } else {
                            "USER-SUPPLIED VALUES:"
                        }
                    )?;
                    write!(out, "{}", values_yaml(values)?)?;
                }
                f => structured(values, f)?,
            }
        }
        GetWhat::Manifest => write!(out, "{}", rev.manifest_text())?,
        GetWhat::Hooks => write!(out, "{}", rev.hooks_text())?,
        GetWhat::Notes => {
            if let Some(n) = &rev.notes {
                writeln!(out, "NOTES:\n{}", n.trim_end())?;
            }
        }
        GetWhat::All => match format {
            OutputFormat::Table => {
                write!(out, "{}", report_text(&release::status::report(rev), false))?;
                write!(
                    out,
                    "USER-SUPPLIED VALUES:\n{}COMPUTED VALUES:\n{}HOOKS:\n{}MANIFEST:\n{}",
                    values_yaml(&rev.user_values)?,
                    values_yaml(&rev.computed_values)?,
                    rev.hooks_text(),
                    rev.manifest_text()
                )?;
            }
            f => structured(rev, f)?,
        },
        GetWhat::Metadata => {
            let meta = release::get::metadata(rev);
            if format != OutputFormat::Table {
                return structured(&meta, format);
            }
            let labels: Vec<String> = meta
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            write!(
                out,
                "NAME: {}\nCHART: {}\nVERSION: {}\nAPP_VERSION: {}\nNAMESPACE: {}\nREVISION: {}\nSTATUS: {}\nDEPLOYED_AT: {}\nDESCRIPTION: {}\nLABELS: {}\n",
                meta.name,
                meta.chart,
                meta.version,
                meta.app_version.as_deref().unwrap_or(""),
                meta.namespace,
                meta.revision,
                meta.status,
                meta.deployed_at,
                meta.description,
                labels.join(",")
            )?;
        }
    }
    Ok(())
}

/// The result of install or upgrade: warnings, the status report and, for a dry run, the
/// manifest that would be applied (Secret values masked). When the write reached no cluster
/// and no folder (`applied` is false), the report says the revision was only recorded and
/// leaves out the chart's notes: they tell people how to reach a running release, and there is
/// none (`stoke get notes` still shows them).
pub fn done(done: &Done, format: OutputFormat, applied: bool) -> Result<()> {
    warnings(&done.warnings);
    let report = release::status::report(&done.revision);
    if format != OutputFormat::Table {
        return structured(&report, format);
    }
    let mut out = anstream::stdout();
    write!(out, "{}", report_text(&report, !applied && !done.dry_run))?;
    if done.dry_run {
        write!(
            out,
            "MANIFEST:\n{}",
            crate::mask::masked_manifest_text(&done.revision.delivered())
        )?;
    }
    Ok(())
}

/// The line `stoke upgrade` starts its report with (not for a dry run or JSON/YAML).
pub fn upgraded(key: &ReleaseKey, done: &Done, format: OutputFormat) {
    if format != OutputFormat::Table || done.dry_run {
        return;
    }
    let line = if done.installed {
        format!(
            "Release \"{}\" does not exist. Installing it now.",
            key.name
        )
    } else {
        format!("Release \"{}\" has been upgraded.", key.name)
    };
    let _ = super::lines(&[line]);
}

/// `stoke rollback`'s report.
pub fn rolled_back(
    key: &ReleaseKey,
    done: &Done,
    format: OutputFormat,
    applied: bool,
) -> Result<()> {
    if format != OutputFormat::Table {
        return structured(&release::status::report(&done.revision), format);
    }
    let line = if done.dry_run {
        format!(
            "Rollback of {} would write revision {} (dry run).",
            key.name, done.revision.revision
        )
    } else {
        format!(
            "Rollback was a success: revision {} of {} is {}.",
            done.revision.revision,
            key.name,
            if applied {
                "deployed"
            } else {
                "the current revision (recorded only: no cluster is configured)"
            }
        )
    };
    super::lines(&[line])
}

/// `stoke uninstall`'s report.
pub fn uninstalled(key: &ReleaseKey, dry_run: bool) -> Result<()> {
    if dry_run {
        super::lines(&[format!(
            "release \"{}\" would be uninstalled (dry run)",
            key.name
        )])
    } else {
        super::lines(&[format!("release \"{}\" uninstalled", key.name)])
    }
}

/// Says where a lifecycle command's change went: on stdout after a table, on stderr when
/// stdout carries JSON or YAML; nothing after a dry run.
pub fn delivery(session: &Session, format: OutputFormat, dry_run: bool) {
    if dry_run {
        return;
    }
    let line = delivered(session);
    if format == OutputFormat::Table {
        let _ = super::lines(&[line]);
    } else {
        super::note(&line);
    }
}

/// Where a session's writes went, in words.
pub fn delivered(session: &Session) -> String {
    match &session.target {
        Some(t) => format!(
            "recorded in {} and applied to {}",
            session.store.describe(),
            t.describe()
        ),
        None => format!(
            "recorded in {}; no cluster configured",
            session.store.describe()
        ),
    }
}
