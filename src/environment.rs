//! `stoke env`: the settings stoke runs with and the variables that set them, as Helm's
//! `helm env` lists its `HELM_*` ones.

use anyhow::Result;

/// Each setting as `(variable, value in effect)`, in a fixed order. `store` is the
/// `--store`/`STOKE_STORE` location if one was given; without one, `STOKE_STORE` shows the
/// store chosen by default (`kubernetes` when `kube` configures a cluster, else the file
/// store's folder).
pub fn variables(
    store: Option<&str>,
    kube: &crate::kube::KubeOptions,
) -> Result<Vec<(String, String)>> {
    let store = crate::storage::location::choose(store, kube)?.display();
    let repos = crate::repo::Paths::from_env()?;
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let bin = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Ok(vec![
        ("STOKE_BIN".into(), bin),
        ("STOKE_STORE".into(), store),
        (
            "STOKE_REPOSITORY_CONFIG".into(),
            repos.config.display().to_string(),
        ),
        (
            "STOKE_REPOSITORY_CACHE".into(),
            repos.cache.display().to_string(),
        ),
        ("KUBECONFIG".into(), var("KUBECONFIG")),
        ("STOKE_VERSION".into(), env!("CARGO_PKG_VERSION").into()),
    ])
}
