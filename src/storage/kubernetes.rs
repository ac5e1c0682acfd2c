//! The Kubernetes store: releases recorded in the cluster, in the release's namespace, as
//! Helm records them, so the record travels with the cluster. docs/store.md describes the
//! layout:
//!
//! - one Secret per revision, `stoke.v1.<release>.v<N>`, type `stoke.io/release.v1`,
//!   labels `owner=stoke`, `name`, `status`, `revision`, data `release` = the revision
//!   record as gzip-compressed JSON, and its summary in an annotation (so `history` never
//!   decompresses a record);
//! - one small index Secret per release, `stoke.v1.<release>`, type `stoke.io/index.v1`,
//!   data `head` = the [`Head`] as JSON (`list`, `status` and `upgrade` start from it);
//! - one coordination.k8s.io Lease per release, `stoke.v1.<release>`, as the lock: taken
//!   by compare-and-swap on its resourceVersion, renewed while held, and taken over once
//!   it has expired, so a killed holder blocks others only until the lease runs out (or
//!   at once, when the holder ran on the same machine and is seen gone: the lease names
//!   its process, see [`super::process`]).
//!
//! Writes are fenced by the lease: each one first renews it (a compare-and-swap), so a
//! process whose lease was taken over (it stalled past the expiry) fails instead of
//! writing next to the new holder.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, bail};
use k8s_openapi::ByteString;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams, Preconditions};

use super::{FORMAT_VERSION, Head, LockRetry, LockWait, ReleaseKey, ReleaseLock, Store};
use crate::kube::Cluster;
use crate::kube::error::{Op, is_conflict, is_not_found};
use crate::record::{Revision, Summary};

/// Secret type of a revision.
pub const REVISION_TYPE: &str = "stoke.io/release.v1";
/// Secret type of a release index.
pub const INDEX_TYPE: &str = "stoke.io/index.v1";
/// The API server refuses objects over about 1 MiB (etcd's request limit); a revision is
/// refused before that, with a message, rather than with the server's.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024 - 16 * 1024;
const SUMMARY_ANNOTATION: &str = "stoke.io/summary";
const KIND_LABEL: &str = "stoke.io/kind";
/// Index annotation set when a delete of the release begins (its value: when). Several
/// Secrets cannot be deleted at once, so the index says first that the release is going
/// and goes last: readers that see the mark read the release as gone, and the next
/// operation under the lock finishes a delete a crash interrupted.
const DELETING_ANNOTATION: &str = "stoke.io/deleting";
/// Lease annotation naming the holding process (see [`super::process`]), so a contender on
/// the same machine can tell that the holder was killed and take the lease at once.
const HOLDER_PROCESS_ANNOTATION: &str = "stoke.io/holder-process";

/// How long a lock lease lasts without renewal. `STOKE_KUBE_LEASE_SECONDS` overrides it
/// (tests shorten it so killed holders expire quickly).
fn lease_seconds() -> i32 {
    std::env::var("STOKE_KUBE_LEASE_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|s: &i32| *s > 0)
        .unwrap_or(30)
}

/// Releases recorded as Secrets in the cluster.
pub struct KubeStore {
    cluster: Cluster,
}

/// The held lease of one release; released (deleted, if still ours) on drop.
struct LeaseLock {
    api: Api<Lease>,
    name: String,
    state: Arc<Mutex<Lease>>,
    renewer: tokio::task::JoinHandle<()>,
}

impl Drop for LeaseLock {
    fn drop(&mut self) {
        self.renewer.abort();
        let api = self.api.clone();
        let name = self.name.clone();
        let rv = self
            .state
            .lock()
            .expect("lease")
            .metadata
            .resource_version
            .clone();
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                resource_version: rv,
                uid: None,
            }),
            ..DeleteParams::default()
        };
        // If it was taken over in the meantime the precondition fails: not ours to free.
        let _ = crate::rt::block_on(async move { api.delete(&name, &dp).await });
    }
}

