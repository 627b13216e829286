//! numpy arrays, numpy scalars and torch tensors of the graph through serde.
//!
//! An array is a [`Block`]: cells (fixed-size elements over bytes, or the graph values
//! of an object array), a shape, strides in elements and an offset. A block of rank ≥ 1
//! answers sequence requests with its sub-blocks along the first dimension (so nesting
//! is logical C order whatever the memory order); a block of rank 0 is one element:
//! a scalar ([`Leaf`]), a record (a map of its fields), a sub-array (a block again) or
//! a graph value (the ordinary [`Deser`]). numpy scalars are blocks of rank 0 over their
//! raw bytes, 0-d arrays too, so both read as plain values.
//!
//! Element visits are bounded by bytes (each one costs at least one byte of the array)
//! except for zero-size items (`V0`, a record without fields) and overlapping tensor
//! views: those are charged one by one against the walk's expansion budget.

use super::access::{locate, ByteSeq};
use super::deser::{visit_pair, Deser};
use super::walk::{Guard, Walk};
use crate::array::{ByteOrder, Dtype, Item, NpDtype, NpKind, Scalar, Tensor, TENSOR_TOKEN};
use crate::error::{Error, ErrorKind, Result};
use crate::value::{Emulated, Graph, Node, Packed, Value};
use serde::de::{self, DeserializeSeed, Expected, IntoDeserializer, Visitor};

/// The fields ndarray's `ArrayBase` asks for (`deserialize_struct("Array", …)`).
const NDARRAY_FIELDS: [&str; 3] = ["v", "dim", "data"];

/// Stack left below which a nested block gets a fresh stack segment (as in `deser`).
const RED_ZONE: usize = 128 * 1024;
const STACK_CHUNK: usize = 2 * 1024 * 1024;

/// The element type of byte cells: a numpy dtype, or a torch dtype in a byte order.
#[derive(Clone, Copy)]
pub(crate) enum Ty<'g> {
    Np(&'g NpDtype),
    Torch(Dtype, ByteOrder),
}

impl<'g> Ty<'g> {
    fn size(self) -> usize {
        match self {
            Ty::Np(d) => d.itemsize(),
            Ty::Torch(d, _) => d.size(),
        }
    }

    fn lib(self) -> &'static str {
        match self {
            Ty::Np(_) => "numpy",
            Ty::Torch(..) => "torch",
        }
    }

    fn name(self) -> String {
        match self {
            Ty::Np(d) => d.name(),
            Ty::Torch(d, _) => d.name().to_string(),
        }
    }

    /// A 16-bit float: `half::f16` / `bf16` requests get an `f32` (exact).
    fn is_half(self) -> bool {
        match self {
            Ty::Np(d) => *d.kind() == NpKind::Float && d.itemsize() == 2,
            Ty::Torch(d, _) => matches!(d, Dtype::F16 | Dtype::BF16),
        }
    }

    /// The decoder of plain numbers, when the type is one.
    fn fast(self) -> Option<Fast> {
        use FastKind::*;
        // A numpy dtype of plain numbers reads as the torch type of the same layout.
        let (d, order) = match self {
            Ty::Np(d) if d.subarray().is_none() && !d.is_record() => {
                (d.tensor_dtype()?, d.byte_order())
            }
            Ty::Np(_) => return None,
            Ty::Torch(d, order) => (d, order),
        };
        let kind = match d {
            Dtype::Bool => Bool,
            Dtype::I8 => I8,
            Dtype::I16 => I16,
            Dtype::I32 => I32,
            Dtype::I64 => I64,
            Dtype::U8 => U8,
            Dtype::U16 => U16,
            Dtype::U32 => U32,
            Dtype::U64 => U64,
            Dtype::F16 => F16,
            Dtype::BF16 => BF16,
            Dtype::F32 => F32,
            Dtype::F64 => F64,
            Dtype::C64 => C64,
            Dtype::C128 => C128,
            _ => return None,
        };
        let big = order == ByteOrder::Big;
        Some(Fast { kind, big })
    }

    /// Decodes one element of a plain type from its bytes (`self.size()` of them).
    fn decode(self, b: &'g [u8]) -> Val<'g> {
        if let Some(f) = self.fast() {
            return f.decode(b);
        }
        match self {
            // Decoded when asked for (`Leaf::text`): skipping one costs nothing.
            Ty::Np(d) if *d.kind() == NpKind::Str => Val::Str(b),
            Ty::Np(d) => match d.decode(b) {
                Item::Bool(x) => Val::Bool(x),
                Item::Int(i) => Val::Int(i),
                Item::UInt(u) => Val::UInt(u),
                Item::Float(f) => Val::Float(f),
                Item::Complex(re, im) => Val::Complex(re, im),
                Item::Str(_) => Val::Str(b),
                Item::Bytes(b) => Val::Bytes(b),
                Item::DateTime(n, _) | Item::TimeDelta(n, _) => Val::Time(n),
                Item::Record(_, b) | Item::SubArray(_, _, b) | Item::Raw(b) => Val::Raw(b),
            },
            Ty::Torch(d, order) => {
                let mut le = [0u8; 16];
                let n = b.len().min(16);
                le[..n].copy_from_slice(&b[..n]);
                if order == ByteOrder::Big && d.component_size() > 1 {
                    for c in le[..n].chunks_exact_mut(d.component_size()) {
                        c.reverse();
                    }
                }
                match Scalar::decode_le(d, &le) {
                    Scalar::Bool(x) => Val::Bool(x),
                    Scalar::Int(i) => match i64::try_from(i) {
                        Ok(i) => Val::Int(i),
                        Err(_) => Val::UInt(i as u64),
                    },
                    Scalar::Float(f) => Val::Float(f),
                    Scalar::Complex(re, im) => Val::Complex(re, im),
                }
            }
        }
    }
}

#[derive(Clone, Copy)]
enum FastKind {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    BF16,
    F32,
    F64,
    C64,
    C128,
}

