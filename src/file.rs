//! One entry point for the files of the Python data stack, whatever their name: the
//! format is told from the content.
//!
//! | format | recognised by | the graph's root |
//! | --- | --- | --- |
//! | pickle (`pickle.dump`) | anything else | what `pickle.load` returns |
//! | joblib ≥ 0.10 (`joblib.dump`) | a pickle with `NumpyArrayWrapper`s | what `joblib.load` returns: arrays are [`Emulated::NdArray`] (or `ObjectArray`) |
//! | joblib < 0.10 multi-file dumps | a pickle with `NDArrayWrapper`s | the same, each array read from its sibling `.npy` file (paths only) |
//! | `.npy` (`np.save`, versions 1.0, 2.0, 3.0) | `\x93NUMPY` | the array (memory-mapped with the `mmap` feature); for object dtypes, the array its embedded pickle holds |
//! | `.npz` (`np.savez`, `np.savez_compressed`; feature `npz`) | a zip of `.npy` members | a dict from member name (without `.npy`) to array, in the archive's order |
//! | torch checkpoints (feature `torch`) | zip with `<dir>/data.pkl`, legacy magic number, tar | what `torch.load` returns, tensors rebuilt |
//! | any of the above compressed (gzip, zlib, bzip2, xz, lzma, zstd, lz4, a one-member zip; joblib < 0.10's Z-file) | magic bytes ([`compress::sniff`]) | what the decompressed file holds |
//!
//! ```
//! # #[cfg(feature = "numpy")] {
//! use serde_pickle_vm::file::{self, Format};
//! // np.save("x.npy", np.arange(6, dtype="<i4").reshape(2, 3))
//! let loaded = file::load_file("fixtures/files/npy_v1_i4_2x3.npy")?;
//! assert_eq!(loaded.format, Format::Npy { version: (1, 0) });
//! let a = loaded.array().unwrap();
//! assert_eq!((a.descr(), a.shape()), ("<i4", &[2, 3][..]));
//! assert_eq!(a.tensor().unwrap().to_vec::<i32>()?, [0, 1, 2, 3, 4, 5]);
//! # }
//! # Ok::<(), serde_pickle_vm::Error>(())
//! ```
//!
//! A compressed file (see [`crate::compress`]: joblib's `compress=`, pandas'
//! `to_pickle("x.pkl.gz")`) is the file inside ([`Format::Compressed`]).
//!
//! A joblib dump is what `joblib.load` returns, its arrays in place; [`from_file`]
//! deserializes any of these files into your types:
//!
//! ```
//! # #[cfg(feature = "numpy")] {
//! use serde::Deserialize;
//! #[derive(Deserialize)]
//! struct Dump {
//!     name: String,
//!     weights: Vec<f64>,
//! }
//! // joblib.dump({"name": "w", "weights": np.arange(4.0)}, "dump.joblib")
//! let d: Dump = serde_pickle_vm::from_file("fixtures/files/joblib_doc.joblib")?;
//! assert_eq!((d.name.as_str(), d.weights.as_slice()), ("w", &[0.0, 1.0, 2.0, 3.0][..]));
//! # }
//! # Ok::<(), serde_pickle_vm::Error>(())
//! ```

use crate::array::{Bytes, NdArray};
use crate::compress::{self, Codec};
use crate::error::{Error, ErrorKind, Result};
use crate::options::Options;
use crate::value::{Emulated, Graph, Value};
#[cfg(feature = "numpy")]
use crate::value::{Node, Slot};
use crate::{AllowList, Unpickler};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// What a file was.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A plain pickle.
    Pickle,
    /// A joblib ≥ 0.10 dump: a pickle with `arrays` numpy arrays written inline.
    Joblib {
        /// How many arrays were read from between the pickle's opcodes.
        arrays: usize,
    },
    /// A joblib < 0.10 dump: a pickle whose arrays are in sibling `.npy` files.
    JoblibSiblings {
        /// The sibling files read, in the order the pickle named them.
        files: Vec<PathBuf>,
    },
    /// A `.npy` file of this format version.
    Npy {
        /// (1, 0), (2, 0) or (3, 0).
        version: (u8, u8),
    },
    /// A `.npz` archive of `members` files.
    Npz {
        /// How many members the archive has.
        members: usize,
    },
    /// A torch checkpoint (feature `torch`).
    #[cfg(feature = "torch")]
    Torch(crate::torch::Format),
    /// A tar archive of one file (pandas' `to_pickle("x.pkl.tar")`) holding a file of
    /// format `inner`.
    Tar {
        /// What the member is.
        inner: Box<Format>,
    },
    /// A compressed file (see [`crate::compress`]; joblib's `compress=`, pandas'
    /// `to_pickle("x.pkl.gz")`, joblib < 0.10's zlib "Z-file") holding a file of format
    /// `inner`.
    Compressed {
        /// How it was compressed.
        codec: Codec,
        /// What the decompressed bytes are.
        inner: Box<Format>,
    },
}

