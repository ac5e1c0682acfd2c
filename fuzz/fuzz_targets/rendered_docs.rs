//! The rendered-document checker: any template output is split and checked, or refused.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = stoke::engine::parse_outputs(&[("c/templates/x.yaml".to_string(), text.to_string())]);
    }
});