/// A plain number type and its byte order: decoding is one match and a `from_*_bytes`.
#[derive(Clone, Copy)]
struct Fast {
    kind: FastKind,
    big: bool,
}

#[inline]
fn take<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[..N]);
    a
}

macro_rules! num {
    ($t:ty, $b:expr, $big:expr) => {
        if $big {
            <$t>::from_be_bytes(take($b))
        } else {
            <$t>::from_le_bytes(take($b))
        }
    };
}

impl Fast {
    #[inline(always)]
    fn decode(self, b: &[u8]) -> Val<'static> {
        use FastKind::*;
        let big = self.big;
        match self.kind {
            Bool => Val::Bool(b[0] != 0),
            I8 => Val::Int(b[0] as i8 as i64),
            U8 => Val::UInt(b[0] as u64),
            I16 => Val::Int(num!(i16, b, big) as i64),
            U16 => Val::UInt(num!(u16, b, big) as u64),
            I32 => Val::Int(num!(i32, b, big) as i64),
            U32 => Val::UInt(num!(u32, b, big) as u64),
            I64 => Val::Int(num!(i64, b, big)),
            U64 => Val::UInt(num!(u64, b, big)),
            F16 => Val::Float(crate::array::f16_to_f64(num!(u16, b, big))),
            BF16 => Val::Float(f32::from_bits((num!(u16, b, big) as u32) << 16) as f64),
            F32 => Val::Float(num!(f32, b, big) as f64),
            F64 => Val::Float(num!(f64, b, big)),
            C64 => Val::Complex(num!(f32, b, big) as f64, num!(f32, &b[4..], big) as f64),
            C128 => Val::Complex(num!(f64, b, big), num!(f64, &b[8..], big)),
        }
    }
}

/// What the cells of a block are.
#[derive(Clone, Copy)]
enum Cells<'g> {
    /// Fixed-size elements of `ty`.
    Bytes { ty: Ty<'g>, bytes: &'g [u8] },
    /// The elements of an object array: values of the graph.
    Slots(&'g [Packed]),
}

/// Strides in elements, without allocating for the layouts numpy writes.
#[derive(Clone, Copy)]
enum Strides<'g> {
    /// A tensor's own strides.
    Given(&'g [usize]),
    /// Row-major over the block's shape, whose element count this is (so that each
    /// level costs a division, not a product over the remaining dimensions).
    C(usize),
    /// Column-major: the first dimension's stride is `base` (the product of the
    /// dimensions already indexed).
    F(usize),
}

impl<'g> Strides<'g> {
    /// The stride of the first dimension of `shape`.
    fn first(self, shape: &[usize]) -> usize {
        match self {
            Strides::Given(s) => s.first().copied().unwrap_or(0),
            Strides::C(numel) => match shape.first() {
                Some(&n) if n > 0 => numel / n,
                _ => 0,
            },
            Strides::F(base) => base,
        }
    }

    /// The strides of the sub-blocks along the first dimension.
    fn rest(self, shape: &[usize]) -> Strides<'g> {
        match self {
            Strides::Given(s) => Strides::Given(s.get(1..).unwrap_or(&[])),
            Strides::C(_) => Strides::C(self.first(shape)),
            Strides::F(base) => {
                Strides::F(base.saturating_mul(shape.first().copied().unwrap_or(1)))
            }
        }
    }

    /// Every dimension's stride.
    fn all(self, shape: &[usize]) -> Vec<usize> {
        let mut out = Vec::with_capacity(shape.len());
        let mut s = self;
        for d in 0..shape.len() {
            out.push(s.first(&shape[d..]));
            s = s.rest(&shape[d..]);
        }
        out
    }
}

/// What a block stands for, for messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum What {
    /// An array, or part of one (a row, a sub-array field).
    Array,
    /// A numpy scalar or a 0-d array.
    Scalar,
    /// An element of an array.
    Element,
}

/// A numpy array, a numpy scalar, a torch tensor, or part of one.
pub(crate) struct Block<'a, 'g, 'de> {
    walk: &'a Walk,
    graph: &'g Graph<'de>,
    cells: Cells<'g>,
    shape: &'g [usize],
    strides: Strides<'g>,
    /// The first element, in elements.
    offset: usize,
    what: What,
    /// The tensor the cells belong to (numeric arrays, tensors): views of it are handed
    /// to `Tensor` fields.
    tensor: Option<&'g Tensor>,
    /// The elements are not backed by a byte each (zero-size items, overlapping views):
    /// each visit is charged against the expansion budget.
    charge: bool,
    /// An object array is on the walk's path while its elements are visited.
    _guard: Option<Guard<'a>>,
}

/// Row-major strides over `shape`.
fn row_major(shape: &[usize]) -> Strides<'static> {
    Strides::C(shape.iter().fold(1usize, |a, &n| a.saturating_mul(n)))
}

fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |a, &n| a.checked_mul(n))
}

/// Whether `numel` elements of `size` bytes are more than `len` bytes can back.
fn unbacked(shape: &[usize], size: usize, len: usize) -> bool {
    match checked_numel(shape).and_then(|n| n.checked_mul(size)) {
        Some(n) => size == 0 || n > len,
        None => true,
    }
}

fn format_err(msg: String) -> Error {
    Error::new(ErrorKind::Format, msg)
}

