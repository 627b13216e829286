//! The static walk over one pickle: an abstract machine that follows the stack, the
//! marks and the memo with just enough values (strings, globals, call results, small
//! tuples, "something") to name every import and every call, without the VM and
//! without executing anything.
//!
//! With `joblib` on, it also does what `joblib.load` does after a BUILD of one of
//! joblib's array wrappers: it learns the array's dtype and shape from the recorded
//! `numpy.dtype(...)` construction and the wrapper's state, skips the raw bytes joblib
//! wrote there (or walks the nested pickle of an object array) and carries on.
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
    /// A small int (shapes, dtype states).
    Int(i64),
    /// `None`.
    PyNone,
    /// A tuple, kept (to a small depth) to see the arguments of calls.
    Tuple(Rc<[Av]>, u8),
    /// A dict: an index into `Walk::dicts` (its str keys, to read joblib wrapper states).
    Dict(u32),
    /// What a loader hook returns (a persistent id's object, an extension's global):
    /// anything, a str included.
    Any,
    /// Anything else: data the pickle spells out that is not a str (numbers, bytes,
    /// containers).
    Other,
}

impl Av {
    /// Surely not a str when Python loads it.
    fn not_str(&self) -> bool {
        matches!(
            self,
            Av::Int(_) | Av::PyNone | Av::Tuple(..) | Av::Dict(_) | Av::Other
        )
    }
}

/// Most entries recorded per dict (a joblib wrapper's state has six).
const MAX_DICT_ENTRIES: usize = 64;

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
    /// Every call of this `getattr` reached a known constructor of data (and it was
    /// called at least once).
    getattr_safe: Option<bool>,
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
    /// The global that was called or instantiated (the class for NEWOBJ and copyreg's
    /// reconstructors).
    class: Option<u32>,
    /// The arguments, when they were a tuple.
    args: Option<Av>,
    /// The state of its last BUILD.
    state: Option<Av>,
    /// For joblib's array wrappers: the attributes set so far (`__init__` arguments,
    /// then BUILD states).
    attrs: Vec<(Rc<str>, Av)>,
}

/// A dict the walk keeps the str keys of.
#[derive(Default)]
struct DictRec {
    entries: Vec<(Rc<str>, Av)>,
}

/// An array joblib wrote inline after a wrapper's BUILD, or the file a joblib < 0.10
/// wrapper names.
pub(crate) struct InlineArray {
    /// The BUILD after which joblib reads it.
    pub(crate) build: usize,
    /// Where its bytes start (the padding-length byte, when there is one).
    pub(crate) offset: usize,
    /// Alignment padding: the length byte and the padding after it (0 without).
    pub(crate) padding: usize,
    /// Just past its bytes (or past the nested pickle).
    pub(crate) end: usize,
    /// numpy's `dtype.str` as far as the pickle says (`<f8`, `|O`, `|V16`).
    pub(crate) dtype: String,
    pub(crate) shape: Vec<u64>,
    pub(crate) order: String,
    /// Held Python objects: the bytes are a nested pickle (scanned with this one).
    pub(crate) object: bool,
    /// The nested pickle's protocol.
    pub(crate) protocol: Option<u8>,
    /// joblib < 0.10: the file the array is read from instead (nothing inline).
    pub(crate) file: Option<String>,
}

/// What a dtype the pickle builds says about the bytes of an array of it.
struct DtypeInfo {
    text: String,
    itemsize: i64,
    object: bool,
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
    /// The arrays joblib would read inline (only with `joblib` on).
    pub(crate) arrays: Vec<InlineArray>,
    /// Where Python's pure-Python unpickler (joblib's) leaves the file after STOP: past
    /// the frame STOP is in (the frame is read whole), else just past STOP.
    pub(crate) resume: usize,
    /// The walk stopped while reading an array's data (not at an opcode).
    pub(crate) failed_in_array: bool,
    /// BUILDs of joblib array wrappers read as `joblib.load` does.
    pub(crate) wrappers: usize,
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
    dicts: Vec<DictRec>,
    /// Read BUILDs of joblib's wrappers as `joblib.load` does.
    joblib: bool,
    /// The end of the current frame, while opcodes are read from it.
    frame_end: Option<usize>,
    /// Where the file is while a frame is read: the frame's end, or past the arrays
    /// joblib read from the file meanwhile.
    file_pos: usize,
    arrays: Vec<InlineArray>,
    /// Overrides the offset of the error a step returns.
    fail_at: Option<usize>,
    failed_in_array: bool,
    wrappers: usize,
}

