"""Plotly figures of the report, built from query results (:mod:`growthops.report.queries`).

Each function returns a figure *spec* (``{"data": [...], "layout": {...}}``, plain JSON values):
the page embeds it and plotly.js (shipped beside the pages, no CDN) draws it. Values are passed
as lists, never numpy arrays, so the spec holds the numbers themselves (a test can read them).
"""

from __future__ import annotations

from typing import Any

from growthops.report.queries import Table

Spec = dict[str, Any]
PERCENT = ".0%"


def _spec(fig: Any) -> Spec:
    import json

    import plotly.io as pio

    return json.loads(pio.to_json(fig, validate=True, pretty=False, remove_uids=True))


def _layout(fig: Any, title: str, height: int = 420) -> None:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.15},
    )


def _monthly(fig: Any) -> None:
    """Month-start dates on the x axis: one tick per month, labelled like "Jan 2025"."""
    fig.update_xaxes(dtick="M1", tickformat="%b %Y")


def channel_funnel(table: Table, currency: str) -> Spec:
    """Four panels (spend, signups, new customers, revenue), one bar per channel in each."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    panels = [
        ("spend", f"Spend ({currency})"),
        ("signups", "Signups"),
        ("new_customers", "New customers"),
        ("revenue", f"Attributed revenue ({currency})"),
    ]
    fig = make_subplots(rows=2, cols=2, subplot_titles=[t for _, t in panels], vertical_spacing=0.18)
    channels = table.column("channel")
    for i, (col, title) in enumerate(panels):
        fig.add_trace(
            go.Bar(x=channels, y=table.column(col), name=title, showlegend=False),
            row=i // 2 + 1,
            col=i % 2 + 1,
        )
    _layout(fig, "Channel funnel, whole period", height=620)
    return _spec(fig)


def cac_roas(table: Table, currency: str) -> Spec:
    """CAC (top) and ROAS (bottom) by month, one line per paid channel in each."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        subplot_titles=[f"CAC ({currency} per new customer)", "ROAS (attributed revenue / spend)"],
        vertical_spacing=0.12,
    )
    from plotly.colors import qualitative

    records = table.records()
    for i, channel in enumerate(dict.fromkeys(table.column("channel"))):
        color = qualitative.Plotly[i % len(qualitative.Plotly)]
        rows = [r for r in records if r["channel"] == channel]
        months = [str(r["month"]) for r in rows]
        for n, metric in enumerate(("cac", "roas"), start=1):
            fig.add_trace(
                go.Scatter(
                    x=months,
                    y=[r[metric] for r in rows],
                    name=channel,
                    legendgroup=channel,
                    showlegend=n == 1,
                    mode="lines+markers",
                    line={"color": color},
                ),
                row=n,
                col=1,
            )
    _monthly(fig)
    _layout(fig, "CAC and ROAS by month, paid channels", height=620)
    return _spec(fig)


def cohort_heatmap(table: Table) -> Spec:
    """Retention rate per cohort month (rows) x months since first order (columns); a cohort's
    periods that have not happened yet are empty cells (no row in the mart)."""
    import plotly.graph_objects as go

    cohorts = sorted({str(c) for c in table.column("cohort_month")})
    periods = list(range(max(table.column("months_since_first_order"), default=-1) + 1))
    z: list[list[float | None]] = [[None] * len(periods) for _ in cohorts]
    row_of = {c: i for i, c in enumerate(cohorts)}
    for r in table.records():
        z[row_of[str(r["cohort_month"])]][r["months_since_first_order"]] = r["retention_rate"]
    fig = go.Figure(
        go.Heatmap(
            x=periods,
            y=cohorts,
            z=z,
            zmin=0,
            zmax=1,
            colorscale="Blues",
            texttemplate="%{z:.0%}",
            hovertemplate="cohort %{y}<br>month %{x}<br>retention %{z:.1%}<extra></extra>",
            colorbar={"tickformat": PERCENT},
        )
    )
    _layout(fig, "Cohort retention (all channels)", height=max(320, 60 + 28 * len(cohorts)))
    fig.update_xaxes(title_text="months since first order", dtick=1)
    fig.update_yaxes(title_text="cohort month", autorange="reversed", type="category")
    return _spec(fig)


