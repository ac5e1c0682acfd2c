//! Shared helpers for the packaging and repository tests: running the binary in an
//! isolated environment, writing charts, crafting raw tar archives, and serving a folder
//! over HTTP on loopback.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A scratch environment: its own HOME, configuration, cache and data folders (and, in
/// common::dist, registry credentials), so tests never touch the user's.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// PATH with this environment's `bin/` first, where tests put fake helper programs.
    pub fn search_path(&self) -> String {
        format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// Puts an executable script named `name` in this environment's `bin/`.
    pub fn install_program(&self, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        let bin = self.path("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let path = bin.join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Runs stoke with `stdin` fed to it.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = super::stoke_command(self.dir.path())
            .args(args)
            .env("PATH", self.search_path())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("XDG_DATA_HOME", self.path("data"))
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_in(args, "")
    }

    /// Runs with `stdin` and asserts success; returns stdout.
    pub fn ok_in(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "stoke {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and asserts exit status 1; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        self.fails_in(args, "")
    }

    /// Runs with `stdin` and asserts exit status 1; returns stderr.
    pub fn fails_in(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert_eq!(
            out.status.code(),
            Some(1),
            "stoke {args:?} should have failed; stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// Runs `stoke ARGS` with nothing on stdin.
    pub fn stoke(&self, args: &[&str]) -> Output {
        self.run(args, "")
    }
}

/// Writes a small valid chart `name` at `dir` (one ConfigMap template).
pub fn write_chart(dir: &Path, name: &str, version: &str) {
    write_chart_with(dir, name, version, "");
}

/// Like [`write_chart`], with extra Chart.yaml text appended.
pub fn write_chart_with(dir: &Path, name: &str, version: &str, extra_chart_yaml: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!(
            "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"8.1.40\"\ndescription: Test chart {name} for gateways\nkeywords: [scada, ignition]\n{extra_chart_yaml}"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "greeting: hello\n").unwrap();
    std::fs::write(
        dir.join("templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-{{ chart.name }}\ndata:\n  greeting: {{ values.greeting }}\n",
    )
    .unwrap();
}

/// Hex sha256 of a file.
pub fn sha256(path: &Path) -> String {
    stoke::package::digest(&std::fs::read(path).unwrap())
}

/// One raw tar entry, written byte by byte so tests can craft what well-behaved tar
/// writers refuse to produce (`..`, absolute paths, links, devices).
pub struct Raw<'a> {
    pub name: &'a [u8],
    pub kind: u8,
    pub data: &'a [u8],
    pub link: &'a str,
    /// Size to claim in the header (defaults to data.len()).
    pub claimed_size: Option<u64>,
}

impl<'a> Raw<'a> {
    pub fn file(name: &'a str, data: &'a [u8]) -> Raw<'a> {
        Raw {
            name: name.as_bytes(),
            kind: b'0',
            data,
            link: "",
            claimed_size: None,
        }
    }
    pub fn kind(name: &'a str, kind: u8, link: &'a str) -> Raw<'a> {
        Raw {
            name: name.as_bytes(),
            kind,
            data: b"",
            link,
            claimed_size: None,
        }
    }
}

fn octal(field: &mut [u8], value: u64) {
    let s = format!("{:0width$o}\0", value, width = field.len() - 1);
    field.copy_from_slice(s.as_bytes());
}

/// A ustar stream of `entries`, ending with two zero blocks unless `truncate_end`.
pub fn raw_tar(entries: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let mut h = [0u8; 512];
        h[..e.name.len()].copy_from_slice(e.name);
        octal(&mut h[100..108], 0o644);
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(
            &mut h[124..136],
            e.claimed_size.unwrap_or(e.data.len() as u64),
        );
        octal(&mut h[136..148], 0);
        h[156] = e.kind;
        h[157..157 + e.link.len()].copy_from_slice(e.link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(e.data);
        let pad = (512 - e.data.len() % 512) % 512;
        out.extend(std::iter::repeat_n(0u8, pad));
    }
    out.extend(std::iter::repeat_n(0u8, 1024));
    out
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// `python3 -m http.server` serving `root` on a free loopback port; killed on drop.
pub struct HttpServer {
    child: Child,
    pub url: String,
}

impl HttpServer {
    pub fn start(root: &Path) -> HttpServer {
        // The server binds a port of the system's choosing and says which: picking a free
        // port here and handing it over raced with the other tests' servers, and a test
        // could end up talking to another test's server on the port it was given.
        let mut child = Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is needed for the HTTP repository tests");
        let stdout = child.stdout.take().expect("the server's stdout is piped");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("the HTTP server says where it listens");
        // "Serving HTTP on 127.0.0.1 port 43567 (http://127.0.0.1:43567/) ..."
        let port: u16 = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("HTTP server did not start: {line:?}"));
        let server = HttpServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "HTTP server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 server on loopback that answers every request with the same raw
/// head and body, for cases a well-behaved server will not produce (lying lengths,
/// compressed bombs). Serves until dropped.
pub struct RawServer {
    pub url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    port: u16,
}

impl RawServer {
    pub fn start(head: String, body: Vec<u8>) -> RawServer {
        use std::io::{BufRead, BufReader};
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                // Read the request head up to the blank line.
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(&body);
                let _ = conn.flush();
            }
        });
        RawServer {
            url: format!("http://127.0.0.1:{port}"),
            stop,
            port,
        }
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so the thread sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}
