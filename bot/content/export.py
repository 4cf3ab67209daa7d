"""`socialbot export`: the whole content as rows, for staff who review or translate in a spreadsheet."""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

from bot.content.model import Content


def export_rows(content: Content) -> list[dict[str, Any]]:
    """One row per topic, language and region-specific answer (region None when shared by all)."""
    rows = []
    for topic in content.topics.values():
        for region, lang in topic.answers:
            rows.append(
                {
                    "topic": topic.id,
                    "lang": lang,
                    "region": region,
                    "title": topic.title[lang],
                    "examples": list(topic.examples.get(lang, ())),
                    "answer": topic.answers[(region, lang)].strip(),
                    "source": " ; ".join(topic.source),
                    "reviewed": topic.reviewed.isoformat(),
                }
            )
    return rows


def write_json(rows: list[dict[str, Any]], out: TextIO) -> None:
    json.dump(rows, out, ensure_ascii=False, indent=2)
    out.write("\n")


def write_csv(rows: list[dict[str, Any]], out: TextIO) -> None:
    fields = ["topic", "lang", "region", "title", "examples", "answer", "source", "reviewed"]
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "region": row["region"] or "", "examples": "\n".join(row["examples"])})
