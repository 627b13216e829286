//! The unpickling machine: the opcode loop with its stack, marks and memo. It executes
//! nothing: globals become names and every call is recorded as an [`Object`] node.
//!
//! It knows the input only through [`Read`] and produces a [`Graph`]; it knows nothing of
//! serde, JSON or torch.

mod memo;
pub(crate) mod text;

use crate::error::{Error, ErrorKind, Result};
use crate::opcode::{self, *};
use crate::options::Options;
use crate::read::Read;
use crate::resolve::compat;
use crate::resolve::hooks::{AfterBuild, ClassAction, Hooks, Literal, RawData};
use crate::value::{
    store_append, Construct, Global, Graph, Items, Node, NodeId, Object, Packed, Pairs, TooLong,
    Value,
};
use memo::Memo;
use num_bigint::BigInt;
use std::borrow::Cow;
use text::Text;

/// Longest text argument of a protocol-0 opcode before it must be a mistake.
const MAX_LINE: usize = 1 << 30;

pub(crate) struct Vm<'a, 'de, 'h, R> {
    rd: R,
    graph: Graph<'de>,
    stack: Vec<Packed>,
    marks: Vec<usize>,
    memo: Memo,
    proto: u8,
    opts: &'a Options,
    hooks: &'a mut Hooks<'h>,
    alloc: u64,
    /// The position of the opcode being executed.
    pos: u64,
    objects: Vec<NodeId>,
    empty_tuple: Option<Packed>,
    /// The machines of the pickles a nested one interrupted (see [`AfterBuild::Pickle`]).
    nested: Vec<Suspended>,
    /// Bytes read by earlier runs into the same graph (see [`Vm::with_graph`]).
    base_input_len: u64,
}

/// The state of a pickle suspended while a nested one runs: its stack, marks, memo and
/// protocol, and whether the nested pickle's value replaces the top of its stack.
struct Suspended {
    stack: Vec<Packed>,
    marks: Vec<usize>,
    memo: Memo,
    proto: u8,
    replace: bool,
}

/// The outcome of a run: the graph, and the objects in creation order for the resolver.
pub(crate) struct Loaded<'de> {
    pub(crate) graph: Graph<'de>,
    /// Every object node, in creation order.
    pub(crate) objects: Vec<NodeId>,
    /// The offset just past STOP (where a following pickle would start).
    #[allow(dead_code)]
    pub(crate) end: u64,
}

