"""``dicomai info``: what a DICOM object holds, from its header alone."""

from __future__ import annotations

from .errors import InputError
from .families import families, family_for, family_named

__all__ = ["describe", "format_description", "sop_class_name"]

_IMAGE_SOP_CLASS_NAMES = {
    "1.2.840.10008.5.1.4.1.1.2": "CT Image Storage",
    "1.2.840.10008.5.1.4.1.1.4": "MR Image Storage",
    "1.2.840.10008.5.1.4.1.1.128": "Positron Emission Tomography Image Storage",
}


def sop_class_name(uid: str) -> str:
    """The name of a SOP class the project knows (its families' and the usual images'), else the UID."""
    for family in families():
        if uid in family.sop_classes:
            return family.sop_classes[uid]
    return _IMAGE_SOP_CLASS_NAMES.get(uid, uid)


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
        "sop_class": sop_class_name(sop),
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
    family = family_for(sop, out["modality"])  # dicomai.families: SEG, SR, SC, ...
    if family is not None:
        out.update(family.describe(ds, path))
    else:
        try:
            frames = int(ds.get("NumberOfFrames", 1) or 1) if "Rows" in ds else None
        except (TypeError, ValueError):
            frames = ds.get("NumberOfFrames")
            raise InputError(f"{str(path)!r}: NumberOfFrames {frames!r} is not a number") from None
        out.update({"rows": ds.get("Rows"), "columns": ds.get("Columns"), "number_of_frames": frames})
    return out


def format_description(info: dict) -> str:
    """Human-readable text of :func:`describe`'s result."""
    lines = [
        f"{info['file']}",
        f"  {info['sop_class']} ({info['modality']}), series {info['series_number']} "
        f"{info['series_description']!r}",
        f"  patient {info['patient_name']!r} ({info['patient_id']}), study {info['study_instance_uid']}",
        f"  frame of reference {info['frame_of_reference_uid'] or '(none)'}",
    ]
    family = family_named(info.get("kind", ""))
    if family is not None:
        lines.extend("  " + t for t in family.format_lines(info))
    elif info.get("text"):
        lines.extend("  " + t for t in info["text"])
    return "\n".join(lines)