fn object_name(key: &ReleaseKey) -> String {
    format!("stoke.v1.{}", key.name)
}

fn revision_name(key: &ReleaseKey, revision: u64) -> String {
    format!("stoke.v1.{}.v{revision}", key.name)
}

fn now() -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::now())
}

fn expired(lease: &Lease) -> bool {
    let Some(spec) = &lease.spec else { return true };
    if spec.holder_identity.as_deref().unwrap_or("").is_empty() {
        return true;
    }
    let (Some(renewed), Some(secs)) = (&spec.renew_time, spec.lease_duration_seconds) else {
        return true;
    };
    let age = k8s_openapi::jiff::Timestamp::now().duration_since(renewed.0);
    age.as_secs() >= i64::from(secs)
}

/// Whether the lease's holder ran on this machine and has exited (killed before it could
/// delete the lease): its lock is then free without waiting for the expiry.
fn holder_gone(lease: &Lease) -> bool {
    lease
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(HOLDER_PROCESS_ANNOTATION))
        .is_some_and(|p| super::process::is_gone(p))
}

/// The annotations a lease carries while this process holds it.
fn holder_annotations() -> Option<BTreeMap<String, String>> {
    super::process::current().map(|p| BTreeMap::from([(HOLDER_PROCESS_ANNOTATION.to_string(), p)]))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("writing to memory");
    e.finish().expect("writing to memory")
}

fn gunzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data).read_to_end(&mut out)?;
    Ok(out)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct IndexRecord {
    format: u32,
    #[serde(flatten)]
    head: Head,
}

impl KubeStore {
    /// A store in the cluster `cluster`.
    pub fn new(cluster: Cluster) -> KubeStore {
        KubeStore { cluster }
    }

    fn secrets(&self, ns: &str) -> Api<Secret> {
        Api::namespaced(self.cluster.client.clone(), ns)
    }

    fn leases(&self, ns: &str) -> Api<Lease> {
        Api::namespaced(self.cluster.client.clone(), ns)
    }

    fn damaged(&self, what: &str, e: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!(
            "release record {what} in {} is damaged ({e}): restore it from a backup, or delete that Secret if it is the latest revision of a release you can reinstall; no other record was changed",
            self.cluster.at()
        )
    }

    fn check_format(&self, what: &str, format: u32) -> Result<()> {
        if format > FORMAT_VERSION {
            bail!(
                "release record {what} in {} has format version {format}, but this stoke reads format {FORMAT_VERSION} and older: it was written by a newer stoke. Upgrade stoke to use this store (nothing was changed).",
                self.cluster.at()
            );
        }
        Ok(())
    }

    fn get_secret(&self, ns: &str, name: &str) -> Result<Option<Secret>> {
        let api = self.secrets(ns);
        let n = name.to_string();
        crate::rt::block_on(async move { api.get_opt(&n).await }).map_err(|e| {
            self.cluster.explain(
                e,
                &Op::new("get", "secrets")
                    .in_namespace(Some(ns))
                    .on(format!("Secret {name}")),
            )
        })
    }

