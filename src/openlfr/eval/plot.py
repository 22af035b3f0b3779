"""DET curves (false-negative vs false-positive rate, log-log) drawn with matplotlib to a PNG file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openlfr.eval.metrics import ErrorCurve
from openlfr.optional import require


def plot_det(curves: dict[str, ErrorCurve], path: Path, *, x_label: str, y_label: str, title: str) -> None:
    matplotlib = require("matplotlib", extra="eval", purpose="drawing a DET plot (--plot)")
    matplotlib.use("Agg")  # no display here or on servers
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 5), dpi=120)
    for name, curve in curves.items():
        # Zero rates cannot sit on a log axis: clip them to the smallest rate the data can resolve.
        rates = np.concatenate([curve.false_accept, curve.false_reject])
        floor = float(rates[rates > 0].min()) / 2 if np.any(rates > 0) else 1e-6
        axes.plot(np.clip(curve.false_accept, floor, 1), np.clip(curve.false_reject, floor, 1), label=name)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
