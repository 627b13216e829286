//! Where the pickles of a file are: the file itself (and whatever follows its STOP),
//! the five pickles of torch's legacy format, every member of a zip or tar archive that
//! holds one (by content, whatever its name; every record of a zip directory, duplicate
//! names included), the object arrays of `.npy` files and `.npz` members, the arrays
//! joblib writes inline.
//!
//! It knows nothing of opcodes beyond "does a walk reach STOP".

use super::walk::{self, End, InlineArray};
use super::{npy as npy_header, zipdir};
use super::{Array, Finding, Kind, Pickle, Report, ScanError, Severity};
use crate::opcode;
use std::collections::HashMap;

/// The legacy format is five pickles (magic, protocol, sys info, the object, storage
/// keys) followed by raw storages, which torch never unpickles.
const LEGACY_PICKLES: usize = 5;
/// Most bytes a deflated member may inflate to during a scan, and per compressed byte.
const INFLATE: zipdir::Limits = zipdir::Limits {
    max_bytes: 4 << 30,
    max_ratio: 1000,
};

fn report(format: &'static str) -> Report {
    Report {
        format,
        compression: None,
        pickles: Vec::new(),
        arrays: Vec::new(),
        error: None,
    }
}

/// Scans `data`, whatever it is.
pub(crate) fn scan(data: &[u8]) -> Report {
    // A compressed pickle or joblib file (a zip is scanned member by member below):
    // inflated under the scan's limits, then scanned as what it holds; offsets count in
    // the decompressed stream.
    if let Some(codec) = crate::compress::sniff(data).filter(|c| *c != crate::compress::Codec::Zip)
    {
        let limits = crate::compress::InflateLimits {
            max_bytes: INFLATE.max_bytes,
            max_ratio: INFLATE.max_ratio,
        };
        return match crate::compress::decompress(data, codec, &limits) {
            Ok(inner) => decompressed(codec.name(), scan_uncompressed(&inner)),
            Err(e) => unreadable(codec.name(), e.offset(), e.to_string()),
        };
    }
    scan_uncompressed(data)
}

/// Marks a report of decompressed bytes as coming from a `codec`-compressed input.
pub(crate) fn decompressed(codec: &'static str, mut inner: Report) -> Report {
    inner.compression = Some(codec);
    inner
}

/// A compressed input that could not be decompressed.
pub(crate) fn unreadable(codec: &'static str, offset: Option<u64>, message: String) -> Report {
    let mut r = report("pickle");
    r.compression = Some(codec);
    r.error = Some(ScanError { offset, message });
    r
}

fn scan_uncompressed(data: &[u8]) -> Report {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return zip(data);
    }
    if data.get(257..262) == Some(b"ustar".as_slice()) {
        return tar(data);
    }
    if data.starts_with(b"\x93NUMPY") {
        let mut r = report("npy");
        npy(data, None, &mut r);
        return r;
    }
    if data.starts_with(crate::torch::LEGACY_MAGIC_PICKLE) {
        let mut r = report("torch-legacy");
        r.pickles = stream(data, None, Some(LEGACY_PICKLES), false, &mut r.arrays);
        return r;
    }
    let mut r = report("pickle");
    r.pickles = stream(data, None, None, true, &mut r.arrays);
    if r.arrays.iter().any(|a| a.format.starts_with("joblib")) || r.pickles.iter().any(|p| p.joblib)
    {
        r.format = "joblib";
    }
    r
}

fn pickle(member: &Option<String>, start: usize, o: walk::Outcome) -> Pickle {
    let (end, error) = match o.end {
        End::Stop(e) => (Some(e as u64), None),
        End::Error { offset, message } => (
            None,
            Some(ScanError {
                offset: Some(offset as u64),
                message,
            }),
        ),
    };
    Pickle {
        member: member.clone(),
        start: start as u64,
        end,
        protocol: o.protocol,
        findings: o.findings,
        error,
        joblib: o.wrappers > 0,
    }
}

fn array(member: &Option<String>, a: InlineArray) -> Array {
    Array {
        member: member.clone(),
        format: if a.file.is_some() {
            "joblib-file"
        } else {
            "joblib"
        },
        build: Some(a.build as u64),
        offset: a.offset as u64,
        padding: a.padding as u64,
        end: a.end as u64,
        dtype: a.dtype,
        shape: a.shape,
        order: a.order,
        object: a.object,
        protocol: a.protocol,
        file: a.file,
    }
}

