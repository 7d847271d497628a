"""WADO-RS: a study or series retrieved into Part 10 files, written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from ..errors import InputError
from ..fileio import atomic_outputs
from .client import Connection, DicomWebError

__all__ = ["retrieve_to_folder", "parse_dicomweb_source", "DICOMWEB_PREFIX"]

DICOMWEB_PREFIX = "dicomweb:"


def retrieve_datasets(conn: Connection, study: str, series: Optional[str] = None) -> list:
    """The instances of a study (or one of its series) as pydicom datasets, original encoding."""
    media = (("application/dicom", "*"),)  # as stored: no transcoding by the server
    if series:
        datasets = conn.call(
            f"retrieving series {series}",
            conn.client.retrieve_series,
            study,
            series,
            media_types=media,
        )
    else:
        datasets = conn.call(
            f"retrieving study {study}", conn.client.retrieve_study, study, media_types=media
        )
    if not datasets:
        what = f"series {series} of study {study}" if series else f"study {study}"
        raise DicomWebError(f"retrieving from {conn.url}: the server has no instances of {what}")
    return list(datasets)


def retrieve_to_folder(
    conn: Connection,
    study: str,
    out: Path,
    series: Optional[str] = None,
    overwrite: bool = False,
) -> List[Path]:
    """Write every instance to ``out`` (one sub-folder per series for a whole study).

    Files are named ``<SOPInstanceUID>.dcm``; all are written under temporary names and renamed
    when every one is complete, so a failure leaves nothing behind. Existing files are kept
    unless ``overwrite``.
    """
    import pydicom

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} is a file: give a folder")
    datasets = retrieve_datasets(conn, study, series)
    paths = []
    for ds in datasets:
        name = f"{ds.SOPInstanceUID}.dcm"
        paths.append(out / name if series else out / str(ds.SeriesInstanceUID) / name)
    with atomic_outputs(paths, overwrite=overwrite) as temps:
        for ds, tmp in zip(datasets, temps):
            pydicom.dcmwrite(str(tmp), ds, enforce_file_format=True)
    return paths


def parse_dicomweb_source(text: str):
    """``dicomweb:URL#STUDY_UID/SERIES_UID`` -> (url, study, series)."""
    if not text.startswith(DICOMWEB_PREFIX):
        raise InputError(f"{text!r} is not a dicomweb: source")
    rest = text[len(DICOMWEB_PREFIX) :]
    url, sep, uids = rest.partition("#")
    parts = [p for p in uids.split("/") if p]
    if not sep or len(parts) != 2 or not url:
        raise InputError(
            f"--source {text!r}: write a DICOMweb series as dicomweb:URL#STUDY_UID/SERIES_UID "
            "(for example dicomweb:http://localhost:8042/dicom-web#1.2.3/1.2.3.4)"
        )
    return url, parts[0], parts[1]
