//! The emulated standard-library classes: a recorded construction whose callable is one of
//! the names below becomes the native value it would have produced. Anything whose
//! arguments do not have the expected shape stays the generic object it was.

use crate::value::Construct;
use crate::value::{DictClass, Emulated, Graph, Node, NodeId, Object, Packed, Slot, UtcOffset};
use num_traits::ToPrimitive;
use std::borrow::Cow;

/// Rewrites, in creation order, every object node that an emulation recognises. Creation
/// order matters: arguments are created before the call that takes them, so a datetime
/// sees its `_codecs.encode` argument already turned into bytes.
pub(crate) fn emulate(graph: &mut Graph<'_>, objects: &[NodeId]) {
    for &id in objects {
        let Node::Object(obj) = graph.node(id) else {
            continue;
        };
        let node = match emulate_object(graph, graph.object(*obj)) {
            None => continue,
            Some(Emulation::Node(node)) => node,
            Some(Emulation::Seq(name, items)) => {
                let items = graph.new_items(&items);
                match name {
                    "set" => Node::Set(items),
                    "frozenset" => Node::FrozenSet(items),
                    "list" => Node::List(items),
                    _ => Node::Tuple(items),
                }
            }
            Some(Emulation::Dict(pairs)) => Node::Dict(graph.new_pairs(&pairs)),
            Some(Emulation::DictClass {
                class,
                items,
                default_factory,
                state,
            }) => Node::Emulated(Box::new(Emulated::Dict {
                class,
                items: graph.new_pairs(&items),
                default_factory,
                state,
            })),
        };
        *graph.node_mut(id) = node;
    }
}

