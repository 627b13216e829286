//! Where the pickles of a file are: the file itself (and whatever follows its STOP),
//! the five pickles of torch's legacy format, every member of a zip or tar archive that
//! holds one (by content, whatever its name), the object array of a `.npy` file.
//!
//! It knows nothing of opcodes beyond "does a walk reach STOP".

use super::walk::{self, End};
use super::{Finding, Kind, Pickle, Report, ScanError, Severity};
use crate::opcode;
use crate::torch::Bytes;

/// torch's legacy format starts with the pickled magic number 0x1950a86a20f9469cfc6c.
const LEGACY_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";
/// The legacy format is five pickles (magic, protocol, sys info, the object, storage
/// keys) followed by raw storages, which torch never unpickles.
const LEGACY_PICKLES: usize = 5;
/// Most bytes a deflated member may inflate to during a scan.
#[cfg(feature = "torch")]
const MAX_INFLATED: u64 = 4 << 30;

fn report(format: &'static str) -> Report {
    Report {
        format,
        pickles: Vec::new(),
        error: None,
    }
}

/// Scans `data`; `owned`, when given, holds the same bytes (an archive is then read
/// without a copy).
pub(crate) fn scan(data: &[u8], owned: Option<Bytes>) -> Report {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return zip(data, owned);
    }
    if data.get(257..262) == Some(b"ustar".as_slice()) {
        return tar(data);
    }
    if data.starts_with(b"\x93NUMPY") {
        let mut r = report("npy");
        npy(data, None, &mut r);
        return r;
    }
    if data.starts_with(LEGACY_MAGIC) {
        let mut r = report("torch-legacy");
        r.pickles = stream(data, None, Some(LEGACY_PICKLES));
        return r;
    }
    let mut r = report("pickle");
    r.pickles = stream(data, None, None);
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
    }
}

/// The pickles of a stream: the first, then — when bytes follow its STOP — whatever
/// else is there. `expected` pickles in a row (torch legacy) are normal; bytes after
/// those are not looked at.
fn stream(data: &[u8], member: Option<String>, expected: Option<usize>) -> Vec<Pickle> {
    let mut out: Vec<Pickle> = Vec::new();
    let mut start = 0usize;
    loop {
        let o = walk::walk(data, start);
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
fn maybe_pickle(data: &[u8], member: &str, out: &mut Vec<Pickle>) {
    if data.starts_with(b"\x93NUMPY") {
        let mut r = report("npy");
        npy(data, Some(member.to_string()), &mut r);
        out.append(&mut r.pickles);
        return;
    }
    let o = walk::walk(data, 0);
    let proto = data.len() >= 2 && data[0] == opcode::PROTO && data[1] <= opcode::HIGHEST_PROTOCOL;
    let take = match o.end {
        End::Stop(_) => true,
        End::Error { .. } => proto && !o.findings.is_empty(),
    };
    if take {
        out.extend(stream(data, Some(member.to_string()), None));
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

fn npy(data: &[u8], member: Option<String>, r: &mut Report) {
    let header = match data.get(6) {
        Some(1) => data
            .get(8..10)
            .map(|b| (10, u16::from_le_bytes([b[0], b[1]]) as usize)),
        Some(2 | 3) => data
            .get(8..12)
            .map(|b| (12, u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)),
        _ => None,
    };
    let Some((at, len)) = header else {
        r.error = Some(ScanError {
            offset: Some(6),
            message: "unknown .npy version".into(),
        });
        return;
    };
    let Some(text) = data.get(at..at + len) else {
        r.error = Some(ScanError {
            offset: Some(at as u64),
            message: ".npy header runs past the end of the file".into(),
        });
        return;
    };
    let text = String::from_utf8_lossy(text);
    let object = text
        .split("'descr':")
        .nth(1)
        .is_some_and(|d| d.trim_start().starts_with("'|O'"));
    if object {
        let start = at + len;
        let o = walk::walk(data, start);
        r.pickles.push(pickle(&member, start, o));
    }
}

// ---------------------------------------------------------------- zip

#[cfg(feature = "torch")]
fn zip(data: &[u8], owned: Option<Bytes>) -> Report {
    use crate::torch::zip;
    struct Named {
        name: String,
    }
    let bytes = owned.unwrap_or_else(|| Bytes::new(data.to_vec()));
    let src = crate::torch::source::Source::Mem(bytes);
    let mut r = report("zip");
    let archive = match zip::Archive::open(&src) {
        Ok(a) => a,
        Err(e) => {
            r.error = Some(ScanError {
                offset: None,
                message: e.to_string(),
            });
            return r;
        }
    };
    let names: Vec<String> = archive.names().map(str::to_string).collect();
    if names.iter().any(|n| n.ends_with("data.pkl")) {
        r.format = "torch-zip";
    }
    let limits = zip::InflateLimits {
        max_bytes: MAX_INFLATED,
        max_ratio: 1000,
    };
    // Every record of the directory by index (duplicate names included).
    for i in 0..names.len() {
        let entry = archive.entry_at(i);
        let name = match &entry {
            Ok(e) => e.name.clone(),
            Err(_) => format!("#{i}"),
        };
        if name.ends_with('/') {
            continue;
        }
        let read = entry.and_then(|e| archive.read(&e, limits));
        let bytes = match read {
            Ok(b) => b,
            Err(err) => {
                r.pickles.push(Pickle {
                    member: Some(name.clone()),
                    start: 0,
                    end: None,
                    protocol: None,
                    findings: Vec::new(),
                    error: Some(ScanError {
                        offset: None,
                        message: err.to_string(),
                    }),
                });
                continue;
            }
        };
        let e = Named { name: name.clone() };
        if e.name.ends_with(".pkl") || e.name.ends_with("_pkl") {
            r.pickles.extend(stream(&bytes, Some(e.name.clone()), None));
        } else {
            maybe_pickle(&bytes, &e.name, &mut r.pickles);
        }
    }
    r
}

#[cfg(not(feature = "torch"))]
fn zip(_data: &[u8], _owned: Option<Bytes>) -> Report {
    let mut r = report("zip");
    r.error = Some(ScanError {
        offset: None,
        message: "scanning zip archives needs the `torch` feature".into(),
    });
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
                    r.pickles.extend(stream(body, Some(name.clone()), None));
                }
                "storages" | "tensors" => interleaved(body, &name, &mut r.pickles),
                _ => maybe_pickle(body, &name, &mut r.pickles),
            }
        }
    }
    r
}
