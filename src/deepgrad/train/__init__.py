"""Training: ``fit`` / ``evaluate`` / ``predict``, ``History``, metrics, callbacks, checkpoints.

The explicit PyTorch loop (``zero_grad``, ``backward``, ``step``) is a first-class way to train
deepgrad models; ``fit`` is a short convenience around it (see ``deepgrad/train/fit.py``).
"""

from deepgrad.train.callbacks import (
    Callback,
    EarlyStopping,
    FitState,
    LRSchedulerCallback,
    ModelCheckpoint,
)
from deepgrad.train.checkpoint import (
    CheckpointError,
    atomic_write,
    load_checkpoint,
    load_model,
    load_state_dict,
    save_checkpoint,
    save_model,
    save_state_dict,
)
from deepgrad.train.fit import NonFiniteLossError, as_loader, evaluate, fit, predict
from deepgrad.train.history import History
from deepgrad.train.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    precision_recall,
    predicted_classes,
)

__all__ = [
    "Callback",
    "CheckpointError",
    "EarlyStopping",
    "FitState",
    "History",
    "LRSchedulerCallback",
    "ModelCheckpoint",
    "NonFiniteLossError",
    "accuracy",
    "as_loader",
    "atomic_write",
    "classification_report",
    "confusion_matrix",
    "evaluate",
    "fit",
    "load_checkpoint",
    "load_model",
    "load_state_dict",
    "predict",
    "precision_recall",
    "predicted_classes",
    "save_checkpoint",
    "save_model",
    "save_state_dict",
]
