"""``python -m pipeline report``: processed/ -> reports/index.html and researcher exports.

One self-contained HTML page (inline CSS, images embedded as data URIs, no scripts, no
network): every document with its status and proposal count (also documents with no
proposals and documents that failed), proposals by actor x theme x level with the
codebook's Swedish names, examples per theme, the same proposal across actors
(:mod:`pipeline.groups`), and the out-of-sample quality figures with their caveats, read
from ``models/metadata.json`` and ``reports/evaluation.md`` when they exist.

Beside it the command writes, to processed/: ``proposal_groups.csv`` (+ ``.parquet``) and
``proposals.xlsx`` (sheets: proposals, documents, proposal_groups, themes; typed, see
:mod:`pipeline.outputs`). The other tables' Parquet files are ``make extract``'s.
Same inputs, same bytes.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
from pathlib import Path
from typing import Optional

import pandas as pd

from pipeline import config
from pipeline.errors import PipelineError
from pipeline.groups import DEFAULT_THRESHOLD, group_proposals, group_summary
from pipeline.outputs import (enrich, level_names, read_table, researcher_sheets, theme_names, typed,
                              write_parquet, write_xlsx)
from pipeline.storage import atomic_write_text, read_csv, write_csv

log = logging.getLogger(__name__)

REPORT_FILE = "index.html"
N_EXAMPLES = 3  # example proposals per theme
N_GROUPS_SHOWN = 40  # groups listed in the report (all are in proposal_groups.csv)
NO_LABEL = "(no label)"
NO_ACTOR = "(unknown actor)"

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d2733;
background:#f6f7f9;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:1.7em;margin:.2em 0 .1em}h2{font-size:1.3em;margin-top:1.8em;border-bottom:2px solid #d8dee6;
padding-bottom:.2em}h3{font-size:1.05em;margin:1.2em 0 .4em}
p.lead{color:#4a5867;margin-top:0}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em;width:100%}
th,td{border:1px solid #d8dee6;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#eef2f6;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.sub td{background:#f6f8fa;font-weight:600}tr.zero td{background:#fff8e1}tr.error td{background:#fdecea}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:.85em;background:#e3e8ee;white-space:nowrap}
td.id{font-size:.82em;color:#4a5867;word-break:break-all;min-width:9em}
.badge.error{background:#f5c6c2}.badge.ok{background:#cfe8d4}.badge.zero{background:#ffe6a6}
.note{background:#f3f6fa;border-left:4px solid #7a93ad;padding:8px 12px;margin:.8em 0}
.warn{background:#fff4e0;border-left:4px solid #e0a030;padding:8px 12px;margin:.8em 0}
.summary{display:flex;gap:14px;flex-wrap:wrap;margin:12px 0}
.summary div{background:#eef2f6;border-radius:6px;padding:8px 14px}.summary b{font-size:1.3em;display:block}
img{max-width:100%}nav a{margin-right:14px}code{background:#eef2f6;padding:0 3px;border-radius:3px}
details{margin:.8em 0}summary{cursor:pointer;font-weight:600}
.muted{color:#6b7785}
table.ex{table-layout:fixed}table.ex th:nth-child(1){width:40%}table.ex th:nth-child(2){width:15%}
table.ex th:nth-child(3){width:17%}table.ex th:nth-child(4),table.ex th:nth-child(5){width:5%}
table.ex th:nth-child(6),table.ex th:nth-child(7),table.ex th:nth-child(8){width:6.5%}
"""


# --------------------------------------------------------------------------- html helpers


def esc(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value))


