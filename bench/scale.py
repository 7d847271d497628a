"""Scale table: time and peak memory against slices x segments, dicomai side by side with its peers.

    python bench/scale.py                                   # 200/600/1000 slices x 1/10/117 segments
    python bench/scale.py --quick                           # 200/600 slices x 10/117, no highdicom
    python bench/scale.py --slices 40,80 --segments 1,10    # a smoke run
    make bench-scale [BENCH_ARGS=...]

Each cell is one whole process measured as bench/run.py measures (wall time including start-up,
peak RSS of that process; one run each by default, ``--repeats`` for medians). Rows: dicomai
export-seg (BINARY and LABELMAP), highdicom and dcmqi exports; dicomai import-seg, highdicom and
dcmqi imports of our BINARY SEG, ours and dcmqi's of our LABELMAP SEG; the load into a Slicer
segmentation node (ours, and Slicer core's dcmqi path) when slicer-core is installed
(``--no-slicer`` leaves those out). A memory table compares dicomai's peaks with the goal
1.3 x the labelmap + 150 MB. Data (512x512 CT
series and labelmaps) is generated once into ~/.cache/dicomai-bench. Read ratios within one run
only: the machine is shared. Results: markdown on stdout and
``bench/results/<date>-<time>-scale.json``; the last part is the time per slice of each row
(cost should grow linearly with voxels).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as base  # noqa: E402  (bench/run.py: data, measuring, peers)

ROWS = (
    ("ours_binary", "export", "dicomai BINARY"),
    ("ours_labelmap", "export", "dicomai LABELMAP (RLE)"),
    ("hd_binary", "export", "highdicom BINARY"),
    ("dcmqi_export", "export", "dcmqi"),
    ("ours_import", "import", "dicomai import-seg"),
    ("hd_import", "import", "highdicom segread"),
    ("dcmqi_import", "import", "dcmqi segimage2itkimage"),
    ("ours_import_labelmap", "import", "dicomai import-seg (LABELMAP SEG)"),
    ("dcmqi_import_labelmap", "import", "dcmqi segimage2itkimage (LABELMAP SEG)"),
    ("slicer_import", "import", "dicomai -> Slicer node"),
    ("slicer_core", "import", "Slicer core path -> node"),
)


def cell_rows(
    slices: int, n: int, data: dict, work: Path, repeats: int, slicer: bool, skip: set, log
) -> dict:
    py = sys.executable
    src = data["source"]
    lab, meta = data["cases"][n]["labelmap"], data["cases"][n]["metadata"]
    w = work / f"{slices}-{n}"
    segs = w / "segs"
    segs.mkdir(parents=True, exist_ok=True)
    rows = {}

    def row(key, cmd, output=None):
        if key in skip:
            return
        log(f"  {slices} slices, {n} segments: {key} ...")
        try:
            rows[key] = base.measure(cmd, repeats, output)
        except Exception as e:  # a tool that fails is a result too
            rows[key] = {"error": str(e).splitlines()[0][:200]}
            log(f"      failed: {rows[key]['error']}")

    cli = [py, "-m", "dicomai"]
    ours_b, ours_l = segs / "binary.dcm", segs / "labelmap.dcm"
    export = [*cli, "export-seg", "--source", src, "--labelmap", lab, "--metadata", meta, "-q", "--overwrite"]
    row("ours_binary", [*export, "--out", ours_b], ours_b)
    row("ours_labelmap", [*export, "--type", "labelmap", "--out", ours_l], ours_l)
    row("hd_binary", [py, base.TASKS, "hd-export", "BINARY", src, lab, meta, w / "hd.dcm"], w / "hd.dcm")
    itk2seg = base._peer("itkimage2segimage")
    if itk2seg:
        cmd = [itk2seg, "--inputImageList", lab, "--inputDICOMDirectory", src, "--inputMetadata", meta]
        row("dcmqi_export", [*cmd, "--outputDICOM", w / "dcmqi.dcm"], w / "dcmqi.dcm")
    if not ours_b.exists():
        return rows
    row(
        "ours_import",
        [*cli, "import-seg", ours_b, "--source", src, "--out", w / "i.nii", "-q", "--overwrite"],
        w / "i.nii",
    )
    row("hd_import", [py, base.TASKS, "hd-import", ours_b, src, w / "hd.nii"], w / "hd.nii")
    seg2itk = base._peer("segimage2itkimage")
    if seg2itk:
        row("dcmqi_import", [seg2itk, "--inputDICOM", ours_b, "--outputDirectory", w / "dq"], w / "dq")
    if ours_l.exists():
        row(
            "ours_import_labelmap",
            [*cli, "import-seg", ours_l, "--source", src, "--out", w / "il.nii", "-q", "--overwrite"],
            w / "il.nii",
        )
        if seg2itk:
            cmd = [seg2itk, "--inputDICOM", ours_l, "--outputDirectory", w / "dql"]
            row("dcmqi_import_labelmap", cmd, w / "dql")
    if slicer:
        row("slicer_import", [py, base.TASKS, "slicer-import", ours_b])
        if seg2itk:
            row("slicer_core", [py, base.TASKS, "slicer-core-load", ours_b, seg2itk])
    return rows


def report(results: dict) -> str:
    lines = []
    slices_list = sorted({int(k.split("x")[0]) for k in results["cells"]})
    segments_list = sorted({int(k.split("x")[1]) for k in results["cells"]})
    for kind in ("export", "import"):
        lines.append(f"\n### {kind}: wall s / peak MB\n")
        head = (
            "| row | " + " | ".join(f"{s} sl. x {n} seg." for s in slices_list for n in segments_list) + " |"
        )
        lines.append(head)
        lines.append("|---" * (1 + len(slices_list) * len(segments_list)) + "|")
        for key, k, label in ROWS:
            if k != kind:
                continue
            cells = []
            for s in slices_list:
                for n in segments_list:
                    r = results["cells"].get(f"{s}x{n}", {}).get(key)
                    if r is None:
                        cells.append("")
                    elif "error" in r:
                        cells.append("failed")
                    else:
                        cells.append(f"{r['wall']:.2f} / {r['rss_mb']:.0f}")
            if any(cells):
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("\n### ratios (peer wall / dicomai wall; > 1 means dicomai is faster)\n")
    lines.append(
        "| slices x segments | export vs dcmqi | export vs highdicom | import vs dcmqi | "
        "import vs highdicom | node load vs Slicer core |"
    )
    lines.append("|---|---|---|---|---|---|")
    for s in slices_list:
        for n in segments_list:
            c = results["cells"].get(f"{s}x{n}", {})

            def ratio(peer, ours, c=c):
                a, b = c.get(peer, {}), c.get(ours, {})
                if "wall" in a and "wall" in b and b["wall"]:
                    return f"{a['wall'] / b['wall']:.2f}x"
                return ""

            lines.append(
                f"| {s} x {n} | {ratio('dcmqi_export', 'ours_binary')} | "
                f"{ratio('hd_binary', 'ours_binary')} | "
                f"{ratio('dcmqi_import', 'ours_import')} | {ratio('hd_import', 'ours_import')} | "
                f"{ratio('slicer_core', 'slicer_import')} |"
            )
    lines.append(
        "\n### memory: dicomai's peak against the goal 1.3 x labelmap + 150 MB (peak MB / goal MB)\n"
    )
    lines.append(
        "| slices x segments | labelmap MB | export BINARY | export LABELMAP | import BINARY SEG "
        "| import LABELMAP SEG |"
    )
    lines.append("|---|---|---|---|---|---|")
    for s in slices_list:
        for n in segments_list:
            c = results["cells"].get(f"{s}x{n}", {})
            lab = c.get("labelmap_mb")
            if not lab:
                continue
            goal = 1.3 * lab + 150
            cells = []
            for key in ("ours_binary", "ours_labelmap", "ours_import", "ours_import_labelmap"):
                r = c.get(key, {})
                cells.append(
                    f"{r['rss_mb']:.0f} / {goal:.0f} {'ok' if r['rss_mb'] <= goal else 'OVER'}"
                    if "rss_mb" in r
                    else ""
                )
            lines.append(f"| {s} x {n} | {lab:.0f} | " + " | ".join(cells) + " |")
    n = max(segments_list)
    if len(slices_list) > 1:
        lines.append(f"\n### growth with slices ({n} segments): seconds per 100 slices\n")
        lines.append("| row | " + " | ".join(str(s) for s in slices_list) + " |")
        lines.append("|---" * (1 + len(slices_list)) + "|")
        for key, _, label in ROWS:
            vals = []
            for s in slices_list:
                r = results["cells"].get(f"{s}x{n}", {}).get(key, {})
                vals.append(f"{r['wall'] / s * 100:.2f}" if "wall" in r else "")
            if any(vals):
                lines.append(f"| {label} | " + " | ".join(vals) + " |")
        lines.append("\n" + growth_sentence(results, slices_list, n))
    return "\n".join(lines)


def growth_sentence(results: dict, slices_list: list, n: int) -> str:
    """How dicomai's cost grows from the fewest to the most slices (per 100 slices, so a constant
    means linear in voxels; start-up makes small cases dearer per slice)."""
    lo, hi = slices_list[0], slices_list[-1]
    parts = []
    for key, label in (("ours_binary", "export"), ("ours_import", "import")):
        a = results["cells"].get(f"{lo}x{n}", {}).get(key, {})
        b = results["cells"].get(f"{hi}x{n}", {}).get(key, {})
        if "wall" not in a or "wall" not in b:
            continue
        per_a, per_b = a["wall"] / lo, b["wall"] / hi
        growth = b["wall"] / a["wall"]
        kind = "linear or better" if per_b <= per_a * 1.15 else "faster than linear"
        parts.append(
            f"dicomai {label} takes {growth:.2f}x the time for {hi / lo:.1f}x the slices "
            f"({per_a * 100:.2f} -> {per_b * 100:.2f} s per 100 slices): {kind} in voxels"
        )
    return ("Growth at " + str(n) + " segments: " + "; ".join(parts) + ".") if parts else ""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--slices", default="200,600,1000")
    p.add_argument("--segments", default="1,10,117")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--no-slicer", action="store_true")
    p.add_argument("--skip", default="", help="row keys to leave out, comma-separated (e.g. hd_binary)")
    p.add_argument(
        "--quick", action="store_true", help="200 and 600 slices x 10 and 117 segments, without highdicom"
    )
    args = p.parse_args(argv)
    if args.quick:
        args.slices, args.segments = "200,600", "10,117"
        args.skip = ",".join(filter(None, [args.skip, "hd_binary", "hd_import"]))
    slices_list = [int(v) for v in args.slices.split(",")]
    segments_list = [int(v) for v in args.segments.split(",")]
    skip = {s for s in args.skip.split(",") if s}

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    import importlib.util

    slicer = not args.no_slicer and importlib.util.find_spec("slicer") is not None
    started = datetime.datetime.now()
    results = {
        "date": started.isoformat(timespec="seconds"),
        "load_before": base._load(),
        "cpus": os.cpu_count(),
        "cells": {},
    }
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dicomai-bench"
    work = Path(tempfile.mkdtemp(prefix="dicomai-scale-"))
    try:
        for s in slices_list:
            shape = (s, 512, 512)
            log(f"data {shape} ...")
            data = base.prepare(cache / "x".join(map(str, shape)), shape, segments_list)
            for n in segments_list:
                rows = cell_rows(s, n, data, work, args.repeats, slicer, skip, log)
                rows["labelmap_mb"] = data["cases"][n]["labelmap"].stat().st_size / 1e6
                results["cells"][f"{s}x{n}"] = rows
                shutil.rmtree(work / f"{s}-{n}", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_after"] = base._load()
    print(
        f"# SEG scale table {results['date']} (512x512 slices; {results['cpus']} CPUs; load "
        f"{results['load_before']} -> {results['load_after']})"
    )
    print(report(results))
    out = HERE / "results" / f"{started:%Y%m%d-%H%M%S}-scale.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    log(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
