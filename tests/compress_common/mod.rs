//! Shared by `tests/compress.rs` and `tests/bounds.rs`: compression bombs, built in
//! memory by each codec's encoder (dev-dependencies).
#![allow(dead_code)]

use serde_pickle_vm::compress::{sniff, Codec};
use std::io::Write;

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A pickle of `n` zero bytes (BINBYTES8: its bytes are read as they arrive), and
/// what each codec's encoder makes of it.
pub fn bombs(n: usize) -> (Vec<u8>, Vec<(Codec, Vec<u8>)>) {
    let zeros = [
        &b"\x80\x04\x8e"[..],
        &(n as u64).to_le_bytes(),
        &vec![0u8; n],
        b".",
    ]
    .concat();
    let mut out = Vec::new();
    out.push((Codec::Gzip, gzip(&zeros)));
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&zeros).unwrap();
    out.push((Codec::Zlib, z.finish().unwrap()));
    let mut b = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    b.write_all(&zeros).unwrap();
    out.push((Codec::Bzip2, b.finish().unwrap()));
    let mut x =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(0)).unwrap();
    x.write_all(&zeros).unwrap();
    out.push((Codec::Xz, x.finish().unwrap()));
    let mut opts = lzma_rust2::LzmaOptions::with_preset(0);
    opts.dict_size = 1 << 20;
    let mut l = lzma_rust2::LzmaWriter::new_use_header(Vec::new(), &opts, None).unwrap();
    l.write_all(&zeros).unwrap();
    out.push((Codec::Lzma, l.finish().unwrap()));
    out.push((
        Codec::Zstd,
        ruzstd::encoding::compress_to_vec(&zeros[..], ruzstd::encoding::CompressionLevel::Fastest),
    ));
    let mut f = lz4_flex::frame::FrameEncoder::new(Vec::new());
    f.write_all(&zeros).unwrap();
    out.push((Codec::Lz4, f.finish().unwrap()));
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("zeros.pkl", o).unwrap();
    w.write_all(&zeros).unwrap();
    out.push((Codec::Zip, w.finish().unwrap().into_inner()));
    for (codec, data) in &out {
        assert_eq!(sniff(data), Some(*codec));
    }
    (zeros, out)
}
