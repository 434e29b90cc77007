"""A GAN model folder: ``config.json`` (:class:`GanConfig`) and ``model.safetensors`` (the generator's
moving-average weights, all that sampling needs)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from artlens.files import atomic_write, atomic_write_text
from artlens.gan.config import GanConfig
from artlens.gan.dcgan import DcganDiscriminator, DcganGenerator
from artlens.gan.errors import GanModelError
from artlens.gan.fastgan import FastGanDiscriminator, FastGanGenerator

__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "GanModel", "build_discriminator", "build_generator"]

CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
SCHEMA = "artlens.gan/1"


def build_generator(config: GanConfig) -> nn.Module:
    """The generator ``config`` describes (fresh weights)."""
    if config.arch == "dcgan":
        return DcganGenerator(config.z_dim, config.width, config.size)
    return FastGanGenerator(config.z_dim, config.width, config.size)


def build_discriminator(config: GanConfig) -> nn.Module:
    """The discriminator ``config`` describes (fresh weights)."""
    if config.arch == "dcgan":
        return DcganDiscriminator(config.width, config.size)
    return FastGanDiscriminator(config.width, config.size)


@dataclass
class GanModel:
    """A trained generator and its config."""

    config: GanConfig
    generator: nn.Module
    folder: Path | None = None

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into ``folder`` (created), each atomically."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous().cpu() for k, v in self.generator.state_dict().items()}
        meta = {"schema": SCHEMA}
        atomic_write(folder / WEIGHTS_FILE, lambda tmp: save_file(state, str(tmp), metadata=meta))
        atomic_write_text(folder / CONFIG_FILE, json.dumps(self.config.to_dict(), indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike[str], device: str | torch.device = "cpu") -> GanModel:
        """Read a model folder; :class:`GanModelError` naming the folder and what is wrong."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        folder = Path(folder)
        config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
        if not config_path.is_file() or not weights_path.is_file():
            raise GanModelError(folder, f"not a GAN model folder (needs {CONFIG_FILE} and {WEIGHTS_FILE}; "
                                        "make one with 'artlens train gan')")
        try:
            data = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise GanModelError(config_path, f"cannot be read ({str(exc)[:120]})") from None
        if not isinstance(data, dict) or data.get("format") != SCHEMA:
            raise GanModelError(config_path, f"not an {SCHEMA} config")
        try:
            config = GanConfig.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise GanModelError(config_path, f"bad config ({str(exc)[:120]})") from None
        net = build_generator(config)
        try:
            net.load_state_dict(load_file(str(weights_path)))
        except (SafetensorError, RuntimeError, OSError) as exc:
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise GanModelError(weights_path, f"weights do not fit the config ({reason})") from None
        net.eval().to(device)
        return cls(config, net, folder)
