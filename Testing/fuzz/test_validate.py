"""``dicomai validate``: clean on our own outputs (with their references), not clean on damage."""

from __future__ import annotations

import pydicom
import pytest
from fuzzlib import make_seeds

from dicomai.cli import main as cli
from dicomai.validate import find_dciodvfy, validate


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return {
        s.name.split(".")[0].replace("ours-", ""): s
        for s in make_seeds(tmp_path_factory.mktemp("val"), False)
    }


@pytest.mark.parametrize("name", ["binary", "labelmap", "fractional", "3d"])
def test_our_outputs_validate_clean_with_their_references(seeds, name, capsys):
    s = seeds[name]
    refs = [str(s.source), *map(str, s.segs)]
    res = validate(s.path, refs)
    assert res.ok, (res.problems, res.dciodvfy_errors)
    assert cli(["validate", str(s.path), "--references", *refs]) == 0
    out = capsys.readouterr().out
    assert "clean" in out and ("dciodvfy" in out) == (find_dciodvfy() is not None)


@pytest.mark.parametrize(
    "edit,expect",
    [
        (
            lambda ds: ds.SegmentSequence[0].SegmentedPropertyTypeCodeSequence[0].__delattr__("CodeMeaning"),
            "code",
        ),
        (lambda ds: ds.__delattr__("NumberOfFrames"), "NumberOfFrames"),
        (lambda ds: setattr(ds, "FrameOfReferenceUID", "1.2.3.4"), "frame of reference"),
    ],
    ids=["code-without-meaning", "no-number-of-frames", "other-frame-of-reference"],
)
def test_damaged_seg_is_not_clean_and_exits_1_naming_the_file(seeds, tmp_path, edit, expect, capsys):
    s = seeds["binary"]
    ds = pydicom.dcmread(s.path)
    edit(ds)
    path = tmp_path / "bad.dcm"
    ds.save_as(path)
    res = validate(path, [s.source], use_dciodvfy=False)
    assert not res.ok and any(expect in p for p in res.problems), res.problems
    assert cli(["validate", str(path), "--references", str(s.source), "--no-dciodvfy"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err


def test_references_that_do_not_hold_the_referenced_instances_are_a_problem(seeds, tmp_path):
    s = seeds["binary"]
    some = sorted(s.source.iterdir())[:2]
    res = validate(s.path, some, use_dciodvfy=False)
    assert not res.ok


def test_export_runs_the_same_checks_before_writing(seeds, tmp_path):
    """A code without a meaning (from user metadata) stops the export; nothing is left."""
    import numpy as np

    from dicomai.coding import Code
    from dicomai.errors import MetadataError
    from dicomai.seg.content import SegmentationContent, SegmentInfo
    from dicomai.seg.encode import write_seg
    from dicomai.source import read_source_series

    source = read_source_series(seeds["binary"].source)
    lab = np.zeros(source.grid.shape, np.uint8)
    lab[1:3, 2:6, 3:7] = 1
    seg = SegmentInfo(1, "x", type=Code("123", "SCT", ""))
    out = tmp_path / "out" / "s.dcm"
    with pytest.raises(MetadataError, match="own checks"):
        write_seg(SegmentationContent.from_labelmap(lab, source.grid, [seg]), source, out)
    assert not (tmp_path / "out").exists()
