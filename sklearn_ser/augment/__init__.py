"""Multi-condition training: perturbed copies of the training audio, in ``fit`` only.

:class:`AudioAugmenter` is a sampler in the manner of imbalanced-learn (``fit_resample``);
:class:`AugmentedClassifier` trains any audio model on its output and routes the copies'
speaker ids to the model. Noise from files and impulse responses from files use
audiomentations, simulated rooms pyroomacoustics: the ``augment`` extra.
"""

from ._augmenter import PERTURBATIONS, AudioAugmenter
from ._classifier import AugmentedClassifier

__all__ = ["PERTURBATIONS", "AudioAugmenter", "AugmentedClassifier"]
