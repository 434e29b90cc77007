"""The settings of a GAN: what builds its networks (kept in the model folder's ``config.json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from artlens.errors import ConfigError
from artlens.training.checks import check_positive_integers

__all__ = ["ARCHITECTURES", "SIZES", "GanConfig"]

#: ``fastgan``: Liu et al. (ICLR 2021), light widths; ``dcgan``: Radford et al. (ICLR 2016), the baseline.
ARCHITECTURES = ("fastgan", "dcgan")
SIZES = (32, 64, 128, 256)


@dataclass
class GanConfig:
    """What the generator and discriminator are built from.

    Attributes
    ----------
    arch
        ``fastgan`` or ``dcgan``.
    size
        Image side in pixels (32, 64, 128 or 256).
    z_dim
        Length of the latent vector.
    width
        Base channel count: FastGAN's ``ngf``/``ndf``, DCGAN's ``ngf``/``ndf``.
    training
        What the training run recorded (source, settings, steps, images seen); empty before training.
    """

    arch: str = "fastgan"
    size: int = 64
    z_dim: int = 128
    width: int = 16
    training: dict[str, Any] = field(default_factory=dict)

    def check(self) -> GanConfig:
        if self.arch not in ARCHITECTURES:
            raise ConfigError(f"arch must be one of {', '.join(ARCHITECTURES)}, not {self.arch!r}")
        if self.size not in SIZES:
            raise ConfigError(f"size must be one of {', '.join(map(str, SIZES))}, not {self.size!r}")
        check_positive_integers(self, ("z_dim", "width"))
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"format": "artlens.gan/1", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GanConfig:
        known = {k: data[k] for k in ("arch", "size", "z_dim", "width", "training") if k in data}
        return cls(**known).check()
