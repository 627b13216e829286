//! The `.npy` format (numpy's `numpy.lib.format`): the magic string `\x93NUMPY`, a
//! version (1.0, 2.0 or 3.0), the header length (2 bytes in 1.0, 4 after), a header that
//! is a Python literal dict `{'descr': …, 'fortran_order': …, 'shape': (…), }` (latin-1
//! in 1.0 and 2.0, UTF-8 in 3.0), padded so the data starts at a multiple of 64 bytes;
//! then the data: the elements in C or Fortran order, or, for dtypes that hold Python
//! objects, a pickle of the whole array.
//!
//! ```
//! use serde_pickle_vm::numpy::npy::Header;
//! // np.save(f, np.arange(3.0)) writes this header, then 24 bytes of data.
//! let mut file = b"\x93NUMPY\x01\x00\x76\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }".to_vec();
//! file.resize(127, b' ');
//! file.push(b'\n');
//! for v in [0.0f64, 1.0, 2.0] {
//!     file.extend_from_slice(&v.to_le_bytes());
//! }
//! let h = Header::parse(&file).unwrap();
//! assert_eq!((h.version, h.shape.as_slice(), h.data_offset), ((1, 0), &[3][..], 128));
//! assert_eq!(h.dtype.str(), "<f8");
//! assert_eq!(h.data_len().unwrap(), Some(24));
//! ```

use super::literal::{self, Lit};
use crate::array::{Bytes, Field, NdArray, NpDtype, NpKind, Order};
use crate::error::{Error, ErrorKind, Result};

/// The magic string every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The longest header accepted (numpy refuses more than 10,000 characters unless the
/// file is trusted; structured dtypes with thousands of fields need more).
pub const MAX_HEADER_LEN: usize = 16 << 20;

/// `true` when `data` starts with the `.npy` magic string.
pub fn looks_like_npy(data: &[u8]) -> bool {
    data.starts_with(MAGIC)
}

/// The header of a `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The format version: (1, 0), (2, 0) or (3, 0).
    pub version: (u8, u8),
    /// The dtype the header's `descr` describes.
    pub dtype: NpDtype,
    /// `fortran_order`: the data is in column-major order.
    pub fortran_order: bool,
    /// The shape (empty for a 0-d array).
    pub shape: Vec<usize>,
    /// Where the data starts (after the header's padding).
    pub data_offset: usize,
}

fn bad(offset: usize, msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Format, msg).with_offset(offset as u64)
}

/// The file ends before what its header says is there.
fn short(offset: usize, msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Truncated, msg).with_offset(offset as u64)
}

