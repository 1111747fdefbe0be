"""
=====================================================
Scaling out with Dask
=====================================================

Everything parallel in sklearn-ser goes through joblib: the feature extractors
(``n_jobs``), :func:`~sklearn_ser.model_selection.evaluate_speaker_independent`
(``n_jobs``) and scikit-learn's own :class:`~sklearn.model_selection.GridSearchCV`. A
``joblib.parallel_backend("dask")`` block sends that work to a Dask cluster, **without any
other change to the code**: the same lines run on one laptop, on a workstation's cores or
on a cluster of machines.

This example starts a tiny in-process cluster (one worker with two threads, no network
beyond the process) so that it runs anywhere; on a real cluster only the ``Client(...)``
line changes, e.g. ``Client("scheduler-address:8786")``.
"""

# %%
# A local Dask cluster
# --------------------
import joblib
import matplotlib.pyplot as plt
import numpy as np
from dask.distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from sklearn_ser import FeatureStatistics, MFCCExtractor
from sklearn_ser.datasets import make_emotional_speech

cluster = LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
client = Client(cluster)
print(client)

data = make_emotional_speech(n_speakers=6, n_utterances=6, duration=1.0, random_state=7)
X, y, speakers = data.data, data.target, data.speaker

# %%
# Feature extraction on the cluster
# ---------------------------------
# An extractor splits its input into chunks of utterances; each chunk is one joblib
# task, here a Dask task. ``n_jobs=None`` inside the block means "as many as the
# backend offers".
extractor = MFCCExtractor(n_mfcc=20, deltas=1, max_frames=100)
with joblib.parallel_backend("dask"):
    features = extractor.fit_transform(X)
print("MFCC features:", features.shape)

# Same numbers as without Dask:
print("identical to local threads:", np.allclose(features, extractor.transform(X)))

# %%
# A grid search on the cluster
# ----------------------------
# MFCC statistics and an SVM: a classic, fast baseline. Every (candidate, fold) fit of
# the search becomes a Dask task; the folds hold out speakers.
pipe = make_pipeline(FeatureStatistics(statistics=("mean", "std")), SVC())
grid = {"svc__C": [0.1, 1.0, 10.0], "svc__gamma": ["scale", 0.01]}
search = GridSearchCV(pipe, grid, cv=GroupKFold(n_splits=3), scoring="balanced_accuracy")
with joblib.parallel_backend("dask"):
    search.fit(features, y, groups=speakers)
print("best:", search.best_params_, f"UA {search.best_score_:.3f}")

# %%
fig, ax = plt.subplots(figsize=(5, 3))
for gamma in grid["svc__gamma"]:
    ua = [
        score
        for params, score in zip(
            search.cv_results_["params"], search.cv_results_["mean_test_score"]
        )
        if params["svc__gamma"] == gamma
    ]
    ax.semilogx(grid["svc__C"], ua, marker="o", label=f"gamma={gamma}")
ax.set_xlabel("C")
ax.set_ylabel("UA (held-out speakers)")
ax.legend()
ax.set_title("Grid search run on Dask")
fig.tight_layout()

# %%
# Networks on the cluster
# -----------------------
# A search over :class:`~sklearn_ser.SERClassifier` parameters is distributed the same
# way; each worker then trains whole networks (on its GPU, with ``device="auto"``). See
# :ref:`scaling` for memory-mapped corpora and multi-GPU training.
#
# Close the client and the cluster when done:
client.close()
cluster.close()
