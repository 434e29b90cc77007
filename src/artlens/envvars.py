"""The environment variables artlens reads, in one place: ``artlens --help`` and the README list them from
here, and a test checks that every variable the source reads is listed."""

from __future__ import annotations

__all__ = ["ENVIRONMENT"]

#: name -> what it changes (one line each)
ENVIRONMENT: dict[str, str] = {
    "ARTLENS_CACHE": "cache folder: weights, the results database, style vectors (default "
                     "$XDG_CACHE_HOME/artlens, else ~/.cache/artlens)",
    "XDG_CACHE_HOME": "base of the default cache folders (artlens's and torch's)",
    "ARTLENS_WEIGHTS_DIR": "a folder searched first for weight files (by file name; hashes still checked)",
    "TORCH_HOME": "torch's own cache; its hub/checkpoints folder is searched for weight files",
    "ARTLENS_OFFLINE": "1: never download weights (only local copies are used)",
    "ARTLENS_DEVICE": "cpu, cuda, cuda:N, mps or auto (default auto: CUDA when present)",
    "ARTLENS_THREADS": "PyTorch threads (default: the physical cores)",
    "ARTLENS_ONNX": "0: run the quality model's trunk in PyTorch instead of ONNX Runtime",
    "ARTLENS_RATE_PER_KEY": "artlens serve --rate-per-key",
    "ARTLENS_RATE_PER_ADDRESS": "artlens serve --rate-per-address",
    "ARTLENS_AUTH_FAILURES_PER_MINUTE": "artlens serve --auth-failures-per-minute",
    "ARTLENS_MAX_PARALLEL_UPLOADS": "artlens serve --max-parallel-uploads",
}
