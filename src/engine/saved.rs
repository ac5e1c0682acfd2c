//! A chart's compiled templates saved across processes ([`crate::artifact_cache`]), so a
//! second `stoke template` of the same chart reads the bytecode back instead of compiling
//! every template again (docs/cache.md says why this is safe).

use tera::{CompiledTemplates, Tera};

use crate::artifact_cache::{self, Key, KeyBuilder};

/// Entry kind (and file-name prefix) of compiled templates.
const KIND: &str = "tera";

/// The key of a set of templates: Tera's version and compiled format, its delimiters (stoke
/// never changes them) and every template's name and source, in the order given.
fn key(sources: &[(String, &str)]) -> Key {
    let mut b = KeyBuilder::new(KIND);
    b.part(tera::VERSION.as_bytes())
        .part(&tera::COMPILED_FORMAT.to_le_bytes())
        .part(b"default delimiters");
    for (name, source) in sources {
        b.part(name.as_bytes()).part(source.as_bytes());
    }
    b.finish()
}

/// Adds `sources` to `tera`, compiled: read back from the cache when a whole entry for
/// exactly these sources is there and loads cleanly, compiled from the sources (and saved
/// for next time) otherwise. Errors are those of compiling the sources.
pub(crate) fn add_templates(tera: &mut Tera, sources: &[(String, &str)]) -> tera::TeraResult<()> {
    let Some(cache) = artifact_cache::global() else {
        return tera.add_raw_templates(sources.iter().map(|(n, s)| (n, s)));
    };
    let key = key(sources);
    if let Some(compiled) = cache
        .read(KIND, &key)
        .and_then(|bytes| postcard::from_bytes::<CompiledTemplates>(&bytes).ok())
        && same_names(&compiled, sources)
        && tera
            .add_compiled_templates(compiled, |name| source_of(sources, name))
            .is_ok()
    {
        return Ok(());
    }
    tera.add_raw_templates(sources.iter().map(|(n, s)| (n, s)))?;
    if let Ok(bytes) = postcard::to_allocvec(&tera.compiled_templates()) {
        cache.write(KIND, &key, &bytes);
    }
    Ok(())
}

/// Whether an entry holds exactly the templates asked for, by name. The entry's header
/// carries its key, a digest of every name and source, so an entry made from other texts is
/// never read; the sources themselves are not saved (the chart has them), and error
/// messages quote the chart's own text.
fn same_names(compiled: &CompiledTemplates, sources: &[(String, &str)]) -> bool {
    let mut wanted: Vec<&str> = sources.iter().map(|(n, _)| n.as_str()).collect();
    wanted.sort_unstable();
    compiled.len() == wanted.len() && compiled.names().eq(wanted)
}

/// The source of template `name` in `sources`.
fn source_of<'s>(sources: &[(String, &'s str)], name: &str) -> Option<&'s str> {
    sources.iter().find(|(n, _)| n == name).map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, OnceLock};

    use super::*;

    fn instance() -> Tera {
        let mut tera = Tera::new();
        tera.autoescape_on(Vec::<&str>::new());
        crate::engine::filters::register(&mut tera);
        let scope = crate::engine::functions::FunctionScope::new(
            Arc::new(Vec::new()),
            Arc::new(OnceLock::new()),
        );
        crate::engine::functions::register(&mut tera, &scope);
        tera
    }

    fn ignition_sources() -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/ignition");
        let chart = crate::chart::load::load(&dir).unwrap();
        chart
            .templates
            .iter()
            .map(|t| {
                (
                    format!("{}/{}", chart.path, t.name),
                    String::from_utf8(t.data.clone()).unwrap(),
                )
            })
            .collect()
    }

    /// The borrowed form `add_templates` takes.
    fn borrowed(sources: &[(String, String)]) -> Vec<(String, &str)> {
        sources
            .iter()
            .map(|(n, s)| (n.clone(), s.as_str()))
            .collect()
    }

    #[test]
    fn the_ignition_charts_compiled_templates_read_back_exactly() {
        let sources = ignition_sources();
        let mut compiled = instance();
        compiled
            .add_raw_templates(sources.iter().map(|(n, s)| (n, s)))
            .unwrap();
        let saved = compiled.compiled_templates();
        let bytes = postcard::to_allocvec(&saved).unwrap();
        let back: CompiledTemplates = postcard::from_bytes(&bytes).unwrap();
        let wanted = borrowed(&sources);
        assert!(same_names(&back, &wanted));

        let mut loaded = instance();
        loaded
            .add_compiled_templates(back, |name| source_of(&wanted, name))
            .unwrap();
        assert_eq!(
            loaded.compiled_templates(),
            saved,
            "every saved field survives the round trip, the sources come back from the chart, \
             and loading runs the same finalisation as compiling"
        );
    }

    #[test]
    fn an_entry_for_other_sources_is_not_taken() {
        let sources = ignition_sources();
        let mut tera = instance();
        tera.add_raw_templates(sources.iter().map(|(n, s)| (n, s)))
            .unwrap();
        let saved = tera.compiled_templates();
        let mut edited = sources.clone();
        edited[0].1.push(' ');
        // Other texts under the same names have another key, so their entry is never read.
        assert_ne!(key(&borrowed(&sources)), key(&borrowed(&edited)));
        assert!(!same_names(&saved, &borrowed(&sources[1..])));
        let mut renamed = sources.clone();
        renamed[0].0.push('x');
        assert!(!same_names(&saved, &borrowed(&renamed)));
    }

    #[test]
    fn loading_needs_every_templates_source() {
        let mut tera = instance();
        tera.add_raw_templates([("a", "A"), ("b", "B")]).unwrap();
        let saved = tera.compiled_templates();
        let mut loaded = instance();
        let err = loaded
            .add_compiled_templates(saved, |n| (n == "a").then_some("A"))
            .unwrap_err();
        assert!(err.to_string().contains("`b`"), "{err}");
        assert_eq!(loaded.get_template_names().count(), 0, "left as it was");
    }

    #[test]
    fn loading_checks_the_calls_against_the_instance_it_loads_into() {
        let mut with_filters = instance();
        with_filters
            .add_raw_template("t", "{{ x | nindent(width=2) }}")
            .unwrap();
        let saved = with_filters.compiled_templates();
        let mut bare = Tera::new();
        let err = bare
            .add_compiled_templates(saved, |_| Some("{{ x | nindent(width=2) }}"))
            .unwrap_err();
        assert!(err.to_string().contains("nindent"), "{err}");
        assert_eq!(bare.get_template_names().count(), 0, "left as it was");
    }
}
