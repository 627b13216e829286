//! Writing tensors as a safetensors file (feature `safetensors`): each tensor's elements
//! in C order, little-endian, under its name.

use crate::array::Dtype;
use crate::array::Tensor;
use crate::error::{Error, ErrorKind, Result};
use safetensors::tensor::View;
use std::borrow::Cow;
use std::path::Path;

fn st_dtype(d: Dtype) -> Option<safetensors::Dtype> {
    use safetensors::Dtype as S;
    Some(match d {
        Dtype::Bool => S::BOOL,
        Dtype::U8 => S::U8,
        Dtype::I8 => S::I8,
        Dtype::I16 => S::I16,
        Dtype::U16 => S::U16,
        Dtype::I32 => S::I32,
        Dtype::U32 => S::U32,
        Dtype::I64 => S::I64,
        Dtype::U64 => S::U64,
        Dtype::F16 => S::F16,
        Dtype::BF16 => S::BF16,
        Dtype::F32 => S::F32,
        Dtype::F64 => S::F64,
        Dtype::C64 => S::C64,
        Dtype::F8E4M3FN => S::F8_E4M3,
        Dtype::F8E5M2 => S::F8_E5M2,
        Dtype::F8E4M3FNUZ => S::F8_E4M3FNUZ,
        Dtype::F8E5M2FNUZ => S::F8_E5M2FNUZ,
        Dtype::F8E8M0FNU => S::F8_E8M0,
        _ => return None,
    })
}

/// `true` when safetensors has a dtype for `dtype` ([`save_safetensors`] can write it);
/// complex128 and the quantized kinds have none.
///
/// ```
/// use serde_pickle_vm::torch::{safetensors_supports, Dtype};
/// assert!(safetensors_supports(Dtype::BF16));
/// assert!(!safetensors_supports(Dtype::C128));
/// ```
pub fn safetensors_supports(dtype: Dtype) -> bool {
    st_dtype(dtype).is_some()
}

struct Prepared<'a> {
    dtype: safetensors::Dtype,
    shape: Vec<usize>,
    data: Cow<'a, [u8]>,
}

impl View for &Prepared<'_> {
    fn dtype(&self) -> safetensors::Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// Writes `tensors` to `path` as safetensors (overwriting it). `progress(done, total)`
/// is called after each tensor's data is gathered (bytes). Tensors whose dtype
/// safetensors lacks (complex128, quantized, …; see [`safetensors_supports`]) are an
/// error naming them (filter them out first to skip them); tensors that
/// share storage are written as separate copies.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("spvm-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// use serde_pickle_vm::torch::{save_safetensors, Checkpoint};
/// let ckpt = Checkpoint::open("fixtures/torch/params.pt").unwrap();
/// save_safetensors(&ckpt.tensors(), &dir.join("params.safetensors"), |_, _| {}).unwrap();
/// ```
pub fn save_safetensors(
    tensors: &[(String, &Tensor)],
    path: &Path,
    mut progress: impl FnMut(u64, u64),
) -> Result<()> {
    let total: u64 = tensors.iter().map(|(_, t)| t.nbytes() as u64).sum();
    let mut done = 0u64;
    let mut prepared = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let dtype = st_dtype(t.dtype()).ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                format!("{name}: safetensors has no dtype {}", t.dtype()),
            )
        })?;
        let data = t
            .data_le()
            .map_err(|e| Error::new(e.kind(), format!("{name}: {e}")))?;
        done += data.len() as u64;
        progress(done, total);
        prepared.push((
            name.clone(),
            Prepared {
                dtype,
                shape: t.shape().to_vec(),
                data,
            },
        ));
    }
    let views: Vec<(String, &Prepared<'_>)> =
        prepared.iter().map(|(n, p)| (n.clone(), p)).collect();
    safetensors::tensor::serialize_to_file(views, None, path)
        .map_err(|e| Error::new(ErrorKind::Io, format!("{}: {e}", path.display())))
}
