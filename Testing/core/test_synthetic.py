"""Synthetic series, phantoms and label maps (dicomai_samples) are standard and geometrically exact."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes

import dicomai_samples as samples
from dicomai.source import read_source_series

try:  # Testing/peers: the independent checkers (Testing/conftest.py puts Testing/ on sys.path)
    import peers
except ImportError:  # pragma: no cover - only when run without the shared test helpers
    peers = None

ORIENTATIONS = ["axial", "sagittal", "coronal", "oblique"]


def _volume(shape, seed=0):
    return np.random.default_rng(seed).integers(-1000, 2000, size=shape).astype(np.int16)


def _names(info):
    return [Path(f).name for f in info.files]


# ------------------------------------------------------------------------------------------ grids
@pytest.mark.parametrize("orientation", [*ORIENTATIONS, (0.0, 0.6, 0.8, 0.0, 0.8, -0.6)])
def test_every_orientation_gives_an_orthonormal_grid_stepping_along_the_normal(orientation):
    g = samples.make_grid((5, 7, 9), (2.5, 0.7, 1.1), orientation=orientation)
    dirs = np.column_stack([g.slice_direction, g.row_direction, g.col_direction])
    assert np.allclose(dirs.T @ dirs, np.eye(3), atol=1e-12)
    assert np.allclose(g.slice_direction, g.normal)
    assert np.allclose(g.spacing, (2.5, 0.7, 1.1))
    assert g.shape == (5, 7, 9)


@pytest.mark.parametrize(
    ("orientation", "iop"),
    [
        ("axial", [1, 0, 0, 0, 1, 0]),
        ("sagittal", [0, 1, 0, 0, 0, -1]),
        ("coronal", [1, 0, 0, 0, 0, -1]),
    ],
)
def test_named_planes_have_the_usual_image_orientation(orientation, iop):
    g = samples.make_grid((3, 4, 4), (1, 1, 1), orientation=orientation)
    assert np.allclose(g.image_orientation, iop)


def test_oblique_is_rotated_about_two_axes():
    g = samples.make_grid((3, 4, 4), (1, 1, 1), orientation="oblique")
    iop = np.asarray(g.image_orientation)
    # no direction cosine is 0 or 1 except the one untouched by the first rotation
    assert np.count_nonzero(np.isclose(np.abs(iop), 0.0) | np.isclose(np.abs(iop), 1.0)) == 1
    assert np.degrees(np.arccos(abs(g.normal[2]))) > 20.0  # tilted away from the axial normal


def test_default_origin_centres_the_grid_and_an_explicit_one_is_kept():
    g = samples.make_grid((11, 21, 31), (2.0, 0.5, 0.5), orientation="oblique")
    assert np.allclose(g.index_to_world([5, 10, 15]), 0.0, atol=1e-9)
    g = samples.make_grid((2, 2, 2), (1, 1, 1), origin=(-10.0, 20.0, 30.5))
    assert np.allclose(g.origin, (-10.0, 20.0, 30.5))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"orientation": (1, 0, 0, 0.1, 1, 0)},
        {"orientation": (1, 0, 0, 0, 1)},
        {"orientation": "transverse"},
        {"spacing": (0, 1, 1)},
        {"shape": (0, 4, 4)},
    ],
)
def test_make_grid_rejects_bad_input(kwargs):
    with pytest.raises(ValueError):
        samples.make_grid(**kwargs)


# ------------------------------------------------------------------------------------------ series
def test_written_files_carry_the_grid_geometry_and_pixels(tmp_path):
    g = samples.make_grid((4, 6, 8), (3.0, 0.7, 1.1), origin=(-12.5, 40.0, 100.25), orientation="oblique")
    vol = _volume(g.shape)
    info = samples.write_series(tmp_path, vol, g, modality="CT")
    assert len(info.files) == len(info.sop_instance_uids) == 4
    for k, path in enumerate(info.files):
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert ds.SOPClassUID == pydicom.uid.CTImageStorage
        assert ds.SOPInstanceUID == info.sop_instance_uids[k]
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert np.allclose([float(v) for v in ds.ImagePositionPatient], g.slice_position(k))
        assert np.allclose([float(v) for v in ds.ImageOrientationPatient], g.image_orientation)
        assert [float(v) for v in ds.PixelSpacing] == [0.7, 1.1]
        assert float(ds.SliceThickness) == pytest.approx(3.0)
        assert float(ds.SliceLocation) == pytest.approx(float(g.slice_position(k) @ g.normal))
        assert ds.InstanceNumber == k + 1
        assert (ds.Rows, ds.Columns) == (6, 8)
        assert ds.SpecificCharacterSet == "ISO_IR 100"
        assert ds.PatientPosition == "HFS"
        assert np.array_equal(ds.pixel_array, vol[k])
        assert float(ds.RescaleSlope) == 1.0 and float(ds.RescaleIntercept) == 0.0
        assert ds.FrameOfReferenceUID == info.frame_of_reference_uid
        assert ds.StudyInstanceUID == info.study_instance_uid
        assert ds.SeriesInstanceUID == info.series_instance_uid


CASES = {
    "axial CT": dict(orientation="axial", spacing=(2.5, 0.8, 0.8), modality="CT"),
    "sagittal CT": dict(orientation="sagittal", spacing=(1.5, 1.0, 1.0), modality="CT"),
    "coronal CT": dict(orientation="coronal", spacing=(2.0, 1.0, 0.9), modality="CT"),
    "oblique CT": dict(orientation="oblique", spacing=(3.0, 0.9, 0.9), modality="CT"),
    "non-square pixels": dict(orientation="axial", spacing=(2.0, 0.7, 1.1), modality="CT"),
    "reverse instance numbers": dict(
        orientation="oblique", spacing=(2.0, 0.7, 1.1), modality="CT", reverse_instance_numbers=True
    ),
    "MR oblique": dict(orientation="oblique", spacing=(1.2, 0.9, 0.7), modality="MR"),
    "PT axial": dict(orientation="axial", spacing=(4.0, 4.0, 4.0), modality="PT"),
    "PT sagittal": dict(orientation="sagittal", spacing=(3.0, 2.0, 2.0), modality="PT"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_read_source_series_recovers_the_grid_and_slice_order(tmp_path, case):
    opts = dict(CASES[case])
    g = samples.make_grid(
        (7, 12, 10), opts.pop("spacing"), origin=(-33.3, 12.1, -80.7), orientation=opts.pop("orientation")
    )
    vol = np.clip(_volume(g.shape), 0, None).astype(np.int16)
    info = samples.write_series(tmp_path / "series", vol, g, **opts)
    src = read_source_series(tmp_path / "series")
    assert np.allclose(src.grid.affine, g.affine)
    assert src.grid.matches(g)
    assert src.sop_instance_uids == info.sop_instance_uids
    assert [Path(f).name for f in src.files] == _names(info)
    assert src.modality == info.modality
    assert src.sop_class_uid == info.sop_class_uid
    assert src.series_instance_uid == info.series_instance_uid
    assert src.frame_of_reference_uid == info.frame_of_reference_uid


def test_decimal_strings_fit_in_16_characters(tmp_path):
    # this oblique grid puts a slice at 9.999999999999998 mm, which naive formatting writes in 17
    g = samples.make_grid((12, 40, 36), (4.0, 0.9, 0.9), orientation="oblique")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = samples.write_series(tmp_path, _volume(g.shape), g, modality="MR")
    for path in info.files:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        for elem in ds.iterall():
            if elem.VR == "DS":
                values = elem.value if elem.VM > 1 else [elem.value]
                assert all(len(str(v)) <= 16 for v in values), elem
    assert np.allclose(read_source_series(tmp_path).grid.affine, g.affine)


def test_reverse_instance_numbers_count_down_in_slice_order(tmp_path):
    g = samples.make_grid((5, 4, 4), (1, 1, 1))
    info = samples.write_series(tmp_path, _volume(g.shape), g, reverse_instance_numbers=True)
    numbers = [pydicom.dcmread(f, stop_before_pixels=True).InstanceNumber for f in info.files]
    assert numbers == [5, 4, 3, 2, 1] == info.instance_numbers


@pytest.mark.parametrize("n", [2, 3, 4, 10, 40])
def test_random_file_names_are_not_in_slice_order(tmp_path, n):
    g = samples.make_grid((n, 4, 4), (1, 1, 1))
    info = samples.write_series(tmp_path, _volume(g.shape), g, file_names="random")
    names = _names(info)
    assert len(set(names)) == n
    assert sorted(names) != names
    if n >= 3:
        assert sorted(names) != names[::-1]
    assert sorted(os.listdir(tmp_path)) == sorted(names)


def test_random_file_names_follow_the_seed(tmp_path):
    g = samples.make_grid((6, 4, 4), (1, 1, 1))
    vol = _volume(g.shape)
    a = samples.write_series(tmp_path / "a", vol, g, seed=3)
    b = samples.write_series(tmp_path / "b", vol, g, seed=3)
    c = samples.write_series(tmp_path / "c", vol, g, seed=4)
    assert _names(a) == _names(b) != _names(c)


def test_other_file_name_modes(tmp_path):
    g = samples.make_grid((3, 4, 4), (1, 1, 1))
    vol = _volume(g.shape)
    inst = samples.write_series(tmp_path / "i", vol, g, file_names="instance", reverse_instance_numbers=True)
    assert _names(inst) == ["IM00003.dcm", "IM00002.dcm", "IM00001.dcm"]
    sl = samples.write_series(tmp_path / "s", vol, g, file_names="slice")
    assert _names(sl) == ["slice_0000.dcm", "slice_0001.dcm", "slice_0002.dcm"]
    sop = samples.write_series(tmp_path / "u", vol, g, file_names="sop")
    assert _names(sop) == [f"{u}.dcm" for u in sop.sop_instance_uids]
    fn = samples.write_series(tmp_path / "f", vol, g, file_names=lambda k, ds: f"z{9 - k}.dcm")
    assert _names(fn) == ["z9.dcm", "z8.dcm", "z7.dcm"]


def test_uids_are_new_on_every_call_unless_seeded_or_given(tmp_path):
    g = samples.make_grid((2, 4, 4), (1, 1, 1))
    vol = _volume(g.shape)
    a = samples.write_series(tmp_path / "a", vol, g)
    b = samples.write_series(tmp_path / "b", vol, g)
    assert a.study_instance_uid != b.study_instance_uid
    assert a.series_instance_uid != b.series_instance_uid
    assert not set(a.sop_instance_uids) & set(b.sop_instance_uids)
    c = samples.write_series(tmp_path / "c", vol, g, uid_seed="x")
    d = samples.write_series(tmp_path / "d", vol, g, uid_seed="x")
    assert (c.study_instance_uid, c.series_instance_uid, c.frame_of_reference_uid, c.sop_instance_uids) == (
        d.study_instance_uid,
        d.series_instance_uid,
        d.frame_of_reference_uid,
        d.sop_instance_uids,
    )
    assert len(set(c.sop_instance_uids)) == 2
    e = samples.write_series(
        tmp_path / "e",
        vol,
        g,
        modality="PT",
        study_uid=a.study_instance_uid,
        frame_of_reference_uid=a.frame_of_reference_uid,
        series_number=2,
    )
    assert e.study_instance_uid == a.study_instance_uid
    assert e.frame_of_reference_uid == a.frame_of_reference_uid
    assert e.series_instance_uid != a.series_instance_uid
    for u in (*a.sop_instance_uids, a.study_instance_uid, c.series_instance_uid):
        assert pydicom.uid.UID(u).is_valid


def test_mr_files_carry_the_mr_image_module(tmp_path):
    g = samples.make_grid((2, 4, 4), (1.5, 1, 1))
    info = samples.write_series(tmp_path, _volume(g.shape), g, modality="MR")
    ds = pydicom.dcmread(info.files[0])
    assert ds.SOPClassUID == pydicom.uid.MRImageStorage
    for kw in (
        "ScanningSequence",
        "SequenceVariant",
        "MRAcquisitionType",
        "RepetitionTime",
        "EchoTime",
        "EchoTrainLength",
        "MagneticFieldStrength",
        "ScanOptions",
    ):
        assert kw in ds, kw
    assert float(ds.SpacingBetweenSlices) == pytest.approx(1.5)
    assert "RescaleSlope" not in ds


def test_pet_files_carry_what_suv_needs(tmp_path):
    g = samples.make_grid((3, 4, 4), (4, 4, 4))
    vol = np.abs(_volume(g.shape)).astype(np.int16)
    info = samples.write_series(tmp_path, vol, g, modality="PT", rescale_slope=[0.5, 0.25, 2.0])
    for k, path in enumerate(info.files):
        ds = pydicom.dcmread(path)
        assert ds.SOPClassUID == pydicom.uid.PositronEmissionTomographyImageStorage
        assert ds.Units == "BQML" and ds.DecayCorrection == "START"
        assert "DECY" in ds.CorrectedImage and "ATTN" in ds.CorrectedImage
        assert float(ds.PatientWeight) > 0
        rp = ds.RadiopharmaceuticalInformationSequence[0]
        assert float(rp.RadionuclideTotalDose) > 0 and float(rp.RadionuclideHalfLife) == pytest.approx(6586.2)
        assert rp.RadionuclideCodeSequence[0].CodeValue == "77004003"  # 18F
        assert rp.RadiopharmaceuticalStartTime < ds.SeriesTime
        assert float(ds.RescaleSlope) == [0.5, 0.25, 2.0][k] and float(ds.RescaleIntercept) == 0.0
        assert ds.NumberOfSlices == 3 and ds.ImageIndex == k + 1
        assert "PatientPosition" not in ds  # PET uses PatientOrientationCodeSequence instead
        assert np.array_equal(ds.pixel_array, vol[k])


def test_write_series_rejects_bad_input(tmp_path):
    g = samples.make_grid((2, 4, 4), (1, 1, 1))
    vol = _volume(g.shape)
    with pytest.raises(ValueError, match="does not match"):
        samples.write_series(tmp_path, vol[:1], g)
    with pytest.raises(TypeError, match="integers"):
        samples.write_series(tmp_path, vol.astype(float), g)
    with pytest.raises(ValueError, match="modality"):
        samples.write_series(tmp_path, vol, g, modality="US")
    with pytest.raises(ValueError, match="PET RescaleIntercept"):
        samples.write_series(tmp_path, vol, g, modality="PT", rescale_intercept=-10)
    with pytest.raises(ValueError, match="file_names"):
        samples.write_series(tmp_path, vol, g, file_names="alphabetical")
    assert list(tmp_path.iterdir()) == []


def test_series_options_are_checked_once_on_construction():
    assert samples.SeriesOptions(modality="pet").modality == "PT"
    assert samples.SeriesOptions(modality="mr").modality == "MR"
    with pytest.raises(ValueError, match="modality 'US'"):
        samples.SeriesOptions(modality="US")
    with pytest.raises(ValueError, match="file_names"):
        samples.SeriesOptions(file_names="alphabetical")
    with pytest.raises(ValueError, match="MR Image Storage has no rescale"):
        samples.SeriesOptions(modality="MR", rescale_slope=2.0)
    with pytest.raises(ValueError, match="PET RescaleIntercept"):
        samples.SeriesOptions(modality="PT", rescale_intercept=1)


def test_options_object_and_keyword_fields_write_the_same_series(tmp_path):
    g = samples.make_grid((3, 6, 5), (2.0, 1.0, 1.0))
    vol = _volume(g.shape)
    options = samples.SeriesOptions(modality="MR", uid_seed="same", file_names="slice", series_number=4)
    a = samples.write_series(tmp_path / "a", vol, g, options)
    b = samples.write_series(
        tmp_path / "b", vol, g, modality="MR", uid_seed="same", file_names="slice", series_number=4
    )
    c = samples.write_series(
        tmp_path / "c", vol, g, options, series_number=5
    )  # a field replaces the option's
    assert _names(a) == _names(b) and a.sop_instance_uids == b.sop_instance_uids
    for fa, fb in zip(a.files, b.files):
        assert Path(fa).read_bytes() == Path(fb).read_bytes()
    assert pydicom.dcmread(c.files[0]).SeriesNumber == 5 and c.modality == "MR"


# ------------------------------------------------------------------------------------------ phantom
@pytest.fixture(scope="module")
def phantom_128():
    return samples.phantom((40, 128, 128), seed=0)


def test_phantom_has_all_five_labels_with_plausible_sizes(phantom_128):
    ct, labels, segments = phantom_128
    assert ct.dtype == np.int16 and labels.dtype == np.uint8 and ct.shape == labels.shape == (40, 128, 128)
    counts = np.bincount(labels.ravel(), minlength=6)
    assert counts.size == 6 and np.all(counts[1:] > 0)
    liver, spleen, kid_r, kid_l, lesion = counts[1:]
    body = np.count_nonzero(ct > -500)
    assert 0.02 < liver / body < 0.2
    assert liver > spleen > lesion and liver > kid_r and liver > kid_l
    assert 0.5 < kid_r / kid_l < 2.0
    assert 0.001 < lesion / liver < 0.05
    assert [s["labelID"] for s in segments] == [1, 2, 3, 4, 5]


def test_phantom_intensities_look_like_abdominal_ct(phantom_128):
    ct, labels, _ = phantom_128
    assert ct[:, 0, 0].mean() == pytest.approx(-1000, abs=15)  # air in the corners
    means = [ct[labels == i].mean() for i in range(1, 6)]
    assert 45 < means[0] < 75  # liver
    assert 35 < means[1] < 65  # spleen
    assert means[2] > 100 and means[3] > 100  # enhancing kidneys
    assert means[4] < means[0] - 25  # hypodense lesion
    assert ct.max() > 500  # bone


def test_phantom_anatomy_is_on_the_right_side(phantom_128):
    """Axial LPS: column index grows to the patient's left, row index to posterior."""
    _, labels, _ = phantom_128
    centroid = {i: np.argwhere(labels == i).mean(axis=0) for i in range(1, 6)}
    half_r, half_c = labels.shape[1] / 2, labels.shape[2] / 2
    assert centroid[1][2] < half_c  # liver on the patient's right
    assert centroid[2][2] > half_c  # spleen on the left
    assert centroid[3][2] < half_c < centroid[4][2]  # right kidney right, left kidney left
    assert centroid[3][1] > half_r and centroid[4][1] > half_r  # kidneys posterior
    assert centroid[1][0] > centroid[3][0]  # liver above the kidneys


