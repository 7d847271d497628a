"""Test-only stand-in for slicer.ScriptedLoadableModule.

Mirrors Slicer/Slicer Base/Python/slicer/ScriptedLoadableModule.py (main 583e9b37; the same
behaviour at v5.10.0 and v5.12.3), re-written, not copied:

- ScriptedLoadableModule(parent): resets parent.title "", categories [], dependencies [],
  contributors, helpText, acknowledgementText to Slicer's template defaults, sets parent.icon
  from Resources/Icons/<ModuleName>.svg|.png next to parent.path, registers
  slicer.selfTests[moduleName] = self.runTest; resourcePath(), runTest() (runs <ModuleName>Test).
- ScriptedLoadableModuleWidget(parent=None): moduleName from the class name minus "Widget";
  without a parent it makes a qMRMLWidget with a QVBoxLayout, calls setup() and shows it;
  self.layout is the parent's layout; cleanup() runs when
  slicer.app.moduleManager() emits moduleAboutToBeUnloaded(moduleName); setup(), onReload().
  As in Slicer the base class has no enter()/exit(): the application calls a subclass's own
  (slicer.util.selectModule does, on the stand-in). The developer "Reload & Test" section,
  onTest, onReloadAndTest and onEditSource are not provided.
- ScriptedLoadableModuleLogic: getParameterNode() (singleton vtkMRMLScriptedModuleNode tagged with
  the module name, attribute ModuleName), getAllParameterNodes(), createParameterNode(),
  isSingletonParameterNode.
- ScriptedLoadableModuleTest(unittest.TestCase): delayDisplay, takeScreenshot (message only),
  runTest() runs every method whose name contains "test" with setUp/tearDown.
"""

from __future__ import annotations

import importlib
import logging
import os
import unittest

import slicer

__all__ = [
    "ScriptedLoadableModule",
    "ScriptedLoadableModuleWidget",
    "ScriptedLoadableModuleLogic",
    "ScriptedLoadableModuleTest",
]


class ScriptedLoadableModule:
    def __init__(self, parent):
        super().__init__()
        import qt

        self.parent = parent
        self.moduleName = self.__class__.__name__
        parent.title = ""
        parent.categories = []
        parent.dependencies = []
        parent.contributors = ["Andras Lasso (PerkLab, Queen's University), Steve Pieper (Isomics)"]
        parent.helpText = (
            "\nThis module was created from a template and the help section has not yet been updated.\n"
        )
        parent.acknowledgementText = (
            "\nThis work is supported by NA-MIC, NAC, BIRN, NCIGT, and the Slicer Community. See "
            '<a href="https://www.slicer.org">https://www.slicer.org</a> for details.\n'
            "This work is partially supported by PAR-07-249: R01CA131718 NA-MIC Virtual Colonoscopy.\n"
        )
        moduleDir = os.path.dirname(self.parent.path)
        for extension in (".svg", ".png"):
            iconPath = os.path.join(moduleDir, "Resources/Icons", self.moduleName + extension)
            if os.path.isfile(iconPath):
                parent.icon = qt.QIcon(iconPath)
                break
        if not hasattr(slicer, "selfTests"):
            slicer.selfTests = {}
        slicer.selfTests[self.moduleName] = self.runTest

    def resourcePath(self, filename):
        return os.path.join(os.path.dirname(self.parent.path), "Resources", filename)

    def getDefaultModuleDocumentationLink(self, docPage=None):
        url = (
            slicer.app.documentationBaseUrl + docPage
            if docPage
            else slicer.app.moduleDocumentationUrl(self.moduleName)
        )
        return f'<p>For more information, see the <a href="{url}">online documentation</a>.</p>'

    def runTest(self, msec=100, **kwargs):
        module = importlib.import_module(self.__module__)
        className = self.moduleName + "Test"
        try:
            testCaseClass = getattr(module, className)
        except AttributeError:
            raise AssertionError(f"Test case class not found: {self.__module__}.{className} ") from None
        testCase = testCaseClass()
        testCase.messageDelay = msec
        testCase.runTest(**kwargs)


