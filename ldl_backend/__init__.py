"""LDL Studio's backend: generators, model files, the tiled engine and (later) the artifact map and server.

The public API is what ``__all__`` lists; everything else is internal and may change.
"""

from typing import TYPE_CHECKING

from ldl_backend.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from ldl_backend.errors import LdlError, ModelFileError, UnknownArchitectureError, UnsafeModelFileError
    from ldl_backend.models.architectures.registry import architecture_spec
    from ldl_backend.models.architectures.spec import ArchitectureSpec
    from ldl_backend.models.catalog import DEFAULT_MODEL, Catalog, CatalogEntry, builtin_catalog
    from ldl_backend.models.descriptor import Architecture, ModelDescriptor
    from ldl_backend.models.detection import ArchitectureRegistry, default_registry
    from ldl_backend.models.formats.pth import WeightsKey
    from ldl_backend.models.loading import LoadedModel, load_model, read_state_dict
    from ldl_backend.models.store import ModelStore

# Imported on first use (see lazy_exports.py).
_EXPORTS = {
    "LdlError": "ldl_backend.errors",
    "ModelFileError": "ldl_backend.errors",
    "UnknownArchitectureError": "ldl_backend.errors",
    "UnsafeModelFileError": "ldl_backend.errors",
    "DEFAULT_MODEL": "ldl_backend.models.catalog",
    "Catalog": "ldl_backend.models.catalog",
    "CatalogEntry": "ldl_backend.models.catalog",
    "builtin_catalog": "ldl_backend.models.catalog",
    "Architecture": "ldl_backend.models.descriptor",
    "ArchitectureSpec": "ldl_backend.models.architectures.spec",
    "architecture_spec": "ldl_backend.models.architectures.registry",
    "ModelDescriptor": "ldl_backend.models.descriptor",
    "ArchitectureRegistry": "ldl_backend.models.detection",
    "default_registry": "ldl_backend.models.detection",
    "WeightsKey": "ldl_backend.models.formats.pth",
    "LoadedModel": "ldl_backend.models.loading",
    "load_model": "ldl_backend.models.loading",
    "read_state_dict": "ldl_backend.models.loading",
    "ModelStore": "ldl_backend.models.store",
}
__getattr__ = lazy_getattr(__name__, _EXPORTS)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL",
    "Architecture",
    "ArchitectureRegistry",
    "ArchitectureSpec",
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
    "architecture_spec",
    "builtin_catalog",
    "default_registry",
    "load_model",
    "read_state_dict",
]
