"""One-off GPU check of artlens's CUDA code paths (run on the lent device; not part of the test suite).

Usage: python scripts/gpu_check.py main|gatys   (PYTHONPATH=src, weights in ARTLENS_WEIGHTS_DIR)
Prints PASS/FAIL lines and CPU vs CUDA timings; writes a JSON summary to $OUT/results-<part>.json.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(os.environ.get("GPUCHECK_WORK", "/tmp/gpucheck"))
OUT = Path(os.environ.get("OUT", "/tmp/gpucheck-out"))
os.environ.setdefault("ARTLENS_OFFLINE", "1")
os.environ.setdefault("ARTLENS_WEIGHTS_DIR", str(ROOT / ".gpuw"))
CUDA = torch.cuda.is_available()
DRY = not CUDA and bool(os.environ.get("GPUCHECK_DRY"))  # logic test on a CPU
GPU = "cuda" if CUDA else "cpu"
sys.path.insert(0, str(ROOT))
from tests.classify.conftest import crops, write_png  # noqa: E402  (the tests' own helpers)
from tests.iqa.conftest import degrade  # noqa: E402
from tests.test_cuda_paths import random_vgg16  # noqa: E402

RESULTS: list[dict] = []
TIMES: list[dict] = []


def record(name: str, ok: bool, detail: str = "") -> None:
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
    RESULTS.append({"name": name, "ok": bool(ok), "detail": detail})


def timing(name: str, cpu_s: float | None, cuda_s: float | None, note: str = "") -> None:
    sp = f" speed-up x{cpu_s / cuda_s:.1f}" if cpu_s and cuda_s else ""
    print(f"TIME {name}: cpu {cpu_s if cpu_s is None else round(cpu_s, 2)} s, "
          f"cuda {cuda_s if cuda_s is None else round(cuda_s, 2)} s{sp} {note}", flush=True)
    TIMES.append({"name": name, "cpu_s": cpu_s, "cuda_s": cuda_s, "note": note})


def guarded(fn):
    def wrapper(*a, **k):
        try:
            return fn(*a, **k)
        except Exception as exc:
            record(fn.__name__, False, f"crashed: {type(exc).__name__}: {exc}".replace("\n", " | ")[:600])
            traceback.print_exc()
            return None
    return wrapper


def use_cache(tag: str) -> None:
    """A separate artlens cache per run, so a CUDA run never reuses features computed on the CPU."""
    path = WORK / f"cache-{tag}"
    path.mkdir(parents=True, exist_ok=True)
    os.environ["ARTLENS_CACHE"] = str(path)


def run_timed(device: str, fn):
    """(result, seconds, peak CUDA bytes) of fn(); the peak is 0 for the CPU."""
    if CUDA:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    t = time.perf_counter()
    out = fn()
    if CUDA:
        torch.cuda.synchronize()
    sec = time.perf_counter() - t
    peak = torch.cuda.max_memory_allocated() - before if CUDA else 0
    return out, sec, peak


def devices_of(module: torch.nn.Module) -> set[str]:
    return {p.device.type for p in module.parameters()} | {b.device.type for b in module.buffers()}


# ------------------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------------------

def photos() -> dict[str, np.ndarray]:
    samples = ROOT / "src" / "artlens" / "samples"
    out = {}
    for name in ("astronaut", "chelsea", "coffee"):
        bgr = cv2.imread(str(samples / f"photo-{name}.jpg"))
        out[name] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return out


def classify_folder(p: dict) -> Path:
    root = WORK / "cls"
    for c, name in enumerate(p):
        for i, img in enumerate(crops(p[name], 16, seed=c, size=160)):
            write_png(root / name / f"{i:02d}.png", img)
    return root


def quality_labels(p: dict) -> Path:
    root = WORK / "qual"
    rng = np.random.default_rng(0)
    srcs = [c for k, photo in enumerate(p.values()) for c in crops(photo, 12, seed=100 + k, size=224)]
    rows = ["path,label"]
    for i, img in enumerate(srcs):
        amount = 0.0 if i % 2 == 0 else 0.6 + 0.4 * rng.random()
        name = f"img/{i:02d}.png"
        write_png(root / name, degrade(img, amount, rng))
        rows.append(f"{name},{'bad' if amount else 'good'}")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root / "labels.csv"


# ------------------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------------------

@guarded
def check_select_device() -> None:
    from artlens.errors import ConfigError
    from artlens.models.backbones import select_device

    auto = select_device()
    ok = auto.type == "cuda" and select_device("cuda:0").type == "cuda" and select_device("cpu").type == "cpu"
    try:
        select_device(f"cuda:{torch.cuda.device_count()}")
        ok = False
    except ConfigError:
        pass
    os.environ["ARTLENS_DEVICE"] = "cpu"
    ok = ok and select_device().type == "cpu"
    del os.environ["ARTLENS_DEVICE"]
    record("select_device", ok, f"auto={auto}, {torch.cuda.get_device_name(0)}, torch {torch.__version__}")


@guarded
def check_backbones(p: dict) -> None:
    from artlens.models.backbones import get_backbone

    imgs = [c for photo in p.values() for c in crops(photo, 8, seed=7, size=300)]
    for name in ("mobilenet_v2", "efficientnet_lite0"):
        res = {}
        for dev in ("cpu", GPU):
            bb = get_backbone(name, device=dev)
            bb.features(imgs[:2])  # warm-up (cuDNN autotune, thread pools)
            feats, sec, peak = run_timed(dev, lambda bb=bb: bb.features(imgs, batch_size=24))
            res[dev] = (feats, sec, peak, devices_of(bb.model))
        a, b = res["cpu"][0], res[GPU][0]
        cos = float(np.min(np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))
        rel = float(np.max(np.abs(a - b)) / np.max(np.abs(a)))
        ok = res[GPU][3] == {GPU} and res[GPU][2] > 0 and cos > 0.999 and np.isfinite(b).all()
        record(f"backbone {name} features cpu vs cuda", ok,
               f"min cosine {cos:.6f}, max rel diff {rel:.2e}, cuda params {res[GPU][3]}, "
               f"peak {res[GPU][2] / 2**20:.0f} MiB")
        timing(f"{name} features, {len(imgs)} images", res["cpu"][1], res[GPU][1])


def _train_cls(ds, out: Path, dev: str, **kw):
    from artlens.classify.train.driver import train_classifier

    use_cache(f"cls-{dev}-{out.name}")
    return run_timed(dev, lambda: train_classifier(ds, out, mode="finetune", epochs=3, batch_size=16,
                                                  device=dev, seed=0, patience=3, **kw))


@guarded
def check_classify_finetune(folder: Path, p: dict) -> None:
    from artlens.classify.data import load_dataset
    from artlens.classify.model import load_classifier

    ds = load_dataset(folder)
    res = {}
    for dev in ("cpu", GPU):
        summary, sec, peak = _train_cls(ds, WORK / f"cls-model-{dev}", dev)
        hist = summary["history"]
        res[dev] = (summary, sec, peak)
        finite = all(h["loss"] is None or np.isfinite(h["loss"]) for h in hist)
        f1 = [h["val_macro_f1"] for h in hist]
        record(f"classify finetune train ({dev})", finite and (dev == "cpu" or peak > 20 * 2**20),
               f"epochs {len(hist) - 1}, val macro-F1 per epoch {f1}, losses "
               f"{[None if h['loss'] is None else round(h['loss'], 4) for h in hist]}, "
               f"peak CUDA {peak / 2**20:.0f} MiB, seconds {summary['seconds']}")
    timing("classify finetune (48 imgs, 3 epochs, unfreeze 3)", res["cpu"][1], res[GPU][1])
    h0c, h0g = res["cpu"][0]["history"][0], res[GPU][0]["history"][0]
    record("classify finetune: linear-probe start agrees cpu vs cuda",
           abs(h0c["val_loss"] - h0g["val_loss"]) < 0.02 * max(1.0, abs(h0c["val_loss"])),
           f"epoch-0 val loss cpu {h0c['val_loss']:.5f} cuda {h0g['val_loss']:.5f}, F1 cpu "
           f"{h0c['val_macro_f1']:.3f} cuda {h0g['val_macro_f1']:.3f}")
    fc = res["cpu"][0]["history"][-1]["val_macro_f1"]
    fg = res[GPU][0]["history"][-1]["val_macro_f1"]
    record("classify finetune: final metrics similar cpu vs cuda", abs(fc - fg) <= 0.15 and fg >= 0.8,
           f"last val macro-F1 cpu {fc:.3f} cuda {fg:.3f}")

    probe = [c for photo in p.values() for c in crops(photo, 6, seed=99, size=200)]
    truth = np.repeat(np.arange(3), 6)
    on_gpu = load_classifier(WORK / f"cls-model-{GPU}", device=GPU)
    on_cpu = load_classifier(WORK / f"cls-model-{GPU}", device="cpu", use_onnx=False)
    cpu_trained = load_classifier(WORK / "cls-model-cpu", device="cpu", use_onnx=False)
    pg, sec_g, peak = run_timed(GPU, lambda: on_gpu.probabilities(probe))
    pc, sec_c, _ = run_timed("cpu", lambda: on_cpu.probabilities(probe))
    pt = cpu_trained.probabilities(probe)
    head = next(iter(pg))
    diff = float(np.max(np.abs(pg[head] - pc[head])))
    agree = float(np.mean(pg[head].argmax(1) == pt[head].argmax(1)))
    acc_g = float(np.mean(pg[head].argmax(1) == truth))
    acc_c = float(np.mean(pt[head].argmax(1) == truth))
    record("classify: CUDA-trained model, same predictions on cpu and cuda",
           devices_of(on_gpu.net) == {GPU} and diff < 0.02 and peak > 0,
           f"max |p_cuda - p_cpu| {diff:.2e}; net on {devices_of(on_gpu.net)}; "
           f"onnx={on_gpu.onnx is not None}")
    record("classify: cpu-trained vs cuda-trained models agree", agree >= 0.8,
           f"top-1 agreement {agree:.2f}; probe accuracy cuda-trained {acc_g:.2f}, cpu-trained {acc_c:.2f}")
    timing(f"classifier predict, {len(probe)} images (torch)", sec_c, sec_g)
    return on_gpu, probe


@guarded
def check_classify_resume(folder: Path) -> None:
    from artlens.classify.data import load_dataset
    from artlens.classify.train.driver import train_classifier

    ds = load_dataset(folder)
    out = WORK / "cls-resume"
    use_cache("cls-resume")

    class Stop(Exception):
        pass

    def progress(event):
        if event.stage == "epoch" and event.done == 2:
            raise Stop

    try:
        train_classifier(ds, out, mode="finetune", epochs=3, batch_size=16, device=GPU, seed=0,
                         progress=progress)
        record("classify finetune resume on cuda", False, "the interrupt did not happen")
        return
    except Stop:
        pass
    from artlens.training import load_checkpoint

    ck = load_checkpoint(out / "checkpoint.pt")
    ck_epoch = ck["run"]["fit"]["epoch"]
    summary = train_classifier(ds, out, mode="finetune", epochs=3, batch_size=16, device=GPU, seed=0,
                               resume=True)
    hist = summary["history"]
    ok = (not (out / "checkpoint.pt").exists() and len(hist) == 4
          and all(h["loss"] is None or np.isfinite(h["loss"]) for h in hist) and ck_epoch == 2)
    record("classify finetune resume on cuda", ok,
           f"interrupted after epoch {ck_epoch}, resumed to {len(hist) - 1} epochs, "
           f"val F1 {[h['val_macro_f1'] for h in hist]}")


@guarded
def check_grad_cam(clf, probe) -> None:
    from artlens.classify.explain import grad_cam

    cam, cls, prob = grad_cam(clf, probe[0])
    ok = np.isfinite(cam).all() and cam.max() <= 1.0 and np.isfinite(prob)
    record("classify Grad-CAM on cuda", ok, f"cam {cam.shape}, class {cls}, p={prob:.3f}")


@guarded
def check_predict_features(clf, probe) -> None:
    """predict_features must not move the model: predict() on images afterwards still works on CUDA."""
    feats = clf.backbone.features(probe[:2])
    clf.predict_features(feats)
    heads_dev = devices_of(clf.net.heads)
    try:
        clf.predict(probe[:2])
        ok, msg = True, "predict() after predict_features() works"
    except RuntimeError as exc:
        ok, msg = False, f"predict() after predict_features() raises {str(exc).splitlines()[0][:160]}"
    record("classify predict_features keeps the model on cuda", ok and heads_dev == {GPU},
           f"heads now on {heads_dev}; {msg}")


@guarded
def check_quality_labels(csv: Path) -> None:
    from artlens.iqa.model import QualityModel
    from artlens.iqa.train.labels import evaluate_model, train_from_labels
    from artlens.models.backbones import get_backbone

    shared = get_backbone("mobilenet_v2", device=GPU)
    before = {k: v.detach().clone() for k, v in shared.trunk.state_dict().items()}
    res = {}
    for dev in ("cpu", GPU):
        use_cache(f"qual-{dev}")
        out = WORK / f"qual-model-{dev}"
        summary, sec, peak = run_timed(dev, lambda dev=dev, out=out: train_from_labels(
            csv, out, finetune=True, epochs=3, device=dev, val_split=0.25, seed=0, batch_size=8))
        m = summary["evaluation"]["metrics"]
        res[dev] = (summary, sec, peak)
        ok = np.isfinite(m["accuracy"]) and (dev == "cpu" or peak > 20 * 2**20)
        record(f"quality --labels --finetune train ({dev})", ok,
               f"holdout accuracy {m['accuracy']:.3f}, roc_auc {m.get('roc_auc')}, macro F1 "
               f"{m['macro']['f1']:.3f}, peak CUDA {peak / 2**20:.0f} MiB, seconds "
               f"{ {k: round(v, 2) for k, v in summary['seconds'].items()} }")
    timing("quality labels finetune (36 imgs, 3 ft epochs, holdout + final)", res["cpu"][1], res[GPU][1])
    ac = res["cpu"][0]["evaluation"]["metrics"]["accuracy"]
    ag = res[GPU][0]["evaluation"]["metrics"]["accuracy"]
    record("quality labels: holdout accuracy similar cpu vs cuda", abs(ac - ag) <= 0.25 and ag >= 0.75,
           f"cpu {ac:.3f} cuda {ag:.3f}")
    after = shared.trunk.state_dict()
    unchanged = all(torch.equal(before[k], after[k]) for k in before)
    frozen = not any(p.requires_grad for p in shared.model.parameters())
    record("quality labels: shared cached backbone untouched by fine-tuning", unchanged and frozen,
           f"weights unchanged {unchanged}, all frozen {frozen}")

    imgs = [cv2.cvtColor(cv2.imread(str(pth)), cv2.COLOR_BGR2RGB)
            for pth in sorted((csv.parent / "img").glob("*.png"))]
    mg = QualityModel.load(WORK / f"qual-model-{GPU}", device=GPU)
    mc = QualityModel.load(WORK / f"qual-model-{GPU}", device="cpu")
    sg, tg, peak = run_timed(GPU, lambda: mg.score(imgs))
    sc, tc, _ = run_timed("cpu", lambda: mc.score(imgs))
    sg, sc = np.asarray(sg, float), np.asarray(sc, float)
    diff = float(np.max(np.abs(sg - sc)))
    record("quality: CUDA fine-tuned model scores the same on cpu and cuda",
           diff < 1.0 and bool(mg.backbone_keys) and devices_of(mg.backbone.trunk) == {GPU}
           and devices_of(mg.head) == {GPU},
           f"max |score diff| {diff:.3f} (0-100), {len(mg.backbone_keys)} fine-tuned tensors, "
           f"trunk on {devices_of(mg.backbone.trunk)}, head on {devices_of(mg.head)}")
    timing(f"quality model score, {len(imgs)} images", tc, tg)
    ev = evaluate_model(WORK / f"qual-model-{GPU}", csv, device=GPU)
    record("quality evaluate_model on cuda", np.isfinite(ev["metrics"]["accuracy"]),
           f"accuracy on the training labels {ev['metrics']['accuracy']:.3f}")


def run_cli(args: list[str], env: dict) -> tuple[int, str, float, int]:
    """Run ``artlens ARGS`` in this process (so the CUDA peak can be read); (code, stdout, s, peak)."""
    from artlens.cli import main

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    buf = io.StringIO()
    sys.argv = ["artlens", *args]
    code = 0
    if CUDA:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    try:
        with contextlib.redirect_stdout(buf):
            main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    sec = time.perf_counter() - t
    peak = torch.cuda.max_memory_allocated() if CUDA else 0
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    return code, buf.getvalue(), sec, peak


@guarded
def check_cli_training(folder: Path, csv: Path) -> None:
    if CUDA:
        torch.cuda.empty_cache()
    code, text, sec, peak = run_cli(["train", "classify", str(folder), "--mode", "finetune", "--epochs", "2",
                                     "-o", str(WORK / "cli-cls"), "--quiet", "--json"],
                                    {"ARTLENS_DEVICE": GPU, "ARTLENS_CACHE": str(WORK / "cache-cli")})
    ok = code == 0 and json.loads(text)["mode"] == "finetune" and peak > 20 * 2**20
    record("CLI artlens train classify --mode finetune (ARTLENS_DEVICE=cuda)", ok,
           f"exit {code}, {sec:.1f} s, CUDA peak {peak / 2**20:.0f} MiB")
    code, text, sec, peak = run_cli(["train", "quality", "--labels", str(csv), "--finetune", "--epochs", "2",
                                     "-o", str(WORK / "cli-qual"), "--quiet", "--json"],
                                    {"ARTLENS_DEVICE": GPU, "ARTLENS_CACHE": str(WORK / "cache-cli")})
    ok = code == 0 and json.loads(text)["settings"]["finetune"] and peak > 20 * 2**20
    record("CLI artlens train quality --labels --finetune (ARTLENS_DEVICE=cuda)", ok,
           f"exit {code}, {sec:.1f} s, CUDA peak {peak / 2**20:.0f} MiB")


@guarded
def check_fast_style(p: dict) -> None:
    import onnxruntime as ort

    from artlens.style import stylize
    from artlens.style.fast import get_stylizer

    content, style = p["chelsea"], p["coffee"]
    outs = {}
    for dev in ("cpu", GPU):
        use_cache(f"style-{dev}")
        stylize(content, style, method="fast", size=256, device=dev)  # warm-up: sessions load
        img, sec, _ = run_timed(dev, lambda dev=dev: stylize(content, style, method="fast", size=512,
                                                            device=dev))
        outs[dev] = (np.asarray(img, np.float32), sec)
    providers = get_stylizer(use_cuda=True)._providers
    diff = float(np.mean(np.abs(outs["cpu"][0] - outs[GPU][0])))
    record("fast style transfer with device=cuda", diff < 1.0,
           f"mean |cpu - cuda| {diff:.3f} (0-255); ORT available providers {ort.get_available_providers()}; "
           f"used {providers}")
    timing("fast stylise 512 px (ONNX Runtime)", outs["cpu"][1], outs[GPU][1],
           "(ORT has no CUDA provider here: both on CPU)" if providers == ["CPUExecutionProvider"] else "")


@guarded
def check_gatys_random(p: dict) -> None:
    """Gatys optimisation with a randomly initialised VGG16 (the HED weights travel in the other part)."""
    from artlens.style.gatys import GatysSettings, optimise

    content = cv2.resize(p["chelsea"], (160, 128), interpolation=cv2.INTER_AREA)
    style = cv2.resize(p["coffee"], (128, 128), interpolation=cv2.INTER_AREA)
    base = random_vgg16()
    s = GatysSettings(scales=(0.5, 1.0), steps=(30, 30), patience=0)
    res = {}
    for dev in ("cpu", GPU):
        enc = base.to(dev)
        r, sec, peak = run_timed(dev, lambda enc=enc: optimise(enc, content, [(style, 1.0)], (128, 160), s,
                                                                seed=0))
        res[dev] = (r, sec, peak)
        base = base.cpu()
    rc, rg = res["cpu"][0], res[GPU][0]
    ok = (np.isfinite(rg.image).all() and np.isfinite(rg.losses["total"]) and res[GPU][2] > 0
          and rg.losses["total"] < 2 * rc.losses["total"] + 1e-9)
    record("gatys optimise (random VGG16) cpu vs cuda", ok,
           f"final loss cpu {rc.losses['total']:.4g} cuda {rg.losses['total']:.4g}; evaluations cpu "
           f"{rc.evaluations} cuda {rg.evaluations}; mean |img diff| "
           f"{float(np.mean(np.abs(rc.image - rg.image))):.4f}; CUDA peak {res[GPU][2] / 2**20:.0f} MiB")
    timing("gatys L-BFGS 60 evals 128x160 (random VGG16)", res["cpu"][1], res[GPU][1])
    enc = base.to(GPU)
    for label, st in (("adam, content_weight=0, tv_weight=0",
                       GatysSettings(scales=(1.0,), steps=(15,), optimizer="adam", content_weight=0.0,
                                     tv_weight=0.0, init="noise", save_every=5)),):
        snaps = []
        r = optimise(enc, content, [(style, 0.5), (p["astronaut"], 0.5)], (128, 160), st, seed=1,
                     snapshot=lambda step, img, snaps=snaps: snaps.append(img.shape))
        record(f"gatys on cuda ({label}, two styles, snapshots)",
               np.isfinite(r.image).all() and np.isfinite(r.losses["total"]) and len(snaps) == 3,
               f"loss {r.losses}, snapshots {snaps}")


@guarded
def check_gatys_real(p: dict) -> None:
    from artlens.style import stylize
    from artlens.style.gatys import GatysSettings

    use_cache("gatys")
    content, style = p["chelsea"], p["coffee"]
    s = GatysSettings(scales=(0.5, 1.0), steps=(40, 30), patience=0)
    outs = {}
    for dev in ("cpu", GPU):
        losses: list = []
        img, sec, peak = run_timed(dev, lambda dev=dev, losses=losses: stylize(
            content, style, method="gatys", size=256, seed=0, settings=s, encoder="vgg16_hed", device=dev,
            progress=lambda stage, step, total, parts: losses.append(parts["total"])))
        outs[dev] = (np.asarray(img, np.float32), sec, peak, losses)
    lc, lg = min(outs["cpu"][3]), min(outs[GPU][3])
    diff = float(np.mean(np.abs(outs["cpu"][0] - outs[GPU][0])))
    ok = (np.isfinite(outs[GPU][0]).all() and outs[GPU][2] > 0 and lg < 1.5 * lc
          and outs[GPU][3][-1] < outs[GPU][3][0])
    record("gatys stylize (HED VGG16 weights) cpu vs cuda", ok,
           f"best loss cpu {lc:.4g} cuda {lg:.4g}; first->last cuda {outs[GPU][3][0]:.4g}->"
           f"{outs[GPU][3][-1]:.4g}; mean |img diff| {diff:.2f}/255; CUDA peak "
           f"{outs[GPU][2] / 2**20:.0f} MiB")
    timing("gatys stylize 256 px, 70 evals (HED VGG16)", outs["cpu"][1], outs[GPU][1])
    # the default schedule at 512 px, CUDA only (the CPU takes minutes)
    img, sec, peak = run_timed(GPU, lambda: stylize(content, style, method="gatys", size=512, seed=0,
                                                       encoder="vgg16_hed", device=GPU))
    record("gatys stylize 512 px default settings on cuda", np.isfinite(np.asarray(img, float)).all(),
           f"{sec:.1f} s, CUDA peak {peak / 2**20:.0f} MiB")
    timing("gatys stylize 512 px, default schedule (HED VGG16)", None, sec)


@guarded
def check_doctor() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("ARTLENS_DEVICE", None)
    r = subprocess.run([sys.executable, "-m", "artlens", "doctor", "--json"], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=120)
    info = json.loads(r.stdout)
    ok = r.returncode == 0 and info["device"] == "cuda" and torch.cuda.get_device_name(0) in info["cuda"]
    env["ARTLENS_DEVICE"] = "cpu"
    r2 = subprocess.run([sys.executable, "-m", "artlens", "doctor", "--json"], capture_output=True, text=True,
                        env=env, cwd=ROOT, timeout=120)
    ok2 = r2.returncode == 0 and json.loads(r2.stdout)["device"] == "cpu"
    env.pop("ARTLENS_DEVICE")
    r3 = subprocess.run([sys.executable, "-m", "artlens", "doctor"], capture_output=True, text=True, env=env,
                        cwd=ROOT, timeout=120)
    print(r3.stdout[-3000:])
    states = {w["name"]: w["state"] for w in info["weights"]}
    record("artlens doctor", ok and ok2 and r3.returncode == 0,
           f"device {info['device']!r}, cuda {info['cuda']!r}, ARTLENS_DEVICE=cpu -> cpu: {ok2}; "
           f"weights {states}")


@guarded
def check_assess() -> None:
    """The default quality model through ``artlens assess`` on CPU and CUDA (report only)."""
    samples = sorted(str(x) for x in (ROOT / "src" / "artlens" / "samples").glob("*.jpg"))
    scores = {}
    secs = {}
    for dev in ("cpu", GPU):
        env = dict(os.environ, ARTLENS_DEVICE=dev, ARTLENS_CACHE=str(WORK / f"cache-assess-{dev}"),
                   PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "artlens", "assess", *samples, "--json"],
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        secs[dev] = time.perf_counter() - t
        if r.returncode not in (0, 1):
            raise RuntimeError(f"assess on {dev} exit {r.returncode}: {r.stderr[-800:]}")
        scores[dev] = np.array([im["scores"]["quality"] for im in json.loads(r.stdout)["images"]], float)
    diff = float(np.max(np.abs(scores["cpu"] - scores[GPU])))
    record("artlens assess default model cpu vs cuda", diff <= 1.0,
           f"quality scores cpu {scores['cpu'].tolist()} cuda {scores[GPU].tolist()} (max diff {diff:.2f})")
    timing(f"artlens assess {len(samples)} samples (subprocess, incl. start-up)", secs["cpu"], secs[GPU])


def main() -> None:
    part = sys.argv[1] if len(sys.argv) > 1 else "main"
    WORK.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"torch {torch.__version__}, cuda {torch.version.cuda}, available {CUDA}, "
          f"threads {torch.get_num_threads()}, cudnn.allow_tf32 {torch.backends.cudnn.allow_tf32}, "
          f"matmul tf32 {torch.backends.cuda.matmul.allow_tf32}", flush=True)
    if not CUDA and not DRY:
        record("cuda available", False, "no CUDA device: nothing to check")
    else:
        p = photos()
        if part == "main":
            if not DRY:
                check_select_device()
                check_doctor()
            check_backbones(p)
            folder = classify_folder(p)
            got = check_classify_finetune(folder, p)
            if got:
                check_grad_cam(*got)
                check_predict_features(*got)
            check_classify_resume(folder)
            csv = quality_labels(p)
            check_quality_labels(csv)
            check_cli_training(folder, csv)
            check_fast_style(p)
            check_gatys_random(p)
            check_assess()
        else:
            check_gatys_real(p)
    n_fail = sum(not r["ok"] for r in RESULTS)
    print(f"SUMMARY {part}: {len(RESULTS) - n_fail} PASS, {n_fail} FAIL", flush=True)
    (OUT / f"results-{part}.json").write_text(json.dumps({"results": RESULTS, "times": TIMES}, indent=1))


if __name__ == "__main__":
    main()
