"""Charts of the console pages, described once and drawn twice.

A chart is a plain JSON-able spec (:class:`Chart`). The page embeds it with ``json_script`` and
``static/parity/charts.js`` draws it with the vendored Chart.js (``static/vendor/chartjs``, MIT,
served from our own static files, no CDN): values on hover, dates on time axes, languages without
a model marked "not trained yet" instead of drawn as 0. The same spec is rendered to PNG by
matplotlib (:func:`chart_png`) for reports and for readers without JavaScript, so the picture
in a report and the one on screen never disagree.

Text in a spec (language tags, series names) is data: json_script escapes it for the page, and
matplotlib draws it as text, never as markup.
"""
from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


@dataclass
class Point:
    x: float | str  # epoch milliseconds on a time axis, a category label otherwise
    y: float | None
    text: str = ""  # extra line in the tooltip ("candidate v12: kept, does not beat v9")


@dataclass
class Series:
    name: str
    points: list[Point]
    color: int = 0
    line: bool = True  # False: markers only (candidates are not part of the champion's history)
    hollow: bool = False


@dataclass
class Chart:
    id: str
    kind: str  # "line" | "bar"
    title: str
    y_label: str
    x_axis: str = "time"  # "time" | "category"
    y_min: float | None = None
    y_max: float | None = None
    y_integer: bool = False
    series: list[Series] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # category -> why it has no value

    def as_json(self) -> dict:
        return asdict(self)

    @property
    def element_id(self) -> str:
        return f"chart-data-{self.id}"

    def __post_init__(self) -> None:
        if not _ID.fullmatch(self.id):
            raise ValueError(f"chart id {self.id!r}: use letters, digits, '-' and '_' only")


def epoch_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def padded_range(values: list[float | None], low: float = 0.0, high: float = 1.0, pad: float = 0.05):
    """y limits that include every value with a margin, so no point sits on (or under) an axis."""
    present = [v for v in values if v is not None]
    lo = min([low, *present]) - pad
    hi = max([high, *present]) + pad
    return round(lo, 3), round(hi, 3)


def chart_png(chart: Chart, *, width: float = 7.0, height: float = 3.2, dpi: int = 150) -> bytes:
    """The chart as a PNG image (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    fig, ax = plt.subplots(figsize=(width, height))
    try:
        if chart.kind == "bar":
            for series in chart.series:
                xs = [str(p.x) for p in series.points]
                ys = [p.y if p.y is not None else 0 for p in series.points]
                bars = ax.bar(xs, ys, color=PALETTE[series.color % len(PALETTE)], width=0.6)
                for bar, point in zip(bars, series.points, strict=True):
                    text = chart.notes.get(str(point.x)) if point.y is None else (
                        f"{point.y:.0f}" if chart.y_integer else f"{point.y:.3f}")
                    ax.annotate(text or "", (bar.get_x() + bar.get_width() / 2, point.y or 0), ha="center",
                                va="bottom", fontsize=8, style="italic" if point.y is None else "normal")
        else:
            for series in chart.series:
                points = [p for p in series.points if p.y is not None]
                if not points:
                    continue
                xs = [datetime.fromtimestamp(p.x / 1000) for p in points] if chart.x_axis == "time" else [
                    str(p.x) for p in points]
                color = PALETTE[series.color % len(PALETTE)]
                ax.plot(xs, [p.y for p in points], linestyle="-" if series.line else "none", marker="o",
                        markersize=4, color=color, markerfacecolor="white" if series.hollow else color,
                        label=series.name)
            if chart.x_axis == "time":
                locator = AutoDateLocator()
                ax.xaxis.set_major_locator(locator)
                ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="best", fontsize=8, frameon=False)
        if chart.y_min is not None or chart.y_max is not None:
            ax.set_ylim(chart.y_min, chart.y_max)
        ax.set_title(chart.title, fontsize=10)
        ax.set_ylabel(chart.y_label)
        ax.grid(True, alpha=.3)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    finally:
        plt.close(fig)
    return buffer.getvalue()


def png_response(charts: list[Chart], chart_id: str):
    """The ``?png=<id>`` download of one chart of a page, or a 404 when the page has no such chart."""
    from django.http import Http404, HttpResponse

    chart = next((c for c in charts if c.id == chart_id), None)
    if chart is None:
        raise Http404("no such chart on this page")
    response = HttpResponse(chart_png(chart), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{chart.id}.png"'
    return response
