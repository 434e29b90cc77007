"""Byte-level BPE tokens cover every character exactly; bits per character count every character of the text
once; the subword model trains, saves at half precision with its tokenizer, and old folders still load."""

from __future__ import annotations

import json
import math

import pytest

pytest.importorskip("tokenizers")

from artlens.text import TextModel, TextModelError, TextTrainSettings, load_split, load_text_model, train_text
from artlens.text.tokens import BpeTokens, CharTokens, char_vocabulary, train_bpe

from .conftest import TOY

BPE = TextTrainSettings(epochs=3, steps=10, batch_size=8, window=16, embed=12, hidden=24, layers=1,
                        val_chars=2000, lr=1e-2, tokens="bpe", vocab=300, tie=True, carry=True, float16=True)
ODD = "Ünïcödé — “quotes”, tabs\tand\r\nCRLF, emoji 🌊, a NUL \x00 and Chinese 港口\n\n\n  spaces  "


def test_byte_level_bpe_reproduces_any_text_exactly() -> None:
    tokens = train_bpe(TOY, 300)
    assert tokens.vocab_size == 300
    for text in (TOY[:300], ODD, "", "\n"):
        ids = tokens.encode(text)
        assert tokens.decode(ids) == text
        assert b"".join(tokens.piece(i) for i in ids) == text.encode("utf-8")
    assert tokens.piece(tokens.newline) == b"\n"
    again = BpeTokens.from_json(tokens.to_json())
    assert again.encode(ODD) == tokens.encode(ODD)


def test_a_damaged_tokenizer_is_an_error_message() -> None:
    with pytest.raises(TextModelError, match=r"tok\.json: not a byte-level BPE tokenizer"):
        BpeTokens.from_json("{not json", "tok.json")


def test_char_tokens_map_unknown_characters_to_zero() -> None:
    tokens = CharTokens(char_vocabulary("abca\n", 10))
    assert tokens.encode("abz\n") == [2, 3, 0, 1] and tokens.decode([2, 3, 0, 1]) == "ab\n"


def test_a_subword_model_trains_and_reloads(toy_corpus, tmp_path) -> None:
    result = train_text(toy_corpus, tmp_path / "bpe", settings=BPE)
    assert result.best_epoch >= 1 and result.val_bpc < result.history[0]["val_bpc"] - 0.5
    files = sorted(p.name for p in (tmp_path / "bpe").iterdir())
    assert files == ["checkpoint.pt", "config.json", "model.safetensors", "tokenizer.json"]
    config = json.loads((tmp_path / "bpe" / "config.json").read_text())
    assert config["schema"] == "artlens.text-model/2" and config["tokens"] == "bpe"
    assert config["weights"] == "float16" and config["tie"] is True
    model = load_text_model(tmp_path / "bpe")
    assert not hasattr(model.net.head, "weight")  # tied: the read-out is the embedding
    # stored at half precision: the reloaded model's bpc is the trained one's within rounding
    validation = load_split(toy_corpus).validation
    assert model.bits_per_char(validation) == pytest.approx(result.val_bpc, abs=0.01)


def test_bits_per_char_divide_the_bits_of_every_token_by_every_character(toy_corpus, tmp_path) -> None:
    train_text(toy_corpus, tmp_path / "bpe", settings=BPE)
    model = load_text_model(tmp_path / "bpe")
    text = TOY[:400]
    import torch

    ids = [model.tokens.newline, *model.encode(text)]
    with torch.no_grad():
        logits, _ = model.net(torch.tensor([ids[:-1]]))
        nll = torch.nn.functional.cross_entropy(logits[0], torch.tensor(ids[1:]), reduction="sum")
    assert model.bits_per_char(text, rows=1) == pytest.approx(float(nll) / len(text) / math.log(2), rel=1e-4)
    assert model.bits_per_char(ODD) > 0  # characters never seen in training are still counted


def test_a_first_format_folder_still_loads(tiny_text_model, tmp_path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    config = json.loads((tiny_text_model / "config.json").read_text())
    for key in ("tokens", "vocab", "tie", "weights"):
        config.pop(key)
    config["schema"] = "artlens.text-model/1"
    (old / "config.json").write_text(json.dumps(config))
    (old / "model.safetensors").write_bytes((tiny_text_model / "model.safetensors").read_bytes())
    model = TextModel.load(old)
    assert model.config.tokens == "char" and model.bits_per_char("the sea\n") > 0


def test_a_folder_of_an_unknown_format_or_without_its_tokenizer_is_one_line(toy_corpus, tmp_path) -> None:
    train_text(toy_corpus, tmp_path / "bpe", settings=BPE)
    (tmp_path / "bpe" / "tokenizer.json").unlink()
    with pytest.raises(TextModelError, match=r"tokenizer\.json: cannot be read") as caught:
        TextModel.load(tmp_path / "bpe")
    assert "\n" not in str(caught.value)
    config = tmp_path / "bpe" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "schema": "artlens.text-model/9"}))
    with pytest.raises(TextModelError, match=r"it says 'artlens\.text-model/9'") as caught:
        TextModel.load(tmp_path / "bpe")
    assert "\n" not in str(caught.value)
