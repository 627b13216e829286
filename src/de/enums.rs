//! Rust enums from pickles, three ways: Python `enum.Enum` members (matched by value or
//! by name), a family of classes (one variant per class), and serde's externally tagged
//! form (a str for a unit variant, a one-pair dict `{variant: content}`).

use super::deser::Deser;
use super::magic::{Lit, Magic};
use super::object::{class_mismatch, describe, Instance};
use crate::error::{Error, ErrorKind, Result};
use crate::value::{Node, Slot, Value};
use serde::de::{self, DeserializeSeed, Visitor};

/// How a variant is named to serde's variant visitor.
enum Name<'g, 'de> {
    Static(&'static str),
    Node(Value<'g, 'de>),
}

/// What the chosen variant holds.
enum Content<'a, 'g, 'de> {
    Unit,
    Value(Deser<'a, 'g, 'de>),
    /// An instance of the variant's class, with the variant's pickle attributes.
    Object(Deser<'a, 'g, 'de>, Option<Magic<'static>>),
}

struct Access<'a, 'g, 'de> {
    name: Name<'g, 'de>,
    content: Content<'a, 'g, 'de>,
}

pub(crate) fn deserialize_enum<'de, V: Visitor<'de>>(
    de: Deser<'_, '_, 'de>,
    name: &'static str,
    variants: &'static [&'static str],
    visitor: V,
) -> Result<V::Value> {
    let container = Magic::parse(name);
    let magics: Vec<Option<Magic<'static>>> = if container.is_some() {
        variants.iter().map(|v| Magic::parse(v)).collect()
    } else {
        Vec::new()
    };
    let family = magics.iter().flatten().any(|m| m.class.is_some());
    let members = !family
        && (magics.iter().flatten().any(|m| m.value.is_some())
            || container.is_some_and(|c| c.class.is_some()));
    let v = de.v;
    if family {
        if let Some(inst) = Instance::of(v) {
            let module = container.and_then(|c| c.module);
            for (i, m) in magics.iter().enumerate() {
                let Some(m) = m else { continue };
                if let Some(class) = m.class {
                    if inst.is(m.module.or(module), class) {
                        return visitor.visit_enum(Access {
                            name: Name::Static(variants[i]),
                            content: Content::Object(de, Some(*m)),
                        });
                    }
                }
            }
            let names: Vec<String> = magics
                .iter()
                .flatten()
                .filter_map(|m| m.qualified_class(module))
                .collect();
            return Err(class_mismatch(&names.join(" or "), v));
        }
    } else if members {
        return member(de, container, variants, &magics, visitor);
    }
    plain(de, variants, visitor)
}

/// serde's externally tagged form, plus instances whose class is named like a variant.
fn plain<'de, V: Visitor<'de>>(
    de: Deser<'_, '_, 'de>,
    variants: &'static [&'static str],
    visitor: V,
) -> Result<V::Value> {
    let v = de.v;
    if let Slot::Str(_) = v.slot() {
        return visitor.visit_enum(Access {
            name: Name::Node(v),
            content: Content::Unit,
        });
    }
    match v.node() {
        Some(Node::Str(_)) => visitor.visit_enum(Access {
            name: Name::Node(v),
            content: Content::Unit,
        }),
        Some(Node::Global(g)) => {
            let short = g.name.rsplit('.').next().unwrap_or(&g.name);
            match variants.iter().find(|n| **n == short) {
                Some(n) => visitor.visit_enum(Access {
                    name: Name::Static(n),
                    content: Content::Unit,
                }),
                None => Err(<Error as de::Error>::unknown_variant(short, variants)),
            }
        }
        // `np.str_` scalars (and 0-d `U` arrays) name unit variants as a `str` does.
        Some(Node::Emulated(e))
            if matches!(
                **e,
                crate::value::Emulated::NpScalar(_) | crate::value::Emulated::NdArray(_)
            ) =>
        {
            use de::Deserializer as _;
            match super::array::Block::of(v, de.walk)? {
                Some(b) => b.deserialize_enum("", variants, visitor),
                None => Err(describe_invalid(v, &visitor)),
            }
        }
        Some(Node::Object(_)) => {
            let inst = Instance::of(v).expect("an object node");
            let class = inst
                .class
                .map(|c| c.name.rsplit('.').next().unwrap_or(&c.name));
            match class.and_then(|c| variants.iter().find(|n| **n == c)) {
                Some(n) => visitor.visit_enum(Access {
                    name: Name::Static(n),
                    content: Content::Object(de, None),
                }),
                None => Err(Error::new(
                    ErrorKind::Type,
                    format!(
                        "invalid type: {}, expected {} (no variant is named after its class)",
                        describe(v),
                        &visitor as &dyn de::Expected
                    ),
                )),
            }
        }
        _ => {
            let Some(mut pairs) = v.items() else {
                return Err(Error::new(
                    ErrorKind::Type,
                    format!(
                        "invalid type: {}, expected {}",
                        describe(v),
                        &visitor as &dyn de::Expected
                    ),
                ));
            };
            match (pairs.next(), pairs.next()) {
                (Some((k, val)), None) => {
                    de.walk.charge(val.graph(), val.slot())?;
                    visitor.visit_enum(Access {
                        name: Name::Node(k),
                        content: Content::Value(Deser::new(val, de.walk)),
                    })
                }
                _ => Err(Error::new(
                    ErrorKind::Type,
                    format!(
                        "invalid type: {}, expected {} (a dict with exactly one key)",
                        describe(v),
                        &visitor as &dyn de::Expected
                    ),
                )),
            }
        }
    }
}

