"""WADO-RS: a study or series retrieved into Part 10 files, written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from ..errors import InputError
from .client import Connection, DicomWebError

__all__ = ["DICOMWEB_PREFIX", "parse_dicomweb_source", "referenced_series", "retrieve_to_folder",
           "retrieve_with_references"]  # fmt: skip

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
    out,
    series: Optional[str] = None,
    overwrite: bool = False,
) -> List[Path]:
    """Write every instance into ``out`` (one sub-folder per series for a whole study).

    ``out`` is a folder path or a :class:`dicomai.destinations.FolderDestination` (then its own
    ``overwrite`` applies). Files are named ``<SOPInstanceUID>.dcm``; all are written under
    temporary names and renamed when every one is complete, so a failure leaves nothing behind.
    Existing files are kept unless ``overwrite``.
    """
    from ..destinations import FileDestination, FolderDestination

    if isinstance(out, FileDestination):
        raise InputError(f"{out.file} is one file: a retrieved series goes to a folder")
    destination = out if isinstance(out, FolderDestination) else FolderDestination(out, overwrite)
    if destination.folder.exists() and not destination.folder.is_dir():
        raise InputError(f"--out {str(destination.folder)!r} is a file: give a folder")
    datasets = retrieve_datasets(conn, study, series)
    names = [
        f"{ds.SOPInstanceUID}.dcm" if series else f"{ds.SeriesInstanceUID}/{ds.SOPInstanceUID}.dcm"
        for ds in datasets
    ]
    return destination.write(datasets, names)


def referenced_series(ds) -> List[tuple]:
    """``(study, series)`` pairs a SEG, SR or SC refers to (its source images, the SR's evidence)."""
    own_study = str(ds.get("StudyInstanceUID", ""))
    pairs = []
    for item in ds.get("ReferencedSeriesSequence", []) or []:
        pairs.append((own_study, str(item.get("SeriesInstanceUID", ""))))
    for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in ds.get(keyword, []) or []:
            for item in study.get("ReferencedSeriesSequence", []) or []:
                pairs.append(
                    (str(study.get("StudyInstanceUID", own_study)), str(item.get("SeriesInstanceUID", "")))
                )
    out = []
    for pair in pairs:
        if pair[1] and pair not in out:
            out.append(pair)
    return out


def retrieve_with_references(conn: Connection, study: str, series: str, out: Path, overwrite: bool = False):
    """Retrieve a series and the series it refers to (an SR's SEG and the SEG's CT too), each into
    ``out/<SeriesInstanceUID>/``; returns every written path. Referenced series that the server
    does not have are skipped (the loader then says what is missing)."""
    import pydicom

    out = Path(out)
    done: set = set()
    todo = [(study, series)]
    written: List[Path] = []
    while todo and len(done) < 20:
        st, se = todo.pop(0)
        if se in done:
            continue
        done.add(se)
        try:
            paths = retrieve_to_folder(conn, st, out / se, series=se, overwrite=overwrite)
        except DicomWebError:
            if se == series:
                raise
            continue
        written.extend(paths)
        for path in paths[:1] if paths else []:
            for pair in referenced_series(pydicom.dcmread(str(path), stop_before_pixels=True)):
                if pair[1] not in done:
                    todo.append(pair)
    return written


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
