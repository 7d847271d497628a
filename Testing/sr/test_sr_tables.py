"""Measurement tables: column names -> coded quantities and UCUM units, Slicer's Segment Statistics
headers and schema files, unknown columns kept with their text."""

from __future__ import annotations

import pytest
from pydicom.sr.coding import Code

from dicomai.errors import InputError
from dicomai.sr import concepts as C
from dicomai.sr.tables import parse_column_header, quantity_for, read_measurement_table, unit_code

MEAN = Code("373098007", "SCT", "Mean")
ATTENUATION = Code("112031", "DCM", "Attenuation Coefficient")


@pytest.mark.parametrize(
    "header, name, unit",
    [
        ("Volume (mm3)", "Volume", "mm3"),
        ("Mean (HU)", "Mean", "HU"),
        ("Volume [mm3]", "Volume", "mm3"),
        ("Volume [cm3] (2)", "Volume", "cm3"),
        ("Mean [hnsf'U]", "Mean", "hnsf'U"),
        ("Number of voxels [voxels] (1)", "Number of voxels", "voxels"),
        ("Elongation", "Elongation", None),
        ("  Surface area [mm2] ", "Surface area", "mm2"),
    ],
)
def test_column_headers_split_into_quantity_and_unit(header, name, unit):
    assert parse_column_header(header) == (name, unit)


def test_standard_quantities_get_standard_codes_and_ucum_units():
    q, u, d, known = quantity_for("Volume", "mm3")
    assert (q, u, d, known) == (C.VOLUME, C.CUBIC_MILLIMETER, None, True) and q.value == "118565006"
    q, u, d, _ = quantity_for("Mean", "HU")
    assert (q, d) == (ATTENUATION, MEAN) and u.value == "[hnsf'U]" and u.scheme_designator == "UCUM"
    q, u, d, _ = quantity_for("Mean", "hnsf'U")
    assert u.value == "[hnsf'U]"
    q, u, d, _ = quantity_for("Maximum", "SUVbw")
    assert q == Code("126401", "DCM", "SUVbw") and u.value == "{SUVbw}g/ml" and d.meaning == "Maximum"
    q, u, d, _ = quantity_for("Standard deviation", None, modality="CT")
    assert q == ATTENUATION and u.value == "[hnsf'U]" and d == Code("386136009", "SCT", "Standard Deviation")
    q, u, d, _ = quantity_for("Median", None, modality="MR")
    assert q == Code("110852", "DCM", "MR signal intensity")
    assert quantity_for("Number of voxels", "voxels")[1].value == "{voxels}"
    assert quantity_for("Volume", "cm3")[1] == Code("cm3", "UCUM", "cubic centimeter")


def test_unknown_quantities_keep_their_text_in_a_private_code():
    q, u, d, known = quantity_for("Roundness", None)
    assert (
        not known
        and q.scheme_designator == "99DICOMAI"
        and q.meaning == "Roundness"
        and q.value == "ROUNDNESS"
    )
    assert u.value == "1"
    q2, *_ = quantity_for("A very long quantity name that needs shortening", "mm")
    assert len(q2.value) <= 16 and q2.meaning == "A very long quantity name that needs shortening"
    assert quantity_for("A very long quantity name that needs shortening", "mm")[0] == q2  # stable


@pytest.mark.parametrize(
    "text, code",
    [
        ("HU", "[hnsf'U]"),
        ("mm3", "mm3"),
        ("%", "%"),
        ("", "1"),
        ("points", "{points}"),
        ("mg/ml", "mg/ml"),
        ("g/ml{SUVbw}", "{SUVbw}g/ml"),
        ("Bq/ml", "Bq/ml"),
        ("widgets per day", "{widgets per day}"),
    ],
)
def test_units_become_ucum(text, code):
    u = unit_code(text)
    assert u.scheme_designator == "UCUM" and u.value == code


def test_slicer_segment_statistics_table_with_schema(tmp_path):
    (tmp_path / "stats.tsv").write_text(
        "Segment\tNumber of voxels [voxels] (1)\tVolume [mm3] (1)\tVolume [cm3] (1)\t"
        "Mean [hnsf'U]\tCentroid [mm]\n"
        "Liver\t1234\t2468.5\t2.4685\t60.25\t1 2 3\n"
        "Spleen\t10\t20\t0.02\tnan\t4 5 6\n"
    )
    (tmp_path / "stats.schema.tsv").write_text(
        "columnName\tunitLabel\tDICOM.QuantityCode\tDICOM.DerivationCode\tDICOM.UnitsCode\n"
        "Mean [hnsf'U]\tHU\tCodeValue:112031|CodingSchemeDesignator:DCM|CodeMeaning:Attenuation Coefficient\t"
        "CodeValue:373098007|CodingSchemeDesignator:SCT|CodeMeaning:Mean\t"
        "CodeValue:[hnsf'U]|CodingSchemeDesignator:UCUM|CodeMeaning:Hounsfield unit\n"
    )
    t = read_measurement_table(tmp_path / "stats.tsv")
    assert t.label_header == "Segment" and [r[0] for r in t.rows] == ["Liver", "Spleen"]
    liver = {m.label: m for m in t.measurements(0)}
    assert liver["Number of voxels [voxels] (1)"].value == 1234 and isinstance(
        liver["Number of voxels [voxels] (1)"].value, int
    )
    assert liver["Volume [mm3] (1)"].value == 2468.5 and liver["Volume [cm3] (1)"].unit.value == "cm3"
    mean = liver["Mean [hnsf'U]"]
    assert (mean.quantity, mean.derivation, mean.unit.value) == (ATTENUATION, MEAN, "[hnsf'U]")
    assert "Centroid [mm]" not in liver  # not a number: left out, with a warning
    assert any("'1 2 3' is not a number" in w for w in t.warnings)
    assert any("Centroid" in w and "99DICOMAI" in w for w in t.warnings)
    assert len(t.measurements(1)) == 3  # nan and the centroid are left out


def test_csv_with_quoted_labels_and_no_segment_header(tmp_path):
    (tmp_path / "t.csv").write_text(
        '"Structure name","Volume (ml)"\n"Kidney, left",12.5\n"Kidney, right",13\n'
    )
    t = read_measurement_table(tmp_path / "t.csv")
    assert [r[0] for r in t.rows] == ["Kidney, left", "Kidney, right"]
    assert t.measurements(1)[0].value == 13 and t.measurements(1)[0].unit.value == "ml"


@pytest.mark.parametrize(
    "text, message",
    [
        ("Segment\n", "needs a header row and at least one row"),
        ("1\t2\n3\t4\n", "no segment column"),
        ("Segment\nLiver\n", "no quantity columns"),
        ("Segment\tVolume (mm3)\nLiver\t1\nLiver\t2\n", "appears on lines 2 and 3"),
    ],
)
def test_bad_tables_are_rejected_with_a_reason(tmp_path, text, message):
    (tmp_path / "t.tsv").write_text(text)
    with pytest.raises(InputError, match=message):
        read_measurement_table(tmp_path / "t.tsv")
