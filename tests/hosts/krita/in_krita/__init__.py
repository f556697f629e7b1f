"""Tests that run inside a real Krita (see tests/plugin/test_krita_host.py)."""
