"""Code under ``krita/`` and ``gimp/`` runs inside a real Krita or GIMP (their own Pythons and host modules), started
by tests/plugin/test_krita_host.py and tests/plugin/test_gimp_host.py: the normal suite must not collect it."""

collect_ignore = ["krita", "gimp"]
