"""SEG export/import benchmark: dicomai vs the numpy floor, highdicom, dcmqi and Slicer core.

    python bench/run.py            # full: 512x512x200 CT, 1/10/100 segments, median of 3
    python bench/run.py --quick    # 40x256x256, one run each: a smoke test of the whole table
    make bench BENCH_ARGS=--quick

Every measurement is a separate process started here and reaped with ``os.wait4``: wall time is
the whole process (interpreter start-up and imports included, as a user waits for it) and peak
RSS is that process's (children included). Rows that run inside a Slicer scene also report the
time of the measured step alone (``step s``), since their set-up (starting slicer-core, building
the nodes an export starts from) is not what is compared. Read ratios within one run only: the
machine is shared.

Input data (synthetic CT series, label maps from dicomai.synthetic.many_segments_labelmap, dcmqi
metadata) is generated once into ``--data`` (default ~/.cache/dicomai-bench). Results: a markdown
table on stdout and ``bench/results/<date>-<time>[-quick].json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA_VERSION = 1
TASKS = HERE / "tasks.py"


# ------------------------------------------------------------------------------------ environment
def _env() -> dict:
    env = dict(os.environ)
    paths = [str(REPO / "DicomAIExport"), str(REPO / "Testing")]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _peer(name: str):
    sys.path.insert(0, str(REPO / "Testing"))
    try:
        import peers

        return peers.tool_path(name)
    except Exception:
        return None


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# ------------------------------------------------------------------------------------ data
def prepare(folder: Path, shape: tuple, cases: list) -> dict:
    """Source series, labelmaps and metadata for each case (cached)."""
    import numpy as np

    sys.path.insert(0, str(REPO / "DicomAIExport"))
    import dicomai_samples as synthetic
    from dicomai.imageio import write_image

    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / "stamp.json"
    wanted = {"version": DATA_VERSION, "shape": list(shape)}
    source = folder / "source"
    grid = synthetic.make_grid(shape=shape, spacing=(1.5, 0.8, 0.8))
    fresh = not (stamp.is_file() and json.loads(stamp.read_text()) == wanted and source.is_dir())
    if fresh:
        shutil.rmtree(source, ignore_errors=True)
        ct = np.full(grid.shape, -1000, np.int16)
        ct[:, shape[1] // 8 : -shape[1] // 8, shape[2] // 8 : -shape[2] // 8] = 40
        synthetic.write_series(source, ct, grid, uid_seed="dicomai-bench", file_names="random")
    out = {"source": source, "cases": {}}
    for n in cases:
        lab_path, meta_path = folder / f"labels-{n}.nrrd", folder / f"labels-{n}.json"
        if fresh or not lab_path.is_file() or not meta_path.is_file():
            labels, segments = synthetic.many_segments_labelmap(grid.shape, n)
            write_image(lab_path, labels, grid, compress=False)
            meta_path.write_text(json.dumps(synthetic.dcmqi_metadata(segments)))
        out["cases"][n] = {"labelmap": lab_path, "metadata": meta_path}
    stamp.write_text(json.dumps(wanted))
    return out


# ------------------------------------------------------------------------------------ measuring
_TIME = "/usr/bin/time" if Path("/usr/bin/time").is_file() else None  # GNU time (-f, -o)


def _wait4_run(cmd: list, cwd=None) -> dict:
    """Run ``cmd``: wall time, and its peak RSS as GNU time reports it.

    A child forked from this (large) process would report this process's RSS as its own peak
    until it execs, so the command is started by /usr/bin/time (small) when it exists; otherwise
    the child is reaped with os.wait4 (an upper bound).
    """
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        full = [str(c) for c in cmd]
        if _TIME:
            full = [_TIME, "-f", "%M", "-o", str(rss_file), *full]
        with open(Path(tmp) / "out", "wb") as out, open(Path(tmp) / "err", "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                full, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=_env(), cwd=cwd
            )
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        text = (Path(tmp) / "out").read_text(errors="replace")
        error = (Path(tmp) / "err").read_text(errors="replace")
        rss_kb = usage.ru_maxrss
        if _TIME and rss_file.is_file():
            lines = [ln for ln in rss_file.read_text().split() if ln.strip().isdigit()]
            if lines:
                rss_kb = int(lines[-1])
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{error[-3000:]}")
    step = None
    for line in text.splitlines():
        if line.startswith("STEP "):
            step = float(line.split()[1])
    return {"wall": wall, "rss_mb": rss_kb / 1024.0, "step": step}


def measure(cmd: list, repeats: int, output=None, cwd=None) -> dict:
    """Median wall time and peak RSS of ``repeats`` runs; ``output`` (a file, or a folder when it
    has no suffix) is removed before each run and measured after."""
    runs = []
    for _ in range(repeats):
        if output is not None:
            p = Path(output)
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
            if not p.suffix:
                p.mkdir(parents=True)
        runs.append(_wait4_run(cmd, cwd=cwd))
    row = {
        "wall": statistics.median(r["wall"] for r in runs),
        "rss_mb": statistics.median(r["rss_mb"] for r in runs),
        "runs": [round(r["wall"], 3) for r in runs],
    }
    steps = [r["step"] for r in runs if r["step"] is not None]
    if steps:
        row["step"] = statistics.median(steps)
    if output is not None:
        row["file_mb"] = _size_mb(output)
    return row


def _size_mb(output) -> float:
    p = Path(output)
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 1e6
    return p.stat().st_size / 1e6 if p.exists() else 0.0


# ------------------------------------------------------------------------------------ the plan
def case_rows(n: int, data: dict, work: Path, repeats: int, slicer: bool, log) -> dict:
    py = sys.executable
    src = data["source"]
    lab, meta = data["cases"][n]["labelmap"], data["cases"][n]["metadata"]
    w = work / f"case-{n}"
    segs = w / "segs"  # SEGs alone in a folder: importers must not find (and load) the CT
    segs.mkdir(parents=True, exist_ok=True)
    rows = {}

    def row(key, label, cmd, output=None, kind="export"):
        log(f"  {n:>3} segments: {label} ...")
        try:
            rows[key] = {"label": label, "kind": kind, **measure(cmd, repeats, output)}
        except Exception as e:  # a tool that fails is a result too
            rows[key] = {"label": label, "kind": kind, "error": str(e).splitlines()[0][:200]}
            log(f"      failed: {rows[key]['error']}")

    cli = [py, "-m", "dicomai"]
    ours_b, ours_l = segs / "dicomai-binary.dcm", segs / "dicomai-labelmap.dcm"
    floor_bin = w / "floor.bin"
    row("floor", "floor: numpy packbits + write", [py, TASKS, "floor-export", lab, floor_bin], floor_bin)
    row(
        "floor_headers",
        "floor + source headers (pydicom)",
        [py, TASKS, "floor-headers", src, lab, w / "floor2.bin"],
        w / "floor2.bin",
    )
    export = [*cli, "export-seg", "--source", src, "--labelmap", lab, "--metadata", meta, "-q", "--overwrite"]
    row("ours_binary", "dicomai export-seg BINARY (CLI)", [*export, "--out", ours_b], ours_b)
    row(
        "ours_labelmap",
        "dicomai export-seg LABELMAP, RLE (CLI)",
        [*export, "--type", "labelmap", "--out", ours_l],
        ours_l,
    )
    api_b = w / "api-binary.dcm"
    row(
        "api_binary",
        "dicomai write_seg BINARY (Python API)",
        [py, TASKS, "api-export", "BINARY", src, lab, meta, api_b],
        api_b,
    )
    hd_b, hd_l = w / "hd-binary.dcm", w / "hd-labelmap.dcm"
    row(
        "hd_binary",
        "highdicom BINARY defaults",
        [py, TASKS, "hd-export", "BINARY", src, lab, meta, hd_b],
        hd_b,
    )
    row(
        "hd_labelmap",
        "highdicom LABELMAP + JPEG-LS",
        [py, TASKS, "hd-export", "LABELMAP", src, lab, meta, hd_l],
        hd_l,
    )
    itk2seg = _peer("itkimage2segimage")
    if itk2seg:
        dq = w / "dcmqi.dcm"
        cmd = [
            itk2seg,
            "--inputImageList",
            lab,
            "--inputDICOMDirectory",
            src,
            "--inputMetadata",
            meta,
            "--outputDICOM",
            dq,
        ]
        row("dcmqi_export", "dcmqi itkimage2segimage", cmd, dq)
    if slicer:
        so = w / "slicer-binary.dcm"
        row(
            "slicer_export",
            "dicomai_slicer export (slicer-core)",
            [py, TASKS, "slicer-export", src, lab, meta, so, "BINARY"],
            so,
        )

    # import: every reader reads our BINARY SEG unless said otherwise
    if not ours_b.exists() or not ours_l.exists():
        return rows
    row(
        "floor_import",
        "floor: read packed bytes -> labelmap .nii",
        [py, TASKS, "floor-import", floor_bin, w / "floor.nii"],
        w / "floor.nii",
        "import",
    )
    row(
        "ours_import_binary",
        "dicomai import-seg of its BINARY (CLI)",
        [*cli, "import-seg", ours_b, "--out", w / "ib.nii", "-q", "--overwrite"],
        w / "ib.nii",
        "import",
    )
    row(
        "ours_import_labelmap",
        "dicomai import-seg of its LABELMAP (CLI)",
        [*cli, "import-seg", ours_l, "--out", w / "il.nii", "-q", "--overwrite"],
        w / "il.nii",
        "import",
    )
    row(
        "api_import",
        "dicomai read_seg -> labelmap .nii (Python API)",
        [py, TASKS, "api-import", ours_b, w / "api.nii"],
        w / "api.nii",
        "import",
    )
    row(
        "hd_import",
        "highdicom segread -> labelmap .nii",
        [py, TASKS, "hd-import", ours_b, src, w / "hd.nii"],
        w / "hd.nii",
        "import",
    )
    seg2itk = _peer("segimage2itkimage")
    if seg2itk:
        out_dir = w / "dcmqi-out"
        row(
            "dcmqi_import",
            "dcmqi segimage2itkimage",
            [seg2itk, "--inputDICOM", ours_b, "--outputDirectory", out_dir],
            out_dir,
            "import",
        )
    if slicer:
        row(
            "slicer_import",
            "dicomai_slicer load -> segmentation node",
            [py, TASKS, "slicer-import", ours_b],
            None,
            "import",
        )
        row(
            "slicer_import_labelmap",
            "dicomai_slicer load LABELMAP -> segmentation node",
            [py, TASKS, "slicer-import", ours_l],
            None,
            "import",
        )
        if seg2itk:
            label = "Slicer core SEG plugin path (dcmqi --mergeSegments + node import)"
            cmd = [py, TASKS, "slicer-core-load", ours_b, seg2itk]
            row("slicer_core", label, cmd, None, "import")
    return rows


def compression_rows(n: int, data: dict, work: Path, repeats: int, log) -> dict:
    py = sys.executable
    lab, meta = data["cases"][n]["labelmap"], data["cases"][n]["metadata"]
    w = work / f"compression-{n}"
    w.mkdir(parents=True, exist_ok=True)
    out = {}
    plan = (
        ("binary", ("none", "jpeg2000", "deflate")),
        ("labelmap", ("none", "rle", "jpeg-ls", "jpeg2000", "deflate")),
    )
    for seg_type, compressions in plan:
        for c in compressions:
            path = w / f"{seg_type}-{c}.dcm"
            log(f"  compression {seg_type} {c} ...")
            cmd = [
                py,
                "-m",
                "dicomai",
                "export-seg",
                "--source",
                data["source"],
                "--labelmap",
                lab,
                "--metadata",
                meta,
            ]
            cmd += ["--type", seg_type, "--compression", c, "--out", path, "-q", "--overwrite"]
            entry = {"export": measure(cmd, repeats, path)}
            back = w / f"{seg_type}-{c}.nii"
            entry["import"] = measure(
                [py, "-m", "dicomai", "import-seg", path, "--out", back, "-q", "--overwrite"], repeats, back
            )
            out[f"{seg_type}-{c}"] = entry
    return out


# ------------------------------------------------------------------------------------ report
def _fmt(v, digits=2):
    return "—" if v is None else f"{v:.{digits}f}"


def table(results: dict) -> str:
    lines = []
    startup = results.get("startup", {}).get("wall")
    for n, rows in results["cases"].items():
        floor = rows.get("floor", {}).get("wall")
        floor_h = rows.get("floor_headers", {}).get("wall")
        floor_i = rows.get("floor_import", {}).get("wall")
        anchors = {
            "export": {
                "dcmqi": rows.get("dcmqi_export", {}).get("wall"),
                "hd": rows.get("hd_binary", {}).get("wall"),
            },
            "import": {
                "dcmqi": rows.get("dcmqi_import", {}).get("wall"),
                "hd": rows.get("hd_import", {}).get("wall"),
            },
        }
        lines.append(f"\n### {n} segment(s)\n")
        lines.append(
            "| task | wall s | step s | × floor | × floor+headers | × dcmqi | × highdicom | peak MB "
            "| output MB |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for r in rows.values():
            if "error" in r:
                lines.append(f"| {r['label']} | failed: {r['error'][:60]} | | | | | | | |")
                continue
            wall = r["wall"]
            base = floor if r["kind"] == "export" else floor_i
            a = anchors[r["kind"]]
            lines.append(
                f"| {r['label']} | {_fmt(wall)} | {_fmt(r.get('step'))} | "
                f"{_fmt(wall / base if base else None)} | "
                f"{_fmt(wall / floor_h if floor_h and r['kind'] == 'export' else None)} | "
                f"{_fmt(wall / a['dcmqi'] if a['dcmqi'] else None)} | "
                f"{_fmt(wall / a['hd'] if a['hd'] else None)} | "
                f"{r['rss_mb']:.0f} | {_fmt(r.get('file_mb'), 1)} |"
            )
    if startup is not None:
        lines.append(f"\nStart-up (python + numpy, pydicom, SimpleITK, highdicom imports): {startup:.2f} s.")
    comp = results.get("compression")
    if comp:
        n = results.get("compression_case")
        lines.append(f"\n### Compression ({n} segments, dicomai CLI)\n")
        lines.append("| type / compression | export s | import s | file MB | export peak MB |")
        lines.append("|---|---|---|---|---|")
        for k, e in comp.items():
            lines.append(
                f"| {k} | {_fmt(e['export']['wall'])} | {_fmt(e['import']['wall'])} | "
                f"{_fmt(e['export'].get('file_mb'), 3)} | {e['export']['rss_mb']:.0f} |"
            )
    return "\n".join(lines)


def targets(results: dict) -> list:
    """The issue's targets, each with the numbers it is judged on."""
    out = []
    big = max(results["cases"]) if results["cases"] else None
    if big is None:
        return out
    r = results["cases"][big]
    startup = results.get("startup", {}).get("wall")

    def wall(key):
        return r.get(key, {}).get("wall")

    def add(name, value, limit, met, note=""):
        out.append({"target": name, "value": value, "limit": limit, "met": bool(met), "note": note})

    if wall("ours_binary") and wall("floor"):
        v = wall("ours_binary") / wall("floor")
        add("BINARY export <= 1.5x floor (packbits + write)", round(v, 2), 1.5, v <= 1.5)
    if wall("ours_binary") and wall("floor_headers"):
        v = wall("ours_binary") / wall("floor_headers")
        add("BINARY export <= 1.5x floor incl. source headers", round(v, 2), 1.5, v <= 1.5)
    if wall("ours_binary") and wall("dcmqi_export"):
        v = wall("dcmqi_export") / wall("ours_binary")
        add("BINARY export >= 2x faster than dcmqi", round(v, 2), 2.0, v >= 2.0)
    for key in ("ours_import_binary", "ours_import_labelmap"):
        if wall(key) and wall("floor_import"):
            v = wall(key) / wall("floor_import")
            add(f"import ({key[12:]}) into a labelmap <= 1.5x floor", round(v, 2), 1.5, v <= 1.5)
    floor_step = r.get("floor", {}).get("step")
    api_step = r.get("api_binary", {}).get("step")
    hd_step = r.get("hd_binary", {}).get("step")
    if floor_step and api_step:
        v = api_step / floor_step
        add("(in process) write_seg BINARY <= 1.5x the floor's packing + writing", round(v, 2), 1.5, v <= 1.5)
    if api_step and hd_step:
        v = hd_step / api_step
        add(
            "(in process) write_seg BINARY vs highdicom's constructor + save_as",
            round(v, 1),
            1.0,
            v >= 1.0,
            "speed-up",
        )
    floor_import_step = r.get("floor_import", {}).get("step")
    api_import_step = r.get("api_import", {}).get("step")
    if floor_import_step and api_import_step:
        v = api_import_step / floor_import_step
        add("(in process) read_seg + write labelmap <= 1.5x the floor's", round(v, 2), 1.5, v <= 1.5)
    step = r.get("slicer_import", {}).get("step")
    core = r.get("slicer_core", {}).get("step")
    if step and core:
        v = core / step
        add(
            "import into a Slicer segmentation node >= 10x faster than Slicer core's path",
            round(v, 1),
            10.0,
            v >= 10,
        )
    if wall("ours_labelmap") and startup:
        v = wall("ours_labelmap") - startup
        add("LABELMAP export < 0.5 s beyond start-up", round(v, 3), 0.5, v < 0.5)
    for key in ("ours_binary", "ours_labelmap"):
        row = r.get(key, {})
        if "rss_mb" in row:
            lab_mb = results["labelmap_mb"][big]
            limit = 1.2 * (lab_mb + row.get("file_mb", 0)) + 150
            add(
                f"{key[5:]} export peak RSS <= 1.2 x (labelmap + output) + 150 MB",
                round(row["rss_mb"]),
                round(limit),
                row["rss_mb"] <= limit,
            )
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="40x256x256, one run each")
    p.add_argument(
        "--repeats", type=int, default=None, help="runs per measurement (median; default 3, quick 1)"
    )
    p.add_argument("--cases", default="1,10,100", help="segment counts (default 1,10,100)")
    p.add_argument(
        "--shape", default=None, help="slices,rows,columns (default 200,512,512; quick 40,256,256)"
    )
    p.add_argument("--data", default=None, help="data cache folder (default ~/.cache/dicomai-bench/<shape>)")
    p.add_argument("--work", default=None, help="folder for outputs (default: a temporary folder)")
    p.add_argument("--no-slicer", action="store_true", help="leave out the slicer-core rows")
    p.add_argument("--no-compression", action="store_true", help="leave out the compression table")
    p.add_argument("--out", default=None, help="JSON file (default bench/results/<date>-<time>.json)")
    args = p.parse_args(argv)
    shape = tuple(int(v) for v in (args.shape or ("40,256,256" if args.quick else "200,512,512")).split(","))
    repeats = args.repeats or (1 if args.quick else 3)
    cases = [int(v) for v in args.cases.split(",")]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dicomai-bench"
    data_dir = Path(args.data) if args.data else cache / "x".join(map(str, shape))

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    slicer = not args.no_slicer
    if slicer:
        try:
            import importlib.util

            slicer = (
                importlib.util.find_spec("slicer") is not None
                and (REPO / "DicomAIExport" / "dicomai_slicer").is_dir()
            )
        except Exception:
            slicer = False
        if not slicer:
            log("slicer-core or dicomai_slicer missing: the Slicer rows are not measured")
    log(f"load average {_load()}; preparing data in {data_dir} ...")
    data = prepare(data_dir, shape, cases)
    import tempfile

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="dicomai-bench-"))
    started = datetime.datetime.now()
    results = {
        "date": started.isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "load_before": _load(),
        "shape": list(shape),
        "repeats": repeats,
        "labelmap_mb": {n: data["cases"][n]["labelmap"].stat().st_size / 1e6 for n in cases},
        "slicer_measured": slicer,
        "cases": {},
    }
    log("start-up ...")
    results["startup"] = measure([sys.executable, TASKS, "startup"], max(repeats, 3))
    for n in cases:
        results["cases"][n] = case_rows(n, data, work, repeats, slicer, log)
    if not args.no_compression:
        n = max(cases)
        results["compression_case"] = n
        results["compression"] = compression_rows(n, data, work, repeats, log)
    results["load_after"] = _load()
    results["targets"] = targets(results)
    if not slicer:
        results["not_measured"] = "Slicer rows: slicer-core or dicomai_slicer missing"
    text = table(results)
    print(
        f"# SEG benchmark {results['date']} ({'quick, ' if args.quick else ''}"
        f"{'x'.join(map(str, shape))}, median of {repeats})"
    )
    print(f"load average before {results['load_before']}, after {results['load_after']}")
    print(text)
    print("\n### Targets\n")
    print("| target | value | limit | met |\n|---|---|---|---|")
    for t in results["targets"]:
        print(f"| {t['target']} | {t['value']} | {t['limit']} | {'yes' if t['met'] else 'NO'} |")
    out = (
        Path(args.out)
        if args.out
        else HERE / "results" / f"{started:%Y%m%d-%H%M%S}{'-quick' if args.quick else ''}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    log(f"results: {out}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
