//! Connecting: a [`Cluster`] is a kube-rs client plus the names (server, context, user)
//! that every message about the cluster needs.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use kube::config::{Config, KubeConfigOptions, Kubeconfig};

use super::config::{KubeOptions, Source, locate};
use super::error::Op;

/// A connected cluster.
#[derive(Clone)]
pub struct Cluster {
    /// The kube-rs client; async, driven through [`crate::rt::block_on`].
    pub client: kube::Client,
    /// The API server's URL.
    pub server: String,
    /// The kubeconfig context used (`in-cluster` for a service account).
    pub context: String,
    /// The kubeconfig user of that context, when known.
    pub user: Option<String>,
    /// Where the settings came from.
    pub source: Source,
    /// The server's Kubernetes version, e.g. `v1.37.2` (read on connecting).
    pub version: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("server", &self.server)
            .field("context", &self.context)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// How long to wait for a TCP connection to the API server before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Cluster {
    /// Connects to the cluster `opts` select, or returns `None` when no cluster is
    /// configured at all (see [`locate`]). Reading the server's version on the way proves
    /// it is reachable and accepts the credentials, so a broken connection fails here,
    /// before anything is recorded.
    pub fn connect(opts: &KubeOptions) -> Result<Option<Cluster>> {
        let Some(source) = locate(opts)? else {
            return Ok(None);
        };
        crate::rt::block_on(Self::connect_to(source, opts.context.clone())).map(Some)
    }

    async fn connect_to(source: Source, context: Option<String>) -> Result<Cluster> {
        let (mut config, context_name, user) = match &source {
            Source::InCluster => {
                let config = Config::incluster().map_err(|e| {
                    anyhow!(
                        "cannot use the pod's service account to reach the cluster: {e} (mount a service account token, or give --kubeconfig)"
                    )
                })?;
                (config, "in-cluster".to_string(), None)
            }
            Source::Flag(p) | Source::Home(p) => {
                let kc = read_kubeconfig(p)?;
                Self::from_kubeconfig(kc, &source, context).await?
            }
            Source::Env(paths) => {
                let mut merged = Kubeconfig::default();
                for p in paths {
                    merged = merged
                        .merge(read_kubeconfig(p)?)
                        .with_context(|| format!("cannot merge kubeconfig `{}`", p.display()))?;
                }
                Self::from_kubeconfig(merged, &source, context).await?
            }
        };
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        let client = kube::Client::try_from(config).map_err(|e| {
            anyhow!(
                "cannot set up a client for the API server at {server} (context `{context_name}`, from {}): {e}",
                source.describe()
            )
        })?;
        let mut cluster = Cluster {
            client,
            server,
            context: context_name,
            user,
            source,
            version: String::new(),
        };
        let info = cluster
            .client
            .apiserver_version()
            .await
            .map_err(|e| cluster.explain(e, &Op::new("get", "version")))?;
        cluster.version = info.git_version;
        Ok(cluster)
    }

    async fn from_kubeconfig(
        kc: Kubeconfig,
        source: &Source,
        context: Option<String>,
    ) -> Result<(Config, String, Option<String>)> {
        let name = match context.clone().or_else(|| kc.current_context.clone()) {
            Some(n) => n,
            None => anyhow::bail!(
                "{} sets no current-context; choose one with --kube-context NAME (it has: {})",
                source.describe(),
                context_names(&kc)
            ),
        };
        let Some(ctx) = kc.contexts.iter().find(|c| c.name == name) else {
            anyhow::bail!(
                "context `{name}` is not in {} (it has: {}); pick one with --kube-context",
                source.describe(),
                context_names(&kc)
            );
        };
        let user = ctx.context.as_ref().and_then(|c| c.user.clone());
        let options = KubeConfigOptions {
            context: Some(name.clone()),
            ..KubeConfigOptions::default()
        };
        let config = Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(|e| {
                anyhow!(
                    "cannot use context `{name}` of {}: {e} (check its cluster, user and certificate entries)",
                    source.describe()
                )
            })?;
        Ok((config, name, user))
    }

    /// "the API server at URL (context `NAME`)", the phrase messages start with.
    pub fn at(&self) -> String {
        format!(
            "the API server at {} (context `{}`)",
            self.server, self.context
        )
    }

    /// The user as messages name it.
    pub fn user_name(&self) -> String {
        match &self.user {
            Some(u) => format!("user `{u}`"),
            None if self.context == "in-cluster" => "the pod's service account".into(),
            None => "this user".into(),
        }
    }
}

fn read_kubeconfig(path: &std::path::Path) -> Result<Kubeconfig> {
    Kubeconfig::read_from(path).map_err(|e| {
        anyhow!(
            "cannot read kubeconfig `{}`: {e} (it must be a kubeconfig YAML file as kubectl writes it)",
            path.display()
        )
    })
}

fn context_names(kc: &Kubeconfig) -> String {
    if kc.contexts.is_empty() {
        return "no contexts".into();
    }
    kc.contexts
        .iter()
        .map(|c| format!("`{}`", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const KUBECONFIG: &str = "apiVersion: v1
kind: Config
current-context: one
clusters:
- name: c1
  cluster: {server: 'https://127.0.0.1:1'}
users:
- name: u1
  user: {token: abc}
contexts:
- name: one
  context: {cluster: c1, user: u1}
";

    #[test]
    fn an_unknown_context_is_refused_listing_the_known_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(tmp.path(), "kc", KUBECONFIG);
        let opts = KubeOptions {
            kubeconfig: Some(p),
            context: Some("two".into()),
        };
        let err = format!("{:#}", Cluster::connect(&opts).unwrap_err());
        assert!(err.contains("context `two` is not in kubeconfig"), "{err}");
        assert!(err.contains("`one`"), "{err}");
    }

    #[test]
    fn an_unreachable_server_is_an_error_naming_server_and_context() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(tmp.path(), "kc", KUBECONFIG);
        let opts = KubeOptions {
            kubeconfig: Some(p),
            context: None,
        };
        let err = format!("{:#}", Cluster::connect(&opts).unwrap_err());
        assert!(err.contains("https://127.0.0.1:1"), "{err}");
        assert!(err.contains("context `one`"), "{err}");
        assert!(err.contains("cannot reach"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_a_kubeconfig_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let p = write(tmp.path(), "kc", "clusters: 3\n");
        let opts = KubeOptions {
            kubeconfig: Some(p.clone()),
            context: None,
        };
        let err = format!("{:#}", Cluster::connect(&opts).unwrap_err());
        assert!(err.contains(&p.display().to_string()), "{err}");
    }
}
