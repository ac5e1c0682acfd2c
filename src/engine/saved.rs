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
        && same_sources(&compiled, sources)
        && tera.add_compiled_templates(compiled).is_ok()
    {
        return Ok(());
    }
    tera.add_raw_templates(sources.iter().map(|(n, s)| (n, s)))?;
    if let Ok(bytes) = postcard::to_allocvec(&tera.compiled_templates()) {
        cache.write(KIND, &key, &bytes);
    }
    Ok(())
}

/// Whether an entry holds exactly the templates asked for. The key already says so; this
/// costs one comparison of the texts and keeps a bad entry from ever standing in for other
/// templates (or pointing error messages at another source).
fn same_sources(compiled: &CompiledTemplates, sources: &[(String, &str)]) -> bool {
    let mut wanted: Vec<(&str, &str)> = sources.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    wanted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    compiled.len() == wanted.len() && compiled.sources().eq(wanted)
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
        assert_eq!(back, saved, "every field survives the round trip");
        assert!(same_sources(&back, &borrowed(&sources)));

        let mut loaded = instance();
        loaded.add_compiled_templates(back).unwrap();
        assert_eq!(
            loaded.compiled_templates(),
            saved,
            "loading runs the same finalisation as compiling"
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
        assert!(!same_sources(&saved, &borrowed(&edited)));
        assert!(!same_sources(&saved, &borrowed(&sources[1..])));
        assert_ne!(key(&borrowed(&sources)), key(&borrowed(&edited)));
    }

    #[test]
    fn loading_checks_the_calls_against_the_instance_it_loads_into() {
        let mut with_filters = instance();
        with_filters
            .add_raw_template("t", "{{ x | nindent(width=2) }}")
            .unwrap();
        let saved = with_filters.compiled_templates();
        let mut bare = Tera::new();
        let err = bare.add_compiled_templates(saved).unwrap_err();
        assert!(err.to_string().contains("nindent"), "{err}");
        assert_eq!(bare.get_template_names().count(), 0, "left as it was");
    }
}
