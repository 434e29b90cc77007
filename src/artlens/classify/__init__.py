"""Image classifiers by transfer learning: datasets, models, prediction, evaluation, explanations and export.
Training lives in :mod:`artlens.classify.train`."""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "CONFIG_FILE": "artlens.classify.model",
    "Classifier": "artlens.classify.model",
    "ClassifierNet": "artlens.classify.model",
    "Dataset": "artlens.classify.data",
    "FOLDER_HEAD": "artlens.classify.data",
    "IN_DOMAIN_SHARE": "artlens.classify.unknown",
    "MODES": "artlens.classify.model",
    "ONNX_FILE": "artlens.classify.model",
    "OPSET": "artlens.classify.export",
    "REPORT_SCHEMA": "artlens.classify.predict",
    "SCHEMA": "artlens.classify.model",
    "UnknownRule": "artlens.classify.unknown",
    "WEIGHTS_FILE": "artlens.classify.model",
    "classify_paths": "artlens.classify.predict",
    "crop_box": "artlens.classify.explain",
    "domain_scores": "artlens.classify.unknown",
    "domain_threshold": "artlens.classify.unknown",
    "embed_paths": "artlens.classify.features",
    "evaluate_classifier": "artlens.classify.evaluate",
    "export_onnx": "artlens.classify.export",
    "feature_cache_dir": "artlens.classify.features",
    "grad_cam": "artlens.classify.explain",
    "load_classifier": "artlens.classify.model",
    "load_dataset": "artlens.classify.data",
    "load_report_schema": "artlens.classify.predict",
    "onnx_parity": "artlens.classify.export",
    "preprocessing_of": "artlens.classify.model",
    "save_model": "artlens.classify.model",
    "write_csv": "artlens.classify.predict",
    "write_grad_cam": "artlens.classify.explain",
    "write_json": "artlens.classify.predict",
    "write_misclassified_html": "artlens.classify.evaluate",
})
