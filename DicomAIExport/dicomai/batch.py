"""Many cases at once: ``dicomai batch MANIFEST --out DIR`` on Dask.

A manifest is a CSV (or JSON lines) file with one case per row. Each case runs the very commands of
the single-case CLI (``dicomai export-seg``, then ``dicomai export-sr`` when the row names markups
or a table), each in its own child process started by a Dask task, so a case gets the same checks
and atomic outputs as on the command line, its peak memory is its own, and a crash of one case
never takes down the others. Dask (dask.distributed) schedules the cases: a local cluster of
``--workers`` processes by default, or an existing cluster with ``--scheduler tcp://HOST:8786``.
A worker that dies is replaced by its nanny and its case retried once (Dask's
``allowed-failures``); a case whose command fails is reported and not retried (it would fail the
same way again).

Resuming: a case whose outputs already exist and verify (they parse as DICOM, are complete, and
reference the case's source series) is skipped; ``--force`` runs it again.

Dask is an optional dependency (``pip install dicomai[batch]``); it is imported only here, when a
batch runs.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from .errors import DicomAIError, InputError

__all__ = [
    "BatchOptions",
    "Case",
    "CaseResult",
    "read_manifest",
    "run_batch",
    "run_case",
]

#: manifest columns: those a case must have, and those it may have
REQUIRED_COLUMNS = ("source", "out")
OPTIONAL_COLUMNS = (
    "labelmap",
    "probability",
    "metadata",
    "labels",
    "type",
    "series",
    "markups",
    "table",
    "sr_out",
    "id",
)
PATH_COLUMNS = ("source", "labelmap", "probability", "metadata", "markups", "table")
MULTI_COLUMNS = ("probability", "markups")  # several files, separated by ';'
RESULT_FILES = ("batch-results.csv", "batch-results.json")


@dataclass
class Case:
    """One row of a manifest, paths resolved against the manifest's folder."""

    id: str
    row: int
    source: str
    out: str
    labelmap: Optional[str] = None
    probability: List[str] = field(default_factory=list)
    metadata: Optional[str] = None
    labels: Optional[str] = None
    type: Optional[str] = None
    series: Optional[str] = None
    markups: List[str] = field(default_factory=list)
    table: Optional[str] = None
    sr_out: Optional[str] = None

    @property
    def wants_sr(self) -> bool:
        return bool(self.markups or self.table)


@dataclass
class BatchOptions:
    """How a batch runs.

    Attributes
    ----------
    out:
        Folder the cases' outputs (the manifest's ``out`` names) and the results files go to.
    workers:
        Worker processes of the local Dask cluster (ignored with ``scheduler``).
    scheduler:
        Address of an existing Dask scheduler (``tcp://host:8786``); None starts a local cluster.
    force:
        Run cases again even when their outputs exist and verify.
    extra_args:
        Arguments appended to every export command (for example ``--send URL`` and its credential
        options, ``--algorithm-name NAME``).
    retries:
        How often a case whose worker died is tried again (Dask's allowed-failures).
    """

    out: Path
    workers: int = 2
    scheduler: Optional[str] = None
    force: bool = False
    extra_args: List[str] = field(default_factory=list)
    retries: int = 1

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.workers < 1:
            raise InputError(f"--workers must be at least 1, not {self.workers}")
        if self.retries < 0:
            raise InputError(f"retries must be 0 or more, not {self.retries}")


