"""numpy <-> VTK image plumbing shared by the adapters (no MRML logic here).

Arrays are indexed ``[k, j, i]`` (slice, row, column), the order of a VTK image's scalars and of
:class:`dicomai.geometry.Grid` arrays. A grid's IJK-to-RAS matrix (``Grid.ijk_to_ras()``) is what
vtkOrientedImageData calls its image-to-world matrix.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from dicomai.errors import DicomAIError, InputError

__all__ = [
    "array_view",
    "grid_of_image",
    "grid_of_volume",
    "image_from_array",
    "numpy_matrix",
    "onto_grid",
    "oriented_image_of_volume",
    "reference_image",
    "region_on_grid",
    "vtk_matrix",
]

# how far (in voxels) two lattices may disagree and still be "the same lattice"
_LATTICE_TOL = 1e-3


def vtk_matrix(array):
    """4x4 numpy array -> vtkMatrix4x4."""
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    m = vtkMatrix4x4()
    a = np.asarray(array, dtype=float)
    for r in range(4):
        for c in range(4):
            m.SetElement(r, c, float(a[r, c]))
    return m


def numpy_matrix(matrix) -> np.ndarray:
    """vtkMatrix4x4 -> 4x4 numpy array."""
    return np.array([[matrix.GetElement(r, c) for c in range(4)] for r in range(4)])


def linear_transform_between(source_transform, target_transform, non_linear_message: str, atol=1e-9):
    """RAS matrix from the frame under ``source_transform`` to the one under ``target_transform``
    (transform nodes; None = world), or None when both are None or it is the identity.

    Raises ``InputError(non_linear_message)`` when the two are related by a non-linear transform.
    """
    import slicer
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    from dicomai.errors import InputError

    if source_transform is None and target_transform is None:
        return None
    m = vtkMatrix4x4()
    if not slicer.vtkMRMLTransformNode.GetMatrixTransformBetweenNodes(source_transform, target_transform, m):
        raise InputError(non_linear_message)
    matrix = numpy_matrix(m)
    return None if np.allclose(matrix, np.eye(4), atol=atol) else matrix


def grid_of_volume(volume_node):
    """The :class:`~dicomai.geometry.Grid` of a volume node (its IJK-to-RAS and dimensions)."""
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    from dicomai.geometry import Grid

    image = volume_node.GetImageData()
    if image is None:
        raise InputError(
            f"volume {volume_node.GetName()!r} has no image data: load or compute its voxels first"
        )
    m = vtkMatrix4x4()
    volume_node.GetIJKToRASMatrix(m)
    i, j, k = image.GetDimensions()
    return Grid.from_ijk_to_ras(numpy_matrix(m), (k, j, i))


def grid_of_image(image):
    """Grid of a vtkOrientedImageData over its whole extent (index 0 = the extent's start)."""
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    from dicomai.geometry import Grid

    m = vtkMatrix4x4()
    image.GetImageToWorldMatrix(m)
    ijk_to_ras = numpy_matrix(m)
    e = image.GetExtent()
    ijk_to_ras[:3, 3] = ijk_to_ras[:3, :3] @ np.array([e[0], e[2], e[4]], float) + ijk_to_ras[:3, 3]
    dims = (max(e[5] - e[4] + 1, 1), max(e[3] - e[2] + 1, 1), max(e[1] - e[0] + 1, 1))
    return Grid.from_ijk_to_ras(ijk_to_ras, dims)


def image_from_array(array: np.ndarray, ijk_to_ras):
    """A vtkOrientedImageData holding a copy of ``array[k, j, i]`` with the given geometry."""
    import slicer
    from vtkmodules.util.numpy_support import get_vtk_array_type

    arr = np.asarray(array)
    k, j, i = arr.shape
    image = slicer.vtkOrientedImageData()
    image.SetDimensions(i, j, k)
    image.AllocateScalars(get_vtk_array_type(arr.dtype), 1)
    view = array_view(image)
    view[...] = arr
    image.SetImageToWorldMatrix(vtk_matrix(ijk_to_ras))
    return image


def reference_image(grid):
    """An empty vtkOrientedImageData with the geometry and extent of ``grid`` (no scalars)."""
    import slicer

    image = slicer.vtkOrientedImageData()
    k, j, i = grid.shape
    image.SetExtent(0, i - 1, 0, j - 1, 0, k - 1)
    image.SetImageToWorldMatrix(vtk_matrix(grid.ijk_to_ras()))
    return image


def array_view(image) -> np.ndarray:
    """The scalars of a one-component VTK image as ``[k, j, i]`` (a view: no copy)."""
    from vtkmodules.util.numpy_support import vtk_to_numpy

    e = image.GetExtent()
    shape = (e[5] - e[4] + 1, e[3] - e[2] + 1, e[1] - e[0] + 1)
    scalars = image.GetPointData().GetScalars()
    if scalars is None or min(shape) <= 0:
        return np.zeros((max(shape[0], 0), max(shape[1], 0), max(shape[2], 0)), np.uint8)
    if scalars.GetNumberOfComponents() != 1:
        raise InputError(
            f"the image has {scalars.GetNumberOfComponents()} components per voxel; a labelmap has one: "
            "pass a scalar (single-component) labelmap"
        )
    return vtk_to_numpy(scalars).reshape(shape)


def _lattice_offset(source_ijk_to_ras: np.ndarray, grid) -> Optional[np.ndarray]:
    """Integer (i, j, k) offset of the source lattice in ``grid``'s, or None when they differ."""
    target = grid.ijk_to_ras()
    t = np.linalg.solve(target, source_ijk_to_ras)  # source IJK -> target IJK
    if not np.allclose(t[:3, :3], np.eye(3), atol=_LATTICE_TOL):
        return None
    offset = t[:3, 3]
    if not np.allclose(offset, np.round(offset), atol=_LATTICE_TOL):
        return None
    return np.round(offset).astype(int)


def region_on_grid(image, grid, source_to_target=None):
    """Where a labelmap image (vtkOrientedImageData) lies on ``grid``, without a full-size copy.

    Returns ``(sub, region, resampled)``: ``sub`` holds the image's voxels that fall on the grid
    and ``region`` is the tuple of slices of the grid array they cover, so that
    ``grid_array[region] = sub`` puts them in place.

    When the image's lattice is the grid's (same directions and spacing, origin on a grid point,
    which is the normal case: a segmentation made on the reference volume) ``sub`` is a view of
    the image's own scalars, cropped to the grid: exact and no copy. Otherwise the image is
    resampled onto the whole grid with nearest-neighbour interpolation
    (vtkOrientedImageDataResample, as Slicer's own export does) and ``resampled`` is True.

    ``source_to_target`` is an optional 4x4 RAS-to-RAS matrix applied to the image first (the
    transform between a segmentation node and the reference volume node).
    """
    import slicer
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    nk, nj, ni = grid.shape
    e = image.GetExtent()
    if e[0] > e[1] or e[2] > e[3] or e[4] > e[5] or image.GetPointData().GetScalars() is None:
        return np.zeros((0, 0, 0), np.uint8), (slice(0, 0),) * 3, False
    m = vtkMatrix4x4()
    image.GetImageToWorldMatrix(m)
    ijk_to_ras = numpy_matrix(m)
    if source_to_target is not None:
        ijk_to_ras = np.asarray(source_to_target, float) @ ijk_to_ras
    offset = _lattice_offset(ijk_to_ras, grid)
    if offset is not None:
        src = array_view(image)
        i_s, j_s, k_s = (int(v) for v in offset + np.array([e[0], e[2], e[4]]))
        k0, k1 = max(k_s, 0), min(k_s + src.shape[0], nk)
        j0, j1 = max(j_s, 0), min(j_s + src.shape[1], nj)
        i0, i1 = max(i_s, 0), min(i_s + src.shape[2], ni)
        if k0 >= k1 or j0 >= j1 or i0 >= i1:
            return np.zeros((0, 0, 0), src.dtype), (slice(0, 0),) * 3, False
        sub = src[k0 - k_s : k1 - k_s, j0 - j_s : j1 - j_s, i0 - i_s : i1 - i_s]
        return sub, (slice(k0, k1), slice(j0, j1), slice(i0, i1)), False

    transform = None
    if source_to_target is not None:
        from vtkmodules.vtkCommonTransforms import vtkTransform

        transform = vtkTransform()
        transform.SetMatrix(vtk_matrix(source_to_target))
    output = slicer.vtkOrientedImageData()
    ok = slicer.vtkOrientedImageDataResample.ResampleOrientedImageToReferenceOrientedImage(
        image, reference_image(grid), output, False, False, transform, 0
    )
    if not ok:
        raise DicomAIError(
            f"Slicer could not resample the labelmap onto the reference grid {grid.shape}: check the "
            "segmentation's transform and its reference volume"
        )
    arr = array_view(output)
    if arr.shape != (nk, nj, ni):  # VTK gives the reference extent; anything else is a bug
        raise DicomAIError(
            f"the labelmap resampled onto the reference grid has shape {arr.shape}, not {grid.shape}: "
            "please report this with the segmentation and its reference volume"
        )
    return arr, (slice(0, nk), slice(0, nj), slice(0, ni)), True


def onto_grid(image, grid, source_to_target=None, dtype=None) -> Tuple[np.ndarray, bool]:
    """A labelmap image as one full array on ``grid``: ``(array[k, j, i], resampled)``.

    No copy when the image already is the grid (then the array is a view of its scalars).
    """
    sub, region, resampled = region_on_grid(image, grid, source_to_target)
    out_dtype = np.dtype(dtype) if dtype is not None else (sub.dtype if sub.size else np.dtype(np.uint8))
    if sub.shape == tuple(grid.shape) and sub.dtype == out_dtype:
        return sub, resampled
    out = np.zeros(grid.shape, out_dtype)
    if sub.size:
        out[region] = sub
    return out, resampled


def oriented_image_of_volume(volume_node):
    """A vtkOrientedImageData sharing a volume node's voxels (shallow copy) with its IJK-to-RAS."""
    import slicer
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    image = slicer.vtkOrientedImageData()
    image.ShallowCopy(volume_node.GetImageData())
    m = vtkMatrix4x4()
    volume_node.GetIJKToRASMatrix(m)
    image.SetImageToWorldMatrix(m)
    return image
