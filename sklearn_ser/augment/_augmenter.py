"""AudioAugmenter: perturbed copies of the training audio, in the manner of imbalanced-learn."""

from __future__ import annotations

import numbers
import os
from typing import Any, ClassVar

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._audio import as_audio_sources, load_sources
from . import _signal

__all__ = ["PERTURBATIONS", "AudioAugmenter"]

PERTURBATIONS = ("gain", "noise", "babble", "band", "reverb", "codec", "speed")
_DEFAULT = ("gain", "noise", "babble", "band", "reverb", "codec")
_CODECS = ("mp3", "ogg", "opus")


def _is_range(val: Any, low: float = -np.inf, high: float = np.inf) -> bool:
    return (
        isinstance(val, (tuple, list))
        and len(val) == 2
        and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in val)
        and low <= val[0] <= val[1] <= high
    )


class _Range(Interval):
    """A ``(low, high)`` pair of numbers within ``[left, right]``, low <= high."""

    def __init__(self, left: float, right: float):
        super().__init__(numbers.Real, left, right, closed="both")

    def is_satisfied_by(self, val: Any) -> bool:
        return _is_range(val, self.left, self.right)

    def __str__(self) -> str:
        return f"a (low, high) pair of numbers in [{self.left}, {self.right}]"


class _Names(StrOptions):
    """A non-empty list or tuple of distinct names taken from ``options``."""

    def is_satisfied_by(self, val: Any) -> bool:
        return (
            isinstance(val, (tuple, list))
            and len(val) > 0
            and len(set(val)) == len(val)
            and all(isinstance(v, str) and v in self.options for v in val)
        )

    def __str__(self) -> str:
        return f"a non-empty list of distinct names among {sorted(self.options)}"


