"""Label values (a labelmap's voxel values, dcmqi's ``labelID``) kept across a SEG round trip.

DICOM numbers segments 1..N (Segment Number must start at 1 and increase by 1), so a labelmap
holding {1, 2, 3, 7} or TotalSegmentator's {1, 2, 3, 5, 27, ...} cannot keep its values as
segment numbers. ``export-seg`` records each segment's original value in a private data element
of its Segment Sequence item (PS3.5 7.8: a private creator reserves a block; standard readers
ignore it, dciodvfy accepts it)::

    (0063,0010) LO  Private Creator  "DICOMAI LABEL VALUE"
    (0063,1000) UL  the segment's label value in the labelmap it came from

``import-seg`` writes those values back (segment numbers for SEGs that do not carry them), or,
with ``--metadata META.json``, the labelIDs of a dcmqi-style metadata file, matched to the
segments by their codes, then by label (:func:`label_ids_from_metadata`). See docs/label-values.md.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

__all__ = [
    "PRIVATE_CREATOR",
    "PRIVATE_GROUP",
    "complete_label_values",
    "label_ids_from_metadata",
    "read_label_values",
    "read_label_values_from_file",
    "set_label_value",
]

PRIVATE_GROUP = 0x0063
PRIVATE_CREATOR = "DICOMAI LABEL VALUE"
_ELEMENT = 0x00


def set_label_value(item, value: int) -> None:
    """Record ``value`` in one Segment Sequence item (a pydicom Dataset)."""
    block = item.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(_ELEMENT, "UL", int(value))


def _value_of(item) -> Optional[int]:
    try:
        block = item.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
    except KeyError:
        return None
    if block.get_tag(_ELEMENT) not in item:
        return None
    elem = block[_ELEMENT]
    value = elem.value
    if isinstance(value, (bytes, bytearray)):  # implicit VR: the element comes back as UN
        value = int.from_bytes(bytes(value[:4]), "little") if len(value) >= 4 else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def read_label_values(ds) -> Dict[int, int]:
    """Segment number -> recorded label value, for the segments of ``ds`` that carry one.

    Values that would collide (two segments with one value) are ignored as a whole: the
    segment numbers are used then.
    """
    out = {}
    for item in ds.get("SegmentSequence", []):
        if "SegmentNumber" not in item:
            continue
        value = _value_of(item)
        if value is not None and value > 0:
            out[int(item.SegmentNumber)] = value
    if len(set(out.values())) != len(out):
        return {}
    return out


def read_label_values_from_file(path) -> Dict[int, int]:
    """:func:`read_label_values` of a SEG file (its header only)."""
    import pydicom

    try:
        ds = pydicom.dcmread(str(path), stop_before_pixels=True, specific_tags=["SegmentSequence"])
    except Exception:  # the decoder has read the file already; no values is the safe answer
        return {}
    return read_label_values(ds)


def complete_label_values(numbers, values: Dict[int, int], reserved=()) -> Dict[int, int]:
    """``values`` for every segment number: those without one keep their number when it is free
    (not used, not ``reserved``), else take the next value above every value used or reserved."""
    out = {n: v for n, v in values.items() if n in set(numbers)}
    used = set(out.values()) | {int(v) for v in reserved}
    top = max([0, *used, *numbers])
    for n in numbers:
        if n in out:
            continue
        if n not in used:
            out[n] = n
        else:
            top += 1
            out[n] = top
        used.add(out[n])
    return out


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text or "").lower()).strip()


def _code_key(seg) -> Tuple:
    def key(code):
        if code is None:
            return None
        return (str(code.scheme_designator).upper(), str(code.value))

    modifier = seg.type_modifiers[0] if seg.type_modifiers else None
    return (key(seg.category), key(seg.type), key(modifier))


def label_ids_from_metadata(segments, metadata) -> Tuple[Dict[int, int], List[str]]:
    """Map decoded segments to the labelIDs of a dcmqi-style metadata file.

    A segment takes the labelID of the metadata entry with the same category, type and type
    modifier codes (the label decides between several such entries); failing that, of the entry
    with the same label (case, spaces and punctuation ignored). Each labelID is used once.

    Returns ``(segment number -> labelID, labels of the segments that found none)``.
    """
    entries = list(metadata.segments)
    taken: set = set()
    out: Dict[int, int] = {}
    missing: List[str] = []
    for seg in segments:
        free = [e for e in entries if e.label_value not in taken]
        by_code = [
            e for e in free if seg.type is not None and e.type is not None and _code_key(e) == _code_key(seg)
        ]
        same_label = [e for e in free if _norm(e.label) == _norm(seg.label)]
        pick = None
        if len(by_code) == 1:
            pick = by_code[0]
        elif by_code:
            named = [e for e in by_code if e in same_label]
            pick = named[0] if named else None
        if pick is None and len(same_label) == 1:
            pick = same_label[0]
        if pick is None:
            missing.append(f"{seg.number} ({seg.label!r})")
            continue
        taken.add(pick.label_value)
        out[seg.number] = pick.label_value
    return out, missing
