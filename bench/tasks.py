"""The measured tasks of the benchmark, one per process (bench/run.py starts and times them).

    python bench/tasks.py TASK [ARGS...]

Each task does one job the way its tool does it and, when part of its time is set-up that the
comparison should leave out (starting Slicer, building the scene the export starts from), prints
``STEP <seconds>`` for the measured part. Tasks:

  startup                         import numpy, pydicom, SimpleITK, highdicom (the libraries every
                                  SEG export here needs): the start-up that "beyond start-up" means
  floor-export LABELMAP OUT       the floor: read the labelmap, pack every (slice, segment) frame
                                  with numpy.packbits, write the bytes (+ OUT.index.npy);
                                  STEP = packing and writing
  floor-headers SOURCE LABELMAP OUT   the floor plus what every SEG writer must also read: the
                                  source series headers (pydicom, stop_before_pixels)
  floor-import BYTES OUT          read the floor's bytes back into a labelmap, write it (.nii)
  hd-export TYPE SOURCE LABELMAP META OUT   highdicom's defaults (BINARY) or LABELMAP + JPEG-LS,
                                  the way a highdicom user writes it: pydicom headers, SimpleITK
                                  labelmap, hd.seg.Segmentation(...).save_as
  hd-import SEG SOURCE OUT        highdicom's reading into a labelmap: segread +
                                  get_pixels_by_source_instance(combine_segments=True), SimpleITK write
  api-export TYPE SOURCE LABELMAP META OUT   dicomai's Python API: STEP = write_seg alone
  api-import SEG OUT              dicomai's Python API: STEP = read_seg + writing the labelmap
  slicer-export SOURCE LABELMAP META OUT TYPE   dicomai_slicer on slicer-core: CT volume node and
                                  segmentation node first (set-up), then STEP = export_segmentation
  slicer-import SEG               dicomai_slicer on slicer-core: STEP = load_dicom_objects([SEG])
                                  into a segmentation node
  slicer-core-load SEG DCMQI_BIN  Slicer core's DICOMSegmentationPlugin.load reproduced on
                                  slicer-core: STEP = segimage2itkimage --mergeSegments into a
                                  temporary folder, each NRRD loaded as a labelmap node and
                                  imported into one segmentation node with the segment names,
                                  colours and terminology tags the plugin sets
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _step(t0: float) -> None:
    print(f"STEP {time.perf_counter() - t0:.4f}", flush=True)


# ------------------------------------------------------------------------------------ floor
def _read_labelmap_view(path):
    import SimpleITK as sitk

    image = sitk.ReadImage(str(path))
    return image, sitk.GetArrayViewFromImage(image)


def floor_export(labelmap, out) -> None:
    import numpy as np

    image, lab = _read_labelmap_view(labelmap)
    t0 = time.perf_counter()
    index = []
    with open(out, "wb") as f:
        for k in range(lab.shape[0]):
            flat = lab[k].reshape(-1)
            values = np.flatnonzero(np.bincount(flat[flat != 0]))
            for v in values:
                f.write(np.packbits(lab[k] == v, bitorder="little").tobytes())
                index.append((k, int(v)))
    np.save(f"{out}.index.npy", np.asarray(index, dtype=np.int32).reshape(-1, 2))
    (Path(f"{out}.shape.json")).write_text(json.dumps(list(lab.shape)))
    _step(t0)


def floor_headers(source, labelmap, out) -> None:
    import pydicom

    files = sorted(p for p in Path(source).iterdir() if p.is_file())
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]
    assert headers
    floor_export(labelmap, out)


def floor_import(packed, out) -> None:
    import numpy as np
    import SimpleITK as sitk

    t0 = time.perf_counter()
    shape = json.loads(Path(f"{packed}.shape.json").read_text())
    index = np.load(f"{packed}.index.npy")
    frame_bytes = shape[1] * shape[2] // 8
    data = np.fromfile(packed, dtype=np.uint8).reshape(-1, frame_bytes)
    lab = np.zeros(shape, dtype=np.uint8 if index[:, 1].max(initial=0) < 256 else np.uint16)
    for (k, v), frame in zip(index, data):
        mask = np.unpackbits(frame, bitorder="little").reshape(shape[1], shape[2]).view(bool)
        lab[k][mask] = v
    sitk.WriteImage(sitk.GetImageFromArray(lab), str(out))
    _step(t0)


# ------------------------------------------------------------------------------------ highdicom
def hd_export(seg_type, source, labelmap, meta, out) -> None:
    import highdicom as hd
    import numpy as np
    import pydicom
    import SimpleITK as sitk
    from pydicom.sr.codedict import codes
    from pydicom.uid import JPEGLSLossless, generate_uid

    files = sorted(p for p in Path(source).iterdir() if p.is_file())
    datasets = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]
    normal = np.cross(
        np.asarray(datasets[0].ImageOrientationPatient[:3], float),
        np.asarray(datasets[0].ImageOrientationPatient[3:], float),
    )
    datasets.sort(key=lambda d: float(np.dot(normal, np.asarray(d.ImagePositionPatient, float))))
    image = sitk.ReadImage(str(labelmap))
    lab = sitk.GetArrayFromImage(image)  # (k, r, c) in the source order (same grid)
    segments = json.loads(Path(meta).read_text())["segmentAttributes"][0]
    descriptions = []
    for number, s in enumerate(segments, start=1):
        cat, typ = s["SegmentedPropertyCategoryCodeSequence"], s["SegmentedPropertyTypeCodeSequence"]
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=number,
                segment_label=s["SegmentLabel"],
                segmented_property_category=hd.sr.CodedConcept(
                    cat["CodeValue"], cat["CodingSchemeDesignator"], cat["CodeMeaning"]
                ),
                segmented_property_type=hd.sr.CodedConcept(
                    typ["CodeValue"], typ["CodingSchemeDesignator"], typ["CodeMeaning"]
                ),
                algorithm_type="AUTOMATIC",
                algorithm_identification=hd.AlgorithmIdentificationSequence(
                    name="bench", family=codes.DCM.ArtificialIntelligence, version="1"
                ),
            )
        )
    kwargs = {"transfer_syntax_uid": JPEGLSLossless} if seg_type == "LABELMAP" else {}
    t0 = time.perf_counter()
    seg = hd.seg.Segmentation(
        source_images=datasets,
        pixel_array=lab,
        segmentation_type=seg_type,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=100,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="bench",
        manufacturer_model_name="bench",
        software_versions="1",
        device_serial_number="1",
        **kwargs,
    )
    seg.save_as(out)
    _step(t0)


def hd_import(seg_path, source, out) -> None:
    import highdicom as hd
    import numpy as np
    import pydicom
    import SimpleITK as sitk

    files = sorted(p for p in Path(source).iterdir() if p.is_file())
    datasets = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]
    normal = np.cross(
        np.asarray(datasets[0].ImageOrientationPatient[:3], float),
        np.asarray(datasets[0].ImageOrientationPatient[3:], float),
    )
    datasets.sort(key=lambda d: float(np.dot(normal, np.asarray(d.ImagePositionPatient, float))))
    t0 = time.perf_counter()
    seg = hd.seg.segread(str(seg_path))
    lab = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[str(d.SOPInstanceUID) for d in datasets], combine_segments=True
    )
    sitk.WriteImage(sitk.GetImageFromArray(np.ascontiguousarray(lab)), str(out))
    _step(t0)


# ------------------------------------------------------------------------------------ dicomai API
def api_export(seg_type, source, labelmap, meta, out) -> None:
    """dicomai's Python API (what the Slicer module calls): STEP = write_seg alone."""
    from dicomai.destinations import FileDestination
    from dicomai.imageio import read_labelmap
    from dicomai.seg.cli import _present_labels
    from dicomai.seg.content import SegmentationContent
    from dicomai.seg.encode import write_seg
    from dicomai.seg.metadata import load_metadata, segments_for_labels
    from dicomai.seg.options import SegOptions
    from dicomai.source import read_source_series

    src = read_source_series(source)
    lab, grid = read_labelmap(labelmap)
    segments = segments_for_labels(_present_labels(lab), load_metadata(meta), [])
    content = SegmentationContent.from_labelmap(lab, grid, segments)
    import highdicom  # noqa: F401  (imports are start-up, not the step)

    t0 = time.perf_counter()
    write_seg(content, src, FileDestination(out, overwrite=True), SegOptions(segmentation_type=seg_type))
    _step(t0)


