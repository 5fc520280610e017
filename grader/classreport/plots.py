"""The report's figures: score histograms as PNG bytes, drawn with matplotlib's Agg canvas.

Figures are built with ``matplotlib.figure.Figure`` directly, never through pyplot, so no GUI
backend or global figure state is involved. Nothing learner-controlled is drawn. Margins are
fixed rather than computed by a layout engine, which would draw every figure twice.
"""

from __future__ import annotations

import io
import math

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from grader.classreport.data import Distribution

#: Bars of a histogram: one per point, within these bounds.
MIN_BINS, MAX_BINS = 5, 20
BAR_COLOUR, MEAN_COLOUR, MEDIAN_COLOUR = "#4c72b0", "#c44e52", "#55a868"
DPI = 100
#: Figure sizes and the margins around the axes (left, right, bottom, top), in inches.
WIDTH, WIDE_WIDTH, HEIGHT = 4.0, 6.0, 2.6
MARGINS = (0.6, 0.15, 0.5, 0.35)


def _bins(max_score: float) -> list[float]:
    """Equal bins from 0 to ``max_score`` (the last one holds full marks)."""
    top = max_score if max_score > 0 else 1.0
    count = min(MAX_BINS, max(MIN_BINS, math.ceil(top)))
    return [top * i / count for i in range(count + 1)]


def histogram(distribution: Distribution, wide: bool = False) -> bytes:
    """A PNG of ``distribution``'s histogram (points on x, students on y) with its mean and
    median marked; ``wide`` for the total."""
    width = WIDE_WIDTH if wide else WIDTH
    figure = Figure(figsize=(width, HEIGHT), dpi=DPI)
    left, right, bottom, top = MARGINS
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / HEIGHT,
                           top=1 - top / HEIGHT)
    axes = figure.add_subplot()
    scores = distribution.scores
    axes.hist(scores, bins=_bins(distribution.max_score), color=BAR_COLOUR, edgecolor="white")
    if scores:
        axes.axvline(distribution.mean, color=MEAN_COLOUR, linestyle="--",
                     label=f"mean {distribution.mean:.3g}")
        axes.axvline(distribution.median, color=MEDIAN_COLOUR, linestyle=":",
                     label=f"median {distribution.median:.3g}")
        figure.legend(loc="upper center", ncols=2, fontsize="small", frameon=False)
    axes.set_xlim(0, distribution.max_score if distribution.max_score > 0 else 1)
    axes.set_xlabel(f"points (of {distribution.max_score:g})")
    axes.set_ylabel("students")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
