//! One-pass strict reading: a deserializer adapter that refuses an object
//! with two members of one name, at any depth, while the document is read
//! into its type, ignored members included.
//!
//! serde_json keeps the last of two members with the same name (and skips
//! ignored members without looking inside them), so two readers of one
//! document could see different values. [`Strict`] wraps a deserializer;
//! every object the type reads, or skips, passes through [`StrictMap`],
//! which remembers the member names seen so far and fails on a repeat. The
//! wrapping adds no recursion of its own beyond serde_json's, which bounds
//! nesting depth (128), so hostile input cannot exhaust the stack.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// A deserializer whose objects may not repeat a member name.
pub(crate) struct Strict<D>(pub(crate) D);

/// The visitor of a value read through [`Strict`]: its objects, arrays,
/// options and enums are read strictly too.
struct StrictVisitor<V>(V);

/// The deserializer of an object member's name: it records the name.
struct NameDeserializer<'k, 'de, D> {
    inner: D,
    names: &'k mut Names<'de>,
}

/// The visitor of a member name: records it, then hands it on.
struct NameVisitor<'k, 'de, V> {
    inner: V,
    names: &'k mut Names<'de>,
}

/// Forwards each `deserialize_*` method to the wrapped deserializer, with
/// the visitor wrapped (the type's `split`).
macro_rules! forward_deserialize {
    ($($method:ident ( $($arg:ident : $ty:ty),* );)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
                let (inner, wrapped) = self.split(visitor);
                inner.$method($($arg,)* wrapped)
            }
        )*
    };
}

