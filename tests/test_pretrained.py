"""PretrainedEmbeddingExtractor and AttentiveStatisticsHead, on tiny random encoders (offline)."""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

transformers = pytest.importorskip("transformers")

from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklearn_ser import PretrainedEmbeddingExtractor, SERClassifier  # noqa: E402
from sklearn_ser.models import AttentiveStatisticsHead  # noqa: E402

HIDDEN = 16
_WAVEFORM = dict(
    hidden_size=HIDDEN,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=24,
    conv_dim=(8, 8),
    conv_kernel=(10, 3),
    conv_stride=(5, 2),
    num_conv_pos_embeddings=8,
    num_conv_pos_embedding_groups=2,
)


def _build(folder, family: str) -> None:
    import torch
    from transformers import (
        Data2VecAudioConfig,
        Data2VecAudioModel,
        HubertConfig,
        HubertModel,
        Wav2Vec2Config,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2Model,
        WavLMConfig,
        WavLMModel,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperModel,
    )

    torch.manual_seed(0)
    if family == "whisper":
        config = WhisperConfig(
            d_model=HIDDEN,
            encoder_layers=2,
            decoder_layers=1,
            encoder_attention_heads=2,
            decoder_attention_heads=2,
            encoder_ffn_dim=24,
            decoder_ffn_dim=24,
            num_mel_bins=20,
            max_source_positions=50,  # a 1-second window: 100 mel frames
            max_target_positions=8,
            vocab_size=16,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
            decoder_start_token_id=1,
        )
        WhisperModel(config).save_pretrained(folder)
        WhisperFeatureExtractor(feature_size=20, chunk_length=1).save_pretrained(folder)
        return
    classes = {
        "wav2vec2": (Wav2Vec2Config, Wav2Vec2Model, {"feat_extract_norm": "layer"}),
        "wav2vec2-group": (Wav2Vec2Config, Wav2Vec2Model, {"feat_extract_norm": "group"}),
        "hubert": (HubertConfig, HubertModel, {"feat_extract_norm": "layer"}),
        "wavlm": (WavLMConfig, WavLMModel, {"feat_extract_norm": "layer"}),
        "data2vec-audio": (Data2VecAudioConfig, Data2VecAudioModel, {}),
    }
    config_cls, model_cls, extra = classes[family]
    config = config_cls(**_WAVEFORM, **extra)
    if family == "data2vec-audio":
        config.num_conv_pos_embeddings = 3
    model_cls(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(folder)


FAMILIES = ["wav2vec2", "wav2vec2-group", "hubert", "wavlm", "data2vec-audio", "whisper"]


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("encoders")
    out = {}
    for family in FAMILIES:
        folder = root / family
        _build(folder, family)
        out[family] = str(folder)
    return out


@pytest.fixture(scope="module")
def audio():
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    lengths = [4000, 9000, 6000, 12000]
    return [
        (0.3 * np.sin(2 * np.pi * 150 * (i + 1) * t[:n]) + 0.05 * rng.normal(size=n)).astype(
            np.float32
        )
        for i, n in enumerate(lengths)
    ]


@pytest.mark.parametrize("family", FAMILIES)
def test_shapes_and_batch_independence(models, audio, family):
    ext = PretrainedEmbeddingExtractor(models[family], layer=-1, batch_size=4).fit(audio)
    assert ext.model_type_ == family.replace("-group", "")
    assert ext.n_layers_ == 3 and ext.hidden_size_ == HIDDEN
    batch = ext.transform(audio)
    assert batch.shape == (4, HIDDEN) and batch.dtype == np.float32
    assert np.all(np.isfinite(batch))
    # Each file alone gives what it gives in the padded batch.
    alone = np.concatenate([ext.transform([w]) for w in audio])
    np.testing.assert_allclose(alone, batch, atol=1e-4, rtol=1e-4)
    # Deterministic, and the order of the batch does not matter.
    np.testing.assert_array_equal(ext.transform(audio), batch)
    np.testing.assert_allclose(ext.transform(audio[::-1])[::-1], batch, atol=1e-4, rtol=1e-4)
    # Different files give different embeddings.
    assert np.abs(batch[0] - batch[1]).max() > 1e-3


@pytest.mark.parametrize(
    ("layer", "combine", "pooling", "shape"),
    [
        (0, "mean", "mean", (HIDDEN,)),
        ([1, 2], "mean", "mean", (HIDDEN,)),
        ([1, 2], "concat", "mean+std", (4 * HIDDEN,)),
        ("all", "mean", "mean", (3, HIDDEN)),
        ("all", "mean", "mean+std", (3, 2 * HIDDEN)),
        (-1, "mean", None, (HIDDEN, 20)),
        ([0, 2], "concat", None, (2 * HIDDEN, 20)),
        ("all", "mean", None, (3, HIDDEN, 20)),
    ],
)
def test_layer_and_pooling_shapes(models, audio, layer, combine, pooling, shape):
    ext = PretrainedEmbeddingExtractor(
        models["wavlm"], layer=layer, layer_combine=combine, pooling=pooling, max_frames=20
    )
    out = ext.fit_transform(audio)
    assert out.shape == (len(audio), *shape)
    assert len(ext.get_feature_names_out()) == shape[0] == ext.n_features_out_
    assert len(set(ext.get_feature_names_out())) == shape[0]


def test_layer_choices_agree(models, audio):
    """A list of layers is their mean or concatenation; "all" stacks them in order."""
    path = models["hubert"]
    stacked = PretrainedEmbeddingExtractor(path, layer="all", pooling="mean").fit_transform(audio)
    one = PretrainedEmbeddingExtractor(path, layer=1).fit_transform(audio)
    mean = PretrainedEmbeddingExtractor(path, layer=[1, -1]).fit_transform(audio)
    cat = PretrainedEmbeddingExtractor(path, layer=[1, 2], layer_combine="concat")
    cat = cat.fit_transform(audio)
    np.testing.assert_allclose(stacked[:, 1], one, atol=1e-6)
    np.testing.assert_allclose(mean, stacked[:, 1:].mean(axis=1), atol=1e-6)
    np.testing.assert_allclose(cat, stacked[:, 1:].reshape(len(audio), -1), atol=1e-6)


def test_frames_padding_and_mean(models, audio):
    path = models["wavlm"]
    frames = PretrainedEmbeddingExtractor(path, pooling=None).fit(audio)
    # Frames of the longest file: 12000 samples -> (12000 - 10) // 5 + 1 -> // 2
    assert frames.n_frames_ == ((12000 - 10) // 5 + 1 - 3) // 2 + 1
    seq = frames.transform(audio)
    mean = PretrainedEmbeddingExtractor(path).fit_transform(audio)
    # The longest file is not padded: its frame mean is the pooled embedding.
    np.testing.assert_allclose(seq[3].mean(axis=-1), mean[3], atol=1e-5)
    zero = frames.set_params(pad_mode="constant").transform(audio[:1])
    n_real = ((4000 - 10) // 5 + 1 - 3) // 2 + 1
    assert np.all(zero[0, :, n_real:] == 0) and np.all(zero[0, :, :n_real] != 0)
    np.testing.assert_allclose(zero[0, :, :n_real], seq[0, :, :n_real], atol=1e-5)
    np.testing.assert_allclose(seq[0, :, n_real : 2 * n_real], seq[0, :, :n_real], atol=1e-6)


@pytest.mark.parametrize("family", ["wav2vec2", "whisper"])
def test_chunks(models, audio, family):
    long_ = np.concatenate(audio[:3])  # 19000 samples, ~1.2 s
    whole = PretrainedEmbeddingExtractor(models[family], pooling="mean+std", chunk_seconds=5.0)
    whole.fit([long_])
    chunked = clone(whole).set_params(chunk_seconds=0.5).fit([long_])
    # A file shorter than a chunk is embedded whole: same numbers.
    short = audio[0]
    np.testing.assert_allclose(
        chunked.transform([short]), whole.transform([short]), atol=1e-5, rtol=1e-5
    )
    # A long file: the pooled statistics are those of all the pieces' frames.
    a, b = chunked.transform([long_]), whole.transform([long_])
    assert a.shape == b.shape and np.all(np.isfinite(a))
    frames = clone(chunked).set_params(pooling=None, max_frames=None).fit([long_])
    seq = frames.transform([long_])[0]
    assert seq.shape[-1] == frames.n_frames_
    np.testing.assert_allclose(a[0, :HIDDEN], seq.mean(-1), atol=1e-5)
    np.testing.assert_allclose(a[0, HIDDEN:], seq.std(-1), atol=1e-5)


def test_paths_resampling_and_short_audio(models, audio, tmp_path):
    import soundfile as sf

    path = tmp_path / "a.wav"
    sf.write(path, audio[1], 16000)
    ext = PretrainedEmbeddingExtractor(models["wavlm"]).fit([str(path)])
    from_file = ext.transform([str(path)])
    np.testing.assert_allclose(from_file, ext.transform([audio[1]]), atol=1e-3)
    # Waveforms at another rate are resampled to the model's 16 kHz.
    at_8k = audio[1][::2]
    ext8 = clone(ext).set_params(sr=8000).fit([at_8k])
    assert ext8.transform([at_8k]).shape == (1, HIDDEN)
    with pytest.warns(UserWarning, match="shorter than the model's receptive field"):
        out = ext.transform([np.ones(5, dtype=np.float32) * 0.1])
    assert np.all(np.isfinite(out))


def test_pickled_pipeline_and_memory(models, audio, tmp_path, monkeypatch):
    y = ["a", "b", "a", "b"]
    pipe = make_pipeline(
        PretrainedEmbeddingExtractor(models["wavlm"], pooling="mean+std"),
        LogisticRegression(max_iter=200),
        memory=str(tmp_path / "cache"),
    )
    calls = []
    embed = PretrainedEmbeddingExtractor._embed_block
    monkeypatch.setattr(
        PretrainedEmbeddingExtractor,
        "_embed_block",
        lambda self, *args: calls.append(1) or embed(self, *args),
    )
    pipe.fit(audio, y)
    assert len(calls) == 1
    before = pipe.predict_proba(audio)
    restored = pickle.loads(pickle.dumps(pipe))
    assert "_encoder_cache" not in restored.steps[0][1].__dict__  # weights are not pickled
    np.testing.assert_allclose(restored.predict_proba(audio), before, atol=1e-6)
    # A second fit of a clone reads the training embeddings from the cache.
    calls.clear()
    clone(pipe).set_params(logisticregression__C=0.5).fit(audio, y)
    assert calls == []


def test_missing_model_errors(models, tmp_path, audio):
    missing = tmp_path / "no-such-model"
    with pytest.raises(OSError, match=r"no-such-model.*huggingface-cli download") as info:
        PretrainedEmbeddingExtractor(str(missing)).fit(audio)
    assert "allow_download=False" in str(info.value)
    with pytest.raises(OSError, match=r"Hugging Face cache \('.*empty-cache"):
        PretrainedEmbeddingExtractor("nobody/not-a-model", cache_dir=tmp_path / "empty-cache").fit(
            audio
        )
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(OSError, match=r"without a config\.json"):
        PretrainedEmbeddingExtractor(str(empty)).fit(audio)
    shutil.copy(f"{models['wavlm']}/config.json", empty / "config.json")
    shutil.copy(f"{models['wavlm']}/preprocessor_config.json", empty)
    ext = PretrainedEmbeddingExtractor(str(empty)).fit(audio)  # the configuration is enough
    with pytest.raises(OSError, match="the folder lacks a file"):
        ext.transform(audio)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"layer": 3}, "out of range"),
        ({"layer": [0, 1.5]}, "list of ints"),
        ({"layer": []}, "names no layer"),
        ({"pooling": "max"}, "pooling"),
        ({"batch_size": 0}, "batch_size"),
        ({"dtype": "int8"}, "dtype"),
        ({"chunk_seconds": 0.0001}, "receptive field"),
        ({"device": "gpu0"}, "device must be"),
    ],
)
def test_bad_params(models, audio, params, match):
    with pytest.raises(ValueError, match=match):
        PretrainedEmbeddingExtractor(models["wavlm"], **params).fit(audio)


