"""Who wrote an object: the equipment attributes every family writes, defined once."""

from __future__ import annotations

__all__ = ["MANUFACTURER", "MODEL_NAME", "software_versions"]

#: Manufacturer (0008,0070), the default of every family's options.
MANUFACTURER = "DicomAI"
#: Manufacturer's Model Name (0008,1090) of SEG and SR.
MODEL_NAME = "DicomAIExtension"


def software_versions() -> str:
    """Software Versions (0018,1020): ``dicomai <version>``."""
    from . import __version__

    return f"dicomai {__version__}"
