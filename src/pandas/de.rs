//! Frames and Series through serde: a frame reads as a sequence of rows (structs,
//! maps or tuples by column) or, into a map or struct, as its columns; a Series as a
//! sequence of values or, into a map, index label → value. Errors carry the column
//! and row: `["score"][17]: expected f64, found None`.

use super::time::{timedelta_text, timestamp_text, to_nanos};
use super::{Cell, Column, Data, DataFrame, Index, Label, Pandas, Series, Values};
use crate::error::{Error, ErrorKind, Result};
use serde::de::{self, DeserializeSeed, Deserializer as _, Expected, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

/// The budget a walk shares: string bytes delivered (categoricals and index levels may
/// repeat one long string in every row).
pub(crate) struct Budget<'b> {
    bytes: std::cell::Cell<u64>,
    charge_fn: Option<&'b dyn Fn(u64) -> Result<()>>,
}

impl<'b> Budget<'b> {
    pub(crate) fn new(charge_fn: Option<&'b dyn Fn(u64) -> Result<()>>) -> Self {
        Budget {
            bytes: std::cell::Cell::new(0),
            charge_fn,
        }
    }

    fn charge(&self, n: usize) -> Result<()> {
        self.bytes.set(self.bytes.get() + n as u64);
        match self.charge_fn {
            Some(f) => f(n as u64),
            None => Ok(()),
        }
    }
}

macro_rules! wrong_fn {
    ($m:ident) => {
        fn $m<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            Err(self.wrong(&visitor))
        }
    };
}

/// A borrowed DataFrame or Series.
#[derive(Clone, Copy)]
pub(crate) enum PRef<'a> {
    Frame(&'a DataFrame),
    Series(&'a Series),
}

impl<'a> From<&'a Pandas> for PRef<'a> {
    fn from(p: &'a Pandas) -> Self {
        match p {
            Pandas::DataFrame(df) => PRef::Frame(df),
            Pandas::Series(s) => PRef::Series(s),
        }
    }
}

/// A DataFrame or Series as a deserializer.
pub(crate) struct FrameDe<'a, 'b> {
    pub(crate) pandas: PRef<'a>,
    pub(crate) budget: &'a Budget<'b>,
}

fn col_segment(l: &Label) -> String {
    format!("[{:?}]", l.key().unwrap_or_else(|| l.to_string()))
}

fn invalid(what: &str, exp: &dyn Expected) -> Error {
    Error::new(
        ErrorKind::Type,
        format!("invalid type: {what}, expected {exp}"),
    )
}

