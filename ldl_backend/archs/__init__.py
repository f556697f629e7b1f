"""Bare generator networks with the official state-dict layouts. Each module documents its input contract."""

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.archs.srvgg import SRVGGNetCompact, SRVGGNetCompactConfig
from ldl_backend.archs.swinir import SwinIR, SwinIRConfig

__all__ = ["RRDBNet", "RRDBNetConfig", "SRVGGNetCompact", "SRVGGNetCompactConfig", "SwinIR", "SwinIRConfig"]