impl<'a, 'g, 'de> Block<'a, 'g, 'de> {
    /// The block of an array-like node (numpy array, object array, numpy scalar,
    /// tensor), `None` for every other value.
    pub(crate) fn of(v: Value<'g, 'de>, walk: &'a Walk) -> Result<Option<Self>> {
        let Some(Node::Emulated(e)) = v.node() else {
            return Ok(None);
        };
        let graph = v.graph();
        let order_strides = |a: &crate::array::NdArray| match a.order() {
            crate::array::Order::C => row_major(a.shape()),
            crate::array::Order::F => Strides::F(1),
        };
        let (cells, shape, strides, offset, tensor, charge, guard): (
            Cells<'g>,
            &'g [usize],
            Strides<'g>,
            usize,
            Option<&'g Tensor>,
            bool,
            Option<Guard<'a>>,
        ) = match &**e {
            Emulated::NdArray(a) => {
                let bytes = a.raw_bytes();
                let charge = unbacked(a.shape(), a.dtype().itemsize(), bytes.len());
                let cells = Cells::Bytes {
                    ty: Ty::Np(a.dtype()),
                    bytes,
                };
                let strides = order_strides(a);
                (cells, a.shape(), strides, 0, a.tensor(), charge, None)
            }
            Emulated::NpScalar(s) => {
                let cells = Cells::Bytes {
                    ty: Ty::Np(s.dtype()),
                    bytes: s.raw(),
                };
                let charge = s.dtype().itemsize() == 0;
                (cells, &[], Strides::C(1), 0, None, charge, None)
            }
            Emulated::Tensor(t) => {
                let bytes = t.storage().bytes()?;
                let charge = unbacked(t.shape(), t.dtype().size(), bytes.len());
                let cells = Cells::Bytes {
                    ty: Ty::Torch(t.dtype(), t.storage().byte_order()),
                    bytes,
                };
                let strides = Strides::Given(t.strides());
                let tensor: &'g Tensor = t;
                (
                    cells,
                    t.shape(),
                    strides,
                    t.storage_offset(),
                    Some(tensor),
                    charge,
                    None,
                )
            }
            // numpy pickles the elements in C order whatever the memory order.
            Emulated::ObjectArray { shape, items, .. } => {
                let items = graph.items(*items);
                if checked_numel(shape) != Some(items.len()) {
                    return Err(format_err(format!(
                        "numpy object array of shape {shape:?} holds {} elements",
                        items.len()
                    )));
                }
                // On the path while its elements are walked: an array holding itself
                // is a cycle.
                let guard = walk.descend(v)?;
                let strides = Strides::C(items.len());
                (
                    Cells::Slots(items),
                    shape,
                    strides,
                    0,
                    None,
                    false,
                    Some(guard),
                )
            }
            _ => return Ok(None),
        };
        Ok(Some(Block {
            walk,
            graph,
            cells,
            shape,
            strides,
            offset,
            what: if shape.is_empty() {
                What::Scalar
            } else {
                What::Array
            },
            tensor,
            charge,
            _guard: guard,
        }))
    }

    /// The sub-block at `pos` (in elements) with the dimensions after the first.
    fn child(&self, pos: usize, strides: Strides<'g>) -> Block<'a, 'g, 'de> {
        let shape = self.shape.get(1..).unwrap_or(&[]);
        Block {
            walk: self.walk,
            graph: self.graph,
            cells: self.cells,
            shape,
            strides,
            offset: pos,
            what: if shape.is_empty() {
                What::Element
            } else {
                What::Array
            },
            tensor: self.tensor,
            charge: self.charge,
            _guard: None,
        }
    }

    /// The element at `pos`, with the dimensions all indexed.
    fn at(&self, pos: usize) -> Block<'a, 'g, 'de> {
        Block {
            walk: self.walk,
            graph: self.graph,
            cells: self.cells,
            shape: &[],
            strides: Strides::C(1),
            offset: pos,
            what: What::Element,
            tensor: None,
            charge: self.charge,
            _guard: None,
        }
    }

    /// `numpy float32 array of shape [3, 4]`.
    pub(crate) fn describe(&self) -> String {
        describe_cells(self.cells, self.shape, self.what)
    }

    fn invalid(&self, exp: &dyn Expected) -> Error {
        Error::new(
            ErrorKind::Type,
            format!("invalid type: {}, expected {exp}", self.describe()),
        )
    }

    /// What a rank-0 block is.
    fn resolve(self) -> Result<Resolved<'a, 'g, 'de>> {
        if !self.shape.is_empty() {
            return Ok(Resolved::Block(self));
        }
        match self.cells {
            Cells::Slots(items) => {
                let p = items.get(self.offset).ok_or_else(out_of_bounds)?;
                let slot = self.graph.slot(*p);
                self.walk.charge(self.graph, slot)?;
                let v = self.graph.value(slot);
                Ok(Resolved::Graph(Deser::new(v, self.walk), v, self._guard))
            }
            Cells::Bytes { ty, bytes } => {
                let size = ty.size();
                let b = element(bytes, self.offset, size).ok_or_else(|| {
                    if self.what == What::Scalar {
                        format_err(format!(
                            "numpy {} scalar has {} bytes, its dtype needs {size}",
                            ty.name(),
                            bytes.len()
                        ))
                    } else {
                        out_of_bounds()
                    }
                })?;
                if let Ty::Np(dt) = ty {
                    if let Some((base, shape)) = dt.subarray() {
                        let sub = Block {
                            walk: self.walk,
                            graph: self.graph,
                            cells: Cells::Bytes {
                                ty: Ty::Np(base),
                                bytes: b,
                            },
                            shape,
                            strides: row_major(shape),
                            offset: 0,
                            what: if shape.is_empty() {
                                self.what
                            } else {
                                What::Array
                            },
                            tensor: None,
                            charge: self.charge || base.itemsize() == 0,
                            _guard: None,
                        };
                        return sub.resolve();
                    }
                    if dt.is_record() {
                        return Ok(Resolved::Record(Record {
                            walk: self.walk,
                            graph: self.graph,
                            dtype: dt,
                            bytes: b,
                            what: self.what,
                            charge: self.charge,
                        }));
                    }
                }
                Ok(Resolved::Leaf(Leaf {
                    val: ty.decode(b),
                    ty,
                    what: self.what,
                }))
            }
        }
    }

    /// The tensor these cells are, as a view of its storage.
    fn tensor_view(&self) -> Result<Option<Tensor>> {
        let Some(root) = self.tensor else {
            return Ok(None);
        };
        if self.offset == root.storage_offset() && self.shape == root.shape() {
            return Ok(Some(root.clone()));
        }
        let to_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let shape: Vec<i64> = self.shape.iter().map(|&n| to_i64(n)).collect();
        let strides: Vec<i64> = self
            .strides
            .all(self.shape)
            .into_iter()
            .map(to_i64)
            .collect();
        Tensor::new(
            root.storage().clone(),
            root.dtype(),
            to_i64(self.offset),
            &shape,
            &strides,
            false,
        )
        .map(Some)
    }

    fn visit_seq<V: Visitor<'de>>(self, visitor: V, exact: bool) -> Result<V::Value> {
        let _nest = self.walk.nest()?;
        stacker::maybe_grow(RED_ZONE, STACK_CHUNK, move || {
            let mut seq = BlockSeq::new(self);
            if exact {
                let out = visitor.visit_seq(&mut seq)?;
                if seq.i < seq.n {
                    return Err(Error::new(
                        ErrorKind::Type,
                        format!("invalid length: {} elements, expected {}", seq.n, seq.i),
                    ));
                }
                Ok(out)
            } else {
                visitor.visit_seq(seq)
            }
        })
    }

    /// ndarray's `{v: 1, dim: [...], data: [...]}` (data flat, in C order).
    fn visit_ndarray<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let _nest = self.walk.nest()?;
        visitor.visit_map(NdMap {
            block: Some(self),
            state: 0,
        })
    }
}

