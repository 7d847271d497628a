"""Decoding any DICOM Segmentation into :class:`SegmentationContent`.

Handles BINARY, FRACTIONAL and LABELMAP (Label Map Segmentation Storage) objects written by us,
dcmqi, highdicom and others: overlapping segments, 1-bit frames that are not byte aligned,
compressed transfer syntaxes, and SEGs whose source images are absent (then the SEG's own plane
positions define the grid).

Frames are placed by their ImagePositionPatient on the target grid, never by frame order. Without
plane positions (projection images) they are placed through the source instance they derive from.

One reading path, with deliberate fallbacks: pydicom reads the file up to the Per-Frame Functional
Groups Sequence; that sequence's items are walked here as bytes (:func:`_parse_per_frame`, the
three values a frame needs); native Pixel Data stays in the file and frames are read from it on
demand. What the walk does not understand (a malformed or unusual encoding), deflated and big
endian files go to pydicom: the whole file, then the sequence's raw bytes are walked again, and
only when that fails too are pydicom's datasets used. Each fallback logs a debug line on the
``dicomai.seg.decode`` logger saying why (``logging.basicConfig(level=logging.DEBUG)`` shows
them), so that a parser bug shows up as a message, not only as slowness.
"""

from __future__ import annotations

import logging
import os
import struct
from typing import Dict, List, Optional

import numpy as np

from ..coding import code_from_dataset
from ..errors import InputError, MetadataError, UnsupportedObjectError
from ..geometry import Grid
from ..sopclasses import LABEL_MAP_SEGMENTATION_STORAGE
from ..sopclasses import SEG_SOP_CLASSES as _SEG_NAMES
from ..source import SourceSeries
from ._dataset import rgb_from_cielab as _lab_to_rgb  # next to its inverse: one colour module
from .content import SegmentationContent, SegmentInfo

__all__ = [
    "SEG_SOP_CLASSES",
    "LABELMAP_SEG_SOP_CLASS",
    "read_seg",
    "read_seg_header",
    "segments_from_dataset",
]

_log = logging.getLogger(__name__)

LABELMAP_SEG_SOP_CLASS = LABEL_MAP_SEGMENTATION_STORAGE
SEG_SOP_CLASSES = tuple(_SEG_NAMES)

_NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"}
_POS_TOL = 0.01  # fraction of a voxel a frame may sit off the lattice
_MAX_COORD = 1e6  # mm: a position or spacing beyond this is damage, not anatomy
_MAX_EXPANSION = 2000  # decoded bytes per stored byte of compressed pixel data, at most
_MIN_DECODED_LIMIT = 1 << 28  # ... but small files may always decode to 256 MB
_MAX_VOXELS = 1 << 31  # a grid made from the SEG's own positions holds at most this many voxels


def _name(ds, path=None) -> str:
    """How messages name the SEG: its file when known."""
    where = path if path is not None else getattr(ds, "filename", None)
    return repr(str(where)) if where else "the SEG"


def _floats(value, n: int, what: str, where: str, positive: bool = False) -> list:
    """``n`` finite numbers of a DS/FD value, or a MetadataError naming the file and attribute."""
    try:
        values = (
            list(value) if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)) else [value]
        )
        out = [float(v) for v in values]
    except (TypeError, ValueError) as e:
        raise MetadataError(f"{where}: {what} {_show(value)} is not {n} number(s)") from e
    if len(out) != n:
        raise MetadataError(f"{where}: {what} {_show(value)} has {len(out)} value(s), {n} expected")
    if not all(np.isfinite(v) and abs(v) < _MAX_COORD for v in out):
        raise MetadataError(f"{where}: {what} {_show(value)} holds a non-finite or absurd value")
    if positive and min(out) <= 0:
        raise MetadataError(f"{where}: {what} {_show(value)} must be positive")
    return out


def _show(value) -> str:
    text = (
        "\\".join(str(v) for v in value)
        if hasattr(value, "__iter__") and not isinstance(value, str)
        else str(value)
    )
    return repr(text[:60])


def _orientation(value, where: str) -> list:
    iop = _floats(value, 6, "ImageOrientationPatient", where)
    a, b = np.asarray(iop[:3]), np.asarray(iop[3:])
    if not (abs(np.linalg.norm(a) - 1) < 0.01 and abs(np.linalg.norm(b) - 1) < 0.01 and abs(a @ b) < 0.01):
        raise MetadataError(
            f"{where}: ImageOrientationPatient {_show(value)} is not two orthogonal unit vectors"
        )
    return iop


def _int_attr(ds, keyword: str, where: str, lo: int, hi: int, default=None) -> int:
    value = ds.get(keyword)
    if value is None or value == "":
        if default is not None:
            return default
        raise MetadataError(f"{where}: required attribute {keyword} is missing or empty")
    try:
        n = int(value)
    except (TypeError, ValueError) as e:
        raise MetadataError(f"{where}: {keyword} {_show(value)} is not an integer") from e
    if not lo <= n <= hi:
        raise MetadataError(f"{where}: {keyword} {n} is out of range ({lo}..{hi})")
    return n


def check_seg_header(ds, path=None) -> dict:
    """Check what a SEG must declare before anything is allocated; ``{rows, columns, bits,
    frames, type}``. Raises :class:`MetadataError` naming the file and the attribute."""
    where = _name(ds, path)
    for kw in ("SOPInstanceUID", "Rows", "Columns", "BitsAllocated"):
        if kw not in ds:
            raise MetadataError(f"{where}: required attribute {kw} is missing")
    rows = _int_attr(ds, "Rows", where, 1, 65535)
    cols = _int_attr(ds, "Columns", where, 1, 65535)
    bits = _int_attr(ds, "BitsAllocated", where, 0, 64)
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    n_items = len(per_frame) if per_frame is not None else None
    frames = _int_attr(ds, "NumberOfFrames", where, 1, 1 << 31)
    if n_items is not None and n_items != frames:
        raise MetadataError(
            f"{where}: NumberOfFrames is {frames} but Per-Frame Functional Groups describe {n_items} "
            "frame(s): one of them is damaged"
        )
    seg_type = str(ds.get("SegmentationType", "") or "").upper()
    if str(ds.get("SOPClassUID", "")) == LABEL_MAP_SEGMENTATION_STORAGE:
        seg_type = "LABELMAP"
    allowed = {"BINARY": (1,), "FRACTIONAL": (8,), "LABELMAP": (8, 16)}
    if seg_type not in allowed:
        raise MetadataError(
            f"{where}: SegmentationType {seg_type or '(missing)'!r} is not BINARY, FRACTIONAL or LABELMAP"
        )
    if bits not in allowed[seg_type]:
        raise MetadataError(
            f"{where}: SegmentationType {seg_type} needs BitsAllocated "
            f"{' or '.join(str(b) for b in allowed[seg_type])}, the file says {bits}"
        )
    segments = ds.get("SegmentSequence")
    if not segments:
        raise MetadataError(f"{where}: SegmentSequence is missing or empty: the SEG describes no segment")
    seen = set()
    for i, item in enumerate(segments, start=1):
        n = _int_attr(item, "SegmentNumber", f"{where}: SegmentSequence item {i}", 0, 65535)
        if n in seen:
            raise MetadataError(f"{where}: segment number {n} is described twice in SegmentSequence")
        seen.add(n)
        if n == 0 and seg_type != "LABELMAP":
            raise MetadataError(f"{where}: segment number 0 is only allowed in a LABELMAP SEG")
    if seg_type == "FRACTIONAL":
        _int_attr(ds, "MaximumFractionalValue", where, 1, 255)
    return {"rows": rows, "columns": cols, "bits": bits, "frames": frames, "type": seg_type}


def read_seg_header(path):
    """Read a SEG without its pixel data; raise UnsupportedObjectError for other objects."""
    from ..fileio import read_dicom

    ds = read_dicom(path, stop_before_pixels=True, what="SEG")
    _check_sop_class(ds, path)
    return ds


def _check_sop_class(ds, path) -> None:
    sop = str(ds.get("SOPClassUID", ""))
    if sop not in SEG_SOP_CLASSES:
        raise UnsupportedObjectError(
            f"{str(path)!r} is not a DICOM Segmentation (SOP class {sop or 'missing'}, modality "
            f"{ds.get('Modality', '?')}); give a SEG file"
        )


def _first(seq_owner, keyword):
    seq = seq_owner.get(keyword)
    return seq[0] if seq else None


def segments_from_dataset(ds) -> List[SegmentInfo]:
    """SegmentInfo for every item of SegmentSequence (segment 0 included when present)."""
    from ..errors import DicomAIError

    try:
        return _segments_from_dataset(ds)
    except DicomAIError as e:
        if _name(ds) in str(e):
            raise
        raise type(e)(f"{_name(ds)}: {e}") from e


def _segments_from_dataset(ds) -> List[SegmentInfo]:
    out = []
    for item in ds.get("SegmentSequence", []):
        typ_item = _first(item, "SegmentedPropertyTypeCodeSequence")
        region_item = _first(item, "AnatomicRegionSequence")
        algo = _first(item, "SegmentationAlgorithmIdentificationSequence")
        family = None
        name = version = None
        if algo is not None:
            name = str(algo.get("AlgorithmName", "")) or None
            version = str(algo.get("AlgorithmVersion", "")) or None
            family = code_from_dataset(_first(algo, "AlgorithmFamilyCodeSequence"))
        if "SegmentNumber" not in item:
            raise MetadataError(f"{_name(ds)}: a SegmentSequence item has no SegmentNumber")
        try:
            number = int(item.SegmentNumber)
        except (TypeError, ValueError) as e:
            raise MetadataError(
                f"{_name(ds)}: SegmentNumber {_show(item.SegmentNumber)} is not an integer"
            ) from e
        out.append(
            SegmentInfo(
                number=number,
                label=str(item.get("SegmentLabel", "")) or f"Segment {number}",
                category=code_from_dataset(_first(item, "SegmentedPropertyCategoryCodeSequence")),
                type=code_from_dataset(typ_item),
                type_modifiers=[
                    code_from_dataset(m)
                    for m in (
                        typ_item.get("SegmentedPropertyTypeModifierCodeSequence", []) if typ_item else []
                    )
                ]
                + [code_from_dataset(m) for m in item.get("SegmentedPropertyTypeModifierCodeSequence", [])],
                anatomic_region=code_from_dataset(region_item),
                anatomic_region_modifiers=[
                    code_from_dataset(m)
                    for m in (region_item.get("AnatomicRegionModifierSequence", []) if region_item else [])
                ],
                description=str(item.get("SegmentDescription", "")),
                color=_lab_to_rgb(item.get("RecommendedDisplayCIELabValue")),
                algorithm_type=str(item.get("SegmentAlgorithmType", "") or "MANUAL"),
                algorithm_name=name,
                algorithm_version=version,
                algorithm_family=family,
                tracking_id=str(item.get("TrackingID", "")) or None,
                tracking_uid=str(item.get("TrackingUID", "")) or None,
                label_value=number,
            )
        )
    return out


class _FrameInfo:
    __slots__ = ("segment", "position", "source_uid")

    def __init__(self, segment, position, source_uid):
        self.segment = segment
        self.position = position
        self.source_uid = source_uid


# Per-frame functional groups straight from the encoded bytes: pydicom builds a Dataset for every
# item and nested item (about 0.4 ms a frame); with ~2,000 frames that is most of a SEG's decode
# time. Only three values per frame are needed, so the items are walked here and anything
# unexpected sends the caller back to pydicom.
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
_SEGMENT_NUMBER, _POSITION, _SOURCE_UID = 0x0062000B, 0x00200032, 0x00081155
_WANTED_SQ = {0x0062000A, 0x00209113, 0x00089124, 0x00082112}  # where those three live


class _RawFormatError(Exception):
    pass


# what the byte walk raises on an encoding it does not understand: the caller falls back to pydicom
_WALK_ERRORS = (_RawFormatError, struct.error, ValueError)


def _walk(buf: bytes, pos: int, end: int, implicit: bool, found: dict, depth: int, parent: int = 0) -> int:
    """Read elements from ``pos`` until ``end`` (or an item delimiter) of an item of sequence
    ``parent``; collect the wanted values where they belong."""
    from struct import unpack_from

    n = len(buf)
    while pos < end:
        if pos + 8 > n:
            raise _RawFormatError("truncated element")
        group, elem = unpack_from("<HH", buf, pos)
        tag = (group << 16) | elem
        if tag == _ITEM_END:
            return pos + 8
        if implicit:
            (length,) = unpack_from("<L", buf, pos + 4)
            vr = b"SQ" if (length == 0xFFFFFFFF or tag in _WANTED_SQ) else None
            pos += 8
        else:
            vr = buf[pos + 4 : pos + 6]
            if vr in _LONG_VRS:
                (length,) = unpack_from("<L", buf, pos + 8)
                pos += 12
            else:
                (length,) = unpack_from("<H", buf, pos + 6)
                pos += 8
        if vr == b"SQ" or (vr == b"UN" and length == 0xFFFFFFFF):
            if tag in _WANTED_SQ or length == 0xFFFFFFFF:
                pos = _walk_sequence(buf, pos, length, implicit, found, depth + 1, tag)
            else:
                pos += length
            continue
        if length == 0xFFFFFFFF:
            raise _RawFormatError("undefined length outside a sequence")
        value = buf[pos : pos + length]
        if tag == _SEGMENT_NUMBER and parent == 0x0062000A and "segment" not in found:
            found["segment"] = unpack_from("<H", value, 0)[0] if len(value) >= 2 else None
        elif tag == _POSITION and parent == 0x00209113 and "position" not in found:
            text = value.decode("ascii").strip(" \x00")
            found["position"] = [float(v) for v in text.split("\\")] if text else None
        elif tag == _SOURCE_UID and parent == 0x00082112 and "source_uid" not in found:
            found["source_uid"] = value.decode("ascii").strip(" \x00") or None
        pos += length
    return pos


def _walk_sequence(
    buf: bytes, pos: int, length: int, implicit: bool, found: dict, depth: int, tag_of_sequence: int
) -> int:
    from struct import unpack_from

    if depth > 8:
        raise _RawFormatError("sequences nested too deep")
    end = len(buf) if length == 0xFFFFFFFF else pos + length
    while pos < end:
        group, elem, item_length = unpack_from("<HHL", buf, pos)
        tag = (group << 16) | elem
        pos += 8
        if tag == _SEQ_END:
            return pos
        if tag != _ITEM:
            raise _RawFormatError(f"expected an item, found ({group:04X},{elem:04X})")
        if item_length == 0xFFFFFFFF:
            pos = _walk(buf, pos, len(buf), implicit, found, depth, tag_of_sequence)
        else:
            _walk(buf, pos, pos + item_length, implicit, found, depth, tag_of_sequence)
            pos += item_length
    if length == 0xFFFFFFFF:
        raise _RawFormatError("sequence without delimiter")
    return end


def _raw_per_frame(ds) -> Optional[list]:
    """``[{segment, position, source_uid}, ...]`` of every per-frame item, walked from the raw
    bytes pydicom keeps for the sequence (a file pydicom read whole: deflated, or that the first
    walk could not read); None (with a debug line saying why) to use pydicom's datasets."""
    where = getattr(ds, "filename", None) or "the SEG"
    try:
        raw = ds.get_item(0x52009230)
    except KeyError:
        return None
    value = getattr(raw, "value", None)
    if raw is None or not isinstance(value, (bytes, bytearray)):
        if raw is not None:
            _log.debug("%s: per-frame groups already parsed by pydicom: reading its datasets", where)
        return None
    if not raw.is_little_endian:
        _log.debug("%s: big endian: per-frame groups read from pydicom's datasets", where)
        return None
    frames, _, _ = _parse_per_frame(bytes(value), bool(raw.is_implicit_VR), len(value), where)
    return frames


def _segment_ref(item, where: str) -> int:
    if "ReferencedSegmentNumber" not in item:
        raise MetadataError(f"{where}: SegmentIdentificationSequence has no ReferencedSegmentNumber")
    try:
        return int(item.ReferencedSegmentNumber)
    except (TypeError, ValueError) as e:
        raise MetadataError(
            f"{where}: ReferencedSegmentNumber {_show(item.ReferencedSegmentNumber)} is not an integer"
        ) from e


def _frame_infos(
    ds, n_frames: int, labelmap: bool, raw: Optional[list] = None, path=None
) -> List[_FrameInfo]:
    where = _name(ds, path)
    shared = _first(ds, "SharedFunctionalGroupsSequence")
    shared_seg = None
    shared_pos = None
    if shared is not None:
        item = _first(shared, "SegmentIdentificationSequence")
        shared_seg = _segment_ref(item, where) if item is not None else None
        item = _first(shared, "PlanePositionSequence")
        shared_pos = item.get("ImagePositionPatient") if item is not None else None
    if raw is not None:  # None: pydicom's datasets (the caller tried _raw_per_frame first)
        infos = []
        for i in range(n_frames):
            found = raw[i] if i < len(raw) else {}
            seg_no = found.get("segment", shared_seg)
            pos = found.get("position") or shared_pos
            if seg_no is None and not labelmap:
                raise UnsupportedObjectError(
                    f"{where}: frame {i + 1} names no segment (SegmentIdentificationSequence)"
                )
            infos.append(
                _FrameInfo(
                    seg_no,
                    np.asarray(_floats(pos, 3, f"ImagePositionPatient of frame {i + 1}", where))
                    if pos
                    else None,
                    found.get("source_uid"),
                )
            )
        return infos
    per_frame = ds.get("PerFrameFunctionalGroupsSequence", [])
    infos = []
    for i in range(n_frames):
        fg = per_frame[i] if i < len(per_frame) else None
        seg_no = shared_seg
        pos = shared_pos
        src_uid = None
        if fg is not None:
            item = _first(fg, "SegmentIdentificationSequence")
            if item is not None:
                seg_no = _segment_ref(item, f"{where}: frame {i + 1}")
            item = _first(fg, "PlanePositionSequence")
            if item is not None and item.get("ImagePositionPatient"):
                pos = item.ImagePositionPatient
            deriv = _first(fg, "DerivationImageSequence")
            if deriv is not None:
                src = _first(deriv, "SourceImageSequence")
                if src is not None:
                    src_uid = str(src.get("ReferencedSOPInstanceUID", "")) or None
        if seg_no is None and not labelmap:
            raise UnsupportedObjectError(
                f"{where}: frame {i + 1} names no segment (SegmentIdentificationSequence)"
            )
        position = (
            np.asarray(_floats(pos, 3, f"ImagePositionPatient of frame {i + 1}", where)) if pos else None
        )
        infos.append(_FrameInfo(seg_no, position, src_uid))
    return infos


def _plane_geometry(ds, first_pf=None, path=None, warnings: Optional[list] = None):
    """(ImageOrientationPatient, PixelSpacing, SpacingBetweenSlices, SliceThickness) of the SEG."""
    where = _name(ds, path)
    iop = spacing = between = thickness = None
    shared = _first(ds, "SharedFunctionalGroupsSequence")
    if first_pf is None:
        first_pf = _first(ds, "PerFrameFunctionalGroupsSequence")
    for owner in (shared, first_pf):
        if owner is None:
            continue
        item = _first(owner, "PlaneOrientationSequence")
        if item is not None and iop is None and item.get("ImageOrientationPatient"):
            iop = _orientation(item.ImageOrientationPatient, where)
        item = _first(owner, "PixelMeasuresSequence")
        if item is not None:
            if spacing is None and item.get("PixelSpacing"):
                spacing = _floats(item.PixelSpacing, 2, "PixelSpacing", where, positive=True)
            # the slice spacings only help to find the lattice: an unusable value is ignored
            if between is None and "SpacingBetweenSlices" in item:
                between = _optional_positive(
                    item.SpacingBetweenSlices, "SpacingBetweenSlices", where, warnings
                )
            if thickness is None and "SliceThickness" in item:
                thickness = _optional_positive(item.SliceThickness, "SliceThickness", where, warnings)
    return iop, spacing, between, thickness


def _optional_positive(value, what: str, where: str, warnings: Optional[list]) -> Optional[float]:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if np.isfinite(v) and 0 < v < _MAX_COORD:
        return v
    if warnings is not None:
        warnings.append(f"{where}: {what} {_show(value)} is unusable: ignored (slices placed by position)")
    return None