@dataclass
class CaseResult:
    """What happened to one case (one row of the results files)."""

    id: str
    row: int
    status: str  # "done", "skipped" (outputs existed and verified), "failed"
    outputs: List[str] = field(default_factory=list)
    sop_instance_uids: List[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_memory_mb: float = 0.0
    warnings: List[str] = field(default_factory=list)
    error: str = ""


# ---------------------------------------------------------------------------- manifest
def read_manifest(path) -> List[Case]:
    """Read a CSV or JSON-lines manifest into cases.

    Raises
    ------
    InputError
        When the file is missing, has no header or lacks a required column, names an unknown
        column, or two cases write the same output.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"manifest {str(path)!r} does not exist")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"manifest {str(path)!r} cannot be read as text: {e}") from None
    rows = _json_lines(path, text) if path.suffix.lower() in (".jsonl", ".ndjson") else _csv_rows(path, text)
    if not rows:
        raise InputError(f"manifest {str(path)!r} has no case (one row per case after the header)")
    base = path.resolve().parent
    cases: List[Case] = []
    seen_out: Dict[str, int] = {}
    for number, row in rows:
        cases.append(_case(path, base, number, row))
        for out in (cases[-1].out, cases[-1].sr_out):
            if not out:
                continue
            if out in seen_out:
                raise InputError(
                    f"manifest {path.name}: rows {seen_out[out]} and {number} both write {out!r}; "
                    "give each case its own out"
                )
            seen_out[out] = number
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise InputError(f"manifest {path.name}: case id(s) {', '.join(dup)} repeat; ids must be unique")
    return cases


def _csv_rows(path: Path, text: str) -> List[tuple]:
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    _check_header(path, header)
    rows = []
    for i, raw in enumerate(reader, start=2):
        if None in raw:
            raise InputError(f"manifest {path.name} row {i} has more fields than the header")
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if any(row.values()):
            rows.append((i, row))
    return rows


def _json_lines(path: Path, text: str) -> List[tuple]:
    rows = []
    columns: set = set()
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"manifest {path.name} line {i} is not JSON: {e.msg}") from None
        if not isinstance(obj, dict):
            raise InputError(f"manifest {path.name} line {i} is not a JSON object")
        row = {}
        for k, v in obj.items():
            if isinstance(v, list):
                v = ";".join(str(x) for x in v)
            row[str(k)] = "" if v is None else str(v).strip()
        columns.update(row)
        rows.append((i, row))
    _check_header(path, sorted(columns) if rows else list(REQUIRED_COLUMNS))
    return rows


def _check_header(path: Path, header: Sequence[str]) -> None:
    if not header:
        raise InputError(
            f"manifest {path.name} has no header line (columns: {', '.join(REQUIRED_COLUMNS)}, ...)"
        )
    unknown = [h for h in header if h not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise InputError(
            f"manifest {path.name} has unknown column(s) {', '.join(unknown)}; known: "
            f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}"
        )
    missing = [h for h in REQUIRED_COLUMNS if h not in header]
    if missing:
        raise InputError(f"manifest {path.name} lacks the column(s) {', '.join(missing)}")


def _case(path: Path, base: Path, number: int, row: Dict[str, str]) -> Case:
    def where(col):
        return f"manifest {path.name} row {number}, column {col}"

    for col in REQUIRED_COLUMNS:
        if not row.get(col):
            raise InputError(f"{where(col)} is empty")
    if bool(row.get("labelmap")) == bool(row.get("probability")):
        raise InputError(f"manifest {path.name} row {number}: give exactly one of labelmap or probability")
    values: Dict[str, object] = {}
    for col in PATH_COLUMNS:
        raw = row.get(col, "")
        if not raw:
            continue
        if col in MULTI_COLUMNS:
            values[col] = [_resolve(base, p) for p in raw.split(";") if p.strip()]
        elif col == "source" and raw.startswith("dicomweb:"):
            values[col] = raw
        else:
            values[col] = _resolve(base, raw)
    for col in ("out", "sr_out"):
        raw = row.get(col, "")
        if raw:
            rel = Path(raw)
            if rel.is_absolute() or ".." in rel.parts:
                raise InputError(
                    f"{where(col)}: {raw!r} must be a file name under --out, not a path outside it"
                )
            values[col] = rel.as_posix()
    if values.get("markups") or row.get("table"):
        values.setdefault("sr_out", _sr_name(values["out"]))
    for col in ("labels", "type", "series"):
        if row.get(col):
            values[col] = row[col]
    case_id = row.get("id") or Path(str(values["out"])).name
    return Case(id=case_id, row=number, **values)  # type: ignore[arg-type]


def _resolve(base: Path, raw: str) -> str:
    p = Path(raw.strip()).expanduser()
    return str(p if p.is_absolute() else base / p)


def _sr_name(seg_out: str) -> str:
    name = seg_out
    for ext in (".seg.dcm", ".dcm"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
            break
    return f"{name}.sr.dcm"


# ---------------------------------------------------------------------------- one case
def case_commands(case: Case, out_dir: Path, extra_args: Sequence[str] = ()) -> List[List[str]]:
    """The single-case CLI commands (argument lists after ``dicomai``) that make a case's outputs."""
    seg_out = str(out_dir / case.out)
    seg = ["export-seg", "--source", case.source, "--out", seg_out, "--json"]
    if case.labelmap:
        seg += ["--labelmap", case.labelmap]
    else:
        seg += ["--probability", *case.probability]
    if case.metadata:
        seg += ["--metadata", case.metadata]
    if case.labels:
        seg += ["--labels", case.labels]
    if case.type:
        seg += ["--type", case.type]
    if case.series:
        seg += ["--series", case.series]
    seg += ["--overwrite", *extra_args]
    commands = [seg]
    if case.wants_sr:
        sr = ["export-sr", "--source", case.source, "--seg", seg_out, "--out", str(out_dir / case.sr_out)]
        if case.markups:
            sr += ["--markups", *case.markups]
        if case.table:
            sr += ["--table", case.table]
        sr += ["--overwrite", "--json", *_sr_extra(extra_args)]
        commands.append(sr)
    return commands


def _sr_extra(extra_args: Sequence[str]) -> List[str]:
    """The extra arguments export-sr understands too (the server options every export-* gets from
    :func:`dicomai.dicomweb.cli.add_server_options`); SEG-only ones stay out."""
    from .dicomweb.cli import server_option_names

    with_value, flags = server_option_names(send=True)
    out: List[str] = []
    args = list(extra_args)
    i = 0
    while i < len(args):
        name = args[i].split("=", 1)[0]
        if name in flags or (name in with_value and "=" in args[i]):
            out.append(args[i])
        elif name in with_value and i + 1 < len(args):
            out += [args[i], args[i + 1]]
            i += 1
        i += 1
    return out


def case_outputs(case: Case, out_dir: Path) -> List[Path]:
    outs = [out_dir / case.out]
    if case.wants_sr:
        outs.append(out_dir / case.sr_out)
    return outs


def _run_cli(argv: Sequence[str]) -> tuple:
    """Run ``python -m dicomai ARGV`` as a child; return (exit code, stdout, stderr, peak RSS MB).

    The peak is the child's own (``wait4``'s resource usage, Linux KiB), not the worker's.
    """
    import tempfile

    from .seg.fast import WORKERS_ENV

    command = [sys.executable, "-m", "dicomai", *argv]
    # one case per Dask worker process already fills a core: no encoding threads on top of it
    # unless the user asked for them (DICOMAI_WORKERS set in the workers' environment)
    env = dict(os.environ)
    env.setdefault(WORKERS_ENV, "1")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            command,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=_die_with_parent(),
        )
        peak_mb = 0.0
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            peak_mb = usage.ru_maxrss / 1024.0
        else:  # pragma: no cover - not Unix
            proc.wait()
        out.seek(0)
        err.seek(0)
        return (
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            peak_mb,
        )


