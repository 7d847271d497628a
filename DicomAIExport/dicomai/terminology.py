"""Terminology files: segment label -> category, type, modifier, anatomic region (and colour).

Two formats are read:

- Slicer's segmentation contexts (``.term.json``, dcmqi's segment-context schema):
  ``SegmentationCodes.Category[].Type[].Modifier[]`` with ``3dSlicerLabel`` names and
  ``recommendedDisplayRGBValue`` colours;
- TotalSegmentator-style CSV files: a ``Structure`` column with the label, then
  ``SegmentedPropertyCategoryCodeSequence.CodeValue`` ... ``AnatomicRegionModifierSequence.CodeMeaning``
  columns (scheme designator, value, meaning of each) and ``DicomRGBColor`` ("r,g,b").

The project ships, in ``dicomai/data`` (provenance and licences in data/README.md), TotalSegmentator's
SNOMED CT mapping and Slicer's two default segmentation contexts; :func:`shipped_terminologies`
returns them in the order they are searched.

Labels are matched after normalisation (:func:`label_key`): case, ``snake_case``/spaces/
punctuation, word order, plurals ("ribs", "vertebrae"), "of"/"the"/"and", ordinals ("third" = "3rd"
= "3") and laterality words anywhere ("left", "_L", "R") are ignored, the side kept apart. So
"rib_left_3", "Left third rib" and "3rd rib L" are one key; "vertebrae_L1" keeps "L1".
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from .coding import Code
from .errors import InputError

__all__ = [
    "DATA_DIR",
    "TermEntry",
    "Terminology",
    "label_key",
    "load_terminology",
    "shipped_terminologies",
    "totalsegmentator_classes",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
_SHIPPED = (
    "totalsegmentator_snomed_mapping.csv",
    "SegmentationCategoryTypeModifier-SlicerGeneralAnatomy.term.json",
    "SegmentationCategoryTypeModifier-DICOM-Master.term.json",
)
_SIDES = {"left": "left", "l": "left", "lt": "left", "right": "right", "r": "right", "rt": "right"}
_SIDE_CODES = {"left": Code("7771000", "SCT", "Left"), "right": Code("24028007", "SCT", "Right")}
_ORDINALS = {
    w: str(i)
    for i, w in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split(), start=1
    )
}
_STOP = {"of", "the", "and"}
_IRREGULAR = {"vertebrae": "vertebra", "ribs": "rib", "femora": "femur", "lumina": "lumen"}


def _singular(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "as", "os")):
        return word[:-1]
    return word


def label_key(label: str) -> Tuple[Tuple[str, ...], Optional[str]]:
    """The normalised form two spellings of one label share: ``(sorted words, side)``.

    >>> label_key("rib_left_3") == label_key("Left third rib") == label_key("ribs 3rd L")
    True
    """
    words = []
    sides = set()
    for w in re.split(r"[^a-z0-9]+", str(label or "").lower()):
        if not w or w in _STOP:
            continue
        if w in _SIDES:
            sides.add(_SIDES[w])
            continue
        m = re.fullmatch(r"(\d+)(st|nd|rd|th)", w)
        w = m.group(1) if m else _ORDINALS.get(w, w)
        words.append(_singular(w))
    side = sides.pop() if len(sides) == 1 else None
    if len(sides) > 1:  # "left and right": both words, no side
        words += ["left", "right"]
    return tuple(sorted(words)), side


@dataclass(frozen=True)
class TermEntry:
    """Codes (and a recommended colour) for one label."""

    category: Code
    type: Code
    type_modifier: Optional[Code] = None
    region: Optional[Code] = None
    region_modifier: Optional[Code] = None
    color: Optional[tuple] = None
    source: str = ""


class Terminology:
    """Labels -> :class:`TermEntry`, matched by :func:`label_key`. ``name`` says where it came from."""

    def __init__(self, name: str):
        self.name = name
        self._index: dict = {}
        self.entries: List[Tuple[str, TermEntry]] = []

    def add(self, names: Iterable[str], entry: TermEntry) -> None:
        names = [n for n in names if n and str(n).strip()]
        if names:
            self.entries.append((names[0], entry))
        for n in names:
            self._index.setdefault(label_key(n), entry)

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, label: str) -> Optional[TermEntry]:
        """The entry for ``label``; a side ("left kidney") with an entry only for the structure
        ("kidney") gives that entry with a Left/Right type modifier."""
        words, side = label_key(label)
        if not words:
            return None
        hit = self._index.get((words, side))
        if hit is not None:
            return hit
        if side is not None:
            plain = self._index.get((words, None))
            if plain is not None and plain.type_modifier is None and plain.region is None:
                return replace(plain, type_modifier=_SIDE_CODES[side])
        return None


# ------------------------------------------------------------------------------ readers
def _code(d: Optional[dict]) -> Optional[Code]:
    if not d or not d.get("CodeValue") or not d.get("CodingSchemeDesignator"):
        return None
    return Code(str(d["CodeValue"]), str(d["CodingSchemeDesignator"]), str(d.get("CodeMeaning", "")))


def _rgb(value) -> Optional[tuple]:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value.strip()) if v]
    try:
        rgb = tuple(int(round(float(v))) for v in value)
    except (TypeError, ValueError):
        return None
    return rgb if len(rgb) == 3 and all(0 <= v <= 255 for v in rgb) else None


def _read_term_json(path: Path, name: str) -> Terminology:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        categories = data["SegmentationCodes"]["Category"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(
            f"terminology file {name!r} is not a Slicer segmentation context (.term.json with "
            f"SegmentationCodes.Category): {e}"
        ) from e
    term = Terminology(data.get("SegmentationCategoryTypeContextName") or name)
    for cat in categories:
        category = _code(cat)
        for typ in cat.get("Type", []) or []:
            type_code = _code(typ)
            if category is None or type_code is None:
                continue
            source = f"{term.name}"
            modifiers = typ.get("Modifier") or []
            for mod in modifiers:
                mod_code = _code(mod)
                entry = TermEntry(
                    category,
                    type_code,
                    mod_code,
                    color=_rgb(mod.get("recommendedDisplayRGBValue")),
                    source=source,
                )
                term.add(
                    [mod.get("3dSlicerLabel"), f"{mod.get('CodeMeaning', '')} {typ.get('CodeMeaning', '')}"],
                    entry,
                )
            entry = TermEntry(
                category, type_code, None, color=_rgb(typ.get("recommendedDisplayRGBValue")), source=source
            )
            term.add([typ.get("3dSlicerLabel"), typ.get("CodeMeaning")], entry)
    return term


_CSV_PARTS = {
    "category": "SegmentedPropertyCategoryCodeSequence",
    "type": "SegmentedPropertyTypeCodeSequence",
    "type_modifier": "SegmentedPropertyTypeModifierCodeSequence",
    "region": "AnatomicRegionSequence",
    "region_modifier": "AnatomicRegionModifierSequence",
}


def _read_csv(path: Path, name: str) -> Terminology:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"cannot read terminology file {name!r}: {e}") from e
    needed = ["Structure", *(f"{_CSV_PARTS[p]}.CodeValue" for p in ("category", "type"))]
    if not rows or any(k not in rows[0] for k in needed):
        raise InputError(
            f"terminology file {name!r}: a TotalSegmentator-style CSV needs the columns "
            f"{', '.join(needed)} (and CodingSchemeDesignator/CodeMeaning of each)"
        )
    term = Terminology(name)
    for i, row in enumerate(rows, start=2):
        codes = {}
        for part, prefix in _CSV_PARTS.items():
            codes[part] = _code(
                {
                    "CodeValue": (row.get(f"{prefix}.CodeValue") or "").strip(),
                    "CodingSchemeDesignator": (row.get(f"{prefix}.CodingSchemeDesignator") or "").strip(),
                    "CodeMeaning": (row.get(f"{prefix}.CodeMeaning") or "").strip(),
                }
            )
        if codes["category"] is None or codes["type"] is None:
            raise InputError(f"terminology file {name!r} line {i}: category or type code missing")
        entry = TermEntry(color=_rgb(row.get("DicomRGBColor")), source=name, **codes)
        term.add([row.get("Structure", "")], entry)
    return term


def load_terminology(path) -> Terminology:
    """Read a Slicer ``.term.json`` context or a TotalSegmentator-style ``.csv``."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"terminology file {str(p)!r} does not exist")
    if p.name.lower().endswith(".json"):
        return _read_term_json(p, str(p))
    if p.name.lower().endswith((".csv", ".tsv")):
        return _read_csv(p, str(p))
    raise InputError(
        f"{str(p)!r}: a terminology file is a Slicer .term.json or a TotalSegmentator-style .csv"
    )


