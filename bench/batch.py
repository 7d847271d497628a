"""Cohort benchmark: ``dicomai batch`` cases per minute with 1 and 2 Dask workers.

    python bench/batch.py                 # 20 cases, 512x512x200 CT, 10-segment labelmaps
    python bench/batch.py --quick         # 6 cases on 40x128x128: a smoke test
    make bench-batch [BENCH_ARGS=--quick]

Each case is one row of a manifest: the same source series (read by every case, as in a cohort
where each case's CT is its own folder of the same size) and its own labelmap, written as a BINARY
SEG. Every run is a whole ``dicomai batch`` process (cluster start-up included), into a fresh
output folder, so no case is skipped. Results: a markdown table on stdout and
``bench/results/<date>-<time>-batch[-quick].json``. Read ratios within one run only.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "DicomAIExport"), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    return env


def make_data(folder: Path, cases: int, shape) -> Path:
    """A CT series, ``cases`` labelmaps and a manifest (reused when already there)."""
    sys.path.insert(0, str(REPO / "DicomAIExport"))
    import numpy as np

    import dicomai_samples as samples
    from dicomai.imageio import write_image

    manifest = folder / f"manifest-{cases}.csv"
    if manifest.is_file():
        return manifest
    folder.mkdir(parents=True, exist_ok=True)
    grid = samples.make_grid(shape=shape, spacing=(1.5, 0.8, 0.8))
    if not (folder / "ct").is_dir():
        ct = np.zeros(shape, np.int16)
        samples.write_series(folder / "ct", ct, grid, uid_seed="bench-batch")
    labels, segments = samples.many_segments_labelmap(shape, 10, seed=0)
    (folder / "meta.json").write_text(json.dumps(samples.dcmqi_metadata(segments)))
    rows = []
    for i in range(cases):
        path = folder / f"labels_{i:03d}.nrrd"
        if not path.is_file():
            write_image(path, np.roll(labels, i, axis=2), grid)
        rows.append(("ct", path.name, "meta.json", "binary", f"case_{i:03d}.seg.dcm"))
    with open(manifest, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "labelmap", "metadata", "type", "out"])
        w.writerows(rows)
    return manifest


def run_batch(manifest: Path, out: Path, workers: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    start = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dicomai",
            "batch",
            str(manifest),
            "--out",
            str(out),
            "--workers",
            str(workers),
        ],
        capture_output=True,
        text=True,
        env=_env(),
    )
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"batch with {workers} worker(s) failed:\n{proc.stderr[-2000:]}")
    results = json.loads((out / "batch-results.json").read_text())
    assert all(r["status"] == "done" for r in results), results
    return seconds


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--cases", type=int)
    p.add_argument("--data", default=os.path.expanduser("~/.cache/dicomai-bench/batch"))
    args = p.parse_args(argv)
    cases = args.cases or (6 if args.quick else 20)
    shape = (40, 128, 128) if args.quick else (200, 512, 512)
    data = Path(args.data) / ("quick" if args.quick else "full")
    manifest = make_data(data, cases, shape)
    rows = []
    for workers in (1, 2):
        seconds = run_batch(manifest, data / f"out-{workers}", workers)
        rows.append(
            {
                "workers": workers,
                "cases": cases,
                "seconds": round(seconds, 2),
                "cases_per_minute": round(cases / seconds * 60.0, 2),
            }
        )
    base = rows[0]["seconds"]
    print(f"\n`dicomai batch`: {cases} cases, CT {shape[2]}x{shape[1]}x{shape[0]}, 10 segments, BINARY SEG\n")
    print("| workers | seconds | cases/min | speed-up vs 1 worker |")
    print("|---|---|---|---|")
    for r in rows:
        r["speedup"] = round(base / r["seconds"], 2)
        print(f"| {r['workers']} | {r['seconds']:.1f} | {r['cases_per_minute']:.1f} | {r['speedup']:.2f}x |")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = HERE / "results" / f"{stamp}-batch{'-quick' if args.quick else ''}.json"
    out.write_text(
        json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(), "rows": rows}, indent=2)
    )
    print(f"\nresults: {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