type Step = Result<bool, String>;

/// Walks the pickle that starts at `start` in `data` as `pickle.load` would; offsets in
/// the findings are offsets in `data`.
pub(crate) fn walk(data: &[u8], start: usize) -> Outcome {
    walk_with(data, start, false)
}

/// Walks the pickle at `start` as `joblib.load` would (see the module docs).
pub(crate) fn walk_joblib(data: &[u8], start: usize) -> Outcome {
    walk_with(data, start, true)
}

fn walk_with(data: &[u8], start: usize, joblib: bool) -> Outcome {
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
        dicts: Vec::new(),
        joblib,
        frame_end: None,
        file_pos: start,
        arrays: Vec::new(),
        fail_at: None,
        failed_in_array: false,
        wrappers: 0,
    };
    let end = loop {
        if let Err(message) = w.leave_exhausted_frame() {
            break End::Error {
                offset: w.pos,
                message,
            };
        }
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
            Err(message) => match w.fail_at.take() {
                Some(offset) => break End::Error { offset, message },
                None => {
                    break End::Error {
                        offset: at,
                        message: format!("{message} (opcode {})", opcode::name(code)),
                    }
                }
            },
        }
        if w.stack.len() + w.memo.len() > MAX_ENTRIES {
            break End::Error {
                offset: at,
                message: "too many stack and memo entries for a scan".into(),
            };
        }
    };
    w.finish();
    let resume = match (&end, w.frame_end) {
        (End::Stop(_), Some(_)) => w.file_pos,
        (End::Stop(e), _) => *e,
        (End::Error { offset, .. }, _) => *offset,
    };
    Outcome {
        end,
        findings: w.findings,
        protocol: w.proto,
        arrays: w.arrays,
        resume,
        failed_in_array: w.failed_in_array,
        wrappers: w.wrappers,
    }
}

fn truncated() -> String {
    "pickle data was truncated".into()
}

impl<'a> Walk<'a> {
    // ------------------------------------------------------------ frames

    /// Python's unpickler reads a frame from the file whole, then its opcodes from
    /// memory; when the frame is used up it reads from the file again. Without joblib
    /// the file is then just past the frame (frames are transparent); after joblib read
    /// an array from the file in the middle of a frame, it is past that array.
    fn leave_exhausted_frame(&mut self) -> Result<(), String> {
        if let Some(fe) = self.frame_end {
            if self.pos >= fe {
                if self.file_pos != fe {
                    if self.pos > fe {
                        return Err(
                            "an opcode runs past the end of its frame after joblib read \
                                    array data from the file (Python's unpickler raises here)"
                                .into(),
                        );
                    }
                    self.pos = self.file_pos;
                }
                self.frame_end = None;
            }
        }
        Ok(())
    }

    /// Where the file is: where joblib reads array data from.
    fn file_cursor(&self) -> usize {
        match self.frame_end {
            Some(_) => self.file_pos,
            None => self.pos,
        }
    }