    /// Creates `secret`, or replaces it if it exists (keeping the compare-and-swap on the
    /// resourceVersion read, so a concurrent writer makes this fail rather than vanish).
    fn put_secret(&self, ns: &str, mut secret: Secret) -> Result<()> {
        let name = secret.metadata.name.clone().expect("named");
        let existing = self.get_secret(ns, &name)?;
        let api = self.secrets(ns);
        let verb = if existing.is_some() {
            "update"
        } else {
            "create"
        };
        let result = crate::rt::block_on(async {
            match existing {
                Some(old) => {
                    secret.metadata.resource_version = old.metadata.resource_version;
                    api.replace(&name, &PostParams::default(), &secret).await
                }
                None => api.create(&PostParams::default(), &secret).await,
            }
        });
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conflict(&e) => bail!(
                "Secret {name} in namespace {ns} was changed by someone else while stoke wrote it (does another tool manage it?); nothing was overwritten"
            ),
            Err(e) => Err(self.cluster.explain(
                e,
                &Op::new(verb, "secrets")
                    .in_namespace(Some(ns))
                    .on(format!("Secret {name}")),
            )),
        }
    }

    fn delete_secret(&self, ns: &str, name: &str) -> Result<()> {
        let api = self.secrets(ns);
        let n = name.to_string();
        match crate::rt::block_on(async move { api.delete(&n, &DeleteParams::default()).await }) {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(self.cluster.explain(
                e,
                &Op::new("delete", "secrets")
                    .in_namespace(Some(ns))
                    .on(format!("Secret {name}")),
            )),
        }
    }

    fn list_secrets(&self, ns: Option<&str>, selector: &str) -> Result<Vec<Secret>> {
        let api: Api<Secret> = match ns {
            Some(ns) => self.secrets(ns),
            None => Api::all(self.cluster.client.clone()),
        };
        let lp = ListParams::default().labels(selector);
        crate::rt::block_on(async move { api.list(&lp).await })
            .map(|l| l.items)
            .map_err(|e| {
                self.cluster
                    .explain(e, &Op::new("list", "secrets").in_namespace(ns))
            })
    }

    fn revision_secrets(&self, key: &ReleaseKey) -> Result<Vec<(u64, Secret)>> {
        let selector = format!("owner=stoke,{KIND_LABEL}=revision,name={}", key.name);
        let mut out: Vec<(u64, Secret)> = self
            .list_secrets(Some(&key.namespace), &selector)?
            .into_iter()
            .filter_map(|s| {
                let n = s.metadata.labels.as_ref()?.get("revision")?.parse().ok()?;
                Some((n, s))
            })
            .collect();
        out.sort_by_key(|(n, _)| *n);
        Ok(out)
    }

    /// What a reader learns from the release's index Secret alone.
    fn index_state(&self, key: &ReleaseKey) -> Result<IndexState> {
        Ok(match self.get_secret(&key.namespace, &object_name(key))? {
            None => IndexState::Absent,
            Some(s) if deleting(&s) => IndexState::Deleting,
            // A deleted and recreated index gets a new uid; rewrites keep it.
            Some(s) => IndexState::Live(s.metadata.uid.unwrap_or_default()),
        })
    }

    /// The revision Secrets of one release as a reader may show them: the whole history
    /// or none of it, never the part a delete racing the read has not reached yet.
    ///
    /// A delete marks the index first and removes it last (see [`DELETING_ANNOTATION`]),
    /// so a listing taken while one and the same unmarked index existed before and after
    /// it is whole. A marked index means the release is going. With no index at all the
    /// release is what [`Store::head`] finds by probing: the revisions from 1 up to the
    /// first gap (a first install that died before writing its index leaves revision 1);
    /// without revision 1 there is none.
    fn readable_revisions(&self, key: &ReleaseKey) -> Result<Vec<(u64, Secret)>> {
        let before = self.index_state(key)?;
        if before == IndexState::Deleting {
            return Ok(Vec::new());
        }
        let listed = self.revision_secrets(key)?;
        let after = self.index_state(key)?;
        match (&before, &after) {
            (IndexState::Live(a), IndexState::Live(b)) if a == b => Ok(listed),
            (_, IndexState::Deleting) => Ok(Vec::new()),
            _ => Ok(listed
                .into_iter()
                .zip(1u64..)
                .take_while(|((n, _), want)| n == want)
                .map(|(r, _)| r)
                .collect()),
        }
    }

    /// Marks the release's index as being deleted (see [`DELETING_ANNOTATION`]), by
    /// compare-and-swap; `false` when it has no index.
    fn mark_deleting(&self, key: &ReleaseKey) -> Result<bool> {
        let Some(mut index) = self.get_secret(&key.namespace, &object_name(key))? else {
            return Ok(false);
        };
        if deleting(&index) {
            return Ok(true);
        }
        index
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(
                DELETING_ANNOTATION.to_string(),
                k8s_openapi::jiff::Timestamp::now().to_string(),
            );
        self.put_secret(&key.namespace, index)?;
        Ok(true)
    }

    /// Deletes the revisions oldest first, then the index.
    fn delete_all(&self, key: &ReleaseKey) -> Result<()> {
        for (i, n) in self.revision_numbers(key)?.into_iter().enumerate() {
            self.delete_secret(&key.namespace, &revision_name(key, n))?;
            if i == 0 {
                crate::failpoint::failpoint("delete-release-part-way");
            }
        }
        self.delete_secret(&key.namespace, &object_name(key))
    }

    /// Fails unless the lease behind `lock` is still this process's, renewing it.
    fn fence(&self, lock: &ReleaseLock) -> Result<()> {
        let Some(held) = lock.inner::<LeaseLock>() else {
            bail!("internal error: a Kubernetes store write under another store's lock");
        };
        let state = held.state.clone();
        let api = held.api.clone();
        let name = held.name.clone();
        crate::rt::block_on(renew(&api, &name, &state)).map_err(|e| {
            anyhow::anyhow!(
                "lost the lock on release {} (Lease {name} in namespace {}, on {}): {e}; nothing more was written: run the operation again once the API server answers (it repairs the release first)",
                lock.key().name,
                lock.key().namespace,
                self.cluster.at()
            )
        })
    }

    fn summary_of(&self, what: &str, s: &Secret) -> Result<Summary> {
        let text = s
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(SUMMARY_ANNOTATION))
            .ok_or_else(|| self.damaged(what, "no summary annotation"))?;
        serde_json::from_str(text).map_err(|e| self.damaged(what, e))
    }

    fn parse_revision(&self, key: &ReleaseKey, revision: u64, s: &Secret) -> Result<Revision> {
        let what = format!(
            "{key} revision {revision} (Secret {})",
            revision_name(key, revision)
        );
        let data = s
            .data
            .as_ref()
            .and_then(|d| d.get("release"))
            .ok_or_else(|| self.damaged(&what, "no `release` data"))?;
        let json = gunzip(&data.0).map_err(|e| self.damaged(&what, e))?;
        let probe: serde_json::Value =
            serde_json::from_slice(&json).map_err(|e| self.damaged(&what, e))?;
        self.check_format(&what, probe["format"].as_u64().unwrap_or(0) as u32)?;
        let rev: Revision = serde_json::from_value(probe).map_err(|e| self.damaged(&what, e))?;
        if rev.revision != revision || rev.key() != *key {
            return Err(self.damaged(&what, "the record names another release or revision"));
        }
        Ok(rev)
    }
}

