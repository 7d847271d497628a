"""Writing output files safely: temporary names in the target folder, renamed when complete.

A failure at any point leaves no partial output behind, and an existing output is only replaced
when overwriting was asked for.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence, Union

from .errors import DicomAIError, InputError, OutputError, OutputExistsError

__all__ = ["atomic_outputs", "atomic_output", "check_writable", "read_dicom", "reading", "safe_file_name"]

PathLike = Union[str, "os.PathLike[str]"]


def check_writable(paths: Sequence[PathLike], overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` when an output exists and ``overwrite`` is false."""
    if overwrite:
        return
    existing = [str(p) for p in paths if Path(p).exists()]
    if existing:
        raise OutputExistsError(
            f"output {', '.join(existing)} already exists: pass --overwrite (overwrite=True) to replace it"
        )


def _temp_name(path: Path) -> Path:
    # the temporary name ends with the real name so that writers that choose a format by
    # extension (SimpleITK: .nrrd, .nii.gz, .mha) still see it
    return path.with_name(f".tmp-{uuid.uuid4().hex[:12]}-{path.name}")


@contextmanager
def atomic_outputs(paths: Sequence[PathLike], overwrite: bool = False) -> Iterator[list]:
    """Yield temporary paths for ``paths``; rename them all into place when the block succeeds.

    On an exception every temporary file is removed and no output is touched.
    """
    targets = [Path(p) for p in paths]
    check_writable(targets, overwrite)
    created: list = []  # folders made here, removed again when nothing is written
    for t in targets:
        missing_dirs = []
        d = t.parent
        while not d.exists() and d != d.parent:
            missing_dirs.append(d)
            d = d.parent
        t.parent.mkdir(parents=True, exist_ok=True)
        created.extend(reversed(missing_dirs))
    temps = [_temp_name(t) for t in targets]
    done = False
    try:
        yield temps
        missing = [str(t) for t, tmp in zip(targets, temps) if not tmp.exists()]
        if missing:
            raise RuntimeError(f"internal error: nothing was written for {', '.join(missing)}")
        check_writable(targets, overwrite)  # someone may have created one meanwhile
        for t, tmp in zip(targets, temps):
            os.replace(tmp, t)
        done = True
    except DicomAIError as e:  # name the user's files, never our temporary names
        msg = _user_names(str(e), targets, temps)
        if msg != str(e):
            raise type(e)(msg) from e
        raise
    except OSError as e:
        where = _user_names(str(e.filename or ""), targets, temps) or ", ".join(map(str, targets))
        raise OutputError(f"cannot write {where!r}: {e.strerror or e}") from e
    finally:
        # a failing cleanup must never hide the error that got us here
        for tmp in temps:
            try:
                tmp.unlink()
            except OSError:
                pass
        if not done:
            for d in reversed(created):
                try:
                    d.rmdir()
                except OSError:
                    pass


def _user_names(text: str, targets, temps) -> str:
    for t, tmp in zip(targets, temps):
        text = text.replace(str(tmp), str(t))
    return text


@contextmanager
def atomic_output(path: PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Single-file form of :func:`atomic_outputs`."""
    with atomic_outputs([path], overwrite) as temps:
        yield temps[0]


# ------------------------------------------------------------------------------------- reading
_NAME_MAX = 120  # characters of a file name made from file content (filesystems allow 255 bytes)
_UNSAFE_NAME = None


def safe_file_name(text: str, default: str = "unnamed", max_chars: int = _NAME_MAX) -> str:
    """``text`` as one safe file name: unsafe characters replaced, bounded in length."""
    import re

    global _UNSAFE_NAME
    if _UNSAFE_NAME is None:
        _UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ +=@,()\[\]-]+")
    base = _UNSAFE_NAME.sub("_", str(text)).strip(" .") or default
    if len(base) > max_chars:
        import hashlib

        digest = hashlib.sha1(base.encode("utf-8", "replace")).hexdigest()[:8]
        base = base[: max_chars - 9].rstrip(" .") + "~" + digest
    return base


class _BoundedReader:
    """A binary file whose ``read(n)`` never asks for more than what is left in the file.

    A damaged length field makes pydicom ask for up to 4 GB; a plain file object allocates the
    whole buffer first. This one asks for what is there, so a damaged file costs its own size.
    """

    def __init__(self, path: str):
        self._f = open(path, "rb")
        self._size = os.fstat(self._f.fileno()).st_size
        self.name = path

    def read(self, size: int = -1) -> bytes:
        if size is not None and size >= 0:
            size = min(size, max(0, self._size - self._f.tell()))
        return self._f.read(size)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def read_dicom(path: PathLike, *, stop_before_pixels: bool = False, what: str = "DICOM"):
    """pydicom's dataset of ``path``; any reading failure is an :class:`InputError` naming it.

    The file is read through a reader that never allocates more than the file holds (damaged
    length fields), and the message of a non-DICOM file says so without pydicom's advice to
    force it.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    name = str(path)
    try:
        with _BoundedReader(name) as fp:
            ds = pydicom.dcmread(fp, stop_before_pixels=stop_before_pixels)
        ds.filename = name
        return ds
    except InvalidDicomError as e:
        raise InputError(
            f"{name!r} is not a DICOM file (no 'DICM' marker at byte 128 and no DICOM header): give a "
            f"{what} file"
        ) from e
    except FileNotFoundError as e:
        raise InputError(f"cannot read {name!r}: it does not exist") from e
    except IsADirectoryError as e:
        raise InputError(f"cannot read {name!r}: it is a folder; give a {what} file") from e
    except MemoryError:
        raise
    except RecursionError as e:
        raise InputError(f"cannot read {name!r} as DICOM: sequences nested too deeply") from e
    except Exception as e:  # damaged files make pydicom raise many kinds of errors
        raise InputError(f"cannot read {name!r} as DICOM: {damage(e)}") from e


def damage(e: BaseException) -> str:
    """One line saying what a low-level reading error means."""
    import zlib

    text = " ".join(str(e).split())[:200]
    if isinstance(e, zlib.error):
        return f"it claims Deflated Explicit VR Little Endian but its data do not inflate ({text})"
    if isinstance(e, (EOFError,)) or "No tag to read" in text or "EOF" in text:
        return f"the file is truncated or a length field is damaged ({text})"
    return f"the file is damaged ({type(e).__name__}: {text})"


@contextmanager
def reading(path: PathLike, what: str = "file") -> Iterator[None]:
    """Any failure while a reader interprets ``path`` becomes an :class:`InputError` naming it.

    The readers check what they depend on and say so; this is the net under those checks for
    damage nobody foresaw (pydicom converts values lazily, so a damaged value may surface
    anywhere). Such errors carry ``unforeseen = True``. MemoryError is not caught: sizes are
    checked before anything is allocated.
    """
    try:
        yield
    except DicomAIError:
        raise
    except MemoryError:
        raise
    except RecursionError as e:
        err = InputError(f"cannot read {str(path)!r} as a {what}: its content is nested too deeply")
        err.unforeseen = True
        raise err from e
    except Exception as e:
        err = InputError(f"cannot read {str(path)!r} as a {what}: {damage(e)}")
        err.unforeseen = True
        raise err from e
