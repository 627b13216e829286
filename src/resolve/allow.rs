//! Allow-lists of globals: the names a pickle may import, like
//! `torch.load(weights_only=True)`. An [`AllowList`] becomes a `find_class` hook (see
//! [`Unpickler::allow_globals`](crate::Unpickler::allow_globals)) that rejects every
//! other global; the scanner reads the same tables to call a global *safe*.
//!
//! The tables are names of the Python standard library, torch and numpy that only build
//! data. They know nothing of the VM.

use crate::error::Result;
use crate::resolve::compat;
use crate::resolve::hooks::ClassAction;

/// Containers, scalars and the standard-library classes the crate emulates.
pub(crate) static DATA: &[&str] = &[
    "builtins.bool",
    "builtins.bytearray",
    "builtins.bytes",
    "builtins.complex",
    "builtins.dict",
    "builtins.float",
    "builtins.frozenset",
    "builtins.int",
    "builtins.list",
    "builtins.object",
    "builtins.range",
    "builtins.set",
    "builtins.slice",
    "builtins.str",
    "builtins.tuple",
    "_codecs.encode",
    "copyreg._reconstructor",
    "copyreg.__newobj__",
    "copyreg.__newobj_ex__",
    "collections.Counter",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.deque",
    "datetime.date",
    "datetime.datetime",
    "datetime.time",
    "datetime.timedelta",
    "datetime.timezone",
    "decimal.Decimal",
    "fractions.Fraction",
    "uuid.UUID",
];

/// What torch checkpoints (`torch.save` of tensors, parameters and state dicts) need.
pub(crate) static TORCH: &[&str] = &[
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_sparse_csr_tensor",
    "torch._utils._rebuild_nested_tensor",
    "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._tensor._rebuild_from_type_v2",
    "torch.nn.parameter.Parameter",
    // TorchScript's list and tensor builders (`torch.jit._pickle.build_intlist`, …).
    "torch.jit._pickle.*",
    "torch.Size",
    "torch.device",
    "torch.dtype",
    "torch.layout",
    "torch.memory_format",
    "torch.strided",
    "torch.sparse_coo",
    "torch.sparse_csr",
    "torch.contiguous_format",
    "torch.channels_last",
    "torch.preserve_format",
    "torch.per_tensor_affine",
    "torch.per_channel_affine",
    "torch.serialization._get_layout",
    "torch.storage.UntypedStorage",
    "torch.storage.TypedStorage",
    "torch.storage._TypedStorage",
    "torch.UntypedStorage",
    "torch.TypedStorage",
    "collections.OrderedDict",
    "_codecs.encode",
    "builtins.set",
    "builtins.frozenset",
    "builtins.slice",
    "builtins.complex",
    "builtins.bytearray",
];

/// numpy arrays, scalars and dtypes (numpy 1 and 2 module names), the states of its
/// random generators, and joblib's array wrappers.
pub(crate) static NUMPY: &[&str] = &[
    "numpy.core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy.core.numeric._frombuffer",
    "numpy._core.multiarray._reconstruct",
    "numpy._core.multiarray.scalar",
    "numpy._core.numeric._frombuffer",
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.dtypes.*",
    // StringDType (numpy 2), as `np.dtypes.StringDType().__reduce__()` names it.
    "numpy._core._internal._convert_to_stringdtype_kwargs",
    // Random generators, as numpy 2 pickles them (`numpy/random/_pickle.py`; the
    // constructors take a bit generator class or name, and a constructor callable that
    // is itself a global of the pickle), and numpy < 1.17's RandomState.
    "numpy.random._pickle.__generator_ctor",
    "numpy.random._pickle.__bit_generator_ctor",
    "numpy.random._pickle.__randomstate_ctor",
    "numpy.random.__RandomState_ctor",
    "numpy.random._pcg64.PCG64",
    "numpy.random._pcg64.PCG64DXSM",
    "numpy.random._mt19937.MT19937",
    "numpy.random._philox.Philox",
    "numpy.random._sfc64.SFC64",
    "numpy.random.bit_generator.SeedSequence",
    "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
    // joblib's array wrappers (joblib >= 0.10 inline arrays; < 0.10 sibling files), also
    // under scikit-learn < 0.23's copy of joblib. Only these: joblib's loaders stay out.
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "joblib.numpy_pickle.NDArrayWrapper",
    "joblib.numpy_pickle.ZNDArrayWrapper",
    "joblib.numpy_pickle_compat.NDArrayWrapper",
    "joblib.numpy_pickle_compat.ZNDArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.NDArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.ZNDArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle_compat.NDArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle_compat.ZNDArrayWrapper",
];

