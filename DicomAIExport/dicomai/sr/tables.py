"""Measurement tables: per-segment tables in, one report table out.

In: a TSV/CSV whose rows are segments (the first column named Segment / Label / Name, or the first
text column) and whose other columns are quantities, named ``Quantity (unit)`` (``Volume (mm3)``,
``Mean (HU)``) or the way Slicer's Segment Statistics names them (``Volume [mm3]``,
``Mean [hnsf'U] (2)``). When Slicer's ``.schema.tsv`` / ``.schema.csv`` sits next to the table,
its DICOM quantity, derivation and unit codes are used as they are. Each column becomes a coded
quantity with a UCUM unit (:func:`quantity_for`); a column we have no code for keeps its text as
the meaning of a private code (scheme ``99DICOMAI``), so nothing is dropped.

Out: :func:`report_rows` lists every numeric measurement and qualitative evaluation of a report
in one table (:data:`TABLE_COLUMNS`); :func:`write_table` writes it as TSV.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import List, Optional, Tuple, Union

from ..coding import Code
from ..errors import InputError
from ..fileio import atomic_output
from . import concepts as C

__all__ = [
    "MeasurementTable",
    "PRIVATE_SCHEME",
    "TABLE_COLUMNS",
    "TableColumn",
    "parse_column_header",
    "quantity_for",
    "read_measurement_table",
    "report_rows",
    "table_from_rows",
    "unit_code",
    "write_table",
]

PathLike = Union[str, "os.PathLike[str]"]

#: Coding scheme of the private codes made for quantities no standard code is known for.
PRIVATE_SCHEME = "99DICOMAI"

#: Columns of :func:`report_rows` (the first nine are the ones the report table always shows).
TABLE_COLUMNS = (
    "group",
    "finding",
    "finding site",
    "quantity",
    "value",
    "unit",
    "derivation",
    "referenced segment",
    "tracking id",
    "tracking uid",
    "method",
    "markup",
    "kind",
    "finding code",
    "finding site code",
    "quantity code",
    "derivation code",
    "value code",
)

_LABEL_HEADERS = ("segment", "segment label", "segment name", "label", "name", "structure", "roi", "region")

# ------------------------------------------------------------------------------------- units
_UNITS = {
    "mm": ("mm", "millimeter"),
    "cm": ("cm", "centimeter"),
    "m": ("m", "meter"),
    "um": ("um", "micrometer"),
    "mm2": ("mm2", "square millimeter"),
    "cm2": ("cm2", "square centimeter"),
    "mm3": ("mm3", "cubic millimeter"),
    "cm3": ("cm3", "cubic centimeter"),
    "ml": ("ml", "milliliter"),
    "l": ("l", "liter"),
    "hu": ("[hnsf'U]", "Hounsfield unit"),
    "hnsf'u": ("[hnsf'U]", "Hounsfield unit"),
    "[hnsf'u]": ("[hnsf'U]", "Hounsfield unit"),
    "deg": ("deg", "degree"),
    "degree": ("deg", "degree"),
    "degrees": ("deg", "degree"),
    "°": ("deg", "degree"),
    "%": ("%", "Percent"),
    "percent": ("%", "Percent"),
    "1": ("1", "no units"),
    "": ("1", "no units"),
    "voxels": ("{voxels}", "voxels"),
    "voxel": ("{voxels}", "voxels"),
    "{voxels}": ("{voxels}", "voxels"),
    "s": ("s", "second"),
    "ms": ("ms", "millisecond"),
    "bq/ml": ("Bq/ml", "Becquerels/milliliter"),
    "suv": ("{SUVbw}g/ml", "Standardized Uptake Value body weight"),
    "suvbw": ("{SUVbw}g/ml", "Standardized Uptake Value body weight"),
    "{suvbw}g/ml": ("{SUVbw}g/ml", "Standardized Uptake Value body weight"),
    "g/ml{suvbw}": ("{SUVbw}g/ml", "Standardized Uptake Value body weight"),
    "mm2/s": ("mm2/s", "mm2/s"),
    "1/mm": ("/mm", "per millimeter"),
    "/mm": ("/mm", "per millimeter"),
}
_UCUM_TOKEN = re.compile(r"^[A-Za-z0-9\[\]{}'/.*^()%-]+$")


def unit_code(text: Optional[str]) -> Code:
    """A UCUM unit code for a unit as people write it ("HU", "mm3", "voxels", "%").

    Unknown units are kept: as the UCUM expression when they look like one, otherwise as a UCUM
    annotation ``{text}`` (a valid UCUM unit that means "1, about text").
    """
    t = (text or "").strip()
    hit = _UNITS.get(t.lower())
    if hit is not None:
        return Code(hit[0], "UCUM", hit[1])
    known = _ucum_codes().get(t)
    if known is not None:
        return Code(t, "UCUM", known)
    # an expression of units ("mg/ml", "10*3/ul", "[arb'U]") is kept as written; a word is not UCUM
    if _UCUM_TOKEN.match(t) and re.search(r"[/.\[\]{}0-9*^]", t):
        return Code(t, "UCUM", t)
    clean = re.sub(r"[{}]", "", t)
    return Code("{" + clean + "}", "UCUM", clean)


@lru_cache(maxsize=1)
def _ucum_codes() -> dict:
    """UCUM code -> meaning, from pydicom's copy of the DICOM code tables."""
    from pydicom.sr._concepts_dict import concepts

    out = {}
    for entries in concepts.get("UCUM", {}).values():
        for value, (meaning, _cids) in entries.items():
            out.setdefault(value, meaning)
    return out


