"""SwinIR's hyper-parameters: the typed, validated configuration ``SwinIR`` is built from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum


class Upsampler(str, Enum):
    PIXELSHUFFLE = "pixelshuffle"  # classical SR
    NEAREST_CONV = "nearest+conv"  # real-world SR (LDL's SwinIR models): fewer checkerboard artifacts
    PIXELSHUFFLE_DIRECT = "pixelshuffledirect"  # lightweight SR: one conv + one pixel shuffle
    NONE = ""  # scale 1: denoising and JPEG artifact removal, output = input + residual


@dataclass(frozen=True)
class SwinIRConfig:
    """Hyper-parameters of a SwinIR network, all recoverable from the weights (see ``detect_swinir``).

    ``img_size`` is the training patch size: it only shapes ``absolute_pos_embed`` (when ``ape``) and does not
    matter at inference otherwise. ``num_feat`` is the width of the pixelshuffle and nearest+conv upsamplers
    (unused by the others). ``img_range`` scales the input after mean subtraction (1, or 255 for JPEG models).
    """

    in_channels: int = 3
    out_channels: int = 3
    scale: int = 4
    upsampler: Upsampler = Upsampler.NEAREST_CONV
    img_size: int = 64
    patch_size: int = 1
    window_size: int = 8
    embed_dim: int = 180
    depths: tuple[int, ...] = (6,) * 6
    num_heads: tuple[int, ...] = (6,) * 6
    mlp_ratio: float = 2.0
    resi_connection: str = "1conv"
    img_range: float = 1.0
    num_feat: int = 64
    qkv_bias: bool = True
    ape: bool = False
    patch_norm: bool = True

    def __post_init__(self) -> None:
        # Accept the plain values a config file holds ("nearest+conv", lists); store the typed forms.
        if self.upsampler not in {u.value for u in Upsampler}:
            choices = ", ".join(repr(u.value) for u in Upsampler)
            raise ValueError(f"SwinIR upsampler must be one of {choices}, not {self.upsampler!r}")
        object.__setattr__(self, "upsampler", Upsampler(self.upsampler))
        object.__setattr__(self, "depths", tuple(self.depths))
        object.__setattr__(self, "num_heads", tuple(self.num_heads))
        problem = next(self._problems(), None)
        if problem is not None:
            raise ValueError(f"SwinIR {problem}")

    def _problems(self) -> Iterator[str]:
        """What is wrong with this config, first problem first (later checks may assume earlier ones)."""
        for name in ("in_channels", "out_channels", "embed_dim", "num_feat", "window_size", "img_size"):
            if getattr(self, name) < 1:
                yield f"{name} must be at least 1, not {getattr(self, name)}"
        scale, kind = self.scale, self.upsampler
        if kind is Upsampler.NONE and scale != 1:
            yield f"without an upsampler has scale 1, not {scale}"
        if kind is Upsampler.NEAREST_CONV and scale not in (2, 4):
            # Official code: ×4 only (two nearest ×2 steps); ×2 variants in the wild drop conv_up2.
            yield f"nearest+conv supports scale 2 or 4, not {scale}"
        if kind is Upsampler.PIXELSHUFFLE and not (scale == 3 or (scale >= 2 and scale & (scale - 1) == 0)):
            yield f"pixelshuffle supports scale 3 or a power of 2 (2, 4, 8), not {scale}"
        if kind is Upsampler.PIXELSHUFFLE_DIRECT and not 2 <= scale <= 8:
            yield f"pixelshuffledirect supports scales 2 to 8, not {scale}"
        if kind in (Upsampler.NONE, Upsampler.PIXELSHUFFLE_DIRECT) and self.in_channels != self.out_channels:
            # NONE adds the input to the output; DIRECT's one conv mixes channels and scale, so weights with
            # out != in could not say which is which.
            yield f"with upsampler {kind.value!r} needs in_channels == out_channels"
        if self.patch_size != 1:
            yield "patch_size must be 1: the official patch embedding never merges pixels"
        if not self.depths or len(self.depths) != len(self.num_heads):
            yield f"depths {self.depths} and num_heads {self.num_heads} must be non-empty and of equal length"
        elif min(self.depths) < 1 or min(self.num_heads) < 1:
            yield "depths and num_heads must all be at least 1"
        elif any(self.embed_dim % heads for heads in self.num_heads):
            yield f"embed_dim {self.embed_dim} must be divisible by every num_heads {self.num_heads}"
        if self.mlp_ratio <= 0 or abs(self.mlp_hidden - self.embed_dim * self.mlp_ratio) > 1e-6:
            yield f"mlp_ratio {self.mlp_ratio} × embed_dim {self.embed_dim} must be a positive whole number"
        if self.resi_connection not in ("1conv", "3conv"):
            yield f"resi_connection must be '1conv' or '3conv', not {self.resi_connection!r}"
        if self.resi_connection == "3conv" and self.embed_dim < 4:
            yield "with 3conv needs embed_dim >= 4 (it narrows to embed_dim // 4)"
        if self.img_size <= self.window_size:
            # The official code would silently shrink the window to img_size and stop shifting.
            yield f"img_size {self.img_size} must exceed window_size {self.window_size}"
        if not self.img_range > 0:
            yield f"img_range must be positive, not {self.img_range}"

    @property
    def mlp_hidden(self) -> int:
        return round(self.embed_dim * self.mlp_ratio)

    @property
    def shift_size(self) -> int:
        return self.window_size // 2

    @property
    def size_multiple(self) -> int:
        """The network pads to this multiple itself; tiles that already are multiples skip that padding."""
        return self.window_size

    @property
    def receptive_field(self) -> int:
        """Theoretical receptive-field radius in input pixels (an estimate, not exact).

        Each transformer block mixes tokens inside one window, and consecutive blocks move the window grid by
        half a window, so information travels up to about ``window_size`` pixels per block. The 3×3 convs add
        one pixel each at input resolution (conv_first, one per RSTB and conv_after_body, two for 3conv), plus
        up to two for the reconstruction (its high-resolution convs add under one input pixel). For official
        models this exceeds any tile (36 blocks × 8 px), so tiled SwinIR output is approximate; the effective
        field is much smaller, which is what the engine's overlap relies on.
        """
        per_conv_block = 2 if self.resi_connection == "3conv" else 1
        convs = 1 + per_conv_block * (len(self.depths) + 1)
        convs += 2 if self.upsampler in (Upsampler.PIXELSHUFFLE, Upsampler.NEAREST_CONV) else 1
        return sum(self.depths) * self.window_size + convs
