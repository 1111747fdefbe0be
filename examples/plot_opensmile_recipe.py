"""
=============================================================================
Features you already have (openSMILE): per-speaker scaling and a linear model
=============================================================================

Many projects already have openSMILE's functionals (ComParE_2016, eGeMAPSv02) for their
recordings. The scaler and the classifier of :func:`~sklearn_ser.make_ser_pipeline` work
on any such matrix: each speaker's features standardised with that speaker's own
statistics by a :class:`~sklearn_ser.preprocessing.SpeakerStandardScaler` trained with
random amounts of speaker context (so one model serves files alone and with their
speaker's other files), then a logistic regression whose ``C`` is chosen on folds of
training speakers. On EmoDB and EMOVO this recipe on openSMILE's features matches or
beats the usual openSMILE + SVM (by up to 3 UA points), and with ComParE_2016 it comes
close to the default's own features in several conditions; the benchmarks page of the
documentation has the figures under both protocols.

With ``opensmile`` installed (``pip install opensmile``), the feature matrix of a list of
files, at the 16 kHz the library's models use::

    import numpy as np
    import opensmile
    from sklearn_ser import load_audio

    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.ComParE_2016,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    F = np.vstack(
        [smile.process_signal(load_audio(path, sr=16000), 16000).to_numpy() for path in paths]
    )

A CSV written by ``SMILExtract`` works the same way once read into an array (one row per
file, the speakers and emotions in the same order). So that this page builds anywhere,
the features here come from :class:`~sklearn_ser.FunctionalsExtractor` ("compact", about
a hundred functionals in the spirit of eGeMAPS) on synthetic speech: everything after the
matrix is the recipe.
"""

# %%
# A feature matrix, speakers and emotions
# ---------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser import FunctionalsExtractor
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.model_selection import evaluate_speaker_independent
from sklearn_ser.preprocessing import SpeakerStandardScaler

data = make_emotional_speech(n_speakers=6, n_utterances=6, duration=1.0, random_state=0)
y, speakers = data.target, data.speaker
F = FunctionalsExtractor(feature_set="compact").fit_transform(data.data)  # or openSMILE's
F = np.nan_to_num(F)  # openSMILE can emit NaN for a rare file
print(F.shape)

# %%
# The recipe
# ----------
# The scaler of the default pipeline and its classifier, with ``C`` chosen by
# leave-one-speaker-out folds of the training speakers. With metadata routing, the speaker
# ids given to the search reach both its folds and the scaler.
sklearn.set_config(enable_metadata_routing=True)


def recipe(scaler):
    return GridSearchCV(
        make_pipeline(scaler, LogisticRegression(max_iter=2000)),
        {"logisticregression__C": [0.003, 0.01, 0.03, 0.1, 0.3, 1.0]},
        cv=LeaveOneGroupOut(),
        scoring="balanced_accuracy",
    )


speaker_scaler = SpeakerStandardScaler(training_context="random", random_state=0)

# %%
# Speakers never heard, under both protocols
# ------------------------------------------
# :func:`~sklearn_ser.model_selection.evaluate_speaker_independent` holds one speaker out
# at a time; the search inside chooses ``C`` on the remaining speakers only. **File
# alone**: each held-out file predicted by itself. **Speaker context**: the held-out
# speaker's files predicted together with its id. A plain
# :class:`~sklearn.preprocessing.StandardScaler` (the usual openSMILE recipe's) for
# comparison.
ua = {}
for name, scaler in [
    ("StandardScaler", StandardScaler()),
    ("SpeakerStandardScaler", speaker_scaler),
]:
    # One fit per fold, scored under both protocols.
    results = evaluate_speaker_independent(recipe(scaler), F, y, speakers, protocol="both")
    for protocol, result in results.items():
        ua[name, protocol] = 100 * result.ua
        print(f"{name:>22}, {protocol:>7}: UA {ua[name, protocol]:.1f} %")
sklearn.set_config(enable_metadata_routing=False)

fig, ax = plt.subplots(figsize=(5.5, 3))
for k, name in enumerate(("StandardScaler", "SpeakerStandardScaler")):
    ax.bar(np.arange(2) + 0.4 * k, [ua[name, p] for p in ("file", "speaker")], 0.4, label=name)
ax.set_xticks(np.arange(2) + 0.2, ["file alone", "speaker context"])
ax.set_ylabel("UA % on held-out speakers")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Using the model
# ---------------
# Fit the recipe on all speakers, then predict files alone, or with the speaker's other
# files as context (``groups``) when they are at hand.
sklearn.set_config(enable_metadata_routing=True)
model = recipe(speaker_scaler).fit(F, y, groups=speakers).best_estimator_
print(model.predict(F[:2]), model.predict(F[:6], groups=speakers[:6])[:2])
sklearn.set_config(enable_metadata_routing=False)
