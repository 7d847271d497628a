// Make a DICOM SEG the way the OHIF Viewer saves one: @cornerstonejs/adapters'
// Cornerstone3D.Segmentation.generateSegmentation (pinned by scripts/install_peers.sh) from a
// labelmap over a CT series, as BINARY (Segmentation Storage) or LABELMAP (Label Map
// Segmentation Storage, OHIF's default store mode).
//
//   node ohif_seg.mjs IN.json OUT.dcm
//
// IN.json: {"ct": [file, ...] (slice order), "labels": raw uint8 file (slices x rows x columns),
//   "type": "BINARY" | "LABELMAP", "segments": [{SegmentNumber, SegmentLabel,
//   RecommendedDisplayCIELabValue, SegmentedPropertyCategoryCodeSequence,
//   SegmentedPropertyTypeCodeSequence}, ...]}
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const peers =
  process.env.DICOMAI_PEERS_HOME ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "dicomai-peers");
const modules = path.join(peers, "js", "node_modules");
const load = (rel) => import(pathToFileURL(path.join(modules, rel)).href);
const { adaptersSEG } = await load("@cornerstonejs/adapters/dist/esm/index.js");
const dcmjs = (await load("dcmjs/build/dcmjs.es.js")).default;
const { DicomMessage, DicomMetaDictionary, DicomDict } = dcmjs.data;

const [, , inPath, outPath] = process.argv;
const spec = JSON.parse(fs.readFileSync(inPath, "utf8"));
const cts = spec.ct.map((f) => {
  const buffer = fs.readFileSync(f);
  const dict = DicomMessage.readFile(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length));
  return DicomMetaDictionary.naturalizeDataset(dict.dict);
});
const first = cts[0];
const rows = first.Rows, columns = first.Columns;
const frame = rows * columns;
const labels = new Uint8Array(fs.readFileSync(spec.labels));
const imageId = (i) => `dicomai:${cts[i].SOPInstanceUID}`;
const byId = new Map(cts.map((ds, i) => [imageId(i), ds]));

const STUDY = ["StudyInstanceUID", "StudyDate", "StudyTime", "StudyID", "AccessionNumber",
  "ReferringPhysicianName", "PatientName", "PatientID", "PatientBirthDate", "PatientSex"];
const SERIES = ["SeriesInstanceUID", "SeriesNumber", "Modality", "FrameOfReferenceUID"];
const pick = (ds, keys) => Object.fromEntries(keys.filter((k) => ds[k] !== undefined).map((k) => [k, ds[k]]));
const metadata = {
  get(type, id) {
    const ds = byId.get(id);
    if (!ds) return undefined;
    switch (type) {
      case "StudyData": return pick(ds, STUDY);
      case "SeriesData": return pick(ds, SERIES);
      case "ImageData": {
        const { PixelData, ...rest } = ds;
        return rest;
      }
      case "imagePlaneModule":
        return {
          frameOfReferenceUID: ds.FrameOfReferenceUID,
          imagePositionPatient: ds.ImagePositionPatient.map(Number),
          imageOrientationPatient: ds.ImageOrientationPatient.map(Number),
          rowCosines: ds.ImageOrientationPatient.slice(0, 3).map(Number),
          columnCosines: ds.ImageOrientationPatient.slice(3).map(Number),
          pixelSpacing: ds.PixelSpacing.map(Number),
          rowPixelSpacing: Number(ds.PixelSpacing[0]),
          columnPixelSpacing: Number(ds.PixelSpacing[1]),
          sliceThickness: Number(ds.SliceThickness || 0) || undefined,
          rows, columns,
        };
      case "sopCommonModule": return { sopInstanceUID: ds.SOPInstanceUID, sopClassUID: ds.SOPClassUID };
      case "instance": return ds;
      default: return undefined;
    }
  },
};
const images = cts.map((ds, i) => ({
  imageId: imageId(i),
  rows, columns,
  voxelManager: { getScalarData: () => new Int16Array(rows * columns) },
}));
const segmentMetadata = [];
for (const s of spec.segments) segmentMetadata[s.SegmentNumber] = { SegmentAlgorithmType: "MANUAL", ...s };
const labelmaps2D = cts.map((_, k) => {
  const pixelData = labels.slice(k * frame, (k + 1) * frame);
  const present = [...new Set(pixelData)].filter((v) => v !== 0);
  return { pixelData, rows, columns, segmentsOnLabelmap: present };
});
const labelmap3D = {
  labelmaps2D,
  metadata: segmentMetadata,
  segmentsOnLabelmap: spec.segments.map((s) => s.SegmentNumber),
};
const sopClassUID = spec.type === "LABELMAP" ? "1.2.840.10008.5.1.4.1.1.66.7" : "1.2.840.10008.5.1.4.1.1.66.4";
const seg = adaptersSEG.Cornerstone3D.Segmentation.generateSegmentation(images, labelmap3D, metadata, {
  sopClassUID,
  SeriesDescription: `OHIF ${spec.type}`,
});
const dataset = seg.dataset;
const ts = dataset._meta?.TransferSyntaxUID?.Value?.[0] || "1.2.840.10008.5.1.4.1.1.2.1";
const meta = {
  FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
  MediaStorageSOPClassUID: dataset.SOPClassUID,
  MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
  TransferSyntaxUID: ts === "1.2.840.10008.5.1.4.1.1.2.1" ? "1.2.840.10008.1.2.1" : ts,
  ImplementationClassUID: DicomMetaDictionary.uid(),
};
const out = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
out.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
fs.writeFileSync(outPath, Buffer.from(out.write()));
console.log(JSON.stringify({ sop_class_uid: dataset.SOPClassUID, frames: dataset.NumberOfFrames }));
