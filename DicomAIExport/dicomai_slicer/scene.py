"""A headless MRML scene with the module logics the Slicer application would create.

Inside the Slicer application none of this is needed (and :func:`create_scene` must not be
called): the application owns ``slicer.mrmlScene`` and its logics. Outside it (pipelines, tests,
the demo) ``slicer-core`` provides every Qt-free Slicer library, and :func:`create_scene` wires
them up the way the application does at start-up.
"""

from __future__ import annotations

import atexit
import os
import types
import weakref
from pathlib import Path
from typing import Optional

from dicomai.errors import SetupError

__all__ = [
    "application_logic",
    "close_scene",
    "create_scene",
    "current_scene",
    "in_slicer_application",
    "terminology_dir",
]

# the application logic and module logics of the scene made by create_scene (headless only)
_STATE: dict = {"scene": None, "app": None, "logics": {}}
_CREATED: weakref.WeakSet = weakref.WeakSet()  # scenes made by create_scene, closed at exit

# module logics the Slicer application creates, registered under these names
_LOGIC_CLASSES = (
    ("Volumes", "vtkSlicerVolumesLogic"),
    ("Terminologies", "vtkSlicerTerminologiesModuleLogic"),
    ("Segmentations", "vtkSlicerSegmentationsModuleLogic"),
    ("SubjectHierarchy", "vtkSlicerSubjectHierarchyModuleLogic"),
    ("Markups", "vtkSlicerMarkupsLogic"),
    ("Tables", "vtkSlicerTablesLogic"),
    ("Data", "vtkSlicerDataModuleLogic"),
)

_TERMINOLOGY_FILES = (
    "SegmentationCategoryTypeModifier-SlicerGeneralAnatomy.term.json",
    "SegmentationCategoryTypeModifier-DICOM-Master.term.json",
    "AnatomicRegionAndModifier-DICOM-Master.term.json",
)


def in_slicer_application() -> bool:
    """True inside the Slicer application (which has a layout manager); False on slicer-core."""
    import slicer

    app = getattr(slicer, "app", None)
    layout = getattr(app, "layoutManager", None)
    try:
        return bool(layout and layout() is not None)
    except Exception:  # a half-initialised application
        return False


def terminology_dir() -> Optional[Path]:
    """Folder holding Slicer's three default ``*.term.json`` files, or None.

    Looked up in ``$DICOMAI_TERMINOLOGY_DIR``, then in trame-slicer's resources, then in
    ``shared/data/terminologies`` next to the checkout. Terminologies only make Slicer's own
    terminology widgets and look-ups work; nothing here depends on them for correctness.
    """
    candidates = []
    env = os.environ.get("DICOMAI_TERMINOLOGY_DIR")
    if env:
        candidates.append(Path(env))
    try:
        import importlib.util

        spec = importlib.util.find_spec("trame_slicer")
        if spec is not None and spec.origin:
            candidates.append(Path(spec.origin).parent / "resources" / "terminologies")
    except (ImportError, ValueError):
        pass
    here = Path(__file__).resolve()
    if len(here.parents) > 3:
        candidates.append(here.parents[3] / "shared" / "data" / "terminologies")
    for c in candidates:
        if all((c / name).is_file() for name in _TERMINOLOGY_FILES):
            return c
    return None


def create_scene(terminology_directory=None):
    """Create a headless MRML scene with Slicer's module logics and make it ``slicer.mrmlScene``.

    Sets up what the Slicer application does at start-up, on ``slicer-core``: the application
    logic with the default colour tables, the slice and 3D displayable-manager factories, the
    Volumes, Terminologies, Segmentations, Subject Hierarchy, Markups, Tables and Data logics,
    the default slice orientation presets, and ``slicer.modules.<name>.logic()`` for the
    ``slicer.util`` helpers that call it. Each call makes a new, empty scene.

    Parameters
    ----------
    terminology_directory:
        Folder with Slicer's default ``*.term.json`` files (default: :func:`terminology_dir`).
        Without them the Terminologies logic starts empty, silently.

    Returns
    -------
    vtkMRMLScene

    Raises
    ------
    dicomai.errors.SetupError
        Inside the Slicer application, which has its own scene.
    """
    import slicer
    from vtkmodules.vtkCommonCore import vtkOutputWindow

    if in_slicer_application():
        raise SetupError(
            "create_scene() is for slicer-core outside the Slicer application; inside Slicer use "
            "slicer.mrmlScene"
        )
    if terminology_directory is None:
        terminology_directory = terminology_dir()
    out = vtkOutputWindow.GetInstance()
    if hasattr(out, "SetDisplayModeToAlwaysStdErr"):
        out.SetDisplayModeToAlwaysStdErr()

    scene = slicer.vtkMRMLScene()
    crosshair = slicer.vtkMRMLCrosshairNode()
    crosshair.SetCrosshairName("default")
    scene.AddNode(crosshair)
    app = _new_application_logic(scene)
    logics = _add_module_logics(scene, app, terminology_directory)
    slicer.vtkMRMLSliceNode.AddDefaultSliceOrientationPresets(scene, True)

    slicer.mrmlScene = scene
    modules = getattr(slicer, "modules", None)
    if modules is None:
        modules = types.SimpleNamespace()
        slicer.modules = modules
    for name, logic in logics.items():
        setattr(modules, name.lower(), types.SimpleNamespace(logic=(lambda lg=logic: lg)))
    _STATE.update(scene=scene, app=app, logics=logics)
    if not _CREATED:
        atexit.register(_close_created_scenes)
    _CREATED.add(scene)
    return scene


