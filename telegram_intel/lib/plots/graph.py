"""Charts for the graph and statistics assets, embedded in asset metadata as Markdown PNGs.

No network layout library: ``spring_layout`` is a small Fruchterman–Reingold in numpy, seeded so the same graph
gives the same picture.
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

KIND_COLORS = {
    "user": "#4a7ebb",
    "person": "#7fb3e6",
    "topic": "#e39c3b",
    "organization": "#5aa469",
    "project": "#b5579a",
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _clean(label: object, limit: int = 32) -> str:
    """A label the default font can draw: emoji (flags in chat titles) dropped, spaces collapsed, shortened."""
    text = "".join(c for c in str(label) if ord(c) <= 0xFFFF and not 0x2600 <= ord(c) <= 0x27BF)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _markdown(fig, title: str) -> str:
    plt = _pyplot()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.tight_layout()
        fig.savefig(buf, format="png")
    plt.close(fig)
    return f"![{title}](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float):
            v = f"{v:.3g}"
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def spring_layout(n: int, edges: Sequence[tuple[int, int, float]], *, iterations: int = 200,
                  seed: int = 7) -> np.ndarray:
    """Positions (n × 2, within [-1, 1]) by Fruchterman–Reingold: edges pull with their weight, all nodes repel."""
    if n == 0:
        return np.zeros((0, 2))
    rng = np.random.default_rng(seed)
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pos = np.c_[np.cos(angle), np.sin(angle)] + rng.normal(scale=0.05, size=(n, 2))
    if n == 1:
        return np.zeros((1, 2))
    w = np.zeros((n, n))
    for a, b, weight in edges:
        if a != b:
            w[a, b] += weight
            w[b, a] += weight
    if w.max() > 0:
        w = w / w.max()
    k = np.sqrt(4.0 / n)
    temp = 0.2
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.linalg.norm(delta, axis=-1)
        np.fill_diagonal(dist, 1.0)
        dist = np.maximum(dist, 1e-3)
        repulse = (k * k / dist**2)[:, :, None] * delta
        attract = (w * dist / k)[:, :, None] * delta
        disp = (repulse - attract).sum(axis=1)
        length = np.maximum(np.linalg.norm(disp, axis=1), 1e-9)
        pos += disp / length[:, None] * np.minimum(length, temp)[:, None]
        pos -= pos.mean(axis=0)
        temp = max(temp * 0.98, 0.005)
    span = np.abs(pos).max()
    return pos / span if span > 0 else pos


def graph_picture_markdown(
    nodes: Sequence[Mapping[str, object]],
    edges: Sequence[tuple[int, int, float, str]],
    *,
    title: str,
) -> str:
    """``nodes``: dicts with ``label``, ``kind`` and ``size``; ``edges``: (node index, node index, weight, relation)."""
    if not nodes:
        return f"**{title}**: no data"
    plt = _pyplot()
    pos = spring_layout(len(nodes), [(a, b, max(w, 0.0)) for a, b, w, _ in edges])
    fig, ax = plt.subplots(figsize=(9, 7), dpi=80)
    wmax = max((w for *_, w, _ in edges), default=1.0) or 1.0
    styles = {"replied_to": "-", "mentioned": "--", "discusses": "-", "co_mentioned": ":", "co_mentioned_thread": ":"}
    for a, b, w, rel in edges:
        ax.plot(pos[[a, b], 0], pos[[a, b], 1], styles.get(rel, "-"), color="#888888",
                linewidth=0.4 + 2.2 * (w / wmax), alpha=0.25 + 0.5 * (w / wmax), zorder=1)
    sizes = np.array([float(node.get("size", 1.0)) for node in nodes])
    sizes = 60 + 440 * (sizes / sizes.max() if sizes.max() > 0 else sizes)
    colors = [KIND_COLORS.get(str(node.get("kind")), "#999999") for node in nodes]
    ax.scatter(pos[:, 0], pos[:, 1], s=sizes, c=colors, edgecolors="white", linewidths=0.8, zorder=2)
    for (x, y), node in zip(pos, nodes):
        ax.annotate(_clean(node.get("label", ""), 28), (x, y), fontsize=7, ha="center", va="bottom", xytext=(0, 6),
                    textcoords="offset points", zorder=3)
    for kind, color in KIND_COLORS.items():
        ax.scatter([], [], c=color, s=40, label=kind)
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
    ax.margins(0.12)
    return _markdown(fig, title)


def lines_chart_markdown(x_labels: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str) -> str:
    """One line per series over shared x labels (e.g. messages per day per chat)."""
    if not x_labels or not series:
        return f"**{title}**: no data"
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3), dpi=80)
    xs = np.arange(len(x_labels))
    for name, values in series.items():
        ax.plot(xs, values, marker="o" if len(xs) <= 3 else None, markersize=3, linewidth=1.2, label=_clean(name))
    step = max(1, len(x_labels) // 8)
    ax.set_xticks(xs[::step], [x_labels[i] for i in range(0, len(x_labels), step)], rotation=30, ha="right",
                  fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6, frameon=False, loc="upper left")
    return _markdown(fig, title)


def barh_chart_markdown(labels: Sequence[str], values: Sequence[float], *, title: str) -> str:
    """Horizontal bars, largest on top (e.g. the most active users)."""
    if not values:
        return f"**{title}**: no data"
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.28 * len(values)), dpi=80)
    ys = np.arange(len(values))[::-1]
    ax.barh(ys, values, color="#4a7ebb")
    ax.set_yticks(ys, [_clean(label, 28) for label in labels], fontsize=7)
    ax.set_title(title, fontsize=9)
    return _markdown(fig, title)
