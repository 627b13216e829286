//! `pickle-vm`: inspect Python pickles without Python.
//!
//! ```text
//! pickle-vm json FILE [--raw] [--encoding ENC] [--buffer FILE]... [--pretty]
//! pickle-vm dis FILE [--annotate]
//! ```
//! `-` reads standard input. Errors go to standard error with the byte offset; the exit
//! status is non-zero.

use clap::{Parser, Subcommand};
use serde_pickle_vm::json::{self, JsonOptions};
use serde_pickle_vm::{Encoding, Errors, Options, Unpickler};
use std::io::{self, Read, Write};
use std::path::PathBuf;
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
    /// Print the object graph of a pickle as JSON (the format of JSON.md).
    Json {
        /// The pickle file, or `-` for standard input.
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
    },
    /// Disassemble a pickle, printing what `python -m pickletools FILE` prints.
    Dis {
        /// The pickle file, or `-` for standard input.
        file: PathBuf,
        /// Annotate each line with a short description of its opcode (like `-a`).
        #[arg(short, long)]
        annotate: bool,
    },
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
        } => {
            let data = read_input(&file)?;
            let options = Options {
                encoding: encoding.parse::<Encoding>().map_err(|e| e.to_string())?,
                errors: errors.parse::<Errors>().map_err(|e| e.to_string())?,
                emulate: !raw,
                ..Options::default()
            };
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
            json::to_writer(&graph, &JsonOptions { pretty, ..Default::default() }, &mut out)
                .and_then(|_| out.write_all(b"\n"))
                .map_err(|e| e.to_string())?;
        }
        Command::Dis { file, annotate } => {
            let _ = (file, annotate);
            return Err("dis: not built yet".into());
        }
    }
    out.flush().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("pickle-vm: {msg}");
            ExitCode::FAILURE
        }
    }
}
