//! `stoke version` and `stoke env`: what stoke is and the settings it runs with.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::Cli;
use super::output::{self, OutputFormat};

/// Arguments of `stoke version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print the version number only.
    #[arg(long)]
    pub short: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// `stoke version -o json`; the field names are stable.
#[derive(Debug, Serialize)]
struct VersionInfo {
    version: &'static str,
    target_os: &'static str,
    target_arch: &'static str,
}

/// `stoke version`.
pub fn version(args: &VersionArgs) -> Result<i32> {
    let info = VersionInfo {
        version: env!("CARGO_PKG_VERSION"),
        target_os: std::env::consts::OS,
        target_arch: std::env::consts::ARCH,
    };
    if args.output != OutputFormat::Table {
        output::print_structured(&info, args.output)?;
        return Ok(0);
    }
    let mut out = std::io::stdout().lock();
    if args.short {
        writeln!(out, "v{}", info.version)?;
    } else {
        writeln!(
            out,
            "stoke v{} ({}/{})",
            info.version, info.target_os, info.target_arch
        )?;
    }
    Ok(0)
}

/// Arguments of `stoke env`.
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Print only this variable's value.
    pub name: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// `stoke env`.
pub fn env(cli: &Cli, args: &EnvArgs) -> Result<i32> {
    let vars =
        crate::environment::variables(cli.store.as_deref(), &super::kube_args::kube_options(cli))?;
    let mut out = std::io::stdout().lock();
    if let Some(name) = &args.name {
        return match vars.iter().find(|(k, _)| k == name) {
            Some((_, v)) => {
                writeln!(out, "{v}")?;
                Ok(0)
            }
            None => {
                let known: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
                anyhow::bail!(
                    "`{name}` is not a stoke setting; `stoke env` lists: {}",
                    known.join(", ")
                )
            }
        };
    }
    if args.output != OutputFormat::Table {
        let map: serde_json::Map<String, serde_json::Value> = vars
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        output::print_structured(&map, args.output)?;
        return Ok(0);
    }
    for (k, v) in vars {
        writeln!(out, "{k}={v:?}")?;
    }
    Ok(0)
}
