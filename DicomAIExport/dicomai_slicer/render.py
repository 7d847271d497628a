"""Render a slice view (background volume + segmentation overlay) to a PNG, offscreen.

Headless (slicer-core) the view is built the way qMRMLSliceView and Slicer's layout do it, in
the order that works (a partial set-up segfaults): an offscreen render window with an
interactor, the 2D displayable managers registered before the displayable manager group is
initialised, a vtkMRMLSliceLogic registered with the application logic, its slice node given to
the group, and the slice image drawn by a background 2D actor. So the overlay is drawn by
Slicer's own vtkMRMLSegmentationsDisplayableManager2D, with the segmentation display node's
colours and opacities. Views are created once per scene and view name and reused.

Inside the Slicer application the layout's slice widget is used and grabbed instead.

With no X server VTK renders through EGL (``VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow`` is
set when there is no ``DISPLAY``); Debian needs libegl1, libegl-mesa0 and libgl1-mesa-dri.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from dicomai.errors import InputError

__all__ = ["VIEW_ORIENTATIONS", "content_center", "render_view"]

VIEW_ORIENTATIONS = {"Red": "Axial", "Yellow": "Sagittal", "Green": "Coronal"}
_DISPLAYABLE_MANAGERS = (
    "vtkMRMLSegmentationsDisplayableManager2D",
    "vtkMRMLMarkupsDisplayableManager",
    "vtkMRMLCrosshairDisplayableManager",
    "vtkMRMLOrientationMarkerDisplayableManager",
    "vtkMRMLRulerDisplayableManager",
)
_VIEWS: dict = {}  # (scene address, view name) -> _OffscreenSliceView


def _use_egl_without_display() -> None:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


class _OffscreenSliceView:
    """One slice view on slicer-core (see the module docstring for why the order matters)."""

    def __init__(self, scene, app, view_name: str, width: int, height: int):
        import slicer
        from vtkmodules.vtkRenderingCore import (
            vtkActor2D,
            vtkImageMapper,
            vtkRenderer,
            vtkRenderWindow,
            vtkRenderWindowInteractor,
        )

        _use_egl_without_display()
        import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL render window)

        self.scene = scene
        self.render_window = vtkRenderWindow()
        self.render_window.SetOffScreenRendering(1)
        self.render_window.SetSize(width, height)
        self.renderer = vtkRenderer()
        self.renderer.GetActiveCamera().ParallelProjectionOn()
        self.render_window.AddRenderer(self.renderer)
        self.interactor = vtkRenderWindowInteractor()
        self.interactor.SetRenderWindow(self.render_window)
        self.interactor.Initialize()

        factory = slicer.vtkMRMLSliceViewDisplayableManagerFactory.GetInstance()
        factory.SetMRMLApplicationLogic(app)
        for dm in _DISPLAYABLE_MANAGERS:
            if not factory.IsDisplayableManagerRegistered(dm):
                factory.RegisterDisplayableManager(dm)
        self.group = slicer.vtkMRMLDisplayableManagerGroup()
        self.group.Initialize(factory, self.renderer)

        self.logic = slicer.vtkMRMLSliceLogic()
        self.logic.SetMRMLApplicationLogic(app)
        self.logic.SetMRMLScene(scene)
        app.GetSliceLogics().AddItem(self.logic)
        self.slice_node = self.logic.AddSliceNode(view_name)
        self.slice_node.SetOrientation(VIEW_ORIENTATIONS.get(view_name, "Axial"))
        self.group.SetMRMLDisplayableNode(self.slice_node)

        self.mapper = vtkImageMapper()
        self.mapper.SetColorWindow(255)
        self.mapper.SetColorLevel(127.5)
        self.actor = vtkActor2D()
        self.actor.SetMapper(self.mapper)
        self.actor.GetProperty().SetDisplayLocationToBackground()
        self.renderer.AddViewProp(self.actor)
        self.size = (width, height)
        self.logic.ResizeSliceNode(width, height)

    def resize(self, width: int, height: int) -> None:
        if (width, height) != self.size:
            self.render_window.SetSize(width, height)
            self.logic.ResizeSliceNode(width, height)
            self.size = (width, height)

    def capture(self) -> np.ndarray:
        from vtkmodules.util.numpy_support import vtk_to_numpy
        from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

        # the logic's output port changes with the layers shown: connect it at each render
        connection = self.logic.GetImageDataConnection()
        self.actor.SetVisibility(connection is not None)
        if connection is not None:
            self.mapper.SetInputConnection(connection)
        if hasattr(self.group, "RequestRender"):
            self.group.RequestRender()
        self.interactor.Render()
        self.render_window.Render()
        w2i = vtkWindowToImageFilter()
        w2i.SetInput(self.render_window)
        w2i.ReadFrontBufferOff()
        w2i.Update()
        image = w2i.GetOutput()
        w, h, _ = image.GetDimensions()
        rgb = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(h, w, -1)[..., :3]
        return np.ascontiguousarray(rgb[::-1])  # VTK's first row is the bottom one


def _headless_view(scene, view: str, width: int, height: int) -> _OffscreenSliceView:
    from .scene import application_logic

    key = (scene.GetAddressAsString(""), view)
    cached = _VIEWS.get(key)
    if cached is None or cached.scene is not scene:
        cached = _OffscreenSliceView(scene, application_logic(), view, width, height)
        _VIEWS[key] = cached
    cached.resize(width, height)
    return cached


def content_center(segmentation_node, segment_id: Optional[str] = None) -> Optional[tuple]:
    """RAS centre of the voxels of a segmentation (or one segment), or None when empty.

    The centre of the voxels' bounding box, found from the shared labelmap layers (one pass per
    layer, no per-segment copies).
    """
    import slicer

    from ._images import array_view, numpy_matrix

    segmentation = segmentation_node.GetSegmentation()
    binary = slicer.vtkSegmentationConverter.GetSegmentationBinaryLabelmapRepresentationName()
    if segmentation.GetSourceRepresentationName() != binary:
        bounds = [0.0] * 6  # closed surfaces: the centre of their bounds
        segmentation_node.GetRASBounds(bounds)
        if bounds[0] > bounds[1]:
            return None
        return tuple((bounds[2 * a] + bounds[2 * a + 1]) / 2.0 for a in range(3))
    ids = (
        [segment_id]
        if segment_id
        else [segmentation.GetNthSegmentID(n) for n in range(segmentation.GetNumberOfSegments())]
    )
    lo, hi = None, None
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    for layer in sorted({segmentation.GetLayerIndex(s) for s in ids}):
        image = segmentation.GetLayerDataObject(layer)
        arr = array_view(image)
        if not arr.size:
            continue
        values = [
            segmentation.GetSegment(s).GetLabelValue() for s in ids if segmentation.GetLayerIndex(s) == layer
        ]
        mask = np.isin(arr, values) if len(values) < 64 else arr != 0
        if not mask.any():
            continue
        e = image.GetExtent()
        ks = np.flatnonzero(mask.any(axis=(1, 2)))
        js = np.flatnonzero(mask.any(axis=(0, 2)))
        is_ = np.flatnonzero(mask.any(axis=(0, 1)))
        m = vtkMatrix4x4()
        image.GetImageToWorldMatrix(m)
        mm = numpy_matrix(m)
        corners = []
        for i in (is_[0], is_[-1]):
            for j in (js[0], js[-1]):
                for k in (ks[0], ks[-1]):
                    corners.append(mm @ np.array([i + e[0], j + e[2], k + e[4], 1.0]))
        pts = np.array(corners)[:, :3]
        lo = pts.min(axis=0) if lo is None else np.minimum(lo, pts.min(axis=0))
        hi = pts.max(axis=0) if hi is None else np.maximum(hi, pts.max(axis=0))
    if lo is None:
        return None
    return tuple(float(v) for v in (lo + hi) / 2.0)


def _pick_nodes(scene, volume_node, segmentation_node):
    if volume_node is None:
        for node in reversed(list(scene.GetNodesByClass("vtkMRMLScalarVolumeNode"))):
            if not node.IsA("vtkMRMLLabelMapVolumeNode"):
                volume_node = node
                break
    if segmentation_node is None:
        nodes = list(scene.GetNodesByClass("vtkMRMLSegmentationNode"))
        segmentation_node = nodes[-1] if nodes else None
    return volume_node, segmentation_node


def render_view(
    png_path,
    view: str = "Red",
    volume_node=None,
    segmentation_node=None,
    *,
    size: Sequence[int] = (512, 512),
    orientation: Optional[str] = None,
    center: Optional[Sequence[float]] = None,
    segment_id: Optional[str] = None,
    fill_opacity: Optional[float] = None,
    outline_opacity: Optional[float] = None,
    return_array: bool = False,
    scene=None,
):
    """Render a slice view with a background volume and the segmentation overlay to a PNG.

    Parameters
    ----------
    png_path:
        Output PNG.
    view:
        "Red" (axial), "Yellow" (sagittal) or "Green" (coronal), Slicer's slice view names.
    volume_node, segmentation_node:
        Background volume and overlay (default: the last ones added to the scene). Other
        visible segmentations are drawn too, as in Slicer.
    size:
        ``(width, height)`` in pixels.
    orientation:
        Override the view's orientation ("Axial", "Sagittal", "Coronal").
    center:
        RAS point the slice passes through; default the centre of the segmentation's voxels
        (or of ``segment_id``'s), else the volume's centre.
    fill_opacity, outline_opacity:
        Override the segmentation's 2D fill / outline opacity for this render.
    return_array:
        Also return the rendered image as an ``(height, width, 3)`` uint8 array.

    Returns
    -------
    pathlib.Path, or (Path, numpy.ndarray) with ``return_array``.
    """
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkIOImage import vtkPNGWriter

    from .scene import current_scene, in_slicer_application

    if view not in VIEW_ORIENTATIONS:
        raise InputError(f"view {view!r} is unknown: use one of {', '.join(VIEW_ORIENTATIONS)}")
    scene = current_scene(scene)
    volume_node, segmentation_node = _pick_nodes(scene, volume_node, segmentation_node)
    width, height = (int(v) for v in size)
    display = segmentation_node.GetDisplayNode() if segmentation_node is not None else None
    if segmentation_node is not None and display is None:
        segmentation_node.CreateDefaultDisplayNodes()
        display = segmentation_node.GetDisplayNode()
    saved = None
    if display is not None:
        saved = (display.GetOpacity2DFill(), display.GetOpacity2DOutline(), display.GetVisibility2D())
        display.SetVisibility2D(True)
        if fill_opacity is not None:
            display.SetOpacity2DFill(float(fill_opacity))
        if outline_opacity is not None:
            display.SetOpacity2DOutline(float(outline_opacity))
    if center is None and segmentation_node is not None:
        center = content_center(segmentation_node, segment_id)
    try:
        if in_slicer_application():
            rgb = _render_in_application(view, volume_node, orientation, center)
        else:
            sv = _headless_view(scene, view, width, height)
            sv.slice_node.SetOrientation(orientation or VIEW_ORIENTATIONS[view])
            composite = sv.logic.GetSliceCompositeNode()
            composite.SetBackgroundVolumeID(volume_node.GetID() if volume_node is not None else None)
            composite.SetForegroundVolumeID(None)
            composite.SetLabelVolumeID(None)
            _fit(sv.logic)
            if center is not None:
                sv.slice_node.JumpSliceByOffsetting(*[float(v) for v in center])
            rgb = sv.capture()
    finally:
        if display is not None and saved is not None:
            display.SetOpacity2DFill(saved[0])
            display.SetOpacity2DOutline(saved[1])
            display.SetVisibility2D(saved[2])

    out = Path(png_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    h, w, _ = rgb.shape
    image = vtkImageData()
    image.SetDimensions(w, h, 1)
    scalars = numpy_to_vtk(np.ascontiguousarray(rgb[::-1]).reshape(-1, 3), deep=True)
    scalars.SetNumberOfComponents(3)
    image.GetPointData().SetScalars(scalars)
    writer = vtkPNGWriter()
    writer.SetFileName(str(out))
    writer.SetInputData(image)
    writer.Write()
    return (out, rgb) if return_array else out


def _fit(logic) -> None:
    """Fit the slice view to its background volume (FitSliceToAll before Slicer 5.8)."""
    if hasattr(logic, "FitSliceToBackground"):
        logic.FitSliceToBackground()
    else:
        logic.FitSliceToAll()


def _render_in_application(view: str, volume_node, orientation, center) -> np.ndarray:
    """Inside Slicer: show the volume in the layout's slice view and grab its render window."""
    import slicer
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

    widget = slicer.app.layoutManager().sliceWidget(view)
    logic = widget.sliceLogic()
    if orientation:
        logic.GetSliceNode().SetOrientation(orientation)
    if volume_node is not None:
        logic.GetSliceCompositeNode().SetBackgroundVolumeID(volume_node.GetID())
    _fit(logic)
    if center is not None:
        logic.GetSliceNode().JumpSliceByOffsetting(*[float(v) for v in center])
    slice_view = widget.sliceView()
    slice_view.forceRender()
    w2i = vtkWindowToImageFilter()
    w2i.SetInput(slice_view.renderWindow())
    w2i.ReadFrontBufferOff()
    w2i.Update()
    image = w2i.GetOutput()
    w, h, _ = image.GetDimensions()
    rgb = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(h, w, -1)[..., :3]
    return np.ascontiguousarray(rgb[::-1])
