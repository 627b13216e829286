//! Entry points that run the VM: [`Unpickler`] (options and hooks, like CPython's class)
//! and the free functions [`load_slice`] and [`load_reader`].

use crate::compress::{self, Codec};
use crate::error::Result;
use crate::options::Options;
use crate::read::{IoRead, SliceRead};
use crate::resolve::allow::AllowList;
use crate::resolve::hooks::{BuildHook, ClassAction, Hooks, Literal};
use crate::resolve::stdlib;
use crate::value::{Graph, Slot, Value};
use crate::vm::{Loaded, Vm};
use std::io;

/// How much of a compressed stream a reader load reads past the pickle's STOP (to reach
/// the stream's end, and so its checksum).
const TAIL: u64 = 64 << 10;

type FindClass<'h> = Box<dyn FnMut(&str, &str) -> Result<ClassAction> + 'h>;

/// A `find_class` hook that rejects what `list` does not allow and hands the rest on.
fn guard<'h>(list: AllowList, mut inner: Option<FindClass<'h>>) -> FindClass<'h> {
    Box::new(move |module, name| match list.decide(module, name)? {
        ClassAction::Keep => match inner.as_mut() {
            Some(f) => f(module, name),
            None => Ok(ClassAction::Keep),
        },
        other => Ok(other),
    })
}

/// Reads one pickle from a byte slice into an object graph, with default options.
/// Strings and bytes in the graph borrow from `data`.
///
/// A compressed pickle (gzip, bz2, xz, zstd, zip as `pandas.to_pickle` writes them; zlib,
/// lzma, lz4 as joblib does) is recognised by its first bytes and the pickle inside is
/// loaded (see [`Options::decompress`]); the graph then owns its strings.
///
/// ```
/// let graph = serde_pickle_vm::load_slice(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00\x8c\x01a\x94.").unwrap();
/// assert_eq!(graph.root().as_str(), Some("a"));
/// ```
pub fn load_slice(data: &[u8]) -> Result<Graph<'_>> {
    Unpickler::new().load_slice(data)
}

/// Reads one pickle from any reader into an object graph, with default options. The
/// reader is consumed up to the pickle's STOP opcode (it is buffered internally, so it
/// may have read further). A compressed pickle is recognised by its first bytes and
/// inflated as it is read (see [`Options::decompress`]).
///
/// For a file, reading it whole (`std::fs::read`) and calling [`load_slice`] is faster:
/// strings then borrow from the bytes instead of being copied, and the VM sizes its
/// buffers from the input's length, which a reader cannot tell (records_200k: 54 ms
/// against 85; see the README's Performance section).
///
/// ```
/// let file: &[u8] = b"K\x07.";
/// let graph = serde_pickle_vm::load_reader(file).unwrap();
/// assert_eq!(graph.root().as_i64(), Some(7));
/// ```
pub fn load_reader<R: io::Read>(reader: R) -> Result<Graph<'static>> {
    Unpickler::new().load_reader(reader)
}

/// A configured unpickler: [`Options`] plus the hooks of CPython's `Unpickler`
/// (`find_class`, `persistent_load`, the extension registry and out-of-band buffers).
///
/// ```
/// use serde_pickle_vm::{ClassAction, Literal, Unpickler};
/// // c__main__\nGreeter\n)R. — a REDUCE of __main__.Greeter with no arguments.
/// let data = b"c__main__\nGreeter\n)R.";
/// let graph = Unpickler::new()
///     .find_class(|module, name| Ok(if module == "__main__" {
///         ClassAction::Rename { module: "app".into(), name: name.into() }
///     } else {
///         ClassAction::Keep
///     }))
///     .load_slice(data)
///     .unwrap();
/// let obj = graph.root().as_object().unwrap();
/// assert_eq!(graph.value(obj.callable).as_global().unwrap().module, "app");
/// ```
#[derive(Default)]
pub struct Unpickler<'h> {
    options: Options,
    hooks: Hooks<'h>,
    allow: Vec<AllowList>,
    /// The shared bytes a slice load reads from (a file's), which numpy arrays of the
    /// graph may then view instead of copying.
    shared: Option<crate::array::Bytes>,
}

impl<'h> Unpickler<'h> {
    /// An unpickler with default options and no hooks.
    pub fn new() -> Self {
        Unpickler::default()
    }

    /// An unpickler with `options` and no hooks.
    pub fn with_options(options: Options) -> Self {
        Unpickler {
            options,
            hooks: Hooks::default(),
            allow: Vec::new(),
            shared: None,
        }
    }

    /// Says that slice loads read from `bytes` (an owner of them): numpy arrays then
    /// view them instead of copying.
    pub(crate) fn share_input(mut self, bytes: crate::array::Bytes) -> Self {
        self.shared = Some(bytes);
        self
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The options, to change them.
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.options
    }

