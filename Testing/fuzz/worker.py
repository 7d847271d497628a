"""Fork server for the fuzzer: reads one JSON request per line on stdin, runs the readers on the
file in a forked child with an address-space limit and a time bound, answers one JSON line.

Run by :class:`fuzzlib.Worker`; imports dicomai once so that each case costs a fork, not an
interpreter start.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
import warnings

import numpy as np

import dicomai.cli  # noqa: F401  (imported before forking: the children share it)
import dicomai.info  # noqa: F401
import dicomai.seg.decode  # noqa: F401
import dicomai.sr.decode  # noqa: F401
import dicomai.sr.info  # noqa: F401
from dicomai.errors import DicomAIError

_SOURCES: dict = {}


def _source(folder):
    if folder is None:
        return None
    if folder not in _SOURCES:
        from dicomai.source import read_source_series

        _SOURCES[folder] = read_source_series(folder, allow_nonuniform=True)
    return _SOURCES[folder]


def _h(a) -> str:
    a = np.ascontiguousarray(a)
    return hashlib.md5(a.tobytes() + str(a.shape).encode()).hexdigest()[:16]


def seg_digest(c) -> str:
    parts = [c.segmentation_type, list(c.grid.shape), np.round(c.grid.affine, 3).tolist()]
    for s in c.segments:
        if c.fractions:
            arr = np.round(np.asarray(c.fractions[s.number]) * 1000).astype(np.int32)
        else:
            arr = np.packbits(np.asarray(c.layers[s.layer]) == s.label_value)
        parts.append([s.number, s.label, _h(arr)])
    return hashlib.md5(json.dumps(parts, default=str).encode()).hexdigest()


def sr_digest(report) -> str:
    parts = []
    for m in report.markups():
        pts = np.round(np.asarray(m.points, dtype=float), 3) if len(m.points) else []
        parts.append([m.kind, m.name, np.asarray(pts).tolist(), list(getattr(m, "labels", []) or [])])
    for row in report.rows():
        parts.append(repr(row))
    parts.append(len(report.groups))
    return hashlib.md5(json.dumps(parts, default=str).encode()).hexdigest()


def _selftest(what):
    """Entry points that misbehave on purpose: the harness must see each for what it is."""
    if what == "crash":
        raise ValueError("a raw crash")
    if what == "hang":
        time.sleep(3600)
    if what == "memory":
        return [bytearray(1 << 20) for _ in range(1 << 16)]  # 64 GB, a MiB at a time
    if what == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    raise DicomAIError("a clean error")


def _entries(req):
    path = req["path"]
    if req["kind"].startswith("selftest:"):
        yield "selftest", lambda: _selftest(req["kind"].split(":", 1)[1])
        return
    if req["kind"] == "seg":
        from dicomai.seg.decode import read_seg

        yield "read_seg", lambda: (lambda c: (seg_digest(c), c.warnings))(read_seg(path))
        if req["source"]:
            src = _source(req["source"])
            yield "read_seg+source", lambda: (lambda c: (seg_digest(c), c.warnings))(read_seg(path, src))
    else:
        from dicomai.sr.decode import read_sr

        segs = req.get("segs") or []
        yield "read_sr", lambda: (lambda r: (sr_digest(r), r.warnings))(read_sr(path, segs=segs))
        if req["source"]:
            src = _source(req["source"])
            yield (
                "read_sr+source",
                lambda: (lambda r: (sr_digest(r), r.warnings))(read_sr(path, src, segs=segs)),
            )
    from dicomai.info import describe

    def info():
        d = describe(path)
        d.pop("file", None)
        json.dumps(d, default=str)
        return None, []  # info reports what the header declares: only its errors are judged

    yield "info", info


def _where(tb) -> str:
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if "/dicomai/" in f.filename.replace(os.sep, "/")]
    f = (ours or frames or [None])[-1]
    if f is None:
        return "?"
    name = f.filename.replace(os.sep, "/")
    name = name.split("/dicomai/", 1)[-1] if "/dicomai/" in name else name.rsplit("/", 1)[-1]
    return f"{name}:{f.lineno}"


def _run_entry(fn) -> dict:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            digest, warns = fn()
            return {"outcome": "ok", "digest": digest, "warnings": list(warns), "pywarnings": len(caught)}
        except DicomAIError as e:
            out = {"outcome": "error", "message": str(e)[:500], "type": type(e).__name__}
            if getattr(e, "unforeseen", False):  # caught by dicomai.fileio.reading's net
                cause = e.__cause__
                out["unforeseen"] = (
                    f"{type(cause).__name__} at {_where(cause.__traceback__) if cause else '?'}"
                )
            return out
        except MemoryError as e:
            return {
                "outcome": "memory",
                "message": str(e)[:300],
                "type": "MemoryError",
                "where": _where(e.__traceback__),
            }
        except BaseException as e:  # noqa: BLE001  (what the fuzzer looks for)
            return {
                "outcome": "crash",
                "message": f"{type(e).__name__}: {e}"[:500],
                "type": type(e).__name__,
                "where": _where(e.__traceback__),
            }


def _run_cli(argv) -> dict:
    """``dicomai ARGV`` in this (forked) process with fds 1 and 2 sent to temporary files."""
    from dicomai.cli import main

    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            sys.stdout = os.fdopen(1, "w")
            sys.stderr = os.fdopen(2, "w")
            warnings.resetwarnings()
            try:
                rc = main(argv)
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else 1
            except BaseException:
                traceback.print_exc()
                rc = 1
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(rc if isinstance(rc, int) else 1)
    _, status = os.waitpid(pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    err.seek(0)
    text = err.read().decode("utf-8", "replace")
    out.close()
    err.close()
    return {"argv": argv, "rc": rc, "stderr": text}


def _child(req, wfd):
    budget = req["mem_mb"] * 1024 * 1024
    with open("/proc/self/status") as f:
        vm = next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + budget, vm + budget))
    answer = {"entries": {}, "cli": []}
    for name, fn in _entries(req):
        answer["entries"][name] = _run_entry(fn)
    for argv in req.get("cli") or []:
        answer["cli"].append(_run_cli(argv))
    os.write(wfd, json.dumps(answer, default=str).encode())
    os.close(wfd)


def handle(req) -> dict:
    if req.get("source"):
        try:
            _source(req["source"])  # loaded once, before forking
        except Exception:
            pass
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:
            _child(req, w)
        except BaseException:
            code = 3
        os._exit(code)
    os.close(w)
    chunks = []
    deadline = time.monotonic() + req["timeout"] * (1 + len(req.get("cli") or []))
    died = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            died = "hang"
            break
        ready, _, _ = select.select([r], [], [], left)
        if ready:
            b = os.read(r, 1 << 16)
            if not b:
                break
            chunks.append(b)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if died:
        return {"died": "hang", "message": f"more than {req['timeout']} s"}
    if os.WIFSIGNALED(status):
        return {"died": "crash", "message": f"signal {os.WTERMSIG(status)}"}
    try:
        return json.loads(b"".join(chunks).decode())
    except ValueError:
        return {"died": "crash", "message": f"child exited {status} without an answer"}


def main():
    for line in sys.stdin:
        req = json.loads(line)
        ans = handle(req)
        sys.stdout.write(json.dumps(ans) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