impl Header {
    /// Parses the header at the start of `data` (the whole file, or at least its
    /// header). Errors name what is wrong and the byte offset: a truncated header, an
    /// unknown version, a header length past the end, a malformed literal, an unknown
    /// dtype, a shape that is not a tuple of non-negative ints.
    pub fn parse(data: &[u8]) -> Result<Header> {
        if !looks_like_npy(data) {
            let n = data.len().min(6);
            if MAGIC.starts_with(&data[..n]) {
                return Err(short(
                    0,
                    format!("truncated .npy header: the file is {} bytes, shorter than the magic string", data.len()),
                ));
            }
            return Err(bad(0, "not a .npy file: no \\x93NUMPY magic string"));
        }
        let (Some(&major), Some(&minor)) = (data.get(6), data.get(7)) else {
            return Err(short(
                data.len(),
                "truncated .npy header: the file ends before the format version",
            ));
        };
        let (len_size, utf8) = match (major, minor) {
            (1, 0) => (2, false),
            (2, 0) | (3, 0) => (4, major == 3),
            _ => {
                return Err(bad(
                    6,
                    format!(
                    "unsupported .npy format version {major}.{minor} (1.0, 2.0 and 3.0 are known)"
                ),
                ))
            }
        };
        let Some(len_bytes) = data.get(8..8 + len_size) else {
            return Err(short(
                8,
                format!(
                    "truncated .npy header: the file ends before the {len_size}-byte header length"
                ),
            ));
        };
        let mut le = [0u8; 4];
        le[..len_size].copy_from_slice(len_bytes);
        let header_len = u32::from_le_bytes(le) as usize;
        let start = 8 + len_size;
        if header_len > MAX_HEADER_LEN {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(".npy header of {header_len} bytes is longer than the {MAX_HEADER_LEN} accepted"),
            )
            .with_offset(8));
        }
        let end = start + header_len;
        if end > data.len() {
            return Err(short(
                8,
                format!(
                    ".npy header length {header_len} runs past the end of the file: {} bytes follow the length",
                    data.len() - start
                ),
            ));
        }
        let raw = &data[start..end];
        let text: std::borrow::Cow<'_, str> = if utf8 {
            std::str::from_utf8(raw)
                .map_err(|e| {
                    bad(
                        start + e.valid_up_to(),
                        "the .npy 3.0 header is not valid UTF-8",
                    )
                })?
                .into()
        } else {
            raw.iter().map(|&b| b as char).collect::<String>().into()
        };
        // Offsets in `text` are character offsets for latin-1 (one byte each) and byte
        // offsets for UTF-8: both are byte offsets in the file.
        let lit = literal::parse(&text, major < 3).map_err(|e| {
            bad(
                start + e.offset,
                format!("bad .npy header literal: {}", e.message),
            )
        })?;
        let at = |msg: String| bad(start, msg);
        let Lit::Dict(pairs) = lit else {
            return Err(at(format!(
                "the .npy header is a {}, not a dict",
                lit.type_name()
            )));
        };
        let (mut descr, mut fortran, mut shape) = (None, None, None);
        for (k, v) in pairs {
            let slot = match &k {
                Lit::Str(s) if s == "descr" => &mut descr,
                Lit::Str(s) if s == "fortran_order" => &mut fortran,
                Lit::Str(s) if s == "shape" => &mut shape,
                other => {
                    return Err(at(format!(
                        "the .npy header has an unexpected key {}",
                        show(other)
                    )))
                }
            };
            *slot = Some(v);
        }
        let (Some(descr), Some(fortran), Some(shape)) = (descr, fortran, shape) else {
            return Err(at(
                "the .npy header must have the keys 'descr', 'fortran_order' and 'shape'".into(),
            ));
        };
        let fortran_order = match fortran {
            Lit::Bool(b) => b,
            other => return Err(at(format!("fortran_order is not a bool: {}", show(&other)))),
        };
        let shape = match &shape {
            Lit::Tuple(dims) => dims
                .iter()
                .map(|d| match d {
                    Lit::Int(n) => usize::try_from(*n).ok(),
                    _ => None,
                })
                .collect::<Option<Vec<usize>>>(),
            _ => None,
        }
        .ok_or_else(|| {
            at(format!(
                "shape is not a tuple of non-negative ints: {}",
                show(&shape)
            ))
        })?;
        let dtype = descr_to_dtype(&descr, 0).map_err(at)?;
        Ok(Header {
            version: (major, minor),
            dtype,
            fortran_order,
            shape,
            data_offset: end,
        })
    }

    /// The number of elements (1 for a 0-d array); `None` when it overflows.
    pub fn numel(&self) -> Option<usize> {
        self.shape.iter().try_fold(1usize, |a, &n| a.checked_mul(n))
    }

    /// `true` when the data is a pickle (the dtype holds Python objects somewhere).
    pub fn has_object(&self) -> bool {
        has_object(&self.dtype)
    }

    /// The data's length in bytes, `None` for a pickle; an error when it overflows.
    pub fn data_len(&self) -> Result<Option<usize>> {
        if self.has_object() {
            return Ok(None);
        }
        self.numel()
            .and_then(|n| n.checked_mul(self.dtype.itemsize()))
            .map(Some)
            .ok_or_else(|| {
                bad(
                    self.data_offset,
                    format!(
                        ".npy header declares shape {:?} of {}, whose size overflows",
                        self.shape,
                        self.dtype.str()
                    ),
                )
            })
    }

    /// The memory order of the data.
    pub fn order(&self) -> Order {
        if self.fortran_order {
            Order::F
        } else {
            Order::C
        }
    }

    /// The array over `file` (the whole file; its header parsed into `self`): a view of
    /// `file`'s bytes, zero-copy. Errors when fewer bytes follow the header than the
    /// shape needs, and for dtypes that hold objects (their data is a pickle).
    pub fn array(&self, file: &Bytes) -> Result<NdArray> {
        let Some(len) = self.data_len()? else {
            return Err(bad(
                self.data_offset,
                "the .npy data is a pickle (the dtype holds Python objects), not an array of bytes",
            ));
        };
        let have = file.len().saturating_sub(self.data_offset);
        if have < len {
            return Err(Error::new(
                ErrorKind::Truncated,
                format!(
                    ".npy header declares shape {:?} of {} ({len} bytes) but {have} bytes follow the header",
                    self.shape,
                    self.dtype.str()
                ),
            )
            .with_offset(self.data_offset as u64));
        }
        let data = file
            .slice(self.data_offset, len)
            .ok_or_else(|| bad(self.data_offset, ".npy data out of range"))?;
        NdArray::new(self.dtype.clone(), self.shape.clone(), self.order(), data)
            .map_err(|e| bad(self.data_offset, e.message().to_string()))
    }
}

