"""Report charts drawn on the server by matplotlib as accessible SVG.

Pages embed the SVG inline (no JavaScript, no CDN) and the PDF export embeds
the same SVG, so print and screen show one picture. Each chart carries a
`<title>` and a `<desc>` and is referenced by `aria-labelledby`; the page
shows the same numbers as a table next to it.
"""

from __future__ import annotations

import functools
import io
import itertools
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from recommendations.choices import Status

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")

# One colour per status, least advanced red to fully implemented green, grey
# for statuses outside the scale; chosen to stay apart in greyscale print too.
STATUS_COLOURS = {
    Status.NOT_ASSESSED: "#bdbdbd",
    Status.NOT_IMPLEMENTED: "#b2182b",
    Status.PARTIALLY_IMPLEMENTED: "#ef8a62",
    Status.MOSTLY_IMPLEMENTED: "#67a9cf",
    Status.FULLY_IMPLEMENTED: "#1a9850",
    Status.NO_LONGER_RELEVANT: "#636363",
}
_ids = itertools.count(1)


@dataclass(frozen=True)
class Chart:
    """An SVG chart ready to embed, with its title and text description."""

    title: str
    description: str
    svg: str


def _accessible_svg(figure: Figure, title: str, description: str) -> str:
    buffer = io.StringIO()
    # Text stays text (not glyph outlines), so screen readers and search read
    # the labels and Cyrillic names use the reader's fonts.
    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    root = ElementTree.fromstring(buffer.getvalue())  # noqa: S314 (our own output)
    chart_id = f"chart-{next(_ids)}"
    title_element = ElementTree.Element(f"{{{SVG_NAMESPACE}}}title", {"id": f"{chart_id}-title"})
    title_element.text = title
    desc_element = ElementTree.Element(f"{{{SVG_NAMESPACE}}}desc", {"id": f"{chart_id}-desc"})
    desc_element.text = description
    root.insert(0, desc_element)
    root.insert(0, title_element)
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    # Another library may have registered a prefix of its own for the SVG
    # namespace since; registering the default again keeps the output plain `<svg>`.
    ElementTree.register_namespace("", SVG_NAMESPACE)
    return ElementTree.tostring(root, encoding="unicode")


def _figure(height: float) -> Figure:
    figure = Figure(figsize=(8, height), dpi=96)
    figure.set_layout_engine("constrained")
    return figure


def _describe(counts: Sequence[tuple[str, int]]) -> str:
    return "; ".join(f"{label}: {value}" for label, value in counts) or "No data."


def status_bars(title: str, counts: dict[str, int]) -> Chart:
    """Horizontal bars: how many recommendations have each status."""
    statuses = list(Status)
    values = tuple(counts.get(status.value, 0) for status in statuses)
    labels = tuple(str(status.label) for status in statuses)
    description = _describe(list(zip(labels, values, strict=True)))
    return Chart(title, description, _status_bars_svg(title, description, labels, values))


# Drawing takes matplotlib a few hundred milliseconds while the numbers behind
# a page change only when someone writes: the same numbers (and labels, so
# each language apart) give the same picture, drawn once per process.
@functools.lru_cache(maxsize=256)
def _status_bars_svg(
    title: str, description: str, labels: tuple[str, ...], values: tuple[int, ...]
) -> str:
    figure = _figure(0.45 * len(labels) + 0.8)
    axes = figure.subplots()
    bars = axes.barh(labels, values, color=[STATUS_COLOURS[s] for s in Status])
    axes.bar_label(bars, padding=3)
    axes.invert_yaxis()
    axes.set_xlabel("Recommendations")
    axes.spines[["top", "right"]].set_visible(False)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _accessible_svg(figure, title, description)


def stacked_status_bars(
    title: str, groups: Sequence[tuple[str, Sequence[int]]], *, horizontal: bool = True
) -> Chart:
    """One stacked bar per group (issuing body, month), split by status.

    `groups` pairs a label with its counts in the order of `Status`.
    """
    statuses = list(Status)
    frozen = tuple((label, tuple(counts)) for label, counts in groups)
    description = "; ".join(
        f"{label}: "
        + ", ".join(
            f"{status.label} {count}"
            for status, count in zip(statuses, counts, strict=True)
            if count
        )
        for label, counts in frozen
    )
    legend = tuple(str(status.label) for status in statuses)
    return Chart(
        title,
        description or "No data.",
        _stacked_svg(title, description, frozen, legend, horizontal),
    )


@functools.lru_cache(maxsize=256)
def _stacked_svg(
    title: str,
    description: str,
    groups: tuple[tuple[str, tuple[int, ...]], ...],
    legend: tuple[str, ...],
    horizontal: bool,
) -> str:
    labels = [label for label, _counts in groups]
    figure = _figure(max(1.5, 0.4 * len(groups) + 1.2)) if horizontal else _figure(4.0)
    axes = figure.subplots()
    offsets = [0] * len(groups)
    for index, status in enumerate(Status):
        values = [counts[index] for _label, counts in groups]
        if not any(values):
            continue
        colour, label = STATUS_COLOURS[status], legend[index]
        if horizontal:
            axes.barh(labels, values, left=offsets, color=colour, label=label)
        else:
            axes.bar(labels, values, bottom=offsets, color=colour, label=label)
        offsets = [offset + value for offset, value in zip(offsets, values, strict=True)]
    if horizontal:
        axes.invert_yaxis()
        axes.set_xlabel("Recommendations")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        axes.set_ylabel("Recommendations")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.tick_params(axis="x", labelrotation=45)
    axes.spines[["top", "right"]].set_visible(False)
    if any(offsets):
        axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, frameon=False)
    return _accessible_svg(figure, title, description)
