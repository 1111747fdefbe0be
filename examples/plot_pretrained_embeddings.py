"""
=========================================================
Pretrained encoder embeddings in a speaker-grouped search
=========================================================

:class:`~sklearn_ser.PretrainedEmbeddingExtractor` turns audio into the hidden states of
a pretrained speech encoder (wav2vec 2.0, HuBERT, WavLM, data2vec-audio or Whisper's
encoder), pooled into one vector per file. This example puts it in a pipeline with
per-speaker standardisation (:class:`~sklearn_ser.preprocessing.SpeakerStandardScaler`)
and an SVM, and tunes the SVM with speaker-grouped folds, computing the training
embeddings of each fold once thanks to ``Pipeline(memory=...)``.

.. note::

   A real application would pass a Hub name such as ``"microsoft/wavlm-base-plus"``
   (downloaded once, see :ref:`pretrained`). So that this example runs offline and in
   seconds, it builds a *tiny randomly initialised* WavLM instead: the pipeline is the
   same, but its accuracy says nothing about what a pretrained encoder achieves.
"""

# %%
# A stand-in encoder
# ------------------
# A WavLM with 2 layers of 32 dimensions and random weights, saved with its feature
# extractor into a temporary folder, as ``save_pretrained`` would save a downloaded
# model.
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
import sklearn
import torch
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC
from transformers import Wav2Vec2FeatureExtractor, WavLMConfig, WavLMModel

from sklearn_ser import PretrainedEmbeddingExtractor
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.preprocessing import SpeakerStandardScaler

torch.manual_seed(0)
encoder_dir = tempfile.mkdtemp(prefix="tiny_wavlm_")
config = WavLMConfig(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    conv_dim=(32, 32, 32),
    conv_kernel=(10, 8, 4),
    conv_stride=(5, 8, 8),  # 320 samples per frame: 50 frames per second, as real models
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=4,
)
WavLMModel(config).save_pretrained(encoder_dir)
Wav2Vec2FeatureExtractor().save_pretrained(encoder_dir)

# %%
# Synthetic speech of six speakers
# --------------------------------
data = make_emotional_speech(n_speakers=6, n_utterances=6, duration=1.0, random_state=0)
X, y, speakers = data.data, data.target, data.speaker
print(f"{len(X)} utterances, emotions {[str(e) for e in data.target_names]}")

# %%
# The pipeline
# ------------
# Mean and standard deviation of the frames of one layer (``layer=-1``, the last; on a
# real encoder try middle layers, or ``layer="all"`` with a head that learns the layer
# weights). The speaker scaler needs the speaker of each file: with scikit-learn's
# metadata routing on, ``groups`` passed to the search reaches both the folds and the
# scaler.
sklearn.set_config(enable_metadata_routing=True)
cache = tempfile.mkdtemp(prefix="sklearn_ser_cache_")
pipe = Pipeline(
    [
        ("embed", PretrainedEmbeddingExtractor(encoder_dir, layer=-1, pooling="mean+std")),
        ("scale", SpeakerStandardScaler()),
        ("svm", SVC()),
    ],
    memory=cache,
)
search = GridSearchCV(
    pipe,
    {"svm__C": [0.1, 1.0, 10.0, 100.0]},
    cv=GroupKFold(n_splits=3),
    scoring="balanced_accuracy",  # unweighted accuracy (UA)
)

# %%
# The search
# ----------
# Every candidate differs only in the SVM, so the training embeddings of each fold come
# from the cache after the first candidate (the held-out files of each fold are still
# embedded for every candidate: prediction is not cached). To embed every file exactly
# once, embed the corpus before the search and search the rest of the pipeline: the
# extractor learns nothing from its training files, so this leaks nothing. (The search
# passes no ``groups`` when it predicts, so the scaler standardises each held-out file
# on its own, see :class:`~sklearn_ser.preprocessing.SpeakerStandardScaler`.)
start = time.perf_counter()
search.fit(X, y, groups=speakers)
print(f"search: {time.perf_counter() - start:.1f} s")
print("best:", search.best_params_, f"UA {search.best_score_:.2f}")

# %%
# The speaker-independent UA of each candidate (three folds of two held-out speakers):
C = search.cv_results_["param_svm__C"].data.astype(float)
mean = search.cv_results_["mean_test_score"]
std = search.cv_results_["std_test_score"]
fig, ax = plt.subplots(figsize=(5, 3))
ax.errorbar(C, mean, yerr=std, marker="o", capsize=3)
ax.axhline(1 / len(set(y)), color="grey", linestyle=":", label="chance")
ax.set(xscale="log", xlabel="SVM C", ylabel="UA (held-out speakers)")
ax.set_title("Tiny random WavLM embeddings + SVM")
ax.legend()
fig.tight_layout()
plt.show()

sklearn.set_config(enable_metadata_routing=False)

# %%
# A random encoder still computes features (its convolutions respond to pitch and
# loudness), so the SVM can beat chance on this synthetic data; a pretrained encoder is
# what makes the embeddings useful on real speech. See :ref:`pretrained` for getting
# the weights offline, choosing layers and the
# :class:`~sklearn_ser.models.AttentiveStatisticsHead` for frame sequences.
print(f"embedding size: {search.best_estimator_['embed'].n_features_out_}")
print(f"mean UA over the grid: {np.mean(mean):.2f}")
