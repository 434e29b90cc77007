"""Grad-CAM: where in the image a classifier saw the evidence for a class.

For a class ``c`` with logit ``y_c`` and the trunk's last feature maps ``A_k`` (k channels), Grad-CAM weighs
each map by its average gradient, ``alpha_k = mean_ij dy_c / dA_k(i, j)``, and keeps the positive part of
``sum_k alpha_k A_k`` [1]_. With artlens's heads (global average pooling, then a linear layer) this equals the
class activation map of Zhou et al. [2]_, computed here by autograd so it holds for any head.

The map covers the centre crop the classifier sees; :func:`write_grad_cam` draws it over the whole image and
dims what lies outside the crop (over the padded square when the model frames the image so,
:mod:`artlens.classify.framing`).

References
----------
.. [1] R. R. Selvaraju, M. Cogswell, A. Das, R. Vedantam, D. Parikh and D. Batra, "Grad-CAM: Visual
   Explanations from Deep Networks via Gradient-based Localization", ICCV 2017.
.. [2] B. Zhou, A. Khosla, A. Lapedriza, A. Oliva and A. Torralba, "Learning Deep Features for Discriminative
   Localization", CVPR 2016.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from artlens.classify.framing import frame_image
from artlens.classify.model import Classifier
from artlens.errors import ArtlensError, ConfigError
from artlens.imageio import as_rgb_uint8
from artlens.iqa.explain import heatmap_overlay

__all__ = ["crop_box", "grad_cam", "write_grad_cam"]


def crop_box(height: int, width: int, resize: int, crop: int) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` in the original image of the centre crop that the eval transform keeps.

    Mirrors :meth:`artlens.models.backbones.Backbone.preprocess`: shorter side to ``resize``, centre ``crop``.
    """
    if height <= width:
        new_h, new_w = resize, max(resize, int(resize * width / height))
    else:
        new_h, new_w = max(resize, int(resize * height / width)), resize
    top, left = round((new_h - crop) / 2.0), round((new_w - crop) / 2.0)
    sy, sx = height / new_h, width / new_w
    return (round(left * sx), round(top * sy), round((left + crop) * sx), round((top + crop) * sy))


def grad_cam(model: Classifier, rgb: np.ndarray, *, head: str | None = None,
             class_name: str | None = None) -> tuple[np.ndarray, str, float]:
    """Grad-CAM of one image for one class.

    Parameters
    ----------
    model
        A loaded classifier.
    rgb
        (H, W, 3) uint8 RGB image.
    head
        Which head (default: the first).
    class_name
        Which class (default: the predicted one).

    Returns
    -------
    cam, class_name, probability
        ``cam``: (S, S) float32 in [0, 1] over the ``S`` px centre crop (all zeros when nothing speaks for
        the class); the class explained and its calibrated probability.
    """
    heads = list(model.heads)
    name = head or heads[0]
    if name not in model.heads:
        raise ConfigError(f"unknown head {name!r}; the model has {', '.join(heads)}")
    classes = model.heads[name]
    x = model.preprocess([rgb])
    net = model.net
    device = next(net.parameters()).device
    captured: list[torch.Tensor] = []

    def grab(_module: torch.nn.Module, _inputs: object, out: torch.Tensor) -> torch.Tensor:
        out = out.detach().float().requires_grad_(True)  # the last maps, as a leaf the gradient reaches
        captured.append(out)
        return out

    hook = net.trunk.register_forward_hook(grab)
    try:
        with torch.enable_grad():
            logits = net.heads[heads.index(name)](net.pooled(x.to(device, memory_format=torch.channels_last),
                                                             flip=False))
    finally:
        hook.remove()
    maps = captured[-1]
    with torch.enable_grad():
        probs = torch.softmax(logits.detach() / model.temperatures[name], dim=1)[0]
        if class_name is None:
            index = int(probs.argmax())
        elif class_name in classes:
            index = classes.index(class_name)
        else:
            raise ConfigError(f"head {name!r} has no class {class_name!r}")
        logits[0, index].backward()
    alpha = maps.grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((alpha * maps.detach()).sum(dim=1))[0].cpu().numpy()
    side = x.shape[-1]
    cam = cv2.resize(cam, (side, side), interpolation=cv2.INTER_CUBIC)
    cam = np.clip(cam, 0.0, None)
    peak = float(cam.max())
    cam = (cam / peak if peak > 0 else np.zeros_like(cam)).astype(np.float32)
    return cam, classes[index], float(probs[index])


def write_grad_cam(model: Classifier, rgb: np.ndarray, out_path: str | Path, *, head: str | None = None,
                   class_name: str | None = None, alpha: float = 0.5) -> dict:
    """Write the Grad-CAM overlay of one image as a PNG.

    The heat map is drawn on the part of the image the classifier saw (its centre crop), and the rest is
    dimmed; an image the model pads to a square (:mod:`artlens.classify.framing`) is drawn padded, and
    ``crop`` is then in the padded square's pixels.

    Returns
    -------
    dict
        ``{"path", "head", "class", "probability", "crop": [x0, y0, x1, y1]}``.
    """
    img = np.ascontiguousarray(frame_image(as_rgb_uint8(rgb), model.framing))
    h, w = img.shape[:2]
    pre = model.config.get("preprocessing") or {}
    resize = int(pre.get("resize", model.backbone.spec.resize))
    crop = int(pre.get("input_size", model.backbone.spec.input_size))
    cam, label, prob = grad_cam(model, img, head=head, class_name=class_name)
    x0, y0, x1, y1 = crop_box(h, w, resize, crop)
    full = np.zeros((h, w), np.float32)
    full[y0:y1, x0:x1] = cv2.resize(cam, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    overlay = heatmap_overlay(img, 100.0 * (1.0 - full), alpha=alpha)
    outside = np.ones((h, w), bool)
    outside[y0:y1, x0:x1] = False
    overlay[outside] = (img[outside].astype(np.float32) * 0.45).astype(np.uint8)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), cv2.cvtColor(overlay, cv2.COLOR_RGB2BGR)):
        raise ArtlensError(f"{out}: cannot write the Grad-CAM image")
    return {"path": str(out), "head": head or next(iter(model.heads)), "class": label, "probability": prob,
            "crop": [x0, y0, x1, y1]}
