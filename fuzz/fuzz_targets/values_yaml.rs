//! Values files: any text parses to a map or fails with an error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = stoke::yaml::parse_values_yaml(text, "fuzz.yaml");
    }
});
