//! [`Element`]: the Rust types a tensor's values can be read as, and [`Scalar`], one
//! value of any dtype decoded for display (JSON, `--data`).

use super::dtype::{ByteOrder, Dtype};

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that tensor elements of some dtypes read as: `f32` for `float32`, `u8`
/// for `uint8`, `bool` for `bool`, `[f32; 2]` (real, imaginary) for `complex64`,
/// `half::f16`/`half::bf16` for `float16`/`bfloat16` (feature `half`), …
///
/// ```
/// use serde_pickle_vm::array::{Dtype, Element};
/// assert_eq!(<f32 as Element>::DTYPE, Dtype::F32);
/// ```
pub trait Element: Copy + Send + Sync + 'static + sealed::Sealed {
    /// The dtype whose elements this type reads.
    const DTYPE: Dtype;
    /// Decodes one element from exactly `DTYPE.size()` bytes in `order`.
    fn decode(bytes: &[u8], order: ByteOrder) -> Self;
    /// Reinterprets native-endian bytes as elements, when aligned and valid.
    fn cast_slice(bytes: &[u8]) -> Option<&[Self]>;
    /// Copies native-endian bytes (whole elements, any alignment) into a `Vec`: one
    /// `memcpy` for plain-old-data types.
    #[doc(hidden)]
    fn collect_native(bytes: &[u8]) -> Vec<Self> {
        let size = Self::DTYPE.size();
        bytes
            .chunks_exact(size)
            .map(|c| Self::decode(c, ByteOrder::native()))
            .collect()
    }
}

macro_rules! element {
    ($t:ty, $d:expr, $n:expr) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: Dtype = $d;
            fn decode(bytes: &[u8], order: ByteOrder) -> Self {
                let mut a = [0u8; $n];
                a.copy_from_slice(&bytes[..$n]);
                match order {
                    ByteOrder::Little => <$t>::from_le_bytes(a),
                    ByteOrder::Big => <$t>::from_be_bytes(a),
                }
            }
            fn cast_slice(bytes: &[u8]) -> Option<&[Self]> {
                bytemuck::try_cast_slice(bytes).ok()
            }
            fn collect_native(bytes: &[u8]) -> Vec<Self> {
                bytemuck::pod_collect_to_vec(bytes)
            }
        }
    };
}

element!(u8, Dtype::U8, 1);
element!(i8, Dtype::I8, 1);
element!(i16, Dtype::I16, 2);
element!(u16, Dtype::U16, 2);
element!(i32, Dtype::I32, 4);
element!(u32, Dtype::U32, 4);
element!(i64, Dtype::I64, 8);
element!(u64, Dtype::U64, 8);
element!(f32, Dtype::F32, 4);
element!(f64, Dtype::F64, 8);
#[cfg(feature = "half")]
element!(half::f16, Dtype::F16, 2);
#[cfg(feature = "half")]
element!(half::bf16, Dtype::BF16, 2);

impl sealed::Sealed for bool {}
impl Element for bool {
    const DTYPE: Dtype = Dtype::Bool;
    fn decode(bytes: &[u8], _: ByteOrder) -> Self {
        bytes[0] != 0
    }
    fn cast_slice(bytes: &[u8]) -> Option<&[Self]> {
        bytemuck::checked::try_cast_slice(bytes).ok()
    }
}

macro_rules! complex {
    ($t:ty, $d:expr, $n:expr) => {
        impl sealed::Sealed for [$t; 2] {}
        impl Element for [$t; 2] {
            const DTYPE: Dtype = $d;
            fn decode(bytes: &[u8], order: ByteOrder) -> Self {
                [
                    <$t as Element>::decode(&bytes[..$n], order),
                    <$t as Element>::decode(&bytes[$n..], order),
                ]
            }
            fn cast_slice(bytes: &[u8]) -> Option<&[Self]> {
                bytemuck::try_cast_slice(bytes).ok()
            }
            fn collect_native(bytes: &[u8]) -> Vec<Self> {
                bytemuck::pod_collect_to_vec(bytes)
            }
        }
    };
}
complex!(f32, Dtype::C64, 4);
complex!(f64, Dtype::C128, 8);

