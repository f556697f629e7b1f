"""One module per architecture, each exporting its ``ArchitectureSpec``; ``registry`` lists them and finds them.

Adding an architecture: its bare network in ``ldl_backend/archs``, a module here with its id, detector and spec, and
one entry in ``registry.BUILTIN_SPECS``.
"""