/// A pickle at the top of a file, which `pickle.load` and `joblib.load` may both be
/// given. The two read the same opcodes up to the first BUILD of a joblib array
/// wrapper; after it joblib reads array data where `pickle.load` reads opcodes. The
/// walk follows joblib (unless it fails in an array where `pickle.load` reaches STOP:
/// then the file is a plain pickle holding a wrapper object) and adds what the other
/// loader would do that is dangerous and not already listed.
fn walk_top(data: &[u8], start: usize) -> walk::Outcome {
    let j = walk::walk_joblib(data, start);
    if j.wrappers == 0 {
        // No wrapper was built: both loaders read the same opcodes.
        return j;
    }
    let p = walk::walk(data, start);
    let (mut primary, other, who) = if j.failed_in_array && matches!(p.end, End::Stop(_)) {
        (p, j, "joblib.load")
    } else {
        (j, p, "pickle.load")
    };
    for mut f in other.findings {
        if f.severity == Severity::Dangerous
            && !primary
                .findings
                .iter()
                .any(|g| g.offset == f.offset && g.opcode == f.opcode)
        {
            let other = if who == "pickle.load" {
                "joblib.load"
            } else {
                "pickle.load"
            };
            let how = format!("if loaded with {who}: {other} reads these bytes as array data");
            f.detail = if f.detail.is_empty() {
                how
            } else {
                format!("{}; {how}", f.detail)
            };
            primary.findings.push(f);
        }
    }
    primary.findings.sort_by_key(|f| f.offset);
    primary
}

/// The pickles of a stream: the first, then — when bytes follow its STOP — whatever
/// else is there. `expected` pickles in a row (torch legacy) are normal; bytes after
/// those are not looked at. `top`: a file's own pickles, which joblib may load (see
/// [`walk_top`]), not an archive member's.
fn stream(
    data: &[u8],
    member: Option<String>,
    expected: Option<usize>,
    top: bool,
    arrays: &mut Vec<Array>,
) -> Vec<Pickle> {
    let mut out: Vec<Pickle> = Vec::new();
    let mut start = 0usize;
    loop {
        let mut o = if top {
            walk_top(data, start)
        } else {
            walk::walk(data, start)
        };
        arrays.extend(o.arrays.drain(..).map(|a| array(&member, a)));
        let stop = match o.end {
            End::Stop(e) => Some(e),
            End::Error { .. } => None,
        };
        out.push(pickle(&member, start, o));
        let Some(end) = stop else { break };
        if end >= data.len() {
            break;
        }
        if let Some(n) = expected {
            if out.len() < n {
                start = end;
                continue;
            }
            break;
        }
        let rest = &data[end..];
        let next = walk::walk(data, end);
        let is_pickle = matches!(next.end, End::Stop(_)) || !next.findings.is_empty();
        let padding = rest.iter().all(|b| b.is_ascii_whitespace() || *b == 0);
        let (severity, detail) = if is_pickle {
            (
                Severity::Unknown,
                "another pickle follows STOP (scanned as the next pickle; `pickle.load` called again would run it)".to_string(),
            )
        } else if padding {
            (
                Severity::Safe,
                format!("{} bytes of padding after STOP", rest.len()),
            )
        } else {
            (
                Severity::Unknown,
                format!("{} bytes after STOP that are not a pickle", rest.len()),
            )
        };
        if let Some(last) = out.last_mut() {
            last.findings.push(Finding {
                severity,
                offset: end as u64,
                opcode: opcode::name(rest[0]),
                kind: Kind::TrailingData,
                name: None,
                detail,
                called_by: Vec::new(),
            });
        }
        if !is_pickle {
            break;
        }
        start = end;
    }
    out
}

/// A member that is not expected to be a pickle: scanned when it reads as one (a walk to
/// STOP), or when it starts with PROTO and imports something before it fails.
fn maybe_pickle(data: &[u8], member: &str, r: &mut Report) {
    if data.starts_with(b"\x93NUMPY") {
        npy(data, Some(member.to_string()), r);
        return;
    }
    let o = walk::walk(data, 0);
    let proto = data.len() >= 2 && data[0] == opcode::PROTO && data[1] <= opcode::HIGHEST_PROTOCOL;
    let take = match o.end {
        End::Stop(_) => true,
        End::Error { .. } => proto && !o.findings.is_empty(),
    };
    if take {
        let mut p = stream(data, Some(member.to_string()), None, false, &mut r.arrays);
        r.pickles.append(&mut p);
    }
}

/// Pickles in a member that interleaves them with raw data (legacy tar `storages` and
/// `tensors`): every protocol 2 pickle that starts where the previous one ended or
/// further on and reads to STOP.
fn interleaved(data: &[u8], member: &str, out: &mut Vec<Pickle>) {
    let name = Some(member.to_string());
    let mut at = 0usize;
    let mut first = true;
    while at < data.len() {
        let o = walk::walk(data, at);
        match o.end {
            End::Stop(end) => {
                out.push(pickle(&name, at, o));
                at = end;
            }
            End::Error { .. } if first => {
                out.push(pickle(&name, at, o));
                return;
            }
            End::Error { .. } => match data[at + 1..].windows(2).position(|w| w == b"\x80\x02") {
                Some(i) => at = at + 1 + i,
                None => return,
            },
        }
        first = false;
    }
}