# --------------------------------------------------------------------------------- quantities
_DERIVATIONS = {
    "mean": C.code("373098007", "SCT", "Mean"),
    "average": C.code("373098007", "SCT", "Mean"),
    "minimum": C.code("255605001", "SCT", "Minimum"),
    "min": C.code("255605001", "SCT", "Minimum"),
    "maximum": C.code("56851009", "SCT", "Maximum"),
    "max": C.code("56851009", "SCT", "Maximum"),
    "median": C.code("373099004", "SCT", "Median"),
    "standard deviation": C.code("386136009", "SCT", "Standard Deviation"),
    "std": C.code("386136009", "SCT", "Standard Deviation"),
    "stdev": C.code("386136009", "SCT", "Standard Deviation"),
    "sd": C.code("386136009", "SCT", "Standard Deviation"),
    "mode": C.code("373100007", "SCT", "Mode"),
    "variance": C.code("C1711260", "UMLS", "Variance"),
    "total": C.code("255619001", "SCT", "Total"),
    "sum": C.code("255619001", "SCT", "Total"),
    "peak": C.code("126031", "DCM", "Peak Value Within ROI"),
    "rms": C.code("C2347976", "UMLS", "Root Mean Square"),
    "root mean square": C.code("C2347976", "UMLS", "Root Mean Square"),
    "skewness": C.code("126051", "DCM", "Skewness"),
    "kurtosis": C.code("126052", "DCM", "Kurtosis"),
}

_QUANTITIES = {
    "volume": C.VOLUME,
    "segment volume": C.VOLUME,
    "number of voxels": C.code("nvoxels", "99QIICR", "Number of voxels"),
    "voxel count": C.code("nvoxels", "99QIICR", "Number of voxels"),
    "surface area": C.code("C0JK", "IBSI", "Surface Area of Mesh"),
    "sphericity": C.code("QCFX", "IBSI", "Sphericity"),
    "elongation": C.code("Q3CK", "IBSI", "Elongation"),
    "flatness": C.code("N17B", "IBSI", "Flatness"),
    "length": C.LENGTH,
    "diameter": C.code("81827009", "SCT", "Diameter"),
    "long axis": C.code("103339001", "SCT", "Long Axis"),
    "short axis": C.code("103340004", "SCT", "Short Axis"),
    "perimeter": C.PERIMETER,
    "area": C.AREA,
    "angle": C.ANGLE,
    "probability": C.CERTAINTY_OF_FINDING,
    "score": C.CERTAINTY_OF_FINDING,
    "confidence": C.CERTAINTY_OF_FINDING,
}

# the unit of a quantity column that names none
_DEFAULT_UNITS = {"number of voxels": "voxels", "voxel count": "voxels"}

_ATTENUATION = C.code("112031", "DCM", "Attenuation Coefficient")
_MR_SIGNAL = C.code("110852", "DCM", "MR signal intensity")
_NM_ACTIVITY = C.code("110821", "DCM", "Nuclear Medicine Tomographic Activity")
_SUVBW = C.code("126401", "DCM", "SUVbw")


def private_code(text: str) -> Code:
    """A stable private code for a quantity known only by its text (meaning = the text)."""
    meaning = (text or "unnamed").strip()[:64] or "unnamed"
    slug = re.sub(r"[^A-Za-z0-9]+", "_", meaning).strip("_").upper() or "Q"
    if len(slug) > 16:
        digest = hashlib.sha1(meaning.encode("utf-8")).hexdigest()[:4].upper()
        slug = slug[:11] + "_" + digest
    return Code(slug, PRIVATE_SCHEME, meaning)


