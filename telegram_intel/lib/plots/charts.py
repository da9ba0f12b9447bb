"""Small PNG charts embedded in asset metadata as Markdown."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence


def bar_chart_markdown(labels: Sequence[str], values: Sequence[float], *, title: str, max_bars: int = 120) -> str:
    if not values:
        return f"**{title}**: no data"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if len(values) > max_bars:  # keep the picture readable: show the latest bars
        labels, values = labels[-max_bars:], values[-max_bars:]
    fig, ax = plt.subplots(figsize=(8, 2.6), dpi=80)
    ax.bar(range(len(values)), values, color="#4a7ebb")
    step = max(1, len(labels) // 8)
    ax.set_xticks(range(0, len(labels), step), [labels[i] for i in range(0, len(labels), step)],
                  rotation=30, ha="right", fontsize=7)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return f"![{title}](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"
