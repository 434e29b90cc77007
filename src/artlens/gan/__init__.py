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
:mod:`.manifold`       improved precision and recall (realism and variety apart)
:mod:`.evaluate`       ``evaluate_gan``: the scores together (``artlens.gan-evaluation/1``)
=====================  ==================================================================================
"""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "GanConfig": "artlens.gan.config",
    "GanDataError": "artlens.gan.errors",
    "GanModel": "artlens.gan.model",
    "GanModelError": "artlens.gan.errors",
    "GanTrainSettings": "artlens.gan.train",
    "KidResult": "artlens.gan.kid",
    "TrainedGan": "artlens.gan.train",
    "evaluate_gan": "artlens.gan.evaluate",
    "frechet_distance": "artlens.gan.kid",
    "generate": "artlens.gan.sample",
    "grid": "artlens.gan.sample",
    "interpolate": "artlens.gan.sample",
    "kernel_inception_distance": "artlens.gan.kid",
    "load_folder": "artlens.gan.data",
    "memorisation": "artlens.gan.copycheck",
    "precision_recall": "artlens.gan.manifold",
    "save_walk": "artlens.gan.sample",
    "score_features": "artlens.gan.evaluate",
    "train_gan": "artlens.gan.train",
})
