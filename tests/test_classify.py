"""Theme and level classification: features, model, artifact, commands, evaluation.

The fixture is a small hand-written set of Swedish proposals (six themes, all three
levels) spread over five fake documents, so grouped CV has five folds."""

from __future__ import annotations

import argparse
import json
import logging
import shutil

import numpy as np
import pandas as pd
import pytest

from pipeline import config
from pipeline.classify import evaluate as evaluate_mod
from pipeline.classify import train as train_mod
from pipeline.classify.corrections import append_corrections, apply_corrections
from pipeline.classify.features import (compound_parts, cue_match_counts, codebook_cues, infer_actor_level,
                                        lemma_tokens, prepare_input, with_parts)
from pipeline.classify.model import (ARTIFACT_FILE, METADATA_FILE, ConfidenceCalibrator, ProposalClassifier,
                                     build_model, build_pipeline, choose_review_threshold, flag_for_review,
                                     outer_folds, text_only)
from pipeline.classify.predict import classify_command, classify_frame, label_proposals, model_frame
from pipeline.errors import PipelineError
from pipeline.storage import read_csv, sha256_file, write_csv

# (theme, level, text); each theme's rows are dealt over the five documents in turn.
PROPOSALS = {
    "rattsvasende": [
        ("stat", "Skärpta straff för den som rekryterar barn till grov kriminalitet."),
        ("stat", "Inför fler poliser i varje lokalpolisområde."),
        ("stat", "Ge åklagare rätt att använda hemliga tvångsmedel i fler brottsutredningar."),
        ("stat", "Höj minimistraffet för olaga vapeninnehav."),
        ("stat", "Kriminalvården ska få fler platser på anstalterna."),
        ("stat", "Ändra häktningsreglerna så att fler misstänkta kan hållas häktade."),
        ("stat", "Polisen ska få utökade möjligheter att visitera i utsatta områden."),
        ("stat", "Kriminalisera deltagande i en kriminell organisation."),
        ("stat", "Domstolarna ska få fler domare så att rättegångar går snabbare."),
        ("stat", "Ta bort straffrabatten för unga lagöverträdare mellan 18 och 20 år."),
    ],
    "offentlig_miljo": [
        ("kommun", "Sätt upp fler kameror på torg och i parker där brott ofta begås."),
        ("kommun", "Förbättra belysningen längs gång- och cykelvägar."),
        ("kommun", "Anställ fler ordningsvakter i de centrala delarna av staden."),
        ("kommun", "Planera bort mörka och otrygga platser när nya bostadsområden byggs."),
        ("kommun", "Forsla bort övergivna bilvrak från gatorna snabbare."),
        ("kommun", "Sanera klotter inom ett dygn på kommunens fastigheter."),
        ("region", "Inför trygghetsvärdar på bussar och tåg i kollektivtrafiken."),
        ("stat", "Ändra lagstiftningen så att kommuner får sätta upp kameror utan tillstånd."),
        ("kommun", "Stöd föreningar som ordnar nattvandringar i bostadsområdena."),
        ("stat", "Ge Transportstyrelsen i uppdrag att stoppa målvaktsbilar."),
    ],
    "social_prevention": [
        ("kommun", "Anställ fler fältassistenter som möter unga på kvällar och helger."),
        ("kommun", "Erbjud alla föräldrar i utsatta områden föräldrastöd."),
        ("kommun", "Skolan ska ha fler kuratorer för elever i riskzonen."),
        ("kommun", "Öppna fler fritidsgårdar med längre öppettider."),
        ("kommun", "Ge fler ungdomar sommarjobb genom kommunen."),
        ("kommun", "Socialtjänsten ska göra hembesök hos familjer med barn i riskzonen."),
        ("kommun", "Bygg ut avhopparverksamheten för den som vill lämna kriminaliteten."),
        ("stat", "Stärk stödet vid utslussning från fängelse så att färre återfaller i brott."),
        ("region", "Barnavårdscentralerna ska uppmärksamma barn som far illa."),
        ("kommun", "Satsa på läxhjälp och meningsfull fritid i skolan."),
    ],
    "vald_nara_relation": [
        ("kommun", "Inrätta fler platser på skyddade boenden för våldsutsatta kvinnor."),
        ("kommun", "Socialtjänstens personal ska utbildas i att upptäcka våld i nära relationer."),
        ("kommun", "Kvinnojourerna ska få långsiktig finansiering från staden."),
        ("region", "Sjukhusen ska fråga alla patienter på akuten om de utsatts för våld."),
        ("region", "Vårdcentralerna ska ha rutiner för att upptäcka våld i nära relation."),
        ("stat", "Skärp straffet för grov kvinnofridskränkning."),
        ("stat", "Inför ett nationellt program mot prostitution och människohandel."),
        ("kommun", "Erbjud behandling till män som utövar våld mot sin partner."),
        ("kommun", "Barn som upplever våld i hemmet ska få eget stöd av socialtjänsten."),
        ("stat", "Gör sexuella trakasserier på nätet till ett eget brott."),
    ],
    "narkotika": [
        ("kommun", "Öka tillgången på öppenvård för unga med missbruk."),
        ("kommun", "Inför drogtester i skolan med föräldrarnas samtycke."),
        ("region", "Regionen ska korta köerna till beroendevården."),
        ("region", "Psykiatrin och beroendevården ska samarbeta kring personer med narkotikaberoende."),
        ("stat", "Polisen ska prioritera att slå mot langning av narkotika."),
        ("stat", "Klassa nya syntetiska droger som narkotika snabbare."),
        ("kommun", "Starta ett drogförebyggande arbete i alla högstadieskolor."),
        ("region", "Sprututbyte och substitutionsbehandling ska erbjudas på sjukhusen."),
        ("kommun", "Socialtjänsten ska ge stöd till anhöriga till personer med missbruk."),
        ("stat", "Tullverket ska få mer resurser för att stoppa narkotikasmuggling."),
    ],
    "brottsoffer_vittnen": [
        ("kommun", "Inrätta ett särskilt vittnesstöd för den som vittnar i rättegångar."),
        ("kommun", "Öppna en tipstelefon där invånare anonymt kan lämna uppgifter om brott."),
        ("kommun", "Ge ekonomisk hjälp till företagare som drabbas av skadegörelse."),
        ("kommun", "Brottsofferjouren ska få ett fast bidrag från kommunen."),
        ("stat", "Vittnen ska kunna vara anonyma i mål om grov brottslighet."),
        ("stat", "Inrätta en nationell myndighet för vittnesskydd."),
        ("stat", "Gör det enklare att anmäla brott digitalt."),
        ("stat", "Brottsoffer ska få ersättning från staten direkt efter domen."),
        ("region", "Sjukhusen ska erbjuda krisstöd till brottsoffer som söker vård."),
        ("kommun", "Stärk stödet till barn som har bevittnat brott."),
    ],
}

