"""Server overhead, run by hand: ``.venv/bin/python benchmarks/server.py [--side 1000] [--repeats 2]``.

1. A 1-megapixel photo through the server (submit PNG, follow /events, fetch every layer raw) against
   ``upscale_with_layers`` called in-process with the same model and options (target: ≤ 5% overhead).
2. 20 small jobs submitted from 4 client threads at once: all must complete.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import io
import json
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

from ldl_backend.artifacts.selective import ArtifactOptions, upscale_with_layers
from ldl_backend.engine.upscale import EngineOptions, prepare_engine
from ldl_backend.imageio import ImageData
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.server import ServerConfig, prepare_server
from ldl_client.options import ReferenceSource

MODEL = "realesr-animevideov3"
OPTIONS = f"model={MODEL}&reference=lanczos"


class Caller:
    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token

    def __call__(self, method: str, path: str, body: bytes | None = None, kind: str = "") -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {"Authorization": f"Bearer {self.token}"}
        if kind:
            headers["Content-Type"] = kind
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        return response.status, payload

    def round_trip(self, png: bytes) -> str:
        status, body = self("POST", f"/jobs?{OPTIONS}", png, "image/png")
        assert status == 202, body
        job_id = json.loads(body)["id"]
        status, events = self("GET", f"/jobs/{job_id}/events")
        assert b'"state": "succeeded"' in events.rsplit(b"event: end", 1)[1], events[-400:]
        for name in ("detail", "reference", "map", "mask", "blend"):
            status, _ = self("GET", f"/jobs/{job_id}/layers/{name}?format=raw")
            assert status == 200
        return job_id


def photo(side: int) -> np.ndarray:
    return cv2.resize(data.chelsea(), (side, side), interpolation=cv2.INTER_AREA)


def png_of(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=1000, help="square input side (1000 = 1 megapixel)")
    parser.add_argument("--repeats", type=int, default=2)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        store = ModelStore(home / "models", builtin_catalog())
        engine = prepare_engine(store.load(MODEL), EngineOptions())
        big = photo(arguments.side)
        png = png_of(big)
        options = ArtifactOptions(ReferenceSource.parse("lanczos"))
        upscale_with_layers(ImageData(big[:64, :64]), engine, options)  # warm-up
        direct = []
        for _ in range(arguments.repeats):
            started = time.perf_counter()
            upscale_with_layers(ImageData(big), engine, options)
            direct.append(time.perf_counter() - started)
        config = ServerConfig(home / "data", home / "cache", home / "run", max_body=1 << 30)
        server = prepare_server(config, home / "models", "bench")
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        call = Caller(server.port, server.token)
        call.round_trip(png_of(big[:64, :64]))  # warm-up: the worker loads the model
        served = []
        for _ in range(arguments.repeats):
            started = time.perf_counter()
            call.round_trip(png)
            served.append(time.perf_counter() - started)
        best_direct, best_served = min(direct), min(served)
        print(f"{arguments.side}×{arguments.side} ×4 with {MODEL}, reference lanczos, best of {arguments.repeats}")
        print(f"  direct upscale_with_layers: {best_direct:.2f} s")
        print(f"  through the server:         {best_served:.2f} s (submit PNG, events, 5 raw layers)")
        print(f"  overhead: {100 * (best_served / best_direct - 1):+.1f}%")

        small = png_of(photo(48))
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(lambda _: call.round_trip(small), range(20)))
        print(f"20 small jobs from 4 threads: {len(set(ids))} completed in {time.perf_counter() - started:.2f} s")
        server.stop()
        thread.join(20)


if __name__ == "__main__":
    main()