impl std::fmt::Display for Format {
    /// A short name: `pickle`, `joblib`, `joblib (multi-file)`, `npy 1.0`, `npz`,
    /// `torch zip`, `joblib, zlib-compressed`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::Pickle => f.write_str("pickle"),
            Format::Joblib { .. } => f.write_str("joblib"),
            Format::JoblibSiblings { .. } => f.write_str("joblib (multi-file)"),
            Format::Npy { version } => write!(f, "npy {}.{}", version.0, version.1),
            Format::Npz { .. } => f.write_str("npz"),
            #[cfg(feature = "torch")]
            Format::Torch(t) => match t {
                crate::torch::Format::Zip { .. } => f.write_str("torch zip"),
                crate::torch::Format::Legacy => f.write_str("torch legacy"),
                crate::torch::Format::Tar => f.write_str("torch tar"),
            },
            Format::Compressed { codec, inner } => write!(f, "{inner}, {codec}-compressed"),
            Format::Tar { inner } => write!(f, "{inner} in a tar archive"),
        }
    }
}

/// Options of [`load_file_with`] and friends.
///
/// ```
/// use serde_pickle_vm::file::FileOptions;
/// let opts = FileOptions { siblings: false, ..FileOptions::default() };
/// assert!(opts.pickle.joblib);
/// ```
#[derive(Debug, Clone)]
pub struct FileOptions {
    /// Options of the pickle VM (limits, emulation, [`Options::joblib`],
    /// [`Options::decompress`]). Its [`Limits::max_inflated`](crate::Limits::max_inflated)
    /// and [`max_inflate_ratio`](crate::Limits::max_inflate_ratio) bound every inflation:
    /// a compressed file, each deflated `.npz` member, a torch zip entry.
    pub pickle: Options,
    /// Reject every global outside this list, in every pickle of the file (see
    /// [`Unpickler::allow_globals`]); `None` (the default) allows any global, which the
    /// VM records without executing.
    pub allow: Option<AllowList>,
    /// Memory-map files (feature `mmap`; default true): arrays of `.npy` files, joblib
    /// dumps and stored `.npz` members are then slices of the map, read as they are
    /// touched. Without the feature (or with false) files are read into memory.
    pub mmap: bool,
    /// Read the sibling `.npy` files of joblib < 0.10 dumps, from the pickle's own
    /// directory only (default true). Off, such a dump is an error naming the file.
    pub siblings: bool,
    /// Torch checkpoints: resolve storages and rebuild tensors (default true).
    pub rebuild: bool,
}

impl Default for FileOptions {
    fn default() -> Self {
        FileOptions {
            pickle: Options::default(),
            allow: None,
            mmap: true,
            siblings: true,
            rebuild: true,
        }
    }
}

/// A file loaded by [`load_file`]: its format and its object graph.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// What the file was.
    pub format: Format,
    /// What Python's loader for that format returns, as an object graph.
    pub graph: Graph<'static>,
}

impl Loaded {
    /// The loaded object.
    pub fn root(&self) -> Value<'_, 'static> {
        self.graph.root()
    }

    /// The root as a numpy array, when it is one (a `.npy` file of a fixed-size dtype).
    pub fn array(&self) -> Option<&NdArray> {
        match self.root().as_emulated()? {
            Emulated::NdArray(a) => Some(a),
            _ => None,
        }
    }

    /// Deserializes the loaded object into a `T` (see [`from_graph`](crate::from_graph)).
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T> {
        crate::from_graph(&self.graph)
    }
}

