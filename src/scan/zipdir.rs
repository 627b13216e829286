//! A zip archive's central directory read record by record, for the scan: every
//! record, duplicate names included (torch reads the first of two `archive/data.pkl`,
//! Python's `zipfile` the last; a reader that indexes names sees one), with ZIP64 sizes
//! and offsets, and the bytes of each member (stored: a slice; deflated: inflated under
//! limits).
//!
//! It knows nothing of pickles; `container` decides what the members hold.

use std::borrow::Cow;

/// One record of the central directory.
pub(crate) struct Record {
    pub(crate) name: String,
    /// Where its local header is (in the data, after any prefix before the archive).
    pub(crate) local: u64,
    method: u16,
    flags: u16,
    compressed: u64,
    size: u64,
}

/// Limits on inflating a deflated member.
#[cfg_attr(not(feature = "torch"), allow(dead_code))] // inflating needs flate2
pub(crate) struct Limits {
    pub(crate) max_bytes: u64,
    pub(crate) max_ratio: u64,
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at.checked_add(2)?)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at.checked_add(4)?)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    let b = d.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_le_bytes(a))
}

type Fail = (Option<u64>, String);

fn fail<T>(at: Option<usize>, msg: impl Into<String>) -> Result<T, Fail> {
    Err((at.map(|a| a as u64), msg.into()))
}

/// Every record of the central directory, in directory order.
pub(crate) fn records(data: &[u8]) -> Result<Vec<Record>, Fail> {
    // The end record: the last signature whose comment ends the file, else the last.
    let tail = data.len().saturating_sub(22 + 65535);
    let mut eocd = None;
    let mut at = data.len().saturating_sub(22);
    while at >= tail && data.len() >= 22 {
        if data[at..].starts_with(b"PK\x05\x06") {
            let comment = u16_at(data, at + 20).unwrap_or(0) as usize;
            if eocd.is_none() {
                eocd = Some(at);
            }
            if at + 22 + comment == data.len() {
                eocd = Some(at);
                break;
            }
        }
        if at == 0 {
            break;
        }
        at -= 1;
    }
    let Some(e) = eocd else {
        return fail(None, "zip archive without an end-of-directory record");
    };
    let mut entries = u64::from(u16_at(data, e + 10).unwrap_or(0));
    let mut cd_size = u64::from(u32_at(data, e + 12).unwrap_or(0));
    let mut cd_offset = u64::from(u32_at(data, e + 16).unwrap_or(0));
    let mut end_of_cd = e;
    if entries == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        // ZIP64: the locator just before, pointing at the ZIP64 end record.
        if let Some(loc) = e
            .checked_sub(20)
            .filter(|&l| data[l..].starts_with(b"PK\x06\x07"))
        {
            let z = u64_at(data, loc + 8).and_then(|z| usize::try_from(z).ok());
            match z {
                Some(z) if data.get(z..).is_some_and(|d| d.starts_with(b"PK\x06\x06")) => {
                    entries = u64_at(data, z + 32).unwrap_or(0);
                    cd_size = u64_at(data, z + 40).unwrap_or(0);
                    cd_offset = u64_at(data, z + 48).unwrap_or(0);
                    end_of_cd = z;
                }
                _ => {
                    return fail(
                        Some(loc),
                        "ZIP64 end record not found where its locator says",
                    )
                }
            }
        }
    }
    // Data before the archive (a prefix) shifts every offset.
    let declared = usize::try_from(cd_offset).ok();
    let actual = end_of_cd.checked_sub(usize::try_from(cd_size).unwrap_or(usize::MAX));
    let (cd, shift) = match (declared, actual) {
        (Some(d), _) if data.get(d..).is_some_and(|s| s.starts_with(b"PK\x01\x02")) => (d, 0i128),
        (_, Some(a))
            if data.get(a..).is_some_and(|s| s.starts_with(b"PK\x01\x02")) || entries == 0 =>
        {
            (a, a as i128 - i128::from(cd_offset))
        }
        _ => return fail(Some(e), "zip central directory not found"),
    };
    let mut out = Vec::new();
    let mut p = cd;
    // Each record takes at least 46 bytes: a lying count cannot make this loop long.
    while (out.len() as u64) < entries {
        if !data.get(p..).is_some_and(|s| s.starts_with(b"PK\x01\x02")) {
            return fail(
                Some(p),
                format!("zip central directory record #{} is missing", out.len()),
            );
        }
        let field = |o: usize| u16_at(data, p + o).ok_or(());
        let (Ok(flags), Ok(method), Ok(n), Ok(x), Ok(c)) =
            (field(8), field(10), field(28), field(30), field(32))
        else {
            return fail(Some(p), "zip central directory record was truncated");
        };
        let mut compressed = u64::from(u32_at(data, p + 20).unwrap_or(0));
        let mut size = u64::from(u32_at(data, p + 24).unwrap_or(0));
        let mut local = u64::from(u32_at(data, p + 42).unwrap_or(0));
        let name_at = p + 46;
        let Some(name) = data.get(name_at..name_at + n as usize) else {
            return fail(Some(p), "zip central directory record was truncated");
        };
        let Some(extra) = data.get(name_at + n as usize..name_at + n as usize + x as usize) else {
            return fail(Some(p), "zip central directory record was truncated");
        };
        // The ZIP64 extra field: the 8-byte values of the fields that are saturated.
        let mut i = 0;
        while i + 4 <= extra.len() {
            let id = u16_at(extra, i).unwrap_or(0);
            let len = u16_at(extra, i + 2).unwrap_or(0) as usize;
            if id == 1 {
                let mut q = i + 4;
                for f in [&mut size, &mut compressed, &mut local] {
                    if *f == 0xFFFF_FFFF {
                        if let Some(v) = u64_at(extra, q).filter(|_| q + 8 <= i + 4 + len) {
                            *f = v;
                            q += 8;
                        }
                    }
                }
            }
            i += 4 + len;
        }
        let local = i128::from(local) + shift;
        out.push(Record {
            name: String::from_utf8_lossy(name).into_owned(),
            local: u64::try_from(local).unwrap_or(u64::MAX),
            method,
            flags,
            compressed,
            size,
        });
        p = name_at + n as usize + x as usize + c as usize;
    }
    Ok(out)
}

