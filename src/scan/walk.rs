//! The static walk over one pickle: an abstract machine that follows the stack, the
//! marks and the memo with just enough values (strings, globals, call results, small
//! tuples, "something") to name every import and every call, without the VM and
//! without executing anything.
//!
//! It knows nothing of archives; `scan` decides where pickles start.

use super::{classify, Finding, Kind, Severity, Site};
use crate::opcode::{self, Arg, *};
use std::collections::HashMap;
use std::rc::Rc;

/// An abstract value on the stack or in the memo.
#[derive(Clone)]
enum Av {
    /// A `str` constant (or a Python 2 `str`).
    Str(Rc<str>),
    /// The object a global names: an index into `Walk::globals`.
    Global(u32),
    /// What a call (REDUCE, NEWOBJ, …) returned: an index into `Walk::results`.
    Result(u32),
    /// A tuple, kept (to a small depth) to see the arguments of calls.
    Tuple(Rc<[Av]>, u8),
    /// Anything else.
    Other,
}

const MAX_TUPLE_DEPTH: u8 = 8;
/// Most stack and memo entries before the walk gives up (every entry costs at least
/// one input byte, so this only bounds the memory of a scan of a huge member).
const MAX_ENTRIES: usize = 50_000_000;

/// What the walk knows of one global.
struct GlobalRef {
    finding: usize,
    path: String,
    /// `builtins.getattr`: harmless on a class with a plain name (how enum members and
    /// some descriptors pickle), dangerous anywhere else.
    getattr: bool,
    /// `builtins.__import__` / `importlib.import_module`: the result is a module.
    import: bool,
    /// Put in a container or handed to a call: its use cannot be followed.
    escaped: bool,
    /// Called in a way that reaches something dangerous.
    bad_use: bool,
}

/// What the walk knows of one call's result.
struct ResultRef {
    /// The attribute path it stands for, when known (`os` for `__import__('os')`,
    /// `os.system` for `getattr(that, 'system')`).
    path: Option<String>,
    severity: Severity,
    site: Site,
}

/// The end of a walk: where the pickle stopped, or why it could not be read.
pub(crate) enum End {
    /// Just past STOP.
    Stop(usize),
    /// The walk stopped at `offset` (CPython would raise there).
    Error { offset: usize, message: String },
}

pub(crate) struct Outcome {
    pub(crate) end: End,
    pub(crate) findings: Vec<Finding>,
    pub(crate) protocol: Option<u8>,
}

struct Walk<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Av>,
    meta: Vec<Vec<Av>>,
    memo: HashMap<u64, Av>,
    proto: Option<u8>,
    findings: Vec<Finding>,
    globals: Vec<GlobalRef>,
    results: Vec<ResultRef>,
}

type Step = Result<bool, String>;

/// Walks the pickle that starts at `start` in `data`; offsets in the findings are
/// offsets in `data`.
pub(crate) fn walk(data: &[u8], start: usize) -> Outcome {
    let mut w = Walk {
        data,
        pos: start,
        stack: Vec::new(),
        meta: Vec::new(),
        memo: HashMap::new(),
        proto: None,
        findings: Vec::new(),
        globals: Vec::new(),
        results: Vec::new(),
    };
    let end = loop {
        let at = w.pos;
        let Some(&code) = data.get(at) else {
            break End::Error {
                offset: at,
                message: "pickle data was truncated (no STOP)".into(),
            };
        };
        w.pos += 1;
        match w.step(code, at) {
            Ok(true) => {}
            Ok(false) => break End::Stop(w.pos),
            Err(message) => {
                break End::Error {
                    offset: at,
                    message: format!("{message} (opcode {})", opcode::name(code)),
                }
            }
        }
        if w.stack.len() + w.memo.len() > MAX_ENTRIES {
            break End::Error {
                offset: at,
                message: "too many stack and memo entries for a scan".into(),
            };
        }
    };
    w.finish();
    Outcome {
        end,
        findings: w.findings,
        protocol: w.proto,
    }
}

fn truncated() -> String {
    "pickle data was truncated".into()
}

