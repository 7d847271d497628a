"""Test-only stand-in for slicer.packaging (Slicer 5.12 and later; absent in 5.10).

Mirrors Slicer/Slicer Base/Python/slicer/packaging.py at v5.12.3 (9034c71a), re-written:
load_requirements(path), pip_check(requirements) (installed version within the specifier, extras
followed, markers evaluated), pip_ensure(requirements, constraints=None, skip_packages=None,
prompt_install=True, prompt_restart=True, requester=None, skip_in_testing=True,
show_progress=True) with Slicer's order of decisions (nothing missing: return None; testing mode
and skip_in_testing: skip; prompt_install: slicer.util.confirmOkCancelDisplay, RuntimeError
"User declined package installation" if declined; then pip_install of the missing ones).
pip_install(requirements, **kwargs) NEVER runs pip: it appends (requirements, kwargs) to
slicer_standin.state.pipCalls and returns None. The restart prompt is not imitated.
"""

from __future__ import annotations

import importlib.metadata

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement

from . import _state

__all__ = ["load_requirements", "pip_check", "pip_ensure", "pip_install", "pip_uninstall"]


def load_requirements(path):
    """Requirements of a requirements.txt file (comments, blank lines and pip options skipped)."""
    requirements = []
    with open(path) as file:
        for line in file:
            line = line.strip()
            if line and not line.startswith("#") and not line.startswith("-"):
                requirements.append(Requirement(line))
    return requirements


def _toRequirements(requirements):
    if isinstance(requirements, str):
        try:
            return [Requirement(requirements)]
        except InvalidRequirement:
            return [Requirement(part) for part in requirements.split()]
    if isinstance(requirements, Requirement):
        return [requirements]
    if isinstance(requirements, list):
        return [Requirement(r) if isinstance(r, str) else r for r in requirements]
    raise TypeError(f"Expected str, Requirement, or list, got {type(requirements).__name__}")


def pip_check(req, _seen=None):
    if _seen is None:
        _seen = set()
    if not isinstance(req, Requirement):
        return all(pip_check(r, _seen) for r in _toRequirements(req))
    environment = default_environment()
    if req.marker is not None and not req.marker.evaluate(environment):
        return True
    key = (req.name.lower(), frozenset(req.extras))
    if key in _seen:
        return True
    _seen.add(key)
    try:
        installed = importlib.metadata.version(req.name)
    except importlib.metadata.PackageNotFoundError:
        return False
    if installed not in req.specifier:
        return False
    if not req.extras:
        return True
    activated = []
    for dependency in importlib.metadata.requires(req.name) or []:
        dependency = Requirement(dependency)
        if dependency.marker is not None and any(
            dependency.marker.evaluate({**environment, "extra": extra}) for extra in req.extras
        ):
            activated.append(Requirement(str(dependency).split(";")[0].strip()))
    return all(pip_check(dependency, _seen) for dependency in activated)


def pip_ensure(
    requirements,
    constraints=None,
    skip_packages=None,
    prompt_install=True,
    prompt_restart=True,
    requester=None,
    skip_in_testing=True,
    show_progress=True,
):
    import logging

    import slicer

    missing = [req for req in _toRequirements(requirements) if not pip_check(req)]
    if not missing:
        return None
    if skip_in_testing and slicer.app.testingEnabled():
        logging.info(
            f"Testing mode is enabled: skipping pip_ensure for [{', '.join(str(r) for r in missing)}]"
        )
        return None
    if prompt_install:
        title = f"{requester} - Install Python Packages" if requester else "Install Python Packages"
        count = len(missing)
        message = (
            "1 Python package needs to be installed."
            if count == 1
            else f"{count} Python packages need to be installed."
        )
        message += "\n\nThis will modify Slicer's Python environment. Continue?"
        details = "\n".join(f"- {req}" for req in missing)
        if not slicer.util.confirmOkCancelDisplay(message, title, detailedText=details):
            raise RuntimeError("User declined package installation")
    return pip_install(
        [str(req) for req in missing],
        constraints=constraints,
        skip_packages=skip_packages,
        blocking=True,
        show_progress=show_progress,
        requester=requester,
    )


def pip_install(requirements, **kwargs):
    """Record the call (see slicer_standin.state.pipCalls); nothing is installed."""
    _state.pipCalls.append((requirements, kwargs))
    return None


def pip_uninstall(requirements, **kwargs):
    _state.pipCalls.append((("uninstall", requirements), kwargs))
    return None
