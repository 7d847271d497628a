"""Test-only stand-in for slicer.parameterNodeWrapper.

Mirrors Slicer/Slicer Base/Python/slicer/parameterNodeWrapper/ (wrapper.py, serializers.py,
validators.py, default.py, guiConnectors.py) at main 583e9b37 (same behaviour at v5.10.0 and
v5.12.3), re-written for the types our modules use. Values live in the real
vtkMRMLScriptedModuleNode, serialized as Slicer does:

- int / float: ``str(value)`` (read back with int() / float()); str as is; bool "True" / "False";
  pathlib types ``str(path)``; Enum members by ``.name``; vtkMRMLNode subclasses as a node
  reference with role = parameter name plus an empty parameter of the same name;
  Optional[X] / Union[...]: the value under "<name>.<index of the member type>".
- defaults: class attribute (``x: int = 3``), else ``Default(...)`` in Annotated, else the type's
  (0, "", False, Path(), first Enum member, None for nodes and Optional); missing parameters are
  written on wrap. Validators run on write: NotNone and IsInstance implied by the type, then
  WithinRange, Minimum, Maximum, Choice, Exclude from Annotated.
- reads are cached and refreshed on the node's ModifiedEvent, as Slicer does for these types.
- the wrapper instance: parameterNode, allParameters, default(name), isCached(name),
  dataType(name), getValue / setValue, StartModify / EndModify / AddObserver / RemoveObserver /
  Modified, connectGui(gui) / connectParametersToGui(mapping) / disconnectGui(tag) with
  connectors for the stand-in widgets (QCheckBox, checkable QPushButton, QSpinBox,
  QDoubleSpinBox, ctkSliderWidget, QComboBox with Enum or Choice, QLineEdit, QLabel,
  QTextEdit / QPlainTextEdit, ctkPathLineEdit, ctkDirectoryButton, qMRMLNodeComboBox).

Not provided (TypeError when used): list, tuple, dict, typing.Any, qt.QColor, parameterPack,
custom serializers; Decimals / SingleStep are accepted and ignored.
"""

from __future__ import annotations

import enum
import logging
import pathlib
import typing
import weakref
from typing import Annotated

import slicer

__all__ = [
    "parameterNodeWrapper",
    "isParameterNodeWrapper",
    "SlicerParameterNamePropertyName",
    "findChildWidgetForParameter",
    "Default",
    "Validator",
    "NotNone",
    "IsInstance",
    "WithinRange",
    "Minimum",
    "Maximum",
    "Choice",
    "Exclude",
    "Decimals",
    "SingleStep",
    "splitAnnotations",
    "unannotatedType",
]

SlicerParameterNamePropertyName = "SlicerParameterName"
_PATH_TYPES = (
    pathlib.Path,
    pathlib.PosixPath,
    pathlib.WindowsPath,
    pathlib.PurePath,
    pathlib.PurePosixPath,
    pathlib.PureWindowsPath,
)


class Default:
    def __init__(self, value=None, *, generator=None):
        self._value = value
        self._generator = generator

    @property
    def value(self):
        return self._generator() if self._generator else self._value

    def __eq__(self, other):
        return isinstance(other, Default) and (self._value, self._generator) == (
            other._value,
            other._generator,
        )

    def __repr__(self):
        return f"Default(value={self._value}, generator={self._generator})"


class Validator:
    def validate(self, value):
        raise NotImplementedError


class NotNone(Validator):
    def validate(self, value):
        if value is None:
            raise ValueError("Value must not be None")


class IsInstance(Validator):
    def __init__(self, classtype):
        self.classtype = classtype

    def validate(self, value):
        if value is not None and not isinstance(value, self.classtype):
            raise TypeError(
                f"Value must be of type '{self.classtype}', is type '{type(value)}' value '{value}'"
            )


class WithinRange(Validator):
    def __init__(self, minimum, maximum):
        self.minimum, self.maximum = minimum, maximum

    def validate(self, value):
        if not self.minimum <= value <= self.maximum:
            raise ValueError(f"Value must be within range [{self.minimum}, {self.maximum}], is {value}")