def api_import(seg_path, out) -> None:
    """dicomai's Python API: STEP = read_seg + writing the labelmap file (as import-seg does)."""
    import pydicom.filereader  # noqa: F401  (imports are start-up, not the step)
    import pydicom.pixels  # noqa: F401
    import SimpleITK  # noqa: F401

    from dicomai.seg.convert import export_content_files
    from dicomai.seg.decode import read_seg

    t0 = time.perf_counter()
    content = read_seg(seg_path)
    export_content_files(content, out, overwrite=True)
    _step(t0)


# ------------------------------------------------------------------------------------ slicer-core
def slicer_export(source, labelmap, meta, out, seg_type) -> None:
    import numpy as np
    import slicer  # noqa: F401  (slicer-core)

    import dicomai_slicer as ds
    from dicomai.imageio import read_labelmap

    scene = ds.create_scene()
    volume = ds.load_dicom_series(source)
    lab, grid = read_labelmap(labelmap)
    label_node = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode")
    label_node.SetIJKToRASMatrix(_vtk_matrix(grid.ijk_to_ras()))
    import slicer.util

    slicer.util.updateVolumeFromArray(label_node, np.ascontiguousarray(lab))
    seg_node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    seg_node.SetReferenceImageGeometryParameterFromVolumeNode(volume)
    slicer.modules.segmentations.logic().ImportLabelmapToSegmentationNode(label_node, seg_node)
    segments = json.loads(Path(meta).read_text())["segmentAttributes"][0]
    segmentation = seg_node.GetSegmentation()
    for n in range(segmentation.GetNumberOfSegments()):
        segmentation.GetNthSegment(n).SetName(segments[n]["SegmentLabel"])
    from dicomai.destinations import FileDestination
    from dicomai_slicer.export import SegExportOptions

    t0 = time.perf_counter()
    ds.export_segmentation(
        seg_node,
        volume,
        FileDestination(out, overwrite=True),
        SegExportOptions(segmentation_type=seg_type, algorithm_name="bench"),
    )
    _step(t0)


