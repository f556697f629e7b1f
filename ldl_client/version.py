"""The version of the HTTP contract (docs/server-api.md): a server and a client speak to each other only when their
API versions are equal. Raised when a change would break an existing client."""

API_VERSION = 1
