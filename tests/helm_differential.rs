//! Differential tests against real Helm (PyPI helm-python-sdk): generated `--set`-family
//! expressions must mean what they mean to Helm, and values computed from files must
//! equal Helm's coalescing. Needs `python3` with helm-python-sdk (see .ci/install-test-deps);
//! set STOKE_SKIP_HELM_DIFF=1 to skip on a machine without it.

use std::path::Path;
use std::process::Command;

use serde_json::{Map, Value};
use stoke::values::SetKind;

fn helm_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import helm_python"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var_os("STOKE_SKIP_HELM_DIFF").is_none() {
        panic!(
            "python3 with helm-python-sdk is needed (bash .ci/install-test-deps), or set STOKE_SKIP_HELM_DIFF=1"
        );
    }
    ok
}

/// Numbers compare by value: Helm decodes JSON numbers as floats, stoke keeps integers.
fn normalise(v: &Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap_or(f64::NAN)),
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalise(v))).collect())
        }
        other => other.clone(),
    }
}

#[test]
fn set_expressions_mean_what_they_mean_to_helm() {
    if !helm_available() {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm_diff/strvals_cases.py");
    let out = Command::new("python3")
        .arg(script)
        .arg("1200")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut total = 0;
    let mut failures = Vec::new();
    for line in text.lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        let expr = case["expr"].as_str().unwrap();
        let kind = match case["kind"].as_str().unwrap() {
            "set" => SetKind::Set,
            "string" => SetKind::String,
            "json" => SetKind::Json,
            _ => SetKind::Literal,
        };
        total += 1;
        let mut ours = Map::new();
        let result = stoke::values::strvals::apply(&mut ours, expr, kind, &|p| Ok(p.to_string()));
        let helm_ok = case["ok"].as_bool().unwrap();
        match (helm_ok, result) {
            (true, Ok(())) => {
                if normalise(&Value::Object(ours.clone())) != normalise(&case["value"]) {
                    failures.push(format!(
                        "{kind:?} `{expr}`: helm {} stoke {}",
                        case["value"],
                        Value::Object(ours)
                    ));
                }
            }
            (false, Err(_)) => {}
            (true, Err(e)) => failures.push(format!(
                "{kind:?} `{expr}`: helm accepts ({}), stoke refuses: {e}",
                case["value"]
            )),
            (false, Ok(())) => failures.push(format!(
                "{kind:?} `{expr}`: helm refuses ({}), stoke gives {}",
                case["error"],
                Value::Object(ours)
            )),
        }
    }
    assert!(total >= 4000, "only {total} cases were generated");
    assert!(
        failures.is_empty(),
        "{} of {total} cases differ from Helm:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn values_from_files_coalesce_as_helm_coalesces_them() {
    if !helm_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm_diff/coalesce_cases.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(tmp.path())
        .arg("1000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut total = 0;
    let mut failures = Vec::new();
    for line in text.lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        total += 1;
        let chart = stoke::chart::load::load(Path::new(case["dir"].as_str().unwrap())).unwrap();
        let opts = stoke::values::ValuesOptions {
            files: case["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().into())
                .collect(),
            sets: Vec::new(),
        };
        let ours = stoke::values::read_user_values(&opts)
            .and_then(|u| stoke::values::compute_full(&chart, &u));
        match (case["ok"].as_bool().unwrap(), ours) {
            (true, Ok(computed)) => {
                let ours = Value::Object(computed.values);
                if normalise(&ours) != normalise(&case["value"]) {
                    failures.push(format!(
                        "{}: helm {} stoke {ours}",
                        case["dir"], case["value"]
                    ));
                }
            }
            (false, Err(_)) => {}
            (true, Err(e)) => failures.push(format!(
                "{}: helm accepts, stoke refuses: {e:#}",
                case["dir"]
            )),
            (false, Ok(_)) => failures.push(format!(
                "{}: helm refuses ({}), stoke accepts",
                case["dir"], case["error"]
            )),
        }
    }
    assert!(total >= 1000, "only {total} cases were generated");
    assert!(
        failures.is_empty(),
        "{} of {total} cases differ from Helm:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
