"""Real servers the tests start on 127.0.0.1 (Orthanc with DICOMweb); see orthanc.py."""
