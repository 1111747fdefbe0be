"""
=====================================================
Training curves, early stopping and confusion matrix
=====================================================

:class:`~sklearn_ser.SERClassifier` records, for every epoch, the total training loss
and its parts (cross-entropy, center loss, reconstruction). With
``early_stopping=True`` it also holds out part of the training data, scores the
unweighted accuracy on it after each epoch, stops when it no longer improves and keeps
the best weights.

Passing the speakers as ``fit(X, y, groups=speakers)`` makes that validation split
*speaker-disjoint*; otherwise the validation set shares speakers with training, and
early stopping favours models that recognise voices rather than emotions.
"""

# %%
# Fit with early stopping on held-out speakers
# --------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from sklearn_ser import MelSpectrogramExtractor, SERClassifier
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.plotting import plot_confusion_matrix, plot_training_history

data = make_emotional_speech(n_speakers=7, n_utterances=8, duration=1.0, random_state=6)
X = MelSpectrogramExtractor(n_mels=32, max_frames=100).fit_transform(data.data)
test = data.speaker == "s07"
X_train, y_train, groups = X[~test], data.target[~test], data.speaker[~test]
X_test, y_test = X[test], data.target[test]

clf = SERClassifier(
    max_epochs=40,
    lr=3e-3,
    batch_size=16,
    early_stopping=True,
    validation_fraction=0.2,  # here: 1 of the 6 training speakers
    n_iter_no_change=8,
    module__channels=(8, 16),
    module__embedding_dim=16,
    random_state=0,
)
clf.fit(X_train, y_train, groups=groups)
history = clf.history_
best = int(np.argmax(history[:, "valid_ua"]))
print(f"trained {len(history)} epochs, best validation UA {history[best, 'valid_ua']:.3f} "
      f"at epoch {best + 1}")  # fmt: skip
print("recorded per epoch:", sorted(k for k in history[-1] if k != "batches"))

# %%
# Training curves
# ---------------
# ``plot_training_history`` takes the fitted classifier (or a pipeline ending in it)
# and draws the numeric keys of its history; ``keys=`` picks some. ``train_loss`` is the
# weighted sum ``train_ce + lambda_center * train_center + lambda_recon * train_recon``;
# the parts are recorded unweighted. With the small default ``lambda_center=0.01`` the
# center term barely constrains the embeddings, and its raw value can grow as they
# spread out while the cross-entropy falls.
fig, (ax_loss, ax_ua) = plt.subplots(1, 2, figsize=(10, 3.8))
plot_training_history(
    clf, keys=["train_loss", "train_ce", "train_center", "train_recon", "valid_loss"],
    ax=ax_loss,
)  # fmt: skip
ax_loss.set_title("losses")
plot_training_history(clf, keys="valid_ua", ax=ax_ua)
ax_ua.axvline(best + 1, color="grey", linestyle=":", label="kept weights")
ax_ua.legend()
ax_ua.set_title("validation UA (held-out speaker)")
fig.tight_layout()

# %%
# Confusion matrix on a new speaker
# ---------------------------------
# Rows are normalised by the number of utterances of each true emotion, so the diagonal
# holds the per-class recalls whose mean is the UA.
y_pred = clf.predict(X_test)
disp = plot_confusion_matrix(y_test, y_pred)
disp.ax_.set_title("Speaker s07 (never seen in training)")
plt.tight_layout()
