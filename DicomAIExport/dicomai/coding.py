"""Coded concepts: the project's code type, conversion to and from dicts and datasets, and
label -> code lookup.

Codes are :class:`Code`, a named tuple with the fields (and the equality and hash) of
:class:`pydicom.sr.coding.Code` that does not import ``pydicom.sr``: that package loads pydicom's
code dictionaries (~0.15 s) when imported, which a command-line SEG export or import does not
need. The two types are interchangeable: they compare equal both ways for the same concept, hash
alike, and :func:`is_code` accepts either. highdicom's APIs take only its own ``CodedConcept`` or
pydicom's ``Code``: convert with :func:`code_to_dataset` or :meth:`Code.as_pydicom` where codes
are handed to highdicom.

The lookup from a free-text segment label ("liver", "kidney_left", "Left Kidney") to SNOMED CT
codes uses pydicom's copy of DICOM CID 7151 (Segmentation Property Types) and finds the category
through the category-specific CIDs 7191-7198.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from typing import Any, NamedTuple, Optional

__all__ = [
    "GENERIC_CATEGORY",
    "GENERIC_TYPE",
    "Code",
    "code_from_dataset",
    "code_from_dict",
    "code_to_dataset",
    "code_to_dict",
    "codes_equal",
    "format_code",
    "is_code",
    "lookup_label",
    "terminology_from_string",
    "terminology_to_string",
]


@lru_cache(maxsize=1)
def _srt_to_sct() -> dict:
    """pydicom's map of retired SNOMED-RT ("SRT") code values to SNOMED CT ("SCT") values.

    Imported on the first comparison that involves an SRT code (it imports ``pydicom.sr``)."""
    from pydicom.sr._snomed_dict import mapping

    return mapping["SRT"]


def _compared(code) -> tuple:
    """What code equality compares: (value, scheme, version), SRT codes mapped to SCT."""
    value, scheme = code.value, code.scheme_designator
    if scheme == "SRT":
        mapped = _srt_to_sct().get(value)
        if mapped is not None:
            value, scheme = mapped, "SCT"
    return value, scheme, code.scheme_version


class Code(NamedTuple):
    """A coded concept: code *value*, coding *scheme designator*, code *meaning* and optionally
    the coding *scheme version*.

    The same fields, defaults, equality and hash as :class:`pydicom.sr.coding.Code`, without
    importing ``pydicom.sr``:

    - two codes are equal when value, scheme designator and scheme version are equal (the meaning
      is free text and not compared); retired SNOMED-RT ("SRT") codes that pydicom maps to SNOMED
      CT compare as their "SCT" equivalents, so ``Code("T-62000", "SRT", "Liver")`` equals
      ``Code("10200004", "SCT", "Liver")``;
    - equality holds with pydicom's ``Code`` (and highdicom's ``CodedConcept``) both ways:
      ``Code(...) == pydicom.sr.coding.Code(...)`` and the reverse;
    - the hash is pydicom's, ``hash(scheme_designator + value)``, so either type finds the other
      in a dict or set (as with pydicom's type, an SRT code and its SCT equivalent are equal but
      hash differently);
    - compared with anything that is not a code (no ``value``/``scheme_designator``/
      ``scheme_version``), ``==`` defers to the other object, as tuples do.
    """

    value: str
    scheme_designator: str
    meaning: str
    scheme_version: Optional[str] = None

    def __hash__(self) -> int:
        return hash(self.scheme_designator + self.value)

    def __eq__(self, other: Any) -> Any:
        try:
            theirs = _compared(other)
        except AttributeError:  # not a code
            return NotImplemented
        return _compared(self) == theirs

    def __ne__(self, other: Any) -> Any:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    @classmethod
    def from_pydicom(cls, code) -> Code:
        """A :class:`Code` from pydicom's ``Code``, highdicom's ``CodedConcept`` or any object
        with ``value``, ``scheme_designator``, ``meaning`` (and ``scheme_version``)."""
        if type(code) is cls:
            return code
        version = getattr(code, "scheme_version", None)
        return cls(
            str(code.value),
            str(code.scheme_designator),
            str(code.meaning),
            str(version) if version is not None else None,
        )

    def as_pydicom(self):
        """This concept as a :class:`pydicom.sr.coding.Code` (imports ``pydicom.sr``)."""
        from pydicom.sr.coding import Code as PydicomCode

        return PydicomCode(self.value, self.scheme_designator, self.meaning, self.scheme_version)


def is_code(x) -> bool:
    """True for a :class:`Code` or a :class:`pydicom.sr.coding.Code` (without importing
    ``pydicom.sr``: a pydicom code can only exist once its module is loaded)."""
    if isinstance(x, Code):
        return True
    pydicom_coding = sys.modules.get("pydicom.sr.coding")
    return pydicom_coding is not None and isinstance(x, pydicom_coding.Code)


# CID 7191-7198 (category-specific type lists) -> the category concept of CID 7150 they belong to
_CATEGORY_CIDS = {
    7191: "Tissue",
    7192: "AnatomicalStructure",
    7193: "PhysicalObject",
    7194: "MorphologicallyAbnormalStructure",
    7195: "Function",
    7196: "SpatialAndRelationalConcept",
    7197: "BodySubstance",
    7198: "Substance",
}
_LATERALITY = {"left": "Left", "right": "Right", "l": "Left", "r": "Right", "bilateral": "Bilateral"}
# common words in AI model label names -> the CID 7151 concept they mean
_SYNONYMS = {
    "tumor": "neoplasm",
    "tumour": "neoplasm",
    "urinarybladder": "bladder",
    "vertebrae": "vertebra",
    "ribs": "rib",
    "lungs": "lung",
    "kidneys": "kidney",
    "gallbladder": "gallbladder",
}


def _code(scheme: str, keyword: str) -> Code:
    """A concept of pydicom's code dictionary (imports ``pydicom.sr``), as a :class:`Code`."""
    from pydicom.sr.codedict import codes

    return Code.from_pydicom(getattr(getattr(codes, scheme), keyword))


