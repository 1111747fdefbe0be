"""Every public estimator declares each parameter in its constraints table."""

from __future__ import annotations

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import check_param_validation

from sklearn_ser import (
    FeatureStack,
    FeatureStatistics,
    FunctionalsExtractor,
    MelSpectrogramExtractor,
    MFCCExtractor,
    Segmenter,
    SERClassifier,
    SpeakerStandardScaler,
    SpectrogramExtractor,
)
from sklearn_ser.ensemble import LateFusionClassifier

ESTIMATORS = [
    SpectrogramExtractor(),
    MelSpectrogramExtractor(),
    MFCCExtractor(),
    FunctionalsExtractor(),
    FeatureStatistics(),
    FeatureStack([("mel", MelSpectrogramExtractor())]),
    Segmenter(),
    SpeakerStandardScaler(),
    SERClassifier(max_epochs=1),
    LateFusionClassifier([("lr", LogisticRegression())]),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_every_parameter_is_validated(estimator):
    check_param_validation(type(estimator).__name__, estimator)
