"""The ``ldl`` subcommands; ``ldl_backend.cli`` builds the parser and wires them."""
