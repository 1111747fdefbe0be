"""
======================================================
Network embeddings as features for SVM and k-NN
======================================================

A fitted :class:`~sklearn_ser.SERClassifier` is also a transformer: its ``transform``
returns the *embedding* of each utterance, the layer that center loss pulls toward one
centre per emotion. Tripathi et al. (2019) feed such embeddings to other classifiers.
Because the classifier is a regular scikit-learn transformer, that is just a longer
pipeline::

    extractor -> SERClassifier (as transformer) -> StandardScaler -> SVC

Here the network's own softmax, an RBF SVM and a k-nearest-neighbour classifier on the
same embeddings are compared on speakers held out from every step of training.
"""

# %%
# Train and test speakers
# -----------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_ser import MelSpectrogramExtractor, SERClassifier
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.metrics import unweighted_accuracy

data = make_emotional_speech(n_speakers=6, n_utterances=8, duration=1.0, random_state=2)
speakers = data.speaker
test = np.isin(speakers, ["s05", "s06"])
X_train = [w for w, t in zip(data.data, test) if not t]
X_test = [w for w, t in zip(data.data, test) if t]
y_train, y_test = data.target[~test], data.target[test]

# %%
# Three pipelines sharing one network
# -----------------------------------
# All three start with the same extractor and the same network settings. In a pipeline,
# every step but the last is a transformer, so ``SERClassifier`` placed in the middle is
# fitted on the labels and then passes its embeddings on.
network = SERClassifier(
    max_epochs=20,
    lr=3e-3,
    lambda_center=0.05,
    batch_size=16,
    module__channels=(8, 16),
    module__embedding_dim=16,
    random_state=0,
)
extractor = MelSpectrogramExtractor(n_mels=32, max_frames=100)

softmax = make_pipeline(clone(extractor), clone(network))
svm = make_pipeline(clone(extractor), clone(network), StandardScaler(), SVC(C=1.0))
knn = make_pipeline(
    clone(extractor), clone(network), StandardScaler(), KNeighborsClassifier(n_neighbors=7)
)

# %%
# Fit and score on the held-out speakers
# --------------------------------------
# Each pipeline trains its own copy of the network with the same seed, so the three
# share the same embeddings and differ only in the classifier on top of them.
scores = {}
for name, pipe in [("softmax (the network)", softmax), ("SVM on embeddings", svm),
                   ("k-NN on embeddings", knn)]:  # fmt: skip
    pipe.fit(X_train, y_train)
    scores[name] = unweighted_accuracy(y_test, pipe.predict(X_test))
    print(f"{name:<22} UA on held-out speakers: {scores[name]:.3f}")

# %%
# The embeddings themselves are the output of the first two steps:
embeddings = svm[:2].transform(X_test)
print("embeddings:", embeddings.shape)
print("names:", svm[1].get_feature_names_out()[:3].tolist(), "...")

# %%
fig, ax = plt.subplots(figsize=(5.5, 3))
ax.barh(list(scores), list(scores.values()), color=["C0", "C1", "C2"])
ax.axvline(1 / len(data.target_names), color="grey", linestyle="--", label="chance")
ax.set_xlabel("UA on held-out speakers s05, s06")
ax.set_xlim(0, 1)
ax.legend(loc="lower right")
ax.set_title("Classifiers on network embeddings")
fig.tight_layout()

# %%
# Which classifier wins on a toy corpus of six speakers changes with the seed and the
# split; what carries over is the pattern. The embedding is a short, fixed-size vector
# per utterance that any scikit-learn estimator can use: an SVM or k-NN on it can be
# tuned, calibrated or retrained in seconds (e.g. on a new speaker's data) without
# training the network again. Compare such rows speaker-independently with
# :func:`~sklearn_ser.model_selection.evaluate_speaker_independent` before trusting a
# difference.
