"""The Python packages the core needs inside Slicer: checked and installed on first use.

The requirements are in ``Resources/requirements.txt`` next to the modules (one file for both).
:func:`ensure_dependencies` is called where the packages are first needed (a DICOM load, an
export), never at import, so Slicer starts as fast as without the extension:

- Slicer 5.12 and later bundle pydicom 3.0.2 and highdicom 0.27: usually nothing is missing; what
  is goes through ``slicer.packaging.pip_ensure``, which asks first and, when an upgraded package
  was already imported, offers to restart.
- Slicer 5.10 bundles pydicom 2.4.4 and no highdicom: the user is asked (``confirmOkCancelDisplay``),
  then ``slicer.util.pip_install`` upgrades pydicom to 3.x and installs highdicom. Slicer's own
  DICOM plugins imported pydicom 2.4.4 at start-up, and a module cannot be swapped in a running
  interpreter, so :class:`DependencyError` then asks for a restart; after it, pydicom 3 is used by
  Slicer's plugins too (their pydicom calls -- dcmread, uid, tag, Dataset -- exist in 3.x).
- Slicer 5.8 and older run Python 3.9, and pydicom 3 / highdicom require Python >= 3.10 (their
  ``Requires-Python``): nothing can be installed there, and :class:`DependencyError` says so.

Nothing here imports Qt; ``slicer.packaging`` / ``slicer.util`` are only touched when something
is missing.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from dicomai.errors import SetupError  # the errors module imports nothing: safe before installing

__all__ = [
    "MINIMUM_PYTHON",
    "REQUIREMENTS_FILE",
    "DependencyError",
    "ensure_dependencies",
    "load_requirements",
    "missing_requirements",
    "stale_imports",
]

MINIMUM_PYTHON = (3, 10)
REQUIREMENTS_FILE = Path(__file__).resolve().parent.parent / "Resources" / "requirements.txt"
_REQUESTER = "DICOM AI Extension"
_checked = False  # True once everything was found; later calls return at once


class DependencyError(SetupError):
    """A package the core needs is missing, too old, or loaded in an old version until a restart.

    A :class:`~dicomai.errors.SetupError` (so a :class:`~dicomai.errors.DicomAIError` and a
    ``RuntimeError``).
    """


def _requirement_class():
    try:
        from packaging.requirements import Requirement
    except ImportError:  # Slicer 5.10 has no top-level 'packaging'; pip vendors it
        from pip._vendor.packaging.requirements import Requirement
    return Requirement


def load_requirements(path=None) -> List[str]:
    """Requirement strings of a requirements file (comments, blank lines and pip options skipped)."""
    lines = Path(path or REQUIREMENTS_FILE).read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            out.append(line)
    return out


def _applies(requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate()


def missing_requirements(requirements: Sequence[str]) -> List[str]:
    """The requirements not satisfied by what is installed (as pip would see it)."""
    Requirement = _requirement_class()
    missing = []
    for text in requirements:
        req = Requirement(text)
        if not _applies(req):
            continue
        try:
            installed = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(text)
            continue
        if req.specifier and not req.specifier.contains(installed, prereleases=True):
            missing.append(text)
    return missing


def _loaded_version(import_name: str) -> Optional[str]:
    module = sys.modules.get(import_name)
    return getattr(module, "__version__", None) if module is not None else None


def stale_imports(requirements: Sequence[str]) -> List[str]:
    """Packages already imported in an older version than the requirement (a restart is needed).

    Only packages whose import name is their distribution name (pydicom, highdicom) are checked.
    """
    Requirement = _requirement_class()
    stale = []
    for text in requirements:
        req = Requirement(text)
        if not _applies(req) or not req.specifier:
            continue
        loaded = _loaded_version(req.name.lower().replace("-", "_"))
        if loaded and not req.specifier.contains(loaded, prereleases=True):
            stale.append(f"{req.name} {loaded} (needs {req.specifier})")
    return stale


def _install(missing: List[str], requester: str) -> None:
    import slicer

    packaging = getattr(slicer, "packaging", None)
    if packaging is None:
        try:
            packaging = importlib.import_module("slicer.packaging")
        except ImportError:
            packaging = None
    if packaging is not None and hasattr(packaging, "pip_ensure"):  # Slicer 5.12+
        try:
            packaging.pip_ensure(missing, requester=requester)
        except RuntimeError as e:  # "User declined package installation"
            raise DependencyError(f"{requester} needs {', '.join(missing)}: {e}") from e
        return
    # Slicer 5.10: ask, then slicer.util.pip_install (it runs pip at once, without asking)
    message = (
        f"{requester} needs these Python packages: {', '.join(missing)}.\n\n"
        "Install them now? (pip downloads them; Slicer's pydicom is upgraded to version 3, which "
        "needs a restart of Slicer afterwards.)"
    )
    if not slicer.util.confirmOkCancelDisplay(message, f"{requester}: install Python packages"):
        raise DependencyError(f"{requester} needs {', '.join(missing)}: installation declined")
    slicer.util.pip_install(missing)


def ensure_dependencies(requirements: Optional[Sequence[str]] = None, requester: str = _REQUESTER) -> None:
    """Make sure the core's packages are installed and loaded; install missing ones after asking.

    Raises
    ------
    DependencyError
        Python older than 3.10 (Slicer 5.8 and older); installation declined or failed; or an
        old version is still imported (restart Slicer).
    """
    global _checked
    if _checked and requirements is None:
        return
    if sys.version_info[:2] < MINIMUM_PYTHON:
        raise DependencyError(
            f"{requester} needs Slicer 5.10 or later: it uses pydicom 3 and highdicom, which need "
            f"Python {'.'.join(map(str, MINIMUM_PYTHON))} or newer, and this Slicer runs Python "
            f"{sys.version_info[0]}.{sys.version_info[1]}"
        )
    wanted = list(requirements) if requirements is not None else load_requirements()
    missing = missing_requirements(wanted)
    if missing:
        logging.info(f"{requester}: installing {', '.join(missing)}")
        _install(missing, requester)
        importlib.invalidate_caches()
        still = missing_requirements(missing)
        if still:
            raise DependencyError(
                f"{requester} needs {', '.join(still)}, which could not be installed; install them from "
                f"the Python console: slicer.util.pip_install({' '.join(still)!r})"
            )
    stale = stale_imports(wanted)
    if stale:
        raise DependencyError(
            f"{', '.join(stale)} is loaded in this Slicer session although a newer version is now "
            "installed: restart Slicer, then try again"
        )
    if requirements is None:
        _checked = True
