"""One test per failure signature of issue 13 (found by the fuzzer), named for it.

Each builds the damaged file from our own seeds with pydicom or at the byte level and checks the
outcome the readers promise: a DicomAIError naming the file, or a result with a warning that
says what was left out; never a raw exception, a hang or an allocation the file does not hold.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from fuzzlib import _raw, make_seeds, nest_containers, save_deep

from dicomai.cli import main as cli
from dicomai.errors import DicomAIError
from dicomai.info import describe
from dicomai.seg.decode import read_seg
from dicomai.source import read_source_series
from dicomai.sr.decode import read_sr


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return {
        s.name.split(".")[0].replace("ours-", ""): s
        for s in make_seeds(tmp_path_factory.mktemp("reg"), False)
    }


@pytest.fixture(scope="module")
def source(seeds):
    return read_source_series(seeds["binary"].source)


def _edit(seed, tmp_path, fn, name="damaged.dcm") -> Path:
    ds = pydicom.dcmread(seed.path)
    fn(ds)
    out = tmp_path / name
    save_deep(ds, out)
    return out


def _all(ds, keyword):
    out = []

    def walk(d):
        for elem in list(d):
            if elem.keyword == keyword:
                out.append(d)
            if elem.VR == "SQ":
                for item in elem.value:
                    walk(item)

    walk(ds)
    return out


def _refused(path, *readers, match=None):
    """Every reader raises a DicomAIError whose message names the file."""
    for reader in readers:
        with pytest.raises(DicomAIError) as err:
            reader(path)
        assert str(path) in str(err.value), (reader, str(err.value))
        assert "\n" not in str(err.value)
        if match:
            assert match in str(err.value), str(err.value)


# ---------------------------------------------------------------------- required attributes
@pytest.mark.parametrize("keyword", ["Rows", "Columns", "BitsAllocated", "SOPInstanceUID", "SegmentNumber"])
def test_attribute_error_missing_required_attribute_is_an_error_naming_file_and_attribute(
    seeds, tmp_path, keyword
):
    def drop(ds):
        for owner in _all(ds, keyword):
            del owner[keyword]

    path = _edit(seeds["binary"], tmp_path, drop)
    _refused(path, read_seg, describe, match=keyword)


def test_attribute_error_missing_referenced_segment_number_is_an_error(seeds, tmp_path):
    def drop(ds):
        del _all(ds, "ReferencedSegmentNumber")[2]["ReferencedSegmentNumber"]

    _refused(_edit(seeds["binary"], tmp_path, drop), read_seg, match="segment")


@pytest.mark.parametrize("keyword", ["ReferencedSOPInstanceUID", "AlgorithmFamilyCodeSequence"])
def test_attribute_error_missing_optional_attribute_still_reads(seeds, tmp_path, keyword):
    def drop(ds):
        for owner in _all(ds, keyword):
            del owner[keyword]

    path = _edit(seeds["binary"], tmp_path, drop)
    assert describe(path)["kind"] == "SEG"
    assert read_seg(path).segments


# ---------------------------------------------------------------------- malformed geometry
@pytest.mark.parametrize(
    "keyword,value",
    [
        ("ImagePositionPatient", "nan\\0\\0"),  # cannot convert float NaN to integer
        ("ImagePositionPatient", "inf\\0\\0"),  # ... infinity
        ("ImagePositionPatient", "1\\2\\3\\4"),  # broadcast / shape errors
        ("PixelSpacing", "abc\\1"),  # could not convert string to float
        ("PixelSpacing", "0\\0"),
        ("ImageOrientationPatient", "1\\0\\0\\1\\0\\0"),  # LinAlgError: singular matrix (parallel)
        ("ImageOrientationPatient", "0\\0\\0\\0\\0\\0"),  # ... (zero)
        ("ImageOrientationPatient", "1\\2"),
    ],
)
def test_value_error_malformed_geometry_is_an_error_naming_the_attribute(
    seeds, source, tmp_path, keyword, value
):
    def garble(ds):
        for owner in _all(ds, keyword):
            owner[owner[keyword].tag] = _raw(owner[keyword].tag, "DS", value.encode())

    path = _edit(seeds["binary"], tmp_path, garble)
    _refused(path, read_seg, lambda p: read_seg(p, source), match=keyword)


@pytest.mark.parametrize("value", [0, 65535])
def test_grid_shape_rows_zero_or_65535_is_an_error_before_allocating(seeds, tmp_path, value):
    def garble(ds):
        ds[0x00280010] = _raw(0x00280010, "US", value.to_bytes(2, "little"))
        ds[0x00280011] = _raw(0x00280011, "US", value.to_bytes(2, "little"))

    _refused(_edit(seeds["binary"], tmp_path, garble), read_seg)


# ---------------------------------------------------------------------- pydicom-level damage
def _claim(path: Path, uid: str, tmp_path) -> Path:
    from fuzzlib import _claim_ts

    out = tmp_path / "claimed.dcm"
    out.write_bytes(_claim_ts(path.read_bytes(), uid))
    return out


def test_zlib_error_a_file_claiming_deflated_is_an_error(seeds, tmp_path):
    for s in (seeds["binary"], seeds["3d"]):
        path = _claim(s.path, "1.2.840.10008.1.2.1.99", tmp_path)
        readers = (read_seg, describe) if s.kind == "seg" else (read_sr, describe)
        _refused(path, *readers, match="Deflated")


def test_unknown_vr_and_bytes_length_errors_are_errors(seeds, tmp_path):
    data = bytearray(seeds["3d"].path.read_bytes())
    i = data.find(b"\x70\x00\x22\x00FL")  # GraphicData's VR: "FL" -> "F\0"
    data[i + 5] = 0
    path = tmp_path / "vr.dcm"
    path.write_bytes(bytes(data))
    _refused(path, read_sr, describe)


def test_os_error_no_tag_to_read_a_truncated_header_is_an_error(seeds, tmp_path):
    data = seeds["binary"].path.read_bytes()
    path = tmp_path / "short.dcm"
    cut = data.find(b"\x00\x52\x30\x92") + 300  # inside the Per-Frame Functional Groups
    path.write_bytes(data[:cut])
    _refused(path, read_seg, describe)


# ---------------------------------------------------------------------- SR shapes
def _sr_edit(seed, tmp_path, graphic_type, n_points):
    def edit(ds):
        owner = next(o for o in _all(ds, "GraphicData") if o.ValueType == "SCOORD3D")
        owner.GraphicType = graphic_type
        pts = [float(v) for v in owner.GraphicData][: 3 * n_points]
        while len(pts) < 3 * n_points:
            pts += [1.0, 2.0, 3.0]
        owner.GraphicData = pts

    return _edit(seed, tmp_path, edit)


@pytest.mark.parametrize("graphic_type,n", [("ELLIPSE", 2), ("ELLIPSOID", 3), ("CIRCLE", 2)])
def test_index_error_ellipse_ellipsoid_with_too_few_points_and_3d_circle_are_skipped_with_a_warning(
    seeds, tmp_path, graphic_type, n
):
    path = _sr_edit(seeds["3d"], tmp_path, graphic_type, n)
    report = read_sr(path)
    assert any(graphic_type in w and "skipped" in w for w in report.warnings), report.warnings
    report.markups()


def test_a_million_graphic_values_are_skipped_with_a_warning_not_a_hang(seeds, tmp_path):
    def edit(ds):
        owner = next(o for o in _all(ds, "GraphicData") if o.ValueType == "SCOORD3D")
        owner.GraphicType = "POLYLINE"
        owner[0x00700022] = _raw(0x00700022, "FL", np.zeros(1_200_000, "<f4").tobytes())

    report = read_sr(_edit(seeds["3d"], tmp_path, edit))
    assert any("without valid coordinates" in w for w in report.warnings)


def test_os_error_file_name_too_long_output_names_from_sr_text_are_bounded(seeds, tmp_path, capsys):
    def edit(ds):
        for owner in _all(ds, "TextValue"):
            owner.TextValue = "very/long:" * 600

    path = _edit(seeds["3d"], tmp_path, edit)
    out = tmp_path / "out"
    assert cli(["import-sr", str(path), "--out-dir", str(out)]) == 0, capsys.readouterr().err
    names = [p.name for p in out.iterdir()]
    assert names and max(len(n) for n in names) <= 140


# ---------------------------------------------------------------------- hangs and memory
def test_hang_number_of_frames_2147483647_is_refused(seeds, tmp_path):
    def edit(ds):
        ds[0x00280008] = _raw(0x00280008, "IS", b"2147483647")

    _refused(_edit(seeds["binary"], tmp_path, edit), read_seg, describe, match="NumberOfFrames")


def test_memory_a_frame_moved_far_along_the_normal_is_refused_without_source(seeds, tmp_path):
    def edit(ds):
        item = ds.PerFrameFunctionalGroupsSequence[-1].PlanePositionSequence[0]
        p = [float(v) for v in item.ImagePositionPatient]
        normal = np.cross(
            *np.reshape(
                [
                    float(v)
                    for v in ds.SharedFunctionalGroupsSequence[0]
                    .PlaneOrientationSequence[0]
                    .ImageOrientationPatient
                ],
                (2, 3),
            )
        )
        item.ImagePositionPatient = list(np.asarray(p) + normal * 2.0 * 200_000)

    _refused(_edit(seeds["binary"], tmp_path, edit), read_seg, match="span")


def test_memory_rle_frames_claiming_16384_squared_are_refused(seeds, tmp_path):
    def edit(ds):
        ds.Rows = ds.Columns = 16384

    _refused(_edit(seeds["labelmap"], tmp_path, edit), read_seg, match="decode")


def test_memory_a_corrupted_length_field_does_not_allocate_the_claimed_length(seeds, tmp_path):
    """A 2 GB length on a few bytes: read under a 1 GB address-space limit, in a child."""
    data = seeds["binary"].path.read_bytes()
    i = data.find(b"\x08\x00\x3e\x10")  # SeriesDescription: make it a UT with a huge length
    bad = data[:i] + b"\x08\x00\x3e\x10UT\x00\x00" + (0x7FFFFFF0).to_bytes(4, "little") + b"x" * 64
    path = tmp_path / "len.dcm"
    path.write_bytes(bad)
    code = (
        "import resource, sys\n"
        "from dicomai.info import describe\n"
        "from dicomai.errors import DicomAIError\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        f"try:\n    describe({str(path)!r})\nexcept DicomAIError as e:\n    print('clean', e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "clean" in proc.stdout and str(path) in proc.stdout


# ---------------------------------------------------------------------- silently accepted
@pytest.mark.parametrize("value", [b"0", b"", b"1", b"10", b"delete"])
def test_silent_number_of_frames_0_empty_1_n_minus_1_or_missing_is_an_error(seeds, tmp_path, value):
    def edit(ds):
        if value == b"delete":
            del ds.NumberOfFrames
        else:
            ds[0x00280008] = _raw(0x00280008, "IS", value)

    _refused(_edit(seeds["binary"], tmp_path, edit), read_seg, match="NumberOfFrames")


def test_silent_columns_one_less_than_the_data_is_an_error(seeds, tmp_path):
    def edit(ds):
        ds.Columns = int(ds.Columns) - 1

    _refused(_edit(seeds["binary"], tmp_path, edit), read_seg)


@pytest.mark.parametrize(
    "seed,seg_type,bits",
    [
        ("binary", "LABELMAP", None),
        ("fractional", "BINARY", None),
        ("labelmap", None, 1),
        ("binary", None, 8),
    ],
)
def test_silent_segmentation_type_or_bits_allocated_that_disagree_are_an_error(
    seeds, tmp_path, seed, seg_type, bits
):
    def edit(ds):
        if seg_type:
            ds.SegmentationType = seg_type
        if bits:
            ds[0x00280100] = _raw(0x00280100, "US", bits.to_bytes(2, "little"))

    _refused(_edit(seeds[seed], tmp_path, edit), read_seg, match="BitsAllocated")


@pytest.mark.parametrize(
    "what", ["renumber", "ref-zero", "ref-big", "max-65535", "max-0", "duplicate", "empty"]
)
def test_silent_fractional_gets_binary_cross_checks(seeds, tmp_path, what):
    import copy

    def edit(ds):
        if what == "renumber":
            ds.SegmentSequence[0].SegmentNumber = 99
        elif what in ("ref-zero", "ref-big"):
            ds.PerFrameFunctionalGroupsSequence[0].SegmentIdentificationSequence[
                0
            ].ReferencedSegmentNumber = 0 if what == "ref-zero" else 999
        elif what.startswith("max"):
            ds[0x0062000E] = _raw(0x0062000E, "US", int(what.split("-")[1]).to_bytes(2, "little"))
        elif what == "duplicate":
            ds.SegmentSequence.append(copy.deepcopy(ds.SegmentSequence[0]))
        else:
            ds.SegmentSequence = []

    _refused(_edit(seeds["fractional"], tmp_path, edit), read_seg)


def test_silent_duplicated_segment_sequence_item_is_an_error(seeds, tmp_path):
    import copy

    def edit(ds):
        ds.SegmentSequence.append(copy.deepcopy(ds.SegmentSequence[1]))

    _refused(_edit(seeds["binary"], tmp_path, edit), read_seg, describe, match="described twice")


def test_silent_identical_positions_in_every_frame_are_a_warning(seeds, source, tmp_path):
    def edit(ds):
        first = list(ds.PerFrameFunctionalGroupsSequence[0].PlanePositionSequence[0].ImagePositionPatient)
        for fg in ds.PerFrameFunctionalGroupsSequence:
            fg.PlanePositionSequence[0].ImagePositionPatient = first

    path = _edit(seeds["binary"], tmp_path, edit)
    for content in (read_seg(path), read_seg(path, source)):
        assert any("merged" in w for w in content.warnings), content.warnings


def test_silent_labelmap_stray_values_with_a_pixel_padding_value_are_warned(seeds, tmp_path):
    def edit(ds):
        ds.PixelPaddingValue = 2  # segment 2 exists: padding names the background...
        del ds.SegmentSequence[-1]  # ... and the last segment's value is now described by nothing

    content = read_seg(_edit(seeds["labelmap"], tmp_path, edit))
    assert any("not described in SegmentSequence" in w for w in content.warnings), content.warnings


@pytest.mark.parametrize("what", ["missing", "empty"])
def test_silent_sr_with_missing_or_empty_content_is_warned(seeds, tmp_path, what):
    def edit(ds):
        if what == "missing":
            del ds.ContentSequence
        else:
            ds.ContentSequence = []

    report = read_sr(_edit(seeds["3d"], tmp_path, edit))
    assert not report.groups and any("no content" in w for w in report.warnings)


def test_silent_sr_with_emptied_groups_is_warned(seeds, tmp_path):
    def edit(ds):
        for owner in _all(ds, "ContentSequence"):
            if owner is not ds and owner.get("ValueType") == "CONTAINER":
                owner.ContentSequence = []

    report = read_sr(_edit(seeds["3d"], tmp_path, edit))
    assert any("empty" in w for w in report.warnings), report.warnings


def test_recursion_error_a_num_nested_200_levels_is_not_swallowed(seeds, tmp_path):
    def edit(ds):
        nest_containers(next(o for o in _all(ds, "ValueType") if o.ValueType == "NUM"), 200)

    path = _edit(seeds["3d"], tmp_path, edit)
    try:
        report = read_sr(path)
    except DicomAIError as e:  # pydicom could not parse it: said so, naming the file
        assert str(path) in str(e)
    else:
        assert report.warnings  # read: the nesting is reported, not dropped silently


@pytest.mark.parametrize("number", [99, 65535])
def test_silent_labelmap_renumbered_segment_is_warned(seeds, tmp_path, number):
    """fuzz `segments:renumber` on a LABELMAP SEG: a description renumbered so that no stored value
    holds its number (and the value it described becomes background) is warned, not read as an
    unexplained extra empty segment. Real dcmqi LABELMAPs describe background as segment 0."""
    before = read_seg(seeds["labelmap"].path)

    def edit(ds):
        ds.SegmentSequence[0].SegmentNumber = number

    content = read_seg(_edit(seeds["labelmap"], tmp_path, edit))
    new = [w for w in content.warnings if w not in before.warnings]
    assert any(f"segment(s) [{number}]" in w and "no pixel" in w for w in new), content.warnings
    assert number in [s.number for s in content.segments]  # kept (with the warning), not dropped


@pytest.mark.parametrize("depth", [50, 400])
def test_silent_num_nested_in_containers_is_warned(seeds, tmp_path, depth):
    """fuzz `sr:deep`: containers nested under a NUM (which replace its SCOORD3D) are left out
    with one warning that names the measurement, not silently."""

    def edit(ds):
        num = next(o for o in _all(ds, "ValueType") if o.ValueType == "NUM" and "ContentSequence" in o)
        nest_containers(num, depth, num.ConceptNameCodeSequence)

    path = _edit(seeds["3d"], tmp_path, edit)
    report = read_sr(path)
    nested = [w for w in report.warnings if "CONTAINER nested under the measurement" in w]
    assert len(nested) == 1, report.warnings


@pytest.mark.parametrize("value_type", ["NUM", "TEXT", "GARBAGE", ""])
def test_silent_value_type_that_does_not_fit_the_concept_is_warned(seeds, tmp_path, value_type):
    """fuzz `sr:vt`: the Measurement Method CODE of a measurement given another ValueType is left
    out with a warning naming the concept, not silently dropped."""

    def edit(ds):
        item = next(
            o
            for o in _all(ds, "ValueType")
            if o.ValueType == "CODE" and o.ConceptNameCodeSequence[0].CodeMeaning == "Measurement Method"
        )
        item.ValueType = value_type

    report = read_sr(_edit(seeds["3d"], tmp_path, edit))
    assert any("'Measurement Method' has ValueType" in w for w in report.warnings), report.warnings


@pytest.mark.parametrize("value_type", ["NUM", "CONTAINER", ""])
def test_silent_finding_site_modifier_with_another_value_type_is_warned(tmp_path, value_type):
    """fuzz `sr:vt` on highdicom's sr_document.dcm: the Topographical Modifier of a group's finding
    site given another ValueType is left out with a warning, not silently."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from shared_data import REALDATA

    src = REALDATA / "highdicom" / "sr_document.dcm"
    if not src.is_file():
        pytest.skip(f"{src} is absent (real data, see Testing/shared_data.py)")
    ds = pydicom.dcmread(src)
    mods = [o for o in _all(ds, "ValueType") if "Topographical" in o.ConceptNameCodeSequence[0].CodeMeaning]
    assert mods
    mods[0].ValueType = value_type
    ds.save_as(tmp_path / "damaged.dcm")
    report = read_sr(tmp_path / "damaged.dcm")
    assert any("finding site modifier 'Topographical Modifier' has ValueType" in w for w in report.warnings)


