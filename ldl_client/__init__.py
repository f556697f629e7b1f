"""The client library of LDL Studio's backend, shared by the desktop app and the Krita and GIMP plugins.

Standard library only, and no imports from the rest of ``ldl_backend``: the installer copies this folder into the
hosts' plugin folders, where Python 3.10–3.13 imports it as a package of its own. The protocol is
docs/server-api.md.

    client = connect()
    job = client.submit(png_bytes, SubmitOptions(model="realesrgan-x4plus"))
    job = client.wait(job.id, on_progress=lambda job: print(job.progress.fraction))
    blend = client.layer(job.id, "blend", format="raw")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backend_record import BackendRecord, BackendRecordError, connect_settings, read_backend_record
    from .client import Client
    from .connection import ConnectSettings, connect
    from .content_type import sniff_content_type
    from .discovery import (
        ServerEndpoint,
        find_server,
        read_discovery_file,
        remove_discovery_file,
        write_discovery_file,
    )
    from .errors import (
        ClientError,
        ConnectionFailed,
        DiscoveryError,
        ProtocolError,
        ServerError,
        ServerStartFailed,
        UnsupportedImageError,
        WaitTimeoutError,
    )
    from .estimate import describe_seconds, dump_rates, estimate_seconds, learn, load_rates, model_passes
    from .host_layers import LayerNames, group_index, next_layer_names
    from .layer_job import HostLayers, JobEnded, JobStopped, upscale_for_host
    from .layers import IMAGE_LAYERS, LAYER_NAMES, LayerName
    from .locations import Locations, default_locations, runtime_dir
    from .model_choice import availability_text, model_order, preferred_model
    from .options import (
        DEFAULT_MODEL,
        DEFAULT_REFERENCE,
        DEFAULT_SOFTNESS,
        DEFAULT_THRESHOLD,
        MAX_SCALE,
        MAX_TILE,
        MIN_TILE,
        PRECISIONS,
        AlphaMode,
        OptionError,
        Precision,
        ReferenceKind,
        ReferenceSource,
        SubmitOptions,
    )
    from .raw_image import RawHeader, RawImage
    from .records import Availability, Health, JobError, JobInfo, JobState, ModelInfo, Progress
    from .transport import Transport
    from .version import API_VERSION

# Each name is imported from its module on first use: `ldl upscale` reads the options, and should not pay for
# the HTTP client, the event stream and the discovery code it never uses (about 40 ms at start-up).
_MODULE_OF = {
    "AlphaMode": "options",
    "API_VERSION": "version",
    "Availability": "records",
    "availability_text": "model_choice",
    "BackendRecord": "backend_record",
    "BackendRecordError": "backend_record",
    "Client": "client",
    "ClientError": "errors",
    "connect": "connection",
    "connect_settings": "backend_record",
    "ConnectionFailed": "errors",
    "ConnectSettings": "connection",
    "default_locations": "locations",
    "DEFAULT_MODEL": "options",
    "DEFAULT_REFERENCE": "options",
    "DEFAULT_SOFTNESS": "options",
    "DEFAULT_THRESHOLD": "options",
    "describe_seconds": "estimate",
    "DiscoveryError": "errors",
    "dump_rates": "estimate",
    "estimate_seconds": "estimate",
    "find_server": "discovery",
    "group_index": "host_layers",
    "Health": "records",
    "HostLayers": "layer_job",
    "IMAGE_LAYERS": "layers",
    "JobEnded": "layer_job",
    "JobError": "records",
    "JobInfo": "records",
    "JobState": "records",
    "JobStopped": "layer_job",
    "LAYER_NAMES": "layers",
    "LayerName": "layers",
    "LayerNames": "host_layers",
    "learn": "estimate",
    "load_rates": "estimate",
    "Locations": "locations",
    "MAX_SCALE": "options",
    "MAX_TILE": "options",
    "MIN_TILE": "options",
    "model_order": "model_choice",
    "model_passes": "estimate",
    "ModelInfo": "records",
    "next_layer_names": "host_layers",
    "OptionError": "options",
    "Precision": "options",
    "PRECISIONS": "options",
    "preferred_model": "model_choice",
    "Progress": "records",
    "ProtocolError": "errors",
    "RawHeader": "raw_image",
    "RawImage": "raw_image",
    "read_backend_record": "backend_record",
    "read_discovery_file": "discovery",
    "ReferenceKind": "options",
    "ReferenceSource": "options",
    "remove_discovery_file": "discovery",
    "runtime_dir": "locations",
    "ServerEndpoint": "discovery",
    "ServerError": "errors",
    "ServerStartFailed": "errors",
    "sniff_content_type": "content_type",
    "SubmitOptions": "options",
    "Transport": "transport",
    "UnsupportedImageError": "errors",
    "upscale_for_host": "layer_job",
    "WaitTimeoutError": "errors",
    "write_discovery_file": "discovery",
}

__all__ = [
    "API_VERSION",
    "DEFAULT_MODEL",
    "DEFAULT_REFERENCE",
    "DEFAULT_SOFTNESS",
    "DEFAULT_THRESHOLD",
    "IMAGE_LAYERS",
    "LAYER_NAMES",
    "MAX_SCALE",
    "MAX_TILE",
    "MIN_TILE",
    "PRECISIONS",
    "AlphaMode",
    "Availability",
    "BackendRecord",
    "BackendRecordError",
    "Client",
    "ClientError",
    "ConnectSettings",
    "ConnectionFailed",
    "DiscoveryError",
    "Health",
    "HostLayers",
    "JobEnded",
    "JobError",
    "JobInfo",
    "JobState",
    "JobStopped",
    "LayerName",
    "LayerNames",
    "Locations",
    "ModelInfo",
    "OptionError",
    "Precision",
    "Progress",
    "ProtocolError",
    "RawHeader",
    "RawImage",
    "ReferenceKind",
    "ReferenceSource",
    "ServerEndpoint",
    "ServerError",
    "ServerStartFailed",
    "SubmitOptions",
    "Transport",
    "UnsupportedImageError",
    "WaitTimeoutError",
    "availability_text",
    "connect",
    "connect_settings",
    "default_locations",
    "describe_seconds",
    "dump_rates",
    "estimate_seconds",
    "find_server",
    "group_index",
    "learn",
    "load_rates",
    "model_order",
    "model_passes",
    "next_layer_names",
    "preferred_model",
    "read_backend_record",
    "read_discovery_file",
    "remove_discovery_file",
    "runtime_dir",
    "sniff_content_type",
    "upscale_for_host",
    "write_discovery_file",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # found once; later lookups do not come back here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
