"""``python -m pipeline evaluate``: grouped cross-validation -> reports/evaluation.md + PNGs.

Everything is scored on out-of-fold predictions from the *same* GroupKFold folds by
document (no document is in both a training and a test fold): the model, a majority-
class baseline and a codebook cue-word baseline, for theme and for level; then a
learning curve on subsamples of the same training folds. The report states the
project targets (theme macro-F1 >= 0.75, level macro-F1 >= 0.85, theme >= cue
baseline + 0.10) as met or not met.

Outputs (deterministic: no timestamps, fixed seeds, PNGs without a Software tag)::

    reports/evaluation.md
    reports/confusion_theme.png
    reports/confusion_level.png
    reports/learning_curve.png

Metric conventions: macro-F1 is the unweighted mean of the F1 of the labels that occur
in the gold labels (a prediction of any other label still counts as an error), pooled
over all out-of-fold predictions; the per-fold mean +- sd is given beside it.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score,  # noqa: E402
                             precision_recall_fscore_support)

from pipeline.classify.codebook import load_codebook  # noqa: E402
from pipeline.classify.features import codebook_cues, cue_match_counts, prepare_input  # noqa: E402
from pipeline.classify.model import (RANDOM_STATE, TARGETS, build_model,  # noqa: E402
                                     cross_val_predict_grouped, grouped_folds)
from pipeline.classify.predict import NEEDS_REVIEW_THRESHOLD  # noqa: E402
from pipeline.classify.train import (corrected_labels, groups_of, labelled_proposals,  # noqa: E402
                                     training_labels)
from pipeline.errors import PipelineError  # noqa: E402
from pipeline.storage import atomic_write_bytes, atomic_write_text  # noqa: E402

log = logging.getLogger(__name__)

CV_FOLDS = 5
LEARNING_CURVE_FRACTIONS = (0.25, 0.5, 0.75, 1.0)
TARGET_MACRO_F1 = {"theme": 0.75, "level": 0.85}
TARGET_THEME_MARGIN_OVER_CUES = 0.10
REPORT_FILE = "evaluation.md"
PNG_DPI = 100


# ------------------------------------------------------------------------ baselines


def majority_label(y: Sequence[str], target: str) -> str:
    """Most frequent label; ties go to the label first in codebook order."""
    order = {lab: i for i, lab in enumerate(load_codebook().ids(target))}
    values, counts = np.unique(np.asarray(y, dtype=str), return_counts=True)
    best = sorted(zip(values, counts), key=lambda vc: (-vc[1], order.get(vc[0], len(order)), vc[0]))
    return str(best[0][0])


def cue_baseline_predict(frame: pd.DataFrame, target: str, fallback: str) -> np.ndarray:
    """Codebook cue words alone: the label with most cue matches in text + section + intro.

    No match, or a tie for the most matches, gives ``fallback`` (the majority class)."""
    X = prepare_input(frame)
    texts = (X["text"] + " " + X["section"] + " " + X["intro"]).tolist()
    table = codebook_cues(target)
    labels = np.asarray([lab for lab, _ in table], dtype=object)
    counts = cue_match_counts(texts, table)
    out = np.full(len(texts), fallback, dtype=object)
    for i, row in enumerate(counts):
        top = row.max() if len(row) else 0
        if top > 0 and int((row == top).sum()) == 1:
            out[i] = labels[int(np.argmax(row))]
    return out


# --------------------------------------------------------------------------- scoring


def _macro_f1(y, pred) -> float:
    return float(f1_score(y, pred, labels=sorted(set(y)), average="macro", zero_division=0))


def _scores(y, pred, folds) -> dict:
    per_fold = [_macro_f1(y[te], pred[te]) for _, te in folds]
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": _macro_f1(y, pred),
        "macro_f1_fold_mean": float(np.mean(per_fold)),
        "macro_f1_fold_sd": float(np.std(per_fold)),
    }


def evaluate_target(frame: pd.DataFrame, target: str, folds) -> dict:
    """Out-of-fold model, cue and majority predictions of ``target`` and their scores."""
    y = frame[target].astype(str).to_numpy().astype(object)
    pred, conf = cross_val_predict_grouped(frame, y, folds, target)
    majority = np.empty(len(y), dtype=object)
    cues = np.empty(len(y), dtype=object)
    for train_idx, test_idx in folds:
        maj = majority_label(y[train_idx], target)
        majority[test_idx] = maj
        cues[test_idx] = cue_baseline_predict(frame.iloc[test_idx], target, maj)
    order = load_codebook().ids(target)
    present = set(y) | set(pred)  # rows and columns of the model's confusion matrix
    labels = [lab for lab in order if lab in present] + sorted(present - set(order))
    gold = [lab for lab in labels if lab in set(y)]
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=gold, zero_division=0)
    _, _, f_cue, _ = precision_recall_fscore_support(y, cues, labels=gold, zero_division=0)
    per_class = [
        {"label": lab, "support": int(s[i]), "precision": float(p[i]), "recall": float(r[i]),
         "f1": float(f[i]), "cue_f1": float(f_cue[i])}
        for i, lab in enumerate(gold)
    ]
    return {
        "y": y, "pred": pred, "confidence": conf, "labels": labels,
        "model": _scores(y, pred, folds),
        "cue": _scores(y, cues, folds),
        "majority": _scores(y, majority, folds),
        "per_class": per_class,
        "confusion": confusion_matrix(y, pred, labels=labels),
    }


def learning_curve(frame: pd.DataFrame, folds, results: dict,
                   fractions: Sequence[float] = LEARNING_CURVE_FRACTIONS) -> list[dict]:
    """Macro-F1 (mean over folds) against the number of training proposals.

    Each training fold is shuffled once with seed ``RANDOM_STATE + fold number``; a
    fraction takes the first part of that order (so subsets are nested), the test fold
    is unchanged. Fraction 1.0 reuses the full out-of-fold predictions."""
    X = frame.reset_index(drop=True)
    perms = [np.random.RandomState(RANDOM_STATE + k).permutation(tr) for k, (tr, _) in enumerate(folds)]
    rows = []
    for frac in fractions:
        row = {"fraction": float(frac), "n_train": [], "theme": [], "level": []}
        for (train_idx, test_idx), perm in zip(folds, perms):
            n = max(2, int(round(frac * len(train_idx))))
            sub = np.sort(perm[:n])
            row["n_train"].append(n)
            for target in TARGETS:
                y = results[target]["y"]
                if n >= len(train_idx):
                    pred = results[target]["pred"][test_idx]
                else:
                    model = build_model(target).fit(prepare_input(X.iloc[sub]), y[sub])
                    pred = model.predict(prepare_input(X.iloc[test_idx]))
                row[target].append(_macro_f1(y[test_idx], pred))
        rows.append({
            "fraction": row["fraction"],
            "n_train": float(np.mean(row["n_train"])),
            "theme": float(np.mean(row["theme"])),
            "level": float(np.mean(row["level"])),
        })
    return rows


def confidence_table(results: dict, threshold: float = NEEDS_REVIEW_THRESHOLD) -> list[dict]:
    """Share of out-of-fold predictions below ``threshold`` and accuracy on each side."""
    rows = []

    def acc(mask, correct):
        return float(correct[mask].mean()) if mask.any() else float("nan")

    flagged_any = np.zeros(len(results["theme"]["y"]), dtype=bool)
    all_right = np.ones(len(flagged_any), dtype=bool)
    for target in TARGETS:
        r = results[target]
        low = r["confidence"] < threshold
        correct = r["pred"] == r["y"]
        flagged_any |= low
        all_right &= correct
        rows.append({"what": target, "share_below": float(low.mean()),
                     "acc_above": acc(~low, correct), "acc_below": acc(low, correct)})
    rows.append({"what": "needs_review (either below)", "share_below": float(flagged_any.mean()),
                 "acc_above": acc(~flagged_any, all_right), "acc_below": acc(flagged_any, all_right)})
    return rows


# -------------------------------------------------------------------------- figures


def _png_bytes(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def confusion_png(cm: np.ndarray, labels: list[str], title: str) -> bytes:
    n = len(labels)
    size = max(4.0, 0.55 * n + 2.5)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(cm, cmap="Blues", interpolation="nearest")
    ax.set_xticks(range(n), labels=labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels=labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=10)
    top = cm.max() if cm.size else 0
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if cm[i, j] > top / 2 else "black")
    fig.tight_layout()
    return _png_bytes(fig)


def learning_curve_png(rows: list[dict], cue: dict) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 4))
    x = [r["n_train"] for r in rows]
    for target, colour in (("theme", "tab:blue"), ("level", "tab:orange")):
        ax.plot(x, [r[target] for r in rows], marker="o", color=colour, label=f"{target} model")
        ax.axhline(cue[target], color=colour, linestyle="--", linewidth=1, label=f"{target} cue baseline")
    ax.set_xlabel("training proposals (mean over folds)")
    ax.set_ylabel("macro-F1 (grouped CV)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Learning curve", fontsize=10)
    fig.tight_layout()
    return _png_bytes(fig)


# --------------------------------------------------------------------------- report


def _f(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.3f}"


def _status(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _summary_scores(frame: pd.DataFrame, n_splits: int) -> dict:
    folds, _ = grouped_folds(groups_of(frame), n_splits)
    out = {"n": len(frame)}
    for target in TARGETS:
        y = frame[target].astype(str).to_numpy().astype(object)
        pred, _ = cross_val_predict_grouped(frame, y, folds, target)
        out[target] = {"accuracy": float(accuracy_score(y, pred)), "macro_f1": _macro_f1(y, pred)}
    return out


def render_report(info: dict) -> str:
    results, k, n_splits = info["results"], info["n_folds"], info["n_splits"]
    L = ["# Evaluation of the theme and level classifiers", ""]
    L.append(f"Data: {info['n']} labelled proposals from {info['n_docs']} documents "
             f"(labels only{'' if info['corrected'] is None else '; corrections compared below'}).")
    L.append("")
    L.append(f"Cross-validation: GroupKFold by document, {k} folds: no document is in both a "
             "training and a test fold. The model and both baselines are scored on the same folds; "
             "the learning curve subsamples the same training folds.")
    if k < n_splits:
        L.append("")
        L.append(f"Only {info['n_docs']} documents: {k} folds (one per document) instead of {n_splits}.")
    L.append("")
    L.append("Baselines: *majority* predicts the most frequent label of the training fold; *cue words* "
             "predicts the label whose codebook cue words match most often in text, section and intro "
             "(no match or a tie: the majority label).")
    L.append("")

    th, lv = results["theme"], results["level"]
    margin = th["model"]["macro_f1"] - th["cue"]["macro_f1"]
    L += ["## Targets", "", "| target | required | result | status |", "|---|---|---|---|"]
    L.append(f"| theme macro-F1 | ≥ {TARGET_MACRO_F1['theme']:.2f} | {_f(th['model']['macro_f1'])} | "
             f"{_status(th['model']['macro_f1'] >= TARGET_MACRO_F1['theme'])} |")
    L.append(f"| level macro-F1 | ≥ {TARGET_MACRO_F1['level']:.2f} | {_f(lv['model']['macro_f1'])} | "
             f"{_status(lv['model']['macro_f1'] >= TARGET_MACRO_F1['level'])} |")
    L.append(f"| theme macro-F1 − cue baseline | ≥ {TARGET_THEME_MARGIN_OVER_CUES:.2f} | {_f(margin)} | "
             f"{_status(margin >= TARGET_THEME_MARGIN_OVER_CUES - 1e-12)} |")
    L.append("")

    for target in TARGETS:
        r = results[target]
        L += [f"## {target.capitalize()}", "",
              "| method | accuracy | macro-F1 | macro-F1 per fold (mean ± sd) |", "|---|---|---|---|"]
        for key, name in (("model", "model"), ("cue", "cue words (codebook)"), ("majority", "majority class")):
            s = r[key]
            L.append(f"| {name} | {_f(s['accuracy'])} | {_f(s['macro_f1'])} | "
                     f"{_f(s['macro_f1_fold_mean'])} ± {_f(s['macro_f1_fold_sd'])} |")
        L += ["", "Per label (model; cue-word baseline F1 for comparison):", "",
              "| label | support | precision | recall | F1 | cue F1 |", "|---|---|---|---|---|---|"]
        for row in r["per_class"]:
            L.append(f"| {row['label']} | {row['support']} | {_f(row['precision'])} | {_f(row['recall'])} | "
                     f"{_f(row['f1'])} | {_f(row['cue_f1'])} |")
        L += ["", f"Confusion matrix (model; rows gold, columns predicted): ![confusion {target}](confusion_{target}.png)",
              ""]
        labels = r["labels"]
        L.append("| gold \\ predicted | " + " | ".join(labels) + " |")
        L.append("|---" * (len(labels) + 1) + "|")
        for i, lab in enumerate(labels):
            L.append(f"| {lab} | " + " | ".join(str(int(v)) for v in r["confusion"][i]) + " |")
        L.append("")

    L += ["## Confidence and the review threshold", "",
          f"`needs_review` is set when the theme or the level confidence is below "
          f"{NEEDS_REVIEW_THRESHOLD:.2f} (`pipeline.classify.predict.NEEDS_REVIEW_THRESHOLD`). "
          "Out-of-fold predictions:", "",
          "| predictions | share below threshold | accuracy at/above | accuracy below |", "|---|---|---|---|"]
    for row in info["confidence"]:
        L.append(f"| {row['what']} | {_f(row['share_below'])} | {_f(row['acc_above'])} | {_f(row['acc_below'])} |")
    L.append("")

    L += ["## Learning curve", "", "![learning curve](learning_curve.png)", "",
          "Macro-F1 (mean over the grouped folds) when the model sees only part of each training fold "
          f"(fixed seeds {RANDOM_STATE}+fold); the test folds are unchanged.", "",
          "| fraction | training proposals (mean) | theme macro-F1 | level macro-F1 |", "|---|---|---|---|"]
    for row in info["learning_curve"]:
        L.append(f"| {row['fraction']:.2f} | {row['n_train']:.1f} | {_f(row['theme'])} | {_f(row['level'])} |")
    L.append("")

    L += ["## Reviewer corrections", ""]
    corr = info["corrected"]
    if corr is None:
        L.append("No reviewer corrections yet: all scores above are on labels only.")
    else:
        base = info["labels_only"]
        L += ["| labels | proposals | theme accuracy | theme macro-F1 | level accuracy | level macro-F1 |",
              "|---|---|---|---|---|---|"]
        for name, s in (("labels only", base), ("with reviewer corrections", corr)):
            L.append(f"| {name} | {s['n']} | {_f(s['theme']['accuracy'])} | {_f(s['theme']['macro_f1'])} | "
                     f"{_f(s['level']['accuracy'])} | {_f(s['level']['macro_f1'])} |")
    L.append("")
    L += ["## Notes", "",
          "Macro-F1 averages the F1 of the labels present in the gold labels; predicting any other label "
          "still counts as an error. Scores pool all out-of-fold predictions; per-fold means are given "
          "beside them. Produced by `python -m pipeline evaluate` (`make evaluate`).", ""]
    return "\n".join(L)


def evaluate_frame(frame: pd.DataFrame, reports_dir: Path, n_splits: int = CV_FOLDS,
                   corrected: Optional[pd.DataFrame] = None,
                   fractions: Sequence[float] = LEARNING_CURVE_FRACTIONS) -> dict:
    """Grouped CV of ``frame`` (text, theme, level, doc_id, context columns) -> report + PNGs.

    ``corrected``: the same kind of frame with reviewer corrections applied; when given,
    the report compares its scores with ``frame``'s. Returns the numbers reported."""
    frame = frame.reset_index(drop=True)
    groups = groups_of(frame)
    folds, k = grouped_folds(groups, n_splits)
    n_docs = len(np.unique(groups))
    if not folds:
        raise PipelineError(f"grouped cross-validation needs at least 2 labelled documents, found {n_docs}")
    if k < n_splits:
        log.warning("only %d documents: %d grouped folds instead of %d", n_docs, k, n_splits)
    results = {t: evaluate_target(frame, t, folds) for t in TARGETS}
    for t in TARGETS:
        log.info("%s: model macro-F1 %.3f, cue baseline %.3f, majority %.3f", t, results[t]["model"]["macro_f1"],
                 results[t]["cue"]["macro_f1"], results[t]["majority"]["macro_f1"])
    curve = learning_curve(frame, folds, results, fractions)
    info = {
        "n": len(frame), "n_docs": n_docs, "n_folds": k, "n_splits": n_splits,
        "results": results, "learning_curve": curve, "confidence": confidence_table(results),
        "corrected": None, "labels_only": None,
    }
    if corrected is not None:
        info["labels_only"] = {"n": len(frame), **{t: {"accuracy": results[t]["model"]["accuracy"],
                                                       "macro_f1": results[t]["model"]["macro_f1"]}
                                                   for t in TARGETS}}
        info["corrected"] = _summary_scores(corrected.reset_index(drop=True), n_splits)

    reports_dir = Path(reports_dir)
    for t in TARGETS:
        atomic_write_bytes(reports_dir / f"confusion_{t}.png",
                           confusion_png(results[t]["confusion"], results[t]["labels"],
                                         f"{t}: grouped CV, {k} folds"))
    atomic_write_bytes(reports_dir / "learning_curve.png",
                       learning_curve_png(curve, {t: results[t]["cue"]["macro_f1"] for t in TARGETS}))
    atomic_write_text(reports_dir / REPORT_FILE, render_report(info))
    log.info("evaluation written to %s", reports_dir / REPORT_FILE)
    return info


def evaluate_command(args) -> int:
    """``python -m pipeline evaluate [--labels DIR] [--reports DIR]``."""
    labels = training_labels(args.labels)
    cache: dict = {}

    def extract_once(paths):
        from pipeline.store import cached_proposals

        key = tuple(str(p) for p in paths)
        if key not in cache:
            cache[key] = cached_proposals(paths)
        return cache[key]

    frame = labelled_proposals(labels, extract=extract_once)
    corrected = corrected_labels(args.labels, args.processed)
    corrected_frame = labelled_proposals(corrected, extract=extract_once) if corrected is not None else None
    evaluate_frame(frame, args.reports, corrected=corrected_frame)
    return 0