/// Whether any part of `dtype` is a Python object (numpy's `dtype.hasobject`).
pub(crate) fn has_object(dtype: &NpDtype) -> bool {
    if *dtype.kind() == NpKind::Object {
        return true;
    }
    if let Some((base, _)) = dtype.subarray() {
        return has_object(base);
    }
    dtype.fields().iter().any(|f| has_object(&f.dtype))
}

/// A literal as Python's `repr` would show it (for messages; short).
fn show(v: &Lit) -> String {
    let s = match v {
        Lit::Str(s) => format!("{s:?}"),
        Lit::Int(i) => i.to_string(),
        Lit::Bool(b) => if *b { "True" } else { "False" }.into(),
        Lit::None => "None".into(),
        Lit::Tuple(_) | Lit::List(_) | Lit::Dict(_) => format!("a {}", v.type_name()),
    };
    if s.chars().count() > 80 {
        s.chars().take(80).chain(std::iter::once('…')).collect()
    } else {
        s
    }
}

/// numpy's `descr_to_dtype`: a type string, `(descr, shape)` for a sub-array, or a list
/// of fields `(name, descr[, shape])` (`name` may be `(title, name)`; fields named ''
/// of plain void type are padding) laid out one after the other.
fn descr_to_dtype(descr: &Lit, depth: usize) -> std::result::Result<NpDtype, String> {
    if depth > literal::MAX_DEPTH {
        return Err("the dtype nests too deeply".into());
    }
    match descr {
        Lit::Str(s) => {
            NpDtype::parse(s).ok_or_else(|| format!("unknown dtype {s:?} in the .npy header"))
        }
        Lit::Tuple(t) => match t.as_slice() {
            [base, shape] => subarray(descr_to_dtype(base, depth + 1)?, shape),
            _ => Err(format!(
                "a dtype tuple must be (dtype, shape), not {} items",
                t.len()
            )),
        },
        Lit::List(fields) => {
            let mut out = Vec::new();
            let mut offset = 0usize;
            for f in fields {
                let Lit::Tuple(parts) = f else {
                    return Err(format!(
                        "a record field must be a tuple, not a {}",
                        f.type_name()
                    ));
                };
                let (name, dt) = match parts.as_slice() {
                    [name, d] => (name, descr_to_dtype(d, depth + 1)?),
                    [name, d, shape] => (name, subarray(descr_to_dtype(d, depth + 1)?, shape)?),
                    _ => {
                        return Err(format!(
                            "a record field must be (name, dtype) or (name, dtype, shape), not {} items",
                            parts.len()
                        ))
                    }
                };
                let (title, name) = match name {
                    Lit::Str(n) => (None, n.clone()),
                    Lit::Tuple(tn) => match tn.as_slice() {
                        [Lit::Str(t), Lit::Str(n)] => (Some(t.clone()), n.clone()),
                        [Lit::None, Lit::Str(n)] => (None, n.clone()),
                        _ => return Err("a field's (title, name) must be two strs".into()),
                    },
                    other => {
                        return Err(format!(
                            "a field name must be a str, not a {}",
                            other.type_name()
                        ))
                    }
                };
                let size = dt.itemsize();
                let padding = name.is_empty()
                    && *dt.kind() == NpKind::Void
                    && !dt.is_record()
                    && dt.subarray().is_none();
                if !padding {
                    out.push(Field {
                        name,
                        dtype: dt,
                        offset,
                        title,
                    });
                }
                offset = offset
                    .checked_add(size)
                    .ok_or("the record's size overflows")?;
            }
            NpDtype::record(out, offset).ok_or_else(|| "a malformed record dtype".into())
        }
        other => Err(format!(
            "descr must be a str, a list of fields or a (dtype, shape) tuple, not {}",
            show(other)
        )),
    }
}

