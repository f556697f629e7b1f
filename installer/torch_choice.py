"""Which PyTorch build to install, and why: the CPU build without an NVIDIA GPU, a CUDA build where ``nvidia-smi``
reports one (the newest CUDA variant the driver runs), PyPI's default build on macOS. Pure functions over what
``nvidia-smi`` printed, so every rule is tested without a GPU; ``detect_gpu`` is the one that runs it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

TORCH_VERSION = "2.13.0"  # the release the project is tested with (scripts/setup.sh); always installed pinned
MINIMUM = (2, 1)  # pyproject.toml's torch>=2.1: an installed PyTorch this old does not fit
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CUDA_INDEX = "https://download.pytorch.org/whl/{variant}"
# PyTorch 2.13's CUDA variants, newest first, with the CUDA version the driver must support.
CUDA_VARIANTS = (("cu130", (13, 0)), ("cu128", (12, 8)), ("cu126", (12, 6)))
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Gpu:
    """What ``nvidia-smi`` reported: the first GPU's name and the highest CUDA version the driver supports."""

    name: str
    cuda: tuple[int, int] | None


@dataclass(frozen=True)
class TorchChoice:
    """``build``: "cpu", a CUDA variant such as "cu128", or "default" (PyPI's own, on macOS); ``index_url``: where
    that build lives (None: pip's configured sources); ``reason``: one line for the user."""

    build: str
    index_url: str | None
    reason: str

    @property
    def wants_cuda(self) -> bool:
        return self.build.startswith("cu")


@dataclass(frozen=True)
class InstalledTorch:
    version: str  # torch.__version__, e.g. "2.13.0+cpu"
    cuda: str | None  # torch.version.cuda: None for a CPU (or macOS) build


def parse_nvidia_smi(output: str) -> Gpu | None:
    """``nvidia-smi``'s table: None when it lists no GPU."""
    names = re.findall(r"^\|\s+\d+\s+(.+?)\s{2,}", output, flags=re.MULTILINE)
    cuda = re.search(r"CUDA Version:\s*(\d+)\.(\d+)", output)
    if not names and not re.search(r"\bGPU\s+\d+:", output):
        return None
    return Gpu(names[0].strip() if names else "NVIDIA GPU", (int(cuda[1]), int(cuda[2])) if cuda else None)


def detect_gpu() -> tuple[Gpu | None, str]:
    """The GPU ``nvidia-smi`` reports, and how that was found out (for the reason line)."""
    program = shutil.which("nvidia-smi")
    if program is None:
        return None, "nvidia-smi not found"
    try:
        done = subprocess.run([program], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"nvidia-smi failed: {e}"
    gpu = parse_nvidia_smi(done.stdout) if done.returncode == 0 else None
    return gpu, "nvidia-smi lists no GPU" if gpu is None else f"nvidia-smi reports {gpu.name}"


def choose_torch(platform: str, device: str, gpu: Gpu | None, found: str) -> TorchChoice:
    """The build for ``platform`` (``sys.platform`` form) and ``--device``; ``found``: how the GPU was looked for.
    Raises ``ValueError`` for ``--device cuda`` on macOS."""
    if platform == "darwin":
        if device == "cuda":
            raise ValueError("PyTorch has no CUDA build for macOS; use --device auto (Metal on Apple silicon)")
        return TorchChoice("default", None, "macOS: PyPI's build (Metal on Apple silicon, CPU on Intel)")
    if device == "cpu":
        return TorchChoice("cpu", CPU_INDEX, "--device cpu")
    if gpu is None and device == "auto":
        return TorchChoice("cpu", CPU_INDEX, f"no NVIDIA GPU ({found})")
    driver = gpu.cuda if gpu else None
    for variant, needs in CUDA_VARIANTS:
        if driver is None or driver >= needs:
            where = f"{gpu.name}, driver for CUDA {driver[0]}.{driver[1]}" if gpu and driver else found
            why = "--device cuda" if device == "cuda" else "an NVIDIA GPU"
            return TorchChoice(variant, CUDA_INDEX.format(variant=variant), f"{why} ({where})")
    oldest = CUDA_VARIANTS[-1][1]
    assert driver is not None
    return TorchChoice(
        "cpu",
        CPU_INDEX,
        f"{gpu.name if gpu else 'the GPU'}'s driver supports CUDA {driver[0]}.{driver[1]}, PyTorch {TORCH_VERSION} "
        f"needs {oldest[0]}.{oldest[1]} or newer (update the NVIDIA driver and run the installer again)",
    )


def fits(installed: InstalledTorch, choice: TorchChoice) -> tuple[bool, str]:
    """Whether an installed PyTorch can stay (so nothing is downloaded again), and why. Any build recent enough runs
    on the CPU; a CUDA build is needed only when one is wanted."""
    numbers = re.match(r"(\d+)\.(\d+)", installed.version)
    if numbers is None or (int(numbers[1]), int(numbers[2])) < MINIMUM:
        return False, f"torch {installed.version} is older than {MINIMUM[0]}.{MINIMUM[1]}"
    if choice.wants_cuda and installed.cuda is None:
        return False, f"torch {installed.version} is a CPU build and a CUDA build is wanted"
    kind = f"CUDA {installed.cuda} build" if installed.cuda else "CPU build" if choice.build == "cpu" else "build"
    return True, f"torch {installed.version} ({kind}) is already installed and fits"
