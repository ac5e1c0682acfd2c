//! Schema verdicts saved across processes ([`crate::artifact_cache`]): that a set of
//! values matched a schema. Compiling `values.schema.json` and validating was the largest
//! cost of a cold `stoke template` after the templates; a second run of the same chart
//! with the same values only digests the two and finds the saved verdict.
//!
//! Only "valid" is saved. Values that do not match are always validated again, so every
//! error message is the validator's own, worded as on a first run.

use serde_json::{Map, Value};

use crate::artifact_cache::{self, Cache, Key, KeyBuilder};

/// Entry kind (and file-name prefix) of schema verdicts.
const KIND: &str = "schema";

/// What the entry for one (schema, values) pair would be.
pub(crate) struct Verdict {
    cache: &'static Cache,
    key: Key,
}

impl Verdict {
    /// The verdict slot for `values` against `schema`, or `None` when the cache is off.
    /// The key covers both exactly (as JSON text) and, through the artifact cache, the
    /// build of stoke, which fixes the validator's version and options.
    pub(crate) fn for_inputs(schema: &Value, values: &Map<String, Value>) -> Option<Verdict> {
        let cache = artifact_cache::global()?;
        let mut b = KeyBuilder::new(KIND);
        b.part(&serde_json::to_vec(schema).ok()?);
        b.part(&serde_json::to_vec(values).ok()?);
        Some(Verdict {
            cache,
            key: b.finish(),
        })
    }

    /// Whether an earlier run found these values valid against this schema.
    pub(crate) fn known_valid(&self) -> bool {
        self.cache
            .read(KIND, &self.key)
            .is_some_and(|payload| payload == VALID)
    }

    /// Saves that these values are valid against this schema.
    pub(crate) fn remember_valid(&self) {
        self.cache.write(KIND, &self.key, VALID);
    }
}

/// The payload of a "valid" verdict.
const VALID: &[u8] = b"valid";
