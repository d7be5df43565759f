"""The reports' HTML: one self-contained page (inline style and SVG, no script, nothing
fetched), built from small escaped parts."""

from __future__ import annotations

import html
import time
from typing import Iterable, Sequence

import pandas as pd

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1000px;
color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f6f8;text-align:left}td{font-variant-numeric:tabular-nums}
.banner{padding:10px 14px;border-radius:6px;font-weight:600;margin:10px 0}
.ok{background:#e8f6ee;color:#1e7a46}.bad{background:#fdecea;color:#a12b1f}
.warn{background:#fff5e0;color:#8a5a00}.info{background:#eef3f8;color:#2c3e50}
.note{color:#555;font-size:13px}figure{margin:12px 0}figure svg{max-width:100%;height:auto}
pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12px}code{font-size:12px}
"""


def esc(value: object) -> str:
    return html.escape(str(value))


def page(title: str, parts: Iterable[str]) -> str:
    made = time.strftime("%Y-%m-%d %H:%M:%S %z")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{esc(title)}</h1>{''.join(parts)}"
            f"<p class='note'>Made {esc(made)} by the MLPerf llama3.1-8b harness "
            f"(<code>python -m harness report</code>).</p></body></html>\n")


def banner(kind: str, text: str, details: Sequence[str] = ()) -> str:
    """kind: ok, bad, warn or info."""
    items = "".join(f"<li>{esc(d)}</li>" for d in details)
    return (f"<div class='banner {kind}'>{esc(text)}"
            + (f"<ul>{items}</ul>" if items else "") + "</div>")


def heading(text: str) -> str:
    return f"<h2>{esc(text)}</h2>"


def note(text: str) -> str:
    return f"<p class='note'>{esc(text)}</p>"


def figure(svg: str) -> str:
    return f"<figure>{svg}</figure>"


def key_values(rows: Iterable[tuple[str, object]]) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def table(frame: pd.DataFrame) -> str:
    """A pandas table, escaped."""
    return frame.to_html(index=False, escape=True, border=0, na_rep="-")


def links(items: Iterable[tuple[str, str]]) -> str:
    """A list of (text, relative href) links."""
    body = "".join(f"<li><a href='{esc(href)}'>{esc(text)}</a></li>" for text, href in items)
    return f"<ul>{body}</ul>"


def preformatted(summary: str, text: str) -> str:
    return f"<details><summary>{esc(summary)}</summary><pre>{esc(text)}</pre></details>"
