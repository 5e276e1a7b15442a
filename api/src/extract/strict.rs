//! A deserializer wrapper that reads a struct only from a JSON object.
//!
//! serde's derived `Deserialize` for a struct also accepts a sequence holding the fields'
//! values in declaration order, so `["已自行解决"]` read as `{"reason": "已自行解决"}` and
//! `POST /v1/tickets/{id}/withdraw` with that array withdrew the ticket (issue 8, point 5).
//! The document says every body and every nested body (`/accept`, `/days/3`) is an object.
//! [`Strict`] forwards everything to the deserializer it wraps, at every depth, except that
//! a struct met as a sequence is refused as a wrong type.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The deserializer `D`, refusing a struct given as a sequence.
pub struct Strict<D>(pub D);

/// Forwards `deserialize_*` methods to the wrapped deserializer with a [`Guard`] around the
/// visitor.
macro_rules! forward {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
                self.0.$method(Guard { inner: visitor, is_struct: false })
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(
            name,
            Guard {
                inner: visitor,
                is_struct: false,
            },
        )
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(
            name,
            Guard {
                inner: visitor,
                is_struct: false,
            },
        )
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(
            len,
            Guard {
                inner: visitor,
                is_struct: false,
            },
        )
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(
            name,
            len,
            Guard {
                inner: visitor,
                is_struct: false,
            },
        )
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(
            name,
            fields,
            Guard {
                inner: visitor,
                is_struct: true,
            },
        )
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(
            name,
            variants,
            Guard {
                inner: visitor,
                is_struct: false,
            },
        )
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// The visitor `V`, with what it visits wrapped in turn; a struct's refuses sequences.
struct Guard<V> {
    inner: V,
    is_struct: bool,
}

macro_rules! visit {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.inner.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Guard<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.is_struct {
            f.write_str("a JSON object")
        } else {
            self.inner.expecting(f)
        }
    }

    visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.inner.visit_some(Strict(d))
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.inner.visit_newtype_struct(Strict(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if self.is_struct {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        self.inner.visit_seq(Seq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Map(map))
    }

    // Enums of the bodies are unit variants named by strings: nothing inside to guard.
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

/// A seed whose deserializer is wrapped.
struct Seed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Strict(d))
    }
}

struct Seq<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct Map<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(seed)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Deserialize, Debug)]
    struct Limit {
        amount: u32,
        unit: String,
    }

    #[allow(dead_code)]
    #[derive(Deserialize, Debug)]
    struct Policy {
        accept: Limit,
        items: Vec<String>,
        maybe: Option<Limit>,
        pairs: Vec<Limit>,
    }

    fn read(json: &str) -> Result<Policy, String> {
        let mut de = serde_json::Deserializer::from_str(json);
        Policy::deserialize(Strict(&mut de)).map_err(|e| e.to_string())
    }

    #[test]
    fn a_struct_is_read_from_an_object_only_at_every_depth() {
        let ok = r#"{"accept": {"amount": 1, "unit": "minutes"}, "items": ["a"],
                     "maybe": {"amount": 2, "unit": "minutes"},
                     "pairs": [{"amount": 3, "unit": "minutes"}]}"#;
        let p = read(ok).unwrap();
        assert_eq!(p.pairs[0].amount, 3);
        // serde alone takes these arrays for structs.
        for bad in [
            r#"[{"amount": 1, "unit": "minutes"}, ["a"], null, []]"#,
            r#"{"accept": [1, "minutes"], "items": [], "maybe": null, "pairs": []}"#,
            r#"{"accept": {"amount": 1, "unit": "m"}, "items": [], "maybe": [2, "m"], "pairs": []}"#,
            r#"{"accept": {"amount": 1, "unit": "m"}, "items": [], "maybe": null, "pairs": [[3, "m"]]}"#,
        ] {
            let e = read(bad).unwrap_err();
            assert!(
                e.starts_with("invalid type: sequence, expected a JSON object"),
                "{bad}: {e}"
            );
        }
    }
}