def _intensity_quantity(unit: Code, modality: Optional[str]) -> Tuple[Code, Code]:
    """The quantity a Mean/Minimum/... of image values measures, given its unit and modality."""
    u = str(unit.value)
    if u == "[hnsf'U]":
        return _ATTENUATION, unit
    if "SUV" in u:
        return _SUVBW, unit
    if u == "Bq/ml":
        return _NM_ACTIVITY, unit
    m = (modality or "").upper()
    if u == "1":
        if m == "CT":
            return _ATTENUATION, C.HOUNSFIELD_UNIT
        if m == "MR":
            return _MR_SIGNAL, unit
        if m == "PT":
            return _NM_ACTIVITY, C.code("Bq/ml", "UCUM", "Becquerels/milliliter")
    if m == "MR":
        return _MR_SIGNAL, unit
    return C.code("IMGVALUE", PRIVATE_SCHEME, "Image value"), unit


def quantity_for(name: str, unit_text: Optional[str] = None, modality: Optional[str] = None):
    """``(quantity, unit, derivation, known)`` codes for a quantity name and unit text.

    ``Mean``/``Minimum``/... of image values become the measured quantity (Attenuation
    Coefficient for CT / HU, SUVbw for SUV units, MR signal intensity for MR, ...) with the
    statistic as derivation (CID 7464). ``known`` is False when a private code had to be made.
    """
    text = re.sub(r"\s+", " ", (name or "").strip())
    key = text.lower()
    unit = unit_code(unit_text)
    if key in _DERIVATIONS:
        quantity, unit = _intensity_quantity(unit, modality)
        return quantity, unit, _DERIVATIONS[key], True
    # "Mean attenuation", "Max SUV": a statistic followed by what it is of
    first, _, rest = key.partition(" ")
    if first in _DERIVATIONS and rest:
        if rest in ("hu", "attenuation", "attenuation coefficient", "intensity", "value", "suv", "suvbw"):
            if rest in ("hu", "attenuation", "attenuation coefficient") and str(unit.value) == "1":
                unit = C.HOUNSFIELD_UNIT
            if rest in ("suv", "suvbw") and str(unit.value) == "1":
                unit = unit_code("SUVbw")
            quantity, unit = _intensity_quantity(unit, modality)
            return quantity, unit, _DERIVATIONS[first], True
    if key in _QUANTITIES:
        quantity = _QUANTITIES[key]
        if not (unit_text or "").strip() and key in _DEFAULT_UNITS:
            unit = unit_code(_DEFAULT_UNITS[key])
        return quantity, unit, None, True
    return private_code(text), unit, None, False


_HEADER = re.compile(
    r"^(?P<name>.*?)\s*(?:\[(?P<bracket>[^\]]*)\]|\((?P<paren>[^()]*)\))?\s*(?:\((?P<dup>\d+)\))?\s*$"
)


def parse_column_header(header: str) -> Tuple[str, Optional[str]]:
    """``"Volume [mm3] (2)"`` -> ``("Volume", "mm3")``; ``"Mean (HU)"`` -> ``("Mean", "HU")``."""
    h = (header or "").strip()
    m = _HEADER.match(h)
    if not m or not m.group("name"):
        return h, None
    unit = m.group("bracket") if m.group("bracket") is not None else m.group("paren")
    if unit is None and m.group("dup") is not None and m.group("bracket") is None:
        # "Name (1)": Slicer's duplicate counter without a unit is rare; a "(1)" unit is meant
        unit = m.group("dup")
    return m.group("name").strip(), (unit.strip() if unit is not None else None)


# ------------------------------------------------------------------------------------- reading
@dataclass
class TableColumn:
    """One quantity column of a measurement table."""

    header: str
    index: int
    quantity: Code
    unit: Code
    derivation: Optional[Code] = None
    known: bool = True


@dataclass
class MeasurementTable:
    """A per-segment measurement table.

    ``rows`` holds ``(label, {column index: value})``; values are int or float as written.
    """

    path: Optional[Path]
    label_header: str
    columns: List[TableColumn]
    rows: list
    warnings: list = field(default_factory=list)

    def measurements(self, row: int) -> list:
        """The :class:`~dicomai.sr.content.Measurement` objects of one row."""
        from .content import Measurement

        _, values = self.rows[row]
        out = []
        for col in self.columns:
            if col.index in values:
                out.append(
                    Measurement(
                        quantity=col.quantity,
                        value=values[col.index],
                        unit=col.unit,
                        derivation=col.derivation,
                        label=col.header,
                    )
                )
        return out


