"""Where pip takes packages from: its own configuration, plus ``--find-links`` folders and ``--no-index`` (offline
installs and tests: a local folder of wheels stands in for the index). pip's own ``PIP_*`` variables work too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PipSources:
    find_links: tuple[Path, ...] = ()
    no_index: bool = False

    def arguments(self, index_url: str | None = None) -> list[str]:
        """pip options for one install; ``index_url`` replaces PyPI (PyTorch's CPU or CUDA index) unless
        ``no_index``, when only the local folders (and pip's configured ``find-links``) count."""
        options = ["--no-index"] if self.no_index else ["--index-url", index_url] if index_url else []
        for folder in self.find_links:
            options += ["--find-links", str(folder)]
        return options

    def describe(self, index_url: str | None = None) -> str:
        if self.no_index:
            return "from local folders only (--no-index)"
        return f"from {index_url}" if index_url else "from pip's configured index"