/// A release's index Secret as readers judge it.
#[derive(Debug, PartialEq)]
enum IndexState {
    Absent,
    /// Marked by a delete in progress: the release reads as gone.
    Deleting,
    /// Present, with this uid.
    Live(String),
}

/// Whether an index Secret carries the mark of a delete in progress.
fn deleting(index: &Secret) -> bool {
    index
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(DELETING_ANNOTATION))
}

/// Renews the held lease by compare-and-swap; fails if it is no longer ours. The renewer
/// task and the write fence renew the same lease, so a conflict is re-read: it is only
/// lost when another holder's identity is in it (identities are unique per acquisition).
async fn renew(api: &Api<Lease>, name: &str, state: &Mutex<Lease>) -> Result<()> {
    let ours = state
        .lock()
        .expect("lease")
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.clone());
    for _ in 0..5 {
        let mut lease = state.lock().expect("lease").clone();
        if let Some(spec) = lease.spec.as_mut() {
            spec.renew_time = Some(now());
        }
        match api.replace(name, &PostParams::default(), &lease).await {
            Ok(updated) => {
                *state.lock().expect("lease") = updated;
                return Ok(());
            }
            Err(e) if is_conflict(&e) => {
                let current = api.get_opt(name).await?;
                match current {
                    Some(l) if l.spec.as_ref().and_then(|s| s.holder_identity.clone()) == ours => {
                        *state.lock().expect("lease") = l;
                    }
                    _ => bail!("another process took the lease over after it expired"),
                }
            }
            Err(e) if is_not_found(&e) => {
                bail!("the lease was deleted by someone else")
            }
            Err(e) => return Err(e.into()),
        }
    }
    bail!("the lease keeps changing under this process")
}

