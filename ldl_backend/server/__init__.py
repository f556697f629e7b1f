"""The local HTTP backend (``ldl serve``): jobs over HTTP on 127.0.0.1, model work in a worker process.

See docs/server-api.md for the contract.
"""

from ldl_backend.server.config import API_VERSION, ServerConfig
from ldl_backend.server.discovery import Discovery, discovery_path, read_discovery
from ldl_backend.server.serve import PreparedServer, prepare_server

__all__ = [
    "API_VERSION",
    "Discovery",
    "PreparedServer",
    "ServerConfig",
    "discovery_path",
    "prepare_server",
    "read_discovery",
]