/// Loads the file at `path`, whatever its format (see the [module docs](self)).
///
/// ```
/// # #[cfg(feature = "npz")] {
/// let loaded = serde_pickle_vm::load_file("fixtures/files/npz_savez.npz")?;
/// assert_eq!(loaded.format.to_string(), "npz");
/// assert!(loaded.root().get("a").is_some());
/// # }
/// # Ok::<(), serde_pickle_vm::Error>(())
/// ```
pub fn load_file<P: AsRef<Path>>(path: P) -> Result<Loaded> {
    load_file_with(path, &FileOptions::default())
}

/// [`load_file`] with options.
pub fn load_file_with<P: AsRef<Path>>(path: P, options: &FileOptions) -> Result<Loaded> {
    with_file(path.as_ref(), options, Box::new(owned))
}

/// Loads a file's bytes, whatever the format (as [`load_file`], but joblib < 0.10
/// sibling files cannot be read: such a dump is an error naming the missing file).
/// The bytes are copied once; arrays share that copy.
///
/// ```
/// // pickle.dumps([1, 2], protocol=2)
/// let loaded = serde_pickle_vm::load_bytes(b"\x80\x02]q\x00(K\x01K\x02e.")?;
/// assert_eq!(loaded.format, serde_pickle_vm::file::Format::Pickle);
/// assert_eq!(loaded.root().len(), Some(2));
/// # Ok::<(), serde_pickle_vm::Error>(())
/// ```
pub fn load_bytes(data: &[u8]) -> Result<Loaded> {
    load_bytes_with(data, &FileOptions::default())
}

/// [`load_bytes`] with options.
pub fn load_bytes_with(data: &[u8], options: &FileOptions) -> Result<Loaded> {
    load_shared(Bytes::new(data.to_vec()), options)
}

/// [`load_bytes`] over bytes already shared (a memory map, a `Vec` you hand over): no
/// copy.
pub fn load_shared(bytes: Bytes, options: &FileOptions) -> Result<Loaded> {
    dispatch(bytes, None, options, Box::new(owned))
}

/// Loads the file at `path` (see [`load_file`]) and deserializes a `T` from it.
///
/// ```
/// # #[cfg(feature = "numpy")] {
/// // np.save("x.npy", np.arange(6, dtype="<i4").reshape(2, 3))
/// let rows: Vec<Vec<i32>> = serde_pickle_vm::from_file("fixtures/files/npy_v1_i4_2x3.npy")?;
/// assert_eq!(rows, [[0, 1, 2], [3, 4, 5]]);
/// # }
/// # Ok::<(), serde_pickle_vm::Error>(())
/// ```
pub fn from_file<T: DeserializeOwned, P: AsRef<Path>>(path: P) -> Result<T> {
    from_file_with(path, &FileOptions::default())
}

/// [`from_file`] with options.
pub fn from_file_with<T: DeserializeOwned, P: AsRef<Path>>(
    path: P,
    options: &FileOptions,
) -> Result<T> {
    let limits = options.pickle.clone();
    with_file(
        path.as_ref(),
        options,
        Box::new(|graph, _| crate::from_graph_with_options(&graph, &limits)),
    )
}

/// Reads a file (any format of [`load_file`]) and hands its graph, borrowed from the
/// file's bytes (no copy into an owned graph), to `f`.
#[cfg(feature = "pandas")]
pub(crate) fn with_graph<T>(
    path: &Path,
    options: &FileOptions,
    f: impl for<'a> FnOnce(&Graph<'a>) -> Result<T>,
) -> Result<T> {
    with_file(path, options, Box::new(move |graph, _| f(&graph)))
}

/// [`load_bytes`] and deserializes a `T` from it.
pub fn from_bytes<T: DeserializeOwned>(data: &[u8]) -> Result<T> {
    let options = FileOptions::default();
    let limits = options.pickle.clone();
    dispatch(
        Bytes::new(data.to_vec()),
        None,
        &options,
        Box::new(|graph, _| crate::from_graph_with_options(&graph, &limits)),
    )
}

/// What a reader hands its graph to (boxed, so that the readers of compressed files,
/// which call the readers again, are not generic over ever longer closure types).
type Sink<'s, T> = Box<dyn for<'a> FnOnce(Graph<'a>, Format) -> Result<T> + 's>;

fn owned(graph: Graph<'_>, format: Format) -> Result<Loaded> {
    Ok(Loaded {
        format,
        graph: graph.into_owned(),
    })
}

/// Reads the file and hands its graph to `f`.
fn with_file<T>(path: &Path, options: &FileOptions, f: Sink<'_, T>) -> Result<T> {
    let bytes = crate::read::file_bytes(path, options.mmap).map_err(|e| {
        let e = Error::from(e);
        Error::new(e.kind(), format!("{}: {}", path.display(), e))
    })?;
    let dir = options.siblings.then(|| match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    });
    dispatch(bytes, dir, options, f)
}

