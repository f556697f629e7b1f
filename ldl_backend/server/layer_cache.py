"""The files of the jobs: inputs waiting for the worker (as submitted, ``job_inputs``), and the five result layers
as ``.npy`` arrays.

Each job's folder appears whole or not at all (written beside, then renamed); a re-blend replaces single files
atomically. Shared by the API process and the worker: the worker writes layers, the API reads them.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ldl_backend.artifacts.layers import UpscaleLayers
from ldl_backend.imageio import ImageData, ImageMetadata
from ldl_backend.server.job_inputs import Upload, input_bytes, read_input, write_input
from ldl_backend.storage import atomic_output
from ldl_client.layers import IMAGE_LAYERS, LAYER_NAMES

PLANE_LAYERS = tuple(name for name in LAYER_NAMES if name not in IMAGE_LAYERS)


@dataclass(frozen=True)
class LayerCache:
    root: Path

    @property
    def inputs(self) -> Path:
        return self.root / "inputs"

    @property
    def layers(self) -> Path:
        return self.root / "layers"

    @property
    def scratch(self) -> Path:
        return self.root / "scratch"

    # -- inputs ------------------------------------------------------------------------------------------------
    def save_input(self, job_id: str, upload: Upload) -> None:
        """The submitted bytes, as received (``job_inputs``: only the worker decodes them)."""
        write_input(self.inputs / job_id, upload)

    def load_input(self, job_id: str) -> ImageData:
        """The job's input, decoded; raises ``ImageFileError`` for pixel data that does not decode."""
        return read_input(self.inputs / job_id)

    def input_sizes(self) -> dict[str, int]:
        """Bytes of each waiting or running job's stored input."""
        if not self.inputs.is_dir():
            return {}
        return {
            folder.name: input_bytes(folder)
            for folder in self.inputs.iterdir()
            if folder.is_dir() and not folder.name.startswith(".")
        }

    def delete_input(self, job_id: str) -> None:
        shutil.rmtree(self.inputs / job_id, ignore_errors=True)

    # -- layers ------------------------------------------------------------------------------------------------
    def save_layers(self, job_id: str, layers: UpscaleLayers) -> None:
        planes: dict[str, np.ndarray | None] = {
            "detail": layers.detail.colour,
            "reference": layers.reference.colour,
            "blend": layers.blend.colour,
            "alpha": layers.detail.alpha,
            "map": layers.artifact_map.astype(np.float32, copy=False),
            "mask": layers.mask.astype(np.float32, copy=False),
        }
        _save_folder(self.layers / job_id, planes, layers.detail.metadata)

    def has_layers(self, job_id: str) -> bool:
        return (self.layers / job_id).is_dir()

    def image_layer(self, job_id: str, name: str) -> ImageData:
        """``detail``, ``reference`` or ``blend`` with the job's alpha and colour profile."""
        return _load_image(self.layers / job_id, name)

    def plane(self, job_id: str, name: str, *, mmap: bool = False) -> np.ndarray:
        """``map`` or ``mask``: H×W float32 in [0, 1] (or an image layer's colour array)."""
        return np.load(self.layers / job_id / f"{name}.npy", mmap_mode="r" if mmap else None, allow_pickle=False)

    def replace_plane(self, job_id: str, name: str, array: np.ndarray) -> None:
        with atomic_output(self.layers / job_id / f"{name}.npy", mode=0o600) as stream:  # the user's alone
            np.save(stream, array, allow_pickle=False)

    def delete(self, job_id: str) -> None:
        self.delete_input(job_id)
        shutil.rmtree(self.layers / job_id, ignore_errors=True)

    def sizes(self) -> dict[str, int]:
        """Bytes of each job's layer folder."""
        if not self.layers.is_dir():
            return {}
        return {
            folder.name: sum(item.stat().st_size for item in folder.iterdir() if item.is_file())
            for folder in self.layers.iterdir()
            if folder.is_dir() and not folder.name.startswith(".")
        }

    def remove_leftovers(self, keep: set[str]) -> None:
        """At start: partial folders and files of jobs that are no longer in the database."""
        for parent in (self.inputs, self.layers):
            if parent.is_dir():
                for folder in parent.iterdir():
                    if folder.name not in keep:
                        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(self.scratch, ignore_errors=True)


def _save_folder(folder: Path, planes: dict[str, np.ndarray | None], metadata: ImageMetadata) -> None:
    partial = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        for name, array in planes.items():
            if array is not None:
                np.save(partial / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        if metadata.icc_profile is not None:
            (partial / "icc.bin").write_bytes(metadata.icc_profile)
        if metadata.exif is not None:
            (partial / "exif.bin").write_bytes(metadata.exif)
        if metadata.dpi is not None:
            (partial / "dpi.json").write_text(json.dumps(list(metadata.dpi)))
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _load_image(folder: Path, name: str) -> ImageData:
    colour = np.load(folder / f"{name}.npy", allow_pickle=False)
    alpha_file = folder / "alpha.npy"
    alpha = np.load(alpha_file, allow_pickle=False) if alpha_file.is_file() else None
    icc_file, exif_file, dpi_file = folder / "icc.bin", folder / "exif.bin", folder / "dpi.json"
    icc = icc_file.read_bytes() if icc_file.is_file() else None
    exif = exif_file.read_bytes() if exif_file.is_file() else None
    dpi = None
    if dpi_file.is_file():
        x, y = json.loads(dpi_file.read_text())
        dpi = (float(x), float(y))
    return ImageData(colour, alpha, ImageMetadata(icc_profile=icc, exif=exif, dpi=dpi))
