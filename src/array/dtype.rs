//! [`Dtype`]: the element types of torch tensors (and of the numpy arrays that share the
//! tensor machinery), with their sizes and the names torch, numpy and safetensors use.
//!
//! This module knows nothing of archives or pickles.

use std::fmt;

/// The element type of a tensor, named as in torch (`torch.float32` is [`Dtype::F32`]).
///
/// ```
/// use serde_pickle_vm::torch::Dtype;
/// assert_eq!(Dtype::from_name("bfloat16"), Some(Dtype::BF16));
/// assert_eq!(Dtype::BF16.size(), 2);
/// assert_eq!(Dtype::C64.to_string(), "complex64");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dtype {
    /// `torch.bool` (one byte, 0 or 1).
    Bool,
    /// `torch.uint8`.
    U8,
    /// `torch.int8`.
    I8,
    /// `torch.int16`.
    I16,
    /// `torch.uint16`.
    U16,
    /// `torch.int32`.
    I32,
    /// `torch.uint32`.
    U32,
    /// `torch.int64`.
    I64,
    /// `torch.uint64`.
    U64,
    /// `torch.float16` (IEEE half).
    F16,
    /// `torch.bfloat16`.
    BF16,
    /// `torch.float32`.
    F32,
    /// `torch.float64`.
    F64,
    /// `torch.complex32` (two float16).
    C32,
    /// `torch.complex64` (two float32: real, imaginary).
    C64,
    /// `torch.complex128` (two float64).
    C128,
    /// `torch.float8_e4m3fn`.
    F8E4M3FN,
    /// `torch.float8_e5m2`.
    F8E5M2,
    /// `torch.float8_e4m3fnuz`.
    F8E4M3FNUZ,
    /// `torch.float8_e5m2fnuz`.
    F8E5M2FNUZ,
    /// `torch.float8_e8m0fnu`.
    F8E8M0FNU,
    /// `torch.float4_e2m1fn_x2` (two 4-bit floats in one byte).
    F4E2M1FNx2,
    /// `torch.bits8` and the other opaque `bits*` types of one byte.
    Bits8,
    /// `torch.bits16`.
    Bits16,
    /// `torch.qint8` (quantized; rebuilt only as raw bytes).
    QInt8,
    /// `torch.quint8` (quantized).
    QUInt8,
    /// `torch.qint32` (quantized).
    QInt32,
    /// `torch.quint4x2` (quantized).
    QUInt4x2,
    /// `torch.quint2x4` (quantized).
    QUInt2x4,
}

const ALL: &[(Dtype, &str)] = &[
    (Dtype::Bool, "bool"),
    (Dtype::U8, "uint8"),
    (Dtype::I8, "int8"),
    (Dtype::I16, "int16"),
    (Dtype::U16, "uint16"),
    (Dtype::I32, "int32"),
    (Dtype::U32, "uint32"),
    (Dtype::I64, "int64"),
    (Dtype::U64, "uint64"),
    (Dtype::F16, "float16"),
    (Dtype::BF16, "bfloat16"),
    (Dtype::F32, "float32"),
    (Dtype::F64, "float64"),
    (Dtype::C32, "complex32"),
    (Dtype::C64, "complex64"),
    (Dtype::C128, "complex128"),
    (Dtype::F8E4M3FN, "float8_e4m3fn"),
    (Dtype::F8E5M2, "float8_e5m2"),
    (Dtype::F8E4M3FNUZ, "float8_e4m3fnuz"),
    (Dtype::F8E5M2FNUZ, "float8_e5m2fnuz"),
    (Dtype::F8E8M0FNU, "float8_e8m0fnu"),
    (Dtype::F4E2M1FNx2, "float4_e2m1fn_x2"),
    (Dtype::Bits8, "bits8"),
    (Dtype::Bits16, "bits16"),
    (Dtype::QInt8, "qint8"),
    (Dtype::QUInt8, "quint8"),
    (Dtype::QInt32, "qint32"),
    (Dtype::QUInt4x2, "quint4x2"),
    (Dtype::QUInt2x4, "quint2x4"),
];

/// Aliases torch also exports (`torch.float` is `torch.float32`, …).
const ALIASES: &[(&str, Dtype)] = &[
    ("half", Dtype::F16),
    ("float", Dtype::F32),
    ("double", Dtype::F64),
    ("short", Dtype::I16),
    ("int", Dtype::I32),
    ("long", Dtype::I64),
    ("cfloat", Dtype::C64),
    ("cdouble", Dtype::C128),
    ("chalf", Dtype::C32),
    ("bits1x8", Dtype::Bits8),
    ("bits2x4", Dtype::Bits8),
    ("bits4x2", Dtype::Bits8),
];

/// The legacy typed storage classes (`torch.FloatStorage`, …) and their dtypes.
const STORAGE_CLASSES: &[(&str, Dtype)] = &[
    ("DoubleStorage", Dtype::F64),
    ("FloatStorage", Dtype::F32),
    ("HalfStorage", Dtype::F16),
    ("LongStorage", Dtype::I64),
    ("IntStorage", Dtype::I32),
    ("ShortStorage", Dtype::I16),
    ("CharStorage", Dtype::I8),
    ("ByteStorage", Dtype::U8),
    ("BoolStorage", Dtype::Bool),
    ("BFloat16Storage", Dtype::BF16),
    ("ComplexDoubleStorage", Dtype::C128),
    ("ComplexFloatStorage", Dtype::C64),
    ("QInt8Storage", Dtype::QInt8),
    ("QInt32Storage", Dtype::QInt32),
    ("QUInt8Storage", Dtype::QUInt8),
    ("QUInt4x2Storage", Dtype::QUInt4x2),
    ("QUInt2x4Storage", Dtype::QUInt2x4),
    // `torch.UntypedStorage` is bytes; `_rebuild_tensor_v3` names the dtype separately.
    ("UntypedStorage", Dtype::U8),
];

