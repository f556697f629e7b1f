"""LDL Studio's installer: small idempotent steps behind one command line (``installer/install.py``).

Each step lives in ``installer/steps/``: the private environment with PyTorch and the backend, the default model, the
commands and the app's launcher, the Krita and GIMP plug-ins. What they write is listed in a manifest
(``manifest.py``) that ``--uninstall`` (``uninstall.py``) reads. Standard library only, so it runs before anything is
installed.
"""