impl<'de> de::Deserializer<'de> for FrameDe<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.pandas {
            PRef::Frame(df) => visitor.visit_seq(Rows {
                df,
                row: 0,
                budget: self.budget,
                plans: Plans::default(),
            }),
            PRef::Series(s) => visitor.visit_seq(Cells {
                data: &s.column.data,
                name: &s.column.name,
                row: 0,
                budget: self.budget,
            }),
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
        match self.pandas {
            PRef::Frame(df) => {
                let entries: Vec<(String, &Column)> = df
                    .columns
                    .iter()
                    .map(|c| (c.name.key().unwrap_or_else(|| c.name.to_string()), c))
                    .collect();
                visitor.visit_map(ColumnsMap {
                    entries,
                    at: 0,
                    budget: self.budget,
                })
            }
            PRef::Series(s) => visitor.visit_map(SeriesMap {
                s,
                row: 0,
                budget: self.budget,
            }),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.pandas {
            PRef::Frame(df) => {
                let mut entries: Vec<(String, &Column)> = Vec::new();
                for f in fields {
                    if let Some(c) = find(df, f) {
                        entries.push((f.to_string(), c));
                    }
                }
                visitor.visit_map(ColumnsMap {
                    entries,
                    at: 0,
                    budget: self.budget,
                })
            }
            PRef::Series(_) => self.deserialize_map(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        Err(self.wrong(&visitor))
    }

    wrong_fn!(deserialize_i8);
    wrong_fn!(deserialize_i16);
    wrong_fn!(deserialize_i32);
    wrong_fn!(deserialize_i64);
    wrong_fn!(deserialize_i128);
    wrong_fn!(deserialize_u8);
    wrong_fn!(deserialize_u16);
    wrong_fn!(deserialize_u32);
    wrong_fn!(deserialize_u64);
    wrong_fn!(deserialize_u128);
    wrong_fn!(deserialize_f32);
    wrong_fn!(deserialize_f64);
    wrong_fn!(deserialize_char);
    wrong_fn!(deserialize_str);
    wrong_fn!(deserialize_string);
    wrong_fn!(deserialize_bytes);
    wrong_fn!(deserialize_byte_buf);
    wrong_fn!(deserialize_unit);
    wrong_fn!(deserialize_identifier);

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        Err(self.wrong(&visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        Err(self.wrong(&visitor))
    }
}

impl FrameDe<'_, '_> {
    fn wrong(&self, exp: &dyn Expected) -> Error {
        let what = match self.pandas {
            PRef::Frame(df) => {
                let (r, c) = df.shape();
                format!("a pandas DataFrame of {r} rows and {c} columns")
            }
            PRef::Series(s) => format!("a pandas Series of {} values", s.len()),
        };
        invalid(&what, exp)
    }
}

/// The column (or index level) a field name stands for: a column whose label's key is
/// the name, else an index level by name (`index` for an unnamed single index,
/// `level_i` for unnamed MultiIndex levels, as `reset_index()` names them).
pub(crate) fn find<'a>(df: &'a DataFrame, field: &str) -> Option<&'a Column> {
    df.columns
        .iter()
        .find(|c| c.name.key().as_deref() == Some(field))
        .or_else(|| index_level(&df.index, field))
}

fn index_level<'a>(ix: &'a Index, field: &str) -> Option<&'a Column> {
    let n = ix.levels.len();
    ix.levels.iter().enumerate().find_map(|(i, l)| {
        let name = match l.name.key() {
            Some(k) => k,
            None if n == 1 => "index".to_string(),
            None => format!("level_{i}"),
        };
        (name == field).then_some(l)
    })
}

/// The rows of a frame.
struct Rows<'a, 'b> {
    df: &'a DataFrame,
    row: usize,
    budget: &'a Budget<'b>,
    plans: Plans<'a>,
}

/// Which column each key of a row is: worked out for the first row, kept for the rest
/// (the struct's field list, and the column keys of a map).
#[derive(Default)]
struct Plans<'a> {
    /// The field list it was made for (its address: serde hands the same static slice
    /// for every row) and the fields found.
    fields: std::cell::RefCell<Option<(usize, FieldPlan<'a>)>>,
    keys: std::cell::RefCell<Option<KeyPlan<'a>>>,
}

type Rc<T> = std::rc::Rc<T>;
/// The columns of a struct's fields, in field order (fields without a column left out).
type FieldPlan<'a> = Rc<[(&'static str, &'a Column)]>;
/// Every column under its key.
type KeyPlan<'a> = Rc<[(String, &'a Column)]>;

/// A key of a row map: a field name, or a column's key.
trait RowKey {
    fn text(&self) -> &str;
}

impl RowKey for (&'static str, &Column) {
    fn text(&self) -> &str {
        self.0
    }
}

impl RowKey for (String, &Column) {
    fn text(&self) -> &str {
        &self.0
    }
}

impl<'de> de::SeqAccess<'de> for Rows<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.row >= self.df.len() {
            return Ok(None);
        }
        let r = self.row;
        self.row += 1;
        seed.deserialize(RowDe {
            df: self.df,
            row: r,
            budget: self.budget,
            plans: &self.plans,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.df.len() - self.row)
    }
}

/// One row: a struct or map by column name, or a tuple of its cells.
struct RowDe<'p, 'a, 'b> {
    df: &'a DataFrame,
    row: usize,
    budget: &'a Budget<'b>,
    plans: &'p Plans<'a>,
}

impl<'de> de::Deserializer<'de> for RowDe<'_, '_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let entries = self
            .plans
            .keys
            .borrow_mut()
            .get_or_insert_with(|| {
                self.df
                    .columns
                    .iter()
                    .map(|c| (c.name.key().unwrap_or_else(|| c.name.to_string()), c))
                    .collect()
            })
            .clone();
        visitor.visit_map(RowMap {
            entries,
            at: 0,
            row: self.row,
            budget: self.budget,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let id = fields.as_ptr() as usize;
        let entries = {
            let mut plan = self.plans.fields.borrow_mut();
            match &*plan {
                Some((at, e)) if *at == id => e.clone(),
                _ => {
                    let e: FieldPlan<'_> = fields
                        .iter()
                        .filter_map(|f| find(self.df, f).map(|c| (*f, c)))
                        .collect();
                    *plan = Some((id, e.clone()));
                    e
                }
            }
        };
        visitor.visit_map(RowMap {
            entries,
            at: 0,
            row: self.row,
            budget: self.budget,
        })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(RowSeq {
            df: self.df,
            col: 0,
            row: self.row,
            budget: self.budget,
        })
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

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct enum identifier
    }
}

