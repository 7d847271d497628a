"""LABELMAP and FRACTIONAL SEG, compression, the automatic type choice, and the decoder's own
reading of per-frame functional groups: round trips through files, voxel for voxel."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest
from series_cases import KINDS, overlapping_masks, write_case

import dicomai_samples as samples
from dicomai.cli import main as cli
from dicomai.errors import InputError
from dicomai.imageio import read_image, read_labelmap, write_image, write_seg_nrrd
from dicomai.seg import decode
from dicomai.seg.content import SegmentationContent, SegmentInfo
from dicomai.seg.decode import read_seg
from dicomai.seg.encode import ALLOWED_COMPRESSIONS, COMPRESSIONS, DEFAULT_COMPRESSION, write_seg
from dicomai.seg.metadata import load_metadata, segments_for_labels
from dicomai.source import read_source_series
from dicomai_samples import dcmqi_metadata, phantom_segments
from shared_data import REALDATA  # noqa: E402

LABELMAP_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.7"


@pytest.fixture(scope="module", params=sorted(KINDS))
def case(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"types-{request.param}")
    info, labels = write_case(folder / "src", request.param)
    return request.param, info, read_source_series(info.folder), labels, folder


@pytest.fixture(scope="module")
def axial(tmp_path_factory):
    folder = tmp_path_factory.mktemp("types-axial")
    info, labels = write_case(folder / "src", "axial")
    return info, read_source_series(info.folder), labels, folder


def _content(labels, source, keep=(1, 2, 3, 4, 5)):
    lab = np.where(np.isin(labels, keep), labels, 0).astype(np.uint8)
    meta = load_metadata(dcmqi_metadata([s for s in phantom_segments() if s["labelID"] in keep]))
    return SegmentationContent.from_labelmap(lab, source.grid, segments_for_labels(sorted(keep), meta, []))


def _probabilities(labels, seed=0):
    """Smooth-ish probabilities: high inside each phantom organ, fading outside, exact 0 far away."""
    rng = np.random.default_rng(seed)
    out = {}
    for n in (1, 2):
        p = np.where(labels == n, rng.uniform(0.5, 1.0, labels.shape), 0.0)
        p[(labels == 0) & (rng.uniform(size=labels.shape) < 0.05)] = 0.3
        out[n] = p.astype(np.float32)
    return out


def _fractional_content(labels, source, **kwargs):
    content = _content(labels, source, keep=(1, 2))
    content.fractions = _probabilities(labels)
    content.layers = []
    return content


# ------------------------------------------------------------------------------------ LABELMAP
def test_labelmap_round_trip_on_every_series_kind(case):
    kind, info, source, labels, folder = case
    out = folder / "labelmap.dcm"
    result = write_seg(_content(labels, source), source, out, segmentation_type="LABELMAP", overwrite=True)
    assert result.segmentation_type == "LABELMAP" and result.engine == "fast"
    assert result.transfer_syntax_uid == COMPRESSIONS[DEFAULT_COMPRESSION["LABELMAP"]]
    ds = pydicom.dcmread(out)
    assert ds.SOPClassUID == LABELMAP_SOP_CLASS and ds.SegmentationType == "LABELMAP"
    assert ds.BitsAllocated == 8 and ds.PixelPaddingValue == 0
    # background is the Pixel Padding Value 0 with no Segment Sequence item: an item numbered 0 is
    # listed as a segment by OHIF and shifts its colours (docs/seg-types.md)
    assert [int(s.SegmentNumber) for s in ds.SegmentSequence] == [1, 2, 3, 4, 5]
    assert "Background" not in [s.SegmentLabel for s in ds.SegmentSequence]
    assert int(ds.NumberOfFrames) == int(labels.reshape(labels.shape[0], -1).any(axis=1).sum())
    back = read_seg(out, source)
    assert back.segmentation_type == "LABELMAP"
    assert [s.label for s in back.segments] == [s["SegmentLabel"] for s in phantom_segments()]
    assert np.array_equal(back.labelmap(), labels)
    assert "BackgroundSegmentLabel" not in back.attributes
    alone = read_seg(out)  # placed by its own plane positions
    for n in range(1, 6):
        idx = np.argwhere(alone.mask(n))
        on_source = np.round(source.grid.world_to_index(alone.grid.index_to_world(idx))).astype(int)
        assert len(idx) == int((labels == n).sum()) and (labels[tuple(on_source.T)] == n).all()


@pytest.mark.parametrize("compression", ["none", "rle", "jpeg-ls", "deflate"])
def test_labelmap_with_300_segments_is_16_bit_and_exact(tmp_path, compression):
    grid = samples.make_grid(shape=(8, 48, 40), spacing=(2.0, 0.9, 0.9))
    info = samples.write_series(tmp_path / "src", np.zeros(grid.shape, np.int16), grid)
    source = read_source_series(info.folder)
    labels, segs = samples.many_segments_labelmap(grid.shape, 300)
    assert labels.dtype == np.uint16
    meta = load_metadata(dcmqi_metadata(segs))
    content = SegmentationContent.from_labelmap(labels, grid, segments_for_labels(range(1, 301), meta, []))
    out = tmp_path / "300.dcm"
    result = write_seg(content, source, out, segmentation_type="LABELMAP", compression=compression)
    assert len(result.segments) == 300
    ds = pydicom.dcmread(out)
    assert ds.BitsAllocated == 16 and ds.BitsStored == 16 and ds.HighBit == 15
    assert len(ds.SegmentSequence) == 300  # no item for background 0
    back = read_seg(out, source)
    assert len(back.segments) == 300
    assert np.array_equal(back.labelmap(), labels)
    assert [s.label for s in back.segments] == [s["SegmentLabel"] for s in segs]


def test_labelmap_numbers_segments_like_binary_when_label_values_have_gaps(axial, tmp_path):
    info, source, labels, _ = axial
    content = _content(labels, source, keep=(2, 5))
    out = tmp_path / "gaps.dcm"
    write_seg(content, source, out, segmentation_type="LABELMAP")
    back = read_seg(out, source)
    assert [s.number for s in back.segments] == [1, 2]
    assert np.array_equal(back.mask(1), labels == 2) and np.array_equal(back.mask(2), labels == 5)


# ------------------------------------------------------------------------------------ compression
ROUND_TRIPS = [(t, c) for t in ("BINARY", "LABELMAP", "FRACTIONAL") for c in ALLOWED_COMPRESSIONS[t]]


@pytest.mark.parametrize("engine", ["fast", "highdicom"])
@pytest.mark.parametrize("seg_type,compression", ROUND_TRIPS, ids=[f"{t}-{c}" for t, c in ROUND_TRIPS])
def test_every_type_and_compression_round_trips(axial, tmp_path, seg_type, compression, engine):
    info, source, labels, _ = axial
    content = _fractional_content(labels, source) if seg_type == "FRACTIONAL" else _content(labels, source)
    out = tmp_path / "seg.dcm"
    result = write_seg(
        content, source, out, segmentation_type=seg_type, compression=compression, engine=engine
    )
    assert (
        pydicom.dcmread(out, stop_before_pixels=True).file_meta.TransferSyntaxUID == COMPRESSIONS[compression]
    )
    assert result.transfer_syntax_uid == COMPRESSIONS[compression]
    back = read_seg(out, source)
    if seg_type == "FRACTIONAL":
        for n, original in content.fractions.items():
            assert np.abs(back.fractions[n] - original).max() <= 0.5 / 255 + 1e-6
    else:
        for n in range(1, 6):
            assert np.array_equal(back.mask(n), labels == n), f"segment {n}"


def test_a_compression_the_type_cannot_use_is_refused(axial, tmp_path):
    info, source, labels, _ = axial
    for compression in ("rle", "jpeg-ls"):
        with pytest.raises(InputError, match="BINARY SEG cannot use"):
            write_seg(_content(labels, source), source, tmp_path / "x.dcm", compression=compression)
    with pytest.raises(InputError, match="not one of"):
        write_seg(_content(labels, source), source, tmp_path / "x.dcm", compression="zip")
    assert not (tmp_path / "x.dcm").exists()


# ------------------------------------------------------------------------------------ FRACTIONAL
@pytest.mark.parametrize("max_value", [255, 100, 1])
@pytest.mark.parametrize("fractional_type", ["PROBABILITY", "OCCUPANCY"])
def test_fractional_values_come_back_within_one_quantization_step(
    axial, tmp_path, max_value, fractional_type
):
    info, source, labels, _ = axial
    content = _fractional_content(labels, source)
    out = tmp_path / "f.dcm"
    result = write_seg(
        content,
        source,
        out,
        segmentation_type="FRACTIONAL",
        fractional_type=fractional_type,
        max_fractional_value=max_value,
    )
    ds = pydicom.dcmread(out, stop_before_pixels=True)
    assert ds.SegmentationFractionalType == fractional_type and ds.MaximumFractionalValue == max_value
    assert ds.SegmentsOverlap == "UNDEFINED"
    back = read_seg(out, source)
    assert back.fractional_type == fractional_type and back.max_fractional_value == max_value
    for n, original in content.fractions.items():
        step = 1.0 / max_value
        assert np.abs(back.fractions[n] - original).max() <= step / 2 + 1e-6
        # values that round to 0 are not stored: a voxel "present" at 0.3 stays present
        assert np.array_equal(back.fractions[n] > 0, np.round(original * max_value) > 0)
    assert result.number_of_frames == sum(
        int((np.round(a * max_value) > 0).reshape(a.shape[0], -1).any(axis=1).sum())
        for a in content.fractions.values()
    )


def test_integer_probability_maps_are_written_unchanged(axial, tmp_path):
    from dicomai.seg.probability import content_from_probability_maps

    info, source, labels, _ = axial
    rng = np.random.default_rng(3)
    stored = np.where(labels == 1, rng.integers(1, 101, labels.shape), 0).astype(np.uint8)
    path = tmp_path / "p.nrrd"
    write_image(path, stored, source.grid)
    content = content_from_probability_maps([path], None, max_fractional_value=100)
    out = tmp_path / "f.dcm"
    write_seg(content, source, out, segmentation_type="FRACTIONAL", max_fractional_value=100)
    frames = pydicom.dcmread(out).pixel_array
    assert int(frames.max()) == int(stored.max()) and int(frames.sum()) == int(stored.sum())
    back = read_seg(out, source)
    assert np.array_equal(np.round(back.fractions[1] * 100).astype(np.uint8), stored)


def test_probability_maps_out_of_range_are_refused_with_the_file_name(axial, tmp_path):
    from dicomai.seg.probability import content_from_probability_maps

    info, source, labels, _ = axial
    bad = tmp_path / "bad.nrrd"
    write_image(bad, np.full(source.grid.shape, 1.5, np.float32), source.grid)
    with pytest.raises(InputError, match="bad.nrrd.*0..1"):
        content_from_probability_maps([bad])
    ints = tmp_path / "ints.nrrd"
    write_image(ints, np.full(source.grid.shape, 200, np.uint8), source.grid)
    with pytest.raises(InputError, match="--max-fractional-value 200"):
        content_from_probability_maps([ints], max_fractional_value=100)
    nan = tmp_path / "nan.nrrd"
    write_image(nan, np.full(source.grid.shape, np.nan, np.float32), source.grid)
    with pytest.raises(InputError, match="NaN"):
        content_from_probability_maps([nan])


def test_cli_exports_probability_maps_as_fractional_and_imports_them_back(axial, tmp_path, capsys):
    info, source, labels, _ = axial
    probs = _probabilities(labels)
    paths = []
    for n, p in probs.items():
        paths.append(tmp_path / f"prob{n}.nii.gz")
        write_image(paths[-1], p, source.grid)
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps(dcmqi_metadata([s for s in phantom_segments() if s["labelID"] in (1, 2)])))
    out = tmp_path / "frac.dcm"
    args = ["export-seg", "--source", str(info.folder), "--probability", *map(str, paths)]
    rc = cli([*args, "--metadata", str(meta), "--out", str(out), "--fractional-type", "occupancy", "--json"])
    assert rc == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert report["segmentation_type"] == "FRACTIONAL" and report["compression"] == "none"
    assert [s["label"] for s in report["segments"]] == ["Liver", "Spleen"]
    ds = pydicom.dcmread(out, stop_before_pixels=True)
    assert ds.SegmentationFractionalType == "OCCUPANCY"
    rc = cli(["import-seg", str(out), "--source", str(info.folder), "--out", str(tmp_path / "back.nrrd")])
    assert rc == 0, capsys.readouterr().err
    for n, p in probs.items():
        back, grid = read_image(tmp_path / f"back-probability-{n}.nrrd")
        assert grid.matches(source.grid)
        assert np.abs(back - p).max() <= 0.5 / 255 + 1e-6
    # --probability implies fractional; asking for another type is an error
    assert cli([*args, "--out", str(tmp_path / "x.dcm"), "--type", "labelmap"]) == 1
    assert "FRACTIONAL" in capsys.readouterr().err


def test_cli_probability_file_without_metadata_is_named_after_the_file(axial, tmp_path, capsys):
    info, source, labels, _ = axial
    path = tmp_path / "liver.nrrd"
    write_image(path, _probabilities(labels)[1], source.grid)
    out = tmp_path / "f.dcm"
    rc = cli(
        ["export-seg", "--source", str(info.folder), "--probability", str(path), "--out", str(out), "-q"]
    )
    assert rc == 0, capsys.readouterr().err
    segment = pydicom.dcmread(out, stop_before_pixels=True).SegmentSequence[0]
    assert segment.SegmentLabel == "liver"
    assert segment.SegmentedPropertyTypeCodeSequence[0].CodeMeaning == "Liver"


# ------------------------------------------------------------------------------------ type choice
def _write_overlap_seg_nrrd(labels, source, path, overlapping=True):
    masks = overlapping_masks(labels)
    if not overlapping:  # disjoint segments that still sit in two layers
        masks = [labels == 1, labels == 2, labels == 3]
    segs = [SegmentInfo(number=i + 1, label=n) for i, n in enumerate(["liver", "lesion", "box"])]
    content = SegmentationContent.from_masks(masks, source.grid, segs)
    if not overlapping:
        layers = [np.where(labels == 1, 1, 0).astype(np.uint8), np.where(labels == 2, 1, 0).astype(np.uint8)]
        layers[1][labels == 3] = 2
        content.layers = layers
        for s, (li, v) in zip(content.segments, [(0, 1), (1, 1), (1, 2)]):
            s.layer, s.label_value = li, v
    write_seg_nrrd(path, content)
    return masks


def test_overlapping_segments_as_labelmap_is_a_clear_error(axial, tmp_path, capsys):
    info, source, labels, _ = axial
    seg_nrrd = tmp_path / "overlap.seg.nrrd"
    _write_overlap_seg_nrrd(labels, source, seg_nrrd)
    out = tmp_path / "o.dcm"
    rc = cli(
        [
            "export-seg",
            "--source",
            str(info.folder),
            "--labelmap",
            str(seg_nrrd),
            "--out",
            str(out),
            "--type",
            "labelmap",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1 and "overlap" in err and "--type binary" in err and "overlap.seg.nrrd" in err
    assert not out.exists()
    masks = overlapping_masks(labels)
    segs = [SegmentInfo(number=i + 1, label=n) for i, n in enumerate(["liver", "lesion", "box"])]
    with pytest.raises(InputError, match="overlap"):
        write_seg(
            SegmentationContent.from_masks(masks, source.grid, segs),
            source,
            out,
            segmentation_type="LABELMAP",
        )


def test_auto_writes_binary_when_segments_overlap_and_labelmap_otherwise(axial, tmp_path, capsys):
    info, source, labels, _ = axial
    seg_nrrd = tmp_path / "overlap.seg.nrrd"
    masks = _write_overlap_seg_nrrd(labels, source, seg_nrrd)
    out = tmp_path / "auto.dcm"
    rc = cli(
        [
            "export-seg",
            "--source",
            str(info.folder),
            "--labelmap",
            str(seg_nrrd),
            "--out",
            str(out),
            "--type",
            "auto",
            "-q",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    ds = pydicom.dcmread(out, stop_before_pixels=True)
    assert ds.SegmentationType == "BINARY" and ds.SegmentsOverlap == "YES"
    back = read_seg(out, source)
    for i, m in enumerate(masks, start=1):
        assert np.array_equal(back.mask(i), m)
    # disjoint segments in two layers: one LABELMAP
    disjoint = tmp_path / "disjoint.seg.nrrd"
    masks = _write_overlap_seg_nrrd(labels, source, disjoint, overlapping=False)
    out2 = tmp_path / "auto2.dcm"
    rc = cli(
        [
            "export-seg",
            "--source",
            str(info.folder),
            "--labelmap",
            str(disjoint),
            "--out",
            str(out2),
            "--type",
            "auto",
            "-q",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    assert pydicom.dcmread(out2, stop_before_pixels=True).SegmentationType == "LABELMAP"
    back = read_seg(out2, source)
    for i, m in enumerate(masks, start=1):
        assert np.array_equal(back.mask(i), m)
    # a plain labelmap never overlaps
    lab_path = tmp_path / "labels.nii.gz"
    write_image(lab_path, labels, source.grid)
    out3 = tmp_path / "auto3.dcm"
    assert (
        cli(
            [
                "export-seg",
                "--source",
                str(info.folder),
                "--labelmap",
                str(lab_path),
                "--out",
                str(out3),
                "--type",
                "auto",
                "-q",
            ]
        )
        == 0
    )
    assert pydicom.dcmread(out3, stop_before_pixels=True).SOPClassUID == LABELMAP_SOP_CLASS


def test_cli_default_stays_binary_and_compression_flag_is_honoured(axial, tmp_path, capsys):
    info, source, labels, _ = axial
    lab_path = tmp_path / "labels.nrrd"
    write_image(lab_path, labels, source.grid)
    out = tmp_path / "d.dcm"
    assert (
        cli(
            ["export-seg", "--source", str(info.folder), "--labelmap", str(lab_path), "--out", str(out), "-q"]
        )
        == 0
    )
    ds = pydicom.dcmread(out, stop_before_pixels=True)
    assert ds.SegmentationType == "BINARY" and ds.file_meta.TransferSyntaxUID == COMPRESSIONS["none"]
    capsys.readouterr()
    out2 = tmp_path / "j.dcm"
    args = ["export-seg", "--source", str(info.folder), "--labelmap", str(lab_path), "--out", str(out2)]
    assert cli([*args, "--type", "labelmap", "--compression", "jpeg-ls", "-q"]) == 0
    assert (
        pydicom.dcmread(out2, stop_before_pixels=True).file_meta.TransferSyntaxUID == COMPRESSIONS["jpeg-ls"]
    )
    assert cli([*args, "--compression", "rle", "--overwrite"]) == 1
    assert "cannot use rle" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ LABELMAP reading
def _relabel_pixels(ds, mapping):
    frames = ds.pixel_array.reshape(int(ds.NumberOfFrames), int(ds.Rows), int(ds.Columns))
    lut = np.arange(int(frames.max()) + max(mapping) + 2, dtype=frames.dtype)
    for a, b in mapping.items():
        lut[a] = b
    ds.PixelData = lut[frames].tobytes()


def test_labelmap_background_is_the_segment_named_by_pixel_padding_value(axial, tmp_path):
    info, source, labels, _ = axial
    out = tmp_path / "l.dcm"
    write_seg(_content(labels, source), source, out, segmentation_type="LABELMAP", compression="none")
    ds = pydicom.dcmread(out)
    _relabel_pixels(ds, {0: 9})  # background stored as 9
    ds.PixelPaddingValue = 9
    edited = tmp_path / "edited.dcm"
    ds.save_as(edited)
    back = read_seg(edited, source)
    assert [s.number for s in back.segments] == [1, 2, 3, 4, 5]
    assert np.array_equal(back.labelmap(), labels)
    # and described as a segment 9 "Background" (as highdicom writes segment 0): still background
    background = pydicom.Dataset()
    background.update(ds.SegmentSequence[0])
    background.SegmentNumber, background.SegmentLabel = 9, "Background"
    ds.SegmentSequence = [*ds.SegmentSequence, background]
    ds.save_as(edited)
    back = read_seg(edited, source)
    assert [s.number for s in back.segments] == [1, 2, 3, 4, 5]
    assert np.array_equal(back.labelmap(), labels)
    assert back.attributes["BackgroundSegmentLabel"] == "Background"


def test_labelmap_values_no_segment_describes_are_read_as_background_with_a_warning(axial, tmp_path):
    info, source, labels, _ = axial
    out = tmp_path / "l.dcm"
    write_seg(_content(labels, source), source, out, segmentation_type="LABELMAP", compression="none")
    ds = pydicom.dcmread(out)
    _relabel_pixels(ds, {5: 42})
    edited = tmp_path / "edited.dcm"
    ds.save_as(edited)
    back = read_seg(edited, source)
    assert np.array_equal(back.labelmap(), np.where(labels == 5, 0, labels))
    assert any("42" in w and "not described" in w for w in back.warnings)


# ------------------------------------------------------------------------------------ decoder internals
def _seg_files(tmp_path):
    files = []
    if REALDATA.is_dir():
        for p in sorted(REALDATA.rglob("*")):
            if p.is_file() and p.suffix in (".dcm", ".seg"):
                try:
                    if str(pydicom.dcmread(p, stop_before_pixels=True).SOPClassUID) in decode.SEG_SOP_CLASSES:
                        files.append(p)
                except Exception:
                    pass
    info, labels = write_case(tmp_path / "src", "oblique")
    source = read_source_series(info.folder)
    for t, c in ROUND_TRIPS:
        content = _fractional_content(labels, source) if t == "FRACTIONAL" else _content(labels, source)
        files.append(tmp_path / f"{t}-{c}.dcm")
        write_seg(content, source, files[-1], segmentation_type=t, compression=c)
    native = [f for f in files if f.name.endswith("-none.dcm")]
    ds = pydicom.dcmread(native[0])  # implicit VR, undefined-length sequences, as DCMTK writes
    for seq in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"):
        ds[seq].is_undefined_length = True
        for item in ds[seq].value:
            item.is_undefined_length_sequence_item = True
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    files.append(tmp_path / "implicit-undefined.dcm")
    ds.save_as(files[-1], implicit_vr=True, little_endian=True)
    return files


def test_reading_per_frame_groups_from_bytes_equals_pydicoms_reading(tmp_path, monkeypatch):
    files = _seg_files(tmp_path)
    # ours (every type and compression, plus an implicit-VR copy) and, when present, the 13 real SEGs
    assert len(files) == len(ROUND_TRIPS) + 1 + (13 if REALDATA.is_dir() else 0)
    fast_read = [read_seg(f) for f in files]
    monkeypatch.setattr(decode, "_parse_per_frame", lambda *a: (None, None, 0))
    monkeypatch.setattr(decode, "_raw_per_frame", lambda ds: None)
    for f, a in zip(files, fast_read):
        b = read_seg(f)
        assert not a.grid.differences(b.grid), f
        assert [(s.number, s.label, s.color) for s in a.segments] == [
            (s.number, s.label, s.color) for s in b.segments
        ]
        for s in a.segments:
            assert np.array_equal(a.mask(s.number), b.mask(s.number)), f
        assert a.frames_per_segment == b.frames_per_segment, f


def test_colour_conversion_matches_highdicom():
    from highdicom.color import CIELabColor

    rng = np.random.default_rng(0)
    values = [tuple(int(v) for v in rng.integers(0, 65536, 3)) for _ in range(3000)]
    values += [
        CIELabColor.from_rgb(r, g, b).value
        for r in range(0, 256, 51)
        for g in range(0, 256, 51)
        for b in (0, 128, 255)
    ]
    for v in values:
        try:
            expected = CIELabColor.from_dicom_value(v).to_rgb()
        except ValueError:
            expected = None
        assert decode._lab_to_rgb(v) == (tuple(expected) if expected else None), v


def test_import_of_a_labelmap_seg_writes_the_labelmap(axial, tmp_path, capsys):
    info, source, labels, _ = axial
    out = tmp_path / "l.dcm"
    write_seg(_content(labels, source), source, out, segmentation_type="LABELMAP")
    rc = cli(
        ["import-seg", str(out), "--source", str(info.folder), "--out", str(tmp_path / "back.nii"), "--json"]
    )
    assert rc == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert {s["number"]: s["voxels"] for s in report["segments"]} == {
        n: int((labels == n).sum()) for n in range(1, 6)
    }
    back, grid = read_labelmap(tmp_path / "back.nii")
    assert grid.matches(source.grid) and np.array_equal(back, labels)
