"""
==========================================
Quickstart: from audio files to emotions
==========================================

This example goes from a folder of WAV files to predicted emotions in a single
scikit-learn :class:`~sklearn.pipeline.Pipeline`: a
:class:`~sklearn_ser.MelSpectrogramExtractor` turns each file into a log-mel
spectrogram and a :class:`~sklearn_ser.SERClassifier` (a small convolutional network
trained with cross-entropy, center loss and a reconstruction loss) classifies it.

The audio comes from :func:`~sklearn_ser.datasets.make_emotional_speech`, which
synthesises speech-like utterances of several speakers in several emotions. Written to
a temporary folder, it looks exactly like a real corpus: one WAV file per utterance.
"""

# %%
# A corpus on disk
# ----------------
# ``directory=`` writes every utterance as a 16-bit WAV file and adds their paths as
# ``filenames``; ``speaker`` says who speaks, ``target`` the acted emotion.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sklearn_ser.datasets import make_emotional_speech

folder = Path(tempfile.mkdtemp(prefix="sklearn_ser_quickstart_"))
corpus = make_emotional_speech(
    n_speakers=5, n_utterances=8, duration=1.0, random_state=0, directory=folder
)
print(f"{len(corpus.filenames)} files, e.g. {Path(corpus.filenames[0]).name}")
print("emotions:", corpus.target_names.tolist())
print("speakers:", np.unique(corpus.speaker).tolist())

# %%
# Hold out a speaker
# ------------------
# Emotion recognisers are judged on voices they have never heard, so the test set is a
# speaker absent from training (see :ref:`evaluation`).
test = corpus.speaker == "s05"
files_train, files_test = corpus.filenames[~test].tolist(), corpus.filenames[test].tolist()
y_train, y_test = corpus.target[~test], corpus.target[test]

# %%
# Paths in, emotions out
# ----------------------
# The extractor reads the files (any format soundfile reads, resampled to ``sr``),
# pads or crops every utterance to ``max_frames`` frames of 10 ms, and returns an array
# of shape ``(n_files, n_mels, max_frames)``, which the network takes as it is. The
# network is deliberately tiny here; the defaults are sized for real corpora.
from sklearn.pipeline import make_pipeline

from sklearn_ser import MelSpectrogramExtractor, SERClassifier

pipe = make_pipeline(
    MelSpectrogramExtractor(n_mels=32, max_frames=100),
    SERClassifier(
        max_epochs=20,
        lr=3e-3,
        batch_size=16,
        module__channels=(8, 16),
        module__embedding_dim=16,
        random_state=0,
    ),
)
pipe.fit(files_train, y_train)

# %%
# ``predict`` gives one emotion per file and ``predict_proba`` the class probabilities,
# with columns in the order of ``classes_``.
y_pred = pipe.predict(files_test)
proba = pipe.predict_proba(files_test)
print("classes:", pipe.classes_.tolist())
for i in range(0, len(files_test), 8):  # one file of each emotion
    print(f"{Path(files_test[i]).name:<24} true {y_test[i]:<10} predicted {y_pred[i]:<10}",
          "proba", np.round(proba[i], 2).tolist())  # fmt: skip
print(f"held-out speaker accuracy: {np.mean(y_pred == y_test):.2f}")

# %%
# The mean probability given to each emotion, per true emotion, shows which emotions
# the model confuses on the new speaker.
mean_proba = np.array([proba[y_test == e].mean(axis=0) for e in pipe.classes_])
fig, ax = plt.subplots(figsize=(5, 4))
im = ax.imshow(mean_proba, cmap="Blues", vmin=0, vmax=1)
ax.set_xticks(range(len(pipe.classes_)), pipe.classes_, rotation=30)
ax.set_yticks(range(len(pipe.classes_)), pipe.classes_)
ax.set_xlabel("predicted probability of")
ax.set_ylabel("true emotion")
ax.set_title("Held-out speaker s05")
fig.colorbar(im, ax=ax)
fig.tight_layout()

# %%
# A single new recording goes through the same pipeline: pass a list with one path.
print(pipe.predict([files_test[0]]))
