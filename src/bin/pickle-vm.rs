//! `pickle-vm`: inspect Python pickles without Python.
//!
//! ```text
//! pickle-vm json FILE [--raw] [--encoding ENC] [--buffer FILE]... [--pretty] [--data] [--max-expanded-bytes N]
//! pickle-vm dis FILE [--annotate]
//! pickle-vm torch ls FILE [--json]
//! pickle-vm torch convert FILE OUT.safetensors [--force] [--skip-unsupported] [--quiet]
//! pickle-vm convert FILE OUT.{csv,parquet,arrow,feather,safetensors} [--force] [--quiet]
//! pickle-vm pandas info FILE [--json]
//! pickle-vm scan FILE... [--json] [--all]
//! ```
//! `scan` reports what each file would import and call if Python loaded it; its exit
//! status is 0 (safe), 1 (unknown globals), 2 (dangerous) or 3 (unreadable), the worst
//! over all files (dangerous wins over unreadable).
//! `json` and `dis` recognise the format by the content: pickles, joblib dumps (arrays
//! inline; joblib < 0.10 siblings read beside the pickle), `.npy` and `.npz` files and
//! torch checkpoints (zip, legacy and tar formats); `--data` prints tensor and array
//! elements instead of digests. `dis` of a joblib dump prints one line where each array's
//! data lies, of an object `.npy` file the pickle it holds.
//! `convert` picks the output format by OUT's extension: a pickled pandas DataFrame or
//! Series becomes `.csv` (what `df.to_csv()` writes), `.parquet` or `.arrow`/`.feather`;
//! a torch checkpoint becomes `.safetensors` (`torch convert` is the same). It writes a
//! temporary file beside OUT and renames it, so a failed conversion leaves no OUT.
//! `-` reads standard input. Errors go to standard error with the byte offset; the exit
//! status is non-zero (1; 2 for a usage error).

use clap::{Parser, Subcommand};
use serde_pickle_vm::dis::DisOptions;
use serde_pickle_vm::file::{self, FileOptions};
use serde_pickle_vm::json::{self, JsonOptions};
use serde_pickle_vm::pandas::{self, Label, Pandas, WriteOptions};
use serde_pickle_vm::torch::{save_safetensors, Bytes, Checkpoint, LoadOptions};
use serde_pickle_vm::{Encoding, Errors, Options, Unpickler};
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "pickle-vm",
    version,
    about = "Inspect Python pickles without Python: never executes them."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the object graph of a pickle as JSON (the format of JSON.md); joblib dumps,
    /// .npy, .npz and torch files too.
    Json {
        /// The file (pickle, joblib, .npy, .npz, torch), or `-` for standard input.
        file: PathBuf,
        /// Show every construction as recorded, without emulating standard-library classes.
        #[arg(long)]
        raw: bool,
        /// How Python 2 `str` is decoded: ASCII (default), latin1, utf-8 or bytes.
        #[arg(long, default_value = "ASCII")]
        encoding: String,
        /// What to do with undecodable bytes: strict (default), replace or ignore.
        #[arg(long, default_value = "strict")]
        errors: String,
        /// An out-of-band buffer for NEXT_BUFFER (protocol 5); repeat in order.
        #[arg(long = "buffer", value_name = "FILE")]
        buffers: Vec<PathBuf>,
        /// Indent the output.
        #[arg(long)]
        pretty: bool,
        /// Print the elements of tensors and numpy arrays instead of their sha256.
        #[arg(long)]
        data: bool,
        /// Most bytes of strings and bytes to write, counting a shared string at each
        /// reference (default: 64 × the pickle's size + 64 MiB).
        #[arg(long, value_name = "BYTES")]
        max_expanded_bytes: Option<u64>,
    },
    /// Report what pickles would import and call if Python loaded them, without loading
    /// them. Exit status: 0 safe, 1 unknown globals, 2 dangerous, 3 unreadable.
    Scan {
        /// Pickles, torch checkpoints (zip, legacy, tar), .npy files; `-` for standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print one JSON document per file (the schema is in the crate docs of `scan`).
        #[arg(long)]
        json: bool,
        /// Also list calls, BUILDs and persistent ids of safe objects.
        #[arg(long)]
        all: bool,
    },
    /// Inspect and convert PyTorch checkpoints.
    Torch {
        #[command(subcommand)]
        command: TorchCommand,
    },
    /// Convert a file, by OUT's extension: a pickled pandas DataFrame or Series to .csv
    /// (byte for byte what `df.to_csv()` writes), .parquet or .arrow/.feather; a torch
    /// checkpoint to .safetensors.
    Convert {
        /// The pickle (any format `json` reads, compressed too) or checkpoint; `-` for
        /// standard input.
        file: PathBuf,
        /// The file to write: .csv, .parquet, .arrow, .feather or .safetensors.
        out: PathBuf,
        /// Overwrite OUT if it exists.
        #[arg(long)]
        force: bool,
        /// (.safetensors) Leave out tensors whose dtype safetensors lacks, naming each on
        /// stderr, instead of failing.
        #[arg(long)]
        skip_unsupported: bool,
        /// Print nothing on stderr but errors (no progress bar, no summary).
        #[arg(short, long)]
        quiet: bool,
    },
    /// Inspect pickled pandas DataFrames and Series.
    Pandas {
        #[command(subcommand)]
        command: PandasCommand,
    },
    /// Disassemble a pickle, printing what `python -m pickletools FILE` prints (joblib
    /// dumps with a line per array; the pickle inside an object .npy file).
    Dis {
        /// The pickle file, or `-` for standard input.
        file: PathBuf,
        /// Annotate each line with a short description of its opcode (like `-a`).
        #[arg(short, long)]
        annotate: bool,
    },
}