/// pandas DataFrames and Series as pandas 1.5, 2.x and 3.x pickle them: the frame and
/// Series classes, block managers and blocks, indexes, the array and dtype classes, the
/// pyarrow array restore functions, and the time zones of tz-aware columns (zoneinfo,
/// pytz). Only constructors of data: pandas' readers (`read_pickle`, `read_csv`, …),
/// `eval` and `io` stay out.
pub(crate) static PANDAS: &[&str] = &[
    "pandas.ArrowDtype",
    "pandas.BooleanDtype",
    "pandas.Categorical",
    "pandas.CategoricalDtype",
    "pandas.CategoricalIndex",
    "pandas.DataFrame",
    "pandas.DatetimeIndex",
    "pandas.DatetimeTZDtype",
    "pandas.Float32Dtype",
    "pandas.Float64Dtype",
    "pandas.Index",
    "pandas.Int16Dtype",
    "pandas.Int32Dtype",
    "pandas.Int64Dtype",
    "pandas.Int8Dtype",
    "pandas.MultiIndex",
    "pandas.NA",
    "pandas.RangeIndex",
    "pandas.Series",
    "pandas.StringDtype",
    "pandas.TimedeltaIndex",
    "pandas.UInt16Dtype",
    "pandas.UInt32Dtype",
    "pandas.UInt64Dtype",
    "pandas.UInt8Dtype",
    "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked",
    "pandas._libs.internals._unpickle_block",
    "pandas._libs.internals.new_block",
    "pandas._libs.missing.NA",
    "pandas._libs.missing.NAType",
    "pandas._libs.tslibs.nattype.__nat_unpickle",
    "pandas._libs.tslibs.offsets.*",
    "pandas._libs.tslibs.offsets.Day",
    "pandas._libs.tslibs.offsets.Hour",
    "pandas._libs.tslibs.timedeltas._timedelta_unpickle",
    "pandas._libs.tslibs.timestamps._unpickle_timestamp",
    "pandas.arrays.ArrowExtensionArray",
    "pandas.arrays.ArrowStringArray",
    "pandas.arrays.BooleanArray",
    "pandas.arrays.DatetimeArray",
    "pandas.arrays.FloatingArray",
    "pandas.arrays.IntegerArray",
    "pandas.arrays.NumpyExtensionArray",
    "pandas.arrays.StringArray",
    "pandas.arrays.TimedeltaArray",
    "pandas.core.arrays.arrow.array.ArrowExtensionArray",
    "pandas.core.arrays.arrow.dtype.ArrowDtype",
    "pandas.core.arrays.boolean.BooleanArray",
    "pandas.core.arrays.boolean.BooleanDtype",
    "pandas.core.arrays.categorical.Categorical",
    "pandas.core.arrays.datetimes.DatetimeArray",
    "pandas.core.arrays.floating.Float32Dtype",
    "pandas.core.arrays.floating.Float64Dtype",
    "pandas.core.arrays.floating.FloatingArray",
    "pandas.core.arrays.integer.Int16Dtype",
    "pandas.core.arrays.integer.Int32Dtype",
    "pandas.core.arrays.integer.Int64Dtype",
    "pandas.core.arrays.integer.Int8Dtype",
    "pandas.core.arrays.integer.IntegerArray",
    "pandas.core.arrays.integer.UInt16Dtype",
    "pandas.core.arrays.integer.UInt32Dtype",
    "pandas.core.arrays.integer.UInt64Dtype",
    "pandas.core.arrays.integer.UInt8Dtype",
    "pandas.core.arrays.numpy_.NumpyExtensionArray",
    "pandas.core.arrays.numpy_.PandasArray",
    "pandas.core.arrays.string_.StringArray",
    "pandas.core.arrays.string_.StringDtype",
    "pandas.core.arrays.string_arrow.ArrowStringArray",
    "pandas.core.arrays.string_arrow.ArrowStringArrayNumpySemantics",
    "pandas.core.arrays.timedeltas.TimedeltaArray",
    "pandas.core.dtypes.dtypes.ArrowDtype",
    "pandas.core.dtypes.dtypes.CategoricalDtype",
    "pandas.core.dtypes.dtypes.DatetimeTZDtype",
    "pandas.core.frame.DataFrame",
    "pandas.core.indexes.base.Index",
    "pandas.core.indexes.base._new_Index",
    "pandas.core.indexes.category.CategoricalIndex",
    "pandas.core.indexes.datetimes.DatetimeIndex",
    "pandas.core.indexes.datetimes._new_DatetimeIndex",
    "pandas.core.indexes.multi.MultiIndex",
    "pandas.core.indexes.numeric.Float64Index",
    "pandas.core.indexes.numeric.Int64Index",
    "pandas.core.indexes.numeric.UInt64Index",
    "pandas.core.indexes.range.RangeIndex",
    "pandas.core.indexes.timedeltas.TimedeltaIndex",
    "pandas.core.internals.managers.BlockManager",
    "pandas.core.internals.managers.SingleBlockManager",
    "pandas.core.series.Series",
    "pyarrow.lib._restore_array",
    "pyarrow.lib.chunked_array",
    "pyarrow.lib.dictionary",
    "pyarrow.lib.duration",
    "pyarrow.lib.py_buffer",
    "pyarrow.lib.timestamp",
    "pyarrow.lib.type_for_alias",
    "pytz.FixedOffset",
    "pytz._UTC",
    "pytz._p",
    "zoneinfo.ZoneInfo",
    "zoneinfo.ZoneInfo._unpickle",
];

