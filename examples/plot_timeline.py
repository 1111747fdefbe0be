"""
====================================================
Emotion over time in a long recording, with silences
====================================================

A corpus utterance lasts a few seconds and carries one emotion; a real recording lasts
minutes, changes emotion, and pauses. :func:`~sklearn_ser.predict_timeline` streams a
recording from disk in windows, labels the windows that hold speech, marks the others
``"no speech"`` and merges consecutive windows of one label into segments.

Here a small model is trained on synthetic speech
(:func:`~sklearn_ser.datasets.make_emotional_speech`), and a half-minute recording is
assembled from utterances of a speaker it never heard, in known emotions, with silences
in between.
"""

# %%
# A model, trained briefly
# ------------------------
# A 1-second input (``max_frames=100``) keeps the example fast; the default pipeline's
# input is 3 seconds. Accuracy is not the point here.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import soundfile as sf

from sklearn_ser import make_ser_pipeline, predict_timeline
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.plotting import plot_timeline

corpus = make_emotional_speech(n_speakers=5, n_utterances=6, duration=1.5, random_state=0)
train = corpus.speaker != "s05"
pipe = make_ser_pipeline(
    "cnn", max_frames=100, max_epochs=30, module__channels=(8, 16), random_state=0
)
pipe.fit(
    [x for x, keep in zip(corpus.data, train) if keep],
    corpus.target[train],
    classifier__groups=corpus.speaker[train],
)

# %%
# A long recording of an unseen speaker
# -------------------------------------
# Runs of utterances of one emotion, separated by 2-second silences, written to a WAV
# file. The true emotion of every stretch is kept for comparison.
sr = 16000
rng = np.random.default_rng(0)
held_out = np.flatnonzero(~train)
parts, truth, t = [], [], 0.0
for emotion in ["neutral", "anger", "sadness", "happiness", "anger"]:
    picks = [i for i in held_out if corpus.target[i] == emotion]
    for i in rng.choice(picks, size=3, replace=False):
        parts.append(corpus.data[i])
        truth.append((t, t + len(corpus.data[i]) / sr, emotion))
        t += len(corpus.data[i]) / sr
    silence = np.zeros(2 * sr, dtype=np.float32)
    parts.append(silence)
    t += 2.0
recording = np.concatenate(parts)
path = Path(tempfile.mkdtemp(prefix="sklearn_ser_timeline_")) / "recording.wav"
sf.write(path, recording, sr)
print(f"{len(recording) / sr:.0f} s of audio in {path.name}")

# %%
# The timeline
# ------------
# The file is read in blocks; windows of the model's input length (1 s here) every
# 0.25 s. The recording is one speaker: a speaker-standardising model uses the
# statistics of all its speech windows.
timeline = predict_timeline(pipe, path, hop=0.25)
print(f"{len(timeline)} windows, {timeline.speech.sum()} with speech")
for segment in timeline.segments[:8]:
    print(f"{segment.start:6.2f} - {segment.end:6.2f} s  {segment.label}")

# %%
# Plot
# ----
# One line per emotion; the silences are shaded. The true emotion of each stretch is
# written at the top.
disp = plot_timeline(timeline, title="Emotion over time (unseen speaker)")
for start, _end, emotion in truth[::3]:
    disp.ax_.annotate(emotion, (start + 0.1, 0.92), xycoords=("data", "axes fraction"), fontsize=8)
plt.tight_layout()

# %%
# The same as stacked probabilities:
plot_timeline(timeline, kind="stacked")
plt.tight_layout()
plt.show()
