"""STOW-RS in batches, with bounded retries, then verification of every instance on the server.

A server can answer 200 and store nothing (dicomweb-client's issue #42 with chunked STOW to
Orthanc): an instance counts as stored only when the server lists it afterwards (QIDO-RS at
instance level, per series). Nothing that was not verified is reported as stored.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from ..errors import InputError
from .client import Connection, DicomWebError, describe_failure

__all__ = ["Instance", "SendOptions", "SendReport", "format_send_report", "read_instances", "send_files"]

#: HTTP statuses worth another try (with back-off): the server is busy or failed for a moment
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)


@dataclass
class Instance:
    """One file to send, as named by its header."""

    path: Path
    study: str
    series: str
    sop: str
    sop_class: str
    modality: str
    series_description: str
    size: int


@dataclass
class SendReport:
    """What happened to every instance: verified on the server, failed (with why), or unknown."""

    url: str
    instances: List[Instance]
    verified: set = field(default_factory=set)
    failed: Dict[str, str] = field(default_factory=dict)  # SOPInstanceUID -> reason
    acknowledged: set = field(default_factory=set)  # the server said "stored" (not yet verified)
    already_there: set = field(default_factory=set)  # found on the server before sending: not sent
    error: Optional[str] = None  # the error that stopped the run, if any
    verify_error: Optional[str] = None  # why verification could not be done, if it could not

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed and len(self.verified) == len(self.instances)

    def series(self) -> OrderedDict[str, List[Instance]]:
        out: OrderedDict = OrderedDict()
        for inst in self.instances:
            out.setdefault(inst.series, []).append(inst)
        return out

    def to_dict(self) -> dict:
        return {
            "url": self.url,
            "ok": self.ok,
            "error": self.error,
            "already_there": sorted(self.already_there),
            "series": [
                {
                    "study_instance_uid": items[0].study,
                    "series_instance_uid": uid,
                    "modality": items[0].modality,
                    "series_description": items[0].series_description,
                    "instances": len(items),
                    "verified": sorted(i.sop for i in items if i.sop in self.verified),
                    "failed": {i.sop: self.failed[i.sop] for i in items if i.sop in self.failed},
                }
                for uid, items in self.series().items()
            ],
        }


def read_instances(paths: Sequence) -> List[Instance]:
    """Headers of the DICOM files among ``paths`` (files or folders, searched recursively)."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    files: List[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{str(p)!r} does not exist")
    instances = []
    for f in files:
        try:
            ds = pydicom.dcmread(str(f), stop_before_pixels=True)
        except (InvalidDicomError, OSError, EOFError):
            if len(files) == 1 or Path(f) in [Path(p) for p in paths]:
                raise InputError(f"{str(f)!r} is not a DICOM file") from None
            continue  # other files in a folder (README, .json) are not DICOM: skip them
        missing = [
            k
            for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID")
            if k not in ds
        ]
        if missing:
            raise InputError(f"{str(f)!r} lacks {', '.join(missing)}: not a storable DICOM instance")
        instances.append(
            Instance(
                path=f,
                study=str(ds.StudyInstanceUID),
                series=str(ds.SeriesInstanceUID),
                sop=str(ds.SOPInstanceUID),
                sop_class=str(ds.SOPClassUID),
                modality=str(ds.get("Modality", "")),
                series_description=str(ds.get("SeriesDescription", "")),
                size=f.stat().st_size,
            )
        )
    if not instances:
        raise InputError(f"no DICOM files in {', '.join(map(str, paths))}")
    seen: Dict[str, Path] = {}
    for inst in instances:
        if inst.sop in seen:
            raise InputError(f"{inst.path} and {seen[inst.sop]} have the same SOPInstanceUID {inst.sop}")
        seen[inst.sop] = inst.path
    return instances


def _batches(instances: List[Instance], batch_size: int, batch_bytes: int):
    batch: List[Instance] = []
    size = 0
    for inst in instances:
        if batch and (len(batch) >= batch_size or size + inst.size > batch_bytes):
            yield batch
            batch, size = [], 0
        batch.append(inst)
        size += inst.size
    if batch:
        yield batch


def _retriable(exc: BaseException) -> bool:
    import requests

    if isinstance(exc, requests.exceptions.HTTPError):
        return exc.response is not None and exc.response.status_code in RETRY_STATUSES
    return isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout))


def _failed_items(response_dataset) -> Dict[str, str]:
    out = {}
    for item in response_dataset.get("FailedSOPSequence", []) or []:
        uid = str(item.get("ReferencedSOPInstanceUID", ""))
        reason = item.get("FailureReason")
        out[uid] = (
            f"rejected by the server (failure reason 0x{int(reason):04X})"
            if reason is not None
            else "rejected by the server"
        )
    return out


def _response_dataset(response):
    """The STOW response body (a 409/4xx may carry a FailedSOPSequence), or None."""
    import pydicom

    try:
        if "json" in response.headers.get("Content-Type", ""):
            return pydicom.Dataset.from_json(response.json())
    except Exception:
        return None
    return None


