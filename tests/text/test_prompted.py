"""The prompted model on a tiny random Llama (saved locally), and SmolLM2 itself when it resolves offline."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from artlens.text import TextModelError, load_prompted


def test_loads_a_saved_model_and_generates_a_repeatable_batch(tiny_llama) -> None:
    lm = load_prompted(tiny_llama)
    prompt = lm.chat_prompt("a poem about the sea", "be brief")
    assert prompt.startswith("<|im_start|>system\nbe brief") and prompt.endswith("<|im_start|>assistant\n")
    first = lm.generate([prompt, lm.chat_prompt("boats")], max_new_tokens=6, seed=3)
    assert len(first) == 2 and all(isinstance(t, str) for t in first)
    assert first == lm.generate([prompt, lm.chat_prompt("boats")], max_new_tokens=6, seed=3)


def test_streaming_gives_the_text_of_a_one_prompt_batch(tiny_llama) -> None:
    lm = load_prompted(tiny_llama)
    prompt = lm.chat_prompt("the harbour")
    pieces = list(lm.stream(prompt, max_new_tokens=8, seed=5))
    assert "".join(pieces).strip() == lm.generate([prompt], max_new_tokens=8, seed=5)[0]


def test_perplexity_is_finite(tiny_llama) -> None:
    ppl, bpc, tokens = load_prompted(tiny_llama).perplexity("the sea is grey and the harbour sleeps\n" * 3)
    assert tokens > 5 and 1 < ppl < 1e6 and bpc > 0


def test_a_damaged_model_file_is_an_error_message(tmp_path) -> None:
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(TextModelError, match=r"model\.gguf"):
        load_prompted(bad)
    with pytest.raises(TextModelError, match="no such language model"):
        load_prompted(tmp_path / "missing.gguf")


@pytest.mark.slow
@pytest.mark.weights
def test_smollm2_writes_english() -> None:
    from artlens.weights import local_status

    if local_status("smollm2_135m_instruct").state != "verified":
        pytest.skip("SmolLM2-135M-Instruct is not in the weights cache (make weights)")
    lm = load_prompted(allow_download=False)
    prompt = lm.chat_prompt("Write one sentence about a red apple.")
    text = lm.generate([prompt], max_new_tokens=30, seed=0)[0]
    assert len(text.split()) >= 4 and "apple" in text.lower()