def _grid_from_seg(ds, infos: List[_FrameInfo], warnings: list, first_pf=None) -> Grid:
    """The grid a SEG defines by itself: its plane positions on a regular lattice."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    iop, spacing, between, thickness = _plane_geometry(ds, first_pf, warnings=warnings)
    where = _name(ds)
    if spacing is None:
        warnings.append(f"{where}: PixelSpacing is missing (Pixel Measures Sequence): 1 mm assumed")
    spacing = spacing or [1.0, 1.0]
    positions = [f.position for f in infos if f.position is not None]
    if iop is None or not positions:
        warnings.append("the SEG has no plane geometry and no source was given: frames are stacked in order")
        n = len({f.source_uid for f in infos}) or 1
        return Grid.from_dicom([0, 0, 0], [1, 0, 0, 0, 1, 0], spacing, [0, 0, 1], (n, rows, cols))
    iop_a = np.asarray(iop)
    normal = np.cross(iop_a[:3], iop_a[3:])
    pos = np.unique(np.round(np.asarray(positions), 4), axis=0)
    dist = pos @ normal
    order = np.argsort(dist)
    pos, dist = pos[order], dist[order]
    # merge positions that are the same plane (rounding noise)
    keep = np.concatenate([[True], np.diff(dist) > 1e-3])
    pos, dist = pos[keep], dist[keep]
    if len(pos) == 1:
        step = between or thickness or 1.0
    else:
        gaps = np.diff(dist)
        step = between if between else float(gaps.min())
        ratios = (dist - dist[0]) / step
        if np.max(np.abs(ratios - np.round(ratios))) > 0.05:
            if between:
                # SpacingBetweenSlices disagrees with the positions; trust the positions
                step = float(gaps.min())
                ratios = (dist - dist[0]) / step
            if np.max(np.abs(ratios - np.round(ratios))) > 0.05:
                raise UnsupportedObjectError(
                    f"{where}: the SEG frames do not lie on a regular slice lattice; give the source series "
                    "(--source) to place them"
                )
    n = int(round((dist[-1] - dist[0]) / step)) + 1 if len(pos) > 1 else 1
    if n > 4 * len(pos) + 1000 or n * rows * cols > _MAX_VOXELS:
        raise MetadataError(
            f"{where}: the frames' {len(pos)} plane position(s) span {n} slices of {step:g} mm: a position "
            "is probably damaged; give the source series (--source) to place the frames"
        )
    return Grid.from_dicom(pos[0], iop, spacing, normal * step, (n, rows, cols))


class _FrameReader:
    """Frames of the SEG as 2D arrays (uint8 0/1 for BINARY, uint8 FRACTIONAL, uint8/16 LABELMAP).

    Native pixel data is read in place; encapsulated frames are decoded once, in file order,
    by pydicom's decoders (1-bit frames kept bit-packed until used).
    """

    def __init__(self, ds, path, warnings: Optional[list] = None, pixels=None):
        self.ds = ds
        self.warnings = warnings if warnings is not None else []
        self.rows, self.cols = int(ds.Rows), int(ds.Columns)
        self.n = int(ds.get("NumberOfFrames", 1) or 1)
        self.bits = int(ds.BitsAllocated)
        ts = (
            str(ds.file_meta.TransferSyntaxUID)
            if "TransferSyntaxUID" in ds.get("file_meta", {})
            else "1.2.840.10008.1.2.1"
        )
        self.ts = ts
        self.native = ts in _NATIVE
        self.path = path
        self._packed = None  # decoded 1-bit frames, packed
        if self.bits not in (1, 8, 16):
            raise UnsupportedObjectError(f"{str(path)!r}: BitsAllocated {self.bits} is not supported")
        if self.native:
            # native: a uint8 array, or the Pixel Data left in the file (sliced the same way)
            self.buffer = pixels if pixels is not None else np.frombuffer(ds.PixelData, dtype=np.uint8)
            frame_bits = self.rows * self.cols * self.bits
            need = (frame_bits * self.n + 7) // 8
            if self.buffer.size < need or self.buffer.size > need + 1 + (need & 1):
                raise UnsupportedObjectError(
                    f"{str(path)!r}: Pixel Data holds {self.buffer.size} bytes, {self.n} frames of "
                    f"{self.rows}x{self.cols} at {self.bits} bit need {need}: NumberOfFrames, Rows, "
                    "Columns or BitsAllocated is wrong"
                )
        else:
            stored = len(ds.PixelData)
            decoded = self.rows * self.cols * max(self.bits, 8) // 8 * self.n
            if decoded > max(_MIN_DECODED_LIMIT, _MAX_EXPANSION * stored):
                raise UnsupportedObjectError(
                    f"{str(path)!r}: {self.n} compressed frame(s) of {self.rows}x{self.cols} would decode "
                    f"to {decoded >> 20} MB from {stored} stored bytes: the declared sizes are damaged"
                )
        # 1-bit frames whose rows start on byte boundaries can be read row range by row range
        self.row_aligned = self.bits == 1 and self.cols % 8 == 0

    # -------------------------------------------------------------------------------- native
    def frame(self, i: int) -> np.ndarray:
        r, c = self.rows, self.cols
        if not self.native:
            if self.bits == 1:
                return np.unpackbits(self._packed_frames()[i], count=r * c, bitorder="little").reshape(r, c)
            raise UnsupportedObjectError(f"{str(self.path)!r}: compressed multi-bit frames are read in order")
        if self.bits == 1:
            npix = r * c
            start = i * npix
            b0, off = divmod(start, 8)
            b1 = (start + npix + 7) // 8
            bits = np.unpackbits(self.buffer[b0:b1], bitorder="little")
            return bits[off : off + npix].reshape(r, c)
        if self.bits == 8:
            return self.buffer[i * r * c : (i + 1) * r * c].reshape(r, c)
        words = self.buffer[i * r * c * 2 : (i + 1) * r * c * 2].view("<u2")
        return words.reshape(r, c)

    def slab(self, i: int):
        """``(first row, rows holding the set pixels)`` of a 1-bit frame, or None when empty."""
        r, c = self.rows, self.cols
        if self.row_aligned:
            width = c // 8
            if self.native:
                start = i * r * width
                packed = self.buffer[start : start + r * width].reshape(r, width)
            else:
                packed = self._packed_frames()[i][: r * width].reshape(r, width)
            rows = np.flatnonzero(packed.any(axis=1))
            if rows.size == 0:
                return None
            r0, r1 = int(rows[0]), int(rows[-1]) + 1
            return r0, np.unpackbits(packed[r0:r1], axis=1, bitorder="little")
        frame = self.frame(i)
        rows = np.flatnonzero(frame.any(axis=1))
        if rows.size == 0:
            return None
        r0, r1 = int(rows[0]), int(rows[-1]) + 1
        return r0, frame[r0:r1]

    # -------------------------------------------------------------------------------- encapsulated
    def _decoder_frames(self):
        import warnings as _w

        from pydicom.pixels import get_decoder

        try:
            decoder = get_decoder(self.ts)
            with _w.catch_warnings(record=True) as caught:
                _w.simplefilter("always")
                for arr, _ in decoder.iter_array(self.ds):
                    yield arr.reshape(self.rows, self.cols)
            for msg in dict.fromkeys(str(c.message) for c in caught):
                self.warnings.append(f"{str(self.path)!r}: pixel data: {' '.join(msg.split())[:200]}")
        except UnsupportedObjectError:
            raise
        except Exception as e:  # decoder plugins raise many kinds of errors
            ts = self.ds.file_meta.get("TransferSyntaxUID", "?")
            raise UnsupportedObjectError(
                f"{str(self.path)!r}: cannot decode pixel data in transfer syntax {ts} ({e}); "
                "install the codecs (pip install 'dicomai[codecs]')"
            ) from e

    def _packed_frames(self) -> list:
        if self._packed is None:
            self._packed = [
                np.packbits(np.asarray(a, dtype=np.uint8).reshape(-1) != 0, bitorder="little")
                for a in self._decoder_frames()
            ]
            if len(self._packed) < self.n:
                raise UnsupportedObjectError(
                    f"{str(self.path)!r}: Pixel Data holds {len(self._packed)} frames, "
                    f"NumberOfFrames is {self.n}"
                )
        return self._packed

    def frames(self):
        """Every frame, in file order."""
        if self.native:
            for i in range(self.n):
                yield self.frame(i)
        elif self.bits == 1:
            for i in range(self.n):
                yield self.frame(i)
        else:
            count = 0
            for arr in self._decoder_frames():
                if count >= self.n:
                    break
                yield arr
                count += 1
            if count < self.n:
                raise UnsupportedObjectError(
                    f"{str(self.path)!r}: Pixel Data holds {count} frames, NumberOfFrames is {self.n}"
                )


class _PixelsInFile:
    """Native Pixel Data left in the file: ``[a:b]`` reads those bytes (a uint8 array).

    Reading frames on demand keeps the file's Pixel Data (the largest part of a BINARY SEG) out of
    memory next to the decoded volume.
    """

    def __init__(self, path, offset: int, length: int):
        self._f = open(os.fspath(path), "rb")
        self.offset = offset
        self.size = max(0, min(length, os.fstat(self._f.fileno()).st_size - offset))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: slice) -> np.ndarray:
        start, stop, _ = key.indices(self.size)
        self._f.seek(self.offset + start)
        return np.frombuffer(self._f.read(max(0, stop - start)), dtype=np.uint8)

    def close(self) -> None:
        self._f.close()


def _read_tail(fp, implicit: bool, native: bool):
    """The elements after the per-frame groups: ``(dataset, Pixel Data left in the file as
    (offset, length), or None when pydicom read it)``."""
    from pydicom.filereader import read_dataset

    head = read_dataset(fp, implicit, True, stop_when=lambda tag, vr, length: tag == 0x7FE00010)
    if not native:
        return _merged(head, read_dataset(fp, implicit, True)), None
    start = fp.tell()
    element = fp.read(12)
    if len(element) < 8 or struct.unpack_from("<HH", element, 0) != (0x7FE0, 0x0010):
        fp.seek(start)
        return _merged(head, read_dataset(fp, implicit, True)), None
    if implicit:
        (length,) = struct.unpack_from("<L", element, 4)
        value_start = start + 8
    else:
        (length,) = struct.unpack_from("<L", element, 8)
        value_start = start + 12
    if length == 0xFFFFFFFF:  # encapsulated after all: pydicom reads it
        fp.seek(start)
        return _merged(head, read_dataset(fp, implicit, True)), None
    fp.seek(value_start + length)
    return _merged(head, read_dataset(fp, implicit, True)), (value_start, length)


def _merged(ds, tail):
    for tag in tail.keys():
        ds[tag] = tail[tag]
    return ds


def _read_seg_file(path):
    """``(dataset, per-frame values or None, first per-frame item or None, native Pixel Data in
    the file as (offset, length) or None)``.

    The file is read by pydicom up to the Per-Frame Functional Groups Sequence; that sequence is
    walked here (:func:`_parse_per_frame`), then pydicom reads what follows except native Pixel
    Data, which stays in the file. Deflated and big endian files, and encodings the walk does
    not understand, are read by pydicom whole (a debug line says why).
    """
    from pydicom.errors import InvalidDicomError
    from pydicom.filebase import DicomBytesIO
    from pydicom.filereader import read_dataset, read_partial

    from ..fileio import _BoundedReader, read_dicom

    def whole(why):
        if why:
            _log.debug("%s: %s: pydicom reads the whole file", path, why)
        return read_dicom(path, what="SEG"), None, None, None

    try:
        with _BoundedReader(str(path)) as fp:
            ds = read_partial(fp, stop_when=lambda tag, vr, length: tag >= 0x52009230)
            ts = str(ds.file_meta.get("TransferSyntaxUID", "")) if "file_meta" in ds.__dict__ else ""
            if ts in ("1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2", ""):
                reason = {"": "no transfer syntax", "1.2.840.10008.1.2.2": "big endian"}.get(ts, "deflated")
                return whole(reason)
            implicit = ts == "1.2.840.10008.1.2"
            native = ts in _NATIVE
            start = fp.tell()
            head = fp.read(12)
            if len(head) < 8:
                return ds, None, None, None
            group, elem = struct.unpack_from("<HH", head, 0)
            if (group << 16 | elem) != 0x52009230:
                fp.seek(start)
                tail, pixels = _read_tail(fp, implicit, native)
                _merged(ds, tail)
                return ds, None, None, pixels
            if implicit:
                (length,) = struct.unpack_from("<L", head, 4)
                value_start = start + 8
            else:
                (length,) = struct.unpack_from("<L", head, 8)
                value_start = start + 12
            fp.seek(value_start)
            if length == 0xFFFFFFFF:
                # undefined length: read up to Pixel Data (or the end), not the pixels
                buf = _read_until_pixel_data(fp)
            else:
                buf = fp.read(length)
            frames, first_item, end = _parse_per_frame(buf, implicit, length, path)
            if frames is None:
                return whole("")  # _parse_per_frame said why
            del buf
            fp.seek(value_start + end)
            tail, pixels = _read_tail(fp, implicit, native)
            _merged(ds, tail)
            if first_item is not None:
                first_item = read_dataset(DicomBytesIO(first_item), implicit, True)
            return ds, frames, first_item, pixels
    except (FileNotFoundError, IsADirectoryError, InvalidDicomError):
        return whole("")  # read_dicom says what is wrong
    except (*_WALK_ERRORS, EOFError, OverflowError) as e:  # damaged or unusual: pydicom decides
        return whole(f"{type(e).__name__}: {e}")


def _read_until_pixel_data(fp) -> bytes:
    """The bytes from here up to the Pixel Data tag (or the end of the file), read in chunks."""
    chunks = []
    marker = b"\xe0\x7f\x10\x00"
    tail = b""
    while True:
        chunk = fp.read(1 << 20)
        if not chunk:
            break
        found = (tail + chunk).find(marker)
        if found >= 0:
            chunks.append(chunk[: max(0, found - len(tail))])
            break
        chunks.append(chunk)
        tail = chunk[-3:]
    return b"".join(chunks)


def _parse_per_frame(buf: bytes, implicit: bool, length: int, where="the SEG") -> tuple:
    """Walk the value of PerFrameFunctionalGroupsSequence: (values per frame, first item bytes,
    end offset of the sequence in ``buf``); (None, None, 0), with a debug line saying why, when it
    cannot be walked."""
    from struct import unpack_from

    def cannot(why) -> tuple:
        _log.debug("%s: per-frame groups not walked as bytes (%s): reading them with pydicom", where, why)
        return None, None, 0

    out = []
    first_item = None
    pos = 0
    end = len(buf) if length == 0xFFFFFFFF else length
    try:
        while pos < end:
            group, elem, item_length = unpack_from("<HHL", buf, pos)
            tag = (group << 16) | elem
            pos += 8
            if tag == _SEQ_END:
                return out, first_item, pos
            if tag != _ITEM:
                return cannot(f"expected an item, found ({group:04X},{elem:04X})")
            found: dict = {}
            item_start = pos
            if item_length == 0xFFFFFFFF:
                pos = _walk(buf, pos, len(buf), implicit, found, 1, 0x52009230)
                body_end = pos - 8
            else:
                _walk(buf, pos, pos + item_length, implicit, found, 1, 0x52009230)
                pos += item_length
                body_end = pos
            if first_item is None:
                first_item = buf[item_start:body_end]
            out.append(found)
    except _WALK_ERRORS as e:
        return cannot(f"{type(e).__name__}: {e}")
    if length == 0xFFFFFFFF:
        return cannot("no sequence delimiter")
    return out, first_item, end


def read_seg(path, source: Optional[SourceSeries] = None) -> SegmentationContent:
    """Decode a SEG file.

    Parameters
    ----------
    path:
        The SEG file.
    source:
        The referenced series. When given, the result lies on its grid; otherwise on a grid made
        from the SEG's own plane positions.

    Raises
    ------
    UnsupportedObjectError
        Not a SEG, or pixel data that cannot be decoded or placed.
    InputError
        The SEG does not belong to ``source`` (other frame of reference, frames outside it).
    """
    from ..fileio import reading

    with reading(path, "SEG"):
        return _read_seg(path, source)


def _read_seg(path, source) -> SegmentationContent:
    ds, raw_frames, first_item, pixels = _read_seg_file(path)
    ds.filename = str(path)
    _check_sop_class(ds, path)
    if "PixelData" not in ds and pixels is None:
        raise UnsupportedObjectError(f"{str(path)!r} has no Pixel Data")
    pixels = _PixelsInFile(path, *pixels) if pixels is not None else None
    try:
        return _decode(path, source, ds, raw_frames, first_item, pixels)
    finally:
        if pixels is not None:
            pixels.close()


def _decode(path, source, ds, raw_frames, first_item, pixels) -> SegmentationContent:
    warnings: list = []
    header = check_seg_header(ds, path)
    seg_type = header["type"]
    n_frames = header["frames"]
    if raw_frames is not None and len(raw_frames) != n_frames:
        raise MetadataError(
            f"{str(path)!r}: NumberOfFrames is {n_frames} but Per-Frame Functional Groups describe "
            f"{len(raw_frames)} frame(s): one of them is damaged"
        )
    all_segments = segments_from_dataset(ds)
    unlabelled = [int(i.SegmentNumber) for i in ds.SegmentSequence if not i.get("SegmentLabel")]
    if unlabelled:
        warnings.append(
            f"{str(path)!r}: segment(s) {unlabelled[:10]} have no SegmentLabel (required): named 'Segment N'"
        )
    reader_kind = "bytes"
    if raw_frames is None:  # pydicom read the whole file: walk what it kept, else its datasets
        raw_frames = _raw_per_frame(ds)
        reader_kind = "bytes after pydicom" if raw_frames is not None else "pydicom"
    infos = _frame_infos(ds, n_frames, seg_type == "LABELMAP", raw_frames, path)
    with_position = sum(f.position is not None for f in infos)
    if 0 < with_position < len(infos):
        missing = [i + 1 for i, f in enumerate(infos) if f.position is None]
        raise MetadataError(
            f"{str(path)!r}: frame(s) {missing[:10]} have no ImagePositionPatient while the others do: "
            "they cannot be placed"
        )
    seg_for = str(ds.get("FrameOfReferenceUID", "")) or None

    if source is not None:
        grid = source.grid
        if seg_for and source.frame_of_reference_uid and seg_for != source.frame_of_reference_uid:
            raise InputError(
                f"{str(path)!r} lies in frame of reference {seg_for} but source "
                f"{source.series_instance_uid} lies in {source.frame_of_reference_uid}: "
                "the source is not the series the SEG was made on"
            )
    else:
        grid = _grid_from_seg(ds, infos, warnings, first_item)

    placements = _placements(ds, infos, grid, source, path, warnings, first_item)
    merged = _warn_stacked(infos, placements, seg_type == "LABELMAP", path, warnings)
    reader = _FrameReader(ds, path, warnings, pixels)
    frames_per_segment: Dict[int, int] = {}
    for f in infos:
        if f.segment is not None:
            frames_per_segment[f.segment] = frames_per_segment.get(f.segment, 0) + 1

    content = SegmentationContent(grid=grid, segments=[], segmentation_type=seg_type)
    if seg_type == "LABELMAP":
        counts = _decode_labelmap(content, all_segments, reader, placements, ds, warnings)
        frames_per_segment = _labelmap_frame_counts(content, counts)
    elif seg_type == "FRACTIONAL":
        _decode_fractional(content, ds, all_segments, infos, reader, placements, warnings)
    else:
        _decode_binary(content, all_segments, infos, reader, placements)

    content.fractional_type = str(ds.get("SegmentationFractionalType", "")) or None
    if seg_type == "FRACTIONAL":
        content.max_fractional_value = int(ds.MaximumFractionalValue)
    content.frames_per_segment = frames_per_segment
    content.sop_instance_uid = str(ds.SOPInstanceUID)
    content.series_instance_uid = str(ds.get("SeriesInstanceUID", "")) or None
    ref = _first(ds, "ReferencedSeriesSequence")
    content.referenced_series_uid = (
        str(ref.SeriesInstanceUID) if ref is not None and "SeriesInstanceUID" in ref else None
    )
    content.referenced_instance_uids = [
        str(i.ReferencedSOPInstanceUID)
        for i in (ref.get("ReferencedInstanceSequence", []) if ref else [])
        if "ReferencedSOPInstanceUID" in i
    ]
    content.frame_of_reference_uid = seg_for
    content.attributes = {
        kw: str(ds.get(kw))
        for kw in (
            "SeriesDescription",
            "SeriesNumber",
            "InstanceNumber",
            "ContentLabel",
            "ContentDescription",
            "ContentCreatorName",
            "ClinicalTrialSeriesID",
            "ClinicalTrialTimePointID",
            "ClinicalTrialCoordinatingCenterName",
            "BodyPartExamined",
            "Manufacturer",
            "ManufacturerModelName",
            "SoftwareVersions",
        )
        if ds.get(kw) not in (None, "")
    }
    if seg_type == "LABELMAP":
        bg_number = labelmap_background_number(ds)
        background = [s for s in all_segments if s.number == bg_number]
        if background:
            content.attributes["BackgroundSegmentLabel"] = background[0].label
    if (
        source is not None
        and content.referenced_series_uid
        and content.referenced_series_uid != source.series_instance_uid
    ):
        warnings.append(
            f"the SEG references series {content.referenced_series_uid} but the source given is "
            f"{source.series_instance_uid} (same frame of reference): placed by position"
        )
    content.warnings = warnings
    content.status = _status(content, source, merged, reader_kind)
    return content


def _status(content, source, merged: List[int], reader_kind: str):
    from .content import SegReadStatus

    missing: List[str] = []
    if source is not None:
        have = set(source.sop_instance_uids)
        missing = [u for u in content.referenced_instance_uids if u not in have]
    return SegReadStatus(
        segments_without_frames=[
            s.number for s in content.segments if not content.frames_per_segment.get(s.number)
        ],
        frames_merged=merged,
        referenced_images_missing=missing,
        per_frame_reader=reader_kind,
    )


def _warn_stacked(infos, placements, labelmap: bool, path, warnings) -> List[int]:
    """A warning when frames of one segment (any frames of a LABELMAP) land on the same place:
    the later ones overwrite or merge with the earlier ones (damaged positions, usually)."""
    seen: Dict[tuple, int] = {}
    stacked: Dict[object, List[int]] = {}
    for i, (f, p) in enumerate(zip(infos, placements)):
        if p is None:
            continue
        key = (None if labelmap else f.segment, p)
        if key in seen:
            stacked.setdefault(key[0], []).append(i + 1)
        else:
            seen[key] = i
    for segment, frames in stacked.items():
        what = "frame(s)" if segment is None else f"frame(s) of segment {segment}"
        warnings.append(
            f"{str(path)!r}: {len(frames)} {what} ({', '.join(map(str, frames[:8]))}"
            f"{', ...' if len(frames) > 8 else ''}) lie where another frame of it already is: merged "
            "into one slice (their positions are probably damaged)"
        )
    return sorted(i for frames in stacked.values() for i in frames)


def _placements(ds, infos, grid: Grid, source, path, warnings, first_pf=None) -> List[Optional[tuple]]:
    """(k, r0, c0) on ``grid`` for every frame, or None for frames that cannot be placed."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    iop, spacing, _, _ = _plane_geometry(ds, first_pf, path)
    if iop is not None and not np.allclose(np.asarray(iop), grid.image_orientation, atol=1e-3):
        raise UnsupportedObjectError(
            f"{str(path)!r}: frame orientation {iop} differs from the grid's "
            f"{[round(v, 4) for v in grid.image_orientation]}; reading it onto this source would "
            "need resampling — read it without --source"
        )
    if spacing is not None and not np.allclose(spacing, grid.pixel_spacing, rtol=1e-3):
        raise UnsupportedObjectError(
            f"{str(path)!r}: pixel spacing {spacing} differs from the source's {grid.pixel_spacing}; "
            "read it without --source"
        )
    index_of = {}
    if source is not None:
        index_of = {uid: i for i, uid in enumerate(source.sop_instance_uids)}
    uid_order = {}
    out: List[Optional[tuple]] = []
    outside = 0
    use_positions = (
        iop is not None
        and all(f.position is not None for f in infos)
        and (source is None or source.has_plane_geometry)
    )
    positions = np.asarray([f.position for f in infos]) if use_positions else None
    if use_positions:
        idx = _position_indices(positions, grid, source)
        rounded = np.round(idx)
        off = np.abs(idx - rounded).max(axis=1)
        for i in range(len(infos)):
            k, r0, c0 = (int(v) for v in rounded[i])
            if (
                off[i] > _POS_TOL
                or not (0 <= k < grid.shape[0])
                or r0 + rows <= 0
                or c0 + cols <= 0
                or r0 >= grid.shape[1]
                or c0 >= grid.shape[2]
            ):
                out.append(None)
                outside += 1
            else:
                out.append((k, r0, c0))
    else:
        for f in infos:
            if f.source_uid in index_of:
                out.append((index_of[f.source_uid], 0, 0))
            elif source is None:
                k = uid_order.setdefault(f.source_uid, len(uid_order))
                out.append((min(k, grid.shape[0] - 1), 0, 0))
            else:
                out.append(None)
                outside += 1
    if outside:
        raise InputError(
            f"{str(path)!r}: {outside} of {len(infos)} frame(s) lie outside the source grid "
            f"({grid.describe()}); the source is not the series the SEG was made on, or is incomplete"
        )
    return out


