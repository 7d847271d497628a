"""The DICOM files behind a scene's nodes, kept per scene and forgotten when the scene closes.

Headless (no ``slicer.dicomDatabase``) nothing else knows which files a loaded volume or SEG came
from, yet an export needs them again (the source series of a SEG or SR) and an SR's loader needs
the file of the SEG it references. :func:`scene_files` gives the one :class:`SceneFiles` of a
scene: :func:`.series.load_dicom_series` records the series it loads, the SR loader the SEG files
it finds. The record belongs to the scene object (a new scene starts empty), and an entry lives
only as long as a node it describes is in the scene: a series while a node of that series is
there, an instance file while the node loaded from it is there. Closing the scene (File > Close
Scene, ``scene.Clear()``) or deleting those nodes leaves no entry behind. (Entries are checked
when read rather than cleared by a scene observer: a Python observer called while VTK destroys a
scene during garbage collection crashes the interpreter.)
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Dict, Optional

__all__ = ["SceneFiles", "scene_files"]


class SceneFiles:
    """Series and instance files of one scene (see the module docstring)."""

    def __init__(self, scene):
        self._scene = weakref.ref(scene)
        self.sources: Dict[str, object] = {}  # SeriesInstanceUID -> dicomai.source.SourceSeries
        self.instance_files: Dict[str, str] = {}  # SOPInstanceUID -> file (SEGs an SR referenced)

    def remember_source(self, source) -> None:
        self.sources[str(source.series_instance_uid)] = source

    def source(self, series_instance_uid: str):
        """The SourceSeries loaded for a series UID whose node is still in the scene, or None."""
        self.prune()
        return self.sources.get(str(series_instance_uid))

    def remember_file(self, sop_instance_uid: str, path) -> None:
        self.instance_files[str(sop_instance_uid)] = str(path)

    def file_of_instance(self, sop_instance_uid: str) -> Optional[str]:
        """The file of an instance recorded here (a remembered file or a slice of a loaded series)
        that still exists, or None."""
        self.prune()
        uid = str(sop_instance_uid)
        found = self.instance_files.get(uid)
        if found is None:
            for source in self.sources.values():
                for f, ds in zip(source.files, source.datasets):
                    if str(ds.get("SOPInstanceUID", "")) == uid:
                        found = str(f)
                        break
                if found is not None:
                    break
        return found if found is not None and Path(found).is_file() else None

    def prune(self) -> None:
        """Forget every entry whose node left the scene (all of them when the scene closed)."""
        scene = self._scene()
        if scene is None:
            self.clear()
            return
        if not self.sources and not self.instance_files:
            return
        from .subject_hierarchy import subject_hierarchy_node

        shn = subject_hierarchy_node(scene)
        series_in_scene = _series_uids_in(shn, scene)
        for uid in [u for u in self.sources if u not in series_in_scene]:
            del self.sources[uid]
        for uid in list(self.instance_files):
            item = shn.GetItemByUIDList("DICOMInstanceUID", uid)
            if not item or not _in_scene(shn.GetItemDataNode(item), scene):
                del self.instance_files[uid]

    def clear(self) -> None:
        self.sources.clear()
        self.instance_files.clear()

    def __len__(self) -> int:
        self.prune()
        return len(self.sources) + len(self.instance_files)


def _in_scene(node, scene) -> bool:
    return node is not None and bool(scene.IsNodePresent(node))


def _series_uids_in(shn, scene) -> set:
    """The DICOM series UIDs of the subject hierarchy items that hold a node of the scene."""
    import slicer
    from vtkmodules.vtkCommonCore import vtkIdList

    uid_name = slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMUIDName()
    ids = vtkIdList()
    shn.GetItemChildren(shn.GetSceneItemID(), ids, True)
    out = set()
    for n in range(ids.GetNumberOfIds()):
        item = ids.GetId(n)
        if _in_scene(shn.GetItemDataNode(item), scene):
            uid = shn.GetItemUID(item, uid_name)
            if uid:
                out.add(uid)
    return out


_BY_SCENE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def scene_files(scene=None) -> SceneFiles:
    """The :class:`SceneFiles` of ``scene`` (default ``slicer.mrmlScene``), made on first use."""
    from .scene import current_scene

    scene = current_scene(scene)
    record = _BY_SCENE.get(scene)
    if record is None:
        record = _BY_SCENE[scene] = SceneFiles(scene)
    return record
