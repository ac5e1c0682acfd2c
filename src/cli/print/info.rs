//! Output of `stoke version` and `stoke env`.

use anyhow::{Result, bail};
use serde::Serialize;

use super::{OutputFormat, lines, structured};

/// `stoke version -o json`; the field names are stable.
#[derive(Debug, Serialize)]
struct VersionInfo {
    version: &'static str,
    target_os: &'static str,
    target_arch: &'static str,
}

/// `stoke version` (`short`: the number only).
pub fn version(short: bool, format: OutputFormat) -> Result<()> {
    let info = VersionInfo {
        version: env!("CARGO_PKG_VERSION"),
        target_os: std::env::consts::OS,
        target_arch: std::env::consts::ARCH,
    };
    if format != OutputFormat::Table {
        return structured(&info, format);
    }
    if short {
        lines(&[format!("v{}", info.version)])
    } else {
        lines(&[format!(
            "stoke v{} ({}/{})",
            info.version, info.target_os, info.target_arch
        )])
    }
}

/// `stoke env`: every setting, or the value of `name` alone.
pub fn env(vars: Vec<(String, String)>, name: Option<&str>, format: OutputFormat) -> Result<()> {
    if let Some(name) = name {
        return match vars.iter().find(|(k, _)| k == name) {
            Some((_, v)) => lines(&[v]),
            None => {
                let known: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
                bail!(
                    "`{name}` is not a stoke setting; `stoke env` lists: {}",
                    known.join(", ")
                )
            }
        };
    }
    if format != OutputFormat::Table {
        let map: serde_json::Map<String, serde_json::Value> = vars
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        return structured(&map, format);
    }
    let text: Vec<String> = vars
        .into_iter()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    lines(&text)
}