/// What the content starts like.
enum Kind {
    Npy,
    Zip,
    TorchLegacy,
    Tar,
    Pickle,
}

fn kind_of(data: &[u8]) -> Kind {
    const NPY: &[u8] = b"\x93NUMPY";
    // A pickle cannot start with STACK_GLOBAL: a file cut inside the magic string is a
    // truncated .npy file.
    if data.starts_with(NPY) || (data.len() > 1 && NPY.starts_with(data)) {
        Kind::Npy
    } else if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        Kind::Zip
    } else if data.starts_with(crate::torch::LEGACY_MAGIC_PICKLE) {
        Kind::TorchLegacy
    } else if data.get(257..262) == Some(b"ustar".as_slice()) {
        Kind::Tar
    } else {
        Kind::Pickle
    }
}

fn unpickler(options: &FileOptions, pickle: Options) -> Unpickler<'static> {
    let u = Unpickler::with_options(pickle);
    match &options.allow {
        Some(list) => u.allow_globals(list.clone()),
        None => u,
    }
}

/// Detects the format of `bytes` and loads it; `dir` is the file's directory, for joblib
/// sibling files.
fn dispatch<T>(
    bytes: Bytes,
    dir: Option<PathBuf>,
    options: &FileOptions,
    f: Sink<'_, T>,
) -> Result<T> {
    match kind_of(&bytes) {
        Kind::Npy => npy(bytes, options, f),
        Kind::Zip => zip(bytes, options, f),
        Kind::Tar => tar(bytes, dir, options, f),
        Kind::TorchLegacy => torch(bytes, options, f),
        Kind::Pickle => pickle(bytes, dir, options, f),
    }
}

#[cfg(not(feature = "numpy"))]
fn npy<T>(_: Bytes, _: &FileOptions, _: Sink<'_, T>) -> Result<T> {
    Err(Error::new(
        ErrorKind::Unsupported,
        "a .npy file: reading it needs the `numpy` feature",
    ))
}

#[cfg(feature = "numpy")]
fn npy<T>(bytes: Bytes, options: &FileOptions, f: Sink<'_, T>) -> Result<T> {
    let header = crate::numpy::npy::Header::parse(&bytes)?;
    let format = Format::Npy {
        version: header.version,
    };
    if header.has_object() {
        // numpy reads it with `pickle.load`: a plain pickle, not joblib's.
        let pickle = Options {
            joblib: false,
            ..options.pickle.clone()
        };
        let graph = unpickler(options, pickle).load_slice_from(&bytes, header.data_offset)?;
        return f(graph, format);
    }
    let array = header.array(&bytes)?;
    let mut graph = Graph::new();
    let id = graph.add(Node::Emulated(Box::new(Emulated::NdArray(Box::new(array)))));
    graph.set_root(Slot::Node(id));
    f(graph, format)
}

/// The torch rule for a zip: `<prefix>/data.pkl` at the top level.
fn is_torch_zip<'a>(mut names: impl Iterator<Item = &'a str>) -> bool {
    names.any(|n| {
        n.strip_suffix("data.pkl")
            .is_some_and(|p| p.ends_with('/') && p.matches('/').count() == 1)
    })
}

#[cfg(feature = "npz")]
fn zip<T>(bytes: Bytes, options: &FileOptions, f: Sink<'_, T>) -> Result<T> {
    use crate::torch::{source::Source, zip::Archive};
    let archive = Archive::open(&Source::Mem(bytes.clone())).map_err(|e| {
        Error::new(
            e.kind(),
            format!(
                "the file starts like a zip archive (an .npz file or a torch checkpoint) but its \
                 directory cannot be read (a truncated file?): {e}"
            ),
        )
    })?;
    if is_torch_zip(archive.names()) {
        drop(archive);
        return torch(bytes, options, f);
    }
    let members = archive.len();
    let npy_members = archive.names().any(|n| n.ends_with(".npy"));
    drop(archive);
    if !npy_members && members == 1 && options.pickle.decompress {
        // pandas' `to_pickle("x.pkl.zip")`: a zip of one pickle.
        return compressed(bytes, Codec::Zip, None, options, f);
    }
    if !npy_members && members > 0 {
        return Err(Error::new(
            ErrorKind::Format,
            format!(
                "a zip archive of {members} members, none of them .npy: neither an .npz \
                 archive, a torch checkpoint nor a pickle in a zip"
            ),
        ));
    }
    let limits = options.pickle.limits.inflate();
    let pickle = Options {
        joblib: false,
        ..options.pickle.clone()
    };
    let graph = crate::numpy::npz::load(bytes, limits, &|| unpickler(options, pickle.clone()))?;
    f(graph, Format::Npz { members })
}