fn element(bytes: &[u8], pos: usize, size: usize) -> Option<&[u8]> {
    let start = pos.checked_mul(size)?;
    bytes.get(start..start.checked_add(size)?)
}

#[cold]
fn out_of_bounds() -> Error {
    format_err("an array element lies outside its data".to_string())
}

/// `numpy float32 array of shape [3, 4]`, `torch bfloat16 tensor of shape [2]`,
/// `numpy object array of shape [5]`.
fn describe_cells(cells: Cells<'_>, shape: &[usize], what: What) -> String {
    match cells {
        Cells::Slots(_) => format!("numpy object array of shape {shape:?}"),
        Cells::Bytes { ty, .. } => {
            let noun = match (ty, what) {
                (Ty::Torch(..), What::Array | What::Scalar) => "tensor",
                (_, What::Scalar) => "scalar",
                (_, What::Element) => "element",
                (_, What::Array) => "array",
            };
            format!("{} {} {noun} of shape {shape:?}", ty.lib(), ty.name())
        }
    }
}

/// What an array-like emulated value is, for messages (`describe`).
pub(crate) fn describe_emulated(e: &Emulated) -> Option<String> {
    Some(match e {
        Emulated::NdArray(a) => a.to_string(),
        Emulated::ObjectArray { shape, .. } => format!("numpy object array of shape {shape:?}"),
        Emulated::Tensor(t) => format!("torch {} tensor of shape {:?}", t.dtype(), t.shape()),
        Emulated::NpScalar(s) => {
            let ty = Ty::Np(s.dtype());
            match s.dtype().decode(s.raw()) {
                Item::Record(d, _) => record_text(d, ty, What::Scalar),
                Item::Raw(b) if b.len() < s.dtype().itemsize() => {
                    format!("numpy {} scalar", ty.name())
                }
                _ => Leaf {
                    val: ty.decode(s.raw()),
                    ty,
                    what: What::Scalar,
                }
                .describe(),
            }
        }
        _ => return None,
    })
}

fn record_text(d: &NpDtype, ty: Ty<'_>, what: What) -> String {
    let names: Vec<&str> = d.fields().iter().map(|f| f.name.as_str()).collect();
    let noun = if what == What::Scalar {
        "scalar"
    } else {
        "record"
    };
    format!(
        "numpy {} {noun} with fields ({})",
        ty.name(),
        names.join(", ")
    )
}

/// A rank-0 block, seen for what it is.
enum Resolved<'a, 'g, 'de> {
    /// Rank ≥ 1.
    Block(Block<'a, 'g, 'de>),
    Leaf(Leaf<'g>),
    Record(Record<'a, 'g, 'de>),
    /// An element of an object array (and the array's guard, for a 0-d one).
    Graph(Deser<'a, 'g, 'de>, Value<'g, 'de>, Option<Guard<'a>>),
}

/// The sub-blocks of a block along its first dimension.
struct BlockSeq<'a, 'g, 'de> {
    block: Block<'a, 'g, 'de>,
    i: usize,
    n: usize,
    stride: usize,
    rest: Strides<'g>,
    /// For rank 1 over plain numbers: the bytes and the decoder, so that an element
    /// costs a slice and a `from_le_bytes`.
    fast: Option<(Fast, Ty<'g>, &'g [u8], usize)>,
}

impl<'a, 'g, 'de> BlockSeq<'a, 'g, 'de> {
    fn new(block: Block<'a, 'g, 'de>) -> Self {
        let n = block.shape.first().copied().unwrap_or(0);
        let stride = block.strides.first(block.shape);
        let rest = block.strides.rest(block.shape);
        let fast = match block.cells {
            Cells::Bytes { ty, bytes } if block.shape.len() == 1 => {
                ty.fast().map(|f| (f, ty, bytes, ty.size()))
            }
            _ => None,
        };
        BlockSeq {
            block,
            i: 0,
            n,
            stride,
            rest,
            fast,
        }
    }
}

#[cold]
#[inline(never)]
fn index_error(e: Error, i: usize) -> Error {
    e.in_path(&format!("[{i}]"))
}

impl<'de> BlockSeq<'_, '_, 'de> {
    #[inline(never)]
    fn slow<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
        i: usize,
        pos: usize,
    ) -> Result<Option<T::Value>> {
        if self.block.charge {
            self.block
                .walk
                .charge_visit()
                .map_err(|e| index_error(e, i))?;
        }
        let r = match self.fast {
            Some((fast, ty, bytes, size)) => match element(bytes, pos, size) {
                Some(b) => seed.deserialize(Leaf {
                    val: fast.decode(b),
                    ty,
                    what: What::Element,
                }),
                None => Err(out_of_bounds()),
            },
            None => seed.deserialize(self.block.child(pos, self.rest)),
        };
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) => Err(index_error(e, i)),
        }
    }
}

