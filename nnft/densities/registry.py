"""The registered densities, by the name a spec gives them (``density: {normal: {std: ...}}``).

Every entry of :data:`nnft.spec.signatures.DENSITIES` has exactly one implementation here (a test
checks the two tables agree); arguments, constraints and defaults come from that table.
"""

from __future__ import annotations

from nnft.densities.ball import UniformBall
from nnft.densities.base import Density
from nnft.densities.discrete import Discrete, Rademacher
from nnft.densities.orthogonal import HaarOrthogonal
from nnft.densities.scalar import Cauchy, Exponential, Laplace, Normal, StudentT, Uniform
from nnft.errors import UnknownNameError, suggest


def _build() -> dict[str, Density]:
    ds = [
        Normal("normal", 0, "p(x) = exp(-(x-mean)^2 / (2 std^2)) / (std sqrt(2 pi))"),
        Uniform("uniform", 0, "p(x) = 1 / (high - low) for low <= x <= high, else 0"),
        UniformBall("uniform_ball", 1,
                    "p(w) = Gamma(d/2 + 1) / (pi^(d/2) radius^d) for |w| <= radius, else 0 "
                    "(d = size of the last axis)"),
        Cauchy("cauchy", 0, "p(x) = 1 / (pi scale (1 + ((x-loc)/scale)^2))"),
        StudentT("student_t", 0,
                 "p(x) = Gamma((df+1)/2) / (Gamma(df/2) sqrt(df pi) scale) "
                 "(1 + z^2/df)^(-(df+1)/2), z = (x-loc)/scale"),
        Laplace("laplace", 0, "p(x) = exp(-|x-loc| / scale) / (2 scale)"),
        Exponential("exponential", 0, "p(x) = rate exp(-rate (x-loc)) for x >= loc, else 0"),
        Rademacher("rademacher", 0, "P(x = -scale) = P(x = scale) = 1/2"),
        Discrete("discrete", 0, "P(x = v_i) = p_i, i = 1..4, p_1 + p_2 + p_3 + p_4 = 1"),
        HaarOrthogonal("haar_orthogonal", 2, "W = scale Q, Q Haar on the Stiefel manifold of the last two axes "
                       "(orthonormal columns if n >= m, rows otherwise)"),
    ]
    return {d.name: d for d in ds}


#: Density name -> the registered :class:`~nnft.densities.base.Density`.
DENSITIES: dict[str, Density] = _build()


def get_density(name: str) -> Density:
    """The registered density ``name``.

    Raises UnknownNameError (a KeyError) listing the known densities, with a suggestion."""
    try:
        return DENSITIES[name]
    except KeyError:
        hint = suggest(name, DENSITIES)
        raise UnknownNameError(f"unknown density {name!r}; known densities: {', '.join(DENSITIES)}"
                               + (f" (did you mean {hint!r}?)" if hint else "")) from None
