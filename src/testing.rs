//! Helpers for the library's own unit tests.

/// A small deterministic generator, so a failing generated case reproduces.
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    /// A number below `bound` (0 when `bound` is 0).
    pub(crate) fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound.max(1)
    }
}