def _position_indices(positions: np.ndarray, grid: Grid, source) -> np.ndarray:
    """Continuous (k, r, c) of frame positions; k from the source's own slice positions."""
    idx = grid.world_to_index(positions)
    if source is None or source.uniform:
        return idx
    # non-uniform source: match each frame to the slice at the same distance along the normal
    normal = grid.normal
    slice_pos = source.positions
    d_slices = slice_pos @ normal
    d_frames = positions @ normal
    k = np.abs(d_frames[:, None] - d_slices[None, :]).argmin(axis=1)
    gap = np.abs(d_frames - d_slices[k])
    in_plane = positions - slice_pos[k]
    _, rs, cs = grid.spacing
    out = np.empty_like(idx)
    out[:, 0] = np.where(gap < 1e-2, k, k + 0.5)  # 0.5 marks "off every slice"
    out[:, 1] = in_plane @ grid.row_direction / rs
    out[:, 2] = in_plane @ grid.col_direction / cs
    return out


def _paste(target2d: np.ndarray, frame: np.ndarray, r0: int, c0: int):
    """Views of the overlapping parts of ``target2d`` (at r0, c0) and ``frame``."""
    R, C = target2d.shape
    r, c = frame.shape
    tr0, tc0 = max(r0, 0), max(c0, 0)
    tr1, tc1 = min(r0 + r, R), min(c0 + c, C)
    return target2d[tr0:tr1, tc0:tc1], frame[tr0 - r0 : tr1 - r0, tc0 - c0 : tc1 - c0]