def _new_application_logic(scene):
    """The application logic with the default colour tables, registered with the slice and 3D
    displayable-manager factories (before any view is made: see p07b_slice_render's recipe)."""
    import slicer
    from vtkmodules.vtkCommonCore import vtkCollection

    app = slicer.vtkSlicerApplicationLogic()
    app.SetMRMLScene(scene)
    app.GetColorLogic().SetMRMLScene(scene)
    app.GetColorLogic().AddDefaultColorNodes()
    app.SetSliceLogics(vtkCollection())
    app.SetViewLogics(vtkCollection())
    slicer.vtkMRMLSliceViewDisplayableManagerFactory.GetInstance().SetMRMLApplicationLogic(app)
    slicer.vtkMRMLThreeDViewDisplayableManagerFactory.GetInstance().SetMRMLApplicationLogic(app)
    return app


def _add_module_logics(scene, app, terminology_directory) -> dict:
    """The module logics of :data:`_LOGIC_CLASSES` on ``scene``, registered with ``app``; by name."""
    import slicer
    from vtkmodules.vtkCommonCore import vtkObject

    logics = {"Colors": app.GetColorLogic()}
    app.SetModuleLogic("Colors", app.GetColorLogic())
    for name, class_name in _LOGIC_CLASSES:
        logic = getattr(slicer, class_name)()
        quiet = False
        if name == "Terminologies":
            if terminology_directory is not None:
                logic.SetModuleShareDirectory(str(terminology_directory))
            else:
                quiet = True  # it would report each missing default file as an error
        logic.SetMRMLApplicationLogic(app)
        previous = vtkObject.GetGlobalWarningDisplay()
        if quiet:
            vtkObject.GlobalWarningDisplayOff()
        try:
            logic.SetMRMLScene(scene)
        finally:
            vtkObject.SetGlobalWarningDisplay(previous)
        app.SetModuleLogic(name, logic)
        logics[name] = logic
    return logics


def close_scene(scene=None) -> None:
    """Empty a headless scene quickly (its nodes become unusable).

    Slicer's vtkSegmentation destructor separates every segment from its shared labelmap before
    dropping it: two thresholds over the whole layer per segment, about 5 s for 100 segments on a
    512x512x200 grid (the "slow exit" of a process that loaded a big segmentation). Dropping the
    segments' representations first makes that free. Scenes made by :func:`create_scene` are
    closed this way when the interpreter exits. Never call it on the application's scene.
    """
    if in_slicer_application():
        raise SetupError(
            "close_scene() is for headless scenes; inside Slicer clear the application's scene with "
            "slicer.mrmlScene.Clear(0)"
        )
    scene = current_scene(scene)
    for node in list(scene.GetNodesByClass("vtkMRMLSegmentationNode")):
        segmentation = node.GetSegmentation()
        if segmentation is None:
            continue
        for n in range(segmentation.GetNumberOfSegments()):
            segmentation.GetNthSegment(n).RemoveAllRepresentations()
    scene.Clear(1)


def _close_created_scenes() -> None:
    for scene in list(_CREATED):
        try:
            close_scene(scene)
        except Exception:  # exiting anyway
            pass


def application_logic():
    """The vtkSlicerApplicationLogic: the application's, or the one :func:`create_scene` made."""
    import slicer

    if _STATE["app"] is not None and _STATE["scene"] is slicer.mrmlScene:
        return _STATE["app"]
    app = getattr(slicer, "app", None)
    get = getattr(app, "applicationLogic", None)
    if get is not None:
        return get()
    if _STATE["app"] is not None:
        return _STATE["app"]
    raise SetupError("no Slicer application logic: call dicomai_slicer.create_scene() first")


def current_scene(scene=None):
    """``scene`` or ``slicer.mrmlScene``; a clear error when there is none."""
    import slicer

    scene = scene if scene is not None else getattr(slicer, "mrmlScene", None)
    if scene is None:
        raise SetupError("no MRML scene: call dicomai_slicer.create_scene() first (outside Slicer)")
    return scene
