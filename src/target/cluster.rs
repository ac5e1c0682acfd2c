//! The cluster target: delivers a revision to Kubernetes by server-side apply, in Helm's
//! install order, with ownership checks, hooks, prune, waiting and undo on failure.
//! docs/cluster.md describes the rules from the user's side.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use super::{Action, Change, RolledBack, Target};
use crate::kube::Cluster;
use crate::kube::apply::Prepared;
use crate::kube::discovery::Discovery;
use crate::kube::hooks::{self, Event, Hook};
use crate::kube::object::{self, Id, Owner};
use crate::kube::ready::{self, Readiness, Rules};
use crate::manifest::Manifest;
use crate::progress::{self, State};
use crate::record::ReleaseKey;

/// Helm's default for `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The lifecycle flags that shape a delivery (Helm's names).
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// `--wait`: wait until every resource is ready.
    pub wait: bool,
    /// `--wait-for-jobs`: with `--wait`, Jobs must also complete.
    pub wait_for_jobs: bool,
    /// `--timeout`: how long waiting (and each hook) may take.
    pub timeout: Duration,
    /// `--force-conflicts`: take over fields another field manager owns.
    pub force_conflicts: bool,
    /// `--take-ownership`: adopt objects of no release or of another one.
    pub take_ownership: bool,
    /// `--create-namespace`: create the release namespace if missing.
    pub create_namespace: bool,
    /// `--skip-crds`: leave the chart's `crds/` alone.
    pub skip_crds: bool,
    /// `--no-hooks`: run no hooks.
    pub no_hooks: bool,
    /// `--atomic`: undo a failed change.
    pub atomic: bool,
    /// `--cleanup-on-fail`: delete the objects a failed change created.
    pub cleanup_on_fail: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            wait: false,
            wait_for_jobs: false,
            timeout: DEFAULT_TIMEOUT,
            force_conflicts: false,
            take_ownership: false,
            create_namespace: false,
            skip_crds: false,
            no_hooks: false,
            atomic: false,
            cleanup_on_fail: false,
        }
    }
}

/// A connected cluster as a [`Target`].
pub struct ClusterTarget {
    cluster: Cluster,
    opts: ClusterOptions,
    discovery: Discovery,
}

/// How one hook ran (for `stoke test` and the records of hooks).
#[derive(Debug, Clone)]
pub struct HookRun {
    /// `Pod name` and the like.
    pub object: String,
    /// The event it ran for.
    pub event: Event,
    /// `Succeeded`, `Failed` or `Applied` (for kinds that are not waited on).
    pub phase: String,
    /// Why it failed.
    pub message: Option<String>,
    /// Its logs, when asked for and the cluster could give them.
    pub logs: Option<String>,
}