def _die_with_parent():
    """On Linux, a case's child process gets SIGKILL when its worker dies (prctl PDEATHSIG), so a
    retried case never races an orphan writing the same output."""
    if not sys.platform.startswith("linux"):
        return None

    def set_death_signal() -> None:
        import ctypes
        import signal

        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except OSError:
            pass

    return set_death_signal


def run_case(case: Case, options: BatchOptions) -> CaseResult:
    """Make one case's outputs with the single-case commands (what a Dask task runs).

    Never raises for a failing case: the failure is the result's ``error``.
    """
    out_dir = Path(options.out)
    result = CaseResult(id=case.id, row=case.row, status="done")
    start = time.monotonic()
    if not options.force:
        verified = verify_outputs(case, out_dir)
        if verified is not None:
            result.status = "skipped"
            result.outputs = [str(p) for p in case_outputs(case, out_dir)]
            result.sop_instance_uids = verified
            network = _sr_extra(options.extra_args)
            if "--send" in network or any(a.startswith("--send=") for a in network):
                _resend_missing(result, network)
            result.seconds = round(time.monotonic() - start, 3)
            return result
    out_dir.mkdir(parents=True, exist_ok=True)
    for argv in case_commands(case, out_dir, options.extra_args):
        code, out, err, peak = _run_cli(argv)
        result.peak_memory_mb = max(result.peak_memory_mb, peak)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        result.warnings += [ln.split("warning: ", 1)[-1] for ln in lines if ": warning: " in ln]
        if code != 0:
            result.status = "failed"
            result.error = _error_line(err, argv[0], code)
            break
        try:
            report = json.loads(out)
        except json.JSONDecodeError:
            report = {}
        written = report.get("output") or report.get("path")
        if written:
            result.outputs.append(str(written))
        uid = report.get("sop_instance_uid")
        if uid:
            result.sop_instance_uids.append(uid)
    if result.status == "done" and not result.sop_instance_uids:
        result.sop_instance_uids = verify_outputs(case, out_dir) or []
    result.seconds = round(time.monotonic() - start, 3)
    return result


