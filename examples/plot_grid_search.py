"""
=================================================
Tuning features and network with speaker groups
=================================================

Hyper-parameters of an emotion recogniser must be chosen on speakers that the model
was not trained on, otherwise the search rewards models that memorise voices. This
example tunes one feature parameter (the number of mel bands) and one network
parameter (the weight of the center loss) of a pipeline with
:class:`~sklearn.model_selection.GridSearchCV`, splitting by speaker with
:class:`~sklearn.model_selection.GroupKFold` and scoring by unweighted accuracy
(``"balanced_accuracy"``, the UA of the emotion recognition literature).

``Pipeline(memory=...)`` caches the fitted extractor, so candidates that only differ
in the classifier's parameters reuse the features.
"""

# %%
# Data: synthetic speakers and emotions
# -------------------------------------
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from sklearn_ser import MelSpectrogramExtractor, SERClassifier
from sklearn_ser.datasets import make_emotional_speech

data = make_emotional_speech(n_speakers=6, n_utterances=5, duration=1.0, random_state=1)
X, y, speakers = data.data, data.target, data.speaker

# %%
# The pipeline and the grid
# -------------------------
# Parameters of a step are addressed as ``<step>__<parameter>``; the network's own
# parameters go one level deeper, as skorch names them (``module__channels``).
cache = tempfile.mkdtemp(prefix="sklearn_ser_cache_")
pipe = Pipeline(
    [
        ("features", MelSpectrogramExtractor(max_frames=100)),
        (
            "classifier",
            SERClassifier(
                max_epochs=12,
                lr=3e-3,
                batch_size=16,
                lambda_recon=0.0,
                module__channels=(8, 16),
                module__embedding_dim=16,
                random_state=0,
            ),
        ),
    ],
    memory=cache,
)
param_grid = {
    "features__n_mels": [24, 40],
    "classifier__lambda_center": [0.0, 0.01],
}

# %%
# Speaker-grouped search
# ----------------------
# ``groups=speakers`` makes every validation fold hold out whole speakers. Three folds
# of two speakers each keep this example fast; leave-one-speaker-out
# (:class:`~sklearn.model_selection.LeaveOneGroupOut`) is the usual choice on a real
# corpus.
search = GridSearchCV(pipe, param_grid, cv=GroupKFold(n_splits=3), scoring="balanced_accuracy")
search.fit(X, y, groups=speakers)
print("best parameters:", search.best_params_)
print(f"best speaker-independent UA: {search.best_score_:.2f}")

# %%
# All candidates, from the search's ``cv_results_`` (one entry per candidate):
n_mels_values = param_grid["features__n_mels"]
lambdas = param_grid["classifier__lambda_center"]
scores = np.zeros((len(n_mels_values), len(lambdas)))
for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
    i = n_mels_values.index(params["features__n_mels"])
    j = lambdas.index(params["classifier__lambda_center"])
    scores[i, j] = score
    n_mels, lam = params["features__n_mels"], params["classifier__lambda_center"]
    print(f"n_mels={n_mels:>2}  lambda_center={lam:<5}  UA={score:.3f}")

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
for j, lam in enumerate(lambdas):
    ax.plot(n_mels_values, scores[:, j], marker="o", label=f"lambda_center={lam}")
ax.set_xlabel("n_mels")
ax.set_ylabel("mean UA over held-out speakers")
ax.set_xticks(n_mels_values)
ax.legend()
ax.set_title("Grid search with speaker groups")
fig.tight_layout()

# %%
# The refitted best pipeline (``search.best_estimator_``) is trained on all speakers
# and ready to ``predict`` new files or waveforms.
print(search.best_estimator_.predict(X[:4]), y[:4])
print("feature maps:", search.best_estimator_["features"].transform(X[:1]).shape)