def _vtk_matrix(array):
    import vtk

    m = vtk.vtkMatrix4x4()
    for i in range(4):
        for j in range(4):
            m.SetElement(i, j, float(array[i][j]))
    return m


def slicer_import(seg_path) -> None:
    import slicer  # noqa: F401

    import dicomai_slicer as ds

    ds.create_scene()
    t0 = time.perf_counter()
    nodes = ds.load_dicom_objects([seg_path])
    _step(t0)
    seg = [n for n in nodes if n.IsA("vtkMRMLSegmentationNode")][0]
    print(f"SEGMENTS {seg.GetSegmentation().GetNumberOfSegments()}")


def slicer_core_load(seg_path, dcmqi_bin) -> None:
    """What Slicer's DICOMSegmentationPlugin.load does, on slicer-core (no Qt)."""
    import glob
    import os
    import shutil
    import subprocess
    import tempfile

    import slicer

    import dicomai_slicer as ds

    try:  # in the Slicer application
        import vtkSegmentationCorePython as vtkSegmentationCore
    except ImportError:  # slicer-core exposes the same classes on the slicer module
        vtkSegmentationCore = slicer

    scene = ds.create_scene()
    t0 = time.perf_counter()
    temp = tempfile.mkdtemp(prefix="slicer-core-seg-")
    try:
        result = subprocess.run(
            [dcmqi_bin, "--inputDICOM", str(seg_path), "--outputDirectory", temp, "--mergeSegments"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(result.stderr)
        n_files = len(glob.glob(os.path.join(temp, "*.nrrd")))
        with open(os.path.join(temp, "meta.json")) as f:
            data = json.load(f)
        label_nodes = []
        reader = slicer.vtkMRMLVolumeArchetypeStorageNode()
        for i, attributes in enumerate(data["segmentAttributes"][:n_files]):
            # slicer.util.loadLabelVolume(file, {"singleFile": True}): an archetype storage node
            # reading one file into a labelmap volume node
            label_node = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode")
            reader.SetFileName(os.path.join(temp, f"{i + 1}.nrrd"))
            reader.SetSingleFile(True)
            if not reader.ReadData(label_node):
                raise RuntimeError(f"cannot read {i + 1}.nrrd")
            label_node.labelAttributes = [a for a in attributes if a.get("labelID", 1) != 0]
            label_nodes.append(label_node)
        seg_node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
        display = scene.AddNewNodeByClass("vtkMRMLSegmentationDisplayNode")
        seg_node.SetAndObserveDisplayNodeID(display.GetID())
        converter = vtkSegmentationCore.vtkSegmentationConverter
        segmentation = vtkSegmentationCore.vtkSegmentation()
        segmentation.SetSourceRepresentationName(converter.GetSegmentationBinaryLabelmapRepresentationName())
        segmentation.CreateRepresentation(converter.GetSegmentationClosedSurfaceRepresentationName(), True)
        seg_node.SetAndObserveSegmentation(segmentation)
        logic = slicer.modules.segmentations.logic()
        terminologies = slicer.modules.terminologies.logic()
        for label_node in label_nodes:
            before = segmentation.GetNumberOfSegments()
            if not logic.ImportLabelmapToSegmentationNode(label_node, seg_node):
                raise RuntimeError("ImportLabelmapToSegmentationNode failed")
            for j, n in enumerate(range(before, segmentation.GetNumberOfSegments())):
                a = label_node.labelAttributes[j]
                segment = segmentation.GetNthSegment(n)
                segment.SetName(a.get("SegmentLabel") or "")
                rgb = [c / 255.0 for c in a.get("recommendedDisplayRGBValue", (150, 150, 0))]
                segment.SetColor(rgb)
                cat = a.get("SegmentedPropertyCategoryCodeSequence", {})
                typ = a.get("SegmentedPropertyTypeCodeSequence", {})
                codes = [c.get(k, "") for c in (cat, typ) for k in _CODE_KEYS]
                tag = terminologies.SerializeTerminologyEntry(
                    "Segmentation category and type - DICOM master list",
                    *codes,
                    *([""] * 3),
                    "Anatomic codes - DICOM master list",
                    *([""] * 6),
                )
                segment.SetTag(vtkSegmentationCore.vtkSegment.GetTerminologyEntryTagName(), tag)
                if "SegmentAlgorithmName" in a:
                    segment.SetTag("DICOM.SegmentAlgorithmName", a["SegmentAlgorithmName"])
                if "SegmentAlgorithmType" in a:
                    segment.SetTag("DICOM.SegmentAlgorithmType", a["SegmentAlgorithmType"])
            scene.RemoveNode(label_node)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    _step(t0)
    print(f"SEGMENTS {segmentation.GetNumberOfSegments()}")


_CODE_KEYS = ("CodeValue", "CodingSchemeDesignator", "CodeMeaning")


def startup() -> None:
    import highdicom  # noqa: F401
    import numpy  # noqa: F401
    import pydicom  # noqa: F401
    import SimpleITK  # noqa: F401


TASKS = {
    "startup": startup,
    "floor-export": floor_export,
    "floor-headers": floor_headers,
    "floor-import": floor_import,
    "hd-export": hd_export,
    "hd-import": hd_import,
    "api-export": api_export,
    "api-import": api_import,
    "slicer-export": slicer_export,
    "slicer-import": slicer_import,
    "slicer-core-load": slicer_core_load,
}

if __name__ == "__main__":
    TASKS[sys.argv[1]](*sys.argv[2:])
