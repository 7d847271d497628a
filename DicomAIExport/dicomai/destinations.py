"""Where results go: a folder or one file (atomic temp-then-rename), or a DICOMweb server.

Every family's writer (:func:`dicomai.seg.encode.write_seg`, :func:`dicomai.sr.encode.write_sr`,
:func:`dicomai.sc.encode.write_sc`) takes its output as a destination, so "where" is chosen once,
by the caller, and every file is written under a temporary name and renamed when complete:

>>> dest = FolderDestination("out")                      # doctest: +SKIP
>>> write_seg(content, source, dest, SegOptions(...))     # doctest: +SKIP  out/<SOPInstanceUID>.dcm
>>> write_seg(content, source, "out/organs.seg.dcm")      # doctest: +SKIP  a path: FileDestination
>>> dest.finish(paths)                                    # doctest: +SKIP  after the whole export

A destination names the files (:meth:`FolderDestination.name_for`), gives temporary paths that
are renamed into place all together (:meth:`FolderDestination.writing`), and does what comes
after a whole export in :meth:`FolderDestination.finish` (nothing for a folder; the Slicer
adapters' database destination imports the files there). A DICOMweb server is reached by storing
written files (:meth:`DicomWebDestination.store`, STOW-RS then verified).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

from .fileio import atomic_outputs

__all__ = ["DicomWebDestination", "FileDestination", "FolderDestination", "as_destination"]


class FolderDestination:
    """A folder: each object becomes a file there, all or nothing.

    Parameters
    ----------
    folder:
        Where the files go (created when missing).
    overwrite:
        Replace existing files of the same name (otherwise :class:`OutputExistsError`).
    send_to:
        A :class:`DicomWebDestination` that :meth:`finish` stores the files on (and verifies).
    """

    def __init__(
        self, folder, overwrite: bool = False, send_to: Optional[DicomWebDestination] = None
    ) -> None:
        self.folder = Path(folder)
        self.overwrite = overwrite
        self.send_to = send_to
        self.written: List[Path] = []  # every file renamed into place, in order
        self.sent = None  # the SendReport of finish(), when sending

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.folder)!r})"

    def name_for(self, default: str, count: int = 1) -> List[str]:
        """File names for ``count`` objects whose writer suggests ``default`` (``{n}`` numbered)."""
        if count == 1:
            return [default.format(n=1)]
        return [default.format(n=n) for n in range(1, count + 1)]

    def path(self, name: str) -> Path:
        return self.folder / name

    def check(self, names: Sequence[str] = ()) -> None:
        """Fail early (:class:`OutputExistsError`) when a file to be written exists already."""
        from .fileio import check_writable

        check_writable([self.path(n) for n in names], self.overwrite)

    @contextmanager
    def writing(self, names: Sequence[str]) -> Iterator[List[Path]]:
        """Temporary paths for ``names``; all renamed into place when the block succeeds."""
        with atomic_outputs([self.path(n) for n in names], overwrite=self.overwrite) as temps:
            yield temps
        self.written.extend(self.path(n) for n in names)

    def write(self, datasets: Sequence, names: Optional[Sequence[str]] = None) -> List[Path]:
        """Write every dataset under a temporary name, then rename all into place."""
        import pydicom

        if names is None:
            names = [f"{ds.SOPInstanceUID}.dcm" for ds in datasets]
        with self.writing(names) as temps:
            for ds, tmp in zip(datasets, temps):
                pydicom.dcmwrite(str(tmp), ds, enforce_file_format=True)
        return [self.path(n) for n in names]

    def finish(self, paths: Sequence[Path], progress=None) -> None:
        """After a whole export (every file written and checked): store ``paths`` on ``send_to``
        when given (``progress(done, total)``); nothing else for a folder.

        Raises
        ------
        dicomai.dicomweb.DicomWebError
            Some instance is not verified on the server (the message lists what is missing).
        """
        if self.send_to is None:
            return
        from .dicomweb.client import DicomWebError
        from .dicomweb.store import format_send_report

        self.sent = self.send_to.store(paths, progress=progress)
        if not self.sent.ok:
            raise DicomWebError(format_send_report(self.sent))


class FileDestination(FolderDestination):
    """Exactly one file, at ``path`` (the command line's ``--out FILE``).

    Raises :class:`~dicomai.errors.InputError` when a writer has more than one object for it.
    """

    def __init__(self, path, overwrite: bool = False, send_to: Optional[DicomWebDestination] = None) -> None:
        self.file = Path(path)
        super().__init__(self.file.parent, overwrite, send_to)

    def __repr__(self) -> str:
        return f"FileDestination({str(self.file)!r})"

    def name_for(self, default: str, count: int = 1) -> List[str]:
        if count != 1:
            from .errors import InputError

            raise InputError(f"{str(self.file)!r} is one file but there are {count} objects: give a folder")
        return [self.file.name]

    def check(self, names: Sequence[str] = ()) -> None:
        from .fileio import check_writable

        check_writable([self.file], self.overwrite)


def as_destination(target, overwrite: bool = False):
    """``target`` when it is a destination, else a :class:`FileDestination` for that path."""
    if hasattr(target, "writing") and hasattr(target, "name_for"):
        return target
    return FileDestination(target, overwrite=overwrite)


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
    timeout:
        Seconds to wait for each answer.
    """

    def __init__(
        self,
        url: str,
        credentials=None,
        insecure: bool = False,
        batch_size: int = 50,
        retries: int = 3,
        timeout: float = 30.0,
    ):
        self.url = url
        self.credentials = credentials
        self.insecure = insecure
        self.batch_size = batch_size
        self.retries = retries
        self.timeout = timeout
        self._connection = None

    def __repr__(self) -> str:  # never shows credentials
        return f"DicomWebDestination({self.url!r})"

    def connect(self):
        """The :class:`dicomai.dicomweb.Connection` (made once; :meth:`store` uses it)."""
        if self._connection is None:
            from .dicomweb.client import connect

            self._connection = connect(
                self.url, self.credentials, insecure=self.insecure, timeout=self.timeout
            )
        return self._connection

    def store(self, paths: Sequence, progress=None, missing_only: bool = False):
        """Send the files and return a :class:`dicomai.dicomweb.SendReport` (``.ok`` when all
        verified); ``missing_only``: ask the server first and send only what it lacks."""
        from .dicomweb.store import SendOptions, send_files

        options = SendOptions(batch_size=self.batch_size, retries=self.retries, missing_only=missing_only)
        return send_files(self.connect(), paths, options, progress=progress)
