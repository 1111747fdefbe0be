"""
==================================================
3-D CNN and CNN-LSTM over spectrogram segments
==================================================

Kim et al. (ACII 2017) cut the spectrogram of an utterance into short segments and stack
them, so that a 3-D convolution kernel spans a few segments, a few frequency bands and a
few frames at once: short-term (within a segment) and long-term (across segments)
dynamics are learnt together. They compare it with a CNN-LSTM hybrid that runs a 2-D CNN
on every segment and an LSTM across the segments.

In sklearn-ser both are :mod:`sklearn_ser.models` modules trained through
:class:`~sklearn_ser.SERClassifier` (``module=``), fed by a
:class:`~sklearn_ser.Segmenter` that turns ``(n_samples, n_bins, n_frames)`` features
into ``(n_samples, n_segments, n_bins, segment_frames)``.
"""

# %%
# Segments of a log-mel spectrogram
# ---------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from sklearn_ser import MelSpectrogramExtractor, Segmenter, SERClassifier
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.metrics import unweighted_accuracy
from sklearn_ser.models import CNN3D, CNNLSTM

data = make_emotional_speech(n_speakers=5, n_utterances=8, duration=1.0, random_state=4)
test = data.speaker == "s05"
X_train = [w for w, t in zip(data.data, test) if not t]
X_test = [w for w, t in zip(data.data, test) if t]
y_train, y_test = data.target[~test], data.target[test]

extractor = MelSpectrogramExtractor(n_mels=32, max_frames=96)
segmenter = Segmenter(segment_frames=16)  # 160 ms segments, no overlap
segments = segmenter.fit_transform(extractor.fit_transform(X_train[:1]))
print("segments of one utterance:", segments.shape)

# %%
# Each segment is a small spectrogram; the 3-D CNN sees them as a volume.
fig, axes = plt.subplots(1, segments.shape[1], figsize=(10, 2.4), sharey=True)
for i, ax in enumerate(axes):
    ax.imshow(segments[0, i], origin="lower", aspect="auto", cmap="magma")
    ax.set_title(f"segment {i}", fontsize=9)
    ax.set_xlabel("frame")
axes[0].set_ylabel("mel band")
fig.tight_layout()

# %%
# The two models
# --------------
# ``module__*`` parameters reach the module's constructor. CNN3D has a decoder, so the
# reconstruction loss can stay on; CNNLSTM has none, so ``lambda_recon=0``.
common = dict(max_epochs=20, lr=3e-3, batch_size=16, random_state=0)
models = {
    "CNN3D": SERClassifier(
        module=CNN3D,
        module__channels=(8, 16),
        module__temporal_kernel=3,
        module__spectral_kernel=5,
        module__time_kernel=3,
        module__embedding_dim=16,
        **common,
    ),
    "CNN-LSTM": SERClassifier(
        module=CNNLSTM,
        lambda_recon=0.0,
        module__channels=(8, 16),
        module__hidden_size=16,
        module__embedding_dim=16,
        **common,
    ),
}

# %%
# Train and test on a held-out speaker
# ------------------------------------
scores, n_params = {}, {}
for name, clf in models.items():
    pipe = make_pipeline(extractor, segmenter, clf).fit(X_train, y_train)
    scores[name] = unweighted_accuracy(y_test, pipe.predict(X_test))
    n_params[name] = sum(p.numel() for p in clf.net_.module_.parameters())
    print(f"{name:<9} {n_params[name]:>6} parameters   UA on s05: {scores[name]:.3f}")

# %%
fig, ax = plt.subplots(figsize=(4.5, 3))
ax.bar(list(scores), list(scores.values()), color=["C0", "C1"])
ax.axhline(1 / len(np.unique(y_train)), color="grey", linestyle="--", label="chance")
ax.set_ylabel("UA on held-out speaker")
ax.set_ylim(0, 1)
ax.legend()
fig.tight_layout()

# %%
# With ``lambda_recon > 0`` CNNLSTM would stop with a clear error, since it returns no
# reconstruction. The default module of ``SERClassifier`` remains
# :class:`~sklearn_ser.models.MultitaskCNN`, which reads the 3-D features directly.
