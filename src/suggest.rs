//! "Did you mean ...?" suggestions for misspelt names.

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let (w, cand) = (word.to_lowercase(), c.to_lowercase());
        // Short words are judged by edits (a swapped pair counts as one), longer ones by
        // similarity, which tolerates more typos in long names.
        let edits = strsim::damerau_levenshtein(&w, &cand);
        let score = if edits <= 1 || (edits == 2 && w.len() > 5) {
            1.0 - edits as f64 / 10.0
        } else {
            strsim::jaro_winkler(&w, &cand)
        };
        if score > 0.8 && best.is_none_or(|(_, s)| score > s) {
            best = Some((c, score));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_known_name() {
        assert_eq!(
            did_you_mean("replicaCont", ["replicaCount", "image"]),
            Some("replicaCount")
        );
    }

    #[test]
    fn stays_silent_when_nothing_is_close() {
        assert_eq!(did_you_mean("zzz", ["replicaCount", "image"]), None);
    }
}