#[cfg(not(feature = "npz"))]
fn zip<T>(bytes: Bytes, options: &FileOptions, f: Sink<'_, T>) -> Result<T> {
    let _ = is_torch_zip(std::iter::empty());
    #[cfg(feature = "torch")]
    return torch(bytes, options, f);
    #[cfg(not(feature = "torch"))]
    {
        let _ = (bytes, options, f);
        Err(Error::new(
            ErrorKind::Unsupported,
            "a zip archive (.npz or torch checkpoint): reading it needs the `npz` or `torch` feature",
        ))
    }
}

#[cfg(feature = "torch")]
fn torch<T>(bytes: Bytes, options: &FileOptions, f: Sink<'_, T>) -> Result<T> {
    use crate::torch::{Checkpoint, LoadOptions};
    let opts = LoadOptions {
        pickle: options.pickle.clone(),
        max_inflated: options.pickle.limits.max_inflated,
        max_inflate_ratio: options.pickle.limits.max_inflate_ratio,
        rebuild: options.rebuild,
        allow: options.allow.clone(),
    };
    let ckpt = Checkpoint::from_bytes_with(bytes, &opts)?;
    let format = Format::Torch(ckpt.format().clone());
    f(ckpt.into_graph(), format)
}

#[cfg(not(feature = "torch"))]
fn torch<T>(bytes: Bytes, options: &FileOptions, f: Sink<'_, T>) -> Result<T> {
    match kind_of(&bytes) {
        // The legacy format's first pickle is an int: read as a pickle, it is that int.
        Kind::TorchLegacy => pickle(bytes, None, options, f),
        _ => Err(Error::new(
            ErrorKind::Unsupported,
            "a torch checkpoint: reading it needs the `torch` feature",
        )),
    }
}

fn pickle<T>(
    bytes: Bytes,
    dir: Option<PathBuf>,
    options: &FileOptions,
    f: Sink<'_, T>,
) -> Result<T> {
    if options.pickle.decompress {
        if let Some(codec) = compress::sniff(&bytes) {
            return compressed(bytes, codec, dir, options, f);
        }
        #[cfg(feature = "numpy")]
        if crate::numpy::joblib::looks_like_zfile(&bytes) {
            let limits = options.pickle.limits.inflate();
            let inner = crate::numpy::joblib::read_zfile(&bytes, &limits)?;
            return decompressed(inner, Codec::Zlib, dir, options, f);
        }
    }
    #[cfg(feature = "numpy")]
    if options.pickle.joblib {
        use crate::numpy::joblib::{Found, Hook};
        let found = std::rc::Rc::new(std::cell::RefCell::new(Found::default()));
        let hook = Hook::for_file(bytes.clone(), dir, options.mmap, found.clone());
        let graph = unpickler(options, options.pickle.clone())
            .share_input(bytes.clone())
            .build_hook(Box::new(hook))
            .load_slice(&bytes)?;
        let found = found.take();
        let format = if !found.siblings.is_empty() {
            Format::JoblibSiblings {
                files: found.siblings,
            }
        } else if !found.blocks.is_empty() {
            Format::Joblib {
                arrays: found.blocks.len(),
            }
        } else {
            Format::Pickle
        };
        return f(graph, format);
    }
    let _ = dir;
    let graph = unpickler(options, options.pickle.clone())
        .share_input(bytes.clone())
        .load_slice(&bytes)?;
    f(graph, Format::Pickle)
}

/// Inflates `bytes` and loads what they hold.
fn compressed<T>(
    bytes: Bytes,
    codec: Codec,
    dir: Option<PathBuf>,
    options: &FileOptions,
    f: Sink<'_, T>,
) -> Result<T> {
    let limits = options.pickle.limits.inflate();
    let inner = compress::decompress_with(&bytes, codec, &limits, compress::LOAD)?;
    drop(bytes);
    decompressed(inner, codec, dir, options, f)
}