def test_phantom_lesion_lies_inside_the_liver(phantom_128):
    _, labels, _ = phantom_128
    lesion = labels == 5
    grown = lesion.copy()  # 6-neighbourhood dilation
    grown[1:] |= lesion[:-1]
    grown[:-1] |= lesion[1:]
    grown[:, 1:] |= lesion[:, :-1]
    grown[:, :-1] |= lesion[:, 1:]
    grown[:, :, 1:] |= lesion[:, :, :-1]
    grown[:, :, :-1] |= lesion[:, :, 1:]
    shell = labels[grown & ~lesion]
    assert shell.size > 0 and np.all(shell == 1)


def test_phantom_is_reproducible_and_scales(phantom_128):
    ct, labels, _ = samples.phantom((40, 128, 128), seed=0)
    assert np.array_equal(ct, phantom_128[0]) and np.array_equal(labels, phantom_128[1])
    ct2, labels2, _ = samples.phantom((40, 128, 128), seed=1)
    assert not np.array_equal(ct, ct2) and np.array_equal(labels, labels2)
    small_ct, small_labels, _ = samples.phantom((8, 32, 32))
    assert set(np.unique(small_labels)) == {0, 1, 2, 3, 4, 5}
    assert small_ct.shape == (8, 32, 32)


def test_phantom_segments_carry_snomed_codes_and_slicer_colours(phantom_128):
    segs = {s["labelID"]: s for s in phantom_128[2]}
    anatomy = {
        "CodeValue": "91723000",
        "CodingSchemeDesignator": "SCT",
        "CodeMeaning": "Anatomical Structure",
    }
    organs = [(1, codes.SCT.Liver), (2, codes.SCT.Spleen), (3, codes.SCT.Kidney), (4, codes.SCT.Kidney)]
    for i, code in organs:
        assert segs[i]["SegmentedPropertyCategoryCodeSequence"] == anatomy
        assert segs[i]["SegmentedPropertyTypeCodeSequence"]["CodeValue"] == code.value
    assert segs[3]["SegmentedPropertyTypeModifierCodeSequence"]["CodeValue"] == codes.SCT.Right.value
    assert segs[4]["SegmentedPropertyTypeModifierCodeSequence"]["CodeValue"] == codes.SCT.Left.value
    assert "SegmentedPropertyTypeModifierCodeSequence" not in segs[1]
    assert segs[5]["SegmentedPropertyTypeCodeSequence"]["CodeValue"] == codes.SCT.Neoplasm.value
    assert segs[5]["SegmentedPropertyCategoryCodeSequence"]["CodeValue"] == "49755003"
    assert segs[1]["recommendedDisplayRGBValue"] == [221, 130, 101]
    assert segs[2]["recommendedDisplayRGBValue"] == [157, 108, 162]
    for s in segs.values():
        assert s["SegmentAlgorithmType"] == "AUTOMATIC" and s["SegmentAlgorithmName"]
        assert s["SegmentLabel"] and s["SegmentDescription"]


