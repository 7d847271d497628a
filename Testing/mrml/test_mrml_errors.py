"""Misuse of the adapters ends in the project's typed errors (dicomai.errors), one line each,
naming the input and what to do: never a bare RuntimeError or ValueError."""

from __future__ import annotations

import numpy as np
import pytest
import slicer

from dicomai.errors import DicomAIError, InputError, SetupError
from dicomai_slicer import scene as scene_module
from dicomai_slicer._images import array_view, grid_of_volume
from dicomai_slicer.render import render_view


def _one_line(error) -> str:
    text = str(error)
    assert "\n" not in text
    return text


def test_no_scene_is_a_setup_error_that_says_to_create_one(monkeypatch):
    monkeypatch.setattr(slicer, "mrmlScene", None, raising=False)
    with pytest.raises(SetupError, match=r"create_scene\(\) first") as caught:
        scene_module.current_scene()
    assert isinstance(caught.value, DicomAIError) and isinstance(caught.value, RuntimeError)
    _one_line(caught.value)


def test_no_application_logic_is_a_setup_error(monkeypatch):
    monkeypatch.setitem(scene_module._STATE, "app", None)
    monkeypatch.delattr(slicer, "app", raising=False)
    with pytest.raises(SetupError, match="no Slicer application logic"):
        scene_module.application_logic()


@pytest.mark.parametrize("call", ["create_scene", "close_scene"])
def test_headless_scene_calls_inside_the_application_are_setup_errors(scene, monkeypatch, call):
    monkeypatch.setattr(scene_module, "in_slicer_application", lambda: True)
    with pytest.raises(SetupError, match=f"{call}\\(\\) is for") as caught:
        getattr(scene_module, call)()
    assert "slicer.mrmlScene" in _one_line(caught.value)


def test_a_volume_without_voxels_is_an_input_error_naming_it(scene):
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "empty CT")
    with pytest.raises(InputError, match="'empty CT' has no image data") as caught:
        grid_of_volume(volume)
    assert isinstance(caught.value, ValueError)  # callers catching ValueError still do
    _one_line(caught.value)


def test_a_multi_component_image_is_not_a_labelmap(scene):
    volume = scene.AddNewNodeByClass("vtkMRMLVectorVolumeNode", "rgb")
    slicer.util.updateVolumeFromArray(volume, np.zeros((2, 3, 4, 3), np.uint8))
    with pytest.raises(InputError, match="3 components per voxel; a labelmap has one"):
        array_view(volume.GetImageData())


def test_an_unknown_view_is_an_input_error_listing_the_views(scene, tmp_path):
    with pytest.raises(InputError, match="view 'Blue' is unknown: use one of Red") as caught:
        render_view(tmp_path / "v.png", "Blue")
    assert not (tmp_path / "v.png").exists()
    _one_line(caught.value)