def table(df: pd.DataFrame, numeric: tuple[str, ...] = (), row_class=None, raw: tuple[str, ...] = (),
          css: str = "") -> str:
    """An HTML table; ``numeric`` columns right-aligned, ``raw`` columns already HTML."""
    if df.empty:
        return '<p class="muted">(none)</p>'
    head = "".join(f'<th class="n">{esc(c)}</th>' if c in numeric else f"<th>{esc(c)}</th>" for c in df.columns)
    body = []
    for i, row in enumerate(df.itertuples(index=False, name=None)):
        cls = row_class(i) if row_class else ""
        cells = []
        for col, v in zip(df.columns, row):
            text = str(v) if col in raw else esc(v)
            cls_ = "n" if col in numeric else "id" if col in ("doc_id", "group_id") else ""
            cells.append(f'<td class="{cls_}">{text}</td>' if cls_ else f"<td>{text}</td>")
        body.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>" if cls else "<tr>" + "".join(cells) + "</tr>")
    open_tag = f'<table class="{css}">' if css else "<table>"
    return f"{open_tag}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def shown(path: Path) -> str:
    """A path as the page shows it: relative to the repository when inside it (the page
    is the same on every checkout), else as given."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(config.REPO_ROOT))
    except ValueError:
        return str(p)


def png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------- inputs


def load_tables(processed: Path) -> dict[str, pd.DataFrame]:
    """documents and proposals from processed/ (typed, enriched); a clear error when missing."""
    missing = [n for n in ("documents", "proposals") if not (Path(processed) / f"{n}.csv").exists()]
    if missing:
        raise PipelineError(f"{processed}: no {', '.join(m + '.csv' for m in missing)} (run `make extract` first)")
    tables = {n: read_table(processed, n) for n in ("documents", "proposals")}
    return enrich(tables)


def load_model_metadata(models_dir: Path) -> Optional[dict]:
    path = Path(models_dir) / "metadata.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None


def _top(proposals: pd.DataFrame) -> pd.DataFrame:
    """Top-level units (a statement repeats part of its bullet): counts never double."""
    if "unit" not in proposals:
        return proposals
    return proposals[proposals["unit"].astype(str) != "statement"]


def _actor(df: pd.DataFrame) -> pd.Series:
    """The proposal's actor, else the document's, else a placeholder."""
    a = df["actor"].astype("string").fillna("").str.strip() if "actor" in df else pd.Series("", index=df.index)
    if "doc_actor" in df:
        a = a.where(a != "", df["doc_actor"].astype("string").fillna("").str.strip())
    return a.where(a != "", NO_ACTOR)


# --------------------------------------------------------------------------- sections


def documents_section(docs: pd.DataFrame, props: pd.DataFrame) -> str:
    top = _top(props)
    n_props = top.groupby("doc_id").size() if len(top) else pd.Series(dtype=int)
    n_review = (top[top["needs_review"].fillna(False).astype(bool)].groupby("doc_id").size()
                if "needs_review" in top and len(top) else pd.Series(dtype=int))
    rows, classes = [], []
    for d in docs.sort_values(["status", "doc_id"], key=lambda s: s.map({"error": 1}).fillna(0)
                              if s.name == "status" else s, kind="stable").itertuples(index=False):
        d = d._asdict()
        n = int(n_props.get(d["doc_id"], 0))
        if d.get("status") == "error":
            status = f'<span class="badge error">failed</span> {esc(d.get("error", ""))}'
            classes.append("error")
        elif n == 0:
            status = '<span class="badge zero">ok, 0 proposals</span>'
            classes.append("zero")
        else:
            status = '<span class="badge ok">ok</span>'
            classes.append("")
        title = d.get("title") or ""
        rows.append({
            "document": title if re.search(r"[^\W\d_]", title) else d.get("source_file", ""),
            "doc_id": d["doc_id"],
            "actor": d.get("actor", ""),
            "year": "" if pd.isna(d.get("year")) else d.get("year"),
            "kind": d.get("kind", ""),
            "format": d.get("format", ""),
            "pages": "" if pd.isna(d.get("n_pages")) else d.get("n_pages"),
            "status": status,
            "proposals": n,
            "needs review": int(n_review.get(d["doc_id"], 0)),
        })
    df = pd.DataFrame(rows)
    if "needs_review" not in top or top["needs_review"].isna().all():
        df = df.drop(columns="needs review")  # no labels: nothing to review yet
    n_err = int((docs["status"] == "error").sum()) if "status" in docs else 0
    n_zero = sum(c == "zero" for c in classes)
    intro = (f"<p>{len(docs)} documents: {len(docs) - n_err} read, {n_err} failed; "
             f"{n_zero} read without any proposal found. Counts are top-level proposals "
             "(bullets, items, sentences in running text); a bullet's separate demands "
             "(<code>unit = statement</code>) are not counted again.</p>")
    return ('<h2 id="documents">Documents</h2>' + intro
            + table(df, numeric=("year", "pages", "proposals", "needs review"), raw=("status",),
                    row_class=lambda i: classes[i]))


def crosstab_section(props: pd.DataFrame) -> str:
    top = _top(props)
    if top.empty:
        return '<h2 id="themes">Proposals by actor, theme and level</h2><p class="muted">No proposals.</p>'
    names = theme_names()
    lv_names = level_names()
    if not (top["theme"].astype("string").fillna("") != "").any():
        per_actor = _actor(top).value_counts().rename_axis("actor").reset_index(name="proposals")
        per_actor = per_actor.sort_values(["proposals", "actor"], ascending=[False, True], kind="stable")
        return ('<h2 id="themes">Proposals by actor, theme and level</h2>'
                '<p class="warn">No proposal has a theme or level label (extracted with <code>--no-classify</code>, '
                "or no trained model): counts per actor only.</p>" + table(per_actor, numeric=("proposals",)))
    t = top.assign(_actor=_actor(top),
                   _theme=top["theme"].astype("string").fillna("").map(lambda x: names.get(x, x) or NO_LABEL),
                   _level=top["level"].astype("string").fillna("").map(lambda x: lv_names.get(x, x) or NO_LABEL))
    levels = [lv_names[k] for k in lv_names if lv_names[k] in set(t["_level"])]
    levels += sorted(set(t["_level"]) - set(levels))
    pv = pd.crosstab([t["_actor"], t["_theme"]], t["_level"]).reindex(columns=levels, fill_value=0)
    rows, classes = [], []
    for actor in sorted(pv.index.get_level_values(0).unique()):
        block = pv.loc[actor]
        block = block.assign(_tot=block.sum(axis=1)).sort_values(["_tot"], ascending=False, kind="stable")
        for theme, r in block.iterrows():
            rows.append({"actor": actor, "theme": theme, **{lv: int(r[lv]) for lv in levels}, "total": int(r["_tot"])})
            classes.append("")
        if len(block) > 1:
            rows.append({"actor": actor, "theme": "all themes", **{lv: int(block[lv].sum()) for lv in levels},
                         "total": int(block["_tot"].sum())})
            classes.append("sub")
    rows.append({"actor": "all actors", "theme": "all themes", **{lv: int(pv[lv].sum()) for lv in levels},
                 "total": int(pv.to_numpy().sum())})
    classes.append("sub")
    by_theme = pd.crosstab(t["_theme"], t["_level"]).reindex(columns=levels, fill_value=0)
    theme_tab = by_theme.assign(total=by_theme.sum(axis=1)).sort_values("total", ascending=False, kind="stable")
    theme_tab = theme_tab.reset_index().rename(columns={"_theme": "theme"})
    theme_tab.columns.name = None
    img = f'<img alt="proposals per theme and level" src="{png_data_uri(theme_chart(by_theme))}">'
    return ('<h2 id="themes">Proposals by actor, theme and level</h2>'
            "<p>Theme and level names from the codebook (<code>pipeline/classify/codebook.yaml</code>). "
            "The actor is the one the proposal's list intro names, else the document's author.</p>"
            "<h3>All actors, per theme</h3>" + img
            + table(theme_tab, numeric=tuple(levels) + ("total",))
            + "<h3>Per actor</h3>"
            + table(pd.DataFrame(rows), numeric=tuple(levels) + ("total",), row_class=lambda i: classes[i]))


def theme_chart(by_theme: pd.DataFrame) -> bytes:
    """Stacked horizontal bars: proposals per theme, split by level (deterministic PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = by_theme.sum(axis=1).sort_values(kind="stable").index
    data = by_theme.loc[order]
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(data) + 1.2))
    left = pd.Series(0, index=data.index)
    colors = ["#4e79a7", "#f28e2b", "#59a14f", "#9c9c9c", "#b07aa1"]
    for i, col in enumerate(data.columns):
        ax.barh(data.index, data[col], left=left, label=col, color=colors[i % len(colors)])
        left = left + data[col]
    ax.set_xlabel("proposals")
    ax.legend(title="level", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def examples_section(props: pd.DataFrame) -> str:
    top = _top(props)
    if top.empty or "theme" not in top:
        return ""
    names = theme_names()
    parts = ['<h2 id="examples">Examples</h2>',
             f"<p>Up to {N_EXAMPLES} proposals per theme, each document's most confident first "
             "(reviewed labels count as sure).</p>"]
    t = top.assign(_conf=top["theme_confidence"].astype("Float64").fillna(0.0) if "theme_confidence" in top else 0.0)
    for theme in list(names) + sorted(set(t["theme"].astype(str)) - set(names)):
        g = t[t["theme"].astype(str) == theme]
        if g.empty:
            continue
        # the most confident proposal of each document first, so examples come from several documents
        g = g.sort_values(["_conf", "proposal_id"], ascending=[False, True], kind="stable")
        g = g.assign(_rank=g.groupby("doc_id").cumcount())
        g = g.sort_values(["_rank", "_conf", "proposal_id"], ascending=[True, False, True],
                          kind="stable").head(N_EXAMPLES)
        df = pd.DataFrame({
            "proposal": g["text"],
            "actor": _actor(g),
            "document": g["doc_title"].where(g["doc_title"].astype(str) != "", g["doc_id"]),
            "year": g["doc_year"],
            "page": g["page"] if "page" in g else "",
            "level": g["level"],
            "theme conf.": g["theme_confidence"].map(lambda x: "" if pd.isna(x) else f"{x:.2f}")
            if "theme_confidence" in g else "",
            "source": g["theme_source"] if "theme_source" in g else g.get("label_source", ""),
        })
        n = int((t["theme"].astype(str) == theme).sum())
        ident = f"<code>{esc(theme)}</code> · " if theme else ""
        parts.append(f"<h3>{esc(names.get(theme, theme or NO_LABEL))} <span class=\"muted\">"
                     f"{ident}{n} proposal{'' if n == 1 else 's'}</span></h3>")
        parts.append(table(df, numeric=("year", "page", "theme conf."), css="ex"))
    return "".join(parts)


def groups_section(groups: pd.DataFrame, props: pd.DataFrame, threshold: float) -> str:
    summ = group_summary(groups, props)
    head = ('<h2 id="groups">The same proposal across actors</h2>'
            "<p>Near-identical and closely similar proposals from different documents, grouped by "
            "TF-IDF character n-gram cosine similarity with complete linkage: every two members of a "
            f"group are at least {threshold:.2f} similar (<code>pipeline/groups.py</code>). "
            "All groups, one row per member, are in <code>processed/proposal_groups.csv</code> "
            "(<code>group_id, proposal_id, similarity</code>).</p>")
    if summ.empty:
        return head + '<p class="muted">No proposal is shared by two documents.</p>'
    n_multi = int((summ["n_documents"] > 1).sum())
    shown = summ.sort_values(["n_documents", "n_proposals", "group_id"], ascending=[False, False, True],
                             kind="stable").head(N_GROUPS_SHOWN)
    df = shown.rename(columns={"text": "proposal (most central member)", "n_documents": "documents",
                               "n_proposals": "proposals"})[
        ["group_id", "proposal (most central member)", "documents", "proposals", "actors", "years"]]
    return (head + f"<p>{len(summ)} groups covering {int(summ['n_proposals'].sum())} proposals "
            f"({n_multi} span two or more documents); the {len(shown)} largest:</p>"
            + table(df, numeric=("documents", "proposals")))


def _md_to_html(text: str, base: Path) -> str:
    """Render reports/evaluation.md, its PNGs embedded (no file or network access from the page)."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render(text)

    def embed(m: re.Match) -> str:
        src = html.unescape(m.group(1))
        p = base / src
        if re.match(r"^[\w.-]+\.png$", src) and p.is_file():
            return f'src="{png_data_uri(p.read_bytes())}"'
        return 'src=""'

    return re.sub(r'src="([^"]*)"', embed, body)


def _md_section(md: str, title: str) -> str:
    """The body of the ``## title`` section of a Markdown text, or ''."""
    m = re.search(rf"^## {re.escape(title)}[ \t]*\n(.*?)(?=^## |\Z)", md, re.M | re.S)
    return m.group(1).strip() + "\n" if m else ""


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def quality_section(models_dir: Path, reports_dir: Path, props: pd.DataFrame,
                    labels_dir: Optional[Path] = None) -> str:
    parts = ['<h2 id="quality">Quality of the theme and level labels</h2>']
    meta = load_model_metadata(models_dir)
    eval_path = Path(reports_dir) / "evaluation.md"
    if meta is None:
        parts.append(f'<p class="warn"><b>No trained model</b> ({esc(shown(Path(models_dir) / "metadata.json"))} not '
                     "found): no out-of-sample quality figures are available, and proposals carry no model "
                     "labels. Run <code>make train</code>, then <code>make extract</code> and "
                     "<code>make evaluate</code>.</p>")
    else:
        cv = meta.get("cv_scores")
        if cv:
            rows = []
            for target in ("theme", "level"):
                s = cv.get(target) or {}
                folds = s.get("macro_f1_per_fold") or []
                rows.append({"target": target, "accuracy": _fmt(s.get("accuracy")),
                             "macro-F1": _fmt(s.get("macro_f1")),
                             "macro-F1 per fold": ", ".join(f"{v:.2f}" for v in folds)})
            parts.append(f"<p>Out-of-sample scores of the trained model ({esc(cv.get('cv', ''))}: no document "
                         f"is in both a training and a test fold), from "
                         f"<code>{esc(shown(Path(models_dir) / 'metadata.json'))}</code>; "
                         f"{meta.get('n_examples')} labelled proposals from {meta.get('n_documents')} "
                         "documents.</p>")
            parts.append(table(pd.DataFrame(rows), numeric=("accuracy", "macro-F1")))
        else:
            parts.append('<p class="warn">The model metadata has no cross-validation scores (fewer than two '
                         "labelled documents): its quality out of sample is unknown.</p>")
        items = "".join(f"<li>{c}</li>" for c in caveats(meta, props, labels_dir))
        parts.append(f"<h3>Caveats</h3><ul>{items}</ul>")
    if eval_path.exists():
        md = eval_path.read_text(encoding="utf-8")
        targets = _md_section(md, "Targets")
        if targets:
            parts.append(f"<h3>Targets and baselines ({esc(shown(eval_path))})</h3>"
                         + _md_to_html(targets, eval_path.parent))
        parts.append(f"<details><summary>Full evaluation ({esc(shown(eval_path))}): baselines, per-label scores, "
                     "confusion matrices, learning curve</summary>"
                     + _md_to_html(md, eval_path.parent) + "</details>")
    else:
        parts.append(f'<p class="warn">{esc(shown(eval_path))} not found: no comparison with the baselines, '
                     "no per-label scores. Run <code>make evaluate</code>.</p>")
    return "".join(parts)


def caveats(meta: dict, props: pd.DataFrame, labels_dir: Optional[Path] = None) -> list[str]:
    """Plain statements of what limits the figures, from the model metadata and the data."""
    out = []
    n, d = meta.get("n_examples"), meta.get("n_documents")
    out.append(f"The scores rest on {n} labelled proposals from {d} documents; with so few documents they "
               "move from fold to fold (see the per-fold values) and are estimates, not guarantees.")
    targets = meta.get("targets") or {}
    for target in ("level", "theme"):
        counts = (targets.get(target) or {}).get("class_counts") or {}
        total = sum(counts.values())
        if total:
            label, top = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
            rare = sorted((k for k, v in counts.items() if v < 20), key=lambda k: (counts[k], k))
            txt = f"Training labels for {target}: {top / total:.0%} are <code>{esc(label)}</code>"
            if rare:
                txt += "; few examples of " + ", ".join(f"<code>{esc(k)}</code> ({counts[k]})" for k in rare)
            out.append(txt + ": rare labels are predicted less reliably than the average suggests.")
    out.append("Grouped cross-validation estimates the quality on a new document like the training documents; "
               "documents of another kind or level than most training documents may score lower.")
    trained = _training_ids(labels_dir)
    if trained and "proposal_id" in props and len(props):
        k = int(props["proposal_id"].isin(trained).sum())
        if k:
            out.append(f"{k} of the {len(props)} proposals here are themselves training labels "
                       "(<code>labels/labels.csv</code>): for them a model label replays the hand label and its "
                       "confidence says nothing about quality.")
    src_col = "theme_source" if "theme_source" in props else "label_source"
    if src_col in props and len(props):
        vc = props[src_col].astype("string").fillna("").replace("", "(none)").value_counts()
        out.append(f"Where the labels in this report come from (<code>{src_col}</code>): "
                   + ", ".join(f"{esc(k)} {int(v)}" for k, v in vc.sort_index().items())
                   + ". Only the figures above are out-of-sample.")
    if "needs_review" in props and len(props):
        share = float(props["needs_review"].fillna(False).astype(bool).mean())
        out.append(f"{share:.0%} of the proposals are flagged <code>needs_review</code> (theme confidence × "
                   "level confidence below the review threshold).")
    out.append("Proposal finding itself (what counts as a proposal) is not scored here; see the README.")
    return out


# --------------------------------------------------------------------------- page


def _with_label_columns(props: pd.DataFrame) -> pd.DataFrame:
    """Proposals extracted with --no-classify have no label columns: add them empty."""
    out = props.copy()
    for col in ("theme", "theme_name", "level"):
        if col not in out:
            out[col] = pd.Series("", index=out.index, dtype="string")
    for col in ("theme_confidence", "level_confidence"):
        if col not in out:
            out[col] = pd.Series(pd.NA, index=out.index, dtype="Float64")
    if "needs_review" not in out:
        out["needs_review"] = pd.Series(pd.NA, index=out.index, dtype="boolean")
    return out


def _training_ids(labels_dir: Optional[Path]) -> set[str]:
    path = Path(labels_dir) / "labels.csv" if labels_dir else None
    if path is None or not path.exists():
        return set()
    labels = read_csv(path)
    return set(labels["proposal_id"]) if "proposal_id" in labels else set()


def render(tables: dict[str, pd.DataFrame], groups: pd.DataFrame, models_dir: Path, reports_dir: Path,
           threshold: float = DEFAULT_THRESHOLD, labels_dir: Optional[Path] = None) -> str:
    docs, props = tables["documents"], _with_label_columns(tables["proposals"])
    top = _top(props)
    n_err = int((docs["status"] == "error").sum()) if "status" in docs else 0
    n_groups = groups["group_id"].nunique() if len(groups) else 0
    summary = "".join(f"<div><b>{v}</b>{esc(k)}</div>" for k, v in (
        ("documents", len(docs)), ("failed", n_err), ("proposals", len(top)),
        ("actors", _actor(top).nunique() if len(top) else 0), ("groups across documents", n_groups)))
    body = [
        "<h1>Proposals in the document collection</h1>",
        '<p class="lead">Generated by <code>python -m pipeline report</code> from <code>processed/</code>. '
        "Tables for analysis: <code>processed/proposals.csv</code> / <code>.parquet</code> / "
        "<code>proposals.xlsx</code>; columns in <code>docs/data-dictionary.md</code>.</p>",
        f'<div class="summary">{summary}</div>',
        '<nav><a href="#documents">Documents</a><a href="#themes">Actor × theme × level</a>'
        '<a href="#examples">Examples</a><a href="#groups">Across actors</a><a href="#quality">Quality</a></nav>',
        documents_section(docs, props),
        crosstab_section(props),
        examples_section(props),
        groups_section(groups, props, threshold),
        quality_section(models_dir, reports_dir, props, labels_dir),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>Proposals: report</title>"
            f"<style>{CSS}</style></head><body><main>\n" + "\n".join(body) + "\n</main></body></html>\n")


def build(processed: Path, models_dir: Path, reports_dir: Path, threshold: float = DEFAULT_THRESHOLD,
          labels_dir: Optional[Path] = None) -> Path:
    """Write the groups table, the exports and reports/index.html; return the page's path."""
    processed, reports_dir = Path(processed), Path(reports_dir)
    tables = load_tables(processed)
    groups = group_proposals(tables["proposals"], threshold=threshold)
    write_csv(typed(groups), processed / "proposal_groups.csv")
    write_parquet(groups, processed / "proposal_groups.parquet")
    write_xlsx(researcher_sheets({**tables, "proposal_groups": groups}), processed / "proposals.xlsx")
    page = render(tables, groups, models_dir, reports_dir, threshold, labels_dir)
    out = reports_dir / REPORT_FILE
    atomic_write_text(out, page)
    log.info("wrote %s (%d documents, %d proposals, %d groups) and exports in %s", out,
             len(tables["documents"]), len(tables["proposals"]),
             groups["group_id"].nunique() if len(groups) else 0, processed)
    return out


def report_command(args) -> int:
    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    build(args.processed, args.models, args.reports, threshold=threshold, labels_dir=args.labels)
    return 0


def groups_command(args) -> int:
    """``python -m pipeline groups``: proposal_groups.csv only (any processed/ folder)."""
    path = Path(args.processed) / "proposals.csv"
    if not path.exists():
        raise PipelineError(f"{path} not found (run `make extract` first)")
    props = read_csv(path)
    groups = group_proposals(props, threshold=DEFAULT_THRESHOLD if args.threshold is None else args.threshold)
    out = Path(args.out) if args.out else Path(args.processed) / "proposal_groups.csv"
    write_csv(typed(groups), out)
    log.info("wrote %s: %d groups, %d proposals", out, groups["group_id"].nunique() if len(groups) else 0,
             len(groups))
    return 0
