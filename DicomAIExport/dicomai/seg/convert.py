"""Writing decoded segmentations to image files (what ``dicomai import-seg`` produces)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..fileio import atomic_outputs
from ..imageio import is_seg_nrrd, write_image, write_seg_nrrd
from .content import SegmentationContent, relabel
from .metadata import metadata_to_dict

__all__ = ["export_content_files", "split_name"]

_EXTS = (".seg.nrrd", ".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd")


def split_name(path: Path):
    """``(stem, extension)`` with double extensions (.nii.gz, .seg.nrrd) kept together."""
    name = path.name
    for ext in _EXTS:
        if name.lower().endswith(ext):
            return name[: -len(ext)], name[len(name) - len(ext) :]
    return path.stem, path.suffix


def export_content_files(
    content: SegmentationContent, out, overwrite: bool = False, label_values: Optional[Dict[int, int]] = None
) -> List[Path]:
    """Write ``content`` next to ``out`` and return every path written.

    ``label_values`` maps segment numbers to the voxel values (labelIDs) to write; by default the
    segment numbers. Values must be unique.

    - ``out`` ends with ``.seg.nrrd``: one Slicer segmentation file (overlaps kept in layers).
    - no overlap: one labelmap at ``out`` whose values are the label values.
    - overlap: one binary file per segment, ``<stem>-segment-<N><ext>``.
    - FRACTIONAL content also gets ``<stem>-probability-<N><ext>`` (float, 0-1) per segment.
    - always ``<stem>.json``: the segment metadata in dcmqi's format (``segmentAttributes`` has one
      list per labelmap file, in the order of ``segmentAttributesFileMapping``).
    All files are written under temporary names and renamed together at the end.
    """
    out = Path(out)
    stem, ext = split_name(out)
    folder = out.parent
    json_path = folder / f"{stem}.json"
    jobs = []  # (path, writer(tmp))
    attributes = dict(content.attributes)
    values = {s.number: int((label_values or {}).get(s.number, s.number)) for s in content.segments}
    if len(set(values.values())) != len(values):
        raise ValueError(f"label values must be unique, got {values}")
    identity = all(n == v for n, v in values.items())
    if is_seg_nrrd(out):
        if not identity:
            content = _relabelled(content, values)
        nrrd_content = content
        jobs.append((out, lambda tmp: write_seg_nrrd(tmp, nrrd_content)))
        meta = metadata_to_dict(
            content.segments, attributes, label_values={s.number: s.label_value for s in content.segments}
        )
        meta["segmentAttributesFileMapping"] = [out.name]
    elif not content.overlapping or (content.fractions and len(content.layers) == 1):
        labelmap = content.labelmap()
        if not identity:
            labelmap = relabel(labelmap, values)
        jobs.append((out, lambda tmp: write_image(tmp, labelmap, content.grid)))
        meta = metadata_to_dict(content.segments, attributes, label_values=values)
        meta["segmentAttributesFileMapping"] = [out.name]
    else:
        meta = metadata_to_dict([], attributes)
        meta["segmentAttributes"] = []
        meta["segmentAttributesFileMapping"] = []
        for s in content.segments:
            p = folder / f"{stem}-segment-{s.number}{ext}"
            jobs.append((p, _mask_writer(content, s)))
            one = metadata_to_dict([s], None, label_values={s.number: 1})["segmentAttributes"][0]
            meta["segmentAttributes"].append(one)
            meta["segmentAttributesFileMapping"].append(p.name)
    if content.fractions:
        prob_ext = ext if ext.lower() != ".seg.nrrd" else ".nrrd"
        for s in content.segments:
            p = folder / f"{stem}-probability-{s.number}{prob_ext}"
            arr = content.fractions[s.number]
            jobs.append((p, lambda tmp, a=arr: write_image(tmp, a.astype(np.float32), content.grid)))
        meta["FractionalType"] = content.fractional_type or "PROBABILITY"
    jobs.append((json_path, lambda tmp: tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")))
    paths = [p for p, _ in jobs]
    with atomic_outputs(paths, overwrite) as temps:
        for (_, writer), tmp in zip(jobs, temps):
            writer(tmp)
    return paths


def _relabelled(content: SegmentationContent, values: Dict[int, int]) -> SegmentationContent:
    """A copy whose layers hold ``values[segment number]`` for each segment."""
    import copy

    content._thresholded()
    new = copy.copy(content)
    new.segments = [copy.copy(s) for s in content.segments]
    layers = []
    for li, layer in enumerate(content.layers):
        mapping = {s.label_value: values[s.number] for s in content.segments if s.layer == li}
        layers.append(relabel(layer, mapping))
    for s in new.segments:
        s.label_value = values[s.number]
    new.layers = layers
    return new


def _mask_writer(content: SegmentationContent, seg):
    def write(tmp):
        mask = (content.layers[seg.layer] == seg.label_value).astype(np.uint8)
        write_image(tmp, mask, content.grid)

    return write
