"""Fixtures of the text tests: a toy corpus, a tiny trained char-LSTM, a tiny random Llama and its
tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest

TOY = ("the sea is grey and the harbour sleeps\n"
       "the boats are still beneath the autumn sky\n"
       "a gull is crying over the stones\n"
       "and the light goes down on the water\n\n") * 40


@pytest.fixture
def toy_corpus(tmp_path) -> Path:
    path = tmp_path / "poems.txt"
    path.write_text(TOY, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_text_model(tmp_path_factory) -> Path:
    """A char-LSTM trained for a few steps on the toy corpus (session-wide: it is read only)."""
    from artlens.text import TextTrainSettings, train_text

    folder = tmp_path_factory.mktemp("text") / "toy.txt"
    folder.write_text(TOY, encoding="utf-8")
    out = folder.parent / "model"
    settings = TextTrainSettings(epochs=2, steps=8, batch_size=8, window=24, embed=8, hidden=24, layers=1,
                                 val_chars=2000)
    train_text(folder, out, settings=settings)
    return out


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> Path:
    """A random 2-layer Llama with a byte-level BPE tokenizer and a ChatML template, saved with
    ``save_pretrained`` (so no test needs SmolLM2's 98 MB file)."""
    pytest.importorskip("transformers")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("llama")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300,
                                  special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([TOY], trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   bos_token="<|im_start|>")
    fast.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    fast.save_pretrained(folder)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
                         bos_token_id=fast.bos_token_id)
    import torch

    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder
