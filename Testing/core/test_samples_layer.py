"""The samples (dicomai_samples) sit on top: the core and the adapters never import them; the pure
sample modules import the core, numpy and pydicom only; the MRML samples may import the adapters."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import dicomai_samples

SAMPLES = Path(dicomai_samples.__file__).parent
MODULE_DIR = SAMPLES.parent  # DicomAIExport/
MRML_SAMPLES = {"demo.py", "nodes.py", "demo_checks.py"}


def _imported_roots(path: Path) -> set:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_adapters_and_the_export_plugin_never_import_the_samples():
    paths = sorted((MODULE_DIR / "dicomai_slicer").rglob("*.py")) + [MODULE_DIR / "DICOMAIExportPlugin.py"]
    paths += sorted((MODULE_DIR.parent / "DicomAIImport").glob("DICOMAI*Plugin.py"))
    offenders = {p.name for p in paths if "dicomai_samples" in _imported_roots(p)}
    assert len(paths) > 10
    assert offenders == set()


def test_pure_sample_modules_import_only_the_core_numpy_and_pydicom():
    allowed = set(sys.stdlib_module_names) | {"numpy", "pydicom", "dicomai", "__future__"}
    unexpected = {}
    for path in sorted(SAMPLES.glob("*.py")):
        if path.name in MRML_SAMPLES:
            continue
        extra = _imported_roots(path) - allowed
        if extra:
            unexpected[path.name] = sorted(extra)
    assert unexpected == {}


def test_mrml_samples_reach_slicer_only_through_slicer_core_and_the_adapters():
    allowed = set(sys.stdlib_module_names) | {"numpy", "pydicom", "dicomai", "dicomai_slicer", "slicer"}
    allowed |= {"__future__"}
    for name in sorted(MRML_SAMPLES):
        path = SAMPLES / name
        if path.is_file():
            assert _imported_roots(path) - allowed == set(), name


def test_sample_functions_are_short():
    """(Their parameters and Python 3.9 syntax: Testing/core/test_architecture.py, like the core's.)"""
    long = {}
    for path in sorted(SAMPLES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 80:
                    long[f"{path.name}:{node.name}"] = lines
    assert long == {}