impl<'de> de::SeqAccess<'de> for BlockSeq<'_, '_, 'de> {
    type Error = Error;

    // The hot loop of `Vec<f64>` and friends: a plain number costs a slice, a
    // `from_le_bytes` and the visitor's call; everything else is out of line.
    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.i >= self.n {
            return Ok(None);
        }
        let i = self.i;
        self.i += 1;
        let pos = self
            .block
            .offset
            .saturating_add(i.saturating_mul(self.stride));
        if let (Some((fast, ty, bytes, size)), false) = (self.fast, self.block.charge) {
            if let Some(b) = element(bytes, pos, size) {
                let leaf = Leaf {
                    val: fast.decode(b),
                    ty,
                    what: What::Element,
                };
                return match seed.deserialize(leaf) {
                    Ok(v) => Ok(Some(v)),
                    Err(e) => Err(index_error(e, i)),
                };
            }
        }
        self.slow(seed, i, pos)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.n - self.i)
    }
}

/// Every element of a block in C order (ndarray's flat `data`).
struct FlatSeq<'a, 'g, 'de> {
    block: Block<'a, 'g, 'de>,
    strides: Vec<usize>,
    index: Vec<usize>,
    pos: usize,
    left: usize,
    fast: Option<(Fast, Ty<'g>, &'g [u8], usize)>,
}

impl<'a, 'g, 'de> FlatSeq<'a, 'g, 'de> {
    fn new(block: Block<'a, 'g, 'de>) -> Result<Self> {
        let left = checked_numel(block.shape).ok_or_else(|| {
            Error::new(
                ErrorKind::Limit,
                format!("{} has too many elements", block.describe()),
            )
        })?;
        let fast = match block.cells {
            Cells::Bytes { ty, bytes } => ty.fast().map(|f| (f, ty, bytes, ty.size())),
            _ => None,
        };
        Ok(FlatSeq {
            strides: block.strides.all(block.shape),
            index: vec![0; block.shape.len()],
            pos: block.offset,
            left,
            fast,
            block,
        })
    }

    #[cold]
    #[inline(never)]
    fn error(&self, mut e: Error) -> Error {
        for i in self.index.iter().rev() {
            e = e.in_path(&format!("[{i}]"));
        }
        e
    }

    fn advance(&mut self) {
        let shape = self.block.shape;
        for d in (0..shape.len()).rev() {
            self.index[d] += 1;
            self.pos = self.pos.saturating_add(self.strides[d]);
            if self.index[d] < shape[d] {
                return;
            }
            self.pos = self
                .pos
                .saturating_sub(self.strides[d].saturating_mul(shape[d]));
            self.index[d] = 0;
        }
    }
}

impl<'de> de::SeqAccess<'de> for FlatSeq<'_, '_, 'de> {
    type Error = Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        if let (Some((fast, ty, bytes, size)), false) = (self.fast, self.block.charge) {
            if let Some(b) = element(bytes, self.pos, size) {
                let leaf = Leaf {
                    val: fast.decode(b),
                    ty,
                    what: What::Element,
                };
                return match seed.deserialize(leaf) {
                    Ok(v) => {
                        self.advance();
                        Ok(Some(v))
                    }
                    Err(e) => Err(self.error(e)),
                };
            }
        }
        self.slow(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> FlatSeq<'_, '_, 'de> {
    #[inline(never)]
    fn slow<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.block.charge {
            self.block.walk.charge_visit().map_err(|e| self.error(e))?;
        }
        let r = match self.fast {
            Some((fast, ty, bytes, size)) => match element(bytes, self.pos, size) {
                Some(b) => seed.deserialize(Leaf {
                    val: fast.decode(b),
                    ty,
                    what: What::Element,
                }),
                None => Err(out_of_bounds()),
            },
            None => seed.deserialize(self.block.at(self.pos)),
        };
        match r {
            Ok(v) => {
                self.advance();
                Ok(Some(v))
            }
            Err(e) => Err(self.error(e)),
        }
    }
}

/// The map ndarray's `Deserialize` reads: `v` (1), `dim`, `data`.
struct NdMap<'a, 'g, 'de> {
    block: Option<Block<'a, 'g, 'de>>,
    state: u8,
}

impl<'de> de::MapAccess<'de> for NdMap<'_, '_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some(&key) = NDARRAY_FIELDS.get(self.state as usize) else {
            return Ok(None);
        };
        let key: de::value::BorrowedStrDeserializer<'de, Error> =
            de::value::BorrowedStrDeserializer::new(key);
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let state = self.state;
        self.state += 1;
        let Some(block) = self.block.as_ref() else {
            return Err(<Error as de::Error>::custom(
                "value requested before its key",
            ));
        };
        match state {
            0 => seed.deserialize(IntoDeserializer::<Error>::into_deserializer(1u8)),
            1 => seed.deserialize(Dim {
                cells: block.cells,
                shape: block.shape,
                what: block.what,
            }),
            2 => match self.block.take() {
                Some(b) => seed.deserialize(Flat(b)),
                None => Err(<Error as de::Error>::custom("value requested twice")),
            },
            _ => Err(<Error as de::Error>::custom(
                "value requested before its key",
            )),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(NDARRAY_FIELDS.len().saturating_sub(self.state as usize))
    }
}

/// ndarray's `dim`: the shape, as a tuple of its rank (`Ix2`) or a sequence (`IxDyn`).
struct Dim<'g> {
    cells: Cells<'g>,
    shape: &'g [usize],
    what: What,
}

impl<'de> de::Deserializer<'de> for Dim<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let mut seq = de::value::SeqDeserializer::<_, Error>::new(self.shape.iter().copied());
        let out = visitor.visit_seq(&mut seq)?;
        seq.end()?;
        Ok(out)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        if len != self.shape.len() {
            return Err(Error::new(
                ErrorKind::Type,
                format!(
                    "invalid type: {}, expected a {len}-d array",
                    describe_cells(self.cells, self.shape, self.what)
                ),
            ));
        }
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq
        tuple_struct map struct enum identifier ignored_any
    }
}

