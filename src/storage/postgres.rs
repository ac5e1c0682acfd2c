//! The PostgreSQL store: one row per revision and one small row per release (its
//! [`Head`]) in tables that stoke creates and migrates itself, with the per-release lock as
//! a session-level advisory lock. docs/store.md describes the schema and the guarantees.
//!
//! Each store call is one transaction, so a connection lost in the middle of a write
//! leaves the database as it was before that write; the lifecycle's write order (see
//! [`crate::release`]) makes the next locked operation finish or repair the rest, exactly
//! as after a crash with the file store. The connection is never re-established behind
//! the caller's back: the advisory lock lives and dies with it, so writing on a fresh
//! connection could write without the lock.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::location::redact_password;
use super::tls::TlsChoice;
use super::{FORMAT_VERSION, Head, LockRetry, LockWait, ReleaseKey, ReleaseLock, Store};
use crate::record::{Revision, Summary};

/// The database schema version this stoke creates and understands.
pub const SCHEMA_VERSION: i64 = 1;

/// Migrations by the version they lead to; `MIGRATIONS[i]` turns version `i` into `i + 1`.
/// Each runs in the same transaction that records the new version.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema. Summaries are JSON text so `history` and `list` read them
    // without the (large) records; records are JSON text so `psql` shows them as they are.
    "CREATE TABLE IF NOT EXISTS stoke_releases (
        namespace text NOT NULL,
        name text NOT NULL,
        format integer NOT NULL,
        latest bigint NOT NULL,
        deployed bigint,
        summary text NOT NULL,
        PRIMARY KEY (namespace, name)
    );
    CREATE TABLE IF NOT EXISTS stoke_revisions (
        namespace text NOT NULL,
        name text NOT NULL,
        revision bigint NOT NULL,
        format integer NOT NULL,
        summary text NOT NULL,
        record text NOT NULL,
        PRIMARY KEY (namespace, name, revision)
    );",
];

/// Advisory lock key that serialises schema creation and migration across processes.
const MIGRATION_LOCK: i64 = 0x5354_4f4b_4553_4348; // "STOKESCH"

/// A release store in a PostgreSQL database.
pub struct PostgresStore {
    client: Arc<Client>,
    /// The URL with any password hidden, for messages.
    shown: String,
    /// Advisory locks this connection holds. PostgreSQL lets a session take its own lock
    /// again, so a second `lock` through the same store must be refused here.
    held: Arc<Mutex<HashSet<i64>>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.shown)
            .finish()
    }
}

/// Holds a release's advisory lock; unlocks on drop. If the process dies or the
/// connection is lost, the server drops the lock with the session.
struct AdvisoryLock {
    client: Arc<Client>,
    id: i64,
    held: Arc<Mutex<HashSet<i64>>>,
}