DOCS = ["doc-a", "doc-b", "doc-c", "doc-d", "doc-e"]
SECTIONS = {
    "doc-a": "Trygghetspolitiskt program > Våra förslag",
    "doc-b": "Ett tryggare Malmö",
    "doc-c": "Handlingsplan för trygghet > Åtgärder",
    "doc-d": "Valprogram 2022 > Trygghet",
    "doc-e": "Program för ett säkert samhälle",
}
INTROS = {
    "doc-a": "Socialdemokraterna i Malmö vill:",
    "doc-b": "Moderaterna vill:",
    "doc-c": "Malmö stad ska:",
    "doc-d": "Vänsterpartiet vill:",
    "doc-e": "Vi föreslår:",
}


def fixture_frame() -> pd.DataFrame:
    rows = []
    for theme, items in PROPOSALS.items():
        for i, (level, text) in enumerate(items):
            doc = DOCS[i % len(DOCS)]
            national = level == "stat" and doc in ("doc-a", "doc-c")
            rows.append({
                "proposal_id": f"{doc}-{theme}-{i:02d}",
                "doc_id": doc,
                "doc_sha256": f"{DOCS.index(doc):064x}",
                "unit": "bullet",
                "actor": INTROS[doc].split(" vill")[0],
                "intro": "Förslag på nationell nivå:" if national else INTROS[doc],
                "level_hint": "stat" if national else "",
                "section": SECTIONS[doc],
                "text": text,
                "theme": theme,
                "level": level,
            })
    return pd.DataFrame(rows).sort_values("proposal_id", kind="mergesort").reset_index(drop=True)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return fixture_frame()


@pytest.fixture
def one_grid_point(monkeypatch):
    """Tuning over one grid point (C = 10, the default feature weights), for tests of
    what is built around the tuned model (reports, out-of-fold files, the train
    command): a quarter of the fits. The ``classifier`` fixture tunes over the whole
    grid, and test_calibration_never_changes_the_decision checks its choice."""
    from pipeline.classify import model as model_mod

    monkeypatch.setattr(model_mod, "PARAM_GRID", {"clf__C": [10.0]})


@pytest.fixture(scope="module")
def classifier(frame) -> ProposalClassifier:
    return ProposalClassifier().fit(frame, frame["theme"], frame["level"])


