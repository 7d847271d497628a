"""The Slicer DICOM database as a destination (:mod:`dicomai.destinations` has the folder and
the DICOMweb server).

Files are written, atomically as everywhere, into a new folder beside the database
(``<database>/DicomAIExport/<time>``); :meth:`SlicerDatabaseDestination.finish` then imports them
with Slicer's ``DICOMUtils.importDicom``, once the whole export has been written and checked.
``slicer`` and ``DICOMLib`` are imported when used, never at import time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Sequence

from dicomai.destinations import FolderDestination  # standard library only at import

__all__ = ["SlicerDatabaseDestination", "output_destination"]


class SlicerDatabaseDestination(FolderDestination):
    """The application's DICOM database (``slicer.dicomDatabase``).

    Raises :class:`dicomai.errors.InputError` when there is no database (the DICOM module was
    never opened).
    """

    def __init__(self, database=None, overwrite: bool = False, send_to=None) -> None:
        import slicer

        database = database if database is not None else getattr(slicer, "dicomDatabase", None)
        if database is None:
            from dicomai.errors import InputError

            raise InputError("There is no DICOM database: open the DICOM module once, or export to a folder.")
        self.database = database
        base = database.databaseDirectory or os.path.join(slicer.app.temporaryPath, "DicomAIExport")
        super().__init__(Path(base) / "DicomAIExport" / time.strftime("%Y%m%d_%H%M%S"), overwrite, send_to)

    def finish(self, paths: Sequence[Path], progress=None) -> None:
        """Import the folder's files into the database, then send them (``send_to``)."""
        from DICOMLib import DICOMUtils

        DICOMUtils.importDicom(str(self.folder))
        super().finish(paths, progress)


def output_destination(to_database: bool, folder=None, send_to=None):
    """Where the panel's results go: the DICOM database, else ``folder``; and then ``send_to``
    (a :class:`dicomai.destinations.DicomWebDestination`) when given."""
    if to_database:
        return SlicerDatabaseDestination(send_to=send_to)
    return FolderDestination(folder, send_to=send_to)
