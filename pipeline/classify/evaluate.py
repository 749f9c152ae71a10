"""``python -m pipeline evaluate``: grouped cross-validation -> reports/evaluation.md + PNGs.

Everything is scored on out-of-fold predictions from the *same* StratifiedGroupKFold
folds by document (no document is in both a training and a test fold; the models are
tuned and calibrated inside each training fold, see :mod:`pipeline.classify.model`):
the model, a majority-class baseline and a codebook cue-word baseline, for theme and
for level, with context and from the proposal text alone. Then: a learning curve
(scikit-learn's ``learning_curve`` on the same folds), transfer across levels of
government (train without the documents of one author level, test on them),
confidence (reliability diagram, expected calibration error) and what
``needs_review`` catches. The report states the project targets as met or not.

Outputs (deterministic: no timestamps, fixed seeds, PNGs without a Software tag)::

    reports/evaluation.md
    reports/confusion_theme.png
    reports/confusion_level.png
    reports/learning_curve.png
    reports/reliability.png

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
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score  # noqa: E402
from sklearn.model_selection import learning_curve as sk_learning_curve  # noqa: E402

from pipeline.classify.codebook import load_codebook  # noqa: E402
from pipeline.classify.features import LEVELS, codebook_cues, cue_match_counts, prepare_input  # noqa: E402
from pipeline.classify.model import (CV_FOLDS, RANDOM_STATE, REVIEW_CATCH, TARGETS, build_model,  # noqa: E402
                                     build_pipeline, choose_review_threshold, cross_val_oof, flag_for_review,
                                     groups_of, majority_label, n_jobs_for, outer_folds)
from pipeline.classify.train import corrected_labels, labelled_proposals, training_labels  # noqa: E402
from pipeline.errors import PipelineError  # noqa: E402
from pipeline.storage import atomic_write_bytes, atomic_write_text  # noqa: E402

log = logging.getLogger(__name__)

LEARNING_CURVE_FRACTIONS = (0.33, 0.66, 1.0)
TARGET_MACRO_F1 = {"theme": 0.75, "level": 0.85}
TARGET_MARGIN_OVER_CUES = 0.10
TARGET_ECE = 0.05
TARGET_REVIEW_CATCH = 0.70
TARGET_REVIEW_FLAG = 0.30
ECE_BINS = 10
REPORT_FILE = "evaluation.md"
PNG_DPI = 100


# ------------------------------------------------------------------------ baselines


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


def baselines(frame: pd.DataFrame, target: str, folds) -> tuple[np.ndarray, np.ndarray]:
    """Majority and cue-word predictions on the test folds, each from its training fold."""
    y = frame[target].astype(str).to_numpy().astype(object)
    majority = np.empty(len(y), dtype=object)
    cues = np.empty(len(y), dtype=object)
    for train_idx, test_idx in folds:
        maj = majority_label(y[train_idx], target)
        majority[test_idx] = maj
        cues[test_idx] = cue_baseline_predict(frame.iloc[test_idx], target, maj)
    return majority, cues


def evaluate_target(frame: pd.DataFrame, target: str, folds, oof: dict) -> dict:
    """Scores of the out-of-fold model predictions of ``target`` and of both baselines."""
    r = oof[target]
    y, pred = r["y"], r["pred"]
    majority, cues = baselines(frame, target, folds)
    order = load_codebook().ids(target)
    present = set(y) | set(pred)  # rows and columns of the model's confusion matrix
    labels = [lab for lab in order if lab in present] + sorted(present - set(order))
    gold = [lab for lab in labels if lab in set(y)]
    rep = classification_report(y, pred, labels=gold, output_dict=True, zero_division=0)
    cue_rep = classification_report(y, cues, labels=gold, output_dict=True, zero_division=0)
    per_class = [
        {"label": lab, "support": int(rep[lab]["support"]), "precision": float(rep[lab]["precision"]),
         "recall": float(rep[lab]["recall"]), "f1": float(rep[lab]["f1-score"]),
         "cue_f1": float(cue_rep[lab]["f1-score"])}
        for lab in gold
    ]
    return {
        "y": y, "pred": pred, "confidence": r["confidence"], "labels": labels,
        "model": _scores(y, pred, folds),
        "text_only": _scores(y, r["pred_text"], folds),
        "title_intro": _scores(y, r["pred_title"], folds),
        "cue": _scores(y, cues, folds),
        "majority": _scores(y, majority, folds),
        "per_class": per_class,
        "confusion": confusion_matrix(y, pred, labels=labels),
        "ece": expected_calibration_error(r["confidence"], pred == y),
        "ece_text_only": expected_calibration_error(r["confidence_text"], r["pred_text"] == y),
        "reliability": reliability_bins(r["confidence"], pred == y),
    }


def learning_curve(frame: pd.DataFrame, folds, fractions: Sequence[float] = LEARNING_CURVE_FRACTIONS) -> list[dict]:
    """Macro-F1 (mean over the same folds) against the number of training proposals.

    scikit-learn's ``learning_curve`` with the untuned default Pipeline (fixed
    hyper-parameters: nothing is chosen on the test folds); the training folds are
    shuffled with a fixed seed before subsampling."""
    X = prepare_input(frame.reset_index(drop=True))
    groups = groups_of(frame)
    rows = {float(f): {"fraction": float(f)} for f in fractions}
    for target in TARGETS:
        y = frame[target].astype(str).to_numpy().astype(object)
        sizes, _, test_scores = sk_learning_curve(
            build_pipeline(), X, y, groups=groups, cv=folds, train_sizes=list(fractions), scoring="f1_macro",
            shuffle=True, random_state=RANDOM_STATE, error_score=0.0, n_jobs=n_jobs_for(len(y)))
        for f, n, sc in zip(fractions, sizes, test_scores):
            rows[float(f)]["n_train"] = float(n)
            rows[float(f)][target] = float(np.mean(sc))
    return [rows[float(f)] for f in fractions]


def transfer(frame: pd.DataFrame) -> list[dict]:
    """Train without the documents whose author sits at one level (``actor_level``:
    metadata, else inferred), test on them; for each level with labelled documents and
    at least two other documents to train on."""
    frame = frame.reset_index(drop=True)
    level_of = prepare_input(frame)["actor_level"].to_numpy()
    groups = groups_of(frame)
    rows = []
    for level in LEVELS:
        test = level_of == level
        train = ~test
        if not test.any() or len(np.unique(groups[train])) < 2:
            if test.any():
                log.info("transfer to %s documents: too few other documents to train on", level)
            continue
        row = {"author_level": level, "n_test": int(test.sum()), "docs_test": int(len(np.unique(groups[test]))),
               "n_train": int(train.sum()), "docs_train": int(len(np.unique(groups[train])))}
        for target in TARGETS:
            y = frame[target].astype(str).to_numpy().astype(object)
            model = build_model(target, n_jobs=n_jobs_for(int(train.sum()))).fit(frame[train], y[train],
                                                                                groups=groups[train])
            pred = model.predict(frame[test])
            maj = majority_label(y[train], target)
            cue = cue_baseline_predict(frame[test], target, maj)
            row[target] = {"accuracy": float(accuracy_score(y[test], pred)), "macro_f1": _macro_f1(y[test], pred),
                           "cue_macro_f1": _macro_f1(y[test], cue)}
        rows.append(row)
    return rows


def expected_calibration_error(confidence, correct, n_bins: int = ECE_BINS) -> float:
    """ECE: the mean |accuracy - mean confidence| over equal-width confidence bins,
    weighted by the share of predictions in each bin."""
    conf = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if len(conf) == 0:
        return float("nan")
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def reliability_bins(confidence, correct, n_bins: int = ECE_BINS) -> list[dict]:
    conf = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    return [{"bin": b, "n": int((bins == b).sum()), "confidence": float(conf[bins == b].mean()),
             "accuracy": float(correct[bins == b].mean())} for b in range(n_bins) if (bins == b).any()]


def review_table(results: dict, oof: dict) -> dict:
    """What needs_review (its threshold chosen in each training fold) flags and catches."""
    wrong = np.zeros(len(oof["needs_review"]), dtype=bool)
    for t in TARGETS:
        wrong |= results[t]["pred"] != results[t]["y"]
    flag = oof["needs_review"]
    return {
        "flagged": float(flag.mean()),
        "errors": float(wrong.mean()),
        "caught": float((flag & wrong).sum() / wrong.sum()) if wrong.any() else float("nan"),
        "acc_unflagged": float((~wrong[~flag]).mean()) if (~flag).any() else float("nan"),
        "thresholds": oof["review_thresholds"],
        "bound": review_bound(results, wrong),
    }


def review_bound(results: dict, wrong: np.ndarray) -> dict:
    """What needs_review's own threshold choice (:func:`choose_review_threshold`) flags
    to catch TARGET_REVIEW_CATCH of the errors when it runs on these out-of-fold
    confidences themselves: in-sample, so a bound on what choosing a threshold can do
    with these confidences, not a result."""
    conf = {t: np.asarray(results[t]["confidence"]) for t in TARGETS}
    th = choose_review_threshold(conf, {t: results[t]["pred"] == results[t]["y"] for t in TARGETS},
                                 catch=TARGET_REVIEW_CATCH)
    flag = flag_for_review(conf, th)
    return {"flagged": float(flag.mean()),
            "caught": float((flag & wrong).sum() / wrong.sum()) if wrong.any() else float("nan")}


def label_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Labels by theme (rows, codebook order) and level (columns), with totals."""
    cb = load_codebook()
    tab = pd.crosstab(frame["theme"], frame["level"])
    tab = tab.reindex(index=[t for t in cb.theme_ids if t in tab.index] + sorted(set(tab.index) - set(cb.theme_ids)),
                      columns=[lv for lv in cb.level_ids], fill_value=0)
    tab["total"] = tab.sum(axis=1)
    tab.loc["total"] = tab.sum(axis=0)
    return tab


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