@pytest.fixture(scope="module")
def model_dir(classifier, tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    classifier.save(d)
    return d


# ---------------------------------------------------------------- features


def test_fixture_shape(frame):
    assert len(frame) == 60
    assert set(frame["level"]) == {"kommun", "region", "stat"}
    assert frame["doc_id"].nunique() == 5


def test_lemmas_and_cues():
    assert lemma_tokens("Skärp straffen för vapenbrott!") == ["skärpa", "straff", "föra", "vapenbrott", "vapen", "brott"]
    table = codebook_cues("theme")
    labels = [lab for lab, _ in table]
    counts = cue_match_counts(["En kamera och bättre belysning på torget", ""], table)
    assert counts[0, labels.index("offentlig_miljo")] == 3  # kamera, belysning, torg
    assert counts[1].sum() == 0
    # multi-word cue across a line break, at a word start only
    counts = cue_match_counts(["våld i nära\nrelationer", "ovärdig"], table)
    assert counts[0, labels.index("vald_nara_relation")] == 1
    assert counts[1].sum() == 0


def test_prepare_input_fills_missing_columns_and_level_hint():
    X = prepare_input(pd.DataFrame({"text": ["Fler poliser."], "intro": ["Förslag på nationell nivå:"]}))
    assert list(X.columns) == ["text", "section", "intro", "level_hint", "actor", "title", "actor_level", "kind"]
    assert X.loc[0, "section"] == "" and X.loc[0, "level_hint"] == "stat" and X.loc[0, "actor_level"] == ""
    # an intro that names the level decides it, for the municipality as for the region (codebook)
    intros = ["Kommunen ska:", "Regionen ska:", "Vi vill att regeringen ger kommunen rätt att:",
              "Samverkan mellan polisen och kommunen", "Vi vill:"]
    X = prepare_input(pd.DataFrame({"text": ["Mer tillsyn."] * 5, "intro": intros}))
    assert X["level_hint"].tolist() == ["kommun", "region", "stat", "", ""]


def test_compounds_share_parts():
    parts = {w: set(compound_parts(w)) for w in ("trygghetskameror", "kameraövervakning", "övervakningskamera")}
    assert "kamera" in parts["trygghetskameror"] & parts["kameraövervakning"] & parts["övervakningskamera"]
    assert "övervakning" in parts["kameraövervakning"] & parts["övervakningskamera"]
    assert compound_parts("polisen") == ()  # not a compound
    # the codebook cue "kamer" now also fires inside the compound
    table = codebook_cues("theme")
    labels = [lab for lab, _ in table]
    X = prepare_input(pd.DataFrame({"text": ["Fler trygghetskameror."]}))
    from pipeline.classify.features import CueCounts

    counts = CueCounts(fields=("theme",)).fit(X).transform(X)
    assert counts[0, labels.index("offentlig_miljo")] > 0


def test_cue_words_fire_per_cue_also_inside_compounds_and_overlaps():
    from pipeline.classify.features import CueWords

    X = prepare_input(pd.DataFrame({"text": ["Fler trygghetskameror.",
                                             "Stöd den som utsätts för hot mot förtroendevalda.",
                                             "Sänkt skatt för pensionärer."]}))
    words = CueWords().fit(X)
    names = list(words.get_feature_names_out())
    hits = words.transform(X).toarray()
    assert hits[0, names.index("cue_word_kamer")] == 1  # inside the compound
    # a cue and a longer cue starting at the same word both fire
    assert hits[1, names.index("cue_word_hot mot")] == 1
    assert hits[1, names.index("cue_word_hot mot förtroendevalda")] == 1
    assert hits[2].sum() == 0
    assert len(names) == len({c.lower() for _, cues in codebook_cues("theme") for c in cues})
    # the same matching as the pooled counts, cue by cue
    with_parts_texts = [with_parts(t) for t in X["text"]]
    one_by_one = cue_match_counts(with_parts_texts, tuple((c, (c,)) for c in words.cues_))
    assert (hits == (one_by_one > 0)).all()


@pytest.mark.parametrize("actor,title,intro,expected", [
    ("Region Skåne", "", "", "region"),
    ("", "Protokoll från regionfullmäktige", "", "region"),
    ("Moderaterna i Ale", "", "", "kommun"),
    ("Vänsterpartiet i Halland", "", "", "region"),
    ("Ale kommun", "", "", "kommun"),
    ("Malmö stad", "", "", "kommun"),
    ("", "", "Kommunfullmäktige beslutar att:", "kommun"),
    ("Riksdagen", "", "", "stat"),
    ("", "Motion till riksdagen 2023/24", "", "stat"),
    ("Kristdemokraterna", "", "", "stat"),
    ("", "Valprogram", "Vi vill:", ""),
])
def test_infer_actor_level(actor, title, intro, expected):
    assert infer_actor_level(actor, "", title, intro) == expected


def test_a_title_given_as_context_names_the_authors_level():
    """``classify --context-cols TITLE INTRO`` puts the document title in the section
    slot: the author's level is read from it when nothing before it decides."""
    df = pd.DataFrame({"forslag": ["Fler väktare på akuten.", "Fler poliser."],
                       "titel": ["Trygghetsprogram, Vänsterpartiet i Halland", "Valprogram"],
                       "inledning": ["Vi vill:", "Riksdagen bör:"]})
    X = prepare_input(model_frame(df, "forslag", ["titel", "inledning"]))
    assert list(X["actor_level"]) == ["region", "stat"]  # the intro comes before the section
    assert infer_actor_level(section="Moderaterna i Ale") == "kommun"


def test_document_metadata_wins_over_inference():
    X = prepare_input(pd.DataFrame({"text": ["a", "b"], "doc_actor": ["Malmö stad", "Malmö stad"],
                                    "actor": ["Socialdemokraterna", ""], "actor_level": ["region", ""]}))
    assert list(X["actor_level"]) == ["region", "kommun"] and X.loc[0, "actor"] == "Malmö stad"


# ---------------------------------------------------------------- the model


UNSEEN = [
    ("Skärp straffen för vapenbrott.", "rattsvasende", "stat"),
    ("Fler kameror och bättre belysning i parkerna.", "offentlig_miljo", "kommun"),
    ("Fältassistenterna ska finnas ute i skolorna och på fritidsgårdarna.", "social_prevention", "kommun"),
    ("Fler platser på skyddat boende för kvinnor som utsatts för våld.", "vald_nara_relation", "kommun"),
]


def test_predicts_sensible_labels_on_unseen_sentences(classifier):
    df = pd.DataFrame({"text": [t for t, _, _ in UNSEEN]})
    pred = classifier.predict(df)
    assert list(pred["theme"]) == [th for _, th, _ in UNSEEN]
    assert list(pred["level"]) == [lv for _, _, lv in UNSEEN]
    for target in ("theme", "level"):
        conf = pred[f"{target}_confidence"]
        assert ((conf >= 0) & (conf <= 1)).all()
        proba = classifier.predict_proba(df, target)
        assert np.allclose(proba.sum(axis=1), 1.0)
        assert list(proba.idxmax(axis=1)) == list(pred[target])  # the label is the decision model's argmax


def test_calibration_never_changes_the_decision(frame, classifier):
    """The balanced model decides; calibration only maps its top probability."""
    X = prepare_input(frame)
    unseen = pd.DataFrame({"text": [t for t, _, _ in UNSEEN] + ["Mer samverkan mellan polis och skola.",
                                                                 "Fler vuxna på stan på kvällarna."]})
    for target in ("theme", "level"):
        model = classifier.models[target]
        # an independent, uncalibrated balanced Pipeline with the chosen hyper-parameters
        plain = build_pipeline().set_params(**model.best_params_)
        plain.fit(pd.concat([X, text_only(X)], ignore_index=True), np.concatenate([frame[target]] * 2))
        for df in (frame, unseen):
            expected = plain.classes_[np.argmax(plain.predict_proba(prepare_input(df)), axis=1)]
            pred = classifier.predict(df)
            assert list(pred[target]) == list(expected)
        raw_top = plain.predict_proba(prepare_input(frame)).max(axis=1)
        assert not np.allclose(classifier.predict(frame)[f"{target}_confidence"], raw_top)


def test_confidence_map_reads_whether_the_label_is_the_majority_class():
    """At the same top probability a label of the majority class (depressed by the
    balanced weights) is right more often; the map learns that from out-of-fold rows and
    keeps confidence increasing in the top probability within each group."""
    rng = np.random.RandomState(0)
    top = rng.uniform(0.2, 0.9, 4000)
    majority = rng.rand(4000) < 0.5
    logit = np.log(top / (1 - top))
    chance = 1 / (1 + np.exp(-(logit + 1.5 * majority)))  # majority labels: right more often
    correct = rng.rand(4000) < chance
    cal = ConfidenceCalibrator().fit(top, np.ones(4000), correct, majority)
    grid = np.linspace(0.25, 0.85, 7)
    conf_major = cal.transform(grid, np.ones(7), np.ones(7, dtype=bool))
    conf_minor = cal.transform(grid, np.ones(7), np.zeros(7, dtype=bool))
    assert (conf_major > conf_minor + 0.05).all()
    assert (np.diff(conf_major) > 0).all() and (np.diff(conf_minor) > 0).all()
    g = np.log(grid / (1 - grid))
    for conf, shift in ((conf_major, 1.5), (conf_minor, 0.0)):
        assert np.abs(conf - 1 / (1 + np.exp(-(g + shift)))).max() < 0.05
    # without the term the map cannot tell the groups apart
    blind = ConfidenceCalibrator().fit(top, np.ones(4000), correct)
    assert np.allclose(blind.transform(grid, np.ones(7), np.ones(7, dtype=bool)),
                       blind.transform(grid, np.ones(7), np.zeros(7, dtype=bool)))


def test_review_threshold_catches_its_share_of_errors_with_the_fewest_rows():
    rng = np.random.RandomState(3)
    conf = {"theme": rng.uniform(0.2, 1.0, 400), "level": rng.uniform(0.5, 1.0, 400)}
    row = conf["theme"] * conf["level"]
    correct = {t: rng.uniform(size=400) < c for t, c in conf.items()}  # right with chance = confidence
    wrong = ~(correct["theme"] & correct["level"])
    for catch in (0.5, 0.7, 0.9):
        th = choose_review_threshold(conf, correct, catch=catch)
        flag = flag_for_review(conf, th)
        assert (flag == (row < th)).all()
        assert (flag & wrong).sum() >= catch * wrong.sum()
        # the next lower row confidence of an error would catch too few
        below = row[wrong & (row < th)].max()
        assert (flag_for_review(conf, below) & wrong).sum() < catch * wrong.sum()
    # one score for the row: both labels fairly sure, the pair not (0.8 x 0.8 = 0.64)
    assert flag_for_review({"theme": [0.8, 0.95], "level": [0.8, 0.95]}, 0.7).tolist() == [True, False]
    assert choose_review_threshold(conf, {t: np.ones(400, bool) for t in conf}) == 0.0  # no errors: flag none


def test_confidence_map_reads_the_text_only_view():
    """A label that the text alone does not carry (the text-only view gives it a low
    probability and picks another label) is right less often at the same top
    probability; the map learns that, and a row without context, which is its own
    text-only view, gets the same confidence as when the terms are left out."""
    rng = np.random.RandomState(1)
    n = 6000
    top = rng.uniform(0.3, 0.95, n)
    context = rng.rand(n) < 0.5
    agree = ~context | (rng.rand(n) < 0.6)
    text_top = np.where(agree, top, rng.uniform(0.05, 0.3, n))
    logit = np.log(top / (1 - top))
    correct = rng.rand(n) < 1 / (1 + np.exp(-(logit - 2.0 * ~agree)))  # context-only labels: wrong more often
    cal = ConfidenceCalibrator().fit(top, context, correct, None, text_top, agree)
    grid = np.linspace(0.4, 0.9, 6)
    ones = np.ones(6, dtype=bool)
    backed = cal.transform(grid, ones, None, grid, ones)
    alone = cal.transform(grid, ones, None, np.full(6, 0.15), ~ones)
    assert (backed > alone + 0.2).all()
    plain = ~ones
    assert np.allclose(cal.transform(grid, plain, None, grid, ones), cal.transform(grid, plain))


def test_tuning_fits_each_folds_features_once(frame, monkeypatch):
    """The grid points that differ only in C and the out-of-fold predictions reuse a
    training fold's fitted features: 3 inner folds x 2 feature settings + the refit."""
    from sklearn.compose import ColumnTransformer

    fits = []
    original = ColumnTransformer.fit_transform

    def counting(self, *args, **kwargs):
        fits.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ColumnTransformer, "fit_transform", counting)
    model = build_model("theme").fit(frame, frame["theme"], groups=frame["doc_id"])
    assert len(fits) == 7
    assert model.pipeline_.memory is None  # the fitted model keeps no cache
    assert set(model.classes_) == set(frame["theme"])


