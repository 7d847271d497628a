"""The MRML side of each DICOM family, registered in one place (the core's is :mod:`dicomai.families`).

A :class:`FamilyAdapters` names, for one core family ("SEG", "SR", ...): the loader that turns one
of its files into nodes (used by :func:`.loader.load_dicom_objects`, hence by the DICOM browser
plugins), the node classes the export dialog offers as that family (used by
:func:`.exporting.export_candidate` and DICOMAIExportPlugin's names and tooltips) and the writer
of the items chosen there (used by :func:`.exporting.export_items`).

Callables are ``"module:attribute"`` strings resolved on first use (or given directly), so this
registry imports nothing heavy: Slicer's plugin discovery and the examine step stay quick. The
core never imports this module.

Adding a family's adapters: write its loader ``load_xx(context, path) -> [nodes]`` (a
:class:`.loader.LoadContext` finds referenced series, loads referenced objects and records files)
and add one ``FamilyAdapters(...)`` line to :data:`BUILTIN_ADAPTERS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple, Union

__all__ = [
    "BUILTIN_ADAPTERS",
    "ExportKind",
    "FamilyAdapters",
    "adapters",
    "adapters_for",
    "export_kinds",
    "register_adapters",
    "unregister_adapters",
]

Ref = Union[str, Callable, None]


@dataclass(frozen=True)
class ExportKind:
    """One kind of node the export dialog offers: ``node_class`` (``IsA``), a short ``kind`` name,
    the exportable's ``name`` in the dialog and, optionally, ``reference``: ``(node, item_id,
    scene) -> DICOM volume or None`` (default :func:`.exporting.reference_volume_for`)."""

    node_class: str
    kind: str
    name: str
    reference: Ref = None


@dataclass(frozen=True)
class FamilyAdapters:
    """The MRML adapters of one core family (``family`` = :attr:`dicomai.families.Family.name`).

    ``load``: ``(LoadContext, path) -> [nodes]``; ``examine``: ``path -> browser.Offer or None``
    for the DICOM browser plugin of the family (headers only); ``export_kinds``: the nodes
    exported as this family, in the order they are tried; ``export_tooltip``: the exportable's
    tooltip, ``{ref}`` standing for the reference volume's name; ``export``: ``(ExportBatch) ->
    ExportResult``, the writer of the family's items chosen in the export dialog
    (:func:`.exporting.export_items`, which removes every file of the call when one fails).
    """

    family: str
    load: Ref = None
    export_kinds: Tuple[ExportKind, ...] = ()
    export_tooltip: str = ""
    examine: Ref = None
    export: Ref = None

    def loader(self) -> Optional[Callable]:
        from dicomai.families import resolve

        return resolve(self.load)


BUILTIN_ADAPTERS: Tuple[FamilyAdapters, ...] = (
    FamilyAdapters(
        "SEG",
        load="dicomai_slicer.loader:load_seg",
        export_kinds=(
            ExportKind("vtkMRMLSegmentationNode", "segmentation", "DICOM SEG (DICOM AI)"),
            ExportKind("vtkMRMLLabelMapVolumeNode", "labelmap", "DICOM SEG from labelmap (DICOM AI)"),
        ),
        export_tooltip="Segmentation object on the grid of {ref} (BINARY, LABELMAP or FRACTIONAL; 'auto' "
        "picks LABELMAP unless segments overlap). Read back after writing.",
        examine="dicomai_slicer.browser:examine_seg",
        export="dicomai_slicer.exporting:export_seg_batch",
    ),
    FamilyAdapters(
        "SR",
        load="dicomai_slicer.report:load_sr",
        export_kinds=(
            ExportKind("vtkMRMLMarkupsNode", "markups", "DICOM SR measurements (DICOM AI)"),
            ExportKind("vtkMRMLTableNode", "table", "DICOM SR measurement table (DICOM AI)"),
        ),
        export_tooltip="TID 1500 measurement report about {ref} (3D coordinates, measurements), "
        "referencing the SEG exported with it. Read back after writing.",
        examine="dicomai_slicer.browser:examine_sr",
        export="dicomai_slicer.exporting:export_sr_batch",
    ),
)

_ADAPTERS: Dict[str, FamilyAdapters] = {a.family: a for a in BUILTIN_ADAPTERS}


def register_adapters(adapters: FamilyAdapters) -> FamilyAdapters:
    """Add (or replace, by family) a family's adapters; returns them."""
    if not isinstance(adapters, FamilyAdapters) or not adapters.family:
        raise ValueError("register_adapters needs FamilyAdapters with a family name")
    _ADAPTERS[adapters.family.upper()] = adapters
    return adapters


def unregister_adapters(family: str) -> None:
    _ADAPTERS.pop(str(family).upper(), None)


def adapters() -> List[FamilyAdapters]:
    """Every registered family's adapters, in registration order."""
    return list(_ADAPTERS.values())


def adapters_for(family: str) -> Optional[FamilyAdapters]:
    return _ADAPTERS.get(str(family).upper())


def export_kinds() -> List[Tuple[ExportKind, str]]:
    """``(ExportKind, family)`` for every node kind the export dialog offers, in order."""
    return [(k, a.family) for a in _ADAPTERS.values() for k in a.export_kinds]
