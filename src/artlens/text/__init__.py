"""Literature: train an LSTM (characters or subwords) on a corpus, prompt SmolLM2, write poems, stories,
captions and labels.

``docs/text.md`` describes the models and the commands. The names are re-exported lazily
(:mod:`artlens.lazy`): ``artlens write`` imports what writing needs, not the trainer or ``transformers``.
"""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "COPY_WORDS": "artlens.text.copycheck",
    "CopyIndex": "artlens.text.copycheck",
    "CopyReport": "artlens.text.copycheck",
    "Grounding": "artlens.text.grounding",
    "CharTokens": "artlens.text.tokens",
    "BpeTokens": "artlens.text.tokens",
    "KINDS": "artlens.text.writing",
    "POETRY_RECIPE": "artlens.text.train",
    "PromptedModel": "artlens.text.prompted",
    "RECIPES": "artlens.text.train",
    "SHIPPED_MODEL_DIR": "artlens.text.model",
    "TextConfig": "artlens.text.model",
    "TextCorpusError": "artlens.text.errors",
    "TextModel": "artlens.text.model",
    "TextModelError": "artlens.text.errors",
    "TextTrainSettings": "artlens.text.train",
    "TrainedText": "artlens.text.train",
    "WriteRequest": "artlens.text.writing",
    "build_prompt": "artlens.text.writing",
    "distinct_n": "artlens.text.evaluate",
    "ground_image": "artlens.text.grounding",
    "load_prompted": "artlens.text.prompted",
    "load_split": "artlens.text.train",
    "load_text_model": "artlens.text.model",
    "poetry_lines": "artlens.text.corpus",
    "port_textgenrnn": "artlens.text.textgenrnn",
    "read_corpus": "artlens.text.corpus",
    "read_frame_pickle": "artlens.text.unpickle",
    "sample_stream": "artlens.text.sample",
    "sample_text": "artlens.text.sample",
    "train_bpe": "artlens.text.tokens",
    "train_text": "artlens.text.train",
    "write": "artlens.text.writing",
    "write_stream": "artlens.text.writing",
})
