"""Seeing inside models: autograd graph drawings, model summaries, and the training plots.

* :func:`draw_graph`, :func:`retain_grads`, :func:`track_modules` (``deepgrad.viz.graph``):
  the computational graph with values forward and gradients back;
* :func:`summary` (``deepgrad.utils.summary``, also ``deepgrad.summary``): layers, output
  shapes, parameter counts;
* the plots of ``deepgrad.viz.plots`` (learning curves, decision boundaries, confusion
  matrices, softmax weights, misclassified images), loaded on first use so that importing
  ``deepgrad.viz`` does not import matplotlib.
"""

from deepgrad.utils.summary import LayerRow, ModelSummary, summary
from deepgrad.viz.graph import GraphDrawing, Node, draw_graph, retain_grads, track_modules

_PLOTS = (
    "new_figure",
    "save_figure",
    "plot_learning_curves",
    "plot_decision_boundary",
    "plot_confusion_matrix",
    "plot_softmax_weights",
    "plot_misclassified",
)


def __getattr__(name):
    if name == "plots" or name in _PLOTS:
        import importlib

        plots = importlib.import_module("deepgrad.viz.plots")
        globals()["plots"] = plots
        if name == "plots":
            return plots
        if hasattr(plots, name):
            value = getattr(plots, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module 'deepgrad.viz' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PLOTS) | {"plots"})


__all__ = [
    "GraphDrawing",
    "LayerRow",
    "ModelSummary",
    "Node",
    "draw_graph",
    "retain_grads",
    "summary",
    "track_modules",
    *_PLOTS,
]
