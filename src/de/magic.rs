//! The names the `#[pickle]` attribute macro hides in serde's container, field and variant
//! names (as `#[serde(rename(deserialize = "..."))]`), and their parser.
//!
//! A magic name is `<rust name>\0pickle` followed by `\0key=value` or `\0flag` items:
//! `module=`, `class=`, `args`, `arg=N`, `kwarg=NAME`, `state`, and last (it may contain
//! anything) `value=i:INT | s:STR | b:true|false`. Python names never contain NUL, so
//! the encoding is unambiguous; other serde deserializers just see an odd name. The
//! derive crate writes exactly this format; the tests pin both ends.

/// The marker after the Rust name.
pub(crate) const MARK: &str = "\0pickle";

/// A literal of `#[pickle(value = ...)]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Lit<'a> {
    Int(i128),
    Str(&'a str),
    Bool(bool),
}

/// A parsed magic name.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Magic<'a> {
    /// The Rust name (or serde's name before the macro renamed it).
    pub(crate) name: &'a str,
    pub(crate) module: Option<&'a str>,
    pub(crate) class: Option<&'a str>,
    /// Tuple struct / tuple variant: fields are the constructor's positional args.
    pub(crate) args: bool,
    pub(crate) arg: Option<usize>,
    pub(crate) kwarg: Option<&'a str>,
    pub(crate) state: bool,
    pub(crate) value: Option<Lit<'a>>,
}

impl<'a> Magic<'a> {
    /// Parses `s`, or `None` when it is an ordinary name.
    #[inline]
    pub(crate) fn parse(s: &'a str) -> Option<Self> {
        let at = s.find(MARK)?;
        let mut m = Magic {
            name: &s[..at],
            ..Magic::default()
        };
        let mut rest = &s[at + MARK.len()..];
        while let Some(r) = rest.strip_prefix('\0') {
            if let Some(v) = r.strip_prefix("value=") {
                m.value = parse_lit(v);
                break;
            }
            let end = r.find('\0').unwrap_or(r.len());
            let item = &r[..end];
            rest = &r[end..];
            match item.split_once('=') {
                Some(("module", v)) => m.module = Some(v),
                Some(("class", v)) => m.class = Some(v),
                Some(("arg", v)) => m.arg = v.parse().ok(),
                Some(("kwarg", v)) => m.kwarg = Some(v),
                None if item == "args" => m.args = true,
                None if item == "state" => m.state = true,
                _ => {}
            }
        }
        Some(m)
    }

    /// `true` for a field the object map serves from outside the state dict.
    pub(crate) fn is_special_field(&self) -> bool {
        self.arg.is_some() || self.kwarg.is_some() || self.state
    }

    /// `module.class`, when a class is named.
    pub(crate) fn qualified_class(&self, default_module: Option<&str>) -> Option<String> {
        let class = self.class?;
        Some(match self.module.or(default_module) {
            Some(m) => format!("{m}.{class}"),
            None => class.to_string(),
        })
    }
}

fn parse_lit(v: &str) -> Option<Lit<'_>> {
    if let Some(i) = v.strip_prefix("i:") {
        return i.parse().ok().map(Lit::Int);
    }
    if let Some(s) = v.strip_prefix("s:") {
        return Some(Lit::Str(s));
    }
    match v {
        "b:true" => Some(Lit::Bool(true)),
        "b:false" => Some(Lit::Bool(false)),
        _ => None,
    }
}

/// How a field (or variant) name reads in a message: `` `x` `` or
/// `` `x` (constructor argument 0) ``.
pub(crate) fn display_name(name: &str) -> String {
    match Magic::parse(name) {
        None => format!("`{name}`"),
        Some(m) => {
            if let Some(i) = m.arg {
                format!("`{}` (constructor argument {i})", m.name)
            } else if let Some(k) = m.kwarg {
                format!("`{}` (keyword argument `{k}`)", m.name)
            } else if m.state {
                format!("`{}` (object state)", m.name)
            } else {
                format!("`{}`", m.name)
            }
        }
    }
}

/// A list of expected names for a message, as serde writes it (`` `a`, `b` or `c` ``).
pub(crate) fn display_list(names: &[&str]) -> String {
    let shown: Vec<String> = names.iter().map(|n| display_name(n)).collect();
    match shown.len() {
        0 => "there are none".to_string(),
        1 => format!("expected {}", shown[0]),
        2 => format!("expected {} or {}", shown[0], shown[1]),
        n => format!(
            "expected one of {}, or {}",
            shown[..n - 1].join(", "),
            shown[n - 1]
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_item() {
        let m = Magic::parse("Greeter\0pickle\0module=__main__\0class=Greeter\0args").unwrap();
        assert_eq!(m.name, "Greeter");
        assert_eq!(m.module, Some("__main__"));
        assert_eq!(m.class, Some("Greeter"));
        assert!(m.args);
        let f = Magic::parse("x\0pickle\0arg=2").unwrap();
        assert_eq!(f.arg, Some(2));
        let v = Magic::parse("Red\0pickle\0value=s:a\0b").unwrap();
        assert_eq!(v.value, Some(Lit::Str("a\0b")));
        let v = Magic::parse("Neg\0pickle\0value=i:-3").unwrap();
        assert_eq!(v.value, Some(Lit::Int(-3)));
        assert!(Magic::parse("plain").is_none());
    }
}
