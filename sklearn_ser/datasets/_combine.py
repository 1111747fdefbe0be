"""Pooling several corpora on a common label set, for multi-corpus training."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.utils import Bunch

__all__ = ["combine_corpora"]


def _named(datasets: Any) -> list[tuple[str, Any]]:
    if isinstance(datasets, Mapping):
        items = [(str(name), data) for name, data in datasets.items()]
    elif isinstance(datasets, Sequence) and not isinstance(datasets, str):
        items = []
        for i, data in enumerate(datasets):
            name = data.get("corpus") if isinstance(data, Mapping) else None
            if not isinstance(name, str):
                raise ValueError(
                    f"datasets[{i}] has no string 'corpus' field to name it; pass a dict "
                    "{name: dataset} instead."
                )
            items.append((name, data))
    else:
        raise TypeError(
            "datasets must be a sequence of bunches (as returned by the loaders) or a dict "
            f"{{name: bunch}}, got {type(datasets).__name__}."
        )
    if not items:
        raise ValueError("datasets is empty: pass at least one corpus.")
    names = [name for name, _ in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(
            f"Corpus names must be unique, got {duplicates!r} more than once; pass a dict "
            "{name: dataset} to name them."
        )
    for name, data in items:
        missing = [k for k in ("target", "speaker") if k not in data]
        if missing:
            raise ValueError(f"Dataset {name!r} lacks the field(s) {missing!r}.")
    return items


def _mapping_for(labels: Any, name: str, corpus_names: list[str]) -> Mapping[str, Any]:
    if not isinstance(labels, Mapping):
        raise TypeError(f"labels must be 'intersection' or a dict mapping labels, got {labels!r}.")
    per_corpus = labels and all(isinstance(v, Mapping) for v in labels.values())
    if not per_corpus:
        return labels
    unknown = sorted(set(labels) - set(corpus_names))
    if unknown:
        raise ValueError(
            f"labels has mappings for {unknown!r}, which are not among the corpora "
            f"{corpus_names!r}."
        )
    return labels.get(name, {})


def combine_corpora(datasets: Any, labels: Any = "intersection") -> Bunch:
    """Pool several emotional speech corpora on a common label set.

    As in multi-corpus training (e.g. Kim, Englebienne, Truong and Evers, "Towards
    speech emotion recognition 'in the wild' using aggregated corpora and deep multi-task
    learning", Interspeech 2017), samples from several corpora are pooled on labels they
    share. Speakers are prefixed with their corpus (``"emodb:03"``) so that speakers of
    different corpora never share a group in speaker-independent cross-validation.

    Parameters
    ----------
    datasets : sequence of Bunch or dict of str to Bunch
        Corpora as returned by the loaders (named by their ``corpus`` field), or a dict naming
        them. Each needs ``target`` and ``speaker`` and either ``filenames`` or ``data``
        (waveforms, as from :func:`make_emotional_speech`); ``gender`` is used if present.
    labels : "intersection" or dict, default="intersection"
        ``"intersection"`` keeps the labels every corpus has. A dict maps original labels to
        common ones, either for all corpora (``{"excitement": "happiness", ...}``) or per
        corpus (``{"emodb": {"boredom": "neutral", ...}, "emovo": {...}}``). Samples whose
        label is not in the mapping (or maps to None) are dropped; a corpus absent from a
        per-corpus mapping contributes nothing.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``filenames`` (or ``data``), ``target`` (common labels), ``target_names``,
        ``speaker`` (``"<corpus>:<speaker>"``), ``gender``, ``corpus`` (per-sample corpus
        name), ``original_target`` (the label before mapping), ``corpora`` (names, in
        order), ``DESCR``.

    Raises
    ------
    ValueError
        If names collide, the intersection is empty, nothing is left after mapping, or
        the corpora mix file names and waveforms.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.datasets import combine_corpora, make_emotional_speech
    >>> a = make_emotional_speech(n_speakers=2, n_utterances=1, duration=0.3, random_state=0,
    ...                           emotions=("anger", "neutral", "sadness"))
    >>> b = make_emotional_speech(n_speakers=2, n_utterances=1, duration=0.3, random_state=1,
    ...                           emotions=("anger", "happiness", "sadness"))
    >>> both = combine_corpora({"a": a, "b": b})
    >>> both.target_names.tolist()
    ['anger', 'sadness']
    >>> np.unique(both.speaker).tolist()
    ['a:s01', 'a:s02', 'b:s01', 'b:s02']
    >>> mapped = combine_corpora({"a": a, "b": b}, labels={"anger": "negative",
    ...                                                   "sadness": "negative",
    ...                                                   "happiness": "positive"})
    >>> mapped.target_names.tolist()
    ['negative', 'positive']
    """
    items = _named(datasets)
    names = [name for name, _ in items]
    if all("filenames" in data for _, data in items):
        x_key = "filenames"
    elif all("data" in data for _, data in items):
        x_key = "data"
    else:
        raise ValueError(
            "All datasets must have 'filenames' (corpus loaders) or all 'data' (waveforms); "
            f"got a mix among {names!r}."
        )

    if isinstance(labels, str):
        if labels != "intersection":
            raise ValueError(
                f"labels must be 'intersection' or a dict mapping labels, got {labels!r}."
            )
        common = set.intersection(*(set(np.asarray(d["target"]).tolist()) for _, d in items))
        if not common:
            raise ValueError(
                f"The corpora {names!r} have no label in common; pass labels= a mapping to "
                "common labels."
            )
        mappings = {name: {label: label for label in common} for name in names}
    else:
        mappings = {name: _mapping_for(labels, name, names) for name in names}

    X: list[Any] = []
    target, original, speaker, gender, corpus = [], [], [], [], []
    for name, data in items:
        y = np.asarray(data["target"]).astype(str)
        spk = np.asarray(data["speaker"]).astype(str)
        gen = np.asarray(data.get("gender", np.full(len(y), "unknown"))).astype(str)
        if not len(spk) == len(gen) == len(y) == len(data[x_key]):
            raise ValueError(f"Dataset {name!r} has fields of different lengths.")
        mapping = mappings[name]
        for i, label in enumerate(y):
            new = mapping.get(label)
            if new is None:
                continue
            X.append(data[x_key][i])
            target.append(str(new))
            original.append(label)
            speaker.append(f"{name}:{spk[i]}")
            gender.append(gen[i])
            corpus.append(name)
    if not target:
        raise ValueError(f"No sample of {names!r} has a label in the mapping {labels!r}.")

    out = Bunch(
        target=np.asarray(target, dtype=str),
        target_names=np.unique(target),
        speaker=np.asarray(speaker, dtype=str),
        gender=np.asarray(gender, dtype=str),
        corpus=np.asarray(corpus, dtype=str),
        original_target=np.asarray(original, dtype=str),
        corpora=names,
        DESCR=(
            f"Pooled corpora {', '.join(names)} on the labels "
            f"{', '.join(np.unique(target).tolist())} ({len(target)} samples)."
        ),
    )
    out[x_key] = np.asarray(X, dtype=str) if x_key == "filenames" else X
    return out
