"""Classification and detection results as JSON (``dicomai export-sr --findings FILE.json``).

::

    {"findings": [
      {"markup": "Lesions", "point": "Lesions-1",          # attach to a markup (or one point of it)
       "finding": "SCT^108369006^Neoplasm",
       "finding_sites": ["SCT^10200004^Liver"],
       "evaluations": [{"concept": "SCT^263714004^Colour", "value": "SCT^371251000^Red"}],
       "probability": 0.93},                               # Certainty of Finding, unit 1
      {"segment": "liver", "evaluations": [...]},          # attach to a segment's group
      {"finding": "SCT^56208002^Ulcer",                    # neither: an image-level finding,
       "images": ["1.2.3..."],                             # on these images (default: the series)
       "measurements": [{"quantity": "Score", "value": 4, "unit": "1"}]}
    ]}

Codes are ``SCHEME^VALUE^Meaning`` strings or dcmqi-style objects
(``{"CodeValue", "CodingSchemeDesignator", "CodeMeaning"}``). A list at the top level is accepted
in place of ``{"findings": [...]}``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List, Union

from ..coding import code_from_dict
from ..errors import InputError, MetadataError
from . import concepts as C
from .build import ImageFinding
from .content import Annotation, Evaluation, Measurement
from .tables import quantity_for, unit_code

__all__ = ["findings_from_json", "load_findings"]

PathLike = Union[str, "os.PathLike[str]"]

_KEYS = {
    "markup",
    "point",
    "segment",
    "images",
    "finding",
    "finding_category",
    "finding_sites",
    "finding_site",
    "evaluations",
    "measurements",
    "probability",
    "score",
    "tracking_id",
    "tracking_uid",
    "method",
}


def _code(value, what: str):
    if value is None:
        return None
    if isinstance(value, dict):
        return code_from_dict(value, what)
    if isinstance(value, str):
        return C.parse_code(value, what)
    raise MetadataError(f"{what}: {value!r} is not a code (give SCHEME^VALUE^Meaning or a code object)")


def _measurement(d, where: str) -> Measurement:
    if not isinstance(d, dict) or "value" not in d:
        raise MetadataError(f"{where}: a measurement needs a 'value' (and a 'quantity')")
    q = d.get("quantity", "Score")
    unit_text = d.get("unit")
    derivation = _code(d.get("derivation"), f"{where} derivation")
    if isinstance(q, str) and "^" not in q:
        quantity, unit, deriv, _ = quantity_for(q, unit_text if isinstance(unit_text, str) else None)
        derivation = derivation or deriv
    else:
        quantity = _code(q, f"{where} quantity")
        unit = None
    if isinstance(unit_text, dict) or (isinstance(unit_text, str) and "^" in unit_text):
        unit = _code(unit_text, f"{where} unit")
    elif unit is None:
        unit = unit_code(unit_text if unit_text is not None else "1")
    try:
        value = d["value"] if isinstance(d["value"], int) else float(d["value"])
    except (TypeError, ValueError):
        raise MetadataError(f"{where}: value {d['value']!r} is not a number") from None
    return Measurement(quantity=quantity, value=value, unit=unit, derivation=derivation)


def findings_from_json(data, source_name: str = "findings") -> List[ImageFinding]:
    """Parse the findings document (already loaded from JSON)."""
    items = data.get("findings") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise MetadataError(f'{source_name}: expected a list of findings (or {{"findings": [...]}})')
    out = []
    for i, f in enumerate(items, start=1):
        where = f"{source_name}, finding {i}"
        if not isinstance(f, dict):
            raise MetadataError(f"{where}: each finding must be a JSON object")
        unknown = sorted(set(f) - _KEYS)
        if unknown:
            raise MetadataError(
                f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}"
            )
        sites = f.get("finding_sites", [])
        if f.get("finding_site") is not None:
            sites = [f["finding_site"], *sites]
        if not isinstance(sites, list):
            sites = [sites]
        evaluations = []
        for j, e in enumerate(f.get("evaluations") or [], start=1):
            if not isinstance(e, dict) or "concept" not in e or "value" not in e:
                raise MetadataError(f"{where}, evaluation {j}: give a 'concept' and a 'value' code")
            evaluations.append(
                Evaluation(
                    _code(e["concept"], f"{where} evaluation {j}"), _code(e["value"], f"{where} value {j}")
                )
            )
        measurements = [
            _measurement(m, f"{where}, measurement {j}") for j, m in enumerate(f.get("measurements") or [], 1)
        ]
        for key in ("probability", "score"):
            if f.get(key) is not None:
                try:
                    value = float(f[key])
                except (TypeError, ValueError):
                    raise MetadataError(f"{where}: {key} {f[key]!r} is not a number") from None
                measurements.append(Measurement(C.CERTAINTY_OF_FINDING, value, C.NO_UNITS))
        annotation = Annotation(
            finding=_code(f.get("finding"), f"{where} finding"),
            finding_category=_code(f.get("finding_category"), f"{where} finding_category"),
            finding_sites=[_code(s, f"{where} finding site") for s in sites],
            evaluations=evaluations,
            measurements=measurements,
            method=_code(f.get("method"), f"{where} method"),
            tracking_id=f.get("tracking_id"),
            tracking_uid=f.get("tracking_uid"),
        )
        images = f.get("images") or []
        if isinstance(images, str):
            images = [images]
        out.append(
            ImageFinding(
                annotation=annotation,
                image_uids=[str(u) for u in images],
                markup=f.get("markup"),
                point=f.get("point"),
                segment=f.get("segment"),
            )
        )
    return out


def load_findings(path: PathLike) -> List[ImageFinding]:
    """Read a findings JSON file (see the module documentation)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read findings file {str(path)!r}: {e}") from e
    except ValueError as e:
        raise InputError(f"findings file {str(path)!r} is not JSON: {e}") from e
    return findings_from_json(data, path.name)
