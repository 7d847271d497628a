"""DICOMweb: store (STOW-RS, verified), query (QIDO-RS) and retrieve (WADO-RS) through dicomweb-client.

dicomweb-client is an optional extra (``pip install dicomai[dicomweb]``); it is imported only
when a server is contacted. Commands: ``dicomai send``, ``dicomai query``, ``dicomai retrieve``,
and ``--send URL`` / ``--source dicomweb:URL#STUDY/SERIES`` on the export commands
(:mod:`dicomai.dicomweb.cli`).
"""

from __future__ import annotations

from .client import Connection, Credentials, DicomWebError, connect
from .query import format_series_table, query_series, query_studies
from .retrieve import parse_dicomweb_source, retrieve_to_folder, retrieve_with_references
from .store import SendOptions, SendReport, format_send_report, send_files

__all__ = [
    "Connection",
    "Credentials",
    "DicomWebError",
    "SendReport",
    "connect",
    "format_send_report",
    "format_series_table",
    "parse_dicomweb_source",
    "query_series",
    "query_studies",
    "retrieve_to_folder",
    "retrieve_with_references",
    "SendOptions",
    "send_files",
]
