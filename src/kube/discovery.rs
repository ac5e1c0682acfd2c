//! Which API resource serves each kind, and whether it is namespaced, asked of the cluster
//! one group version at a time and remembered for the rest of the process.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::{Result, anyhow};
use kube::core::GroupVersion;
use kube::discovery::{ApiCapabilities, ApiResource, Scope};

use super::client::Cluster;
use super::error::{Op, is_not_found};
use super::object::{group_of, version_of};
use crate::manifest::Manifest;

/// How the cluster serves one kind.
#[derive(Debug, Clone)]
pub struct Served {
    /// The resource (plural name, group, version) to build requests with.
    pub resource: ApiResource,
    /// Whether objects of the kind live in a namespace.
    pub namespaced: bool,
}

impl Served {
    /// The resource as RBAC names it: `statefulsets.apps`, or `secrets` in the core group.
    pub fn rbac_name(&self) -> String {
        if self.resource.group.is_empty() {
            self.resource.plural.clone()
        } else {
            format!("{}.{}", self.resource.plural, self.resource.group)
        }
    }
}

/// Discovery results, per group version. Only answers the cluster gave are kept, so a
/// kind that appears once a CRD is installed is found on the next try.
#[derive(Default)]
pub struct Discovery {
    served: Mutex<HashMap<String, Vec<(ApiResource, ApiCapabilities)>>>,
}

impl Discovery {
    /// Forgets a group version (after installing CRDs that may add kinds to it).
    pub fn forget(&self, api_version: &str) {
        self.served
            .lock()
            .expect("discovery cache poisoned")
            .remove(api_version);
    }

    /// How `cluster` serves the kind of `m`; an error names the kind and what to do when
    /// the cluster does not serve it.
    pub async fn resolve(&self, cluster: &Cluster, m: &Manifest) -> Result<Served> {
        let known = self
            .served
            .lock()
            .expect("discovery cache poisoned")
            .get(&m.api_version)
            .cloned();
        let list = match known {
            Some(l) => l,
            None => {
                let gv = GroupVersion::gv(group_of(&m.api_version), version_of(&m.api_version));
                match kube::discovery::pinned_group(&cluster.client, &gv).await {
                    Ok(group) => {
                        let list = group.versioned_resources(version_of(&m.api_version));
                        self.served
                            .lock()
                            .expect("discovery cache poisoned")
                            .insert(m.api_version.clone(), list.clone());
                        list
                    }
                    Err(e) if is_not_found(&e) => Vec::new(),
                    Err(e) => {
                        return Err(cluster.explain(
                            e,
                            &Op::new("get", &format!("discovery of {}", m.api_version)),
                        ));
                    }
                }
            }
        };
        list.into_iter()
            .find(|(r, _)| r.kind == m.kind)
            .map(|(resource, caps)| Served {
                resource,
                namespaced: matches!(caps.scope, Scope::Namespaced),
            })
            .ok_or_else(|| {
                anyhow!(
                    "{} does not serve kind {} in {} ({} {} from {}); install the CRD that defines it (a chart's crds/ folder is installed first), or fix the apiVersion",
                    cluster.at(),
                    m.kind,
                    m.api_version,
                    m.kind,
                    m.name,
                    m.source
                )
            })
    }
}
