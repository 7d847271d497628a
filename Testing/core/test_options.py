"""Options objects (validated once, enums converted on entry), the one "auto" SEG type policy,
and destinations (where every family writes, atomically)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from series_cases import overlapping_masks, write_case

from dicomai.destinations import FileDestination, FolderDestination, as_destination
from dicomai.errors import InputError, OutputExistsError
from dicomai.sc.encode import Picture, ScOptions, sc_datasets, write_sc
from dicomai.seg.content import SegmentationContent, SegmentInfo
from dicomai.seg.encode import write_seg
from dicomai.seg.enum import Compression, FractionalType, SegmentAlgorithmType, SegmentationType
from dicomai.seg.options import SegOptions, choose_segmentation_type
from dicomai.source import read_source_series
from dicomai.sr.content import PersonObserver
from dicomai.sr.options import Coordinates, ReportOptions


@pytest.fixture(scope="module")
def axial(tmp_path_factory):
    folder = tmp_path_factory.mktemp("options-axial")
    info, labels = write_case(folder / "src", "axial")
    return read_source_series(info.folder), labels


def _labelmap_content(labels, source):
    segs = [SegmentInfo(number=n, label=f"organ {n}") for n in range(1, 6)]
    return SegmentationContent.from_labelmap(labels.astype(np.uint8), source.grid, segs)


def _overlapping_content(labels, source):
    segs = [SegmentInfo(number=i + 1, label=n) for i, n in enumerate(["liver", "lesion", "box"])]
    return SegmentationContent.from_masks(overlapping_masks(labels), source.grid, segs)


# ------------------------------------------------------------------------------------ options
def test_seg_options_convert_strings_in_any_case_to_the_defined_terms():
    o = SegOptions(
        segmentation_type="labelmap",
        compression="JPEG-LS",
        fractional_type="occupancy",
        algorithm_type="semiautomatic",
    )
    assert o.segmentation_type is SegmentationType.LABELMAP
    assert o.compression is Compression.JPEG_LS
    assert o.compression.transfer_syntax_uid == "1.2.840.10008.1.2.4.80"
    assert o.fractional_type is FractionalType.OCCUPANCY
    assert o.algorithm_type is SegmentAlgorithmType.SEMIAUTOMATIC
    assert SegOptions(segmentation_type=SegmentationType.AUTO).segmentation_type is SegmentationType.AUTO


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"segmentation_type": "PROBABILISTIC"}, "segmentation type 'PROBABILISTIC' is not one of"),
        ({"compression": "zip"}, "compression 'zip' is not one of"),
        ({"algorithm_type": "ROBOT"}, "algorithm type 'ROBOT' is not one of"),
        ({"fractional_type": "CHANCE"}, "fractional type 'CHANCE' is not one of"),
        ({"max_fractional_value": 0}, "must be 1..255"),
        ({"engine": "turbo"}, "engine 'turbo' is not one of"),
        ({"compression": "rle", "transfer_syntax_uid": "1.2.840.10008.1.2.5"}, "not both"),
    ],
)
def test_seg_options_refuse_a_bad_value_when_made_naming_the_option(fields, words):
    with pytest.raises(InputError, match=words):
        SegOptions(**fields)


def test_report_and_sc_options_convert_on_entry():
    r = ReportOptions(coordinates="2D", person="Reader^Ann", procedure_reported="LN^25045-6^CT unspecified")
    assert r.coordinates is Coordinates.TWO_D
    assert r.person == PersonObserver("Reader^Ann")
    assert (r.procedure_reported.scheme_designator, r.procedure_reported.value) == ("LN", "25045-6")
    with pytest.raises(InputError, match="coordinates '4d' is not one of"):
        ReportOptions(coordinates="4d")
    assert ScOptions(burned_in_annotation="no").burned_in_annotation is False
    with pytest.raises(InputError, match="not YES or NO"):
        ScOptions(burned_in_annotation="maybe")


# ------------------------------------------------------------------------------------ one policy
def test_auto_seg_type_is_decided_in_one_place(axial):
    source, labels = axial
    disjoint, overlapping = _labelmap_content(labels, source), _overlapping_content(labels, source)
    fractional = _labelmap_content(labels, source)
    fractional.fractions = {1: (labels == 1).astype(np.float32)}
    assert choose_segmentation_type("auto", disjoint) is SegmentationType.LABELMAP
    assert choose_segmentation_type(None, overlapping) is SegmentationType.BINARY
    assert choose_segmentation_type("AUTO", fractional) is SegmentationType.FRACTIONAL
    # an SR will point into the segments: Label Map Segmentation Storage is not referenceable
    assert choose_segmentation_type("auto", disjoint, referenced_by_sr=True) is SegmentationType.BINARY
    assert choose_segmentation_type("auto", referenced_by_sr=True) is SegmentationType.BINARY
    assert choose_segmentation_type("auto") is SegmentationType.AUTO  # decided once content is known
    assert choose_segmentation_type("labelmap", overlapping) is SegmentationType.LABELMAP  # asked: kept


def test_write_seg_resolves_auto_by_content(axial, tmp_path):
    source, labels = axial
    a = write_seg(
        _labelmap_content(labels, source), source, tmp_path / "a.dcm", SegOptions(segmentation_type="auto")
    )
    b = write_seg(
        _overlapping_content(labels, source), source, tmp_path / "b.dcm", SegOptions(segmentation_type="auto")
    )
    assert (a.segmentation_type, b.segmentation_type) == ("LABELMAP", "BINARY")
    assert pydicom.dcmread(tmp_path / "a.dcm", stop_before_pixels=True).SegmentationType == "LABELMAP"


# ------------------------------------------------------------------------------------ destinations
def test_a_folder_destination_names_each_object_by_its_uid_and_records_it(axial, tmp_path):
    source, labels = axial
    dest = FolderDestination(tmp_path / "out")
    result = write_seg(_labelmap_content(labels, source), source, dest)
    assert result.path == tmp_path / "out" / f"{result.sop_instance_uid}.dcm"
    assert dest.written == [result.path]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [result.path.name]  # no temp left
    assert pydicom.dcmread(result.path, stop_before_pixels=True).SOPInstanceUID == result.sop_instance_uid


def test_a_file_destination_refuses_to_overwrite_unless_asked_and_holds_one_object(axial, tmp_path):
    source, labels = axial
    out = tmp_path / "seg.dcm"
    write_seg(_labelmap_content(labels, source), source, out)
    before = out.read_bytes()
    with pytest.raises(OutputExistsError, match="already exists"):
        write_seg(_labelmap_content(labels, source), source, out)
    assert out.read_bytes() == before
    write_seg(_labelmap_content(labels, source), source, FileDestination(out, overwrite=True))
    assert out.read_bytes() != before
    assert as_destination(out).file == out
    pictures = [Picture(np.zeros((4, 5), np.uint8), f"p{i}") for i in range(2)]
    datasets = sc_datasets(source, pictures, ScOptions(series_number=7))
    with pytest.raises(InputError, match="one file but there are 2"):
        write_sc(datasets, tmp_path / "one.dcm")
    assert not (tmp_path / "one.dcm").exists()
    paths = write_sc(datasets, tmp_path / "sc")
    assert [p.name for p in paths] == ["sc-001.dcm", "sc-002.dcm"]
    assert {int(pydicom.dcmread(p).SeriesNumber) for p in paths} == {7}
