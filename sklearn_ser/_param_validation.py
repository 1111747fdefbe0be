"""The parameter-constraint classes of the package, in one place.

scikit-learn's ``_parameter_constraints`` tables and ``@validate_params`` accept constraint
objects; these add what its own cannot say: a count that is not a boolean (:class:`Int`),
any predicate with a description (:class:`Satisfies`), a class derived from a base
(:class:`SubclassOf`). The two predicate-based ones derive from scikit-learn's
``HasMethods`` only so that its validation accepts them as constraint objects.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval

__all__ = ["Int", "Satisfies", "SubclassOf"]


class Int(Interval):
    """``Interval(Integral, left, right)`` that, unlike scikit-learn's, rejects booleans.

    A parameter constraint for counts (frames, bins, samples): ``True`` is not a count.
    """

    def __init__(self, left: int | None, right: int | None = None, *, closed: str = "left"):
        super().__init__(numbers.Integral, left, right, closed=closed)

    def is_satisfied_by(self, val: Any) -> bool:
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


class Satisfies(HasMethods):
    """Parameter constraint given by a predicate and the description of what it accepts.

    For what scikit-learn's constraint types cannot say (a floating dtype, a whole number
    of Hz, a sequence of names).
    """

    def __init__(self, predicate: Callable[[Any], bool], description: str):
        super().__init__([])
        self.predicate = predicate
        self.description = description

    def is_satisfied_by(self, val: Any) -> bool:
        try:
            return bool(self.predicate(val))
        except (TypeError, ValueError):
            return False

    def __str__(self) -> str:
        return self.description


class SubclassOf(Satisfies):
    """Parameter constraint: a class derived from ``base`` (e.g. a torch.nn.Module class)."""

    def __init__(self, base: type, description: str):
        super().__init__(lambda val: isinstance(val, type) and issubclass(val, base), description)
        self.base = base