impl<'a, 'de, 'h, R: Read<'de>> Vm<'a, 'de, 'h, R> {
    pub(crate) fn new(rd: R, opts: &'a Options, hooks: &'a mut Hooks<'h>) -> Self {
        let mut graph = Graph::new();
        graph.input = rd.input();
        Vm::with_graph(rd, graph, opts, hooks)
    }

    /// A machine that adds to `graph` (nodes of earlier loads stay as they are; the root
    /// becomes this pickle's). The graph's input must be the reader's: a stream reader
    /// (no input) for a graph that owns its strings.
    pub(crate) fn with_graph(
        rd: R,
        mut graph: Graph<'de>,
        opts: &'a Options,
        hooks: &'a mut Hooks<'h>,
    ) -> Self {
        debug_assert!(graph.nodes.is_empty() || rd.input().is_empty());
        let base_input_len = graph.input_len;
        let mut memo = Memo::new(opts.limits.max_memo);
        // Reserve (untouched, so not resident) room in proportion to the input, so the
        // arena, the memo and the stores mostly grow without reallocating: glibc's
        // realloc copies (and so touches again) chunks of its heap at every doubling.
        // The ratios are what real pickles need (a list element takes 4-10 bytes of
        // input, a dict pair 10-20, an object 30 or more), not the worst case, so that
        // the reservation stays small next to the input; past it the vectors grow as
        // usual. Capped for huge inputs.
        if let Some(len) = rd.remaining() {
            let cap = |per: u64| (len / per).min(1 << 24) as usize;
            graph.nodes.reserve(cap(8));
            graph.offsets.reserve(cap(8));
            memo.reserve(cap(8));
            graph.items.reserve(cap(4));
            graph.pairs.reserve(cap(8));
            graph.objects.reserve(cap(32));
        }
        Vm {
            rd,
            graph,
            stack: Vec::with_capacity(64),
            marks: Vec::with_capacity(16),
            memo,
            proto: 0,
            opts,
            hooks,
            alloc: 0,
            pos: 0,
            objects: Vec::new(),
            empty_tuple: None,
            nested: Vec::new(),
            base_input_len,
        }
    }

    /// Runs up to and including STOP.
    pub(crate) fn run(mut self) -> Result<Loaded<'de>> {
        // Every node costs about 36 bytes (the node and its offset): count them against
        // the allocation limit, which also keeps node ids far below u32::MAX.
        let max_nodes = (self.opts.limits.max_alloc / 36).min(u32::MAX as u64 - 2) as usize;
        loop {
            self.pos = self.rd.offset();
            if self.graph.nodes.len() > max_nodes {
                return Err(Error::limit(format!(
                    "the pickle creates more than {max_nodes} objects (Limits::max_alloc)"
                ))
                .at(self.pos, None));
            }
            let code = match self.rd.next_byte() {
                Ok(Some(c)) => c,
                Ok(None) => {
                    return Err(
                        Error::new(ErrorKind::Truncated, "Ran out of input").at(self.pos, None)
                    );
                }
                Err(e) => return Err(e.at(self.pos, None)),
            };
            // The opcodes that dominate real pickles run here, in the loop itself;
            // everything else goes through `step`.
            let result = match code {
                BINGET => self.rd.array::<1>().and_then(|[i]| {
                    let v = self.memo.get(i as u64)?;
                    self.stack.push(v);
                    self.binget_run()?;
                    Ok(true)
                }),
                LONG_BINGET => self.rd.array::<4>().and_then(|b| {
                    let v = self.memo.get(u32::from_le_bytes(b) as u64)?;
                    self.stack.push(v);
                    Ok(true)
                }),
                MEMOIZE => self.top().and_then(|top| {
                    let idx = self.memo.len() as u64;
                    self.memo.put(idx, top)?;
                    Ok(true)
                }),
                BINPUT => self.rd.array::<1>().and_then(|[i]| {
                    let top = self.top()?;
                    self.memo.put(i as u64, top)?;
                    Ok(true)
                }),
                BININT1 => self.rd.array::<1>().map(|[b]| {
                    self.stack.push(Packed::small_int(b as i32));
                    self.int_run();
                    true
                }),
                BININT2 => self.rd.array::<2>().map(|b| {
                    self.stack
                        .push(Packed::small_int(u16::from_le_bytes(b) as i32));
                    self.int_run();
                    true
                }),
                BININT => self.rd.array::<4>().map(|b| {
                    self.stack.push(Packed::small_int(i32::from_le_bytes(b)));
                    self.int_run();
                    true
                }),
                BINFLOAT => self.rd.array::<8>().map(|b| {
                    let f = self.graph.pack_float(f64::from_be_bytes(b));
                    self.stack.push(f);
                    true
                }),
                SHORT_BINUNICODE => self
                    .rd
                    .array::<1>()
                    .and_then(|[n]| self.push_unicode(n as u64).map(|_| true)),
                MARK => {
                    self.marks.push(self.stack.len());
                    Ok(true)
                }
                NONE => {
                    self.stack.push(Packed::NONE);
                    Ok(true)
                }
                NEWTRUE | NEWFALSE => {
                    self.stack.push(Packed::bool(code == NEWTRUE));
                    Ok(true)
                }
                _ => self.step(code),
            };
            match result {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let name = opcode::lookup(code).map(|o| o.name);
                    return Err(e.at(self.pos, name));
                }
            }
        }
        let end = self.rd.offset();
        self.graph.input_len = self.base_input_len + end;
        Ok(Loaded {
            end,
            graph: self.graph,
            objects: self.objects,
        })
    }

    /// Decodes the run of int opcodes that follows (BININT1, BININT2, BININT, and LONG1
    /// of up to 8 bytes: the elements of a list of ints) straight from the bytes at hand,
    /// without going through the dispatch of the main loop for each. Stops at anything
    /// else, and 10 bytes before the end of what is buffered (the most one step reads);
    /// the main loop takes over from there. Nothing in a run can fail.
    ///
    /// The opcodes of such a list come in no predictable order, so the decoding is
    /// table-driven, with selects rather than a branch per kind (a mispredicted branch
    /// per element was most of the time this workload took).
    #[inline(always)]
    fn int_run(&mut self) {
        let buf = self.rd.buffered();
        let mut i = 0;
        while let Some(win) = buf.get(i..i + 10) {
            let kind = INT_KIND[win[0] as usize];
            if kind == 0 {
                break;
            }
            let long = kind == 4;
            let n = if long {
                win[1] as u32
            } else {
                INT_LEN[kind as usize]
            };
            if n > 8 {
                break;
            }
            let mut w1 = [0u8; 8];
            w1.copy_from_slice(&win[1..9]);
            let mut w2 = [0u8; 8];
            w2.copy_from_slice(&win[2..10]);
            let w = if long {
                u64::from_le_bytes(w2)
            } else {
                u64::from_le_bytes(w1)
            };
            // Keep the low `n` bytes, sign-extended for BININT and LONG1.
            let shift = (64 - 8 * n) & 63;
            let signed = ((w << shift) as i64) >> shift;
            let unsigned = ((w << shift) >> shift) as i64;
            let v = if kind >= 3 { signed } else { unsigned };
            let v = if n == 0 { 0 } else { v };
            i += 1 + long as usize + n as usize;
            let p = self.graph.pack_int(v);
            self.stack.push(p);
        }
        self.rd.consume(i);
    }

    /// The run of BINGETs that follows (the elements of `[x] * n`), straight from the
    /// bytes at hand, as [`int_run`](Self::int_run) does for ints. A missing memo entry
    /// is reported at the offset of its own BINGET.
    #[inline(always)]
    fn binget_run(&mut self) -> Result<()> {
        let buf = self.rd.buffered();
        let mut i = 0;
        while let Some(&[BINGET, index]) = buf.get(i..i + 2) {
            match self.memo.get(index as u64) {
                Ok(v) => self.stack.push(v),
                Err(e) => {
                    self.rd.consume(i);
                    self.pos = self.rd.offset();
                    return Err(e);
                }
            }
            i += 2;
        }
        self.rd.consume(i);
        Ok(())
    }

    // ----- stack helpers -------------------------------------------------------------

    #[inline(always)]
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    #[inline(always)]
    fn pop(&mut self) -> Result<Packed> {
        if self.stack.len() > self.fence() {
            Ok(self.stack.pop().unwrap_or(Packed::NONE))
        } else {
            Err(Error::stack_underflow())
        }
    }

    #[inline(always)]
    fn top(&self) -> Result<Packed> {
        if self.stack.len() > self.fence() {
            Ok(*self.stack.last().unwrap_or(&Packed::NONE))
        } else {
            Err(Error::stack_underflow())
        }
    }

    /// Pops the last mark; returns the stack position it marked.
    #[inline]
    fn pop_mark(&mut self) -> Result<usize> {
        self.marks.pop().ok_or_else(Error::no_mark)
    }

    #[inline]
    fn charge(&mut self, bytes: u64) -> Result<()> {
        self.alloc = self.alloc.saturating_add(bytes);
        if self.alloc > self.opts.limits.max_alloc {
            return Err(Error::limit(format!(
                "the pickle needs more than {} bytes (Limits::max_alloc)",
                self.opts.limits.max_alloc
            )));
        }
        Ok(())
    }

    #[inline(always)]
    fn node(&mut self, node: Node<'de>) -> Packed {
        Packed::node(self.graph.push(node, self.pos))
    }

    #[inline(always)]
    fn push_node(&mut self, node: Node<'de>) {
        let s = self.node(node);
        self.stack.push(s);
    }

    fn push_text(&mut self, text: Text<'de>) -> Result<()> {
        match text {
            Text::Str(s) => self.push_node(Node::Str(s)),
            Text::Codepoints(c) => {
                self.charge(c.len() as u64 * 4)?;
                self.push_node(Node::StrCodepoints(c.into_boxed_slice()))
            }
        }
        Ok(())
    }

    /// BINUNICODE and friends: `n` bytes of UTF-8. Valid text becomes an inline string
    /// (a range of the input, or of the graph's own text buffer for stream input); text
    /// with encoded lone surrogates becomes a node.
    #[inline(always)]
    fn push_unicode(&mut self, n: u64) -> Result<()> {
        match self.read_len(n)? {
            Cow::Borrowed(bytes) => match std::str::from_utf8(bytes) {
                Ok(s) => {
                    let slot = self.graph.push_input_str(s, self.pos);
                    self.stack.push(slot);
                    Ok(())
                }
                Err(_) => {
                    let t = text::decode_utf8(Cow::Borrowed(bytes))?;
                    self.push_text(t)
                }
            },
            Cow::Owned(v) => match String::from_utf8(v) {
                Ok(s) => {
                    let slot = self.graph.push_owned_str(&s, self.pos);
                    self.stack.push(slot);
                    Ok(())
                }
                Err(e) => {
                    let t = text::decode_utf8(Cow::Owned(e.into_bytes()))?;
                    self.push_text(t)
                }
            },
        }
    }

    fn push_int(&mut self, i: text::Int) {
        match i {
            text::Int::Small(v) => {
                let p = self.graph.pack_int(v);
                self.stack.push(p)
            }
            text::Int::Big(b) => self.push_node(Node::BigInt(Box::new(b))),
        }
    }

    fn push_py2_str(&mut self, bytes: Cow<'de, [u8]>) -> Result<()> {
        let copy = bytes.clone();
        match text::decode_py2_str(bytes, self.opts.encoding, self.opts.errors)? {
            Some(t) => self.push_text(t),
            None => {
                self.push_node(Node::Bytes(copy));
                Ok(())
            }
        }
    }

    fn read_len(&mut self, n: u64) -> Result<Cow<'de, [u8]>> {
        if let Some(rest) = self.rd.remaining() {
            if n > rest {
                return Err(Error::truncated());
            }
        }
        if n > isize::MAX as u64 {
            return Err(Error::limit(format!(
                "a length of {n} bytes exceeds this system's maximum size"
            )));
        }
        if self.alloc.saturating_add(n) > self.opts.limits.max_alloc {
            return Err(Error::limit(format!(
                "a length of {n} bytes exceeds what Limits::max_alloc ({} bytes) leaves",
                self.opts.limits.max_alloc
            )));
        }
        self.charge(n)?;
        self.rd.bytes(n)
    }

    fn line(&mut self) -> Result<Vec<u8>> {
        Ok(self.rd.line(MAX_LINE)?.as_slice().to_vec())
    }

    fn line_str(&mut self, what: &str) -> Result<String> {
        let l = self.line()?;
        String::from_utf8(l).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!(
                    "the {what} is not valid UTF-8 at position {}",
                    e.utf8_error().valid_up_to()
                ),
            )
        })
    }

    fn memo_index(&mut self, what: &str) -> Result<u64> {
        let l = self.line()?;
        // Leading zeros are allowed (as in Python), so the digit cap is CPython's own
        // str-to-int limit; any longer line is out of range all the same (a memo index is
        // not an int value, so Limits::max_int_digits has nothing to do with it).
        let out_of_range = || Error::bad_arg(format!("{what} argument out of range"));
        match text::parse_int(&l, 4300, what) {
            Ok(text::Int::Small(v)) if v >= 0 => Ok(v as u64),
            Ok(text::Int::Small(_)) => Err(Error::bad_arg(format!("negative {what} argument"))),
            Ok(text::Int::Big(_)) => Err(out_of_range()),
            Err(e) if e.kind() == ErrorKind::Limit => Err(out_of_range()),
            Err(e) => Err(e),
        }
    }

    fn slot_node(&self, slot: Packed) -> Option<&Node<'de>> {
        slot.node_id().map(|id| self.graph.node(id))
    }

    fn type_name(&self, slot: Packed) -> &'static str {
        self.graph.value(slot).type_name()
    }

    /// The elements of the tuple `slot`: its span, shared (tuples and arguments are never
    /// appended to).
    fn tuple_items(&self, slot: Packed, what: &str) -> Result<Items> {
        match self.slot_node(slot) {
            Some(Node::Tuple(t)) => Ok(*t),
            _ => Err(Error::stack(format!(
                "{what}: argument list must be a tuple, not {}",
                self.type_name(slot)
            ))),
        }
    }

    fn object(
        &mut self,
        construct: Construct,
        callable: Packed,
        args: Items,
        kwargs: Option<Packed>,
    ) {
        self.objects.push(NodeId(self.graph.nodes.len() as u32));
        let id = self.graph.add_object(Object {
            construct,
            callable,
            args,
            kwargs,
            state: None,
            items: Items::EMPTY,
            dictitems: Pairs::EMPTY,
        });
        self.push_node(Node::Object(id));
    }

    fn global(&mut self, module: Cow<'de, str>, name: Cow<'de, str>) -> Result<Packed> {
        let (mut module, mut name) = (module, name);
        if self.proto < 3 && self.opts.fix_imports {
            if let Some((m, n)) = compat::rename(&module, &name) {
                module = Cow::Borrowed(m);
                if let Some(n) = n {
                    name = Cow::Borrowed(n);
                }
            }
        }
        if let Some(find_class) = self.hooks.find_class.as_mut() {
            match find_class(&module, &name)? {
                ClassAction::Keep => {}
                ClassAction::Rename { module: m, name: n } => {
                    module = Cow::Owned(m);
                    name = Cow::Owned(n);
                }
                ClassAction::Replace(lit) => return self.literal(lit),
                ClassAction::Reject(reason) => {
                    return Err(Error::new(
                        ErrorKind::Rejected,
                        format!("global '{module}.{name}' is forbidden: {reason}"),
                    ))
                }
            }
        }
        Ok(self.node(Node::Global(Box::new(Global { module, name }))))
    }

    fn literal(&mut self, lit: Literal) -> Result<Packed> {
        // Iterative on purpose: a hook's literal could be deep.
        enum Work {
            Lit(Literal),
            Build { kind: u8, n: usize },
        }
        let mut work = vec![Work::Lit(lit)];
        let mut out: Vec<Packed> = Vec::new();
        while let Some(w) = work.pop() {
            match w {
                Work::Lit(l) => match l {
                    Literal::None => out.push(Packed::NONE),
                    Literal::Bool(b) => out.push(Packed::bool(b)),
                    Literal::Int(i) => out.push(self.graph.pack_int(i)),
                    Literal::Float(f) => out.push(self.graph.pack_float(f)),
                    Literal::BigInt(b) => {
                        let s = self.node(Node::BigInt(Box::new(b)));
                        out.push(s)
                    }
                    Literal::Str(s) => {
                        let s = self.node(Node::Str(Cow::Owned(s)));
                        out.push(s)
                    }
                    Literal::Bytes(b) => {
                        let s = self.node(Node::Bytes(Cow::Owned(b)));
                        out.push(s)
                    }
                    Literal::Global { module, name } => {
                        let s = self.node(Node::Global(Box::new(Global {
                            module: Cow::Owned(module),
                            name: Cow::Owned(name),
                        })));
                        out.push(s)
                    }
                    Literal::List(items) => {
                        work.push(Work::Build {
                            kind: 0,
                            n: items.len(),
                        });
                        work.extend(items.into_iter().rev().map(Work::Lit));
                    }
                    Literal::Tuple(items) => {
                        work.push(Work::Build {
                            kind: 1,
                            n: items.len(),
                        });
                        work.extend(items.into_iter().rev().map(Work::Lit));
                    }
                    Literal::Dict(pairs) => {
                        work.push(Work::Build {
                            kind: 2,
                            n: pairs.len() * 2,
                        });
                        for (k, v) in pairs.into_iter().rev() {
                            work.push(Work::Lit(v));
                            work.push(Work::Lit(k));
                        }
                    }
                },
                Work::Build { kind, n } => {
                    let from = out.len() - n;
                    let node = match kind {
                        0 => Node::List(self.new_items(&out[from..])?),
                        1 => Node::Tuple(self.new_items(&out[from..])?),
                        _ => Node::Dict(self.new_pairs(&out[from..])?),
                    };
                    out.truncate(from);
                    let s = self.node(node);
                    out.push(s);
                }
            }
        }
        Ok(out.pop().unwrap_or(Packed::NONE))
    }

    fn persistent(&mut self, pid: Packed) -> Result<()> {
        if let Some(load) = self.hooks.persistent_load.as_mut() {
            let lit = load(Value::new(&self.graph, self.graph.slot(pid)))?;
            let s = self.literal(lit)?;
            self.stack.push(s);
        } else {
            self.push_node(Node::PersId(pid));
        }
        Ok(())
    }

    /// A new span holding `src`.
    fn new_items(&mut self, src: &[Packed]) -> Result<Items> {
        self.graph.try_items(src.iter().copied()).map_err(too_long)
    }

    /// A new span holding the pairs `src[0], src[1]`, `src[2], src[3]`, ….
    fn new_pairs(&mut self, src: &[Packed]) -> Result<Pairs> {
        let pairs = src.chunks_exact(2).map(|c| (c[0], c[1]));
        self.graph.try_pairs(pairs).map_err(too_long)
    }

    /// SETITEM(S): moves the pairs `stack[from..]` into the dict or object at `target`.
    fn set_items_from(&mut self, target: Packed, from: usize, what: &str) -> Result<()> {
        let n = self.stack.len() - from;
        if n == 0 {
            return Ok(());
        }
        if n % 2 != 0 {
            return Err(Error::stack(format!("odd number of items for {what}")));
        }
        self.charge(n as u64 * 8)?;
        let pairs = self.stack[from..].chunks_exact(2).map(|c| (c[0], c[1]));
        let Graph {
            nodes,
            objects,
            pairs: store,
            ..
        } = &mut self.graph;
        let span = match target.node_id().map(|id| &mut nodes[id.index()]) {
            Some(Node::Dict(d)) => d,
            Some(Node::Object(o)) => &mut objects[o.index()].dictitems,
            _ => {
                return Err(Error::stack(format!(
                    "{what} on a {}: it is not a dict",
                    self.type_name(target)
                )))
            }
        };
        store_append(store, span, pairs).map_err(too_long)?;
        self.stack.truncate(from);
        Ok(())
    }

    /// APPEND(S)/ADDITEMS: moves `stack[from..]` into the list, set or object at `target`.
    fn append_items_from(&mut self, target: Packed, from: usize, what: &str) -> Result<()> {
        let n = self.stack.len() - from;
        if n == 0 {
            return Ok(());
        }
        self.charge(n as u64 * 8)?;
        let items = self.stack[from..].iter().copied();
        let Graph {
            nodes,
            objects,
            items: store,
            ..
        } = &mut self.graph;
        let span = match (target.node_id().map(|id| &mut nodes[id.index()]), what) {
            (Some(Node::List(l)), "APPEND" | "APPENDS") => l,
            (Some(Node::Set(l)), "ADDITEMS") => l,
            (Some(Node::Object(o)), _) => &mut objects[o.index()].items,
            _ => {
                let kind = if what == "ADDITEMS" { "set" } else { "list" };
                return Err(Error::stack(format!(
                    "{what} on a {}: it is not a {kind}",
                    self.type_name(target)
                )));
            }
        };
        store_append(store, span, items).map_err(too_long)?;
        self.stack.truncate(from);
        Ok(())
    }

    /// The target below the last mark for APPENDS/SETITEMS/ADDITEMS, and the mark.
    fn mark_target(&mut self) -> Result<(Packed, usize)> {
        let m = self.pop_mark()?;
        if m == 0 || m > self.stack.len() || m <= self.fence() {
            return Err(Error::stack_underflow());
        }
        Ok((self.stack[m - 1], m))
    }

    /// Asks the build hook what follows the BUILD of `inst` and does it: reads the data
    /// block and puts the value made of it in place of `inst`, or starts a nested pickle.
    #[cold]
    #[inline(never)]
    fn after_build(&mut self, inst: Packed) -> Result<()> {
        let at = self.rd.offset();
        let Some(hook) = self.hooks.build.as_mut() else {
            return Ok(());
        };
        let value = Value::new(&self.graph, self.graph.slot(inst));
        match hook.after_build(value, at, self.opts)? {
            AfterBuild::Nothing => {}
            AfterBuild::Replace(e) => self.replace_top(e),
            AfterBuild::Raw {
                aligned,
                len,
                what,
                finish,
            } => {
                // What the input holds from the block's start: known for slices,
                // counted as a stream delivers.
                let avail = self.rd.remaining();
                let ends = |vm: &Self, need: u64, e: Error| -> Error {
                    if e.kind() != ErrorKind::Truncated {
                        return e;
                    }
                    let got = avail.unwrap_or_else(|| vm.rd.offset().saturating_sub(at));
                    Error::new(
                        ErrorKind::Truncated,
                        format!("{what} needs {need} bytes, the file ends after {got}"),
                    )
                    .at(at, None)
                };
                let mut need = len;
                if aligned {
                    need = len.saturating_add(1);
                    let [pad] = self.rd.array::<1>().map_err(|e| ends(self, need, e))?;
                    need = need.saturating_add(pad as u64);
                    if avail.is_some_and(|r| r < need) {
                        return Err(ends(self, need, Error::truncated()));
                    }
                    self.read_len(pad as u64).map_err(|e| ends(self, need, e))?;
                }
                let offset = self.rd.offset();
                if avail.is_some_and(|r| r < need) {
                    return Err(ends(self, need, Error::truncated()));
                }
                let bytes = self.read_len(len).map_err(|e| ends(self, need, e))?;
                let data = RawData {
                    bytes,
                    offset,
                    start: at,
                };
                if let Some(e) = finish(data).map_err(|e| e.at(offset, None))? {
                    self.replace_top(e);
                }
            }
            AfterBuild::Pickle { replace } => {
                let max_memo = self.opts.limits.max_memo;
                self.nested.push(Suspended {
                    stack: std::mem::take(&mut self.stack),
                    marks: std::mem::take(&mut self.marks),
                    memo: std::mem::replace(&mut self.memo, Memo::new(max_memo)),
                    proto: std::mem::take(&mut self.proto),
                    replace,
                });
            }
        }
        Ok(())
    }

    /// Replaces the top of the stack (the object a BUILD completed) with `e`.
    fn replace_top(&mut self, e: crate::value::Emulated) {
        self.stack.pop();
        self.push_node(Node::Emulated(Box::new(e)));
    }

    /// Executes one opcode; `Ok(false)` after STOP.
    #[inline]
    fn step(&mut self, code: u8) -> Result<bool> {
        match code {
            BININT1 => {
                let [b] = self.rd.array::<1>()?;
                self.stack.push(Packed::small_int(b as i32));
            }
            BININT2 => {
                let b = self.rd.array::<2>()?;
                self.stack
                    .push(Packed::small_int(u16::from_le_bytes(b) as i32));
            }
            BININT => {
                let b = self.rd.array::<4>()?;
                self.stack.push(Packed::small_int(i32::from_le_bytes(b)));
            }
            BINFLOAT => {
                let b = self.rd.array::<8>()?;
                let f = self.graph.pack_float(f64::from_be_bytes(b));
                self.stack.push(f);
            }
            SHORT_BINUNICODE => {
                let [n] = self.rd.array::<1>()?;
                self.push_unicode(n as u64)?;
            }
            BINUNICODE => {
                let n = u32::from_le_bytes(self.rd.array::<4>()?);
                self.push_unicode(n as u64)?;
            }
            BINUNICODE8 => {
                let n = u64::from_le_bytes(self.rd.array::<8>()?);
                self.push_unicode(n)?;
            }
            MEMOIZE => {
                let top = self.top()?;
                let idx = self.memo.len() as u64;
                self.memo.put(idx, top)?;
            }
            BINPUT => {
                let [i] = self.rd.array::<1>()?;
                let top = self.top()?;
                self.memo.put(i as u64, top)?;
            }
            LONG_BINPUT => {
                let i = u32::from_le_bytes(self.rd.array::<4>()?);
                let top = self.top()?;
                self.memo.put(i as u64, top)?;
            }
            BINGET => {
                let [i] = self.rd.array::<1>()?;
                let v = self.memo.get(i as u64)?;
                self.stack.push(v);
            }
            LONG_BINGET => {
                let i = u32::from_le_bytes(self.rd.array::<4>()?);
                let v = self.memo.get(i as u64)?;
                self.stack.push(v);
            }
            MARK => self.marks.push(self.stack.len()),
            EMPTY_LIST => self.push_node(Node::List(Items::EMPTY)),
            EMPTY_DICT => self.push_node(Node::Dict(Pairs::EMPTY)),
            EMPTY_TUPLE => {
                // One shared node: the empty tuple is immutable and a singleton in
                // CPython too, so its identity carries nothing.
                let t = match self.empty_tuple {
                    Some(t) => t,
                    None => {
                        let t = self.node(Node::Tuple(Items::EMPTY));
                        self.empty_tuple = Some(t);
                        t
                    }
                };
                self.stack.push(t);
            }
            EMPTY_SET => self.push_node(Node::Set(Items::EMPTY)),
            APPEND => {
                if self.stack.len() < self.fence() + 2 {
                    return Err(Error::stack_underflow());
                }
                let from = self.stack.len() - 1;
                let target = self.stack[from - 1];
                self.append_items_from(target, from, "APPEND")?;
            }
            APPENDS => {
                let (target, m) = self.mark_target()?;
                self.append_items_from(target, m, "APPENDS")?;
            }
            SETITEM => {
                if self.stack.len() < self.fence() + 3 {
                    return Err(Error::stack_underflow());
                }
                let from = self.stack.len() - 2;
                let target = self.stack[from - 1];
                self.set_items_from(target, from, "SETITEM")?;
            }
            SETITEMS => {
                let (target, m) = self.mark_target()?;
                self.set_items_from(target, m, "SETITEMS")?;
            }
            TUPLE1 => {
                let a = self.pop()?;
                let t = self.new_items(&[a])?;
                self.push_node(Node::Tuple(t));
            }
            TUPLE2 => {
                let b = self.pop()?;
                let a = self.pop()?;
                let t = self.new_items(&[a, b])?;
                self.push_node(Node::Tuple(t));
            }
            TUPLE3 => {
                let c = self.pop()?;
                let b = self.pop()?;
                let a = self.pop()?;
                let t = self.new_items(&[a, b, c])?;
                self.push_node(Node::Tuple(t));
            }
            TUPLE | LIST | FROZENSET | DICT => {
                let m = self.pop_mark()?;
                let m = m.min(self.stack.len());
                let n = self.stack.len() - m;
                self.charge(n as u64 * 8)?;
                let stack = std::mem::take(&mut self.stack);
                let items = &stack[m..];
                let node = match code {
                    TUPLE => self.new_items(items).map(Node::Tuple),
                    LIST => self.new_items(items).map(Node::List),
                    FROZENSET => self.new_items(items).map(Node::FrozenSet),
                    _ if n % 2 != 0 => Err(Error::stack("odd number of items for DICT")),
                    _ => self.new_pairs(items).map(Node::Dict),
                };
                self.stack = stack;
                self.stack.truncate(m);
                self.push_node(node?);
            }
            NONE => self.stack.push(Packed::NONE),
            NEWTRUE => self.stack.push(Packed::TRUE),
            NEWFALSE => self.stack.push(Packed::FALSE),
            SHORT_BINBYTES => {
                let [n] = self.rd.array::<1>()?;
                let b = self.read_len(n as u64)?;
                self.push_node(Node::Bytes(b));
            }
            BINBYTES => {
                let n = u32::from_le_bytes(self.rd.array::<4>()?);
                let b = self.read_len(n as u64)?;
                self.push_node(Node::Bytes(b));
            }
            LONG1 | LONG4 => {
                let n = if code == LONG1 {
                    self.rd.array::<1>()?[0] as i64
                } else {
                    i32::from_le_bytes(self.rd.array::<4>()?) as i64
                };
                if n < 0 {
                    return Err(Error::bad_arg("LONG pickle has negative byte count"));
                }
                let b = self.read_len(n as u64)?;
                if b.len() <= 8 {
                    let mut buf = if b.last().is_some_and(|&x| x & 0x80 != 0) {
                        [0xffu8; 8]
                    } else {
                        [0u8; 8]
                    };
                    buf[..b.len()].copy_from_slice(&b);
                    let p = self.graph.pack_int(i64::from_le_bytes(buf));
                    self.stack.push(p);
                } else {
                    let big = BigInt::from_signed_bytes_le(&b);
                    match i64::try_from(&big) {
                        Ok(v) => {
                            let p = self.graph.pack_int(v);
                            self.stack.push(p)
                        }
                        Err(_) => self.push_node(Node::BigInt(Box::new(big))),
                    }
                }
            }
            STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                let text = |p: Packed| -> Option<Cow<'de, str>> {
                    let slot = self.graph.slot(p);
                    match self.graph.borrowed_str(slot) {
                        Some(s) => Some(Cow::Borrowed(s)),
                        None => self.graph.str_of(slot).map(|s| Cow::Owned(s.to_string())),
                    }
                };
                let (Some(m), Some(n)) = (text(module), text(name)) else {
                    return Err(Error::stack("STACK_GLOBAL requires str"));
                };
                let g = self.global(m, n)?;
                self.stack.push(g);
            }
            REDUCE => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let args = self.tuple_items(args, "REDUCE")?;
                self.object(Construct::Call, callable, args, None);
            }
            NEWOBJ => {
                let args = self.pop()?;
                let cls = self.pop()?;
                let args = self.tuple_items(args, "NEWOBJ")?;
                self.object(Construct::New, cls, args, None);
            }
            BUILD => {
                let state = self.pop()?;
                let inst = self.top()?;
                let graph = &mut self.graph;
                match inst.node_id().map(|id| &graph.nodes[id.index()]) {
                    Some(Node::Object(o)) => graph.objects[o.index()].state = Some(state),
                    _ => {
                        return Err(Error::stack(format!(
                            "BUILD on a {}: only objects take state",
                            self.type_name(inst)
                        )))
                    }
                }
                if self.hooks.build.is_some() && self.nested.is_empty() {
                    self.after_build(inst)?;
                }
            }
            FRAME => {
                let n = u64::from_le_bytes(self.rd.array::<8>()?);
                if let Some(rest) = self.rd.remaining() {
                    if n > rest {
                        return Err(Error::new(
                            ErrorKind::Truncated,
                            format!(
                                "pickle data was truncated: a FRAME of {n} bytes with {rest} bytes left"
                            ),
                        ));
                    }
                }
            }
            STOP => {
                let v = self.pop()?;
                if let Some(outer) = self.nested.pop() {
                    // The end of a nested pickle: the outer one resumes.
                    self.stack = outer.stack;
                    self.marks = outer.marks;
                    self.memo = outer.memo;
                    self.proto = outer.proto;
                    if outer.replace {
                        self.stack.pop();
                        self.stack.push(v);
                    }
                    return Ok(true);
                }
                self.graph.root = self.graph.slot(v);
                return Ok(false);
            }
            _ => return self.step_rare(code),
        }
        Ok(true)
    }

    /// The opcodes that well-formed modern pickles use rarely (protocol-0 text, Python 2
    /// strings, hooks, buffers), kept out of the hot loop's stack frame.
    #[cold]
    #[inline(never)]
    fn step_rare(&mut self, code: u8) -> Result<bool> {
        match code {
            PUT => {
                let i = self.memo_index("PUT")?;
                let top = self.top()?;
                self.memo.put(i, top)?;
            }
            GET => {
                let i = self.memo_index("GET")?;
                let v = self.memo.get(i)?;
                self.stack.push(v);
            }
            ADDITEMS => {
                let (target, m) = self.mark_target()?;
                self.append_items_from(target, m, "ADDITEMS")?;
            }
            BINBYTES8 => {
                let n = u64::from_le_bytes(self.rd.array::<8>()?);
                let b = self.read_len(n)?;
                self.push_node(Node::Bytes(b));
            }
            BYTEARRAY8 => {
                let n = u64::from_le_bytes(self.rd.array::<8>()?);
                let b = self.read_len(n)?;
                self.push_node(Node::ByteArray(b));
            }
            SHORT_BINSTRING => {
                let [n] = self.rd.array::<1>()?;
                let b = self.read_len(n as u64)?;
                self.push_py2_str(b)?;
            }
            BINSTRING => {
                let n = i32::from_le_bytes(self.rd.array::<4>()?);
                if n < 0 {
                    return Err(Error::bad_arg("BINSTRING pickle has negative byte count"));
                }
                let b = self.read_len(n as u64)?;
                self.push_py2_str(b)?;
            }
            STRING => {
                let l = self.line()?;
                let bytes = text::decode_string_literal(&l)?;
                self.charge(bytes.len() as u64)?;
                self.push_py2_str(Cow::Owned(bytes))?;
            }
            UNICODE => {
                let l = self.line()?;
                self.charge(l.len() as u64)?;
                let t = text::decode_raw_unicode_escape(&l)?;
                self.push_text(t)?;
            }
            INT => {
                let l = self.line()?;
                match l.as_slice() {
                    b"00" => self.stack.push(Packed::FALSE),
                    b"01" => self.stack.push(Packed::TRUE),
                    _ => {
                        let i = text::parse_int(
                            &l,
                            self.opts.limits.max_int_digits,
                            "int() with base 10",
                        )?;
                        self.push_int(i);
                    }
                }
            }
            LONG => {
                let mut l = self.line()?;
                if l.last() == Some(&b'L') {
                    l.pop();
                }
                let i = text::parse_int(&l, self.opts.limits.max_int_digits, "int() with base 10")?;
                self.push_int(i);
            }
            FLOAT => {
                let l = self.line()?;
                let f = text::parse_float(&l)?;
                let p = self.graph.pack_float(f);
                self.stack.push(p);
            }
            POP => {
                if self.stack.len() > self.fence() {
                    self.stack.pop();
                } else if self.marks.pop().is_none() {
                    return Err(Error::stack_underflow());
                }
            }
            POP_MARK => {
                let m = self.pop_mark()?;
                self.stack.truncate(m);
            }
            DUP => {
                let t = self.top()?;
                self.stack.push(t);
            }
            GLOBAL | INST => {
                let module = self.line_str("module name")?;
                let name = self.line_str("class name")?;
                let g = self.global(Cow::Owned(module), Cow::Owned(name))?;
                if code == GLOBAL {
                    self.stack.push(g);
                } else {
                    let m = self.pop_mark()?;
                    let m = m.min(self.stack.len());
                    let stack = std::mem::take(&mut self.stack);
                    let args = self.new_items(&stack[m..]);
                    self.stack = stack;
                    self.stack.truncate(m);
                    self.object(Construct::Inst, g, args?, None);
                }
            }
            OBJ => {
                let m = self.pop_mark()?;
                let m = m.min(self.stack.len());
                if m == self.stack.len() {
                    return Err(Error::stack_underflow());
                }
                let cls = self.stack[m];
                let stack = std::mem::take(&mut self.stack);
                let args = self.new_items(&stack[m + 1..]);
                self.stack = stack;
                self.stack.truncate(m);
                self.object(Construct::Inst, cls, args?, None);
            }
            NEWOBJ_EX => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                let args = self.tuple_items(args, "NEWOBJ_EX")?;
                if !matches!(self.slot_node(kwargs), Some(Node::Dict(_))) {
                    return Err(Error::stack(format!(
                        "NEWOBJ_EX kwargs must be a dict, not {}",
                        self.type_name(kwargs)
                    )));
                }
                self.object(Construct::New, cls, args, Some(kwargs));
            }
            PERSID => {
                let l = self.line_str("persistent id")?;
                let pid = self.node(Node::Str(Cow::Owned(l)));
                self.persistent(pid)?;
            }
            BINPERSID => {
                let pid = self.pop()?;
                self.persistent(pid)?;
            }
            EXT1 | EXT2 | EXT4 => {
                let ext = match code {
                    EXT1 => self.rd.array::<1>()?[0] as i32,
                    EXT2 => u16::from_le_bytes(self.rd.array::<2>()?) as i32,
                    _ => i32::from_le_bytes(self.rd.array::<4>()?),
                };
                if ext <= 0 {
                    return Err(Error::bad_arg("EXT specifies code <= 0"));
                }
                let Some((m, n)) = self.hooks.extensions.get(&ext).cloned() else {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        format!("unregistered extension code {ext}"),
                    ));
                };
                let g = self.global(Cow::Owned(m), Cow::Owned(n))?;
                self.stack.push(g);
            }
            NEXT_BUFFER => {
                let Some(buffers) = self.hooks.buffers.as_mut() else {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        "pickle stream refers to out-of-band data but no *buffers* argument was given",
                    ));
                };
                let Some(buf) = buffers.pop_front() else {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        "not enough out-of-band buffers",
                    ));
                };
                self.push_node(Node::ByteArray(Cow::Owned(buf)));
            }
            READONLY_BUFFER => {
                let t = self.top()?;
                if let Some(id) = t.node_id() {
                    let node = self.graph.node_mut(id);
                    if let Node::ByteArray(b) = node {
                        let b = std::mem::take(b);
                        *node = Node::Bytes(b);
                    }
                }
            }
            PROTO => {
                let [p] = self.rd.array::<1>()?;
                if p > opcode::HIGHEST_PROTOCOL {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        format!("unsupported pickle protocol: {p}"),
                    ));
                }
                self.proto = p;
            }
            other => {
                return Err(Error::new(
                    ErrorKind::UnknownOpcode,
                    format!("invalid load key, '{}'.", py_char(other)),
                ))
            }
        }
        Ok(true)
    }
}

fn too_long(_: TooLong) -> Error {
    Error::limit(format!(
        "the pickle's containers hold more than {} elements in all (the graph's limit)",
        u32::MAX
    ))
}

/// For [`Vm::int_run`]: 1 for BININT1, 2 for BININT2, 3 for BININT (signed, 4 bytes),
/// 4 for LONG1 (signed, its length in the next byte), 0 for every other opcode.
const INT_KIND: [u8; 256] = {
    let mut t = [0u8; 256];
    t[BININT1 as usize] = 1;
    t[BININT2 as usize] = 2;
    t[BININT as usize] = 3;
    t[LONG1 as usize] = 4;
    t
};

/// The argument length of each [`INT_KIND`] with a fixed one.
static INT_LEN: [u32; 5] = [0, 1, 2, 4, 0];

/// How CPython's message shows an unknown opcode byte (`'\x00'`, `'{'`).
fn py_char(b: u8) -> String {
    if (0x20..0x7f).contains(&b) {
        (b as char).to_string()
    } else {
        format!("\\x{b:02x}")
    }
}
