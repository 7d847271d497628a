"""QIDO-RS: the series a server holds, as a table or JSON."""

from __future__ import annotations

from typing import List, Optional

from ..sopclasses import SECONDARY_CAPTURE_SOP_CLASSES
from .client import Connection

__all__ = ["format_series_table", "query_series", "query_studies"]

_FIELDS = [
    "PatientID",
    "PatientName",
    "StudyInstanceUID",
    "StudyDate",
    "StudyDescription",
    "SeriesInstanceUID",
    "Modality",
    "SeriesDescription",
    "SeriesNumber",
    "NumberOfSeriesRelatedInstances",
]


def _value(item: dict, tag: str):
    values = (item.get(tag) or {}).get("Value") or [None]
    v = values[0]
    if isinstance(v, dict):  # PersonName
        return v.get("Alphabetic")
    return v


def _row(item: dict) -> dict:
    return {
        "patient_id": _value(item, "00100020"),
        "patient_name": _value(item, "00100010"),
        "study_instance_uid": _value(item, "0020000D"),
        "study_date": _value(item, "00080020"),
        "series_instance_uid": _value(item, "0020000E"),
        "modality": _value(item, "00080060"),
        "series_description": _value(item, "0008103E"),
        "series_number": _value(item, "00200011"),
        "instances": _value(item, "00201209"),
    }


def query_series(
    conn: Connection,
    patient_id: Optional[str] = None,
    study: Optional[str] = None,
    series: Optional[str] = None,
    modality: Optional[str] = None,
) -> List[dict]:
    """Series matching the filters (each a dict of study/series fields and the instance count).

    ``modality="SC"`` finds Secondary Capture series whatever their Modality attribute (they
    are usually "OT"): it asks for instances of the SC SOP classes and groups them by series.
    """
    filters = {}
    if patient_id:
        filters["PatientID"] = patient_id
    if series:
        filters["SeriesInstanceUID"] = series
    if modality and modality.upper() != "SC":
        filters["Modality"] = modality.upper()
    if modality and modality.upper() == "SC":
        rows = {}
        for sop_class in SECONDARY_CAPTURE_SOP_CLASSES:
            found = conn.search(
                "querying",
                "search_for_instances",
                study_instance_uid=study,
                search_filters={**filters, "SOPClassUID": sop_class},
                fields=_FIELDS,
            )
            for item in found or []:
                row = _row(item)
                uid = row["series_instance_uid"]
                if uid in rows:
                    rows[uid]["instances"] += 1
                else:
                    row["instances"] = 1
                    rows[uid] = row
        return sorted(rows.values(), key=_sort_key)
    if study:
        found = conn.search(
            "querying",
            "search_for_series",
            study_instance_uid=study,
            search_filters=filters,
            fields=_FIELDS,
        )
    else:
        found = conn.search(
            "querying",
            "search_for_series",
            search_filters=filters,
            fields=_FIELDS,
        )
    rows = [_row(item) for item in found or []]
    for r in rows:
        if r["study_instance_uid"] is None and study:
            r["study_instance_uid"] = study
        if r["instances"] is not None:
            r["instances"] = int(r["instances"])
    return sorted(rows, key=_sort_key)


def query_studies(conn: Connection, patient_id: Optional[str] = None) -> List[dict]:
    """Studies on the server: patient, date, description, modalities, number of series."""
    filters = {"PatientID": patient_id} if patient_id else {}
    fields = ["PatientID", "PatientName", "StudyDate", "StudyDescription", "ModalitiesInStudy",
              "NumberOfStudyRelatedSeries"]  # fmt: skip
    found = conn.search("querying", "search_for_studies", search_filters=filters, fields=fields)
    rows = []
    for item in found:
        modalities = (item.get("00080061") or {}).get("Value") or []
        rows.append(
            {
                "patient_id": _value(item, "00100020"),
                "patient_name": _value(item, "00100010"),
                "study_instance_uid": _value(item, "0020000D"),
                "study_date": _value(item, "00080020"),
                "study_description": _value(item, "00081030"),
                "modalities": [str(m) for m in modalities],
                "series": _value(item, "00201206"),
            }
        )
    return sorted(rows, key=lambda r: (str(r["study_date"] or ""), str(r["study_instance_uid"])))


def _sort_key(row: dict):
    return (str(row["study_instance_uid"]), int(row["series_number"] or 0), str(row["series_instance_uid"]))


def format_series_table(rows: List[dict]) -> str:
    """A readable table: study, series, modality, description, number of instances."""
    if not rows:
        return "no series found"
    header = ["study", "series", "modality", "description", "instances"]
    table = [
        [
            str(r["study_instance_uid"] or "-"),
            str(r["series_instance_uid"] or "-"),
            str(r["modality"] or "-"),
            str(r["series_description"] or ""),
            "-" if r["instances"] is None else str(r["instances"]),
        ]
        for r in rows
    ]
    widths = [max(len(header[i]), *(len(t[i]) for t in table)) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip() for t in table]
    lines.append(f"{len(rows)} series")
    return "\n".join(lines)