/// One attempt to take `name`: creates the lease, or takes over an expired one (or one
/// whose holder on this machine has exited), by
/// compare-and-swap. `Ok(None)` when someone else holds it.
async fn try_take(api: &Api<Lease>, name: &str, holder: &str) -> kube::Result<Option<Lease>> {
    let secs = lease_seconds();
    let spec = LeaseSpec {
        holder_identity: Some(holder.to_string()),
        lease_duration_seconds: Some(secs),
        acquire_time: Some(now()),
        renew_time: Some(now()),
        ..LeaseSpec::default()
    };
    match api.get_opt(name).await? {
        None => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(name.to_string()),
                    labels: Some(BTreeMap::from([("owner".to_string(), "stoke".to_string())])),
                    annotations: holder_annotations(),
                    ..ObjectMeta::default()
                },
                spec: Some(spec),
            };
            match api.create(&PostParams::default(), &lease).await {
                Ok(l) => Ok(Some(l)),
                Err(e) if is_conflict(&e) => Ok(None),
                Err(e) => Err(e),
            }
        }
        Some(old) if expired(&old) || holder_gone(&old) => {
            let mut lease = old.clone();
            lease.metadata.annotations = holder_annotations();
            let transitions = old
                .spec
                .as_ref()
                .and_then(|s| s.lease_transitions)
                .unwrap_or(0);
            lease.spec = Some(LeaseSpec {
                lease_transitions: Some(transitions + 1),
                ..spec
            });
            match api.replace(name, &PostParams::default(), &lease).await {
                Ok(l) => Ok(Some(l)),
                Err(e) if is_conflict(&e) => Ok(None),
                Err(e) => Err(e),
            }
        }
        Some(_) => Ok(None),
    }
}

fn holder_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".to_string());
    let mut r = [0u8; 6];
    let _ = getrandom::fill(&mut r);
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    format!("stoke/{host}/{}/{hex}", std::process::id())
}

impl Store for KubeStore {
    fn lock(&self, key: &ReleaseKey, wait: LockWait) -> Result<ReleaseLock> {
        let api = self.leases(&key.namespace);
        let name = object_name(key);
        let holder = holder_id();
        let mut retry = LockRetry::new(wait, Duration::from_millis(20), Duration::from_millis(250));
        loop {
            let got = crate::rt::block_on(try_take(&api, &name, &holder)).map_err(|e| {
                self.cluster.explain(
                    e,
                    &Op::new("update", "leases.coordination.k8s.io")
                        .in_namespace(Some(&key.namespace))
                        .on(format!("Lease {name}")),
                )
            })?;
            if let Some(lease) = got {
                let state = Arc::new(Mutex::new(lease));
                let every = Duration::from_secs_f64(f64::from(lease_seconds()) / 3.0);
                let (a, n, s) = (api.clone(), name.clone(), state.clone());
                let renewer = crate::rt::runtime().spawn(async move {
                    loop {
                        tokio::time::sleep(every).await;
                        if renew(&a, &n, &s).await.is_err() {
                            break;
                        }
                    }
                });
                let inner = LeaseLock {
                    api: api.clone(),
                    name: name.clone(),
                    state,
                    renewer,
                };
                return Ok(ReleaseLock::new(key.clone(), Box::new(inner)));
            }
            retry.before_next_try(key, Some(&format!("Lease {name}")))?;
        }
    }

