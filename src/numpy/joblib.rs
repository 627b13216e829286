//! joblib's numpy persistence (`joblib.dump` / `joblib.load`), as a build hook of the VM.
//!
//! - joblib ≥ 0.10 pickles a `joblib.numpy_pickle.NumpyArrayWrapper` in place of each
//!   array (its BUILD state: `subclass`, `shape`, `order`, `dtype`, `allow_mmap` and,
//!   since joblib 1.2, `numpy_array_alignment_bytes`) and writes the array right after
//!   that BUILD, outside the pickle's opcodes: a byte giving a padding length and that
//!   many padding bytes (when the state has an alignment), then the elements in the
//!   wrapper's order; or, for dtypes that hold objects, a complete nested pickle of the
//!   array. The hook tells the VM how many bytes that is and turns them into the array.
//! - joblib < 0.10 wrote each array to a sibling `.npy` file and pickled a
//!   `NDArrayWrapper` naming it (`filename`), or with compression a `ZNDArrayWrapper`
//!   naming a zlib "Z-file" with the raw data. The hook reads the sibling when it knows
//!   the pickle's directory (loads by path), and refuses otherwise.
//!
//! What comes out is what `joblib.load` returns: the wrapper replaced by the array. The
//! byte order stays as stored (joblib swaps to the machine's order, its memory maps do
//! not; the values are the same).

use super::npy::{has_object, Header};
use crate::array::{Bytes, NdArray, NpDtype, Order};
use crate::compress::{self, Codec, InflateLimits};
use crate::error::{Error, ErrorKind, Result};
use crate::options::Options;
use crate::resolve::hooks::{AfterBuild, BuildHook, RawData};
use crate::value::{Construct, Emulated, Packed, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One array joblib wrote inline, as the hook found it (for `dis` and for reports).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Block {
    /// Where the block starts: just after the wrapper's BUILD.
    pub(crate) start: u64,
    /// Where the data starts (after the alignment padding); for a nested pickle, where
    /// the pickle starts.
    pub(crate) data: u64,
    /// The data's length; `None` for a nested pickle (it ends at its STOP).
    pub(crate) len: Option<u64>,
    /// `dtype.str`.
    pub(crate) dtype: String,
    /// The shape.
    pub(crate) shape: Vec<usize>,
    /// The memory order.
    pub(crate) order: Order,
}

/// What a load found of joblib's: the inline arrays and the sibling files read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Found {
    pub(crate) blocks: Vec<Block>,
    pub(crate) siblings: Vec<PathBuf>,
    /// The block being read (its data not yet there): where a load that fails inside
    /// an array's data failed.
    pub(crate) pending: Option<Block>,
}

/// The build hook of joblib's formats.
#[derive(Default)]
pub(crate) struct Hook {
    /// The whole input the VM reads, when it is shared bytes (a file, a memory map):
    /// arrays are then slices of it instead of copies.
    input: Option<Bytes>,
    /// The directory of the pickle, for joblib < 0.10 sibling files.
    dir: Option<PathBuf>,
    /// Map sibling files (feature `mmap`).
    mmap: bool,
    /// Where to record what was found.
    found: Option<Rc<RefCell<Found>>>,
    /// The last classes found not to be joblib's, and where the next one goes.
    plain: [Option<Packed>; 4],
    next_plain: usize,
    /// `copyreg._reconstructor`, once seen.
    reconstructor: Option<Packed>,
}

impl Hook {
    /// The hook of a plain load (`load_slice`, `from_slice`): arrays are copied out of
    /// the input; sibling files cannot be read.
    pub(crate) fn new() -> Hook {
        Hook::default()
    }

    /// The hook of a file load: `input` is what the VM reads (arrays are slices of it),
    /// `dir` the pickle's directory (sibling files), `found` where to record arrays.
    pub(crate) fn for_file(
        input: Bytes,
        dir: Option<PathBuf>,
        mmap: bool,
        found: Rc<RefCell<Found>>,
    ) -> Hook {
        Hook {
            input: Some(input),
            dir,
            mmap,
            found: Some(found),
            ..Hook::default()
        }
    }
}

