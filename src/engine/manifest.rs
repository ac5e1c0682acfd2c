//! From rendered template text to manifests: splitting documents, dropping blank ones,
//! checking each is a Kubernetes object, and Helm's install order.

use anyhow::{Result, bail};

use crate::manifest::Manifest;

/// Splits one template's output into documents on `---` lines. Each document is its lines
/// as `str::lines` reads them (a `\r\n` ending read as `\n`), each ending in a newline.
pub fn split_documents(text: &str) -> Vec<(usize, String)> {
    let mut docs = Vec::new();
    // Where the current document starts, in bytes and in lines.
    let (mut start, mut start_line) = (0, 1);
    // Only a line that starts with `---` can separate documents: the text is searched for
    // those, and lines are counted only up to the separators found, so a long document is
    // not walked line by line.
    let (mut counted, mut line) = (0, 1);
    let mut from = 0;
    while let Some(at) = separator_candidate(text, from) {
        let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
        let content = &text[at..end];
        let content = content.strip_suffix('\r').unwrap_or(content);
        from = end;
        if !content[3..].trim().is_empty() {
            continue;
        }
        line += newlines(&text[counted..at]);
        counted = at;
        docs.push((start_line, document(&text[start..at])));
        start = (end + 1).min(text.len());
        start_line = line + 1;
    }
    docs.push((start_line, document(&text[start..])));
    docs
}

/// The next line start at or after `from` where a line begins with `---`.
fn separator_candidate(text: &str, from: usize) -> Option<usize> {
    if from == 0 && text.starts_with("---") {
        return Some(0);
    }
    text[from..].find("\n---").map(|n| from + n + 1)
}

fn newlines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

/// The lines of `region` each ending in a single `\n`, as `split_documents` gives them:
/// the text as it is unless a line ends in `\r\n` or the last line has no newline.
fn document(region: &str) -> String {
    if !region.contains('\r') {
        let mut doc = region.to_string();
        if !doc.is_empty() && !doc.ends_with('\n') {
            doc.push('\n');
        }
        return doc;
    }
    let mut doc = String::with_capacity(region.len());
    for line in region.lines() {
        doc.push_str(line);
        doc.push('\n');
    }
    doc
}