fn emu(node: Node<'_>) -> Option<Emulation<'_>> {
    Some(Emulation::Node(node))
}

/// What an object turns into: a node, or contents that still need a span of the graph.
enum Emulation<'de> {
    Node(Node<'de>),
    /// `set`, `frozenset`, `list` or `tuple`.
    Seq(&'static str, Vec<Packed>),
    Dict(Vec<(Packed, Packed)>),
    DictClass {
        class: DictClass,
        items: Vec<(Packed, Packed)>,
        default_factory: Option<Packed>,
        state: Option<Packed>,
    },
}

fn global_name<'g>(graph: &'g Graph<'_>, p: Packed) -> Option<(&'g str, &'g str)> {
    match node(graph, p)? {
        Node::Global(g) => Some((&g.module, &g.name)),
        _ => None,
    }
}

fn node<'g, 'de>(graph: &'g Graph<'de>, p: Packed) -> Option<&'g Node<'de>> {
    p.node_id().map(|id| graph.node(id))
}

fn seq_items<'g>(graph: &'g Graph<'_>, slot: Packed) -> Option<&'g [Packed]> {
    match node(graph, slot)? {
        Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => Some(graph.items(*v)),
        _ => None,
    }
}

fn dict_pairs(graph: &Graph<'_>, slot: Packed) -> Option<Vec<(Packed, Packed)>> {
    match node(graph, slot)? {
        Node::Dict(d) => Some(graph.pairs(*d).to_vec()),
        Node::Emulated(e) => match &**e {
            Emulated::Dict { items, .. } => Some(graph.pairs(*items).to_vec()),
            _ => None,
        },
        // A sequence of 2-sequences, as dict() and OrderedDict() accept.
        Node::List(v) | Node::Tuple(v) => graph
            .items(*v)
            .iter()
            .map(|p| match seq_items(graph, *p) {
                Some(kv) if kv.len() == 2 => Some((kv[0], kv[1])),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn str_of<'g>(graph: &'g Graph<'_>, p: Packed) -> Option<&'g str> {
    graph.str_of(graph.slot(p))
}

/// Bytes of a bytes value, or of a str read as Latin-1 (how Python 2 pickles carry
/// datetime state under `encoding="latin1"`).
fn state_bytes(graph: &Graph<'_>, slot: Packed) -> Option<Vec<u8>> {
    if let Some(s) = str_of(graph, slot) {
        return s.chars().map(|c| u8::try_from(c as u32).ok()).collect();
    }
    match node(graph, slot)? {
        Node::Bytes(b) | Node::ByteArray(b) => Some(b.to_vec()),
        _ => None,
    }
}

fn int_of(graph: &Graph<'_>, p: Packed) -> Option<i64> {
    match graph.slot(p) {
        Slot::Int(i) => Some(i),
        Slot::Bool(b) => Some(b as i64),
        Slot::Node(id) => match graph.node(id) {
            Node::BigInt(b) => b.to_i64(),
            _ => None,
        },
        _ => None,
    }
}

fn is_int(graph: &Graph<'_>, p: Packed) -> bool {
    match graph.slot(p) {
        Slot::Int(_) => true,
        Slot::Node(id) => matches!(graph.node(id), Node::BigInt(_)),
        _ => false,
    }
}

fn float_of(graph: &Graph<'_>, p: Packed) -> Option<f64> {
    match graph.slot(p) {
        Slot::Float(f) => Some(f),
        Slot::Int(i) => Some(i as f64),
        Slot::Bool(b) => Some(b as i64 as f64),
        _ => None,
    }
}

fn encode(text: &str, encoding: &str) -> Option<Vec<u8>> {
    match encoding.to_ascii_lowercase().replace('_', "-").as_str() {
        "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "l1" => {
            text.chars().map(|c| u8::try_from(c as u32).ok()).collect()
        }
        "utf-8" | "utf8" => Some(text.as_bytes().to_vec()),
        "ascii" => text.is_ascii().then(|| text.as_bytes().to_vec()),
        _ => None,
    }
}

/// bytes(...) / bytearray(...) arguments: (), (bytes,), (str, encoding), (list of ints,).
fn bytes_from_args(graph: &Graph<'_>, args: &[Packed]) -> Option<Vec<u8>> {
    match args {
        [] => Some(Vec::new()),
        [a] => match node(graph, *a)? {
            Node::Bytes(b) | Node::ByteArray(b) => Some(b.to_vec()),
            Node::List(v) | Node::Tuple(v) => graph
                .items(*v)
                .iter()
                .map(|s| int_of(graph, *s).and_then(|i| u8::try_from(i).ok()))
                .collect(),
            _ => None,
        },
        [s, e] | [s, e, _] => encode(str_of(graph, *s)?, str_of(graph, *e)?),
        _ => None,
    }
}

fn plain(obj: &Object) -> bool {
    obj.state.is_none() && obj.items.is_empty() && obj.dictitems.is_empty() && obj.kwargs.is_none()
}

fn emulate_object<'de>(graph: &Graph<'de>, obj: &Object) -> Option<Emulation<'de>> {
    let (module, name) = global_name(graph, obj.callable)?;
    // Python 2's name for builtins, in pickles whose protocol did not trigger the rename.
    let module = if module == "__builtin__" {
        "builtins"
    } else {
        module
    };
    let args = graph.items(obj.args);
    let call = obj.construct == Construct::Call;
    match (module, name) {
        ("builtins", "set")
        | ("builtins", "frozenset")
        | ("builtins", "list")
        | ("builtins", "tuple")
            if call && plain(obj) =>
        {
            let items = match args {
                [] => Vec::new(),
                [a] => seq_items(graph, *a)?.to_vec(),
                _ => return None,
            };
            let name = match name {
                "set" => "set",
                "frozenset" => "frozenset",
                "list" => "list",
                _ => "tuple",
            };
            Some(Emulation::Seq(name, items))
        }
        ("builtins", "dict") if call && obj.state.is_none() && obj.items.is_empty() => {
            let mut pairs = match args {
                [] => Vec::new(),
                [a] => dict_pairs(graph, *a)?,
                _ => return None,
            };
            pairs.extend_from_slice(graph.pairs(obj.dictitems));
            Some(Emulation::Dict(pairs))
        }
        ("builtins", "bytes") if call && plain(obj) => {
            emu(Node::Bytes(Cow::Owned(bytes_from_args(graph, args)?)))
        }
        ("builtins", "bytearray") if call && plain(obj) => {
            emu(Node::ByteArray(Cow::Owned(bytes_from_args(graph, args)?)))
        }
        ("_codecs", "encode") if call && plain(obj) => match args {
            [s, e] => emu(Node::Bytes(Cow::Owned(encode(
                str_of(graph, *s)?,
                str_of(graph, *e)?,
            )?))),
            [s] => emu(Node::Bytes(Cow::Owned(encode(
                str_of(graph, *s)?,
                "utf-8",
            )?))),
            _ => None,
        },
        ("collections", "OrderedDict")
        | ("collections", "defaultdict")
        | ("collections", "Counter")
            if obj.items.is_empty() && obj.kwargs.is_none() =>
        {
            let (class, mut items, default_factory) = match name {
                "OrderedDict" => (
                    DictClass::OrderedDict,
                    match args {
                        [] => Vec::new(),
                        [a] => dict_pairs(graph, *a)?,
                        _ => return None,
                    },
                    None,
                ),
                "defaultdict" => match args {
                    [] => (DictClass::DefaultDict, Vec::new(), Some(Packed::NONE)),
                    [f] => (DictClass::DefaultDict, Vec::new(), Some(*f)),
                    [f, d] => (DictClass::DefaultDict, dict_pairs(graph, *d)?, Some(*f)),
                    _ => return None,
                },
                _ => (
                    DictClass::Counter,
                    match args {
                        [] => Vec::new(),
                        [a] => dict_pairs(graph, *a)?,
                        _ => return None,
                    },
                    None,
                ),
            };
            items.extend_from_slice(graph.pairs(obj.dictitems));
            Some(Emulation::DictClass {
                class,
                items,
                default_factory,
                state: obj.state,
            })
        }
        ("builtins", "complex") if plain(obj) => {
            let (re, im) = match args {
                [] => (0.0, 0.0),
                [r] => (float_of(graph, *r)?, 0.0),
                [r, i] => (float_of(graph, *r)?, float_of(graph, *i)?),
                _ => return None,
            };
            emu(Node::Emulated(Box::new(Emulated::Complex(re, im))))
        }
        ("decimal", "Decimal") if call && plain(obj) => match args {
            [s] => emu(Node::Emulated(Box::new(Emulated::Decimal(
                str_of(graph, *s)?.to_string(),
            )))),
            _ => None,
        },
        ("datetime", "datetime") if call && plain(obj) => {
            let (b, tz) = match args {
                [b] => (state_bytes(graph, *b)?, None),
                [b, tz] => (state_bytes(graph, *b)?, Some(*tz)),
                _ => return None,
            };
            if b.len() != 10 {
                return None;
            }
            let offset = tz_offset(graph, tz)?;
            let year = u16::from_be_bytes([b[0], b[1]]);
            let us = u32::from_be_bytes([0, b[7], b[8], b[9]]);
            let (month, day) = (b[2] & 0x7f, b[3]);
            valid_date(year, month, day)?;
            valid_time(b[4], b[5], b[6], us)?;
            emu(Node::Emulated(Box::new(Emulated::DateTime {
                date: (year, month, day),
                time: (b[4], b[5], b[6], us),
                offset,
            })))
        }
        ("datetime", "date") if call && plain(obj) => {
            let b = match args {
                [b] => state_bytes(graph, *b)?,
                _ => return None,
            };
            if b.len() != 4 {
                return None;
            }
            let year = u16::from_be_bytes([b[0], b[1]]);
            valid_date(year, b[2], b[3])?;
            emu(Node::Emulated(Box::new(Emulated::Date(year, b[2], b[3]))))
        }
        ("datetime", "time") if call && plain(obj) => {
            let (b, tz) = match args {
                [b] => (state_bytes(graph, *b)?, None),
                [b, tz] => (state_bytes(graph, *b)?, Some(*tz)),
                _ => return None,
            };
            if b.len() != 6 {
                return None;
            }
            let offset = tz_offset(graph, tz)?;
            let us = u32::from_be_bytes([0, b[3], b[4], b[5]]);
            let hour = b[0] & 0x7f;
            valid_time(hour, b[1], b[2], us)?;
            emu(Node::Emulated(Box::new(Emulated::Time {
                time: (hour, b[1], b[2], us),
                offset,
            })))
        }
        ("datetime", "timedelta") if call && plain(obj) => {
            let mut v = [0i64; 3];
            if args.len() > 3 {
                return None;
            }
            for (i, a) in args.iter().enumerate() {
                v[i] = int_of(graph, *a)?;
            }
            // Normalise as Python does: 0 <= seconds < 86400, 0 <= microseconds < 10**6.
            let total = (v[0] as i128 * 86_400 + v[1] as i128) * 1_000_000 + v[2] as i128;
            let days = total.div_euclid(86_400_000_000);
            let rest = total.rem_euclid(86_400_000_000);
            emu(Node::Emulated(Box::new(Emulated::TimeDelta {
                days: i64::try_from(days).ok()?,
                seconds: (rest / 1_000_000) as i64,
                microseconds: (rest % 1_000_000) as i64,
            })))
        }
        ("uuid", "UUID") if !call && args.is_empty() => uuid(graph, obj).map(Emulation::Node),
        ("copyreg", "_reconstructor") if call => match args {
            [cls, _, _] if global_name(graph, *cls) == Some(("uuid", "UUID")) => {
                uuid(graph, obj).map(Emulation::Node)
            }
            _ => None,
        },
        ("builtins", "range")
            if call && plain(obj) && !(1..=3).contains(&args.len())
                || args.iter().any(|a| !is_int(graph, *a))
                || (args.len() == 3 && graph.slot(args[2]) == Slot::Int(0)) =>
        {
            None
        }
        ("builtins", "range") | ("builtins", "slice") if call && plain(obj) => {
            let parts = match (name, args) {
                ("range", [stop]) => [Packed::small_int(0), *stop, Packed::small_int(1)],
                ("range", [start, stop]) => [*start, *stop, Packed::small_int(1)],
                ("slice", [stop]) => [Packed::NONE, *stop, Packed::NONE],
                ("slice", [start, stop]) => [*start, *stop, Packed::NONE],
                (_, [a, b, c]) => [*a, *b, *c],
                _ => return None,
            };
            emu(Node::Emulated(Box::new(if name == "range" {
                Emulated::Range(parts)
            } else {
                Emulated::Slice(parts)
            })))
        }
        _ => None,
    }
}

fn valid_date(year: u16, month: u8, day: u8) -> Option<()> {
    ((1..=9999).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day))
        .then_some(())
}

fn valid_time(h: u8, m: u8, s: u8, us: u32) -> Option<()> {
    (h < 24 && m < 60 && s < 60 && us < 1_000_000).then_some(())
}

/// `None` tzinfo → `Some(None)`; a `datetime.timezone(timedelta[, name])` → its offset;
/// anything else → `None` (the datetime stays a generic object).
fn tz_offset(graph: &Graph<'_>, tz: Option<Packed>) -> Option<Option<UtcOffset>> {
    let Some(tz) = tz else { return Some(None) };
    if tz.is_none() {
        return Some(None);
    }
    let Node::Object(o) = node(graph, tz)? else {
        return None;
    };
    let o = graph.object(*o);
    if global_name(graph, o.callable)? != ("datetime", "timezone") || !plain(o) {
        return None;
    }
    let td = match graph.items(o.args) {
        [td] | [td, _] => *td,
        _ => return None,
    };
    match node(graph, td)? {
        Node::Emulated(e) => match **e {
            Emulated::TimeDelta {
                days,
                seconds,
                microseconds,
            } => {
                // In i128: a hostile timedelta's days may be anything an i64 holds.
                let total =
                    (days as i128 * 86_400 + seconds as i128) * 1_000_000 + microseconds as i128;
                // Python: the offset must be strictly between -24 and 24 hours.
                if total.abs() >= 86_400 * 1_000_000 {
                    return None;
                }
                Some(Some(UtcOffset {
                    seconds: i32::try_from(total / 1_000_000).ok()?,
                    microseconds: (total % 1_000_000) as i32,
                }))
            }
            _ => None,
        },
        _ => None,
    }
}

fn uuid<'de>(graph: &Graph<'de>, obj: &Object) -> Option<Node<'de>> {
    if !obj.items.is_empty() || !obj.dictitems.is_empty() {
        return None;
    }
    let pairs = dict_pairs(graph, obj.state?)?;
    let int = pairs
        .iter()
        .find(|(k, _)| str_of(graph, *k) == Some("int"))
        .map(|(_, v)| *v)?;
    let value = match graph.slot(int) {
        Slot::Int(i) => u128::try_from(i).ok()?,
        Slot::Node(id) => match graph.node(id) {
            Node::BigInt(b) => b.to_u128()?,
            _ => return None,
        },
        _ => return None,
    };
    Some(Node::Emulated(Box::new(Emulated::Uuid(value))))
}
