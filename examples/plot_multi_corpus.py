"""
=====================================================
Multi-corpus training and a cross-corpus test
=====================================================

Emotional speech corpora are small, and each has its own speakers, language, microphones
and label set. Two practices follow:

* **pooling** several corpora on their shared labels to train one model
  (:func:`~sklearn_ser.datasets.combine_corpora`), and
* **cross-corpus testing**: training on one corpus and testing on another, the harshest
  test of generalisation.

Here two synthetic "corpora" play the roles of, e.g., EmoDB and EMOVO: they are generated
with different seeds (different speakers) and different label sets, and the second is
quieter and noisier, like a different recording setup.
"""

# %%
# Two corpora with partly different emotions
# ------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from sklearn_ser import MelSpectrogramExtractor, SERClassifier
from sklearn_ser.datasets import combine_corpora, make_emotional_speech
from sklearn_ser.metrics import unweighted_accuracy

corpus_a = make_emotional_speech(
    n_speakers=4,
    n_utterances=8,
    duration=1.0,
    emotions=("anger", "happiness", "neutral", "sadness"),
    random_state=10,
)
corpus_b = make_emotional_speech(
    n_speakers=4,
    n_utterances=8,
    duration=1.0,
    emotions=("anger", "fear", "neutral", "sadness"),
    noise=0.3,
    random_state=20,
)
both = combine_corpora({"corpus_a": corpus_a, "corpus_b": corpus_b})
print("shared labels:", both.target_names.tolist())
print("speakers:", np.unique(both.speaker).tolist())
print(both.DESCR)

# %%
# ``combine_corpora`` keeps the labels both corpora have, prefixes every speaker with
# its corpus (so that two corpora's ``s01`` are never the same group in speaker-grouped
# cross-validation) and records each sample's ``corpus``. A ``labels=`` mapping would
# instead merge labels, e.g. ``{"fear": "anxiety", ...}`` per corpus.
X = both.data
in_a = both.corpus == "corpus_a"
X_a = [x for x, keep in zip(X, in_a) if keep]
X_b = [x for x, keep in zip(X, in_a) if not keep]
y_a, y_b = both.target[in_a], both.target[~in_a]


def make_model():
    return make_pipeline(
        MelSpectrogramExtractor(n_mels=32, max_frames=100, normalize="mean"),
        SERClassifier(
            max_epochs=20,
            lr=3e-3,
            batch_size=16,
            module__channels=(8, 16),
            module__embedding_dim=16,
            random_state=0,
        ),
    )


# %%
# Within-corpus and cross-corpus
# ------------------------------
# The within-corpus test holds out two speakers of the same corpus; the cross-corpus
# test trains on all of corpus A and tests on all of corpus B. ``normalize="mean"``
# removes each utterance's mean per band, a simple guard against channel differences.
spk_a = both.speaker[in_a]
held_out = np.isin(spk_a, ["corpus_a:s03", "corpus_a:s04"])
X_a_train = [x for x, h in zip(X_a, held_out) if not h]
X_a_test = [x for x, h in zip(X_a, held_out) if h]
within = make_model().fit(X_a_train, y_a[~held_out])
ua_within = unweighted_accuracy(y_a[held_out], within.predict(X_a_test))
cross = make_model().fit(X_a, y_a)
ua_cross = unweighted_accuracy(y_b, cross.predict(X_b))

# %%
# Multi-corpus training
# ---------------------
# Pooling adds corpus B's speakers to training: held-out speakers of *both* corpora are
# then tested with a model that has heard each recording setup.
test_speakers = ["corpus_a:s03", "corpus_a:s04", "corpus_b:s03", "corpus_b:s04"]
test = np.isin(both.speaker, test_speakers)
pooled = make_model().fit([x for x, t in zip(X, test) if not t], both.target[~test])
pred = pooled.predict([x for x, t in zip(X, test) if t])
ua_pooled_b = unweighted_accuracy(both.target[test & ~in_a], pred[~in_a[test]])

results = {
    "A -> A (held-out speakers)": ua_within,
    "A -> B (cross-corpus)": ua_cross,
    "A+B -> B (held-out speakers)": ua_pooled_b,
}
for name, ua in results.items():
    print(f"{name:<30} UA {ua:.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(results), list(results.values()), color=["C0", "C3", "C2"])
ax.axvline(1 / len(both.target_names), color="grey", linestyle="--", label="chance")
ax.set_xlim(0, 1)
ax.set_xlabel("UA")
ax.invert_yaxis()
ax.legend(loc="lower right")
fig.tight_layout()

# %%
# Real corpora
# ------------
# With corpora on disk the code is the same, with loaders instead of the generator and
# a label mapping where the corpora name emotions differently::
#
#     from sklearn_ser.datasets import combine_corpora, load_emodb, load_emovo
#
#     both = combine_corpora(
#         [load_emodb(data_home), load_emovo(data_home)],
#         labels={"emodb": {"anger": "anger", "happiness": "happiness",
#                           "neutral": "neutral", "sadness": "sadness"},
#                 "emovo": {"anger": "anger", "happiness": "happiness",
#                           "neutral": "neutral", "sadness": "sadness"}},
#     )
#     X, y, groups = both.filenames, both.target, both.speaker
#
# and ``evaluate_speaker_independent(pipe, X, y, groups)`` then holds out one speaker
# of either corpus per fold (:ref:`evaluation`).
