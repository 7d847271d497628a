"""Test-only stand-in for the few names of Slicer's `qt` module (PythonQt) our code touches.

Mirrors PythonQt behaviour as seen from Python in Slicer (Slicer/Slicer 583e9b37, CTK's PythonQt):
Qt properties are plain attributes (``button.enabled = False``), signals are both old style
(``w.connect("clicked(bool)", slot)``) and new style (``w.clicked.connect(slot)``), a slot is
called with as many signal arguments as it accepts, and ``objectName`` is also ``name``.
Setting a property that notifies (``checked``, ``value``, ``text``, ``currentIndex``, ...)
emits its signal, as the Qt setters do.

Provided: QObject, QWidget and a handful of widget classes (QLabel, QPushButton, QToolButton,
QCheckBox, QRadioButton, QLineEdit, QTextEdit, QPlainTextEdit, QSpinBox, QDoubleSpinBox,
QComboBox, QGroupBox, QFrame, QProgressBar, QDialog, QMainWindow), QVBoxLayout / QHBoxLayout /
QFormLayout / QGridLayout, QTimer.singleShot (queued; slicer.app.processEvents() runs it),
QMessageBox (constants and static helpers; recorded, answered from _state), QFileDialog
(answered from _state), QSettings (dict-backed), QFile + QUiLoader (reads .ui XML into these
widgets, incl. dynamic properties such as SlicerParameterName and <connections>), QIcon,
QCursor, QApplication (override cursor stack), Qt (cursor and check-state constants).
Nothing is drawn; unknown widget classes in a .ui file load as a generic QWidget that reports
its class name.
"""

from __future__ import annotations

import inspect
import logging
import os
import traceback
import xml.etree.ElementTree as ET

from . import _state

__all__ = [
    "QObject",
    "QWidget",
    "QLabel",
    "QPushButton",
    "QToolButton",
    "QCheckBox",
    "QRadioButton",
    "QLineEdit",
    "QTextEdit",
    "QPlainTextEdit",
    "QSpinBox",
    "QDoubleSpinBox",
    "QComboBox",
    "QGroupBox",
    "QFrame",
    "QProgressBar",
    "QDialog",
    "QMainWindow",
    "QLayout",
    "QVBoxLayout",
    "QHBoxLayout",
    "QFormLayout",
    "QGridLayout",
    "QTimer",
    "QMessageBox",
    "QFileDialog",
    "QSettings",
    "QFile",
    "QUiLoader",
    "QIcon",
    "QCursor",
    "QApplication",
    "Qt",
]


def _callSlot(slot, args):
    """Call a slot as PythonQt does: with as many of the signal's arguments as the slot takes;
    an exception is printed (here: logged and kept in _state.slotErrors), never raised to the emitter.
    """
    try:
        params = inspect.signature(slot).parameters.values()
        if not any(p.kind == p.VAR_POSITIONAL for p in params):
            positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            args = args[: len(positional)]
    except (TypeError, ValueError):
        pass
    try:
        slot(*args)
    except Exception as error:
        logging.error("Error in slot %r:\n%s", slot, traceback.format_exc())
        _state.slotErrors.append(error)


class _BoundSignal:
    def __init__(self, name):
        self.name = name
        self._slots = []

    def connect(self, slot):
        self._slots.append(slot)
        return True

    def disconnect(self, slot=None):
        if slot is None:
            self._slots.clear()
        elif slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *args):
        for slot in list(self._slots):
            _callSlot(slot, args)


def _signalName(signature):
    return signature.split("(")[0]


