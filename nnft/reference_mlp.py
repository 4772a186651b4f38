"""Analytic theory for fully-connected nets (``mlp:`` specs, plain or residual): G⁽²⁾ and G_c⁽⁴⁾.

An ``mlp:`` net is not a neuron sum of i.i.d. neurons (the last hidden layer's units share the layers
below), so the neuron-sum theorem of :mod:`nnft.reference` does not apply. What nnft knows instead,
per point tuple, each value labelled with the kind of theory it is (:data:`EXACT`, :data:`NNGP`,
:data:`LEADING`):

* **odd orders**: 0 exactly (the readout W⁽ᴸ⁺¹⁾ and bias b⁽ᴸ⁺¹⁾ are centred normals: φ → −φ);
* **G⁽²⁾(x, y)**: the infinite-width NNGP kernel from the graph's kernel map
  (``nnft.graph.kernels.nngp``; Lee et al. arXiv:1711.00165 eq. 4), which is *exact at every width*
  for one hidden layer, for linear activations (every layer is linear in the one below), and for
  ReLU at coincident points (E Σ⁽ˡ⁾ = C_b + (C_W/2) E Σ⁽ˡ⁻¹⁾, LH arXiv:2309.01592 Lemma 4.4); for a
  smooth activation at coincident points the O(1/n) shift δ is added (``finite_width.leading_order``,
  labelled leading order); otherwise it is the N → ∞ value, labelled NNGP (N→∞);
* **G_c⁽⁴⁾**: deep linear nets exactly at any widths and inputs (``finite_width.deep_linear_g4c``,
  LH arXiv:2309.01592 eq. 50-58); ReLU at one input exactly (3 Var Σ⁽ᴸ⁾, ``finite_width.relu_moments``);
  smooth activations at one input to leading order, 3κ4 (LH Thm 4.2, ``finite_width.leading_order``).

Asymptotic values carry an *allowance*: the size of what they neglect, stated per value
(:data:`ALLOWANCE_DOC`), to be added in quadrature to a Monte Carlo error before a z-score is read.
Where nnft has no formula the value is NaN and ``reasons`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnft.densities import get_density
from nnft.errors import EstimatorError, NnftError

__all__ = ["EXACT", "NNGP", "LEADING", "ALLOWANCE_DOC", "MLPInfo", "MLPTheory", "mlp_info", "mlp_theory"]

#: first-order perturbation theory with the exact finite-N coefficient c1(N) (``nnft.perturbation``)
PT1 = "1st-order PT"
EXACT = "exact"
NNGP = "NNGP (N→∞)"
LEADING = "leading order"

#: how the allowance of each non-exact kind is set (printed under a table that uses it)
ALLOWANCE_DOC = {
    NNGP: "NNGP (N→∞) neglects O(1/n): allowance (Σₗ 1/n_l)·|value|",
    LEADING: "leading order neglects the next order: allowance (Σₗ 1/n_l)·|1/n term| (+ (Σₗ 1/n_l)²·|G2|² terms)",
}


@dataclass(frozen=True)
class MLPInfo:
    """A fully-connected net read off an expanded ``mlp:`` theory.

    Attributes:
      depth: L, the number of hidden layers.
      widths: hidden widths (n_1 … n_L).
      activation: the activation's name (``linear`` for the identity), None for an expression.
      C_W: per weight matrix (L + 1 entries) variance × fan-in.
      C_b: per layer (L + 1 entries) bias variance (0 without biases).
      residual: skip connections (``mlp.residual``).
    """

    depth: int
    widths: tuple[int, ...]
    activation: str | None
    C_W: tuple[float, ...]
    C_b: tuple[float, ...]
    residual: bool

    @property
    def uniform(self) -> bool:
        """One C_W and one C_b for all layers (what ``nnft.analytic.finite_width`` takes)."""
        return len(set(self.C_W)) == 1 and len(set(self.C_b)) == 1

    @property
    def inverse_width(self) -> float:
        """Σₗ 1/n_l, the expansion parameter of the finite-width corrections."""
        return float(sum(1.0 / n for n in self.widths))


def mlp_info(model) -> MLPInfo | None:
    """The :class:`MLPInfo` of a compiled model whose theory is an expanded ``mlp:`` block, else None."""
    from nnft.spec import expr as E
    from nnft.spec.constants import evaluate_constants
    th = model.theory
    defs = [k for k in th.define if k.startswith("z") and k[1:].isdigit()]
    L = len(defs)
    if L == 0 or sorted(int(k[1:]) for k in defs) != list(range(1, L + 1)):
        return None
    names = {f"W{l}" for l in range(1, L + 2)} | {f"b{l}" for l in range(1, L + 2)}
    if not set(th.params) <= names or any(f"W{l}" not in th.params for l in range(1, L + 2)):
        return None
    try:
        env, _ = evaluate_constants(th)
        field = E.parse(th.field)
    except (NnftError, ValueError):
        return None
    if isinstance(field, E.BinOp) and field.op == "+":
        field = field.left
    if not (isinstance(field, E.Call) and field.func in ("sum", f"sum_{field.axis}") and field.axis is not None and isinstance(field.args[0], E.BinOp)
            and field.args[0].op == "*"):
        return None
    act_expr = field.args[0].right
    last = E.Name(f"z{L}")
    if act_expr == last:
        activation = "linear"
    elif isinstance(act_expr, E.Call) and act_expr.args == (last,) and act_expr.axis is None:
        activation = act_expr.func
    else:
        activation = None

    def var(p):             # the variance of a centred Gaussian parameter (the density's own fact)
        (kind, args), = th.params[p].density.items()
        law = get_density(kind).gaussian({a: float(E.evaluate_constant(E.parse(str(v)), env)) for a, v in args.items()})
        if law is None or law.mean != 0.0:
            raise EstimatorError(f"{p} is not a centred Gaussian parameter")
        return float(law.std) ** 2

    def tidy(v):            # sqrt(C_W/n)² · n is C_W up to rounding: keep 12 significant digits
        return float(f"{v:.12g}")

    try:
        widths = tuple(int(th.dims[th.params[f"W{l}"].shape[0]]) for l in range(1, L + 1))
        fans = (int(th.dims[th.params["W1"].shape[1]]),) + widths
        C_W = tuple(tidy(var(f"W{l}") * fans[l - 1]) for l in range(1, L + 2))
        C_b = tuple(tidy(var(f"b{l}")) if f"b{l}" in th.params else 0.0 for l in range(1, L + 2))
    except (KeyError, ValueError, IndexError, NnftError):
        return None
    # every preactivation must have the generated form W_l @ σ(z_{l-1}) [+ b_l] [+ γ as(z_{l-1})]
    residual = False

    def act_of(l):
        prev = E.Name("x") if l == 1 else E.Name(f"z{l - 1}")
        return prev if l == 1 or activation == "linear" else E.Call(activation, (prev,), None)

    for l in range(1, L + 1):
        try:
            ex = E.parse(th.define[f"z{l}"])
        except (NnftError, ValueError):
            return None
        terms = []
        while isinstance(ex, E.BinOp) and ex.op == "+":
            terms.append(ex.right)
            ex = ex.left
        terms.append(ex)
        terms.reverse()
        if terms[0] != E.BinOp("@", E.Name(f"W{l}"), act_of(l)) if activation else not (
                isinstance(terms[0], E.BinOp) and terms[0].op == "@" and terms[0].left == E.Name(f"W{l}")):
            return None
        for t in terms[1:]:
            if t == E.Name(f"b{l}"):
                continue
            if (l > 1 and isinstance(t, E.BinOp) and t.op == "*" and isinstance(t.right, E.Call)
                    and t.right.func == E.RENAME and t.right.args == (E.Name(f"z{l - 1}"),)):
                residual = True
                continue
            return None
    return MLPInfo(L, widths, activation, C_W, C_b, residual)


@dataclass(frozen=True)
class MLPTheory:
    """Theory values per tuple (arrays (T,); NaN where there is none, see ``reasons``).

    Attributes:
      full, connected: G⁽ⁿ⁾ and G_c⁽ⁿ⁾.
      kind_full, kind_connected: :data:`EXACT`, :data:`NNGP` or :data:`LEADING` per tuple (None: no value).
      allow_full, allow_connected: the stated allowance (0 for exact values).
      reasons: tuple index → why there is no value.
    """

    full: np.ndarray
    connected: np.ndarray
    kind_full: tuple
    kind_connected: tuple
    allow_full: np.ndarray
    allow_connected: np.ndarray
    reasons: dict


def _pairs(G, a, b, c, e):
    return G[a, b] * G[c, e] + G[a, c] * G[b, e] + G[a, e] * G[b, c]


def mlp_theory(model, tuples, info: MLPInfo | None = None) -> MLPTheory:
    """Theory for each point tuple of an ``mlp:`` net (module docstring).

    Args:
      model: a compiled ``mlp:`` theory.
      tuples: list of (n, d) point tuples.

    Raises:
      EstimatorError: the model is not a fully-connected ``mlp:`` net, or its kernel map fails.
    """
    from nnft.analytic import finite_width as fw
    from nnft.graph.kernels import nngp
    info = info or mlp_info(model)
    if info is None:
        raise EstimatorError(f"{model.theory.source}: not a fully-connected 'mlp:' net (no NNGP/finite-width theory)")
    tuples = [np.atleast_2d(np.asarray(t, dtype=np.float64)) for t in tuples]
    T = len(tuples)
    pts: list[np.ndarray] = []
    idx: dict[bytes, int] = {}
    for t in tuples:
        for p in t:
            if p.tobytes() not in idx:
                idx[p.tobytes()] = len(pts)
                pts.append(p)
    try:
        G = np.asarray(nngp(model, np.stack(pts)), dtype=np.float64)
    except NnftError as err:
        raise EstimatorError(f"no NNGP kernel for this net: {str(err).splitlines()[0]}") from None
    full, conn = np.full(T, np.nan), np.full(T, np.nan)
    af, ac = np.zeros(T), np.zeros(T)
    kf, kc = [None] * T, [None] * T
    reasons: dict[int, str] = {}
    eps = info.inverse_width
    linear = info.activation == "linear"
    relu = info.activation == "relu" and not info.residual
    smooth = (info.activation not in (None, "linear", "relu") and not info.residual and info.uniform)
    if smooth:
        from nnft.analytic.activations import ACTIVATIONS
        smooth = info.activation in ACTIVATIONS
    one_layer = info.depth == 1
    d = model.d
    cache: dict[bytes, tuple] = {}

    def one_input(x):
        """(E z², G_c4 at x, kind, allowance of E z², allowance of G_c4) at one input, or None."""
        key = x.tobytes()
        if key not in cache:
            K1 = info.C_b[0] + info.C_W[0] * float(x @ x) / d
            out = None
            try:
                if relu and info.uniform:
                    rm = fw.relu_moments(list(info.widths), C_W=info.C_W[1], C_b=info.C_b[1], K1=K1)
                    out = (rm.Ez2, 3 * rm.kappa4_lh, EXACT, 0.0, 0.0)
                elif smooth:
                    lo = fw.leading_order(info.activation, list(info.widths), C_W=info.C_W[1], C_b=info.C_b[1], K1=K1)
                    if info.C_W[0] != info.C_W[1] or info.C_b[0] != info.C_b[1]:
                        raise ValueError
                    g2, k4 = float(lo.G2[-1]), float(lo.kappa4_lh[-1])
                    out = (g2, 3 * k4, LEADING, eps ** 2 * abs(g2), eps * abs(3 * k4))
            except (NnftError, ValueError):
                out = None
            cache[key] = out
        return cache[key]

    for j, t in enumerate(tuples):
        n = len(t)
        ii = [idx[p.tobytes()] for p in t]
        if n % 2 == 1:
            full[j] = conn[j] = 0.0
            kf[j] = kc[j] = EXACT
            continue
        coincident = all(np.array_equal(p, t[0]) for p in t)
        if n == 2:
            g2, kind, a = G[ii[0], ii[1]], NNGP, eps * abs(G[ii[0], ii[1]])
            if linear or one_layer:
                kind, a = EXACT, 0.0
            elif coincident and one_input(t[0]) is not None:
                g2, _, kind, a, _ = one_input(t[0])
            full[j] = conn[j] = g2
            kf[j] = kc[j] = kind
            af[j] = ac[j] = a
            continue
        if n != 4:
            reasons[j] = f"no order-{n} theory for deep nets in nnft (G2 and G_c4 only)"
            continue
        pairs = _pairs(G, *ii)
        if linear and info.uniform and info.C_b[0] == 0.0:
            conn[j] = fw.deep_linear_g4c(t, C_W=info.C_W[0], widths=list(info.widths))
            full[j] = conn[j] + pairs
            kf[j] = kc[j] = EXACT
        elif coincident and one_input(t[0]) is not None:
            g2, gc4, kind, a2, a4 = one_input(t[0])
            if one_layer:           # z1 is exactly Gaussian: κ4 = C_W²/n Var[σ²] and δ = 0 are exact
                kind, a2, a4 = EXACT, 0.0, 0.0
            conn[j], full[j] = gc4, gc4 + 3 * g2 * g2
            kf[j] = kc[j] = kind
            ac[j], af[j] = a4, a4 + 6 * abs(g2) * a2
        elif info.residual:
            reasons[j] = "no finite-width G_c4 for residual nets in nnft (analytic/finite_width covers plain MLPs)"
        elif not coincident and not linear:
            reasons[j] = ("G_c4 at distinct inputs needs the O(1/n) four-point vertex V(x1..x4), which nnft has "
                          "at one input only (analytic/finite_width)")
        else:
            reasons[j] = ("the finite-width formulas take one C_W and C_b for all layers and a registry activation"
                          if info.activation is not None else "the activation is an expression, not a registry name")
    return MLPTheory(full, conn, tuple(kf), tuple(kc), af, ac, reasons)


def mlp_exact(model, tuples, widths=None) -> tuple[MLPTheory, tuple[str, ...], int]:
    """The theory of an ``mlp:`` net per tuple: (values, kind per tuple, last hidden
    width n_L). ``nnft.reference.exact`` wraps it in an ``Exact`` (labelled).

    A tuple with no theory has NaN values (its reason in ``reasons``) and kind ``"unavailable"``.

    Raises:
      EstimatorError: other widths asked (the NNGP is width-free, the 1/n terms are at the spec's widths),
        or no tuple with a theory (naming why for the first).
    """
    if widths is not None:
        raise EstimatorError("widths= is not available for an 'mlp:' net: its theory is at the spec's widths "
                             "(change them with nnft.load(spec, N=...))")
    info = mlp_info(model)
    th = mlp_theory(model, tuples, info)
    bad = [j for j in range(len(tuples)) if not (np.isfinite(th.full[j]) and np.isfinite(th.connected[j]))]
    if bad and len(bad) == len(tuples):
        raise EstimatorError(f"no theory for tuple {bad[0]} (order {len(tuples[bad[0]])}): "
                             f"{th.reasons.get(bad[0], 'not available')}")
    kf = [k if np.isfinite(v) else "unavailable" for k, v in zip(th.kind_full, th.full)]
    kc = [k if np.isfinite(v) else "unavailable" for k, v in zip(th.kind_connected, th.connected)]
    kinds = tuple(a if a == b else f"{a} / {b}" for a, b in zip(kf, kc))
    return th, kinds, int(info.widths[-1])