def funnel_stages(table: Table) -> Spec:
    """signup → engaged → customer → repeat, all channels (the ``all`` row)."""
    import plotly.graph_objects as go

    total = next(r for r in table.records() if r["channel"] == "all")
    stages = ["signups", "engaged", "customers", "repeat_customers"]
    fig = go.Figure(
        go.Funnel(
            y=["Signups", "Engaged", "Customers", "Repeat customers"],
            x=[total[s] for s in stages],
            textinfo="value+percent initial",
        )
    )
    _layout(fig, "Signup → engaged → customer → repeat (all signup months)", height=380)
    return _spec(fig)


def growth_accounting(table: Table) -> Spec:
    """New, retained, resurrected (up) and churned (down) customers per month, quick ratio line."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    months = [str(p) for p in table.column("period")]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for col, sign in (
        ("new_customers", 1),
        ("retained_customers", 1),
        ("resurrected_customers", 1),
        ("churned_customers", -1),
    ):
        if col in table.columns:
            values = [None if v is None else sign * v for v in table.column(col)]
            fig.add_trace(go.Bar(x=months, y=values, name=col.replace("_", " ")))
    if "quick_ratio" in table.columns:
        fig.add_trace(
            go.Scatter(x=months, y=table.column("quick_ratio"), name="quick ratio", mode="lines+markers"),
            secondary_y=True,
        )
    fig.update_layout(barmode="relative")
    fig.update_yaxes(title_text="customers", secondary_y=False)
    fig.update_yaxes(title_text="quick ratio", rangemode="tozero", secondary_y=True)
    _monthly(fig)
    _layout(fig, "Growth accounting (all channels)")
    return _spec(fig)


def unit_economics(table: Table, currency: str) -> Spec:
    """CAC (bars) against LTV after k months (lines) per acquisition month, all channels."""
    import plotly.graph_objects as go

    months = [str(p) for p in table.column("period")]
    fig = go.Figure()
    if "cac" in table.columns:
        fig.add_trace(go.Bar(x=months, y=table.column("cac"), name="CAC (blended)"))
    for col in ("ltv_0", "ltv_1", "ltv_3", "ltv_6", "ltv_12"):
        if col in table.columns:
            fig.add_trace(go.Scatter(x=months, y=table.column(col), name=col, mode="lines+markers"))
    _monthly(fig)
    _layout(fig, f"CAC vs LTV by acquisition month ({currency} per customer)")
    return _spec(fig)


def _bound_columns(columns: list[str], measure: str) -> tuple[str | None, str | None]:
    low = next((c for c in columns if c.startswith(measure) and c.endswith(("_low", "_lower"))), None)
    high = next((c for c in columns if c.startswith(measure) and c.endswith(("_high", "_upper"))), None)
    return low, high


def recall_lift(table: Table) -> Spec | None:
    """Incremental reactivations per campaign with their 95 % interval (when published)."""
    import plotly.graph_objects as go

    measure = "incremental_reactivations"
    if measure not in table.columns:
        return None
    names = [
        str(v) for v in table.column("campaign_name" if "campaign_name" in table.columns else "campaign_id")
    ]
    values = table.column(measure)
    low, high = _bound_columns(table.columns, measure)
    error = None
    if low and high:
        error = {
            "type": "data",
            "symmetric": False,
            "array": [
                None if h is None or v is None else h - v
                for h, v in zip(table.column(high), values, strict=True)
            ],
            "arrayminus": [
                None if lo is None or v is None else v - lo
                for lo, v in zip(table.column(low), values, strict=True)
            ],
        }
    fig = go.Figure(go.Bar(x=names, y=values, error_y=error, name="incremental reactivations"))
    _layout(fig, "Recall lift: incremental reactivations per campaign (95 % interval)")
    return _spec(fig)


def quality_runs(table: Table) -> Spec:
    """Files per raw gate outcome for each publication (stacked), rows rejected on the right axis."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    runs = table.column("run_id")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for col in ("loaded", "loaded_with_rejects", "quarantined", "failed"):
        fig.add_trace(go.Bar(x=runs, y=table.column(col), name=col.replace("_", " ")))
    fig.add_trace(
        go.Scatter(x=runs, y=table.column("rows_rejected"), name="rows rejected", mode="lines+markers"),
        secondary_y=True,
    )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    fig.update_yaxes(rangemode="tozero", title_text="rows rejected", secondary_y=True)
    fig.update_yaxes(title_text="files", secondary_y=False)
    _layout(fig, "Raw gate outcomes of the files loaded for each publication")
    return _spec(fig)