impl<'a> Walk<'a> {
    // ------------------------------------------------------------ reading arguments

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).ok_or_else(truncated)?;
        let b = self.data.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(b)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn line(&mut self) -> Result<&'a [u8], String> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("no newline found")?;
        self.pos += n + 1;
        Ok(&rest[..n])
    }

    fn decimal(&mut self) -> Result<i64, String> {
        let l = self.line()?;
        let t = String::from_utf8_lossy(l);
        let t = t.trim();
        t.strip_suffix('L')
            .unwrap_or(t)
            .parse::<i64>()
            .or_else(|_| match t {
                "00" => Ok(0),
                "01" => Ok(1),
                _ => Err(format!("invalid literal for int(): {t:?}")),
            })
    }

    /// Skips or reads the inline argument of `op` and returns the text ones.
    fn arg(&mut self, arg: Arg) -> Result<Option<String>, String> {
        let n = match arg {
            Arg::None => return Ok(None),
            Arg::U1 => 1,
            Arg::U2 => 2,
            Arg::I4 | Arg::U4 => 4,
            Arg::U8 | Arg::F8 => 8,
            Arg::DecimalNlShort | Arg::DecimalNlLong | Arg::FloatNl => {
                self.line()?;
                return Ok(None);
            }
            Arg::StringNl => return Ok(Some(unquote(self.line()?))),
            Arg::StringNlNoEscape | Arg::StringNlNoEscapePair => {
                return Ok(Some(String::from_utf8_lossy(self.line()?).into_owned()))
            }
            Arg::UnicodeStringNl => return Ok(Some(raw_unicode_escape(self.line()?))),
            Arg::Bytes1 => {
                let n = self.array::<1>()?[0] as usize;
                return Ok(Some(self.text(n)?));
            }
            Arg::Bytes4 => {
                let n = u32::from_le_bytes(self.array()?) as usize;
                return Ok(Some(self.text(n)?));
            }
            Arg::Bytes8 => {
                let n = u64::from_le_bytes(self.array()?);
                let n = usize::try_from(n).map_err(|_| truncated())?;
                return Ok(Some(self.text(n)?));
            }
            Arg::Long1 => self.array::<1>()?[0] as usize,
            Arg::Long4 => {
                let n = i32::from_le_bytes(self.array()?);
                usize::try_from(n).map_err(|_| format!("LONG length < 0: {n}"))?
            }
        };
        self.take(n)?;
        Ok(None)
    }

    /// `n` bytes as text (UTF-8 for str opcodes, Latin-1 where that fails).
    fn text(&mut self, n: usize) -> Result<String, String> {
        let b = self.take(n)?;
        Ok(match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            Err(_) => b.iter().map(|&c| char::from(c)).collect(),
        })
    }

    // ------------------------------------------------------------ the stack

    fn push(&mut self, v: Av) {
        self.stack.push(v);
    }

    fn pop(&mut self) -> Result<Av, String> {
        self.stack
            .pop()
            .ok_or_else(|| "unpickling stack underflow".to_string())
    }

    fn top(&self) -> Result<&Av, String> {
        self.stack
            .last()
            .ok_or_else(|| "unpickling stack underflow".to_string())
    }

    fn pop_mark(&mut self) -> Result<Vec<Av>, String> {
        let under = self.meta.pop().ok_or("could not find MARK")?;
        Ok(std::mem::replace(&mut self.stack, under))
    }

    /// `v` goes into a container, a state or an argument list: where it is used from
    /// there cannot be followed.
    fn absorb(&mut self, v: &Av) {
        if let Av::Global(g) = v {
            let g = &mut self.globals[*g as usize];
            if g.getattr || g.import {
                g.escaped = true;
            }
        }
    }

    fn tuple(&mut self, items: Vec<Av>) -> Av {
        for v in &items {
            self.absorb(v);
        }
        let depth = items
            .iter()
            .map(|v| match v {
                Av::Tuple(_, d) => *d,
                _ => 0,
            })
            .max()
            .unwrap_or(0)
            + 1;
        if depth > MAX_TUPLE_DEPTH {
            Av::Other
        } else {
            Av::Tuple(items.into(), depth)
        }
    }

    fn container(&mut self, items: &[Av]) -> Av {
        for v in items {
            self.absorb(v);
        }
        Av::Other
    }

    fn memo_get(&mut self, key: u64) -> Result<(), String> {
        let v = self
            .memo
            .get(&key)
            .cloned()
            .ok_or_else(|| format!("Memo value not found at index {key}"))?;
        self.push(v);
        Ok(())
    }

    fn memo_put(&mut self, key: u64) -> Result<(), String> {
        let v = self.top()?.clone();
        self.memo.insert(key, v);
        Ok(())
    }

    // ------------------------------------------------------------ findings

    fn finding(&mut self, f: Finding) -> usize {
        self.findings.push(f);
        self.findings.len() - 1
    }

    /// Records an import of `module.name` and returns its stack value.
    fn global(&mut self, module: &str, name: &str, opcode: &'static str, at: usize) -> Av {
        let renamed = classify::rename(module, name);
        let (m, n) = match &renamed {
            Some((m, n)) => (m.as_str(), n.as_str()),
            None => (module, name),
        };
        let (severity, why) = classify::global(m, n);
        let path = format!("{m}.{n}");
        let mut detail = String::new();
        if renamed.is_some() {
            detail = format!("written as {module}.{name}");
        }
        if !why.is_empty() && severity == Severity::Dangerous {
            if !detail.is_empty() {
                detail.push_str("; ");
            }
            detail.push_str(why);
        }
        let finding = self.finding(Finding {
            severity,
            offset: at as u64,
            opcode,
            kind: Kind::Global,
            name: Some(path.clone()),
            detail,
            called_by: Vec::new(),
        });
        let getattr = path == "builtins.getattr";
        let import = path == "builtins.__import__" || path == "importlib.import_module";
        self.globals.push(GlobalRef {
            finding,
            path,
            getattr,
            import,
            escaped: false,
            bad_use: false,
        });
        Av::Global(self.globals.len() as u32 - 1)
    }

    fn describe(&self, v: &Av) -> String {
        match v {
            Av::Global(g) => self.globals[*g as usize].path.clone(),
            Av::Result(r) => {
                let r = &self.results[*r as usize];
                match &r.path {
                    Some(p) => format!("{p} (from {} at {})", r.site.opcode, r.site.offset),
                    None => format!("the result of {} at {}", r.site.opcode, r.site.offset),
                }
            }
            Av::Str(s) => format!("the str {s:?}"),
            Av::Tuple(..) => "a tuple".into(),
            Av::Other => "a value".into(),
        }
    }

    /// Records a call of `callable` with `args` (the args tuple when known) and returns
    /// its result.
    fn call(&mut self, callable: Av, args: Option<&Av>, opcode: &'static str, at: usize) -> Av {
        let site = Site {
            opcode,
            offset: at as u64,
        };
        let (severity, path, name, detail) = match &callable {
            Av::Global(g) => {
                let gi = *g as usize;
                let gf = self.globals[gi].finding;
                self.findings[gf].called_by.push(site.clone());
                let gpath = self.globals[gi].path.clone();
                let gsev = self.findings[gf].severity;
                let (sev, path, detail) = if self.globals[gi].getattr {
                    self.getattr_call(gi, args)
                } else if self.globals[gi].import {
                    let module = match args {
                        Some(Av::Tuple(items, _)) => match items.first() {
                            Some(Av::Str(m)) => Some(m.to_string()),
                            _ => None,
                        },
                        _ => None,
                    };
                    let detail = match &module {
                        Some(m) => format!("imports module {m}"),
                        None => String::new(),
                    };
                    (Severity::Dangerous, module, detail)
                } else {
                    // copyreg's reconstructors instantiate their first argument.
                    if matches!(
                        gpath.as_str(),
                        "copyreg._reconstructor" | "copyreg.__newobj__" | "copyreg.__newobj_ex__"
                    ) {
                        if let Some(Av::Tuple(items, _)) = args {
                            if let Some(Av::Global(c)) = items.first() {
                                let cf = self.globals[*c as usize].finding;
                                self.findings[cf].called_by.push(Site {
                                    opcode: "REDUCE",
                                    offset: at as u64,
                                });
                            }
                        }
                    }
                    (gsev, None, String::new())
                };
                (sev, path, gpath, detail)
            }
            Av::Result(r) => {
                let res = &self.results[*r as usize];
                let mut sev = res.severity.max(Severity::Unknown);
                if let Some(p) = &res.path {
                    sev = sev.max(classify::path(p));
                }
                (
                    sev,
                    None,
                    self.describe(&callable),
                    "calls an object built by the pickle".into(),
                )
            }
            other => (
                Severity::Unknown,
                None,
                self.describe(other),
                "not callable: Python would fail here".into(),
            ),
        };
        self.finding(Finding {
            severity,
            offset: at as u64,
            opcode,
            kind: Kind::Call,
            name: Some(name),
            detail,
            called_by: Vec::new(),
        });
        self.results.push(ResultRef {
            path,
            severity,
            site,
        });
        Av::Result(self.results.len() as u32 - 1)
    }

    /// `getattr(obj, name)`: what it reaches and how bad that is.
    fn getattr_call(&mut self, g: usize, args: Option<&Av>) -> (Severity, Option<String>, String) {
        let items: &[Av] = match args {
            Some(Av::Tuple(items, _)) => items,
            _ => &[],
        };
        let (obj, attr) = match items {
            [obj, Av::Str(a)] | [obj, Av::Str(a), _] => (obj, a.to_string()),
            _ => {
                self.globals[g].bad_use = true;
                return (
                    Severity::Dangerous,
                    None,
                    "getattr with an attribute name that is not a constant".into(),
                );
            }
        };
        // `__new__` is how protocols 0-3 write keyword-only constructors
        // (`partial(getattr(cls, '__new__'), cls, ...)`); other dunders lead to the
        // interpreter's internals (`__globals__`, `__subclasses__`, `__builtins__`, …).
        let dunder = attr.starts_with("__") && attr.ends_with("__") && attr != "__new__";
        let (base, base_sev) = match obj {
            Av::Global(h) => {
                let h = &self.globals[*h as usize];
                (Some(h.path.clone()), self.findings[h.finding].severity)
            }
            Av::Result(r) => {
                let r = &self.results[*r as usize];
                (r.path.clone(), r.severity)
            }
            _ => (None, Severity::Unknown),
        };
        let path = base.as_ref().map(|b| format!("{b}.{attr}"));
        let mut sev = base_sev.max(Severity::Unknown);
        if let Some(p) = &path {
            sev = sev.max(classify::path(p));
        }
        if dunder {
            sev = Severity::Dangerous;
        }
        if sev == Severity::Dangerous {
            self.globals[g].bad_use = true;
        }
        let detail = match &path {
            Some(p) => format!("reaches {p}"),
            None => format!("reaches .{attr} of {}", self.describe(obj)),
        };
        (sev, path, detail)
    }

    fn persistent_id(&mut self, text: String, at: usize, opcode: &'static str) {
        self.finding(Finding {
            severity: Severity::Safe,
            offset: at as u64,
            opcode,
            kind: Kind::PersistentId,
            name: None,
            detail: text,
            called_by: Vec::new(),
        });
    }

    fn render(&self, v: &Av, out: &mut String) {
        if out.len() > 120 {
            return;
        }
        match v {
            Av::Str(s) => out.push_str(&format!("{s:?}")),
            Av::Global(g) => out.push_str(&self.globals[*g as usize].path),
            Av::Tuple(items, _) => {
                out.push('(');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.render(it, out);
                }
                out.push(')');
            }
            Av::Result(_) => out.push_str("<object>"),
            Av::Other => out.push('…'),
        }
    }

    /// Settles what could only be judged at the end (how `getattr` was used).
    fn finish(&mut self) {
        for g in &self.globals {
            if g.getattr && (g.escaped || g.bad_use) {
                let f = &mut self.findings[g.finding];
                f.severity = Severity::Dangerous;
                f.detail = if g.bad_use {
                    "reaches a dangerous attribute".into()
                } else {
                    "handed on where its calls cannot be followed".into()
                };
            }
            if g.import && g.escaped {
                self.findings[g.finding].detail = "handed on as a value".into();
            }
        }
    }

    // ------------------------------------------------------------ one opcode

    fn step(&mut self, code: u8, at: usize) -> Step {
        let op = opcode::lookup(code).ok_or_else(|| format!("invalid load key, {code:#04x}"))?;
        match code {
            PROTO => {
                let p = self.array::<1>()?[0];
                if p > opcode::HIGHEST_PROTOCOL {
                    return Err(format!("unsupported pickle protocol: {p}"));
                }
                self.proto = Some(p);
            }
            FRAME => {
                self.arg(op.arg)?;
            }
            STOP => {
                let v = self.pop()?;
                self.absorb(&v);
                return Ok(false);
            }
            STRING | BINSTRING | SHORT_BINSTRING | UNICODE | SHORT_BINUNICODE | BINUNICODE
            | BINUNICODE8 => {
                let s = self.arg(op.arg)?.unwrap_or_default();
                self.push(Av::Str(s.into()));
            }
            INT | BININT | BININT1 | BININT2 | LONG | LONG1 | LONG4 | FLOAT | BINFLOAT
            | BINBYTES | SHORT_BINBYTES | BINBYTES8 | BYTEARRAY8 | NONE | NEWTRUE | NEWFALSE
            | NEXT_BUFFER | EMPTY_LIST | EMPTY_DICT | EMPTY_SET => {
                self.arg(op.arg)?;
                self.push(Av::Other);
            }
            READONLY_BUFFER => {
                self.top()?;
            }
            EMPTY_TUPLE => self.push(Av::Tuple(Rc::from(Vec::new()), 1)),
            MARK => {
                let s = std::mem::take(&mut self.stack);
                self.meta.push(s);
            }
            POP => {
                if self.stack.pop().is_none() {
                    self.pop_mark()?;
                }
            }
            POP_MARK => {
                self.pop_mark()?;
            }
            DUP => {
                let v = self.top()?.clone();
                self.push(v);
            }
            TUPLE => {
                let items = self.pop_mark()?;
                let t = self.tuple(items);
                self.push(t);
            }
            TUPLE1 | TUPLE2 | TUPLE3 => {
                let n = (code - TUPLE1 + 1) as usize;
                if self.stack.len() < n {
                    return Err("unpickling stack underflow".into());
                }
                let items = self.stack.split_off(self.stack.len() - n);
                let t = self.tuple(items);
                self.push(t);
            }
            LIST | DICT | FROZENSET => {
                let items = self.pop_mark()?;
                let v = self.container(&items);
                self.push(v);
            }
            APPEND => {
                let v = self.pop()?;
                self.absorb(&v);
                self.top()?;
            }
            SETITEM => {
                let v = self.pop()?;
                let k = self.pop()?;
                self.absorb(&v);
                self.absorb(&k);
                self.top()?;
            }
            APPENDS | SETITEMS | ADDITEMS => {
                let items = self.pop_mark()?;
                self.container(&items);
                self.top()?;
            }
            GET => {
                let k = self.decimal()?;
                self.memo_get(k as u64)?;
            }
            BINGET => {
                let k = self.array::<1>()?[0];
                self.memo_get(k.into())?;
            }
            LONG_BINGET => {
                let k = u32::from_le_bytes(self.array()?);
                self.memo_get(k.into())?;
            }
            PUT => {
                let k = self.decimal()?;
                if k < 0 {
                    return Err("negative PUT argument".into());
                }
                self.memo_put(k as u64)?;
            }
            BINPUT => {
                let k = self.array::<1>()?[0];
                self.memo_put(k.into())?;
            }
            LONG_BINPUT => {
                let k = u32::from_le_bytes(self.array()?);
                self.memo_put(k.into())?;
            }
            MEMOIZE => {
                let k = self.memo.len() as u64;
                self.memo_put(k)?;
            }
            GLOBAL => {
                let module = String::from_utf8_lossy(self.line()?).into_owned();
                let name = String::from_utf8_lossy(self.line()?).into_owned();
                let g = self.global(&module, &name, "GLOBAL", at);
                self.push(g);
            }
            STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                let g = match (&module, &name) {
                    (Av::Str(m), Av::Str(n)) => {
                        let (m, n) = (m.to_string(), n.to_string());
                        self.global(&m, &n, "STACK_GLOBAL", at)
                    }
                    _ => {
                        let what = format!(
                            "module {} and name {}",
                            self.describe(&module),
                            self.describe(&name)
                        );
                        let finding = self.finding(Finding {
                            severity: Severity::Dangerous,
                            offset: at as u64,
                            opcode: "STACK_GLOBAL",
                            kind: Kind::Global,
                            name: None,
                            detail: format!(
                                "imports a name computed while loading ({what}): cannot be known statically"
                            ),
                            called_by: Vec::new(),
                        });
                        self.globals.push(GlobalRef {
                            finding,
                            path: "<computed global>".into(),
                            getattr: false,
                            import: false,
                            escaped: false,
                            bad_use: false,
                        });
                        Av::Global(self.globals.len() as u32 - 1)
                    }
                };
                self.push(g);
            }
            INST => {
                let module = String::from_utf8_lossy(self.line()?).into_owned();
                let name = String::from_utf8_lossy(self.line()?).into_owned();
                let args = self.pop_mark()?;
                let g = self.global(&module, &name, "INST", at);
                let args = self.tuple(args);
                let r = self.call(g, Some(&args), "INST", at);
                self.push(r);
            }
            OBJ => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return Err("OBJ with an empty MARK".into());
                }
                let cls = items.remove(0);
                let args = self.tuple(items);
                let r = self.call(cls, Some(&args), "OBJ", at);
                self.push(r);
            }
            REDUCE => {
                let args = self.pop()?;
                let callable = self.pop()?;
                self.absorb(&args);
                let r = self.call(callable, Some(&args), "REDUCE", at);
                self.push(r);
            }
            NEWOBJ => {
                let args = self.pop()?;
                let cls = self.pop()?;
                self.absorb(&args);
                let r = self.call(cls, Some(&args), "NEWOBJ", at);
                self.push(r);
            }
            NEWOBJ_EX => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                self.absorb(&args);
                self.absorb(&kwargs);
                let r = self.call(cls, Some(&args), "NEWOBJ_EX", at);
                self.push(r);
            }
            BUILD => {
                let state = self.pop()?;
                self.absorb(&state);
                let obj = self.top()?.clone();
                let (severity, detail) = match &obj {
                    Av::Global(_) => (
                        Severity::Dangerous,
                        "sets attributes of an imported object (a class or module)".to_string(),
                    ),
                    Av::Result(r) => {
                        let r = &self.results[*r as usize];
                        (
                            r.severity,
                            "sets its state (calls __setstate__ if the class defines it)".into(),
                        )
                    }
                    _ => (Severity::Unknown, "Python would fail here".into()),
                };
                let name = self.describe(&obj);
                self.finding(Finding {
                    severity,
                    offset: at as u64,
                    opcode: "BUILD",
                    kind: Kind::Build,
                    name: Some(name),
                    detail,
                    called_by: Vec::new(),
                });
            }
            PERSID => {
                let id = String::from_utf8_lossy(self.line()?).into_owned();
                self.persistent_id(format!("{id:?}"), at, "PERSID");
                self.push(Av::Other);
            }
            BINPERSID => {
                let id = self.pop()?;
                self.absorb(&id);
                let mut text = String::new();
                self.render(&id, &mut text);
                self.persistent_id(text, at, "BINPERSID");
                self.push(Av::Other);
            }
            EXT1 | EXT2 | EXT4 => {
                let code = match code {
                    EXT1 => self.array::<1>()?[0] as i32,
                    EXT2 => u16::from_le_bytes(self.array()?) as i32,
                    _ => i32::from_le_bytes(self.array()?),
                };
                self.finding(Finding {
                    severity: Severity::Unknown,
                    offset: at as u64,
                    opcode: op.name,
                    kind: Kind::Extension,
                    name: Some(format!("extension code {code}")),
                    detail: "imports the global copyreg's extension registry maps this code to"
                        .into(),
                    called_by: Vec::new(),
                });
                self.push(Av::Other);
            }
            _ => return Err(format!("opcode {} is not handled", op.name)),
        }
        Ok(true)
    }
}

