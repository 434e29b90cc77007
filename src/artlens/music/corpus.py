"""The corpora bundled with music21, read once and cached, and their fixed train/validation/test split.

``bach``: the four-part chorales of J. S. Bach in music21's corpus (MusicXML encodings credited to Margaret
Greentree, jsbchorales.net; see ``docs/data.md`` for the licence). ``folk``: the 1,059 fiddle tunes of
*Ryan's Mammoth Collection* (1883) in ABC, a monophonic corpus. The Essen folk-song collection that music21
also carries is never used: its licence forbids commercial use.

Reading a corpus with music21 takes minutes, so the pieces are cached as JSON under the artlens cache
(``music/<corpus>-<music21 version>-v<format>.json``); a damaged cache file is read again from the corpus.
The split is fixed by a hash of each piece's group (a chorale and its variants, ``bwv248.9-1`` and
``bwv248.9-s``, form one group), so it never depends on file order, machine or seed: 80 % train, 10 %
validation, 10 % test.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from artlens.music.errors import MusicFileError
from artlens.music.piece import Piece
from artlens.music.read import music21, read_piece, select_voices
from artlens.weights import cache_dir

__all__ = ["CORPORA", "Corpus", "corpus_files", "load_corpus", "split_of"]

log = logging.getLogger("artlens.music")

_FORMAT = 1
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Corpus:
    """A named corpus: where its files are in music21's corpus and how many voices its pieces have."""

    name: str
    folder: str
    suffixes: tuple[str, ...]
    voices: int
    description: str


CORPORA = {
    "bach": Corpus("bach", "bach", (".mxl", ".xml", ".krn"), 4,
                   "J. S. Bach's four-part chorales (music21 corpus)"),
    "folk": Corpus("folk", "ryansMammoth", (".abc",), 1,
                   "fiddle tunes of Ryan's Mammoth Collection, 1883 (music21 corpus, ABC)"),
}


def _corpus(name: str) -> Corpus:
    try:
        return CORPORA[name]
    except KeyError:
        raise MusicFileError(name, f"unknown corpus; known: {', '.join(sorted(CORPORA))}") from None


def corpus_files(name: str) -> list[Path]:
    """The files of a bundled corpus, one per work (a MusicXML file is preferred to a Humdrum copy)."""
    corpus = _corpus(name)
    m21 = music21()
    root = Path(m21.__file__).parent / "corpus" / corpus.folder
    if not root.is_dir():
        raise MusicFileError(root, "music21 was installed without its corpus (reinstall music21)")
    chosen: dict[str, Path] = {}
    for path in sorted(root.iterdir()):
        if path.suffix.lower() in corpus.suffixes and path.is_file():
            best = chosen.get(path.stem)
            rank = corpus.suffixes.index(path.suffix.lower())
            if best is None or rank < corpus.suffixes.index(best.suffix.lower()):
                chosen[path.stem] = path
    return [chosen[stem] for stem in sorted(chosen)]


def group_of(title: str) -> str:
    """The split group of a piece: its file stem up to the first ``-`` (variants share one)."""
    return title.split("-", 1)[0].strip().lower()


def split_of(title: str) -> str:
    """``train``, ``validation`` or ``test`` for a piece, from a hash of its group."""
    bucket = int(hashlib.sha256(group_of(title).encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"


def _cache_path(name: str) -> Path:
    version = music21().__version__
    return cache_dir() / "music" / f"{name}-{version}-v{_FORMAT}.json"


def load_corpus(name: str, *, on_error: Callable[[MusicFileError], None] | None = None,
                progress: Callable[[int, int], None] | None = None,
                use_cache: bool = True) -> dict[str, list[Piece]]:
    """The pieces of a bundled corpus by split (``train``, ``validation``, ``test``), keys as written.

    Files that cannot be used (wrong number of parts, a time-signature change, ...) are passed to
    ``on_error`` one each, the first time the corpus is read; they are left out of the cache.
    """
    corpus = _corpus(name)
    cache = _cache_path(name)
    pieces: list[Piece] | None = None
    if use_cache and cache.is_file():
        try:
            pieces = [Piece.from_dict(d) for d in json.loads(cache.read_text(encoding="utf-8"))["pieces"]]
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            log.warning("music corpus cache %s is damaged; reading the corpus again", cache)
            pieces = None
    if pieces is None:
        files = corpus_files(name)
        pieces = []
        for index, path in enumerate(files):
            try:
                for piece in read_piece(path):
                    piece = select_voices(piece, corpus.voices)
                    piece.title = path.stem
                    pieces.append(piece)
            except MusicFileError as exc:
                if on_error is not None:
                    on_error(exc)
            except ValueError as exc:
                if on_error is not None:
                    on_error(MusicFileError(path, str(exc)))
            if progress is not None:
                progress(index + 1, len(files))
        if use_cache:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"corpus": name, "pieces": [p.to_dict() for p in pieces]}),
                           encoding="utf-8")
            os.replace(tmp, cache)
    split: dict[str, list[Piece]] = {s: [] for s in SPLITS}
    for piece in pieces:
        split[split_of(piece.title)].append(piece)
    return split