class Minimum(Validator):
    def __init__(self, minimum):
        self.minimum = minimum

    def validate(self, value):
        if value < self.minimum:
            raise ValueError(f"Value must be greater than {self.minimum}, is {value}")


class Maximum(Validator):
    def __init__(self, maximum):
        self.maximum = maximum

    def validate(self, value):
        if value > self.maximum:
            raise ValueError(f"Value must be greater than {self.maximum}, is {value}")


class Choice(Validator):
    def __init__(self, choices):
        self.choices = choices

    def validate(self, value):
        if value not in self.choices:
            raise ValueError(f"Value is {value}, but must be in one of the following: {self.choices}")


class Exclude(Validator):
    def __init__(self, excludedValues):
        self.excludedValues = excludedValues

    def validate(self, value):
        if value in self.excludedValues:
            raise ValueError(
                f"Value is {value}, but must not be an excluded value: excluded values {self.excludedValues}"
            )


class Decimals:
    def __init__(self, value):
        self.value = value


class SingleStep:
    def __init__(self, value):
        self.value = value


def splitAnnotations(possiblyAnnotatedType):
    args = typing.get_args(Annotated[possiblyAnnotatedType, "stub"])
    return args[0], args[1:-1]


def unannotatedType(possiblyAnnotatedType):
    return splitAnnotations(possiblyAnnotatedType)[0]


# --- serializers: (default, write(node, name, value), read(node, name), isIn, remove, implied validators)
class _Serializer:
    def __init__(self, type_):
        self.type = type_
        if type_ in (int, float):
            self.validators = [NotNone(), IsInstance((int, float) if type_ is float else int)]
        elif _isNodeType(type_):
            self.validators = [IsInstance(type_)]
        elif isinstance(type_, type) and issubclass(type_, enum.Enum):
            if len(type_) == 0:
                raise ValueError("Cannot serialize empty Enum.")
            self.validators = [IsInstance(type_)]
        elif type_ in (str, bool) or type_ in _PATH_TYPES:
            self.validators = [NotNone(), IsInstance(type_)]
        elif type_ is type(None):
            self.validators = []
        else:
            raise TypeError(
                f"The slicer_standin parameterNodeWrapper cannot serialize {type_!r}"
                " (supported: int, float, str, bool, pathlib, Enum, vtkMRMLNode, Optional/Union of these)"
            )

    def canSerialize(self, valueType):
        """Whether a value of this type is for this serializer (as Slicer's Serializer.canSerialize)."""
        if self.type in (int, float):
            return valueType in (int, float)
        if _isNodeType(self.type):
            return _isNodeType(valueType)
        if isinstance(self.type, type) and issubclass(self.type, enum.Enum):
            return isinstance(valueType, type) and issubclass(valueType, enum.Enum)
        if self.type in _PATH_TYPES:
            return valueType in _PATH_TYPES
        return valueType is self.type

    def default(self):
        if self.type in (int, float):
            return 0
        if self.type is str:
            return ""
        if self.type is bool:
            return False
        if self.type in _PATH_TYPES:
            return self.type()
        if isinstance(self.type, type) and issubclass(self.type, enum.Enum):
            return next(iter(self.type))
        return None

    def isIn(self, node, name):
        return node.HasParameter(name)

    def write(self, node, name, value):
        if _isNodeType(self.type):
            node.SetParameter(name, "")
            node.SetNodeReferenceID(name, value.GetID() if value is not None else None)
        elif self.type is bool:
            node.SetParameter(name, "True" if value else "False")
        elif isinstance(self.type, type) and issubclass(self.type, enum.Enum):
            node.SetParameter(name, value.name)
        elif self.type is type(None):
            node.SetParameter(name, "True")
        else:
            node.SetParameter(name, str(value))

    def read(self, node, name):
        if _isNodeType(self.type):
            return node.GetNodeReference(name)
        text = node.GetParameter(name)
        if self.type is bool:
            return text == "True"
        if isinstance(self.type, type) and issubclass(self.type, enum.Enum):
            try:
                return self.type[text]
            except KeyError as error:
                raise ValueError(
                    f"Found {text!r} in parameter node but it is not a name in {self.type!r}"
                ) from error
        if self.type is type(None):
            return None
        return self.type(text)

    def remove(self, node, name):
        node.UnsetParameter(name)
        if _isNodeType(self.type):
            node.RemoveNodeReferenceIDs(name)


