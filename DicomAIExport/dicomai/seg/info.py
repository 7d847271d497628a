"""``dicomai info`` for DICOM Segmentations (header only): type, frames, segments and their codes."""

from __future__ import annotations

from typing import Dict

from ..coding import code_from_dataset, code_to_dict, format_code
from ..sopclasses import LABEL_MAP_SEGMENTATION_STORAGE

__all__ = ["describe_seg", "format_seg_lines"]


def describe_seg(ds, path=None) -> dict:
    """The SEG-specific fields of :func:`dicomai.info.describe`."""
    return _describe_seg(ds)


def _describe_seg(ds) -> dict:
    from .decode import _name, _segment_ref, check_seg_header, segments_from_dataset

    header = check_seg_header(ds)

    seg_type = str(ds.get("SegmentationType", ""))
    if str(ds.get("SOPClassUID", "")) == LABEL_MAP_SEGMENTATION_STORAGE:
        seg_type = "LABELMAP"
    frames: Dict[int, int] = {}
    for fg in ds.get("PerFrameFunctionalGroupsSequence", []):
        item = fg.get("SegmentIdentificationSequence")
        if item:
            n = _segment_ref(item[0], _name(ds))
            frames[n] = frames.get(n, 0) + 1
    segments = []
    for s in segments_from_dataset(ds):
        segments.append(
            {
                "number": s.number,
                "label": s.label,
                "description": s.description,
                "category": code_to_dict(s.category),
                "type": code_to_dict(s.type),
                "type_modifiers": [code_to_dict(c) for c in s.type_modifiers],
                "anatomic_region": code_to_dict(s.anatomic_region),
                "algorithm_type": s.algorithm_type,
                "algorithm_name": s.algorithm_name,
                "algorithm_version": s.algorithm_version,
                "color_rgb": list(s.color) if s.color else None,
                "frames": frames.get(s.number) if seg_type != "LABELMAP" else None,
            }
        )
    ref = ds.get("ReferencedSeriesSequence")
    refs = []
    for item in ref or []:
        refs.append(
            {
                "series_instance_uid": str(item.get("SeriesInstanceUID", "")),
                "instances": len(item.get("ReferencedInstanceSequence", [])),
            }
        )
    return {
        "kind": "SEG",
        "segmentation_type": seg_type,
        "fractional_type": str(ds.get("SegmentationFractionalType", "")) or None,
        "number_of_frames": header["frames"],
        "rows": header["rows"],
        "columns": header["columns"],
        "segments": segments,
        "referenced_series": refs,
        "algorithm_family": _algorithm_family(ds),
    }


def _algorithm_family(ds):
    """The first segment's algorithm family, or None (the attribute is required only for
    AUTOMATIC / SEMIAUTOMATIC segments: a missing one is not an error here)."""
    from .decode import _first

    item = _first(ds.SegmentSequence[0], "SegmentationAlgorithmIdentificationSequence")
    family = _first(item, "AlgorithmFamilyCodeSequence") if item is not None else None
    return format_code(code_from_dataset(family)) if family is not None else None


def _code_text(d) -> str:
    if not d:
        return "-"
    return f"{d['CodeMeaning']} ({d['CodingSchemeDesignator']} {d['CodeValue']})"


def format_seg_lines(info: dict) -> list:
    """The text lines ``dicomai info`` prints for a SEG, after the common ones."""
    lines = []
    extra = f", {info['fractional_type']}" if info.get("fractional_type") else ""
    lines.append(
        f"segmentation type {info['segmentation_type']}{extra}, {info['number_of_frames']} frame(s) "
        f"of {info['columns']}x{info['rows']}"
    )
    for r in info["referenced_series"]:
        lines.append(f"references series {r['series_instance_uid']} ({r['instances']} instance(s))")
    lines.append(f"{len(info['segments'])} segment(s):")
    lines.append("  #  label                     category / type" + " " * 49 + "frames")
    for s in info["segments"]:
        typ = _code_text(s["type"])
        if s["type_modifiers"]:
            typ += " " + ", ".join(m["CodeMeaning"] for m in s["type_modifiers"] if m)
        frames = "-" if s["frames"] is None else str(s["frames"])
        lines.append(
            f"{s['number']:>3}  {s['label'][:24]:<24}  {_code_text(s['category'])[:36]:<36} / "
            f"{typ[:30]:<30} {frames:>6}"
        )
    return lines