def test_dcmqi_metadata_has_dcmqi_layout(phantom_128):
    meta = samples.dcmqi_metadata(phantom_128[2], SeriesNumber=42, ContentCreatorName="Reader^One")
    for key in (
        "ContentCreatorName",
        "ClinicalTrialSeriesID",
        "ClinicalTrialTimePointID",
        "ClinicalTrialCoordinatingCenterName",
        "SeriesDescription",
        "BodyPartExamined",
    ):
        assert isinstance(meta[key], str) and meta[key]
    assert meta["SeriesNumber"] == "42" and meta["InstanceNumber"] == "1"
    assert meta["ContentCreatorName"] == "Reader^One"
    assert len(meta["segmentAttributes"]) == 1
    assert [s["labelID"] for s in meta["segmentAttributes"][0]] == [1, 2, 3, 4, 5]
    assert json.loads(json.dumps(meta)) == meta
    meta["segmentAttributes"][0][0]["SegmentLabel"] = "changed"
    assert phantom_128[2][0]["SegmentLabel"] == "Liver"  # a copy, not the caller's dicts


# ------------------------------------------------------------------------------------------ many segments
@pytest.mark.parametrize(
    ("shape", "n"),
    [((60, 96, 96), 1), ((60, 96, 96), 10), ((60, 96, 96), 100), ((40, 64, 64), 300), ((6, 16, 16), 300)],
)
def test_many_segments_labelmap_has_exactly_n_labels(shape, n):
    labels, segments = samples.many_segments_labelmap(shape, n, seed=0)
    assert labels.shape == shape
    assert labels.dtype == (np.uint8 if n <= 255 else np.uint16)
    present = np.unique(labels)
    assert np.array_equal(present[present > 0], np.arange(1, n + 1))
    assert [s["labelID"] for s in segments] == list(range(1, n + 1))
    assert len({s["SegmentLabel"] for s in segments}) == n