#[derive(Subcommand)]
enum TorchCommand {
    /// List every tensor: name, dtype, shape, bytes, storage and offset.
    Ls {
        /// The checkpoint (zip, legacy or tar format; the name does not matter).
        file: PathBuf,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write the checkpoint's tensors to a safetensors file.
    Convert {
        /// The checkpoint.
        file: PathBuf,
        /// The safetensors file to write.
        out: PathBuf,
        /// Overwrite OUT if it exists.
        #[arg(long)]
        force: bool,
        /// Leave out tensors whose dtype safetensors lacks (complex128, …), naming each
        /// on stderr, instead of failing.
        #[arg(long)]
        skip_unsupported: bool,
        /// Print nothing on stderr but errors.
        #[arg(short, long)]
        quiet: bool,
    },
}

#[derive(Subcommand)]
enum PandasCommand {
    /// Print what `df.info()` prints: the index, each column's non-null count and dtype.
    Info {
        /// The pickle (any format `json` reads, compressed too); `-` for standard input.
        file: PathBuf,
        /// Print JSON: {"kind", "shape", "index": {"kind", "names", "dtypes"},
        /// "columns": [{"name", "dtype", "non_null"}]}.
        #[arg(long)]
        json: bool,
    },
}

fn open_checkpoint(file: &PathBuf, opts: &LoadOptions) -> Result<Checkpoint, String> {
    if file.as_os_str() == "-" {
        let data = read_input(file)?;
        return Checkpoint::from_reader_with(io::Cursor::new(data), opts)
            .map_err(|e| format!("-: {e}"));
    }
    Checkpoint::open_with(file, opts).map_err(|e| e.to_string())
}

fn torch_command(cmd: TorchCommand, out: &mut impl Write) -> Result<(), String> {
    match cmd {
        TorchCommand::Ls { file, json } => {
            let ckpt = open_checkpoint(&file, &LoadOptions::default())?;
            let tensors = ckpt.tensors();
            let w = |e: io::Error| e.to_string();
            if json {
                let rows: Vec<serde_json::Value> = tensors
                    .iter()
                    .map(|(name, t)| {
                        serde_json::json!({
                            "name": name,
                            "dtype": t.dtype().name(),
                            "shape": t.shape(),
                            "stride": t.strides(),
                            "bytes": t.nbytes(),
                            "storage": t.storage().key(),
                            "storage_offset": t.storage_offset(),
                            "requires_grad": t.requires_grad(),
                        })
                    })
                    .collect();
                let text = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
                writeln!(out, "{text}").map_err(w)?;
                return Ok(());
            }
            let name_w = tensors
                .iter()
                .map(|(n, _)| n.len())
                .max()
                .unwrap_or(4)
                .max(4);
            writeln!(
                out,
                "{:<name_w$}  {:<14} {:<18} {:>12}  {:>8}  {:>8}",
                "NAME", "DTYPE", "SHAPE", "BYTES", "STORAGE", "OFFSET"
            )
            .map_err(w)?;
            let mut total = 0usize;
            for (name, t) in &tensors {
                total += t.nbytes();
                writeln!(
                    out,
                    "{:<name_w$}  {:<14} {:<18} {:>12}  {:>8}  {:>8}",
                    name,
                    t.dtype().name(),
                    format!("{:?}", t.shape()),
                    t.nbytes(),
                    t.storage().key(),
                    t.storage_offset()
                )
                .map_err(w)?;
            }
            writeln!(out, "{} tensors, {} bytes", tensors.len(), total).map_err(w)?;
        }
        TorchCommand::Convert {
            file,
            out: dest,
            force,
            skip_unsupported,
            quiet,
        } => convert_safetensors(&file, &dest, force, skip_unsupported, quiet)?,
    }
    Ok(())
}

/// What `convert` writes, by OUT's extension.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Csv,
    Parquet,
    Ipc,
    Safetensors,
}

