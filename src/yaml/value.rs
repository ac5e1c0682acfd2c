//! YAML's own data model, for the few places that need what JSON's model loses: the order
//! of a mapping's keys (to re-emit a document as it was written) and keys that are not
//! strings. Everything else converts to JSON's model with [`super::yaml_to_json`].

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A YAML node.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Yaml {
    /// `null`, `~` or nothing.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer or a float.
    Number(Number),
    /// Any other scalar.
    String(String),
    /// A list.
    Sequence(Vec<Yaml>),
    /// A mapping, in document order.
    Mapping(Mapping),
}

/// A YAML number: integers stay exact, floats may be infinite or NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// A negative integer.
    Neg(i64),
    /// A non-negative integer.
    Pos(u64),
    /// A float.
    Float(f64),
}

impl Number {
    /// The number as an `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Number::Neg(i) => Some(i),
            Number::Pos(u) => i64::try_from(u).ok(),
            Number::Float(_) => None,
        }
    }

    /// The number as a `u64`, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Number::Pos(u) => Some(u),
            _ => None,
        }
    }

    /// The number as an `f64` (integers converted).
    pub fn as_f64(&self) -> f64 {
        match *self {
            Number::Neg(i) => i as f64,
            Number::Pos(u) => u as f64,
            Number::Float(f) => f,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Number::Neg(i) => write!(f, "{i}"),
            Number::Pos(u) => write!(f, "{u}"),
            Number::Float(x) if x.is_nan() => f.write_str(".nan"),
            Number::Float(x) if x.is_infinite() => {
                f.write_str(if x > 0.0 { ".inf" } else { "-.inf" })
            }
            Number::Float(x) if x.fract() == 0.0 && x.abs() < 1e16 => write!(f, "{x:.1}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// A mapping that keeps its keys in document order. Keys are unique: the parser refuses
/// a duplicate, and [`Mapping::insert`] replaces.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    entries: Vec<(Yaml, Yaml)>,
}

impl Mapping {
    /// An empty mapping.
    pub fn new() -> Mapping {
        Mapping::default()
    }

    /// The value under `key` (a `&str` or a [`Yaml`] key).
    pub fn get<K: Key + ?Sized>(&self, key: &K) -> Option<&Yaml> {
        self.entries.iter().find(|(k, _)| key.is(k)).map(|(_, v)| v)
    }

    /// The value under `key`, to change it.
    pub fn get_mut<K: Key + ?Sized>(&mut self, key: &K) -> Option<&mut Yaml> {
        self.entries
            .iter_mut()
            .find(|(k, _)| key.is(k))
            .map(|(_, v)| v)
    }

    /// Sets `key` to `value`, in place if the key is there, else at the end.
    pub fn insert(&mut self, key: Yaml, value: Yaml) -> Option<Yaml> {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Whether a string key is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Yaml, &Yaml)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries in order, to change the values.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Yaml, &mut Yaml)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What can name an entry of a [`Mapping`]: a string or any YAML key.
pub trait Key {
    /// Whether this names the mapping key `k`.
    fn is(&self, k: &Yaml) -> bool;
}

impl Key for str {
    fn is(&self, k: &Yaml) -> bool {
        k.as_str() == Some(self)
    }
}

impl Key for Yaml {
    fn is(&self, k: &Yaml) -> bool {
        self == k
    }
}

impl From<&str> for Yaml {
    fn from(s: &str) -> Yaml {
        Yaml::String(s.to_string())
    }
}

impl From<String> for Yaml {
    fn from(s: String) -> Yaml {
        Yaml::String(s)
    }
}

impl IntoIterator for Mapping {
    type Item = (Yaml, Yaml);
    type IntoIter = std::vec::IntoIter<(Yaml, Yaml)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a Mapping {
    type Item = (&'a Yaml, &'a Yaml);
    type IntoIter = Box<dyn Iterator<Item = (&'a Yaml, &'a Yaml)> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl Yaml {
    /// The text of a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::String(s) => Some(s),
            _ => None,
        }
    }

    /// The mapping, if this is one.
    pub fn as_mapping(&self) -> Option<&Mapping> {
        match self {
            Yaml::Mapping(m) => Some(m),
            _ => None,
        }
    }

    /// The mapping, if this is one, to change it.
    pub fn as_mapping_mut(&mut self) -> Option<&mut Mapping> {
        match self {
            Yaml::Mapping(m) => Some(m),
            _ => None,
        }
    }

    /// The list, if this is one.
    pub fn as_sequence(&self) -> Option<&Vec<Yaml>> {
        match self {
            Yaml::Sequence(s) => Some(s),
            _ => None,
        }
    }

    /// The list, if this is one, to change it.
    pub fn as_sequence_mut(&mut self) -> Option<&mut Vec<Yaml>> {
        match self {
            Yaml::Sequence(s) => Some(s),
            _ => None,
        }
    }

    /// The value under `key` of a mapping.
    pub fn get<K: Key + ?Sized>(&self, key: &K) -> Option<&Yaml> {
        self.as_mapping()?.get(key)
    }

    /// The value under `key` of a mapping, to change it.
    pub fn get_mut<K: Key + ?Sized>(&mut self, key: &K) -> Option<&mut Yaml> {
        self.as_mapping_mut()?.get_mut(key)
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Yaml::Null)
    }

    /// Whether this is a string scalar.
    pub fn is_string(&self) -> bool {
        matches!(self, Yaml::String(_))
    }

    /// Whether this is a number.
    pub fn is_number(&self) -> bool {
        matches!(self, Yaml::Number(_))
    }
}

thread_local! {
    /// How deep the document being read is nested at this point.
    static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts one level of nesting for as long as it lives; refuses to go past the limit so a
/// hostile document cannot exhaust the stack.
struct Level;

impl Level {
    fn enter<E: de::Error>() -> Result<Level, E> {
        let depth = DEPTH.with(|d| {
            d.set(d.get() + 1);
            d.get()
        });
        let level = Level;
        if depth > super::max_depth() {
            return Err(E::custom(super::depth_message()));
        }
        Ok(level)
    }
}

impl Drop for Level {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Yaml, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Yaml;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E>(self, b: bool) -> Result<Yaml, E> {
                Ok(Yaml::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Yaml, E> {
                Ok(Yaml::Number(if i < 0 {
                    Number::Neg(i)
                } else {
                    Number::Pos(i as u64)
                }))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Yaml, E> {
                Ok(Yaml::Number(Number::Pos(u)))
            }
            fn visit_i128<E: de::Error>(self, i: i128) -> Result<Yaml, E> {
                match (i64::try_from(i), u64::try_from(i)) {
                    (_, Ok(u)) => Ok(Yaml::Number(Number::Pos(u))),
                    (Ok(n), _) => Ok(Yaml::Number(Number::Neg(n))),
                    _ => Ok(Yaml::Number(Number::Float(i as f64))),
                }
            }
            fn visit_u128<E: de::Error>(self, u: u128) -> Result<Yaml, E> {
                Ok(Yaml::Number(match u64::try_from(u) {
                    Ok(u) => Number::Pos(u),
                    Err(_) => Number::Float(u as f64),
                }))
            }
            fn visit_f64<E>(self, x: f64) -> Result<Yaml, E> {
                Ok(Yaml::Number(Number::Float(x)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Yaml, E> {
                Ok(Yaml::String(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Yaml, E> {
                Ok(Yaml::String(s))
            }
            fn visit_unit<E>(self) -> Result<Yaml, E> {
                Ok(Yaml::Null)
            }
            fn visit_none<E>(self) -> Result<Yaml, E> {
                Ok(Yaml::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
                Yaml::deserialize(d)
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
                Yaml::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Yaml, A::Error> {
                let _level = Level::enter()?;
                let mut items = Vec::with_capacity(a.size_hint().unwrap_or(0).min(1024));
                while let Some(v) = a.next_element()? {
                    items.push(v);
                }
                Ok(Yaml::Sequence(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Yaml, A::Error> {
                let _level = Level::enter()?;
                let mut m = Mapping::new();
                while let Some((k, v)) = a.next_entry::<Yaml, Yaml>()? {
                    m.entries.push((k, v));
                }
                Ok(Yaml::Mapping(m))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Yaml {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Yaml::Null => s.serialize_unit(),
            Yaml::Bool(b) => s.serialize_bool(*b),
            Yaml::Number(Number::Neg(i)) => s.serialize_i64(*i),
            Yaml::Number(Number::Pos(u)) => s.serialize_u64(*u),
            Yaml::Number(Number::Float(x)) => s.serialize_f64(*x),
            Yaml::String(t) => s.serialize_str(t),
            Yaml::Sequence(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Yaml::Mapping(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m.iter() {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}