    fn describe(&self) -> String {
        format!("Secrets on {}", self.cluster.at())
    }

    fn head(&self, key: &ReleaseKey) -> Result<Option<Head>> {
        let index = self.get_secret(&key.namespace, &object_name(key))?;
        let mut head = match index {
            // A delete in progress: the revisions it has not reached are not a release.
            Some(s) if deleting(&s) => return Ok(None),
            Some(s) => {
                let what = format!("{key} (index Secret {})", object_name(key));
                let data = s
                    .data
                    .as_ref()
                    .and_then(|d| d.get("head"))
                    .ok_or_else(|| self.damaged(&what, "no `head` data"))?;
                let probe: serde_json::Value =
                    serde_json::from_slice(&data.0).map_err(|e| self.damaged(&what, e))?;
                self.check_format(&what, probe["format"].as_u64().unwrap_or(0) as u32)?;
                let rec: IndexRecord =
                    serde_json::from_value(probe).map_err(|e| self.damaged(&what, e))?;
                Some(rec.head)
            }
            None => None,
        };
        // The index is written after the revisions it describes; probing the next numbers
        // finds revisions a crash left unindexed.
        let mut next = head.as_ref().map_or(1, |h| h.latest + 1);
        while let Some(s) = self.get_secret(&key.namespace, &revision_name(key, next))? {
            let what = format!("{key} revision {next}");
            let summary = self.summary_of(&what, &s)?;
            head = Some(Head::advanced(head, key, next, summary));
            next += 1;
        }
        Ok(head)
    }