struct RowMap<'a, 'b, K> {
    entries: Rc<[(K, &'a Column)]>,
    at: usize,
    row: usize,
    budget: &'a Budget<'b>,
}

impl<'de, K> de::MapAccess<'de> for RowMap<'_, '_, K>
where
    for<'c> (K, &'c Column): RowKey,
{
    type Error = Error;

    fn next_key_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>> {
        match self.entries.get(self.at) {
            Some(e) => seed.deserialize(e.text().into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let c = self.entries[self.at].1;
        self.at += 1;
        let cell = CellDe {
            data: &c.data,
            row: self.row,
            key: false,
            budget: self.budget,
        };
        seed.deserialize(cell).map_err(|e| {
            e.in_path(&format!("[{}]", self.row))
                .in_path(&col_segment(&c.name))
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() - self.at)
    }
}

struct RowSeq<'a, 'b> {
    df: &'a DataFrame,
    col: usize,
    row: usize,
    budget: &'a Budget<'b>,
}

impl<'de> de::SeqAccess<'de> for RowSeq<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(c) = self.df.columns.get(self.col) else {
            return Ok(None);
        };
        self.col += 1;
        seed.deserialize(CellDe {
            data: &c.data,
            row: self.row,
            key: false,
            budget: self.budget,
        })
        .map(Some)
        .map_err(|e| {
            e.in_path(&format!("[{}]", self.row))
                .in_path(&col_segment(&c.name))
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.df.columns.len() - self.col)
    }
}

/// Whole columns: column key → sequence of cells.
struct ColumnsMap<'a, 'b> {
    entries: Vec<(String, &'a Column)>,
    at: usize,
    budget: &'a Budget<'b>,
}

impl<'de> de::MapAccess<'de> for ColumnsMap<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.entries.get(self.at) {
            Some((k, _)) => seed.deserialize(k.as_str().into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let (_, c) = self.entries[self.at];
        self.at += 1;
        seed.deserialize(ColumnDe {
            col: c,
            budget: self.budget,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() - self.at)
    }
}

/// A column as a sequence of its cells.
struct ColumnDe<'a, 'b> {
    col: &'a Column,
    budget: &'a Budget<'b>,
}

impl<'de> de::Deserializer<'de> for ColumnDe<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(Cells {
            data: &self.col.data,
            name: &self.col.name,
            row: 0,
            budget: self.budget,
        })
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct seq tuple tuple_struct map struct enum identifier
    }
}

/// The cells of a column (or a Series) in order.
struct Cells<'a, 'b> {
    data: &'a Data,
    name: &'a Label,
    row: usize,
    budget: &'a Budget<'b>,
}

impl<'de> de::SeqAccess<'de> for Cells<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.row >= self.data.len() {
            return Ok(None);
        }
        let r = self.row;
        self.row += 1;
        seed.deserialize(CellDe {
            data: self.data,
            row: r,
            key: false,
            budget: self.budget,
        })
        .map(Some)
        .map_err(|e| {
            let e = e.in_path(&format!("[{r}]"));
            match self.name {
                Label::None => e,
                n => e.in_path(&col_segment(n)),
            }
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.data.len() - self.row)
    }
}

/// A Series into a map: index label → value.
struct SeriesMap<'a, 'b> {
    s: &'a Series,
    row: usize,
    budget: &'a Budget<'b>,
}

impl<'de> de::MapAccess<'de> for SeriesMap<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.row >= self.s.len() {
            return Ok(None);
        }
        let levels = &self.s.index.levels;
        if levels.len() == 1 {
            seed.deserialize(CellDe {
                data: &levels[0].data,
                row: self.row,
                key: true,
                budget: self.budget,
            })
            .map(Some)
        } else {
            let text = self.s.index.label_text(self.row);
            seed.deserialize(text.into_deserializer()).map(Some)
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let r = self.row;
        self.row += 1;
        seed.deserialize(CellDe {
            data: &self.s.column.data,
            row: r,
            key: false,
            budget: self.budget,
        })
        .map_err(|e| e.in_path(&format!("[{r}]")))
    }
}

/// One value of a column.
pub(crate) struct CellDe<'a, 'b> {
    data: &'a Data,
    row: usize,
    /// A map key: numbers may stand in for strings.
    key: bool,
    budget: &'a Budget<'b>,
}

impl CellDe<'_, '_> {
    fn null(&self) -> bool {
        self.data.is_null(self.row)
    }