class _UnionSerializer:
    def __init__(self, members):
        self.members = [_Serializer(unannotatedType(m)) for m in members]
        self.validators = []

    def default(self):
        if len(self.members) == 2 and self.members[1].type is type(None):
            return None
        return self.members[0].default()

    def isIn(self, node, name):
        return any(member.isIn(node, f"{name}.{i}") for i, member in enumerate(self.members))

    def write(self, node, name, value):
        error = None
        for index, member in enumerate(self.members):
            if not member.canSerialize(type(value)):
                continue
            try:
                for validator in member.validators:
                    validator.validate(value)
            except Exception as e:
                error = e
                continue
            with slicer.util.NodeModify(node):
                self.remove(node, name)
                member.write(node, f"{name}.{index}", value)
            return
        raise (
            error
            if error is not None
            else TypeError(f"Unable to write value '{value}' of type '{type(value)}'")
        )

    def read(self, node, name):
        for index, member in enumerate(self.members):
            if member.isIn(node, f"{name}.{index}"):
                return member.read(node, f"{name}.{index}")
        raise KeyError(f"Unable to find value for name: {name}")

    def remove(self, node, name):
        with slicer.util.NodeModify(node):
            for index, member in enumerate(self.members):
                member.remove(node, f"{name}.{index}")


def _isNodeType(type_):
    return isinstance(type_, type) and issubclass(type_, slicer.vtkMRMLNode)


class _Parameter:
    def __init__(self, name, annotatedType, classDefault):
        type_, annotations = splitAnnotations(annotatedType)
        if typing.get_origin(type_) is typing.Union or type(type_).__name__ == "UnionType":
            self.serializer = _UnionSerializer(typing.get_args(type_))
        else:
            self.serializer = _Serializer(type_)
        self.name = name
        self.unalteredType = annotatedType
        self.annotations = annotations
        self.validators = list(self.serializer.validators) + [
            a for a in annotations if isinstance(a, Validator)
        ]
        defaults = [a for a in annotations if isinstance(a, Default)]
        if len(defaults) > 1:
            raise Exception("Multiple defaults found")
        if classDefault is not _NO_DEFAULT:
            self.default = Default(classDefault)
        else:
            self.default = defaults[0] if defaults else Default(self.serializer.default())
        unused = [a for a in annotations if not isinstance(a, (Validator, Default, Decimals, SingleStep))]
        if unused:
            logging.warning(f"Unused annotations: {unused}")

    def write(self, node, value):
        for validator in self.validators:
            validator.validate(value)
        self.serializer.write(node, self.name, value)

    def read(self, node):
        if not self.serializer.isIn(node, self.name):
            self.write(node, self.default.value)
        return self.serializer.read(node, self.name)


_NO_DEFAULT = object()


class _CachedValue:
    """Cached read of one parameter, refreshed when the parameter node is modified."""

    def __init__(self, parameter, node):
        self.parameter, self.node = parameter, node
        self._writing = False
        self._value = parameter.read(node)
        selfRef = weakref.ref(self)
        self._tag = node.AddObserver(
            "ModifiedEvent", lambda caller, event: selfRef() and selfRef()._refresh()
        )

    def __del__(self):
        self.node.RemoveObserver(self._tag)

    def _refresh(self):
        if not self._writing:
            self._value = self.parameter.read(self.node)

    def read(self):
        return self._value

    def write(self, value):
        self._writing = True
        try:
            with slicer.util.NodeModify(self.node):
                self.parameter.write(self.node, value)
                self._value = self.parameter.read(self.node)
        finally:
            self._writing = False


