"""dcmqi JSON metadata and label -> code lookup."""

from __future__ import annotations

import json

import pytest

from dicomai.coding import lookup_label, terminology_from_string, terminology_to_string
from dicomai.errors import MetadataError
from dicomai.seg.metadata import load_metadata, metadata_to_dict, segments_for_labels

DCMQI_EXAMPLE = {
    "ContentCreatorName": "Doe^John",
    "ClinicalTrialSeriesID": "Session1",
    "ClinicalTrialTimePointID": "1",
    "ClinicalTrialCoordinatingCenterName": "BWH",
    "SeriesDescription": "Segmentation",
    "SeriesNumber": "300",
    "InstanceNumber": "1",
    "BodyPartExamined": "LIVER",
    "segmentAttributes": [
        [
            {
                "labelID": 1,
                "SegmentDescription": "Liver Segmentation",
                "SegmentLabel": "Liver",
                "SegmentAlgorithmType": "SEMIAUTOMATIC",
                "SegmentAlgorithmName": "SlicerEditor",
                "SegmentedPropertyCategoryCodeSequence": {
                    "CodeValue": "123037004",
                    "CodingSchemeDesignator": "SCT",
                    "CodeMeaning": "Anatomical Structure",
                },
                "SegmentedPropertyTypeCodeSequence": {
                    "CodeValue": "10200004",
                    "CodingSchemeDesignator": "SCT",
                    "CodeMeaning": "Liver",
                },
                "recommendedDisplayRGBValue": [221, 130, 101],
            },
            {
                "labelID": 5,
                "SegmentLabel": "Kidney",
                "SegmentedPropertyCategoryCodeSequence": {
                    "CodeValue": "123037004",
                    "CodingSchemeDesignator": "SCT",
                    "CodeMeaning": "Anatomical Structure",
                },
                "SegmentedPropertyTypeCodeSequence": {
                    "CodeValue": "64033007",
                    "CodingSchemeDesignator": "SCT",
                    "CodeMeaning": "Kidney",
                },
                "SegmentedPropertyTypeModifierCodeSequence": {
                    "CodeValue": "7771000",
                    "CodingSchemeDesignator": "SCT",
                    "CodeMeaning": "Left",
                },
                "AnatomicRegionSequence": {
                    "CodeValue": "818981001",
                    "CodingSchemeDesignator": "SCT",
                    "CodeMeaning": "Abdomen",
                },
                "TrackingIdentifier": "kidney-1",
            },
        ]
    ],
}


def test_dcmqi_example_parses_with_codes_colours_and_series_fields(tmp_path):
    p = tmp_path / "meta.json"
    p.write_text(json.dumps(DCMQI_EXAMPLE))
    meta = load_metadata(p)
    liver, kidney = meta.segments
    assert (liver.label_value, liver.label, liver.color) == (1, "Liver", (221, 130, 101))
    assert (liver.type.value, liver.category.value) == ("10200004", "123037004")
    assert (liver.algorithm_type, liver.algorithm_name) == ("SEMIAUTOMATIC", "SlicerEditor")
    assert kidney.type_modifiers[0].meaning == "Left"
    assert kidney.anatomic_region.value == "818981001"
    assert kidney.tracking_id == "kidney-1"
    assert meta.attributes["SeriesNumber"] == "300"
    assert meta.attributes["ClinicalTrialCoordinatingCenterName"] == "BWH"