fn subarray(base: NpDtype, shape: &Lit) -> std::result::Result<NpDtype, String> {
    let dims = match shape {
        Lit::Int(n) => vec![*n],
        Lit::Tuple(t) => t
            .iter()
            .map(|d| match d {
                Lit::Int(n) => Ok(*n),
                _ => Err("a sub-array shape must hold ints".to_string()),
            })
            .collect::<std::result::Result<Vec<_>, _>>()?,
        _ => return Err("a sub-array shape must be an int or a tuple of ints".into()),
    };
    let dims = dims
        .into_iter()
        .map(|n| usize::try_from(n).map_err(|_| "a negative sub-array dimension".to_string()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    // numpy: `dtype((base, ()))` is base itself.
    if dims.is_empty() {
        return Ok(base);
    }
    NpDtype::subarray_of(base, dims).ok_or_else(|| "the sub-array's size overflows".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[version, 0]);
        let len_size = if version == 1 { 2 } else { 4 };
        let total = 8 + len_size + header.len() + 1;
        let pad = (64 - total % 64) % 64;
        let hlen = header.len() + pad + 1;
        out.extend_from_slice(&(hlen as u32).to_le_bytes()[..len_size]);
        out.extend_from_slice(header.as_bytes());
        out.extend(std::iter::repeat_n(b' ', pad));
        out.push(b'\n');
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn records_follow_numpy_layout() {
        let h = "{'descr': [('a', '<i4'), ('', '|V4'), (('T', 'b'), '<f8', (2,)), ('c', [('x', '|u1')])], 'fortran_order': False, 'shape': (1,), }";
        let file = npy(1, h, &[0; 25]);
        let h = Header::parse(&file).unwrap();
        let f = h.dtype.fields();
        assert_eq!(h.dtype.itemsize(), 25);
        assert_eq!(f.len(), 3);
        assert_eq!((f[0].name.as_str(), f[0].offset), ("a", 0));
        assert_eq!(
            (f[1].name.as_str(), f[1].offset, f[1].title.as_deref()),
            ("b", 8, Some("T"))
        );
        assert_eq!(f[1].dtype.subarray().unwrap().1, &[2]);
        assert_eq!(
            (f[2].offset, f[2].dtype.fields()[0].name.as_str()),
            (24, "x")
        );
        assert!(h.array(&Bytes::new(file)).is_ok());
    }

    #[test]
    fn errors_name_the_problem() {
        let msg = |file: &[u8]| Header::parse(file).unwrap_err().to_string();
        assert_eq!(
            msg(b"\x93NUM"),
            "truncated .npy header: the file is 4 bytes, shorter than the magic string (at byte 0)"
        );
        assert_eq!(
            msg(b"\x93NUMPY\x01\x00\xff\x00{"),
            ".npy header length 255 runs past the end of the file: 1 bytes follow the length (at byte 8)"
        );
        assert!(msg(b"\x93NUMPY\x04\x00\x00\x00").contains("version 4.0"));
        let f = npy(
            1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,) ",
            &[],
        );
        assert!(
            msg(&f).starts_with("bad .npy header literal: the literal ends early"),
            "{}",
            msg(&f)
        );
        let f = npy(
            2,
            "{'descr': '<q9', 'fortran_order': False, 'shape': (3,), }",
            &[],
        );
        assert_eq!(
            msg(&f),
            "unknown dtype \"<q9\" in the .npy header (at byte 12)"
        );
        let f = npy(
            1,
            "{'descr': '<f8', 'fortran_order': 0, 'shape': (3,), }",
            &[],
        );
        assert_eq!(msg(&f), "fortran_order is not a bool: 0 (at byte 10)");
        let f = npy(
            1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }",
            &[],
        );
        assert!(msg(&f).starts_with("shape is not a tuple of non-negative ints"));
        let f = npy(
            1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000,), }",
            &[0; 16],
        );
        let h = Header::parse(&f).unwrap();
        assert_eq!(
            h.array(&Bytes::new(f.clone())).unwrap_err().to_string(),
            ".npy header declares shape [1000000] of <f8 (8000000 bytes) but 16 bytes follow the header (at byte 128)"
        );
        let f = npy(
            1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
            &[],
        );
        let e = Header::parse(&f).unwrap().data_len().unwrap_err();
        assert!(e.to_string().contains("overflows"), "{e}");
    }
}
