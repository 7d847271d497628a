"""``dicomai info``: what a DICOM object holds, from its header alone."""

from __future__ import annotations

from typing import Callable, Dict

from .coding import code_from_dataset, code_to_dict, format_code
from .errors import InputError
from .sopclasses import LABEL_MAP_SEGMENTATION_STORAGE, SEG_SOP_CLASSES, SR_SOP_CLASSES

__all__ = ["describe", "format_description", "register_describer"]

SOP_CLASS_NAMES = {
    **SEG_SOP_CLASSES,
    **SR_SOP_CLASSES,
    "1.2.840.10008.5.1.4.1.1.2": "CT Image Storage",
    "1.2.840.10008.5.1.4.1.1.4": "MR Image Storage",
    "1.2.840.10008.5.1.4.1.1.128": "Positron Emission Tomography Image Storage",
    "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture Image Storage",
}

# SOP class UID or modality -> function(dataset, path) -> dict with type-specific fields
# (dicomai.sc registers its SOP classes)
_DESCRIBERS: Dict[str, Callable] = {}


def register_describer(modality: str, fn: Callable) -> None:
    _DESCRIBERS[modality] = fn


def describe(path) -> dict:
    """A JSON-serialisable description of the DICOM object at ``path`` (header only)."""
    from .fileio import read_dicom, reading

    ds = read_dicom(path, stop_before_pixels=True)
    with reading(path, "DICOM object"):
        return _describe(ds, path)


def _describe(ds, path) -> dict:
    sop = str(ds.get("SOPClassUID", ""))
    out = {
        "file": str(path),
        "sop_class_uid": sop,
        "sop_class": SOP_CLASS_NAMES.get(sop, sop),
        "modality": str(ds.get("Modality", "")),
        "sop_instance_uid": str(ds.get("SOPInstanceUID", "")),
        "series_instance_uid": str(ds.get("SeriesInstanceUID", "")),
        "series_description": str(ds.get("SeriesDescription", "")),
        "series_number": str(ds.get("SeriesNumber", "")),
        "study_instance_uid": str(ds.get("StudyInstanceUID", "")),
        "patient_id": str(ds.get("PatientID", "")),
        "patient_name": str(ds.get("PatientName", "")),
        "frame_of_reference_uid": str(ds.get("FrameOfReferenceUID", "")) or None,
        "transfer_syntax_uid": str(getattr(ds, "file_meta", {}).get("TransferSyntaxUID", "")),
    }
    modality = out["modality"]
    if modality == "SEG" or sop in SEG_SOP_CLASSES:
        out.update(_describe_seg(ds))
    elif modality == "SR":
        from .sr.info import describe_sr  # the SR package describes its documents

        out.update(describe_sr(ds, path))
    elif sop in _DESCRIBERS or modality in _DESCRIBERS:  # families register by SOP class or modality
        out.update((_DESCRIBERS.get(sop) or _DESCRIBERS[modality])(ds, path))
    else:
        try:
            frames = int(ds.get("NumberOfFrames", 1) or 1) if "Rows" in ds else None
        except (TypeError, ValueError):
            frames = ds.get("NumberOfFrames")
            raise InputError(f"{str(path)!r}: NumberOfFrames {frames!r} is not a number") from None
        out.update({"rows": ds.get("Rows"), "columns": ds.get("Columns"), "number_of_frames": frames})
    return out


def _describe_seg(ds) -> dict:
    from .seg.decode import _name, _segment_ref, check_seg_header, segments_from_dataset

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
    from .seg.decode import _first

    item = _first(ds.SegmentSequence[0], "SegmentationAlgorithmIdentificationSequence")
    family = _first(item, "AlgorithmFamilyCodeSequence") if item is not None else None
    return format_code(code_from_dataset(family)) if family is not None else None


def _code_text(d) -> str:
    if not d:
        return "-"
    return f"{d['CodeMeaning']} ({d['CodingSchemeDesignator']} {d['CodeValue']})"


def format_description(info: dict) -> str:
    """Human-readable text of :func:`describe`'s result."""
    lines = [
        f"{info['file']}",
        f"  {info['sop_class']} ({info['modality']}), series {info['series_number']} "
        f"{info['series_description']!r}",
        f"  patient {info['patient_name']!r} ({info['patient_id']}), study {info['study_instance_uid']}",
        f"  frame of reference {info['frame_of_reference_uid'] or '(none)'}",
    ]
    if info.get("kind") == "SEG":
        extra = f", {info['fractional_type']}" if info.get("fractional_type") else ""
        lines.append(
            f"  segmentation type {info['segmentation_type']}{extra}, {info['number_of_frames']} frame(s) "
            f"of {info['columns']}x{info['rows']}"
        )
        for r in info["referenced_series"]:
            lines.append(f"  references series {r['series_instance_uid']} ({r['instances']} instance(s))")
        lines.append(f"  {len(info['segments'])} segment(s):")
        lines.append("    #  label                     category / type" + " " * 49 + "frames")
        for s in info["segments"]:
            typ = _code_text(s["type"])
            if s["type_modifiers"]:
                typ += " " + ", ".join(m["CodeMeaning"] for m in s["type_modifiers"] if m)
            frames = "-" if s["frames"] is None else str(s["frames"])
            lines.append(
                f"  {s['number']:>3}  {s['label'][:24]:<24}  {_code_text(s['category'])[:36]:<36} / "
                f"{typ[:30]:<30} {frames:>6}"
            )
    elif info.get("kind") in ("SR", "SC") and info.get("text"):
        lines.extend("  " + t for t in info["text"])
    return "\n".join(lines)