def _decode_binary(content, segments, infos, reader, placements) -> None:
    grid = content.grid
    by_segment: Dict[int, list] = {}
    for i, f in enumerate(infos):
        by_segment.setdefault(f.segment, []).append(i)
    described = {s.number for s in segments}
    extra = sorted(n for n in by_segment if n not in described)
    if extra:
        raise UnsupportedObjectError(
            f"{_name(reader.ds)}: frames reference segment number(s) {extra} that SegmentSequence lacks"
        )
    dtype = np.uint8 if len(segments) < 256 else np.uint16
    layers: List[np.ndarray] = []
    next_value: List[int] = []
    kept = []
    for seg in segments:
        masks = []
        for i in by_segment.get(seg.number, []):
            if placements[i] is None:
                continue
            found = reader.slab(i)
            if found is not None:
                k, r0, c0 = placements[i]
                masks.append((k, r0 + found[0], c0, found[1].view(bool)))
        target = None
        for li, layer in enumerate(layers):
            if not any(_collides(layer[k], m, r0, c0) for k, r0, c0, m in masks):
                target = li
                break
        if target is None:
            layers.append(np.zeros(grid.shape, dtype))
            next_value.append(0)
            target = len(layers) - 1
        next_value[target] += 1
        value = next_value[target]
        layer = layers[target]
        for k, r0, c0, m in masks:
            t, f = _paste(layer[k], m, r0, c0)
            np.copyto(t, value, where=f)
        seg.layer, seg.label_value = target, value
        kept.append(seg)
    content.layers = layers or [np.zeros(grid.shape, np.uint8)]
    content.segments = kept


