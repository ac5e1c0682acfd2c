//! Chart archives: any bytes are refused or yield files within the limits.
#![no_main]
use stoke::chart::archive::{Limits, read_with_limits};

const SMALL: Limits = Limits { max_file: 1 << 16, max_total: 1 << 20, max_entries: 64 };

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok((_, files)) = read_with_limits(data, std::path::Path::new("fuzz.tgz"), &SMALL) {
        assert!(files.len() <= SMALL.max_entries);
        assert!(files.iter().map(|f| f.data.len() as u64).sum::<u64>() <= SMALL.max_total);
    }
});