def test_bfloat16_close_to_float32(models, audio):
    full = PretrainedEmbeddingExtractor(models["wavlm"]).fit_transform(audio[:2])
    half = PretrainedEmbeddingExtractor(models["wavlm"], dtype="bfloat16").fit_transform(audio[:2])
    assert half.dtype == np.float32
    assert not np.array_equal(half, full)  # computed in bfloat16 indeed
    # bfloat16 keeps 8 bits of mantissa. How its rounding errors add up through the
    # encoder depends on the CPU's kernels (native bf16 or emulated, float32 or bf16
    # accumulation): the largest single difference was 0.5% of the largest value on one
    # x86-64 CPU and 15% on another, where one small value after a layer norm lost its
    # digits. What must hold on any CPU is that each utterance's embedding, as a vector,
    # stays the float32 one: a relative error of 0.2 at most (a cosine of 0.98), about
    # 50 times what the bf16 rounding of the output alone gives.
    error = np.linalg.norm(half - full, axis=1) / np.linalg.norm(full, axis=1)
    assert error.max() < 0.2, error


def test_import_does_not_load_torch_or_transformers():
    code = (
        "import sys, sklearn_ser, sklearn_ser.features; "
        "sklearn_ser.PretrainedEmbeddingExtractor; "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("shape", "params"),
    [((HIDDEN, 12), {}), ((3, HIDDEN, 12), {}), ((3, HIDDEN), {"pooled": True})],
)
def test_head_trains_through_serclassifier(shape, params):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, *shape)).astype(np.float32)
    y = np.repeat(["neutral", "angry"], 12)
    X[y == "angry"] += 0.5
    module_params = {f"module__{k}": v for k, v in params.items()}
    clf = SERClassifier(
        module=AttentiveStatisticsHead,
        lambda_recon=0,
        max_epochs=2,
        batch_size=8,
        random_state=0,
        **module_params,
    ).fit(X, y)
    assert clf.predict_proba(X).shape == (24, 2)
    assert clf.transform(X).shape == (24, 128)
    head = clf.net_.module_
    if len(shape) == 3 or params:
        assert head.layer_weights is not None and head.layer_weights.grad is not None