    fn set_file_cursor(&mut self, at: usize) {
        match self.frame_end {
            Some(_) => self.file_pos = at,
            None => self.pos = at,
        }
    }

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
            getattr_safe: None,
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
            Av::Int(i) => format!("the int {i}"),
            Av::PyNone => "None".into(),
            Av::Tuple(..) => "a tuple".into(),
            Av::Dict(_) => "a dict".into(),
            Av::Any => "a value from the loader".into(),
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
        // The class instantiated (or function called), and whether its `__init__` runs.
        let mut class = None;
        let mut init = false;
        let (severity, path, name, detail) = match &callable {
            Av::Global(g) => {
                let gi = *g as usize;
                class = Some(*g);
                init = !matches!(opcode, "NEWOBJ" | "NEWOBJ_EX");
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
                        class = None;
                        init = false;
                        if let Some(Av::Tuple(items, _)) = args {
                            if let Some(Av::Global(c)) = items.first() {
                                class = Some(*c);
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
                    // A known constructor reached by a safe getattr (zoneinfo's
                    // `getattr(ZoneInfo, "_unpickle")(key, 1)`).
                    if res.severity == Severity::Safe && classify::path(p) == Severity::Safe {
                        sev = Severity::Safe;
                    }
                }
                (
                    sev,
                    None,
                    self.describe(&callable),
                    "calls an object built by the pickle".into(),
                )
            }
            Av::Any => (
                Severity::Unknown,
                None,
                self.describe(&callable),
                "calls what the loader returned (an extension's global, a persistent object)"
                    .into(),
            ),
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
        // joblib's wrapper built by calling the class: `__init__` sets its attributes.
        let mut attrs = Vec::new();
        if let (true, Some(c), Some(Av::Tuple(items, _))) = (init, class, args) {
            if classify::joblib_wrapper(&self.globals[c as usize].path)
                == Some(classify::Wrapper::Inline)
            {
                let names = [
                    "subclass",
                    "shape",
                    "order",
                    "dtype",
                    "allow_mmap",
                    "numpy_array_alignment_bytes",
                ];
                attrs = names
                    .iter()
                    .zip(items.iter())
                    .map(|(n, v)| (Rc::from(*n), v.clone()))
                    .collect();
                if items.len() < names.len() {
                    // The default alignment of joblib >= 1.2.
                    attrs.push((Rc::from(names[5]), Av::Int(16)));
                }
            }
        }
        self.results.push(ResultRef {
            path,
            severity,
            site,
            class,
            args: args.cloned(),
            state: None,
            attrs,
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
            // A known constructor reached from a known class (`getattr(ZoneInfo,
            // "_unpickle")`, how zoneinfo pickles a zone) is as safe as a global of it.
            if base_sev == Severity::Safe && classify::path(p) == Severity::Safe && !dunder {
                sev = Severity::Safe;
            }
        }
        if dunder {
            sev = Severity::Dangerous;
        }
        if sev == Severity::Dangerous {
            self.globals[g].bad_use = true;
        }
        let safe = sev == Severity::Safe;
        let prev = self.globals[g].getattr_safe.unwrap_or(true);
        self.globals[g].getattr_safe = Some(prev && safe);
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
            Av::Int(i) => out.push_str(&i.to_string()),
            Av::PyNone => out.push_str("None"),
            Av::Dict(_) => out.push_str("{…}"),
            Av::Any | Av::Other => out.push('…'),
        }
    }

    // ------------------------------------------------------------ dicts

    fn new_dict(&mut self) -> Av {
        self.dicts.push(DictRec::default());
        Av::Dict(self.dicts.len() as u32 - 1)
    }

    /// Records `d[k] = v` when `k` is a str (and the dict is not full).
    fn dict_set(&mut self, d: u32, k: &Av, v: &Av) {
        let Av::Str(k) = k else { return };
        set_entry(&mut self.dicts[d as usize].entries, k.clone(), v.clone());
    }

    // ------------------------------------------------------------ joblib

    /// After a BUILD of the result `r` with `state`: records the state, and for one of
    /// joblib's array wrappers (with `joblib` on) reads what `joblib.load` reads next.
    fn built(&mut self, r: usize, state: Av, at: usize) -> Result<(), String> {
        self.results[r].state = Some(state.clone());
        if !self.joblib {
            return Ok(());
        }
        let Some(c) = self.results[r].class else {
            return Ok(());
        };
        let Some(kind) = classify::joblib_wrapper(&self.globals[c as usize].path) else {
            return Ok(());
        };
        self.wrappers += 1;
        if let Some(f) = self
            .findings
            .iter_mut()
            .rev()
            .find(|f| f.offset == at as u64)
        {
            f.detail = match kind {
                classify::Wrapper::Inline => {
                    "joblib.load then reads the array's bytes that follow (listed in arrays)"
                }
                classify::Wrapper::File => "joblib.load then reads the array from a file",
            }
            .into();
        }
        // The state sets attributes: a dict, or (dict, slot dict).
        let mut dicts = Vec::new();
        match &state {
            Av::Dict(d) => dicts.push(*d),
            Av::Tuple(items, _) if items.len() == 2 => {
                dicts.extend(items.iter().filter_map(|v| match v {
                    Av::Dict(d) => Some(*d),
                    _ => None,
                }))
            }
            _ => {}
        }
        for d in dicts {
            for i in 0..self.dicts[d as usize].entries.len() {
                let (k, v) = self.dicts[d as usize].entries[i].clone();
                set_entry(&mut self.results[r].attrs, k, v);
            }
        }
        match kind {
            classify::Wrapper::Inline => self.inline_array(r, at),
            classify::Wrapper::File => {
                self.array_file(r, at);
                Ok(())
            }
        }
    }

    fn attr(&self, r: usize, name: &str) -> Option<&Av> {
        self.results[r]
            .attrs
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v)
    }