def _collides(layer2d: np.ndarray, mask: np.ndarray, r0: int, c0: int) -> bool:
    t, m = _paste(layer2d, mask, r0, c0)
    return bool(np.any(t[m]))


def labelmap_background_number(ds) -> int:
    """The segment number a LABELMAP SEG uses for background.

    Pixel Padding Value names it (Sup 243); when that value describes no segment, or is absent,
    segment 0 is the background, as highdicom and dcmqi write it ("Background", DCM 125040).
    """
    numbers = {int(item.SegmentNumber) for item in ds.get("SegmentSequence", []) if "SegmentNumber" in item}
    padding = ds.get("PixelPaddingValue")
    if padding is not None and int(padding) in numbers:
        return int(padding)
    return 0


def _decode_labelmap(content, segments, reader, placements, ds, warnings) -> tuple:
    """Stored values are segment numbers; the background segment (:func:`labelmap_background_number`)
    and the Pixel Padding Value become 0, as does any value no segment describes (with a warning)."""
    grid = content.grid
    background = labelmap_background_number(ds)
    padding = ds.get("PixelPaddingValue")
    real = [s for s in segments if s.number != background]
    numbers = [s.number for s in real]
    # a segment numbered 0 (background elsewhere) needs another label value in our layers
    label_of = {n: (n if n != 0 else max(numbers) + 1) for n in numbers}
    top_label = max(label_of.values()) if label_of else 0
    dtype = np.uint8 if top_label < 256 else np.uint16
    identity = background == 0 and padding in (None, 0) and all(n == v for n, v in label_of.items())
    layer = np.zeros(grid.shape, dtype)
    written = np.zeros(grid.shape[0], dtype=bool)
    lut = None
    unknown: set = set()
    for i, frame in enumerate(reader.frames()):
        p = placements[i] if i < len(placements) else None
        if p is None:
            continue
        if not identity:
            if lut is None or lut.size <= int(frame.max()):
                lut = np.zeros(max(int(frame.max()), top_label, background) + 1, dtype)
                known = np.zeros(lut.size, bool)
                for n, v in label_of.items():
                    lut[n] = v
                    known[n] = True
                known[background] = True
                if padding is not None and int(padding) < lut.size and int(padding) not in label_of:
                    lut[int(padding)] = 0
                    known[int(padding)] = True
            if not known[frame].all():
                unknown.update(int(v) for v in np.unique(frame[~known[frame]]))
            frame = lut[frame]
        k, r0, c0 = p
        t, f = _paste(layer[k], frame, r0, c0)
        if not written[k] and t.shape == layer[k].shape:
            t[...] = f
        else:
            np.copyto(t, f, where=f != 0)
        written[k] = True
    values, slice_counts = _slice_counts(layer)
    allowed = set(label_of.values())
    stray = [int(v) for v in values if int(v) not in allowed]
    if unknown:
        warnings.append(
            f"pixel values {sorted(unknown)[:10]} are not described in SegmentSequence (every stored value "
            "should be, PS3.3 C.8.20.2.3): read as background"
        )
    if stray:
        warnings.append(
            f"pixel values {stray[:10]} are not described in SegmentSequence (every stored value should "
            "be, PS3.3 C.8.20.2.3): read as background"
        )
        lut = np.arange(int(values.max()) + 1, dtype=dtype)
        lut[stray] = 0
        layer = lut[layer]
    present = {int(v) for v in values}
    absent = [s for s in real if label_of[s.number] not in present]
    if absent:  # e.g. a renumbered segment: its description no longer matches any stored value
        warnings.append(
            f"segment(s) {[s.number for s in absent][:10]} ({', '.join(repr(s.label) for s in absent[:3])}) "
            "are described in SegmentSequence but no pixel in the frames holds their number: read as empty"
        )
    for s in real:
        s.layer, s.label_value = 0, label_of[s.number]
    content.layers = [layer]
    content.segments = real
    # per-slice counts of the values (stray values, now 0, are no segment's: the counts of the
    # segments' values are unchanged)
    return values, slice_counts