def test_one_grid_point_skips_the_search_and_fits_the_same_model(frame):
    """With one candidate there is nothing to choose: the model is GridSearchCV's refit
    without its folds. The same point listed twice goes through GridSearchCV (a tie,
    the first wins): the same decisions, probabilities and confidences."""
    from pipeline.classify.model import TunedClassifier

    X, y, groups = frame, frame["theme"], frame["doc_id"]
    one = TunedClassifier(param_grid={"clf__C": [10.0]}).fit(X, y, groups=groups)
    searched = TunedClassifier(param_grid={"clf__C": [10.0, 10.0]}).fit(X, y, groups=groups)
    assert one.best_params_ == searched.best_params_ == {"clf__C": 10.0}
    df = pd.DataFrame({"text": [t for t, _, _ in UNSEEN]})
    np.testing.assert_array_equal(one.predict_proba(frame), searched.predict_proba(frame))
    for a, b in zip(one.predict_with_confidence(df), searched.predict_with_confidence(df)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one.oof_confidence_, searched.oof_confidence_)


def test_training_is_deterministic(frame, classifier, model_dir, tmp_path):
    again = ProposalClassifier().fit(frame, frame["theme"], frame["level"])
    df = pd.DataFrame({"text": [t for t, _, _ in UNSEEN] + list(frame["text"][:10])})
    for target in ("theme", "level"):
        pd.testing.assert_frame_equal(classifier.predict_proba(df, target), again.predict_proba(df, target),
                                      check_exact=True)
    again.save(tmp_path)
    for name in (ARTIFACT_FILE, METADATA_FILE):
        assert (tmp_path / name).read_bytes() == (model_dir / name).read_bytes()


