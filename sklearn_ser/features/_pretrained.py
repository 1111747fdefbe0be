"""Pretrained speech encoders (wav2vec 2.0, HuBERT, WavLM, data2vec-audio, Whisper) as
scikit-learn transformers.

Needs the optional extra ``pip install sklearn-ser[pretrained]`` (Hugging Face
``transformers``). Neither torch nor transformers is imported before :meth:`fit` or
:meth:`transform` is called, so importing this module stays cheap.
"""

from __future__ import annotations

import itertools
import math
import os
import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._audio import _check_sr, _is_path, _load_one
from ._base import audio_sources

__all__ = ["PretrainedEmbeddingExtractor"]

# Model families read the same way: raw 16 kHz waveform -> CNN -> transformer layers.
_WAVEFORM_FAMILIES = ("wav2vec2", "hubert", "wavlm", "data2vec-audio")
_FAMILIES = (*_WAVEFORM_FAMILIES, "whisper")
# Families whose output on the real frames of a zero-padded, attention-masked batch equals
# their output on the file alone, *if* their convolutional front end normalises each frame
# (feat_extract_norm="layer"). With "group" normalisation (wav2vec2-base, hubert-base,
# wavlm-base-plus) each channel is normalised over the whole padded sequence, and
# data2vec-audio's stacked positional convolutions see the padded frames: for those, files
# are batched only with files of exactly the same length.
_MASKABLE = ("wav2vec2", "hubert", "wavlm")
_DTYPES = ("float32", "float16", "bfloat16")
_FILES_PER_BLOCK = 64  # files loaded and embedded together: bounds the audio held in memory
# (key, (encoder, feature extractor, device)) of the last model loaded, or None.
_LAST_LOADED: tuple | None = None


def _dtype_kwarg() -> str:
    """``from_pretrained``'s name for the weights' dtype (``torch_dtype`` before 4.56)."""
    import transformers
    from packaging.version import Version

    return "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"


def _conv_frames(n_samples: int, kernels: Any, strides: Any) -> int:
    """Frames of a wav2vec 2.0-style convolutional front end for ``n_samples`` samples."""
    for k, s in zip(kernels, strides):
        n_samples = (n_samples - k) // s + 1
    return max(int(n_samples), 0)


def _min_samples(kernels: Any, strides: Any) -> int:
    """Fewest samples that give one frame (the receptive field of the front end)."""
    need = 1
    for k, s in zip(reversed(list(kernels)), reversed(list(strides))):
        need = (need - 1) * s + k
    return need