    fn write_head(&self, lock: &ReleaseLock, head: &Head) -> Result<()> {
        lock.check(&head.key)?;
        self.fence(lock)?;
        let body = serde_json::to_vec(&IndexRecord {
            format: FORMAT_VERSION,
            head: head.clone(),
        })?;
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(object_name(&head.key)),
                labels: Some(BTreeMap::from([
                    ("owner".to_string(), "stoke".to_string()),
                    (KIND_LABEL.to_string(), "index".to_string()),
                    ("name".to_string(), head.key.name.clone()),
                ])),
                ..ObjectMeta::default()
            },
            type_: Some(INDEX_TYPE.to_string()),
            data: Some(BTreeMap::from([("head".to_string(), ByteString(body))])),
            ..Secret::default()
        };
        self.put_secret(&head.key.namespace, secret)
    }

    fn revision(&self, key: &ReleaseKey, revision: u64) -> Result<Option<Revision>> {
        match self.get_secret(&key.namespace, &revision_name(key, revision))? {
            Some(s) => Ok(Some(self.parse_revision(key, revision, &s)?)),
            None => Ok(None),
        }
    }

    fn write_revision(&self, lock: &ReleaseLock, revision: &Revision) -> Result<()> {
        let key = revision.key();
        lock.check(&key)?;
        let record = gzip(&serde_json::to_vec(revision)?);
        if record.len() > MAX_RECORD_BYTES {
            bail!(
                "revision {} of {key} is {} KiB compressed, more than the {} KiB a Kubernetes Secret can hold: nothing was written. Make the chart's rendered output smaller, or keep this release in a PostgreSQL or file store (--store)",
                revision.revision,
                record.len() / 1024,
                MAX_RECORD_BYTES / 1024
            );
        }
        self.fence(lock)?;
        let summary = serde_json::to_string(&revision.summary())?;
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(revision_name(&key, revision.revision)),
                labels: Some(BTreeMap::from([
                    ("owner".to_string(), "stoke".to_string()),
                    (KIND_LABEL.to_string(), "revision".to_string()),
                    ("name".to_string(), key.name.clone()),
                    ("status".to_string(), revision.status.as_str().to_string()),
                    ("revision".to_string(), revision.revision.to_string()),
                ])),
                annotations: Some(BTreeMap::from([(SUMMARY_ANNOTATION.to_string(), summary)])),
                ..ObjectMeta::default()
            },
            type_: Some(REVISION_TYPE.to_string()),
            data: Some(BTreeMap::from([(
                "release".to_string(),
                ByteString(record),
            )])),
            ..Secret::default()
        };
        self.put_secret(&key.namespace, secret)
    }

    fn history(&self, key: &ReleaseKey) -> Result<Vec<Summary>> {
        self.readable_revisions(key)?
            .iter()
            .map(|(n, s)| self.summary_of(&format!("{key} revision {n}"), s))
            .collect()
    }

    fn revision_numbers(&self, key: &ReleaseKey) -> Result<Vec<u64>> {
        Ok(self
            .revision_secrets(key)?
            .into_iter()
            .map(|(n, _)| n)
            .collect())
    }

    fn delete_revision(&self, lock: &ReleaseLock, revision: u64) -> Result<()> {
        self.fence(lock)?;
        self.delete_secret(&lock.key().namespace, &revision_name(lock.key(), revision))
    }

    fn delete_release(&self, lock: &ReleaseLock) -> Result<()> {
        self.fence(lock)?;
        let key = lock.key();
        // From the mark on, readers see no release; a crash part-way leaves the marked
        // index, and the next operation's sweep finishes the delete.
        self.mark_deleting(key)?;
        self.delete_all(key)
    }

    fn sweep(&self, lock: &ReleaseLock) -> Result<()> {
        // Called under the lock after every write and when the release reads as absent.
        // A marked index is a delete a crash cut short; revisions with neither an index nor
        // revision 1 are what an older stoke's interrupted delete (index first) left.
        let key = lock.key();
        match self.index_state(key)? {
            IndexState::Live(_) => Ok(()),
            IndexState::Deleting => {
                self.fence(lock)?;
                self.delete_all(key)
            }
            IndexState::Absent => {
                let numbers = self.revision_numbers(key)?;
                if numbers.first().is_some_and(|n| *n != 1) {
                    self.fence(lock)?;
                    for n in numbers {
                        self.delete_secret(&key.namespace, &revision_name(key, n))?;
                    }
                }
                Ok(())
            }
        }
    }

    fn list(&self, namespace: Option<&str>) -> Result<Vec<Head>> {
        let selector = format!("owner=stoke,{KIND_LABEL}=index");
        let mut heads = Vec::new();
        for s in self.list_secrets(namespace, &selector)? {
            if deleting(&s) {
                continue;
            }
            let ns = s.metadata.namespace.clone().unwrap_or_default();
            let name = s.metadata.name.clone().unwrap_or_default();
            let what = format!("index Secret {name} in namespace {ns}");
            let data = s
                .data
                .as_ref()
                .and_then(|d| d.get("head"))
                .ok_or_else(|| self.damaged(&what, "no `head` data"))?;
            let rec: IndexRecord =
                serde_json::from_slice(&data.0).map_err(|e| self.damaged(&what, e))?;
            self.check_format(&what, rec.format)?;
            heads.push(rec.head);
        }
        heads.sort_by(|a, b| {
            a.key
                .name
                .cmp(&b.key.name)
                .then_with(|| a.key.namespace.cmp(&b.key.namespace))
        });
        Ok(heads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_follow_the_release() {
        let k = ReleaseKey::new("plant-1", "gw").unwrap();
        assert_eq!(object_name(&k), "stoke.v1.gw");
        assert_eq!(revision_name(&k, 12), "stoke.v1.gw.v12");
    }

    #[test]
    fn records_round_trip_through_gzip() {
        let data = b"{\"format\":1}".repeat(100);
        let z = gzip(&data);
        assert!(z.len() < data.len());
        assert_eq!(gunzip(&z).unwrap(), data);
    }
}
