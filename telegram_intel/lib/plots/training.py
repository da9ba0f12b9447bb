"""Charts for the persona-training assets (loss curves), embedded in metadata as Markdown PNGs."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence


def line_chart_markdown(series: Mapping[str, Sequence[float]], *, title: str, xlabel: str = "step",
                        ylabel: str = "", max_points: int = 2000) -> str:
    """One line per series (e.g. ``{"train loss": [...]}``); long series are thinned to ``max_points``."""
    series = {k: list(v) for k, v in series.items() if len(v)}
    if not series:
        return f"**{title}**: no data"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 2.8), dpi=80)
    for name, ys in series.items():
        step = max(1, len(ys) // max_points)
        xs = list(range(1, len(ys) + 1))[::step]
        ax.plot(xs, ys[::step], label=name, linewidth=1.2)
    ax.set_xlabel(xlabel, fontsize=8)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return f"![{title}](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"


def smooth(values: Sequence[float], window: int = 10) -> list[float]:
    """Trailing moving average (what a reader wants to see of a noisy per-step loss)."""
    out, acc = [], 0.0
    for i, v in enumerate(values):
        acc += v
        if i >= window:
            acc -= values[i - window]
        out.append(acc / min(i + 1, window))
    return out
