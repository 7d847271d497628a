"""The packages that provide names lazily (``dicomai.sr``, ``dicomai_slicer``: a ``_WHERE`` table
read by ``__getattr__``, so start-up imports nothing heavy) also import every one of those names
under ``if TYPE_CHECKING:``, so that readers, editors (go to definition) and type checkers find
them. The two lists must agree, and every name must exist where the table says."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "DicomAIExport"
PACKAGES = {
    "dicomai.sr": ROOT / "dicomai/sr/__init__.py",
    "dicomai_slicer": ROOT / "dicomai_slicer/__init__.py",
}


def _table_and_type_checking_imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    table, imported, exported = None, {}, None
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == [
            "_WHERE"
        ]:
            table = ast.literal_eval(node.value)
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == [
            "__all__"
        ]:
            exported = ast.literal_eval(node.value)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.level == 1
                for alias in stmt.names:
                    imported[alias.asname or alias.name] = stmt.module
    return table, imported, exported


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_lazy_name_is_imported_for_readers(package):
    table, imported, exported = _table_and_type_checking_imports(PACKAGES[package])
    assert table and imported == table
    assert set(table) <= set(exported)


def test_every_lazy_name_of_the_sr_package_exists_where_the_table_says():
    table, _, _ = _table_and_type_checking_imports(PACKAGES["dicomai.sr"])
    for name, module in table.items():
        assert hasattr(importlib.import_module(f"dicomai.sr.{module}"), name), (name, module)
    sr = importlib.import_module("dicomai.sr")
    assert sr.Report is importlib.import_module("dicomai.sr.document").Report
