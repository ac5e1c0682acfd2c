//! Positions in YAML text: finding the line where a key path is written, so messages can
//! point at it.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use saphyr_parser::{Event, Parser};

/// Maps dotted key paths (`a.b.c`, list items as `a[0]`) to the 1-based line where the key
/// (or list item) is written.
///
/// The text is read for lines only when a message first asks for one: most runs never
/// point at a line, and the reading is a full pass of the YAML parser (for a fleet file
/// of 200 releases, a fifth of the time spent reading it).
#[derive(Debug, Default, Clone)]
pub struct KeyLines {
    text: Option<Arc<str>>,
    lines: Arc<OnceLock<HashMap<String, usize>>>,
}

impl KeyLines {
    /// The lines of `text`, read when first asked for; none if the text does not parse
    /// (the caller reports parse errors separately).
    pub(crate) fn scan(text: &str) -> Self {
        KeyLines {
            text: Some(Arc::from(text)),
            lines: Arc::default(),
        }
    }

    fn lines(&self) -> &HashMap<String, usize> {
        self.lines.get_or_init(|| match &self.text {
            Some(text) => read_lines(text),
            None => HashMap::new(),
        })
    }

    /// `ORIGIN:LINE` for the key at `path` (or its nearest written ancestor), `ORIGIN`
    /// alone when no line is known: how messages name the place a value was given.
    pub(crate) fn locate(&self, origin: &str, path: &str) -> String {
        match self.line_of(path) {
            Some(line) => format!("{origin}:{line}"),
            None => origin.to_string(),
        }
    }

    /// The line of `path`, or of its nearest written ancestor.
    pub(crate) fn line_of(&self, path: &str) -> Option<usize> {
        let lines = self.lines();
        let mut p = path;
        loop {
            if let Some(l) = lines.get(p) {
                return Some(*l);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

/// Every key path of `text` and the line it is written on; empty if the text does not parse.
fn read_lines(text: &str) -> HashMap<String, usize> {
    let mut lines = HashMap::new();
    // Each frame is a container being read: a mapping (expecting a key or a value) or a
    // sequence (with its next index).
    enum Frame {
        Map {
            path: String,
            pending_key: Option<String>,
        },
        Seq {
            path: String,
            index: usize,
        },
    }
    let mut stack: Vec<Frame> = Vec::new();
    // The path of the node about to be read, given the container on top of the stack.
    fn child_path(
        stack: &mut [Frame],
        key_line: usize,
        lines: &mut HashMap<String, usize>,
    ) -> Option<String> {
        match stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Map { path, pending_key }) => pending_key.take().map(|k| {
                if path.is_empty() {
                    k
                } else {
                    format!("{path}.{k}")
                }
            }),
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                lines.entry(p.clone()).or_insert(key_line);
                Some(p)
            }
        }
    }
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else {
            return HashMap::new();
        };
        let line = span.start.line();
        match event {
            Event::MappingStart(..) => {
                let path = child_path(&mut stack, line, &mut lines).unwrap_or_default();
                stack.push(Frame::Map {
                    path,
                    pending_key: None,
                });
            }
            Event::SequenceStart(..) => {
                let path = child_path(&mut stack, line, &mut lines).unwrap_or_default();
                stack.push(Frame::Seq { path, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
            }
            Event::Scalar(value, ..) => {
                let is_key = matches!(
                    stack.last(),
                    Some(Frame::Map {
                        pending_key: None,
                        ..
                    })
                );
                if is_key {
                    if let Some(Frame::Map { path, pending_key }) = stack.last_mut() {
                        let full = if path.is_empty() {
                            value.to_string()
                        } else {
                            format!("{path}.{value}")
                        };
                        lines.entry(full).or_insert(line);
                        *pending_key = Some(value.to_string());
                    }
                } else {
                    child_path(&mut stack, line, &mut lines);
                }
            }
            Event::Alias(..) => {
                child_path(&mut stack, line, &mut lines);
            }
            _ => {}
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_list_items() {
        let text = "a:\n  b: 1\n  c:\n    - x\n    - y: 2\nd: 3\n";
        let k = KeyLines::scan(text);
        assert_eq!(k.line_of("a"), Some(1));
        assert_eq!(k.line_of("a.b"), Some(2));
        assert_eq!(k.line_of("a.c[1].y"), Some(5));
        assert_eq!(k.line_of("d"), Some(6));
        assert_eq!(k.line_of("a.b.zzz"), Some(2));
    }
}