/// ndarray's `data`: the block's elements, flat in C order.
struct Flat<'a, 'g, 'de>(Block<'a, 'g, 'de>);

impl<'de> de::Deserializer<'de> for Flat<'_, '_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(FlatSeq::new(self.0)?)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// One decoded element.
#[derive(Clone, Copy)]
pub(crate) enum Val<'b> {
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Complex(f64, f64),
    /// A `U` value's UCS-4 code units (decoded by [`Leaf::text`]).
    Str(&'b [u8]),
    Bytes(&'b [u8]),
    /// A datetime64 / timedelta64 count (`i64::MIN` is NaT).
    Time(i64),
    /// `V` bytes, long doubles.
    Raw(&'b [u8]),
}

/// One element (or a numpy scalar, a 0-d array), decoded.
pub(crate) struct Leaf<'b> {
    val: Val<'b>,
    ty: Ty<'b>,
    what: What,
}

fn short(s: &str) -> String {
    let mut t: String = s.chars().take(40).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    format!("{t:?}")
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{f:?}")
    }
}

impl Leaf<'_> {
    /// The text of a `U` value (trailing NULs stripped, as numpy does).
    fn text(&self) -> String {
        match (self.val, self.ty) {
            (Val::Str(b), Ty::Np(d)) => match d.decode(b) {
                Item::Str(s) => s,
                _ => String::new(),
            },
            _ => String::new(),
        }
    }

    /// `numpy float64 scalar 0.9`, `numpy int8 element -5`.
    fn describe(&self) -> String {
        let text = match &self.val {
            Val::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            Val::Int(i) => i.to_string(),
            Val::UInt(u) => u.to_string(),
            Val::Float(f) => float_text(*f),
            Val::Complex(re, im) => format!("({}, {})", float_text(*re), float_text(*im)),
            Val::Str(_) => short(&self.text()),
            Val::Bytes(b) | Val::Raw(b) => {
                let t: String = b
                    .iter()
                    .take(40)
                    .flat_map(|c| c.escape_ascii())
                    .map(char::from)
                    .collect();
                format!("b\"{t}\"{}", if b.len() > 40 { "…" } else { "" })
            }
            Val::Time(i64::MIN) => "NaT".into(),
            Val::Time(n) => n.to_string(),
        };
        let noun = match (self.ty, self.what) {
            (_, What::Scalar) => "scalar",
            _ => "element",
        };
        format!("{} {} {noun} {text}", self.ty.lib(), self.ty.name())
    }

    #[cold]
    #[inline(never)]
    fn invalid(&self, exp: &dyn Expected) -> Error {
        Error::new(
            ErrorKind::Type,
            format!("invalid type: {}, expected {exp}", self.describe()),
        )
    }

    #[cold]
    #[inline(never)]
    fn out_of_range(&self, ty: &str) -> Error {
        Error::new(
            ErrorKind::Type,
            format!("invalid value: {} does not fit in {ty}", self.describe()),
        )
    }
}

/// A `U` element cannot be borrowed (numpy stores UCS-4): say so when `&str` asks.
#[cold]
fn not_borrowable(e: Error) -> Error {
    if e.message().contains("expected a borrowed string") {
        Error::new(
            ErrorKind::Type,
            format!(
                "{}: numpy str elements are UCS-4 and cannot be borrowed; use String or Cow<str>",
                e.message()
            ),
        )
    } else {
        e
    }
}

macro_rules! leaf_int {
    ($method:ident, $visit:ident, $ty:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let n = match self.val {
                Val::Int(i) | Val::Time(i) => <$ty>::try_from(i).ok(),
                Val::UInt(u) => <$ty>::try_from(u).ok(),
                _ => return Err(self.invalid(&visitor)),
            };
            match n {
                Some(n) => visitor.$visit(n),
                None => Err(self.out_of_range(stringify!($ty))),
            }
        }
    };
}