def _number(text: str):
    t = text.strip()
    if re.fullmatch(r"[+-]?\d+", t):
        return int(t)
    return float(t)


def _coded_entry(text: str) -> Optional[Code]:
    """Slicer's vtkCodedEntry string ``CodeValue:x|CodingSchemeDesignator:y|CodeMeaning:z``."""
    if not text:
        return None
    parts = dict(p.split(":", 1) for p in str(text).split("|") if ":" in p)
    value, scheme = parts.get("CodeValue"), parts.get("CodingSchemeDesignator")
    if not value or not scheme:
        return None
    return Code(value, scheme, parts.get("CodeMeaning") or value)


def _schema(path: Path, delimiter: str) -> dict:
    name = path.name
    stem = name[: -len(path.suffix)] if path.suffix else name
    schema_path = path.with_name(f"{stem}.schema{path.suffix}")
    if not schema_path.is_file():
        return {}
    out = {}
    try:
        with open(schema_path, newline="", encoding="utf-8-sig") as f:
            for row in csv.DictReader(f, delimiter=delimiter):
                col = row.get("columnName")
                if col:
                    out[col] = row
    except (OSError, csv.Error, UnicodeDecodeError):
        return {}
    return out


def read_measurement_table(path: PathLike, modality: Optional[str] = None) -> MeasurementTable:
    """Read a per-segment measurement table (.tsv, .txt: tab separated; .csv: comma separated).

    Parameters
    ----------
    modality:
        Of the image the statistics were computed on; picks the quantity of ``Mean`` etc. when the
        unit does not say it (CT -> Attenuation Coefficient in HU).

    Raises
    ------
    InputError
        Unreadable file, no header, no quantity column, or duplicate row labels.
    """
    path = Path(path)
    delimiter = "," if path.suffix.lower() == ".csv" else "\t"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read measurement table {str(path)!r}: {e}") from e
    records = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)]
    if len(records) < 2:
        raise InputError(f"measurement table {str(path)!r} needs a header row and at least one row")
    return table_from_rows(
        records[0],
        records[1:],
        schema=_schema(path, delimiter),
        modality=modality,
        name=f"measurement table {str(path)!r}",
        path=path,
    )


def table_from_rows(
    header: list,
    body: list,
    schema: Optional[dict] = None,
    modality: Optional[str] = None,
    name: str = "the measurement table",
    path: Optional[Path] = None,
) -> MeasurementTable:
    """A :class:`MeasurementTable` from a header row and rows of cell texts.

    ``schema`` maps a column name to ``{"unitLabel": ..., "DICOM.QuantityCode": ..., ...}`` (what
    Slicer's table schema and column properties hold). Used for files and for table nodes.
    """
    header = [str(h).strip() for h in header]
    body = [[str(c) for c in row] for row in body]
    schema = schema or {}
    warnings: list = []
    where = name
    short = path.name if path is not None else name

    label_index = next((i for i, h in enumerate(header) if h.lower() in _LABEL_HEADERS), None)
    if label_index is None:
        for i in range(len(header)):
            cells = [r[i] for r in body if i < len(r) and r[i].strip()]
            if cells and any(_not_number(c) for c in cells):
                label_index = i
                break
    if label_index is None:
        raise InputError(
            f"{where} has no segment column: name the column of segment labels 'Segment' (or 'Label')"
        )
    columns = []
    for i, h in enumerate(header):
        if i == label_index or not h:
            continue
        quantity_name, unit_text = parse_column_header(h)
        info = schema.get(h, {})
        if not unit_text and info.get("unitLabel"):
            unit_text = info["unitLabel"]
        quantity, unit, derivation, known = quantity_for(quantity_name, unit_text, modality)
        q_code = _coded_entry(info.get("DICOM.QuantityCode"))
        d_code = _coded_entry(info.get("DICOM.DerivationCode"))
        u_code = _coded_entry(info.get("DICOM.UnitsCode"))
        if q_code is not None:
            quantity, known = q_code, True
        if d_code is not None:
            derivation, known = d_code, True
        if u_code is not None:
            unit = u_code
        columns.append(TableColumn(h, i, quantity, unit, derivation, known))
    if not columns:
        raise InputError(f"{where} has no quantity columns besides {header[label_index]!r}")

    rows = []
    seen: dict = {}
    for n, record in enumerate(body, start=2):
        label = record[label_index].strip() if label_index < len(record) else ""
        if not label:
            warnings.append(f"{short} line {n}: no segment label; row left out")
            continue
        if label in seen:
            raise InputError(
                f"{where}: segment {label!r} appears on lines {seen[label]} and {n}; give one row per segment"
            )
        seen[label] = n
        values = {}
        for col in columns:
            cell = record[col.index].strip() if col.index < len(record) else ""
            if not cell or cell.lower() in ("nan", "n/a", "na", "none", "-"):
                continue
            try:
                values[col.index] = _number(cell)
            except ValueError:
                warnings.append(
                    f"{short} line {n}, column {col.header!r}: {cell!r} is not a number; left out"
                )
        rows.append((label, values))
    unknown = [c.header for c in columns if not c.known]
    if unknown:
        warnings.append(
            f"{short}: no standard code for column(s) {', '.join(repr(u) for u in unknown)}; "
            f"written with private codes ({PRIVATE_SCHEME}) that keep the column text"
        )
    return MeasurementTable(path, header[label_index], columns, rows, warnings)


