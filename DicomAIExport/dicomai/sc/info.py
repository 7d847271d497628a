"""``dicomai info`` for Secondary Capture images (header only)."""

from __future__ import annotations

__all__ = ["describe_sc"]


def describe_sc(ds, path=None) -> dict:
    """Size, photometric interpretation, frames, burned-in annotation and what the image shows."""
    refs: dict = {}
    for item in ds.get("ReferencedSeriesSequence", []) or []:
        refs[str(item.get("SeriesInstanceUID", ""))] = len(item.get("ReferencedInstanceSequence", []) or [])
    return {
        "kind": "SC",
        "rows": int(ds.get("Rows", 0) or 0),
        "columns": int(ds.get("Columns", 0) or 0),
        "photometric_interpretation": str(ds.get("PhotometricInterpretation", "")),
        "samples_per_pixel": int(ds.get("SamplesPerPixel", 1) or 1),
        "bits_allocated": int(ds.get("BitsAllocated", 0) or 0),
        "number_of_frames": int(ds.get("NumberOfFrames", 1) or 1),
        "burned_in_annotation": str(ds.get("BurnedInAnnotation", "")) or None,
        "derivation_description": str(ds.get("DerivationDescription", "")) or None,
        "source_images": len(ds.get("SourceImageSequence", []) or []),
        "referenced_series": [{"series_instance_uid": k, "instances": v} for k, v in refs.items()],
        "text": format_sc_lines(ds, refs),
    }


def format_sc_lines(ds, refs: dict) -> list:
    lines = [
        f"secondary capture {ds.get('Columns')}x{ds.get('Rows')} {ds.get('PhotometricInterpretation', '')}, "
        f"{int(ds.get('NumberOfFrames', 1) or 1)} frame(s), burned-in annotation "
        f"{ds.get('BurnedInAnnotation', 'not stated')}"
    ]
    if ds.get("DerivationDescription"):
        lines.append(str(ds.DerivationDescription))
    for uid, n in refs.items():
        lines.append(f"references series {uid} ({n} instance(s))")
    return lines