const SUPPORTED: &str =
    ".csv, .parquet, .arrow, .feather (pandas pickles), .safetensors (torch checkpoints)";

fn target_of(out: &Path) -> Result<Target, String> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => Ok(Target::Csv),
        Some("parquet") => Ok(Target::Parquet),
        Some("arrow") | Some("feather") => Ok(Target::Ipc),
        Some("safetensors") => Ok(Target::Safetensors),
        Some(e) => Err(format!(
            "{}: unknown extension .{e}; supported: {SUPPORTED}",
            out.display()
        )),
        None => Err(format!(
            "{}: no extension to choose the format by; supported: {SUPPORTED}",
            out.display()
        )),
    }
}

/// A file being written beside its destination, removed unless committed.
struct TempOut {
    path: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl TempOut {
    fn new(dest: &Path) -> TempOut {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        TempOut {
            path: dir.join(format!(".{name}.{}.tmp", std::process::id())),
            dest: dest.to_path_buf(),
            done: false,
        }
    }

    /// Renames the finished file onto the destination.
    fn commit(mut self) -> Result<(), String> {
        std::fs::rename(&self.path, &self.dest).map_err(|e| {
            format!(
                "renaming {} to {}: {e}",
                self.path.display(),
                self.dest.display()
            )
        })?;
        self.done = true;
        Ok(())
    }
}

impl Drop for TempOut {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A progress bar on stderr, only when it is a terminal and not `--quiet`.
fn progress_bar(len: u64, unit: &str, quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || !io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    let template = format!("{{bar:40}} {{human_pos}}/{{human_len}} {unit} ({{elapsed}})");
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    Some(bar)
}

fn check_dest(dest: &Path, force: bool) -> Result<(), String> {
    if dest.exists() && !force {
        return Err(format!(
            "{} exists; pass --force to overwrite it",
            dest.display()
        ));
    }
    Ok(())
}

/// `pickle-vm convert` (and `torch convert`, which is always .safetensors).
fn convert_command(
    file: &PathBuf,
    dest: &Path,
    force: bool,
    skip_unsupported: bool,
    quiet: bool,
) -> Result<(), String> {
    let target = target_of(dest)?;
    if target == Target::Safetensors {
        return convert_safetensors(file, dest, force, skip_unsupported, quiet);
    }
    #[cfg(not(feature = "parquet"))]
    if target == Target::Parquet {
        return Err(format!(
            "{}: built without parquet support (the `parquet` feature)",
            dest.display()
        ));
    }
    #[cfg(not(feature = "arrow"))]
    if target == Target::Ipc {
        return Err(format!(
            "{}: built without arrow support (the `arrow` feature)",
            dest.display()
        ));
    }
    check_dest(dest, force)?;
    #[allow(unused_mut)]
    let mut df = match load_pandas(file)? {
        Pandas::DataFrame(df) => df,
        Pandas::Series(s) => s.into_frame(),
    };
    // Columns Arrow cannot hold: named on stderr and left out with --skip-unsupported,
    // else the error names the first.
    #[cfg(feature = "arrow")]
    if matches!(target, Target::Parquet | Target::Ipc) {
        let bad = df.unwritable_columns();
        if let Some((i, e)) = bad.first() {
            if !skip_unsupported {
                let _ = i;
                return Err(format!(
                    "{}: {} (--skip-unsupported writes the other columns)",
                    dest.display(),
                    e.message()
                ));
            }
            for (_, e) in &bad {
                eprintln!("pickle-vm: skipped: {}", e.message());
            }
            let drop: Vec<usize> = bad.iter().map(|(i, _)| *i).collect();
            df.drop_columns(&drop);
        }
    }
    let rows = df.len() as u64;
    let bar = progress_bar(rows, "rows", quiet);
    let mut opts = WriteOptions::default();
    if let Some(bar) = bar.clone() {
        opts.progress = Some(Box::new(move |n| bar.set_position(n)));
    }
    let tmp = TempOut::new(dest);
    let f = std::fs::File::create(&tmp.path)
        .map_err(|e| format!("creating {}: {e}", tmp.path.display()))?;
    let w = io::BufWriter::with_capacity(1 << 20, f);
    let written = match target {
        Target::Csv => pandas::write_csv(&df, w, opts),
        #[cfg(feature = "parquet")]
        Target::Parquet => pandas::write_parquet(&df, w, opts),
        #[cfg(feature = "arrow")]
        Target::Ipc => pandas::write_ipc(&df, w, opts),
        _ => unreachable!("checked above"),
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    written.map_err(|e| format!("{}: {e}", dest.display()))?;
    tmp.commit()?;
    if !quiet {
        let (r, c) = df.shape();
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        eprintln!(
            "wrote {}, {} to {}",
            plural(r, "row"),
            plural(c, "column"),
            dest.display()
        );
    }
    Ok(())
}

fn convert_safetensors(
    file: &PathBuf,
    dest: &Path,
    force: bool,
    skip_unsupported: bool,
    quiet: bool,
) -> Result<(), String> {
    check_dest(dest, force)?;
    let ckpt = open_checkpoint(file, &LoadOptions::default())?;
    let mut tensors = ckpt.tensors();
    if skip_unsupported {
        tensors.retain(|(name, t)| {
            let keep = serde_pickle_vm::torch::safetensors_supports(t.dtype());
            if !keep {
                eprintln!("skipping {name}: safetensors has no dtype {}", t.dtype());
            }
            keep
        });
    }
    let total: usize = tensors.iter().map(|(_, t)| t.nbytes()).sum();
    let bar = progress_bar(total as u64, "bytes", quiet);
    let tmp = TempOut::new(dest);
    save_safetensors(&tensors, &tmp.path, |done, _all| {
        if let Some(bar) = &bar {
            bar.set_position(done);
        }
    })
    .map_err(|e| e.to_string())?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    tmp.commit()?;
    if !quiet {
        eprintln!(
            "wrote {} tensors ({total} bytes) to {}",
            tensors.len(),
            dest.display()
        );
    }
    Ok(())
}

/// The DataFrame or Series of a pickle; a clear error when the pickle holds something
/// else.
fn load_pandas(file: &PathBuf) -> Result<Pandas, String> {
    if file.as_os_str() == "-" {
        pandas::read_pickle_bytes(&read_input(file)?)
    } else {
        pandas::read_pickle(file)
    }
    .map_err(|e| format!("{}: {e}", file.display()))
}

fn label_json(l: &Label) -> serde_json::Value {
    use serde_json::Value as J;
    match l {
        Label::None => J::Null,
        Label::Str(s) | Label::Other(s) => J::from(s.as_str()),
        Label::Int(i) => J::from(*i),
        Label::Float(x) => serde_json::Number::from_f64(*x)
            .map(J::Number)
            .unwrap_or_else(|| J::from(l.to_string())),
        Label::Bool(b) => J::from(*b),
        Label::Tuple(parts) => J::Array(parts.iter().map(label_json).collect()),
    }
}

fn index_kind(ix: &pandas::Index) -> &'static str {
    ix.kind.class_name()
}

fn pandas_command(cmd: PandasCommand, out: &mut impl Write) -> Result<(), String> {
    let w = |e: io::Error| e.to_string();
    match cmd {
        PandasCommand::Info { file, json } => {
            let p = load_pandas(&file)?;
            if !json {
                return out.write_all(p.info().as_bytes()).map_err(w);
            }
            let column = |c: &pandas::Column| {
                serde_json::json!({
                    "name": label_json(&c.name),
                    "dtype": c.data.dtype_name(),
                    "non_null": c.data.len() - c.data.null_count(),
                })
            };
            let (kind, shape, index, columns) = match &p {
                Pandas::DataFrame(df) => (
                    "DataFrame",
                    serde_json::json!([df.len(), df.columns().len()]),
                    df.index(),
                    df.columns().iter().map(column).collect::<Vec<_>>(),
                ),
                Pandas::Series(s) => (
                    "Series",
                    serde_json::json!([s.len()]),
                    s.index(),
                    vec![serde_json::json!({
                        "name": label_json(s.name()),
                        "dtype": s.data().dtype_name(),
                        "non_null": s.len() - s.data().null_count(),
                    })],
                ),
            };
            let doc = serde_json::json!({
                "kind": kind,
                "shape": shape,
                "index": {
                    "kind": index_kind(index),
                    "names": index.levels.iter().map(|l| label_json(&l.name)).collect::<Vec<_>>(),
                    "dtypes": index.levels.iter().map(|l| l.data.dtype_name()).collect::<Vec<_>>(),
                },
                "columns": columns,
            });
            let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
            writeln!(out, "{text}").map_err(w)
        }
    }
}

/// `pickle-vm scan`: prints the reports and returns the exit status.
fn scan_command(files: &[PathBuf], as_json: bool, all: bool) -> Result<u8, String> {
    use serde_pickle_vm::scan::{self, Kind, Severity};
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let w = |e: io::Error| e.to_string();
    let mut worst: Option<u8> = None;
    let rank = |code: u8| match code {
        2 => 3,
        3 => 2,
        c => c,
    };
    for file in files {
        let report = if file.as_os_str() == "-" {
            read_input(file).map(|data| scan::scan_bytes(&data))
        } else {
            scan::scan_file(file).map_err(|e| format!("{}: {e}", file.display()))
        };
        let report = match report {
            Ok(report) => report,
            Err(e) => {
                eprintln!("pickle-vm: {e}");
                worst = Some(worst.map_or(3, |c: u8| if rank(c) >= rank(3) { c } else { 3 }));
                continue;
            }
        };
        let code = report.exit_code();
        worst = Some(worst.map_or(code, |c| if rank(c) >= rank(code) { c } else { code }));
        if as_json {
            let doc = serde_json::json!({ "file": file.display().to_string(), "exit_code": code, "severity": report.severity(), "report": report });
            writeln!(out, "{doc}").map_err(w)?;
            continue;
        }
        writeln!(
            out,
            "{} ({}): {}",
            file.display(),
            report.describe_format(),
            verdict(&report)
        )
        .map_err(w)?;
        if let Some(e) = &report.error {
            writeln!(out, "  unreadable: {e}").map_err(w)?;
        }
        let mut hidden = 0usize;
        let mut member: Option<&str> = None;
        // joblib's inline arrays are listed where they are: object arrays (their pickles
        // are scanned) always, plain ones with --all; the rest are counted below.
        let inline: Vec<&scan::Array> =
            report.arrays.iter().filter(|a| a.format != "npy").collect();
        // Arrays come in the order of the pickles and, within one, of their offsets:
        // one cursor walks them along the findings.
        let mut shown = vec![false; inline.len()];
        let mut next = 0usize;
        let array_line = |a: &scan::Array| {
            let what = match (&a.file, a.object) {
                (Some(f), _) => format!("array in the file {f}"),
                (None, true) => format!(
                    "object array ({}), shape {:?}: its pickle ({}..{}) is scanned",
                    a.dtype, a.shape, a.offset, a.end
                ),
                (None, false) => format!(
                    "{} array, shape {:?}, order {}: {} bytes of data{}, skipped",
                    a.dtype,
                    a.shape,
                    a.order,
                    a.end - a.offset - a.padding,
                    if a.padding > 0 {
                        format!(" after {} of padding", a.padding)
                    } else {
                        String::new()
                    }
                ),
            };
            format!("  {:<10} {:>8}  {:<13} {what}", "array", a.offset, "")
        };
        for p in &report.pickles {
            let duplicate = p
                .findings
                .first()
                .is_some_and(|f| f.kind == Kind::DuplicateName);
            if p.member.as_deref() != member || p.start > 0 || duplicate {
                member = p.member.as_deref();
                let name = member.unwrap_or("pickle");
                writeln!(
                    out,
                    "  {name} @ {}{}",
                    p.start,
                    p.protocol
                        .map(|v| format!(" (protocol {v})"))
                        .unwrap_or_default()
                )
                .map_err(w)?;
            }
            let in_pickle = |a: &scan::Array| {
                a.member == p.member && a.offset >= p.start && p.end.is_none_or(|e| a.offset < e)
            };
            for f in &p.findings {
                while next < inline.len()
                    && in_pickle(inline[next])
                    && inline[next].offset <= f.offset
                {
                    let a = inline[next];
                    if all || a.object {
                        shown[next] = true;
                        writeln!(out, "{}", array_line(a)).map_err(w)?;
                    }
                    next += 1;
                }
                let show =
                    all || matches!(
                        f.kind,
                        Kind::Global
                            | Kind::Extension
                            | Kind::TrailingData
                            | Kind::ExternalFile
                            | Kind::DuplicateName
                    ) || f.severity == Severity::Dangerous
                        || (f.kind == Kind::Build
                            && f.severity > Severity::Safe
                            && f.name.as_deref().is_some_and(|n| !n.contains(" at ")));
                if !show {
                    hidden += 1;
                    continue;
                }
                writeln!(
                    out,
                    "  {:<10} {:>8}  {:<13} {}",
                    f.severity.as_str(),
                    f.offset,
                    f.opcode,
                    f.what()
                )
                .map_err(w)?;
            }
            while next < inline.len() && in_pickle(inline[next]) {
                let a = inline[next];
                if all || a.object {
                    shown[next] = true;
                    writeln!(out, "{}", array_line(a)).map_err(w)?;
                }
                next += 1;
            }
            if let Some(e) = &p.error {
                writeln!(
                    out,
                    "  {:<10} {:>8}  {:<13} {}",
                    "unreadable",
                    e.offset.map(|o| o.to_string()).unwrap_or_default(),
                    "",
                    e.message
                )
                .map_err(w)?;
            }
        }
        let plain: Vec<&&scan::Array> = inline
            .iter()
            .zip(&shown)
            .filter(|(a, s)| !**s && !a.object && a.file.is_none())
            .map(|(a, _)| a)
            .collect();
        if !plain.is_empty() {
            let bytes: u64 = plain.iter().map(|a| a.end - a.offset).sum();
            writeln!(
                out,
                "  ({} array{} that joblib reads inline after its NumpyArrayWrapper BUILDs: {bytes} bytes of data, skipped; --all lists them)",
                plain.len(),
                if plain.len() == 1 { "" } else { "s" }
            )
            .map_err(w)?;
        }
        let npy: Vec<&scan::Array> = report
            .arrays
            .iter()
            .filter(|a| a.format == "npy" && !a.object)
            .collect();
        if !npy.is_empty() {
            if all || npy.len() == 1 {
                for a in &npy {
                    writeln!(
                        out,
                        "  {:<10} {:>8}  {:<13} {}{} array, shape {:?}: data",
                        "array",
                        a.offset,
                        "",
                        a.member
                            .as_deref()
                            .map(|m| format!("{m}: "))
                            .unwrap_or_default(),
                        a.dtype,
                        a.shape
                    )
                    .map_err(w)?;
                }
            } else {
                let names: Vec<&str> = npy.iter().filter_map(|a| a.member.as_deref()).collect();
                let list = if names.len() > 6 {
                    format!("{}, … (+{} more)", names[..6].join(", "), names.len() - 6)
                } else {
                    names.join(", ")
                };
                writeln!(
                    out,
                    "  ({} .npy members hold plain arrays, not pickles: {list}; --all lists them)",
                    npy.len()
                )
                .map_err(w)?;
            }
        }
        if hidden > 0 {
            writeln!(out, "  ({hidden} calls, BUILDs and persistent ids of known objects not shown; --all lists them)").map_err(w)?;
        }
    }
    out.flush().map_err(w)?;
    Ok(worst.unwrap_or(0))
}

/// The verdict, with what made it.
fn verdict(report: &serde_pickle_vm::scan::Report) -> String {
    use serde_pickle_vm::scan::{Kind, Severity};
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    match report.exit_code() {
        0 => "safe (only builds data)".into(),
        1 => {
            let mut names: Vec<&str> = Vec::new();
            for (_, f) in report.findings() {
                if f.severity == Severity::Unknown && f.kind == Kind::Global {
                    let n = f.name.as_deref().unwrap_or("<computed name>");
                    if !names.contains(&n) {
                        names.push(n);
                    }
                }
            }
            let mut other: Vec<&str> = Vec::new();
            for (_, f) in report.findings() {
                let what = match f.kind {
                    Kind::TrailingData => "data after STOP",
                    Kind::Extension => "an extension code",
                    Kind::ExternalFile => "a file read from outside the dump",
                    Kind::DuplicateName => "zip records sharing a name",
                    _ => continue,
                };
                if f.severity == Severity::Unknown && !other.contains(&what) {
                    other.push(what);
                }
            }
            let mut why = Vec::new();
            if !names.is_empty() {
                let mut list = names[..names.len().min(3)].join(", ");
                if names.len() > 3 {
                    list.push_str(&format!(" (+{} more)", names.len() - 3));
                }
                why.push(format!("not known to be data: {list}"));
            }
            why.extend(other.iter().map(|s| s.to_string()));
            if why.is_empty() {
                why.push("calls of objects the pickle built".into());
            }
            format!("unknown ({}; nothing dangerous)", why.join("; "))
        }
        2 => {
            let n = report
                .findings()
                .filter(|(_, f)| f.severity == Severity::Dangerous)
                .count();
            format!("DANGEROUS ({})", plural(n, "dangerous finding"))
        }
        _ => "unreadable".into(),
    }
}

fn read_input(path: &PathBuf) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    if path.as_os_str() == "-" {
        io::stdin()
            .read_to_end(&mut data)
            .map_err(|e| format!("reading standard input: {e}"))?;
    } else {
        data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(data)
}

fn run(cli: Cli) -> Result<(), String> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match cli.command {
        Command::Json {
            file,
            raw,
            encoding,
            errors,
            buffers,
            pretty,
            data: print_data,
            max_expanded_bytes,
        } => {
            let json_opts = JsonOptions {
                pretty,
                data: print_data,
                max_expanded_bytes,
            };
            let options = Options {
                encoding: encoding.parse::<Encoding>().map_err(|e| e.to_string())?,
                errors: errors.parse::<Errors>().map_err(|e| e.to_string())?,
                emulate: !raw,
                ..Options::default()
            };
            if buffers.is_empty() {
                // Any format, told from the content: pickles, joblib dumps, .npy, .npz,
                // torch checkpoints.
                let opts = FileOptions {
                    pickle: options,
                    rebuild: !raw,
                    ..FileOptions::default()
                };
                let loaded = if file.as_os_str() == "-" {
                    file::load_shared(Bytes::new(read_input(&file)?), &opts)
                } else {
                    file::load_file_with(&file, &opts)
                }
                .map_err(|e| format!("{}: {e}", file.display()))?;
                json::to_writer(&loaded.graph, &json_opts, &mut out)
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                out.write_all(b"\n").map_err(|e| e.to_string())?;
                return out.flush().map_err(|e| e.to_string());
            }
            let data = read_input(&file)?;
            let mut unpickler = Unpickler::with_options(options);
            if !buffers.is_empty() {
                let bufs = buffers
                    .iter()
                    .map(read_input)
                    .collect::<Result<Vec<_>, _>>()?;
                unpickler = unpickler.buffers(bufs);
            }
            let graph = unpickler
                .load_slice(&data)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            json::to_writer(&graph, &json_opts, &mut out)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            out.write_all(b"\n").map_err(|e| e.to_string())?;
        }
        Command::Dis { file, annotate } => {
            let data = read_input(&file)?;
            let options = if annotate {
                DisOptions::annotated()
            } else {
                DisOptions::default()
            };
            // Like pickletools, print what could be disassembled before the error.
            let mut text = String::new();
            // A joblib dump prints a line where each array's data is; an object .npy
            // file, the pickle it holds.
            let result = file::dis(&data, &mut text, &options);
            out.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
            out.flush().map_err(|e| e.to_string())?;
            let format = result.map_err(|e| format!("{}: {e}", file.display()))?;
            if let file::Format::Compressed { codec, .. } = format {
                eprintln!(
                    "pickle-vm: {}: {codec}-compressed; the offsets are in the decompressed data",
                    file.display()
                );
            }
        }
        Command::Torch { command } => torch_command(command, &mut out)?,
        Command::Convert {
            file,
            out: dest,
            force,
            skip_unsupported,
            quiet,
        } => convert_command(&file, &dest, force, skip_unsupported, quiet)?,
        Command::Pandas { command } => pandas_command(command, &mut out)?,
        Command::Scan { .. } => unreachable!("handled in main"),
    }
    out.flush().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Scan { files, json, all } = &cli.command {
        return match scan_command(files, *json, *all) {
            Ok(code) => ExitCode::from(code),
            Err(msg) => {
                eprintln!("pickle-vm: {msg}");
                ExitCode::from(3)
            }
        };
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("pickle-vm: {msg}");
            ExitCode::FAILURE
        }
    }
}