def _connector(widget, datatype):
    """(read, write, signal name or None) adapting a stand-in widget to a parameter type."""
    import ctk
    import qt

    type_, annotations = splitAnnotations(datatype)
    kind = type(widget)
    if kind is qt.QCheckBox and type_ is bool:
        return (lambda: widget.checked), (lambda v: setattr(widget, "checked", v)), "stateChanged"
    if kind is qt.QPushButton and type_ is bool:
        widget.checkable = True
        return (lambda: widget.checked), (lambda v: setattr(widget, "checked", v)), "toggled"
    if kind is qt.QSpinBox and type_ is int:
        return (lambda: widget.value), (lambda v: setattr(widget, "value", v)), "valueChanged"
    if kind in (qt.QDoubleSpinBox, ctk.ctkSliderWidget) and type_ in (int, float):
        for annotation in annotations:
            if isinstance(annotation, WithinRange):
                widget.minimum, widget.maximum = annotation.minimum, annotation.maximum
        return (lambda: type_(widget.value)), (lambda v: setattr(widget, "value", v)), "valueChanged"
    if kind in (qt.QComboBox, ctk.ctkComboBox):
        if isinstance(type_, type) and issubclass(type_, enum.Enum):
            choices = list(type_)
            labels = [getattr(type_, "label", lambda e: e.name)(e) for e in choices]
        else:
            choice = next((a for a in annotations if isinstance(a, Choice)), None)
            if choice is None:
                raise RuntimeError("ComboBoxToStringableConnector requires the Choice annotation to be used.")
            choices, labels = list(choice.choices), [str(c) for c in choice.choices]
        widget.clear()
        for label in labels:
            widget.addItem(label)
        return (
            (lambda: choices[widget.currentIndex]),
            (lambda v: setattr(widget, "currentIndex", choices.index(v))),
            "currentIndexChanged",
        )
    if kind is qt.QLineEdit and type_ is str:
        return (lambda: widget.text), (lambda v: setattr(widget, "text", v)), "textChanged"
    if kind is qt.QLabel and type_ is str:
        return (lambda: widget.text), (lambda v: setattr(widget, "text", v)), None
    if kind in (qt.QTextEdit, qt.QPlainTextEdit) and type_ is str:
        return widget.toPlainText, widget.setPlainText, "textChanged"
    if kind is ctk.ctkPathLineEdit and type_ in _PATH_TYPES:
        return (
            (lambda: type_(widget.currentPath)),
            (lambda v: setattr(widget, "currentPath", str(v))),
            "currentPathChanged",
        )
    if kind is ctk.ctkDirectoryButton and type_ in _PATH_TYPES:
        return (
            (lambda: type_(widget.directory)),
            (lambda v: setattr(widget, "directory", str(v))),
            "directoryChanged",
        )
    members = typing.get_args(type_) if typing.get_origin(type_) is typing.Union else (type_,)
    if (
        kind is slicer.qMRMLNodeComboBox
        and any(_isNodeType(m) for m in members)
        and all(_isNodeType(m) or m is type(None) for m in members)
    ):
        widget.nodeTypes = [m().GetClassName() for m in members if _isNodeType(m)]
        return widget.currentNode, widget.setCurrentNode, "currentNodeChanged"
    raise RuntimeError(f"Unable to create GUI connector from datatype '{datatype}' to widget type '{kind}'.")


