"""The client library of LDL Studio's backend, shared by the desktop app and the Krita and GIMP plugins.

Standard library only, and no imports from the rest of ``ldl_backend``: the installer copies this folder into the
hosts' plugin folders, where Python 3.10–3.13 imports it as a package of its own. The protocol is
docs/server-api.md.

    client = connect()
    job = client.submit(png_bytes, SubmitOptions(model="realesrgan-x4plus"))
    job = client.wait(job.id, on_progress=lambda job: print(job.progress.fraction))
    blend = client.layer(job.id, "blend", format="raw")
"""

from .backend_record import BackendRecord, BackendRecordError, connect_settings, read_backend_record
from .client import Client
from .connect import ConnectSettings, connect
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