impl Dtype {
    /// Every dtype, in a stable order.
    pub fn all() -> impl Iterator<Item = Dtype> {
        ALL.iter().map(|(d, _)| *d)
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        use Dtype::*;
        match self {
            Bool | U8 | I8 | F8E4M3FN | F8E5M2 | F8E4M3FNUZ | F8E5M2FNUZ | F8E8M0FNU
            | F4E2M1FNx2 | Bits8 | QInt8 | QUInt8 | QUInt4x2 | QUInt2x4 => 1,
            I16 | U16 | F16 | BF16 | Bits16 => 2,
            I32 | U32 | F32 | C32 | QInt32 => 4,
            I64 | U64 | F64 | C64 => 8,
            C128 => 16,
        }
    }

    /// The size of the unit that byte order applies to: an element, or half a complex.
    pub fn component_size(self) -> usize {
        match self {
            Dtype::C32 | Dtype::C64 | Dtype::C128 => self.size() / 2,
            _ => self.size(),
        }
    }

    /// torch's name without the `torch.` prefix (`"float32"`).
    pub fn name(self) -> &'static str {
        ALL.iter()
            .find(|(d, _)| *d == self)
            .map(|(_, n)| *n)
            .unwrap_or("unknown")
    }

    /// The dtype of a torch name (`"float32"`, `"float"`, `"torch.bfloat16"`).
    pub fn from_name(name: &str) -> Option<Dtype> {
        let name = name.strip_prefix("torch.").unwrap_or(name);
        ALL.iter()
            .find(|(_, n)| *n == name)
            .map(|(d, _)| *d)
            .or_else(|| ALIASES.iter().find(|(n, _)| *n == name).map(|(_, d)| *d))
    }

    /// The dtype of a legacy storage class name (`"FloatStorage"` → `F32`;
    /// `"UntypedStorage"` → `U8`).
    pub fn from_storage_class(name: &str) -> Option<Dtype> {
        STORAGE_CLASSES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| *d)
    }

    /// `true` for the quantized dtypes, whose values need scales and zero points.
    pub fn is_quantized(self) -> bool {
        matches!(
            self,
            Dtype::QInt8 | Dtype::QUInt8 | Dtype::QInt32 | Dtype::QUInt4x2 | Dtype::QUInt2x4
        )
    }

    /// `true` for the floating-point dtypes (including bf16 and the float8 family).
    pub fn is_float(self) -> bool {
        use Dtype::*;
        matches!(
            self,
            F16 | BF16
                | F32
                | F64
                | F8E4M3FN
                | F8E5M2
                | F8E4M3FNUZ
                | F8E5M2FNUZ
                | F8E8M0FNU
                | F4E2M1FNx2
        )
    }

    /// The numpy type string for this dtype in little-endian order (`"<f4"`), when numpy
    /// has the type.
    pub fn numpy_descr(self) -> Option<&'static str> {
        use Dtype::*;
        Some(match self {
            Bool => "|b1",
            U8 => "|u1",
            I8 => "|i1",
            I16 => "<i2",
            U16 => "<u2",
            I32 => "<i4",
            U32 => "<u4",
            I64 => "<i8",
            U64 => "<u8",
            F16 => "<f2",
            F32 => "<f4",
            F64 => "<f8",
            C64 => "<c8",
            C128 => "<c16",
            _ => return None,
        })
    }

    /// The dtype and byte order of a numpy type string (`"<f4"`, `">i8"`, `"|b1"`, `"f8"`
    /// meaning native order). `None` for types without a torch counterpart (strings,
    /// datetimes, records, objects).
    pub fn from_numpy_descr(descr: &str) -> Option<(Dtype, ByteOrder)> {
        let (order, code) = match descr.as_bytes().first()? {
            b'<' => (ByteOrder::Little, &descr[1..]),
            b'>' => (ByteOrder::Big, &descr[1..]),
            b'|' | b'=' => (ByteOrder::native(), &descr[1..]),
            _ => (ByteOrder::native(), descr),
        };
        use Dtype::*;
        let d = match code {
            "b1" | "?" => Bool,
            "u1" | "B" => U8,
            "i1" | "b" => I8,
            "i2" | "h" => I16,
            "u2" | "H" => U16,
            "i4" | "i" => I32,
            "u4" | "I" => U32,
            "i8" | "q" | "l" => I64,
            "u8" | "Q" | "L" => U64,
            "f2" | "e" => F16,
            "f4" | "f" => F32,
            "f8" | "d" => F64,
            "c8" | "F" => C64,
            "c16" | "D" => C128,
            _ => return None,
        };
        Some((d, order))
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The byte order of stored elements (torch's `byteorder` record, numpy's `<`/`>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

impl ByteOrder {
    /// The order of this machine.
    pub fn native() -> ByteOrder {
        if cfg!(target_endian = "big") {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        }
    }
}