/// Whether a document has nothing but blank lines and comments.
pub fn is_blank(doc: &str) -> bool {
    doc.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

/// The fields of a document that identify the object, read while checking the YAML.
#[derive(Default)]
struct Head {
    top_is_map: bool,
    api_version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
}

/// Checks that `doc` is well-formed YAML and reads its identifying fields, from parser
/// events alone: no tree is built, which keeps parsing every document back cheap.
fn scan_head(doc: &str) -> Result<Head, (usize, String)> {
    use saphyr_parser::{Event, Parser};

    struct Frame {
        is_map: bool,
        /// For a mapping: the key read whose value comes next.
        pending: Option<String>,
        /// The key this container is the value of.
        name: Option<String>,
    }

    let mut head = Head::default();
    let mut frames: Vec<Frame> = Vec::new();
    let mut seen_root = false;
    for item in Parser::new_from_str(doc) {
        let (event, _span) = item.map_err(|e| (e.marker().line(), e.info().to_string()))?;
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(event, Event::MappingStart(..));
                if !seen_root {
                    seen_root = true;
                    head.top_is_map = is_map;
                }
                let name = frames
                    .last_mut()
                    .and_then(|f| if f.is_map { f.pending.take() } else { None });
                frames.push(Frame {
                    is_map,
                    pending: None,
                    name,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                frames.pop();
            }
            Event::Scalar(value, ..) => {
                seen_root = true;
                let depth = frames.len();
                let Some(top) = frames.last_mut() else {
                    continue;
                };
                if !top.is_map {
                    continue;
                }
                match top.pending.take() {
                    None => top.pending = Some(value.into_owned()),
                    Some(key) => {
                        let parent = if depth == 2 {
                            frames[1].name.as_deref()
                        } else {
                            None
                        };
                        match (depth, parent, key.as_str()) {
                            (1, _, "apiVersion") => head.api_version = value.into_owned(),
                            (1, _, "kind") => head.kind = value.into_owned(),
                            (2, Some("metadata"), "name") => head.name = value.into_owned(),
                            (2, Some("metadata"), "namespace") => {
                                head.namespace = Some(value.into_owned())
                            }
                            _ => {}
                        }
                    }
                }
            }
            Event::Alias(..) => {
                if let Some(top) = frames.last_mut()
                    && top.is_map
                    && top.pending.take().is_none()
                {
                    top.pending = Some(String::new());
                }
            }
            _ => {}
        }
    }
    Ok(head)
}

/// Parses a template's rendered output into manifests; `template` names the template in
/// errors.
pub(crate) fn parse_output(template: &str, text: &str) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    for (start_line, doc) in split_documents(text) {
        if is_blank(&doc) {
            continue;
        }
        let fast = crate::yaml::fast::scan(&doc).map(|h| Head {
            top_is_map: h.top_is_map,
            api_version: h.api_version,
            kind: h.kind,
            name: h.name,
            namespace: h.namespace,
        });
        let head = match fast.map(Ok).unwrap_or_else(|| scan_head(&doc)) {
            Ok(h) => h,
            Err((line0, msg)) => {
                // The scanner counts lines from 1 in recent versions; clamp to the document.
                let rel = line0.max(1).min(doc.lines().count().max(1));
                let line = start_line + rel - 1;
                let shown = doc.lines().nth(rel - 1).unwrap_or("");
                bail!(
                    "{template}: the rendered output is not valid YAML at line {line} of the output: {msg}\n  {line} | {shown}"
                );
            }
        };
        if !head.top_is_map {
            bail!("{template}: a rendered document (output line {start_line}) is not a mapping");
        }
        let missing: Vec<&str> = [
            ("apiVersion", &head.api_version),
            ("kind", &head.kind),
            ("metadata.name", &head.name),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(k, _)| k)
        .collect();
        if !missing.is_empty() {
            bail!(
                "{template}: the rendered document at output line {start_line} lacks {}; every document must be a Kubernetes object",
                missing.join(", ")
            );
        }
        out.push(Manifest {
            source: template.to_string(),
            api_version: head.api_version,
            kind: head.kind,
            name: head.name,
            namespace: head.namespace,
            body: {
                let mut body = doc;
                body.truncate(body.trim_end().len());
                body.push('\n');
                body
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Documents in the shapes charts render: nested maps, sequences at the key's indent and
    /// deeper, compact maps in entries, block scalars, quoted strings, comments.
    const CORPUS: &[&str] = &[
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: gw-test\n  annotations:\n    \"helm.sh/hook\": test\n    helm.sh/hook-delete-policy: hook-succeeded\n  labels:\n    helm.sh/hook: not-here\nspec:\n  containers:\n    - name: t\n      image: busybox\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: not-a-hook\n  annotations:\n    note: helm.sh/hook\ndata:\n  helm.sh/hook: x\n",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: gw-ignition\n  namespace: plant\n  labels:\n    app.kubernetes.io/name: ignition\n    app.kubernetes.io/version: \"8.3.3\"\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: gateway\n          image: \"inductiveautomation/ignition:8.3.3\"\n          args:\n          - -n\n          - 'gw-$(GATEWAY_POD_INDEX)'\n          env:\n            - name: A\n              value: \"x \\\"y\\\"\"\n          ports: []\n          accessModes: [ \"ReadWriteOnce\", b.c/d_e ]\n      volumes:\n      - name: cfg\n        configMap:\n          name: cfg\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scripts\ndata:\n  run.sh: |\n    #!/bin/bash\n    set -e\n\n    echo \"key: value # not a comment\"\n      indented: more\n  other.conf: |-\n    a=1\n  empty: \"\"\n# trailing comment\n",
        "# leading comment\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n  annotations: {}\nspec:\n  selector:\n    app: x\n  ports:\n  - name: http\n    port: 8088\n    targetPort: http\n  - name: https\n    port: 8043\n",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  pw: 'it''s'\n  url: http://example.com:8088/x?y=1\n  list: -Xmx1g\n  folded: >\n    a\n    b\n",
    ];

    use crate::testing::Lcg;

    fn mutate(doc: &str, rng: &mut Lcg) -> String {
        const INSERTS: &[&str] = &[
            " ", "  ", ":", ": ", "-", "- ", "#", " #", "\"", "'", "|", "\t", "[", "{", "&a ", "*",
            "!", "\n", "\\", "? ", "---", "%",
        ];
        let mut lines: Vec<String> = doc.lines().map(str::to_string).collect();
        for _ in 0..=rng.next(3) {
            let i = rng.next(lines.len());
            match rng.next(6) {
                0 => {
                    let l = &mut lines[i];
                    if !l.is_empty() {
                        let mut at = rng.next(l.len());
                        while !l.is_char_boundary(at) {
                            at -= 1;
                        }
                        l.remove(at);
                    }
                }
                1 => {
                    let l = &mut lines[i];
                    let mut at = rng.next(l.len() + 1);
                    while !l.is_char_boundary(at) {
                        at -= 1;
                    }
                    l.insert_str(at, INSERTS[rng.next(INSERTS.len())]);
                }
                2 => lines[i] = format!("{}{}", " ".repeat(rng.next(3)), lines[i]),
                3 => lines[i] = lines[i].strip_prefix(' ').unwrap_or(&lines[i]).to_string(),
                4 => {
                    let copy = lines[i].clone();
                    lines.insert(rng.next(lines.len()), copy);
                }
                _ => {
                    let j = rng.next(lines.len());
                    lines.swap(i, j);
                }
            }
        }
        lines.join("\n") + "\n"
    }

    /// Whether the full parser finds a `helm.sh/hook` annotation (`None`: it cannot read it).
    fn parsed_hook(doc: &str) -> Option<bool> {
        let v = crate::yaml::try_from_str::<serde_json::Value>(doc).ok()?;
        Some(v["metadata"]["annotations"].get("helm.sh/hook").is_some())
    }

    #[test]
    fn the_fast_path_reads_ordinary_manifests() {
        for doc in CORPUS {
            let fast = crate::yaml::fast::scan(doc)
                .unwrap_or_else(|| panic!("fast path declined:\n{doc}"));
            let full = scan_head(doc).unwrap();
            assert_eq!(
                (fast.api_version, fast.kind, fast.name, fast.namespace),
                (full.api_version, full.kind, full.name, full.namespace)
            );
            assert_eq!(Some(fast.hook), parsed_hook(doc), "hook reading of:\n{doc}");
        }
    }

    #[test]
    fn the_fast_path_never_accepts_what_the_full_parser_refuses() {
        let mut rng = Lcg(20261123);
        let (mut accepted, mut declined) = (0, 0);
        for round in 0..60_000 {
            let doc = mutate(CORPUS[round % CORPUS.len()], &mut rng);
            let Some(fast) = crate::yaml::fast::scan(&doc) else {
                declined += 1;
                continue;
            };
            accepted += 1;
            let full = scan_head(&doc).unwrap_or_else(|e| {
                panic!("fast path accepted YAML the parser refuses ({e:?}):\n{doc}")
            });
            assert_eq!(
                (
                    fast.top_is_map,
                    &fast.api_version,
                    &fast.kind,
                    &fast.name,
                    &fast.namespace
                ),
                (
                    full.top_is_map,
                    &full.api_version,
                    &full.kind,
                    &full.name,
                    &full.namespace
                ),
                "different reading of:\n{doc}"
            );
            if let Some(hook) = parsed_hook(&doc) {
                assert_eq!(fast.hook, hook, "different hook reading of:\n{doc}");
            }
        }
        assert!(
            accepted > 5_000 && declined > 5_000,
            "accepted {accepted}, declined {declined}"
        );
    }

    /// The split as first written (line by line), which the slicing one must equal.
    fn split_line_by_line(text: &str) -> Vec<(usize, String)> {
        let mut docs = Vec::new();
        let mut current = String::new();
        let mut start_line = 1;
        for (i, line) in text.lines().enumerate() {
            if line.starts_with("---") && line[3..].trim().is_empty() {
                docs.push((start_line, std::mem::take(&mut current)));
                start_line = i + 2;
            } else {
                current.push_str(line);
                current.push('\n');
            }
        }
        docs.push((start_line, current));
        docs
    }

    #[test]
    fn documents_split_alike_whatever_the_line_endings() {
        let pieces = [
            "a: 1",
            "---",
            "--- ",
            "---x",
            "b: 2",
            "",
            "\r",
            " c",
            "---\r",
            "----",
            " ---",
            "---\t",
            "--- # c",
            "-",
            "--",
            "---\u{3000}",
        ];
        let mut rng = Lcg(7);
        for _ in 0..20_000 {
            let n = rng.next(10);
            let mut text = String::new();
            for _ in 0..n {
                text.push_str(pieces[rng.next(pieces.len())]);
                text.push_str(["\n", "\r\n", "\n", ""][rng.next(4)]);
            }
            assert_eq!(
                split_documents(&text),
                split_line_by_line(&text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn blank_and_comment_only_documents_are_dropped() {
        let text =
            "---\n# nothing\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\n";
        let m = parse_output("c/templates/x.yaml", text).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].kind, "ConfigMap");
    }

    #[test]
    fn only_the_objects_own_metadata_names_it() {
        let text = "kind: StatefulSet\napiVersion: apps/v1\nspec:\n  name: not-this\n  template:\n    metadata:\n      name: nor-this\nmetadata:\n  labels: {name: no}\n  name: gw\n  namespace: plant\n";
        let m = parse_output("t", text).unwrap();
        assert_eq!(
            (m[0].name.as_str(), m[0].namespace.as_deref()),
            ("gw", Some("plant"))
        );
        assert_eq!(m[0].api_version, "apps/v1");
    }

    #[test]
    fn a_document_without_a_name_is_refused() {
        let err = parse_output("t", "apiVersion: v1\nkind: ConfigMap\n").unwrap_err();
        assert!(err.to_string().contains("lacks metadata.name"), "{err}");
    }

    #[test]
    fn invalid_yaml_names_the_template_and_line() {
        let err = parse_output("c/templates/x.yaml", "---\na: b\n  c: [\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("c/templates/x.yaml: the rendered output is not valid YAML at line"),
            "{msg}"
        );
    }
}