def _not_number(text: str) -> bool:
    try:
        float(text)
        return False
    except ValueError:
        return True


# ------------------------------------------------------------------------------------- report table
def _code_text(c) -> str:
    return f"{c.scheme_designator}:{c.value}" if c is not None else ""


def _segment_text(g) -> str:
    s = g.segment
    if s is None:
        return ""
    if s.label:
        return f"{s.label} (#{s.segment_number})"
    return f"#{s.segment_number} of SEG {s.sop_instance_uid}"


def _value_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return repr(value) if isinstance(value, float) else str(value)


def report_rows(report) -> list:
    """One row per numeric measurement and per qualitative evaluation, over all groups.

    Keys are :data:`TABLE_COLUMNS`. ``value`` holds the number as written in the file (float or
    int), or for evaluations the meaning of the coded answer; ``unit`` the UCUM code; ``kind`` is
    "measurement" or "evaluation".
    """
    rows = []
    for g in report.groups:
        base = {
            "group": g.number,
            "finding": g.finding.meaning if g.finding is not None else "",
            "finding site": ", ".join(
                [str(s.meaning) for s in g.finding_sites]
                + [f"({m.meaning})" for m in g.finding_site_modifiers]
            ),
            "referenced segment": _segment_text(g),
            "tracking id": g.tracking_id or "",
            "tracking uid": g.tracking_uid or "",
            "markup": g.markup_name or "",
            "finding code": _code_text(g.finding),
            "finding site code": ";".join(_code_text(s) for s in g.finding_sites),
        }
        for m in g.measurements:
            row = dict(base)
            row.update(
                {
                    "quantity": str(m.quantity.meaning),
                    "value": m.value if m.value is not None else (m.qualifier.meaning if m.qualifier else ""),
                    "unit": str(m.unit.value) if m.unit is not None else "",
                    "derivation": m.derivation.meaning if m.derivation is not None else "",
                    "method": (m.method or g.method).meaning if (m.method or g.method) is not None else "",
                    "kind": "measurement",
                    "quantity code": _code_text(m.quantity),
                    "derivation code": _code_text(m.derivation),
                    "value code": "",
                }
            )
            if m.finding_sites and not row["finding site"]:
                row["finding site"] = ", ".join(str(s.meaning) for s in m.finding_sites)
                row["finding site code"] = ";".join(_code_text(s) for s in m.finding_sites)
            rows.append(row)
        for e in g.evaluations:
            row = dict(base)
            row.update(
                {
                    "quantity": str(e.concept.meaning),
                    "value": e.value_text,
                    "unit": "",
                    "derivation": "",
                    "method": g.method.meaning if g.method is not None else "",
                    "kind": "evaluation",
                    "quantity code": _code_text(e.concept),
                    "derivation code": "",
                    "value code": _code_text(e.value) if hasattr(e.value, "scheme_designator") else "",
                }
            )
            rows.append(row)
    return rows


def write_table(rows: list, path: PathLike, overwrite: bool = False, columns=TABLE_COLUMNS) -> Path:
    """Write report rows as a tab-separated file with a header line."""
    path = Path(path)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for r in rows:
        writer.writerow([_value_text(r.get(c, "")) if c == "value" else r.get(c, "") for c in columns])
    with atomic_output(path, overwrite) as tmp:
        Path(tmp).write_text(buf.getvalue(), encoding="utf-8")
    return path
