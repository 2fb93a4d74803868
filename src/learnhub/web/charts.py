"""Horizontal bar charts drawn by the server as inline SVG (no chart library, no script: the
CSP allows neither inline scripts nor a CDN). This only lays the bars out; the template
draws them, and every chart is followed by a table of the same numbers."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 240
VALUE_WIDTH = 70
ROW_HEIGHT = 28
BAR_HEIGHT = 18
LABEL_CHARS = 28  # longer labels are cut in the chart; the table shows them whole


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    short_label: str
    value: float
    text: str
    y: int
    width: float


@dataclass(frozen=True, slots=True)
class BarChart:
    bars: list[Bar]
    height: int
    label_width: int = LABEL_WIDTH
    width: int = WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def bar_area(self) -> int:
        return self.width - self.label_width - VALUE_WIDTH


def shorten(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def number(value: float, unit: str) -> str:
    shown = f"{value:g}" if value != int(value) else f"{int(value)}"
    return f"{shown}{unit}"


def bar_chart(
    points: list[tuple[str, float]], *, unit: str, maximum: float | None = None
) -> BarChart:
    """One bar per (label, value), scaled to `maximum` (the largest value when not given)."""
    top = maximum if maximum is not None else max((value for _, value in points), default=0.0)
    area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = [
        Bar(
            label=label,
            short_label=shorten(label),
            value=value,
            text=number(value, unit),
            y=index * ROW_HEIGHT,
            width=round(area * value / top, 1) if top > 0 else 0.0,
        )
        for index, (label, value) in enumerate(points)
    ]
    return BarChart(bars=bars, height=max(len(bars), 1) * ROW_HEIGHT)
