"""LDL Studio's backend: generators, model files, the tiled engine and (later) the artifact map and server.

The public API is what ``__all__`` lists; everything else is internal and may change.
"""

from ldl_backend.errors import LdlError, ModelFileError, UnknownArchitectureError, UnsafeModelFileError
from ldl_backend.models.catalog import DEFAULT_MODEL, Catalog, CatalogEntry, builtin_catalog
from ldl_backend.models.descriptor import Architecture, ModelDescriptor
from ldl_backend.models.detection import ArchitectureRegistry, default_registry
from ldl_backend.models.formats.pth import WeightsKey
from ldl_backend.models.loading import LoadedModel, load_model, read_state_dict
from ldl_backend.models.store import ModelStore

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL",
    "Architecture",
    "ArchitectureRegistry",
    "Catalog",
    "CatalogEntry",
    "LdlError",
    "LoadedModel",
    "ModelDescriptor",
    "ModelFileError",
    "ModelStore",
    "UnknownArchitectureError",
    "UnsafeModelFileError",
    "WeightsKey",
    "__version__",
    "builtin_catalog",
    "default_registry",
    "load_model",
    "read_state_dict",
]
