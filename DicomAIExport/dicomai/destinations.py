"""Where results go: a folder (atomic temp-then-rename) or a DICOMweb server (STOW-RS, verified).

Every family writes its objects through a destination, so "where" is chosen once:

>>> dest = FolderDestination("out")            # doctest: +SKIP
>>> paths = dest.write([dataset])              # doctest: +SKIP
>>> report = DicomWebDestination("https://pacs/dicom-web").store(paths)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

from .fileio import atomic_outputs

__all__ = ["DicomWebDestination", "FolderDestination"]


class FolderDestination:
    """A folder: each dataset becomes ``<name or SOPInstanceUID>.dcm``, all or nothing.

    Parameters
    ----------
    folder:
        Where the files go (created when missing).
    overwrite:
        Replace existing files of the same name (otherwise :class:`OutputExistsError`).
    """

    def __init__(self, folder, overwrite: bool = False) -> None:
        self.folder = Path(folder)
        self.overwrite = overwrite

    def __repr__(self) -> str:
        return f"FolderDestination({str(self.folder)!r})"

    def write(self, datasets: Sequence, names: Optional[Sequence[str]] = None) -> List[Path]:
        """Write every dataset under a temporary name, then rename all into place."""
        import pydicom

        if names is None:
            names = [f"{ds.SOPInstanceUID}.dcm" for ds in datasets]
        paths = [self.folder / n for n in names]
        with atomic_outputs(paths, overwrite=self.overwrite) as temps:
            for ds, tmp in zip(datasets, temps):
                pydicom.dcmwrite(str(tmp), ds, enforce_file_format=True)
        return paths


class DicomWebDestination:
    """A DICOMweb server: STOW-RS in batches, then every instance verified with QIDO-RS.

    Parameters
    ----------
    url:
        The server's DICOMweb root, e.g. ``http://localhost:8042/dicom-web``.
    credentials:
        A :class:`dicomai.dicomweb.Credentials` (names of environment variables or a netrc file).
    insecure:
        Do not verify the TLS certificate (warns).
    batch_size, retries:
        Instances per STOW request; further tries of a batch on connection errors and HTTP 5xx.
    """

    def __init__(
        self, url: str, credentials=None, insecure: bool = False, batch_size: int = 50, retries: int = 3
    ):
        self.url = url
        self.credentials = credentials
        self.insecure = insecure
        self.batch_size = batch_size
        self.retries = retries

    def __repr__(self) -> str:  # never shows credentials
        return f"DicomWebDestination({self.url!r})"

    def store(self, paths: Sequence, progress=None):
        """Send the files and return a :class:`dicomai.dicomweb.SendReport` (``.ok`` when all verified)."""
        from .dicomweb import connect, send_files

        conn = connect(self.url, self.credentials, insecure=self.insecure)
        return send_files(conn, paths, batch_size=self.batch_size, retries=self.retries, progress=progress)