/// The bytes of the member `r`: stored ones are a slice of `data`, deflated ones are
/// inflated (refused over `limits`, declared or actual).
pub(crate) fn read<'a>(data: &'a [u8], r: &Record, limits: &Limits) -> Result<Cow<'a, [u8]>, Fail> {
    let at = usize::try_from(r.local).unwrap_or(usize::MAX);
    if !data.get(at..).is_some_and(|s| s.starts_with(b"PK\x03\x04")) {
        return fail(Some(at), format!("zip member {}: no local header", r.name));
    }
    let (Some(n), Some(x)) = (u16_at(data, at + 26), u16_at(data, at + 28)) else {
        return fail(
            Some(at),
            format!("zip member {}: truncated local header", r.name),
        );
    };
    let start = at + 30 + n as usize + x as usize;
    if r.flags & 1 != 0 {
        return fail(Some(at), format!("zip member {} is encrypted", r.name));
    }
    let body = usize::try_from(r.compressed)
        .ok()
        .and_then(|c| data.get(start..start.checked_add(c)?));
    let Some(body) = body else {
        return fail(
            Some(start),
            format!("zip member {} runs past the end of the archive", r.name),
        );
    };
    match r.method {
        0 => {
            if r.compressed != r.size {
                return fail(Some(at), format!("stored zip member {} has two sizes", r.name));
            }
            Ok(Cow::Borrowed(body))
        }
        8 => inflate(body, r, limits, start),
        m => fail(
            Some(at),
            format!(
                "zip member {} uses compression method {m}; only stored and deflated members are scanned",
                r.name
            ),
        ),
    }
}

#[cfg(feature = "torch")]
fn inflate<'a>(
    body: &[u8],
    r: &Record,
    limits: &Limits,
    start: usize,
) -> Result<Cow<'a, [u8]>, Fail> {
    use std::io::Read;
    let cap = limits.max_bytes.min(
        r.compressed
            .max(1)
            .saturating_mul(limits.max_ratio)
            .max(1 << 20),
    );
    if r.size > cap {
        return fail(
            Some(start),
            format!(
                "zip member {} inflates from {} to {} bytes, over the scan's limits ({} bytes, {}x)",
                r.name, r.compressed, r.size, limits.max_bytes, limits.max_ratio
            ),
        );
    }
    let mut out = Vec::new();
    // Never trust the declared size: read at most one byte past it.
    flate2::read::DeflateDecoder::new(body)
        .take(r.size + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            (
                Some(start as u64),
                format!("zip member {} does not inflate: {e}", r.name),
            )
        })?;
    if out.len() as u64 != r.size {
        return fail(
            Some(start),
            format!(
                "zip member {} inflates to {}{} bytes, its header says {}",
                r.name,
                if out.len() as u64 > r.size {
                    "more than "
                } else {
                    ""
                },
                out.len().min(r.size as usize),
                r.size
            ),
        );
    }
    Ok(Cow::Owned(out))
}

#[cfg(not(feature = "torch"))]
fn inflate<'a>(
    _body: &[u8],
    r: &Record,
    _limits: &Limits,
    start: usize,
) -> Result<Cow<'a, [u8]>, Fail> {
    fail(
        Some(start),
        format!(
            "zip member {} is deflated: inflating needs the `torch` feature",
            r.name
        ),
    )
}
