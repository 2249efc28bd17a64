"""Print `backtest` figures as rich tables, the policy beside the one it is compared against."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tianwang.decision.outcomes import OUTCOMES


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def _yuan(x: float) -> str:
    return f"¥{x:,.2f}"


def _held(x: dict | None) -> str:
    return "—" if not x else f"{x['revised_to_reject']:,} of {x['held']:,}"


def print_report(result: dict, console: Console) -> None:
    runs = result["policies"]
    roles = list(runs)
    heads = [f"{role}: {Path(runs[role]['folder']).name}\n(policy {runs[role]['name']!r})" for role in roles]
    first = runs[roles[0]]

    console.print(
        f"[bold]backtest[/] of {result['log']} ({result['lines']:,} lines); "
        + "; ".join(f"{role} {runs[role]['folder']}: {runs[role]['events']:,} events in "
                    f"{runs[role]['seconds']:.1f}s ({runs[role]['events_per_s'] or 0:,.0f}/s)" for role in roles)
    )

    t = Table("target", "goal", *heads, title="targets of the default policy")
    names = {
        "ring_apply_stopped": "ring / batch-attack applications stopped",
        "telecom_scam_drawdown_intervened": "telecom-scam drawdowns intervened",
        "normal_apply_rejected": "normal applications rejected",
        "normal_drawdown_interrupted": "normal drawdowns interrupted",
    }
    for key, name in names.items():
        cells = []
        for role in roles:
            f = runs[role]["targets"][key]
            mark = {True: "[green]✓[/]", False: "[red]✗[/]", None: ""}[f["met"]]
            cells.append(f"{_pct(f['share'])} ({f['count']:,}/{f['events']:,}) {mark}")
        t.add_row(name, first["targets"][key]["target"], *cells)
    console.print(t)

    t = Table("attack type", "events", *(f"stopped\n{r}" for r in roles), *(f"intervened\n{r}" for r in roles),
              *(f"cases caught\n{r}" for r in roles), title="per attack type (stopped = reject / delay / verify)")
    for lb, f in first["attack_types"].items():
        rows = [runs[r]["attack_types"].get(lb, {}) for r in roles]
        t.add_row(lb, f"{f['events']:,}",
                  *(_pct(x.get("stopped_share")) for x in rows),
                  *(_pct(x.get("intervened_share")) for x in rows),
                  *(f"{x.get('cases_caught', 0)}/{x.get('cases', 0)}" for x in rows))
    console.print(t)

    t = Table("normal, by scene", "events", *(f"interrupted\n{r}" for r in roles), *(f"rejected\n{r}" for r in roles),
              title="false positives on normal customers")
    for scene, f in first["false_positives"]["by_scene"].items():
        rows = [runs[r]["false_positives"]["by_scene"].get(scene, {}) for r in roles]
        t.add_row(scene, f"{f['events']:,}", *(_pct(x.get("interrupted_share")) for x in rows),
                  *(_pct(x.get("rejected_share")) for x in rows))
    console.print(t)

    t = Table("normal, by outcome", *heads)
    for o in OUTCOMES:
        t.add_row(o, *(f"{runs[r]['false_positives']['by_outcome'][o]['events']:,} "
                       f"({_pct(runs[r]['false_positives']['by_outcome'][o]['share'])})" for r in roles))
    console.print(t)

    groups = first["false_positives"]["by_group"]
    if groups:
        t = Table("hard-normal group", "events", *(f"interrupted\n{r}" for r in roles),
                  *(f"apply rejected\n{r}" for r in roles), *(f"drawdown interrupted\n{r}" for r in roles))
        for g, f in groups.items():
            rows = [runs[r]["false_positives"]["by_group"].get(g, {}) for r in roles]
            t.add_row(g, f"{f['events']:,}", *(_pct(x.get("interrupted_share")) for x in rows),
                      *(_pct(x.get("apply_rejected_share")) for x in rows),
                      *(_pct(x.get("drawdown_interrupted_share")) for x in rows))
        console.print(t)

    days = sorted(set().union(*(runs[r]["review_per_day"] for r in roles)))
    t = Table("day", *(f"reviews\n{r}" for r in roles), title="review load")
    for d in days:
        t.add_row(d, *(f"{runs[r]['review_per_day'].get(d, 0):,}" for r in roles))
    t.add_row("mean / day", *(f"{runs[r]['review_per_day_mean']:,}" for r in roles), style="bold")
    console.print(t)

    t = Table("money (attack apply / drawdown / payment)", *heads, title="money protected (stopped)")
    t.add_row("protected", *(_yuan(runs[r]["money"]["protected_yuan"]) for r in roles))
    t.add_row("at risk", *(_yuan(runs[r]["money"]["at_risk_yuan"]) for r in roles))
    t.add_row("share", *(_pct(runs[r]["money"]["share"]) for r in roles))
    for lb, f in first["money"]["by_type_yuan"].items():
        t.add_row(f"  {lb}", *(f"{_yuan(runs[r]['money']['by_type_yuan'].get(lb, {}).get('protected', 0))} "
                               f"of {_yuan(f['at_risk'])}" for r in roles))
    console.print(t)

    rows = sorted({k for r in roles for k in runs[r].get("reverse_notification", {})})
    if rows:
        t = Table("label / scene", *heads, title="held (review / verify / delay), then rejected by reverse notification")
        for k in rows:
            t.add_row(k, *(_held(runs[r].get("reverse_notification", {}).get(k)) for r in roles))
        console.print(t)

    bad = result["bad_lines"]
    if bad:
        console.print(f"[red]{len(bad)} bad lines[/] (reported and skipped):")
        for b in bad[:20]:
            console.print(f"[red]line {b['line']}[/]: {escape(b['message'])}")
        if len(bad) > 20:
            console.print(f"… and {len(bad) - 20} more bad lines")
