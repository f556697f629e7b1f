"""Code under ``krita/`` runs inside a real Krita (its own Python, PyQt5 and ``krita`` module), started by
tests/plugin/test_krita_host.py: the normal suite must not collect it."""

collect_ignore = ["krita"]
