"""Export with 1 and 2 encoding threads: time of the SEG write and of the whole command.

    python bench/workers.py                    # 600 slices x 117 segments (data cached by bench/run.py)
    python bench/workers.py --slices 200 --segments 10 --repeats 1
    make bench-workers [BENCH_ARGS=...]

For each compressed transfer syntax the fast writer supports (BINARY: deflate, JPEG 2000;
LABELMAP: RLE, JPEG-LS, JPEG 2000, deflate) and for the uncompressed defaults, two numbers per
worker count (``DICOMAI_WORKERS``):

- ``write s``: ``encode.write_seg`` alone, in this process, after the source and labelmap are
  read (median of ``--repeats``): the part that splits;
- ``command s``: the whole ``dicomai export-seg`` process (start-up, reading the source series and
  the labelmap, writing, the read-back check), as a user waits for it.

The Pixel Data of the outputs with 1 and 2 workers is compared byte for byte. Results: a markdown
table on stdout (with the load average before and after) and
``bench/results/<date>-<time>-workers.json``. The machine may be shared: compare within one run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as base  # noqa: E402  (bench/run.py: data, measuring)

CASES = (
    ("BINARY", "none"),
    ("BINARY", "deflate"),
    ("BINARY", "jpeg2000"),
    ("LABELMAP", "rle"),
    ("LABELMAP", "jpeg-ls"),
    ("LABELMAP", "jpeg2000"),
    ("LABELMAP", "deflate"),
)


def _pixel_bytes(path: Path) -> bytes:
    import pydicom

    return bytes(pydicom.dcmread(path).PixelData)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--slices", type=int, default=600)
    p.add_argument("--segments", type=int, default=117)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workers", default="1,2")
    p.add_argument("--no-command", action="store_true", help="only the in-process write times")
    args = p.parse_args(argv)
    counts = [int(v) for v in args.workers.split(",")]
    sys.path.insert(0, str(base.REPO / "DicomAIExport"))
    from dicomai.imageio import read_labelmap
    from dicomai.seg.encode import write_seg
    from dicomai.seg.options import SegOptions
    from dicomai.source import read_source_series

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    shape = (args.slices, 512, 512)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dicomai-bench"
    data = base.prepare(cache / "x".join(map(str, shape)), shape, [args.segments])
    lab_path = data["cases"][args.segments]["labelmap"]
    meta_path = data["cases"][args.segments]["metadata"]
    source = read_source_series(data["source"])
    labels, grid = read_labelmap(lab_path)
    content = _content(labels, grid, meta_path)
    started = datetime.datetime.now()
    results = {
        "date": started.isoformat(timespec="seconds"),
        "shape": list(shape),
        "segments": args.segments,
        "cpus": os.cpu_count(),
        "load_before": base._load(),
        "rows": [],
    }
    work = Path(tempfile.mkdtemp(prefix="dicomai-workers-"))
    saved = os.environ.get("DICOMAI_WORKERS")
    try:
        for seg_type, compression in CASES:
            row = {"type": seg_type, "compression": compression, "write": {}, "command": {}}
            outputs = {}
            for n in counts:
                os.environ["DICOMAI_WORKERS"] = str(n)
                times = []
                for r in range(args.repeats):
                    out = work / f"{seg_type}-{compression}-{n}-{r}.dcm"
                    t0 = time.perf_counter()
                    write_seg(
                        content, source, out, SegOptions(segmentation_type=seg_type, compression=compression)
                    )
                    times.append(time.perf_counter() - t0)
                    outputs[n] = out
                row["write"][n] = statistics.median(times)
                log(f"{seg_type} {compression} workers={n}: write {row['write'][n]:.2f} s")
                if not args.no_command:
                    cmd = [
                        sys.executable, "-m", "dicomai", "export-seg", "--source", data["source"],
                        "--labelmap", lab_path, "--metadata", meta_path, "--type", seg_type.lower(),
                        "--compression", compression, "--out", work / "cmd.dcm", "-q", "--overwrite",
                    ]  # fmt: skip
                    m = base.measure(cmd, args.repeats, work / "cmd.dcm")
                    row["command"][n] = {"wall": m["wall"], "rss_mb": m["rss_mb"]}
                    log(f"    command {m['wall']:.2f} s, {m['rss_mb']:.0f} MB")
            first = _pixel_bytes(outputs[counts[0]])
            row["identical_pixel_data"] = all(_pixel_bytes(outputs[n]) == first for n in counts[1:])
            row["file_mb"] = outputs[counts[0]].stat().st_size / 1e6
            results["rows"].append(row)
            for f in work.glob("*.dcm"):
                f.unlink()
    finally:
        if saved is None:
            os.environ.pop("DICOMAI_WORKERS", None)
        else:
            os.environ["DICOMAI_WORKERS"] = saved
        for f in work.glob("*"):
            f.unlink()
        work.rmdir()
    results["load_after"] = base._load()
    print(report(results, counts))
    out = HERE / "results" / f"{started:%Y%m%d-%H%M%S}-workers.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    log(f"results: {out}")
    return 0


def _content(labels, grid, meta_path):
    from dicomai.seg.content import SegmentationContent
    from dicomai.seg.metadata import load_metadata

    meta = load_metadata(meta_path)
    return SegmentationContent.from_labelmap(labels, grid, meta.segments)


def report(results: dict, counts: list) -> str:
    a, b = counts[0], counts[-1]
    lines = [
        f"# SEG export with {a} and {b} encoding threads {results['date']} "
        f"({results['shape'][0]} x 512 x 512, {results['segments']} segments; {results['cpus']} CPUs; "
        f"load {results['load_before']} -> {results['load_after']})",
        "",
        f"| type / compression | file MB | write s ({a}) | write s ({b}) | write speed-up | "
        f"command s ({a}) | command s ({b}) | command speed-up | peak MB ({b}) | same bytes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        w1, w2 = r["write"][a], r["write"][b]
        c1, c2 = r["command"].get(a), r["command"].get(b)
        cmd = (
            f"{c1['wall']:.2f} | {c2['wall']:.2f} | {c1['wall'] / c2['wall']:.2f}x | {c2['rss_mb']:.0f}"
            if c1 and c2
            else " | | | "
        )
        lines.append(
            f"| {r['type']} {r['compression']} | {r['file_mb']:.2f} | {w1:.2f} | {w2:.2f} | "
            f"{w1 / w2:.2f}x | {cmd} | {'yes' if r['identical_pixel_data'] else 'NO'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