class ScriptedLoadableModuleWidget:
    def __init__(self, parent=None):
        super().__init__()
        import qt

        self.moduleName = self.__class__.__name__
        if self.moduleName.endswith("Widget"):
            self.moduleName = self.moduleName[: -len("Widget")]
        self.developerMode = slicer.util.settingsValue(
            "Developer/DeveloperMode", False, converter=slicer.util.toBool
        )
        if not parent:
            self.parent = slicer.qMRMLWidget()
            self.parent.setLayout(qt.QVBoxLayout())
            self.parent.setMRMLScene(slicer.mrmlScene)
        else:
            self.parent = parent
        self.layout = self.parent.layout()
        if not parent:
            self.setup()
            self.parent.show()
        slicer.app.moduleManager().connect(
            "moduleAboutToBeUnloaded(QString)", self._onModuleAboutToBeUnloaded
        )

    def resourcePath(self, filename):
        return os.path.join(os.path.dirname(slicer.util.modulePath(self.moduleName)), "Resources", filename)

    def cleanup(self):
        pass

    def _onModuleAboutToBeUnloaded(self, moduleName):
        if moduleName == self.moduleName:
            self.cleanup()
            slicer.app.moduleManager().disconnect(
                "moduleAboutToBeUnloaded(QString)", self._onModuleAboutToBeUnloaded
            )

    def setupDeveloperSection(self):
        pass  # the stand-in builds no developer section

    def setup(self):
        self.setupDeveloperSection()

    def onReload(self):
        slicer.util.reloadScriptedModule(self.moduleName)


class ScriptedLoadableModuleLogic:
    def __init__(self, parent=None):
        super().__init__()
        self.moduleName = self.__class__.__name__
        if self.moduleName.endswith("Logic"):
            self.moduleName = self.moduleName[: -len("Logic")]
        self.isSingletonParameterNode = True

    def getParameterNode(self):
        """The module's parameter node in slicer.mrmlScene, created (and added) if there is none."""
        if self.isSingletonParameterNode:
            node = slicer.mrmlScene.GetSingletonNode(self.moduleName, "vtkMRMLScriptedModuleNode")
            if node:
                if node.GetAttribute("ModuleName") != self.moduleName:
                    node.SetAttribute("ModuleName", self.moduleName)
                return node
        else:
            for node in self.getAllParameterNodes():
                return node
        return slicer.mrmlScene.AddNode(self.createParameterNode())

    def getAllParameterNodes(self):
        count = slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLScriptedModuleNode")
        nodes = [slicer.mrmlScene.GetNthNodeByClass(i, "vtkMRMLScriptedModuleNode") for i in range(count)]
        return [node for node in nodes if node.GetAttribute("ModuleName") == self.moduleName]

    def createParameterNode(self):
        if slicer.mrmlScene is None:
            return None
        node = slicer.mrmlScene.CreateNodeByClass("vtkMRMLScriptedModuleNode")
        node.UnRegister(None)
        if self.isSingletonParameterNode:
            node.SetSingletonTag(self.moduleName)
        node.SetAttribute("ModuleName", self.moduleName)
        node.SetName(slicer.mrmlScene.GenerateUniqueName(self.moduleName))
        return node


class ScriptedLoadableModuleTest(unittest.TestCase):
    def __init__(self, *args, **kwargs):
        self.moduleTestNames = []
        super().__init__(*args, **kwargs)
        self.enableScreenshots = False
        self.screenshotScaleFactor = 1.0
        if not self.moduleTestNames:
            self.moduleTestNames = [
                name for name in dir(self) if "test" in name and callable(getattr(self, name))
            ]

    def delayDisplay(self, message, requestedDelay=None, msec=None):
        if hasattr(self, "messageDelay"):
            msec = self.messageDelay
        if msec is None:
            msec = requestedDelay if requestedDelay is not None else 100
        slicer.util.delayDisplay(message, msec)

    def takeScreenshot(self, name, description, type=-1):
        self.delayDisplay(description)

    def setUp(self):
        return

    def tearDown(self):
        return

    def runTest(self):
        if len(self.moduleTestNames) == 0:
            logging.warning("No test is defined in " + self.__class__.__name__)
            return
        self.setUpClass()
        for testName in self.moduleTestNames:
            self.setUp()
            logging.info(f"Running {testName}")
            getattr(self, testName)()
            self.tearDown()
        self.tearDownClass()