@lru_cache(maxsize=1)
def _shipped() -> tuple:
    out = []
    for name in _SHIPPED:
        p = DATA_DIR / name
        term = _read_term_json(p, name) if name.endswith(".json") else _read_csv(p, name)
        if name.endswith(".csv"):
            term.name = "TotalSegmentator's SNOMED CT mapping"
        out.append(term)
    return tuple(out)


def shipped_terminologies() -> Sequence[Terminology]:
    """TotalSegmentator's mapping, Slicer's General Anatomy and DICOM master contexts (in that
    order: the first that knows a label codes it)."""
    return _shipped()


@lru_cache(maxsize=1)
def _classes() -> dict:
    return json.loads((DATA_DIR / "totalsegmentator_classes.json").read_text(encoding="utf-8"))


def totalsegmentator_classes(task: str = "total") -> dict:
    """Label value -> class name of a TotalSegmentator task (``total``: 117 classes, ``total_mr``).

    Raises
    ------
    InputError
        For a task dicomai does not ship.
    """
    tasks = _classes()["tasks"]
    if task not in tasks:
        raise InputError(
            f"TotalSegmentator task {task!r} is not known here; known: {', '.join(sorted(tasks))} "
            "(for another task pass --metadata with its labelIDs)"
        )
    return {int(k): v for k, v in tasks[task].items()}
