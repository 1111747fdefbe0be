"""The torch device an estimator's ``device`` parameter names, checked once for all."""

from __future__ import annotations


def resolve_device(device: str, owner: str) -> str:
    """``"auto"`` -> CUDA when available, else the CPU; any other name checked to exist.

    Parameters
    ----------
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or any other torch device name.
    owner : str
        The estimator asking, named in error messages.

    Returns
    -------
    device : str
        A device torch accepts here.

    Examples
    --------
    >>> from sklearn_ser._device import resolve_device
    >>> resolve_device("cpu", "SERClassifier")
    'cpu'
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise ValueError(
            f"{owner}: device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}."
        ) from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"{owner}: device={device!r} but CUDA is not available here; "
            "use device='auto' or 'cpu'."
        )
    return device
