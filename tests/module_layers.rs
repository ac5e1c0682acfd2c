//! The top-level modules of src/ form layers: each may use the ones below it, never one
//! above. This test reads the sources, builds the graph of `crate::MODULE` references
//! between top-level modules and fails on a cycle, printing it (docs/architecture.md says
//! why a test and not a workspace).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`src/engine/filters.rs` -> `engine`),
/// or `None` for the crate roots.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// Strips `//` comments (doc links do not make a dependency) and string literals' most
/// common false positives are left in: a `crate::x` inside a string is rare enough here.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules `code` names through `crate::X` paths, including grouped
/// imports `crate::{X, Y::z}`.
fn referenced_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let preceded_by_ident = rest[..i]
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        rest = &rest[i + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            // Only the first segment of each item counts: `crate::{a::b, c}` names a and c.
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group[..end].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_ascii_alphabetic() || c == '_') => {
                        out.insert(ident_at(&group[j..]).to_string());
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let id = ident_at(rest);
            if !id.is_empty() {
                out.insert(id.to_string());
            }
        }
    }
    out
}

fn module_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = Graph::new();
    for file in &files {
        let Some(module) = top_module(&src, file) else {
            continue;
        };
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        let deps = graph.entry(module.clone()).or_default();
        for used in referenced_modules(&code) {
            if used != module {
                deps.insert(used);
            }
        }
    }
    graph
}

/// One cycle of the graph, as a path that starts and ends at the same module, if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Visiting) => {
                let from = stack.iter().position(|n| n == node).unwrap();
                let mut cycle = stack[from..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_string(), Mark::Visiting);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, marks, stack) {
                return Some(c);
            }
        }
        stack.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn top_level_modules_do_not_import_each_other_in_a_cycle() {
    let graph = module_graph();
    assert!(graph.contains_key("engine") && graph.contains_key("record"));
    if let Some(cycle) = find_cycle(&graph) {
        let listing: Vec<String> = graph
            .iter()
            .map(|(m, deps)| format!("  {m} -> {}", Vec::from_iter(deps.clone()).join(", ")))
            .collect();
        panic!(
            "top-level modules of src/ import each other in a cycle: {}\n\
             Move the shared piece down a layer (see docs/architecture.md).\nThe graph:\n{}",
            cycle.join(" -> "),
            listing.join("\n")
        );
    }
}

#[test]
fn the_scanner_sees_plain_grouped_and_nested_paths() {
    let code =
        "use crate::a::X;\nuse crate::{b, c::{D, E}};\nfn f() { crate::d::g(); my_crate::z(); }";
    let found: Vec<String> = referenced_modules(code).into_iter().collect();
    assert_eq!(found, ["a", "b", "c", "d"]);
}

#[test]
fn the_cycle_finder_reports_the_cycle_it_finds() {
    let mut g = Graph::new();
    for (a, b) in [("x", "y"), ("y", "z"), ("z", "x"), ("w", "x")] {
        g.entry(a.to_string()).or_default().insert(b.to_string());
    }
    let cycle = find_cycle(&g).unwrap();
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4, "{cycle:?}");
    g.get_mut("z").unwrap().clear();
    assert_eq!(find_cycle(&g), None);
}

/// Text by which code writes to the terminal: the print macros (`eprintln!` contains
/// `println!`, `eprint!` contains `print!`), `dbg!`, and the standard streams.
const PRINTS: &[&str] = &[
    "print!",
    "println!",
    "dbg!",
    "io::stdout(",
    "io::stderr(",
    "anstream::",
];

/// Text by which code reads environment variables (`var`, `var_os`, `vars`, `vars_os`).
const READS_ENV: &[&str] = &["env::var"];

/// A library option struct built in place (`ListOptions { ... }`), which belongs in the
/// options layer.
const BUILDS_OPTIONS: &[&str] = &["Options {"];

