//! The JSON rendering of an object graph, the contract of `pickle-vm json` (see
//! `JSON.md` in the repository): lossless, with shared nodes written once as
//! `{"id": N, "value": …}` and referenced as `{"ref": N}` after.
//!
//! The walk is iterative (an explicit work stack), so graphs of any depth render without
//! growing the call stack; its work is linear in the size of the graph.

use crate::error::{Error, ErrorKind, Result};
use crate::value::{Emulated, Graph, Items, Node, NodeId, Object, Packed, Pairs, Slot, SlotLike};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;

/// Deepest indentation of the pretty layout, in levels: deeper values are written at
/// this indentation (the JSON is the same; only the blanks differ from Python's
/// `json.dumps(indent=2)`, which could not render such depths anyway).
const MAX_INDENT: usize = 100;

/// Layout of the rendering.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonOptions {
    /// Indent with two spaces per level, as Python's `json.dumps(..., indent=2)`, up to
    /// 100 levels (deeper levels stay at that indentation, keeping the output linear).
    /// Off: compact, no spaces (the canonical form the fixtures use).
    pub pretty: bool,
    /// Print the elements of tensors and numpy arrays as nested JSON arrays (`"data"`)
    /// instead of their `"sha256"` (`pickle-vm json --data`).
    pub data: bool,
    /// Most bytes of strings, byte strings, big ints and global names to write, counting
    /// a value each time it is written; `None` means 64 × the pickle's size
    /// ([`Graph::input_len`]) + 64 MiB. Such values have no identity in the JSON (see
    /// `JSON.md`), so a large string memoized once and fetched many times is written in
    /// full at each reference: this budget turns that blow-up (a 100 KB string fetched
    /// 50,000 times from 200 KB of pickle is 5 GB of JSON) into an
    /// [`ErrorKind::Limit`] error. Shared containers are written once and never count twice.
    pub max_expanded_bytes: Option<u64>,
}