class QObject:
    """Base: properties as attributes, signals, dynamic properties, parent/children."""

    # signal signatures this class emits, e.g. "clicked(bool)"
    _signals = ("destroyed()", "objectNameChanged(QString)")
    # property -> [(signal name, converter or None)] emitted when the property value changes
    _notify: dict = {}
    # initial property values
    _defaults: dict = {}

    def __init__(self, parent=None):
        object.__setattr__(self, "_boundSignals", {})
        object.__setattr__(self, "_dynamicProperties", {})
        object.__setattr__(self, "_children", [])
        object.__setattr__(self, "_parentObject", None)
        object.__setattr__(self, "name", "")
        for cls in reversed(type(self).__mro__):
            for key, value in cls.__dict__.get("_defaults", {}).items():
                object.__setattr__(self, key, list(value) if isinstance(value, list) else value)
        if parent is not None and not isinstance(parent, QLayout):
            self.setParent(parent)

    @classmethod
    def _allSignals(cls):
        names = set()
        for klass in cls.__mro__:
            names.update(_signalName(s) for s in klass.__dict__.get("_signals", ()))
        return names

    def _signal(self, nameOrSignature):
        name = _signalName(nameOrSignature)
        if name not in self._allSignals():
            raise AttributeError(f"{self.className()} has no signal '{nameOrSignature}'")
        return self._boundSignals.setdefault(name, _BoundSignal(name))

    def __getattr__(self, name):
        # only called when normal lookup fails: new-style signal access
        if not name.startswith("_") and name in type(self)._allSignals():
            return self._signal(name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        notifications = None
        for klass in type(self).__mro__:
            notifications = klass.__dict__.get("_notify", {}).get(name)
            if notifications:
                break
        old = self.__dict__.get(name, _MISSING)
        object.__setattr__(self, name, value)
        if notifications and old != value:
            for signalName, converter in notifications:
                self._signal(signalName).emit(converter(value) if converter else value)

    # --- QObject API used from Python
    @property
    def objectName(self):
        return self.name

    @objectName.setter
    def objectName(self, value):
        self.name = value

    def setObjectName(self, value):
        self.name = value

    def className(self):
        return self.__dict__.get("_className", type(self).__name__)

    def connect(self, signal, slot):
        return self._signal(signal).connect(slot)

    def disconnect(self, signal, slot=None):
        self._signal(signal).disconnect(slot)

    def property(self, name):
        if name in self._dynamicProperties:
            return self._dynamicProperties[name]
        return self.__dict__.get(name)

    def setProperty(self, name, value):
        if name in self.__dict__ or hasattr(type(self), name):
            setattr(self, name, value)
        else:
            self._dynamicProperties[name] = value
        return True

    def dynamicPropertyNames(self):
        return list(self._dynamicProperties)

    def parent(self):
        return self._parentObject

    def setParent(self, parent):
        if self._parentObject is not None and self in self._parentObject._children:
            self._parentObject._children.remove(self)
        object.__setattr__(self, "_parentObject", parent)
        if parent is not None:
            parent._children.append(self)

    def children(self):
        return list(self._children)

    def findChildren(self, cls=None):
        found = []
        for child in self._children:
            if cls is None or isinstance(child, cls):
                found.append(child)
            found.extend(child.findChildren(cls))
        return found

    def deleteLater(self):
        pass

    def blockSignals(self, block):
        return False


_MISSING = object()


class QWidget(QObject):
    _signals = ("customContextMenuRequested(QPoint)",)
    _defaults = {"enabled": True, "visible": False, "toolTip": "", "windowTitle": "", "statusTip": ""}

    def __init__(self, parent=None):
        super().__init__(parent)
        object.__setattr__(self, "_layout", None)

    def isWidgetType(self):
        return True

    def layout(self):
        return self._layout

    def setLayout(self, layout):
        object.__setattr__(self, "_layout", layout)
        layout._owner = self
        for widget in layout._widgets:
            widget.setParent(self)

    def show(self):
        self.visible = True

    def hide(self):
        self.visible = False

    def close(self):
        self.visible = False
        return True

    def setEnabled(self, on):
        self.enabled = on

    def setVisible(self, on):
        self.visible = on

    def setToolTip(self, text):
        self.toolTip = text

    def isEnabled(self):
        return self.enabled

    def isVisible(self):
        return self.visible


class QFrame(QWidget):
    pass


class QLabel(QFrame):
    _defaults = {"text": "", "wordWrap": False}

    def __init__(self, text="", parent=None):
        if isinstance(text, QObject):
            text, parent = "", text
        super().__init__(parent)
        self.text = text

    def setText(self, text):
        self.text = text


class _AbstractButton(QWidget):
    _signals = ("clicked(bool)", "toggled(bool)", "pressed()", "released()")
    _notify = {"checked": [("toggled", None)]}
    _defaults = {"text": "", "checkable": False, "checked": False}

    def __init__(self, text="", parent=None):
        if isinstance(text, QObject):
            text, parent = "", text
        super().__init__(parent)
        self.text = text

    def click(self):
        """Like QAbstractButton::click: toggles a checkable button, then emits clicked(checked)."""
        if not self.enabled:
            return
        if self.checkable:
            self.checked = not self.checked
        self._signal("clicked").emit(self.checked)

    def setChecked(self, on):
        self.checked = on

    def isChecked(self):
        return self.checked


class QPushButton(_AbstractButton):
    pass


class QToolButton(_AbstractButton):
    pass


class QCheckBox(_AbstractButton):
    _signals = ("stateChanged(int)",)
    _notify = {"checked": [("toggled", None), ("stateChanged", lambda on: 2 if on else 0)]}
    _defaults = {"checkable": True}


class QRadioButton(_AbstractButton):
    _defaults = {"checkable": True}


class QLineEdit(QWidget):
    _signals = ("textChanged(QString)", "editingFinished()", "returnPressed()")
    _notify = {"text": [("textChanged", None)]}
    _defaults = {"text": "", "placeholderText": "", "readOnly": False}

    def setText(self, text):
        self.text = text


class QPlainTextEdit(QWidget):
    _signals = ("textChanged()",)
    _notify = {"plainText": [("textChanged", lambda text: None)]}
    _defaults = {"plainText": "", "readOnly": False}

    def toPlainText(self):
        return self.plainText

    def setPlainText(self, text):
        self.plainText = text

    def appendPlainText(self, text):
        self.plainText = f"{self.plainText}\n{text}" if self.plainText else text


class QTextEdit(QPlainTextEdit):
    pass


class QSpinBox(QWidget):
    _signals = ("valueChanged(int)", "editingFinished()")
    _notify = {"value": [("valueChanged", None)]}
    _defaults = {"value": 0, "minimum": 0, "maximum": 99, "singleStep": 1, "suffix": "", "prefix": ""}

    def __setattr__(self, name, value):
        if name == "value":
            value = min(max(value, self.minimum), self.maximum)  # Qt clamps to the range
        super().__setattr__(name, value)

    def setValue(self, value):
        self.value = value


class QDoubleSpinBox(QSpinBox):
    _signals = ("valueChanged(double)",)
    _defaults = {"value": 0.0, "minimum": 0.0, "maximum": 99.99, "singleStep": 1.0, "decimals": 2}


class QComboBox(QWidget):
    _signals = ("currentIndexChanged(int)", "currentTextChanged(QString)", "activated(int)")
    _notify = {"currentIndex": [("currentIndexChanged", None)]}
    _defaults = {"currentIndex": -1, "editable": False}

    def __init__(self, parent=None):
        super().__init__(parent)
        object.__setattr__(self, "_items", [])

    @property
    def currentText(self):
        return self._items[self.currentIndex][0] if 0 <= self.currentIndex < len(self._items) else ""

    def addItem(self, text, userData=None):
        self._items.append((text, userData))
        if self.currentIndex < 0:
            self.currentIndex = 0

    def addItems(self, texts):
        for text in texts:
            self.addItem(text)

    def clear(self):
        self._items.clear()
        self.currentIndex = -1

    def count(self):
        return len(self._items)

    def itemText(self, index):
        return self._items[index][0]

    def itemData(self, index):
        return self._items[index][1]

    def findText(self, text):
        return next((i for i, (t, _) in enumerate(self._items) if t == text), -1)

    def setCurrentIndex(self, index):
        self.currentIndex = index

    def setCurrentText(self, text):
        index = self.findText(text)
        if index >= 0:
            self.currentIndex = index


class QGroupBox(QWidget):
    _signals = ("toggled(bool)",)
    _defaults = {"title": "", "checkable": False, "checked": True}


class QProgressBar(QWidget):
    _signals = ("valueChanged(int)",)
    _defaults = {"value": 0, "minimum": 0, "maximum": 100, "format": "%p%"}


class QDialog(QWidget):
    _signals = ("accepted()", "rejected()", "finished(int)")
    Rejected, Accepted = 0, 1

    def exec_(self):
        return QDialog.Rejected

    exec = exec_

    def accept(self):
        self.visible = False
        self._signal("accepted").emit()

    def reject(self):
        self.visible = False
        self._signal("rejected").emit()


class QMainWindow(QWidget):
    pass


class QLayout(QObject):
    """Layouts keep their widgets in order; widgets added become children of the owner widget."""

    def __init__(self, parent=None):
        super().__init__(None)
        object.__setattr__(self, "_widgets", [])
        object.__setattr__(self, "_owner", None)
        if isinstance(parent, QWidget):
            parent.setLayout(self)

    def addWidget(self, widget, *args):
        self._widgets.append(widget)
        if self._owner is not None:
            widget.setParent(self._owner)

    def addLayout(self, layout, *args):
        for widget in layout._widgets:
            self.addWidget(widget)

    def addRow(self, *args):
        for arg in args:
            if isinstance(arg, QWidget):
                self.addWidget(arg)
            elif isinstance(arg, QLayout):
                self.addLayout(arg)

    def addStretch(self, *args):
        pass

    def addItem(self, *args):
        pass

    def count(self):
        return len(self._widgets)

    def itemAt(self, index):
        return self._widgets[index]

    def setContentsMargins(self, *args):
        pass

    def setSpacing(self, *args):
        pass


class QVBoxLayout(QLayout):
    pass


class QHBoxLayout(QLayout):
    pass


class QFormLayout(QLayout):
    pass


class QGridLayout(QLayout):
    pass


class QTimer(QObject):
    _signals = ("timeout()",)

    @staticmethod
    def singleShot(msec, *args):
        """Queued as in Qt (runs after the caller returns to the event loop): see processEvents()."""
        callback = args[-1]
        _state.pendingTimers.append(callback)


class QMessageBox(QDialog):
    NoButton = 0x0
    Ok = 0x400
    Save = 0x800
    Open = 0x2000
    Yes = 0x4000
    No = 0x10000
    Abort = 0x40000
    Retry = 0x80000
    Ignore = 0x100000
    Close = 0x200000
    Cancel = 0x400000
    Discard = 0x800000
    NoIcon, Information, Warning, Critical, Question = 0, 1, 2, 3, 4
    _defaults = {"text": "", "detailedText": "", "informativeText": "", "icon": 0, "standardButtons": 0x400}

    def setText(self, text):
        self.text = text

    def setStandardButtons(self, buttons):
        self.standardButtons = buttons

    def setDetailedText(self, text):
        self.detailedText = text

    def setWindowTitle(self, title):
        self.windowTitle = title

    def setIcon(self, icon):
        self.icon = icon

    def exec_(self):
        return _recordMessageBox(
            self.text, self.windowTitle, self.icon, self.standardButtons, self.detailedText
        )

    exec = exec_

    @staticmethod
    def information(parent, title, text, buttons=0x400, defaultButton=0):
        return _recordMessageBox(text, title, QMessageBox.Information, buttons)

    @staticmethod
    def warning(parent, title, text, buttons=0x400, defaultButton=0):
        return _recordMessageBox(text, title, QMessageBox.Warning, buttons)

    @staticmethod
    def critical(parent, title, text, buttons=0x400, defaultButton=0):
        return _recordMessageBox(text, title, QMessageBox.Critical, buttons)

    @staticmethod
    def question(parent, title, text, buttons=0x4000 | 0x10000, defaultButton=0):
        return _recordMessageBox(text, title, QMessageBox.Question, buttons)


def _recordMessageBox(text, windowTitle, icon, standardButtons, detailedText=""):
    """Record a message box and return the button 'pressed' (see _state.messageBoxAnswers)."""
    if _state.messageBoxAnswers:
        answer = _state.messageBoxAnswers.popleft()
    else:
        preferred = (QMessageBox.Ok, QMessageBox.Yes, QMessageBox.Retry, QMessageBox.Save, QMessageBox.Open)
        answer = next((b for b in preferred if standardButtons & b), None)
        if answer is None:
            bits = [1 << i for i in range(32) if standardButtons & (1 << i)]
            answer = bits[0] if bits else QMessageBox.NoButton
    _state.messageBoxes.append(
        {
            "text": text,
            "windowTitle": windowTitle,
            "icon": icon,
            "standardButtons": standardButtons,
            "detailedText": detailedText,
            "answer": answer,
        }
    )
    return answer


class QFileDialog(QDialog):
    ShowDirsOnly = 0x1

    @staticmethod
    def _answer():
        return _state.fileDialogAnswers.popleft() if _state.fileDialogAnswers else ""

    @staticmethod
    def getExistingDirectory(*args, **kwargs):
        return QFileDialog._answer()

    @staticmethod
    def getOpenFileName(*args, **kwargs):
        return QFileDialog._answer()

    @staticmethod
    def getSaveFileName(*args, **kwargs):
        return QFileDialog._answer()


class QSettings(QObject):
    """All instances share one in-memory store (reset by install()); values come back as stored."""

    def value(self, key, defaultValue=None, type=None):
        if key not in _state.settings:
            return defaultValue
        value = _state.settings[key]
        return type(value) if type is not None else value

    def setValue(self, key, value):
        _state.settings[key] = value

    def contains(self, key):
        return key in _state.settings

    def remove(self, key):
        for name in [k for k in _state.settings if k == key or k.startswith(key + "/")]:
            del _state.settings[name]

    def allKeys(self):
        return list(_state.settings)

    def sync(self):
        pass


class QFile(QObject):
    ReadOnly = 0x1

    def __init__(self, path=""):
        super().__init__()
        object.__setattr__(self, "_path", str(path))

    def exists(self):
        return os.path.isfile(self._path)

    def fileName(self):
        return self._path

    def open(self, mode):
        return self.exists()

    def close(self):
        pass


class QIcon:
    def __init__(self, path=""):
        self.path = str(path)

    def isNull(self):
        return not self.path


class Qt:
    WaitCursor = 3
    BusyCursor = 16
    ArrowCursor = 0
    NoModifier = 0
    ShiftModifier = 0x02000000
    Unchecked, PartiallyChecked, Checked = 0, 1, 2


class QCursor:
    def __init__(self, shape=0):
        self._shape = shape

    def shape(self):
        return self._shape


class QApplication(QObject):
    @staticmethod
    def setOverrideCursor(cursor):
        _state.overrideCursors.append(cursor.shape() if isinstance(cursor, QCursor) else cursor)

    @staticmethod
    def restoreOverrideCursor():
        if _state.overrideCursors:
            _state.overrideCursors.pop()

    @staticmethod
    def overrideCursor():
        return QCursor(_state.overrideCursors[-1]) if _state.overrideCursors else None

    @staticmethod
    def processEvents(*args):
        while _state.pendingTimers:
            _callSlot(_state.pendingTimers.pop(0), ())


class QUiLoader(QObject):
    """Builds stand-in widgets from a Qt Designer .ui file (widgets, properties, <connections>)."""

    def load(self, qfile, parent=None):
        root = ET.parse(qfile.fileName()).getroot()
        byName = {}
        top = self._widget(root.find("widget"), parent, byName)
        connections = root.find("connections")
        for connection in connections if connections is not None else []:
            sender = byName.get(connection.findtext("sender"))
            receiver = byName.get(connection.findtext("receiver"))
            slotName = _signalName(connection.findtext("slot") or "")
            if sender is not None and receiver is not None and hasattr(receiver, slotName):
                sender.connect(connection.findtext("signal"), getattr(receiver, slotName))
        return top

    def _widget(self, element, parent, byName):
        className = element.get("class")
        widget = _widgetClass(className)(parent)
        if type(widget).__name__ != className:
            object.__setattr__(widget, "_className", className)
        widget.name = element.get("name", "")
        byName[widget.name] = widget
        for child in element:
            if child.tag == "property":
                self._property(widget, child)
            elif child.tag == "widget":
                self._widget(child, widget, byName)
            elif child.tag == "layout":
                self._layout(child, widget, byName)
            elif child.tag == "item" and isinstance(widget, QComboBox):
                widget.addItem(child.findtext("property/string") or "")
        return widget

    def _layout(self, element, owner, byName):
        for item in element.iter("item"):
            for child in item:
                if child.tag == "widget":
                    self._widget(child, owner, byName)
                elif child.tag == "layout":
                    self._layout(child, owner, byName)

    @staticmethod
    def _property(widget, element):
        valueElement = element[0] if len(element) else None
        if valueElement is None:
            return
        kind, text = valueElement.tag, valueElement.text or ""
        if kind == "bool":
            value = text == "true"
        elif kind == "number":
            value = int(text)
        elif kind == "double":
            value = float(text)
        elif kind == "stringlist":
            value = [s.text or "" for s in valueElement.findall("string")]
        elif kind in ("string", "cstring", "enum", "set"):
            value = text
        else:
            return  # geometry, size, font, icons: nothing to keep
        if element.get("stdset") == "0":
            widget._dynamicProperties[element.get("name")] = value
            return
        try:
            setattr(widget, element.get("name"), value)
        except AttributeError:
            pass  # read-only here (e.g. QComboBox.currentText)


def _widgetClass(className):
    """Look a .ui class name up in the qt, ctk and slicer stand-ins; generic QWidget otherwise."""
    import sys

    for moduleName in ("qt", "ctk", "slicer"):
        module = sys.modules.get(moduleName)
        cls = getattr(module, className, None) if module is not None else None
        if isinstance(cls, type) and issubclass(cls, QWidget):
            return cls
    return QWidget
