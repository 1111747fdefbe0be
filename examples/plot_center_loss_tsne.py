"""
==========================================================
What center loss does to the embedding space (t-SNE map)
==========================================================

Softmax cross-entropy alone only asks the classes to be *separable*; center loss
(Wen et al., 2016) also pulls every embedding toward a learned centre of its class,
which makes the classes *compact*:

.. math::

    L = L_{CE} + \\lambda_{center} \\cdot \\frac{1}{2} \\cdot
        \\frac{1}{m}\\sum_{i=1}^{m} \\lVert x_i - c_{y_i} \\rVert_2^2

This example trains the same small network twice, with ``lambda_center=0`` and with a
positive weight, and draws the embeddings of two **held-out speakers** with
:func:`~sklearn_ser.plotting.plot_embedding` (t-SNE). The silhouette score of the
emotions in the embedding space
(:func:`~sklearn_ser.metrics.embedding_silhouette`) puts a number on what the maps show.
"""

# %%
# Data and features
# -----------------
import matplotlib.pyplot as plt
import numpy as np

from sklearn_ser import MelSpectrogramExtractor, SERClassifier
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.metrics import embedding_silhouette, unweighted_accuracy
from sklearn_ser.plotting import plot_embedding

data = make_emotional_speech(n_speakers=6, n_utterances=8, duration=1.0, random_state=3)
X = MelSpectrogramExtractor(n_mels=32, max_frames=100).fit_transform(data.data)
test = np.isin(data.speaker, ["s05", "s06"])
X_train, X_test = X[~test], X[test]
y_train, y_test = data.target[~test], data.target[test]

# %%
# Two networks: softmax only, and softmax + center loss
# -----------------------------------------------------
# Everything else is equal, the seed included. The reconstruction loss is off in both
# so that only center loss differs.
params = dict(
    max_epochs=40,
    lr=3e-3,
    lambda_recon=0.0,
    batch_size=16,
    module__channels=(8, 16),
    module__embedding_dim=16,
    module__dropout=0.1,
    random_state=0,
)
models = {
    "softmax only": SERClassifier(lambda_center=0.0, **params),
    "softmax + center loss": SERClassifier(lambda_center=0.2, center_alpha=0.5, **params),
}
for model in models.values():
    model.fit(X_train, y_train)

# %%
# Maps of the held-out speakers' embeddings
# -----------------------------------------
# ``plot_embedding`` calls the fitted model's ``transform`` when given ``estimator=``,
# projects to 2-D with t-SNE and colours the points by emotion.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, (name, model) in zip(axes, models.items()):
    ua = unweighted_accuracy(y_test, model.predict(X_test))
    plot_embedding(
        X_test,
        y_test,
        estimator=model,
        ax=ax,
        random_state=0,
        perplexity=15,
        title=f"{name} (UA {ua:.2f})",
        s=25,
    )
fig.tight_layout()

# %%
# Silhouette of the emotions
# --------------------------
# Close to 1 when each emotion forms a tight cluster away from the others, close to 0
# when clusters overlap. It is computed on the embeddings themselves (16 dimensions),
# not on the 2-D maps: on the training speakers, and on the speakers the networks never
# saw, which is what matters.
for name, model in models.items():
    train = embedding_silhouette(model.transform(X_train), y_train)
    held_out = embedding_silhouette(model.transform(X_test), y_test)
    print(f"{name:<22} silhouette: training speakers {train:+.3f}, held-out {held_out:+.3f}")

# %%
# Compact classes are the point of center loss: with a small corpus, they transfer
# better to new speakers than classes that are merely separable. On such a toy corpus
# the numbers move from run to run; the weight ``lambda_center`` is worth tuning with
# speaker groups (see :ref:`sphx_glr_auto_examples_plot_grid_search.py`), since a
# weight too large shrinks all embeddings toward their centres before they have become
# discriminative.

# %%
# The centres themselves are buffers of the loss module, moved at each batch by Wen et
# al.'s update rule rather than by the optimiser:
centers = models["softmax + center loss"].net_.center_loss_.centers
print("class centres:", tuple(centers.shape))
print("distance between centres:\n", np.round(np.linalg.norm(
    centers[:, None].numpy() - centers[None].numpy(), axis=-1), 1))  # fmt: skip