def test_many_segments_are_mostly_small_and_thin_with_a_few_large_ones():
    labels, _ = samples.many_segments_labelmap((80, 128, 128), 100, seed=2)
    spans = np.zeros(101, int)
    for k in range(labels.shape[0]):
        spans[np.unique(labels[k])] += 1
    spans = spans[1:]
    counts = np.bincount(labels.ravel(), minlength=101)[1:]
    assert np.median(spans) <= 10
    assert np.count_nonzero(spans >= 0.3 * labels.shape[0]) >= 1
    assert counts.max() > 50 * np.median(counts)


def test_many_segments_use_cid_7151_types_with_matching_categories():
    _, segments = samples.many_segments_labelmap((20, 64, 64), 300, seed=0)
    cid7151 = {getattr(codes.cid7151, k).value for k in codes.cid7151.dir()}
    categories = {getattr(codes.cid7150, k).value for k in codes.cid7150.dir()}
    by_category = {
        "85756007": codes.cid7191,
        "91723000": codes.cid7192,
        "260787004": codes.cid7193,
        "49755003": codes.cid7194,
        "246464006": codes.cid7195,
        "309825002": codes.cid7196,
        "91720002": codes.cid7197,
        "105590001": codes.cid7198,
    }
    seen_categories = set()
    for s in segments:
        t = s["SegmentedPropertyTypeCodeSequence"]
        c = s["SegmentedPropertyCategoryCodeSequence"]["CodeValue"]
        assert t["CodingSchemeDesignator"] == "SCT"
        assert t["CodeValue"] in cid7151
        assert c in categories
        members = {getattr(by_category[c], k).value for k in by_category[c].dir()}
        assert t["CodeValue"] in members
        seen_categories.add(c)
    assert len(seen_categories) >= 1


