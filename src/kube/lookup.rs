//! The live answer to the template function `lookup`: objects read from the connected
//! cluster (see [`crate::lookup`] for why this is a process-wide source).

use std::sync::Arc;

use anyhow::Result;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::client::Cluster;
use super::discovery::Discovery;
use super::error::{Op, is_not_found};
use crate::manifest::Manifest;

/// Reads `lookup`'s objects from a cluster.
pub struct ClusterLookup {
    cluster: Cluster,
    discovery: Discovery,
}

impl ClusterLookup {
    /// A source reading from `cluster`.
    pub fn new(cluster: Cluster) -> ClusterLookup {
        ClusterLookup {
            cluster,
            discovery: Discovery::default(),
        }
    }

    async fn find_async(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<Value>> {
        let probe = Manifest {
            source: "lookup".into(),
            api_version: api_version.into(),
            kind: kind.into(),
            name: name.into(),
            namespace: None,
            body: String::new(),
        };
        let served = self.discovery.resolve(&self.cluster, &probe).await?;
        let client = self.cluster.client.clone();
        let api: Api<DynamicObject> = if served.namespaced && !namespace.is_empty() {
            Api::namespaced_with(client, namespace, &served.resource)
        } else {
            Api::all_with(client, &served.resource)
        };
        let ns = (served.namespaced && !namespace.is_empty()).then_some(namespace);
        if !name.is_empty() {
            let op = Op::new("get", &served.rbac_name())
                .in_namespace(ns)
                .on(format!("{kind} {name} (read by lookup)"));
            return match api.get(name).await {
                Ok(obj) => Ok(vec![serde_json::to_value(obj)?]),
                Err(e) if is_not_found(&e) => Ok(Vec::new()),
                Err(e) => Err(self.cluster.explain(e, &op)),
            };
        }
        let op = Op::new("list", &served.rbac_name()).in_namespace(ns);
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| self.cluster.explain(e, &op))?;
        list.items
            .into_iter()
            .map(|mut obj| {
                // A list leaves each item's type out; `lookup` callers read `kind`.
                obj.types.get_or_insert_with(|| kube::core::TypeMeta {
                    api_version: api_version.into(),
                    kind: kind.into(),
                });
                Ok(serde_json::to_value(obj)?)
            })
            .collect()
    }
}

impl crate::lookup::LookupSource for ClusterLookup {
    fn find(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<Value>> {
        crate::rt::block_on(self.find_async(api_version, kind, namespace, name))
    }
}

/// Makes templates' `lookup` read `cluster` for the rest of the process.
pub fn serve_from(cluster: &Cluster) {
    crate::lookup::install(Some(Arc::new(ClusterLookup::new(cluster.clone()))));
}
