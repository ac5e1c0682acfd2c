//! The backends the store conformance suite runs against, behind one face: a [`Site`] is
//! a fresh, empty store of one backend plus the lifecycle chart, and [`Machine`]s are
//! separate "computers" (own HOME and configuration) sharing that store.

use std::path::PathBuf;
use std::process::Command;

pub use super::postgres;
pub use super::release::{Run, World};

/// A store backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The file store in a temporary folder.
    File,
    /// A database of its own on the shared test PostgreSQL server.
    Postgres,
    /// Secrets and Leases on a real API server of its own (.ci/kube-up).
    Kubernetes,
}

impl Backend {
    /// Processes the random-kill test kills for this backend: 100 each for file and
    /// PostgreSQL, 30 for Kubernetes (each kill leaves a lease that must run out, 3 s in
    /// the tests), 230 in all.
    pub fn kills(self) -> usize {
        match self {
            Backend::File | Backend::Postgres => 100,
            Backend::Kubernetes => 30,
        }
    }
}

/// One empty store of a backend, the lifecycle chart, and the machines using them.
pub struct Site {
    pub world: World,
    pub backend: Backend,
    /// `--store` text.
    pub location: String,
    /// The PostgreSQL database, for the PostgreSQL backend.
    pub database: Option<String>,
    /// The API server, for the Kubernetes backend.
    pub cluster: Option<super::kube::TestCluster>,
}

/// One computer: its own HOME and configuration folders, the shared store.
pub struct Machine<'a> {
    site: &'a Site,
    home: PathBuf,
}

impl Site {
    /// A fresh store of `backend`.
    pub fn new(backend: Backend) -> Site {
        let world = World::new();
        let (location, database, cluster) = match backend {
            Backend::File => (world.store().display().to_string(), None, None),
            Backend::Postgres => {
                let pg = postgres::shared();
                let db = pg.create_database();
                (pg.url(&db), Some(db), None)
            }
            Backend::Kubernetes => {
                let c = super::kube::TestCluster::start();
                let body = serde_json::json!({
                    "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "plant-2"}
                });
                c.request("admin", "POST", "/api/v1/namespaces", Some(&body))
                    .expect(201);
                ("kubernetes".to_string(), None, Some(c))
            }
        };
        Site {
            world,
            backend,
            location,
            database,
            cluster,
        }
    }