/// Library files that may print, and why: each ends the process on the spot, from a point
/// where no caller exists to hand the message to.
const LIBRARY_MAY_PRINT: &[(&str, &str)] = &[
    (
        "failpoint.rs",
        "a failpoint simulates a kill for crash tests and exits right there",
    ),
    (
        "engine/budget.rs",
        "the render watchdog thread ends a runaway render with an error and exits",
    ),
];

/// `path:line: text` for every line of `file`'s code (comments stripped) holding one of
/// `patterns`.
fn offending_lines(src: &Path, file: &Path, patterns: &[&str]) -> Vec<String> {
    let code = code_of(&std::fs::read_to_string(file).unwrap());
    let rel = file.strip_prefix(src).unwrap().display().to_string();
    code.lines()
        .enumerate()
        .filter(|(_, line)| patterns.iter().any(|p| line.contains(p)))
        .map(|(n, line)| format!("src/{rel}:{}: {}", n + 1, line.trim()))
        .collect()
}

fn sources() -> (PathBuf, Vec<PathBuf>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    (src, files)
}

fn relative(src: &Path, file: &Path) -> String {
    file.strip_prefix(src)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn the_cli_prints_only_in_its_printer_and_reads_the_environment_only_in_its_options() {
    let (src, files) = sources();
    let mut problems = Vec::new();
    for file in &files {
        let rel = relative(&src, file);
        let Some(in_cli) = rel.strip_prefix("cli/") else {
            continue;
        };
        let printer = in_cli.starts_with("print/");
        let options = in_cli.starts_with("options/");
        if !printer {
            for l in offending_lines(&src, file, PRINTS) {
                problems.push(format!("{l}\n    prints outside src/cli/print/"));
            }
        }
        if !options {
            for l in offending_lines(&src, file, READS_ENV) {
                problems.push(format!(
                    "{l}\n    reads the environment outside src/cli/options/"
                ));
            }
            for l in offending_lines(&src, file, BUILDS_OPTIONS) {
                problems.push(format!(
                    "{l}\n    builds a library option struct outside src/cli/options/"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "command handlers must receive their options from src/cli/options/ and print through \
         src/cli/print/ (docs/architecture.md, \"The command line\"):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_library_does_not_print() {
    let (src, files) = sources();
    let mut problems = Vec::new();
    for file in &files {
        let rel = relative(&src, file);
        if rel.starts_with("cli/")
            || rel == "main.rs"
            || LIBRARY_MAY_PRINT.iter().any(|(f, _)| *f == rel)
        {
            continue;
        }
        problems.extend(offending_lines(&src, file, PRINTS));
    }
    assert!(
        problems.is_empty(),
        "the library reports through return values, warnings and `progress` events; only \
         src/cli/print/ writes to the terminal:\n{}",
        problems.join("\n")
    );
    for (file, why) in LIBRARY_MAY_PRINT {
        assert!(
            src.join(file).is_file(),
            "{file} is allowed to print ({why}) but no longer exists: drop it from the list"
        );
    }
}

#[test]
fn the_print_and_environment_scanner_sees_code_and_skips_comments() {
    let dir = std::env::temp_dir().join(format!("stoke-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("x.rs");
    std::fs::write(
        &file,
        "// println!(\"in a comment\")\nfn f() { eprintln!(\"x\"); }\nlet _ = std::env::var_os(\"HOME\");\nlet o = ListOptions { all: true };\nwriteln!(std::io::stdout().lock(), \"y\");\n",
    )
    .unwrap();
    let prints = offending_lines(&dir, &file, PRINTS);
    let env = offending_lines(&dir, &file, READS_ENV);
    let builds = offending_lines(&dir, &file, BUILDS_OPTIONS);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(prints.len(), 2, "{prints:?}");
    assert!(
        prints[0].ends_with(":2: fn f() { eprintln!(\"x\"); }"),
        "{prints:?}"
    );
    assert!(prints[1].contains(":5:"), "{prints:?}");
    assert_eq!(env.len(), 1, "{env:?}");
    assert_eq!(builds.len(), 1, "{builds:?}");
}