    /// The array `NumpyArrayWrapper.read_array` reads after the BUILD at `at`: its
    /// alignment padding and raw bytes are skipped, an object array's nested pickle is
    /// walked (as a fresh pickle: joblib reads it with a new unpickler).
    fn inline_array(&mut self, r: usize, at: usize) -> Result<(), String> {
        let fail = |w: &mut Self, offset: Option<usize>, msg: String| -> Result<(), String> {
            w.failed_in_array = true;
            w.fail_at = offset;
            Err(msg)
        };
        let what = "cannot tell the size of the array joblib reads after this BUILD";
        let dtype = match self.attr(r, "dtype").cloned() {
            Some(d) => d,
            None => return fail(self, None, format!("{what}: the wrapper has no dtype")),
        };
        let dt = match self.dtype_info(&dtype) {
            Ok(d) => d,
            Err(e) => return fail(self, None, format!("{what}: {e}")),
        };
        let shape = match self.attr(r, "shape") {
            Some(Av::Tuple(items, _)) => items
                .iter()
                .map(|v| match v {
                    Av::Int(i) => u64::try_from(*i).ok(),
                    _ => None,
                })
                .collect::<Option<Vec<u64>>>(),
            _ => None,
        };
        let Some(shape) = shape else {
            return fail(
                self,
                None,
                format!("{what}: its shape is not a tuple of ints >= 0"),
            );
        };
        let order = match self.attr(r, "order") {
            Some(Av::Str(o)) => o.to_string(),
            _ => "C".to_string(),
        };
        let aligned = !matches!(
            self.attr(r, "numpy_array_alignment_bytes"),
            None | Some(Av::PyNone)
        );
        let offset = self.file_cursor();
        let mut rec = InlineArray {
            build: at,
            offset,
            padding: 0,
            end: offset,
            dtype: dt.text.clone(),
            shape,
            order,
            object: dt.object,
            protocol: None,
            file: None,
        };
        if dt.object {
            // `pickle.dump(array, protocol=5)`, read by a fresh (pure-Python) unpickler.
            let inner = walk_with(self.data, offset, false);
            self.findings.extend(inner.findings);
            rec.protocol = inner.protocol;
            match inner.end {
                End::Stop(_) => rec.end = inner.resume,
                End::Error { offset: o, message } => {
                    return fail(
                        self,
                        Some(o),
                        format!("in the pickle of the object array at {offset} (after the BUILD at {at}): {message}"),
                    )
                }
            }
        } else {
            let mut data = offset;
            if aligned {
                let Some(&n) = self.data.get(offset) else {
                    return fail(
                        self,
                        Some(offset),
                        format!("joblib array data was truncated: no padding byte after the BUILD at {at}"),
                    );
                };
                rec.padding = 1 + n as usize;
                data = offset + rec.padding;
            }
            let count = rec.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
            let size = count.and_then(|n| {
                u64::try_from(dt.itemsize)
                    .ok()
                    .and_then(|s| n.checked_mul(s))
            });
            let Some(size) = size else {
                return fail(
                    self,
                    Some(offset),
                    format!(
                        "the array after the BUILD at {at} (dtype {}, shape {:?}) has no valid size",
                        dt.text, rec.shape
                    ),
                );
            };
            let left = self.data.len().saturating_sub(data) as u64;
            if size > left {
                return fail(
                    self,
                    Some(offset),
                    format!(
                        "joblib array data runs past the end of the file: the array after the \
                         BUILD at {at} (dtype {}, shape {:?}) declares {size} bytes at {data}, \
                         {left} are left",
                        dt.text, rec.shape
                    ),
                );
            }
            rec.end = data + size as usize;
        }
        self.set_file_cursor(rec.end);
        self.arrays.push(rec);
        Ok(())
    }