/// The class value an object was made from: NEWOBJ's class, or the class that
/// protocols 0 and 1 pass to `copyreg._reconstructor`.
fn class_slot(obj: Value<'_, '_>, reconstructor: &mut Option<Packed>) -> Option<Packed> {
    let o = obj.as_object()?;
    let g = obj.graph();
    let is_reconstructor = *reconstructor == Some(o.callable)
        || (o.construct == Construct::Call
            && g.value(o.callable).as_global().is_some_and(|c| {
                matches!(&*c.module, "copyreg" | "copy_reg") && c.name == "_reconstructor"
            }));
    if is_reconstructor {
        *reconstructor = Some(o.callable);
        return g.items(o.args).first().copied();
    }
    Some(o.callable)
}

/// joblib's modules, also as scikit-learn vendored them (`sklearn.externals.joblib`).
fn is_joblib(module: &str) -> bool {
    ["joblib.numpy_pickle", "joblib.numpy_pickle_compat"]
        .iter()
        .any(|m| module == *m || module.strip_suffix(m).is_some_and(|p| p.ends_with('.')))
}

fn format_err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Format, msg)
}

fn shape_of(v: Option<Value<'_, '_>>) -> Option<Vec<usize>> {
    let v = v?;
    if let Some(n) = v.as_i64() {
        return usize::try_from(n).ok().map(|n| vec![n]);
    }
    v.seq()?;
    v.iter()
        .map(|d| d.as_i64().and_then(|n| usize::try_from(n).ok()))
        .collect()
}

impl BuildHook for Hook {
    fn after_build(
        &mut self,
        obj: Value<'_, '_>,
        at: u64,
        options: &Options,
    ) -> Result<AfterBuild> {
        // Every BUILD of the pickle comes here: the classes already found not to be
        // joblib's (most pickles build many objects of few classes) leave at once.
        let Some(class) = class_slot(obj, &mut self.reconstructor) else {
            return Ok(AfterBuild::Nothing);
        };
        if self.plain.contains(&Some(class)) {
            return Ok(AfterBuild::Nothing);
        }
        let Some(global) = obj.with(class).as_global() else {
            return Ok(AfterBuild::Nothing);
        };
        let (module, name) = (&*global.module, &*global.name);
        if !is_joblib(module) {
            self.plain[self.next_plain % 4] = Some(class);
            self.next_plain += 1;
            return Ok(AfterBuild::Nothing);
        }
        let state = obj
            .as_object()
            .and_then(|o| o.state)
            .map(|s| obj.graph().value(s));
        match name {
            "NumpyArrayWrapper" => self.inline(state, at, options),
            "NDArrayWrapper" => self.sibling(state, options),
            "ZNDArrayWrapper" => self.zsibling(state, options),
            _ => Ok(AfterBuild::Nothing),
        }
    }
}

