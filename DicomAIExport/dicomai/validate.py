"""``dicomai validate``: our own checks of a SEG or SR, plus dciodvfy when it is installed.

Our checks: the attributes the readers need are present and well formed (the same checks the
readers make), frames consistent with the declared sizes (the SEG is decoded), segment and
concept codes well formed, references resolvable in the given referenced files (instances,
frame of reference, frames on the referenced grid), and no reader warning. ``dciodvfy``
(dicom3tools) checks the object against the standard's IOD; it is used when found on ``PATH``
or in the peers cache (``$DICOMAI_PEERS_HOME/venv/bin``, see scripts/install_peers.sh).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

from .errors import DicomAIError
from .sopclasses import SEG_SOP_CLASSES, SR_SOP_CLASSES

logger = logging.getLogger(__name__)

__all__ = ["ValidationResult", "check_before_writing", "check_codes", "find_dciodvfy", "validate"]


@dataclass
class ValidationResult:
    path: str
    kind: str = "?"
    problems: List[str] = field(default_factory=list)  # our checks
    dciodvfy_errors: List[str] = field(default_factory=list)
    dciodvfy: Optional[str] = None  # the executable used, None when not installed
    notes: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.problems or self.dciodvfy_errors)


def _code_problems(item, where: str) -> List[str]:
    value = item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue")
    missing = [
        kw
        for kw, v in (
            ("CodeValue", value),
            ("CodingSchemeDesignator", item.get("CodingSchemeDesignator")),
            ("CodeMeaning", item.get("CodeMeaning")),
        )
        if not v
    ]
    return [f"{where}: code without {', '.join(missing)}"] if missing else []


def check_codes(ds) -> List[str]:
    """Code items of the segment descriptions that lack a value, scheme or meaning."""
    out = []
    for item in ds.get("SegmentSequence", []):
        n = item.get("SegmentNumber", "?")
        for kw in (
            "SegmentedPropertyCategoryCodeSequence",
            "SegmentedPropertyTypeCodeSequence",
            "AnatomicRegionSequence",
        ):
            for code in item.get(kw, []):
                out += _code_problems(code, f"segment {n} {kw}")
        for required in ("SegmentedPropertyCategoryCodeSequence", "SegmentedPropertyTypeCodeSequence"):
            if not item.get(required):
                out.append(f"segment {n}: {required} is missing")
        algo = item.get("SegmentationAlgorithmIdentificationSequence") or []
        for a in algo:
            for code in a.get("AlgorithmFamilyCodeSequence", []):
                out += _code_problems(code, f"segment {n} AlgorithmFamilyCodeSequence")
    return out


def find_dciodvfy() -> Optional[str]:
    home = os.environ.get("DICOMAI_PEERS_HOME") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dicomai-peers"
    )
    cached = Path(home) / "venv" / "bin" / "dciodvfy"
    if cached.is_file() and os.access(cached, os.X_OK):
        return str(cached)
    return shutil.which("dciodvfy")


def _run_dciodvfy(exe: str, path: str, ds) -> List[str]:
    target = path
    tmp = None
    try:
        ts = str(ds.file_meta.get("TransferSyntaxUID", "")) if hasattr(ds, "file_meta") else ""
        if ts == "1.2.840.10008.1.2.1.99":  # dciodvfy cannot read Deflated: an inflated copy
            import pydicom

            full = pydicom.dcmread(path)
            fd, tmp = tempfile.mkstemp(suffix=".dcm")
            os.close(fd)
            full.save_as(tmp, implicit_vr=False, little_endian=True)
            target = tmp
        proc = subprocess.run([exe, "-new", target], capture_output=True, text=True, timeout=600)
        text = proc.stdout + proc.stderr
        return [ln.strip() for ln in text.splitlines() if ln.strip().startswith("Error")]
    finally:
        if tmp:
            os.unlink(tmp)


def validate(path, references: Sequence = (), use_dciodvfy: bool = True) -> ValidationResult:
    """Validate the SEG or SR at ``path`` (see the module docstring). Raises only for files that
    cannot be read as DICOM at all."""
    from .fileio import read_dicom

    res = ValidationResult(str(path))
    ds = read_dicom(path, stop_before_pixels=True)
    sop = str(ds.get("SOPClassUID", ""))
    source = None
    images, segs = [], []
    for r in references:  # referenced SEGs (of an SR) apart from the image series
        r = Path(r)
        if r.is_file():
            try:
                hdr = read_dicom(r, stop_before_pixels=True)
            except DicomAIError as e:
                res.problems.append(f"references: {e}")
                continue
            if str(hdr.get("SOPClassUID", "")) in SEG_SOP_CLASSES:
                segs.append(str(r))
                continue
        images.append(str(r))
    if images:
        from .source import read_source_series

        try:
            source = read_source_series(images, allow_nonuniform=True)
        except DicomAIError as e:
            res.problems.append(f"references: {e}")
    if sop in SEG_SOP_CLASSES:
        res.kind = "SEG"
        _validate_seg(path, ds, source, res)
    elif sop in SR_SOP_CLASSES or str(ds.get("Modality", "")) == "SR":
        res.kind = "SR"
        _validate_sr(path, source, segs, res)
    else:
        res.problems.append(f"SOP class {sop or '(missing)'} is neither a SEG nor an SR: not validated")
    if use_dciodvfy:
        exe = find_dciodvfy()
        res.dciodvfy = exe
        if exe is None:
            res.notes.append("dciodvfy is not installed: only our checks ran (make peers installs it)")
        else:
            res.dciodvfy_errors = _run_dciodvfy(exe, str(path), ds)
    return res


def _validate_seg(path, ds, source, res: ValidationResult) -> None:
    from .seg.decode import check_seg_header, read_seg

    try:
        check_seg_header(ds, path)
    except DicomAIError as e:
        res.problems.append(str(e))
        return
    res.problems += check_codes(ds)
    for which, src in (("own geometry", None), ("references", source)):
        if which == "references" and source is None:
            continue
        try:
            content = read_seg(path, src)
        except DicomAIError as e:
            res.problems.append(f"decoded on its {which}: {e}")
            continue
        res.problems += [f"decoded on its {which}: {w}" for w in content.warnings]
    if source is not None:
        ref_uids = set()
        for item in ds.get("ReferencedSeriesSequence", []):
            for inst in item.get("ReferencedInstanceSequence", []):
                ref_uids.add(str(inst.get("ReferencedSOPInstanceUID", "")))
        have = set(source.sop_instance_uids)
        missing = sorted(ref_uids - have)
        if missing:
            res.problems.append(
                f"{len(missing)} referenced instance(s) are not among the references given "
                f"(first {missing[0]})"
            )


def _validate_sr(path, source, segs, res: ValidationResult) -> None:
    from .sr.decode import read_sr

    try:
        report = read_sr(path, source=source, segs=segs)
    except DicomAIError as e:
        res.problems.append(str(e))
        return
    res.problems += list(report.warnings)
    if not report.groups:
        res.problems.append("the report holds no measurement group")


#: Per-frame Functional Groups Sequence (5200,9230) as it starts in Explicit VR Little Endian.
_PER_FRAME_START = b"\x00\x52\x30\x92SQ\x00\x00"
_INFLATE_CHUNK = 1 << 16
_HEADER_LIMIT = 64 << 20  # a SEG header before its per-frame groups is far smaller


def _deflated_seg_header(path):
    """The header of a Deflated Explicit VR Little Endian SEG up to its per-frame groups, inflated
    chunk by chunk (pydicom inflates the whole file, frames included, before reading a tag), or
    None when the file is not deflated or the boundary is not found: the caller reads it whole."""
    import zlib
    from io import BytesIO

    from pydicom.filereader import _read_file_meta_info as read_file_meta
    from pydicom.filereader import read_dataset, read_preamble
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    with open(str(path), "rb") as fp:
        read_preamble(fp, force=False)
        meta = read_file_meta(fp)
        if str(meta.get("TransferSyntaxUID", "")) != DeflatedExplicitVRLittleEndian:
            return None
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        head = bytearray()
        at = -1
        while at < 0 and len(head) < _HEADER_LIMIT:
            chunk = fp.read(_INFLATE_CHUNK)
            if not chunk:
                break
            start = max(0, len(head) - len(_PER_FRAME_START))
            head += inflater.decompress(chunk)
            at = head.find(_PER_FRAME_START, start)
    if at < 0:
        return None
    try:
        ds = read_dataset(BytesIO(bytes(head[:at])), is_implicit_VR=False, is_little_endian=True)
    except Exception:  # noqa: BLE001 - not parseable up to that point: the whole-file read decides
        logger.debug("deflated SEG header not readable in chunks, reading %s whole", path)
        return None
    ds.file_meta = meta
    return ds


def check_before_writing(tmp, output, kind: str) -> None:
    """The cheap part of :func:`validate` on a file just written under a temporary name, before it
    is renamed to ``output``: a SEG's header up to the per-frame groups (required attributes,
    sizes, types, segment numbers, codes), an SR's content tree (it reads back, codes well
    formed). Raises :class:`MetadataError` naming ``output``; the caller's atomic write then
    leaves nothing behind."""
    from .errors import MetadataError

    problems: List[str] = []
    if kind == "SEG":
        from pydicom.filereader import read_partial

        from .seg.decode import check_seg_header

        ds = _deflated_seg_header(tmp)
        if ds is None:
            with open(str(tmp), "rb") as fp:
                ds = read_partial(fp, stop_when=lambda tag, vr, length: tag >= 0x52009230)
        try:
            check_seg_header(ds, output)
        except DicomAIError as e:
            problems.append(str(e))
        problems += check_codes(ds)
    else:
        import pydicom

        from .sr.decode import _malformed_codes, read_sr_dataset

        ds = pydicom.dcmread(str(tmp))
        read_sr_dataset(ds, name=repr(str(output)))
        bad = _malformed_codes(ds)
        if bad:
            problems.append(f"{bad} coded concept(s) lack a value, scheme or meaning")
    if problems:
        raise MetadataError(
            f"{str(output)!r} would not pass its own checks, so it was not written: {problems[0]}"
        )
