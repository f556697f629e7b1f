"""LDL Studio's installer: small idempotent steps behind one command line (``installer/install.py``).

Each step lives in ``installer/steps/`` and can run on its own; later steps (the backend, the default model, the
GIMP plug-in) are added there the same way. Standard library only, so it runs before anything is installed.
"""
