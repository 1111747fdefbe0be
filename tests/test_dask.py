"""Dask: extraction and model selection on a dask.distributed cluster through joblib.

Nothing in the library knows about Dask: ``joblib.parallel_backend("dask")`` is the only
change, and results must equal the serial run's.
"""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from sklearn_ser import FeatureStatistics, MelSpectrogramExtractor, MFCCExtractor

from .conftest import tone

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def client():
    """One in-process worker with two threads, listening on loopback only."""
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        dashboard_address=None,
        protocol="tcp://",
        host="127.0.0.1",
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def corpus():
    """Eighteen noisy tones of two classes and ragged lengths."""
    rng = np.random.default_rng(0)
    waves, labels = [], []
    for i in range(18):
        n = int(rng.integers(2400, 5600))
        freq = (300.0 if i % 2 else 1500.0) * rng.uniform(0.9, 1.1)
        waves.append(tone(freq, n / 16000) + 0.2 * rng.standard_normal(n).astype(np.float32))
        labels.append("low" if i % 2 else "high")
    return waves, np.array(labels)


def test_cluster_listens_on_loopback(client):
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 1
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in workers)


def test_extraction_on_dask_equals_serial(client, corpus):
    waves, _ = corpus
    waves = waves * 4  # 72 utterances: three chunks of work
    est = MelSpectrogramExtractor(n_mels=16, n_jobs=2).fit(waves)
    serial = est.set_params(n_jobs=None).transform(waves)
    est.set_params(n_jobs=2)
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        on_dask = est.transform(waves)
    assert len(stream.data) >= 3, "the chunks did not run on the cluster"
    np.testing.assert_array_equal(on_dask, serial)


def test_grid_search_on_dask_equals_serial(client, corpus):
    waves, labels = corpus
    pipe = make_pipeline(
        MFCCExtractor(n_mfcc=13, n_mels=32, max_frames=30), FeatureStatistics(), SVC()
    )
    grid = {"svc__C": [0.1, 1.0, 10.0], "mfccextractor__deltas": [0, 1]}
    cv = StratifiedKFold(3)

    serial = GridSearchCV(pipe, grid, cv=cv, n_jobs=None).fit(waves, labels)
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        on_dask = GridSearchCV(pipe, grid, cv=cv, n_jobs=2).fit(waves, labels)
    # 6 candidates x 3 folds, all fitted on the cluster.
    assert len(stream.data) >= 18, "the fits did not run on the cluster"

    assert on_dask.best_params_ == serial.best_params_
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_array_equal(on_dask.cv_results_[key], serial.cv_results_[key])
    for a, b in zip(on_dask.cv_results_["params"], serial.cv_results_["params"]):
        assert a == b
    np.testing.assert_array_equal(on_dask.predict(waves), serial.predict(waves))
    np.testing.assert_array_equal(on_dask.decision_function(waves), serial.decision_function(waves))
