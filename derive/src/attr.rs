//! Every `#[pickle(...)]` attribute parsed once into typed values, with all misuse
//! reported through [`Ctxt`] (each error with its span, all of them together).

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Lit, Meta, Token, UnOp};

/// Collects errors so that every misuse is reported at once.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    pub(crate) fn error(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(span, msg));
    }

    pub(crate) fn push(&mut self, e: syn::Error) {
        self.errors.push(e);
    }

    pub(crate) fn into_result(self) -> Result<(), syn::Error> {
        let mut it = self.errors.into_iter();
        match it.next() {
            None => Ok(()),
            Some(mut first) => {
                for e in it {
                    first.combine(e);
                }
                Err(first)
            }
        }
    }
}

/// A value of `#[pickle(value = ...)]`.
#[derive(Clone, PartialEq)]
pub(crate) enum Value {
    Int(i128),
    Str(String),
    Bool(bool),
}

impl Value {
    pub(crate) fn encode(&self) -> String {
        match self {
            Value::Int(i) => format!("i:{i}"),
            Value::Str(s) => format!("s:{s}"),
            Value::Bool(b) => format!("b:{b}"),
        }
    }
}

/// One `key` or `key = value` item, with its span.
pub(crate) struct Item {
    pub(crate) key: String,
    pub(crate) span: Span,
    pub(crate) value: Option<Expr>,
}

/// The attributes a place accepts, for "unknown attribute" messages.
pub(crate) const CONTAINER_KEYS: &[&str] = &["module", "class", "args"];
pub(crate) const FIELD_KEYS: &[&str] = &["arg", "kwarg", "state"];
pub(crate) const VARIANT_KEYS: &[&str] = &["class", "module", "value", "args"];

/// Parses the items of one `pickle(...)` list, reporting unknown keys and duplicates.
pub(crate) fn parse_items(
    cx: &mut Ctxt,
    tokens: proc_macro2::TokenStream,
    allowed: &[&str],
    place: &str,
) -> Vec<Item> {
    let parser = Punctuated::<Meta, Token![,]>::parse_terminated;
    let metas = match syn::parse::Parser::parse2(parser, tokens) {
        Ok(m) => m,
        Err(e) => {
            cx.push(e);
            return Vec::new();
        }
    };
    let mut items: Vec<Item> = Vec::new();
    for meta in metas {
        let (path, value) = match meta {
            Meta::Path(p) => (p, None),
            Meta::NameValue(nv) => (nv.path, Some(nv.value)),
            Meta::List(l) => {
                cx.error(
                    l.span(),
                    "expected `key` or `key = value` in a pickle attribute",
                );
                continue;
            }
        };
        let key = match path.get_ident() {
            Some(i) => i.to_string(),
            None => {
                cx.error(path.span(), "expected a pickle attribute name");
                continue;
            }
        };
        let span = path.span();
        if !allowed.contains(&key.as_str()) {
            let list: Vec<String> = allowed.iter().map(|k| format!("`{k}`")).collect();
            cx.error(
                span,
                format!(
                    "unknown pickle attribute `{key}` on {place}; expected {}",
                    list.join(", ")
                ),
            );
            continue;
        }
        if items.iter().any(|i| i.key == key) {
            cx.error(span, format!("duplicate pickle attribute `{key}`"));
            continue;
        }
        items.push(Item { key, span, value });
    }
    items
}

fn lit_of(expr: &Expr) -> Option<&Lit> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        Expr::Group(g) => lit_of(&g.expr),
        _ => None,
    }
}

impl Item {
    /// The string of `key = "..."`.
    pub(crate) fn string(&self, cx: &mut Ctxt) -> Option<String> {
        match self.value.as_ref().and_then(lit_of) {
            Some(Lit::Str(s)) if !s.value().is_empty() && !s.value().contains('\0') => {
                Some(s.value())
            }
            _ => {
                let span = self.value.as_ref().map_or(self.span, |v| v.span());
                cx.error(
                    span,
                    format!(
                        "`{}` takes a non-empty string: {} = \"...\"",
                        self.key, self.key
                    ),
                );
                None
            }
        }
    }

    /// The index of `arg = N`.
    pub(crate) fn index(&self, cx: &mut Ctxt) -> Option<usize> {
        match self.value.as_ref().and_then(lit_of) {
            Some(Lit::Int(i)) => match i.base10_parse::<usize>() {
                Ok(n) => Some(n),
                Err(e) => {
                    cx.push(e);
                    None
                }
            },
            _ => {
                let span = self.value.as_ref().map_or(self.span, |v| v.span());
                cx.error(span, "`arg` takes an argument index: arg = 0");
                None
            }
        }
    }

