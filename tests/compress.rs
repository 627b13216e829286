//! Compressed pickles: the files Python's own modules, pandas and joblib write
//! (`fixtures/generate_compress.py`) inflate to the pickle they hold and load as it does,
//! through every entry point; truncated, corrupt and garbage inputs are clear errors,
//! bombs stop at the limits, never a panic.

#[cfg(feature = "compress")]
mod compress_common;

#[cfg(feature = "compress")]
mod enabled {
    use super::compress_common::{bombs, gzip};
    use serde::Deserialize;
    use serde_pickle_vm::compress::{
        decompress, decompress_reader, maybe_decompress, sniff, Codec, InflateLimits,
    };
    use serde_pickle_vm::json::{to_string, JsonOptions};
    use serde_pickle_vm::{
        from_reader, from_slice, from_slice_with_options, load_reader, load_slice, ErrorKind,
        Graph, Limits, Options, Unpickler,
    };
    use std::borrow::Cow;
    use std::io::Read;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/compress");

    fn read(name: &str) -> Vec<u8> {
        std::fs::read(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn json(g: &Graph<'_>) -> String {
        to_string(g, &JsonOptions::default()).unwrap()
    }

    /// Extension of the fixture → the codec that wrote it.
    const EXTS: [(&str, Codec); 8] = [
        ("gz", Codec::Gzip),
        ("zlib", Codec::Zlib),
        ("bz2", Codec::Bzip2),
        ("xz", Codec::Xz),
        ("lzma", Codec::Lzma),
        ("zst", Codec::Zstd),
        ("lz4", Codec::Lz4),
        ("zip", Codec::Zip),
    ];

    /// Every compressed fixture of a pickle: (file name, codec, the pickle's bytes).
    fn fixtures() -> Vec<(String, Codec, Vec<u8>)> {
        let mut out = Vec::new();
        for proto in [2, 5] {
            let raw = read(&format!("obj.p{proto}.pkl"));
            for (ext, codec) in EXTS {
                out.push((format!("obj.p{proto}.pkl.{ext}"), codec, raw.clone()));
            }
            for (ext, codec) in EXTS {
                if ["gz", "bz2", "xz", "zst", "lz4"].contains(&ext) {
                    out.push((format!("obj.p{proto}.multi.{ext}"), codec, raw.clone()));
                }
            }
            out.push((format!("obj.p{proto}.stored.zip"), Codec::Zip, raw.clone()));
        }
        let df = read("df.pkl");
        for (ext, codec) in EXTS {
            if ["gz", "bz2", "xz", "zst", "zip"].contains(&ext) {
                out.push((format!("df.pkl.{ext}"), codec, df.clone()));
            }
        }
        out
    }

    #[test]
    fn every_fixture_inflates_to_its_pickle() {
        let limits = InflateLimits::default();
        let all = fixtures();
        assert_eq!(all.len(), 2 * (8 + 5 + 1) + 5);
        for (name, codec, raw) in &all {
            let data = read(name);
            assert_eq!(sniff(&data), Some(*codec), "{name}");
            assert_eq!(&decompress(&data, *codec, &limits).unwrap(), raw, "{name}");
            let mut out = Vec::new();
            decompress_reader(&data[..], *codec, &limits)
                .unwrap()
                .read_to_end(&mut out)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&out, raw, "{name} (reader)");
            // A reader that hands out one byte at a time: the streams' ends and the
            // headers of the next ones fall at every point of a read.
            let mut out = Vec::new();
            decompress_reader(OneByte(&data[..]), *codec, &limits)
                .unwrap()
                .read_to_end(&mut out)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&out, raw, "{name} (one byte at a time)");
            assert!(matches!(
                maybe_decompress(&data, &limits).unwrap(),
                Cow::Owned(v) if &v == raw
            ));
        }
        let raw = read("obj.p5.pkl");
        assert!(matches!(
            maybe_decompress(&raw, &limits).unwrap(),
            Cow::Borrowed(_)
        ));
        assert_eq!(sniff(&raw), None);
    }