/// torch's scalar types, as `torch.<name>` globals (`torch.float32`, …).
static TORCH_DTYPES: &[&str] = &[
    "float32",
    "float",
    "float64",
    "double",
    "float16",
    "half",
    "bfloat16",
    "complex32",
    "chalf",
    "complex64",
    "cfloat",
    "complex128",
    "cdouble",
    "uint8",
    "int8",
    "int16",
    "short",
    "int32",
    "int",
    "int64",
    "long",
    "bool",
    "uint16",
    "uint32",
    "uint64",
    "qint8",
    "quint8",
    "qint32",
    "quint4x2",
    "quint2x4",
    "bits1x8",
    "bits2x4",
    "bits4x2",
    "bits8",
    "bits16",
];

fn torch_builtin(module: &str, name: &str) -> bool {
    module == "torch"
        && (TORCH_DTYPES.contains(&name)
            || name.starts_with("float8_")
            || ((name.ends_with("Storage") || name.ends_with("Tensor"))
                && name.bytes().all(|b| b.is_ascii_alphanumeric())))
}

/// A set of globals a pickle may import; every other global is rejected.
///
/// An entry is a full name (`"collections.OrderedDict"`, `"__main__.Greeter"`) or a whole
/// module with its submodules (`"mypkg.*"`). Names are matched after the Python 2 renames
/// (`__builtin__.set` is `builtins.set`).
///
/// ```
/// use serde_pickle_vm::{AllowList, ErrorKind, Unpickler};
/// // cos\nsystem\n(S'echo hi'\ntR. — os.system('echo hi'), protocol 0.
/// let payload = b"cos\nsystem\n(S'echo hi'\ntR.";
/// let err = Unpickler::new()
///     .allow_globals(AllowList::data())
///     .load_slice(payload)
///     .unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Rejected);
/// assert_eq!(err.offset(), Some(0));
/// assert!(err.to_string().contains("'os.system'"));
///
/// // A custom class is allowed by name.
/// let greeter = b"c__main__\nGreeter\n)R.";
/// let graph = Unpickler::new()
///     .allow_globals(AllowList::data().with("__main__.Greeter"))
///     .load_slice(greeter)
///     .unwrap();
/// assert!(graph.root().as_object().is_some());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    exact: Vec<String>,
    modules: Vec<String>,
    torch_types: bool,
}