    /// A joblib < 0.10 wrapper: `joblib.load` reads the array from the file its state
    /// names, next to the dump (`np.load(..., allow_pickle=True)`).
    fn array_file(&mut self, r: usize, at: usize) {
        let file = match self.attr(r, "filename") {
            Some(Av::Str(f)) => Some(f.to_string()),
            _ => None,
        };
        let (severity, detail) = match &file {
            Some(f) if is_plain_name(f) => (
                Severity::Safe,
                format!(
                    "joblib < 0.10 layout: joblib.load reads this array from {f} next to the \
                     file, with np.load(allow_pickle=True): scan it too"
                ),
            ),
            Some(f) => (
                Severity::Unknown,
                format!(
                    "joblib.load would np.load(allow_pickle=True) {f:?}, a path outside the \
                     directory of the dump"
                ),
            ),
            None => (
                Severity::Unknown,
                "joblib.load would read the array from a file whose name is not a constant".into(),
            ),
        };
        self.finding(Finding {
            severity,
            offset: at as u64,
            opcode: "BUILD",
            kind: Kind::ExternalFile,
            name: file.clone(),
            detail,
            called_by: Vec::new(),
        });
        self.arrays.push(InlineArray {
            build: at,
            offset: at + 1,
            padding: 0,
            end: at + 1,
            dtype: String::new(),
            shape: Vec::new(),
            order: String::new(),
            object: false,
            protocol: None,
            file,
        });
    }

