"""The statistics page's pure parts: the weekly series (empty weeks filled in, capped) and
the bar chart's layout (bars scaled to the largest value or a given maximum)."""

from __future__ import annotations

from datetime import date, timedelta

from learnhub.repositories.teaching import WeekCount
from learnhub.services.teaching import MAX_WEEKS, week_start, weekly_series
from learnhub.web.charts import LABEL_CHARS, ROW_HEIGHT, WIDTH, bar_chart

MONDAY = date(2026, 11, 30)


def test_week_start_is_the_monday_on_or_before() -> None:
    assert week_start(MONDAY) == MONDAY
    assert week_start(MONDAY + timedelta(days=6)) == MONDAY
    assert week_start(MONDAY - timedelta(days=1)) == MONDAY - timedelta(weeks=1)


def test_weekly_series_fills_empty_weeks_up_to_the_current_one() -> None:
    counts = [WeekCount(MONDAY - timedelta(weeks=3), 4), WeekCount(MONDAY - timedelta(weeks=1), 1)]
    series = weekly_series(counts, MONDAY + timedelta(days=2))
    assert [(w.week, w.enrolments) for w in series] == [
        (MONDAY - timedelta(weeks=3), 4),
        (MONDAY - timedelta(weeks=2), 0),
        (MONDAY - timedelta(weeks=1), 1),
        (MONDAY, 0),
    ]
    assert weekly_series([], MONDAY) == []


def test_weekly_series_keeps_only_the_last_weeks() -> None:
    old = [WeekCount(MONDAY - timedelta(weeks=100), 7), WeekCount(MONDAY, 2)]
    series = weekly_series(old, MONDAY)
    assert len(series) == MAX_WEEKS
    assert series[0].week == MONDAY - timedelta(weeks=MAX_WEEKS - 1)
    assert series[-1] == WeekCount(MONDAY, 2)


def test_bars_scale_to_the_largest_value_or_the_given_maximum() -> None:
    chart = bar_chart([("a", 2.0), ("b", 4.0), ("c", 0.0)], unit="")
    widths = [bar.width for bar in chart.bars]
    assert widths[1] == chart.bar_area and widths[0] == chart.bar_area / 2 and widths[2] == 0
    assert [bar.y for bar in chart.bars] == [0, ROW_HEIGHT, 2 * ROW_HEIGHT]
    assert chart.height == 3 * ROW_HEIGHT and chart.width == WIDTH
    shares = bar_chart([("x" * 80, 25.0)], unit="%", maximum=100.0)
    assert shares.bars[0].width == shares.bar_area / 4 and shares.bars[0].text == "25%"
    assert len(shares.bars[0].short_label) == LABEL_CHARS and shares.bars[0].label == "x" * 80
    assert bar_chart([("x", 33.3)], unit="%").bars[0].text == "33.3%"
    assert bar_chart([], unit="").bars == []