def _slice_counts(layer):
    from .content import slice_label_counts

    return slice_label_counts(layer)


def _labelmap_frame_counts(content, counts=None) -> Dict[int, int]:
    values, counts = counts if counts is not None else _slice_counts(content.layers[0])
    slices = dict(zip(values.tolist(), (counts > 0).sum(axis=0).tolist()))
    return {s.number: int(slices.get(s.label_value, 0)) for s in content.segments}


def _decode_fractional(content, ds, segments, infos, reader, placements, warnings) -> None:
    grid = content.grid
    maxv = float(ds.MaximumFractionalValue)
    described = {s.number for s in segments}
    extra = sorted({f.segment for f in infos if f.segment not in described}, key=str)
    if extra:
        raise UnsupportedObjectError(
            f"{_name(ds)}: frames reference segment number(s) {extra} that SegmentSequence lacks"
        )
    fractions: Dict[int, np.ndarray] = {}
    above = 0
    for i, frame in enumerate(reader.frames()):
        p = placements[i] if i < len(placements) else None
        if p is None:
            continue
        f = infos[i]
        k, r0, c0 = p
        arr = fractions.get(f.segment)
        if arr is None:
            arr = fractions[f.segment] = np.zeros(grid.shape, np.float32)
        t, fr = _paste(arr[k], frame, r0, c0)
        above += int(np.count_nonzero(fr > maxv))
        t[...] = np.minimum(fr.astype(np.float32) / maxv, 1.0)
    if above:
        warnings.append(
            f"{_name(ds)}: {above} pixel(s) exceed MaximumFractionalValue {int(maxv)}: read as 1.0"
        )
    for s in segments:
        fractions.setdefault(s.number, np.zeros(grid.shape, np.float32))
    content.fractions = fractions
    content.segments = list(segments)
    # a thresholded (>= 0.5) labelmap view for consumers that need one
    from .content import pack_masks_into_layers

    layers, where = pack_masks_into_layers([fractions[s.number] >= 0.5 for s in segments], grid.shape)
    for s, (li, v) in zip(segments, where):
        s.layer, s.label_value = li, v
    content.layers = layers
