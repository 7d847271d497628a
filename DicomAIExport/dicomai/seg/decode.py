"""Decoding any DICOM Segmentation into :class:`SegmentationContent`.

Handles BINARY, FRACTIONAL and LABELMAP (Label Map Segmentation Storage) objects written by us,
dcmqi, highdicom and others: overlapping segments, 1-bit frames that are not byte aligned,
compressed transfer syntaxes, and SEGs whose source images are absent (then the SEG's own plane
positions define the grid).

Frames are placed by their ImagePositionPatient on the target grid, never by frame order. Without
plane positions (projection images) they are placed through the source instance they derive from.
"""

from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

from ..coding import code_from_dataset
from ..errors import InputError, UnsupportedObjectError
from ..geometry import Grid
from ..source import SourceSeries
from .content import SegmentationContent, SegmentInfo

__all__ = [
    "SEG_SOP_CLASSES",
    "LABELMAP_SEG_SOP_CLASS",
    "read_seg",
    "read_seg_header",
    "segments_from_dataset",
]

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
LABELMAP_SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.7"
SEG_SOP_CLASSES = (SEGMENTATION_STORAGE, LABELMAP_SEG_SOP_CLASS)

_NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"}
_POS_TOL = 0.01  # fraction of a voxel a frame may sit off the lattice


def read_seg_header(path):
    """Read a SEG without its pixel data; raise UnsupportedObjectError for other objects."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(str(path), stop_before_pixels=True)
    except (InvalidDicomError, OSError, EOFError) as e:
        raise InputError(f"cannot read {str(path)!r} as DICOM: {e}") from e
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


def _lab_to_rgb(value) -> Optional[tuple]:
    if not value or len(value) != 3:
        return None
    from highdicom.color import CIELabColor

    try:
        return tuple(int(v) for v in CIELabColor.from_dicom_value(tuple(int(v) for v in value)).to_rgb())
    except (ValueError, TypeError):
        return None


def segments_from_dataset(ds) -> List[SegmentInfo]:
    """SegmentInfo for every item of SegmentSequence (segment 0 included when present)."""
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
        number = int(item.SegmentNumber)
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


def _frame_infos(ds, n_frames: int, labelmap: bool) -> List[_FrameInfo]:
    shared = _first(ds, "SharedFunctionalGroupsSequence")
    per_frame = ds.get("PerFrameFunctionalGroupsSequence", [])
    shared_seg = None
    shared_pos = None
    if shared is not None:
        item = _first(shared, "SegmentIdentificationSequence")
        shared_seg = int(item.ReferencedSegmentNumber) if item is not None else None
        item = _first(shared, "PlanePositionSequence")
        shared_pos = item.get("ImagePositionPatient") if item is not None else None
    infos = []
    for i in range(n_frames):
        fg = per_frame[i] if i < len(per_frame) else None
        seg_no = shared_seg
        pos = shared_pos
        src_uid = None
        if fg is not None:
            item = _first(fg, "SegmentIdentificationSequence")
            if item is not None:
                seg_no = int(item.ReferencedSegmentNumber)
            item = _first(fg, "PlanePositionSequence")
            if item is not None and item.get("ImagePositionPatient"):
                pos = item.ImagePositionPatient
            deriv = _first(fg, "DerivationImageSequence")
            if deriv is not None:
                src = _first(deriv, "SourceImageSequence")
                if src is not None:
                    src_uid = str(src.get("ReferencedSOPInstanceUID", "")) or None
        if seg_no is None and not labelmap:
            raise UnsupportedObjectError(f"frame {i + 1} names no segment (SegmentIdentificationSequence)")
        infos.append(_FrameInfo(seg_no, np.asarray([float(v) for v in pos]) if pos else None, src_uid))
    return infos


def _plane_geometry(ds):
    """(ImageOrientationPatient, PixelSpacing, SpacingBetweenSlices, SliceThickness) of the SEG."""
    iop = spacing = between = thickness = None
    shared = _first(ds, "SharedFunctionalGroupsSequence")
    first_pf = _first(ds, "PerFrameFunctionalGroupsSequence")
    for owner in (shared, first_pf):
        if owner is None:
            continue
        item = _first(owner, "PlaneOrientationSequence")
        if item is not None and iop is None and item.get("ImageOrientationPatient"):
            iop = [float(v) for v in item.ImageOrientationPatient]
        item = _first(owner, "PixelMeasuresSequence")
        if item is not None:
            if spacing is None and item.get("PixelSpacing"):
                spacing = [float(v) for v in item.PixelSpacing]
            if between is None and item.get("SpacingBetweenSlices"):
                between = float(item.SpacingBetweenSlices)
            if thickness is None and item.get("SliceThickness"):
                thickness = float(item.SliceThickness)
    return iop, spacing, between, thickness


def _grid_from_seg(ds, infos: List[_FrameInfo], warnings: list) -> Grid:
    """The grid a SEG defines by itself: its plane positions on a regular lattice."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    iop, spacing, between, thickness = _plane_geometry(ds)
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
                    "the SEG frames do not lie on a regular slice lattice; give the source series "
                    "(--source) to place them"
                )
    n = int(round((dist[-1] - dist[0]) / step)) + 1 if len(pos) > 1 else 1
    return Grid.from_dicom(pos[0], iop, spacing, normal * step, (n, rows, cols))


