"""How far our conversion of Real-ESRGAN's ncnn models is from the ncnn runtime itself (fp32, CPU).

Run: ``.venv/bin/python benchmarks/ncnn_parity.py``. Prints max |ours − ncnn| after clamping, on a 64×64 crop of
a real photo, for every packaged model reachable through the catalog.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from ncnn_upscale import ncnn_runner  # the sibling benchmark's ncnn wrapper (benchmarks/ is run as scripts)

from ldl_backend.models.catalog import PackagedNcnnSource, builtin_catalog
from ldl_backend.models.store import ModelStore


def main() -> None:
    from skimage import data

    crop = np.ascontiguousarray(data.astronaut()[100:164, 200:264].transpose(2, 0, 1), dtype=np.float32) / 255
    store = ModelStore(Path(tempfile.mkdtemp(prefix="ldl-parity-")), builtin_catalog())
    for entry in builtin_catalog():
        if not isinstance(entry.source, PackagedNcnnSource):
            continue
        reference = np.clip(ncnn_runner(entry.source.param_file.removesuffix(".param"), False, 2)(crop), 0, 1)
        model = store.load(entry.name)
        with torch.inference_mode():
            ours = model.network(torch.from_numpy(crop)[None])[0].clamp(0, 1).numpy()
        print(
            f"{entry.name:26} max |ours − ncnn| = {np.abs(ours - reference).max():.2e}  "
            f"({np.abs(ours - reference).max() * 255:.4f} of an 8-bit level)"
        )


if __name__ == "__main__":
    main()