    /// Machine number `n` (0 is the one [`Site::run`] uses).
    pub fn machine(&self, n: usize) -> Machine<'_> {
        let home = self.world.path().join(format!("machine-{n}"));
        std::fs::create_dir_all(&home).unwrap();
        Machine { site: self, home }
    }

    /// Runs stoke on machine 0.
    pub fn run(&self, args: &[&str]) -> Run {
        self.machine(0).run(args)
    }

    /// The command for stoke on machine 0.
    pub fn command(&self, args: &[&str]) -> Command {
        self.machine(0).command(args)
    }

    /// The chart folder.
    pub fn chart(&self) -> String {
        self.world.chart()
    }

    /// (revision, status, description) of every revision.
    pub fn history(&self, release: &str) -> Vec<(u64, String, String)> {
        let h = self
            .run(&["history", release, "-o", "json", "--max", "0"])
            .ok()
            .json();
        h.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["revision"].as_u64().unwrap(),
                    r["status"].as_str().unwrap().to_string(),
                    r["description"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The store, opened through the library as the binary opens it.
    pub fn open(&self) -> Box<dyn stoke::storage::Store> {
        let kube = stoke::kube::KubeOptions {
            kubeconfig: self.cluster.as_ref().map(|c| c.kubeconfig().to_path_buf()),
            context: None,
        };
        stoke::storage::location::open(Some(&self.location), &kube).expect("the store opens")
    }

    /// Overwrites revision `revision` of `release` (namespace default) with bytes that are
    /// not a record, the way a disk fault or a careless hand edit would.
    pub fn damage(&self, release: &str, revision: u64) {
        match self.backend {
            Backend::File => {
                let path = self
                    .world
                    .store()
                    .join(format!("releases/default/{release}/rev-{revision:06}.json"));
                assert!(path.exists(), "{}", path.display());
                std::fs::write(path, "{\"format\": 1, \"name\": tru").unwrap();
            }
            Backend::Postgres => {
                let pg = postgres::shared();
                pg.sql(
                    self.database.as_deref().unwrap(),
                    &format!(
                        "UPDATE stoke_revisions SET record = '{{\"format\": 1, \"name\": tru', summary = 'garbage' WHERE namespace = 'default' AND name = '{release}' AND revision = {revision}"
                    ),
                );
            }
            Backend::Kubernetes => {
                let c = self.cluster.as_ref().unwrap();
                let body = serde_json::json!({"data": {"release": "bm90IGd6aXA="}});
                c.request(
                    "admin",
                    "PATCH",
                    &format!("/api/v1/namespaces/default/secrets/stoke.v1.{release}.v{revision}"),
                    Some(&body),
                )
                .expect(200);
            }
        }
    }

    /// Checks what holds even right after a crash, through the library, and returns the
    /// revision numbers: every record parses and the head points at the latest revision.
    pub fn check(&self, release: &str) -> Vec<u64> {
        self.check_inner(release, false)
    }

    /// [`Site::check`], plus what holds once an operation has completed since the last
    /// crash: the head's deployed revision says `deployed`.
    pub fn check_settled(&self, release: &str) -> Vec<u64> {
        self.check_inner(release, true)
    }

    fn check_inner(&self, release: &str, settled: bool) -> Vec<u64> {
        use stoke::release::record::Status;
        let s = self.open();
        let key = stoke::storage::ReleaseKey::new("default", release).unwrap();
        let numbers = s.revision_numbers(&key).unwrap();
        let mut deployed = Vec::new();
        for n in &numbers {
            let r = s
                .revision(&key, *n)
                .unwrap_or_else(|e| panic!("revision {n} unreadable: {e:#}"))
                .expect("listed revision exists");
            if r.status == Status::Deployed {
                deployed.push(*n);
            }
        }
        if let Some(head) = s.head(&key).expect("head loads") {
            assert_eq!(
                Some(&head.latest),
                numbers.last(),
                "head points at the latest revision"
            );
            if let Some(d) = head.deployed.filter(|_| settled) {
                assert!(deployed.contains(&d), "head's deployed {d} says deployed");
            }
        }
        numbers
    }
}

impl Machine<'_> {
    /// The command for stoke on this machine.
    ///
    /// On Kubernetes a process that died holding a release's lease blocks it until the
    /// lease expires (3 s here), so writes there wait for the lock unless the test says
    /// otherwise with its own `--wait-lock`.
    pub fn command(&self, args: &[&str]) -> Command {
        let writes = matches!(
            args.first().copied(),
            Some("install" | "upgrade" | "rollback" | "uninstall")
        );
        let mut args: Vec<&str> = args.to_vec();
        if self.site.backend == Backend::Kubernetes && writes && !args.contains(&"--wait-lock") {
            args.extend(["--wait-lock", "30s"]);
        }
        let mut c = self.site.world.command(&args);
        c.env("STOKE_STORE", &self.site.location)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("XDG_DATA_HOME", self.home.join(".data"))
            .env_remove("KUBECONFIG")
            .env_remove("PGPASSWORD");
        if let Some(cluster) = &self.site.cluster {
            c.env("KUBECONFIG", cluster.kubeconfig())
                .env("STOKE_KUBE_LEASE_SECONDS", "3");
        }
        c
    }

    /// Runs stoke on this machine.
    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().expect("stoke runs").into()
    }
}
/// A small deterministic generator, so a failing run can be replayed from its seed.
pub struct Lcg(pub u64);

impl Lcg {
    /// A number below `bound`.
    pub fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}