impl AllowList {
    /// An empty list: no global at all (plain data without classes still loads).
    ///
    /// ```
    /// use serde_pickle_vm::{AllowList, Unpickler};
    /// let g = Unpickler::new().allow_globals(AllowList::new()).load_slice(b"]K\x01a.").unwrap();
    /// assert_eq!(g.root().iter().count(), 1);
    /// ```
    pub fn new() -> Self {
        AllowList::default()
    }

    /// Plain data: the built-in containers and types, `copyreg`'s reconstructors,
    /// `_codecs.encode` (how protocols 0–2 write bytes) and the standard-library classes
    /// the crate emulates (`OrderedDict`, `defaultdict`, `Counter`, `datetime.*`,
    /// `Decimal`, `UUID`, …).
    ///
    /// ```
    /// use serde_pickle_vm::AllowList;
    /// assert!(AllowList::data().allows("collections", "OrderedDict"));
    /// assert!(!AllowList::data().allows("os", "system"));
    /// ```
    pub fn data() -> Self {
        AllowList::new().extend(DATA.iter().copied())
    }

    /// What `torch.save` checkpoints of tensors and state dicts need, like
    /// `torch.load(weights_only=True)`: the rebuild functions, storages, dtypes,
    /// `torch.Size`, `torch.device`, `Parameter`, `OrderedDict`, `_codecs.encode`, plus
    /// [`data`](Self::data) and [`numpy`](Self::numpy). Pickled `nn.Module`s are not
    /// included: allow their classes by name if you trust them.
    ///
    /// ```
    /// use serde_pickle_vm::AllowList;
    /// let list = AllowList::torch();
    /// assert!(list.allows("torch._utils", "_rebuild_tensor_v2"));
    /// assert!(list.allows("torch", "FloatStorage"));
    /// assert!(list.allows("torch", "bfloat16"));
    /// assert!(!list.allows("torch", "load"));
    /// ```
    pub fn torch() -> Self {
        let mut list = AllowList::data()
            .extend(TORCH.iter().copied())
            .extend(NUMPY.iter().copied());
        list.torch_types = true;
        list
    }

    /// numpy arrays, scalars and dtypes (`numpy.core.multiarray._reconstruct`, …), the
    /// states of numpy's random generators (`numpy.random._pickle.__generator_ctor`,
    /// the bit generator classes, `SeedSequence`) and joblib's array wrappers
    /// (`joblib.numpy_pickle.NumpyArrayWrapper`; not joblib's loaders).
    ///
    /// ```
    /// use serde_pickle_vm::AllowList;
    /// assert!(AllowList::numpy().allows("numpy", "ndarray"));
    /// assert!(AllowList::numpy().allows("numpy.dtypes", "Float64DType"));
    /// assert!(AllowList::numpy().allows("numpy.random._pickle", "__generator_ctor"));
    /// assert!(AllowList::numpy().allows("joblib.numpy_pickle", "NumpyArrayWrapper"));
    /// assert!(!AllowList::numpy().allows("joblib", "load"));
    /// ```
    pub fn numpy() -> Self {
        AllowList::new().extend(NUMPY.iter().copied())
    }

