"""Test-only stand-in for the Qt-side names of 3D Slicer, on top of slicer-core.

slicer-core (pip) gives ``import slicer`` with MRML, the module logics and Slicer's own
``slicer.util``. What only the Slicer application has -- ``qt``, ``ctk``, ``slicer.app``,
``slicer.modules``, ``slicer.dicomDatabase``, ``DICOMLib``, ``slicer.ScriptedLoadableModule``,
``slicer.parameterNodeWrapper``, ``slicer.packaging``, ``slicer.i18n``,
``slicer.qSlicerDICOMExportable`` and a few other Qt classes -- is put in place by
``install()``, written from Slicer's public source (see SOURCES.md and each file's docstring).
Used by the tests only; nothing else in the project imports it.

    scene = ...                      # a headless slicer-core scene, slicer.mrmlScene set
    import slicer_standin
    slicer_standin.install(scene)    # or install(scene, version=(5, 10, 0))
    module = slicer_standin.loadModule("DicomAIImport/DicomAIImport.py")
    ...
    slicer_standin.uninstall()

``slicer_standin.state`` holds what was recorded (message boxes, pip calls, slot errors) and
the answers to give (message box buttons, file dialog paths).
"""

from __future__ import annotations

import sys
import types

from . import _state as state

__all__ = ["install", "uninstall", "installed", "state", "loadModule", "exportDialog"]

_MODULE_NAMES = (
    "qt",
    "ctk",
    "DICOMLib",
    "DICOMLib.DICOMPlugin",
    "DICOMLib.DICOMUtils",
    "slicer.ScriptedLoadableModule",
    "slicer.parameterNodeWrapper",
    "slicer.packaging",
    "slicer.i18n",
)
_SLICER_NAMES = (
    "app",
    "modules",
    "dicomDatabase",
    "mrmlScene",
    "ScriptedLoadableModule",
    "parameterNodeWrapper",
    "packaging",
    "i18n",
    "selfTests",
    "qSlicerDICOMExportable",
    "qSlicerSubjectHierarchyPluginHandler",
    "qMRMLWidget",
    "qMRMLNodeComboBox",
    "qSlicerScriptedLoadableModule",
    "qSlicerScriptedLoadableModuleWidget",
)
_saved = None


def installed():
    return _saved is not None


def install(scene=None, *, version=(5, 12, 3), testingEnabled=False, dicomDatabase=True):
    """Put the stand-in in place of Slicer's Qt-side names; returns slicer.app.

    scene: the vtkMRMLScene to use as slicer.mrmlScene (default: the one already set).
    version: the Slicer release imitated, (5, 12, x) or (5, 10, x): 5.10 has the 5.10
        DICOMPlugin (no examineFiles/caching) and no slicer.packaging (slicer.util.pip_install
        is then the 5.10 one-argument function, recorded in state.pipCalls).
    testingEnabled: slicer.app.testingEnabled() (message boxes are then only logged, as in
        Slicer's self-tests, and pip_ensure skips installing).
    dicomDatabase: False leaves slicer.dicomDatabase None (no database, as before the DICOM
        module was opened); True gives an empty in-memory DICOMDatabase.
    """
    global _saved
    import slicer

    if _saved is not None:
        uninstall()
    scene = scene if scene is not None else getattr(slicer, "mrmlScene", None)
    if scene is None:
        raise RuntimeError("slicer_standin.install needs a scene: set up a slicer-core scene first")
    version = tuple(version)
    if version[:2] not in ((5, 10), (5, 12), (5, 13)):
        raise ValueError(f"Unsupported Slicer version {version}: the stand-in imitates 5.10 and 5.12")
    _saved = (
        {name: sys.modules.get(name, _ABSENT) for name in _MODULE_NAMES},
        {name: getattr(slicer, name, _ABSENT) for name in _SLICER_NAMES},
        slicer.util.pip_install,
    )
    state.reset(version, testingEnabled)

    from . import ctk, qt

    sys.modules["qt"], sys.modules["ctk"] = qt, ctk
    from . import DICOMLib, ScriptedLoadableModule, application, parameterNodeWrapper, slicerQt
    from .dicomDatabase import DICOMDatabase
    from .DICOMLib.DICOMPlugin import DICOMPlugin as plugin512
    from .DICOMLib.DICOMPlugin import DICOMPlugin510

    dicomPluginModule = sys.modules[__name__ + ".DICOMLib.DICOMPlugin"]
    DICOMLib.DICOMPlugin = plugin512 if version[:2] >= (5, 12) else DICOMPlugin510
    sys.modules.update(
        {
            "DICOMLib": DICOMLib,
            "DICOMLib.DICOMPlugin": dicomPluginModule,
            "DICOMLib.DICOMUtils": DICOMLib.DICOMUtils,
            "slicer.ScriptedLoadableModule": ScriptedLoadableModule,
            "slicer.parameterNodeWrapper": parameterNodeWrapper,
            "slicer.i18n": application.i18n,
        }
    )
    slicer.ScriptedLoadableModule = ScriptedLoadableModule
    slicer.parameterNodeWrapper = parameterNodeWrapper
    slicer.i18n = application.i18n
    if version[:2] >= (5, 12):
        from . import packaging

        sys.modules["slicer.packaging"] = packaging
        slicer.packaging = packaging
    else:
        sys.modules["slicer.packaging"] = None  # "import slicer.packaging" raises ImportError, as in 5.10
        if hasattr(slicer, "packaging"):
            del slicer.packaging
        slicer.util.pip_install = _pipInstall510

    for name in slicerQt.__all__:
        setattr(slicer, name, getattr(slicerQt, name))
    slicerQt.qSlicerSubjectHierarchyPluginHandler._instance = None
    slicer.qSlicerScriptedLoadableModule = application.qSlicerScriptedLoadableModule
    slicer.qSlicerScriptedLoadableModuleWidget = application.qSlicerScriptedLoadableModuleWidget
    slicer.mrmlScene = scene
    # the application's Subject Hierarchy module makes the hierarchy node when the scene is set
    slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    previousModules = getattr(slicer, "modules", None)
    slicer.modules = (
        types.SimpleNamespace(**vars(previousModules))
        if previousModules is not None
        else (types.SimpleNamespace())
    )
    slicer.modules.dicomPlugins = {}  # Slicer core's own DICOM plugins are not there
    slicer.dicomDatabase = DICOMDatabase() if dicomDatabase else None
    slicer.selfTests = {}
    slicer.app = application.Application()
    return slicer.app


def uninstall():
    """Restore what install() replaced."""
    global _saved
    import slicer

    if _saved is None:
        return
    modules, names, pipInstall = _saved
    for name, module in modules.items():
        if module is _ABSENT:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module
    for name, value in names.items():
        if value is _ABSENT:
            if hasattr(slicer, name):
                delattr(slicer, name)
        else:
            setattr(slicer, name, value)
    slicer.util.pip_install = pipInstall
    _saved = None


def loadModule(path):
    """Load a scripted module file the way Slicer does (see application.loadModule)."""
    from .application import loadModule as _loadModule

    return _loadModule(str(path))


def _pipInstall510(requirements):
    """slicer.util.pip_install of Slicer 5.10: one argument (str or list), recorded, never run."""
    if not isinstance(requirements, (str, list)):
        raise ValueError("pip_install requirement input must be string or list")
    state.pipCalls.append((requirements, {}))


def __getattr__(name):
    if name == "exportDialog":
        import importlib

        return importlib.import_module(__name__ + ".exportDialog")
    raise AttributeError(name)


_ABSENT = object()
