//! The options layer (the "high" arguments, as ripgrep's hiargs are to its lowargs): the one
//! place where parsed flags (the clap structs of [`super::flags`] and the command files) and
//! the environment become the library's option types.
//!
//! Everything a command needs to know before it calls the library is resolved here, once per
//! command, by the `from_args` constructor of that command's options struct: the store
//! location and cluster connection ([`Globals`]), values sources, render capabilities, chart
//! sources and transport settings, the lifecycle flags, filters, time and output formats,
//! and the progress mode. Command handlers receive these structs, call the library and hand
//! the results to [`super::print`]; they read no environment variable and build no library
//! option struct themselves (tests/module_layers.rs keeps it so).

pub mod chart;
pub mod fleet;
pub mod package;
pub mod release;
pub mod session;
pub mod source;
pub mod store;
pub mod values;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};

use super::Cli;
use super::print::progress::Mode;
use crate::kube::{Cluster, KubeOptions};
use crate::record::ReleaseKey;
use crate::storage::Store;
use crate::target::cluster::{ClusterOptions, ClusterTarget};

/// The global flags resolved: namespace, store location and cluster connection settings.
#[derive(Debug, Clone)]
pub struct Globals {
    /// `-n/--namespace`.
    pub namespace: String,
    /// `--store` (or `STOKE_STORE`), unparsed: [`crate::storage::location`] owns the grammar.
    pub store: Option<String>,
    /// `--kubeconfig` and `--kube-context`.
    pub kube: KubeOptions,
}

impl Globals {
    /// The global flags of `cli`.
    pub fn from_cli(cli: &Cli) -> Globals {
        Globals {
            namespace: cli.namespace.clone(),
            store: cli.store.clone(),
            kube: KubeOptions {
                kubeconfig: cli.kubeconfig.clone(),
                context: cli.kube_context.clone(),
            },
        }
    }

    /// The key of release `name` in the namespace of `-n`.
    pub fn key(&self, name: &str) -> Result<ReleaseKey> {
        ReleaseKey::new(&self.namespace, name)
    }

    /// Opens the store `--store` names (or the default one).
    pub fn open_store(&self) -> Result<Box<dyn Store>> {
        crate::storage::location::open(self.store.as_deref(), &self.kube)
    }

    /// Connects to the configured cluster (`None`: no kubeconfig anywhere); from then on
    /// templates' `lookup` reads that cluster.
    pub fn connect(&self, opts: ClusterOptions) -> Result<Option<ClusterTarget>> {
        let cluster = Cluster::connect(&self.kube)?;
        if let Some(c) = &cluster {
            crate::kube::lookup::serve_from(c);
        }
        Ok(cluster.map(|c| ClusterTarget::new(c, opts)))
    }

    /// [`Globals::connect`] for a command that only reads the cluster (status, drift).
    pub fn connect_to_read(&self) -> Result<Option<ClusterTarget>> {
        self.connect(ClusterOptions::default())
    }

    /// [`Globals::connect`] for a command that cannot work without a cluster (`what`).
    pub fn require_cluster(&self, opts: ClusterOptions, what: &str) -> Result<ClusterTarget> {
        match self.connect(opts)? {
            Some(t) => Ok(t),
            None => bail!(
                "`{what}` reads the cluster, and none is configured (give --kubeconfig, set KUBECONFIG, or create ~/.kube/config)"
            ),
        }
    }
}

/// How progress is shown: `STOKE_PROGRESS=live|plain|off` if set, else live lines when
/// stderr is a terminal (and `TERM` is not `dumb`), plain lines otherwise.
pub fn progress_mode() -> Mode {
    match std::env::var("STOKE_PROGRESS").as_deref() {
        Ok("live") => Mode::Live,
        Ok("plain") => Mode::Plain,
        Ok("off") | Ok("none") => Mode::Off,
        _ => {
            let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
            if super::print::stderr_is_terminal() && !dumb {
                Mode::Live
            } else {
                Mode::Plain
            }
        }
    }
}

/// Warnings about `STOKE_MAX_*` variables that are set but unreadable (their limits keep
/// the defaults).
pub fn limit_warnings() -> Vec<String> {
    crate::limits::unreadable()
}

/// `~/FILE` under `HOME` (empty when HOME is unset, as Helm's defaults behave).
fn in_home(file: &str) -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(file)
}

/// Parses `60s`, `2m`, `500ms`, `1h` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 60s, 2m or 500ms"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use ms, s, m or h)"
            ));
        }
    };
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_take_the_usual_units() {
        assert_eq!(parse_duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert!(parse_duration("5 parsecs").is_err());
    }
}
