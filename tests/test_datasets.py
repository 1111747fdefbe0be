"""Tests of the corpus loaders and of combine_corpora in sklearn_ser.datasets."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sklearn_ser.datasets import (
    BASIC_EMOTIONS,
    EMOTIONS,
    combine_corpora,
    get_data_home,
    load_cremad,
    load_emodb,
    load_emovo,
    load_iemocap,
    load_ravdess,
    load_savee,
    load_tess,
    make_emotional_speech,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _wav(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(16, dtype=np.float32), 16000)
    return path


# ---------------------------------------------------------------------------- fake corpora


def _emodb(home: Path) -> Path:
    for name in ["03a01Wa", "03a02Lb", "08a01Ea", "10b09Aa", "16a05Fa", "16a05Tb", "13a01Nc"]:
        _wav(home / "emodb" / "wav" / f"{name}.wav")
    _wav(home / "emodb" / "wav" / "notes.wav")  # not in the naming scheme: skipped
    _wav(home / "emodb" / "wav" / "99a01Wa.wav")  # unknown speaker: skipped
    return home / "emodb"


def _emovo(home: Path) -> Path:
    for name in [
        "dis-f1-b1",
        "gio-f2-b2",
        "neu-f3-l1",
        "pau-m1-n5",
        "rab-m2-d1",
        "sor-m3-b3",
        "tri-m3-b3",
    ]:
        _wav(home / "emovo" / name.split("-")[1] / f"{name}.wav")
    _wav(home / "emovo" / "documents" / "dis-f1-b1.wav")  # not a speaker folder
    return home / "emovo"


def _ravdess(home: Path) -> Path:
    for name in [
        "03-01-01-01-01-01-01",
        "03-01-02-02-01-02-01",
        "03-01-08-02-02-01-24",
        "03-02-03-01-01-01-24",
        "01-01-05-01-01-01-24",
    ]:
        _wav(home / "ravdess" / f"Actor_{name[-2:]}" / f"{name}.wav")
    return home / "ravdess"


# ---------------------------------------------------------------------------- data home


def test_get_data_home(monkeypatch, tmp_path):
    assert get_data_home(tmp_path) == tmp_path
    monkeypatch.setenv("SKLEARN_SER_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"
    monkeypatch.delenv("SKLEARN_SER_DATA")
    assert get_data_home() == Path.home() / "sklearn_ser_data"
    assert not (tmp_path / "env").exists()  # not created


def test_emotion_vocabulary():
    assert set(BASIC_EMOTIONS) == {
        "anger",
        "boredom",
        "calm",
        "disgust",
        "fear",
        "happiness",
        "neutral",
        "sadness",
        "surprise",
    }
    assert set(EMOTIONS) - set(BASIC_EMOTIONS) == {"excitement", "frustration", "other"}


def test_data_home_from_environment(monkeypatch, tmp_path):
    _emodb(tmp_path)
    monkeypatch.setenv("SKLEARN_SER_DATA", str(tmp_path))
    assert len(load_emodb().filenames) == 7


# ---------------------------------------------------------------------------- EmoDB


def test_emodb_fields(tmp_path):
    _emodb(tmp_path)
    data = load_emodb(tmp_path)
    assert data.corpus == "emodb" and "EmoDB" in data.DESCR
    assert list(data.filenames) == sorted(data.filenames)
    names = [Path(f).stem for f in data.filenames]
    assert names == ["03a01Wa", "03a02Lb", "08a01Ea", "10b09Aa", "13a01Nc", "16a05Fa", "16a05Tb"]
    assert data.target.tolist() == [
        "anger",
        "boredom",
        "disgust",
        "fear",
        "neutral",
        "happiness",
        "sadness",
    ]
    assert data.speaker.tolist() == ["03", "03", "08", "10", "13", "16", "16"]
    assert data.gender.tolist() == ["male", "male", "female", "male", "female", "female", "female"]
    assert data.text.tolist()[3] == "b09" and data.version.tolist()[3] == "a"
    assert all(Path(f).is_file() for f in data.filenames)


def test_emodb_accepts_corpus_folder_and_return_X_y(tmp_path):
    corpus = _emodb(tmp_path)
    X, y = load_emodb(corpus, return_X_y=True)
    ref = load_emodb(tmp_path)
    assert isinstance(X, np.ndarray) and X.tolist() == ref.filenames.tolist()
    assert y.tolist() == ref.target.tolist()


def test_emotions_subset_and_unknown(tmp_path):
    _emodb(tmp_path)
    data = load_emodb(tmp_path, emotions=["anger", "sadness"])
    assert sorted(data.target) == ["anger", "sadness"]
    assert load_emodb(tmp_path, emotions="fear").target.tolist() == ["fear"]
    with pytest.raises(ValueError, match=r"surprise.*valid emotions are.*boredom"):
        load_emodb(tmp_path, emotions=["anger", "surprise"])
    with pytest.raises(ValueError, match="boredom"):
        load_emovo(tmp_path, emotions=["boredom"])


def test_missing_corpus_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"emodb/wav/03a01Fa\.wav.*download=True"):
        load_emodb(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"f1/dis-f1-b1\.wav.*no public download"):
        load_emovo(tmp_path, download=True)  # nothing to download: still a clear error
    (tmp_path / "emodb" / "wav").mkdir(parents=True)
    _wav(tmp_path / "emodb" / "wav" / "readme.wav")
    with pytest.raises(FileNotFoundError, match="no matching audio files"):
        load_emodb(tmp_path)


@pytest.mark.parametrize(
    "loader",
    [load_emodb, load_emovo, load_ravdess, load_tess, load_savee, load_cremad, load_iemocap],
)
def test_every_loader_explains_missing_corpus(loader, tmp_path):
    with pytest.raises(FileNotFoundError, match="Expected layout") as info:
        loader(tmp_path)
    assert str(tmp_path) in str(info.value)


# ---------------------------------------------------------------------------- EMOVO


def test_emovo_fields(tmp_path):
    corpus = _emovo(tmp_path)
    data = load_emovo(tmp_path)
    assert len(data.filenames) == 7 and "documents" not in " ".join(data.filenames)
    by_name = {
        Path(f).stem: (t, s, g)
        for f, t, s, g in zip(data.filenames, data.target, data.speaker, data.gender)
    }
    assert by_name["gio-f2-b2"] == ("happiness", "f2", "female")
    assert by_name["pau-m1-n5"] == ("fear", "m1", "male")
    assert by_name["sor-m3-b3"] == ("surprise", "m3", "male")
    assert by_name["rab-m2-d1"][0] == "anger"
    assert sorted(data.target_names) == sorted(set(data.target))
    assert load_emovo(corpus).filenames.tolist() == data.filenames.tolist()


# ---------------------------------------------------------------------------- RAVDESS


def test_ravdess_fields_and_vocal_channel(tmp_path):
    _ravdess(tmp_path)
    data = load_ravdess(tmp_path)
    assert data.target.tolist() == ["neutral", "calm", "surprise"]
    assert data.speaker.tolist() == ["01", "01", "24"]
    assert data.gender.tolist() == ["male", "male", "female"]
    assert data.intensity.tolist() == ["normal", "strong", "strong"]
    assert data.repetition.tolist() == [1, 2, 1]
    assert data.statement[2] == "Dogs are sitting by the door"
    song = load_ravdess(tmp_path, vocal_channel="song")
    assert song.target.tolist() == ["happiness"] and song.vocal_channel.tolist() == ["song"]
    assert len(load_ravdess(tmp_path, vocal_channel="both").target) == 4
    with pytest.raises(ValueError, match=r"vocal_channel.*'sing'"):
        load_ravdess(tmp_path, vocal_channel="sing")


# ---------------------------------------------------------------------------- TESS


def test_tess_nested_and_case_insensitive(tmp_path):
    base = tmp_path / "tess" / "TESS Toronto emotional speech set data"
    _wav(base / "OAF_angry" / "OAF_back_angry.wav")
    _wav(base / "OAF_Fear" / "OAF_bath_fear.wav")
    _wav(base / "YAF_pleasant_surprised" / "YAF_bean_ps.wav")
    _wav(base / "YAF_sad" / "YAF_dog_sad.wav")
    _wav(base / "YAF_sad" / "YAF_sad.wav")  # no word part: skipped
    _wav(base / "yaf_happy" / "yaf_read_happy.wav")
    data = load_tess(tmp_path)
    assert list(data.filenames) == sorted(data.filenames)
    rows = {
        Path(f).stem: (t, s, w)
        for f, t, s, w in zip(data.filenames, data.target, data.speaker, data.word)
    }
    assert rows == {
        "OAF_back_angry": ("anger", "OAF", "back"),
        "OAF_bath_fear": ("fear", "OAF", "bath"),
        "YAF_bean_ps": ("surprise", "YAF", "bean"),
        "YAF_dog_sad": ("sadness", "YAF", "dog"),
        "yaf_read_happy": ("happiness", "YAF", "read"),
    }
    assert set(data.gender) == {"female"}


# ---------------------------------------------------------------------------- SAVEE


def test_savee_fields(tmp_path):
    for spk, name in [
        ("DC", "a01"),
        ("JE", "sa03"),
        ("JK", "su15"),
        ("KL", "n30"),
        ("KL", "h02"),
        ("KL", "info"),
    ]:
        _wav(tmp_path / "savee" / "AudioData" / spk / f"{name}.wav")
    data = load_savee(tmp_path / "savee")
    assert data.target.tolist() == ["anger", "sadness", "surprise", "happiness", "neutral"]
    assert data.speaker.tolist() == ["DC", "JE", "JK", "KL", "KL"]
    assert data.sentence.tolist() == [1, 3, 15, 2, 30]
    assert set(data.gender) == {"male"}


# ---------------------------------------------------------------------------- CREMA-D


def test_cremad_gender_from_demographics(tmp_path):
    audio = tmp_path / "cremad" / "AudioWAV"
    for name in ["1001_DFA_ANG_XX", "1002_IEO_HAP_HI", "1003_TAI_NEU_LO", "1001_bad_name"]:
        _wav(audio / f"{name}.wav")
    data = load_cremad(tmp_path)
    assert data.gender.tolist() == ["unknown"] * 3
    (tmp_path / "cremad" / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n"
        "1002,21,Female,Caucasian,Not Hispanic\n"
    )
    data = load_cremad(tmp_path)
    assert data.target.tolist() == ["anger", "happiness", "neutral"]
    assert data.speaker.tolist() == ["1001", "1002", "1003"]
    assert data.gender.tolist() == ["male", "female", "unknown"]
    assert data.level.tolist() == ["unspecified", "high", "low"]
    assert data.sentence.tolist() == ["DFA", "IEO", "TAI"]


def test_cremad_nested_and_lfs_pointer(tmp_path):
    audio = tmp_path / "cremad" / "CREMA-D-master" / "AudioWAV"
    audio.mkdir(parents=True)
    (audio / "1001_DFA_ANG_XX.wav").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n"
    )
    with pytest.raises(FileNotFoundError, match="Git LFS pointer"):
        load_cremad(tmp_path)
    _wav(audio / "1001_DFA_ANG_XX.wav")
    assert load_cremad(tmp_path).target.tolist() == ["anger"]


# ---------------------------------------------------------------------------- IEMOCAP

_IEMOCAP_LINES = {
    "Ses01F_impro01": [
        ("Ses01F_impro01_F000", "neu"),
        ("Ses01F_impro01_M000", "ang"),
        ("Ses01F_impro01_F001", "exc"),
        ("Ses01F_impro01_M001", "fru"),
        ("Ses01F_impro01_F002", "xxx"),
        ("Ses01F_impro01_M002", "oth"),
    ],
    "Ses02M_script01_1": [("Ses02M_script01_1_F000", "sad"), ("Ses02M_script01_1_M003", "hap")],
}


def _iemocap(home: Path, skip_wav: str | None = None) -> Path:
    for dialog, utts in _IEMOCAP_LINES.items():
        session = home / "iemocap" / f"Session{int(dialog[3:5])}"
        lines = ["% header line", ""]
        for i, (utt, label) in enumerate(utts):
            lines.append(f"[{i}.5000 - {i + 1}.2500]\t{utt}\t{label}\t[2.5000, 3.0000, 3.5000]")
            lines.append("C-E1:\tNeutral;\t()")  # annotator lines are ignored
            if utt != skip_wav:
                _wav(session / "sentences" / "wav" / dialog / f"{utt}.wav")
        evaluation = session / "dialog" / "EmoEvaluation"
        evaluation.mkdir(parents=True, exist_ok=True)
        (evaluation / f"{dialog}.txt").write_text("\n".join(lines))
    return home / "iemocap"


def test_iemocap_default_four_classes(tmp_path):
    _iemocap(tmp_path)
    data = load_iemocap(tmp_path)
    labels = dict(zip(data.utterance, data.target))
    assert labels == {
        "Ses01F_impro01_F000": "neutral",
        "Ses01F_impro01_M000": "anger",
        "Ses01F_impro01_F001": "happiness",
        "Ses02M_script01_1_F000": "sadness",
        "Ses02M_script01_1_M003": "happiness",
    }
    speakers = dict(zip(data.utterance, data.speaker))
    assert speakers["Ses01F_impro01_M000"] == "Ses01M"
    assert speakers["Ses02M_script01_1_F000"] == "Ses02F"
    genders = dict(zip(data.utterance, data.gender))
    assert genders["Ses01F_impro01_M000"] == "male" and genders["Ses02M_script01_1_F000"] == (
        "female"
    )
    sessions = dict(zip(data.utterance, data.session))
    assert sessions["Ses02M_script01_1_M003"] == 2
    improvised = dict(zip(data.utterance, data.improvised))
    assert improvised["Ses01F_impro01_F000"] and not improvised["Ses02M_script01_1_F000"]
    assert np.allclose([data.valence[0], data.activation[0], data.dominance[0]], [2.5, 3.0, 3.5])
    assert data.start[0] < data.end[0]


def test_iemocap_label_settings(tmp_path):
    _iemocap(tmp_path)
    no_merge = load_iemocap(tmp_path, merge_excited=False)
    assert "Ses01F_impro01_F001" not in no_merge.utterance
    everything = load_iemocap(tmp_path, label_set="all", merge_excited=False)
    assert sorted(set(everything.target)) == [
        "anger",
        "excitement",
        "frustration",
        "happiness",
        "neutral",
        "other",
        "sadness",
    ]
    assert len(everything.target) == 7  # xxx dropped
    assert set(everything.target) <= set(EMOTIONS)
    only = load_iemocap(tmp_path, label_set="all", emotions=["frustration"])
    assert only.utterance.tolist() == ["Ses01F_impro01_M001"]
    with pytest.raises(ValueError, match="frustration"):
        load_iemocap(tmp_path, emotions=["frustration"])  # not in the 4-class setting
    with pytest.raises(ValueError, match="label_set"):
        load_iemocap(tmp_path, label_set="5class")


def test_iemocap_missing_wav_warns(tmp_path):
    _iemocap(tmp_path, skip_wav="Ses01F_impro01_M000")
    with pytest.warns(UserWarning, match="1 labelled IEMOCAP utterances"):
        data = load_iemocap(tmp_path)
    assert "Ses01F_impro01_M000" not in data.utterance and len(data.target) == 4


# ---------------------------------------------------------------------------- combine


def test_combine_intersection(tmp_path):
    _emodb(tmp_path)
    _emovo(tmp_path)
    emodb, emovo = load_emodb(tmp_path), load_emovo(tmp_path)
    both = combine_corpora([emodb, emovo])
    common = set(emodb.target) & set(emovo.target)
    assert set(both.target_names) == common
    assert "boredom" not in both.target and "surprise" not in both.target
    n = sum(t in common for t in emodb.target) + sum(t in common for t in emovo.target)
    assert len(both.filenames) == len(both.target) == len(both.speaker) == len(both.corpus) == n
    assert {s.split(":")[0] for s in both.speaker} == {"emodb", "emovo"}
    assert "emodb:03" in both.speaker and "emovo:f1" in both.speaker
    for f, c in zip(both.filenames, both.corpus):
        assert f"/{c}/" in f
    assert both.corpora == ["emodb", "emovo"]
    assert set(both.gender) == {"female", "male"}


def test_combine_mappings():
    a = make_emotional_speech(
        n_speakers=2,
        n_utterances=1,
        duration=0.3,
        random_state=0,
        emotions=("anger", "neutral", "sadness"),
    )
    b = make_emotional_speech(
        n_speakers=1,
        n_utterances=2,
        duration=0.3,
        random_state=1,
        emotions=("happiness", "neutral"),
    )
    flat = combine_corpora(
        {"a": a, "b": b},
        labels={"anger": "negative", "sadness": "negative", "happiness": "positive"},
    )
    assert Counter(flat.target) == {"negative": 4, "positive": 2}
    assert len(flat.data) == 6 and flat.original_target.tolist()[:2] == ["anger", "sadness"]
    per = combine_corpora(
        {"a": a, "b": b},
        labels={"a": {"neutral": "neutral"}, "b": {"neutral": "neutral", "happiness": None}},
    )
    assert per.target.tolist() == ["neutral"] * 4
    assert Counter(per.corpus) == {"a": 2, "b": 2}
    assert sorted(set(per.speaker)) == ["a:s01", "a:s02", "b:s01"]


def test_combine_errors():
    a = make_emotional_speech(
        n_speakers=1, n_utterances=1, duration=0.3, random_state=0, emotions=("anger",)
    )
    b = make_emotional_speech(
        n_speakers=1, n_utterances=1, duration=0.3, random_state=0, emotions=("sadness",)
    )
    with pytest.raises(ValueError, match="no label in common"):
        combine_corpora({"a": a, "b": b})
    with pytest.raises(ValueError, match="unique"):
        combine_corpora([a, b])  # both are named "synthetic"
    with pytest.raises(ValueError, match="labels must be"):
        combine_corpora({"a": a, "b": b}, labels="union")
    with pytest.raises(ValueError, match="not among the corpora"):
        combine_corpora({"a": a, "b": b}, labels={"c": {"anger": "anger"}})
    with pytest.raises(ValueError, match="No sample"):
        combine_corpora({"a": a, "b": b}, labels={"fear": "fear"})
    with pytest.raises(ValueError, match="empty"):
        combine_corpora([])


# ---------------------------------------------------------------------------- real corpora

needs_emodb = pytest.mark.skipif(
    not (SHARED / "emodb" / "wav").is_dir(), reason="EmoDB not in ../shared/data"
)
needs_emovo = pytest.mark.skipif(
    not (SHARED / "emovo").is_dir(), reason="EMOVO not in ../shared/data"
)


@pytest.mark.corpus
@needs_emodb
def test_real_emodb():
    data = load_emodb(SHARED)
    assert len(data.filenames) == 535
    assert len(set(data.speaker)) == 10
    assert Counter(data.target) == {
        "anger": 127,
        "boredom": 81,
        "neutral": 79,
        "happiness": 71,
        "fear": 69,
        "sadness": 62,
        "disgust": 46,
    }
    speakers_by_gender = {
        g: {s for s, gg in zip(data.speaker, data.gender) if gg == g} for g in ("female", "male")
    }
    assert speakers_by_gender == {
        "female": {"08", "09", "13", "14", "16"},
        "male": {"03", "10", "11", "12", "15"},
    }
    assert load_emodb(SHARED / "emodb").filenames.tolist() == data.filenames.tolist()


@pytest.mark.corpus
@needs_emovo
def test_real_emovo():
    data = load_emovo(SHARED)
    assert len(data.filenames) == 588
    assert sorted(set(data.speaker)) == ["f1", "f2", "f3", "m1", "m2", "m3"]
    assert Counter(data.target) == {
        e: 84 for e in ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
    }
    assert Counter(data.gender) == {"female": 294, "male": 294}


@pytest.mark.corpus
@needs_emodb
@needs_emovo
def test_real_combined():
    both = combine_corpora([load_emodb(SHARED), load_emovo(SHARED)])
    assert len(set(both.speaker)) == 16
    assert Counter(both.corpus) == {"emodb": 535 - 81, "emovo": 588 - 84}