/// A `.npy` file or member: `numpy.load` unpickles the data after the header when the
/// dtype holds objects (`dtype.hasobject`: an object dtype or a structured one with an
/// object field).
fn npy(data: &[u8], member: Option<String>, r: &mut Report) {
    let h = match npy_header::header(data) {
        Ok(h) => h,
        Err((offset, message)) => {
            let error = ScanError {
                offset: Some(offset as u64),
                message: match &member {
                    Some(m) => format!("{m}: {message}"),
                    None => message,
                },
            };
            match &member {
                // A broken member does not make the archive unreadable.
                Some(m) => r.pickles.push(Pickle {
                    member: Some(m.clone()),
                    start: 0,
                    end: None,
                    protocol: None,
                    findings: Vec::new(),
                    error: Some(error),
                    joblib: false,
                }),
                None => r.error = Some(error),
            }
            return;
        }
    };
    r.arrays.push(Array {
        member: member.clone(),
        format: "npy",
        build: None,
        offset: h.data as u64,
        padding: 0,
        end: data.len() as u64,
        dtype: h.descr,
        shape: h.shape,
        order: if h.fortran { "F" } else { "C" }.to_string(),
        object: h.object,
        protocol: None,
        file: None,
    });
    if h.object {
        let o = walk::walk(data, h.data);
        if let Some(a) = r.arrays.last_mut() {
            a.protocol = o.protocol;
            if let End::Stop(e) = &o.end {
                a.end = *e as u64;
            }
        }
        r.pickles.push(pickle(&member, h.data, o));
    }
}

// ---------------------------------------------------------------- zip

fn zip(data: &[u8]) -> Report {
    let mut r = report("zip");
    let records = match zipdir::records(data) {
        Ok(rs) => rs,
        Err((offset, message)) => {
            r.error = Some(ScanError { offset, message });
            return r;
        }
    };
    let files: Vec<&zipdir::Record> = records.iter().filter(|e| !e.name.ends_with('/')).collect();
    if files.iter().any(|e| e.name.ends_with("data.pkl")) {
        r.format = "torch-zip";
    } else if !files.is_empty() && files.iter().all(|e| e.name.ends_with(".npy")) {
        r.format = "npz";
    }
    // How many records have each name, and how many of them came before.
    let mut total: HashMap<&str, usize> = HashMap::new();
    for e in &files {
        *total.entry(e.name.as_str()).or_default() += 1;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for e in &files {
        let name = e.name.clone();
        let before = r.pickles.len();
        match zipdir::read(data, e, &INFLATE) {
            Ok(bytes) => {
                if name.ends_with(".pkl") || name.ends_with("_pkl") {
                    let mut p = stream(&bytes, Some(name.clone()), None, false, &mut r.arrays);
                    r.pickles.append(&mut p);
                } else {
                    maybe_pickle(&bytes, &name, &mut r);
                }
            }
            Err((offset, message)) => r.pickles.push(Pickle {
                member: Some(name.clone()),
                start: 0,
                end: None,
                protocol: None,
                findings: Vec::new(),
                error: Some(ScanError { offset, message }),
                joblib: false,
            }),
        }
        // Readers disagree on which of two records with one name they read.
        let same = total[e.name.as_str()];
        let nth = {
            let n = seen.entry(e.name.as_str()).or_default();
            *n += 1;
            *n
        };
        if same > 1 {
            let who = if nth == 1 {
                "torch.load reads this one"
            } else if nth == same {
                "Python's zipfile reads this one"
            } else {
                "read by neither torch.load nor zipfile"
            };
            let finding = Finding {
                severity: Severity::Unknown,
                offset: 0,
                opcode: "",
                kind: Kind::DuplicateName,
                name: Some(name.clone()),
                detail: format!(
                    "record {nth} of {same} with this name (local header at byte {} of the archive): {who}; every one is scanned",
                    e.local
                ),
                called_by: Vec::new(),
            };
            match r.pickles.get_mut(before) {
                Some(p) => p.findings.insert(0, finding),
                None => r.pickles.push(Pickle {
                    member: Some(name.clone()),
                    start: 0,
                    end: None,
                    protocol: None,
                    findings: vec![finding],
                    error: None,
                    joblib: false,
                }),
            }
        }
    }
    r
}

// ---------------------------------------------------------------- tar

fn tar(data: &[u8]) -> Report {
    let mut r = report("tar");
    for m in crate::tar::members(data) {
        let m = match m {
            Ok(m) => m,
            Err(d) => {
                r.error = Some(ScanError {
                    offset: Some(d.offset as u64),
                    message: d.message,
                });
                break;
            }
        };
        let body = &data[m.body];
        if m.regular && !body.is_empty() {
            let name = m.name;
            match name.as_str() {
                "pickle" | "sys_info" => {
                    r.format = "torch-tar";
                    let mut p = stream(body, Some(name.clone()), None, false, &mut r.arrays);
                    r.pickles.append(&mut p);
                }
                "storages" | "tensors" => interleaved(body, &name, &mut r.pickles),
                _ => maybe_pickle(body, &name, &mut r),
            }
        }
    }
    r
}