    /// Sets the hook that sees every global (GLOBAL, STACK_GLOBAL, INST, EXT*) after the
    /// Python 2 renames, and may keep, rename, replace or reject it. With an
    /// [`allow_globals`](Self::allow_globals) list, the hook sees only allowed globals.
    pub fn find_class<F>(mut self, f: F) -> Self
    where
        F: FnMut(&str, &str) -> Result<ClassAction> + 'h,
    {
        let mut hook: FindClass<'h> = Box::new(f);
        for list in &self.allow {
            hook = guard(list.clone(), Some(hook));
        }
        self.hooks.find_class = Some(hook);
        self
    }

    /// Rejects every global outside `list`, like `torch.load(weights_only=True)`: the
    /// load fails with [`ErrorKind::Rejected`](crate::ErrorKind::Rejected), naming the
    /// global, the byte offset and the opcode. A [`find_class`](Self::find_class) hook,
    /// set before or after, still runs for the allowed globals. Calling this twice
    /// allows only what both lists allow.
    ///
    /// ```
    /// use serde_pickle_vm::{AllowList, ErrorKind, Unpickler};
    /// // \x80\x04 c builtins\neval\n ... — builtins.eval('1+1') in protocol 4.
    /// let payload = b"\x80\x04cbuiltins\neval\n\x8c\x031+1\x85R.";
    /// let err = Unpickler::new().allow_globals(AllowList::torch()).load_slice(payload).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Rejected);
    /// assert_eq!(
    ///     err.to_string(),
    ///     "global 'builtins.eval' is forbidden: not in the allow-list \
    ///      (add \"builtins.eval\" to allow it) (at byte 2, opcode GLOBAL)"
    /// );
    /// ```
    pub fn allow_globals(mut self, list: AllowList) -> Self {
        let inner = self.hooks.find_class.take();
        self.hooks.find_class = Some(guard(list.clone(), inner));
        self.allow.push(list);
        self
    }

    /// Sets the hook that turns a persistent id (PERSID, BINPERSID) into a value. Without
    /// it, persistent ids stay in the graph as [`Node::PersId`](crate::Node::PersId).
    pub fn persistent_load<F>(mut self, f: F) -> Self
    where
        F: FnMut(Value<'_, '_>) -> Result<Literal> + 'h,
    {
        self.hooks.persistent_load = Some(Box::new(f));
        self
    }

    /// Registers an extension code (EXT1/EXT2/EXT4) for `module.name`, as
    /// `copyreg.add_extension` does.
    pub fn extension(mut self, code: i32, module: &str, name: &str) -> Self {
        self.hooks
            .extensions
            .insert(code, (module.to_string(), name.to_string()));
        self
    }

    /// Adds an out-of-band buffer for NEXT_BUFFER (protocol 5), in order. Once any buffer
    /// is given (even none, with [`buffers`](Self::buffers)), NEXT_BUFFER takes them.
    pub fn buffer(mut self, data: Vec<u8>) -> Self {
        self.hooks
            .buffers
            .get_or_insert_with(Default::default)
            .push_back(data);
        self
    }

    /// Sets all out-of-band buffers at once (CPython's `buffers=` argument).
    pub fn buffers<I: IntoIterator<Item = Vec<u8>>>(mut self, buffers: I) -> Self {
        self.hooks.buffers = Some(buffers.into_iter().collect());
        self
    }

    /// Sets the hook that sees every BUILD (the file readers' joblib hook, with the file's
    /// bytes and directory), in place of the default one of [`Options::joblib`].
    #[cfg_attr(not(feature = "numpy"), allow(dead_code))]
    pub(crate) fn build_hook(mut self, hook: Box<dyn BuildHook + 'h>) -> Self {
        self.hooks.build = Some(hook);
        self
    }

