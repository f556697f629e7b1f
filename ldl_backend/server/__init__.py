"""The local HTTP backend (``ldl serve``): jobs over HTTP on 127.0.0.1, model work in a worker process.

See docs/server-api.md for the contract; its facts (options, records, raw pixels, discovery, API version) are
defined once, in ``ldl_client``.
"""

from ldl_backend.server.config import ServerConfig
from ldl_backend.server.discovery import discovery_path
from ldl_backend.server.serve import PreparedServer, prepare_server

__all__ = ["PreparedServer", "ServerConfig", "discovery_path", "prepare_server"]