def test_metadata_round_trips_through_our_writer():
    meta = load_metadata(DCMQI_EXAMPLE)
    again = load_metadata(metadata_to_dict(meta.segments, meta.attributes))
    for a, b in zip(meta.segments, again.segments):
        assert (a.label, a.label_value, a.color, a.type, a.category, a.type_modifiers, a.anatomic_region) == (
            b.label,
            b.label_value,
            b.color,
            b.type,
            b.category,
            b.type_modifiers,
            b.anatomic_region,
        )
    assert again.attributes == meta.attributes


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"segmentAttributes": [[{"SegmentLabel": "x"}]]}, "labelID"),
        ({"segmentAttributes": [[{"labelID": 1}, {"labelID": 1}]]}, "used twice"),
        ({"segmentAttributes": [[{"labelID": 0}]]}, "background"),
        ({"segmentAttributes": [[{"labelID": 1, "recommendedDisplayRGBValue": [1, 2]}]]}, "R, G, B"),
        ({"segmentAttributes": [[{"labelID": 1, "recommendedDisplayRGBValue": [1, 2, 300]}]]}, "0-255"),
        ({"segmentAttributes": [[{"labelID": 1, "SegmentAlgorithmType": "MAGIC"}]]}, "MAGIC"),
        (
            {
                "segmentAttributes": [
                    [{"labelID": 1, "SegmentedPropertyTypeCodeSequence": {"CodeValue": "1"}}]
                ]
            },
            "CodingSchemeDesignator",
        ),
        ("{not json", "not valid JSON"),
    ],
)
def test_malformed_metadata_is_a_clear_error(bad, message):
    with pytest.raises(MetadataError, match=message):
        load_metadata(bad if not isinstance(bad, dict) else bad)


def test_missing_metadata_file_is_named(tmp_path):
    with pytest.raises(MetadataError, match="nothere.json"):
        load_metadata(tmp_path / "nothere.json")


@pytest.mark.parametrize(
    "label, type_value, category_meaning, modifier",
    [
        ("liver", "10200004", "Anatomical Structure", None),
        ("Spleen", "78961009", "Anatomical Structure", None),
        ("kidney_left", "64033007", "Anatomical Structure", "Left"),
        ("Right Kidney", "64033007", "Anatomical Structure", "Right"),
        ("tumor", "108369006", "Morphologically Abnormal Structure", None),
        ("vertebrae_L1", "66794005", "Anatomical Structure", None),
        ("urinary_bladder", "89837001", "Anatomical Structure", None),
    ],
)
def test_labels_are_looked_up_in_snomed(label, type_value, category_meaning, modifier):
    category, typ, mod = lookup_label(label)
    assert typ.value == type_value and typ.scheme_designator == "SCT"
    assert category.meaning == category_meaning
    assert (mod.meaning if mod else None) == modifier


def test_unknown_label_gets_generic_tissue_codes_and_a_warning():
    warnings = []
    meta = load_metadata({"segmentAttributes": [[{"labelID": 2, "SegmentLabel": "blob of interest"}]]})
    segs = segments_for_labels([2], meta, warnings)
    assert (segs[0].type.value, segs[0].category.value) == ("85756007", "85756007")
    assert any("blob of interest" in w and "Tissue" in w for w in warnings)


def test_labels_without_metadata_become_segment_n_with_a_warning_and_absent_ones_are_reported():
    warnings = []
    meta = load_metadata(
        {
            "segmentAttributes": [
                [{"labelID": 3, "SegmentLabel": "liver"}, {"labelID": 9, "SegmentLabel": "spleen"}]
            ]
        }
    )
    segs = segments_for_labels([0, 3, 4], meta, warnings)
    assert [(s.number, s.label, s.label_value) for s in segs] == [(1, "liver", 3), (2, "Segment 4", 4)]
    assert any("4" in w and "does not describe" in w for w in warnings)
    assert any("9" in w and "spleen" in w and "do not occur" in w for w in warnings)


def test_slicer_terminology_string_round_trip():
    meta = load_metadata(DCMQI_EXAMPLE)
    kidney = meta.segments[1]
    s = terminology_to_string(kidney.category, kidney.type, kidney.type_modifiers[0], kidney.anatomic_region)
    assert s.count("~") == 6
    assert "SCT^64033007^Kidney" in s and "SCT^7771000^Left" in s
    t = terminology_from_string(s)
    assert t["type"] == kidney.type and t["type_modifier"].meaning == "Left"
    assert t["region"].value == "818981001" and t["region_modifier"] is None
    # Slicer's own string for a segment without modifiers
    slicer = (
        "Segmentation category and type - 3D Slicer General Anatomy list~SCT^123037004^Anatomical Structure"
        "~SCT^10200004^Liver~^^~Anatomic codes - DICOM master list~^^~^^"
    )
    t = terminology_from_string(slicer)
    assert t["type"].value == "10200004" and t["type_modifier"] is None and t["region"] is None
