#!/usr/bin/env python3
"""Benchmark serde_pickle_vm against CPython's pickle.loads on the same bytes.

    python3 benches/compare.py                 # generate data if missing, bench, print table
    python3 benches/compare.py --quick         # smoke run: short criterion runs, 3 CPython runs
    python3 benches/compare.py --protocol 2    # the same workloads pickled with protocol 2
    python3 benches/compare.py --generate-only # only write target/bench-data/*.pkl
    python3 benches/compare.py --no-cargo      # reuse the last criterion results
    python3 benches/compare.py --torch-only    # only the torch section (--no-torch: skip it)
    python3 benches/compare.py --pandas-only   # only pandas_convert_1m (--no-pandas: skip it)

Steps: (1) write the workloads with CPython's pickle (protocol 5 by default) to
target/bench-data/<name>.pkl (<name>.p<N>.pkl for other protocols), unless present;
(2) run `cargo bench --bench vm` (and `--bench typed` when that bench exists) and read
criterion's median from target/criterion/<group>/<bench>/new/estimates.json; (3) time
pickle.loads in this process with the GC disabled; (4) measure the peak RSS growth of
loading the records workload on both sides, one subprocess per measurement; (5) print a
Markdown table. See benches/README.md for what exactly is measured.

The torch section (when torch is importable) writes a ~512 MiB float32 state dict
(target/bench-data/torch_512m.pt), runs `cargo bench --bench torch`, times
torch.load(weights_only=True) and torch.load(mmap=True) on it, and measures peak RSS of
the mmap paths on both sides (examples/torch_bench_mem.rs).

The pandas section (when pandas is importable), workload pandas_convert_1m: a 1M-row frame
(int64, float64 with NaN, str, category, tz-aware datetime, bool, nullable Int64) pickled
with `to_pickle` to target/bench-data/pandas_convert_1m.pkl; times the release binary's
`pickle-vm convert FILE OUT.parquet` (a whole process: read, rebuild, write; CSV when the
binary was built without parquet) against `pd.read_pickle(FILE).to_parquet(OUT)` (or
`.to_csv(OUT)`) in this process, medians of a few runs each.
"""

import argparse
import gc
import json
import os
import pickle
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR_VERSION = "1"

WORKLOADS = [
    "ints_1m",
    "floats_1m",
    "strs_1m",
    "records_200k",
    "objects_200k",
    "shared_1m",
    "bytes_256m",
]
# The memory target applies to these; the others are measured for information.
MEM_TARGET = ["records_200k"]
# Extra criterion benches of group `vm`, reported against the same CPython number.
VARIANTS = {
    "bytes_256m": [("reader_bytes_256m", "load_reader (copies the bytes)")],
    "records_200k": [("reader_records_200k", "load_reader (copies the strings)")],
}


class Greeter:
    """A plain class with three attributes: pickled as NEWOBJ (copyreg.__newobj__) + BUILD."""

    def __init__(self, name, greeting, count):
        self.name = name
        self.greeting = greeting
        self.count = count


# ----- workloads ------------------------------------------------------------------------


def make_ints():
    # A realistic mix: mostly small (BININT1/BININT2), many 32-bit (BININT), some 64-bit
    # (LONG1, 8 bytes) and 1% beyond 64 bits (LONG1, big ints).
    r = random.Random(1)
    out = []
    for _ in range(1_000_000):
        p = r.random()
        if p < 0.40:
            out.append(r.randrange(256))
        elif p < 0.60:
            out.append(r.randrange(256, 65536))
        elif p < 0.85:
            out.append(r.randrange(-(2**31), 2**31))
        elif p < 0.99:
            out.append(r.randrange(-(2**62), 2**62))
        else:
            out.append(r.randrange(-(2**100), 2**100))
    return out


def make_floats():
    r = random.Random(2)
    return [r.gauss(0.0, 1e6) for _ in range(1_000_000)]