class _FrameReader:
    """Gives frame ``i`` of the SEG as a 2D array (uint8 for BINARY/FRACTIONAL, uint8/16 LABELMAP)."""

    def __init__(self, ds, path):
        self.ds = ds
        self.rows, self.cols = int(ds.Rows), int(ds.Columns)
        self.n = int(ds.get("NumberOfFrames", 1) or 1)
        self.bits = int(ds.BitsAllocated)
        ts = (
            str(ds.file_meta.TransferSyntaxUID)
            if "TransferSyntaxUID" in ds.get("file_meta", {})
            else "1.2.840.10008.1.2.1"
        )
        self.native = ts in _NATIVE
        self.path = path
        self._cache = None
        if self.native:
            self.buffer = np.frombuffer(ds.PixelData, dtype=np.uint8)
            frame_bits = self.rows * self.cols * self.bits
            need = (frame_bits * self.n + 7) // 8
            if self.buffer.size < need:
                raise UnsupportedObjectError(
                    f"{str(path)!r}: Pixel Data holds {self.buffer.size} bytes, {self.n} frames of "
                    f"{self.rows}x{self.cols} at {self.bits} bit need {need}"
                )

    def frame(self, i: int) -> np.ndarray:
        r, c = self.rows, self.cols
        if not self.native:
            return self._decoded()[i]
        if self.bits == 1:
            npix = r * c
            start = i * npix
            b0, off = divmod(start, 8)
            b1 = (start + npix + 7) // 8
            bits = np.unpackbits(self.buffer[b0:b1], bitorder="little")
            return bits[off : off + npix].reshape(r, c)
        if self.bits == 8:
            return self.buffer[i * r * c : (i + 1) * r * c].reshape(r, c)
        if self.bits == 16:
            words = self.buffer[i * r * c * 2 : (i + 1) * r * c * 2].view("<u2")
            return words.reshape(r, c)
        raise UnsupportedObjectError(f"{str(self.path)!r}: BitsAllocated {self.bits} is not supported")

    def _decoded(self) -> np.ndarray:
        if self._cache is None:
            try:
                arr = self.ds.pixel_array
            except Exception as e:  # decoder plugins raise many kinds of errors
                ts = self.ds.file_meta.get("TransferSyntaxUID", "?")
                raise UnsupportedObjectError(
                    f"{str(self.path)!r}: cannot decode pixel data in transfer syntax {ts} ({e}); "
                    "install the codecs (pip install 'dicomai[codecs]')"
                ) from e
            self._cache = arr.reshape(self.n, self.rows, self.cols)
        return self._cache


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
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(str(path))
    except (InvalidDicomError, OSError, EOFError) as e:
        raise InputError(f"cannot read {str(path)!r} as DICOM: {e}") from e
    _check_sop_class(ds, path)
    if "PixelData" not in ds:
        raise UnsupportedObjectError(f"{str(path)!r} has no Pixel Data")
    warnings: list = []
    seg_type = str(ds.get("SegmentationType", "BINARY")).upper()
    if str(ds.SOPClassUID) == LABELMAP_SEG_SOP_CLASS:
        seg_type = "LABELMAP"
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    all_segments = segments_from_dataset(ds)
    infos = _frame_infos(ds, n_frames, seg_type == "LABELMAP")
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
        grid = _grid_from_seg(ds, infos, warnings)

    placements = _placements(ds, infos, grid, source, path, warnings)
    reader = _FrameReader(ds, path)
    frames_per_segment: Dict[int, int] = {}
    for f in infos:
        if f.segment is not None:
            frames_per_segment[f.segment] = frames_per_segment.get(f.segment, 0) + 1

    content = SegmentationContent(grid=grid, segments=[], segmentation_type=seg_type)
    if seg_type == "LABELMAP":
        _decode_labelmap(content, all_segments, reader, placements)
        frames_per_segment = _labelmap_frame_counts(content)
    elif seg_type == "FRACTIONAL":
        _decode_fractional(content, ds, all_segments, infos, reader, placements)
    else:
        _decode_binary(content, all_segments, infos, reader, placements)

    content.fractional_type = str(ds.get("SegmentationFractionalType", "")) or None
    if seg_type == "FRACTIONAL":
        content.max_fractional_value = int(ds.get("MaximumFractionalValue", 255))
    content.frames_per_segment = frames_per_segment
    content.sop_instance_uid = str(ds.SOPInstanceUID)
    content.series_instance_uid = str(ds.get("SeriesInstanceUID", "")) or None
    ref = _first(ds, "ReferencedSeriesSequence")
    content.referenced_series_uid = (
        str(ref.SeriesInstanceUID) if ref is not None and "SeriesInstanceUID" in ref else None
    )
    content.referenced_instance_uids = [
        str(i.ReferencedSOPInstanceUID) for i in (ref.get("ReferencedInstanceSequence", []) if ref else [])
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
    background = [s for s in all_segments if s.number == 0]
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
    return content


def _placements(ds, infos, grid: Grid, source, path, warnings) -> List[Optional[tuple]]:
    """(k, r0, c0) on ``grid`` for every frame, or None for frames that cannot be placed."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    iop, spacing, _, _ = _plane_geometry(ds)
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
        raise UnsupportedObjectError(f"frames reference segment number(s) {extra} that SegmentSequence lacks")
    dtype = np.uint8 if len(segments) < 256 else np.uint16
    layers: List[np.ndarray] = []
    next_value: List[int] = []
    kept = []
    for seg in segments:
        frames = by_segment.get(seg.number, [])
        masks = []
        for i in frames:
            m = reader.frame(i)
            if m.any():
                masks.append((placements[i], m.astype(bool, copy=False)))
        target = None
        for li, layer in enumerate(layers):
            if not any(_collides(layer[k], m, r0, c0) for (k, r0, c0), m in masks):
                target = li
                break
        if target is None:
            layers.append(np.zeros(grid.shape, dtype))
            next_value.append(0)
            target = len(layers) - 1
        next_value[target] += 1
        value = next_value[target]
        layer = layers[target]
        for (k, r0, c0), m in masks:
            t, f = _paste(layer[k], m, r0, c0)
            t[f] = value
        seg.layer, seg.label_value = target, value
        kept.append(seg)
    content.layers = layers or [np.zeros(grid.shape, np.uint8)]
    content.segments = kept


def _collides(layer2d: np.ndarray, mask: np.ndarray, r0: int, c0: int) -> bool:
    t, m = _paste(layer2d, mask, r0, c0)
    return bool(np.any(t[m]))


def _decode_labelmap(content, segments, reader, placements) -> None:
    grid = content.grid
    numbers = [s.number for s in segments if s.number != 0]
    dtype = np.uint8 if (max(numbers) if numbers else 0) < 256 else np.uint16
    layer = np.zeros(grid.shape, dtype)
    for i, p in enumerate(placements):
        if p is None:
            continue
        k, r0, c0 = p
        t, f = _paste(layer[k], reader.frame(i), r0, c0)
        nz = f != 0
        t[nz] = f[nz]
    for s in segments:
        s.layer, s.label_value = 0, s.number
    content.layers = [layer]
    content.segments = [s for s in segments if s.number != 0]


def _labelmap_frame_counts(content) -> Dict[int, int]:
    layer = content.layers[0]
    out = {}
    for s in content.segments:
        out[s.number] = int((layer == s.number).reshape(layer.shape[0], -1).any(axis=1).sum())
    return out


def _decode_fractional(content, ds, segments, infos, reader, placements) -> None:
    grid = content.grid
    maxv = float(ds.get("MaximumFractionalValue", 255) or 255)
    fractions: Dict[int, np.ndarray] = {}
    for i, f in enumerate(infos):
        p = placements[i]
        if p is None:
            continue
        k, r0, c0 = p
        arr = fractions.get(f.segment)
        if arr is None:
            arr = fractions[f.segment] = np.zeros(grid.shape, np.float32)
        t, fr = _paste(arr[k], reader.frame(i), r0, c0)
        t[...] = fr.astype(np.float32) / maxv
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