GENERIC_CATEGORY = ("85756007", "SCT", "Tissue")
GENERIC_TYPE = ("85756007", "SCT", "Tissue")


def generic_category() -> Code:
    """SCT 85756007 "Tissue": the category used when nothing better is known."""
    return Code(*GENERIC_CATEGORY)


def generic_type() -> Code:
    """SCT 85756007 "Tissue": the type used when nothing better is known."""
    return Code(*GENERIC_TYPE)


def code_from_dict(d: Optional[dict], what: str = "code") -> Optional[Code]:
    """``{"CodeValue", "CodingSchemeDesignator", "CodeMeaning"}`` (dcmqi JSON) -> Code."""
    from .errors import MetadataError

    if d is None:
        return None
    if isinstance(d, list):  # dcmqi sometimes wraps sequences in a list
        if not d:
            return None
        d = d[0]
    if not isinstance(d, dict):
        raise MetadataError(f"{what}: expected an object with CodeValue, got {d!r}")
    value = d.get("CodeValue") or d.get("LongCodeValue") or d.get("URNCodeValue")
    scheme = d.get("CodingSchemeDesignator")
    meaning = d.get("CodeMeaning")
    missing = [
        k
        for k, v in (("CodeValue", value), ("CodingSchemeDesignator", scheme), ("CodeMeaning", meaning))
        if not v
    ]
    if missing:
        raise MetadataError(f"{what}: {', '.join(missing)} missing in {d!r}")
    return Code(str(value), str(scheme), str(meaning), d.get("CodingSchemeVersion") or None)


def code_to_dict(c) -> Optional[dict]:
    """Code -> dcmqi JSON dict."""
    if c is None:
        return None
    out = {
        "CodeValue": str(c.value),
        "CodingSchemeDesignator": str(c.scheme_designator),
        "CodeMeaning": str(c.meaning),
    }
    if getattr(c, "scheme_version", None):
        out["CodingSchemeVersion"] = str(c.scheme_version)
    return out


def code_from_dataset(item) -> Optional[Code]:
    """A code sequence item (pydicom Dataset) -> Code."""
    if item is None:
        return None
    value = item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue") or ""
    return Code(
        str(value),
        str(item.get("CodingSchemeDesignator", "")),
        str(item.get("CodeMeaning", "")),
        str(item.get("CodingSchemeVersion")) if item.get("CodingSchemeVersion") else None,
    )


def code_to_dataset(c):
    """Code (ours or pydicom's) -> a code sequence item: highdicom's CodedConcept, which highdicom's
    APIs accept as a code."""
    from highdicom.sr import CodedConcept

    return CodedConcept(c.value, c.scheme_designator, c.meaning, getattr(c, "scheme_version", None))


def codes_equal(a, b) -> bool:
    """Same concept (value and scheme); meanings may differ in wording."""
    if a is None or b is None:
        return a is b
    return str(a.value) == str(b.value) and str(a.scheme_designator) == str(b.scheme_designator)