impl<'de> de::Deserializer<'de> for Leaf<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.val {
            Val::Bool(b) => visitor.visit_bool(b),
            Val::Int(i) | Val::Time(i) => visitor.visit_i64(i),
            Val::UInt(u) => visitor.visit_u64(u),
            Val::Float(f) => visitor.visit_f64(f),
            Val::Complex(re, im) => visit_pair(re, im, visitor),
            Val::Str(_) => visitor.visit_string(self.text()).map_err(not_borrowable),
            Val::Bytes(b) | Val::Raw(b) => visitor.visit_bytes(b),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.val {
            Val::Bool(b) => visitor.visit_bool(b),
            _ => Err(self.invalid(&visitor)),
        }
    }

    leaf_int!(deserialize_i8, visit_i8, i8);
    leaf_int!(deserialize_i16, visit_i16, i16);
    leaf_int!(deserialize_i32, visit_i32, i32);
    leaf_int!(deserialize_i64, visit_i64, i64);
    leaf_int!(deserialize_i128, visit_i128, i128);
    leaf_int!(deserialize_u8, visit_u8, u8);
    leaf_int!(deserialize_u16, visit_u16, u16);
    leaf_int!(deserialize_u32, visit_u32, u32);
    leaf_int!(deserialize_u64, visit_u64, u64);
    leaf_int!(deserialize_u128, visit_u128, u128);

    #[inline]
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.val {
            Val::Float(f) => visitor.visit_f64(f),
            Val::Int(i) => visitor.visit_f64(i as f64),
            Val::UInt(u) => visitor.visit_f64(u as f64),
            _ => Err(self.invalid(&visitor)),
        }
    }

    #[inline]
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.val {
            Val::Float(f) => visitor.visit_f32(f as f32),
            Val::Int(i) => visitor.visit_f32(i as f32),
            Val::UInt(u) => visitor.visit_f32(u as f32),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if let Val::Str(_) = self.val {
            let s = self.text();
            let mut chars = s.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                return visitor.visit_char(c);
            }
        }
        Err(self.invalid(&visitor))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.val {
            Val::Str(_) => visitor.visit_string(self.text()).map_err(not_borrowable),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.val {
            Val::Bytes(b) | Val::Raw(b) => visitor.visit_bytes(b),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    /// NaT is `None`; every other value `Some`.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.val {
            Val::Time(i64::MIN) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        Err(self.invalid(&visitor))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        Err(self.invalid(&visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        match (name, &self.val) {
            (TENSOR_TOKEN, _) => {
                Err(self.invalid(&"a tensor (a torch tensor or a numeric numpy array)"))
            }
            // `half::f16` / `half::bf16` take a float (16-bit elements exactly).
            ("f16" | "bf16", Val::Float(f)) if self.ty.is_half() => visitor.visit_f32(*f as f32),
            ("f16" | "bf16", Val::Float(f)) => visitor.visit_f64(*f),
            ("f16" | "bf16", Val::Int(i)) => visitor.visit_f64(*i as f64),
            ("f16" | "bf16", Val::UInt(u)) => visitor.visit_f64(*u as f64),
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.val {
            Val::Complex(re, im) => visit_pair(re, im, visitor),
            Val::Bytes(b) | Val::Raw(b) => visitor.visit_seq(ByteSeq { bytes: b.iter() }),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        Err(self.invalid(&visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        Err(self.invalid(&visitor))
    }

    /// A `U` value names a unit variant, as a Python `str` does.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.val {
            Val::Str(_) => {
                visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(self.text()))
            }
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.val {
            Val::Str(_) => visitor.visit_string(self.text()),
            Val::UInt(u) => visitor.visit_u64(u),
            Val::Int(i) if i >= 0 => visitor.visit_u64(i as u64),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }
}

/// A record element (or `np.void` scalar): a map of its fields by name, or a sequence
/// of their values.
pub(crate) struct Record<'a, 'g, 'de> {
    walk: &'a Walk,
    graph: &'g Graph<'de>,
    dtype: &'g NpDtype,
    bytes: &'g [u8],
    what: What,
    charge: bool,
}

impl<'a, 'g, 'de> Record<'a, 'g, 'de> {
    fn describe(&self) -> String {
        record_text(self.dtype, Ty::Np(self.dtype), self.what)
    }

    fn invalid(&self, exp: &dyn Expected) -> Error {
        Error::new(
            ErrorKind::Type,
            format!("invalid type: {}, expected {exp}", self.describe()),
        )
    }

    /// The block of field `i`.
    fn field(&self, i: usize) -> Result<Block<'a, 'g, 'de>> {
        let f = self.dtype.fields().get(i).ok_or_else(out_of_bounds)?;
        let bytes = f
            .offset
            .checked_add(f.dtype.itemsize())
            .and_then(|end| self.bytes.get(f.offset..end))
            .ok_or_else(out_of_bounds)?;
        Ok(Block {
            walk: self.walk,
            graph: self.graph,
            cells: Cells::Bytes {
                ty: Ty::Np(&f.dtype),
                bytes,
            },
            shape: &[],
            strides: Strides::C(1),
            offset: 0,
            what: What::Element,
            tensor: None,
            charge: self.charge,
            _guard: None,
        })
    }

    fn visit_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let _nest = self.walk.nest()?;
        visitor.visit_map(RecordAccess { record: self, i: 0 })
    }

    fn visit_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let _nest = self.walk.nest()?;
        let n = self.dtype.fields().len();
        let mut access = RecordAccess { record: self, i: 0 };
        let out = visitor.visit_seq(&mut access)?;
        if access.i < n {
            return Err(Error::new(
                ErrorKind::Type,
                format!(
                    "invalid length: a record of {n} fields, expected {}",
                    access.i
                ),
            ));
        }
        Ok(out)
    }
}

/// The fields of a record, as map entries or sequence elements.
struct RecordAccess<'a, 'g, 'de> {
    record: Record<'a, 'g, 'de>,
    i: usize,
}

impl RecordAccess<'_, '_, '_> {
    #[cold]
    fn field_error(&self, e: Error, i: usize) -> Error {
        match self.record.dtype.fields().get(i) {
            Some(f) => {
                let ident = !f.name.is_empty()
                    && f.name.chars().all(|c| c.is_alphanumeric() || c == '_')
                    && !f.name.starts_with(|c: char| c.is_ascii_digit());
                if ident {
                    e.in_path(&format!(".{}", f.name))
                } else {
                    e.in_path(&format!("[{:?}]", f.name))
                }
            }
            None => e,
        }
    }
}

impl<'de> de::MapAccess<'de> for RecordAccess<'_, '_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some(f) = self.record.dtype.fields().get(self.i) else {
            return Ok(None);
        };
        let key: de::value::StrDeserializer<'_, Error> = de::value::StrDeserializer::new(&f.name);
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let i = self.i;
        self.i += 1;
        let field = self.record.field(i)?;
        seed.deserialize(field).map_err(|e| self.field_error(e, i))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.record.dtype.fields().len() - self.i)
    }
}

impl<'de> de::SeqAccess<'de> for RecordAccess<'_, '_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.i >= self.record.dtype.fields().len() {
            return Ok(None);
        }
        let i = self.i;
        self.i += 1;
        let field = self.record.field(i)?;
        seed.deserialize(field)
            .map(Some)
            .map_err(|e| self.field_error(e, i))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.record.dtype.fields().len() - self.i)
    }
}

