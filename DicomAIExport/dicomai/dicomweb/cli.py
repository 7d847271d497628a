"""``dicomai send``, ``query``, ``retrieve``; ``--send`` and ``--source dicomweb:...`` on every export.

:func:`add_commands` is called by :mod:`dicomai.cli` after the families added their commands:
it adds the three server commands and gives each ``export-*`` command the server options.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Optional, Set, Tuple

__all__ = ["add_commands", "add_server_options", "server_option_names"]


def add_server_options(parser, send: bool = False) -> None:
    """Credential, TLS and batching options shared by every command that talks to a server."""
    g = parser.add_argument_group("DICOMweb server")
    if send:
        g.add_argument(
            "--send",
            metavar="URL",
            help="after writing, store the output on this DICOMweb server (STOW-RS) and verify it there",
        )
    g.add_argument("--user", metavar="NAME", help="user name for HTTP Basic authentication")
    g.add_argument(
        "--password-env",
        metavar="VAR",
        help="name of the environment variable holding the password (never the password itself)",
    )
    g.add_argument(
        "--token-env", metavar="VAR", help="name of the environment variable holding a bearer token"
    )
    g.add_argument("--netrc", metavar="FILE", help="netrc-style file with the server's credentials")
    g.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the server's TLS certificate (warns; tests only)",
    )
    g.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="seconds to wait for each answer (30)"
    )
    g.add_argument("--batch-size", type=int, default=50, metavar="N", help="instances per STOW request (50)")
    g.add_argument("--retries", type=int, default=3, metavar="N", help="retries of a failed batch (3)")


def server_option_names(send: bool = True) -> Tuple[Set[str], Set[str]]:
    """The options :func:`add_server_options` adds: (those taking a value, the flags)."""
    parser = argparse.ArgumentParser(add_help=False)
    add_server_options(parser, send)
    with_value: Set[str] = set()
    flags: Set[str] = set()
    for action in parser._actions:
        (flags if action.nargs == 0 else with_value).update(action.option_strings)
    return with_value, flags


def _credentials(args):
    from .client import Credentials

    return Credentials(
        user=args.user, password_env=args.password_env, token_env=args.token_env, netrc=args.netrc
    )


def _server(args, url: str):
    """The server as a :class:`dicomai.destinations.DicomWebDestination`, connected (what
    connecting warns, e.g. ``--insecure``, printed as one line each)."""
    from ..destinations import DicomWebDestination

    server = DicomWebDestination(
        url, _credentials(args), args.insecure, args.batch_size, args.retries, args.timeout
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        server.connect()
    for w in caught:
        print(f"dicomai: warning: {w.message}", file=sys.stderr)
    return server


def _connect(args, url: str):
    return _server(args, url).connect()


def _progress(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        print(f"\rsent {done}/{total} instance(s)", end="" if done < total else "\n", file=sys.stderr)

    return show


def _send_and_report(args, url: str, paths, export_json: Optional[str] = None) -> int:
    """Send, print the report (text, or JSON: merged as ``"send"`` into an export's own JSON)."""
    from .store import format_send_report

    missing_only = getattr(args, "missing_only", False)
    report = _server(args, url).store(paths, progress=_progress(args.quiet), missing_only=missing_only)
    if export_json is not None:
        try:
            merged = json.loads(export_json)
        except ValueError:
            merged = None
        if isinstance(merged, dict):
            merged["send"] = report.to_dict()
            print(json.dumps(merged, indent=2))
        else:
            print(export_json, end="")
            print(json.dumps(report.to_dict(), indent=2))
    elif args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_send_report(report))
    if not report.ok:
        missing = len(report.instances) - len(report.verified)
        why = report.error or "not on the server after sending"
        print(
            f"dicomai send: error: {missing} of {len(report.instances)} instance(s) not verified "
            f"on {url}: {why}",
            file=sys.stderr,
        )
        return 1
    return 0


# -------------------------------------------------------------------------------- commands
def _cmd_send(args) -> int:
    return _send_and_report(args, args.url, args.paths)


def _cmd_query(args) -> int:
    from .query import format_series_table, query_series

    conn = _connect(args, args.url)
    rows = query_series(
        conn, patient_id=args.patient, study=args.study, series=args.series, modality=args.modality
    )
    print(json.dumps(rows, indent=2) if args.json else format_series_table(rows))
    return 0


def _cmd_retrieve(args) -> int:
    from .retrieve import retrieve_to_folder, retrieve_with_references

    conn = _connect(args, args.url)
    if args.with_references:
        if not args.series:
            from ..errors import InputError

            raise InputError("--with-references needs --series (the SEG, SR or SC series to start from)")
        paths = retrieve_with_references(
            conn, args.study, args.series, Path(args.out), overwrite=args.overwrite
        )
    else:
        from ..destinations import FolderDestination

        destination = FolderDestination(Path(args.out), overwrite=args.overwrite)
        paths = retrieve_to_folder(conn, args.study, destination, series=args.series)
    if args.json:
        print(json.dumps({"written": [str(p) for p in paths]}, indent=2))
    else:
        series = sorted({p.parent for p in paths})
        print(f"wrote {len(paths)} instance(s) of {len(series)} series to {args.out}")
    return 0