def make_strs():
    # 1M distinct short strings, 3-14 characters; 5% non-ASCII.
    r = random.Random(3)
    prefixes = ["id", "user_", "x", "item-", "k", "node/", "caf\u00e9", "\u540d\u524d"]
    weights = [20, 20, 15, 15, 15, 10, 3, 2]
    ps = r.choices(prefixes, weights, k=1_000_000)
    return [f"{p}{i}" for i, p in enumerate(ps)]


def make_records():
    return [
        {"id": i, "name": f"user{i}", "score": i * 0.5, "tags": ["a", "b"], "active": i % 2 == 0}
        for i in range(200_000)
    ]


def make_objects():
    return [Greeter(f"user{i}", "hello" if i % 3 else "hi", i) for i in range(200_000)]


def make_shared():
    x = {"id": 1, "name": "shared", "tags": ["a", "b"]}
    return [x] * 1_000_000


def make_bytes():
    return bytes(range(256)) * (1 << 20)  # 256 MiB


MAKERS = {
    "ints_1m": make_ints,
    "floats_1m": make_floats,
    "strs_1m": make_strs,
    "records_200k": make_records,
    "objects_200k": make_objects,
    "shared_1m": make_shared,
    "bytes_256m": make_bytes,
}


def file_name(name, proto):
    return f"{name}.pkl" if proto == 5 else f"{name}.p{proto}.pkl"


def generate(data_dir, proto, names, force=False):
    data_dir.mkdir(parents=True, exist_ok=True)
    stamp = data_dir / f"VERSION.p{proto}"
    if stamp.exists() and stamp.read_text().strip() != GENERATOR_VERSION:
        force = True
    for name in names:
        path = data_dir / file_name(name, proto)
        if path.exists() and not force:
            continue
        t0 = time.perf_counter()
        obj = MAKERS[name]()
        data = pickle.dumps(obj, protocol=proto)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        print(
            f"  wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
            f" ({len(data) / 2**20:.1f} MiB, {time.perf_counter() - t0:.1f} s)",
            file=sys.stderr,
        )
        del obj, data
    stamp.write_text(GENERATOR_VERSION + "\n")


# ----- cargo / criterion ----------------------------------------------------------------


def target_dir():
    try:
        meta = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        )
        return Path(json.loads(meta.stdout)["target_directory"])
    except Exception:
        return ROOT / "target"


def has_bench(name):
    cargo = (ROOT / "Cargo.toml").read_text()
    return (ROOT / "benches" / f"{name}.rs").exists() and f'name = "{name}"' in cargo


def cargo_bench(bench, env, filters):
    cmd = ["cargo", "bench", "--bench", bench, "--"] + filters
    print(f"$ {' '.join(cmd)}", file=sys.stderr)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def criterion_median_ms(tdir, group, bench, since):
    est = tdir / "criterion" / group / bench / "new" / "estimates.json"
    if not est.exists():
        return None, False
    stale = est.stat().st_mtime < since
    e = json.loads(est.read_text())
    return e["median"]["point_estimate"] / 1e6, stale


# ----- CPython --------------------------------------------------------------------------


def time_cpython(data, runs):
    """Median and best of `runs` pickle.loads calls (GC disabled), and of loads + free."""
    loads, total = [], []
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            t0 = time.perf_counter()
            obj = pickle.loads(data)
            t1 = time.perf_counter()
            del obj
            t2 = time.perf_counter()
            loads.append(t1 - t0)
            total.append(t2 - t0)
    finally:
        gc.enable()
    return {
        "median_ms": statistics.median(loads) * 1e3,
        "best_ms": min(loads) * 1e3,
        "free_median_ms": statistics.median(total) * 1e3,
    }


PY_MEM = r"""
import gc, json, pickle, sys, time
class Greeter:
    pass
def kib(field):
    for l in open("/proc/self/status"):
        if l.startswith(field):
            return int(l.split()[1])
data = open(sys.argv[1], "rb").read()
gc.collect()
gc.disable()
before = kib("VmRSS:")
t0 = time.perf_counter()
obj = pickle.loads(data)
t1 = time.perf_counter()
peak = kib("VmHWM:")
del obj
t2 = time.perf_counter()
print(json.dumps({"rss_before_kib": before, "peak_kib": peak,
                  "load_ms": (t1 - t0) * 1e3, "load_free_ms": (t2 - t0) * 1e3}))
"""