def _processClass(classtype):
    hints = typing.get_type_hints(classtype, include_extras=True)
    allParameters = {}
    for name, annotatedType in hints.items():
        try:
            parameter = _Parameter(name, annotatedType, getattr(classtype, name, _NO_DEFAULT))
        except Exception as error:
            raise Exception(f"Unable to create serializer for {classtype} member {name}") from error
        allParameters[name] = parameter
        setattr(
            classtype,
            name,
            property(
                lambda self, n=name: self._values[n].read(),
                lambda self, value, n=name: self._values[n].write(value),
            ),
        )

    def init(self, parameterNode, prefix=None):
        if prefix:
            raise TypeError(
                "The slicer_standin parameterNodeWrapper does not support prefixes (parameterPack)"
            )
        self.parameterNode = parameterNode
        self._values = {
            name: _CachedValue(parameter, parameterNode) for name, parameter in allParameters.items()
        }
        self._guis, self._guiObservers, self._nextGuiTag, self._updatingGui = {}, {}, 0, False

    def checkName(name):
        if name not in allParameters:
            raise ValueError(f"Cannot find a param with the given name: {name}")

    def getValue(self, name):
        checkName(name)
        return self._values[name].read()

    def setValue(self, name, value):
        checkName(name)
        self._values[name].write(value)

    def updateGui(self):
        if self._updatingGui:
            return
        self._updatingGui = True
        try:
            for mapping in self._guis.values():
                for name, (_onChanged, write, _signal, _widget) in mapping.items():
                    write(self.getValue(name))
        finally:
            self._updatingGui = False

    def connectParametersToGui(self, mapping):
        for name in mapping:
            checkName(name)
        tag = self._nextGuiTag
        self._nextGuiTag += 1
        self._guis[tag] = {}
        for name, widget in mapping.items():
            read, write, signal = _connector(widget, allParameters[name].unalteredType)
            write(self.getValue(name))

            def onChanged(*args, name=name, read=read):
                if not self._updatingGui:
                    self.setValue(name, read())

            if signal:
                getattr(widget, signal).connect(onChanged)
            self._guis[tag][name] = (onChanged, write, signal, widget)
        self._guiObservers[tag] = self.parameterNode.AddObserver(
            "ModifiedEvent", lambda caller, event: updateGui(self)
        )
        return tag

    def connectGui(self, gui):
        widgets = (
            gui.findChildren(None)
            if getattr(gui, "isWidgetType", lambda: False)()
            else list(vars(gui).values())
        )
        mapping = {
            w.property(SlicerParameterNamePropertyName): w
            for w in widgets
            if hasattr(w, "property") and w.property(SlicerParameterNamePropertyName)
        }
        return connectParametersToGui(self, mapping)

    def disconnectGui(self, tag):
        for onChanged, _write, signal, widget in self._guis.pop(tag, {}).values():
            if signal:
                getattr(widget, signal).disconnect(onChanged)
        if tag in self._guiObservers:
            self.parameterNode.RemoveObserver(self._guiObservers.pop(tag))

    members = {
        "allParameters": allParameters,
        "_is_parameter_node_wrapper": True,
        "default": lambda self, name: (checkName(name), allParameters[name].default)[1],
        "isCached": lambda self, name: (checkName(name), True)[1],
        "dataType": staticmethod(lambda name: (checkName(name), allParameters[name].unalteredType)[1]),
        "getValue": getValue,
        "setValue": setValue,
        "connectGui": connectGui,
        "connectParametersToGui": connectParametersToGui,
        "disconnectGui": disconnectGui,
        "StartModify": lambda self: self.parameterNode.StartModify(),
        "EndModify": lambda self, wasModified: self.parameterNode.EndModify(wasModified),
        "AddObserver": lambda self, event, callback, priority=0.0: self.parameterNode.AddObserver(
            event, callback, priority
        ),
        "RemoveObserver": lambda self, tag: self.parameterNode.RemoveObserver(tag),
        "Modified": lambda self: self.parameterNode.Modified(),
    }
    for attribute, value in members.items():
        if hasattr(classtype, attribute):
            raise ValueError(f"Cannot use reserved name '{attribute}' in a parameterNodeWrapper")
        setattr(classtype, attribute, value)
    classtype.__init__ = init
    return classtype


def parameterNodeWrapper(classtype=None):
    """Class decorator: typed properties stored in the wrapped vtkMRMLScriptedModuleNode."""
    if classtype is None:
        return _processClass
    return _processClass(classtype)


def isParameterNodeWrapper(classOrObj):
    return getattr(classOrObj, "_is_parameter_node_wrapper", False)


def findChildWidgetForParameter(widget, parameter):
    for child in widget.findChildren(None):
        if child.property(SlicerParameterNamePropertyName) == parameter:
            return child
    return None
