"""``dicomai export-sr`` / ``import-sr`` / ``info`` on files, as a pipeline would run them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from sr_cases import all_markups, by_name, ras, slice_markups

from dicomai.cli import main as cli
from dicomai.sr.decode import read_sr
from dicomai.sr.markups import read_markups, write_markups


@pytest.fixture()
def files(axial_with_seg, tmp_path):
    case, seg_path = axial_with_seg
    markups = []
    for m in all_markups(case):
        path = tmp_path / f"{m.name}.mrk.json"
        write_markups(m, path)
        markups.append(path)
    table = tmp_path / "stats.tsv"
    table.write_text("Segment\tVolume [mm3]\tMean [hnsf'U]\nLiver\t1500.5\t60.25\nSpleen\t220.25\t47.5\n")
    findings = tmp_path / "findings.json"
    findings.write_text(
        json.dumps(
            {
                "findings": [
                    {
                        "markup": "Lesions",
                        "point": "L-1",
                        "finding": "SCT^108369006^Neoplasm",
                        "evaluations": [
                            {"concept": "SCT^395557000^Tumor finding", "value": "SCT^21594007^Malignant"}
                        ],
                        "probability": 0.93,
                    },
                    {
                        "finding": "SCT^56208002^Ulcer",
                        "images": [case.source.sop_instance_uids[2]],
                        "measurements": [{"quantity": "Score", "value": 4, "unit": "1"}],
                    },
                ]
            }
        )
    )
    return case, seg_path, markups, table, findings


def test_export_then_import_round_trips_markups_and_table(files, tmp_path, capsys):
    case, seg_path, markups, table, findings = files
    out = tmp_path / "report.sr.dcm"
    args = [
        "export-sr",
        "--source",
        str(case.folder / "ct"),
        "--seg",
        str(seg_path),
        "--table",
        str(table),
        "--markups",
        *map(str, markups),
        "--findings",
        str(findings),
        "--out",
        str(out),
        "--model-name",
        "LesionNet",
        "--model-version",
        "2.1",
        "--model-manufacturer",
        "ACME AI",
        "--person",
        "Reader^Ann",
        "--procedure",
        "LN^25045-6^CT unspecified body region",
        "--json",
    ]
    assert cli(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["output"] == str(out) and len(result["groups"]) == 3 + 5 + 2 + 1
    assert cli(args[:-1]) == 1  # exists, no --overwrite
    assert "already exists" in capsys.readouterr().err

    out_dir = tmp_path / "imported"
    assert (
        cli(
            [
                "import-sr",
                str(out),
                "--source",
                str(case.folder / "ct"),
                "--seg",
                str(seg_path),
                "--out-dir",
                str(out_dir),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "measurements.tsv" in printed
    sent = by_name(all_markups(case))
    for name, m in sent.items():
        (back,) = read_markups(out_dir / f"{name}.mrk.json")
        assert back.kind == m.kind
        if m.kind == "roi":
            np.testing.assert_allclose(ras(back.center), ras(m.center), atol=1e-4)
            np.testing.assert_allclose(back.size, m.size, atol=1e-4)
        else:
            np.testing.assert_allclose(ras(back.points), ras(m.points), atol=1e-4)
    with open(out_dir / "measurements.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert list(rows[0])[:9] == [
        "group",
        "finding",
        "finding site",
        "quantity",
        "value",
        "unit",
        "derivation",
        "referenced segment",
        "tracking id",
    ]
    liver = {(r["quantity"], r["derivation"]): r for r in rows if r["tracking id"] == "Liver"}
    assert float(liver[("Volume", "")]["value"]) == 1500.5 and liver[("Volume", "")]["unit"] == "mm3"
    mean = liver[("Attenuation Coefficient", "Mean")]
    assert (
        float(mean["value"]) == 60.25
        and mean["unit"] == "[hnsf'U]"
        and mean["referenced segment"].startswith("Liver")
    )
    lesion = [r for r in rows if r["tracking id"] == "Lesions/L-1"]
    assert {(r["quantity"], r["value"]) for r in lesion} == {
        ("Certainty of Finding", "0.93"),
        ("Tumor finding", "Malignant"),
    }
    assert all(r["finding"] == "Neoplasm" for r in lesion)
    ulcer = [r for r in rows if r["finding"] == "Ulcer"]
    assert [(r["quantity"], r["value"], r["unit"]) for r in ulcer] == [("Certainty of Finding", "4", "1")]

    report = read_sr(out)
    assert report.device.name == "LesionNet" and report.person.name == "Reader^Ann"
    assert all(g.algorithm_version == "2.1" for g in report.groups)
    assert cli(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "observer: device 'LesionNet'" in text and "SCOORD POLYLINE" in text
    # the default form is the one OHIF draws: no 3D POLYGON (it trips OHIF 3.13's error boundary)
    assert "SCOORD3D POLYGON" not in text


def test_import_finds_the_seg_in_the_source_folder(files, tmp_path, capsys):
    case, seg_path, markups, table, _ = files
    study = tmp_path / "study"
    (study / "ct").mkdir(parents=True)
    for f in case.source.files:
        (study / "ct" / f.split("/")[-1]).write_bytes(open(f, "rb").read())
    (study / "seg.dcm").write_bytes(seg_path.read_bytes())
    sr = tmp_path / "sr.dcm"
    assert (
        cli(
            [
                "export-sr",
                "--source",
                str(study / "ct"),
                "--seg",
                str(seg_path),
                "--table",
                str(table),
                "--out",
                str(sr),
                "-q",
            ]
        )
        == 0
    )
    assert cli(["import-sr", str(sr), "--source", str(study), "--out-dir", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert "not given" not in captured.err
    text = (tmp_path / "o" / "measurements.tsv").read_text()
    assert "Liver (#" in text and "Spleen (#" in text


def test_two_d_export_from_the_command_line(axial_case, tmp_path, capsys):
    paths = []
    for m in slice_markups(axial_case):
        paths.append(write_markups(m, tmp_path / f"{m.name}.mrk.json"))
    out = tmp_path / "sr2d.dcm"
    assert (
        cli(
            [
                "export-sr",
                "--source",
                str(axial_case.folder / "ct"),
                "--markups",
                *map(str, paths),
                "--2d",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "5 on one slice in 2D" in capsys.readouterr().out
    assert all(r.is_2d for g in read_sr(out).groups for r in g.regions)


def test_default_output_name_and_usage_errors(axial_case, tmp_path, capsys):
    m = all_markups(axial_case)[1]
    path = write_markups(m, tmp_path / "Diameter.mrk.json")
    assert cli(["export-sr", "--source", str(axial_case.folder / "ct"), "--markups", str(path)]) == 0
    assert (tmp_path / "Diameter.sr.dcm").is_file()
    assert cli(["export-sr", "--source", str(axial_case.folder / "ct")]) == 1
    assert "nothing to report" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cli(["import-sr", str(tmp_path / "Diameter.sr.dcm")])  # --out-dir missing
    assert e.value.code == 2


def test_the_module_runs_as_a_program(axial_case, tmp_path):
    path = write_markups(all_markups(axial_case)[1], tmp_path / "L.mrk.json")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dicomai",
            "export-sr",
            "--source",
            str(axial_case.folder / "ct"),
            "--markups",
            str(path),
            "--out",
            str(tmp_path / "sr.dcm"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dicomai",
            "import-sr",
            str(tmp_path / "nope.dcm"),
            "--out-dir",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "cannot read" in proc.stderr