def _split(n_samples: int, chunk: int) -> list[tuple[int, int]]:
    """``ceil(n / chunk)`` near-equal consecutive pieces of at most ``chunk`` samples."""
    n_pieces = max(1, math.ceil(n_samples / chunk))
    edges = np.linspace(0, n_samples, n_pieces + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def _missing_model_error(model: Any, cache_dir: Any, allow_download: bool, exc: Exception) -> str:
    name = os.fspath(model)
    if cache_dir is not None:
        cache = os.path.abspath(os.fspath(cache_dir))
    else:
        try:
            from huggingface_hub import constants

            cache = constants.HF_HUB_CACHE
        except ImportError:  # pragma: no cover - transformers depends on huggingface_hub
            cache = "~/.cache/huggingface/hub"
    if os.path.isdir(name):
        # A local folder whose config was found, but not the weights or the preprocessor.
        return (
            f"PretrainedEmbeddingExtractor: cannot load model={name!r}: the folder lacks a "
            "file transformers needs (the weights, model.safetensors or pytorch_model.bin, "
            "or preprocessor_config.json). Save both the model and its feature extractor "
            "into it with `save_pretrained(folder)`. "
            f"({type(exc).__name__}: {exc})"
        )
    looked = f"there is no folder {os.path.abspath(name)!r}"
    if allow_download:
        where = f"{looked}, and it could not be loaded from the Hugging Face Hub"
    else:
        where = (
            f"{looked}, and the Hugging Face cache ({cache!r}) does not hold it "
            "(downloads are off: allow_download=False)"
        )
    return (
        f"PretrainedEmbeddingExtractor: cannot load model={name!r}: {where}. To get the "
        f"weights, on a machine with internet run `huggingface-cli download {name}` (then "
        "copy its Hugging Face cache here, or point HF_HOME / cache_dir at it), or save "
        "them to a folder with `AutoModel.from_pretrained(name).save_pretrained(folder)` "
        "and `AutoFeatureExtractor.from_pretrained(name).save_pretrained(folder)` and pass "
        f"model=folder; or set allow_download=True. ({type(exc).__name__}: {exc})"
    )


class PretrainedEmbeddingExtractor(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Embeddings of a pretrained speech encoder (wav2vec 2.0, HuBERT, WavLM, data2vec, Whisper).

    Reads audio (paths or waveforms), resamples it to the model's rate (16 kHz), runs the
    encoder with ``output_hidden_states`` and returns the hidden states of the chosen
    layer(s), pooled over time into one vector per utterance (for any scikit-learn
    estimator) or as frame sequences ``(n_samples, dim, n_frames)`` like the library's
    other 3-D features (for :class:`~sklearn_ser.SERClassifier` with, for example,
    :class:`~sklearn_ser.models.AttentiveStatisticsHead`).

    Needs ``pip install sklearn-ser[pretrained]`` (Hugging Face ``transformers``).
    Supported: wav2vec 2.0, HuBERT, WavLM and data2vec-audio models, and the encoder of
    Whisper models (fed its feature extractor's log-mel input). :meth:`fit` reads only the
    configuration files (no weights, no audio); the weights are loaded at the first
    :meth:`transform`, which is deterministic, so a :class:`~sklearn.pipeline.Pipeline`
    with ``memory=`` computes the embeddings of a training set once.

    Every file is embedded on its own terms: pooling ignores padded frames, and for models
    whose padded batches differ from single files (convolutional front ends with group
    normalisation, such as wav2vec2-base, hubert-base-ls960 and wavlm-base-plus, and
    data2vec-audio) files are only batched with files of the same length. A file's
    embedding therefore does not depend on what else is in ``X`` (up to float rounding).
    Files longer than ``chunk_seconds`` are cut into near-equal pieces; the frames of all
    pieces are pooled together (the mean over all frames, the standard deviation over all
    frames), or concatenated for ``pooling=None``.

    Parameters
    ----------
    model : str or PathLike, default="microsoft/wavlm-base-plus"
        A local folder holding the model (``config.json``, the weights and
        ``preprocessor_config.json``, as written by ``save_pretrained``) or the name of a
        model on the Hugging Face Hub, e.g. "facebook/wav2vec2-base",
        "facebook/hubert-large-ll60k", "microsoft/wavlm-large",
        "facebook/data2vec-audio-base" or "openai/whisper-large-v3".
    layer : int, list of int or "all", default=-1
        Which hidden states: index 0 is the output of the convolutional front end (the
        input of the first transformer layer), ``i`` the output of transformer layer ``i``,
        and negative indices count from the last layer. A list is combined as
        ``layer_combine`` says; "all" stacks every hidden state on a new axis 1 (of size
        ``n_layers_``), so a downstream model can learn how to weight them. Intermediate
        layers often carry more paralinguistic information than the last one.
    layer_combine : {"mean", "concat"}, default="mean"
        How a list of layers is combined: their average (same size as one layer) or their
        concatenation along the feature axis.
    pooling : {"mean", "mean+std"} or None, default="mean"
        Pooling over the frames of each file: their mean, or their mean followed by their
        standard deviation (twice the size). None returns the frames,
        ``(n_samples, dim, n_frames_)``, padded or cropped to ``n_frames_``.
    max_frames : int or None, default=None
        With ``pooling=None``, the number of output frames; None means the frames of the
        longest training file. Ignored when pooling.
    pad_mode : {"wrap", "constant"}, default="wrap"
        With ``pooling=None``, how files shorter than ``n_frames_`` are padded: by
        repeating their frames (so a mean over all frames stays close to the file's) or
        with zeros. Longer files are cropped around their centre.
    sr : int, default=16000
        Sampling rate of waveforms given as arrays. Files use the rate in their header.
        Everything is resampled to the model's rate (``sampling_rate_``).
    chunk_seconds : float or None, default=20.0
        Files longer than this are embedded in near-equal pieces of at most this length
        (attention costs grow with the square of the length). For Whisper at most its
        30-second window; None: whole files (Whisper: its window).
    batch_size : int, default=8
        Pieces embedded together.
    device : str, default="auto"
        "auto" uses CUDA when available, else the CPU; or "cpu", "cuda", "cuda:N", "mps".
    dtype : {"float32", "float16", "bfloat16"}, default="float32"
        Precision of the weights and the computation ("float16" is meant for CUDA). The
        output is always float32.
    allow_download : bool, default=False
        Let ``transformers`` download a model named by its Hub name. Off by default: the
        model must be a local folder or already in the Hugging Face cache, and a missing
        model raises an error saying where it was looked for and how to get it.
    cache_dir : str, PathLike or None, default=None
        The Hugging Face cache to look in (and download to); None: the default
        (``$HF_HOME/hub``, usually ``~/.cache/huggingface/hub``).
    verbose : int, default=0
        With 1, a progress bar over the files in :meth:`transform`.

    Attributes
    ----------
    model_type_ : str
        The model family ("wav2vec2", "hubert", "wavlm", "data2vec-audio" or "whisper").
    n_layers_ : int
        Number of hidden states (transformer layers + 1).
    layers_ : list of int
        The selected hidden states, as non-negative indices.
    hidden_size_ : int
        Size of one hidden state.
    sampling_rate_ : int
        The model's sampling rate; all audio is resampled to it.
    frame_rate_ : float
        Frames per second of the hidden states (50 for all supported families).
    n_frames_ : int or None
        Output frames with ``pooling=None``; None when pooling.
    n_features_out_ : int
        Size of axis 1 of the output (``len(get_feature_names_out())``).
    n_features_in_ : int
        Number of audio samples per row, when ``X`` was a 2-D numeric array.

    See Also
    --------
    sklearn_ser.models.AttentiveStatisticsHead : a small trainable head for the frames.
    sklearn_ser.FeatureStatistics : pooling of the library's other frame features.

    Notes
    -----
    ``transformers`` loads only what is local unless ``allow_download=True``. To use a model
    offline, download it once where there is internet (``huggingface-cli download NAME``)
    and copy the cache, or save the model and its feature extractor to a folder with
    ``save_pretrained`` and pass that folder.

    The weights are loaded at the first :meth:`transform` and kept by the fitted extractor
    (not pickled). The last model loaded is also kept for the whole process, so that the
    copies of the extractor that a cached pipeline or a grid search makes reuse it instead
    of reading the weights again; :meth:`clear_model_cache` releases it.

    Examples
    --------
    A real model would be a Hub name such as "microsoft/wavlm-base-plus"; this example
    builds a tiny randomly initialised WavLM in a temporary folder so that it runs offline.

    >>> import tempfile
    >>> import numpy as np
    >>> from transformers import Wav2Vec2FeatureExtractor, WavLMConfig, WavLMModel
    >>> from sklearn_ser import PretrainedEmbeddingExtractor
    >>> folder = tempfile.mkdtemp()
    >>> config = WavLMConfig(hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
    ...                      intermediate_size=32, conv_dim=(8, 8), conv_kernel=(10, 3),
    ...                      conv_stride=(5, 2), num_conv_pos_embeddings=8,
    ...                      num_conv_pos_embedding_groups=2)
    >>> WavLMModel(config).save_pretrained(folder)
    >>> _ = Wav2Vec2FeatureExtractor().save_pretrained(folder)
    >>> waves = np.random.default_rng(0).normal(size=(3, 8000))
    >>> extractor = PretrainedEmbeddingExtractor(folder, layer=1, pooling="mean+std")
    >>> extractor.fit_transform(waves).shape
    (3, 32)
    >>> PretrainedEmbeddingExtractor(folder, layer="all", pooling=None).fit_transform(
    ...     waves).shape
    (3, 3, 16, 799)
    """

    _parameter_constraints: ClassVar[dict] = {
        "model": [str, os.PathLike],
        "layer": [Integral, list, tuple, StrOptions({"all"})],
        "layer_combine": [StrOptions({"mean", "concat"})],
        "pooling": [StrOptions({"mean", "mean+std"}), None],
        "max_frames": [Interval(Integral, 1, None, closed="left"), None],
        "pad_mode": [StrOptions({"wrap", "constant"})],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "chunk_seconds": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "dtype": [StrOptions(set(_DTYPES))],
        "allow_download": ["boolean"],
        "cache_dir": [str, os.PathLike, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model: str | os.PathLike = "microsoft/wavlm-base-plus",
        *,
        layer: int | list[int] | str = -1,
        layer_combine: str = "mean",
        pooling: str | None = "mean",
        max_frames: int | None = None,
        pad_mode: str = "wrap",
        sr: int = 16000,
        chunk_seconds: float | None = 20.0,
        batch_size: int = 8,
        device: str = "auto",
        dtype: str = "float32",
        allow_download: bool = False,
        cache_dir: str | os.PathLike | None = None,
        verbose: int = 0,
    ):
        self.model = model
        self.layer = layer
        self.layer_combine = layer_combine
        self.pooling = pooling
        self.max_frames = max_frames
        self.pad_mode = pad_mode
        self.sr = sr
        self.chunk_seconds = chunk_seconds
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self.allow_download = allow_download
        self.cache_dir = cache_dir
        self.verbose = verbose

    # ------------------------------------------------------------------ loading
    def _from_pretrained(self, loader: Any, **kwargs: Any) -> Any:
        """``loader.from_pretrained(model)``, local only unless downloads are allowed."""
        try:
            return loader.from_pretrained(
                os.fspath(self.model),
                local_files_only=not self.allow_download,
                cache_dir=None if self.cache_dir is None else os.fspath(self.cache_dir),
                **kwargs,
            )
        except OSError as exc:  # transformers' error for a missing model or file
            raise OSError(
                _missing_model_error(self.model, self.cache_dir, self.allow_download, exc)
            ) from exc

    def _check_model_arg(self) -> None:
        name = os.fspath(self.model)
        if os.path.isdir(name):
            if not os.path.isfile(os.path.join(name, "config.json")):
                raise OSError(
                    f"PretrainedEmbeddingExtractor: model={name!r} is a folder without a "
                    "config.json; save the model into it with `save_pretrained(folder)`."
                )
        elif os.path.exists(name):
            raise ValueError(
                f"PretrainedEmbeddingExtractor: model={name!r} is a file; pass the folder "
                "holding config.json and the weights, or a Hugging Face Hub name."
            )

    def _load_config(self) -> tuple[Any, Any]:
        try:
            from transformers import AutoConfig, AutoFeatureExtractor
        except ImportError as exc:
            raise ImportError(
                "PretrainedEmbeddingExtractor needs Hugging Face transformers: "
                "pip install 'sklearn-ser[pretrained]' (or pip install transformers)."
            ) from exc
        self._check_model_arg()
        config = self._from_pretrained(AutoConfig)
        model_type = getattr(config, "model_type", None)
        if model_type not in _FAMILIES:
            raise ValueError(
                f"PretrainedEmbeddingExtractor: model={os.fspath(self.model)!r} is a "
                f"{model_type!r} model; supported families are {_FAMILIES}."
            )
        try:
            feature_extractor = self._from_pretrained(AutoFeatureExtractor)
        except OSError as exc:
            if model_type == "whisper":
                raise
            # Some checkpoints ship no preprocessor_config.json: Wav2Vec2's defaults
            # (16 kHz, per-file normalisation) are those of every waveform family.
            from transformers import Wav2Vec2FeatureExtractor

            warnings.warn(
                f"PretrainedEmbeddingExtractor: model={os.fspath(self.model)!r} has no "
                f"feature extractor configuration ({exc.__cause__}); using "
                "Wav2Vec2FeatureExtractor's defaults (16 kHz, do_normalize=True).",
                UserWarning,
                stacklevel=3,
            )
            feature_extractor = Wav2Vec2FeatureExtractor()
        return config, feature_extractor

    def _resolve_layers(self, n_layers: int) -> list[int]:
        def one(value: Any) -> int:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
                raise ValueError(
                    f"PretrainedEmbeddingExtractor: layer must be an int, a list of ints or "
                    f"'all', got {self.layer!r}."
                )
            if not -n_layers <= value < n_layers:
                raise ValueError(
                    f"PretrainedEmbeddingExtractor: layer={value} is out of range for a model "
                    f"with {n_layers} hidden states (0..{n_layers - 1}, or -{n_layers}..-1)."
                )
            return int(value) % n_layers

        if isinstance(self.layer, str):
            return list(range(n_layers))
        if isinstance(self.layer, (list, tuple)):
            if len(self.layer) == 0:
                raise ValueError("PretrainedEmbeddingExtractor: layer=[] names no layer.")
            return [one(v) for v in self.layer]
        return [one(self.layer)]

    # ------------------------------------------------------------------ geometry
    def _chunk_samples(self) -> int:
        seconds = self.chunk_seconds
        if self.model_type_ == "whisper":
            window = int(self.whisper_window_)
            if seconds is None:
                return window
            return min(window, max(1, round(seconds * self.sampling_rate_)))
        if seconds is None:
            return 2**62
        return max(1, round(seconds * self.sampling_rate_))

    def _piece_frames(self, n_samples: int) -> int:
        if self.model_type_ == "whisper":
            mel = math.ceil(n_samples / self.hop_length_)
            return min(max(1, math.ceil(mel / 2)), self.max_positions_)
        n_samples = max(n_samples, self.min_samples_)
        return _conv_frames(n_samples, self.conv_kernel_, self.conv_stride_)

    def _file_frames(self, n_samples: int) -> int:
        return sum(self._piece_frames(b - a) for a, b in _split(n_samples, self._chunk_samples()))

    def _lengths(self, sources: list) -> np.ndarray:
        """Length of every source at the model's rate, without decoding files."""
        from .._audio import audio_durations

        lengths = audio_durations(sources, self.sampling_rate_)
        for i, source in enumerate(sources):
            if not _is_path(source) and self.sr != self.sampling_rate_:
                n = int(lengths[i])  # soxr's rounding, as audio_durations does for files
                lengths[i] = (n * self.sampling_rate_ * 2 + self.sr) // (2 * self.sr)
        return lengths

    # ------------------------------------------------------------------ sklearn API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> PretrainedEmbeddingExtractor:
        """Read the model's configuration and check the parameters against it.

        No weights are loaded and no audio is decoded (with ``pooling=None`` and
        ``max_frames=None`` the file headers are read for their lengths).

        Parameters
        ----------
        X : sequence of paths or waveforms, or ndarray of shape (n_samples, n_audio_samples)
            Training audio.
        y : None
            Ignored.

        Returns
        -------
        self : PretrainedEmbeddingExtractor
            The fitted extractor.
        """
        _check_sr(self.sr, "PretrainedEmbeddingExtractor: sr")
        config, feature_extractor = self._load_config()
        self._torch_device()  # a clear error now for a device that does not exist here
        sources = self._sources(X, reset=True)
        self.model_type_ = str(config.model_type)
        self.sampling_rate_ = int(getattr(feature_extractor, "sampling_rate", 16000))
        if self.model_type_ == "whisper":
            self.hidden_size_ = int(config.d_model)
            self.n_layers_ = int(config.encoder_layers) + 1
            self.hop_length_ = int(feature_extractor.hop_length)
            self.whisper_window_ = int(feature_extractor.n_samples)
            self.max_positions_ = int(config.max_source_positions)
            self.frame_rate_ = self.sampling_rate_ / (2 * self.hop_length_)
            self.min_samples_ = 1
        else:
            self.hidden_size_ = int(config.hidden_size)
            self.n_layers_ = int(config.num_hidden_layers) + 1
            self.conv_kernel_ = [int(k) for k in config.conv_kernel]
            self.conv_stride_ = [int(s) for s in config.conv_stride]
            self.frame_rate_ = self.sampling_rate_ / float(np.prod(self.conv_stride_))
            self.min_samples_ = _min_samples(self.conv_kernel_, self.conv_stride_)
        self.maskable_ = (
            self.model_type_ in _MASKABLE and getattr(config, "feat_extract_norm", "") == "layer"
        )
        self.layers_ = self._resolve_layers(self.n_layers_)
        if self.chunk_seconds is not None:
            chunk = round(self.chunk_seconds * self.sampling_rate_)
            if chunk < self.min_samples_:
                raise ValueError(
                    f"PretrainedEmbeddingExtractor: chunk_seconds={self.chunk_seconds} is "
                    f"shorter than the model's receptive field "
                    f"({self.min_samples_ / self.sampling_rate_:.3f} s)."
                )
        if self.pooling is None:
            if self.max_frames is not None:
                self.n_frames_ = int(self.max_frames)
            else:
                longest = int(self._lengths(sources).max())
                self.n_frames_ = self._file_frames(longest)
        else:
            self.n_frames_ = None
        self.n_features_out_ = len(self._feature_names())
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Embed every file.

        Parameters
        ----------
        X : sequence of paths or waveforms, or ndarray of shape (n_samples, n_audio_samples)
            Audio. Waveforms given as arrays are taken to be at ``sr`` Hz.

        Returns
        -------
        embeddings : ndarray of float32
            Of shape ``(n_samples, dim)`` when pooling (``dim`` is ``hidden_size_``, times
            2 for "mean+std", times the number of layers for ``layer_combine="concat"``);
            ``(n_samples, dim, n_frames_)`` for ``pooling=None``; with ``layer="all"`` a
            layer axis of size ``n_layers_`` comes after the sample axis.
        """
        check_is_fitted(self, "layers_")
        sources = self._sources(X, reset=False)
        encoder = self._encoder()
        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(sources), unit="file", desc=type(self).__name__)
        out = []
        try:
            for start in range(0, len(sources), _FILES_PER_BLOCK):
                part = sources[start : start + _FILES_PER_BLOCK]
                out.extend(self._embed_block(encoder, part, start))
                if progress is not None:
                    progress.update(len(part))
        finally:
            if progress is not None:
                progress.close()
        return np.stack(out).astype(np.float32, copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names along axis 1 of the output.

        Columns when pooling (e.g. "wavlm_l12_mean0", ..., "wavlm_l12_std0", ...), the
        feature dimensions of the frames with ``pooling=None``, and the layers
        ("wavlm_l0", ...) with ``layer="all"``.

        Parameters
        ----------
        input_features : None
            Ignored; present for API consistency.

        Returns
        -------
        names : ndarray of str of shape (n_features_out_,)
        """
        check_is_fitted(self, "layers_")
        return np.asarray(self._feature_names(), dtype=object)

    def _feature_names(self) -> list[str]:
        prefix = self.model_type_.replace("-", "")
        if isinstance(self.layer, str):
            return [f"{prefix}_l{i}" for i in self.layers_]
        if len(self.layers_) > 1 and self.layer_combine == "concat":
            tags = [f"l{i}" for i in self.layers_]
        else:
            tags = ["l" + "+".join(str(i) for i in self.layers_)]
        stats = ["mean", "std"] if self.pooling == "mean+std" else [self.pooling or "d"]
        return [
            f"{prefix}_{tag}_{stat}{j}"
            for tag in tags
            for stat in stats
            for j in range(self.hidden_size_)
        ]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = True  # file paths
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = []
        tags.non_deterministic = False
        return tags

    @staticmethod
    def clear_model_cache() -> None:
        """Forget the model kept for reuse by other extractors, so its memory can be freed.

        Extractors that have already loaded it keep their own reference.

        Examples
        --------
        >>> from sklearn_ser import PretrainedEmbeddingExtractor
        >>> PretrainedEmbeddingExtractor.clear_model_cache()
        """
        global _LAST_LOADED
        _LAST_LOADED = None

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_encoder_cache", None)  # weights are reloaded from `model` when needed
        return state

    # ------------------------------------------------------------------ internals
    def _sources(self, X: Any, reset: bool) -> list:
        return audio_sources(self, X, reset)

    def _torch_device(self) -> Any:
        import torch

        from .._device import resolve_device

        return torch.device(resolve_device(self.device, "PretrainedEmbeddingExtractor"))

    def _encoder(self) -> tuple[Any, Any, Any]:
        """(encoder module, feature extractor, device), loaded once per fitted object.

        The last model loaded in the process is also kept module-wide (``_LAST_LOADED``),
        so the unpickled or cloned copies that a cached pipeline or a grid search creates
        do not read the weights from disk again.
        """
        global _LAST_LOADED
        key = (
            os.fspath(self.model),
            self.device,
            self.dtype,
            None if self.cache_dir is None else os.fspath(self.cache_dir),
            bool(self.allow_download),
        )
        for cached in (getattr(self, "_encoder_cache", None), _LAST_LOADED):
            if cached is not None and cached[0] == key:
                self._encoder_cache = cached
                return cached[1]
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        _, feature_extractor = self._load_config()
        device = self._torch_device()
        bars = hf_logging.is_progress_bar_enabled()
        if bars and not self.verbose:
            hf_logging.disable_progress_bar()  # transformers' own "Loading weights" bar
        try:
            model = self._from_pretrained(AutoModel, **{_dtype_kwarg(): getattr(torch, self.dtype)})
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        if self.model_type_ == "whisper":
            encoder = model.get_encoder()
            del model
        else:
            encoder = model
        encoder.eval().to(device)
        loaded = (encoder, feature_extractor, device)
        self._encoder_cache = _LAST_LOADED = (key, loaded)
        return loaded

    def _embed_block(self, loaded: tuple, sources: list, offset: int) -> list[np.ndarray]:
        encoder, feature_extractor, device = loaded
        waves = [
            _load_one(s, self.sampling_rate_, self.sr, offset + i) for i, s in enumerate(sources)
        ]
        short = [offset + i for i, w in enumerate(waves) if w.size < self.min_samples_]
        if short:
            warnings.warn(
                f"PretrainedEmbeddingExtractor: audio samples {short} are shorter than the "
                f"model's receptive field ({self.min_samples_ / self.sampling_rate_ * 1000:.0f}"
                " ms) and were padded with silence to one frame.",
                UserWarning,
                stacklevel=3,
            )
        chunk = self._chunk_samples()
        pieces = []  # (file index, piece index, waveform)
        for i, w in enumerate(waves):
            for j, (a, b) in enumerate(_split(w.size, chunk)):
                piece = w[a:b]
                if piece.size < self.min_samples_:
                    piece = np.pad(piece, (0, self.min_samples_ - piece.size))
                pieces.append((i, j, piece))
        frames: dict = {}
        for batch in self._batches(pieces):
            hidden = self._run(encoder, feature_extractor, device, [p[2] for p in batch])
            for (i, j, piece), h in zip(batch, hidden):
                frames[i, j] = h[..., : self._piece_frames(piece.size)]
        out = []
        for i in range(len(waves)):
            n_pieces = len(_split(waves[i].size, chunk))
            parts = [frames[i, j] for j in range(n_pieces)]
            out.append(self._pool(parts))
        return out

    def _batches(self, pieces: list) -> list[list]:
        """Longest first; without exact masking, only pieces of equal length together."""
        order = sorted(pieces, key=lambda p: -p[2].size)
        batches: list[list] = []
        for p in order:
            last = batches[-1] if batches else None
            if (
                last is not None
                and len(last) < self.batch_size
                and (
                    self.maskable_ or self.model_type_ == "whisper" or last[0][2].size == p[2].size
                )
            ):
                last.append(p)
            else:
                batches.append([p])
        return batches

    def _run(self, encoder: Any, feature_extractor: Any, device: Any, waves: list) -> list:
        """Hidden states of the selected layers, ``(n_layers_sel, dim, frames)`` per piece."""
        import torch

        dtype = getattr(torch, self.dtype)
        if self.model_type_ == "whisper":
            inputs = feature_extractor(
                waves, sampling_rate=self.sampling_rate_, return_tensors="pt"
            )
            kwargs = {"input_features": inputs["input_features"].to(device, dtype)}
        else:
            # Padding only when the family masks it exactly (see _MASKABLE); otherwise the
            # batch holds pieces of one length.
            inputs = feature_extractor(
                waves,
                sampling_rate=self.sampling_rate_,
                padding=True,
                return_attention_mask=True,
                return_tensors="pt",
            )
            kwargs = {"input_values": inputs["input_values"].to(device, dtype)}
            if self.maskable_:
                kwargs["attention_mask"] = inputs["attention_mask"].to(device)
        with torch.inference_mode(), warnings.catch_warnings():
            # WavLM's attention call triggers a torch deprecation warning on every batch.
            warnings.filterwarnings("ignore", message="Support for mismatched key_padding_mask")
            output = encoder(**kwargs, output_hidden_states=True)
        states = torch.stack([output.hidden_states[k] for k in self.layers_], dim=1)
        # (batch, layers, frames, dim) -> (batch, layers, dim, frames), float32 on the CPU
        return list(states.transpose(2, 3).float().cpu().numpy())

    def _pool(self, parts: list[np.ndarray]) -> np.ndarray:
        """One file's output from the frames of its pieces, ``(n_sel, dim, frames)`` each."""
        if self.pooling is None:
            frames = np.concatenate(parts, axis=-1)
            frames = self._fix_frames(frames)
        else:
            count = sum(p.shape[-1] for p in parts)
            total = sum(p.sum(axis=-1, dtype=np.float64) for p in parts)
            mean = total / count
            if self.pooling == "mean+std":
                # Squared deviations from the file's mean, piece by piece: exact and stable.
                sq = sum(
                    np.square(p - mean[..., None], dtype=np.float64).sum(axis=-1) for p in parts
                )
                frames = np.concatenate([mean, np.sqrt(sq / count)], axis=-1)
            else:
                frames = mean
        # frames: (n_sel, F) pooled or (n_sel, dim, T)
        if isinstance(self.layer, str):
            return frames
        if len(self.layers_) == 1:
            return frames[0]
        if self.layer_combine == "mean":
            return frames.mean(axis=0)
        return np.concatenate(list(frames), axis=0)

    def _fix_frames(self, frames: np.ndarray) -> np.ndarray:
        target, n = self.n_frames_, frames.shape[-1]
        if n > target:
            start = (n - target) // 2
            return frames[..., start : start + target]
        if n < target:
            if self.pad_mode == "wrap":
                reps = math.ceil(target / n)
                return np.concatenate([frames] * reps, axis=-1)[..., :target]
            pad = [(0, 0)] * (frames.ndim - 1) + [(0, target - n)]
            return np.pad(frames, pad)
        return frames