/// A tar archive: torch's legacy tar format (members `pickle`, `storages`, `tensors`), or
/// a tar of one file (pandas' `.tar` compression), read as that file.
fn tar<T>(bytes: Bytes, dir: Option<PathBuf>, options: &FileOptions, f: Sink<'_, T>) -> Result<T> {
    let mut regular = Vec::new();
    for m in crate::tar::members(&bytes) {
        match m {
            Ok(m) if m.regular => regular.push((m.name, m.body)),
            Ok(_) => {}
            Err(d) => {
                return Err(
                    Error::new(ErrorKind::Format, format!("a tar archive: {}", d.message))
                        .with_offset(d.offset as u64),
                )
            }
        }
    }
    if regular
        .iter()
        .any(|(n, _)| n == "pickle" || n == "storages")
    {
        return torch(bytes, options, f);
    }
    let [(_, body)] = regular.as_slice() else {
        return Err(Error::new(
            ErrorKind::Format,
            format!(
                "a tar archive of {} files: neither a torch checkpoint nor one pickled file",
                regular.len()
            ),
        ));
    };
    let member = bytes
        .slice(body.start, body.len())
        .expect("tar members lie inside the archive");
    drop(bytes);
    let wrap: Sink<'_, T> = Box::new(move |graph, format| {
        f(
            graph,
            Format::Tar {
                inner: Box::new(format),
            },
        )
    });
    dispatch(member, dir, options, wrap).map_err(|e| e.within("the file inside the tar archive"))
}

/// Loads the decompressed bytes of a file compressed with `codec` (as they are: they are
/// not decompressed again).
fn decompressed<T>(
    inner: Vec<u8>,
    codec: Codec,
    dir: Option<PathBuf>,
    options: &FileOptions,
    f: Sink<'_, T>,
) -> Result<T> {
    let mut inner_options = options.clone();
    inner_options.pickle.decompress = false;
    let wrap: Sink<'_, T> = Box::new(move |graph, format| {
        f(
            graph,
            Format::Compressed {
                codec,
                inner: Box::new(format),
            },
        )
    });
    dispatch(Bytes::new(inner), dir, &inner_options, wrap)
        .map_err(|e| e.within(codec.decompressed()))
}

/// Disassembles a file, whatever its format, as `pickle-vm dis` does: a pickle as
/// [`dis::dis_fmt`](crate::dis::dis_fmt) prints it; a joblib dump with one line in
/// place of each array's data (offset, length, dtype, shape) and its object arrays'
/// nested pickles disassembled in turn; the embedded pickle of an object `.npy` file,
/// with offsets in the file. Returns the format.
///
/// ```
/// # #[cfg(feature = "numpy")] {
/// use serde_pickle_vm::{dis::DisOptions, file};
/// let data = std::fs::read("fixtures/files/joblib_doc.joblib")?;
/// let mut out = String::new();
/// file::dis(&data, &mut out, &DisOptions::default())?;
/// assert!(out.contains(
///     "  244: [joblib array data, 44 bytes: 1 + 11 bytes of alignment padding, \
///      then 32 bytes of <f8, shape [4], order C]\n"
/// ));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn dis<W: std::fmt::Write + ?Sized>(
    data: &[u8],
    out: &mut W,
    options: &crate::dis::DisOptions,
) -> Result<Format> {
    // A compressed file: its content, once (offsets count in the decompressed bytes).
    let codec = compress::sniff(data);
    #[cfg(feature = "numpy")]
    let codec = codec.or(crate::numpy::joblib::looks_like_zfile(data).then_some(Codec::Zlib));
    if let Some(codec) = codec {
        let limits = crate::Limits::default().inflate();
        let inner = match codec {
            #[cfg(feature = "numpy")]
            Codec::Zlib if crate::numpy::joblib::looks_like_zfile(data) => {
                crate::numpy::joblib::read_zfile(data, &limits)
            }
            _ => compress::decompress(data, codec, &limits),
        };
        match inner {
            Ok(inner) => {
                let format =
                    dis_plain(&inner, out, options).map_err(|e| e.within(codec.decompressed()))?;
                return Ok(Format::Compressed {
                    codec,
                    inner: Box::new(format),
                });
            }
            // Several members: an .npz or a torch checkpoint, said below.
            Err(_) if codec == Codec::Zip => {}
            Err(e) => return Err(e),
        }
    }
    dis_plain(data, out, options)
}

