"""The ``dicomai`` command line.

Exit status: 0 on success, 1 on an error (one line on stderr naming the input; ``--debug`` shows
the traceback), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import warnings as _pywarnings
from contextlib import contextmanager
from typing import List, Optional

from . import __version__
from .errors import DicomAIError

__all__ = ["main", "build_parser"]


def _cmd_info(args) -> int:
    from .info import describe, format_description

    infos, errors = [], []
    for f in args.files:
        try:
            infos.append(describe(f))
        except DicomAIError as e:
            if len(args.files) == 1:
                raise
            errors.append(_one_line(str(e)))
    if infos:
        if args.json:
            print(json.dumps(infos[0] if len(infos) == 1 and not errors else infos, indent=2, default=str))
        else:
            print("\n\n".join(format_description(i) for i in infos))
    for e in errors:  # one line per file that could not be described
        print(f"dicomai info: error: {e}", file=sys.stderr)
    return 1 if errors else 0


def _cmd_validate(args) -> int:
    from .validate import validate

    res = validate(args.file, args.references or (), use_dciodvfy=not args.no_dciodvfy)
    if args.json:
        print(
            json.dumps(
                {
                    "file": res.path,
                    "kind": res.kind,
                    "ok": res.ok,
                    "problems": res.problems,
                    "dciodvfy": res.dciodvfy,
                    "dciodvfy_errors": res.dciodvfy_errors,
                    "notes": res.notes,
                },
                indent=2,
            )
        )
    else:
        for p in res.problems:
            print(f"problem: {p}")
        for e in res.dciodvfy_errors:
            print(f"dciodvfy: {e}")
        for n in res.notes:
            print(f"note: {n}")
        checks = "our checks" + (" and dciodvfy" if res.dciodvfy else "")
        verdict = "clean" if res.ok else f"{len(res.problems) + len(res.dciodvfy_errors)} problem(s)"
        print(f"{res.path}: {res.kind}, {checks}: {verdict}")
    if not res.ok:
        print(
            f"dicomai validate: error: {args.file!r} is not clean: "
            f"{(res.problems + res.dciodvfy_errors)[0][:200]}",
            file=sys.stderr,
        )
    return 0 if res.ok else 1


# ---------------------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors: exit 2 with one line plus the usage
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: usage error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="dicomai",
        description="Save AI results as standard DICOM (SEG, SR) and read them back.",
    )
    p.add_argument("--version", action="version", version=f"dicomai {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    common.add_argument("--quiet", "-q", action="store_true", help="do not print warnings")
    common.add_argument("--json", action="store_true", help="print the result as JSON")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    _add_optional_commands(sub, common)

    v = sub.add_parser(
        "validate",
        parents=[common],
        help="check a SEG / SR (our checks + dciodvfy when installed); exit 0 only when clean",
        description="Check a SEG or SR: required attributes, frames consistent with the declared "
        "sizes, codes well formed, references resolvable in the given files, no reader warning; "
        "plus dciodvfy (dicom3tools) when installed. Exit status 0 only when every check is clean.",
    )
    v.add_argument("file", metavar="FILE", help="the SEG or SR file")
    v.add_argument(
        "--references",
        nargs="+",
        metavar="FILE",
        help="the referenced series (folder or files) and, for an SR, its SEGs",
    )
    v.add_argument("--no-dciodvfy", action="store_true", help="run only our own checks")
    v.set_defaults(func=_cmd_validate)

    n = sub.add_parser("info", parents=[common], help="describe SEG / SR / image files")
    n.add_argument("files", nargs="+", metavar="FILE")
    n.set_defaults(func=_cmd_info)
    return p


def _add_optional_commands(sub, common) -> None:
    """Commands the families bring (:mod:`dicomai.families`: ``dicomai.seg``: export-seg, import-seg;
    ``dicomai.sr``: export-sr, import-sr; ``dicomai.sc``: export-sc), then batch and
    ``dicomai.dicomweb`` (send, query, retrieve, and server options on every export-*)."""
    import importlib

    from .families import families

    for family in families():
        family.add_commands(sub, common)
    # dicomweb last: it extends every export-* command
    for name in ("dicomai.batch", "dicomai.dicomweb.cli"):
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            if e.name not in (name, name.rsplit(".", 1)[0]):
                raise
            continue
        module.add_commands(sub, common)


def _one_line(text: str) -> str:
    return " | ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _inputs(args) -> str:
    """The input files of a command, for messages that must name them."""
    names = []
    for attr in ("seg", "sr", "labelmap", "probability", "markups", "table", "findings", "files"):
        v = getattr(args, attr, None)
        if v:
            names.extend([str(x) for x in v] if isinstance(v, (list, tuple)) else [str(v)])
    return ", ".join(repr(n) for n in names[:4]) + (", ..." if len(names) > 4 else "") or "the input"


@contextmanager
def _native_stderr(captured: list):
    """Send what native libraries (ITK, codecs) print on file descriptor 2 to ``captured``
    instead of the terminal; Python-level writes to ``sys.stderr`` still reach it."""
    try:
        sys.stderr.flush()
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (pytest's capsys...)
        yield
        return
    import tempfile

    saved = os.dup(fd)
    sink = tempfile.TemporaryFile()
    os.dup2(sink.fileno(), fd)
    old = sys.stderr
    sys.stderr = open(saved, "w", closefd=False)  # noqa: SIM115
    try:
        yield
    finally:
        try:
            sys.stderr.flush()
        finally:
            sys.stderr = old
            os.dup2(saved, fd)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            sink.close()
            if text.strip():
                captured.append(text)


def _condensed_warnings(caught, native) -> List[str]:
    """One line per distinct library warning (pydicom UserWarnings, numpy RuntimeWarnings, ITK)."""
    out = []
    for w in caught:
        out.append(f"{w.category.__name__}: {_one_line(w.message)[:300]}")
    for text in native:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        out.append("native library: " + " ".join(lines)[:300])
    return list(dict.fromkeys(out))


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    native: list = []
    with _pywarnings.catch_warnings(record=True) as caught:
        _pywarnings.simplefilter("always")
        try:
            with _native_stderr(native):
                rc = int(args.func(args) or 0)
        except DicomAIError as e:
            if debug:
                traceback.print_exc()
            print(f"dicomai {args.command}: error: {_one_line(e)}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("dicomai: interrupted", file=sys.stderr)
            return 1
        except Exception as e:  # an unexpected failure still gets one line (and no partial output)
            if debug:
                traceback.print_exc()
            print(
                f"dicomai {args.command}: internal error on {_inputs(args)}: {type(e).__name__}: "
                f"{_one_line(e)[:300]} (run again with --debug for the traceback, and please report it)",
                file=sys.stderr,
            )
            return 1
    if not getattr(args, "quiet", False):
        for w in _condensed_warnings(caught, native):
            print(f"dicomai: warning: {w}", file=sys.stderr)
    return rc


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
