"""The trends report as one self-contained HTML page: the price index over time with its band, the
repeat-sales index and the forecast; predicted against actual log prices; residuals by medium; the figures
as a table. Plots are inline SVG drawn by matplotlib."""

from __future__ import annotations

import html
import io
from typing import Any

import numpy as np

from artlens.market.indices import hedonic_index
from artlens.market.normalise import Prepared

__all__ = ["trends_csv", "trends_html"]

_CSS = """body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}figure{margin:0}svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:13px}
td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.note{color:#555;font-size:13px}.grid{display:flex;gap:1em;flex-wrap:wrap}
.grid figure{flex:1 1 440px}"""


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buffer.getvalue()
    return text[text.find("<svg") :]


def _index_plot(record: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.8))
    hedonic = record["hedonic"]
    labels = hedonic["periods"]
    x = np.arange(len(labels))
    ax.fill_between(x, hedonic["low"], hedonic["high"], color="#4c72b0", alpha=0.2, label="95 % band")
    ax.plot(x, hedonic["index"], "o-", color="#4c72b0", label="hedonic time-dummy")
    repeat = record.get("repeat_sales")
    if repeat:
        values = np.array([np.nan if v is None else v for v in repeat["index"]], dtype=float)
        ax.plot(x, values, "s--", color="#dd8452", label=f"repeat sales ({repeat['observations']} pairs)")
    forecast = record["forecast"]
    fx = np.arange(len(labels) - 1, len(labels) + len(forecast["periods"]))
    last = hedonic["index"][-1]
    ax.plot(fx, [last, *forecast["index"]], ":", color="#55a868", label="forecast")
    ax.fill_between(
        fx,
        [last, *forecast["index_low"]],
        [last, *forecast["index_high"]],
        color="#55a868",
        alpha=0.15,
    )
    ax.set_xticks(np.arange(len(labels) + len(forecast["periods"])))
    ax.set_xticklabels([*labels, *forecast["periods"]], rotation=45, fontsize=8)
    ax.set_ylabel("index (first period = 100)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _svg(fig)


def _fit_plots(p: Prepared) -> tuple[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    index = hedonic_index(p)
    y, yhat = index.observed, index.fitted
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.scatter(yhat, y, s=5, alpha=0.35, color="#4c72b0")
    lo, hi = float(min(y.min(), yhat.min())), float(max(y.max(), yhat.max()))
    ax.plot([lo, hi], [lo, hi], color="#c44e52", lw=1)
    ax.set_xlabel("predicted log price (hedonic)")
    ax.set_ylabel("actual log price")
    ax.grid(alpha=0.3)
    scatter = _svg(fig)
    sold_medium = p.medium[p.sold]
    cats = sorted(set(sold_medium.tolist()))
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.boxplot([y[sold_medium == c] - yhat[sold_medium == c] for c in cats], showfliers=False)
    ax.set_xticks(np.arange(1, len(cats) + 1))
    ax.set_xticklabels(cats, rotation=35, fontsize=8, ha="right")
    ax.axhline(0, color="#c44e52", lw=1)
    ax.set_ylabel("residual (log points)")
    ax.grid(alpha=0.3)
    return scatter, _svg(fig)


def _table(record: dict[str, Any]) -> str:
    h = record["hedonic"]
    repeat = (record.get("repeat_sales") or {}).get("index") or [None] * len(h["periods"])
    rows = []
    for i, label in enumerate(h["periods"]):
        share = record["bought_in_share"][i]
        rows.append(
            f"<tr><td>{html.escape(label)}</td><td>{h['index'][i]:.1f}</td>"
            f"<td>{h['low'][i]:.1f}-{h['high'][i]:.1f}</td>"
            f"<td>{'' if repeat[i] is None else f'{repeat[i]:.1f}'}</td><td>{record['sales'][i]}</td>"
            f"<td>{'' if share is None else f'{100 * share:.0f} %'}</td></tr>"
        )
    f = record["forecast"]
    for i, label in enumerate(f["periods"]):
        rows.append(
            f"<tr><td>{html.escape(label)} (forecast)</td><td>{f['index'][i]:.1f}</td>"
            f"<td>{f['index_low'][i]:.1f}-{f['index_high'][i]:.1f}</td><td></td><td></td><td></td></tr>"
        )
    return (
        "<table><tr><th>period</th><th>hedonic index</th><th>95 % band (80 % for forecasts)</th>"
        "<th>repeat sales</th><th>sold lots</th><th>bought in</th></tr>" + "".join(rows) + "</table>"
    )


def trends_html(record: dict[str, Any], p: Prepared) -> str:
    """The page for an ``artlens.market-trends/1`` record and the prepared sales it came from."""
    overall = record["all"]
    scatter, residuals = _fit_plots(p)
    groups = record.get("groups") or {}
    group_parts = "".join(
        f"<h2>{html.escape(str(record['by']))}: {html.escape(name)}</h2><figure>{_index_plot(rec)}</figure>"
        for name, rec in list(groups.items())[:12]
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>artlens market trends</title>
<style>{_CSS}</style></head><body>
<h1>Market trends: {html.escape(str(record["source"]))}</h1>
<p class="note">{record["sales"]} sales, {record["bought_in"]} bought in (censored: left out of the indices,
their share per period is in the table). Prices in the base currency; periods by {record["frequency"]}.</p>
<h2>Price index</h2><figure id="index-plot">{_index_plot(overall)}</figure>
<div class="grid"><figure id="predicted-actual"><h2>Predicted against actual</h2>{scatter}</figure>
<figure id="residuals"><h2>Residuals by medium</h2>{residuals}</figure></div>
<h2>Figures</h2>{_table(overall)}
{group_parts}
<p class="note">Hedonic time-dummy index with HC1 standard errors; repeat-sales index after Case &amp; Shiller
(1987); forecast: AR(1) on the index changes, 80 % intervals without the index's own estimation error.</p>
</body></html>
"""


def trends_csv(record: dict[str, Any]) -> str:
    """The index figures as CSV: one row per group and period (forecast rows marked)."""
    lines = ["group,period,kind,hedonic_index,low,high,repeat_sales_index,sold,bought_in_share"]
    parts = [("all", record["all"]), *dict(record.get("groups") or {}).items()]
    for name, rec in parts:
        h, r = rec["hedonic"], rec.get("repeat_sales") or {}
        for i, label in enumerate(h["periods"]):
            rs = r["index"][i] if r else None
            share = rec["bought_in_share"][i]
            lines.append(
                f"{name},{label},index,{h['index'][i]},{h['low'][i]},{h['high'][i]},"
                f"{'' if rs is None else rs},{rec['sales'][i]},{'' if share is None else share}"
            )
        f = rec["forecast"]
        for i, label in enumerate(f["periods"]):
            lines.append(
                f"{name},{label},forecast,{f['index'][i]},{f['index_low'][i]},{f['index_high'][i]},,,"
            )
    return "\n".join(lines) + "\n"
