"""The DICOM object families of the core (SEG, SR, SC, ...), registered in one place.

A family is one package (``dicomai.seg``, ``dicomai.sr``, ``dicomai.sc``) whose ``__init__``
declares a :class:`Family`: the SOP classes (and modalities) it reads or writes, its
``dicomai info`` describer and the module bringing its command-line commands. Everything that
dispatches on the kind of a DICOM object asks here: :func:`dicomai.info.describe`, the CLI's
sub-commands, and (through the adapters' own registry, :mod:`dicomai_slicer.families`) the Slicer
loaders and exporters.

Callables are named lazily as ``"module:attribute"`` strings (or given directly), so reading the
registry imports no codec, no pydicom.sr and no highdicom: ``dicomai --help`` stays quick.

Adding a family::

    # dicomai/xx/__init__.py
    from ..families import Family
    FAMILY = Family("XX", sop_classes={"1.2...": "XX Storage"}, modalities=("XX",),
                    describer="dicomai.xx.info:describe_xx", cli="dicomai.xx.cli")
    # and one line here: BUILTIN_FAMILIES += ("dicomai.xx",)
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Tuple, Union

__all__ = [
    "BUILTIN_FAMILIES",
    "Family",
    "families",
    "family_for",
    "family_named",
    "register_family",
    "resolve",
    "unregister_family",
]

#: The packages of the families the core ships; each one's ``__init__`` holds ``FAMILY``.
BUILTIN_FAMILIES: Tuple[str, ...] = ("dicomai.seg", "dicomai.sr", "dicomai.sc")

Ref = Union[str, Callable, None]


def resolve(ref: Ref):
    """The object a ``"module:attribute"`` (or ``"module"``) reference names; a callable as is."""
    if ref is None or not isinstance(ref, str):
        return ref
    module, _, attribute = ref.partition(":")
    value = importlib.import_module(module)
    return getattr(value, attribute) if attribute else value


@dataclass(frozen=True)
class Family:
    """One DICOM object family of the core.

    Parameters
    ----------
    name:
        Short upper-case name ("SEG", "SR", "SC"); the adapters' registry uses the same key.
    sop_classes:
        SOP Class UID -> name, for the objects the family reads or writes.
    modalities:
        Modality values (0008,0060) that identify the family's objects when the SOP class is not
        one of ``sop_classes`` (e.g. any SR document).
    describer:
        ``(dataset, path) -> dict`` for ``dicomai info`` (header only; the dict has ``kind``).
    formatter:
        ``(info dict) -> [lines]`` for the text form of ``dicomai info``; default: the
        describer's ``text`` lines.
    cli:
        A module (or object) with ``add_commands(subparsers, common_parent)``, or that callable.
        None: the family brings no command.
    """

    name: str
    sop_classes: Mapping[str, str] = field(default_factory=dict)
    modalities: Tuple[str, ...] = ()
    describer: Ref = None
    formatter: Ref = None
    cli: Ref = None

    def describe(self, ds, path) -> dict:
        return resolve(self.describer)(ds, path)

    def format_lines(self, info: dict) -> List[str]:
        if self.formatter is not None:
            return list(resolve(self.formatter)(info))
        return list(info.get("text") or [])

    def add_commands(self, subparsers, common) -> None:
        target = resolve(self.cli)
        if target is None:
            return
        (getattr(target, "add_commands", None) or target)(subparsers, common)


_FAMILIES: Dict[str, Family] = {}
_LOADED_BUILTINS = False


def register_family(family: Family) -> Family:
    """Add (or replace, by name) a family; returns it."""
    if not isinstance(family, Family) or not family.name:
        raise ValueError("register_family needs a Family with a name")
    _builtins()
    _FAMILIES[family.name.upper()] = family
    return family


def unregister_family(name: str) -> None:
    """Remove a family (tests register their own and remove it afterwards)."""
    _builtins()
    _FAMILIES.pop(str(name).upper(), None)


def _builtins() -> None:
    global _LOADED_BUILTINS
    if _LOADED_BUILTINS:
        return
    _LOADED_BUILTINS = True
    for package in BUILTIN_FAMILIES:
        family = importlib.import_module(package).FAMILY
        _FAMILIES.setdefault(family.name.upper(), family)


def families() -> List[Family]:
    """Every registered family, the built-in ones first, in registration order."""
    _builtins()
    return list(_FAMILIES.values())


def family_named(name: str) -> Optional[Family]:
    _builtins()
    return _FAMILIES.get(str(name).upper())


def family_for(sop_class_uid: str = "", modality: str = "") -> Optional[Family]:
    """The family of an object: by SOP class first, then by modality; None for other objects."""
    sop, modality = str(sop_class_uid or ""), str(modality or "").upper()
    found = families()
    for family in found:
        if sop and sop in family.sop_classes:
            return family
    for family in found:
        if modality and modality in family.modalities:
            return family
    return None