/// Renders the graph as JSON text (no trailing newline).
///
/// Fails only when the text would exceed the byte budget
/// ([`JsonOptions::max_expanded_bytes`]).
///
/// ```
/// use serde_pickle_vm::json::{to_string, JsonOptions};
/// // L = []; L.append(L), protocol 2
/// let graph = serde_pickle_vm::load_slice(b"\x80\x02]q\x00h\x00a.").unwrap();
/// assert_eq!(to_string(&graph, &JsonOptions::default())?, r#"{"id":0,"value":[{"ref":0}]}"#);
/// # Ok::<(), serde_pickle_vm::Error>(())
/// ```
pub fn to_string(graph: &Graph<'_>, options: &JsonOptions) -> Result<String> {
    let mut out = String::new();
    let mut r = Renderer::new(graph, options, &mut out);
    r.run();
    match r.error.take() {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Renders the graph as JSON text into `w`, flushing as it goes (memory stays small
/// whatever the size of the output).
///
/// Errors are the writer's ([`ErrorKind::Io`]) or the byte budget's
/// ([`JsonOptions::max_expanded_bytes`], [`ErrorKind::Limit`]); what was written before
/// the error stays written.
///
/// ```
/// use serde_pickle_vm::json::{to_writer, JsonOptions};
/// let graph = serde_pickle_vm::load_slice(b"\x80\x04\x8c\x02hi\x94.").unwrap();
/// let mut out = Vec::new();
/// to_writer(&graph, &JsonOptions::default(), &mut out)?;
/// assert_eq!(out, b"\"hi\"");
/// # Ok::<(), serde_pickle_vm::Error>(())
/// ```
pub fn to_writer<W: io::Write>(graph: &Graph<'_>, options: &JsonOptions, w: &mut W) -> Result<()> {
    // Render in chunks so huge graphs do not need one huge string.
    let mut r = Renderer::new(graph, options, String::with_capacity(1 << 16));
    loop {
        let done = r.run_some(1 << 14);
        w.write_all(r.out.as_bytes())
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write the JSON: {e}")))?;
        r.out.clear();
        if let Some(e) = r.error.take() {
            return Err(e);
        }
        if done {
            return Ok(());
        }
    }
}

/// Which nodes are reached more than once from the root (they get ids).
fn shared_nodes(graph: &Graph<'_>) -> Vec<bool> {
    let n = graph.nodes.len();
    let mut count = vec![0u8; n];
    let mut stack: Vec<NodeId> = Vec::new();
    let visit = |id: Option<NodeId>, count: &mut Vec<u8>, stack: &mut Vec<NodeId>| {
        if let Some(id) = id {
            if !tracked(graph.node(id)) {
                return;
            }
            let c = &mut count[id.index()];
            if *c == 0 {
                stack.push(id);
            }
            *c = c.saturating_add(1);
        }
    };
    let root = match graph.root {
        Slot::Node(id) => Some(id),
        _ => None,
    };
    visit(root, &mut count, &mut stack);
    while let Some(id) = stack.pop() {
        for_each_child(graph, graph.node(id), |p| {
            visit(p.node_id(), &mut count, &mut stack)
        });
    }
    count.into_iter().map(|c| c > 1).collect()
}

/// Scalars (None, bool, int, float, str, bytes, globals) have no identity in the JSON,
/// nor has the empty tuple (a singleton in CPython, so its identity means nothing).
fn tracked(node: &Node<'_>) -> bool {
    match node {
        Node::BigInt(_)
        | Node::Str(_)
        | Node::StrCodepoints(_)
        | Node::Bytes(_)
        | Node::Global(_) => false,
        Node::Tuple(t) => !t.is_empty(),
        _ => true,
    }
}

/// Calls `f` on every edge of `node`, in rendering order.
fn for_each_child(graph: &Graph<'_>, node: &Node<'_>, mut f: impl FnMut(Packed)) {
    match node {
        Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
            graph.items(*v).iter().for_each(|s| f(*s))
        }
        Node::Dict(d) => graph.pairs(*d).iter().for_each(|(k, v)| {
            f(*k);
            f(*v)
        }),
        Node::PersId(s) => f(*s),
        Node::Object(o) => {
            let o = graph.object(*o);
            f(o.callable);
            graph.items(o.args).iter().for_each(|s| f(*s));
            o.kwargs.into_iter().for_each(&mut f);
            o.state.into_iter().for_each(&mut f);
            graph.items(o.items).iter().for_each(|s| f(*s));
            graph.pairs(o.dictitems).iter().for_each(|(k, v)| {
                f(*k);
                f(*v)
            });
        }
        Node::Emulated(e) => match &**e {
            Emulated::Dict {
                items,
                default_factory,
                state,
                ..
            } => {
                graph.pairs(*items).iter().for_each(|(k, v)| {
                    f(*k);
                    f(*v)
                });
                default_factory.iter().for_each(|s| f(*s));
                state.iter().for_each(|s| f(*s));
            }
            Emulated::Range(p) | Emulated::Slice(p) => p.iter().for_each(|s| f(*s)),
            Emulated::ObjectArray { items, .. } => graph.items(*items).iter().for_each(|s| f(*s)),
            _ => {}
        },
        Node::BigInt(_)
        | Node::Str(_)
        | Node::StrCodepoints(_)
        | Node::Bytes(_)
        | Node::ByteArray(_)
        | Node::Global(_) => {}
    }
}

/// One step of the iterative walk.
enum Task<'g> {
    Value(Slot),
    /// Open `[` / `{` as a value of its own (after a separator or a key).
    Open(char),
    /// Open `[` / `{` as the body of a node whose value position is already begun.
    OpenRaw(char),
    /// `"key": "text"` inside an object.
    KeyText(&'static str, &'static str),
    /// Close `]` / `}`.
    Close(char),
    /// An object key, written before its value.
    Key(&'static str),
    /// `[k, v]` of a dict.
    Pair(Packed, Packed),
    /// The fields of a recorded construction.
    Object(&'g Object),
    /// `"key": <raw JSON text>` inside an object.
    KeyRaw(&'static str, String),
    /// A list of slots owned by the task (object arrays in C order).
    OwnedSeq(Vec<Packed>),
}

struct Renderer<'g, 'de, W> {
    graph: &'g Graph<'de>,
    pretty: bool,
    data: bool,
    shared: Vec<bool>,
    ids: HashMap<NodeId, usize>,
    tasks: Vec<Task<'g>>,
    /// Per open container: `true` until its first element is written.
    first: Vec<bool>,
    /// The next value follows a key, so it takes no separator.
    after_key: bool,
    /// Bytes of text scalars left to write (`JsonOptions::max_expanded_bytes`).
    bytes_left: u64,
    bytes_budget: u64,
    /// Set when the budget ran out; the walk stops.
    error: Option<Error>,
    out: W,
}

impl<'g, 'de, W: std::fmt::Write> Renderer<'g, 'de, W> {
    fn new(graph: &'g Graph<'de>, options: &JsonOptions, out: W) -> Self {
        let bytes_budget = options
            .max_expanded_bytes
            .unwrap_or_else(|| crate::options::default_expanded_bytes(graph.input_len()));
        Renderer {
            bytes_left: bytes_budget,
            bytes_budget,
            error: None,
            graph,
            pretty: options.pretty,
            data: options.data,
            shared: shared_nodes(graph),
            ids: HashMap::new(),
            tasks: vec![Task::Value(graph.root)],
            first: Vec::new(),
            after_key: false,
            out,
        }
    }

    fn run(&mut self) {
        while !self.run_some(usize::MAX) {}
    }

    /// Runs up to `budget` tasks; `true` when finished.
    fn run_some(&mut self, budget: usize) -> bool {
        for _ in 0..budget {
            let Some(task) = self.tasks.pop() else {
                return true;
            };
            self.task(task);
        }
        self.tasks.is_empty()
    }

    fn newline(&mut self) {
        if self.pretty {
            self.out.write_char('\n').ok();
            // Indentation stops growing at MAX_INDENT levels, so a hostile nesting (a
            // million levels from 2 MB of pickle) cannot make the output quadratic.
            for _ in 0..self.first.len().min(MAX_INDENT) {
                self.out.write_str("  ").ok();
            }
        }
    }

    /// Starts a value: a separator (and, pretty, a new line) unless it is the first
    /// element of its container or follows a key.
    fn begin_value(&mut self) {
        if std::mem::take(&mut self.after_key) {
            return;
        }
        if let Some(first) = self.first.last_mut() {
            if *first {
                *first = false;
            } else {
                self.out.write_char(',').ok();
            }
            self.newline();
        }
    }

    fn task(&mut self, task: Task<'g>) {
        match task {
            Task::Open(c) => {
                self.begin_value();
                self.out.write_char(c).ok();
                self.first.push(true);
            }
            Task::OpenRaw(c) => {
                self.out.write_char(c).ok();
                self.first.push(true);
            }
            Task::Close(c) => {
                let empty = self.first.pop().unwrap_or(true);
                if !empty {
                    self.newline();
                }
                self.out.write_char(c).ok();
            }
            Task::Key(k) => {
                self.begin_value();
                self.key_inline(k);
                self.after_key = true;
            }
            Task::KeyText(k, text) => {
                self.begin_value();
                self.key_inline(k);
                write_str(&mut self.out, text);
            }
            Task::Pair(k, v) => {
                self.tasks.push(Task::Close(']'));
                self.push_value(v);
                self.push_value(k);
                self.tasks.push(Task::Open('['));
            }
            Task::Value(slot) => {
                self.begin_value();
                self.value(slot);
            }
            Task::Object(o) => self.object_fields(o),
            Task::KeyRaw(k, text) => {
                self.begin_value();
                self.key_inline(k);
                self.out.write_str(&text).ok();
            }
            Task::OwnedSeq(items) => {
                self.tasks.push(Task::Close(']'));
                for s in items.into_iter().rev() {
                    self.push_value(s);
                }
                self.tasks.push(Task::Open('['));
            }
        }
    }

    fn push_value(&mut self, v: impl SlotLike) {
        let slot = v.unpacked(self.graph);
        self.tasks.push(Task::Value(slot));
    }

    /// Counts the text `slot` carries against the byte budget; when it runs out, records
    /// the error and stops the walk.
    fn charge(&mut self, slot: Slot) -> bool {
        let bytes = self.graph.scalar_bytes(slot);
        if bytes <= self.bytes_left {
            self.bytes_left -= bytes;
            return true;
        }
        self.error = Some(Error::new(
            ErrorKind::Limit,
            format!(
                "JSON expansion limit reached: more than {} bytes of strings and bytes to write \
                 (a string has no identity in the JSON, so a shared one is written at each \
                 reference); raise JsonOptions::max_expanded_bytes \
                 (pickle-vm json --max-expanded-bytes) to allow more",
                self.bytes_budget
            ),
        ));
        self.tasks.clear();
        false
    }

    /// Writes `slot`, pushing tasks for its contents.
    fn value(&mut self, slot: Slot) {
        if let Slot::Str(_) = slot {
            if !self.charge(slot) {
                return;
            }
        }
        let id = match slot {
            Slot::None => return self.raw("null"),
            Slot::Bool(b) => return self.raw(if b { "true" } else { "false" }),
            Slot::Int(i) => {
                write!(self.out, "{i}").ok();
                return;
            }
            Slot::Float(f) => return self.float(f),
            Slot::Str(_) => {
                let graph = self.graph;
                return write_str(&mut self.out, graph.str_of(slot).unwrap_or_default());
            }
            Slot::Node(id) => id,
        };
        if self.shared[id.index()] {
            if let Some(n) = self.ids.get(&id) {
                let n = *n;
                self.wrap_open();
                self.key_inline("ref");
                write!(self.out, "{n}").ok();
                self.wrap_close();
                return;
            }
            if !self.charge(slot) {
                return;
            }
            let n = self.ids.len();
            self.ids.insert(id, n);
            self.wrap_open();
            self.key_inline("id");
            write!(self.out, "{n}").ok();
            self.out.write_char(',').ok();
            self.newline();
            self.key_inline("value");
            // The node is the wrapper's value; close the wrapper after it.
            self.tasks.push(Task::Close('}'));
            self.node(id);
            return;
        }
        if !self.charge(slot) {
            return;
        }
        self.node(id);
    }

    fn raw(&mut self, s: &str) {
        self.out.write_str(s).ok();
    }

    /// `{` followed by one key written inline (for the small wrappers).
    fn wrap_open(&mut self) {
        self.out.write_char('{').ok();
        self.first.push(false);
        self.newline();
    }

    fn wrap_close(&mut self) {
        self.first.pop();
        self.newline();
        self.out.write_char('}').ok();
    }

    fn key_inline(&mut self, k: &str) {
        write_str(&mut self.out, k);
        self.out
            .write_str(if self.pretty { ": " } else { ":" })
            .ok();
    }

    /// `{"tag": <text>}` for a scalar-valued wrapper.
    fn tagged_text(&mut self, tag: &str, text: &str) {
        self.wrap_open();
        self.key_inline(tag);
        write_str(&mut self.out, text);
        self.wrap_close();
    }

    fn float(&mut self, f: f64) {
        self.wrap_open();
        self.key_inline("float");
        if f.is_nan() {
            write_str(&mut self.out, "nan");
        } else if f.is_infinite() {
            write_str(&mut self.out, if f > 0.0 { "inf" } else { "-inf" });
        } else {
            self.out.write_str(&crate::pyrepr::float_repr(f)).ok();
        }
        self.wrap_close();
    }

    /// Opens `{"tag": ` and schedules the closing `}`; the caller pushes the content,
    /// which starts as a value after a key.
    fn open_tagged(&mut self, tag: &'static str) {
        self.out.write_char('{').ok();
        self.first.push(false);
        self.newline();
        self.key_inline(tag);
        self.tasks.push(Task::Close('}'));
        self.after_key = true;
    }

    /// A JSON array of `items`: the node itself (`tag` None) or `{"tag": [...]}`.
    fn seq(&mut self, tag: Option<&'static str>, items: &'g [Packed]) {
        if let Some(tag) = tag {
            self.open_tagged(tag);
        }
        self.tasks.push(Task::Close(']'));
        for s in items.iter().rev() {
            self.push_value(*s);
        }
        self.tasks.push(if tag.is_some() {
            Task::Open('[')
        } else {
            Task::OpenRaw('[')
        });
    }

    /// The items of `o.items`, as the value of a key.
    fn items_after_key(&mut self, items: Items) {
        let items = self.graph.items(items);
        self.tasks.push(Task::Close(']'));
        for s in items.iter().rev() {
            self.push_value(*s);
        }
        self.tasks.push(Task::Open('['));
    }

    fn pairs(&mut self, pairs: Pairs) {
        let pairs = self.graph.pairs(pairs);
        self.tasks.push(Task::Close(']'));
        for (k, v) in pairs.iter().rev() {
            self.tasks.push(Task::Pair(*k, *v));
        }
        self.tasks.push(Task::Open('['));
    }

    fn node(&mut self, id: NodeId) {
        let graph = self.graph;
        match graph.node(id) {
            Node::BigInt(b) => {
                write!(self.out, "{b}").ok();
            }
            Node::Str(s) => write_str(&mut self.out, s),
            Node::StrCodepoints(cps) => {
                self.wrap_open();
                self.key_inline("str_codepoints");
                self.out.write_char('[').ok();
                self.first.push(true);
                for c in cps.iter() {
                    self.begin_value();
                    write!(self.out, "{c}").ok();
                }
                let empty = self.first.pop().unwrap_or(true);
                if !empty {
                    self.newline();
                }
                self.out.write_char(']').ok();
                self.wrap_close();
            }
            Node::Bytes(b) => self.tagged_text("bytes", &hex(b)),
            Node::ByteArray(b) => self.tagged_text("bytearray", &hex(b)),
            Node::List(v) => self.seq(None, graph.items(*v)),
            Node::Tuple(v) => self.seq(Some("tuple"), graph.items(*v)),
            Node::Set(v) => self.seq(Some("set"), graph.items(*v)),
            Node::FrozenSet(v) => self.seq(Some("frozenset"), graph.items(*v)),
            Node::Dict(d) => {
                self.open_tagged("dict");
                self.pairs(*d);
            }
            Node::Global(g) => {
                let text = format!("{}:{}", g.module, g.name);
                self.tagged_text("global", &text)
            }
            Node::PersId(s) => {
                self.open_tagged("persid");
                self.push_value(*s);
            }
            Node::Object(o) => {
                self.open_tagged("object");
                self.tasks.push(Task::Close('}'));
                self.tasks.push(Task::Object(graph.object(*o)));
                self.tasks.push(Task::Open('{'));
            }
            Node::Emulated(e) => self.emulated(e),
        }
    }

    fn object_fields(&mut self, o: &'g Object) {
        // Pushed in reverse: callable, args, kwargs, state, items, dictitems.
        if !o.dictitems.is_empty() {
            self.tasks.push(Task::Close(']'));
            for (k, v) in self.graph.pairs(o.dictitems).iter().rev() {
                self.tasks.push(Task::Pair(*k, *v));
            }
            self.tasks.push(Task::Open('['));
            self.tasks.push(Task::Key("dictitems"));
        }
        if !o.items.is_empty() {
            self.items_after_key(o.items);
            self.tasks.push(Task::Key("items"));
        }
        if let Some(s) = o.state {
            self.push_value(s);
            self.tasks.push(Task::Key("state"));
        }
        if let Some(k) = o.kwargs {
            self.push_value(k);
            self.tasks.push(Task::Key("kwargs"));
        }
        self.items_after_key(o.args);
        self.tasks.push(Task::Key("args"));
        self.push_value(o.callable);
        self.tasks.push(Task::Key(match o.construct {
            crate::value::Construct::Call => "call",
            crate::value::Construct::New => "new",
            crate::value::Construct::Inst => "inst",
        }));
    }

    fn emulated(&mut self, e: &'g Emulated) {
        match e {
            Emulated::Dict {
                class,
                items,
                default_factory,
                state,
            } => {
                self.tasks.push(Task::Close('}'));
                if let Some(s) = state {
                    self.push_value(*s);
                    self.tasks.push(Task::Key("state"));
                }
                if let Some(f) = default_factory {
                    self.push_value(*f);
                    self.tasks.push(Task::Key("default_factory"));
                }
                self.tasks.push(Task::KeyText("class", class.global_name()));
                self.pairs(*items);
                self.tasks.push(Task::Key("dict"));
                self.tasks.push(Task::OpenRaw('{'));
            }
            Emulated::Complex(re, im) => {
                self.open_tagged("complex");
                self.tasks.push(Task::Close(']'));
                self.push_value(Slot::Float(*im));
                self.push_value(Slot::Float(*re));
                self.tasks.push(Task::Open('['));
            }
            Emulated::Decimal(s) => self.tagged_text("decimal", s),
            Emulated::DateTime { .. } => {
                self.tagged_text("datetime", &e.isoformat().unwrap_or_default())
            }
            Emulated::Date(..) => self.tagged_text("date", &e.isoformat().unwrap_or_default()),
            Emulated::Time { .. } => self.tagged_text("time", &e.isoformat().unwrap_or_default()),
            Emulated::TimeDelta {
                days,
                seconds,
                microseconds,
            } => {
                self.wrap_open();
                self.key_inline("timedelta");
                self.out.write_char('{').ok();
                self.first.push(true);
                for (k, v) in [
                    ("days", days),
                    ("seconds", seconds),
                    ("microseconds", microseconds),
                ] {
                    self.begin_value();
                    self.key_inline(k);
                    write!(self.out, "{v}").ok();
                }
                self.first.pop();
                self.newline();
                self.out.write_char('}').ok();
                self.wrap_close();
            }
            Emulated::Uuid(u) => self.tagged_text("uuid", &Emulated::uuid_string(*u)),
            Emulated::Range(p) => self.seq(Some("range"), p),
            Emulated::Slice(p) => self.seq(Some("slice"), p),
            Emulated::Tensor(t) => {
                let t: &crate::array::Tensor = t;
                let fields = vec![
                    ("dtype", json_string(t.dtype().name())),
                    ("shape", json_usizes(t.shape())),
                    ("stride", json_usizes(t.strides())),
                    ("storage_offset", t.storage_offset().to_string()),
                    ("requires_grad", t.requires_grad().to_string()),
                    self.digest_or_data(
                        |s| t.sha256().map(|h| *s = json_string(&h)),
                        |s| t.write_json_data(s),
                    ),
                ];
                self.tagged_fields("tensor", fields, None);
            }
            Emulated::NdArray(a) => {
                let a: &crate::array::NdArray = a;
                let mut fields = vec![
                    ("dtype", json_string(a.descr())),
                    ("shape", json_usizes(a.shape())),
                    ("order", json_string(order_name(a.order()))),
                ];
                if a.dtype().is_record() {
                    fields.push(("fields", json_fields(a.dtype())));
                }
                fields.push(self.digest_or_data(
                    |s| a.sha256().map(|h| *s = json_string(&h)),
                    |s| write_array_data(s, a),
                ));
                self.tagged_fields("ndarray", fields, None);
            }
            Emulated::ObjectArray {
                shape,
                order,
                items,
            } => {
                let fields = vec![
                    ("dtype", json_string("|O")),
                    ("shape", json_usizes(shape)),
                    ("order", json_string(order_name(*order))),
                ];
                // numpy pickles an object array's elements in logical (C) order,
                // whatever its memory order.
                let items = self.graph.items(*items).to_vec();
                self.tagged_fields("ndarray", fields, Some(items));
            }
            Emulated::NpScalar(sc) => {
                // Numbers as the pickle's own floats and complexes render; the other
                // kinds as `--data` writes elements.
                let value = match sc.item() {
                    crate::array::Item::Float(f) => json_float(f),
                    crate::array::Item::Complex(re, im) => {
                        format!("{{\"complex\":[{},{}]}}", json_float(re), json_float(im))
                    }
                    item => {
                        let mut v = String::new();
                        write_item(&mut v, item);
                        v
                    }
                };
                let mut fields = vec![("dtype", json_string(sc.descr()))];
                if sc.dtype().is_record() {
                    fields.push(("fields", json_fields(sc.dtype())));
                }
                fields.push(("value", value));
                self.tagged_fields("npscalar", fields, None);
            }
        }
    }

    /// `("sha256", "<hex>")`, or with `--data` `("data", [...])`; a storage that cannot
    /// be read renders as `("error", "<message>")`.
    fn digest_or_data(
        &self,
        digest: impl FnOnce(&mut String) -> crate::Result<()>,
        data: impl FnOnce(&mut String) -> crate::Result<()>,
    ) -> (&'static str, String) {
        let mut s = String::new();
        let (key, r) = if self.data {
            ("data", data(&mut s))
        } else {
            ("sha256", digest(&mut s))
        };
        match r {
            Ok(()) => (key, s),
            Err(e) => ("error", json_string(&e.to_string())),
        }
    }

    /// `{"tag": {"k": raw, ..., "items": [...]}}`.
    fn tagged_fields(
        &mut self,
        tag: &'static str,
        fields: Vec<(&'static str, String)>,
        items: Option<Vec<Packed>>,
    ) {
        self.open_tagged(tag);
        self.tasks.push(Task::Close('}'));
        if let Some(items) = items {
            self.tasks.push(Task::OwnedSeq(items));
            self.tasks.push(Task::Key("items"));
        }
        for (k, v) in fields.into_iter().rev() {
            self.tasks.push(Task::KeyRaw(k, v));
        }
        self.tasks.push(Task::Open('{'));
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::new();
    write_str(&mut out, s);
    out
}

fn json_usizes(v: &[usize]) -> String {
    let parts: Vec<String> = v.iter().map(|n| n.to_string()).collect();
    format!("[{}]", parts.join(","))
}

/// `{"float": x}` as the rendering writes Python floats.
fn json_float(f: f64) -> String {
    if f.is_nan() {
        r#"{"float":"nan"}"#.into()
    } else if f.is_infinite() {
        format!(r#"{{"float":"{}"}}"#, if f > 0.0 { "inf" } else { "-inf" })
    } else {
        format!(r#"{{"float":{}}}"#, crate::pyrepr::float_repr(f))
    }
}

fn order_name(order: crate::array::Order) -> &'static str {
    match order {
        crate::array::Order::C => "C",
        crate::array::Order::F => "F",
    }
}

/// `[{"name": "x", "dtype": "<f4", "offset": 0}, …]`: a record dtype's fields; a
/// sub-array field adds `"shape"` (and its `dtype` is the element's), a record field its
/// own `"fields"`, a titled field its `"title"`.
fn json_fields(dtype: &crate::array::NpDtype) -> String {
    let mut s = String::from("[");
    for (i, f) in dtype.fields().iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let (base, shape) = match f.dtype.subarray() {
            Some((base, shape)) => (base, Some(shape)),
            None => (&f.dtype, None),
        };
        write!(
            s,
            "{{\"name\":{},\"dtype\":{},\"offset\":{}",
            json_string(&f.name),
            json_string(&base.str()),
            f.offset
        )
        .ok();
        if let Some(shape) = shape {
            write!(s, ",\"shape\":{}", json_usizes(shape)).ok();
        }
        if base.is_record() {
            write!(s, ",\"fields\":{}", json_fields(base)).ok();
        }
        if let Some(t) = &f.title {
            write!(s, ",\"title\":{}", json_string(t)).ok();
        }
        s.push('}');
    }
    s.push(']');
    s
}

/// `--data` of an array: nested JSON arrays of its elements in C order.
fn write_array_data(out: &mut String, a: &crate::array::NdArray) -> crate::Result<()> {
    // Each printed element costs at least one byte of the array, except zero-size items
    // (`U0`, `V0`, empty records, sub-arrays of them), which cost none: bound those.
    let printed = (a.numel() as u128).saturating_mul(leaves(a.dtype()));
    let limit = a.raw_bytes().len() as u128 + (1 << 20);
    if printed > limit {
        return Err(crate::Error::new(
            crate::ErrorKind::Limit,
            format!(
                "{a} has {printed} elements in {} bytes; --data prints at most {limit} here",
                a.raw_bytes().len()
            ),
        ));
    }
    let items = a.items_c_order()?;
    crate::array::write_nested(out, a.shape(), &items, a.dtype().itemsize(), &|out, b| {
        write_item(out, a.dtype().decode(b))
    });
    Ok(())
}

/// How many values `--data` prints for one element of `dtype` (a record's fields, a
/// sub-array's elements), at least 1.
fn leaves(dtype: &crate::array::NpDtype) -> u128 {
    if let Some((base, shape)) = dtype.subarray() {
        let n = shape
            .iter()
            .fold(1u128, |a, &d| a.saturating_mul(d as u128));
        return n.saturating_mul(leaves(base)).max(1);
    }
    dtype
        .fields()
        .iter()
        .fold(0u128, |a, f| a.saturating_add(leaves(&f.dtype)))
        .max(1)
}

/// One element, as `--data` prints it: numbers as JSON numbers (`"nan"`, `"inf"`,
/// `"-inf"` for non-finite floats), complex `[re, im]`, strings as strings, `S` and raw
/// bytes as `{"bytes": "<hex>"}`, datetimes and timedeltas as their count of the dtype's
/// unit (`null` for NaT), records as `{field: value}` objects, sub-arrays as arrays.
fn write_item(out: &mut String, item: crate::array::Item<'_>) {
    use crate::array::{Item, Scalar};
    match item {
        Item::Bool(b) => crate::array::write_scalar(out, Scalar::Bool(b)),
        Item::Int(i) => crate::array::write_scalar(out, Scalar::Int(i as i128)),
        Item::UInt(u) => crate::array::write_scalar(out, Scalar::Int(u as i128)),
        Item::Float(f) => crate::array::write_scalar(out, Scalar::Float(f)),
        Item::Complex(re, im) => crate::array::write_scalar(out, Scalar::Complex(re, im)),
        Item::Str(s) => write_str(out, &s),
        Item::Bytes(b) | Item::Raw(b) => {
            write!(out, "{{\"bytes\":\"{}\"}}", hex(b)).ok();
        }
        Item::DateTime(n, _) | Item::TimeDelta(n, _) => {
            if n == i64::MIN {
                out.push_str("null");
            } else {
                write!(out, "{n}").ok();
            }
        }
        Item::Record(dtype, b) => {
            out.push('{');
            for (i, f) in dtype.fields().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, &f.name);
                out.push(':');
                let end = (f.offset + f.dtype.itemsize()).min(b.len());
                write_item(out, f.dtype.decode(&b[f.offset.min(end)..end]));
            }
            out.push('}');
        }
        Item::SubArray(base, shape, b) => {
            let size = base.itemsize();
            crate::array::write_nested(out, shape, b, size, &|out, e| {
                write_item(out, base.decode(e))
            });
        }
    }
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        write!(s, "{x:02x}").ok();
    }
    s
}

/// Writes `s` as a JSON string: escapes `"`, `\` and control characters (as Python's
/// `json.dumps(..., ensure_ascii=False)` does), everything else verbatim.
fn write_str<W: std::fmt::Write>(out: &mut W, s: &str) {
    out.write_char('"').ok();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.write_str(&s[start..i]).ok();
        if esc.is_empty() {
            write!(out, "\\u{:04x}", c as u32).ok();
        } else {
            out.write_str(esc).ok();
        }
        start = i + c.len_utf8();
    }
    out.write_str(&s[start..]).ok();
    out.write_char('"').ok();
}
