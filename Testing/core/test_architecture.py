"""The shape of the code: no public function of the core, the adapters or the samples takes more
than six parameters (issue #9), and all of them parse as Python 3.9 (Slicer 5.10). Options travel
as one object (SegOptions, ReportOptions, ...), not as keywords copied through every layer.

Public: a function or method whose name does not start with ``_`` (``__init__`` counts), in a
module whose path has no part starting with ``_`` (``__init__.py`` counts), of
``DicomAIExport/dicomai/``, ``DicomAIExport/dicomai_slicer/`` or ``DicomAIExport/dicomai_samples/``.
Counted: every parameter but ``self``/``cls``, ``*args`` and ``**kwargs`` included (one each).
Functions nested in functions are not public. Dataclass fields are not parameters of a function
here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "DicomAIExport"
PACKAGES = ("dicomai", "dicomai_slicer", "dicomai_samples")
MAX_PARAMETERS = 6


def _public_modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if any(part.startswith("_") and part != "__init__.py" for part in rel.parts):
                continue
            yield rel, ast.parse(path.read_text(encoding="utf-8"))


def _count(fn: ast.AST, method: bool) -> int:
    a = fn.args
    names = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
    if method and names and names[0] in ("self", "cls"):
        names = names[1:]
    return len(names) + (a.vararg is not None) + (a.kwarg is not None)


def _visit(rel, body, out: list, owner=None) -> None:
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("_") and node.name != "__init__":
                continue
            n = _count(node, owner is not None)
            if n > MAX_PARAMETERS:
                name = f"{owner}.{node.name}" if owner else node.name
                out.append(f"{rel}:{node.lineno} {name} takes {n} parameters")
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            _visit(rel, node.body, out, node.name)


def _violations():
    out: list = []
    for rel, tree in _public_modules():
        _visit(rel, tree.body, out)
    return out


def test_the_walk_sees_the_three_packages():
    modules = [rel.as_posix() for rel, _ in _public_modules()]
    assert "dicomai/seg/encode.py" in modules and "dicomai_slicer/export.py" in modules
    assert "dicomai_samples/series.py" in modules
    assert not [m for m in modules if "/_" in m.replace("__init__", "")]


def test_no_public_function_takes_more_than_six_parameters():
    assert _violations() == []


def test_the_rule_catches_a_long_signature():
    tree = ast.parse(
        "def f(a, b, c, d, e, f, g): pass\nclass C:\n    def m(self, a, b, c, d, e, *k, **kw): pass\n"
    )
    counts = [_count(tree.body[0], False), _count(tree.body[1].body[0], True)]
    assert counts == [7, 7]


def test_the_core_the_adapters_and_the_samples_parse_as_python_39():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 9))
