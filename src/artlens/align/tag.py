"""Open-vocabulary tags and zero-shot categories from the aligned embedding.

A tag's score is the calibrated probability (Platt scaling of the cosine, :mod:`artlens.align.heads`) that
its plain text applies to the image, as the scaling was fitted on validation captions (docs/align.md says
how flat the shipped heads' curve is). Zero-shot classification takes a softmax over the labels'
prompt-ensembled embeddings at the learned temperature (CLIP, Radford et al., ICML 2021; LiT, Zhai et al.,
CVPR 2022).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from artlens.align.conse import reweight
from artlens.align.model import PROMPTS, AlignModel, load_align_model
from artlens.errors import ConfigError
from artlens.imageio import collect_inputs

__all__ = ["TAG_SCHEMA", "ZEROSHOT_SCHEMA", "default_vocabulary", "read_vocabulary", "tag_image", "tag_paths",
           "top_tags", "zero_shot_paths", "zero_shot_scores"]

TAG_SCHEMA = "artlens.tag/1"
ZEROSHOT_SCHEMA = "artlens.zeroshot/1"


def _parse(text: str) -> list[str]:
    seen, out = set(), []
    for line in text.splitlines():
        tag = line.split("#", 1)[0].strip()
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            out.append(tag)
    return out


def default_vocabulary() -> list[str]:
    """The shipped tag list (art genres and themes, scenes, things, product categories)."""
    return _parse(resources.files("artlens.align").joinpath("vocab/default.txt").read_text(encoding="utf-8"))


def read_vocabulary(path: str | Path) -> list[str]:
    """Tags from a text file, one per line (``#`` starts a comment); raises ConfigError naming the file."""
    try:
        tags = _parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the tag vocabulary ({exc.__class__.__name__})") from exc
    if not tags:
        raise ConfigError(f"{path}: the tag vocabulary is empty")
    return tags


def _files(paths: Sequence[str | Path]) -> tuple[list[Path], list[dict]]:
    found, errors = collect_inputs([Path(p) for p in paths])
    return list(found), [{"path": str(e.path), "error": str(e)} for e in errors]


def top_tags(model: AlignModel, embeddings: np.ndarray, vocabulary: Sequence[str], top_k: int,
             threshold: float = 0.0) -> list[list[dict]]:
    """For each row of (N, E) image embeddings, the ``top_k`` most probable ``vocabulary`` entries at or
    above ``threshold``, as ``{"tag", "score"}`` records, most probable first."""
    probs = model.tag_probability(embeddings, vocabulary)
    return [[{"tag": vocabulary[j], "score": round(float(row[j]), 4)} for j in np.argsort(-row)[:top_k]
             if row[j] >= threshold] for row in probs]


def tag_image(rgb: np.ndarray, *, top_k: int = 5, vocabulary: Sequence[str] | None = None,
              model: AlignModel | None = None) -> list[dict]:
    """The ``top_k`` tags of one RGB image from ``vocabulary`` (the default one if not given)."""
    model = model or load_align_model()
    vocab = list(vocabulary) if vocabulary is not None else default_vocabulary()
    return top_tags(model, model.embed_images([rgb]), vocab, top_k)[0]


def tag_paths(paths: Sequence[str | Path], *, vocabulary: Sequence[str] | None = None, top_k: int = 5,
              threshold: float = 0.0, model: AlignModel | None = None, progress=None) -> dict:
    """Tags of each image: the ``top_k`` most probable vocabulary entries at or above ``threshold``.

    Returns an ``artlens.tag/1`` report; unreadable files are listed under ``errors``.
    """
    if top_k < 1:
        raise ConfigError(f"--top-k must be at least 1, got {top_k}")
    if not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"--threshold must lie in [0, 1], got {threshold}")
    vocab = list(vocabulary) if vocabulary is not None else default_vocabulary()
    if not vocab:
        raise ConfigError("the tag vocabulary is empty")
    model = model or load_align_model()
    files, errors = _files(paths)
    emb, kept, skipped = model.embed_files(files, progress=progress)
    images = [{"path": str(files[i]), "tags": tags}
              for i, tags in zip(kept, top_tags(model, emb, vocab, top_k, threshold), strict=True)]
    return {"schema": TAG_SCHEMA, "vocabulary_size": len(vocab), "threshold": threshold, "images": images,
            "errors": errors + skipped}


def zero_shot_scores(model: AlignModel, embeddings: np.ndarray, labels: Sequence[str], *,
                     prompts: Sequence[str] = PROMPTS, centre: bool = False) -> np.ndarray:
    """(N, L) softmax probabilities over ``labels`` at the model's learned temperature, with ConSE at the
    heads' ``zero_shot_weight`` when they set one.

    ``centre`` subtracts each label's mean logit over the N images given (class-prior correction: a label
    that every image leans to, as a scene word to a set of scenes, loses that lean). It is transductive
    (the answer for one image depends on the others in the batch) but uses no labels.
    """
    labels_vec = model.embed_labels(labels, prompts)
    config = model.config
    if config.zero_shot_weight is not None:  # ConSE weighted for categories as the recipe chose
        embeddings = reweight(embeddings, config.embed_dim, config.imagenet_weight, config.zero_shot_weight)
        labels_vec = reweight(labels_vec, config.embed_dim, config.imagenet_weight, config.zero_shot_weight)
    logits = embeddings @ labels_vec.T / model.temperature
    if centre and len(logits) > 1:
        logits = logits - logits.mean(0, keepdims=True)
    logits -= logits.max(1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(1, keepdims=True)


def zero_shot_paths(paths: Sequence[str | Path], labels: Sequence[str], *, model: AlignModel | None = None,
                    progress=None) -> dict:
    """Each image's category among ``labels``, from their names alone (an ``artlens.zeroshot/1`` report)."""
    labels = [str(label).strip() for label in labels if str(label).strip()]
    if len(set(labels)) < 2:
        raise ConfigError("zero-shot classification needs at least two different category names")
    model = model or load_align_model()
    files, errors = _files(paths)
    emb, kept, skipped = model.embed_files(files, progress=progress)
    probs = zero_shot_scores(model, emb, labels)
    images = []
    for row, i in enumerate(kept):
        best = int(probs[row].argmax())
        scores = {lab: round(float(p), 4) for lab, p in zip(labels, probs[row], strict=True)}
        images.append({"path": str(files[i]), "label": labels[best],
                       "confidence": round(float(probs[row, best]), 4), "scores": scores})
    return {"schema": ZEROSHOT_SCHEMA, "labels": labels, "images": images, "errors": errors + skipped}
