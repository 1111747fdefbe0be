"""PyTorch modules of sklearn-ser, usable on their own or through :class:`SERClassifier`.

Every module is built as ``Module(n_classes, input_shape, **params)`` and returns a
:class:`ModelOutput` ``(logits, embedding, reconstruction)``.
"""

from ._augment import SpecAugment
from ._base import ModelOutput, count_parameters
from ._cnn3d import CNN3D
from ._cnn_lstm import CNNLSTM
from ._heads import AttentiveStatisticsHead
from ._losses import CenterLoss
from ._multitask_cnn import MultitaskCNN

__all__ = [
    "CNN3D",
    "CNNLSTM",
    "AttentiveStatisticsHead",
    "CenterLoss",
    "ModelOutput",
    "MultitaskCNN",
    "SpecAugment",
    "count_parameters",
]