/// A Python `enum.Enum` member: `REDUCE(cls, (value,))`, a global `Cls.NAME`, or a
/// bare value.
fn member<'de, V: Visitor<'de>>(
    de: Deser<'_, '_, 'de>,
    container: Option<Magic<'static>>,
    variants: &'static [&'static str],
    magics: &[Option<Magic<'static>>],
    visitor: V,
) -> Result<V::Value> {
    let v = de.v;
    let module = container.and_then(|c| c.module);
    let class = container.and_then(|c| c.class);
    let expected = container.and_then(|c| c.qualified_class(None));
    let variant_name = |i: usize| magics[i].map_or(variants[i], |m| m.name);
    let chosen = |i: usize| {
        visitor.visit_enum(Access {
            name: Name::Static(variants[i]),
            content: Content::Unit,
        })
    };
    // By name: a member pickled as the global `module.Class.NAME`.
    if let Some(g) = v.as_global() {
        let (owner, short) = g.name.rsplit_once('.').unwrap_or(("", &g.name));
        let owner_ok = class.is_none_or(|c| c == owner) && module.is_none_or(|m| g.module == m);
        if !owner_ok {
            return Err(class_mismatch(&expected.unwrap_or_default(), v));
        }
        let exact = (0..variants.len()).find(|&i| variant_name(i) == short);
        let loose = || (0..variants.len()).find(|&i| same_name(variant_name(i), short));
        return match exact.or_else(loose) {
            Some(i) => chosen(i),
            None => Err(no_member(v, short, variants, magics)),
        };
    }
    let value = match Instance::of(v) {
        Some(inst) => {
            if let Some(c) = class {
                if !inst.is(module, c) {
                    return Err(class_mismatch(&expected.unwrap_or_default(), v));
                }
            }
            match inst.args {
                [one] => v.graph().value(*one),
                _ => {
                    return Err(Error::new(
                        ErrorKind::Type,
                        format!(
                            "invalid type: {}, expected an enum member (a call with one argument)",
                            describe(v)
                        ),
                    ))
                }
            }
        }
        None => v,
    };
    let by_value = (0..variants.len()).find(|&i| match magics[i].and_then(|m| m.value) {
        Some(lit) => lit_eq(lit, value),
        None => false,
    });
    let by_name = || {
        let s = value.as_str()?;
        (0..variants.len())
            .find(|&i| magics[i].is_none_or(|m| m.value.is_none()) && variant_name(i) == s)
    };
    match by_value.or_else(by_name) {
        Some(i) => chosen(i),
        None => Err(no_member(v, &describe(value), variants, magics)),
    }
}

/// Python member names are usually `UPPER_CASE`, Rust variants `CamelCase`: compare
/// ignoring case and underscores.
fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| *c != '_')
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    norm(a) == norm(b)
}