/// One element of any dtype, decoded for display.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    /// A bool.
    Bool(bool),
    /// An integer (every integer dtype; raw bytes of opaque and quantized dtypes).
    Int(i128),
    /// A float (every float dtype, widened exactly to f64).
    Float(f64),
    /// A complex number.
    Complex(f64, f64),
}

impl Scalar {
    /// Decodes the element at the start of `bytes` (little-endian).
    pub fn decode_le(dtype: Dtype, b: &[u8]) -> Scalar {
        use Dtype::*;
        let le = ByteOrder::Little;
        match dtype {
            Bool => Scalar::Bool(b[0] != 0),
            U8 | Bits8 | QUInt8 | QUInt4x2 | QUInt2x4 | F4E2M1FNx2 => Scalar::Int(b[0] as i128),
            I8 | QInt8 => Scalar::Int(b[0] as i8 as i128),
            I16 => Scalar::Int(i16::decode(b, le) as i128),
            U16 | Bits16 => Scalar::Int(u16::decode(b, le) as i128),
            I32 | QInt32 => Scalar::Int(i32::decode(b, le) as i128),
            U32 => Scalar::Int(u32::decode(b, le) as i128),
            I64 => Scalar::Int(i64::decode(b, le) as i128),
            U64 => Scalar::Int(u64::decode(b, le) as i128),
            F32 => Scalar::Float(f32::decode(b, le) as f64),
            F64 => Scalar::Float(f64::decode(b, le)),
            F16 => Scalar::Float(f16_to_f64(u16::decode(b, le))),
            BF16 => Scalar::Float(f32::from_bits((u16::decode(b, le) as u32) << 16) as f64),
            C32 => Scalar::Complex(
                f16_to_f64(u16::decode(b, le)),
                f16_to_f64(u16::decode(&b[2..], le)),
            ),
            C64 => Scalar::Complex(f32::decode(b, le) as f64, f32::decode(&b[4..], le) as f64),
            C128 => Scalar::Complex(f64::decode(b, le), f64::decode(&b[8..], le)),
            F8E5M2 => Scalar::Float(f16_to_f64((b[0] as u16) << 8)),
            F8E4M3FN => Scalar::Float(if b[0] & 0x7f == 0x7f {
                f64::NAN
            } else {
                minifloat(b[0], 4, 3, 7)
            }),
            F8E4M3FNUZ => Scalar::Float(if b[0] == 0x80 {
                f64::NAN
            } else {
                minifloat(b[0], 4, 3, 8)
            }),
            F8E5M2FNUZ => Scalar::Float(if b[0] == 0x80 {
                f64::NAN
            } else {
                minifloat(b[0], 5, 2, 16)
            }),
            F8E8M0FNU => Scalar::Float(if b[0] == 0xff {
                f64::NAN
            } else {
                2f64.powi(b[0] as i32 - 127)
            }),
        }
    }
}

/// IEEE half → f64 (exact), without the `half` crate.
pub(crate) fn f16_to_f64(h: u16) -> f64 {
    let exp = (h >> 10) & 0x1f;
    if exp == 0x1f {
        let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
        return if h & 0x3ff == 0 {
            sign * f64::INFINITY
        } else {
            f64::NAN
        };
    }
    minifloat16(h, 5, 10, 15)
}

/// A finite sign/exponent/mantissa float of 8 bits (no inf/NaN handling) → f64.
fn minifloat(b: u8, exp_bits: u32, man_bits: u32, bias: i32) -> f64 {
    minifloat16(b as u16, exp_bits, man_bits, bias)
}

fn minifloat16(bits: u16, exp_bits: u32, man_bits: u32, bias: i32) -> f64 {
    let sign = if (bits >> (exp_bits + man_bits)) & 1 == 1 {
        -1.0
    } else {
        1.0
    };
    let exp = ((bits >> man_bits) & ((1 << exp_bits) - 1)) as i32;
    let man = (bits & ((1 << man_bits) - 1)) as f64;
    let scale = (1u32 << man_bits) as f64;
    if exp == 0 {
        sign * man / scale * 2f64.powi(1 - bias)
    } else {
        sign * (1.0 + man / scale) * 2f64.powi(exp - bias)
    }
}
