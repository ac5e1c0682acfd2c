//! Secret values never reach the terminal except through `get manifest` / `get all`, which
//! print the stored record on purpose: not in dry runs, not in diffs (a Secret inside a
//! `kind: List` included), not in warnings about unknown keys.

mod common;

use common::{chart, stoke_in};

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: admin\nstringData:\n  password: {{ values.password }}\n";
const LISTED: &str = "apiVersion: v1\nkind: List\nmetadata:\n  name: bundle\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: listed\n  data:\n    token: {{ values.token | b64encode }}\n";

fn setup(root: &std::path::Path) -> String {
    chart(
        root,
        "gw",
        &[
            (
                "values.yaml",
                "password: live-pass-1\ntoken: live-token-1\n",
            ),
            ("templates/secret.yaml", SECRET),
            ("templates/list.yaml", LISTED),
        ],
    )
    .to_str()
    .unwrap()
    .to_string()
}

#[test]
fn dry_runs_and_diffs_mask_secrets_alone_and_inside_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let c = setup(tmp.path());
    stoke_in(tmp.path(), &["install", "gw", &c]).expect(0);
    stoke_in(
        tmp.path(),
        &[
            "upgrade",
            "gw",
            &c,
            "--set",
            "password=new-pass-2",
            "--set",
            "token=new-token-2",
        ],
    )
    .expect(0);
    let secrets = ["live-pass-1", "new-pass-2", "live-token-1", "new-token-2"];
    let b64 = |s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    let leaks = |text: &str| -> Vec<String> {
        secrets
            .iter()
            .flat_map(|s| [s.to_string(), b64(s)])
            .filter(|s| text.contains(s.as_str()))
            .collect()
    };
    for args in [
        vec!["upgrade", "gw", c.as_str(), "--dry-run"],
        vec![
            "upgrade",
            "gw",
            c.as_str(),
            "--dry-run",
            "--set",
            "password=x",
        ],
        vec!["install", "other", c.as_str(), "--dry-run"],
        vec!["diff", "revision", "gw", "1", "2"],
        vec!["diff", "upgrade", "gw", c.as_str(), "--set", "token=third"],
    ] {
        let r = stoke_in(tmp.path(), &args).expect(0);
        let text = format!("{}{}", r.stdout, r.stderr);
        assert!(
            leaks(&text).is_empty(),
            "{args:?} printed {:?}:\n{text}",
            leaks(&text)
        );
        assert!(text.contains("(masked"), "{args:?}:\n{text}");
    }
    // The stored record is still there for whoever asks for it.
    let r = stoke_in(tmp.path(), &["get", "manifest", "gw"]).expect(0);
    assert!(r.stdout.contains("new-pass-2") && r.stdout.contains(&b64("new-token-2")));
}

#[test]
fn an_unknown_key_warning_names_the_key_but_not_the_value_given_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let c = setup(tmp.path());
    let r = stoke_in(
        tmp.path(),
        &[
            "template",
            "gw",
            &c,
            "--set",
            "pasword=typed-secret,password=typed-secret",
        ],
    )
    .expect(0);
    assert!(r.stderr.contains("key `pasword`"), "{}", r.stderr);
    assert!(!r.stderr.contains("typed-secret"), "{}", r.stderr);
}
