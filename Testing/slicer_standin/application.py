"""Test-only stand-ins for slicer.app, slicer.modules, scripted-module loading and slicer.i18n.

- slicer.app (qSlicerApplication): applicationName "Slicer", applicationDisplayName "3D Slicer",
  applicationVersion / majorVersion / minorVersion / patchVersion of the imitated release,
  testingEnabled(), settings() / userSettings() / revisionUserSettings() (one dict-backed
  QSettings), temporaryPath, setOverrideCursor / restoreOverrideCursor, processEvents() (runs
  queued QTimer.singleShot callables), topLevelWidgets() (a main window named
  "qSlicerMainWindow", so slicer.util's message boxes are "shown", i.e. recorded; its
  moduleSelector() makes slicer.util.selectModule call the widgets' exit() and enter()), mainWindow(),
  moduleManager() (module(name), moduleAboutToBeUnloaded(QString)), connect(signal, slot)
  (startupCompleted() slots run at once when loadModule is called after startup, as Slicer
  does for modules loaded after startup), translate(context, text) (returns text),
  layoutManager() (None), documentationBaseUrl, moduleDocumentationUrl(name).
- qSlicerScriptedLoadableModule / qSlicerScriptedLoadableModuleWidget and loadModule(path):
  what Base/QTGUI/qSlicerScriptedLoadableModule.cxx and qSlicerScriptedLoadableModuleWidget.cxx
  (Slicer/Slicer main 583e9b37) do with a module file: import it under its file name, instantiate
  the class of that name with the module object as parent, set slicer.modules.<name lower> and
  slicer.modules.<Name>Instance; the widget representation instantiates <Name>Widget, sets
  slicer.modules.<Name>Widget and calls setup().
- slicer.i18n: tr(text) and translate(context, text) return text (no translations loaded).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import types

import slicer

from . import _state
from .qt import QApplication, QMainWindow, QObject, QSettings, QVBoxLayout, QWidget

__all__ = [
    "Application",
    "ModuleManager",
    "qSlicerScriptedLoadableModule",
    "qSlicerScriptedLoadableModuleWidget",
    "loadModule",
    "i18n",
]


class ModuleManager(QObject):
    _signals = ("moduleAboutToBeUnloaded(QString)", "moduleLoaded(QString)")

    def __init__(self):
        super().__init__()
        object.__setattr__(self, "_modules", {})

    def module(self, name):
        return self._modules.get(name)

    def modulesNames(self):
        return list(self._modules)

    def unloadModule(self, name):
        self._signal("moduleAboutToBeUnloaded").emit(name)
        self._modules.pop(name, None)


class ModuleSelector(QObject):
    """slicer.util.selectModule(name): exit() on the shown module widget, enter() on the new one
    (its widget representation is created and set up first if needed)."""

    def __init__(self):
        super().__init__()
        self.selectedModule = ""

    def selectModule(self, name):
        manager = slicer.app.moduleManager()
        module = manager.module(name)
        if module is None:
            raise RuntimeError(f"Could not find module with name '{name}'")
        previous = manager.module(self.selectedModule) if self.selectedModule else None
        if previous is not None and previous._widget is not None:
            previous._widget.exit()
        self.selectedModule = name
        widget = module.widgetRepresentation()
        if widget is not None:
            widget.enter()


class MainWindow(QMainWindow):
    def __init__(self):
        super().__init__()
        self.objectName = "qSlicerMainWindow"
        object.__setattr__(self, "_moduleSelector", ModuleSelector())

    def moduleSelector(self):
        return self._moduleSelector


class Application(QObject):
    _signals = ("startupCompleted()", "aboutToQuit()")

    def __init__(self):
        super().__init__()
        major, minor, patch = _state.version
        self.applicationName = "Slicer"
        self.applicationDisplayName = "3D Slicer"
        self.applicationVersion = f"{major}.{minor}.{patch}"
        self.majorVersion, self.minorVersion, self.patchVersion = major, minor, patch
        self.temporaryPath = tempfile.mkdtemp(prefix="slicer_standin_")
        self.documentationBaseUrl = f"https://slicer.readthedocs.io/en/{major}.{minor}"
        object.__setattr__(self, "_moduleManager", ModuleManager())
        object.__setattr__(self, "_mainWindow", MainWindow())
        object.__setattr__(self, "startupIsCompleted", True)

    def testingEnabled(self):
        return _state.testingEnabled

    def settings(self):
        return QSettings()

    userSettings = revisionUserSettings = settings

    def setOverrideCursor(self, cursor):
        QApplication.setOverrideCursor(cursor)

    def restoreOverrideCursor(self):
        QApplication.restoreOverrideCursor()

    def processEvents(self, *args):
        QApplication.processEvents()

    def topLevelWidgets(self):
        return [self._mainWindow]

    def mainWindow(self):
        return self._mainWindow

    def moduleManager(self):
        return self._moduleManager

    def layoutManager(self):
        return None

    def translate(self, context, text):
        return text

    def moduleDocumentationUrl(self, moduleName):
        return f"{self.documentationBaseUrl}/user_guide/modules/{moduleName.lower()}.html"

    def connect(self, signal, slot):
        if signal.startswith("startupCompleted") and self.startupIsCompleted:
            _state.pendingTimers.append(slot)  # already started: runs at the next processEvents()
            return True
        return super().connect(signal, slot)


class qSlicerScriptedLoadableModuleWidget(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setLayout(QVBoxLayout())
        object.__setattr__(self, "_self", None)
        object.__setattr__(self, "isEntered", False)

    def self(self):
        return self._self

    def setMRMLScene(self, scene):
        pass

    def enter(self):
        object.__setattr__(self, "isEntered", True)
        if hasattr(self._self, "enter"):
            self._self.enter()

    def exit(self):
        if hasattr(self._self, "exit"):
            self._self.exit()
        object.__setattr__(self, "isEntered", False)


class qSlicerScriptedLoadableModule(QObject):
    """The module object a scripted module class gets as ``parent``."""

    def __init__(self, path):
        super().__init__()
        self.path = os.path.abspath(path)
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.title = self.name
        self.categories, self.dependencies, self.contributors = [], [], []
        self.helpText = self.acknowledgementText = ""
        self.hidden = False
        self.icon = None
        object.__setattr__(self, "_widget", None)

    def logic(self):
        return None

    def isWidgetRepresentationCreationEnabled(self):
        return hasattr(sys.modules[self.name], self.name + "Widget")

    def createNewWidgetRepresentation(self):
        if not self.isWidgetRepresentationCreationEnabled():
            return None
        widget = qSlicerScriptedLoadableModuleWidget()
        widgetClass = getattr(sys.modules[self.name], self.name + "Widget")
        pythonWidget = widgetClass(widget)
        object.__setattr__(widget, "_self", pythonWidget)
        setattr(slicer.modules, self.name + "Widget", pythonWidget)
        pythonWidget.setup()
        return widget

    def widgetRepresentation(self):
        if self._widget is None:
            object.__setattr__(self, "_widget", self.createNewWidgetRepresentation())
        return self._widget


def loadModule(path):
    """Load a scripted module file as Slicer does at start-up; returns the module object.

    The file is executed afresh each time (as after "Reload"), under its own name in sys.modules.
    """
    name = os.path.splitext(os.path.basename(path))[0]
    moduleDir = os.path.dirname(os.path.abspath(path))
    if moduleDir not in sys.path:
        sys.path.insert(0, moduleDir)  # Slicer puts each scripted module folder on sys.path
    spec = importlib.util.spec_from_file_location(name, path)
    pythonModule = importlib.util.module_from_spec(spec)
    sys.modules[name] = pythonModule
    spec.loader.exec_module(pythonModule)
    module = qSlicerScriptedLoadableModule(path)
    instance = getattr(pythonModule, name)(module)
    setattr(slicer.modules, name.lower(), module)
    setattr(slicer.modules, name + "Instance", instance)
    slicer.app.moduleManager()._modules[name] = module
    slicer.app.processEvents()
    return module


def _tr(text):
    return text


def _translate(context, text):
    return slicer.app.translate(context, text) if hasattr(slicer, "app") else text


i18n = types.ModuleType("slicer.i18n", "Stand-in for slicer.i18n: no translations are loaded.")
i18n.tr = _tr
i18n.translate = _translate
i18n.getContext = lambda sourceFile: os.path.splitext(os.path.basename(sourceFile))[0]
