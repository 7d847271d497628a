"""Segment metadata in dcmqi's JSON format (``seg-schema.json``), both ways.

dcmqi users describe segments with a JSON file such as::

    {"SeriesDescription": "AI result", "SeriesNumber": "300", ...,
     "segmentAttributes": [[{"labelID": 1, "SegmentLabel": "Liver",
                             "SegmentedPropertyCategoryCodeSequence": {...},
                             "SegmentedPropertyTypeCodeSequence": {...},
                             "SegmentAlgorithmType": "AUTOMATIC", "SegmentAlgorithmName": "...",
                             "recommendedDisplayRGBValue": [221, 130, 101]}]]}

The same file works here, so switching from dcmqi needs no rewriting. Keys dcmqi does not know
(``SegmentAlgorithmVersion``, ``SegmentAlgorithmFamilyCodeSequence``) are optional extensions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

from ..coding import code_from_dict, code_to_dict, generic_category, generic_type, lookup_label
from ..errors import MetadataError
from .content import SegmentInfo

__all__ = [
    "SERIES_FIELDS",
    "SegmentMetadata",
    "default_segment",
    "find_codes",
    "generic_warning",
    "load_metadata",
    "metadata_to_dict",
    "segments_for_labels",
]

#: Series-level keys of dcmqi's schema (plus ContentLabel/ContentDescription), in output order.
SERIES_FIELDS = (
    "ContentCreatorName",
    "ClinicalTrialSeriesID",
    "ClinicalTrialTimePointID",
    "ClinicalTrialCoordinatingCenterName",
    "SeriesDescription",
    "SeriesNumber",
    "InstanceNumber",
    "BodyPartExamined",
    "ContentLabel",
    "ContentDescription",
)


class SegmentMetadata:
    """Parsed metadata: segment descriptions by label value, and series-level attributes."""

    def __init__(self, segments: Sequence[SegmentInfo], attributes: dict, source: str = "metadata"):
        self.segments = list(segments)
        self.attributes = dict(attributes)
        self.source = source

    def by_label(self) -> dict:
        return {s.label_value: s for s in self.segments}


def load_metadata(metadata: Union[str, Path, dict, None]) -> SegmentMetadata:
    """Parse dcmqi-style JSON (a path, JSON text or a dict).

    Raises
    ------
    MetadataError
        Unreadable JSON, missing ``labelID``, duplicate label IDs, malformed codes or colours.
    """
    if metadata is None:
        return SegmentMetadata([], {}, "no metadata")
    name = "metadata"
    if isinstance(metadata, (str, Path)) and not str(metadata).lstrip().startswith("{"):
        name = str(metadata)
        try:
            data = json.loads(Path(metadata).read_text(encoding="utf-8"))
        except OSError as e:
            raise MetadataError(f"cannot read metadata file {name!r}: {e.strerror or e}") from e
        except json.JSONDecodeError as e:
            raise MetadataError(f"metadata file {name!r} is not valid JSON: {e}") from e
    elif isinstance(metadata, str):
        try:
            data = json.loads(metadata)
        except json.JSONDecodeError as e:
            raise MetadataError(f"metadata is not valid JSON: {e}") from e
    else:
        data = metadata
    if not isinstance(data, dict):
        raise MetadataError(f"{name}: expected a JSON object with 'segmentAttributes'")

    if "segmentAttributes" not in data:
        if any(k in data for k in ("ConversionSoftware", "ConversionSoftwareVersion", "BidsGuess")):
            raise MetadataError(
                f"{name} is an image sidecar (dcm2niix/BIDS JSON), not segment metadata: pass a dcmqi-style "
                "JSON with 'segmentAttributes' (labelID, SegmentLabel, codes), or --labels totalsegmentator"
            )
        unknown = sorted(k for k in data if k not in SERIES_FIELDS and not k.startswith("@"))
        if unknown:
            raise MetadataError(
                f"{name} has no 'segmentAttributes' and keys dcmqi's metadata does not have "
                f"({', '.join(unknown[:5])}): it is not segment metadata"
            )
    groups = data.get("segmentAttributes", [])
    if groups and isinstance(groups[0], dict):  # tolerate a flat list
        groups = [groups]
    segments = []
    seen = {}
    for gi, group in enumerate(groups):
        if not isinstance(group, list):
            raise MetadataError(f"{name}: segmentAttributes[{gi}] must be a list of segments")
        for si, attrs in enumerate(group):
            where = f"{name}: segmentAttributes[{gi}][{si}]"
            seg = _segment_from_attrs(attrs, where)
            if seg.label_value in seen:
                raise MetadataError(
                    f"{where}: labelID {seg.label_value} is used twice (also by "
                    f"{seen[seg.label_value]!r}); one labelmap needs unique label IDs"
                )
            seen[seg.label_value] = seg.label
            segments.append(seg)
    attributes = {k: data[k] for k in SERIES_FIELDS if data.get(k) not in (None, "")}
    return SegmentMetadata(segments, attributes, name)


def _segment_from_attrs(attrs: dict, where: str) -> SegmentInfo:
    if not isinstance(attrs, dict):
        raise MetadataError(f"{where}: expected an object, got {attrs!r}")
    if "labelID" not in attrs:
        raise MetadataError(f"{where}: 'labelID' is missing (the voxel value of the segment)")
    try:
        label_value = int(attrs["labelID"])
    except (TypeError, ValueError) as e:
        raise MetadataError(f"{where}: labelID {attrs['labelID']!r} is not an integer") from e
    if label_value < 1:
        raise MetadataError(f"{where}: labelID must be >= 1 (0 is background), got {label_value}")
    label = str(attrs.get("SegmentLabel") or "").strip()
    category = code_from_dict(attrs.get("SegmentedPropertyCategoryCodeSequence"), f"{where} category")
    typ = code_from_dict(attrs.get("SegmentedPropertyTypeCodeSequence"), f"{where} type")
    if (category is None) != (typ is None):
        raise MetadataError(
            f"{where}: give both SegmentedPropertyCategoryCodeSequence and "
            "SegmentedPropertyTypeCodeSequence, or neither (then they are looked up from the label)"
        )
    color = attrs.get("recommendedDisplayRGBValue")
    if color is not None and (not isinstance(color, (list, tuple)) or len(color) != 3):
        raise MetadataError(f"{where}: recommendedDisplayRGBValue must be [R, G, B], got {color!r}")
    try:
        return SegmentInfo(
            number=label_value,
            label=label or (typ.meaning if typ is not None else f"Segment {label_value}"),
            category=category,
            type=typ,
            type_modifiers=_codes(attrs.get("SegmentedPropertyTypeModifierCodeSequence"), where),
            anatomic_region=code_from_dict(attrs.get("AnatomicRegionSequence"), f"{where} region"),
            anatomic_region_modifiers=_codes(attrs.get("AnatomicRegionModifierSequence"), where),
            description=str(attrs.get("SegmentDescription") or ""),
            color=tuple(color) if color is not None else None,
            algorithm_type=attrs.get("SegmentAlgorithmType") or "AUTOMATIC",
            algorithm_name=attrs.get("SegmentAlgorithmName") or None,
            algorithm_version=attrs.get("SegmentAlgorithmVersion") or None,
            algorithm_family=code_from_dict(
                attrs.get("SegmentAlgorithmFamilyCodeSequence"), f"{where} algorithm family"
            ),
            tracking_id=attrs.get("TrackingIdentifier") or None,
            tracking_uid=attrs.get("TrackingUniqueIdentifier") or None,
            label_value=label_value,
        )
    except MetadataError as e:
        raise MetadataError(f"{where}: {e}") from e


def _codes(value, where: str) -> list:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [code_from_dict(v, where) for v in items]


def find_codes(label: Optional[str], terminologies: Sequence = ()):
    """Codes for a segment label: the first of ``terminologies`` (files given with
    ``--terminology``) that knows it, then the shipped contexts (TotalSegmentator's mapping,
    Slicer's), then DICOM CID 7151 (:func:`dicomai.coding.lookup_label`); None when none does.

    Returns a :class:`dicomai.terminology.TermEntry`.
    """
    from ..terminology import TermEntry, shipped_terminologies

    if not label or not str(label).strip():
        return None
    for term in [*terminologies, *shipped_terminologies()]:
        hit = term.find(label)
        if hit is not None:
            return hit
    found = lookup_label(label)
    if found is None:
        return None
    category, typ, modifier = found
    return TermEntry(category, typ, modifier, source="DICOM CID 7151")


def default_segment(
    label_value: int,
    label: Optional[str] = None,
    warnings: Optional[list] = None,
    terminologies: Sequence = (),
    generic: Optional[list] = None,
):
    """A segment for a label value that has no metadata.

    The label is looked up (:func:`find_codes`); when it is unknown the generic "Tissue" codes are
    used and its label is appended to ``generic`` (when given: the caller warns once for all),
    else a warning says so.
    """
    name = label or f"Segment {label_value}"
    seg = SegmentInfo(number=label_value, label=name, label_value=label_value)
    _fill_codes(seg, warnings, terminologies, generic)
    return seg


def _fill_codes(seg: SegmentInfo, warnings, terminologies, generic) -> None:
    unnamed = re.fullmatch(r"Segment \d+", seg.label or "") is not None
    found = None if unnamed else find_codes(seg.label, terminologies)
    if found is None:
        seg.category, seg.type = generic_category(), generic_type()
        if generic is not None:
            generic.append(seg.label)
        elif warnings is not None:
            warnings.append(
                f"segment {seg.label_value} ({seg.label!r}): no codes given and the label is not a known "
                "SNOMED CT concept; coded as generic 'Tissue' — give SegmentedPropertyTypeCodeSequence "
                "in the metadata to say what it is"
            )
        return
    seg.category, seg.type = found.category, found.type
    if not seg.type_modifiers and found.type_modifier is not None:
        seg.type_modifiers = [found.type_modifier]
    if seg.anatomic_region is None and found.region is not None:
        seg.anatomic_region = found.region
        if found.region_modifier is not None and not seg.anatomic_region_modifiers:
            seg.anatomic_region_modifiers = [found.region_modifier]
    if seg.color is None and found.color is not None:
        seg.color = tuple(found.color)


def complete_codes(
    seg: SegmentInfo, warnings: list, terminologies: Sequence = (), generic: Optional[list] = None
) -> None:
    """Fill in category/type (modifier, region, colour) of a described segment from its label
    when the metadata gave none."""
    if seg.category is not None and seg.type is not None:
        return
    _fill_codes(seg, warnings, terminologies, generic)


def generic_warning(labels: Sequence[str]) -> str:
    """One warning naming every segment coded as generic "Tissue"."""
    return (
        f"{len(labels)} segment(s) coded as generic 'Tissue' (no codes given and the label is found in "
        f"no terminology): {', '.join(repr(x) for x in labels)}; give their codes in --metadata or a "
        "--terminology FILE (Slicer .term.json or TotalSegmentator-style CSV)"
    )


def segments_for_labels(
    present: Iterable[int],
    metadata: SegmentMetadata,
    warnings: list,
    source_name: str = "labelmap",
    terminologies: Sequence = (),
) -> list:
    """Match the label values found in a labelmap with the metadata.

    Values without metadata become "Segment N" (with a warning); metadata for values absent
    from the labelmap is reported in a warning and left out. Segments keep their label values
    and are numbered 1..N in label order. Labels without codes are coded from ``terminologies``,
    the shipped contexts or DICOM's CID 7151 (:func:`find_codes`), else as generic "Tissue" with
    one warning listing every such label.
    """
    present = sorted(int(v) for v in present if int(v) != 0)
    described = metadata.by_label()
    out = []
    undescribed = [v for v in present if v not in described]
    every = ", ".join(str(v) for v in undescribed)
    if undescribed and metadata.segments:
        warnings.append(
            f"{source_name} holds label value(s) {every} that {metadata.source} does "
            "not describe: written as 'Segment N' with generic 'Tissue' codes"
        )
    elif undescribed:
        warnings.append(
            f"no metadata given: {len(undescribed)} label value(s) ({every}) written as 'Segment N' with "
            "generic 'Tissue' codes; pass --metadata (dcmqi JSON) or --labels totalsegmentator to name "
            "and code them"
        )
    absent = sorted(v for v in described if v not in set(present))
    if absent and not getattr(metadata, "quiet_absent", False):
        names = ", ".join(f"{v} ({described[v].label!r})" for v in absent[:10])
        warnings.append(
            f"{metadata.source} describes label value(s) {names}{' ...' if len(absent) > 10 else ''} "
            f"that do not occur in {source_name}: no segment written for them"
        )
    generic: list = []  # labels of described segments coded as generic
    unnamed: list = []  # "Segment N": already in the warning above
    for number, value in enumerate(present, start=1):
        if value in described:
            seg = described[value]
            complete_codes(seg, warnings, terminologies, generic)
        else:
            seg = default_segment(value, None, warnings, terminologies, unnamed)
        seg.number = number
        seg.label_value = value
        seg.layer = 0
        out.append(seg)
    if generic:
        warnings.append(generic_warning(generic))
    return out


def _short(values: list) -> str:
    s = ", ".join(str(v) for v in values[:10])
    return s + (f" ... ({len(values)} in all)" if len(values) > 10 else "")


def metadata_to_dict(
    segments: Sequence[SegmentInfo], attributes: Optional[dict] = None, label_values: Optional[dict] = None
) -> dict:
    """Segments -> dcmqi JSON dict. ``label_values`` maps segment number -> labelID in the file."""
    out = {}
    for k in SERIES_FIELDS:
        v = (attributes or {}).get(k)
        if v not in (None, ""):
            out[k] = str(v) if k in ("SeriesNumber", "InstanceNumber") else v
    attrs = []
    for s in segments:
        a = {
            "labelID": int((label_values or {}).get(s.number, s.number)),
            "SegmentLabel": s.label,
        }
        if s.description:
            a["SegmentDescription"] = s.description
        a["SegmentAlgorithmType"] = s.algorithm_type
        if s.algorithm_name:
            a["SegmentAlgorithmName"] = s.algorithm_name
        if s.algorithm_version:
            a["SegmentAlgorithmVersion"] = s.algorithm_version
        if s.algorithm_family is not None:
            a["SegmentAlgorithmFamilyCodeSequence"] = code_to_dict(s.algorithm_family)
        if s.category is not None:
            a["SegmentedPropertyCategoryCodeSequence"] = code_to_dict(s.category)
        if s.type is not None:
            a["SegmentedPropertyTypeCodeSequence"] = code_to_dict(s.type)
        if s.type_modifiers:
            a["SegmentedPropertyTypeModifierCodeSequence"] = code_to_dict(s.type_modifiers[0])
        if s.anatomic_region is not None:
            a["AnatomicRegionSequence"] = code_to_dict(s.anatomic_region)
        if s.anatomic_region_modifiers:
            a["AnatomicRegionModifierSequence"] = code_to_dict(s.anatomic_region_modifiers[0])
        if s.color is not None:
            a["recommendedDisplayRGBValue"] = [int(v) for v in s.color]
        if s.tracking_id:
            a["TrackingIdentifier"] = s.tracking_id
        if s.tracking_uid:
            a["TrackingUniqueIdentifier"] = s.tracking_uid
        attrs.append(a)
    out["segmentAttributes"] = [attrs]
    return out
