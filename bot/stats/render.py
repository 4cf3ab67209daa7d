"""The report as plain text, JSON, CSV or one self-contained HTML file, and its charts.

Every number goes out through `Figure` (its `str`, `.public` or `.plot`), so a suppressed figure is "<5"
(or "..", hidden to protect a "<5") in text and data and a bar of height 0 marked so in charts. matplotlib
is imported only when a chart is drawn, so the other formats start fast.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.stats.report import HIDDEN, SUPPRESSED, Figure, Report, Row

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as Chart

FORMATS = ("table", "json", "csv", "html")
CHARTS = ("weekly", "topics", "fallback", "bookings", "booked", "helpful")

# Swedish for the reader, English beside it for the funders' reports.
SECTION_TITLES = {
    "summary": ("Översikt", "Summary"),
    "topics": ("Vanligaste ämnena", "Top topics"),
    "bands": ("Hur säker matchningen var", "Score bands"),
    "unanswered": ("Vanligaste frågorna utan svar", "Top unanswered questions"),
    "bookings": ("Bokningar per kommun", "Bookings per region"),
    "by_region": ("Per kommun", "Per region"),
    "by_lang": ("Per språk", "Per language"),
    "by_week": ("Per vecka", "Per ISO week"),
    "by_channel": ("Per kanal", "Per channel"),
    "by_month": ("Per månad", "Per month"),
    "helpful": ("Hjälpte svaret?", "Did the answer help?"),
}
CELL_TITLES = {
    "conversations": ("Samtal", "conversations"),
    "messages": ("Meddelanden", "messages"),
    "questions": ("Frågor", "questions"),
    "fallbacks": ("Utan svar", "fallbacks"),
    "fallback_rate": ("Andel utan svar", "fallback rate"),
    "bookings": ("Bokningar", "bookings"),
    "made": ("Bokade", "made"),
    "moved": ("Flyttade", "moved"),
    "cancelled": ("Avbokade", "cancelled"),
    "asked": ("Ställd", "asked"),
    "booked": ("Ledde till bokning", "led to a booking"),
    "returning": ("Återkommande", "returning"),
    "crisis": ("Krissvar", "crisis answers"),
    "helpful": ("Hjälpte", "helpful"),
    "not_helpful": ("Hjälpte inte", "not helpful"),
}
ROW_TITLES = {
    "topics": ("Ämne", "topic"),
    "bands": ("Band", "band"),
    "bookings": ("Kommun", "region"),
    "by_region": ("Kommun", "region"),
    "by_lang": ("Språk", "language"),
    "by_week": ("Vecka", "week"),
    "by_channel": ("Kanal", "channel"),
    "by_month": ("Månad", "month"),
    "helpful": ("Ämne", "topic"),
}
BAND_NAMES = {"high": "hög (high)", "medium": "mellan (medium)", "low": "låg (low)"}
CHART_TITLES = {
    "weekly": ("Samtal och meddelanden per vecka", "Conversations and messages per week"),
    "topics": ("Vanligaste ämnena", "Top topics, questions"),
    "fallback": ("Andel frågor utan svar per vecka", "Fallback rate per week"),
    "bookings": ("Bokningar per kommun", "Bookings per region"),
    "booked": ("Samtal som ledde till bokning, per månad", "Conversations that led to a booking, per month"),
    "helpful": ("Hjälpte svaret? Per ämne", "Did the answer help? Per topic"),
}
COLORS = ("#1f5f8b", "#e07b39", "#5b8c4a", "#a23b3b")


def render(report: Report, fmt: str) -> str:
    """The report in one of FORMATS. Every format is for funders: counts only, no question's text
    (`Report.for_funders`); staff read the questions in `socialbot review`."""
    return {"table": to_table, "json": to_json, "csv": to_csv, "html": to_html}[fmt](report)


def period_text(report: Report) -> str:
    if report.since is None or report.until is None:
        return "inga data (no data)"
    return f"{report.since.isoformat()} – {report.until.isoformat()}"


def asked_text(figure: Figure) -> str:
    return f"asked {figure} times"


def _label(section: str, row: Row) -> str:
    return BAND_NAMES.get(row.label, row.label) if section == "bands" else row.label


# --- json and csv ----------------------------------------------------------------------------------


def to_json(report: Report) -> str:
    report = report.for_funders()
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula (a question typed as "=HYPERLINK(...)") gets a leading
    apostrophe, which spreadsheets show as text (OWASP's advice for CSV injection). Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(report: Report) -> str:
    report = report.for_funders()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "value"])
    writer.writerow(["period", "since", report.since.isoformat() if report.since else ""])
    writer.writerow(["period", "until", report.until.isoformat() if report.until else ""])
    for section, key, figure in report.figures():
        writer.writerow([csv_cell(section), csv_cell(key), "" if figure.public is None else figure.public])
    return out.getvalue()


# --- plain text ------------------------------------------------------------------------------------


def _columns(headers: Sequence[Sequence[str]], rows: Sequence[Sequence[str]]) -> list[str]:
    """Aligned columns: the first left-aligned, numbers right-aligned. `headers` may have several lines."""
    widths = [max(len(line[i]) for line in [*headers, *rows]) for i in range(len(headers[0]))]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        return (
            "  "
            + "  ".join(
                [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
            ).rstrip()
        )

    return [line(h) for h in headers] + [line(r) for r in rows]


def _heading(section: str) -> list[str]:
    sv, en = SECTION_TITLES[section]
    return ["", f"{sv} ({en})"]


def to_table(report: Report) -> str:
    report = report.for_funders()
    lines = ["socialbot – statistik (statistics)", f"Period: {period_text(report)}"]
    lines += _heading("summary")
    summary = [(f"{CELL_TITLES[k][0]} ({CELL_TITLES[k][1]})", str(f)) for k, f in report.summary.items()]
    lines += _columns([("", "")], summary)[1:]
    for section in ("topics", "helpful", "bands", "bookings", "by_region", "by_lang", "by_channel", "by_week",
                    "by_month"):  # fmt: skip
        rows = report.section(section)
        if not rows:
            continue
        lines += _heading(section)
        names = list(rows[0].cells)
        extra = ["developer"] if section == "bookings" else []
        headers = [
            [
                ROW_TITLES[section][0],
                *(["Affärsutvecklare"] if extra else []),
                *(CELL_TITLES[n][0] for n in names),
            ],
            [
                ROW_TITLES[section][1],
                *(["(developer)"] if extra else []),
                *(CELL_TITLES[n][1] for n in names),
            ],
        ]
        body = [[_label(section, r), *(r.details.get(e, "") for e in extra), *(str(r[n]) for n in names)]
                for r in rows]  # fmt: skip
        lines += _columns(headers, body)
    if report.unanswered:
        lines += _heading("unanswered")
        width = max(len(asked_text(r["asked"])) for r in report.unanswered)
        lines += [f"  {asked_text(r['asked']).ljust(width)}  {r.label}" for r in report.unanswered]
    lines += ["", "Noter (notes)"]
    lines += [f"  {i}. {note}" for i, note in enumerate(report.notes, start=1)]
    return "\n".join(lines) + "\n"


# --- charts ------------------------------------------------------------------------------------------


def _week_label(week: str) -> str:
    return "v" + week.rsplit("W", 1)[-1]


def _bars(ax: Axes, positions: Sequence[float], figures: Sequence[Figure], *, width: float, color: str,
          label: str, horizontal: bool = False) -> None:  # fmt: skip
    """Bars whose hidden figures stand at 0 and are labelled "<5" or ".."; the others carry their value."""
    heights = [f.plot * 100 if f.rate else f.plot for f in figures]
    draw = ax.barh if horizontal else ax.bar
    bars = draw(positions, heights, width, color=color, label=label)
    labels = ["" if f.value is None and not f.suppressed else str(f) for f in figures]
    ax.bar_label(bars, labels=labels, padding=2, fontsize=10)


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _whole_numbers(axis: Any) -> None:
    """Counts get whole-number ticks: "2.5 questions" reads as an error."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _empty(ax: Axes) -> None:
    ax.text(0.5, 0.5, "Inga data (no data)", ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def _new_chart(kind: str, height: float = 3.8) -> tuple[Chart, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as Chart

    # Narrow with large type: the same image must stay readable when a phone shrinks it to its width.
    chart = Chart(figsize=(6.4, height), dpi=100, layout="constrained")
    FigureCanvasAgg(chart)  # Agg draws without a display: servers and tests have none
    ax = chart.add_subplot()
    sv, en = CHART_TITLES[kind]
    ax.set_title(f"{sv}\n({en})", fontsize=13)
    ax.tick_params(labelsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return chart, ax


def _grouped_bars(ax: Axes, rows: Sequence[Row], series: Sequence[tuple[str, str, str]], *, width: float,
                  horizontal: bool = False) -> None:  # fmt: skip
    """One bar per (cell name, colour, label) in `series` for each row, side by side around the row's place."""
    for i, (name, color, label) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        _bars(ax, [place + offset for place in range(len(rows))], [r[name] for r in rows], width=width,
              color=color, label=label, horizontal=horizontal)  # fmt: skip
    if len(series) > 1:
        ax.legend(fontsize=10, frameon=False)


def _bilingual(name: str) -> str:
    return f"{CELL_TITLES[name][0]} ({CELL_TITLES[name][1]})"


def chart(report: Report, kind: str) -> Chart:
    """One of CHARTS as a matplotlib figure (drawn with Agg, no pyplot state)."""
    rows = {"topics": report.topics, "helpful": report.helpful, "booked": report.by_month,
            "bookings": report.bookings, "weekly": report.by_week, "fallback": report.by_week}.get(kind)  # fmt: skip
    if rows is None:
        raise ValueError(f"unknown chart {kind!r}")
    per_row = {"topics": 0.45, "helpful": 0.55}.get(kind)  # horizontal bars: the chart grows with its rows
    chart, ax = _new_chart(kind, 1.8 + per_row * max(len(rows), 1)) if per_row else _new_chart(kind)
    if not rows:
        _empty(ax)
        return chart
    if per_row:  # topics, helpful: one row a topic, longest first, counted along x
        if kind == "topics":
            _grouped_bars(ax, rows, [("questions", COLORS[0], "Frågor")], width=0.6, horizontal=True)
            ax.set_xlabel("Frågor (questions)", fontsize=11)
        else:
            _grouped_bars(ax, rows, [(name, COLORS[color], _bilingual(name)) for name, color in
                                     (("helpful", 2), ("not_helpful", 3))], width=0.38, horizontal=True)  # fmt: skip
        ax.set_yticks(range(len(rows)), [_short(r.label) for r in rows])
        ax.invert_yaxis()
        _whole_numbers(ax.xaxis)
        ax.margins(x=0.12 if kind == "topics" else 0.15)
        return chart
    labels = [r.label for r in rows]
    if kind == "booked":
        _grouped_bars(ax, rows, [("booked", COLORS[2], "Ledde till bokning")], width=0.6)
    elif kind == "bookings":
        _grouped_bars(ax, rows, [(name, COLORS[i], f"{CELL_TITLES[name][0]} ({name})")
                                 for i, name in enumerate(("made", "moved", "cancelled"))], width=0.26)  # fmt: skip
        labels = [f"{r.label}\n{r.details['developer']}" if r.details.get("developer") else r.label for r in rows]
    elif kind == "weekly":
        _grouped_bars(ax, rows, [("conversations", COLORS[0], "Samtal (conversations)"),
                                 ("messages", COLORS[1], "Meddelanden (messages)")], width=0.4)  # fmt: skip
    else:  # fallback
        _grouped_bars(ax, rows, [("fallback_rate", COLORS[3], "Andel utan svar")], width=0.6)
        ax.set_ylabel("%", fontsize=11)
        ax.set_ylim(0, 110)
    if kind in ("weekly", "fallback"):
        ax.set_xticks(range(len(rows)), [_week_label(r.key) for r in rows], rotation=45 if len(rows) > 12 else 0)
    else:
        ax.set_xticks(range(len(rows)), labels)
    if kind != "fallback":
        _whole_numbers(ax.yaxis)
    ax.margins(y=0.15)
    return chart


def chart_png(report: Report, kind: str, dpi: int = 144) -> bytes:
    out = io.BytesIO()
    chart(report, kind).savefig(out, format="png", dpi=dpi, facecolor="white")
    return out.getvalue()


# --- html ------------------------------------------------------------------------------------------

CSS = """
*{box-sizing:border-box}
body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1d232a;background:#f6f7f9;-webkit-text-size-adjust:100%}
main{max-width:58rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0 0;line-height:1.2}
h2{font-size:1.25rem;margin:2rem 0 .6rem;line-height:1.25}
h1 small,h2 small,th small,td small,.card small{display:block;font-weight:normal;font-size:.78rem;color:#5a6470}
.period{color:#3c4650;margin:.25rem 0 1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:.6rem}
.card{background:#fff;border-radius:.5rem;padding:.7rem .8rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card b{display:block;font-size:1.7rem;line-height:1.2;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;background:#fff;border-radius:.5rem;
 box-shadow:0 1px 2px rgba(0,0,0,.08)}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{padding:.45rem .6rem;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.k{white-space:nowrap}
.sup{color:#8a4b00;font-weight:600}
figure{margin:1rem 0;background:#fff;border-radius:.5rem;padding:.5rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}
figure img{display:block;width:100%;max-width:44rem;height:auto;margin:0 auto}
figcaption{font-size:.85rem;color:#5a6470;padding:.3rem .2rem 0}
ol.notes{font-size:.85rem;color:#3c4650;padding-left:1.2rem}
@media (max-width:30rem){main{padding:.6rem}table{font-size:.88rem}th,td{padding:.35rem .4rem}}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


HIDDEN_TITLE = "dold för att skydda en liten siffra (hidden so that a small figure cannot be worked out)"


def _cell(figure: Figure) -> str:
    if figure.suppressed:
        title = HIDDEN_TITLE if figure.secondary else "färre än 5 (fewer than 5)"
        return f'<span class="sup" title="{_e(title)}">{_e(figure.mark)}</span>'
    return _e(figure)


def _h2(section: str) -> str:
    sv, en = SECTION_TITLES[section]
    return f'<h2 id="{section}">{_e(sv)}<small lang="en">{_e(en)}</small></h2>'


def _html_table(section: str, rows: Sequence[Row]) -> str:
    names = list(rows[0].cells)
    extra = section == "bookings"
    head = f"<th>{_e(ROW_TITLES[section][0])}<small lang='en'>{_e(ROW_TITLES[section][1])}</small></th>"
    if extra:
        head += "<th>Affärsutvecklare<small lang='en'>business developer</small></th>"
    head += "".join(
        f"<th class='n'>{_e(CELL_TITLES[n][0])}<small lang='en'>{_e(CELL_TITLES[n][1])}</small></th>"
        for n in names
    )
    body = []
    for row in rows:
        nowrap = (
            " class='k'" if section in ("by_week", "by_month") else ""
        )  # "2026-W48" must not break at its hyphen
        cells = f"<td{nowrap}>{_e(_label(section, row))}</td>"
        if extra:
            cells += f"<td>{_e(row.details.get('developer', ''))}</td>"
        cells += "".join(f"<td class='n'>{_cell(row[n])}</td>" for n in names)
        body.append(f"<tr>{cells}</tr>")
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def _html_chart(report: Report, kind: str) -> str:
    sv, en = CHART_TITLES[kind]
    data = base64.b64encode(chart_png(report, kind)).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_e(sv)} ({_e(en)})" data-chart="{kind}">'
            f"<figcaption>{_e(SUPPRESSED)} = färre än 5 samtal, {_e(HIDDEN)} = dold för att skydda en liten siffra,"
            f" ritat som 0 <span lang='en'>({_e(SUPPRESSED)} = fewer than 5 conversations, {_e(HIDDEN)} = hidden so"
            " that a small figure cannot be worked out, drawn as 0)</span>.</figcaption></figure>")  # fmt: skip


def _html_unanswered(rows: Sequence[Row]) -> str:
    if not rows:
        return "<p>Inga (none).</p>"
    head = "<th class='n'>Gånger<small lang='en'>times</small></th><th>Grupp<small lang='en'>group</small></th>"
    body = "".join(
        f"<tr><td class='n'>{_cell(r['asked'])} gånger<small lang='en'>asked {_cell(r['asked'])} times</small>"
        f"</td><td>{_e(r.label)}</td></tr>"
        for r in rows
    )
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def to_html(report: Report) -> str:
    """One HTML file with everything inline (CSS, charts as PNG data): opens offline, also on a phone."""
    report = report.for_funders()
    parts = [_h2("summary"), "<div class='cards'>"]
    for name, figure in report.summary.items():
        sv, en = CELL_TITLES[name]
        parts.append(
            f"<div class='card'>{_e(sv)}<small lang='en'>{_e(en)}</small><b>{_cell(figure)}</b></div>"
        )
    parts.append("</div>")

    def table(section: str) -> str:
        rows = report.section(section)
        return _html_table(section, rows) if rows else "<p>Inga (none).</p>"

    parts += [_html_chart(report, "weekly")]
    parts += [_h2("topics"), _html_chart(report, "topics"), table("topics")]
    parts += [_h2("unanswered"), _html_unanswered(report.unanswered)]
    parts += [_h2("helpful"), _html_chart(report, "helpful"), table("helpful")]
    parts += [_h2("bookings"), _html_chart(report, "bookings"), table("bookings")]
    parts += [_h2("by_month"), _html_chart(report, "booked"), table("by_month")]
    parts += [_h2("by_week"), _html_chart(report, "fallback"), table("by_week")]
    for section in ("by_region", "by_lang", "by_channel", "bands"):
        parts += [_h2(section), table(section)]
    notes = "".join(f"<li>{_e(note)}</li>" for note in report.notes)
    parts.append(f"<h2>Noter<small lang='en'>Notes</small></h2><ol class='notes'>{notes}</ol>")
    return f"""<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>socialbot – statistik {_e(period_text(report))}</title>
<style>{CSS}</style>
</head>
<body><main>
<h1>socialbot – statistik<small lang="en">Anonymised statistics</small></h1>
<p class="period">Period: {_e(period_text(report))}</p>
{"".join(parts)}
</main></body>
</html>
"""