    /// The literal of `value = 1 | -1 | "red" | true`.
    pub(crate) fn literal(&self, cx: &mut Ctxt) -> Option<Value> {
        let bad = |cx: &mut Ctxt, span| {
            cx.error(
                span,
                "`value` takes an int, string or bool literal: value = 1, value = \"red\"",
            )
        };
        let Some(expr) = &self.value else {
            bad(cx, self.span);
            return None;
        };
        let (neg, lit) = match expr {
            Expr::Unary(ExprUnary {
                op: UnOp::Neg(_),
                expr,
                ..
            }) => (true, lit_of(expr)),
            e => (false, lit_of(e)),
        };
        match (neg, lit) {
            (_, Some(Lit::Int(i))) => match i.base10_parse::<i128>() {
                Ok(n) => Some(Value::Int(if neg { -n } else { n })),
                Err(e) => {
                    cx.push(e);
                    None
                }
            },
            (false, Some(Lit::Str(s))) if !s.value().contains('\0') => Some(Value::Str(s.value())),
            (false, Some(Lit::Bool(b))) => Some(Value::Bool(b.value)),
            _ => {
                bad(cx, expr.span());
                None
            }
        }
    }

    /// Checks that a flag (`args`, `state`) has no value.
    pub(crate) fn flag(&self, cx: &mut Ctxt) -> bool {
        if let Some(v) = &self.value {
            cx.error(v.span(), format!("`{}` takes no value", self.key));
            return false;
        }
        true
    }
}

/// The container's attributes.
#[derive(Default)]
pub(crate) struct Container {
    pub(crate) module: Option<String>,
    pub(crate) class: Option<(String, Span)>,
    pub(crate) args: Option<Span>,
}

/// A field's attribute.
pub(crate) enum FieldAttr {
    Arg(usize),
    Kwarg(String),
    State,
}

/// A variant's attributes.
#[derive(Default)]
pub(crate) struct Variant {
    pub(crate) module: Option<String>,
    pub(crate) class: Option<(String, Span)>,
    pub(crate) value: Option<(Value, Span)>,
    pub(crate) args: Option<Span>,
}

pub(crate) fn container(cx: &mut Ctxt, tokens: proc_macro2::TokenStream) -> Container {
    let mut c = Container::default();
    let mut module_span = None;
    for item in parse_items(cx, tokens, CONTAINER_KEYS, "a type") {
        match item.key.as_str() {
            "module" => {
                c.module = item.string(cx);
                module_span = Some(item.span);
            }
            "class" => c.class = item.string(cx).map(|s| (s, item.span)),
            _ => {
                if item.flag(cx) {
                    c.args = Some(item.span)
                }
            }
        }
    }
    if let (Some((_, span)), None, None) = (&c.class, &c.module, module_span) {
        cx.error(
            *span,
            "`class` needs `module`: #[pickle(module = \"...\", class = \"...\")]",
        );
    }
    c
}

pub(crate) fn field(cx: &mut Ctxt, tokens: proc_macro2::TokenStream) -> Option<FieldAttr> {
    let items = parse_items(cx, tokens, FIELD_KEYS, "a field");
    if items.len() > 1 {
        cx.error(
            items[1].span,
            format!(
                "`{}` conflicts with `{}`: a field takes one of `arg`, `kwarg` or `state`",
                items[1].key, items[0].key
            ),
        );
    }
    let item = items.first()?;
    match item.key.as_str() {
        "arg" => item.index(cx).map(FieldAttr::Arg),
        "kwarg" => item.string(cx).map(FieldAttr::Kwarg),
        _ => item.flag(cx).then_some(FieldAttr::State),
    }
}

pub(crate) fn variant(cx: &mut Ctxt, tokens: proc_macro2::TokenStream) -> Variant {
    let mut v = Variant::default();
    for item in parse_items(cx, tokens, VARIANT_KEYS, "a variant") {
        match item.key.as_str() {
            "module" => v.module = item.string(cx),
            "class" => v.class = item.string(cx).map(|s| (s, item.span)),
            "value" => v.value = item.literal(cx).map(|l| (l, item.span)),
            _ => {
                if item.flag(cx) {
                    v.args = Some(item.span)
                }
            }
        }
    }
    v
}
