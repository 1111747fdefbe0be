"""
====================================================
Emotion over time in a long recording, with silences
====================================================

A corpus utterance lasts a few seconds and carries one emotion; a real recording lasts
minutes, changes emotion, pauses, and has a room around it. :func:`~sklearn_ser.predict_timeline`
streams a recording from disk, finds its speech 10 ms frame by frame, gives the windows
that hold speech an emotion, and returns segments that start and end where the speech
does, with every pause marked ``"no speech"``.

Here the default model (acoustic functionals, scaler, logistic regression) is trained on
synthetic speech (:func:`~sklearn_ser.datasets.make_emotional_speech`), and a recording
is assembled from utterances of a speaker it never heard, in known emotions, with pauses
in between, in steady background noise.
"""

# %%
# A model
# -------
# :func:`~sklearn_ser.make_ser_pipeline` trains in seconds and needs no torch.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import sklearn
import soundfile as sf

from sklearn_ser import make_ser_pipeline, predict_timeline
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.plotting import plot_timeline

corpus = make_emotional_speech(n_speakers=5, n_utterances=6, duration=1.5, random_state=0)
train = corpus.speaker != "s05"
pipe = make_ser_pipeline(random_state=0)
with sklearn.config_context(enable_metadata_routing=True):
    pipe.fit(
        [x for x, keep in zip(corpus.data, train) if keep],
        corpus.target[train],
        groups=corpus.speaker[train],
    )

# %%
# A recording of an unseen speaker, in noise
# ------------------------------------------
# Runs of utterances of one emotion, separated by pauses of 0.3 to 2 seconds, over a
# steady noise 20 dB below the speech and a little mains hum, written to a WAV file.
# The true emotion of every utterance is kept for comparison.
sr = 16000
rng = np.random.default_rng(0)
held_out = np.flatnonzero(~train)
parts, truth, t = [np.zeros(sr, dtype=np.float32)], [], 1.0
for emotion in ["neutral", "anger", "sadness", "happiness", "anger"]:
    picks = [i for i in held_out if corpus.target[i] == emotion]
    for i in rng.choice(picks, size=3, replace=False):
        pause = np.zeros(int(rng.uniform(0.3, 2.0) * sr), dtype=np.float32)
        parts += [corpus.data[i], pause]
        truth.append((t, t + len(corpus.data[i]) / sr, emotion))
        t += (len(corpus.data[i]) + len(pause)) / sr
clean = np.concatenate(parts)
speech_rms = np.sqrt(np.mean(np.concatenate([corpus.data[i] for i in held_out]) ** 2))
hum = 0.3 * np.sin(2 * np.pi * 50 * np.arange(len(clean)) / sr)
recording = clean + speech_rms * (0.1 * rng.standard_normal(len(clean)) + 0.1 * hum)
path = Path(tempfile.mkdtemp(prefix="sklearn_ser_timeline_")) / "recording.wav"
sf.write(path, recording.astype(np.float32), sr)
print(f"{len(recording) / sr:.0f} s of audio in {path.name}")

# %%
# The timeline
# ------------
# The file is read in blocks; 3-second windows every 1.5 s, each frame of the
# recording analysed once however much the windows overlap. The recording is one
# speaker: the model standardises it with the statistics of all its speech windows.
# Speech is found by a detector relative to the recording's own noise floor (the
# default, ``vad="energy"``): the noise and the hum are not speech, and the speech
# in them is.
timeline = predict_timeline(pipe, path)
print(f"{len(timeline)} windows, {timeline.speech.sum()} with speech")
for segment in timeline.segments[:8]:
    print(f"{segment.start:6.2f} - {segment.end:6.2f} s  {segment.label}")

# %%
# How many utterances the timeline labels as they were spoken, the label of each
# utterance being the emotion covering most of it:
correct = 0
for start, end, emotion in truth:
    cover = {}
    for s in timeline.segments:
        overlap = min(end, s.end) - max(start, s.start)
        if overlap > 0 and s.label != "no speech":
            cover[s.label] = cover.get(s.label, 0.0) + overlap
    correct += bool(cover) and max(cover, key=cover.get) == emotion
print(f"{correct} of {len(truth)} utterances labelled with their emotion")

# %%
# Plot
# ----
# One bar per segment in the colour of its emotion, as high as the model's confidence in
# it; the pauses are hatched. The true emotion of each run is written at the top.
disp = plot_timeline(timeline, title="Emotion over time (unseen speaker, in noise)")
for start, _end, emotion in truth[::3]:
    disp.ax_.annotate(
        emotion, (start, 0.97), xycoords=("data", "axes fraction"), va="top", fontsize=8
    )
plt.tight_layout()

# %%
# Zoom in on a part with ``span``; the probabilities of every class are there as lines
# (``kind="lines"``) or stacked (``kind="stacked"``). A recording of an hour is pooled
# into about 300 bars (``resolution`` seconds each), the emotion with the most speech in
# each, so that it stays readable at a glance.
fig, axes = plt.subplots(2, 1, figsize=(11, 5.6))
plot_timeline(timeline, span=(0, 20), ax=axes[0], title="The first 20 s")
plot_timeline(timeline, kind="lines", ax=axes[1], title="Probabilities of every window")
plt.tight_layout()
plt.show()
