"""Encoding :class:`SegmentationContent` as a DICOM Segmentation (BINARY, LABELMAP, FRACTIONAL).

The SEG references every source instance, copies patient and study from the source series and
starts a new series. Empty frames are left out.

Two engines write the same object: highdicom's ``Segmentation`` constructor (the reference) and
:mod:`dicomai.seg.fast`, which builds the per-frame functional groups and pixel data directly and
is used whenever it covers the input (``engine="auto"``). ``Testing/core/test_fast_path.py`` proves
their outputs equivalent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from ..destinations import as_destination
from ..equipment import MODEL_NAME, software_versions
from ..errors import GeometryMismatchError, InputError
from ..source import SourceSeries
from .content import SegmentationContent, SegmentInfo, layers_overlap
from .enum import Compression, SegmentationType
from .options import ENGINES, MANUFACTURER, SegOptions, choose_segmentation_type

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_COMPRESSION",
    "ENGINES",
    "MANUFACTURER",
    "MODEL_NAME",
    "SEG_TYPES",
    "SegWriteResult",
    "layers_overlap",
    "segment_description",
    "transfer_syntax_for",
    "write_seg",
]

SEG_TYPES = tuple(t.value for t in SegmentationType if t is not SegmentationType.AUTO)

#: Compression name -> transfer syntax UID (:class:`~dicomai.seg.enum.Compression`).
COMPRESSIONS = {c.value: c.transfer_syntax_uid for c in Compression}

#: Which compressions each type accepts (BINARY frames are 1 bit: only JPEG 2000 codes them).
ALLOWED_COMPRESSIONS = {
    "BINARY": ("none", "deflate", "jpeg2000"),
    "LABELMAP": ("none", "deflate", "rle", "jpeg-ls", "jpeg2000"),
    "FRACTIONAL": ("none", "deflate", "rle", "jpeg-ls", "jpeg2000"),
}

#: Defaults, chosen from measurements (docs/seg-types.md): uncompressed BINARY is what every reader
#: reads; RLE LABELMAP is ~250x smaller than native, read by dcmqi (so Slicer core), dcmjs/OHIF,
#: highdicom and DCMTK, and costs ~0.1 ms a frame with our encoder. JPEG-LS and JPEG 2000 are
#: smaller still but dcmqi (DCMTK dcmseg) refuses them.
DEFAULT_COMPRESSION = {"BINARY": "none", "LABELMAP": "rle", "FRACTIONAL": "none"}

_CS_BAD = re.compile(r"[^A-Z0-9 _]")
_HIGHDICOM_SYNTAXES = {
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.5",
}
_DEFLATED = Compression.DEFLATE.transfer_syntax_uid


@dataclass
class SegWriteResult:
    """What :func:`write_seg` wrote."""

    path: Path
    segmentation_type: str
    number_of_frames: int
    segments: list
    sop_instance_uid: str
    series_instance_uid: str
    warnings: list = field(default_factory=list)
    transfer_syntax_uid: str = COMPRESSIONS["none"]
    engine: str = "highdicom"


def _content_label(text: str) -> str:
    """A valid CS value (upper case, letters/digits/space/underscore, 16 chars)."""
    label = _CS_BAD.sub("_", (text or "SEGMENTATION").upper()).strip()[:16]
    return label or "SEGMENTATION"


def _algorithm_family(seg: SegmentInfo):
    from pydicom.sr.codedict import codes

    return seg.algorithm_family if seg.algorithm_family is not None else codes.DCM.ArtificialIntelligence


def segment_description(seg: SegmentInfo, number: int):
    """highdicom SegmentDescription for one segment (numbered ``number`` in the file).

    The item is built once, by :func:`dicomai.seg._dataset.segment_description` (what the fast
    writer writes; ``test_fast_path.py`` proves it equal to highdicom's constructor), and handed to
    highdicom as its type.
    """
    import highdicom as hd

    from ._dataset import segment_description as segment_item

    return hd.seg.SegmentDescription.from_dataset(segment_item(seg, number), copy=False)


def _check_grid(content: SegmentationContent, source: SourceSeries) -> None:
    diffs = content.grid.differences(source.grid)
    if diffs:
        from ..geometry import grid_difference

        why = grid_difference(content.grid, source.grid) or "same voxels in another axis order"
        raise GeometryMismatchError(
            f"the segmentation grid differs from the source series in {', '.join(diffs)} ({why}):\n"
            f"  segmentation: {content.grid.describe()}\n"
            f"  source:       {source.grid.describe()}\n"
            "resample the segmentation onto the source grid first (nearest neighbour; for another "
            "axis order, SegmentationContent.move_to_grid); it is never resampled silently"
        )


def transfer_syntax_for(segmentation_type: str, compression: Optional[str] = None) -> str:
    """The transfer syntax UID for a compression name (``None``: the type's default).

    Raises
    ------
    InputError
        Unknown compression, or one the type cannot use (BINARY with RLE or JPEG-LS).
    """
    seg_type = str(segmentation_type).upper()
    name = (compression or DEFAULT_COMPRESSION.get(seg_type, "none")).lower()
    if name not in COMPRESSIONS:
        raise InputError(f"compression {compression!r} is not one of {', '.join(COMPRESSIONS)}")
    allowed = ALLOWED_COMPRESSIONS.get(seg_type, ("none",))
    if name not in allowed:
        raise InputError(
            f"{seg_type} SEG cannot use {name} compression (1-bit frames); use one of {', '.join(allowed)}"
        )
    return COMPRESSIONS[name]


@dataclass
class _Prepared:
    """Segments with voxels and what both engines need about them."""

    kept: List[SegmentInfo]
    where: List[tuple] = field(default_factory=list)  # (layer, label value) per kept segment
    layers: List[np.ndarray] = field(default_factory=list)
    fractions: List[np.ndarray] = field(default_factory=list)
    overlap: str = "NO"
    presence: dict = field(default_factory=dict)  # layer -> content.slice_label_counts(layer)


def _prepare(content: SegmentationContent, segments: list, seg_type: str, max_fractional_value: int):
    if seg_type == "FRACTIONAL" and content.fractions:
        kept = [s for s in segments if s.number in content.fractions and np.any(content.fractions[s.number])]
        arrays = [content.fractions[s.number] for s in kept]
        return _Prepared(kept=kept, fractions=arrays, overlap="UNDEFINED" if len(kept) > 1 else "NO")
    from .content import slice_label_counts

    # voxel counts per segment from per-slice histograms (a whole-volume bincount is 10x slower)
    counts: Dict[int, int] = {}
    presence = {}
    for li, layer in enumerate(content.layers):
        mine = [s for s in segments if s.layer == li]
        if not mine:
            continue
        values, per_slice = presence[li] = slice_label_counts(layer)
        totals = dict(zip(values.tolist(), per_slice.sum(axis=0).tolist()))
        for s in mine:
            counts[s.number] = int(totals.get(s.label_value, 0))
    kept = [s for s in segments if counts.get(s.number, 0) > 0]
    prepared = _Prepared(kept=kept, layers=list(content.layers), presence=presence)
    prepared.where = [(s.layer, s.label_value) for s in kept]
    used = sorted({s.layer for s in kept})
    if len(used) > 1:
        overlapping = layers_overlap(content, kept)
        prepared.overlap = "YES" if overlapping else "NO"
        if seg_type == "LABELMAP":
            if overlapping:
                raise InputError(
                    f"segments overlap ({len(used)} layers share voxels): a LABELMAP SEG gives each "
                    "voxel one segment; write BINARY (or --type auto) instead"
                )
            prepared.layers, prepared.where = _merge_layers(content, kept)
            prepared.presence = {}
    if seg_type == "FRACTIONAL":
        # binary content written as FRACTIONAL: 0 or the maximum value
        prepared.fractions = [
            (content.layers[li] == v).astype(np.uint8) * np.uint8(max_fractional_value)
            for li, v in prepared.where
        ]
        prepared.overlap = "UNDEFINED" if len(kept) > 1 else "NO"
    return prepared


def _merge_layers(content: SegmentationContent, kept: list) -> tuple:
    """One layer holding disjoint segments that live in several layers (values 1..N)."""
    dtype = np.uint8 if len(kept) < 256 else np.uint16
    merged = np.zeros(content.grid.shape, dtype=dtype)
    for i, s in enumerate(kept, start=1):
        merged[content.layers[s.layer] == s.label_value] = i
    return [merged], [(0, i) for i in range(1, len(kept) + 1)]


def write_seg(
    content: SegmentationContent,
    source: SourceSeries,
    output,
    options: Optional[SegOptions] = None,
    *,
    progress: Optional[Callable[[float, str], None]] = None,
) -> SegWriteResult:
    """Write a DICOM SEG for ``content`` on the grid of ``source``.

    Parameters
    ----------
    content:
        Segments and voxels; its grid must equal the source grid.
    source:
        The series the segmentation was made on (headers suffice).
    output:
        A destination (:class:`~dicomai.destinations.FolderDestination`: the file is named
        ``<SOPInstanceUID>.dcm``; :class:`~dicomai.destinations.FileDestination`) or the path of
        the file. Written under a temporary name and renamed when complete.
    options:
        :class:`~dicomai.seg.options.SegOptions` (type, compression, algorithm, series...);
        default ``SegOptions()``: BINARY, uncompressed. With ``segmentation_type="auto"`` the type
        is chosen from the content (:func:`~dicomai.seg.options.choose_segmentation_type`).
    progress:
        Optional ``callback(fraction, message)``.

    Raises
    ------
    GeometryMismatchError
        The content grid is not the source grid.
    InputError
        No segment has any voxel; overlapping segments asked to be written as LABELMAP; a
        compression the type cannot use.
    OutputExistsError
        The output file exists and the destination does not overwrite.
    """
    from pydicom.uid import generate_uid

    options = options if options is not None else SegOptions()
    destination = as_destination(output)
    destination.check()
    seg_type = choose_segmentation_type(options.segmentation_type, content).value
    engine = options.engine
    fractional_type = options.fractional_type.value
    max_fractional_value = options.max_fractional_value
    if options.transfer_syntax_uid:
        ts = str(options.transfer_syntax_uid)
        names = {v: k for k, v in COMPRESSIONS.items()}
        if ts in names:
            transfer_syntax_for(seg_type, names[ts])  # checks the type can use it
    else:
        ts = transfer_syntax_for(seg_type, options.compression.value if options.compression else None)
    _check_grid(content, source)
    warnings = list(content.warnings) + list(source.warnings)
    report = progress or (lambda fraction, message: None)

    segments = [s for s in content.segments if s.number != 0 or seg_type != "LABELMAP"]
    if not segments:
        raise InputError("the segmentation has no segments: nothing to write")
    if options.algorithm_type is not None:
        for s in segments:
            s.algorithm_type = options.algorithm_type.value
    for s in segments:
        if s.algorithm_type == "MANUAL":
            continue
        # an algorithm named by the caller overrides what the metadata says
        s.algorithm_name = options.algorithm_name or s.algorithm_name
        s.algorithm_version = options.algorithm_version or s.algorithm_version
    unnamed = [s.label for s in segments if s.algorithm_type != "MANUAL" and not s.algorithm_name]
    if unnamed:
        warnings.append(
            f"{len(unnamed)} automatic segment(s) have no algorithm name: 'unknown' written; "
            "pass --algorithm-name/--algorithm-version to identify the model"
        )

    report(0.05, "preparing pixel data")
    prepared = _prepare(content, segments, seg_type, int(max_fractional_value))
    kept = prepared.kept
    if not kept:
        raise InputError("every segment is empty (no voxel set): nothing to write")
    dropped = [s for s in segments if s not in kept]
    if dropped:
        names = ", ".join(repr(s.label) for s in dropped[:10])
        raise InputError(
            f"{len(dropped)} segment(s) have no voxels ({names}); remove them or check the labelmap"
        )
    if seg_type == "LABELMAP" and len(kept) > 65535:
        raise InputError(f"{len(kept)} segments: a LABELMAP SEG holds at most 65535 (16-bit frames)")
    from .fast import unsupported_reason

    reason = unsupported_reason(source, seg_type, ts) if engine != "highdicom" else "highdicom asked for"
    if reason is None:
        # the same items built with pydicom alone: the fast path never imports highdicom
        from ._dataset import segment_description as segment_item

        descriptions = [segment_item(s, i) for i, s in enumerate(kept, start=1)]
    else:
        descriptions = [segment_description(s, i) for i, s in enumerate(kept, start=1)]
    from .labelvalues import set_label_value

    for item, s in zip(descriptions, kept):  # the labelmap's value, kept for import (labelvalues.py)
        set_label_value(item, s.label_value if s.label_value is not None else s.number)

    attrs = dict(content.attributes)
    series_description, series_number = options.series_description, options.series_number
    instance_number = options.instance_number
    if series_description is None:
        series_description = attrs.get("SeriesDescription") or _default_description(kept)
    if series_number is None:
        series_number = int(attrs.get("SeriesNumber") or 0) or _default_series_number(source)
    if instance_number is None:
        instance_number = int(attrs.get("InstanceNumber") or 1)
    extra = {"SeriesDescription": str(series_description)[:64]}
    for kw in ("ClinicalTrialSeriesID", "ClinicalTrialTimePointID", "ClinicalTrialCoordinatingCenterName"):
        if attrs.get(kw):
            extra[kw] = str(attrs[kw])
    body_part = attrs.get("BodyPartExamined") or source.first.get("BodyPartExamined")
    if body_part:
        extra["BodyPartExamined"] = str(body_part)
    meta = {
        "sop_instance_uid": generate_uid(),
        "series_instance_uid": generate_uid(),
        "series_number": int(series_number),
        "instance_number": int(instance_number),
        "manufacturer": options.manufacturer,
        "manufacturer_model_name": MODEL_NAME,
        "software_versions": software_versions(),
        "device_serial_number": "0",
        "content_label": _content_label(attrs.get("ContentLabel") or "SEGMENTATION"),
        "content_description": attrs.get("ContentDescription") or None,
        "content_creator_name": attrs.get("ContentCreatorName") or None,
        "segments_overlap": prepared.overlap,
        "extra": extra,
    }

    if engine == "fast" and reason:
        raise InputError(f"the fast SEG writer does not cover this input: {reason}")
    report(0.2, f"encoding {len(kept)} segment(s)")
    (name,) = destination.name_for(f"{meta['sop_instance_uid']}.dcm")
    output = destination.path(name)
    if reason is None:
        from .fast import FastSegInput, write_fast

        inp = FastSegInput(
            seg_type=seg_type,
            descriptions=descriptions,
            layers=prepared.layers,
            where=prepared.where,
            fractions=prepared.fractions,
            fractional_type=fractional_type,
            max_fractional_value=int(max_fractional_value),
            presence=prepared.presence,
            workers=options.workers,
        )
        with destination.writing([name]) as (tmp,):
            _, n_frames = write_fast(inp, source, tmp, meta, ts, progress=report)
            _check_written(tmp, output)
        used_engine = "fast"
    else:
        n_frames = _write_with_highdicom(
            prepared, descriptions, source, (destination, name), seg_type, ts, meta,
            fractional_type, int(max_fractional_value), report,
        )  # fmt: skip
        used_engine = "highdicom"
    report(1.0, "done")
    return SegWriteResult(
        path=output,
        segmentation_type=seg_type,
        number_of_frames=int(n_frames),
        segments=kept,
        sop_instance_uid=meta["sop_instance_uid"],
        series_instance_uid=meta["series_instance_uid"],
        warnings=warnings,
        transfer_syntax_uid=ts,
        engine=used_engine,
    )


def _write_with_highdicom(
    prepared: _Prepared,
    descriptions: list,
    source: SourceSeries,
    target: tuple,
    seg_type: str,
    ts: str,
    meta: dict,
    fractional_type: str,
    max_fractional_value: int,
    report,
) -> int:
    import highdicom as hd
    from pydicom.uid import ExplicitVRLittleEndian

    if ts != _DEFLATED and ts not in _HIGHDICOM_SYNTAXES:
        raise InputError(f"transfer syntax {ts} is not supported for SEG")
    pixel_array = _pixel_array(prepared, seg_type, source.grid.shape, max_fractional_value)
    kwargs = {}
    if seg_type == "FRACTIONAL":
        kwargs.update(fractional_type=fractional_type, max_fractional_value=max_fractional_value)
    seg = hd.seg.Segmentation(
        source_images=source.datasets,
        pixel_array=pixel_array,
        segmentation_type=seg_type,
        segment_descriptions=descriptions,
        series_instance_uid=meta["series_instance_uid"],
        series_number=meta["series_number"],
        sop_instance_uid=meta["sop_instance_uid"],
        instance_number=meta["instance_number"],
        manufacturer=meta["manufacturer"],
        manufacturer_model_name=meta["manufacturer_model_name"],
        software_versions=meta["software_versions"],
        device_serial_number=meta["device_serial_number"],
        content_label=meta["content_label"],
        content_description=meta["content_description"],
        content_creator_name=meta["content_creator_name"],
        transfer_syntax_uid=ExplicitVRLittleEndian if ts == _DEFLATED else ts,
        omit_empty_frames=True,
        **kwargs,
    )
    del pixel_array
    for kw, value in meta["extra"].items():
        setattr(seg, kw, value)
    if seg_type == "LABELMAP":
        # highdicom describes background 0 as segment 0 "Background"; the value is already the
        # Pixel Padding Value, and OHIF lists that item as a segment (and shifts every colour)
        seg.SegmentSequence = [d for d in seg.SegmentSequence if int(d.SegmentNumber) != 0]
    if ts == _DEFLATED:
        seg.file_meta.TransferSyntaxUID = ts
    report(0.8, "writing file")
    destination, name = target
    with destination.writing([name]) as (tmp,):
        seg.save_as(tmp, enforce_file_format=True)
        _check_written(tmp, destination.path(name))
    return int(seg.NumberOfFrames)


def _check_written(tmp, output) -> None:
    """The cheap checks of ``dicomai validate``, before the file gets its name."""
    from ..validate import check_before_writing

    check_before_writing(tmp, output, "SEG")


def _default_description(segments: Sequence[SegmentInfo]) -> str:
    names = {s.algorithm_name for s in segments if s.algorithm_name}
    if len(names) == 1:
        return f"{names.pop()} segmentation"
    return "Segmentation"


def _default_series_number(source: SourceSeries) -> int:
    try:
        return int(source.first.get("SeriesNumber") or 0) + 100
    except (TypeError, ValueError):
        return 100


def _pixel_array(prepared: _Prepared, seg_type: str, shape: tuple, max_fractional_value: int = 255):
    """The array highdicom takes: a labelmap (values 1..N), a 4D stack, or FRACTIONAL floats."""
    n = len(prepared.kept)
    if seg_type == "FRACTIONAL":
        stack = np.zeros((*shape, n), dtype=np.float32)
        for i, arr in enumerate(prepared.fractions):
            if np.issubdtype(arr.dtype, np.floating):
                stack[..., i] = arr
            else:  # integers already on the 0..max scale: highdicom rescales floats, so divide
                stack[..., i] = arr.astype(np.float32) / float(max_fractional_value)
        return stack
    used = sorted({li for li, _ in prepared.where})
    if len(used) == 1:
        layer = prepared.layers[used[0]]
        values = [v for _, v in prepared.where]
        dtype = np.uint8 if n < 256 else np.uint16
        if values == list(range(1, n + 1)) and layer.max() <= n:
            return layer.astype(dtype, copy=False)
        top = max(int(layer.max()), *values)
        lut = np.zeros(top + 1, dtype=dtype)
        for i, v in enumerate(values, start=1):
            lut[v] = i
        return lut[layer]
    stack = np.zeros((*shape, n), dtype=np.uint8)
    for i, (li, v) in enumerate(prepared.where):
        stack[..., i] = prepared.layers[li] == v
    return stack
