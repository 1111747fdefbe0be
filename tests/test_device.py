"""One device resolution for every torch-backed estimator."""

import pytest
import torch

from sklearn_ser import SERClassifier
from sklearn_ser._device import resolve_device


def test_auto_and_names():
    assert resolve_device("auto", "X") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu", "X") == "cpu"


def test_bad_device_names_the_estimator_and_value():
    with pytest.raises(ValueError, match=r"SERClassifier: device must be .*'gpu0'"):
        resolve_device("gpu0", "SERClassifier")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    X = torch.zeros(4, 2, 3).numpy()
    with pytest.raises(ValueError, match="CUDA is not available"):
        SERClassifier(device="cuda", max_epochs=1).fit(X, [0, 1, 0, 1])
