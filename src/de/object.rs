//! Class instances as serde sees them: which class an object is an instance of (seeing
//! through `copyreg._reconstructor` and `copyreg.__newobj__`), its constructor arguments,
//! and its state.

use crate::error::{Error, ErrorKind};
use crate::value::{DictIter, Global, Node, Object, Packed, Slot, Value};

/// An object node, read as an instance of a class.
#[derive(Clone, Copy)]
pub(crate) struct Instance<'g, 'de> {
    pub(crate) obj: &'g Object,
    /// The class (or the callable a REDUCE called), when it is a global.
    pub(crate) class: Option<&'g Global<'de>>,
    /// The constructor's positional arguments.
    pub(crate) args: &'g [Packed],
    /// NEWOBJ_EX's keyword arguments (a dict).
    pub(crate) kwargs: Option<Packed>,
}

impl<'g, 'de> Instance<'g, 'de> {
    /// Reads `v` as an instance, if it is an object node.
    pub(crate) fn of(v: Value<'g, 'de>) -> Option<Self> {
        let obj = v.as_object()?;
        let graph = v.graph();
        let callable = graph.value(obj.callable).as_global();
        let args = graph.items(obj.args);
        let global_at = |i: usize| args.get(i).and_then(|s| graph.value(*s).as_global());
        if let Some(c) = callable {
            if c.module == "copyreg" {
                match &*c.name {
                    // Protocols 0 and 1: copyreg._reconstructor(cls, base, base_state);
                    // for a tuple subclass (a namedtuple) the base state is the tuple.
                    "_reconstructor" if global_at(0).is_some() => {
                        let base_state = args.get(2).and_then(|s| graph.value(*s).seq());
                        return Some(Instance {
                            obj,
                            class: global_at(0),
                            args: base_state.unwrap_or(&[]),
                            kwargs: None,
                        });
                    }
                    // copyreg.__newobj__(cls, *args), as __reduce_ex__ may return it.
                    "__newobj__" if global_at(0).is_some() => {
                        return Some(Instance {
                            obj,
                            class: global_at(0),
                            args: &args[1..],
                            kwargs: None,
                        })
                    }
                    // copyreg.__newobj_ex__(cls, args, kwargs).
                    "__newobj_ex__" if global_at(0).is_some() && args.len() == 3 => {
                        return Some(Instance {
                            obj,
                            class: global_at(0),
                            args: graph.value(args[1]).seq().unwrap_or(&[]),
                            kwargs: Some(args[2]),
                        })
                    }
                    _ => {}
                }
            }
        }
        if callable.is_none() {
            if let Some(inst) = Self::partial_new(v, obj) {
                return Some(inst);
            }
        }
        Some(Instance {
            obj,
            class: callable,
            args,
            kwargs: obj.kwargs,
        })
    }

    /// Protocols 2-3 write `cls.__new__(cls, *args, **kwargs)` (a `__getnewargs_ex__`
    /// with keywords) as a call of `functools.partial(getattr(cls, "__new__"), cls,
    /// *args, **kwargs)`, the partial's state being `(func, args, kwargs, dict)`.
    fn partial_new(v: Value<'g, 'de>, obj: &'g Object) -> Option<Self> {
        let graph = v.graph();
        let partial = graph.value(obj.callable).as_object()?;
        let pg = graph.value(partial.callable).as_global()?;
        if pg.module != "functools" || pg.name != "partial" {
            return None;
        }
        let state = graph.value(partial.state?).seq()?;
        let [func, args, kwargs, ..] = state else {
            return None;
        };
        let getattr = graph.value(*func).as_object()?;
        let g = graph.value(getattr.callable).as_global()?;
        if g.module != "builtins" || g.name != "getattr" {
            return None;
        }
        let class = graph
            .value(*graph.items(getattr.args).first()?)
            .as_global()?;
        let args = graph.value(*args).seq()?;
        Some(Instance {
            obj,
            class: Some(class),
            args: args.get(1..).unwrap_or(&[]),
            kwargs: Some(*kwargs),
        })
    }