    fn missing(&self, exp: &dyn Expected) -> Error {
        Error::new(ErrorKind::Type, format!("expected {exp}, found None"))
    }

    /// The text a string request gets for a non-string value, when it has one.
    fn text(&self) -> Option<String> {
        let i = self.row;
        match self.data.values() {
            Values::DateTime { values, unit, tz } => {
                Some(timestamp_text(values[i], unit, tz.as_ref(), 'T'))
            }
            Values::TimeDelta { values, unit } => Some(timedelta_text(values[i], unit)),
            _ if self.key => Some(self.data.values().text(i)),
            _ => None,
        }
    }
}

impl<'de> de::Deserializer<'de> for CellDe<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let i = self.row;
        // A NaN of a float column is a float (serde_json makes it null itself).
        if self.null()
            && !matches!(self.data.values(), Values::F32(_) | Values::F64(_) if self.data.kind() == &super::Kind::Numpy)
        {
            return visitor.visit_unit();
        }
        match self.data.values() {
            Values::Bool(v) => visitor.visit_bool(v[i]),
            Values::I8(v) => visitor.visit_i8(v[i]),
            Values::I16(v) => visitor.visit_i16(v[i]),
            Values::I32(v) => visitor.visit_i32(v[i]),
            Values::I64(v) => visitor.visit_i64(v[i]),
            Values::U8(v) => visitor.visit_u8(v[i]),
            Values::U16(v) => visitor.visit_u16(v[i]),
            Values::U32(v) => visitor.visit_u32(v[i]),
            Values::U64(v) => visitor.visit_u64(v[i]),
            Values::F32(v) => visitor.visit_f32(v[i]),
            Values::F64(v) => visitor.visit_f64(v[i]),
            Values::C64(v) => crate::de::visit_complex(v[i].0 as f64, v[i].1 as f64, visitor),
            Values::C128(v) => crate::de::visit_complex(v[i].0, v[i].1, visitor),
            Values::Str(s) => {
                let t = s.get(i).unwrap_or_default();
                self.budget.charge(t.len())?;
                visitor.visit_str(t)
            }
            Values::Object(cells) => CellValue {
                cell: &cells[i],
                budget: self.budget,
                depth: 0,
            }
            .deserialize_any(visitor),
            Values::DateTime { values, unit, tz } => {
                visitor.visit_string(timestamp_text(values[i], unit, tz.as_ref(), 'T'))
            }
            Values::TimeDelta { values, unit } => match to_nanos(values[i], unit) {
                Some(ns) => visitor.visit_i64(ns),
                None => Err(Error::new(
                    ErrorKind::Type,
                    format!(
                        "a timedelta of {} {unit} does not fit in i64 nanoseconds",
                        values[i]
                    ),
                )),
            },
            Values::Categorical {
                codes, categories, ..
            } => CellDe {
                data: categories,
                row: codes[i] as usize,
                key: self.key,
                budget: self.budget,
            }
            .deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.null() {
            visitor.visit_unit()
        } else {
            self.deserialize_any(visitor)
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.null() {
            return Err(self.missing(&visitor));
        }
        if let Values::Categorical {
            codes, categories, ..
        } = self.data.values()
        {
            return CellDe {
                data: categories,
                row: codes[self.row] as usize,
                key: self.key,
                budget: self.budget,
            }
            .deserialize_str(visitor);
        }
        match self.text() {
            Some(t) => {
                self.budget.charge(t.len())?;
                visitor.visit_string(t)
            }
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.int(visitor)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.int(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.int(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.int(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.int(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        if self.null() {
            return Err(self.missing(&visitor));
        }
        // A unit variant named by the cell's text (a categorical of labels).
        let mut t = None;
        if let Values::Str(s) = self.data.values() {
            t = s.get(self.row).map(str::to_string);
        } else if let Values::Categorical {
            codes, categories, ..
        } = self.data.values()
        {
            t = Some(categories.values().text(codes[self.row] as usize));
        } else if let Values::Object(c) = self.data.values() {
            if let Cell::Str(s) = &c[self.row] {
                t = Some(s.clone());
            }
        }
        match t {
            Some(t) => visitor.visit_enum(t.into_deserializer()),
            None => self.deserialize_any(visitor),
        }
    }

    forward_to_deserialize_any! {
        unit_struct tuple_struct map struct
    }
}

impl CellDe<'_, '_> {
    /// A scalar request: missing values are errors, everything else as `any`.
    fn scalar<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.null() {
            let keep = matches!(self.data.values(), Values::F32(_) | Values::F64(_))
                && self.data.kind() == &super::Kind::Numpy;
            if !keep {
                return Err(self.missing(&visitor));
            }
        }
        self.deserialize_any(visitor)
    }

    /// An integer request: datetimes give nanoseconds since the epoch.
    fn int<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.null() {
            return Err(self.missing(&visitor));
        }
        match self.data.values() {
            Values::DateTime { values, unit, .. } => match to_nanos(values[self.row], unit) {
                Some(ns) => visitor.visit_i64(ns),
                None => Err(Error::new(
                    ErrorKind::Type,
                    format!(
                        "the datetime {} does not fit in i64 nanoseconds",
                        self.data.values().text(self.row)
                    ),
                )),
            },
            Values::Categorical {
                codes, categories, ..
            } => CellDe {
                data: categories,
                row: codes[self.row] as usize,
                key: self.key,
                budget: self.budget,
            }
            .int(visitor),
            _ => self.deserialize_any(visitor),
        }
    }
}

/// One Python object of an object column.
struct CellValue<'a, 'b> {
    cell: &'a Cell,
    budget: &'a Budget<'b>,
    depth: usize,
}

impl<'de> de::Deserializer<'de> for CellValue<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.cell {
            Cell::None => visitor.visit_unit(),
            Cell::Bool(b) => visitor.visit_bool(*b),
            Cell::Int(i) => visitor.visit_i64(*i),
            Cell::BigInt(s) => match s.parse::<i128>() {
                Ok(i) => visitor.visit_i128(i),
                Err(_) => match s.parse::<u128>() {
                    Ok(u) => visitor.visit_u128(u),
                    Err(_) => Err(Error::new(
                        ErrorKind::Type,
                        format!("invalid value: int {s} does not fit in 128 bits"),
                    )),
                },
            },
            Cell::Float(f) => visitor.visit_f64(*f),
            Cell::Str(s) | Cell::Text(s) => {
                self.budget.charge(s.len())?;
                visitor.visit_str(s)
            }
            Cell::Bytes(b) => {
                self.budget.charge(b.len())?;
                visitor.visit_bytes(b)
            }
            Cell::Nanos(n) => visitor.visit_i64(*n),
            Cell::List(items) | Cell::Tuple(items) => {
                visitor.visit_seq(de::value::SeqDeserializer::new(items.iter().map(|c| {
                    CellValue {
                        cell: c,
                        budget: self.budget,
                        depth: self.depth + 1,
                    }
                })))
            }
            Cell::Dict(pairs) => visitor.visit_map(de::value::MapDeserializer::new(
                pairs.iter().map(|(k, v)| {
                    (
                        CellValue {
                            cell: k,
                            budget: self.budget,
                            depth: self.depth + 1,
                        },
                        CellValue {
                            cell: v,
                            budget: self.budget,
                            depth: self.depth + 1,
                        },
                    )
                }),
            )),
            Cell::Other(name) => Err(invalid(&format!("object {name}"), &visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.cell.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, Error> for CellValue<'_, '_> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// A column's values as `Vec<T>`.
pub(crate) fn column_as<T: serde::de::DeserializeOwned>(
    c: &Column,
    budget: &Budget<'_>,
) -> Result<Vec<T>> {
    <Vec<T> as serde::Deserialize>::deserialize(ColumnDe { col: c, budget })
}
