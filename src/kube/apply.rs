//! Requests on single objects: read, server-side apply with field manager `stoke`, delete.

use anyhow::Result;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::Value;

use super::client::Cluster;
use super::discovery::{Discovery, Served};
use super::error::{Op, is_not_found};
use super::object::{self, Id};
use crate::manifest::Manifest;
use crate::record::ReleaseKey;

/// The field manager stoke applies as; `kubectl get -o yaml --show-managed-fields` shows it.
pub const FIELD_MANAGER: &str = "stoke";

/// An object ready to be sent: parsed, marked as the release's, placed in its namespace.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The rendered manifest it came from.
    pub manifest: Manifest,
    /// The body to apply.
    pub body: Value,
    /// How the cluster serves its kind.
    pub served: Served,
    /// Its identity, with the namespace as the cluster sees it.
    pub id: Id,
}

impl Prepared {
    /// Parses and places `m` for `release`.
    pub async fn new(
        cluster: &Cluster,
        discovery: &Discovery,
        m: &Manifest,
        release: &ReleaseKey,
    ) -> Result<Prepared> {
        let mut body = object::parse(m)?;
        let served = discovery.resolve(cluster, m).await?;
        let namespace = served.namespaced.then(|| {
            m.namespace
                .clone()
                .unwrap_or_else(|| release.namespace.clone())
        });
        object::set_namespace(&mut body, namespace.as_deref());
        object::mark_owned(&mut body, release);
        let id = Id {
            group: served.resource.group.clone(),
            kind: m.kind.clone(),
            namespace,
            name: m.name.clone(),
        };
        Ok(Prepared {
            manifest: m.clone(),
            body,
            served,
            id,
        })
    }

    /// "StatefulSet gw (from ignition/templates/statefulset.yaml)".
    pub fn label(&self) -> String {
        format!(
            "{} {} (from {})",
            self.manifest.kind, self.manifest.name, self.manifest.source
        )
    }

    /// The RBAC terms of `verb` on this object, for error messages.
    pub fn op(&self, verb: &str) -> Op {
        Op::new(verb, &self.served.rbac_name())
            .in_namespace(self.id.namespace.as_deref())
            .on(self.label())
    }
}

impl Cluster {
    fn api_for(&self, p: &Prepared) -> Api<DynamicObject> {
        match &p.id.namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &p.served.resource),
            None => Api::all_with(self.client.clone(), &p.served.resource),
        }
    }

    /// The live object, or `None` when it does not exist.
    pub async fn get_live(&self, p: &Prepared) -> Result<Option<Value>> {
        match self.api_for(p).get(&p.id.name).await {
            Ok(obj) => Ok(Some(serde_json::to_value(obj)?)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.explain(e, &p.op("get"))),
        }
    }

    /// Server-side applies `p` as field manager `stoke` and returns the object the server
    /// stored (or, for a dry run, would store).
    pub async fn apply(&self, p: &Prepared, force: bool, dry_run: bool) -> Result<Value> {
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.force = force;
        params.dry_run = dry_run;
        match self
            .api_for(p)
            .patch(&p.id.name, &params, &Patch::Apply(&p.body))
            .await
        {
            Ok(obj) => Ok(serde_json::to_value(obj)?),
            Err(e) => Err(self.explain(e, &p.op("patch"))),
        }
    }

    /// Creates `p` (hooks are created, never merged into an old object).
    pub async fn create(&self, p: &Prepared) -> Result<Value> {
        let obj: DynamicObject = serde_json::from_value(p.body.clone())?;
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PostParams::default()
        };
        match self.api_for(p).create(&params, &obj).await {
            Ok(obj) => Ok(serde_json::to_value(obj)?),
            Err(e) => Err(self.explain(e, &p.op("create"))),
        }
    }

    /// Deletes `p` in the background (dependents are left to the garbage collector, as
    /// Helm does); `false` when it was already gone.
    pub async fn delete(&self, p: &Prepared) -> Result<bool> {
        match self
            .api_for(p)
            .delete(&p.id.name, &DeleteParams::background())
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.explain(e, &p.op("delete"))),
        }
    }

    /// Creates namespace `ns` unless it exists; `true` when it was created.
    pub async fn ensure_namespace(&self, ns: &str) -> Result<bool> {
        let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(self.client.clone());
        let op = Op::new("get", "namespaces").on(format!("Namespace {ns}"));
        match api.get_opt(ns).await {
            Ok(Some(_)) => return Ok(false),
            Ok(None) => {}
            Err(e) => return Err(self.explain(e, &op)),
        }
        let body: k8s_openapi::api::core::v1::Namespace = serde_json::from_value(
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )?;
        match api.create(&PostParams::default(), &body).await {
            Ok(_) => Ok(true),
            Err(e) if super::error::is_conflict(&e) => Ok(false),
            Err(e) => Err(self.explain(
                e,
                &Op::new("create", "namespaces").on(format!("Namespace {ns}")),
            )),
        }
    }
}