/// What the delivery is doing, as a progress phase (the CLI decides how it is shown).
fn say(line: &str) {
    progress::phase(line);
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

impl ClusterTarget {
    /// A target delivering to `cluster` with `opts`.
    pub fn new(cluster: Cluster, opts: ClusterOptions) -> ClusterTarget {
        ClusterTarget {
            cluster,
            opts,
            discovery: Discovery::default(),
        }
    }

    /// The connected cluster.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The options.
    pub fn options(&self) -> &ClusterOptions {
        &self.opts
    }

    /// Splits rendered manifests into ordinary resources and hooks.
    fn split(manifests: &[Manifest]) -> Result<(Vec<Manifest>, Vec<Hook>)> {
        let mut plain = Vec::new();
        let mut hooks = Vec::new();
        for m in manifests {
            let obj = object::parse(m)?;
            match hooks::parse(m, &obj)? {
                Some(h) => hooks.push(h),
                None => plain.push(m.clone()),
            }
        }
        Ok((plain, hooks))
    }

    async fn prepare(&self, ms: &[Manifest], release: &ReleaseKey) -> Result<Vec<Prepared>> {
        let mut out = Vec::with_capacity(ms.len());
        for m in ms {
            out.push(Prepared::new(&self.cluster, &self.discovery, m, release).await?);
        }
        Ok(out)
    }

    /// Refuses objects that belong to someone else (unless `--take-ownership`); returns
    /// the identities of those that already exist, and of those adopted.
    async fn check_ownership(
        &self,
        objs: &[Prepared],
        release: &ReleaseKey,
    ) -> Result<(BTreeSet<Id>, BTreeSet<Id>)> {
        let mut existing = BTreeSet::new();
        let mut adopted = BTreeSet::new();
        let mut refusals = Vec::new();
        for p in objs {
            let Some(live) = self.cluster.get_live(p).await? else {
                continue;
            };
            existing.insert(p.id.clone());
            let whose = match object::owner(&live, release) {
                Owner::Us => continue,
                Owner::Release(r) => format!("belongs to stoke release {r}"),
                Owner::Helm(r) => format!("belongs to Helm release {r}"),
                Owner::Nobody => "exists and belongs to no release".to_string(),
            };
            if self.opts.take_ownership {
                say(&format!("taking ownership of {} ({whose})", p.id));
                adopted.insert(p.id.clone());
            } else {
                refusals.push(format!("  - {} {whose}", p.id));
            }
        }
        if !refusals.is_empty() {
            bail!(
                "cannot apply release {} in namespace {}: objects already exist that it does not own:\n{}\nremove them, or adopt them with --take-ownership",
                release.name,
                release.namespace,
                refusals.join("\n")
            );
        }
        Ok((existing, adopted))
    }

    async fn install_crds(&self, crds: &[Manifest], release: &ReleaseKey) -> Result<()> {
        for m in crds {
            let p = Prepared::new(&self.cluster, &self.discovery, m, release).await?;
            if self.cluster.get_live(&p).await?.is_some() {
                // Helm's rule: CRDs are installed once and never changed by a release.
                say(&format!("CRD {} exists; left as it is", m.name));
                continue;
            }
            self.cluster.apply(&p, false, false).await?;
            say(&format!("installed CRD {}", m.name));
            self.wait_established(&p).await?;
            self.wait_served(&p).await?;
        }
        Ok(())
    }

    async fn wait_established(&self, p: &Prepared) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(live) = self.cluster.get_live(p).await?
                && live
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c["type"] == "Established" && c["status"] == "True")
                    })
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "CRD {} was not established by {} within 60s",
                    p.id.name,
                    self.cluster.at()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until discovery serves the kind a new CRD defines: the API server takes a
    /// moment after `Established` to publish the group.
    async fn wait_served(&self, crd: &Prepared) -> Result<()> {
        let body = &crd.body;
        let (Some(group), Some(kind)) = (
            body.pointer("/spec/group").and_then(Value::as_str),
            body.pointer("/spec/names/kind").and_then(Value::as_str),
        ) else {
            return Ok(());
        };
        let versions: Vec<&str> = body
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .map(|vs| vs.iter().filter_map(|v| v.get("name")?.as_str()).collect())
            .unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(30);
        for v in versions {
            let probe = Manifest {
                source: crd.manifest.source.clone(),
                api_version: format!("{group}/{v}"),
                kind: kind.to_string(),
                name: crd.manifest.name.clone(),
                namespace: None,
                body: String::new(),
            };
            loop {
                self.discovery.forget(&probe.api_version);
                match self.discovery.resolve(&self.cluster, &probe).await {
                    Ok(_) => break,
                    Err(e) if Instant::now() > deadline => return Err(e),
                    Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
                }
            }
        }
        Ok(())
    }

    async fn delete_and_wait_gone(&self, p: &Prepared, deadline: Instant) -> Result<()> {
        if !self.cluster.delete(p).await? {
            return Ok(());
        }
        while self.cluster.get_live(p).await?.is_some() {
            if Instant::now() > deadline {
                bail!("{} was still being deleted when time ran out", p.id);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(())
    }

    /// Runs the hooks of `event`; a failed hook fails the operation.
    async fn run_hooks(
        &self,
        all: &[Hook],
        event: Event,
        release: &ReleaseKey,
        logs: bool,
    ) -> Result<Vec<HookRun>> {
        let mut runs = Vec::new();
        if self.opts.no_hooks && event != Event::Test {
            return Ok(runs);
        }
        for h in hooks::for_event(all, event) {
            let p = Prepared::new(&self.cluster, &self.discovery, &h.manifest, release).await?;
            let deadline = Instant::now() + self.opts.timeout;
            if h.delete.before_creation {
                self.delete_and_wait_gone(&p, deadline).await?;
            }
            let item = p.id.progress_key();
            progress::item(
                &item,
                State::Working,
                format!("running {} hook (weight {})", event.as_str(), h.weight),
            );
            self.cluster.apply(&p, true, false).await?;
            let waited = matches!(h.manifest.kind.as_str(), "Job" | "Pod");
            let outcome = if waited {
                self.wait_for(
                    std::slice::from_ref(&p),
                    Rules { jobs: true },
                    deadline,
                    "hook",
                )
                .await
            } else {
                Ok(())
            };
            let logs = if logs && h.manifest.kind == "Pod" {
                self.pod_logs(&p).await
            } else {
                None
            };
            let mut run = HookRun {
                object: format!("{} {}", h.manifest.kind, h.manifest.name),
                event,
                phase: if !waited {
                    "Applied".into()
                } else if outcome.is_ok() {
                    "Succeeded".into()
                } else {
                    "Failed".into()
                },
                message: outcome.as_ref().err().map(|e| format!("{e:#}")),
                logs,
            };
            match &outcome {
                Ok(()) => progress::item(&item, State::Ready, run.phase.to_lowercase()),
                Err(e) => progress::item(&item, State::Failed, format!("{e:#}")),
            }
            match outcome {
                Ok(()) => {
                    if h.delete.on_success {
                        self.cluster.delete(&p).await?;
                    }
                    runs.push(run);
                }
                Err(e) => {
                    if h.delete.on_failure {
                        self.cluster.delete(&p).await?;
                    }
                    if event == Event::Test {
                        run.message = Some(format!("{e:#}"));
                        runs.push(run);
                        continue;
                    }
                    return Err(e.context(format!(
                        "{} hook {} {} failed",
                        event.as_str(),
                        h.manifest.kind,
                        h.manifest.name
                    )));
                }
            }
        }
        Ok(runs)
    }

    async fn pod_logs(&self, p: &Prepared) -> Option<String> {
        let ns = p.id.namespace.as_deref()?;
        let api: kube::Api<k8s_openapi::api::core::v1::Pod> =
            kube::Api::namespaced(self.cluster.client.clone(), ns);
        api.logs(&p.id.name, &Default::default()).await.ok()
    }

    /// Polls `objs` until each is ready, one fails, or `deadline` passes; the error names
    /// every object not ready and why.
    async fn wait_for(
        &self,
        objs: &[Prepared],
        rules: Rules,
        deadline: Instant,
        what: &str,
    ) -> Result<()> {
        let mut last: HashMap<Id, Readiness> = HashMap::new();
        loop {
            let mut waiting = Vec::new();
            let mut failed = Vec::new();
            for p in objs {
                let state = match self.cluster.get_live(p).await? {
                    None => Readiness::Progressing("not found".into()),
                    Some(live) => ready::judge(&p.manifest.kind, &live, rules),
                };
                if last.get(&p.id) != Some(&state) {
                    let key = p.id.progress_key();
                    match &state {
                        Readiness::Ready => progress::item(key, State::Ready, ""),
                        Readiness::Progressing(why) => progress::item(key, State::Working, why),
                        Readiness::Failed(why) => progress::item(key, State::Failed, why),
                    }
                    last.insert(p.id.clone(), state.clone());
                }
                match state {
                    Readiness::Ready => {}
                    Readiness::Progressing(why) => waiting.push(format!("  - {}: {why}", p.id)),
                    Readiness::Failed(why) => failed.push(format!("  - {}: {why}", p.id)),
                }
            }
            if !failed.is_empty() {
                bail!("{what} failed:\n{}", failed.join("\n"));
            }
            if waiting.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "timed out after {} waiting for {what}; not ready:\n{}",
                    human(self.opts.timeout),
                    waiting.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Deletes the objects of `gone` (in reverse install order) that the release owns,
    /// except those the keep policy protects.
    async fn delete_owned(
        &self,
        gone: &[Manifest],
        release: &ReleaseKey,
        verb: &str,
    ) -> Result<()> {
        for m in gone.iter().rev() {
            let p = match Prepared::new(&self.cluster, &self.discovery, m, release).await {
                Ok(p) => p,
                Err(e) => {
                    progress::warning(format!("skipping {} {}: {e:#}", m.kind, m.name));
                    continue;
                }
            };
            let Some(live) = self.cluster.get_live(&p).await? else {
                continue;
            };
            if object::is_kept(&live) || object::is_kept(&p.body) {
                progress::warning(format!("kept {} (helm.sh/resource-policy: keep)", p.id));
                continue;
            }
            match object::owner(&live, release) {
                Owner::Us => {}
                other => {
                    progress::warning(format!(
                        "left {}: it is no longer this release's ({other:?})",
                        p.id
                    ));
                    continue;
                }
            }
            self.cluster.delete(&p).await?;
            say(&format!("{verb} {}", p.id));
        }
        Ok(())
    }

    /// Delivers `c`. `recovering`: putting a recorded revision back after a crash, which
    /// runs no hooks, does not wait and is not undone on failure.
    async fn deliver(&self, c: &Change<'_>, recovering: bool) -> Result<()> {
        let release = c.release;
        if self.opts.create_namespace && self.cluster.ensure_namespace(&release.namespace).await? {
            say(&format!("created namespace {}", release.namespace));
        }
        if c.action == Action::Install && !self.opts.skip_crds {
            self.install_crds(c.crds, release).await?;
        }
        let (plain, hooks) = Self::split(c.manifests)?;
        let objs = self.prepare(&plain, release).await?;
        let (existing, adopted) = self.check_ownership(&objs, release).await?;
        let (pre, post) = match c.action {
            Action::Install => (Event::PreInstall, Event::PostInstall),
            Action::Upgrade => (Event::PreUpgrade, Event::PostUpgrade),
            Action::Rollback => (Event::PreRollback, Event::PostRollback),
        };
        let mut created: Vec<Manifest> = Vec::new();
        let outcome: Result<()> = async {
            if !recovering {
                self.run_hooks(&hooks, pre, release, false).await?;
            }
            let waiting = self.opts.wait && !recovering;
            for p in &objs {
                // Adopting an object means taking its fields from whoever set them.
                let force = self.opts.force_conflicts || adopted.contains(&p.id);
                let key = p.id.progress_key();
                if let Err(e) = self.cluster.apply(p, force, false).await {
                    progress::item(key, State::Failed, "refused by the API server");
                    return Err(e);
                }
                // With --wait the object is not done until it is ready.
                let state = if waiting {
                    State::Working
                } else {
                    State::Ready
                };
                progress::item(key, state, "applied");
                if !existing.contains(&p.id) {
                    created.push(p.manifest.clone());
                }
                crate::failpoint::failpoint("cluster-after-first-apply");
            }
            say(&format!(
                "applied {} resources to {}",
                objs.len(),
                self.cluster.at()
            ));
            let (mut prev_plain, _) = Self::split(c.previous)?;
            prev_plain.extend(Self::split(c.stale)?.0);
            let keep: BTreeSet<Id> = plain.iter().map(|m| object::id_of(m, release)).collect();
            let gone: Vec<Manifest> = prev_plain
                .into_iter()
                .filter(|m| !keep.contains(&object::id_of(m, release)))
                .collect();
            self.delete_owned(&gone, release, "pruned").await?;
            if self.opts.wait && !recovering {
                say(&format!(
                    "waiting up to {} for {} resources",
                    human(self.opts.timeout),
                    objs.len()
                ));
                let rules = Rules {
                    jobs: self.opts.wait_for_jobs,
                };
                self.wait_for(
                    &objs,
                    rules,
                    Instant::now() + self.opts.timeout,
                    "the release's resources",
                )
                .await?;
            }
            if !recovering {
                self.run_hooks(&hooks, post, release, false).await?;
            }
            Ok(())
        }
        .await;
        let Err(cause) = outcome else {
            return Ok(());
        };
        if self.opts.atomic && !recovering {
            say(&format!("{cause:#}"));
            return Err(match self.undo(c, &plain).await {
                Ok(to) => anyhow::Error::new(RolledBack { cause, to }),
                Err(e) => e.context(format!(
                    "--atomic could not undo the failed change: {cause:#}"
                )),
            });
        }
        if self.opts.cleanup_on_fail && !recovering && !created.is_empty() {
            say(&format!(
                "--cleanup-on-fail: deleting {} objects this change created",
                created.len()
            ));
            self.delete_owned(&created, release, "deleted").await?;
        }
        Err(cause)
    }

    /// Puts the previous revision back (or removes a failed install) and says which.
    async fn undo(&self, c: &Change<'_>, new_plain: &[Manifest]) -> Result<Option<u64>> {
        if c.previous.is_empty() || c.previous_revision.is_none() {
            self.delete_owned(new_plain, c.release, "deleted").await?;
            return Ok(None);
        }
        let (prev_plain, _) = Self::split(c.previous)?;
        let objs = self.prepare(&prev_plain, c.release).await?;
        for p in &objs {
            self.cluster.apply(p, true, false).await?;
        }
        let keep: BTreeSet<Id> = prev_plain
            .iter()
            .map(|m| object::id_of(m, c.release))
            .collect();
        let extra: Vec<Manifest> = new_plain
            .iter()
            .filter(|m| !keep.contains(&object::id_of(m, c.release)))
            .cloned()
            .collect();
        self.delete_owned(&extra, c.release, "deleted").await?;
        Ok(c.previous_revision)
    }

    /// Runs the test hooks of `manifests` (`stoke test`) and reports each.
    pub fn run_tests(
        &self,
        release: &ReleaseKey,
        manifests: &[Manifest],
        logs: bool,
    ) -> Result<Vec<HookRun>> {
        let (_, hooks) = Self::split(manifests)?;
        crate::rt::block_on(self.run_hooks(&hooks, Event::Test, release, logs))
    }

    /// The live state of each resource of `manifests` (`stoke status`).
    pub fn live_states(
        &self,
        release: &ReleaseKey,
        manifests: &[Manifest],
    ) -> Result<Vec<(Prepared, Option<Value>)>> {
        crate::rt::block_on(async {
            let (plain, _) = Self::split(manifests)?;
            let mut out = Vec::new();
            for m in &plain {
                let p = Prepared::new(&self.cluster, &self.discovery, m, release).await?;
                let live = self.cluster.get_live(&p).await?;
                out.push((p, live));
            }
            Ok(out)
        })
    }
}

impl Target for ClusterTarget {
    fn apply(&self, change: &Change) -> Result<()> {
        crate::rt::block_on(self.deliver(change, false))
    }

    fn remove(&self, release: &ReleaseKey, manifests: &[Manifest]) -> Result<()> {
        crate::rt::block_on(async {
            let (plain, hooks) = Self::split(manifests)?;
            self.run_hooks(&hooks, Event::PreDelete, release, false)
                .await?;
            self.delete_owned(&plain, release, "deleted").await?;
            self.run_hooks(&hooks, Event::PostDelete, release, false)
                .await?;
            Ok(())
        })
    }

    fn check(&self, release: &ReleaseKey, manifests: &[Manifest]) -> Result<()> {
        crate::rt::block_on(async {
            let (plain, _) = Self::split(manifests)?;
            let objs = self.prepare(&plain, release).await?;
            self.check_ownership(&objs, release).await?;
            for p in &objs {
                self.cluster
                    .apply(p, self.opts.force_conflicts, true)
                    .await
                    .with_context(|| format!("server-side dry run of {}", p.label()))?;
            }
            say(&format!(
                "server-side dry run: {} resources accepted by {}",
                objs.len(),
                self.cluster.at()
            ));
            Ok(())
        })
    }

    fn converge(
        &self,
        release: &ReleaseKey,
        interrupted: &[Manifest],
        deployed: Option<(u64, &[Manifest])>,
    ) -> Result<()> {
        match deployed {
            Some((n, manifests)) => {
                say(&format!(
                    "an interrupted operation left release {} half-applied; restoring revision {n} in the cluster",
                    release.name
                ));
                crate::rt::block_on(
                    self.deliver(&Change::restoring(release, n, manifests, interrupted), true),
                )
                .map_err(|e| anyhow!("{e:#}"))
            }
            None => {
                say(&format!(
                    "an interrupted install left objects of release {} behind; removing them",
                    release.name
                ));
                crate::rt::block_on(async {
                    let (plain, _) = Self::split(interrupted)?;
                    self.delete_owned(&plain, release, "deleted").await
                })
            }
        }
    }

    fn restore(&self, _release: &ReleaseKey, _deployed: Option<&[Manifest]>) -> Result<()> {
        Ok(())
    }

    fn describe(&self) -> String {
        self.cluster.at()
    }
}
