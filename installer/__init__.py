"""LDL Studio's installer: small idempotent steps behind one command line (``installer/install.py``).

Each step lives in ``installer/steps/`` and can run on its own (today the Krita and GIMP plug-ins); later steps (the
backend, the default model) are added there the same way. Standard library only, so it runs before anything is
installed.
"""
