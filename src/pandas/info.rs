//! `df.info()`: the index, each column's non-null count and dtype, the dtype counts.

use super::{DataFrame, Index, Series};
use std::collections::BTreeMap;
use std::fmt::Write;

fn index_line(ix: &Index) -> String {
    let n = ix.len();
    let name = ix.kind.class_name();
    if n == 0 {
        return format!("{name}: 0 entries");
    }
    format!(
        "{name}: {n} entries, {} to {}",
        ix.label_text(0),
        ix.label_text(n - 1)
    )
}

fn dtype_counts(dtypes: &[String]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for d in dtypes {
        *counts.entry(d).or_default() += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(d, n)| format!("{d}({n})")).collect();
    format!("dtypes: {}", parts.join(", "))
}

fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = widths[c] - cell.chars().count();
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub(crate) fn frame_info(df: &DataFrame) -> String {
    let mut out = String::from("<class 'pandas.DataFrame'>\n");
    out.push_str(&index_line(&df.index));
    out.push('\n');
    if df.columns.is_empty() {
        out.push_str("Empty DataFrame\n");
        return out;
    }
    let levels = df.index.levels.len();
    if levels > 1 {
        let names: Vec<String> = df
            .index
            .names()
            .into_iter()
            .map(|n| n.unwrap_or_else(|| "None".into()))
            .collect();
        let _ = writeln!(out, "Index levels: {}", names.join(", "));
    } else if let Some(n) = df.index.names()[0].as_ref() {
        let _ = writeln!(out, "Index name: {n}");
    }
    let _ = writeln!(out, "Data columns (total {} columns):", df.columns.len());
    let mut rows = vec![
        vec![
            " #".to_string(),
            "Column".to_string(),
            "Non-Null Count".to_string(),
            "Dtype".to_string(),
        ],
        vec![
            "---".to_string(),
            "------".to_string(),
            "--------------".to_string(),
            "-----".to_string(),
        ],
    ];
    let mut dtypes = Vec::new();
    for (i, c) in df.columns.iter().enumerate() {
        let d = c.data.dtype_name();
        rows.push(vec![
            format!(" {i}"),
            c.name.to_string(),
            format!("{} non-null", c.data.len() - c.data.null_count()),
            d.clone(),
        ]);
        dtypes.push(d);
    }
    out.push_str(&table(&rows));
    out.push_str(&dtype_counts(&dtypes));
    out.push('\n');
    out
}

pub(crate) fn series_info(s: &Series) -> String {
    let mut out = String::from("<class 'pandas.Series'>\n");
    out.push_str(&index_line(&s.index));
    out.push('\n');
    let _ = writeln!(out, "Series name: {}", s.column.name);
    let d = s.column.data.dtype_name();
    let rows = vec![
        vec!["Non-Null Count".to_string(), "Dtype".to_string()],
        vec!["--------------".to_string(), "-----".to_string()],
        vec![
            format!("{} non-null", s.len() - s.column.data.null_count()),
            d.clone(),
        ],
    ];
    out.push_str(&table(&rows));
    out.push_str(&dtype_counts(&[d]));
    out.push('\n');
    out
}