def format_code(c) -> str:
    """``(10200004, SCT, "Liver")``."""
    if c is None:
        return "-"
    return f'({c.value}, {c.scheme_designator}, "{c.meaning}")'


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@lru_cache(maxsize=1)
def _type_index() -> dict:
    """normalised keyword/meaning -> (type keyword, category keyword) over CID 7151."""
    from pydicom.sr import _cid_dict
    from pydicom.sr.codedict import codes

    category_of = {}
    for cid, category in _CATEGORY_CIDS.items():
        for kw in _cid_dict.cid_concepts.get(cid, {}).get("SCT", []):
            category_of.setdefault(kw, category)
    index = {}
    for kw in _cid_dict.cid_concepts.get(7151, {}).get("SCT", []):
        category = category_of.get(kw, "AnatomicalStructure")
        code = getattr(codes.SCT, kw)
        for key in (_norm(kw), _norm(code.meaning)):
            index.setdefault(key, (kw, category))
    return index


def lookup_label(label: str):
    """Codes for a free-text segment label, or ``None`` when the label is not a known concept.

    Returns ``(category, type, modifier)`` where ``modifier`` is Left/Right when the label names
    a side ("left kidney", "kidney_left", "Kidney L"), else ``None``.

    >>> cat, typ, mod = lookup_label("liver")
    >>> typ.value, cat.meaning
    ('10200004', 'Anatomical Structure')
    """
    if not label or not label.strip():
        return None
    index = _type_index()
    words = [_SYNONYMS.get(w, w) for w in re.split(r"[\s_\-.,/()]+", label.strip().lower()) if w]
    modifier = None
    whole = _norm(label)
    found = index.get(_SYNONYMS.get(whole, whole)) or _find_words(index, words)
    if found is None and len(words) > 1:
        sides = [w for w in words if w in _LATERALITY]
        rest = [w for w in words if w not in _LATERALITY]
        if len(sides) == 1 and rest:
            found = _find_words(index, rest)
            if found is not None:
                modifier = _code("SCT", _LATERALITY[sides[0]])
    if found is None:
        return None
    type_kw, category_kw = found
    return _code("SCT", category_kw), _code("SCT", type_kw), modifier


def _find_words(index: dict, words: list):
    """Try the words joined in their order and, for two or three words, in the other orders."""
    from itertools import permutations

    if not words:
        return None
    orders = [words] if len(words) > 3 else [list(p) for p in permutations(words)]
    for order in orders:
        hit = index.get(_norm("".join(order)))
        if hit is not None:
            return hit
    return None


# ---------------------------------------------------------------------------------------------
# Slicer's terminology entry string (vtkSlicerTerminologyEntry serialisation, Slicer 5.x):
#   "<context>~<cat scheme>^<cat value>^<cat meaning>~<type ...>~<type modifier ...>"
#   "~<anatomic context>~<region ...>~<region modifier ...>"
DEFAULT_TERMINOLOGY_CONTEXT = "Segmentation category and type - DICOM master list"
DEFAULT_ANATOMIC_CONTEXT = "Anatomic codes - DICOM master list"


def _term_code(c) -> str:
    if c is None:
        return "^^"
    return f"{c.scheme_designator}^{c.value}^{c.meaning}"


def _parse_term_code(text: str) -> Optional[Code]:
    parts = (text or "").split("^")
    if len(parts) < 3 or not parts[0] or not parts[1]:
        return None
    return Code(parts[1], parts[0], "^".join(parts[2:]))


def terminology_to_string(
    category,
    type_,
    type_modifier=None,
    region=None,
    region_modifier=None,
    contexts: tuple = (DEFAULT_TERMINOLOGY_CONTEXT, DEFAULT_ANATOMIC_CONTEXT),
) -> str:
    """Codes -> Slicer's terminology entry string (``contexts``: the terminology and anatomic
    context names it starts with)."""
    context, anatomic_context = contexts
    return "~".join(
        [
            context or "",
            _term_code(category),
            _term_code(type_),
            _term_code(type_modifier),
            anatomic_context or "",
            _term_code(region),
            _term_code(region_modifier),
        ]
    )


def terminology_from_string(text: str) -> dict:
    """Slicer's terminology entry string -> dict of codes (``None`` where empty).

    Keys: context, category, type, type_modifier, anatomic_context, region, region_modifier.
    """
    parts = (text or "").split("~")
    parts += [""] * (7 - len(parts))
    return {
        "context": parts[0],
        "category": _parse_term_code(parts[1]),
        "type": _parse_term_code(parts[2]),
        "type_modifier": _parse_term_code(parts[3]),
        "anatomic_context": parts[4],
        "region": _parse_term_code(parts[5]),
        "region_modifier": _parse_term_code(parts[6]),
    }
