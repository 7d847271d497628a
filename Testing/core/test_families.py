"""The family registry (:mod:`dicomai.families`): SEG, SR and SC use it, and a new family plugs in
with one registration and no other edit: ``dicomai info`` describes its objects and the command
line offers its commands."""

from __future__ import annotations

import json
import subprocess
import sys

import pydicom
import pytest
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from dicomai import cli
from dicomai.families import Family, families, family_for, family_named, register_family, unregister_family
from dicomai.sopclasses import (
    COMPREHENSIVE_3D_SR,
    LABEL_MAP_SEGMENTATION_STORAGE,
    SECONDARY_CAPTURE_IMAGE_STORAGE,
    SEGMENTATION_STORAGE,
)

DUMMY_SOP_CLASS = "1.2.826.0.1.3680043.10.1234.1"  # a private SOP class of the dummy family


def test_seg_sr_and_sc_are_registered_families():
    names = [f.name for f in families()]
    assert names[:3] == ["SEG", "SR", "SC"]
    assert family_for(SEGMENTATION_STORAGE).name == "SEG"
    assert family_for(LABEL_MAP_SEGMENTATION_STORAGE).name == "SEG"
    assert family_for(COMPREHENSIVE_3D_SR).name == "SR"
    assert family_for("1.2.3.4", "SR").name == "SR"  # any SR document, by modality
    assert family_for(SECONDARY_CAPTURE_IMAGE_STORAGE, "OT").name == "SC"
    assert family_for("1.2.840.10008.5.1.4.1.1.2", "CT") is None
    assert family_named("sr").cli == "dicomai.sr.cli"
    assert family_named("seg").cli == "dicomai.seg.cli"  # export-seg, import-seg


def _describe_dummy(ds, path):
    return {"kind": "DUMMY", "greeting": str(ds.get("SeriesDescription", "")), "text": ["a dummy object"]}


def _dummy_commands(sub, common):
    p = sub.add_parser("dummy-hello", parents=[common], help="write a dummy object")
    p.add_argument("--name", default="x")
    p.set_defaults(func=lambda args: print(f"dummy {args.name}") or 0)


@pytest.fixture
def dummy_family():
    family = register_family(
        Family(
            "DUMMY",
            sop_classes={DUMMY_SOP_CLASS: "Dummy Storage"},
            describer=_describe_dummy,
            cli=_dummy_commands,
        )
    )
    yield family
    unregister_family("DUMMY")
    assert family_named("DUMMY") is None


def _dummy_file(path):
    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = DUMMY_SOP_CLASS
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = DUMMY_SOP_CLASS
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.SeriesDescription = "hello"
    ds.save_as(path, enforce_file_format=True) if pydicom.__version__[0] >= "3" else ds.save_as(
        path, write_like_original=False
    )
    return path


def test_a_new_family_appears_in_info_and_the_command_line(dummy_family, tmp_path, capsys):
    f = _dummy_file(tmp_path / "dummy.dcm")
    assert cli.main(["info", "--json", str(f)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "DUMMY" and info["greeting"] == "hello"
    assert info["sop_class"] == "Dummy Storage"
    assert cli.main(["info", str(f)]) == 0
    assert "  a dummy object" in capsys.readouterr().out.splitlines()
    assert cli.main(["dummy-hello", "--name", "seen"]) == 0
    assert capsys.readouterr().out.strip() == "dummy seen"


def test_without_the_registration_the_dummy_is_unknown(tmp_path, capsys):
    f = _dummy_file(tmp_path / "dummy.dcm")
    assert cli.main(["info", "--json", str(f)]) == 0
    assert "kind" not in json.loads(capsys.readouterr().out)
    with pytest.raises(SystemExit):
        cli.main(["dummy-hello"])


def test_help_imports_no_codec_library():
    """The registry names callables lazily: `dicomai --help` imports neither highdicom nor pydicom."""
    code = (
        "import sys\nfrom dicomai import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('highdicom', 'pydicom', 'numpy')\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "LOADED []"