    /// pandas DataFrames and Series as pandas 1.5–3.x write them (frames, block
    /// managers, indexes, array and dtype classes, pyarrow arrays, zoneinfo and pytz time
    /// zones), plus [`data`](Self::data) and [`numpy`](Self::numpy). zoneinfo pickles
    /// a zone as `getattr(ZoneInfo, "_unpickle")(key, 1)`: frames with zoneinfo time
    /// zones (pandas 3's default) also need `.with("builtins.getattr")`, which this list
    /// leaves to you (`pickle-vm scan` follows such a getattr and calls it safe).
    ///
    /// ```
    /// use serde_pickle_vm::AllowList;
    /// let list = AllowList::pandas();
    /// assert!(list.allows("pandas.core.frame", "DataFrame"));
    /// assert!(list.allows("pyarrow.lib", "_restore_array"));
    /// assert!(list.allows("numpy", "ndarray"));
    /// assert!(!list.allows("pandas", "read_pickle"));
    /// ```
    pub fn pandas() -> Self {
        AllowList::data()
            .extend(NUMPY.iter().copied())
            .extend(PANDAS.iter().copied())
    }

    /// Adds one entry: `"module.name"` or `"module.*"`.
    ///
    /// ```
    /// use serde_pickle_vm::AllowList;
    /// let list = AllowList::new().with("mypkg.*").with("__main__.Greeter");
    /// assert!(list.allows("mypkg.models", "Net"));
    /// assert!(list.allows("__main__", "Greeter"));
    /// assert!(!list.allows("__main__", "Other"));
    /// ```
    pub fn with(mut self, entry: &str) -> Self {
        self.add(entry);
        self
    }

    /// Adds every entry of `entries`.
    ///
    /// ```
    /// use serde_pickle_vm::AllowList;
    /// let list = AllowList::new().extend(["a.B", "c.*"]);
    /// assert!(list.allows("c", "D"));
    /// ```
    pub fn extend<'a, I: IntoIterator<Item = &'a str>>(mut self, entries: I) -> Self {
        for e in entries {
            self.add(e);
        }
        self
    }

    fn add(&mut self, entry: &str) {
        match entry.strip_suffix(".*") {
            Some(module) => self.modules.push(module.to_string()),
            None => self.exact.push(entry.to_string()),
        }
    }

    /// `true` when `module.name` may be imported. Python 2 names are matched under
    /// their Python 3 names.
    ///
    /// ```
    /// use serde_pickle_vm::AllowList;
    /// assert!(AllowList::data().allows("builtins", "set"));
    /// assert!(AllowList::data().allows("__builtin__", "set"));
    /// ```
    pub fn allows(&self, module: &str, name: &str) -> bool {
        if self.allows_exactly(module, name) {
            return true;
        }
        // A Python 2 name (in a protocol 3+ pickle the VM does not rename) is allowed
        // under its Python 3 name, as the scanner judges it.
        match compat::rename(module, name) {
            Some((m, n)) => self.allows_exactly(m, n.unwrap_or(name)),
            None => false,
        }
    }

    fn allows_exactly(&self, module: &str, name: &str) -> bool {
        if self.torch_types && torch_builtin(module, name) {
            return true;
        }
        if self.modules.iter().any(|m| {
            module == m
                || module
                    .strip_prefix(m.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        }) {
            return true;
        }
        self.exact.iter().any(|e| {
            e.len() == module.len() + 1 + name.len()
                && e.starts_with(module)
                && e.as_bytes()[module.len()] == b'.'
                && e.ends_with(name)
        })
    }

    /// The `find_class` decision for `module.name`: keep it, or reject it with a reason.
    pub(crate) fn decide(&self, module: &str, name: &str) -> Result<ClassAction> {
        Ok(if self.allows(module, name) {
            ClassAction::Keep
        } else {
            ClassAction::Reject(format!(
                "not in the allow-list (add \"{module}.{name}\" to allow it)"
            ))
        })
    }
}

/// `true` when `module.name` is one of the names the built-in lists call data
/// ([`AllowList::torch`] is their union).
pub(crate) fn is_known_data(module: &str, name: &str) -> bool {
    thread_local! {
        static ALL: AllowList = AllowList::torch().extend(PANDAS.iter().copied());
    }
    ALL.with(|l| l.allows(module, name))
}
