"""
=====================================================
Ablation: center loss and reconstruction
=====================================================

The multitask CNN of Tripathi et al. (2019) adds two terms to the softmax
cross-entropy:

.. math::

    L = L_{CE} + \\lambda_{center} L_C + \\lambda_{recon} L_R

where :math:`L_C` is the center loss of the embeddings and :math:`L_R` the mean squared
error of the decoder's reconstruction of the input features. An ablation switches each
term off in turn, giving four rows: softmax only, + center loss, + reconstruction, and
both. Each row is evaluated the way emotion recognition papers report results: on
held-out speakers, with UA and WA pooled over the folds, by
:func:`~sklearn_ser.model_selection.evaluate_speaker_independent`.
"""

# %%
# Features once, then four classifiers
# ------------------------------------
# The classifiers all read the same log-mel features, so they are computed once. (In a
# pipeline, ``Pipeline(memory=...)`` achieves the same.)
import matplotlib.pyplot as plt
import numpy as np

from sklearn_ser import MelSpectrogramExtractor, SERClassifier
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.model_selection import evaluate_speaker_independent

data = make_emotional_speech(n_speakers=6, n_utterances=6, duration=1.0, random_state=5)
X = MelSpectrogramExtractor(n_mels=32, max_frames=100).fit_transform(data.data)
y, speakers = data.target, data.speaker
print("features:", X.shape, "speakers:", np.unique(speakers).tolist())

rows = {
    "softmax only": dict(lambda_center=0.0, lambda_recon=0.0),
    "+ center loss": dict(lambda_center=0.1, lambda_recon=0.0),
    "+ reconstruction": dict(lambda_center=0.0, lambda_recon=0.1),
    "+ both": dict(lambda_center=0.1, lambda_recon=0.1),
}

# %%
# Speaker-independent evaluation of each row
# ------------------------------------------
# ``evaluate_speaker_independent`` clones the classifier for every fold, trains it on
# the training speakers and predicts the held-out ones; the report pools the
# predictions of all folds. Its default ``cv`` is leave-one-speaker-out; ``cv=3``
# (three folds of two speakers, :class:`~sklearn.model_selection.GroupKFold`) keeps this
# example fast.
results = {}
for name, losses in rows.items():
    clf = SERClassifier(
        max_epochs=25,
        lr=3e-3,
        batch_size=16,
        module__channels=(8, 16),
        module__embedding_dim=16,
        module__dropout=0.1,
        random_state=0,
        **losses,
    )
    results[name] = evaluate_speaker_independent(clf, X, y, speakers, cv=3)
    r = results[name]
    print(f"{name:<17} UA {r.ua:.3f} (fold std {r.ua_std:.3f})  WA {r.wa:.3f}")

# %%
# The full report of one row: pooled scores, per-class recall, per-speaker accuracy and
# the pooled confusion matrix.
print(results["+ both"])

# %%
# The four rows as a table, and as a bar plot:
print(f"{'losses':<17} {'lambda_center':>13} {'lambda_recon':>12} {'UA':>6} {'WA':>6}")
for name, r in results.items():
    lc, lr = rows[name]["lambda_center"], rows[name]["lambda_recon"]
    print(f"{name:<17} {lc:>13} {lr:>12} {r.ua:>6.3f} {r.wa:>6.3f}")

fig, ax = plt.subplots(figsize=(6, 3.2))
names = list(results)
ua = [results[n].ua for n in names]
err = [results[n].ua_std for n in names]
ax.bar(names, ua, yerr=err, capsize=4, color=["C7", "C0", "C1", "C2"])
ax.axhline(1 / len(data.target_names), color="grey", linestyle="--", label="chance")
ax.set_ylabel("UA (held-out speakers)")
ax.set_ylim(0, 1)
ax.legend()
ax.set_title("Loss ablation on synthetic speech")
fig.tight_layout()

# %%
# Error bars are the spread over the three folds: with so few speakers, a
# difference between rows smaller than that spread says little. The real-corpus
# ablation, on EmoDB and EMOVO with the default model, is in :ref:`benchmarks`.
