"""Segment descriptions as dcmqi writes them, and the dcmqi metadata JSON that wraps them."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

__all__ = ["dcmqi_metadata"]


def _code_json(code) -> dict:
    """A code (:class:`dicomai.coding.Code` or pydicom's ``Code``) as a dcmqi JSON code dict."""
    return {
        "CodeValue": str(code.value),
        "CodingSchemeDesignator": str(code.scheme_designator),
        "CodeMeaning": str(code.meaning),
    }


def _segment_dict(label_id, label, description, category, type_, rgb, modifier=None, algorithm=None) -> dict:
    seg = {
        "labelID": int(label_id),
        "SegmentLabel": label,
        "SegmentDescription": description,
        "SegmentAlgorithmType": "AUTOMATIC",
        "SegmentAlgorithmName": algorithm or "DicomAI synthetic",
        "SegmentedPropertyCategoryCodeSequence": _code_json(category),
        "SegmentedPropertyTypeCodeSequence": _code_json(type_),
        "recommendedDisplayRGBValue": [int(v) for v in rgb],
    }
    if modifier is not None:
        seg["SegmentedPropertyTypeModifierCodeSequence"] = _code_json(modifier)
    return seg


def dcmqi_metadata(segments: Sequence[Mapping], **series_fields) -> dict:
    """dcmqi segmentation metadata (the JSON ``itkimage2segimage --inputMetadata`` reads).

    Parameters
    ----------
    segments:
        Segment dicts as returned by :func:`phantom` or :func:`many_segments_labelmap`
        (``labelID``, ``SegmentLabel``, codes...). They all go into one label map, i.e. one
        inner list of ``segmentAttributes``.
    **series_fields:
        Override or add top-level fields: ``ContentCreatorName``, ``ClinicalTrialSeriesID``,
        ``ClinicalTrialTimePointID``, ``ClinicalTrialCoordinatingCenterName``,
        ``SeriesDescription``, ``SeriesNumber``, ``InstanceNumber``, ``BodyPartExamined``,
        ``ContentLabel``, ``ContentDescription``... Numbers are written as strings, as dcmqi's
        schema wants.

    Returns
    -------
    dict
        Ready for ``json.dump``.
    """
    meta = {
        "ContentCreatorName": "DicomAI^Synthetic",
        "ClinicalTrialSeriesID": "Session1",
        "ClinicalTrialTimePointID": "1",
        "ClinicalTrialCoordinatingCenterName": "DicomAI",
        "SeriesDescription": "Segmentation",
        "SeriesNumber": "300",
        "InstanceNumber": "1",
        "BodyPartExamined": "ABDOMEN",
    }
    for key, value in series_fields.items():
        meta[key] = str(value) if isinstance(value, (int, np.integer)) else value
    attrs = []
    for seg in segments:
        if "labelID" not in seg:
            raise ValueError(f"segment {dict(seg)!r} has no labelID")
        item = {}
        for key, value in seg.items():
            if isinstance(value, Mapping):
                item[key] = dict(value)
            elif isinstance(value, (list, tuple)):
                item[key] = [int(v) for v in value] if key == "recommendedDisplayRGBValue" else list(value)
            else:
                item[key] = value
        item["labelID"] = int(item["labelID"])
        attrs.append(item)
    meta["segmentAttributes"] = [attrs]
    return meta
