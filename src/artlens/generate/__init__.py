"""Creative generation: train a small-data GAN on a folder, sample it, and score it.

=====================  ==================================================================================
:mod:`.config`         :class:`GanConfig`, what builds the networks
:mod:`.fastgan`        FastGAN's generator (skip-layer excitation) and self-supervised discriminator
:mod:`.dcgan`          the DCGAN baseline
:mod:`.diffaug`        DiffAugment (colour, translation, cutout)
:mod:`.data`           training images from a folder, made square
:mod:`.model`          the model folder (config + EMA generator weights)
:mod:`.train`          ``train_gan`` on the shared training loop
:mod:`.sample`         ``generate``, ``interpolate``, grids and walks
:mod:`.features`       the feature network the scores use
:mod:`.kid`            KID and the Fréchet distance
:mod:`.copycheck`      nearest training image of each sample
:mod:`.evaluate`       ``evaluate_gan``: the scores together (``artlens.gan-evaluation/1``)
=====================  ==================================================================================
"""

from __future__ import annotations

import sys

from artlens.generate.callable import CallableModule
from artlens.lazy import lazy_exports

# ``artlens.generate(model, n)`` samples a model: the package is callable.
sys.modules[__name__].__class__ = CallableModule

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "GanConfig": "artlens.generate.config",
    "GanDataError": "artlens.generate.errors",
    "GanModel": "artlens.generate.model",
    "GanModelError": "artlens.generate.errors",
    "GanTrainSettings": "artlens.generate.train",
    "KidResult": "artlens.generate.kid",
    "TrainedGan": "artlens.generate.train",
    "evaluate_gan": "artlens.generate.evaluate",
    "frechet_distance": "artlens.generate.kid",
    "generate": "artlens.generate.sample",
    "grid": "artlens.generate.sample",
    "interpolate": "artlens.generate.sample",
    "kernel_inception_distance": "artlens.generate.kid",
    "load_folder": "artlens.generate.data",
    "memorisation": "artlens.generate.copycheck",
    "save_walk": "artlens.generate.sample",
    "score_features": "artlens.generate.evaluate",
    "train_gan": "artlens.generate.train",
})