macro_rules! record_invalid {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
                Err(self.invalid(&visitor))
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Record<'_, '_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.visit_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.visit_map(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.visit_map(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.visit_seq(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.visit_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.visit_seq(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == TENSOR_TOKEN {
            return Err(self.invalid(&"a tensor (a torch tensor or a numeric numpy array)"));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    record_invalid! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_unit
        deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        Err(self.invalid(&visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        Err(self.invalid(&visitor))
    }
}

macro_rules! block_scalar {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
                match self.resolve()? {
                    Resolved::Block(b) => Err(b.invalid(&visitor)),
                    Resolved::Leaf(l) => l.$method(visitor),
                    Resolved::Record(r) => r.$method(visitor),
                    Resolved::Graph(d, v, _g) => d.$method(visitor).map_err(|e| locate(v, e)),
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Block<'_, '_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.resolve()? {
            Resolved::Block(b) => b.visit_seq(visitor, false),
            Resolved::Leaf(l) => l.deserialize_any(visitor),
            Resolved::Record(r) => r.deserialize_any(visitor),
            Resolved::Graph(d, v, _g) => d.deserialize_any(visitor).map_err(|e| locate(v, e)),
        }
    }

    block_scalar! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_unit deserialize_map deserialize_identifier
    }

    /// A 1-d `uint8` array is bytes (`serde_bytes::ByteBuf`); other arrays are
    /// sequences (of `u8` for `Vec<u8>`).
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if let (Cells::Bytes { ty, bytes }, [n]) = (self.cells, self.shape) {
            let is_u8 = match ty {
                Ty::Np(d) => *d.kind() == NpKind::UInt && d.itemsize() == 1,
                Ty::Torch(d, _) => d == Dtype::U8,
            };
            if is_u8 && self.strides.first(self.shape) == 1 {
                if let Some(b) = bytes.get(self.offset..self.offset.saturating_add(*n)) {
                    return visitor.visit_bytes(b);
                }
            }
        }
        match self.resolve()? {
            Resolved::Block(b) => b.visit_seq(visitor, false),
            Resolved::Leaf(l) => l.deserialize_bytes(visitor),
            Resolved::Record(r) => r.deserialize_bytes(visitor),
            Resolved::Graph(d, v, _g) => d.deserialize_bytes(visitor).map_err(|e| locate(v, e)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.resolve()? {
            Resolved::Block(b) => visitor.visit_some(b),
            Resolved::Leaf(l) => l.deserialize_option(visitor),
            Resolved::Record(r) => r.deserialize_option(visitor),
            Resolved::Graph(d, v, _g) => d.deserialize_option(visitor).map_err(|e| locate(v, e)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        match self.resolve()? {
            Resolved::Block(b) => Err(b.invalid(&visitor)),
            Resolved::Leaf(l) => l.deserialize_unit_struct(name, visitor),
            Resolved::Record(r) => r.deserialize_unit_struct(name, visitor),
            Resolved::Graph(d, v, _g) => d
                .deserialize_unit_struct(name, visitor)
                .map_err(|e| locate(v, e)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == TENSOR_TOKEN {
            if let Cells::Bytes { ty, .. } = self.cells {
                if let Some(t) = self.tensor_view()? {
                    let numpy = matches!(ty, Ty::Np(_));
                    return crate::array::hand_off_from(t, numpy, || visitor.visit_unit());
                }
            }
            if self.shape.is_empty() {
                if let Cells::Slots(_) = self.cells {
                    // A 0-d object array holding a tensor.
                    return match self.resolve()? {
                        Resolved::Graph(d, v, _g) => d
                            .deserialize_newtype_struct(name, visitor)
                            .map_err(|e| locate(v, e)),
                        _ => Err(out_of_bounds()),
                    };
                }
            }
            return Err(self.invalid(&"a tensor (a torch tensor or a numeric numpy array)"));
        }
        match self.resolve()? {
            Resolved::Block(b) => visitor.visit_newtype_struct(b),
            Resolved::Leaf(l) => l.deserialize_newtype_struct(name, visitor),
            Resolved::Record(r) => r.deserialize_newtype_struct(name, visitor),
            Resolved::Graph(d, v, _g) => d
                .deserialize_newtype_struct(name, visitor)
                .map_err(|e| locate(v, e)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.resolve()? {
            Resolved::Block(b) => b.visit_seq(visitor, false),
            Resolved::Leaf(l) => l.deserialize_seq(visitor),
            Resolved::Record(r) => r.deserialize_seq(visitor),
            Resolved::Graph(d, v, _g) => d.deserialize_seq(visitor).map_err(|e| locate(v, e)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        match self.resolve()? {
            Resolved::Block(b) => b.visit_seq(visitor, true),
            Resolved::Leaf(l) => l.deserialize_tuple(len, visitor),
            Resolved::Record(r) => r.deserialize_tuple(len, visitor),
            Resolved::Graph(d, v, _g) => {
                d.deserialize_tuple(len, visitor).map_err(|e| locate(v, e))
            }
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        match self.resolve()? {
            Resolved::Block(b) => b.visit_seq(visitor, true),
            Resolved::Leaf(l) => l.deserialize_tuple_struct(name, len, visitor),
            Resolved::Record(r) => r.deserialize_tuple_struct(name, len, visitor),
            Resolved::Graph(d, v, _g) => d
                .deserialize_tuple_struct(name, len, visitor)
                .map_err(|e| locate(v, e)),
        }
    }

    /// ndarray's `Array` (`{v, dim, data}`) from any block; records as structs.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        if name == "Array" && fields == NDARRAY_FIELDS {
            return self.visit_ndarray(visitor);
        }
        match self.resolve()? {
            Resolved::Block(b) => Err(b.invalid(&visitor)),
            Resolved::Leaf(l) => l.deserialize_struct(name, fields, visitor),
            Resolved::Record(r) => r.deserialize_struct(name, fields, visitor),
            Resolved::Graph(d, v, _g) => d
                .deserialize_struct(name, fields, visitor)
                .map_err(|e| locate(v, e)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.resolve()? {
            Resolved::Block(b) => Err(b.invalid(&visitor)),
            Resolved::Leaf(l) => l.deserialize_enum(name, variants, visitor),
            Resolved::Record(r) => r.deserialize_enum(name, variants, visitor),
            Resolved::Graph(d, v, _g) => d
                .deserialize_enum(name, variants, visitor)
                .map_err(|e| locate(v, e)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }
}
