"""The modality-specific modules of the sample series: CT Image, MR Image, PET Series/Isotope/Image.

Each function sets, on one dataset shared by every slice, the attributes its IOD needs beyond the
common modules (values typical of an abdominal scan; fixed so that output is reproducible).
"""

from __future__ import annotations

import datetime

from ._dicom import code_item, ds_string


def set_ct_image(ds, intercept: float, reconstruction_diameter: float) -> None:
    """CT Image module (PS3.3 C.8.2.1): Hounsfield units, an abdomen window."""
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.RescaleIntercept = ds_string(intercept)
    ds.RescaleType = "HU"
    ds.KVP = "120"
    ds.DataCollectionDiameter = "500"
    ds.ReconstructionDiameter = ds_string(reconstruction_diameter)
    ds.GantryDetectorTilt = "0"
    ds.TableHeight = "150"
    ds.RotationDirection = "CW"
    ds.ExposureTime = "1000"
    ds.XRayTubeCurrent = "200"
    ds.Exposure = "200"
    ds.FilterType = "BODY"
    ds.ConvolutionKernel = "STANDARD"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    ds.WindowCenterWidthExplanation = "ABDOMEN"


def set_mr_image(ds, slice_thickness: float) -> None:
    """MR Image module (PS3.3 C.8.3.1): a 3 T 3D gradient echo."""
    ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
    ds.ScanningSequence = "GR"
    ds.SequenceVariant = "SP"
    ds.ScanOptions = ""
    ds.MRAcquisitionType = "3D"
    ds.SequenceName = "*fl3d1"
    ds.AngioFlag = "N"
    ds.RepetitionTime = "6.5"
    ds.EchoTime = "2.3"
    ds.EchoTrainLength = 1
    ds.FlipAngle = "12"
    ds.NumberOfAverages = "1"
    ds.ImagingFrequency = "127.74"
    ds.ImagedNucleus = "1H"
    ds.EchoNumbers = 1
    ds.MagneticFieldStrength = "3"
    ds.SpacingBetweenSlices = ds_string(slice_thickness)
    ds.PixelBandwidth = "400"
    ds.ReceiveCoilName = "Body"
    ds.TransmitCoilName = "Body"
    ds.InPlanePhaseEncodingDirection = "ROW"


def set_pet(ds, n_slices: int, when: datetime.datetime) -> None:
    """PET Series, PET Isotope, NM/PET Patient Orientation and PET Image modules (PS3.3 C.8.9):
    static FDG, Units BQML decay corrected to the series start, injected one hour before ``when``,
    with the attributes SUV computation needs."""
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.RescaleIntercept = "0"
    _set_pet_series(ds, n_slices)
    _set_pet_isotope(ds, when - datetime.timedelta(hours=1))
    _set_patient_orientation(ds)
    # PET Image
    ds.FrameReferenceTime = "0"
    ds.ActualFrameDuration = 180000
    ds.DecayFactor = "1"
    ds.DoseCalibrationFactor = "1"
    ds.ScatterFractionFactor = "0.3"
    ds.DeadTimeFactor = "1"


def _set_pet_series(ds, n_slices: int) -> None:
    ds.Units = "BQML"
    ds.CountsSource = "EMISSION"
    ds.SeriesType = ["STATIC", "IMAGE"]
    ds.NumberOfSlices = n_slices
    ds.CorrectedImage = ["DECY", "ATTN", "SCAT", "DTIM", "RAN", "NORM"]
    ds.RandomsCorrectionMethod = "DLYD"
    ds.AttenuationCorrectionMethod = "CT-based"
    ds.ScatterCorrectionMethod = "Model-based"
    ds.DecayCorrection = "START"
    ds.ReconstructionMethod = "OSEM"
    ds.CollimatorType = "NONE"
    ds.AcquisitionStartCondition = "MANU"
    ds.AxialAcceptance = "27"


def _set_pet_isotope(ds, injection: datetime.datetime) -> None:
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.sr.codedict import codes

    window = Dataset()
    window.EnergyWindowLowerLimit = "435"
    window.EnergyWindowUpperLimit = "650"
    ds.EnergyWindowRangeSequence = DicomSequence([window])
    rp = Dataset()
    rp.RadionuclideCodeSequence = DicomSequence([code_item(codes.cid4020._18Fluorine)])
    rp.RadiopharmaceuticalRoute = "Intravenous route"
    rp.Radiopharmaceutical = "Fludeoxyglucose F^18^"
    rp.RadiopharmaceuticalStartTime = injection.strftime("%H%M%S")
    rp.RadiopharmaceuticalStartDateTime = injection.strftime("%Y%m%d%H%M%S")
    rp.RadionuclideTotalDose = "370000000"
    rp.RadionuclideHalfLife = "6586.2"
    rp.RadionuclidePositronFraction = "0.9673"
    rp.RadiopharmaceuticalCodeSequence = DicomSequence([code_item(codes.cid4021.FluorodeoxyglucoseF18)])
    ds.RadiopharmaceuticalInformationSequence = DicomSequence([rp])


def _set_patient_orientation(ds) -> None:
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.sr.codedict import codes

    orient = code_item(codes.cid19.Recumbent)
    orient.PatientOrientationModifierCodeSequence = DicomSequence([code_item(codes.cid20.Supine)])
    ds.PatientOrientationCodeSequence = DicomSequence([orient])
    ds.PatientGantryRelationshipCodeSequence = DicomSequence([code_item(codes.cid21.Headfirst)])
