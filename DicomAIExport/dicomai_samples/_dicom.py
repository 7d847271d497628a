"""Small DICOM helpers of the sample series: DS strings, code items, UIDs, writing a file."""

from __future__ import annotations

import math
from pathlib import Path


def ds_string(value: float) -> str:
    """The shortest-rounded DS string of at most 16 characters (15 significant digits at most).

    (pydicom 3.0.2's ``format_number_as_ds`` gives 17 characters for 9.999999999999998.)
    """
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"cannot write {v!r} as a DICOM decimal string")
    if abs(v) < 1e-10:
        return "0"
    for digits in range(15, 0, -1):
        text = f"{v:.{digits}g}"
        if len(text) <= 16:
            return text
    raise ValueError(f"cannot write {v!r} in 16 characters")  # pragma: no cover


def code_item(code):
    """A code sequence item (CodeValue, CodingSchemeDesignator, CodeMeaning) for ``code``."""
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme_designator
    item.CodeMeaning = code.meaning
    return item


def uid_factory(uid_seed):
    """``uid(*parts)``: new UIDs, or UIDs derived from ``uid_seed`` and ``parts`` when it is given."""
    from pydicom.uid import generate_uid

    if uid_seed is None:
        return lambda *parts: generate_uid()
    return lambda *parts: generate_uid(entropy_srcs=[str(uid_seed), *[str(p) for p in parts]])


def write_file(path: Path, ds) -> None:
    """Write in the DICOM File Format (pydicom 3 ``enforce_file_format``, 2.x ``write_like_original``)."""
    import pydicom

    try:
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
    except TypeError:  # pydicom < 3 (Slicer 5.10)
        pydicom.dcmwrite(path, ds, write_like_original=False)
