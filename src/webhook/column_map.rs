//! [`ColumnMap`]: a row's cells by column name, as a sorted vector.
//!
//! Why not a `BTreeMap`: a message row names a handful of columns, and a B-tree node holds room
//! for eleven entries whatever it holds (about 600 bytes for one cell), allocated when a message
//! is parsed and freed when its group commits; in the webhook's profile those nodes were a large
//! share of each message's allocations (and the echo marker's rows, one per row written, used
//! one per column too). Guarantees the same as the map it replaces: one entry
//! per column, iteration in column-name order, serialised as a JSON object.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMap<V> {
    /// Sorted by column name, names unique.
    entries: Vec<(String, V)>,
}

impl<V> Default for ColumnMap<V> {
    fn default() -> Self {
        ColumnMap {
            entries: Vec::new(),
        }
    }
}

impl<V> ColumnMap<V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        ColumnMap {
            entries: Vec::with_capacity(capacity),
        }
    }

    fn position(&self, column: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|(name, _)| name.as_str().cmp(column))
    }

    pub fn get(&self, column: &str) -> Option<&V> {
        self.position(column)
            .ok()
            .map(|index| &self.entries[index].1)
    }

    pub fn contains_key(&self, column: &str) -> bool {
        self.position(column).is_ok()
    }

    /// Sets `column` to `value`; returns the value it replaced.
    pub fn insert(&mut self, column: String, value: V) -> Option<V> {
        match self.position(&column) {
            Ok(index) => Some(std::mem::replace(&mut self.entries[index].1, value)),
            Err(index) => {
                self.entries.insert(index, (column, value));
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.entries.iter().map(|(name, value)| (name, value))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.iter().map(|(name, _)| name)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, value)| value)
    }
}

impl<V> FromIterator<(String, V)> for ColumnMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(entries: I) -> Self {
        let entries = entries.into_iter();
        let mut map = ColumnMap::with_capacity(entries.size_hint().0);
        for (column, value) in entries {
            map.insert(column, value);
        }
        map
    }
}

impl<'a, V> IntoIterator for &'a ColumnMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (String, V)>, fn(&'a (String, V)) -> Self::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(name, value)| (name, value))
    }
}

impl<V: Serialize> Serialize for ColumnMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (column, value) in &self.entries {
            map.serialize_entry(column, value)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for ColumnMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = ColumnMap<V>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an object of columns")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut map = ColumnMap::with_capacity(access.size_hint().unwrap_or(0).min(64));
                while let Some((column, value)) = access.next_entry::<String, V>()? {
                    map.insert(column, value);
                }
                Ok(map)
            }
        }

        deserializer.deserialize_map(Entries(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn behaves_as_the_ordered_map_it_replaces() {
        let pairs = [("total", 3), ("id", 1), ("name", 2), ("id", 4)];
        let mut map = ColumnMap::new();
        let mut reference = BTreeMap::new();
        for (column, value) in pairs {
            assert_eq!(
                map.insert(column.to_string(), value),
                reference.insert(column.to_string(), value)
            );
        }
        assert_eq!(map.len(), reference.len());
        assert!(map.iter().eq(reference.iter()), "same entries, same order");
        assert!(map.keys().eq(reference.keys()));
        assert!(map.values().eq(reference.values()));
        assert_eq!(map.get("id"), Some(&4));
        assert_eq!(map.get("missing"), None);
        assert!(map.contains_key("name") && !map.contains_key("nam"));
        let collected: ColumnMap<i32> = pairs.iter().map(|(c, v)| (c.to_string(), *v)).collect();
        assert_eq!(collected, map);
        let json = serde_json::to_string(&map).expect("serialise");
        assert_eq!(Some(&json), serde_json::to_string(&reference).ok().as_ref());
        let read: ColumnMap<i32> = serde_json::from_str(&json).expect("read back");
        assert_eq!(read, map);
        assert!(serde_json::from_str::<ColumnMap<i32>>("[1]").is_err());
        assert!(ColumnMap::<i32>::new().is_empty());
    }
}
