"""``artlens train align`` end to end: pairs, the cached image pass, caption embeddings, heads, files."""

from __future__ import annotations

from pathlib import Path

from artlens.align.heads import save_heads
from artlens.align.text import get_text_encoder
from artlens.align.train.features import FeatureCache, build_feature_cache, load_feature_cache
from artlens.align.train.recipe import AlignSettings, collect_pairs, train_heads, training_set
from artlens.models.backbones import one_thread
from artlens.training.progress import Progress

__all__ = ["feature_cache", "train_align"]


def feature_cache(data_root: Path, cache: Path | None = None, *, seed: int = 0, out: Path | None = None,
                  progress: Progress | None = None) -> FeatureCache:
    """The recipe's pairs with their image features: read from ``cache`` when it holds the same pairs,
    else computed once (the slow part; only the images the cache lacks) and written there (or to
    ``out`` when given, leaving ``cache`` as it is)."""
    pairs = collect_pairs(data_root, seed=seed)
    path = cache or data_root / "align-features.npz"
    previous = None
    if path.is_file():
        previous = load_feature_cache(path)
        held = {p.path for p in previous.pairs} | {s["path"] for s in previous.skipped}
        if held == {p.path for p in pairs}:
            by_path = {p.path: p for p in pairs}  # roles follow the current split rule
            previous.pairs = [by_path[p.path] for p in previous.pairs]
            return previous
    return build_feature_cache(pairs, out or path, previous=previous, progress=progress)


def train_align(data_root: Path, out_dir: Path, *, cache: Path | None = None,
                settings: AlignSettings | None = None, progress: Progress | None = None) -> dict:
    """Train the alignment heads on the recipe's pairs and write them to ``out_dir``; returns a summary."""
    settings = settings or AlignSettings()
    feats = feature_cache(data_root, cache, seed=settings.seed, progress=progress)
    colours = feats.colour_words()
    args = (feats.image, feats.pairs, colours, feats.imagenet, feats.categories)
    train = training_set(*args, roles=("train",), imagenet_weak=settings.imagenet_weak)
    val = training_set(*args, roles=("val",))
    encoder = get_text_encoder()
    # one thread: the sums of a product depend on how many threads split it, and the kept epoch (best
    # validation recall of 260 images) on those last digits; on one thread a rerun gives the same bytes
    with one_thread():
        heads, summary = train_heads(train, val, encoder.encode, settings, progress=progress,
                                     checkpoint=out_dir / "checkpoint.pt", imagenet_names=feats.categories)
    save_heads(heads, out_dir)
    (out_dir / "checkpoint.pt").unlink(missing_ok=True)
    return {**summary, "skipped": feats.skipped, "out": str(out_dir)}
