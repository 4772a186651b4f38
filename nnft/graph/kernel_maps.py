"""Kernel maps, one per op kind of the graph: how the infinite-width state of a node (NNGP K, NTK Θ
and what the node is: input, weight, Gaussian units, a pointwise function of them, ...) follows from
the states of its inputs. The interpreter is :func:`nnft.graph.kernels.kernels` (the recursions and
their sources are in its module docstring).

Beyond Gaussian weights and biases, two closed forms keep the shipped single-layer nets in reach:

- a per-point deterministic shift m(x) of Gaussian units u (``W0 @ x + b0 - c·|x|²``, kind ``dvec``
  for the shift itself) feeding ``exp``: E[e^{u+m₁} e^{v+m₂}] = e^{m₁+m₂+(k₁₁+k₂₂)/2+k₁₂} (Gaussian
  moment generating function; Gauss-net, TASI arXiv:2408.00082 eq. 61-62), or the linear readout
  (E[(u+m₁)(v+m₂)] = k₁₂ + m₁m₂); a shift equal at every point folds into any function;
- a uniform phase b ~ U[−π, π] per unit (kind ``phase``: a flat law on any interval of length 2π) added to Gaussian units under cos or sin:
  E_b cos(u+b) cos(v+b) = ½ cos(u−v), so E = ½ e^{−(k₁₁+k₂₂−2k₁₂)/2} cos(m₁−m₂), and the same for
  the derivatives (Cos-net, TASI arXiv:2408.00082 eq. 68-69). The phase is not trainable (not a
  Gaussian parameter), so it adds nothing to Θ.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import networkx as nx
import numpy as np

from nnft.analytic.gaussian import expect2_converged
from nnft.errors import KernelError
from nnft.functions import FUNCTIONS, piecewise_linear_kernel
from nnft.graph import ir


@dataclass(frozen=True)
class KState:
    """The infinite-width state of one graph node, what the kernel maps pass along (module docstring).

    K and T are (P, P) over the point set; per unit of the node's axes (the units are i.i.d.).

    Attributes:
      kind: ``det`` (the input), ``weight`` (a centred Gaussian parameter of constant std), ``gp``
        (Gaussian units), ``fgp`` (a pointwise function of one ``gp`` node), ``wsum`` (W ⊙ f(z)
        awaiting its sum), ``const``, or ``other`` (a parameter with no kernel map).
      axes: the node's named axes.
      K: det: the Gram matrix S = X Xᵀ; gp: the covariance K; fgp: K of its base; wsum: s²·E[f(u)f(v)] per unit.
      T: gp: the NTK Θ; fgp: Θ of its base; wsum: s²·E[f'(u)f'(v)]·Θ per unit.
      var: weight: s², the variance of its density.
      value: const: the number.
      f, df: fgp: the function of the base units and its derivative (numpy, elementwise).
      name: fgp: the grammar function applied directly to the ``gp`` (a closed-form kernel map may
        exist), else None.
      base: fgp: the node of the ``gp`` it is a function of.
      params: names of the parameters the value depends on.
      lead: gp/wsum: lead weights (each term is linear in one zero-mean weight found nowhere else in
        the term); None when the value is not known to have that form.
      mean: gp/fgp: a deterministic per-point shift m (P,) of the Gaussian units (module docstring).
      phase: gp/fgp: the units carry an independent uniform phase on [−π, π] (module docstring).
      vec: dvec: the per-point values (P,) of a deterministic function of x.
      lin: gp: (node, c) when the units are exactly c times the centred Gaussian units of ``node``
        (``-z``, ``a*z``), so that functions of both are functions of one Gaussian node; else None.
      slopes: fgp: (p, q) when f(u) = p·u for u > 0 and q·u for u < 0 of the base units (relu, abs,
        leaky_relu, ``maximum(z, a*z)``, ``relu(z) - a*relu(-z)``, their sums and scalings): the closed
        form ``nnft.functions.piecewise_linear_kernel``; else None.
      ntk_note: fgp: why E f'(u)f'(v) does not exist (a δ in f', as sign or step), else "".
      terms: gp/fgp: T split by trained parameter, name -> (P, P), summing to T (parameter p's term
        s_p² Σ ∂z/∂θ_p ∂z/∂θ_p of the NTK parameterisation); wsum: split of K + T (its readout weight's term
        is the K part). None: no parameter yet.
    """

    kind: str
    axes: tuple[str, ...] = ()
    K: np.ndarray | None = None
    T: np.ndarray | None = None
    var: float = 0.0
    value: float = 0.0
    f: Callable | None = None
    df: Callable | None = None
    name: str | None = None
    base: str | None = None
    params: frozenset = field(default_factory=frozenset)
    lead: frozenset | None = None
    mean: np.ndarray | None = None
    phase: bool = False
    vec: np.ndarray | None = None
    lin: tuple[str, float] | None = None
    slopes: tuple[float, float] | None = None
    ntk_note: str = ""
    terms: dict | None = None


def _terms(*parts) -> dict:
    """Sum of per-parameter term dicts (None: none), each part a dict or (dict, factor)."""
    out: dict = {}
    for part in parts:
        d, c = part if isinstance(part, tuple) else (part, 1.0)
        for k, v in (d or {}).items():
            out[k] = out[k] + c * v if k in out else c * v
    return out


def _name(w: KState) -> str:
    return next(iter(w.params))


# --- pointwise functions: value and derivative, composed ------------------------------------------
def _fn(name: str, direct: bool) -> tuple[Callable, Callable]:
    """(f, f') of a grammar function (``nnft.functions``) applied to a Gaussian (``direct``) or to a
    function of one (then the quadrature decides whether the Gaussian integrals exist)."""
    f = FUNCTIONS.get(name)
    if f is None or f.arity != 1:
        raise KernelError(f"no kernel map for the function {name!r}")
    if direct and not f.gaussian:
        raise KernelError(f"no kernel map for the function {name!r} of a Gaussian: "
                          + f.kernel_note.removeprefix("none: "))
    return f.numpy, f.df


def _pair_maps(s: KState) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit E[f(u)f(v)] and E[f'(u)f'(v)] for an fgp state over its base covariance."""
    K = s.K
    k11, k22 = np.diag(K)[:, None], np.diag(K)[None, :]
    m = np.zeros(len(K)) if s.mean is None else s.mean
    if s.phase:                                         # cos/sin(u + m + b), b ~ U[-π, π]
        F = 0.5 * np.exp(-(k11 + k22 - 2 * K) / 2) * np.cos(m[:, None] - m[None, :])
        return F, F.copy()
    if s.name == "linear":
        return K + np.outer(m, m), np.ones_like(K)
    if s.mean is not None and s.name != "exp":          # pragma: no cover - _fold handles the rest
        raise KernelError("a per-point shift of the Gaussian units has no kernel map here")
    closed = FUNCTIONS[s.name].kernel if s.name is not None else None
    if closed is None and s.slopes is not None and s.mean is None:
        closed = piecewise_linear_kernel(*s.slopes)
    if s.ntk_note:                                      # σ' has a δ: no NTK map (NaN), the NNGP map only
        F = closed.F(*np.broadcast_arrays(*(np.asarray(k, float) for k in (k11, k22, K)))) if closed is not None \
            else expect2_converged(s.f, s.f, k11, k22, K)
        if s.mean is not None:
            F = F * np.exp(m[:, None] + m[None, :])
        return F, np.full_like(F, np.nan)
    if closed is not None:
        k11, k22, K = np.broadcast_arrays(*(np.asarray(k, float) for k in (k11, k22, K)))
        if closed.both is not None:
            F, dF = closed.both(k11, k22, K)
        else:
            F, dF = closed.F(k11, k22, K), closed.dF(k11, k22, K)
        if s.mean is not None:                          # exp: E e^{u+m1} e^{v+m2} = e^{m1+m2} E e^u e^v
            shift = np.exp(m[:, None] + m[None, :])
            F, dF = F * shift, dF * shift
        return F, dF
    try:
        with np.errstate(all="ignore"):
            F = expect2_converged(s.f, s.f, k11, k22, K)
            dF = expect2_converged(s.df, s.df, k11, k22, K, tol=1e-6)
    except ValueError as err:
        raise KernelError(f"activation: {err}: no infinite-width kernel") from None
    return F, dF


# --- kernel maps, one per op kind --------------------------------------------------------------------
def _units(axes, dims) -> int:
    return int(np.prod([dims[a] for a in axes])) if axes else 1


def _as_fgp(s: KState, node: str) -> KState:
    if s.kind == "fgp":
        return s
    if s.kind == "gp":
        if s.phase:
            raise KernelError("Gaussian units with a uniform phase have a kernel map only under cos or sin")
        if s.lin is not None and s.mean is None:        # c·z: a function of z's units (base K = K/c²)
            n, c = s.lin
            return KState("fgp", s.axes, s.K / c ** 2, s.T / c ** 2, f=lambda u: c * u,
                          df=lambda u: np.full_like(u, c), base=n, params=s.params, slopes=(c, c),
                          terms=_terms((s.terms, 1 / c ** 2)))
        return KState("fgp", s.axes, s.K, s.T, f=lambda u: u, df=np.ones_like, name="linear", base=node,
                      params=s.params, mean=s.mean, slopes=(1.0, 1.0) if s.mean is None else None, terms=s.terms)
    raise KernelError(f"cannot treat a {s.kind} value as a function of a Gaussian")


def _fold(s: KState) -> KState:
    """An fgp without phase or mean: a shift equal at every point folds into f; others are refused."""
    if s.kind != "fgp":
        return s
    if s.phase:
        raise KernelError("a cos/sin of units with a uniform phase must feed the readout directly (no kernel map)")
    if s.mean is None:
        return s
    c = float(s.mean[0])
    if np.ptp(s.mean) > 1e-12 * (1 + abs(c)):
        raise KernelError("a shift of the Gaussian units that differs between points has a kernel map only "
                          "under exp or in the linear readout")
    f, df = s.f, s.df
    return replace(s, f=lambda u: f(u + c), df=lambda u: df(u + c), name=None, mean=None, slopes=None)


def _shifted(s: KState, m, sign: float = 1.0) -> KState:
    """Gaussian units plus a deterministic per-point shift m (scalar or (P,)); sign −1 negates the units."""
    base = np.zeros(len(s.K)) if s.mean is None else s.mean
    return replace(s, mean=sign * base + np.broadcast_to(np.asarray(m, float), base.shape))


def _dvec(op: str, a: KState, b: KState) -> KState:
    """Arithmetic of deterministic per-point values (and constants), and their shift of Gaussian units."""
    kinds = {a.kind, b.kind}
    if kinds <= {"dvec", "const"}:
        va, vb = (s.vec if s.kind == "dvec" else s.value for s in (a, b))
        ops = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power,
               "maximum": np.maximum, "minimum": np.minimum}
        return KState("dvec", vec=np.asarray(ops[op](va, vb), float))
    if op in ("add", "sub") and kinds == {"dvec", "gp"}:
        if a.kind == "gp":
            return _shifted(a, b.vec if op == "add" else -b.vec)
        return _shifted(b, a.vec, -1.0 if op == "sub" else 1.0)
    raise KernelError(f"no kernel map for {op} of a {a.kind} and a {b.kind} (a deterministic function of x "
                      "may only shift Gaussian units)")


def _scale(s: KState, c: float) -> KState:
    c2 = c * c
    if s.kind == "dvec":
        return replace(s, vec=s.vec * c)
    if s.kind == "gp" and s.phase:
        raise KernelError("scaling units with a uniform phase changes the phase's range (no kernel map)")
    if s.kind == "gp" or s.kind == "wsum":
        return replace(s, K=s.K * c2, T=s.T * c2, mean=None if s.mean is None else s.mean * c,
                       terms=_terms((s.terms, c2)))
    if s.kind == "weight":
        return replace(s, var=s.var * c2)
    if s.kind == "fgp":
        s = _fold(s)
        f, df = s.f, s.df
        return replace(s, f=lambda u: c * f(u), df=lambda u: c * df(u), name=None,
                       slopes=None if s.slopes is None else (c * s.slopes[0], c * s.slopes[1]))
    if s.kind == "det":
        return replace(s, K=s.K * c2)
    raise KernelError(f"cannot scale a {s.kind}")


def _elementwise(op: str, a: KState, b: KState, na: str, nb: str) -> KState:
    consts = [s.kind == "const" for s in (a, b)]
    if all(consts):
        raise KernelError("constant arithmetic should have been folded")  # pragma: no cover
    if "dvec" in (a.kind, b.kind):
        return _dvec(op, a, b)
    if op in ("add", "sub") and {a.kind, b.kind} == {"gp", "const"}:   # a shift equal at every point
        if a.kind == "gp":
            return _shifted(a, b.value if op == "add" else -b.value)
        return _shifted(b, a.value, -1.0 if op == "sub" else 1.0)
    if op in ("add", "sub") and {a.kind, b.kind} == {"gp", "phase"}:
        g, ph = (a, b) if a.kind == "gp" else (b, a)
        if g.phase or ph.axes != g.axes:
            raise KernelError(f"a uniform phase over {ph.axes} added to units over {g.axes} (no kernel map)")
        return replace(g, phase=True, params=g.params | ph.params, lead=None)
    if op in ("mul", "div") and any(consts):
        c = b.value if consts[1] else a.value
        other = a if consts[1] else b
        if op == "div" and consts[0]:
            return _function_binary(op, a, b, na, nb)
        return _scale(other, 1.0 / c if op == "div" else c)
    if op == "mul" and {a.kind, b.kind} == {"weight", "fgp"} or op == "mul" and {a.kind, b.kind} == {"weight", "gp"}:
        w, h = (a, b) if a.kind == "weight" else (b, a)
        hn = nb if a.kind == "weight" else na
        if w.axes != h.axes:
            raise KernelError(f"readout weight axes {w.axes} differ from the units' axes {h.axes}")
        fh = _as_fgp(h, hn)
        F, dF = _pair_maps(fh)
        return KState("wsum", h.axes, K=w.var * F, T=w.var * dF * fh.T, var=w.var, params=fh.params | w.params,
                      lead=_lead(w, fh), terms=_terms({_name(w): w.var * F}, (fh.terms, w.var * dF)))
    if op in ("add", "sub") and {a.kind, b.kind} == {"gp", "weight"}:
        g, w = (a, b) if a.kind == "gp" else (b, a)
        if not set(w.axes) <= set(g.axes):
            raise KernelError(f"bias axes {w.axes} are not among the units' axes {g.axes}")
        if w.params & g.params:
            raise KernelError("a bias that also appears in the units it is added to")
        mean = -g.mean if op == "sub" and g is b and g.mean is not None else g.mean
        return replace(g, K=g.K + w.var, T=g.T + w.var, params=g.params | w.params, mean=mean,
                       lead=None if g.lead is None else g.lead | w.params,
                       terms=_terms(g.terms, {_name(w): np.full(np.shape(g.T), w.var)}))
    if op in ("add", "sub") and a.kind == "gp" and b.kind == "gp":
        shared = a.params & b.params
        if shared and not (_uncorrelated(a, b) or _uncorrelated(b, a)):
            raise KernelError("adding two Gaussian terms that share parameters "
                              f"({', '.join(sorted(shared))}) and are not provably uncorrelated (no kernel map)")
        if shared and a.axes != b.axes:
            raise KernelError(f"adding Gaussian terms that share parameters over different axes {a.axes} and {b.axes}")
        if a.phase and b.phase:
            raise KernelError("adding two sets of units that both carry a uniform phase (no kernel map)")
        lead = None if a.lead is None or b.lead is None else a.lead | b.lead
        ma, mb = (np.zeros(len(a.K)) if s.mean is None else s.mean for s in (a, b))
        mean = None if a.mean is None and b.mean is None else ma + (mb if op == "add" else -mb)
        return replace(a, axes=tuple(dict.fromkeys(a.axes + b.axes)), K=a.K + b.K, T=a.T + b.T,
                       params=a.params | b.params, lead=lead, mean=mean, phase=a.phase or b.phase,
                       terms=_terms(a.terms, b.terms))
    return _function_binary(op, a, b, na, nb)


def _lead(w: KState, h: KState) -> frozenset | None:
    """Lead of W·h: the weight W, when W does not also appear in h."""
    return None if w.params & h.params else w.params


def _uncorrelated(a: KState, b: KState) -> bool:
    """Whether E[a b] = 0 (and the NTK cross terms vanish): every term of a is linear in a zero-mean
    weight that b does not depend on."""
    return a.lead is not None and not (a.lead & b.params)


def _function_binary(op: str, a: KState, b: KState, na: str, nb: str) -> KState:
    """Elementwise arithmetic of functions of one Gaussian node (and constants)."""
    fa = _fold(_as_fgp(a, na)) if a.kind in ("gp", "fgp") else None
    fb = _fold(_as_fgp(b, nb)) if b.kind in ("gp", "fgp") else None
    if (a.kind not in ("gp", "fgp", "const")) or (b.kind not in ("gp", "fgp", "const")):
        raise KernelError(f"no kernel map for {op} of a {a.kind} and a {b.kind}")
    if fa is not None and fb is not None and fa.base != fb.base:
        raise KernelError(f"{op} of functions of two different Gaussian nodes (no pointwise kernel map)")
    ref = fa or fb
    f1, d1 = (fa.f, fa.df) if fa else ((lambda u, c=a.value: np.full_like(u, c)), np.zeros_like)
    f2, d2 = (fb.f, fb.df) if fb else ((lambda u, c=b.value: np.full_like(u, c)), np.zeros_like)
    if op == "add":
        f, df = (lambda u: f1(u) + f2(u)), (lambda u: d1(u) + d2(u))
    elif op == "sub":
        f, df = (lambda u: f1(u) - f2(u)), (lambda u: d1(u) - d2(u))
    elif op == "mul":
        f, df = (lambda u: f1(u) * f2(u)), (lambda u: d1(u) * f2(u) + f1(u) * d2(u))
    elif op == "div":
        f, df = (lambda u: f1(u) / f2(u)), (lambda u: (d1(u) * f2(u) - f1(u) * d2(u)) / f2(u) ** 2)
    elif op == "pow":
        if fb is not None:
            raise KernelError("a power with a Gaussian exponent has no kernel map")
        p = b.value
        f, df = (lambda u: f1(u) ** p), (lambda u: p * f1(u) ** (p - 1) * d1(u))
    elif op in ("maximum", "minimum"):
        g = np.maximum if op == "maximum" else np.minimum
        f = lambda u: g(f1(u), f2(u))                                          # noqa: E731
        df = lambda u: np.where((f1(u) >= f2(u)) == (op == "maximum"), d1(u), d2(u))  # noqa: E731
    else:  # pragma: no cover
        raise KernelError(f"no kernel map for {op}")
    return KState("fgp", ref.axes, ref.K, ref.T, f=f, df=df, base=ref.base, params=ref.params,
                  slopes=_binary_slopes(op, fa, fb), ntk_note=(fa and fa.ntk_note) or (fb and fb.ntk_note) or "",
                  terms=ref.terms)


def _binary_slopes(op: str, fa: KState | None, fb: KState | None) -> tuple[float, float] | None:
    """Slopes (p, q) of a sum, difference, maximum or minimum of two piecewise linear functions of the same
    units (for u < 0, max(q₁u, q₂u) = min(q₁, q₂)·u); None otherwise."""
    if fa is None or fb is None or fa.slopes is None or fb.slopes is None:
        return None
    (p1, q1), (p2, q2) = fa.slopes, fb.slopes
    return {"add": (p1 + p2, q1 + q2), "sub": (p1 - p2, q1 - q2), "maximum": (max(p1, p2), min(q1, q2)),
            "minimum": (min(p1, p2), max(q1, q2))}.get(op)


def _compose_slopes(g: tuple[float, float] | None, f: tuple[float, float] | None) -> tuple[float, float] | None:
    """Slopes of g∘f for piecewise linear g, f (u > 0: f = p·u has the sign of p; u < 0: that of −q)."""
    if g is None or f is None:
        return None
    (pg, qg), (p, q) = g, f
    return ((pg if p > 0 else qg) * p, (pg if q < 0 else qg) * q)


def _map_fn(name: str, s: KState, node: str) -> KState:
    direct = s.kind == "gp"
    if direct and s.phase:
        if name not in ("cos", "sin"):
            raise KernelError(f"Gaussian units with a uniform phase have a kernel map only under cos or sin, not {name}")
        g, dg = _fn(name, True)
        return KState("fgp", s.axes, s.K, s.T, f=g, df=dg, name=name, base=node, params=s.params, mean=s.mean,
                      phase=True, terms=s.terms)
    if direct and s.mean is not None and name == "exp":
        return KState("fgp", s.axes, s.K, s.T, f=np.exp, df=np.exp, name="exp", base=node, params=s.params,
                      mean=s.mean, terms=s.terms)
    rec = FUNCTIONS.get(name)
    if direct and s.lin is not None and (rec is None or rec.slopes is None):
        s = replace(s, lin=None)                        # σ(c·z) keeps its own closed form over c·z's units
    fs = _fold(_as_fgp(s, node))
    g, dg = _fn(name, direct)
    direct = direct and s.mean is None and s.lin is None   # a closed form needs centred units of this node
    f, df = fs.f, fs.df
    note = fs.ntk_note or (rec.kernel.ntk_note if rec.kernel is not None else "")
    return replace(fs, f=lambda u: g(f(u)), df=lambda u: dg(f(u)) * df(u), name=name if direct else None,
                   slopes=_compose_slopes(rec.slopes, fs.slopes), ntk_note=note)


def _map_matmul(w: KState, h: KState, contract: tuple[str, ...], dims, hn: str) -> KState:
    if w.kind != "weight":
        w, h = h, w
    if w.kind != "weight":
        raise KernelError("'@' needs a Gaussian weight matrix on one side")
    if tuple(contract) != tuple(h.axes):
        raise KernelError(f"'@' must contract all of the units' axes {h.axes}, contracts {contract}")
    out = tuple(a for a in w.axes if a not in contract)
    if h.kind == "det":
        K = w.var * h.K
        return KState("gp", out, K=K, T=K.copy(), params=w.params, lead=w.params, terms={_name(w): K.copy()})
    fh = _as_fgp(h, hn)
    n = _units(h.axes, dims)
    F, dF = _pair_maps(fh)
    K = w.var * n * F
    return KState("gp", out, K=K, T=K + w.var * n * dF * fh.T, params=w.params | fh.params, lead=_lead(w, fh),
                  terms=_terms({_name(w): K}, (fh.terms, w.var * n * dF)))


def _map_reduce(s: KState, a: dict, dims) -> KState:
    if s.kind == "det" and a["reduce"] == "norm" and a["axis"] in s.axes:   # |x|, a deterministic function of x
        return KState("dvec", vec=np.sqrt(np.clip(np.diag(s.K), 0.0, None)))
    if a["reduce"] != "sum" or s.kind != "wsum":
        raise KernelError(f"no kernel map for {a['reduce']}_{a['axis']} of a {s.kind} (only sum_N(W * σ(z)))")
    n = dims[a["axis"]]
    out = tuple(x for x in s.axes if x != a["axis"])
    return KState("gp", out, K=n * s.K, T=n * s.K + n * s.T, params=s.params, lead=s.lead, terms=_terms((s.terms, n)))


def _map_rename(s: KState, axis: str, node: str) -> KState:
    """``as_M(e)``: the same units under another axis name (a function of it gets its own base)."""
    if s.kind in ("gp", "wsum"):
        return replace(s, axes=(axis,))
    if s.kind == "fgp":
        return replace(s, axes=(axis,), base=node)
    raise KernelError(f"no kernel map for renaming the axis of a {s.kind}")


def _param_state(g: nx.MultiDiGraph, node: str) -> KState:
    consts = ir.constant_args(g, node)
    from nnft.densities import get_density
    dens = get_density(ir.density(g, node))
    gauss = dens.gaussian(consts) if consts is not None else None
    params = frozenset({ir.name(g, node)})
    if consts is not None and dens.flat and dens.event_dims == 0:  # a flat law on one period (e.g. [−π, π])
        sup = dens.support(consts)
        if np.isfinite(sup.high - sup.low) and np.isclose(sup.high - sup.low, 2 * np.pi, rtol=1e-12, atol=0.0):
            return KState("phase", ir.axes(g, node), params=params)
    if gauss is None or gauss.mean != 0.0:               # only a centred Gaussian weight has a kernel map
        return KState("other", ir.axes(g, node), params=params)
    return KState("weight", ir.axes(g, node), var=gauss.std ** 2, params=params)


#: op -> kernel map (node attrs, input states, input node ids, dims) -> state
_MAPS: dict[str, Callable] = {
    "matmul": lambda a, s, n, dims: _map_matmul(s[0], s[1], a["contract"], dims, n[1] if s[0].kind == "weight" else n[0]),
    "reduce": lambda a, s, n, dims: _map_reduce(s[0], a, dims),
    "rename": lambda a, s, n, dims: _map_rename(s[0], a["axis"], n[0]),
    "neg": lambda a, s, n, dims: _scale(s[0], -1.0) if s[0].kind != "fgp" else _map_fn_neg(s[0]),
    **{op: (lambda op: lambda a, s, n, dims: _elementwise(op, s[0], s[1], n[0], n[1]))(op)
       for op in ("add", "sub", "mul", "div", "pow", "maximum", "minimum")},
}
KERNEL_MAPS: dict[str, Callable] = {
    op: (lambda op, m: lambda a, s, n, dims: _linear_origin(op, s, n, m(a, s, n, dims)))(op, m)
    for op, m in _MAPS.items()}


def _map_fn_neg(s: KState) -> KState:
    s = _fold(s)
    f, df = s.f, s.df
    return replace(s, f=lambda u: -f(u), df=lambda u: -df(u), name=None,
                   slopes=None if s.slopes is None else (-s.slopes[0], -s.slopes[1]))


def _linear_origin(op: str, states: list, nodes: list, out: KState) -> KState:
    """Mark Gaussian units made by scaling other centred units (``-z``, ``c*z``, ``z/c``) with ``lin``
    (the node they are a multiple of) and clear it on every other result."""
    if out.kind != "gp":
        return out
    src, c = None, None
    if op == "neg":
        src, c = 0, -1.0
    elif op in ("mul", "div") and len(states) == 2:
        kinds = [st.kind for st in states]
        if kinds == ["gp", "const"]:
            src, c = 0, (states[1].value if op == "mul" else 1.0 / states[1].value)
        elif kinds == ["const", "gp"] and op == "mul":
            src, c = 1, states[0].value
    base = states[src] if src is not None else None
    if base is None or base.kind != "gp" or base.mean is not None or base.phase or out.mean is not None \
            or not c or not np.isfinite(c):
        return replace(out, lin=None) if out.lin is not None else out
    origin, c0 = base.lin if base.lin is not None else (nodes[src], 1.0)
    return replace(out, lin=(origin, c0 * c))