def mem_python(path):
    out = subprocess.run([sys.executable, "-c", PY_MEM, str(path)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def mem_rust(path, mode):
    exe = target_dir() / "release" / "examples" / "bench_mem"
    out = subprocess.run([str(exe), str(path), mode], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


# ----- torch ----------------------------------------------------------------------------

TORCH_FILE = "torch_512m.pt"
TORCH_LAYERS = 100  # weight [1024, 1308] + bias [1024] each: 200 tensors, ~511 MiB


def have_torch():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


def generate_torch(data_dir, force=False):
    path = data_dir / TORCH_FILE
    if path.exists() and not force:
        return path
    import collections
    import torch
    torch.manual_seed(0)
    sd = collections.OrderedDict()
    for i in range(TORCH_LAYERS):
        sd[f"layers.{i}.weight"] = torch.randn(1024, 1308)
        sd[f"layers.{i}.bias"] = torch.randn(1024)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(sd, tmp)
    tmp.replace(path)
    print(f"wrote {path} ({path.stat().st_size / 2**20:.0f} MiB)", file=sys.stderr)
    return path


def median_ms(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        del out
    return statistics.median(times) * 1e3


def time_torch(path, runs):
    import torch
    torch.load(path, weights_only=True, mmap=True)  # warm the page cache
    read = lambda: open(path, "rb").read()  # noqa: E731
    return {
        "read_ms": median_ms(read, runs),
        "load_ms": median_ms(lambda: torch.load(path, weights_only=True), runs),
        "mmap_ms": median_ms(lambda: torch.load(path, weights_only=True, mmap=True), max(runs, 5)),
        "copy_ms": median_ms(lambda: [t.clone() for t in torch.load(
            path, weights_only=True, mmap=True).values()], runs),
    }


PY_TORCH_MEM = r"""
import json, sys, time, torch
def kib(field):
    for l in open("/proc/self/status"):
        if l.startswith(field):
            return int(l.split()[1])
before = kib("VmRSS:")
t0 = time.perf_counter()
sd = torch.load(sys.argv[1], weights_only=True, mmap=True)
if sys.argv[2] == "touch":
    s = sum(float(t.sum()) for t in sd.values())
ms = (time.perf_counter() - t0) * 1e3
print(json.dumps({"rss_before_kib": before, "peak_kib": kib("VmHWM:"), "ms": ms}))
"""


def torch_mem(path):
    out = {}
    exe = target_dir() / "release" / "examples" / "torch_bench_mem"
    for mode in ("typed", "typed_touch", "copy"):
        try:
            r = subprocess.run([str(exe), str(path), mode], check=True, capture_output=True, text=True)
            out[f"ours_{mode}"] = json.loads(r.stdout)
        except Exception as e:
            print(f"  torch_bench_mem {mode}: {e}", file=sys.stderr)
    for mode in ("mmap", "touch"):
        r = subprocess.run([sys.executable, "-c", PY_TORCH_MEM, str(path), mode],
                           check=True, capture_output=True, text=True)
        out[f"torch_{mode}"] = json.loads(r.stdout)
    return out


def run_torch(args, data_dir, tdir, started):
    path = generate_torch(data_dir, args.regenerate)
    if not args.no_cargo:
        env = dict(os.environ)
        env["PICKLE_BENCH_DATA"] = str(data_dir)
        if args.quick:
            env["PICKLE_BENCH_QUICK"] = "1"
        cmd = ["cargo", "bench", "--features", "torch,mmap", "--bench", "torch"]
        print(f"$ {' '.join(cmd)}", file=sys.stderr)
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
        if not args.no_mem:
            subprocess.run(["cargo", "build", "--release", "--features", "torch,mmap",
                            "--example", "torch_bench_mem"], cwd=ROOT, check=True)
    ours = {b: criterion_median_ms(tdir, "torch", b, started)
            for b in ("open_typed", "open", "copy_all", "read_file")}
    py = time_torch(path, 3 if args.quick else 5)
    mem = {} if args.no_mem else torch_mem(path)
    return {"file_mib": path.stat().st_size / 2**20, "ours": ours, "torch": py, "mem": mem}


def print_torch(t):
    import torch
    o, p, m = t["ours"], t["torch"], t["mem"]
    ms = lambda b: o[b][0]  # noqa: E731
    stale = " (stale)" if any(v[1] for v in o.values()) else ""
    print()
    print(f"torch: {t['file_mib']:.0f} MiB float32 state dict, 200 tensors; torch "
          f"{torch.__version__}, medians; ours = criterion medians{stale}. Page cache warm.")
    print()
    print("| step | ours ms | torch ms | target | met |")
    print("|---|---:|---:|---|:-:|")
    ot = ms("open_typed")
    print(f"| open + typed deserialize, tensors mmap'd (ours) / torch.load(mmap=True) "
          f"| {fmt(ot)} | {fmt(p['mmap_ms'])} | < 2 ms | {'n/a' if ot is None else ('yes' if ot < 2 else '**no**')} |")
    print(f"| open only (`Checkpoint::open`) | {fmt(ms('open'))} | | | |")
    ca, rf = ms("copy_all"), ms("read_file")
    ok = "n/a" if not (ca and rf) else ("yes" if ca <= 1.2 * rf else "**no**")
    ratio = "" if not (ca and rf) else f" ({ca / rf:.2f}× read)"
    print(f"| copy every tensor into owned Vecs{ratio} / torch.load(weights_only=True) "
          f"| {fmt(ca)} | {fmt(p['load_ms'])} | ≤ 1.2× read | {ok} |")
    print(f"| read the file into memory (`fs::read` / `f.read()`) | {fmt(rf)} | {fmt(p['read_ms'])} | | |")
    print(f"| torch: mmap load + clone every tensor | | {fmt(p['copy_ms'])} | | |")
    if m:
        print()
        print("Peak RSS growth of one fresh process (VmHWM − VmRSS before), MiB; \"above the map\" "
              "subtracts the file size when every page was touched.")
        print()
        print("| path | ours MiB | torch MiB | target | met |")
        print("|---|---:|---:|---|:-:|")
        mib = lambda r: (r["peak_kib"] - r["rss_before_kib"]) / 1024  # noqa: E731
        f = t["file_mib"]
        ty, tt, cp = m.get("ours_typed"), m.get("ours_typed_touch"), m.get("ours_copy")
        tm, tto = m["torch_mmap"], m["torch_touch"]
        if ty:
            print(f"| open + typed deserialize (mmap, untouched) | {mib(ty):.1f} | {mib(tm):.1f} "
                  f"| < 10 MiB | {'yes' if mib(ty) < 10 else '**no**'} |")
        if tt:
            above = mib(tt) - f
            print(f"| … then read every tensor: above the map | {above:.1f} | {mib(tto) - f:.1f} "
                  f"| < 10 MiB | {'yes' if above < 10 else '**no**'} |")
        if cp:
            print(f"| copy every tensor (ours): the touched map + the copies | {mib(cp):.1f} | "
                  f"| ≈ 2 × file | |")



# ----- pandas ---------------------------------------------------------------------------

PANDAS_FILE = "pandas_convert_1m.pkl"
PANDAS_ROWS = 1_000_000


def have_pandas():
    try:
        import pandas  # noqa: F401
        return True
    except ImportError:
        return False


def generate_pandas(data_dir, force=False):
    path = data_dir / PANDAS_FILE
    if path.exists() and not force:
        return path
    import numpy as np
    import pandas as pd
    n = PANDAS_ROWS
    r = np.random.default_rng(7)
    f = r.normal(size=n) * 1e3
    f[r.random(n) < 0.1] = np.nan
    ints = r.integers(-(2**40), 2**40, n)
    df = pd.DataFrame({
        "id": np.arange(n, dtype="int64"),
        "value": f,
        "name": [f"user_{i}" for i in r.integers(0, 50_000, n)],
        "kind": pd.Categorical(np.array(["alpha", "beta", "gamma", "delta"])[r.integers(0, 4, n)]),
        "when": pd.date_range("2024-01-01", periods=n, freq="17s", tz="Europe/Berlin"),
        "flag": r.random(n) < 0.5,
        "count": pd.array(np.where(r.random(n) < 0.05, None, ints), dtype="Int64"),
    })
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    df.to_pickle(tmp)
    tmp.replace(path)
    print(f"wrote {path} ({path.stat().st_size / 2**20:.0f} MiB)", file=sys.stderr)
    return path


def pickle_vm_features():
    """`cli`, with `parquet` when the source has the parquet writer."""
    src = (ROOT / "src" / "pandas")
    has = any("pub fn write_parquet" in p.read_text() for p in src.rglob("*.rs")) if src.exists() else False
    return "cli,parquet" if has else "cli"


def run_pandas(args, data_dir, tdir):
    import pandas as pd
    path = generate_pandas(data_dir, args.regenerate)
    features = pickle_vm_features()
    if not args.no_cargo:
        cmd = ["cargo", "build", "--release", "--features", features, "--bin", "pickle-vm"]
        print(f"$ {' '.join(cmd)}", file=sys.stderr)
        subprocess.run(cmd, cwd=ROOT, check=True)
    exe = tdir / "release" / "pickle-vm"
    out_dir = data_dir / "pandas-out"
    out_dir.mkdir(parents=True, exist_ok=True)
    fmt = "parquet"
    probe = subprocess.run([str(exe), "convert", str(path), str(out_dir / "ours.parquet"), "--force",
                            "--quiet"], capture_output=True, text=True)
    if probe.returncode != 0:
        if "without parquet" not in probe.stderr:
            raise RuntimeError(f"pickle-vm convert failed: {probe.stderr.strip()}")
        fmt = "csv"
    runs = 3 if args.quick else 5
    ours_out, py_out = out_dir / f"ours.{fmt}", out_dir / f"pandas.{fmt}"

    def ours():
        subprocess.run([str(exe), "convert", str(path), str(ours_out), "--force", "--quiet"],
                       check=True)

    def py():
        df = pd.read_pickle(path)
        if fmt == "parquet":
            df.to_parquet(py_out)
        else:
            df.to_csv(py_out)

    ours_ms = median_ms(ours, runs)
    py_ms = median_ms(py, runs)
    return {"workload": "pandas_convert_1m", "format": fmt, "pickle_mib": path.stat().st_size / 2**20,
            "out_mib": ours_out.stat().st_size / 2**20, "ours_ms": ours_ms, "pandas_ms": py_ms,
            "runs": runs, "pandas": pd.__version__, "features": features}


def print_pandas(p):
    print()
    print(f"pandas {p['pandas']}: `pickle-vm convert FILE OUT.{p['format']}` (release, features "
          f"{p['features']}; a whole process) vs `pd.read_pickle(FILE).to_{p['format']}(OUT)` in "
          f"this process; medians of {p['runs']} runs."
          + (" The binary has no parquet writer: CSV." if p["format"] == "csv" else ""))
    print()
    print("| workload | pickle MiB | output MiB | pandas ms | ours ms | ratio (pandas/ours) |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| {p['workload']} ({p['format']}) | {p['pickle_mib']:.1f} | {p['out_mib']:.1f} "
          f"| {fmt(p['pandas_ms'])} | {fmt(p['ours_ms'])} | {p['pandas_ms'] / p['ours_ms']:.2f}× |")


# ----- main -----------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--protocol", type=int, default=5, choices=[2, 4, 5])
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--regenerate", action="store_true", help="rewrite the data even if present")
    ap.add_argument("--quick", action="store_true", help="short criterion runs, 3 CPython runs")
    ap.add_argument("--runs", type=int, default=None, help="CPython runs per workload (default 7)")
    ap.add_argument("--no-cargo", action="store_true", help="reuse the last criterion results")
    ap.add_argument("--no-mem", action="store_true", help="skip the memory measurement")
    ap.add_argument("--only", nargs="*", default=None, help="workloads to run (default all)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--torch-only", action="store_true", help="only the torch section")
    ap.add_argument("--no-torch", action="store_true", help="skip the torch section")
    ap.add_argument("--pandas-only", action="store_true",
                    help="only the pandas_convert_1m row (pickle-vm convert vs pandas)")
    ap.add_argument("--no-pandas", action="store_true", help="skip the pandas section")
    args = ap.parse_args()
    do_torch = not args.no_torch and not args.pandas_only and (args.torch_only or have_torch())
    do_pandas = not args.no_pandas and not args.torch_only and (args.pandas_only or have_pandas())

    data_dir = args.data_dir or (ROOT / "target" / "bench-data")
    if args.pandas_only:
        if args.generate_only:
            generate_pandas(data_dir, args.regenerate)
            return
        p = run_pandas(args, data_dir, target_dir())
        print_pandas(p)
        if args.json:
            args.json.write_text(json.dumps({"pandas": p}, indent=2))
        return
    names = args.only or WORKLOADS
    for n in names:
        if n not in MAKERS:
            ap.error(f"unknown workload {n}; choose from {', '.join(WORKLOADS)}")
    if not args.torch_only:
        generate(data_dir, args.protocol, WORKLOADS if args.generate_only else names,
                 args.regenerate)
    if args.generate_only:
        if do_torch:
            generate_torch(data_dir, args.regenerate)
        if do_pandas:
            generate_pandas(data_dir, args.regenerate)
        return
    if args.torch_only:
        t = run_torch(args, data_dir, target_dir(), time.time())
        print_torch(t)
        if args.json:
            args.json.write_text(json.dumps({"torch": t}, indent=2))
        return

    runs = args.runs or (3 if args.quick else 7)
    tdir = target_dir()
    started = time.time()
    if not args.no_cargo:
        env = dict(os.environ)
        env["PICKLE_BENCH_PROTO"] = str(args.protocol)
        env["PICKLE_BENCH_DATA"] = str(data_dir)
        if args.quick:
            env["PICKLE_BENCH_QUICK"] = "1"
        filters = [] if args.only is None else ["|".join(f"/(reader_)?{n}$" for n in names)]
        cargo_bench("vm", env, filters)
        if has_bench("typed"):
            cargo_bench("typed", env, filters)
        if not args.no_mem:
            subprocess.run(["cargo", "build", "--release", "--example", "bench_mem"],
                           cwd=ROOT, check=True)
    typed = has_bench("typed")

    rows = []
    for name in names:
        path = data_dir / file_name(name, args.protocol)
        data = path.read_bytes()
        py = time_cpython(data, runs)
        del data
        ours, stale = criterion_median_ms(tdir, "vm", name, started)
        row = {"workload": name, "size_mib": path.stat().st_size / 2**20, "cpython": py,
               "ours_ms": ours, "stale": stale}
        if typed:
            row["typed_ms"], row["typed_stale"] = criterion_median_ms(tdir, "typed", name, started)
        rows.append(row)
        for bench, label in VARIANTS.get(name, []):
            ms, st = criterion_median_ms(tdir, "vm", bench, started)
            if ms is not None:
                rows.append({"workload": f"{name} — {label}", "size_mib": row["size_mib"],
                             "cpython": py, "ours_ms": ms, "stale": st})
        print(f"  {name}: CPython {py['median_ms']:.1f} ms, ours "
              f"{'n/a' if ours is None else f'{ours:.1f} ms'}", file=sys.stderr)

    mem = []
    if not args.no_mem:
        for name in names:
            path = data_dir / file_name(name, args.protocol)
            p = mem_python(path)
            entry = {"workload": name, "cpython_kib": p["peak_kib"] - p["rss_before_kib"],
                     "cpython_ms": p["load_ms"], "cpython_free_ms": p["load_free_ms"]}
            for mode in ("slice", "reader"):
                try:
                    r = mem_rust(path, mode)
                    entry[f"{mode}_kib"] = r["peak_kib"] - r["rss_before_kib"]
                    entry[f"{mode}_ms"] = r["load_drop_ms"]
                except Exception as e:  # the example may not be built with --no-cargo
                    print(f"  bench_mem {mode}: {e}", file=sys.stderr)
            mem.append(entry)

    t = run_torch(args, data_dir, tdir, started) if do_torch else None
    p = run_pandas(args, data_dir, tdir) if do_pandas else None
    print_table(rows, mem, args, runs, typed)
    if t:
        print_torch(t)
    if p:
        print_pandas(p)
    if args.json:
        args.json.write_text(json.dumps({"protocol": args.protocol, "rows": rows, "mem": mem,
                                         "torch": t, "pandas": p}, indent=2))


def page_fault_us(mib=256, rounds=3):
    """The cost of first touching a page of fresh anonymous memory, in microseconds (best
    of `rounds`): what every new allocation pays once per 4 KiB, on both sides. A few
    tenths of a microsecond on bare metal; virtual machines that back guest memory lazily
    can take ten times more, and then big loads are dominated by it."""
    import mmap

    n = mib << 20
    best = None
    for _ in range(rounds):
        m = mmap.mmap(-1, n)
        t = time.perf_counter()
        for off in range(0, n, mmap.PAGESIZE):
            m[off] = 1
        dt = time.perf_counter() - t
        m.close()
        best = dt if best is None else min(best, dt)
    return best / (n // mmap.PAGESIZE) * 1e6


def fmt(ms):
    return "n/a" if ms is None else (f"{ms:.1f}" if ms >= 1 else f"{ms:.3f}")


def print_table(rows, mem, args, runs, typed):
    print()
    print(f"Protocol {args.protocol}; CPython {sys.version.split()[0]}, pickle.loads with gc "
          f"disabled, median of {runs} runs; ours = criterion median of `load_slice` + drop."
          + (" (--quick)" if args.quick else ""))
    print(f"First touch of a fresh 4 KiB page on this machine: {page_fault_us():.2f} µs "
          "(Python loop included; see benches/README.md).")
    print()
    head = ["workload", "pickle MiB", "CPython ms", "CPython +free ms", "ours ms", "ratio (CPython/ours)"]
    if typed:
        head += ["typed ms", "ratio (CPython/typed)"]
    head.append("≥2×")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(head) - 2) + [":-:"]) + "|")
    for r in rows:
        py = r["cpython"]["median_ms"]
        ours = r["ours_ms"]
        ratio = None if not ours else py / ours
        cells = [r["workload"] + (" (stale)" if r["stale"] else ""), f"{r['size_mib']:.1f}",
                 fmt(py), fmt(r["cpython"]["free_median_ms"]), fmt(ours),
                 "n/a" if ratio is None else f"{ratio:.2f}×"]
        if typed:
            t = r.get("typed_ms")
            cells += [fmt(t), "n/a" if not t else f"{py / t:.2f}×"]
        cells.append("n/a" if ratio is None else ("yes" if ratio >= 2 else "**no**"))
        print("| " + " | ".join(cells) + " |")
    if mem:
        print()
        print("Fresh process, one load (first touch of all memory, as in a real program): time, "
              "and peak RSS growth = VmHWM after − VmRSS before, input already resident. "
              "CPython ms is loads only; ours is load + drop.")
        print()
        print("| workload | CPython ms | ours ms | ratio | CPython MiB | ours load_slice MiB "
              "| ours load_reader MiB | mem ≤ CPython |")
        print("|---|---:|---:|---:|---:|---:|---:|:-:|")
        for m in mem:
            s, rd, ms = m.get("slice_kib"), m.get("reader_kib"), m.get("slice_ms")
            ok = "n/a" if s is None else ("yes" if s <= m["cpython_kib"] else "**no**")
            if m["workload"] not in MEM_TARGET:
                ok = f"({ok})"
            ratio = "n/a" if not ms else f"{m['cpython_ms'] / ms:.2f}×"
            print(f"| {m['workload']} | {fmt(m['cpython_ms'])} | {fmt(ms)} | {ratio} "
                  f"| {m['cpython_kib'] / 1024:.1f} | "
                  f"{'n/a' if s is None else f'{s / 1024:.1f}'} | "
                  f"{'n/a' if rd is None else f'{rd / 1024:.1f}'} | {ok} |")

if __name__ == "__main__":
    main()
