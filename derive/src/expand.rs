//! The rewrite: strips every `#[pickle(...)]` from the item and adds the
//! `#[serde(rename(deserialize = "..."))]` names that carry them to the deserializer
//! (the format is documented in the main crate's `de::magic`).

use crate::attr::{self, Ctxt, FieldAttr};
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Fields, Item, LitStr, Path, Token};

const MARK: &str = "\0pickle";

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: Item = match syn::parse2(input.clone()) {
        Ok(i) => i,
        Err(e) => {
            let err = e.to_compile_error();
            return quote!(#err #input);
        }
    };
    let mut cx = Ctxt::default();
    let container = attr::container(&mut cx, args);
    match &mut item {
        Item::Struct(s) => {
            check_derive(&mut cx, &s.attrs);
            let mut name = format!("{}{MARK}", unraw(&s.ident));
            push_container(&mut name, &container);
            match &s.fields {
                Fields::Named(_) => {
                    if let Some(span) = container.args {
                        cx.error(
                            span,
                            "`args` needs a tuple struct; on named fields use #[pickle(arg = N)]",
                        );
                    }
                }
                Fields::Unit => {
                    if let Some(span) = container.args {
                        cx.error(span, "`args` needs a tuple struct");
                    }
                }
                Fields::Unnamed(_) => {}
            }
            if container.class.is_none() && container.module.is_some() {
                cx.error(Span::call_site(), "`module` on a struct needs `class`");
            }
            rewrite_fields(&mut cx, &mut s.fields);
            rename(&mut cx, &mut s.attrs, &name, s.ident.span());
        }
        Item::Enum(e) => {
            check_derive(&mut cx, &e.attrs);
            if let Some(span) = container.args {
                cx.error(span, "`args` goes on a tuple variant, not on the enum");
            }
            let mut name = format!("{}{MARK}", unraw(&e.ident));
            push_container(&mut name, &container);
            let mut family: Option<Span> = None;
            let mut members: Option<Span> = None;
            let mut values: Vec<attr::Value> = Vec::new();
            for variant in &mut e.variants {
                let tokens = take_pickle(&mut variant.attrs);
                rewrite_fields(&mut cx, &mut variant.fields);
                let Some(tokens) = tokens else { continue };
                let v = attr::variant(&mut cx, tokens);
                let mut vname = format!("{}{MARK}", unraw(&variant.ident));
                if let Some((class, span)) = &v.class {
                    family.get_or_insert(*span);
                    if container.class.is_some() {
                        cx.error(*span, "a variant `class` needs an enum without `class` (an enum's `class` makes its variants members of a Python enum)");
                    }
                    if v.module.is_none() && container.module.is_none() {
                        cx.error(
                            *span,
                            "`class` needs `module`, on the variant or on the enum",
                        );
                    }
                    if let Some(m) = &v.module {
                        vname.push_str(&format!("\0module={m}"));
                    }
                    vname.push_str(&format!("\0class={class}"));
                } else if v.module.is_some() {
                    cx.error(variant.ident.span(), "`module` on a variant needs `class`");
                }
                if let Some(span) = v.args {
                    if !matches!(variant.fields, Fields::Unnamed(_)) {
                        cx.error(span, "`args` needs a tuple variant");
                    }
                    vname.push_str("\0args");
                }
                if let Some((value, span)) = &v.value {
                    members.get_or_insert(*span);
                    if !matches!(variant.fields, Fields::Unit) {
                        cx.error(
                            *span,
                            "`value` needs a unit variant (an enum member has no fields)",
                        );
                    }
                    if v.class.is_some() {
                        cx.error(*span, "`value` conflicts with `class` on one variant");
                    } else if values.contains(value) {
                        cx.error(*span, "duplicate enum member value");
                    }
                    values.push(value.clone());
                    vname.push_str(&format!("\0value={}", value.encode()));
                }
                rename(&mut cx, &mut variant.attrs, &vname, variant.ident.span());
            }
            if let (Some(_), Some(span)) = (family, members) {
                cx.error(span, "an enum maps either a family of classes (`class` on variants) or the members of a Python enum (`value`), not both");
            }
            rename(&mut cx, &mut e.attrs, &name, e.ident.span());
        }
        other => {
            cx.error(other.span(), "#[pickle] applies to a struct or an enum");
        }
    }
    match cx.into_result() {
        Ok(()) => item.into_token_stream(),
        Err(e) => {
            let err = e.to_compile_error();
            quote!(#err #item)
        }
    }
}

fn unraw(ident: &syn::Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
}

fn push_container(name: &mut String, c: &attr::Container) {
    if let Some(m) = &c.module {
        name.push_str(&format!("\0module={m}"));
    }
    if let Some((class, _)) = &c.class {
        name.push_str(&format!("\0class={class}"));
    }
    if c.args.is_some() {
        name.push_str("\0args");
    }
}

/// Removes the `#[pickle(...)]` attributes, returning their items joined.
fn take_pickle(attrs: &mut Vec<Attribute>) -> Option<TokenStream> {
    let mut found: Option<TokenStream> = None;
    attrs.retain(|a| {
        if !a.path().is_ident("pickle") {
            return true;
        }
        let tokens = match &a.meta {
            syn::Meta::List(l) => l.tokens.clone(),
            _ => TokenStream::new(),
        };
        let all = found.get_or_insert_with(TokenStream::new);
        if !all.is_empty() && !tokens.is_empty() {
            all.extend(quote!(,));
        }
        all.extend(tokens);
        false
    });
    found
}

fn rewrite_fields(cx: &mut Ctxt, fields: &mut Fields) {
    let named = matches!(fields, Fields::Named(_));
    let mut state: Option<Span> = None;
    for field in fields.iter_mut() {
        let span = field
            .attrs
            .iter()
            .find(|a| a.path().is_ident("pickle"))
            .map(|a| a.path().span());
        let Some(tokens) = take_pickle(&mut field.attrs) else {
            continue;
        };
        let span = span.unwrap_or_else(Span::call_site);
        let Some(fa) = attr::field(cx, tokens) else {
            continue;
        };
        let Some(ident) = field.ident.as_ref().filter(|_| named) else {
            cx.error(span, "field attributes need a named field; for positional constructor arguments put #[pickle(args)] on the tuple struct or variant");
            continue;
        };
        let mut name = format!("{}{MARK}", unraw(ident));
        match fa {
            FieldAttr::Arg(i) => name.push_str(&format!("\0arg={i}")),
            FieldAttr::Kwarg(k) => name.push_str(&format!("\0kwarg={k}")),
            FieldAttr::State => {
                if state.is_some() {
                    cx.error(ident.span(), "only one field can take the object's `state`");
                }
                state = Some(span);
                name.push_str("\0state");
            }
        }
        let ident_span = ident.span();
        rename(cx, &mut field.attrs, &name, ident_span);
    }
}

/// Adds `#[serde(rename(deserialize = name))]`, refusing a serde rename that would clash.
fn rename(cx: &mut Ctxt, attrs: &mut Vec<Attribute>, name: &str, span: Span) {
    if let Some(span) = serde_deserialize_rename(attrs) {
        cx.error(span, "#[pickle] sets the deserialize name here; keep a serde rename for serializing only: #[serde(rename(serialize = \"...\"))]");
        return;
    }
    let lit = LitStr::new(name, span);
    attrs.push(syn::parse_quote!(#[serde(rename(deserialize = #lit))]));
}

/// The span of a `#[serde(rename = ...)]` or `#[serde(rename(deserialize = ...))]`.
fn serde_deserialize_rename(attrs: &[Attribute]) -> Option<Span> {
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let syn::Meta::List(list) = &a.meta else {
            continue;
        };
        let tokens: Vec<TokenTree> = list.tokens.clone().into_iter().collect();
        for (i, t) in tokens.iter().enumerate() {
            let TokenTree::Ident(id) = t else { continue };
            if id != "rename" {
                continue;
            }
            match tokens.get(i + 1) {
                Some(TokenTree::Punct(p)) if p.as_char() == '=' => return Some(id.span()),
                Some(TokenTree::Group(g)) => {
                    let deser = g
                        .stream()
                        .into_iter()
                        .any(|t| matches!(t, TokenTree::Ident(ref x) if x == "deserialize"));
                    if deser {
                        return Some(id.span());
                    }
                }
                _ => {}
            }
        }
    }
    None
}

/// The macro must run before serde's derive: it is placed above `#[derive(Deserialize)]`.
fn check_derive(cx: &mut Ctxt, attrs: &[Attribute]) {
    let derives_deserialize = attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            a.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated)
                .map(|paths| {
                    paths
                        .iter()
                        .any(|p| p.segments.last().is_some_and(|s| s.ident == "Deserialize"))
                })
                .unwrap_or(false)
        });
    if !derives_deserialize {
        cx.error(
            Span::call_site(),
            "#[pickle] must be placed above #[derive(Deserialize)]: it rewrites the item before serde's derive reads it",
        );
    }
}