def _store_batch(conn: Connection, batch: List[Instance], retries: int, backoff: float) -> Dict[str, str]:
    """Send one batch; return the instances the server said it rejected (uid -> reason)."""
    import pydicom
    import requests

    datasets = [pydicom.dcmread(str(i.path)) for i in batch]
    attempt = 0
    while True:
        try:
            result = conn.client.store_instances(datasets)
            break
        except requests.exceptions.HTTPError as e:
            body = _response_dataset(e.response) if e.response is not None else None
            if body is not None and body.get("FailedSOPSequence"):
                return _failed_items(body)  # the server answered per instance: no retry
            if attempt < retries and _retriable(e):
                attempt += 1
                time.sleep(backoff * 2 ** (attempt - 1))
                continue
            raise DicomWebError(describe_failure(e, conn.url, "storing")) from None
        except Exception as e:
            if attempt < retries and _retriable(e):
                attempt += 1
                time.sleep(backoff * 2 ** (attempt - 1))
                continue
            raise DicomWebError(describe_failure(e, conn.url, "storing")) from None
    return _failed_items(result)


def verify_instances(conn: Connection, instances: List[Instance]) -> set:
    """SOPInstanceUIDs among ``instances`` that the server lists (QIDO-RS, one query per series)."""
    found = set()
    by_series: Dict[tuple, List[Instance]] = {}
    for inst in instances:
        by_series.setdefault((inst.study, inst.series), []).append(inst)
    for (study, series), items in by_series.items():
        answer = conn.search(
            "verifying",
            "search_for_instances",
            study_instance_uid=study,
            series_instance_uid=series,
            fields=["SOPInstanceUID", "SOPClassUID"],
        )
        listed = {}
        for item in answer or []:
            uid = (item.get("00080018") or {}).get("Value", [None])[0]
            cls = (item.get("00080016") or {}).get("Value", [None])[0]
            if uid:
                listed[uid] = cls
        for inst in items:
            if inst.sop in listed and listed[inst.sop] in (None, inst.sop_class):
                found.add(inst.sop)
    return found


@dataclass
class SendOptions:
    """How :func:`send_files` stores: ``batch_size`` instances per STOW-RS request (at least 1),
    ``retries`` further tries of a failed batch with a back-off of ``backoff`` s (doubling), and
    with ``missing_only`` only the instances the server lacks."""

    batch_size: int = 50
    retries: int = 3
    backoff: float = 1.0
    missing_only: bool = False

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise InputError(f"--batch-size {self.batch_size}: give at least 1")


def send_files(
    conn: Connection,
    paths: Sequence,
    options: Optional[SendOptions] = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> SendReport:
    """Store the DICOM files at ``paths`` with STOW-RS and verify each one on the server.

    Batches hold at most ``batch_size`` instances and about 100 MB. A batch that fails with a
    connection error, a timeout or HTTP 408/429/5xx is sent again up to ``retries`` times
    (back-off ``backoff`` s, doubling). Errors do not escape: they end the run and are recorded
    in the report, which then lists what the server verified until then. With ``missing_only``
    the server is asked first and only the instances it lacks are sent (a resumed run).
    """
    options = options if options is not None else SendOptions()
    batch_size, retries, backoff = options.batch_size, options.retries, options.backoff
    missing_only = options.missing_only
    instances = read_instances(paths)
    report = SendReport(conn.url, instances)
    to_send = instances
    if missing_only:
        try:
            report.already_there = verify_instances(conn, instances)
        except DicomWebError:
            report.already_there = set()  # cannot tell: send everything
        to_send = [i for i in instances if i.sop not in report.already_there]
    done = 0
    try:
        for batch in _batches(to_send, batch_size, 100 * 2**20):
            rejected = _store_batch(conn, batch, retries, backoff)
            report.failed.update({k: v for k, v in rejected.items() if k in {i.sop for i in batch}})
            report.acknowledged.update(i.sop for i in batch if i.sop not in rejected)
            done += len(batch)
            if progress is not None:
                progress(done, len(to_send))
    except DicomWebError as e:
        report.error = str(e)
    try:
        report.verified = verify_instances(conn, instances)
    except DicomWebError as e:
        report.error = report.error or str(e)
        report.verified = set()
        report.verify_error = str(e)
    for inst in instances:
        if inst.sop in report.verified or inst.sop in report.failed:
            continue
        if inst.sop in report.acknowledged:
            if report.verify_error:
                report.failed[inst.sop] = (
                    "acknowledged by the server but not verified (the server stopped answering)"
                )
            else:
                report.failed[inst.sop] = "the server answered 'stored' but does not have it"
        elif report.error:
            report.failed[inst.sop] = "not sent (the run stopped)"
        else:
            report.failed[inst.sop] = "not found on the server after sending"
    for uid in report.verified:
        report.failed.pop(uid, None)  # a rejected duplicate that the server already holds is stored
    return report


def format_send_report(report: SendReport) -> str:
    """Per series: how many instances the server verified, then each failed instance and why."""
    lines = []
    for uid, items in report.series().items():
        ok = sum(1 for i in items if i.sop in report.verified)
        desc = f" {items[0].series_description!r}" if items[0].series_description else ""
        state = "stored and verified" if ok == len(items) else "NOT all stored"
        lines.append(f"{items[0].modality or '?'} series {uid}{desc}: {ok}/{len(items)} instance(s) {state}")
        for i in items:
            if i.sop in report.failed:
                lines.append(f"  missing {i.sop} ({i.path.name}): {report.failed[i.sop]}")
    total = len(report.instances)
    lines.append(f"{len(report.verified)}/{total} instance(s) verified on {report.url}")
    if report.error:
        lines.append(f"stopped: {report.error}")
    return "\n".join(lines)