def _error_line(stderr: str, command: str, code: int) -> str:
    """A failed command's one-line error: the last line of its stderr that is not a warning."""
    errors = [ln for ln in stderr.splitlines() if ln.strip() and ": warning: " not in ln]
    return errors[-1] if errors else f"dicomai {command} exited with {code}"


def _resend_missing(result: CaseResult, network: List[str]) -> None:
    """A skipped case's outputs go to the server again only where the server lacks them."""
    args = list(network)
    url = None
    for i, a in enumerate(args):
        if a == "--send" and i + 1 < len(args):
            url = args[i + 1]
            args[i : i + 2] = []
            break
        if a.startswith("--send="):
            url = a.split("=", 1)[1]
            args[i : i + 1] = []
            break
    code, out, err, peak = _run_cli(
        ["send", *result.outputs, "--url", url, "--missing-only", "--json", *args]
    )
    result.peak_memory_mb = max(result.peak_memory_mb, peak)
    if code != 0:
        result.status = "failed"
        result.error = _error_line(err, "send", code)
        return
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        return
    resent = sum(len(s["verified"]) for s in report.get("series", [])) - len(report.get("already_there", []))
    if resent:
        result.warnings.append(f"{resent} output(s) were missing on the server and were sent again")


def verify_outputs(case: Case, out_dir: Path) -> Optional[List[str]]:
    """SOP instance UIDs of a case's outputs when all exist, decode completely with the project's
    readers and reference the case's source series; None otherwise (the case must run)."""
    import pydicom

    from .seg.decode import read_seg
    from .sopclasses import SEG_SOP_CLASSES

    uids = []
    source_series = _source_series_uid(case)
    for path in case_outputs(case, out_dir):
        if not path.is_file():
            return None
        try:
            ds = pydicom.dcmread(path)
            if str(ds.SOPClassUID) in SEG_SOP_CLASSES:
                read_seg(path)  # every frame decodes: a truncated or damaged SEG runs again
            elif "ContentSequence" not in ds:
                return None
        except Exception:  # a damaged or partial output of any kind: run the case again
            return None
        if source_series and source_series not in _referenced_series(ds):
            return None
        uids.append(str(ds.SOPInstanceUID))
    return uids


def _source_series_uid(case: Case) -> Optional[str]:
    if case.source.startswith("dicomweb:"):
        tail = case.source.rsplit("#", 1)[-1]
        return tail.split("/")[-1] if "/" in tail else None
    if case.series:
        return case.series
    import pydicom

    folder = Path(case.source)
    files = sorted(folder.iterdir()) if folder.is_dir() else [folder]
    for f in files:
        if not f.is_file():
            continue
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True, specific_tags=["SeriesInstanceUID"])
        except Exception:  # not DICOM: look at the next file
            continue
        if "SeriesInstanceUID" in ds:
            return str(ds.SeriesInstanceUID)
    return None


def _referenced_series(ds) -> set:
    uids = set()
    for item in ds.get("ReferencedSeriesSequence", []):
        if "SeriesInstanceUID" in item:
            uids.add(str(item.SeriesInstanceUID))
    for item in ds.get("CurrentRequestedProcedureEvidenceSequence", []):
        for series in item.get("ReferencedSeriesSequence", []):
            if "SeriesInstanceUID" in series:
                uids.add(str(series.SeriesInstanceUID))
    return uids


