"""The embedded core imports numpy, pydicom, highdicom and SimpleITK only: never slicer, vtk or qt."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import dicomai

FORBIDDEN = {"slicer", "vtk", "vtkmodules", "qt", "ctk", "PythonQt", "dicomai_slicer"}
ALLOWED_THIRD_PARTY = {"numpy", "pydicom", "highdicom", "SimpleITK"}
# optional extras (dicomweb: dicomweb-client and the requests it brings) and Pillow (highdicom's own
# dependency, for Secondary Capture pictures): imported inside the functions that need them only
ALLOWED_LAZY = {"dicomweb_client", "requests", "urllib3", "PIL"}
CORE = Path(dicomai.__file__).parent


def _imported_roots(path: Path) -> set:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_module_of_the_core_imports_slicer_vtk_or_qt():
    offenders = {}
    for path in sorted(CORE.rglob("*.py")):
        bad = _imported_roots(path) & FORBIDDEN
        if bad:
            offenders[str(path.relative_to(CORE))] = sorted(bad)
    assert offenders == {}


def _module_level_roots(path: Path) -> set:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_only_the_allowed_third_party_packages():
    stdlib = set(sys.stdlib_module_names)
    unexpected = {}
    for path in sorted(CORE.rglob("*.py")):
        extra = _imported_roots(path) - stdlib - ALLOWED_THIRD_PARTY - ALLOWED_LAZY
        extra -= {"dicomai", "__future__"}
        eager = _module_level_roots(path) & ALLOWED_LAZY
        if extra or eager:
            unexpected[str(path.relative_to(CORE))] = sorted(extra | eager)
    assert unexpected == {}


def test_importing_every_core_module_loads_no_slicer_vtk_or_qt():
    names = [
        m.name for m in pkgutil.walk_packages(dicomai.__path__, "dicomai.") if not m.name.endswith("__main__")
    ]
    code = (
        "import importlib, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN)!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert len(names) > 8
    assert out.stdout.strip() == ""


def test_core_source_parses_as_python_39():
    """Slicer 5.8 ships Python 3.9: no newer syntax in the core."""
    for path in sorted(CORE.rglob("*.py")):
        ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 9))