fn dis_plain<W: std::fmt::Write + ?Sized>(
    data: &[u8],
    out: &mut W,
    options: &crate::dis::DisOptions,
) -> Result<Format> {
    use crate::dis::dis_with;
    match kind_of(data) {
        #[cfg(feature = "numpy")]
        Kind::Npy => {
            let header = crate::numpy::npy::Header::parse(data)?;
            let format = Format::Npy {
                version: header.version,
            };
            if !header.has_object() {
                return Err(Error::new(
                    ErrorKind::Format,
                    format!(
                        "this .npy file holds no pickle: a {} array of shape {:?}, {} bytes of data at byte {}",
                        header.dtype.name(),
                        header.shape,
                        header.data_len()?.unwrap_or(0),
                        header.data_offset
                    ),
                ));
            }
            dis_with(data, header.data_offset, &[], out, options)?;
            Ok(format)
        }
        Kind::Pickle => {
            let (gaps, arrays, failed) = joblib_gaps(data);
            let listed = dis_with(data, 0, &gaps, out, options);
            match (listed, failed) {
                // The file ends inside an array's data: the loader's error says so.
                (Err(_), Some(e)) => return Err(e),
                (r, _) => r?,
            }
            Ok(if arrays > 0 {
                Format::Joblib { arrays }
            } else {
                Format::Pickle
            })
        }
        Kind::Zip => Err(Error::new(
            ErrorKind::Format,
            "a zip archive (an .npz file or a torch checkpoint) holds several files: \
             extract the pickle to disassemble it",
        )),
        _ => {
            crate::dis::dis_fmt(data, out, options)?;
            Ok(Format::Pickle)
        }
    }
}

/// The stretches of a joblib dump that are array data, as the VM finds them (up to the
/// first error, if the pickle has one: `dis` then reports it where it is).
#[cfg(feature = "numpy")]
fn joblib_gaps(data: &[u8]) -> (Vec<crate::dis::Gap>, usize, Option<Error>) {
    use crate::numpy::joblib::{Found, Hook};
    let found = std::rc::Rc::new(std::cell::RefCell::new(Found::default()));
    let hook = Hook::for_file(Bytes::new(Vec::new()), None, false, found.clone());
    let options = Options {
        emulate: false,
        decompress: false,
        ..Options::default()
    };
    let result = Unpickler::with_options(options)
        .build_hook(Box::new(hook))
        .load_slice(data);
    let mut found = found.take();
    let n = found.blocks.len();
    let mut last = None;
    let failed = match (result, found.pending.take()) {
        (Err(e), Some(b)) => {
            // Listed to the end of the file, where the data stops short.
            let rest = (data.len() as u64).saturating_sub(b.start);
            last = Some(crate::dis::Gap {
                offset: b.start,
                len: Some(rest),
                note: format!(
                    "[joblib array data of {}, shape {:?}: the file ends {rest} bytes into it]",
                    b.dtype, b.shape
                ),
            });
            Some(e)
        }
        _ => None,
    };
    let mut gaps: Vec<crate::dis::Gap> = found
        .blocks
        .into_iter()
        .map(|b| {
            let order = match b.order {
                crate::array::Order::C => "C",
                crate::array::Order::F => "F",
            };
            match b.len {
                Some(len) => {
                    let total = b.data - b.start + len;
                    let layout = if b.data > b.start {
                        let padding = b.data - b.start - 1;
                        format!("1 + {padding} bytes of alignment padding, then {len} bytes of ")
                    } else {
                        String::new()
                    };
                    crate::dis::Gap {
                        offset: b.start,
                        len: Some(total),
                        note: format!(
                            "[joblib array data, {total} bytes: {layout}{}, shape {:?}, order {order}]",
                            b.dtype, b.shape
                        ),
                    }
                }
                None => crate::dis::Gap {
                    offset: b.start,
                    len: None,
                    note: format!(
                        "[joblib object array of {}, shape {:?}: its own pickle follows]",
                        b.dtype, b.shape
                    ),
                },
            }
        })
        .collect();
    gaps.extend(last);
    (gaps, n, failed)
}

#[cfg(not(feature = "numpy"))]
fn joblib_gaps(_: &[u8]) -> (Vec<crate::dis::Gap>, usize, Option<Error>) {
    (Vec::new(), 0, None)
}