# ---------------------------------------------------------------------------- many cases
def run_batch(
    cases: Sequence[Case],
    options: BatchOptions,
    on_result: Optional[Callable[[CaseResult, Dict[str, int]], None]] = None,
) -> List[CaseResult]:
    """Run every case on Dask; return the results in manifest order and write the results files.

    ``on_result(result, counts)`` is called as each case ends (for progress display).
    """
    try:
        import dask
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise DicomAIError(
            "dicomai batch needs Dask: pip install 'dask[distributed]' (or pip install dicomai[batch])"
        ) from None

    out_dir = Path(options.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: Dict[int, CaseResult] = {}
    counts = {"done": 0, "skipped": 0, "failed": 0, "running": 0, "total": len(cases)}
    with dask.config.set({"distributed.scheduler.allowed-failures": options.retries}):
        cluster = None
        try:
            if options.scheduler:
                client = Client(options.scheduler, timeout="20s")
            else:
                cluster = LocalCluster(
                    n_workers=options.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    host="127.0.0.1",
                )
                client = Client(cluster)
        except (OSError, TimeoutError) as e:
            where = options.scheduler or "a local cluster"
            raise DicomAIError(f"cannot start or reach the Dask scheduler {where}: {e}") from None
        try:
            futures = {}
            for index, case in enumerate(cases):
                future = client.submit(
                    run_case, case, options, key=f"dicomai-case-{index}-{case.id}", pure=False
                )
                futures[future] = index
            counts["running"] = len(futures)
            for future in as_completed(list(futures)):
                index = futures[future]
                case = cases[index]
                try:
                    result = future.result()
                except Exception as e:  # the worker died too often (KilledWorker) or the task failed
                    result = CaseResult(
                        id=case.id,
                        row=case.row,
                        status="failed",
                        error=f"worker failed on this case: {_one_line(e)}",
                    )
                results[index] = result
                counts[result.status] += 1
                counts["running"] -= 1
                if on_result is not None:
                    on_result(result, dict(counts))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    ordered = [results[i] for i in range(len(cases))]
    write_results(ordered, out_dir)
    return ordered


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def write_results(results: Sequence[CaseResult], out_dir: Path) -> List[Path]:
    """``batch-results.csv`` and ``batch-results.json`` in ``out_dir``, each written atomically."""
    out_dir = Path(out_dir)
    rows = [asdict(r) for r in results]
    written = []
    json_path = out_dir / RESULT_FILES[1]
    _atomic_text(json_path, json.dumps(rows, indent=2))
    csv_path = out_dir / RESULT_FILES[0]
    columns = list(CaseResult.__dataclass_fields__)
    lines = []
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (";".join(v) if isinstance(v, list) else v) for k, v in row.items()})
    lines.append(buf.getvalue())
    _atomic_text(csv_path, "".join(lines))
    written += [csv_path, json_path]
    return written


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# ---------------------------------------------------------------------------- command line
class _Progress:
    """A progress bar on a terminal, a plain line per case otherwise (logs, CI)."""

    def __init__(self, total: int, stream=None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()

    def __call__(self, result: CaseResult, counts: Dict[str, int]) -> None:
        ended = counts["done"] + counts["skipped"] + counts["failed"]
        elapsed = max(time.monotonic() - self.start, 1e-6)
        rate = ended / elapsed * 60.0
        left = (self.total - ended) / (ended / elapsed) if ended else 0.0
        if self.tty:
            width = 24
            filled = int(width * ended / max(self.total, 1))
            bar = "#" * filled + "." * (width - filled)
            line = (
                f"\r[{bar}] {ended}/{self.total}  done {counts['done']}  skipped {counts['skipped']}  "
                f"failed {counts['failed']}  running {counts['running']}  {rate:.1f} cases/min  "
                f"~{left:.0f} s left"
            )
            self.stream.write(line)
            if ended == self.total:
                self.stream.write("\n")
        else:
            if result.status == "failed":
                what = f"failed: {result.error}"
            elif result.status == "skipped":
                what = "skipped (outputs exist and verify)"
            else:
                what = f"done in {result.seconds:.1f} s"
            self.stream.write(f"[{ended}/{self.total}] case {result.id}: {what}\n")
        self.stream.flush()


def _cmd_batch(args) -> int:
    cases = read_manifest(args.manifest)
    extra: List[str] = []
    for option in ("send", "user", "password_env", "token_env", "netrc"):
        value = getattr(args, option, None)
        if value:
            extra += [f"--{option.replace('_', '-')}", value]
    if getattr(args, "insecure", False):
        extra.append("--insecure")
    if args.algorithm_name:
        extra += ["--algorithm-name", args.algorithm_name]
    if args.algorithm_version:
        extra += ["--algorithm-version", args.algorithm_version]
    options = BatchOptions(
        out=Path(args.out),
        workers=args.workers,
        scheduler=args.scheduler,
        force=args.force,
        extra_args=extra,
        retries=args.retries,
    )
    progress = None if args.json else _Progress(len(cases))
    results = run_batch(cases, options, on_result=progress)
    failed = [r for r in results if r.status == "failed"]
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        done = sum(r.status == "done" for r in results)
        skipped = sum(r.status == "skipped" for r in results)
        print(
            f"{len(results)} case(s): {done} done, {skipped} skipped, {len(failed)} failed; results in "
            f"{options.out / RESULT_FILES[0]} and {RESULT_FILES[1]}"
        )
        for r in failed:
            print(f"failed: case {r.id} (manifest row {r.row}): {r.error}", file=sys.stderr)
    return 1 if failed else 0


def add_commands(sub, common) -> None:
    """Register ``dicomai batch`` (called by :func:`dicomai.cli.build_parser`)."""
    b = sub.add_parser(
        "batch",
        parents=[common],
        help="run export-seg (and export-sr) for every case of a manifest, on Dask",
        description="Convert many cases: one row of MANIFEST (CSV with a header, or JSON lines) per "
        "case, columns source, out and labelmap (or probability; several files separated by ';'), "
        "optionally metadata, labels, type, series, markups, table, sr_out, id; relative paths are "
        "relative to the manifest's folder. Each case runs the single-case commands in a child "
        "process on a Dask worker. Cases whose outputs exist and verify are skipped (--force runs "
        "them again). Exit 0 when every case is done or skipped, 1 when any failed; "
        "batch-results.csv/.json in --out list every case.",
    )
    b.add_argument("manifest", metavar="MANIFEST", help="the cases: .csv, or .jsonl / .ndjson")
    b.add_argument("--out", required=True, metavar="DIR", help="folder for the outputs and results files")
    b.add_argument(
        "--workers",
        type=int,
        default=2,
        metavar="N",
        help="worker processes of the local cluster (default 2)",
    )
    b.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="an existing Dask scheduler (tcp://host:8786) instead of a local cluster; its workers "
        "need dicomai installed and the inputs and --out reachable at the same paths",
    )
    b.add_argument("--force", action="store_true", help="run cases again even when their outputs verify")
    b.add_argument(
        "--retries",
        type=int,
        default=1,
        metavar="N",
        help="times a case is tried again when its worker died (default 1); a case whose command "
        "fails is not retried",
    )
    b.add_argument("--algorithm-name", metavar="NAME", help="passed to every export-seg")
    b.add_argument("--algorithm-version", metavar="V", help="passed to every export-seg")
    g = b.add_argument_group("DICOMweb (passed to each case's export commands; see dicomai send)")
    g.add_argument("--send", metavar="URL", help="store every output on this DICOMweb server, verified")
    g.add_argument("--user", metavar="NAME", help="user name for HTTP basic authentication")
    g.add_argument("--password-env", metavar="VAR", help="environment variable holding the password")
    g.add_argument("--token-env", metavar="VAR", help="environment variable holding a bearer token")
    g.add_argument("--netrc", metavar="FILE", help="netrc-style file with the credentials")
    g.add_argument("--insecure", action="store_true", help="do not verify HTTPS certificates (warns)")
    b.set_defaults(func=_cmd_batch)