/// The text of a protocol 0 `STRING` argument: quotes stripped, Python escapes undone.
fn unquote(line: &[u8]) -> String {
    let inner = match line {
        [q @ (b'\'' | b'"'), mid @ .., last] if last == q => mid,
        _ => line,
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        if c != b'\\' || i + 1 == inner.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let e = inner[i + 1];
        i += 2;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                let mut k = 0;
                while k < 2 && i < inner.len() && (b'0'..=b'7').contains(&inner[i]) {
                    v = v * 8 + u32::from(inner[i] - b'0');
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            b'x' => {
                let hex = inner
                    .get(i..i + 2)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.extend_from_slice(b"\\x"),
                }
            }
            b'\n' => {}
            other => {
                if !matches!(other, b'\\' | b'\'' | b'"') {
                    out.push(b'\\');
                }
                out.push(other);
            }
        }
    }
    out.iter().map(|&c| char::from(c)).collect()
}

/// raw-unicode-escape: `\uXXXX` and `\UXXXXXXXX` escapes, other bytes Latin-1.
fn raw_unicode_escape(line: &[u8]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] == b'\\' && i + 1 < line.len() && matches!(line[i + 1], b'u' | b'U') {
            let n = if line[i + 1] == b'u' { 4 } else { 8 };
            let hex = line
                .get(i + 2..i + 2 + n)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32);
            if let Some(c) = hex {
                out.push(c);
                i += 2 + n;
                continue;
            }
        }
        out.push(char::from(line[i]));
        i += 1;
    }
    out
}