    /// Runs `f` with the build hook in place: the one set, or joblib's default when
    /// [`Options::joblib`] asks for it.
    fn with_hook<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        #[cfg(feature = "numpy")]
        if self.options.joblib && self.hooks.build.is_none() {
            self.hooks.build = Some(Box::new(crate::numpy::joblib::Hook::new()));
            let out = f(self);
            self.hooks.build = None;
            return out;
        }
        f(self)
    }

    /// Reads one pickle from a byte slice; strings and bytes borrow from `data`.
    ///
    /// A compressed input ([`Options::decompress`]) is inflated first, under
    /// [`Limits::max_inflated`](crate::Limits::max_inflated) and
    /// [`max_inflate_ratio`](crate::Limits::max_inflate_ratio), and the graph owns its
    /// strings ([`Graph::into_owned`]). Error offsets then count in the decompressed
    /// pickle, and the error says so ([`Error::within_what`](crate::Error::within_what)).
    ///
    /// ```
    /// # #[cfg(feature = "compress")] {
    /// // gzip.compress(pickle.dumps("a", protocol=4), mtime=0)
    /// let gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03k`\x99\xca\xca\x00\x01=\x8c\x89S\xf4\x00\x02\x143\x0a\x10\x00\x00\x00";
    /// let graph = serde_pickle_vm::Unpickler::new().load_slice(gz).unwrap();
    /// assert_eq!(graph.root().as_str(), Some("a"));
    /// # }
    /// ```
    pub fn load_slice<'de>(&mut self, data: &'de [u8]) -> Result<Graph<'de>> {
        self.load_slice_sniffed(data).map(|(graph, _)| graph)
    }

    /// [`load_slice`](Self::load_slice), and the codec the input was compressed with.
    pub(crate) fn load_slice_sniffed<'de>(
        &mut self,
        data: &'de [u8],
    ) -> Result<(Graph<'de>, Option<Codec>)> {
        let codec = match self.options.decompress {
            true => compress::sniff(data),
            false => None,
        };
        let Some(codec) = codec else {
            return Ok((self.load_slice_from(data, 0)?, None));
        };
        let limits = self.options.limits.inflate();
        let inner = compress::decompress_with(data, codec, &limits, compress::LOAD)?;
        let graph = self
            .load_slice_from(&inner, 0)
            .map_err(|e| e.within(codec.decompressed()))?;
        Ok((graph.into_owned(), Some(codec)))
    }

    /// Reads the pickle that starts at byte `start` of `data` (the pickle of an object
    /// array after a `.npy` header), as it is (no decompression); offsets, in errors and
    /// the graph, count from the start of `data`.
    pub(crate) fn load_slice_from<'de>(
        &mut self,
        data: &'de [u8],
        start: usize,
    ) -> Result<Graph<'de>> {
        let loaded = self.with_hook(|u| {
            Vm::new(
                SliceRead::starting_at(data, start),
                &u.options,
                &mut u.hooks,
            )
            .run()
        })?;
        Ok(self.finish(loaded))
    }

    /// Reads one pickle from `reader` into `graph`, which keeps its nodes; returns the
    /// pickle's value (the graph's root is left as it was). For archives of several
    /// pickles that make one graph (the object arrays of a `.npz`).
    #[allow(dead_code)]
    pub(crate) fn load_reader_into<R: io::Read>(
        &mut self,
        reader: R,
        graph: &mut Graph<'static>,
    ) -> Result<Slot> {
        let root = graph.root_slot();
        let base = std::mem::replace(graph, Graph::new());
        let loaded = self.with_hook(|u| {
            Vm::with_graph(IoRead::new(reader), base, &u.options, &mut u.hooks).run()
        })?;
        let mut g = self.finish(loaded);
        let value = g.root_slot();
        g.set_root(root);
        *graph = g;
        Ok(value)
    }

    /// Reads the pickle at the start of `data` and returns it with the number of bytes
    /// it took (files that hold several pickles in a row, like torch's legacy format).
    #[allow(dead_code)]
    pub(crate) fn load_slice_prefix<'de>(
        &mut self,
        data: &'de [u8],
    ) -> Result<(Graph<'de>, usize)> {
        let loaded =
            self.with_hook(|u| Vm::new(SliceRead::new(data), &u.options, &mut u.hooks).run())?;
        let end = loaded.end as usize;
        Ok((self.finish(loaded), end))
    }

    /// Reads one pickle from a reader. A compressed input ([`Options::decompress`]) is
    /// inflated as it is read; to tell, the first bytes are read one at a time, no further
    /// than they could still start a compressed container (one byte for a protocol 2+
    /// pickle).
    pub fn load_reader<R: io::Read>(&mut self, reader: R) -> Result<Graph<'static>> {
        self.load_reader_sniffed(reader).map(|(graph, _)| graph)
    }

    /// [`load_reader`](Self::load_reader), and the codec the input was compressed with.
    pub(crate) fn load_reader_sniffed<R: io::Read>(
        &mut self,
        mut reader: R,
    ) -> Result<(Graph<'static>, Option<Codec>)> {
        if !self.options.decompress {
            return Ok((self.run_reader(reader)?, None));
        }
        let head = compress::read_head(&mut reader)?;
        let codec = compress::sniff(&head);
        let input = io::Read::chain(io::Cursor::new(head), reader);
        let Some(codec) = codec else {
            return Ok((self.run_reader(input)?, None));
        };
        let limits = self.options.limits.inflate();
        let mut inner = compress::decompress_reader_with(input, codec, &limits, compress::LOAD)?;
        let graph = self
            .run_reader(&mut inner)
            .map_err(|e| e.within(codec.decompressed()))?;
        // The pickle ended; read on a little, so that a stream that ends there is checked
        // to its end (its checksum, its length), as a slice load checks it: a truncated
        // or corrupt file fails however early its pickle stops. What follows a longer
        // tail (more pickles in one stream) is left unread.
        io::copy(&mut io::Read::take(&mut inner, TAIL), &mut io::sink())?;
        Ok((graph, Some(codec)))
    }

    fn run_reader<R: io::Read>(&mut self, reader: R) -> Result<Graph<'static>> {
        let loaded =
            self.with_hook(|u| Vm::new(IoRead::new(reader), &u.options, &mut u.hooks).run())?;
        Ok(self.finish(loaded))
    }

    fn finish<'de>(&self, loaded: Loaded<'de>) -> Graph<'de> {
        let mut graph = loaded.graph;
        if self.options.emulate {
            stdlib::emulate(&mut graph, &loaded.objects);
            #[cfg(feature = "numpy")]
            crate::numpy::emulate(&mut graph, self.shared.as_ref());
        }
        graph
    }
}
