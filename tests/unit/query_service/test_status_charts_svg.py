"""The status page's charts: series in, SVG out (a pure function), and how several projectors' samples combine."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from query_service.api.charts import BOTTOM, LEFT, RIGHT, TOP, line_chart_svg, nice_ceiling, number_label
from query_service.api.status_charts import merged_series

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp()
END = START + 900  # the quarter hour the status page shows


def chart(series: dict[str, list[tuple[float, float]]], unit: str = "events", max_gap: float = 15) -> ET.Element:
    """The chart parsed as XML: the markup must be well-formed whatever the labels."""
    return ET.fromstring(line_chart_svg(title="Lag", unit=unit, series=series, start=START, end=END, max_gap=max_gap))


def texts(svg: ET.Element, cls: str) -> list[str]:
    return [element.text or "" for element in svg.iter(f"{SVG}text") if element.get("class") == cls]


def series_groups(svg: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-series"): g for g in svg.iter(f"{SVG}g") if g.get("class") == "series"}


def test_points_are_scaled_into_the_plot_area_from_zero_to_a_round_top() -> None:
    svg = chart({"posts": [(START, 0), (START + 450, 2), (END, 4)]}, max_gap=450)

    (polyline,) = series_groups(svg)["posts"].iter(f"{SVG}polyline")
    middle_y = BOTTOM - (BOTTOM - TOP) / 2
    assert (
        polyline.get("points")
        == f"{LEFT:.1f},{BOTTOM:.1f} {(LEFT + RIGHT) / 2:.1f},{middle_y:.1f} {RIGHT:.1f},{TOP:.1f}"
    )
    assert texts(svg, "y-tick") == ["0", "1", "2", "3", "4"]


def test_the_axes_have_times_in_utc_and_the_unit() -> None:
    svg = chart({"posts": [(START + 60, 7)]}, unit="events/s")

    assert texts(svg, "x-tick") == ["12:00", "12:05", "12:10", "12:15"]
    assert texts(svg, "x-axis") == ["time (UTC)"]
    assert texts(svg, "y-axis") == ["events/s"]
    assert "Lag (events/s)" in (svg.find(f"{SVG}title").text or "")


def test_each_series_is_a_line_with_its_latest_value_and_a_legend_entry() -> None:
    svg = chart({"posts": [(START + 10, 1), (START + 20, 3)], "comments": [(START + 10, 2)], "authors": []})

    groups = series_groups(svg)
    assert set(groups) == {"posts", "comments"}  # a series without points draws nothing
    assert groups["posts"].get("data-points") == "2"
    assert groups["posts"].get("data-last-value") == "3"
    assert groups["posts"].get("data-last-at") == datetime.fromtimestamp(START + 20, UTC).isoformat()
    assert groups["posts"].get("stroke") != groups["comments"].get("stroke")
    legend = [element.text for element in svg.iter(f"{SVG}text") if element.text and ": " in element.text]
    assert legend == ["posts: 3 events", "comments: 2 events", "authors: no data"]


def test_a_line_breaks_where_samples_are_missing_and_points_outside_the_window_are_left_out() -> None:
    points = [(START - 30, 9), (START + 10, 1), (START + 20, 1), (START + 100, 2), (START + 110, 2), (END + 5, 9)]

    svg = chart({"posts": points}, max_gap=15)

    group = series_groups(svg)["posts"]
    assert len(list(group.iter(f"{SVG}polyline"))) == 2
    assert group.get("data-points") == "4"
    assert texts(svg, "y-tick")[-1] == "2"  # the 9s outside the window do not stretch the axis


def test_without_any_point_the_chart_says_no_data_yet() -> None:
    for series in ({}, {"posts": []}, {"posts": [(START - 60, 3)]}):
        svg = chart(series)

        assert svg.get("data-empty") == "true"
        assert texts(svg, "empty") == ["no data yet"]
        assert series_groups(svg) == {}
        assert list(svg.iter(f"{SVG}polyline")) == []
    assert chart({"posts": [(START, 0)]}).get("data-empty") == "false"


def test_labels_are_escaped() -> None:
    name = '<script>alert("x")</script> & co'

    markup = line_chart_svg(
        title="<b>Lag</b>", unit="s & <i>", series={name: [(START, 1)]}, start=START, end=END, max_gap=15
    )

    for raw in ("<script>", "<b>", "<i>"):
        assert raw not in markup
    svg = ET.fromstring(markup)
    assert set(series_groups(svg)) == {name}  # the attribute holds the name itself once unescaped
    assert f"{name}: 1 s & <i>" in [element.text for element in svg.iter(f"{SVG}text")]


def test_round_tops_and_number_labels() -> None:
    assert [nice_ceiling(v) for v in (0, 0.3, 1, 3, 5, 7, 9, 12, 4500)] == [1, 0.4, 1, 4, 6, 8, 10, 20, 6000]
    assert [number_label(v) for v in (0, 0.125, 2.5, 250, 1500)] == ["0", "0.125", "2.5", "250", "1,500"]


def at(seconds: float) -> str:
    return datetime.fromtimestamp(START + seconds, UTC).isoformat()


def test_several_projectors_combine_their_latest_fresh_samples() -> None:
    one = [{"at": at(0), "lag": {"posts-topic": 5}}, {"at": at(5), "lag": {"posts-topic": 3}}]
    two = [{"at": at(2), "lag": {"posts-topic": 10, "users-topic": 1}}, {"at": at(60), "lag": {"posts-topic": 4}}]

    series = merged_series([one, two], "lag", sum)

    # at 60 the first projector's sample (at 5) is stale: only the second one's counts
    assert series["posts-topic"] == [(START, 5), (START + 2, 15), (START + 5, 13), (START + 60, 4)]
    assert series["users-topic"] == [(START + 2, 1), (START + 5, 1)]
    assert merged_series([one, two], "searchable_age_seconds", max) == {}
