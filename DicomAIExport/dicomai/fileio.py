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

from .errors import OutputExistsError

__all__ = ["atomic_outputs", "atomic_output", "check_writable"]

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
    for t in targets:
        t.parent.mkdir(parents=True, exist_ok=True)
    temps = [_temp_name(t) for t in targets]
    try:
        yield temps
        missing = [str(t) for t, tmp in zip(targets, temps) if not tmp.exists()]
        if missing:
            raise RuntimeError(f"internal error: nothing was written for {', '.join(missing)}")
        check_writable(targets, overwrite)  # someone may have created one meanwhile
        for t, tmp in zip(targets, temps):
            os.replace(tmp, t)
    finally:
        for tmp in temps:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass


@contextmanager
def atomic_output(path: PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Single-file form of :func:`atomic_outputs`."""
    with atomic_outputs([path], overwrite) as temps:
        yield temps[0]
