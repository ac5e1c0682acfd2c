//! A throwaway PostgreSQL server for tests: `initdb` + `pg_ctl` from Debian's packages
//! (installed by .ci/install-test-deps), in a temporary folder, listening on 127.0.0.1 at
//! a free port, run as the `postgres` (or `nobody`) user because PostgreSQL refuses root.
//! One server per test binary ([`shared`]); each test takes a database of its own.
//! A watchdog stops the server when the test process exits, however it exits.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// A running test server.
pub struct Postgres {
    _dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    run_as: Option<String>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Whether the server accepts TLS connections only.
    pub tls_only: bool,
    /// The CA (self-signed server certificate) clients verify against, with TLS.
    pub ca: Option<PathBuf>,
}

/// The folder holding initdb, pg_ctl and psql: Debian's newest `/usr/lib/postgresql/N/bin`,
/// else wherever `pg_ctl` is on PATH.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        if dir.join("pg_ctl").exists() && dir.join("initdb").exists() {
            return dir;
        }
    }
    panic!(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's `postgresql` package (.ci/install-test-deps does)"
    );
}

fn is_root() -> bool {
    // Only root can chown to another user; the ownership of / tells without libc.
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn user_exists(name: &str) -> bool {
    Command::new("id")
        .arg(name)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Postgres {
    /// Starts a new server (plain TCP, trust authentication, loopback only).
    pub fn start() -> Postgres {
        Self::start_with(false)
    }

    /// Starts a new server; with `tls_only`, it has a self-signed certificate for
    /// 127.0.0.1 and refuses unencrypted connections.
    pub fn start_with(tls_only: bool) -> Postgres {
        Self::start_inner(tls_only, false)
    }

    /// Starts a new server for tests that crash it ([`Postgres::stop`] is an immediate
    /// stop): commits are acknowledged only once in the WAL (`synchronous_commit = on`),
    /// so a crash loses no commit a client was told of. The other servers skip that wait,
    /// for speed, and may lose the last commits to a crash. fsync stays off: the test
    /// crashes the server process, never the machine, so the OS still holds what was
    /// written.
    pub fn start_crash_safe() -> Postgres {
        Self::start_inner(false, true)
    }

    fn start_inner(tls_only: bool, crash_safe: bool) -> Postgres {
        let dir = tempfile::Builder::new()
            .prefix("stoke-pg-")
            .tempdir()
            .unwrap();
        let bin = bin_dir();
        let run_as = if is_root() {
            Some(
                ["postgres", "nobody"]
                    .into_iter()
                    .find(|u| user_exists(u))
                    .expect("a non-root user (postgres or nobody) to run PostgreSQL as")
                    .to_string(),
            )
        } else {
            None
        };
        let data = dir.path().join("data");
        if let Some(user) = &run_as {
            let status = Command::new("chown")
                .args(["-R", user])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown of the test server folder");
        }
        let mut pg = Postgres {
            _dir: dir,
            data,
            bin,
            run_as,
            port: 0,
            tls_only,
            ca: None,
        };
        let out = pg
            .tool("initdb")
            .args([
                "-U",
                "stoke",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(&pg.data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut conf = format!(
            "listen_addresses = '127.0.0.1'\nfsync = off\nsynchronous_commit = {}\nfull_page_writes = off\nmax_connections = 200\n",
            if crash_safe { "on" } else { "off" }
        );
        conf.push_str(&format!(
            "unix_socket_directories = '{}'\n",
            pg.data.display()
        ));
        if tls_only {
            pg.make_certificate();
            conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
            std::fs::write(
                pg.data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
            )
            .unwrap();
        } else {
            std::fs::write(
                pg.data.join("pg_hba.conf"),
                "local all all trust\nhost all all 127.0.0.1/32 trust\n",
            )
            .unwrap();
        }
        let mut c = std::fs::read_to_string(pg.data.join("postgresql.conf")).unwrap();
        c.push_str(&conf);
        std::fs::write(pg.data.join("postgresql.conf"), c).unwrap();
        pg.chown_data();
        // A port found free may be taken before the server binds it; try a few.
        for _ in 0..5 {
            pg.port = free_port();
            if pg.try_start() {
                pg.watch_parent();
                return pg;
            }
        }
        panic!(
            "the test PostgreSQL server did not start; see {}",
            pg.data.join("log").display()
        );
    }

    fn chown_data(&self) {
        if let Some(user) = &self.run_as {
            Command::new("chown")
                .args(["-R", user])
                .arg(&self.data)
                .status()
                .unwrap();
        }
    }

    /// A test CA and a server certificate for 127.0.0.1 signed by it (a self-signed
    /// CA certificate cannot serve as the server's own: verifiers refuse a CA as an end
    /// entity).
    fn make_certificate(&mut self) {
        let dir = self._dir.path();
        let ca = dir.join("ca.pem");
        let ca_key = dir.join("ca.key");
        let crt = self.data.join("server.crt");
        let key = self.data.join("server.key");
        let csr = dir.join("server.csr");
        let ext = dir.join("server.ext");
        std::fs::write(&ext, "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n").unwrap();
        let openssl = |args: &[&std::ffi::OsStr]| {
            let out = Command::new("openssl")
                .args(args)
                .output()
                .expect("openssl runs (installed by .ci/install-test-deps)");
            assert!(
                out.status.success(),
                "openssl: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let os = |s: &str| std::ffi::OsString::from(s);
        openssl(&[
            &os("req"),
            &os("-x509"),
            &os("-newkey"),
            &os("rsa:2048"),
            &os("-nodes"),
            &os("-days"),
            &os("2"),
            &os("-subj"),
            &os("/CN=stoke test CA"),
            &os("-keyout"),
            ca_key.as_os_str(),
            &os("-out"),
            ca.as_os_str(),
        ]);
        openssl(&[
            &os("req"),
            &os("-newkey"),
            &os("rsa:2048"),
            &os("-nodes"),
            &os("-subj"),
            &os("/CN=127.0.0.1"),
            &os("-keyout"),
            key.as_os_str(),
            &os("-out"),
            csr.as_os_str(),
        ]);
        openssl(&[
            &os("x509"),
            &os("-req"),
            &os("-in"),
            csr.as_os_str(),
            &os("-CA"),
            ca.as_os_str(),
            &os("-CAkey"),
            ca_key.as_os_str(),
            &os("-CAcreateserial"),
            &os("-days"),
            &os("2"),
            &os("-extfile"),
            ext.as_os_str(),
            &os("-out"),
            crt.as_os_str(),
        ]);
        let mut perms = std::fs::metadata(&key).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
        std::fs::set_permissions(&key, perms).unwrap();
        self.ca = Some(ca);
    }

    /// A command for one of the server tools, run as the server's user.
    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn try_start(&self) -> bool {
        let status = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(format!("-p {}", self.port))
            .arg("start")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        status.success()
    }

    /// Stops the server at once, dropping every connection (as a crash or failover would).
    pub fn stop(&self) {
        let status = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl stop");
    }

    /// Starts the stopped server again on the same port.
    pub fn restart(&self) {
        assert!(self.try_start(), "the test PostgreSQL server restarts");
    }

    /// Stops the server and removes its folder when this test process exits, even when it
    /// is killed.
    // The watchdog must outlive the test process, so it is never waited for.
    #[allow(clippy::zombie_processes)]
    fn watch_parent(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let prefix = match &self.run_as {
            Some(u) => format!("runuser -u {u} -- "),
            None => String::new(),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {prefix}'{}' -D '{}' -m immediate stop >/dev/null 2>&1; rm -rf '{}'",
            pg_ctl.display(),
            self.data.display(),
            self._dir.path().display(),
            pid = std::process::id()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
    }

    /// Runs SQL through psql against `db`, panicking on error; returns psql's output.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "stoke",
                "-d",
                db,
                "-c",
                sql,
            ])
            .env(
                "PGSSLMODE",
                if self.tls_only { "require" } else { "disable" },
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql `{sql}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Creates a fresh database and returns its name.
    pub fn create_database(&self) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        self.sql("postgres", &format!("CREATE DATABASE {name}"));
        name
    }

    /// The URL of `db` as `--store` takes it (plain TCP, or verified TLS).
    pub fn url(&self, db: &str) -> String {
        match &self.ca {
            Some(ca) if self.tls_only => format!(
                "postgres://stoke@127.0.0.1:{}/{db}?sslmode=verify-full&sslrootcert={}",
                self.port,
                ca.display()
            ),
            _ => format!(
                "postgres://stoke@127.0.0.1:{}/{db}?sslmode=disable",
                self.port
            ),
        }
    }

    /// The data folder (for the log when a test fails).
    pub fn data(&self) -> &Path {
        &self.data
    }
}

/// The server shared by every test of this test binary.
pub fn shared() -> &'static Postgres {
    static PG: OnceLock<Postgres> = OnceLock::new();
    PG.get_or_init(Postgres::start)
}