def test_head_rejects_bad_shapes():
    with pytest.raises(ValueError, match="input_shape"):
        AttentiveStatisticsHead(n_classes=2, input_shape=(2, 3, 4, 5))
    with pytest.raises(ValueError, match="input_shape"):
        AttentiveStatisticsHead(n_classes=2, input_shape=(2, 3, 4), pooled=True)
    head = AttentiveStatisticsHead(n_classes=2, input_shape=(8, 10))
    import torch

    with pytest.raises(ValueError, match="built for inputs"):
        head(torch.zeros(2, 8, 11))


def test_whisper_counts_only_real_frames(models, audio):
    ext = PretrainedEmbeddingExtractor(models["whisper"], pooling=None).fit(audio)
    # 12000 samples: ceil(12000 / 160) = 75 mel frames -> 38 encoder frames of the 50 that
    # the 1-second window gives; the padding's frames are not part of the file.
    assert ext.n_frames_ == 38 < 50
    seq = ext.transform(audio[3:])
    pooled = clone(ext).set_params(pooling="mean").fit(audio).transform(audio[3:])
    np.testing.assert_allclose(seq[0].mean(axis=-1), pooled[0], atol=1e-5)


def test_frames_to_head_pipeline(models, audio):
    pipe = make_pipeline(
        PretrainedEmbeddingExtractor(models["wavlm"], layer="all", pooling=None, max_frames=20),
        SERClassifier(module=AttentiveStatisticsHead, lambda_recon=0, max_epochs=1, batch_size=2),
    )
    pipe.fit(audio, ["a", "b", "a", "b"])
    assert pipe.predict_proba(audio).shape == (4, 2)
