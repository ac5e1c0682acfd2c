//! Finding the cluster to talk to, as kubectl and Helm find it: `--kubeconfig FILE`, else
//! `KUBECONFIG` (a list of files, merged), else `~/.kube/config`, else the service account
//! of the pod stoke runs in. Finding none is not an error: lifecycle commands then only
//! record releases, and say so.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// The connection options every cluster command takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeOptions {
    /// `--kubeconfig FILE`: wins over `KUBECONFIG` and `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--kube-context NAME`: a context of the kubeconfig instead of its current one.
    pub context: Option<String>,
}

/// Where the connection settings come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--kubeconfig FILE`.
    Flag(PathBuf),
    /// The files `KUBECONFIG` lists that exist, merged in order (the first to set a value
    /// wins, as kubectl merges them).
    Env(Vec<PathBuf>),
    /// `~/.kube/config`.
    Home(PathBuf),
    /// The pod's service account (`KUBERNETES_SERVICE_HOST` and the mounted token).
    InCluster,
}

impl Source {
    /// The source as messages name it.
    pub fn describe(&self) -> String {
        let list = |ps: &[PathBuf]| {
            ps.iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Source::Flag(p) => format!("kubeconfig `{}` (--kubeconfig)", p.display()),
            Source::Env(ps) => format!("kubeconfig {} (KUBECONFIG)", list(ps)),
            Source::Home(p) => format!("kubeconfig `{}`", p.display()),
            Source::InCluster => "the pod's service account".to_string(),
        }
    }
}

/// The token every pod with a service account has mounted.
pub const SERVICE_ACCOUNT_TOKEN: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// Works out where the connection comes from, reading the process environment.
pub fn locate(opts: &KubeOptions) -> Result<Option<Source>> {
    locate_with(opts, &|name| std::env::var_os(name), &|p| p.is_file())
}

/// [`locate`] with the environment and the file system passed in, so every rule can be
/// tested without touching the real ones.
pub fn locate_with(
    opts: &KubeOptions,
    env: &dyn Fn(&str) -> Option<OsString>,
    exists: &dyn Fn(&Path) -> bool,
) -> Result<Option<Source>> {
    if let Some(path) = &opts.kubeconfig {
        if !exists(path) {
            bail!(
                "--kubeconfig `{}` does not exist (give the path of a kubeconfig file, or leave the option out to use KUBECONFIG or ~/.kube/config)",
                path.display()
            );
        }
        return Ok(Some(Source::Flag(path.clone())));
    }
    if let Some(value) = env("KUBECONFIG").filter(|v| !v.is_empty()) {
        let listed: Vec<PathBuf> = std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        // kubectl skips listed files that do not exist; a list where none exists is a
        // mistake worth stopping for rather than silently working without a cluster.
        let present: Vec<PathBuf> = listed.iter().filter(|p| exists(p)).cloned().collect();
        if present.is_empty() && !listed.is_empty() {
            bail!(
                "KUBECONFIG lists {} but none of them exists (fix the variable, or unset it to work without a cluster)",
                listed
                    .iter()
                    .map(|p| format!("`{}`", p.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !present.is_empty() {
            return Ok(Some(Source::Env(present)));
        }
    }
    if let Some(home) = env("HOME").filter(|h| !h.is_empty()) {
        let path = PathBuf::from(home).join(".kube").join("config");
        if exists(&path) {
            return Ok(Some(Source::Home(path)));
        }
    }
    if env("KUBERNETES_SERVICE_HOST").is_some_and(|h| !h.is_empty())
        && exists(Path::new(SERVICE_ACCOUNT_TOKEN))
    {
        return Ok(Some(Source::InCluster));
    }
    if let Some(ctx) = &opts.context {
        bail!(
            "--kube-context `{ctx}` was given but no kubeconfig was found (none given with --kubeconfig, KUBECONFIG is unset and ~/.kube/config does not exist)"
        );
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn run(opts: &KubeOptions, vars: &[(&str, &str)], files: &[&str]) -> Result<Option<Source>> {
        let vars: BTreeMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
        locate_with(opts, &|n| vars.get(n).cloned(), &|p| {
            files.iter().any(|f| f == p)
        })
    }

    #[test]
    fn the_flag_wins_over_the_environment_and_home() {
        let opts = KubeOptions {
            kubeconfig: Some("/k/flag".into()),
            context: None,
        };
        let got = run(
            &opts,
            &[("KUBECONFIG", "/k/env"), ("HOME", "/h")],
            &["/k/flag", "/k/env", "/h/.kube/config"],
        )
        .unwrap();
        assert_eq!(got, Some(Source::Flag("/k/flag".into())));
    }

    #[test]
    fn a_missing_flag_file_is_an_error_naming_it() {
        let opts = KubeOptions {
            kubeconfig: Some("/k/nope".into()),
            context: None,
        };
        let err = run(&opts, &[], &[]).unwrap_err().to_string();
        assert!(err.contains("`/k/nope` does not exist"), "{err}");
    }

    #[test]
    fn kubeconfig_lists_several_files_and_missing_ones_are_skipped() {
        let got = run(
            &KubeOptions::default(),
            &[("KUBECONFIG", "/a:/missing:/b"), ("HOME", "/h")],
            &["/a", "/b", "/h/.kube/config"],
        )
        .unwrap();
        assert_eq!(got, Some(Source::Env(vec!["/a".into(), "/b".into()])));
    }

    #[test]
    fn kubeconfig_naming_only_missing_files_is_an_error() {
        let err = run(&KubeOptions::default(), &[("KUBECONFIG", "/x:/y")], &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`/x`, `/y`"), "{err}");
    }

    #[test]
    fn home_config_then_service_account_then_nothing() {
        let home = run(
            &KubeOptions::default(),
            &[("HOME", "/h"), ("KUBERNETES_SERVICE_HOST", "10.0.0.1")],
            &["/h/.kube/config", SERVICE_ACCOUNT_TOKEN],
        )
        .unwrap();
        assert_eq!(home, Some(Source::Home("/h/.kube/config".into())));
        let pod = run(
            &KubeOptions::default(),
            &[("HOME", "/h"), ("KUBERNETES_SERVICE_HOST", "10.0.0.1")],
            &[SERVICE_ACCOUNT_TOKEN],
        )
        .unwrap();
        assert_eq!(pod, Some(Source::InCluster));
        let none = run(&KubeOptions::default(), &[("HOME", "/h")], &[]).unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn a_context_without_any_kubeconfig_is_an_error() {
        let opts = KubeOptions {
            kubeconfig: None,
            context: Some("prod".into()),
        };
        let err = run(&opts, &[("HOME", "/h")], &[]).unwrap_err().to_string();
        assert!(err.contains("--kube-context `prod`"), "{err}");
    }
}