impl Drop for AdvisoryLock {
    fn drop(&mut self) {
        let client = self.client.clone();
        let id = self.id;
        // A dead connection has already released it on the server side.
        let _ = crate::rt::block_on(async move {
            client
                .execute("SELECT pg_advisory_unlock($1)", &[&id])
                .await
        });
        self.held.lock().expect("lock set").remove(&self.id);
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB?sslmode=MODE`),
    /// creating or migrating the schema if needed. A schema newer than this stoke's is
    /// refused before anything is written.
    pub fn open(url: &str) -> Result<PostgresStore> {
        let shown = redact_password(url);
        let client = connect(url).with_context(|| {
            format!("cannot connect to the PostgreSQL store {shown} (check the address, credentials and sslmode; see docs/store.md)")
        })?;
        let store = PostgresStore {
            client: Arc::new(client),
            shown,
            held: Arc::default(),
        };
        store.ensure_schema()?;
        Ok(store)
    }

    /// The store's URL as shown in messages (password hidden).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    fn run<T>(
        &self,
        what: impl FnOnce() -> String,
        fut: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        crate::rt::block_on(fut).map_err(|e| {
            // A lost server (crash, restart, failover, network) is worth a word on what
            // to do; a refused statement speaks for itself.
            let lost = e.is_closed()
                || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
            let advice = if lost {
                ": the connection to the server was lost and the server rolled back the write in progress; run the operation again once the server is back (it repairs the release first)"
            } else {
                ""
            };
            anyhow::Error::new(e).context(format!(
                "{} in the PostgreSQL store {}{advice}",
                what(),
                self.shown
            ))
        })
    }

    fn schema_version(&self) -> Result<i64> {
        let c = self.client.clone();
        self.run(
            || "cannot read the schema version".to_string(),
            async move {
                let exists: bool = c
                    .query_one("SELECT to_regclass('stoke_meta') IS NOT NULL", &[])
                    .await?
                    .get(0);
                if !exists {
                    return Ok(0);
                }
                let row = c
                    .query_opt(
                        "SELECT value FROM stoke_meta WHERE key = 'schema_version'",
                        &[],
                    )
                    .await?;
                Ok(row.map_or(0, |r| r.get::<_, String>(0).parse().unwrap_or(-1)))
            },
        )
    }

    fn refuse_newer(&self, found: i64) -> Result<()> {
        if found > SCHEMA_VERSION {
            bail!(
                "the PostgreSQL store {} has schema version {found}, but this stoke understands schema version {SCHEMA_VERSION} and older: it was migrated by a newer stoke. Upgrade stoke to use this database (nothing was changed).",
                self.shown
            );
        }
        if found < 0 {
            bail!(
                "the PostgreSQL store {} has an unreadable schema_version in table stoke_meta: repair it by hand (it must be a whole number) before using the store",
                self.shown
            );
        }
        Ok(())
    }

    /// Creates the tables on first use and applies pending migrations; a no-op read when
    /// the schema is current (so a role without CREATE can use an existing store).
    fn ensure_schema(&self) -> Result<()> {
        let found = self.schema_version()?;
        self.refuse_newer(found)?;
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        let c = self.client.clone();
        let outcome = self.run(
            || "cannot create or migrate the schema (the role needs CREATE on the database's schema the first time; see docs/store.md)".to_string(),
            async move {
                c.batch_execute("BEGIN").await?;
                let result = async {
                    c.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                        .await?;
                    c.batch_execute(
                        "CREATE TABLE IF NOT EXISTS stoke_meta (key text PRIMARY KEY, value text NOT NULL)",
                    )
                    .await?;
                    // Another process may have migrated while we waited for the lock.
                    let now: i64 = c
                        .query_opt("SELECT value FROM stoke_meta WHERE key = 'schema_version'", &[])
                        .await?
                        .map_or(0, |r| r.get::<_, String>(0).parse().unwrap_or(-1));
                    if !(0..SCHEMA_VERSION).contains(&now) {
                        return Ok(Some(now));
                    }
                    for sql in &MIGRATIONS[now as usize..SCHEMA_VERSION as usize] {
                        c.batch_execute(sql).await?;
                    }
                    c.execute(
                        "INSERT INTO stoke_meta (key, value) VALUES ('schema_version', $1)
                         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                        &[&SCHEMA_VERSION.to_string()],
                    )
                    .await?;
                    Ok(None)
                }
                .await;
                match result {
                    Ok(v) => {
                        c.batch_execute("COMMIT").await?;
                        Ok(v)
                    }
                    Err(e) => {
                        let _ = c.batch_execute("ROLLBACK").await;
                        Err(e)
                    }
                }
            },
        )?;
        if let Some(now) = outcome {
            self.refuse_newer(now)?;
        }
        Ok(())
    }

    /// Runs `body` inside one transaction, rolled back on any error.
    fn transaction<F, Fut>(&self, what: impl FnOnce() -> String, body: F) -> Result<()>
    where
        F: FnOnce(Arc<Client>) -> Fut,
        Fut: std::future::Future<Output = Result<(), tokio_postgres::Error>>,
    {
        let c = self.client.clone();
        let fut = body(c.clone());
        self.run(what, async move {
            c.batch_execute("BEGIN").await?;
            match fut.await {
                Ok(()) => c.batch_execute("COMMIT").await,
                Err(e) => {
                    let _ = c.batch_execute("ROLLBACK").await;
                    Err(e)
                }
            }
        })
    }

    fn damaged(&self, what: &str, e: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!(
            "release record {what} in the PostgreSQL store {} is damaged ({e}): restore it from a backup, or delete that row if it is the latest revision of a release you can reinstall; no other record was changed",
            self.shown
        )
    }

    fn check_format(&self, what: &str, format: i32) -> Result<()> {
        if format > FORMAT_VERSION as i32 {
            bail!(
                "release record {what} in the PostgreSQL store {} has format version {format}, but this stoke reads format {FORMAT_VERSION} and older: it was written by a newer stoke. Upgrade stoke to use this store (nothing was changed).",
                self.shown
            );
        }
        if format < 1 {
            return Err(self.damaged(what, format!("format {format}")));
        }
        Ok(())
    }

    fn parse_summary(&self, what: &str, format: i32, text: &str) -> Result<Summary> {
        self.check_format(what, format)?;
        serde_json::from_str(text).map_err(|e| self.damaged(what, e))
    }
}

/// The advisory lock id of a release: 64 bits of a digest of its key, so unrelated
/// applications' advisory locks are unlikely to collide with it.
fn lock_id(key: &ReleaseKey) -> i64 {
    let mut h = Sha256::new();
    h.update(b"stoke-release\0");
    h.update(key.namespace.as_bytes());
    h.update(b"\0");
    h.update(key.name.as_bytes());
    let d = h.finalize();
    i64::from_be_bytes(d[..8].try_into().expect("a digest has 8 bytes"))
}

fn revision_what(key: &ReleaseKey, revision: u64) -> String {
    format!("{key} revision {revision}")
}

fn connect(url: &str) -> Result<Client> {
    let (rest, tls) = TlsChoice::from_url(url)?;
    let mut config: tokio_postgres::Config = rest
        .parse()
        .context("the PostgreSQL URL does not parse (expected postgres://USER[:PASSWORD]@HOST[:PORT]/DB?sslmode=MODE)")?;
    if config.get_password().is_none()
        && let Some(p) = std::env::var_os("PGPASSWORD")
    {
        config.password(p.to_string_lossy().as_bytes());
    }
    if config.get_user().is_none()
        && let Ok(u) = std::env::var("PGUSER").or_else(|_| std::env::var("USER"))
    {
        config.user(&u);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("stoke");
    let connector = tls.connector()?;
    crate::rt::block_on(async move {
        match connector {
            None => {
                let (client, conn) = config.connect(tokio_postgres::NoTls).await?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                Ok(client)
            }
            Some(tls) => {
                let (client, conn) = config.connect(tls).await?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                Ok(client)
            }
        }
    })
    .map_err(|e: tokio_postgres::Error| anyhow::Error::new(e))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn head_from_row(key: &ReleaseKey, latest: i64, deployed: Option<i64>, summary: Summary) -> Head {
    Head {
        key: key.clone(),
        latest: latest as u64,
        deployed: deployed.map(|d| d as u64),
        summary,
    }
}

impl Store for PostgresStore {
    fn lock(&self, key: &ReleaseKey, wait: LockWait) -> Result<ReleaseLock> {
        let id = lock_id(key);
        let mut retry = LockRetry::new(wait, Duration::from_millis(5), Duration::from_millis(50));
        loop {
            let mine = self.held.lock().expect("lock set").contains(&id);
            if !mine {
                let c = self.client.clone();
                let got: bool = self.run(|| format!("cannot lock release {key}"), async move {
                    Ok(c.query_one("SELECT pg_try_advisory_lock($1)", &[&id])
                        .await?
                        .get(0))
                })?;
                if got {
                    self.held.lock().expect("lock set").insert(id);
                    let guard = AdvisoryLock {
                        client: self.client.clone(),
                        id,
                        held: self.held.clone(),
                    };
                    return Ok(ReleaseLock::new(key.clone(), Box::new(guard)));
                }
            }
            retry.before_next_try(key, None)?;
        }
    }

    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn head(&self, key: &ReleaseKey) -> Result<Option<Head>> {
        let c = self.client.clone();
        let (ns, name) = (key.namespace.clone(), key.name.clone());
        let row = self.run(
            || format!("cannot read release {key}"),
            async move {
                c.query_opt(
                    "SELECT format, latest, deployed, summary FROM stoke_releases WHERE namespace = $1 AND name = $2",
                    &[&ns, &name],
                )
                .await
            },
        )?;
        let Some(row) = row else { return Ok(None) };
        let what = format!("{key} (release index)");
        let summary = self.parse_summary(&what, row.get(0), row.get(3))?;
        Ok(Some(head_from_row(key, row.get(1), row.get(2), summary)))
    }

    fn write_head(&self, lock: &ReleaseLock, head: &Head) -> Result<()> {
        lock.check(&head.key)?;
        let summary = serde_json::to_string(&head.summary)?;
        let (ns, name) = (head.key.namespace.clone(), head.key.name.clone());
        let latest = to_i64(head.latest);
        let deployed = head.deployed.map(to_i64);
        let format = FORMAT_VERSION as i32;
        self.transaction(
            || format!("cannot write the index of release {}", head.key),
            |c| async move {
                c.execute(
                    "INSERT INTO stoke_releases (namespace, name, format, latest, deployed, summary)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (namespace, name) DO UPDATE SET format = EXCLUDED.format,
                       latest = EXCLUDED.latest, deployed = EXCLUDED.deployed, summary = EXCLUDED.summary",
                    &[&ns, &name, &format, &latest, &deployed, &summary],
                )
                .await?;
                Ok(())
            },
        )
    }

    fn revision(&self, key: &ReleaseKey, revision: u64) -> Result<Option<Revision>> {
        let c = self.client.clone();
        let (ns, name, n) = (key.namespace.clone(), key.name.clone(), to_i64(revision));
        let row = self.run(
            || format!("cannot read {}", revision_what(key, revision)),
            async move {
                c.query_opt(
                    "SELECT format, record FROM stoke_revisions WHERE namespace = $1 AND name = $2 AND revision = $3",
                    &[&ns, &name, &n],
                )
                .await
            },
        )?;
        let Some(row) = row else { return Ok(None) };
        let what = revision_what(key, revision);
        self.check_format(&what, row.get(0))?;
        let rev: Revision = serde_json::from_str(row.get(1)).map_err(|e| self.damaged(&what, e))?;
        if rev.revision != revision || rev.key() != *key {
            return Err(self.damaged(&what, "the record names another release or revision"));
        }
        Ok(Some(rev))
    }

    fn write_revision(&self, lock: &ReleaseLock, revision: &Revision) -> Result<()> {
        let key = revision.key();
        lock.check(&key)?;
        let record = serde_json::to_string(revision)?;
        let summary = serde_json::to_string(&revision.summary())?;
        let (ns, name, n) = (
            key.namespace.clone(),
            key.name.clone(),
            to_i64(revision.revision),
        );
        let format = FORMAT_VERSION as i32;
        self.transaction(
            || format!("cannot write {}", revision_what(&key, revision.revision)),
            |c| async move {
                c.execute(
                    "INSERT INTO stoke_revisions (namespace, name, revision, format, summary, record)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (namespace, name, revision) DO UPDATE SET format = EXCLUDED.format,
                       summary = EXCLUDED.summary, record = EXCLUDED.record",
                    &[&ns, &name, &n, &format, &summary, &record],
                )
                .await?;
                // The index follows the latest revision in the same transaction, so it can
                // never miss a revision that was written; `deployed` stays the lifecycle's
                // to set (it is the commit mark of a supersede).
                c.execute(
                    "INSERT INTO stoke_releases (namespace, name, format, latest, deployed, summary)
                     VALUES ($1, $2, $4, $3, NULL, $5)
                     ON CONFLICT (namespace, name) DO UPDATE SET latest = EXCLUDED.latest,
                       summary = EXCLUDED.summary, format = EXCLUDED.format
                     WHERE stoke_releases.latest <= EXCLUDED.latest",
                    &[&ns, &name, &n, &format, &summary],
                )
                .await?;
                Ok(())
            },
        )
    }

    fn history(&self, key: &ReleaseKey) -> Result<Vec<Summary>> {
        let c = self.client.clone();
        let (ns, name) = (key.namespace.clone(), key.name.clone());
        let rows = self.run(
            || format!("cannot read the history of {key}"),
            async move {
                c.query(
                    "SELECT revision, format, summary FROM stoke_revisions WHERE namespace = $1 AND name = $2 ORDER BY revision",
                    &[&ns, &name],
                )
                .await
            },
        )?;
        rows.iter()
            .map(|r| {
                let what = revision_what(key, r.get::<_, i64>(0) as u64);
                self.parse_summary(&what, r.get(1), r.get(2))
            })
            .collect()
    }

    fn revision_numbers(&self, key: &ReleaseKey) -> Result<Vec<u64>> {
        let c = self.client.clone();
        let (ns, name) = (key.namespace.clone(), key.name.clone());
        let rows = self.run(
            || format!("cannot list the revisions of {key}"),
            async move {
                c.query(
                    "SELECT revision FROM stoke_revisions WHERE namespace = $1 AND name = $2 ORDER BY revision",
                    &[&ns, &name],
                )
                .await
            },
        )?;
        Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect())
    }

    fn delete_revision(&self, lock: &ReleaseLock, revision: u64) -> Result<()> {
        let key = lock.key().clone();
        let (ns, name, n) = (key.namespace.clone(), key.name.clone(), to_i64(revision));
        self.transaction(
            || format!("cannot delete {}", revision_what(&key, revision)),
            |c| async move {
                c.execute(
                    "DELETE FROM stoke_revisions WHERE namespace = $1 AND name = $2 AND revision = $3",
                    &[&ns, &name, &n],
                )
                .await?;
                Ok(())
            },
        )
    }

    fn delete_release(&self, lock: &ReleaseLock) -> Result<()> {
        let key = lock.key().clone();
        let (ns, name) = (key.namespace.clone(), key.name.clone());
        self.transaction(
            || format!("cannot delete release {key}"),
            |c| async move {
                c.execute(
                    "DELETE FROM stoke_revisions WHERE namespace = $1 AND name = $2",
                    &[&ns, &name],
                )
                .await?;
                // Killed here, the server rolls the transaction back: the release is whole.
                crate::failpoint::failpoint("delete-release-part-way");
                c.execute(
                    "DELETE FROM stoke_releases WHERE namespace = $1 AND name = $2",
                    &[&ns, &name],
                )
                .await?;
                Ok(())
            },
        )
    }

    fn list(&self, namespace: Option<&str>) -> Result<Vec<Head>> {
        let c = self.client.clone();
        let ns = namespace.map(str::to_string);
        // COLLATE "C" sorts as Rust compares strings, so every backend lists alike.
        let rows = self.run(|| "cannot list releases".to_string(), async move {
            c.query(
                "SELECT namespace, name, format, latest, deployed, summary FROM stoke_releases
                     WHERE $1::text IS NULL OR namespace = $1
                     ORDER BY name COLLATE \"C\", namespace COLLATE \"C\"",
                &[&ns],
            )
            .await
        })?;
        rows.iter()
            .map(|r| {
                let key = ReleaseKey {
                    namespace: r.get(0),
                    name: r.get(1),
                };
                let what = format!("{key} (release index)");
                let summary = self.parse_summary(&what, r.get(2), r.get(5))?;
                Ok(head_from_row(&key, r.get(3), r.get(4), summary))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_ids_differ_per_release_and_are_stable() {
        let a = ReleaseKey::new("default", "gw").unwrap();
        let b = ReleaseKey::new("default", "gw2").unwrap();
        let c = ReleaseKey::new("defaultg", "w").unwrap();
        assert_eq!(lock_id(&a), lock_id(&a.clone()));
        assert_ne!(lock_id(&a), lock_id(&b));
        assert_ne!(lock_id(&a), lock_id(&c));
    }

    #[test]
    fn migrations_lead_to_the_current_schema_version() {
        assert_eq!(MIGRATIONS.len() as i64, SCHEMA_VERSION);
    }
}