    /// The pairs of the state: a dict, or the `(dict-or-None, slots-dict)` pair.
    pub(crate) fn state_pairs(&self, v: Value<'g, 'de>) -> Option<DictIter<'g, 'de>> {
        let graph = v.graph();
        let state = graph.value(self.obj.state?);
        if state.dict_pairs().is_some() {
            return state.items();
        }
        if let [a, b] = state.seq()? {
            let (a, b) = (graph.value(*a), graph.value(*b));
            let ok = |x: Value<'_, '_>| x.is_none() || x.dict_pairs().is_some();
            if matches!(state.node(), Some(Node::Tuple(_))) && ok(a) && ok(b) {
                return v.items();
            }
        }
        None
    }

    /// `true` when the class is `module.class` (any module when `module` is `None`).
    pub(crate) fn is(&self, module: Option<&str>, class: &str) -> bool {
        self.class
            .is_some_and(|c| c.name == class && module.is_none_or(|m| c.module == m))
    }

    /// `module.name` of the class, for messages.
    pub(crate) fn class_name(&self) -> String {
        match self.class {
            Some(c) => format!("{}.{}", c.module, c.name),
            None => "an object with a non-global constructor".to_string(),
        }
    }

    /// The value of keyword argument `name`.
    pub(crate) fn kwarg(&self, v: Value<'g, 'de>, name: &str) -> Option<Packed> {
        let pairs = v.graph().value(self.kwargs?).dict_pairs()?;
        pairs
            .iter()
            .find(|(k, _)| v.graph().value(*k).as_str() == Some(name))
            .map(|(_, val)| *val)
    }
}

fn str_text(s: &str) -> String {
    let mut t: String = s.chars().take(40).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    format!("str {t:?}")
}

/// What a value is, for "found …" in messages: `int 7`, `str "abc"`, `object m.C`.
pub(crate) fn describe(v: Value<'_, '_>) -> String {
    match v.slot() {
        Slot::None => "None".into(),
        Slot::Bool(b) => format!("bool {}", if b { "True" } else { "False" }),
        Slot::Int(i) => format!("int {i}"),
        Slot::Float(f) => format!("float {f:?}"),
        Slot::Str(_) => str_text(v.as_str().unwrap_or_default()),
        Slot::Node(_) => match v.node() {
            Some(Node::BigInt(b)) => format!("int {}", big_text(b)),
            Some(Node::Str(s)) => str_text(s),
            Some(Node::Bytes(b)) => format!("bytes of length {}", b.len()),
            Some(Node::ByteArray(b)) => format!("bytearray of length {}", b.len()),
            Some(Node::Global(g)) => format!("global {}.{}", g.module, g.name),
            Some(Node::Object(_)) => match Instance::of(v) {
                Some(i) if i.class.is_some() => format!("object {}", i.class_name()),
                _ => "object".into(),
            },
            Some(n @ (Node::List(x) | Node::Tuple(x) | Node::Set(x) | Node::FrozenSet(x))) => {
                format!("{} of length {}", n.type_name(), x.len())
            }
            Some(Node::Dict(x)) => format!("dict of length {}", x.len()),
            Some(Node::Emulated(e)) => {
                super::array::describe_emulated(e).unwrap_or_else(|| v.type_name().to_string())
            }
            _ => v.type_name().to_string(),
        },
    }
}

/// The digits of a big int, shortened when there are very many.
pub(crate) fn big_text(b: &num_bigint::BigInt) -> String {
    let s = b.to_string();
    if s.len() <= 60 {
        s
    } else {
        format!("{}…{} ({} digits)", &s[..20], &s[s.len() - 10..], s.len())
    }
}

/// `expected an instance of m.C, found …`.
pub(crate) fn class_mismatch(expected: &str, v: Value<'_, '_>) -> Error {
    Error::new(
        ErrorKind::Type,
        format!("expected an instance of {expected}, found {}", describe(v)),
    )
}
