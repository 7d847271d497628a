"""What the stand-in recorded, and the answers tests hand to it (no Slicer counterpart).

The stand-in never shows a window: message boxes and file dialogs are recorded here and
answered from the queues below; pip is never run, its calls are recorded.
"""

from __future__ import annotations

import collections

# Slicer version the stand-in imitates: (major, minor, patch); set by install().
version = (5, 12, 3)
# slicer.app.testingEnabled() (False in a user's session, True under Slicer's self-test runner).
testingEnabled = False

# Every message box that would have been shown: dicts with text, windowTitle, icon,
# standardButtons, detailedText, answer.
messageBoxes: list[dict] = []
# Buttons to press, first in first out (qt.QMessageBox.Ok, ...). Empty: the default button
# (Ok, Yes, Retry, Save, Open, else the first of standardButtons) is pressed.
messageBoxAnswers: collections.deque = collections.deque()
# Paths that QFileDialog.getExistingDirectory / getOpenFileName / getSaveFileName return,
# first in first out. Empty: "" (the user cancelled).
fileDialogAnswers: collections.deque = collections.deque()
# slicer.packaging.pip_install / slicer.util.pip_install calls: (requirements, kwargs).
pipCalls: list[tuple] = []
# Exceptions raised by slots called from a signal or a timer: PythonQt prints them and goes on
# (the emitter never sees them); the stand-in logs them and keeps them here for tests.
slotErrors: list = []
# Callables queued by qt.QTimer.singleShot; slicer.app.processEvents() runs them.
pendingTimers: list = []
# Stack of override cursor shapes (qt.QApplication / slicer.app setOverrideCursor, restoreOverrideCursor).
overrideCursors: list = []
# In-memory store behind every qt.QSettings().
settings: dict = {}


def reset(version_=(5, 12, 3), testingEnabled_=False):
    global version, testingEnabled
    version = tuple(version_)
    testingEnabled = testingEnabled_
    for container in (
        messageBoxes,
        messageBoxAnswers,
        fileDialogAnswers,
        pipCalls,
        pendingTimers,
        settings,
        slotErrors,
        overrideCursors,
    ):
        container.clear()
