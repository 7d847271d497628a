"""The embedded core imports numpy, pydicom, highdicom and SimpleITK only: never slicer, vtk, qt,
the adapters (dicomai_slicer) or the samples (dicomai_samples)."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import dicomai

FORBIDDEN = {"slicer", "vtk", "vtkmodules", "qt", "ctk", "PythonQt", "dicomai_slicer", "dicomai_samples"}
ALLOWED_THIRD_PARTY = {"numpy", "pydicom", "highdicom", "SimpleITK"}
# optional extras (pyproject's [project.optional-dependencies]; urllib3 comes with requests) and
# Pillow (highdicom's own dependency; Secondary Capture pictures): imported only inside the
# functions that need them, never at module level, so the core imports without them
OPTIONAL_EXTRAS = {"dask", "distributed", "dicomweb_client", "requests", "urllib3", "PIL"}
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
    """Imports executed when the module is imported (module body, incl. if/try blocks)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()

    def visit(nodes):
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(node, ast.Import):
                roots.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
            visit(ast.iter_child_nodes(node))

    visit(tree.body)
    return roots


def test_core_imports_only_the_allowed_third_party_packages():
    stdlib = set(sys.stdlib_module_names)
    unexpected = {}
    for path in sorted(CORE.rglob("*.py")):
        extra = (
            _imported_roots(path) - stdlib - ALLOWED_THIRD_PARTY - OPTIONAL_EXTRAS - {"dicomai", "__future__"}
        )
        if extra:
            unexpected[str(path.relative_to(CORE))] = sorted(extra)
    assert unexpected == {}


def test_optional_extras_are_imported_lazily_inside_functions():
    eager = {}
    for path in sorted(CORE.rglob("*.py")):
        bad = _module_level_roots(path) & OPTIONAL_EXTRAS
        if bad:
            eager[str(path.relative_to(CORE))] = sorted(bad)
    assert eager == {}


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