def test_metadata(model_dir):
    meta = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    assert meta["n_examples"] == 60 and meta["n_documents"] == 5
    assert meta["codebook_version"] == 2
    assert set(meta["targets"]["theme"]["best_params"]) == {"clf__C", "features__transformer_weights"}
    assert {"python", "scikit-learn", "pandas", "numpy"} <= set(meta["versions"])
    assert meta["targets"]["level"]["labels"] == ["kommun", "region", "stat"]
    assert len(meta["labels_sha256"]) == 64 and len(meta["artifact_sha256"]) == 64
    assert "time" not in json.dumps(meta).lower()


def test_load_roundtrip(classifier, model_dir):
    loaded = ProposalClassifier.load(model_dir)
    df = pd.DataFrame({"text": [t for t, _, _ in UNSEEN]})
    pd.testing.assert_frame_equal(loaded.predict(df), classifier.predict(df))


def test_other_sklearn_version_is_refused(model_dir, tmp_path):
    for name in (ARTIFACT_FILE, METADATA_FILE):
        (tmp_path / name).write_bytes((model_dir / name).read_bytes())
    meta = json.loads((tmp_path / METADATA_FILE).read_text(encoding="utf-8"))
    meta["versions"]["scikit-learn"] = "0.24.2"
    (tmp_path / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    import sklearn

    with pytest.raises(PipelineError) as err:
        ProposalClassifier.load(tmp_path)
    assert str(err.value) == (f"model built with scikit-learn 0.24.2, this is {sklearn.__version__}: "
                              "run `make train` (python -m pipeline train) to retrain")


def test_missing_or_damaged_model(model_dir, tmp_path):
    with pytest.raises(PipelineError, match="make train"):
        ProposalClassifier.load(tmp_path / "nothing")
    for name in (ARTIFACT_FILE, METADATA_FILE):
        (tmp_path / name).write_bytes((model_dir / name).read_bytes())
    (tmp_path / ARTIFACT_FILE).write_bytes(b"garbage")
    with pytest.raises(PipelineError, match="sha256"):
        ProposalClassifier.load(tmp_path)


def test_small_classes_and_single_class():
    df = pd.DataFrame({"text": ["Fler poliser.", "Fler kameror.", "Mer belysning.", "Skärp straffen."]})
    clf = ProposalClassifier().fit(df, ["rattsvasende", "offentlig_miljo", "offentlig_miljo", "rattsvasende"],
                                   ["stat"] * 4)
    pred = clf.predict(pd.DataFrame({"text": ["Kameror på torget."]}))
    assert pred.loc[0, "level"] == "stat" and pred.loc[0, "level_confidence"] == 1.0
    assert 0 <= pred.loc[0, "theme_confidence"] <= 1


# ------------------------------------------------------------------ predict


def test_classify_frame_flags_low_confidence(classifier, frame):
    out = classify_frame(frame.drop(columns=["theme", "level"]), classifier)
    for col in ("theme", "theme_confidence", "level", "level_confidence", "needs_review"):
        assert col in out.columns
    low = out["theme_confidence"] * out["level_confidence"] < classifier.review_threshold
    assert (out["needs_review"] == low).all()
    assert (out["theme"] == frame["theme"]).mean() > 0.9  # training data


def test_classify_command_with_other_columns(model_dir, tmp_path):
    inp, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_csv(pd.DataFrame({
        "id": ["1", "2"],
        "forslag": ["Skärp straffen för vapenbrott.", "Fler kameror och bättre belysning i parkerna."],
        "rubrik": ["Förslag", "Trygga platser"],
    }), inp)
    args = argparse.Namespace(inp=inp, out=out, text_col="forslag", context_cols=["rubrik"], models=model_dir)
    assert classify_command(args) == 0
    result = read_csv(out)
    assert list(result.columns) == ["id", "forslag", "rubrik", "theme", "theme_confidence", "level",
                                    "level_confidence", "needs_review"]
    assert list(result["theme"]) == ["rattsvasende", "offentlig_miljo"]
    first = out.read_bytes()
    classify_command(args)
    assert out.read_bytes() == first

    args.text_col = "text"
    with pytest.raises(PipelineError, match="text column 'text' not found; available columns: id, forslag, rubrik"):
        classify_command(args)


def test_label_proposals(model_dir, tmp_path, frame, caplog):
    proposals = frame.drop(columns=["theme", "level"]).head(3)
    out = label_proposals(proposals, model_dir, labels_dir=tmp_path)
    assert (out[["theme_source", "level_source"]] == "model").all().all() and (out["theme"] != "").all()
    assert "label_source" not in out.columns
    with caplog.at_level(logging.WARNING):
        empty = label_proposals(proposals, tmp_path / "no-model", labels_dir=tmp_path)
    assert "make train" in caplog.text
    assert (empty[["theme", "level", "needs_review", "theme_source", "level_source"]] == "").all().all()


def test_model_labels_are_kept_per_document_and_keyed_by_the_model(model_dir, tmp_path, frame):
    from pipeline.classify.predict import ModelLabels

    proposals = frame.drop(columns=["theme", "level"]).reset_index(drop=True)
    first = ModelLabels(model_dir, tmp_path / "cache")
    out = label_proposals(proposals, model_dir, labels_dir=tmp_path, model_labels=first)
    n_docs = proposals["doc_id"].nunique()
    assert first.n_predicted == n_docs
    assert len(list((tmp_path / "cache" / "classify").rglob("*.labels.parquet"))) == n_docs
    plain = label_proposals(proposals, model_dir, labels_dir=tmp_path)  # nothing remembered
    pd.testing.assert_frame_equal(out, plain)
    # an unchanged rerun reads every document's labels and never loads the model
    again = ModelLabels(model_dir, tmp_path / "cache")
    pd.testing.assert_frame_equal(label_proposals(proposals, model_dir, labels_dir=tmp_path, model_labels=again), out)
    assert again.n_predicted == 0 and again._model is None
    # one document's proposal changed: only that document is labelled again
    changed = proposals.copy()
    changed.loc[0, "text"] = changed.loc[0, "text"] + " Snarast."
    third = ModelLabels(model_dir, tmp_path / "cache")
    label_proposals(changed, model_dir, labels_dir=tmp_path, model_labels=third)
    assert third.n_predicted == 1
    # another model (here: the same artifact with other metadata) labels everything anew
    other = tmp_path / "other-model"
    shutil.copytree(model_dir, other)
    meta = json.loads((other / "metadata.json").read_text(encoding="utf-8"))
    meta["note"] = "retrained"
    (other / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    fourth = ModelLabels(other, tmp_path / "cache")
    label_proposals(proposals, other, labels_dir=tmp_path, model_labels=fourth)
    assert fourth.n_predicted == n_docs


def test_hand_labels_win_and_review_wins_over_them(model_dir, tmp_path, frame):
    proposals = frame.drop(columns=["theme", "level"]).head(4).reset_index(drop=True)
    model_out = label_proposals(proposals, model_dir, labels_dir=tmp_path)
    pid = proposals.loc[0, "proposal_id"]
    hand_theme = next(t for t in ("extremism", "hedersvald") if t != model_out.loc[0, "theme"])
    hand_level = next(lv for lv in ("region", "kommun") if lv != model_out.loc[0, "level"])
    _labels_csv(tmp_path / "labels.csv", [[pid, proposals.loc[0, "doc_sha256"], hand_theme, hand_level, "AB", ""]])
    out = label_proposals(proposals, model_dir, labels_dir=tmp_path)
    assert (out.loc[0, "theme"], out.loc[0, "level"]) == (hand_theme, hand_level)
    assert (out.loc[0, "theme_source"], out.loc[0, "level_source"]) == ("hand", "hand")
    assert out.loc[0, "needs_review"]  # the model disagrees with the hand label
    assert (out.loc[1:, ["theme_source", "level_source"]] == "model").all().all()
    pd.testing.assert_frame_equal(out.loc[1:, ["theme", "level"]], model_out.loc[1:, ["theme", "level"]])
    # a reviewer's correction of the level wins over the hand label, the theme stays hand
    log_path = tmp_path / "corrections.csv"
    append_corrections([{"proposal_id": pid, "field": "level", "old": hand_level, "new": "stat",
                         "reviewer": "CD", "timestamp": "2024-01-01T00:00:00Z", "note": ""}], log_path)
    corrected, _ = apply_corrections(out, log_path)
    assert corrected.loc[0, "level"] == "stat" and corrected.loc[0, "level_source"] == "review"
    assert corrected.loc[0, "theme"] == hand_theme and corrected.loc[0, "theme_source"] == "hand"


def test_trained_proposals_get_out_of_fold_confidences(tmp_path, frame, one_grid_point):
    models = tmp_path / "models"
    clf = train_mod.train_frame(frame, models)
    oof = read_csv(models / "oof_predictions.csv")
    assert list(oof.columns) == train_mod.OOF_COLUMNS and len(oof) == len(frame)
    assert set(oof["proposal_id"]) == set(frame["proposal_id"])
    proposals = frame.drop(columns=["theme", "level"])
    out = label_proposals(proposals, models, labels_dir=tmp_path).set_index("proposal_id")
    in_sample = clf.predict(proposals).set_index(proposals["proposal_id"])
    oof = oof.set_index("proposal_id")
    for target in ("theme", "level"):
        got = out.loc[oof.index, f"{target}_confidence"].astype(float)
        assert np.allclose(got, oof[f"{target}_oof_confidence"].astype(float), atol=1e-4)
        differ = ~np.isclose(got, in_sample.loc[oof.index, f"{target}_confidence"], atol=1e-3)
        assert differ.mean() > 0.5
    # out of fold the model is wrong more often than in sample
    assert (oof["theme_oof"] != frame.set_index("proposal_id").loc[oof.index, "theme"]).sum() > \
        (in_sample.loc[oof.index, "theme"] != frame.set_index("proposal_id").loc[oof.index, "theme"]).sum()


# -------------------------------------------------------- labels and training


def _labels_csv(path, rows):
    write_csv(pd.DataFrame(rows, columns=["proposal_id", "doc_sha256", "theme", "level", "annotator", "note"]),
              path)


def test_labels_outside_codebook_name_file_and_row(tmp_path):
    _labels_csv(tmp_path / "labels.csv", [
        ["p1", "a" * 64, "rattsvasende", "stat", "AB", ""],
        ["p2", "a" * 64, "vapen", "stat", "AB", ""],
    ])
    with pytest.raises(PipelineError) as err:
        train_mod.training_labels(tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "labels.csv") in msg and "row 3" in msg and "'vapen'" in msg

    _labels_csv(tmp_path / "labels.csv", [["p1", "a" * 64, "rattsvasende", "kommunal", "AB", ""]])
    with pytest.raises(PipelineError, match=r"labels\.csv, row 2: level 'kommunal'"):
        train_mod.training_labels(tmp_path)


def test_labels_duplicates(tmp_path, caplog):
    _labels_csv(tmp_path / "labels.csv", [
        ["p2", "a" * 64, "narkotika", "kommun", "AB", ""],
        ["p1", "a" * 64, "rattsvasende", "stat", "AB", ""],
        ["p1", "a" * 64, "rattsvasende", "stat", "CD", "same"],
        ["p3", "a" * 64, "narkotika", "kommun", "AB", ""],
        ["p3", "a" * 64, "narkotika", "region", "CD", "disagree"],
    ])
    with caplog.at_level(logging.WARNING):
        labels = train_mod.training_labels(tmp_path)
    assert list(labels.columns) == ["proposal_id", "doc_sha256", "theme", "level", "text_simhash"]
    assert list(labels["proposal_id"]) == ["p1", "p2"]
    assert "conflicting" in caplog.text


def _fake_corpus(tmp_path, frame):
    """Files whose sha256 the fixture's documents get, and an extractor over them."""
    raw = tmp_path / "raw"
    raw.mkdir()
    sha_of = {}
    for doc in DOCS:
        path = raw / f"{doc}.txt"
        path.write_text(f"dokument {doc}\n", encoding="utf-8")
        sha_of[doc] = sha256_file(path)
    proposals = frame.drop(columns=["theme", "level"]).copy()
    proposals["doc_sha256"] = proposals["doc_id"].map(sha_of)
    calls = []

    def extract(paths):
        calls.append([p.name for p in paths])
        names = {p.stem for p in paths}
        return proposals[proposals["doc_id"].isin(names)].reset_index(drop=True)

    labels = frame[["proposal_id", "doc_id", "theme", "level"]].copy()
    labels["doc_sha256"] = labels["doc_id"].map(sha_of)
    return raw, extract, labels[["proposal_id", "doc_sha256", "theme", "level"]], calls


def test_labelled_proposals_join_and_warnings(tmp_path, frame, caplog):
    raw, extract, labels, calls = _fake_corpus(tmp_path, frame)
    (raw / "doc-e.txt").unlink()  # one document gone: its 12 labels are skipped
    extra = pd.DataFrame([["doc-a-gone", labels["doc_sha256"][0], "narkotika", "kommun"]], columns=labels.columns)
    labels = pd.concat([labels, extra], ignore_index=True)
    with pytest.raises(PipelineError, match=r"1 label\(s\) cannot be placed.*doc-a-gone.*--allow-orphans"):
        train_mod.labelled_proposals(labels, dirs=[raw, tmp_path / "absent"], extract=extract)
    calls.clear()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        joined = train_mod.labelled_proposals(labels, dirs=[raw, tmp_path / "absent"], extract=extract,
                                              allow_orphans=True)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "12 label(s) skipped: their 1 document(s)" in warnings[0]
    assert "1 label(s) cannot be placed" in warnings[1] and "doc-a-gone" in warnings[1]
    assert len(joined) == 48 and set(joined["doc_id"]) == set(DOCS[:4])
    assert len(calls) == 1 and sorted(calls[0]) == [f"{d}.txt" for d in DOCS[:4]]
    assert {"text", "section", "intro", "theme", "level"} <= set(joined.columns)


def test_train_command_end_to_end(tmp_path, frame, monkeypatch, one_grid_point):
    raw, extract, labels, _ = _fake_corpus(tmp_path, frame)
    labels_dir = tmp_path / "labels"
    labels_dir.mkdir()
    rows = labels.assign(annotator="AB", note="")
    write_csv(rows, labels_dir / "labels.csv")
    monkeypatch.setattr(config, "RAW_DIR", raw)
    monkeypatch.setattr(config, "REAL_CORPUS_DIR", tmp_path / "no-corpus")
    monkeypatch.setattr(train_mod, "_default_extractor", lambda: extract)
    args = argparse.Namespace(processed=tmp_path / "processed", labels=labels_dir, models=tmp_path / "models")
    assert train_mod.train_command(args) == 0
    meta = json.loads((tmp_path / "models" / METADATA_FILE).read_text(encoding="utf-8"))
    assert meta["n_examples"] == 60
    cv = meta["cv_scores"]
    assert cv["n_folds"] == 5 and 0 <= cv["theme"]["macro_f1"] <= 1 and len(cv["level"]["macro_f1_per_fold"]) == 5
    assert (tmp_path / "models" / "oof_predictions.csv").is_file()
    model = ProposalClassifier.load(tmp_path / "models")
    assert model.predict(pd.DataFrame({"text": ["Skärp straffen för vapenbrott."]})).loc[0, "theme"] == "rattsvasende"


# ---------------------------------------------------------------- evaluation


def test_outer_folds_keep_documents_apart(frame):
    folds = outer_folds(frame, 5)
    assert len(folds) == 5
    groups = frame["doc_id"].to_numpy()
    for train_idx, test_idx in folds:
        assert not set(groups[train_idx]) & set(groups[test_idx])
    small = frame[frame["doc_id"].isin(DOCS[:3])]
    assert len(outer_folds(small, 5)) == 3
    assert outer_folds(frame[frame["doc_id"] == "doc-a"], 5) == []


def test_evaluate_writes_report_and_pngs(frame, tmp_path, one_grid_point):
    info = evaluate_mod.evaluate_frame(frame, tmp_path)
    report = (tmp_path / "evaluation.md").read_text(encoding="utf-8")
    for name in ("confusion_theme.png", "confusion_level.png", "learning_curve.png", "reliability.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({name})" in report
    assert "StratifiedGroupKFold by document, 5 folds" in report
    assert "| cue words (codebook) |" in report and "| majority class |" in report
    assert "| model, text + document title and list intro (no metadata) |" in report
    assert "theme macro-F1 − cue baseline" in report and "No reviewer corrections yet" in report
    assert "| level ECE | ≤ 0.05 |" in report and "needs_review: share of errors caught" in report
    assert "## Transfer across levels of government" in report and "| total |" in report
    th = info["results"]["theme"]
    assert f"| model (text + context + document) | {th['model']['accuracy']:.3f} | {th['model']['macro_f1']:.3f} |" in report
    # the majority baseline predicts one label per fold: far below the model
    assert th["majority"]["macro_f1"] < th["model"]["macro_f1"]
    assert th["model"]["macro_f1"] > 0.5
    assert [row["fraction"] for row in info["learning_curve"]] == [0.33, 0.66, 1.0]
    assert 0 <= info["review"]["flagged"] <= 1 and 0 <= info["results"]["level"]["ece"] <= 1
    bound = info["review"]["bound"]  # a threshold chosen in-sample: it reaches the catch target
    assert bound["caught"] >= 0.70 and f"flags {bound['flagged']:.3f} of the rows" in report

    # fewer documents than folds: as many folds as documents, said in the report
    small = frame[frame["doc_id"].isin(DOCS[:3])]
    corrected = small.assign(level="stat")
    out = tmp_path / "small"
    evaluate_mod.evaluate_frame(small, out, corrected=corrected, fractions=(0.5, 1.0))
    text = (out / "evaluation.md").read_text(encoding="utf-8")
    assert "Only 3 documents: 3 folds instead of 5." in text
    assert "| with reviewer corrections | 36 |" in text
    first = (out / "evaluation.md").read_bytes(), (out / "learning_curve.png").read_bytes()
    evaluate_mod.evaluate_frame(small, out, corrected=corrected, fractions=(0.5, 1.0))
    assert ((out / "evaluation.md").read_bytes(), (out / "learning_curve.png").read_bytes()) == first