    /// What the dtype the pickle built says about an array's bytes, as numpy 2 unpickles
    /// it: `numpy.dtype(typestr, False, True)` and an optional BUILD state
    /// `(version, endian, subarray, names, fields, elsize, alignment, flags[, metadata])`
    /// whose `elsize` sizes flexible kinds (S, U, V) and whose `flags & 1` is
    /// `hasobject`. Other state shapes are refused rather than guessed.
    fn dtype_info(&self, v: &Av) -> Result<DtypeInfo, String> {
        let not = || "its dtype is not a numpy dtype the pickle builds".to_string();
        let Av::Result(d) = v else { return Err(not()) };
        let res = &self.results[*d as usize];
        let class = res.class.map(|c| self.globals[c as usize].path.as_str());
        match class {
            Some("numpy.dtype") => {}
            Some(
                "numpy._core._internal._convert_to_stringdtype_kwargs"
                | "numpy.core._internal._convert_to_stringdtype_kwargs"
                | "numpy.dtypes.StringDType",
            ) => {
                return Ok(DtypeInfo {
                    text: "StringDType".into(),
                    itemsize: 16,
                    object: true,
                })
            }
            _ => return Err(not()),
        }
        let typestr = match &res.args {
            Some(Av::Tuple(items, _)) => match items.first() {
                Some(Av::Str(s)) => s.to_string(),
                _ => return Err(not()),
            },
            _ => return Err(not()),
        };
        let t = typestr.trim_start_matches(['<', '>', '|', '=']);
        let mut chars = t.chars();
        let kind = chars.next().ok_or_else(not)?;
        let digits = chars.as_str();
        let n: Option<i64> = if digits.is_empty() {
            None
        } else {
            digits.parse().ok()
        };
        let unknown = || format!("numpy does not know the dtype {typestr:?}");
        let fixed = |ok: &[i64]| match n {
            Some(n) if ok.contains(&n) => Ok(n),
            _ => Err(unknown()),
        };
        // (itemsize, flexible, object) from the type string alone.
        let (mut itemsize, flexible, mut object) = match kind {
            'b' => (fixed(&[1])?, false, false),
            'i' | 'u' => (fixed(&[1, 2, 4, 8])?, false, false),
            'f' => (fixed(&[2, 4, 8, 12, 16])?, false, false),
            'c' => (fixed(&[8, 16, 24, 32])?, false, false),
            'M' | 'm' => (fixed(&[8])?, false, false),
            'O' => (8, false, true),
            'S' | 'a' | 'V' => (n.unwrap_or(0), true, false),
            'U' => (
                n.unwrap_or(0).checked_mul(4).ok_or_else(unknown)?,
                true,
                false,
            ),
            _ => return Err(unknown()),
        };
        let mut endian = String::from("|");
        if let Some(state) = &res.state {
            let Av::Tuple(items, _) = state else {
                return Err("its dtype's state is not a tuple".into());
            };
            let int = |i: usize| match items.get(i) {
                Some(Av::Int(v)) => Some(*v),
                _ => None,
            };
            let version = int(0);
            match (items.len(), version) {
                (8 | 9, Some(3..)) => {
                    object = int(7).ok_or("its dtype's flags are not an int")? & 1 == 1;
                }
                (7, Some(3..)) => object = false,
                _ => {
                    return Err(format!(
                        "its dtype's state ({} items, version {version:?}) has a form the scanner does not read",
                        items.len()
                    ))
                }
            }
            if flexible {
                itemsize = int(5).ok_or("its dtype's elsize is not an int")?;
            }
            if let Some(Av::Str(e)) = items.get(1) {
                endian = e.to_string();
            }
        } else if itemsize > 1 && !object && kind != 'S' && kind != 'a' && kind != 'V' {
            endian = "<".into();
        }
        if itemsize < 0 {
            return Err(format!("its dtype has a negative itemsize ({itemsize})"));
        }
        let size = if kind == 'U' { itemsize / 4 } else { itemsize };
        let text = match kind {
            'O' => "|O".to_string(),
            'M' | 'm' => format!("{endian}{kind}8"),
            _ => format!("{endian}{kind}{size}"),
        };
        Ok(DtypeInfo {
            text,
            itemsize,
            object,
        })
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
            if g.getattr && !g.escaped && !g.bad_use && g.getattr_safe == Some(true) {
                let f = &mut self.findings[g.finding];
                f.severity = Severity::Safe;
                f.detail = "reaches only known constructors of data".into();
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
                let n = u64::from_le_bytes(self.array()?);
                self.leave_exhausted_frame()?;
                if let Some(fe) = self.frame_end {
                    if self.file_pos != fe {
                        return Err("a new frame before the end of the current one, after \
                                    joblib read array data from the file (Python's unpickler \
                                    raises here)"
                            .into());
                    }
                }
                let end = usize::try_from(n)
                    .ok()
                    .and_then(|n| self.pos.checked_add(n))
                    .map_or(self.data.len(), |e| e.min(self.data.len()));
                self.frame_end = Some(end);
                self.file_pos = end;
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
            BININT => {
                let v = i32::from_le_bytes(self.array()?);
                self.push(Av::Int(v.into()));
            }
            BININT1 => {
                let v = self.array::<1>()?[0];
                self.push(Av::Int(v.into()));
            }
            BININT2 => {
                let v = u16::from_le_bytes(self.array()?);
                self.push(Av::Int(v.into()));
            }
            INT | LONG => {
                let l = self.line()?;
                let t = String::from_utf8_lossy(l);
                let t = t.trim();
                // `I00`/`I01` are Python 2's False/True.
                let v = match t {
                    "00" | "01" => None,
                    _ => t.strip_suffix('L').unwrap_or(t).parse::<i64>().ok(),
                };
                self.push(v.map_or(Av::Other, Av::Int));
            }
            LONG1 | LONG4 => {
                let n = if code == LONG1 {
                    self.array::<1>()?[0] as usize
                } else {
                    let n = i32::from_le_bytes(self.array()?);
                    usize::try_from(n).map_err(|_| format!("LONG length < 0: {n}"))?
                };
                let b = self.take(n)?;
                self.push(le_int(b).map_or(Av::Other, Av::Int));
            }
            NONE => self.push(Av::PyNone),
            EMPTY_DICT => {
                let d = self.new_dict();
                self.push(d);
            }
            FLOAT | BINFLOAT | BINBYTES | SHORT_BINBYTES | BINBYTES8 | BYTEARRAY8 | NEWTRUE
            | NEWFALSE | NEXT_BUFFER | EMPTY_LIST | EMPTY_SET => {
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
            DICT => {
                let items = self.pop_mark()?;
                self.container(&items);
                let d = self.new_dict();
                if let Av::Dict(i) = d {
                    for kv in items.chunks_exact(2) {
                        self.dict_set(i, &kv[0], &kv[1]);
                    }
                }
                self.push(d);
            }
            LIST | FROZENSET => {
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
                if let Av::Dict(d) = self.top()? {
                    let d = *d;
                    self.dict_set(d, &k, &v);
                }
            }
            SETITEMS => {
                let items = self.pop_mark()?;
                self.container(&items);
                if let Av::Dict(d) = self.top()? {
                    let d = *d;
                    for kv in items.chunks_exact(2) {
                        self.dict_set(d, &kv[0], &kv[1]);
                    }
                }
            }
            APPENDS | ADDITEMS => {
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
                    // Python checks the operands' types: nothing is imported.
                    (m, n) if m.not_str() || n.not_str() => {
                        return Err("STACK_GLOBAL requires str".into())
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
                            getattr_safe: None,
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
                    Av::Any => (
                        Severity::Unknown,
                        "sets the state of what the loader returned".into(),
                    ),
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
                if let Av::Result(r) = obj {
                    self.built(r as usize, state, at)?;
                }
            }
            PERSID => {
                let id = String::from_utf8_lossy(self.line()?).into_owned();
                self.persistent_id(format!("{id:?}"), at, "PERSID");
                self.push(Av::Any);
            }
            BINPERSID => {
                let id = self.pop()?;
                self.absorb(&id);
                let mut text = String::new();
                self.render(&id, &mut text);
                self.persistent_id(text, at, "BINPERSID");
                self.push(Av::Any);
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
                self.push(Av::Any);
            }
            _ => return Err(format!("opcode {} is not handled", op.name)),
        }
        Ok(true)
    }
}

/// `entries[k] = v`, in a list of at most [`MAX_DICT_ENTRIES`].
fn set_entry(entries: &mut Vec<(Rc<str>, Av)>, k: Rc<str>, v: Av) {
    if let Some(e) = entries.iter_mut().find(|(key, _)| *key == k) {
        e.1 = v;
    } else if entries.len() < MAX_DICT_ENTRIES {
        entries.push((k, v));
    }
}

/// A little-endian two's-complement int of at most 8 bytes (LONG1/LONG4).
fn le_int(b: &[u8]) -> Option<i64> {
    if b.len() > 8 {
        return None;
    }
    let mut v: i64 = 0;
    for (i, &c) in b.iter().enumerate() {
        v |= i64::from(c) << (8 * i);
    }
    let bits = 8 * b.len() as u32;
    if bits > 0 && bits < 64 && b[b.len() - 1] & 0x80 != 0 {
        v -= 1i64 << bits;
    }
    Some(v)
}

/// A file name without a directory part (what joblib < 0.10 writes).
fn is_plain_name(f: &str) -> bool {
    !f.is_empty() && f != "." && f != ".." && !f.contains(['/', '\\', ':'])
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