impl Hook {
    /// A `NumpyArrayWrapper`: the array follows in the stream.
    fn inline(
        &mut self,
        state: Option<Value<'_, '_>>,
        at: u64,
        options: &Options,
    ) -> Result<AfterBuild> {
        let field = |k: &str| state.and_then(|s| s.get(k));
        let shape = shape_of(field("shape")).ok_or_else(|| {
            format_err("a joblib NumpyArrayWrapper without a shape (a tuple of non-negative ints)")
        })?;
        let dtype = field("dtype")
            .and_then(|d| super::dtype_of(d, 0))
            .ok_or_else(|| {
                format_err(
                    "a joblib NumpyArrayWrapper whose dtype is not a numpy.dtype this crate reads",
                )
            })?;
        let order = match field("order").and_then(|o| o.as_str()) {
            Some("F") => Order::F,
            Some("C") | None => Order::C,
            Some(other) => {
                return Err(format_err(format!(
                    "a joblib NumpyArrayWrapper of order {other:?} (C or F expected)"
                )))
            }
        };
        let aligned = field("numpy_array_alignment_bytes").is_some_and(|a| !a.is_none());
        let what = format!("joblib array of shape {shape:?} of {}", dtype.str());
        if has_object(&dtype) {
            if let Some(found) = &self.found {
                found.borrow_mut().blocks.push(Block {
                    start: at,
                    data: at,
                    len: None,
                    dtype: dtype.str(),
                    shape,
                    order,
                });
            }
            return Ok(AfterBuild::Pickle {
                replace: options.emulate,
            });
        }
        let len = shape
            .iter()
            .try_fold(dtype.itemsize() as u64, |a, &n| a.checked_mul(n as u64))
            .ok_or_else(|| format_err(format!("{what}: its size overflows")))?;
        if let Some(found) = &self.found {
            found.borrow_mut().pending = Some(Block {
                start: at,
                data: at,
                len: Some(len),
                dtype: dtype.str(),
                shape: shape.clone(),
                order,
            });
        }
        let input = self.input.clone();
        let found = self.found.clone();
        let emulate = options.emulate;
        let finish = move |data: RawData<'_>| -> Result<Option<Emulated>> {
            if let Some(found) = &found {
                let mut found = found.borrow_mut();
                found.pending = None;
                found.blocks.push(Block {
                    start: data.start,
                    data: data.offset,
                    len: Some(len),
                    dtype: dtype.str(),
                    shape: shape.clone(),
                    order,
                });
            }
            if !emulate {
                return Ok(None);
            }
            let bytes = share(input.as_ref(), data);
            NdArray::new(dtype, shape, order, bytes).map(|a| Some(Emulated::NdArray(Box::new(a))))
        };
        Ok(AfterBuild::Raw {
            aligned,
            len,
            what,
            finish: Box::new(finish),
        })
    }

    fn sibling_path(&self, state: Option<Value<'_, '_>>, what: &str) -> Result<PathBuf> {
        let name = state
            .and_then(|s| s.get("filename"))
            .and_then(|f| f.as_str())
            .ok_or_else(|| format_err(format!("a joblib {what} without a filename")))?;
        let Some(dir) = &self.dir else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "a joblib < 0.10 dump: the array is in the separate file {name:?} next to \
                     the pickle; load the pickle from its path (serde_pickle_vm::load_file) so \
                     that the file can be read"
                ),
            ));
        };
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains(['/', '\\', '\0', ':']);
        if !plain || Path::new(name).is_absolute() {
            return Err(Error::new(
                ErrorKind::Rejected,
                format!(
                    "a joblib {what} names the file {name:?}: only a plain file name in the \
                     pickle's own directory is read"
                ),
            ));
        }
        Ok(dir.join(name))
    }

    /// A joblib < 0.10 `NDArrayWrapper`: the array is the sibling `.npy` file.
    fn sibling(&mut self, state: Option<Value<'_, '_>>, options: &Options) -> Result<AfterBuild> {
        let path = self.sibling_path(state, "NDArrayWrapper")?;
        if !options.emulate {
            return Ok(AfterBuild::Nothing);
        }
        let in_file = |e: Error| {
            Error::new(
                e.kind(),
                format!("joblib array file {}: {e}", path.display()),
            )
        };
        let bytes = crate::read::file_bytes(&path, self.mmap).map_err(|e| in_file(e.into()))?;
        let header = Header::parse(&bytes).map_err(in_file)?;
        if header.has_object() {
            return Err(in_file(Error::new(
                ErrorKind::Unsupported,
                "it holds an array of Python objects (a pickle), which a joblib < 0.10 \
                 dump never writes there",
            )));
        }
        let array = header.array(&bytes).map_err(in_file)?;
        if let Some(found) = &self.found {
            found.borrow_mut().siblings.push(path.clone());
        }
        Ok(AfterBuild::Replace(Emulated::NdArray(Box::new(array))))
    }

    /// A joblib < 0.10 `ZNDArrayWrapper` (compressed dumps): `init_args` and the array's
    /// pickled state without its data; the data is the sibling Z-file.
    fn zsibling(&mut self, state: Option<Value<'_, '_>>, options: &Options) -> Result<AfterBuild> {
        let path = self.sibling_path(state, "ZNDArrayWrapper")?;
        if !options.emulate {
            return Ok(AfterBuild::Nothing);
        }
        // (version, shape, dtype, is_fortran), as `ndarray.__reduce__` gives it.
        let st: Vec<Value<'_, '_>> = state
            .and_then(|s| s.get("state"))
            .map(|s| s.iter().collect())
            .unwrap_or_default();
        let (shape, dtype, fortran) = match st.as_slice() {
            [_, shape, dtype, fortran] | [shape, dtype, fortran] => (*shape, *dtype, *fortran),
            _ => return Err(format_err(
                "a joblib ZNDArrayWrapper whose state is not (version, shape, dtype, is_fortran)",
            )),
        };
        let shape = shape_of(Some(shape))
            .ok_or_else(|| format_err("a joblib ZNDArrayWrapper without a valid shape"))?;
        let dtype: NpDtype = super::dtype_of(dtype, 0).ok_or_else(|| {
            format_err("a joblib ZNDArrayWrapper whose dtype this crate does not read")
        })?;
        let order = if fortran.as_bool() == Some(true) {
            Order::F
        } else {
            Order::C
        };
        let in_file = |e: Error| {
            Error::new(
                e.kind(),
                format!("joblib array file {}: {e}", path.display()),
            )
        };
        let bytes = crate::read::file_bytes(&path, false).map_err(|e| in_file(e.into()))?;
        if !looks_like_zfile(&bytes) {
            return Err(in_file(format_err(
                "not a joblib Z-file (it should start with b\"ZF0x\")",
            )));
        }
        let data = read_zfile(&bytes, &options.limits.inflate()).map_err(in_file)?;
        let array = NdArray::new(dtype, shape, order, Bytes::new(data)).map_err(in_file)?;
        if let Some(found) = &self.found {
            found.borrow_mut().siblings.push(path.clone());
        }
        Ok(AfterBuild::Replace(Emulated::NdArray(Box::new(array))))
    }
}

