//! The members of a POSIX (ustar) tar archive, which the legacy torch format uses
//! (`torch.save(..., _use_new_zipfile_serialization=False)` before torch 1.6 wrote one):
//! shared by the torch loader and the scanner. Bounds-checked throughout.

/// One member: its name, where its body starts and how long it is, and whether it is a
/// regular file (type `'0'` or NUL).
pub(crate) struct Member {
    pub(crate) name: String,
    /// The body's range in the archive.
    pub(crate) body: std::ops::Range<usize>,
    pub(crate) regular: bool,
}

/// A defect of the archive: what, and the offset of the header it was found in.
pub(crate) struct Defect {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

/// The members of `data` in order, up to the end-of-archive block (or the last whole
/// header); stops at the first defect, which is the last item.
pub(crate) fn members(data: &[u8]) -> impl Iterator<Item = Result<Member, Defect>> + '_ {
    let mut at = 0usize;
    let mut done = false;
    std::iter::from_fn(move || {
        if done || at + 512 > data.len() {
            return None;
        }
        let h = &data[at..at + 512];
        if h.iter().all(|b| *b == 0) {
            return None;
        }
        let name_end = h[..100].iter().position(|b| *b == 0).unwrap_or(100);
        let name = String::from_utf8_lossy(&h[..name_end]).into_owned();
        let size_text = String::from_utf8_lossy(&h[124..136]);
        let defect = |message: String| {
            Some(Err(Defect {
                offset: at,
                message,
            }))
        };
        let Some(size) =
            u64::from_str_radix(size_text.trim_matches(|c: char| c == '\0' || c == ' '), 8)
                .ok()
                .and_then(|s| usize::try_from(s).ok())
        else {
            done = true;
            return defect(format!("corrupt tar header for {name:?} (size)"));
        };
        let start = at + 512;
        let Some(end) = start.checked_add(size).filter(|e| *e <= data.len()) else {
            done = true;
            return defect(format!(
                "tar member {name:?} ({size} bytes) runs past the end of the file"
            ));
        };
        let member = Member {
            name,
            body: start..end,
            regular: matches!(h[156], b'0' | 0),
        };
        at = start + size.div_ceil(512) * 512;
        Some(Ok(member))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, size: &str, kind: u8) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[124..124 + size.len()].copy_from_slice(size.as_bytes());
        h[156] = kind;
        h
    }

    #[test]
    fn members_and_defects() {
        let mut tar = header("a", "00000000003\0", b'0');
        tar.extend_from_slice(b"xyz");
        tar.resize(1024, 0);
        tar.extend(header("dir/", "0", b'5'));
        tar.extend(header("b", "77777777777\0", b'0'));
        let got: Vec<_> = members(&tar).collect();
        assert_eq!(got.len(), 3);
        let a = got[0].as_ref().ok().unwrap();
        assert_eq!(
            (a.name.as_str(), &tar[a.body.clone()], a.regular),
            ("a", &b"xyz"[..], true)
        );
        assert!(!got[1].as_ref().ok().unwrap().regular);
        let d = got[2].as_ref().err().unwrap();
        assert_eq!(d.offset, 1536);
        assert!(d.message.contains("runs past the end"), "{}", d.message);
        let bad = header("c", "zz", b'0');
        let d = members(&bad).next().unwrap().err().unwrap();
        assert!(d.message.contains("corrupt tar header"), "{}", d.message);
        assert!(members(&[0u8; 1024]).next().is_none());
    }
}