class AudioAugmenter(BaseEstimator):
    """Multi-condition training data: perturbed copies of the training audio.

    A sampler in the manner of imbalanced-learn: :meth:`fit_resample` returns the original
    utterances and ``n_copies`` perturbed copies of each, with their labels repeated, and
    an :class:`imblearn.pipeline.Pipeline` applies it in ``fit`` only (it is skipped by
    ``predict`` and ``transform``). Each copy undergoes one perturbation, drawn uniformly
    from ``perturbations``, with its strength drawn from the ranges below:

    * ``"gain"``: the level changed by ``gain_db`` decibels (a quiet or loud microphone);
    * ``"noise"``: white or pink noise (or a file of ``noise_dir``) at ``snr_db`` dB SNR;
    * ``"babble"``: 3 to 7 other speakers' utterances of the batch mixed together, at
      ``snr_db`` dB SNR (the speakers are told apart by ``groups``);
    * ``"band"``: a band-pass of 100-400 Hz to 2.8-4 kHz (4th order Butterworth), half
      the time through an 8 kHz channel (telephone);
    * ``"reverb"``: a room, from ``n_rooms`` shoebox rooms simulated with pyroomacoustics
      (reverberation time drawn from ``rt60``), or an impulse response of ``rir_dir``;
    * ``"codec"``: MP3, Ogg Vorbis or Opus (libsndfile, through soundfile) at compression
      levels 0.5-0.9 (MP3 at 16 kHz: about 80 to 25 kbit/s);
    * ``"speed"``: played faster or slower by one of ``speed_factors`` (pitch and tempo
      together, Ko et al.'s speed perturbation). The vocal tract seems another size, so
      these copies belong to a **pseudo-speaker** per speaker and factor (group
      ``"<speaker>@speed<factor>"``, see ``groups_``); the others keep their speaker.

    Every copy is drawn from its own seed, so the output does not depend on ``n_jobs``.

    Read more in the :ref:`User Guide <robustness>`.

    Parameters
    ----------
    perturbations : list of str, default=("gain", "noise", "babble", "band", "reverb", \
"codec")
        The families the copies are drawn from; ``"speed"`` is opt-in as it creates
        pseudo-speakers.
    n_copies : int, default=2
        Perturbed copies per utterance: the output has ``(1 + n_copies) * n`` utterances.
    gain_db : (float, float), default=(-35.0, 0.0)
        Range of the gain in dB.
    snr_db : (float, float), default=(5.0, 30.0)
        Range of the signal-to-noise ratio in dB (noise and babble).
    noise_dir : str, PathLike or None, default=None
        A folder of noise recordings (any format soundfile reads); ``"noise"`` copies then
        mix in one of them, through audiomentations' ``AddBackgroundNoise``, instead of
        white or pink noise.
    rt60 : (float, float), default=(0.2, 0.8)
        Range of the reverberation time in seconds of the simulated rooms.
    n_rooms : int, default=8
        Rooms simulated once per :meth:`fit_resample` and shared by the reverberated
        copies (a simulation takes up to seconds).
    rir_dir : str, PathLike or None, default=None
        A folder of room impulse responses; ``"reverb"`` copies are then convolved with
        one of them (audiomentations' ``ApplyImpulseResponse``) and no room is simulated.
    speed_factors : list of float, default=(0.9, 1.1)
        The speed factors of ``"speed"`` copies.
    copy_groups : {"speaker", "condition"}, default="speaker"
        The speaker id of the copies in ``groups_``: their original's (``"speaker"``),
        or a pseudo-speaker per speaker and perturbation, ``"<speaker>@<family>"``
        (``"condition"``), so that speaker statistics are taken within one recording
        condition, as they are when a speaker's files of one channel are predicted
        together. Speed copies are pseudo-speakers either way.
    sr : int, default=16000
        Sampling rate the audio is loaded at and the copies are returned at.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws.
    n_jobs : int or None, default=None
        Parallel jobs (processes) making the copies.
    verbose : int, default=0
        Progress bar of the copies.

    Attributes
    ----------
    sample_indices_ : ndarray of shape (n_resampled,)
        The index in ``X`` of the original of each output utterance (as imbalanced-learn's
        samplers).
    conditions_ : ndarray of shape (n_resampled,)
        The perturbation of each output utterance, ``"original"`` for the originals.
    draws_ : list of dict
        What each copy is, in output order after the originals: its original
        (``"index"``), perturbation (``"family"``), seed, and strength (``"gain_db"``,
        ``"snr_db"``, ``"talkers"``: the indices in ``X`` of the babble's utterances,
        ``"room"``, ``"format"`` and ``"compression"``, ``"factor"``...).
    groups_ : ndarray of shape (n_resampled,) or None
        The speaker of each output utterance: that of its original, or a pseudo-speaker
        (speed copies, or every copy with ``copy_groups="condition"``; then all ids are
        strings); None when fitted without ``groups``.

    See Also
    --------
    AugmentedClassifier : trains a model on the augmented data with the copies' speakers.

    Notes
    -----
    In an :class:`imblearn.pipeline.Pipeline` the steps after the augmenter receive the
    ``groups`` passed to ``fit`` as they are, not the resampled ones (imbalanced-learn
    0.14 resamples only ``X`` and ``y``), so a speaker-aware step after it fails on the
    length mismatch: use :class:`AugmentedClassifier` for models that use speaker ids,
    such as :func:`~sklearn_ser.make_ser_pipeline`.

    References
    ----------
    .. [1] T. Ko, V. Peddinti, D. Povey and S. Khudanpur, "Audio augmentation for speech
       recognition", Proc. Interspeech, 2015.
    .. [2] T. Ko, V. Peddinti, D. Povey, M. L. Seltzer and S. Khudanpur, "A study on data
       augmentation of reverberant speech for robust speech recognition", Proc. ICASSP,
       2017.
    .. [3] R. Scheibler, E. Bezzam and I. Dokmanić, "Pyroomacoustics: A Python package for
       audio room simulations and array processing algorithms", Proc. ICASSP, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.augment import AudioAugmenter
    >>> rng = np.random.default_rng(0)
    >>> X = [0.1 * rng.standard_normal(8000).astype("float32") for _ in range(4)]
    >>> augmenter = AudioAugmenter(perturbations=["gain", "noise", "codec"], random_state=0)
    >>> X_res, y_res = augmenter.fit_resample(X, ["a", "b", "a", "b"])
    >>> len(X_res), y_res[4:].tolist()
    (12, ['a', 'a', 'b', 'b', 'a', 'a', 'b', 'b'])
    >>> waveform, sr = X_res[4]
    >>> waveform.shape, sr
    ((8000,), 16000)
    >>> augmenter.sample_indices_.tolist()
    [0, 1, 2, 3, 0, 0, 1, 1, 2, 2, 3, 3]
    """

    _parameter_constraints: ClassVar[dict] = {
        "perturbations": [_Names(set(PERTURBATIONS))],
        "n_copies": [Interval(numbers.Integral, 1, None, closed="left")],
        "gain_db": [_Range(-120.0, 40.0)],
        "snr_db": [_Range(-30.0, 100.0)],
        "noise_dir": [str, os.PathLike, None],
        "rt60": [_Range(0.05, 3.0)],
        "n_rooms": [Interval(numbers.Integral, 1, None, closed="left")],
        "rir_dir": [str, os.PathLike, None],
        "speed_factors": [list, tuple],
        "copy_groups": [StrOptions({"speaker", "condition"})],
        "sr": [Interval(numbers.Integral, 1000, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose"],
    }
    # Speaker ids say whose speech may be babble, and which pseudo-speaker a speed copy is.
    __metadata_request__fit_resample: ClassVar[dict] = {"groups": True}

    def __init__(
        self,
        perturbations: Any = _DEFAULT,
        *,
        n_copies: int = 2,
        gain_db: tuple[float, float] = (-35.0, 0.0),
        snr_db: tuple[float, float] = (5.0, 30.0),
        noise_dir: Any = None,
        rt60: tuple[float, float] = (0.2, 0.8),
        n_rooms: int = 8,
        rir_dir: Any = None,
        speed_factors: Any = (0.9, 1.1),
        copy_groups: str = "speaker",
        sr: int = 16000,
        random_state: Any = None,
        n_jobs: int | None = None,
        verbose: int = 0,
    ):
        self.perturbations = perturbations
        self.n_copies = n_copies
        self.gain_db = gain_db
        self.snr_db = snr_db
        self.noise_dir = noise_dir
        self.rt60 = rt60
        self.n_rooms = n_rooms
        self.rir_dir = rir_dir
        self.speed_factors = speed_factors
        self.copy_groups = copy_groups
        self.sr = sr
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(self, X: Any, y: Any, groups: Any = None) -> AudioAugmenter:
        """Validate the parameters (the augmenter learns nothing); returns ``self``."""
        self._validate_params()
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X: Any, y: Any, groups: Any = None) -> tuple[list, np.ndarray]:
        """The original utterances and their perturbed copies, with their labels.

        Parameters
        ----------
        X : sequence of paths or waveforms
            Audio, as the extractors accept it (waveform arrays are at ``sr`` Hz unless
            given as ``(waveform, rate)`` pairs).
        y : array-like of shape (n_samples,)
            Labels, repeated for the copies.
        groups : array-like of shape (n_samples,), default=None
            Speaker ids: babble is made of other speakers' utterances, and ``groups_``
            holds the speaker of every output utterance.

        Returns
        -------
        X_resampled : list of (ndarray, int)
            ``(waveform, sr)`` pairs: the ``n`` originals, then the copies of each in turn.
        y_resampled : ndarray of shape ((1 + n_copies) * n,)
            Their labels.
        """
        sources = as_audio_sources(X)
        y = np.asarray(y)
        n = len(sources)
        if y.shape != (n,):
            raise ValueError(f"y must have one label per utterance ({n}), got shape {y.shape}.")
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (n,):
                raise ValueError(
                    f"groups must have one speaker id per utterance ({n}), got shape "
                    f"{groups.shape}."
                )
        self._check_families()
        rng = check_random_state(self.random_state)
        waves = load_sources(sources, self.sr)
        plans = self._plan(n, groups, rng)
        rooms = self._rooms(plans, rng)
        jobs = (
            delayed(_perturb)(
                waves[p["index"]], self.sr, p, rooms, [waves[t] for t in p["talkers"]]
            )
            for p in plans
        )
        copies = Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs)
        if self.verbose:
            from tqdm.auto import tqdm

            copies = tqdm(copies, total=len(plans), unit="copy", desc="AudioAugmenter")
        copies = list(copies)

        self.sample_indices_ = np.concatenate(
            [np.arange(n), np.array([p["index"] for p in plans], dtype=int)]
        )
        self.conditions_ = np.array(["original"] * n + [p["family"] for p in plans])
        self.draws_ = plans
        self.groups_ = None if groups is None else self._resampled_groups(groups, plans)
        X_res = [(w, self.sr) for w in waves] + [(c, self.sr) for c in copies]
        return X_res, y[self.sample_indices_]

    # ----------------------------------------------------------------- the draws
    def _check_families(self) -> None:
        if "speed" in self.perturbations and not all(
            isinstance(f, numbers.Real) and 0.5 <= f <= 2.0 for f in self.speed_factors
        ):
            raise ValueError(
                f"speed_factors must be numbers in [0.5, 2], got {self.speed_factors!r}."
            )
        for name in ("noise_dir", "rir_dir"):
            folder = getattr(self, name)
            if folder is not None and not os.path.isdir(folder):
                raise ValueError(f"{name}={os.fspath(folder)!r} is not a folder.")

    def _plan(self, n: int, groups: np.ndarray | None, rng: np.random.RandomState) -> list:
        """What each copy is: its original, perturbation, strength and seed."""
        families = list(self.perturbations)
        speakers = groups if groups is not None else np.arange(n)
        if "babble" in families and len(np.unique(speakers)) < 2:
            raise ValueError(
                "Babble needs the speech of other speakers: groups has a single speaker. "
                "Remove 'babble' from perturbations or pass several speakers."
            )
        plans = []
        for index in range(n):
            for _ in range(self.n_copies):
                family = families[rng.randint(len(families))]
                plan = {
                    "index": index,
                    "family": family,
                    "seed": int(rng.randint(2**31 - 1)),
                    "talkers": [],
                }
                if family == "gain":
                    plan["gain_db"] = rng.uniform(*self.gain_db)
                elif family == "noise":
                    plan["snr_db"] = rng.uniform(*self.snr_db)
                    plan["source"] = (
                        os.fspath(self.noise_dir)
                        if self.noise_dir is not None
                        else ("white", "pink")[rng.randint(2)]
                    )
                elif family == "babble":
                    plan["snr_db"] = rng.uniform(*self.snr_db)
                    others = np.flatnonzero(speakers != speakers[index])
                    size = min(rng.randint(3, 8), len(others))
                    plan["talkers"] = rng.choice(others, size=size, replace=False).tolist()
                elif family == "band":
                    plan["low_hz"] = rng.uniform(100.0, 400.0)
                    plan["high_hz"] = rng.uniform(2800.0, 4000.0)
                    plan["channel_sr"] = 8000 if rng.rand() < 0.5 else None
                elif family == "reverb":
                    plan["room"] = (
                        os.fspath(self.rir_dir)
                        if self.rir_dir is not None
                        else int(rng.randint(self.n_rooms))
                    )
                elif family == "codec":
                    plan["format"] = _CODECS[rng.randint(len(_CODECS))]
                    plan["compression"] = rng.uniform(0.5, 0.9)
                else:  # speed
                    plan["factor"] = float(self.speed_factors[rng.randint(len(self.speed_factors))])
                plans.append(plan)
        return plans

    def _rooms(self, plans: list, rng: np.random.RandomState) -> list:
        """The simulated rooms' impulse responses (none with rir_dir or without reverb)."""
        if self.rir_dir is not None or not any(p["family"] == "reverb" for p in plans):
            return []
        seeds = rng.randint(2**31 - 1, size=self.n_rooms)
        rt60s = rng.uniform(*self.rt60, size=self.n_rooms)
        return Parallel(n_jobs=self.n_jobs)(
            delayed(_signal.simulate_rir)(rt60, self.sr, np.random.default_rng(seed))
            for rt60, seed in zip(rt60s, seeds)
        )

    def _resampled_groups(self, groups: np.ndarray, plans: list) -> np.ndarray:
        out = groups[self.sample_indices_]
        by_condition = self.copy_groups == "condition"
        if not by_condition and not any(p["family"] == "speed" for p in plans):
            return out
        out = out.astype(str).astype(object)
        for row, plan in enumerate(plans, start=len(groups)):
            if plan["family"] == "speed":
                out[row] = f"{out[row]}@speed{plan['factor']:g}"
            elif by_condition:
                out[row] = f"{out[row]}@{plan['family']}"
        return out.astype(str)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags


def _perturb(y: np.ndarray, sr: int, plan: dict, rooms: list, talkers: list) -> np.ndarray:
    """The copy of ``y`` that ``plan`` describes."""
    family, seed = plan["family"], plan["seed"]
    if family == "gain":
        return _signal.gain(y, plan["gain_db"])
    if family == "noise":
        if plan["source"] in ("white", "pink"):
            return _signal.colored_noise(y, sr, plan["snr_db"], plan["source"], seed)
        return _signal.noise_files(y, sr, plan["source"], plan["snr_db"], seed)
    if family == "babble":
        return _signal.babble(y, talkers, plan["snr_db"], np.random.default_rng(seed))
    if family == "band":
        return _signal.band_limit(y, sr, plan["low_hz"], plan["high_hz"], plan["channel_sr"], 4)
    if family == "reverb":
        if isinstance(plan["room"], str):
            return _signal.rir_files(y, sr, plan["room"], seed)
        return _signal.reverberate(y, rooms[plan["room"]])
    if family == "codec":
        return _signal.codec(y, sr, plan["format"], plan["compression"])
    return _signal.speed(y, sr, plan["factor"])