/// `true` when `data` starts like joblib's zlib "Z-file" (joblib < 0.10's compressed
/// dumps and their arrays): `ZF`, then the length in hex (`0x…`).
pub(crate) fn looks_like_zfile(data: &[u8]) -> bool {
    data.starts_with(b"ZF0x")
}

/// The content of a Z-file: `ZF`, the inflated length in hex left-justified in 19
/// bytes (one more, a space, from joblib ≤ 0.8.4), then a zlib stream, inflated under
/// `limits`; its length must be the one declared.
pub(crate) fn read_zfile(data: &[u8], limits: &InflateLimits) -> Result<Vec<u8>> {
    const HEADER: usize = 2 + 19;
    let truncated = || {
        Error::new(
            ErrorKind::Truncated,
            format!(
                "a joblib Z-file of {} bytes: its header alone is {HEADER}",
                data.len()
            ),
        )
    };
    let header = data.get(2..HEADER).ok_or_else(truncated)?;
    let declared = std::str::from_utf8(header)
        .ok()
        .map(str::trim)
        .and_then(|t| t.strip_prefix("0x"))
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .ok_or_else(|| {
            format_err(format!(
                "a joblib Z-file whose length {:?} is not a hex number",
                String::from_utf8_lossy(header)
            ))
        })?;
    let start = if data.get(HEADER) == Some(&b' ') {
        HEADER + 1
    } else {
        HEADER
    };
    let out = compress::decompress_with(&data[start..], Codec::Zlib, limits, compress::LOAD)?;
    if out.len() as u64 != declared {
        return Err(format_err(format!(
            "a joblib Z-file declares {declared} bytes, its zlib data inflates to {}",
            out.len()
        )));
    }
    Ok(out)
}

/// The data of a block as shared bytes: a slice of the input when it is `input` (no
/// copy), else a copy (slice loads) or the buffer read (stream loads).
fn share(input: Option<&Bytes>, data: RawData<'_>) -> Bytes {
    match data.bytes {
        Cow::Borrowed(b) => input
            .and_then(|whole| whole.slice(data.offset as usize, b.len()))
            .filter(|s| s.as_ptr() == b.as_ptr())
            .unwrap_or_else(|| Bytes::new(b.to_vec())),
        Cow::Owned(v) => Bytes::new(v),
    }
}