/// Every `deserialize_*` method but `deserialize_ignored_any`.
macro_rules! all_deserialize_methods {
    () => {
        forward_deserialize! {
            deserialize_any();
            deserialize_bool();
            deserialize_i8();
            deserialize_i16();
            deserialize_i32();
            deserialize_i64();
            deserialize_i128();
            deserialize_u8();
            deserialize_u16();
            deserialize_u32();
            deserialize_u64();
            deserialize_u128();
            deserialize_f32();
            deserialize_f64();
            deserialize_char();
            deserialize_str();
            deserialize_string();
            deserialize_bytes();
            deserialize_byte_buf();
            deserialize_option();
            deserialize_unit();
            deserialize_unit_struct(name: &'static str);
            deserialize_newtype_struct(name: &'static str);
            deserialize_seq();
            deserialize_tuple(len: usize);
            deserialize_tuple_struct(name: &'static str, len: usize);
            deserialize_map();
            deserialize_struct(name: &'static str, fields: &'static [&'static str]);
            deserialize_enum(name: &'static str, variants: &'static [&'static str]);
            deserialize_identifier();
        }
    };
}

impl<D> Strict<D> {
    fn split<V>(self, visitor: V) -> (D, StrictVisitor<V>) {
        (self.0, StrictVisitor(visitor))
    }
}

impl<'k, 'de, D> NameDeserializer<'k, 'de, D> {
    fn split<V>(self, visitor: V) -> (D, NameVisitor<'k, 'de, V>) {
        (
            self.inner,
            NameVisitor {
                inner: visitor,
                names: self.names,
            },
        )
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    all_deserialize_methods!();

    /// Skipped content is read too (serde_json would skip it without
    /// looking), so that a repeat inside an ignored member is found.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(StrictVisitor(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

impl<'k, 'de, D: Deserializer<'de>> Deserializer<'de> for NameDeserializer<'k, 'de, D> {
    type Error = D::Error;

    all_deserialize_methods!();

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(NameVisitor {
            inner: visitor,
            names: self.names,
        })
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Calls `$mac` with the `visit_*` methods of numbers, flags and chars.
macro_rules! with_plain_scalars {
    ($mac:ident) => {
        $mac! {
            visit_bool(bool);
            visit_i8(i8);
            visit_i16(i16);
            visit_i32(i32);
            visit_i64(i64);
            visit_i128(i128);
            visit_u8(u8);
            visit_u16(u16);
            visit_u32(u32);
            visit_u64(u64);
            visit_u128(u128);
            visit_f32(f32);
            visit_f64(f64);
            visit_char(char);
        }
    };
}

/// Forwards the scalar `visit_*` methods unchanged.
macro_rules! forward_scalars {
    ($($method:ident ( $ty:ty );)*) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.0.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for StrictVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    with_plain_scalars!(forward_scalars);
    forward_scalars! {
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Strict(d))
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(Strict(d))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(StrictSeq(seq))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(StrictMap {
            inner: map,
            names: Names::default(),
        })
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(StrictEnum(data))
    }
}

impl<'k, 'de, V: Visitor<'de>> NameVisitor<'k, 'de, V> {
    fn record<E: de::Error>(&mut self, name: Cow<'de, str>) -> Result<(), E> {
        self.names.insert(name).map_err(E::custom)
    }
}

/// Records a name given as a number or a flag (a map with such keys) by
/// its text, then forwards it.
macro_rules! record_scalar_names {
    ($($method:ident ( $ty:ty );)*) => {
        $(
            fn $method<E: de::Error>(mut self, v: $ty) -> Result<V::Value, E> {
                self.record(Cow::Owned(v.to_string()))?;
                self.inner.$method(v)
            }
        )*
    };
}

impl<'k, 'de, V: Visitor<'de>> Visitor<'de> for NameVisitor<'k, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    with_plain_scalars!(record_scalar_names);

    fn visit_borrowed_str<E: de::Error>(mut self, v: &'de str) -> Result<V::Value, E> {
        self.record(Cow::Borrowed(v))?;
        self.inner.visit_borrowed_str(v)
    }
    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<V::Value, E> {
        self.record(Cow::Owned(v.to_owned()))?;
        self.inner.visit_str(v)
    }
    fn visit_string<E: de::Error>(mut self, v: String) -> Result<V::Value, E> {
        self.record(Cow::Owned(v.clone()))?;
        self.inner.visit_string(v)
    }
    fn visit_bytes<E: de::Error>(mut self, v: &[u8]) -> Result<V::Value, E> {
        self.record(String::from_utf8_lossy(v).into_owned().into())?;
        self.inner.visit_bytes(v)
    }
    fn visit_borrowed_bytes<E: de::Error>(mut self, v: &'de [u8]) -> Result<V::Value, E> {
        self.record(String::from_utf8_lossy(v))?;
        self.inner.visit_borrowed_bytes(v)
    }
    fn visit_byte_buf<E: de::Error>(mut self, v: Vec<u8>) -> Result<V::Value, E> {
        self.record(String::from_utf8_lossy(&v).into_owned().into())?;
        self.inner.visit_byte_buf(v)
    }
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Strict(d))
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Strict(d))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(StrictSeq(seq))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        StrictVisitor(self.inner).visit_map(map)
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(StrictEnum(data))
    }
}

/// The member names of one object seen so far. Most objects are small: a
/// linear scan over borrowed names (copied only when they hold escapes)
/// beats a set of owned strings, and needs no allocation; past `LINEAR`
/// members a hash set keeps a huge object linear in time.
struct Names<'de> {
    few: [Cow<'de, str>; LINEAR],
    count: usize,
    many: Option<HashSet<Cow<'de, str>>>,
}

const LINEAR: usize = 16;

impl Default for Names<'_> {
    fn default() -> Self {
        Self {
            few: [const { Cow::Borrowed("") }; LINEAR],
            count: 0,
            many: None,
        }
    }
}

impl<'de> Names<'de> {
    /// Adds `name`; a name already there is the error.
    fn insert(&mut self, name: Cow<'de, str>) -> Result<(), DuplicateMember> {
        let few = self.few.get(..self.count).unwrap_or_default();
        let repeated = match &self.many {
            Some(many) => many.contains(&name),
            None => few.contains(&name),
        };
        if repeated {
            return Err(DuplicateMember(crate::digest::shorten(&name)));
        }
        if let Some(many) = &mut self.many {
            many.insert(name);
        } else if let Some(slot) = self.few.get_mut(self.count) {
            *slot = name;
            self.count += 1;
        } else {
            let mut many: HashSet<Cow<'de, str>> =
                self.few.iter_mut().map(std::mem::take).collect();
            many.insert(name);
            self.many = Some(many);
        }
        Ok(())
    }
}

/// The error of a repeated member name.
struct DuplicateMember(String);

impl fmt::Display for DuplicateMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "duplicate member `{}`", self.0)
    }
}

/// An object read strictly: each member name is checked against the ones
/// before it, each value read strictly.
struct StrictMap<'de, A> {
    inner: A,
    names: Names<'de>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for StrictMap<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(NameSeed {
            inner: seed,
            names: &mut self.names,
        })
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.next_value_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// Reads a member name through [`NameDeserializer`].
struct NameSeed<'k, 'de, K> {
    inner: K,
    names: &'k mut Names<'de>,
}

impl<'k, 'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for NameSeed<'k, 'de, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        self.inner.deserialize(NameDeserializer {
            inner: d,
            names: self.names,
        })
    }
}

/// Reads a value through [`Strict`].
struct StrictSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for StrictSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Strict(d))
    }
}

/// An array whose elements are read strictly.
struct StrictSeq<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for StrictSeq<A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.0.next_element_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// An enum whose variant's content is read strictly.
struct StrictEnum<A>(A);

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for StrictEnum<A> {
    type Error = A::Error;
    type Variant = StrictEnum<A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        self.0
            .variant_seed(seed)
            .map(|(value, variant)| (value, StrictEnum(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for StrictEnum<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.0.newtype_variant_seed(StrictSeed(seed))
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, StrictVisitor(visitor))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, StrictVisitor(visitor))
    }
}