fn lit_eq(lit: Lit<'_>, v: Value<'_, '_>) -> bool {
    match lit {
        Lit::Int(i) => match v.slot() {
            Slot::Int(x) => i == x as i128,
            _ => v
                .as_bigint()
                .is_some_and(|b| b == num_bigint::BigInt::from(i)),
        },
        Lit::Str(s) => v.as_str() == Some(s),
        Lit::Bool(b) => v.as_bool() == Some(b),
    }
}

fn no_member(
    v: Value<'_, '_>,
    found: &str,
    variants: &[&str],
    magics: &[Option<Magic<'_>>],
) -> Error {
    let listed: Vec<String> = variants
        .iter()
        .zip(magics)
        .map(|(n, m)| match m {
            Some(m) => match m.value {
                Some(Lit::Int(i)) => format!("{} = {i}", m.name),
                Some(Lit::Str(s)) => format!("{} = {s:?}", m.name),
                Some(Lit::Bool(b)) => format!("{} = {}", m.name, if b { "True" } else { "False" }),
                None => m.name.to_string(),
            },
            None => n.to_string(),
        })
        .collect();
    let what = match Instance::of(v) {
        Some(i) => format!(" of {}", i.class_name()),
        None => String::new(),
    };
    Error::new(
        ErrorKind::Type,
        format!(
            "unknown enum member{what}: {found}; expected one of {}",
            listed.join(", ")
        ),
    )
}

impl<'a, 'g, 'de> de::EnumAccess<'de> for Access<'a, 'g, 'de> {
    type Error = Error;
    type Variant = Content<'a, 'g, 'de>;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self::Variant)> {
        let value = match self.name {
            Name::Static(s) => {
                seed.deserialize(de::value::BorrowedStrDeserializer::<Error>::new(s))?
            }
            Name::Node(v) => {
                let walk = match &self.content {
                    Content::Value(d) | Content::Object(d, _) => d.walk,
                    Content::Unit => return unit_name(v, seed).map(|x| (x, self.content)),
                };
                seed.deserialize(Deser::key(v, walk))?
            }
        };
        Ok((value, self.content))
    }
}

/// A variant named by a str node with no content.
fn unit_name<'de, S: DeserializeSeed<'de>>(v: Value<'_, 'de>, seed: S) -> Result<S::Value> {
    if let Some(s) = v.as_borrowed_str() {
        return seed.deserialize(de::value::BorrowedStrDeserializer::<Error>::new(s));
    }
    if let (Slot::Str(_), Some(s)) = (v.slot(), v.as_str()) {
        return seed.deserialize(de::value::StrDeserializer::<Error>::new(s));
    }
    match v.node() {
        Some(Node::Str(std::borrow::Cow::Borrowed(s))) => {
            seed.deserialize(de::value::BorrowedStrDeserializer::<Error>::new(s))
        }
        Some(Node::Str(s)) => seed.deserialize(de::value::StrDeserializer::<Error>::new(s)),
        _ => Err(<Error as de::Error>::custom("a variant name must be a str")),
    }
}

impl<'de> de::VariantAccess<'de> for Content<'_, '_, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        match self {
            Content::Value(d) if !d.v.is_none() => Err(Error::new(
                ErrorKind::Type,
                format!("invalid type: {}, expected a unit variant", describe(d.v)),
            )),
            _ => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        match self {
            Content::Value(d) | Content::Object(d, _) => seed.deserialize(d),
            Content::Unit => Err(Error::new(
                ErrorKind::Type,
                "invalid type: unit variant, expected newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        match self {
            Content::Value(d) => de::Deserializer::deserialize_tuple(d, len, visitor),
            Content::Object(d, m) => d.tuple_from(m, visitor, false),
            Content::Unit => Err(Error::new(
                ErrorKind::Type,
                "invalid type: unit variant, expected tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self {
            Content::Value(d) => d.struct_from("", None, fields, visitor, false),
            Content::Object(d, m) => d.struct_from("", m, fields, visitor, false),
            Content::Unit => Err(Error::new(
                ErrorKind::Type,
                "invalid type: unit variant, expected struct variant",
            )),
        }
    }
}

fn describe_invalid(v: crate::value::Value<'_, '_>, exp: &dyn de::Expected) -> Error {
    Error::new(
        ErrorKind::Type,
        format!("invalid type: {}, expected {exp}", describe(v)),
    )
}
