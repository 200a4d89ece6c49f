"""Contact history of one debtor as a PDF, for a regulator or the consumer: header, timeline, one row per contact."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from typing import BinaryIO
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from chalicelib.domain.events import Status

CJK = "STSong-Light"  # a CID font built into reportlab and PDF readers: never embedded, so the file stays small
CATEGORIES = ("sent", "deferred", "blocked")
MESSAGE_LIMIT = 500
WEEKLY_AFTER_DAYS = 62
PAGE = landscape(A4)
MARGIN = 15 * mm
WIDTHS = [m * mm for m in (30, 38, 16, 32, 75, 24, 52)]  # sums to the frame width, 267 mm
COLUMNS = ("When (UTC)", "Local time", "Channel", "To", "Message", "Decision", "Reasons")
SHADES = {"sms": ("#1b7837", "#7fbf7b", "#d9f0d3"), "email": ("#2166ac", "#67a9cf", "#d1e5f0")}
SHADES["voice"] = ("#b35806", "#f1a340", "#fee0b6")
OTHER_SHADES = ("#4d4d4d", "#999999", "#e0e0e0")

TITLE = ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=16, leading=20, spaceAfter=6)
HEADING = ParagraphStyle("heading", fontName="Helvetica-Bold", fontSize=11, leading=14, spaceBefore=8, keepWithNext=1)
BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=9, leading=11, keepWithNext=1)  # introduces what follows
CELL = ParagraphStyle("cell", fontName="Helvetica", fontSize=7.5, leading=9)
HEAD = ParagraphStyle("head", parent=CELL, fontName="Helvetica-Bold")

Counts = dict[tuple[str, str], int]


@dataclass(frozen=True)
class ContactRow:
    contact_id: str
    at: datetime  # aware, the time of the decision
    local_times: tuple[str, ...]  # already formatted, one per candidate zone
    channel: str
    to_masked: str  # as the export shows it: masked, unless the export was asked unmasked
    message: str
    outcome: str
    status: str  # final status, or a call result; see category()
    reasons: tuple[dict[str, str], ...]  # each {"rule", "citation", "message"}
    account_id: str | None = None
    delivery: str = ""  # the latest receipt's delivery state (delivered, temporary_failure, permanent_failure)


@dataclass(frozen=True)
class ReportHeader:
    tenant: str
    debtor_id: str
    account_id: str | None
    generated_at: datetime
    export_id: str
    first_at: datetime | None
    last_at: datetime | None
    policy_versions: tuple[str, ...]
    unmasked_reason: str | None = None  # set when the export shows addresses and message text in full


@dataclass(frozen=True)
class Timeline:
    unit: str  # "day" or "week"; a week's bucket is keyed by its Monday
    buckets: dict[date, Counts]


def category(status: str) -> str:
    """Every status other than scheduled, blocked or refused means an attempt was made (a call result included)."""
    if status == Status.SCHEDULED:
        return "deferred"
    return "blocked" if status in (Status.BLOCKED, Status.REFUSED) else "sent"


def _row_category(row: ContactRow) -> str:
    """The final status decides; a row without one yet falls back on the decision."""
    if row.status:
        return category(row.status)
    return {"defer": "deferred", "deny": "blocked"}.get(row.outcome, "sent")


def daily_counts(rows: Iterable[ContactRow]) -> dict[date, Counts]:
    days: dict[date, Counter[tuple[str, str]]] = {}
    for row in rows:
        days.setdefault(row.at.astimezone(UTC).date(), Counter())[(row.channel, _row_category(row))] += 1
    return {day: dict(days[day]) for day in sorted(days)}


def timeline(days: Mapping[date, Counts]) -> Timeline:
    """Every bucket from the first to the last, empty ones included, so the x axis reads as time."""
    if not days:
        return Timeline("day", {})
    first, last = min(days), max(days)
    weekly = (last - first).days > WEEKLY_AFTER_DAYS
    step, start = (7, first - timedelta(days=first.weekday())) if weekly else (1, first)
    buckets: dict[date, Counter[tuple[str, str]]] = {}
    for n in range(0, (last - start).days + 1, step):
        buckets[start + timedelta(days=n)] = Counter()
    for day, counts in days.items():
        buckets[day - timedelta(days=(day - start).days % step)].update(counts)
    return Timeline("week" if weekly else "day", {key: dict(value) for key, value in buckets.items()})


def write_contact_history(out: BinaryIO, header: ReportHeader, rows: Sequence[ContactRow], *, omitted: int = 0) -> None:
    """Write the report to ``out``; the same inputs give the same bytes (reportlab's invariant mode: no clock)."""
    pdfmetrics.registerFont(UnicodeCIDFont(CJK))
    margins = {f"{side}Margin": MARGIN for side in ("left", "right", "top", "bottom")}
    doc = SimpleDocTemplate(out, pagesize=PAGE, invariant=True, title="Contact history", **margins)

    def footer(canvas: Canvas, _doc: SimpleDocTemplate) -> None:
        canvas.setFont("Helvetica", 7)
        canvas.drawString(MARGIN, MARGIN / 2, f"export {header.export_id}")
        canvas.drawRightString(PAGE[0] - MARGIN, MARGIN / 2, f"page {canvas.getPageNumber()}")

    doc.build(_story(header, sorted(rows, key=lambda row: row.at), omitted), onFirstPage=footer, onLaterPages=footer)


def _story(header: ReportHeader, rows: Sequence[ContactRow], omitted: int) -> list[Flowable]:
    story: list[Flowable] = [Paragraph("Contact history", TITLE), _header_table(header), Spacer(1, 4)]
    story += [_totals_table(rows), Paragraph("Timeline", HEADING), *_chart_section(rows)]
    if rows or omitted > 0:
        story.append(Paragraph("Contacts", HEADING))
    if omitted > 0:
        note = f"{omitted} further contacts are not listed here; the CSV and JSON Lines files hold every event."
        story.append(Paragraph(note, BODY))
    return [*story, _contacts_table(rows)] if rows else story


def _header_table(header: ReportHeader) -> Table:
    first, last = header.first_at, header.last_at
    pairs = [
        ("Tenant", header.tenant),
        ("Debtor", header.debtor_id),
        ("Account", header.account_id or "all debts"),
        ("Export id", header.export_id),
        ("Generated at", _utc(header.generated_at) + " UTC"),
        ("Period covered", f"{_utc(first)} to {_utc(last)} UTC" if first and last else "no contacts"),
        ("Policy versions", ", ".join(header.policy_versions) or "none recorded"),
        ("Addresses, messages", f"shown in full: {header.unmasked_reason}" if header.unmasked_reason else "masked"),
    ]
    data = [[Paragraph(label, HEAD), Paragraph(_markup(value), CELL)] for label, value in pairs]
    return _styled(Table(data, colWidths=[35 * mm, 120 * mm], hAlign="LEFT"), grid=False)


def _totals_table(rows: Sequence[ContactRow]) -> Table:
    counts = Counter((row.channel, _row_category(row)) for row in rows)
    channels = sorted({channel for channel, _ in counts})
    data = [["Channel", *CATEGORIES, "total"]]
    for channel in channels:
        cells = [counts[(channel, cat)] for cat in CATEGORIES]
        data.append([channel, *map(str, cells), str(sum(cells))])
    data.append(["all", *(str(sum(counts[(ch, cat)] for ch in channels)) for cat in CATEGORIES), str(len(rows))])
    return _styled(Table(data, colWidths=[25 * mm] + [20 * mm] * 4, hAlign="LEFT", repeatRows=1))


def _chart_section(rows: Sequence[ContactRow]) -> list[Flowable]:
    line = timeline(daily_counts(rows))
    if not line.buckets:
        return [Paragraph("No contacts in this period.", BODY)]
    caption = "Contacts per ISO week (UTC; weeks start on Monday)" if line.unit == "week" else "Contacts per day (UTC)"
    return [Paragraph(caption + ", stacked by channel and sent / deferred / blocked", BODY), _chart(line)]


def _chart(line: Timeline) -> Drawing:
    keys = {key for counts in line.buckets.values() for key in counts}
    series = sorted(keys, key=lambda key: (key[0], CATEGORIES.index(key[1])))  # by channel, then sent first
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30, 30, 580, 150
    chart.data = [[counts.get(key, 0) for counts in line.buckets.values()] for key in series]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.categoryNames = _labels(line)
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle, chart.categoryAxis.labels.boxAnchor = 45, "ne"
    tallest = max(sum(counts.values()) for counts in line.buckets.values())
    chart.valueAxis.valueMin, chart.valueAxis.valueStep = 0, max(1, -(-tallest // 5))
    chart.valueAxis.labelTextFormat = "%d"
    for index, key in enumerate(series):
        chart.bars[index].fillColor = chart.bars[index].strokeColor = _colour(key)
    drawing = Drawing(PAGE[0] - 2 * MARGIN, 200)
    drawing.add(chart)
    drawing.add(_legend(series))
    return drawing


def _legend(series: Sequence[tuple[str, str]]) -> Legend:
    legend = Legend()
    legend.x, legend.y, legend.alignment, legend.fontSize = 630, 180, "right", 7
    legend.columnMaximum = len(series)
    legend.colorNamePairs = [(_colour(key), f"{key[0]} {key[1]}") for key in series]
    return legend


def _contacts_table(rows: Sequence[ContactRow]) -> Table:
    data = [[Paragraph(name, HEAD) for name in COLUMNS]]
    data += [_contact_cells(row) for row in rows]
    return _styled(Table(data, colWidths=WIDTHS, repeatRows=1, splitInRow=1))


def _contact_cells(row: ContactRow) -> list[Flowable]:
    message = row.message if len(row.message) <= MESSAGE_LIMIT else row.message[:MESSAGE_LIMIT] + "…"
    reasons = [_reason(reason) for reason in row.reasons]
    return [
        Paragraph(f'{_utc(row.at)}<br/><font color="grey">{_markup(row.contact_id)}</font>', CELL),
        Paragraph("<br/>".join(_markup(local) for local in row.local_times), CELL),
        Paragraph(_markup(row.channel), CELL),
        Paragraph(_markup(row.to_masked), CELL),
        Paragraph(_markup(message), CELL),
        Paragraph(_markup(" / ".join(filter(None, (row.outcome, row.status, row.delivery)))), CELL),
        Paragraph("<br/>".join(_markup(reason) for reason in reasons), CELL),
    ]


def _reason(reason: Mapping[str, str]) -> str:
    citation = reason.get("citation", "")
    text = f"{reason.get('rule', '')} — {reason.get('message', '')}"
    return f"{text} ({citation})" if citation else text


def _markup(text: str) -> str:
    """Input text as Paragraph markup, escaped: Latin runs in Helvetica, the rest (Chinese) in the CID font.

    STSong-Light has Latin glyphs too, but readers without Adobe's font substitute another, whose Latin letters
    overlap and lose their spaces at STSong's widths; Helvetica's Latin reads well everywhere.
    """
    runs = (("".join(chars), latin) for latin, chars in groupby(text, key=_is_latin))
    return "".join(escape(run) if latin else f'<font face="{CJK}">{escape(run)}</font>' for run, latin in runs)


def _is_latin(char: str) -> bool:
    try:
        char.encode("cp1252")  # what Helvetica's WinAnsi encoding can draw
    except UnicodeEncodeError:
        return False
    return True


def _styled(table: Table, *, grid: bool = True) -> Table:
    commands: list[tuple[object, ...]] = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTSIZE", (0, 0), (-1, -1), 8)]
    if grid:
        commands += [("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey)]
    table.setStyle(TableStyle(commands))
    return table


def _colour(key: tuple[str, str]) -> colors.Color:
    channel, cat = key
    return colors.HexColor(SHADES.get(channel, OTHER_SHADES)[CATEGORIES.index(cat)])


def _labels(line: Timeline) -> list[str]:
    """At most ~20 labels, so they stay readable however many bars there are."""
    every = max(1, -(-len(line.buckets) // 20))
    shown = "%G-W%V" if line.unit == "week" else "%m-%d"
    return [day.strftime(shown) if i % every == 0 else "" for i, day in enumerate(line.buckets)]


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