def reliability_png(results: dict) -> bytes:
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    for target, colour in (("theme", "tab:blue"), ("level", "tab:orange")):
        bins = results[target]["reliability"]
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o", color=colour,
                label=f"{target} (ECE {results[target]['ece']:.3f})")
    ax.set_xlabel("confidence (out of fold)")
    ax.set_ylabel("share of labels right")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(f"Reliability ({ECE_BINS} equal-width bins)", fontsize=10)
    fig.tight_layout()
    return _png_bytes(fig)


# --------------------------------------------------------------------------- report


def _f(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.3f}"


def _status(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _summary_scores(frame: pd.DataFrame, n_splits: int) -> dict:
    folds = outer_folds(frame, n_splits)
    oof = cross_val_oof(frame, folds)
    out = {"n": len(frame)}
    for target in TARGETS:
        y, pred = oof[target]["y"], oof[target]["pred"]
        out[target] = {"accuracy": float(accuracy_score(y, pred)), "macro_f1": _macro_f1(y, pred)}
    return out


def targets_table(info: dict) -> list[tuple[str, str, float, bool]]:
    """(what, required, measured, met) for every project target."""
    res, rv = info["results"], info["review"]
    rows = []
    for t in TARGETS:
        m = res[t]["model"]["macro_f1"]
        rows.append((f"{t} macro-F1", f"≥ {TARGET_MACRO_F1[t]:.2f}", m, m >= TARGET_MACRO_F1[t]))
    for t in TARGETS:
        margin = res[t]["model"]["macro_f1"] - res[t]["cue"]["macro_f1"]
        rows.append((f"{t} macro-F1 − cue baseline", f"≥ {TARGET_MARGIN_OVER_CUES:.2f}", margin,
                     margin >= TARGET_MARGIN_OVER_CUES - 1e-12))
    for t in TARGETS:
        rows.append((f"{t} ECE", f"≤ {TARGET_ECE:.2f}", res[t]["ece"], res[t]["ece"] <= TARGET_ECE))
    rows.append(("needs_review: share of errors caught", f"≥ {TARGET_REVIEW_CATCH:.2f}", rv["caught"],
                 rv["caught"] >= TARGET_REVIEW_CATCH))
    rows.append(("needs_review: share of rows flagged", f"≤ {TARGET_REVIEW_FLAG:.2f}", rv["flagged"],
                 rv["flagged"] <= TARGET_REVIEW_FLAG))
    return rows


def render_report(info: dict) -> str:
    results, k, n_splits = info["results"], info["n_folds"], info["n_splits"]
    L = ["# Evaluation of the theme and level classifiers", ""]
    L.append(f"Data: {info['n']} labelled proposals from {info['n_docs']} documents "
             f"(labels only{'' if info['corrected'] is None else '; corrections compared below'}).")
    L.append("")
    L.append(f"Cross-validation: StratifiedGroupKFold by document, {k} folds: no document is in both a "
             "training and a test fold. Inside every training fold the model's hyper-parameters (C, feature "
             "block weights) are chosen by GridSearchCV over an inner StratifiedGroupKFold by document, its "
             "confidence map and the needs_review threshold are fitted on the inner out-of-fold predictions; "
             "the reported folds choose nothing. The model and both baselines are scored on the same folds.")
    if k < n_splits:
        L.append("")
        L.append(f"Only {info['n_docs']} documents: {k} folds instead of {n_splits}.")
    L.append("")
    L.append("Baselines: *majority* predicts the most frequent label of the training fold; *cue words* "
             "predicts the label whose codebook cue words match most often in text, section and intro "
             "(no match or a tie: the majority label).")
    L.append("")
    L.append("Inputs: the model is scored on the same held-out proposals three ways: with everything the "
             "extraction gives (context and document metadata); with the document title and the list intro "
             "only, as `classify --context-cols TITLE INTRO` gives them for a table without metadata; and "
             "with the proposal text alone.")
    L.append("")

    L += ["## Targets", "", "| target | required | result | status |", "|---|---|---|---|"]
    for what, req, val, ok in targets_table(info):
        L.append(f"| {what} | {req} | {_f(val)} | {_status(ok)} |")
    L.append("")

    L += ["## Labels", "", "Labelled proposals by theme (rows) and level (columns):", "",
          "| theme | " + " | ".join(info["counts"].columns) + " |", "|---" * (len(info["counts"].columns) + 1) + "|"]
    for theme, row in info["counts"].iterrows():
        L.append(f"| {theme} | " + " | ".join(str(int(v)) for v in row) + " |")
    L.append("")

    for target in TARGETS:
        r = results[target]
        L += [f"## {target.capitalize()}", "",
              "| method | accuracy | macro-F1 | macro-F1 per fold (mean ± sd) |", "|---|---|---|---|"]
        for key, name in (("model", "model (text + context + document)"),
                          ("title_intro", "model, text + document title and list intro (no metadata)"),
                          ("text_only", "model, proposal text only"),
                          ("cue", "cue words (codebook)"), ("majority", "majority class")):
            sc = r[key]
            L.append(f"| {name} | {_f(sc['accuracy'])} | {_f(sc['macro_f1'])} | "
                     f"{_f(sc['macro_f1_fold_mean'])} ± {_f(sc['macro_f1_fold_sd'])} |")
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

    L += ["## Transfer across levels of government", "",
          "Train on the documents whose author sits at the other levels (`actor_level`: document metadata, "
          "else inferred from the actor, title and intro), test on the documents of this level.", ""]
    if info["transfer"]:
        L += ["| test documents | proposals (docs) | trained on (docs) | theme macro-F1 | theme cue | "
              "level macro-F1 | level cue | level accuracy |", "|---|---|---|---|---|---|---|---|"]
        for row in info["transfer"]:
            L.append(f"| {row['author_level']} | {row['n_test']} ({row['docs_test']}) | {row['n_train']} ({row['docs_train']}) | "
                     f"{_f(row['theme']['macro_f1'])} | {_f(row['theme']['cue_macro_f1'])} | "
                     f"{_f(row['level']['macro_f1'])} | {_f(row['level']['cue_macro_f1'])} | "
                     f"{_f(row['level']['accuracy'])} |")
        missing = [lv for lv in LEVELS if lv not in {r["author_level"] for r in info["transfer"]}]
        if missing:
            L += ["", f"No transfer test for {', '.join(missing)}: no labelled documents of that author level "
                      "(or too few others to train on)."]
    else:
        L.append("No transfer test: the labelled documents do not span two author levels.")
    L.append("")

    rv = info["review"]
    L += ["## Confidence and needs_review", "", "![reliability](reliability.png)", "",
          "A confidence is the calibrated chance that the chosen label is right (a Platt map of the decision "
          "model's top probability, fitted on inner out-of-fold predictions; it never changes the label). "
          f"Expected calibration error over {ECE_BINS} equal-width bins, out of fold:", "",
          "| target | ECE (with context) | ECE (text only) |", "|---|---|---|"]
    for t in TARGETS:
        L.append(f"| {t} | {_f(results[t]['ece'])} | {_f(results[t]['ece_text_only'])} |")
    L += ["", "Reliability (with context):", "", "| target | bin | predictions | mean confidence | share right |",
          "|---|---|---|---|---|"]
    for t in TARGETS:
        for b in results[t]["reliability"]:
            L.append(f"| {t} | {b['bin'] / ECE_BINS:.1f}–{(b['bin'] + 1) / ECE_BINS:.1f} | {b['n']} | "
                     f"{_f(b['confidence'])} | {_f(b['accuracy'])} |")
    th = rv["thresholds"]
    th_text = ", ".join(f"{t:.2f}" for t in th)
    L += ["", "`needs_review` flags a proposal when the chance that both its labels are right (theme confidence "
          "× level confidence) is below a threshold. "
          f"In each training fold the threshold is chosen on the inner out-of-fold confidences to catch "
          f"{REVIEW_CATCH:.0%} of the errors while flagging the fewest rows, then applied to the test fold "
          f"(per fold: {th_text}).", "",
          "| rows with an error (theme or level) | rows flagged | errors caught | accuracy of unflagged rows |",
          "|---|---|---|---|",
          f"| {_f(rv['errors'])} | {_f(rv['flagged'])} | {_f(rv['caught'])} | {_f(rv['acc_unflagged'])} |", "",
          f"For comparison, a threshold chosen on these out-of-fold confidences themselves (in-sample, so a "
          f"bound, not a result) flags {_f(rv['bound']['flagged'])} of the rows to catch "
          f"{_f(rv['bound']['caught'])} of the errors."
          + ("" if rv["flagged"] <= TARGET_REVIEW_FLAG and rv["caught"] >= TARGET_REVIEW_CATCH else
             f" With {_f(rv['errors'])} of the rows wrong, flagging at most {TARGET_REVIEW_FLAG:.0%} while "
             f"catching {TARGET_REVIEW_CATCH:.0%} needs confidences that separate right from wrong better "
             "(a better model), not another threshold."), ""]

    L += ["## Learning curve", "", "![learning curve](learning_curve.png)", "",
          "Macro-F1 (mean over the same grouped folds) when the model sees only part of each training fold "
          f"(scikit-learn `learning_curve`, seed {RANDOM_STATE}; untuned default hyper-parameters); the test "
          "folds are unchanged.", "",
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
        for name, sc in (("labels only", base), ("with reviewer corrections", corr)):
            L.append(f"| {name} | {sc['n']} | {_f(sc['theme']['accuracy'])} | {_f(sc['theme']['macro_f1'])} | "
                     f"{_f(sc['level']['accuracy'])} | {_f(sc['level']['macro_f1'])} |")
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
    n_docs = len(np.unique(groups))
    folds = outer_folds(frame, n_splits)
    if not folds:
        raise PipelineError(f"grouped cross-validation needs at least 2 labelled documents, found {n_docs}")
    k = len(folds)
    if k < n_splits:
        log.warning("only %d documents: %d grouped folds instead of %d", n_docs, k, n_splits)
    oof = cross_val_oof(frame, folds)
    results = {t: evaluate_target(frame, t, folds, oof) for t in TARGETS}
    for t in TARGETS:
        log.info("%s: model macro-F1 %.3f (text only %.3f), cue baseline %.3f, majority %.3f, ECE %.3f", t,
                 results[t]["model"]["macro_f1"], results[t]["text_only"]["macro_f1"],
                 results[t]["cue"]["macro_f1"], results[t]["majority"]["macro_f1"], results[t]["ece"])
    log.info("learning curve")
    curve = learning_curve(frame, folds, fractions)
    log.info("transfer across author levels")
    info = {
        "n": len(frame), "n_docs": n_docs, "n_folds": k, "n_splits": n_splits,
        "results": results, "learning_curve": curve, "review": review_table(results, oof),
        "transfer": transfer(frame), "counts": label_counts(frame),
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
    atomic_write_bytes(reports_dir / "reliability.png", reliability_png(results))
    atomic_write_text(reports_dir / REPORT_FILE, render_report(info))
    log.info("evaluation written to %s", reports_dir / REPORT_FILE)
    return info


def evaluate_command(args) -> int:
    """``python -m pipeline evaluate [--labels DIR] [--reports DIR] [--allow-orphans]``."""
    labels = training_labels(args.labels)
    allow = bool(getattr(args, "allow_orphans", False))
    frame = labelled_proposals(labels, allow_orphans=allow)
    corrected = corrected_labels(args.labels, args.processed)
    corrected_frame = labelled_proposals(corrected, allow_orphans=allow) if corrected is not None else None
    evaluate_frame(frame, args.reports, corrected=corrected_frame)
    return 0
