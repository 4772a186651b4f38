"""Local operators of a field and products of them as text: what :mod:`nnft.estimators.local` measures.

:class:`Operator` (a linear ∂…(c·φ), φ·φ or ∂φ·∂φ at a point), :func:`operator` (a name such as
``"d0 phi[1]"`` checked against the input dimension d and the D components) and :func:`parse_product`
(``"d0 phi(0.3) * phi(0.1)"`` -> points and operators). Plain numpy: no JAX, no sampling. The names are
importable from ``nnft.estimators.local`` too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from nnft.errors import InputError

__all__ = ["KINDS", "MAX_DERIVATIVES", "MAX_OPERATORS", "MAX_PRODUCT_CHARS", "Operator", "operator", "parse_product"]

#: highest number of derivatives of one operator
MAX_DERIVATIVES = 2
#: most distinct operators in one call
MAX_OPERATORS = 256

KINDS = ("linear", "phi^2", "(dphi)^2")


@dataclass(frozen=True)
class Operator:
    """A local operator of the field at a point.

    Attributes:
      kind: ``"linear"``: ∂_{μ₁}…∂_{μₖ}(c·φ)(x); ``"phi^2"``: Σ_a φ_a(x)²; ``"(dphi)^2"``: Σ_{μ,a} (∂_μφ_a(x))².
      derivs: the coordinates μ₁… differentiated (``linear`` only; at most :data:`MAX_DERIVATIVES`).
      direction: c, D numbers (``linear`` only): the operator is Σ_a c_a ∂…φ_a.
    """

    kind: str = "linear"
    derivs: tuple[int, ...] = ()
    direction: tuple[float, ...] = (1.0,)

    def label(self) -> str:
        """How the operator is written (``d0 phi[1]``, ``phi^2``, ``c·phi`` for a general direction)."""
        if self.kind != "linear":
            return self.kind
        c = np.asarray(self.direction)
        nz = np.flatnonzero(c)
        if len(c) == 1 and c[0] == 1.0:
            base = "phi"
        elif len(nz) == 1 and c[nz[0]] == 1.0:
            base = f"phi[{nz[0]}]"
        else:
            base = "(" + ",".join(f"{v:.3g}" for v in c) + ")·phi"
        return " ".join(f"d{m}" for m in self.derivs) + (" " if self.derivs else "") + base


_LINEAR = re.compile(r"^((?:d\d+\s+)*)phi(?:\[(\d+)\])?$", re.ASCII)


def operator(spec, d: int, D: int) -> Operator:
    """The :class:`Operator` ``spec`` names, checked against the input dimension d and D components.

    Args:
      spec: a name (``"phi"``, ``"phi[a]"``, ``"d0 d1 phi[a]"``, ``"phi^2"``, ``"(dphi)^2"``) or an Operator.
      d: the input dimension.
      D: the number of field components.

    Returns:
      the checked :class:`Operator`; not from a paper: parsing.

    Raises:
      InputError: an unknown operator, a derivative index ≥ d, a component ≥ D, a bare ``phi`` of a
        vector field (name a component), more than :data:`MAX_DERIVATIVES` derivatives, a direction
        of the wrong length or not finite.
    """
    if isinstance(spec, Operator):
        op = spec
    elif isinstance(spec, str):
        text = " ".join(spec.split())
        if text in ("phi^2", "(dphi)^2"):
            op = Operator(text, (), tuple([1.0] * D))
        else:
            m = _LINEAR.match(text)
            if not m:
                raise InputError(f"unknown local operator {spec!r}; write 'phi', 'phi[a]', 'd0 phi', 'd0 d1 phi[a]', "
                                 "'phi^2' or '(dphi)^2' (derivatives separated by spaces)")
            derivs = tuple(int(t[1:]) for t in m.group(1).split())
            if m.group(2) is None:
                if D != 1:
                    raise InputError(f"{spec!r}: the field has {D} components; name one, e.g. 'phi[0]'")
                c = (1.0,)
            else:
                a = int(m.group(2))
                if not 0 <= a < D:
                    raise InputError(f"{spec!r}: component {a} out of range 0..{D - 1}")
                c = tuple(float(i == a) for i in range(D))
            op = Operator("linear", derivs, c)
    else:
        raise InputError(f"a local operator is a string like 'd0 phi[1]' or an Operator, got {type(spec).__name__}")
    if op.kind not in KINDS:
        raise InputError(f"unknown operator kind {op.kind!r}; one of {', '.join(KINDS)}")
    if len(op.derivs) > MAX_DERIVATIVES:
        raise InputError(f"{op.label()}: at most {MAX_DERIVATIVES} derivatives")
    if any(not 0 <= m < d for m in op.derivs):
        raise InputError(f"{op.label()}: derivative index out of range 0..{d - 1} (d = {d})")
    c = np.asarray(op.direction, dtype=np.float64)
    if op.kind == "linear" and (c.shape != (D,) or not np.all(np.isfinite(c))):
        raise InputError(f"an operator's direction must be {D} finite numbers (one per component), got {op.direction}")
    return Operator(op.kind, tuple(int(m) for m in op.derivs), tuple(float(v) for v in c))


#: longest product text :func:`parse_product` reads
MAX_PRODUCT_CHARS = 2000
_FACTOR = re.compile(r"^\s*(.+?)\s*\(([^()]*)\)\s*$")
_NUMBER = re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$", re.ASCII)


def parse_product(text: str, d: int, D: int) -> tuple[np.ndarray, list[Operator]]:
    """A product of local operators at points, ``"d0 phi(0.3,-0.2) * d1 phi(-0.1,0.4)"``, as its points
    (n, d) and operators (factors separated by ``*``; each an operator of :func:`operator` followed by
    the point's d coordinates in parentheses; at most 8 factors).

    Args:
      text: the product.
      d: the input dimension.
      D: the number of field components.

    Returns:
      (points (n, d) float64, list of n :class:`Operator`); not from a paper: parsing.

    Raises:
      InputError: a malformed factor, a point with other than d finite coordinates, too many factors,
        or a bad operator (see :func:`operator`).
    """
    from nnft.estimators.npoint import MAX_ORDER
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_PRODUCT_CHARS:
        raise InputError(f"a correlator is a product like 'd0 phi(0.3) * phi(0.1)' (1..{MAX_PRODUCT_CHARS} characters)")
    factors = text.split("*")
    if len(factors) > MAX_ORDER:
        raise InputError(f"{text[:60]!r}: {len(factors)} factors (at most {MAX_ORDER})")
    pts, ops = [], []
    for f in factors:
        m = _FACTOR.match(f)
        if not m:
            raise InputError(f"{f.strip()[:60]!r}: write each factor as OPERATOR(x1,...,xd), e.g. 'd0 phi[1](0.2)'")
        try:
            x = [float(c) if _NUMBER.match(c) else float("x") for c in m.group(2).split(",")]
        except ValueError:
            raise InputError(f"{f.strip()[:60]!r}: coordinates must be numbers separated by commas") from None
        if len(x) != d or not np.all(np.isfinite(x)):
            raise InputError(f"{f.strip()[:60]!r}: a point needs {d} finite coordinate(s)")
        pts.append(x)
        ops.append(operator(m.group(1), d, D))
    return np.asarray(pts, dtype=np.float64), ops
