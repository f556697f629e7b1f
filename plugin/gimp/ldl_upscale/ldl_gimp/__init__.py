"""The GIMP 3 plug-in's helpers. Everything here but ``host.py`` and ``dialog.py`` is pure Python (standard library
and the stdlib-only ``ldl_client``), so the unit tests in tests/plugin_gimp run without GIMP.

``ldl_upscale.py`` (the plug-in's entry point, beside this package) puts its own folder first on ``sys.path``:
installed, that folder also holds the installer's copy of ``ldl_client`` and its ``backend.json``; in the repository
``ldl_client`` is the top-level package, the same code.
"""