# -------------------------------------------------------------------------- export wrapping
def _with_server(func):
    """Run an export command with a ``dicomweb:`` source retrieved into a temporary folder (always
    removed), then send what it wrote when ``--send`` is given."""

    def run(args) -> int:
        from .retrieve import DICOMWEB_PREFIX, parse_dicomweb_source, retrieve_to_folder

        sources = args.source if isinstance(args.source, list) else [args.source]
        temp = None
        try:
            if any(str(s).startswith(DICOMWEB_PREFIX) for s in sources if s):
                if len(sources) != 1:
                    from ..errors import InputError

                    raise InputError("a dicomweb: --source names one series; give it alone")
                url, study, series = parse_dicomweb_source(sources[0])
                temp = Path(tempfile.mkdtemp(prefix="dicomai-source-"))
                retrieve_to_folder(_connect(args, url), study, temp, series=series)
                args.source = [str(temp)] if isinstance(args.source, list) else str(temp)
            sending = bool(getattr(args, "send", None))
            captured = io.StringIO() if sending and args.json else None
            if captured is not None:  # one JSON document: the export's, with the send report in it
                with contextlib.redirect_stdout(captured):
                    status = int(func(args) or 0)
            else:
                status = int(func(args) or 0)
        finally:
            if temp is not None:
                shutil.rmtree(temp, ignore_errors=True)
        if status != 0 or not sending:
            if captured is not None:
                print(captured.getvalue(), end="")
            return status
        destination = getattr(args, "destination", None)  # where the export wrote (built once)
        written = destination.written if destination is not None else None
        if not written:
            from ..errors import DicomAIError

            raise DicomAIError(f"--send: {args.command} did not say what it wrote (please report it)")
        return _send_and_report(
            args, args.send, written, captured.getvalue() if captured is not None else None
        )

    return run


def add_commands(sub, common) -> None:
    s = sub.add_parser(
        "send",
        parents=[common],
        help="store DICOM files on a DICOMweb server (STOW-RS) and verify each one",
        description="Store files (or folders of them) on a DICOMweb server in batches, retrying on "
        "connection errors and HTTP 5xx, then check that the server lists every instance. Exit 0 only "
        "when every instance is verified.",
    )
    s.add_argument("paths", nargs="+", metavar="FILE|DIR")
    s.add_argument(
        "--url", required=True, help="the server's DICOMweb root, e.g. http://localhost:8042/dicom-web"
    )
    add_server_options(s)
    s.add_argument(
        "--missing-only",
        action="store_true",
        help="ask the server first and send only the instances it does not have (resuming)",
    )
    s.set_defaults(func=_cmd_send)

    q = sub.add_parser(
        "query",
        parents=[common],
        help="list the series on a DICOMweb server (QIDO-RS)",
        description="List series (study, series, modality, description, number of instances).",
    )
    q.add_argument("--url", required=True, help="the server's DICOMweb root")
    q.add_argument("--patient", metavar="ID", help="PatientID")
    q.add_argument("--study", metavar="UID", help="StudyInstanceUID")
    q.add_argument("--series", metavar="UID", help="SeriesInstanceUID")
    q.add_argument(
        "--modality", metavar="MOD", type=str.upper, help="SEG, SR, SC (Secondary Capture), CT, MR..."
    )
    add_server_options(q)
    q.set_defaults(func=_cmd_query)

    r = sub.add_parser(
        "retrieve",
        parents=[common],
        help="retrieve a study or series from a DICOMweb server (WADO-RS) as DICOM files",
        description="Write every instance as <SOPInstanceUID>.dcm (one sub-folder per series for a whole "
        "study), atomically.",
    )
    r.add_argument("--url", required=True, help="the server's DICOMweb root")
    r.add_argument("--study", required=True, metavar="UID")
    r.add_argument("--series", metavar="UID")
    r.add_argument("--out", required=True, metavar="DIR")
    r.add_argument(
        "--with-references",
        action="store_true",
        help="also the series the --series object refers to (an SR's SEG, the SEG's CT), one "
        "sub-folder per series",
    )
    r.add_argument("--overwrite", action="store_true", help="replace existing files")
    add_server_options(r)
    r.set_defaults(func=_cmd_retrieve)

    for name, parser in sub.choices.items():
        if name.startswith("export-") and isinstance(parser, argparse.ArgumentParser):
            add_server_options(parser, send=True)
            parser.set_defaults(func=_with_server(parser.get_default("func")))
