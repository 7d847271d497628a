// Make a DICOM SR the way the OHIF Viewer saves one: @cornerstonejs/adapters' MeasurementReport
// (pinned by scripts/install_peers.sh, run from its node_modules) over a Cornerstone3D tool state.
//
//   node ohif_sr.mjs IN.json OUT.dcm
//
// IN.json: {"images": [{"imageId", "SOPInstanceUID", "SOPClassUID", "StudyInstanceUID",
//   "SeriesInstanceUID", "FrameOfReferenceUID", "PatientName", "PatientID", "StudyDate",
//   "StudyTime", "StudyID", "AccessionNumber", "Modality", "ImagePositionPatient",
//   "ImageOrientationPatient", "PixelSpacing", "Rows", "Columns"}, ...],
//   "annotations": [{"toolName", "imageId", "points": [[x, y, z] (LPS mm), ...], "cachedStats": {...},
//   "label", "text", "closed"}, ...]}
// The points are world coordinates; the adapters turn them into SCOORD on the referenced image.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

// the pinned packages live outside the repo: $DICOMAI_PEERS_HOME/js/node_modules
const peers =
  process.env.DICOMAI_PEERS_HOME ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "dicomai-peers");
const modules = path.join(peers, "js", "node_modules");
const load = (rel) => import(pathToFileURL(path.join(modules, rel)).href);
const { adaptersSR } = await load("@cornerstonejs/adapters/dist/esm/index.js");
const dcmjs = (await load("dcmjs/build/dcmjs.es.js")).default;

const [, , inPath, outPath] = process.argv;
const spec = JSON.parse(fs.readFileSync(inPath, "utf8"));
const images = new Map(spec.images.map((i) => [i.imageId, i]));
const { MeasurementReport } = adaptersSR.Cornerstone3D;

// world (LPS mm) -> continuous image (column, row) with (0, 0) at the top-left pixel's corner,
// cornerstone's worldToImageCoords without its metadata registry
function worldToImage(imageId, p) {
  const im = images.get(imageId);
  const [rx, ry, rz, cx, cy, cz] = im.ImageOrientationPatient;
  const d = [0, 1, 2].map((i) => p[i] - im.ImagePositionPatient[i]);
  const col = (d[0] * rx + d[1] * ry + d[2] * rz) / im.PixelSpacing[1] + 0.5;
  const row = (d[0] * cx + d[1] * cy + d[2] * cz) / im.PixelSpacing[0] + 0.5;
  return [col, row];
}
const toScoordModule = await load("@cornerstonejs/adapters/dist/esm/adapters/helpers/toScoordType.js");
toScoordModule.setWorldToImageCoords(worldToImage);

const metadataProvider = {
  get(type, imageId) {
    const im = images.get(imageId);
    if (!im) return undefined;
    if (type === "sopCommonModule") return { sopInstanceUID: im.SOPInstanceUID, sopClassUID: im.SOPClassUID };
    if (type === "instance") return { ...im, NumberOfFrames: 1 };
    if (type === "frameNumber") return 1;
    if (type === "imagePlaneModule")
      return {
        frameOfReferenceUID: im.FrameOfReferenceUID,
        imagePositionPatient: im.ImagePositionPatient,
        rowCosines: im.ImageOrientationPatient.slice(0, 3),
        columnCosines: im.ImageOrientationPatient.slice(3),
        rowPixelSpacing: im.PixelSpacing[0],
        columnPixelSpacing: im.PixelSpacing[1],
        rows: im.Rows,
        columns: im.Columns,
      };
    return undefined;
  },
};

const toolState = {};
for (const a of spec.annotations) {
  const im = images.get(a.imageId);
  const byImage = (toolState[a.imageId] ||= {});
  const byTool = (byImage[a.toolName] ||= { data: [] });
  byTool.data.push({
    annotationUID: dcmjs.data.DicomMetaDictionary.uid(),
    metadata: {
      toolName: a.toolName,
      referencedImageId: a.imageId,
      FrameOfReferenceUID: im.FrameOfReferenceUID,
    },
    data: {
      label: a.label,
      text: a.text,
      // OHIF's arrow tool draws the head at the first point (arrowFirst, its default)
      handles: { points: a.points, textBox: {}, arrowFirst: a.toolName === "ArrowAnnotate" ? true : undefined },
      contour: a.toolName === "PlanarFreehandROI" ? { polyline: a.points, closed: !!a.closed } : undefined,
      cachedStats: { [`imageId:${a.imageId}`]: a.cachedStats || {} },
    },
  });
}
const report = MeasurementReport.generateReport(toolState, metadataProvider, {});
const dataset = report.dataset;
const meta = {
  FileMetaInformationVersion: dataset._meta.FileMetaInformationVersion.Value,
  MediaStorageSOPClassUID: dataset.SOPClassUID,
  MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
  TransferSyntaxUID: "1.2.840.10008.1.2.1",
  ImplementationClassUID: dcmjs.data.DicomMetaDictionary.uid(),
};
const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
fs.writeFileSync(outPath, Buffer.from(dict.write()));
console.log(JSON.stringify({ sop_instance_uid: dataset.SOPInstanceUID, groups: spec.annotations.length }));