def test_many_segments_follow_the_seed():
    a, _ = samples.many_segments_labelmap((20, 48, 48), 30, seed=5)
    b, _ = samples.many_segments_labelmap((20, 48, 48), 30, seed=5)
    c, _ = samples.many_segments_labelmap((20, 48, 48), 30, seed=6)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_many_segments_rejects_impossible_requests():
    with pytest.raises(ValueError):
        samples.many_segments_labelmap((2, 2, 2), 9)
    with pytest.raises(ValueError):
        samples.many_segments_labelmap((10, 10, 10), 0)


# ------------------------------------------------------------------------------------------ dciodvfy
def _local_tool(name):
    home = Path(os.environ.get("DICOMAI_PEERS_HOME", Path.home() / ".cache" / "dicomai-peers"))
    exe = home / "venv" / "bin" / name
    found = str(exe) if exe.is_file() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} (dicom3tools) is not installed")
    return found


def _validate(path):
    """dciodvfy Error lines for one file."""
    if peers is not None:
        peers.require("dciodvfy")
        return peers.dciodvfy(path).errors
    out = subprocess.run([_local_tool("dciodvfy"), path], capture_output=True, text=True, errors="replace")
    return [ln for ln in (out.stdout + out.stderr).splitlines() if ln.startswith(("Error", "Abort"))]


def _validate_entities(paths):
    if peers is not None:
        peers.require("dcentvfy")
        return peers.dcentvfy(paths).errors
    out = subprocess.run(
        [_local_tool("dcentvfy"), *map(str, paths)], capture_output=True, text=True, errors="replace"
    )
    return [ln for ln in (out.stdout + out.stderr).splitlines() if ln.startswith(("Error", "Abort"))]


@pytest.mark.interop
@pytest.mark.parametrize("modality", ["CT", "MR", "PT"])
def test_dciodvfy_and_dcentvfy_find_no_errors(tmp_path, modality):
    g = samples.make_grid((4, 32, 24), (2.0, 0.7, 1.1), orientation="oblique")
    ct, _, _ = samples.phantom((4, 32, 24))
    vol = ct if modality == "CT" else np.clip(ct + 1000, 0, None).astype(np.int16)
    info = samples.write_series(tmp_path, vol, g, modality=modality, reverse_instance_numbers=True)
    for path in (info.files[0], info.files[-1]):
        assert _validate(path) == [], path
    assert _validate_entities(info.files) == []