    /// A reader that returns one byte per call.
    struct OneByte<'a>(&'a [u8]);

    impl Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(out)) => {
                    *out = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn compressed_pickles_load_as_the_pickle_inside() {
        for (name, codec, raw) in fixtures() {
            let data = read(&name);
            let want = json(&load_slice(&raw).unwrap());
            assert_eq!(json(&load_slice(&data).unwrap()), want, "{name} load_slice");
            assert_eq!(
                json(&load_reader(&data[..]).unwrap()),
                want,
                "{name} load_reader"
            );
            let unpickled = Unpickler::new().load_reader(OneByte(&data)).unwrap();
            assert_eq!(json(&unpickled), want, "{name} load_reader (one byte)");
            if name.starts_with("obj.") {
                let v: Obj = from_slice(&raw).unwrap();
                assert_eq!(from_slice::<Obj>(&data).unwrap(), v, "{name}");
                assert_eq!(from_reader::<_, Obj>(&data[..]).unwrap(), v, "{name}");
            }
            let _ = codec;
        }
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Obj {
        name: String,
        text: String,
        values: (i64, f64, Option<i64>, bool, i64, i128),
        nested: Nested,
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Nested {
        t: (i32, String),
        empty: Vec<i32>,
    }

    #[test]
    fn typed_loads_of_compressed_pickles() {
        for proto in [2, 5] {
            let raw = read(&format!("obj.p{proto}.pkl"));
            let want: Obj = from_slice(&raw).unwrap();
            assert_eq!(want.name, "ann");
            assert_eq!(want.values.5, 1i128 << 70);
            for (ext, _) in EXTS {
                let data = read(&format!("obj.p{proto}.pkl.{ext}"));
                assert_eq!(from_slice::<Obj>(&data).unwrap(), want, "{ext}");
                assert_eq!(from_reader::<_, Obj>(&data[..]).unwrap(), want, "{ext}");
                let got: Obj = Unpickler::new().deserialize_slice(&data).unwrap();
                assert_eq!(got, want, "{ext}");
            }
        }
    }

    #[test]
    fn joblib_files_of_plain_values_are_compressed_pickles() {
        let want = json(&load_slice(&read("joblib.raw")).unwrap());
        for (codec, c) in [
            ("zlib", Codec::Zlib),
            ("gzip", Codec::Gzip),
            ("bz2", Codec::Bzip2),
            ("lzma", Codec::Lzma),
            ("xz", Codec::Xz),
            ("lz4", Codec::Lz4),
        ] {
            let data = read(&format!("joblib.{codec}"));
            assert_eq!(sniff(&data), Some(c), "{codec}");
            assert_eq!(json(&load_slice(&data).unwrap()), want, "{codec}");
            assert_eq!(json(&load_reader(&data[..]).unwrap()), want, "{codec}");
        }
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Borrowed<'a> {
        name: &'a str,
    }

    #[test]
    fn borrowed_strings_of_a_compressed_pickle_are_an_error_that_says_why() {
        let raw = read("obj.p5.pkl");
        assert_eq!(from_slice::<Borrowed>(&raw).unwrap().name, "ann");
        let data = read("obj.p5.pkl.gz");
        let err = from_slice::<Borrowed>(&data).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Type, "{err}");
        let msg = err.to_string();
        assert!(msg.starts_with("name: invalid type: string \"ann\", expected a borrowed string; a compressed input is inflated into a buffer of its own, so strings cannot borrow from it (use String, Cow<str> or Vec<u8>) (at byte "), "{msg}");
        assert!(msg.ends_with(" of the gzip-decompressed pickle)"), "{msg}");
        // Cow<str> works for both.
        #[derive(Deserialize)]
        struct Cowed<'a> {
            #[serde(borrow)]
            name: Cow<'a, str>,
        }
        assert_eq!(from_slice::<Cowed>(&data).unwrap().name, "ann");
        assert!(matches!(
            from_slice::<Cowed>(&raw).unwrap().name,
            Cow::Borrowed("ann")
        ));
    }

    #[test]
    fn errors_in_the_inner_pickle_say_where_they_count() {
        let raw = read("obj.p2.pkl");
        let cut = gzip(&raw[..100]);
        let err = load_slice(&cut).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Truncated);
        assert_eq!(err.within_what(), Some("the gzip-decompressed pickle"));
        assert!(
            err.to_string()
                .contains(" of the gzip-decompressed pickle, opcode "),
            "{err}"
        );
        let err = load_reader(&cut[..]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Truncated, "{err}");
        assert!(
            err.to_string().contains("of the gzip-decompressed pickle"),
            "{err}"
        );
        // A type error deep in the value: the path, and the offset in the inflated bytes.
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Wrong {
            name: i32,
        }
        let gz = read("obj.p2.pkl.gz");
        let plain = from_slice::<Wrong>(&raw).unwrap_err().to_string();
        let err = from_slice::<Wrong>(&gz).unwrap_err();
        assert_eq!(
            err.to_string(),
            plain.replace(')', " of the gzip-decompressed pickle)")
        );
        let err = from_reader::<_, Wrong>(&gz[..]).unwrap_err();
        assert!(
            err.to_string()
                .ends_with(" of the gzip-decompressed pickle)"),
            "{err}"
        );
    }

    #[test]
    fn sniffing_can_be_turned_off() {
        let data = read("obj.p5.pkl.gz");
        let opts = Options {
            decompress: false,
            ..Options::default()
        };
        let err = Unpickler::with_options(opts.clone())
            .load_slice(&data)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownOpcode);
        assert!(
            err.to_string().starts_with("invalid load key, '\\x1f'"),
            "{err}"
        );
        let err = Unpickler::with_options(opts.clone())
            .load_reader(&data[..])
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownOpcode);
        let err = from_slice_with_options::<serde_json::Value>(&data, &opts).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownOpcode);
    }

    #[test]
    fn a_zip_of_two_members_is_refused() {
        let data = read("two.zip");
        assert_eq!(sniff(&data), Some(Codec::Zip));
        let err = decompress(&data, Codec::Zip, &InflateLimits::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Format);
        assert_eq!(
            err.to_string(),
            "the zip archive has 2 members (\"a.pkl\", \"b.pkl\"): a compressed pickle is a \
             zip of exactly one (as pandas writes it)"
        );
        let err = load_slice(&data).unwrap_err();
        assert!(err.to_string().contains("2 members"), "{err}");
        let err = load_reader(&data[..]).unwrap_err();
        assert!(err.to_string().contains("2 members"), "{err}");
    }

    // ------------------------------------------------------------- hostile input

    /// xorshift: deterministic garbage.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    fn magic(codec: Codec) -> &'static [u8] {
        match codec {
            Codec::Gzip => b"\x1f\x8b\x08\x00",
            Codec::Zlib => b"\x78\x9c",
            Codec::Bzip2 => b"BZh91AY&SY",
            Codec::Xz => b"\xfd7zXZ\x00",
            Codec::Lzma => b"\x5d\x00\x00\x80\x00\xff\xff\xff\xff\xff\xff\xff\xff",
            Codec::Zstd => b"\x28\xb5\x2f\xfd",
            Codec::Lz4 => b"\x04\x22\x4d\x18",
            Codec::Zip => b"PK\x03\x04",
            _ => unreachable!(),
        }
    }

    /// Every proper prefix of every single-stream fixture fails, with a Format error from
    /// the decoder (or, for a prefix that still inflates to part of the pickle, the VM's
    /// Truncated error when it is loaded): never silently short output, never a panic.
    #[test]
    fn truncated_streams_are_errors() {
        let limits = InflateLimits::default();
        for (name, codec, raw) in fixtures() {
            if name.contains(".multi.") {
                continue; // a cut at the end of the first stream is a valid file
            }
            let data = read(&name);
            for end in 0..data.len() {
                let cut = &data[..end];
                match decompress(cut, codec, &limits) {
                    Ok(out) => panic!(
                        "{name} cut at {end}/{}: inflated to {} bytes of {}",
                        data.len(),
                        out.len(),
                        raw.len()
                    ),
                    Err(e) => assert_eq!(e.kind(), ErrorKind::Format, "{name} at {end}: {e}"),
                }
                let mut out = Vec::new();
                let r = decompress_reader(cut, codec, &limits)
                    .and_then(|mut r| r.read_to_end(&mut out).map_err(Into::into));
                let e = r.expect_err(&name);
                assert_eq!(e.kind(), ErrorKind::Format, "{name} at {end} (reader): {e}");
                if sniff(cut) == Some(codec) {
                    let e = load_slice(cut).unwrap_err();
                    assert_eq!(e.kind(), ErrorKind::Format, "{name} at {end}: {e}");
                    let e = load_reader(cut).unwrap_err();
                    assert!(
                        matches!(e.kind(), ErrorKind::Format | ErrorKind::Truncated),
                        "{name} at {end} (load_reader): {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn truncation_messages() {
        let limits = InflateLimits::default();
        let gz = read("obj.p2.pkl.gz");
        let err = decompress(&gz[..gz.len() - 4], Codec::Gzip, &limits).unwrap_err();
        assert_eq!(err.to_string(), "gzip data is truncated");
        for (ext, codec) in EXTS {
            let data = read(&format!("obj.p2.pkl.{ext}"));
            let err = decompress(&data[..data.len() / 2], codec, &limits).unwrap_err();
            assert!(err.to_string().starts_with(codec.name()), "{err}");
        }
    }

    /// A magic, then garbage: a Format error, never a panic or a hang. Then every
    /// fixture with bytes overwritten at random: any outcome but a panic.
    #[test]
    fn garbage_after_a_magic_and_mutated_streams() {
        let limits = InflateLimits {
            max_bytes: 8 << 20,
            max_ratio: 100,
        };
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for codec in Codec::ALL {
            for round in 0..300 {
                let len = (rng.next() % 200) as usize;
                let data = [magic(codec), &rng.bytes(len)].concat();
                let Err(e) = decompress(&data, codec, &limits) else {
                    continue; // rare, but garbage may decode (lz4 has no checksum)
                };
                assert!(
                    matches!(e.kind(), ErrorKind::Format | ErrorKind::Unsupported),
                    "{codec} round {round}: {e}"
                );
                let mut sink = Vec::new();
                let _ = decompress_reader(&data[..], codec, &limits)
                    .and_then(|mut r| r.read_to_end(&mut sink).map_err(Into::into));
            }
        }
        for (name, codec, _) in fixtures() {
            let data = read(&name);
            for _ in 0..150 {
                let mut m = data.clone();
                for _ in 0..1 + rng.next() % 4 {
                    let at = (rng.next() as usize) % m.len();
                    m[at] = rng.next() as u8;
                }
                let _ = decompress(&m, codec, &limits);
                let _ = load_slice(&m);
                let mut sink = Vec::new();
                let _ = decompress_reader(&m[..], codec, &limits)
                    .and_then(|mut r| r.read_to_end(&mut sink).map_err(Into::into));
            }
        }
    }

    // ------------------------------------------------------------------- bombs

    #[test]
    fn bombs_stop_at_the_ratio_and_the_size_limits() {
        let (pickle, bombs) = bombs(8 << 20);
        let n = pickle.len();
        for (codec, data) in bombs {
            assert!(data.len() * 100 < n, "{codec}: {} bytes", data.len());
            // The default ratio refuses them.
            let err = decompress(&data, codec, &InflateLimits::default()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Limit, "{codec}: {err}");
            assert!(err.to_string().starts_with(codec.name()), "{err}");
            assert!(
                err.to_string().contains("InflateLimits::max_ratio"),
                "{err}"
            );
            // Allowing the ratio, a lower size limit does.
            let low = InflateLimits {
                max_bytes: 1 << 20,
                max_ratio: u64::MAX,
            };
            let err = decompress(&data, codec, &low).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Limit, "{codec}: {err}");
            assert!(
                err.to_string().contains("InflateLimits::max_bytes"),
                "{err}"
            );
            let mut sink = Vec::new();
            let err: serde_pickle_vm::Error = decompress_reader(&data[..], codec, &low)
                .and_then(|mut r| r.read_to_end(&mut sink).map_err(Into::into))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Limit, "{codec} (reader): {err}");
            assert!(sink.len() <= 1 << 20, "{codec}: {}", sink.len());
            // Allowing both, they inflate.
            let high = InflateLimits {
                max_bytes: n as u64,
                max_ratio: u64::MAX,
            };
            assert!(
                decompress(&data, codec, &high).unwrap() == pickle,
                "{codec}"
            );
            // Through the loaders: the limits of Options, named as such.
            let opts = Options {
                limits: Limits {
                    max_inflated: 1 << 20,
                    max_inflate_ratio: u64::MAX,
                    ..Limits::default()
                },
                ..Options::default()
            };
            let err = Unpickler::with_options(opts.clone())
                .load_slice(&data)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Limit, "{codec}: {err}");
            assert!(err.to_string().contains("Limits::max_inflated"), "{err}");
            let err = Unpickler::with_options(opts)
                .load_reader(&data[..])
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Limit, "{codec} (reader): {err}");
            assert!(err.to_string().contains("Limits::max_inflated"), "{err}");
            let err = load_reader(&data[..]).unwrap_err();
            assert!(
                err.to_string().contains("Limits::max_inflate_ratio"),
                "{err}"
            );
            // Allowing both, the pickle loads.
            let opts = Options {
                limits: Limits {
                    max_inflate_ratio: u64::MAX,
                    ..Limits::default()
                },
                ..Options::default()
            };
            for g in [
                Unpickler::with_options(opts.clone()).load_slice(&data),
                Unpickler::with_options(opts).load_reader(&data[..]),
            ] {
                assert_eq!(g.unwrap().root().as_bytes().map(<[u8]>::len), Some(8 << 20));
            }
        }
    }

    #[test]
    fn a_zip_read_from_a_stream_is_held_to_the_limit_before_it_is_read_whole() {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("big.pkl", o).unwrap();
        w.write_all(&vec![7u8; 2 << 20]).unwrap();
        let data = w.finish().unwrap().into_inner();
        let low = InflateLimits {
            max_bytes: 512 << 10,
            max_ratio: 100,
        };
        let err = decompress_reader(&data[..], Codec::Zip, &low)
            .err()
            .unwrap();
        assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
        assert!(
            err.to_string().contains("InflateLimits::max_bytes"),
            "{err}"
        );
        let err = decompress(&data, Codec::Zip, &low).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
        let mut out = Vec::new();
        decompress_reader(&data[..], Codec::Zip, &InflateLimits::default())
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, vec![7u8; 2 << 20]);
    }

    #[test]
    fn the_limit_message() {
        let zeros = gzip(&vec![0u8; 8 << 20]);
        let err = load_slice(&zeros).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "gzip data inflates from {} to more than {} bytes, over 100x its compressed \
                 size (the ratio limit applies past 1 MiB; raise Limits::max_inflate_ratio)",
                zeros.len(),
                (zeros.len() * 100).max(1 << 20)
            )
        );
    }
}

#[cfg(not(feature = "compress"))]
mod disabled {
    use serde_pickle_vm::compress::{sniff, Codec};
    use serde_pickle_vm::{load_reader, load_slice, ErrorKind};

    #[test]
    fn a_compressed_input_says_which_feature_reads_it() {
        let data = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/compress/obj.p5.pkl.gz"
        ))
        .unwrap();
        assert_eq!(sniff(&data), Some(Codec::Gzip));
        for err in [
            load_slice(&data).unwrap_err(),
            load_reader(&data[..]).unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::Unsupported);
            assert_eq!(
                err.to_string(),
                "the input is gzip-compressed: enable the `compress` feature of \
                 serde_pickle_vm to read it (or decompress it first)"
            );
        }
    }
}