# ---------------------------------------------------------------------- CLI
def test_cli_internal_error_names_the_input_on_one_line(seeds, monkeypatch, capsys):
    import dicomai.info

    def boom(*a, **k):
        raise RuntimeError("first line\nsecond line")

    monkeypatch.setattr(dicomai.info, "describe", boom)
    assert cli(["info", str(seeds["binary"].path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(seeds["binary"].path) in err and "first line | second line" in err


def test_cli_library_warnings_become_one_dicomai_line_each(seeds, tmp_path):
    def edit(ds):
        ds.SeriesInstanceUID = "1.2.3.abc"  # pydicom UserWarning: invalid UI

    path = _edit(seeds["binary"], tmp_path, edit)
    proc = subprocess.run(
        [sys.executable, "-m", "dicomai", "import-seg", str(path), "--out", str(tmp_path / "o.nrrd")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert all(line.startswith("dicomai") for line in proc.stderr.splitlines()), proc.stderr


def test_cli_native_library_output_on_fd_2_becomes_one_warning_line():
    code = (
        "import os, sys\n"
        "from dicomai import cli\n"
        "def noisy(args):\n"
        "    os.write(2, b'WARNING: In itkSomething.cxx, line 12\\nITK says\\n\\n')\n"
        "    return 0\n"
        "p = cli.build_parser()\n"
        "orig = p.parse_args\n"
        "cli.build_parser = lambda: p\n"
        "p.parse_args = lambda argv: (lambda a: (setattr(a, 'func', noisy), a)[1])(orig(argv))\n"
        "sys.exit(cli.main(['info', 'x']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dicomai: warning: native library: WARNING: In itk"), lines


def test_cli_info_on_a_nifti_says_not_dicom_without_pydicom_advice(tmp_path, capsys):
    path = tmp_path / "x.nii"
    path.write_bytes(b"\x5c\x01\x00\x00" + b"\x00" * 400)
    assert cli(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert "not a DICOM file" in err and "force" not in err and err.count("\n") == 1


def test_cli_info_on_good_and_bad_files_prints_the_good_and_one_line_per_bad(seeds, tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("hello")
    assert cli(["info", str(seeds["binary"].path), str(bad), str(tmp_path / "absent.dcm")]) == 1
    out, err = capsys.readouterr()
    assert "BINARY" in out and str(seeds["binary"].path) in out
    assert err.count("\n") == 2 and "bad.txt" in err and "absent.dcm" in err


def test_cli_out_with_an_unknown_extension_names_the_users_file(seeds, tmp_path, capsys):
    out = tmp_path / "y.png"
    assert cli(["import-seg", str(seeds["binary"].path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert str(out) in err and ".tmp-" not in err, err


# ---------------------------------------------------------------------- partial output
def test_import_sr_writes_all_markup_files_or_none(seeds, tmp_path, monkeypatch, capsys):
    import dicomai.sr.tables as tables

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(tables, "write_table", boom)
    out = tmp_path / "out"
    assert cli(["import-sr", str(seeds["3d"].path), "--out-dir", str(out)]) == 1
    assert "disk full" in capsys.readouterr().err
    assert not out.exists()  # no markup file, and not even the folder


def test_a_failing_cleanup_never_hides_the_first_error(tmp_path, monkeypatch):
    from dicomai.fileio import atomic_outputs

    real_unlink = Path.unlink

    def bad_unlink(self, *a, **k):
        raise OSError(36, "File name too long")

    with pytest.raises(ValueError, match="the first error"):
        with atomic_outputs([tmp_path / "a.txt"]) as temps:
            temps[0].write_text("x")
            monkeypatch.setattr(Path, "unlink", bad_unlink)
            raise ValueError("the first error")
    monkeypatch.setattr(Path, "unlink", real_unlink)


def test_messages_name_the_file(seeds, tmp_path):
    def edit(ds):
        for fg in ds.PerFrameFunctionalGroupsSequence:
            del fg.SegmentIdentificationSequence

    _refused(_edit(seeds["binary"], tmp_path, edit), read_seg, match="names no segment")


def test_json_of_info_stays_machine_readable(seeds, capsys):
    assert cli(["info", "--json", str(seeds["3d"].path)]) == 0
    assert json.loads(capsys.readouterr().out)["modality"] == "SR"
