//! `-f https://...`: values files over HTTP(S), with the size cap local values files have.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

/// Serves `body` (with `status`) to every request on a loopback port; returns the base URL.
fn serve(status: &'static str, body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

fn chart(dir: &std::path::Path) -> std::path::PathBuf {
    common::chart(
        dir,
        "demo",
        &[
            ("values.yaml", "replicas: 1\n"),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  replicas: \"{{ values.replicas }}\"\n",
            ),
        ],
    )
}

#[test]
fn values_files_are_read_from_http_urls_in_command_line_order() {
    let dir = tempfile::tempdir().unwrap();
    let chart = chart(dir.path());
    let base = serve("200 OK", "replicas: 3\n".into());
    let url = format!("{base}/site.yaml");
    let out = common::stoke_in(
        dir.path(),
        &["template", "gw", chart.to_str().unwrap(), "-f", &url],
    )
    .expect(0);
    assert!(out.stdout.contains("replicas: \"3\""), "{}", out.stdout);
    std::fs::write(dir.path().join("later.yaml"), "replicas: 4\n").unwrap();
    let out = common::stoke_in(
        dir.path(),
        &[
            "template",
            "gw",
            chart.to_str().unwrap(),
            "-f",
            &url,
            "-f",
            "later.yaml",
        ],
    )
    .expect(0);
    assert!(out.stdout.contains("replicas: \"4\""), "{}", out.stdout);
    common::stoke_in(
        dir.path(),
        &["install", "gw", chart.to_str().unwrap(), "-f", &url],
    )
    .expect(0);
}

#[test]
fn a_values_url_over_the_cap_or_missing_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let chart = chart(dir.path());
    let big = serve("200 OK", format!("replicas: 1\n# {}\n", "x".repeat(4096)));
    let out = common::stoke_command(dir.path())
        .args([
            "template",
            "gw",
            chart.to_str().unwrap(),
            "-f",
            &format!("{big}/big.yaml"),
        ])
        .env("STOKE_MAX_VALUES_FILE_BYTES", "1024")
        .env("STOKE_STORE", dir.path().join("store"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("STOKE_MAX_VALUES_FILE_BYTES"), "{err}");
    assert!(err.contains("/big.yaml"), "{err}");

    let missing = serve("404 Not Found", String::new());
    let run = common::stoke_in(
        dir.path(),
        &[
            "template",
            "gw",
            chart.to_str().unwrap(),
            "-f",
            &format!("{missing}/nope.yaml"),
        ],
    )
    .expect(1);
    assert!(run.stderr.contains("404"), "{}", run.stderr);
}
