"""Per-neuron analytic moments M_K(x_1..x_K) = E[ψ(x_1)…ψ(x_K)] for named neuron families.

A theory φ(x) = Σ_{i=1..N} v_i ψ_i(x) with (v_i, ψ_i) i.i.d. and v ⟂ ψ has joint cumulants
κ_n(φ(x_1)..φ(x_n)) = N κ_n(vψ(x_1)..vψ(x_n)) (docs/physics.md §0, TASI eq. 39, 50-51), so the readout
moments E[v^k] and the per-neuron moments M_K determine every correlator; e.g. G2 = N E[v²] M2.

Every family is a final subclass of :class:`NeuronReference`; ``NEURONS`` (in ``nnft.analytic``)
maps registry names to classes. Cosine families (b ~ U[−π, π]) share the identity (TASI eq. 65-66)

    M_K = A^K 2^{−K} Σ_{ε∈{±1}^K, Σε=0} E_w[F(w)^K cos(w·s_ε)],   s_ε = Σ_k ε_k x_k,

so each only supplies its "spectral average" E_w[F^K cos(w·s)].
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import ClassVar

import numpy as np

from nnft.errors import NnftError, suggest
from nnft.errors import NeuronArgError, QuadratureError  # noqa: F401 - defined in nnft.errors, importable here too

from . import _quad

_CONSTRAINTS = {
    "positive": (lambda v: v > 0, "positive (> 0)"),
    "nonnegative": (lambda v: v >= 0, "nonnegative (>= 0)"),
    "real": (lambda v: True, "real (finite)"),
}


#: most quadrature panels one radial integral may use (× GL_NODES nodes × point pairs, in memory)
MAX_PANELS = 20_000


def panel_count(rmax: float, scale: float, hmax: float) -> float:
    """An upper bound on the number of panels :func:`_quad.panel_breaks` makes (checked before any
    array is built): geometric growth from ``scale`` up to ``hmax``, then steps of ``hmax``."""
    if not rmax > 0:
        return 1.0
    if not (math.isfinite(rmax) and math.isfinite(hmax) and hmax > 0 and scale > 0):
        return math.inf
    grow = math.log2(max(min(hmax, rmax) / scale, 1.0)) + 2.0
    return grow + rmax / hmax + 1.0


def checked_breaks(name: str, rmax: float, scale: float, hmax: float) -> np.ndarray:
    """``_quad.panel_breaks(rmax, scale, hmax)`` after checking the panel count against MAX_PANELS."""
    n = panel_count(rmax, scale, hmax)
    if n > MAX_PANELS:
        raise NeuronArgError(f"{name}: the radial quadrature would need ~{n:.3g} panels (at most {MAX_PANELS}): "
                             f"the arguments or the distances between points are too large or too small for it "
                             f"(integration range {rmax:.3g}, oscillation/decay scale {hmax:.3g}, singularity "
                             f"distance {scale:.3g})")
    return _quad.panel_breaks(rmax, scale, hmax)


class NeuronReference:
    """Base: law of one neuron ψ(x). Subclasses are final.

    Subclasses set the class variables and implement ``_moment(points)`` for K ≥ 1 (points already
    validated, shape (K, d), K ≤ max_order).
    """

    name: ClassVar[str]
    args: ClassVar[dict[str, str]]
    defaults: ClassVar[dict[str, float]] = {}
    equation: ClassVar[str]
    max_order: ClassVar[int]
    dims: ClassVar[tuple[int, int] | None] = None

    def __init__(self, d: int, **args: float):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise NeuronArgError(f"{self.name}: input dimension d must be an integer >= 1, got {d!r}")
        if self.dims is not None and not (self.dims[0] <= d <= self.dims[1]):
            raise NeuronArgError(f"{self.name}: input dimension d={d} not allowed; "
                                 f"allowed d in [{self.dims[0]}, {self.dims[1]}]")
        self.d = int(d)
        allowed = ", ".join(f"{k} ({c})" for k, c in self.args.items())
        unknown = [k for k in args if k not in self.args]
        if unknown:
            hint = suggest(unknown[0], self.args)
            raise NeuronArgError(f"{self.name}: unknown argument(s) {unknown}; allowed: {allowed}"
                                 + (f"; did you mean {hint!r}?" if hint else ""))
        values = {**self.defaults, **args}
        missing = [k for k in self.args if k not in values]
        if missing:
            raise NeuronArgError(f"{self.name}: missing argument(s) {missing}; allowed: {allowed}")
        self.params: dict[str, float] = {}
        for k, constraint in self.args.items():
            try:
                v = float(values[k])
            except (TypeError, ValueError):
                raise NeuronArgError(f"{self.name}: argument {k}={values[k]!r} is not a number; "
                                     f"must be {_CONSTRAINTS[constraint][1]}") from None
            ok, desc = _CONSTRAINTS[constraint]
            if not (math.isfinite(v) and ok(v)):
                raise NeuronArgError(f"{self.name}: argument {k}={v!r} violates constraint: must be {desc}")
            self.params[k] = v
            setattr(self, k, v)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                self._setup()
        except (OverflowError, FloatingPointError, ZeroDivisionError) as err:
            raise NeuronArgError(f"{self.name}: arguments {self._args_text()} at d={self.d} are out of the numerically "
                                 f"representable range ({err})") from None

    def _setup(self) -> None:
        """Hook for subclasses (precomputation after validation)."""

    def _args_text(self) -> str:
        return ", ".join(f"{k}={v:g}" for k, v in self.params.items())

    def __repr__(self) -> str:
        a = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}(d={self.d}, {a})"

    def _points(self, points) -> np.ndarray:
        p = np.asarray(points, dtype=float)
        if p.ndim == 1 and self.d == 1:
            p = p[:, None]
        if p.ndim != 2 or p.shape[1] != self.d:
            raise NeuronArgError(f"{self.name}: points must have shape (K, d={self.d}), got {p.shape}")
        if p.shape[0] > self.max_order:
            raise NeuronArgError(f"{self.name}: order K={p.shape[0]} > max_order={self.max_order}")
        if not np.all(np.isfinite(p)):
            raise NeuronArgError(f"{self.name}: points must be finite")
        return p


    def moment(self, points: np.ndarray) -> float:
        """M_K = E[ψ(x_1)…ψ(x_K)] for points of shape (K, d) (K = 0 gives 1.0)."""
        p = self._points(points)
        if p.shape[0] == 0:
            return 1.0
        try:
            with np.errstate(over="ignore", under="ignore"):
                value = float(self._moment(p))
        except (OverflowError, FloatingPointError, ZeroDivisionError) as err:
            raise NeuronArgError(f"{self.name}: moment of order {p.shape[0]} overflows for {self._args_text()} "
                                 f"({err})") from None
        if not math.isfinite(value):
            raise NeuronArgError(f"{self.name}: moment of order {p.shape[0]} is not finite for {self._args_text()} "
                                 f"(arguments out of the representable range)")
        return value

    def _moment(self, points: np.ndarray) -> float:
        raise NotImplementedError

    @property
    def accuracy(self) -> float:
        """Stated absolute accuracy of :meth:`moment` (0.0 for closed forms)."""
        return 0.0

    def error_bound(self, points: np.ndarray) -> float:
        """Absolute error bound of ``moment(points)``; equals :attr:`accuracy` unless overridden."""
        return self.accuracy


# ----------------------------------------------------------------------------- cosine families

class _CosFamily(NeuronReference):
    """ψ = A F(w) cos(w·x + b), b ~ U[−π, π]; subclasses give ``_spectral(s, K)`` = E_w[F^K cos(w·s)]."""

    def _moment(self, points):
        k = points.shape[0]
        if k % 2:
            return 0.0  # b → b+π flips ψ (docs/physics.md §2)
        s = _quad.cos_product_terms(points)
        return self.amplitude ** k * 2.0 ** (1 - k) * float(np.sum(self._spectral(s, k)))


class CosNet(_CosFamily):
    """Cos-net neuron ψ = A cos(w·x + b), w ~ N(0, σ_w0²/d I): E_w cos(w·s) = exp(−σ_w0²|s|²/(2d))."""

    name = "cos_net"
    args = {"sigma_w0": "nonnegative", "amplitude": "real"}
    defaults = {"amplitude": 1.0}
    equation = "TASI eq. 68-71; docs/physics.md §2"
    max_order = 16

    def _spectral(self, s, k):
        return np.exp(-self.sigma_w0 ** 2 * np.sum(s * s, axis=1) / (2.0 * self.d))


class CauchyNet(_CosFamily):
    """d = 1 cosine neuron with w ~ Cauchy(0, m): E cos(ws) = e^{−m|s|}; G2 ∝ e^{−m|t|} (docs/physics.md §8)."""

    name = "cauchy_net"
    args = {"mass": "positive", "amplitude": "real"}
    defaults = {"amplitude": 1.0}
    equation = "docs/physics.md §8 (RP by construction, d = 1); TASI eq. 65-67"
    max_order = 16
    dims = (1, 1)

    def _spectral(self, s, k):
        return np.exp(-self.mass * np.abs(s[:, 0]))


class _RadialCosFamily(_CosFamily):
    """Isotropic w with F = (|w|² + m²)^{−1/2}: E_w[F^K cos(w·s)] = ∫ p(ρ)(ρ²+m²)^{−K/2} Ω_d(ρ|s|) dρ."""

    max_order = 6
    REL_ACC = 1e-10
    gl_nodes = _quad.GL_NODES

    def _radial(self) -> tuple[float, float]:
        """(ρ_max, ρ scale) of the radial density."""
        raise NotImplementedError

    def _density(self, rho):
        raise NotImplementedError

    def _spectral(self, s, k):
        r = np.sqrt(np.sum(s * s, axis=1))
        rmax, scale = self._radial()
        hmax = min(scale, math.pi / max(r.max(initial=0.0), 1e-300))
        rho, w = _quad.composite_nodes(checked_breaks(self.name, rmax, self.mass, hmax), self.gl_nodes)
        f = w * self._density(rho) * (rho ** 2 + self.mass ** 2) ** (-k / 2.0)
        return _quad.sphere_average(self.d, rho[None, :] * r[:, None]) @ f

    def _setup(self):
        # scale = max_K |A|^K E[F^K] bounds |M_K| and the integral of |integrand| of every term.
        ef = [abs(self.amplitude) ** k * self._spectral(np.zeros((1, self.d)), k)[0]
              for k in range(self.max_order + 1)]
        self._scale = max(ef)

    @property
    def accuracy(self):
        """REL_ACC × max_K |A|^K E[F^K] (verified in tests against a 2× refined quadrature)."""
        return self.REL_ACC * self._scale


class ScalarNet(_RadialCosFamily):
    """Scalar-net neuron ψ = A cos(w·x + b)/sqrt(|w|²+m²), w ~ Unif(B_Λ^d) (TASI eq. 72-73).

    With A² = 2 vol(B_Λ^d)/((2π)^d σ_w1²) and w1 ~ N(0, σ_w1²/N): G2 = σ_w1² M2 is the cutoff free
    propagator of docs/physics.md §3. Radial quadrature, radial density d ρ^{d−1}/Λ^d on [0, Λ].
    """

    name = "scalar_net"
    args = {"mass": "positive", "cutoff": "positive", "amplitude": "real"}
    defaults = {"amplitude": 1.0}
    equation = "TASI eq. 72-74 (with docs/physics.md §10 errata); docs/physics.md §3"

    def _radial(self):
        return self.cutoff, self.cutoff / 4.0

    def _density(self, rho):
        return self.d * rho ** (self.d - 1) / self.cutoff ** self.d


class ShapedNet(_RadialCosFamily):
    """Spectrum-shaped Euclidean input layer ψ = A cos(w·x+b)/sqrt(|w|²+m²), w ~ N(0, σ_w0²/d I).

    TASI eq. 65-67 with F(w) = (|w|²+m²)^{−1/2}; |w| = (σ_w0/√d) χ_d, integrated on [0, t(√d + 10)].
    """

    name = "shaped_net"
    args = {"sigma_w0": "positive", "mass": "positive", "amplitude": "real"}
    defaults = {"amplitude": 1.0}
    equation = "TASI eq. 65-67; docs/physics.md §2 (general F-net)"

    def _radial(self):
        t = self.sigma_w0 / math.sqrt(self.d)
        return t * (math.sqrt(self.d) + 10.0), t / 2.0

    def _density(self, rho):
        t = self.sigma_w0 / math.sqrt(self.d)
        x = rho / t
        logc = (1 - self.d / 2.0) * math.log(2.0) - math.lgamma(self.d / 2.0)
        return np.exp(logc + (self.d - 1) * np.log(np.maximum(x, 1e-300)) - x * x / 2.0) / t


class RPScalar(_CosFamily):
    """Reflection-positive free scalar (docs/physics.md §8), time = x[0].

    k ~ Unif(B_Λ^{d−1}) (no k for d = 1), ω = sqrt(|k|²+m²), p0 | k ~ Cauchy(0, ω),
    ψ = A cos(p0 x0 + k·x⃗ + b)/sqrt(ω). E_{p0|k} cos(p0 s0 + k·s⃗) = e^{−ω|s0|} cos(k·s⃗), so
    E_w[F^K cos(w·s)] = E_k[ω^{−K/2} e^{−ω|s0|} Ω_{d−1}(|k||s⃗|)] (radial quadrature for d ≥ 2;
    closed form for d = 1, where ``cutoff`` is unused). With A² = vol(B_Λ^{d−1})/((2π)^{d−1}σ_w1²),
    G2 = σ_w1² M2 = ∫_{|k|<Λ} d^{d−1}k/(2π)^{d−1} e^{ik·x⃗} e^{−ω|τ|}/(2ω).
    """

    name = "rp_scalar"
    args = {"mass": "positive", "cutoff": "positive", "amplitude": "real"}
    defaults = {"amplitude": 1.0}
    equation = "docs/physics.md §8 (RP by construction)"
    max_order = 6
    REL_ACC = 1e-10
    gl_nodes = _quad.GL_NODES

    def _spectral(self, s, k):
        m, n = self.mass, self.d - 1
        t = np.abs(s[:, 0])
        if n == 0:
            return m ** (-k / 2.0) * np.exp(-m * t)
        r = np.sqrt(np.sum(s[:, 1:] ** 2, axis=1))
        hmax = min(self.cutoff / 4.0, math.pi / max(r.max(initial=0.0), 1e-300),
                   2.0 / max(t.max(initial=0.0), 1e-300))
        rho, w = _quad.composite_nodes(checked_breaks(self.name, self.cutoff, m, hmax), self.gl_nodes)
        om = np.sqrt(rho ** 2 + m ** 2)
        f = (w * n * rho ** (n - 1) / self.cutoff ** n * om ** (-k / 2.0))[None, :]
        return np.sum(f * np.exp(-om[None, :] * t[:, None])
                      * _quad.sphere_average(n, rho[None, :] * r[:, None]), axis=1)

    def _setup(self):
        self._scale = max(abs(self.amplitude) ** k * self._spectral(np.zeros((1, self.d)), k)[0]
                          for k in range(self.max_order + 1))

    @property
    def accuracy(self):
        """0 for d = 1 (closed form); else REL_ACC × max_K |A|^K E[ω^{−K/2}]."""
        return 0.0 if self.d == 1 else self.REL_ACC * self._scale


# ----------------------------------------------------------------------------- Gauss-net

class GaussNet(NeuronReference):
    """Gauss-net neuron ψ = exp(w·x + b)/exp(σ_b0² + σ_w0²|x|²/d), w ~ N(0, σ_w0²/d I), b ~ N(0, σ_b0²).

    M_K = exp((K²/2 − K)σ_b0²) exp(σ_w0²/(2d)(|S|² − 2Σ_k|x_k|²)), S = Σ_k x_k (docs/physics.md §1).
    """

    name = "gauss_net"
    args = {"sigma_w0": "nonnegative", "sigma_b0": "nonnegative"}
    equation = "TASI eq. 60-64 (with docs/physics.md §10 erratum to eq. 64); docs/physics.md §1"
    max_order = 64

    def _moment(self, points):
        k = points.shape[0]
        S = points.sum(axis=0)
        q = S @ S - 2.0 * np.sum(points * points)
        return math.exp((k * k / 2.0 - k) * self.sigma_b0 ** 2 + self.sigma_w0 ** 2 * q / (2.0 * self.d))


# ----------------------------------------------------------------------------- MLP first layer

class _GaussianPreactivation(NeuronReference):
    """ψ = σ(w·x + b), w ~ N(0, weight_std² I), b ~ N(0, bias_std²): u_k ~ N(0, C),
    C_ij = bias_std² + weight_std² x_i·x_j (docs/physics.md §4 with C_W/n0 = weight_std², C_b = bias_std²)."""

    args = {"weight_std": "nonnegative", "bias_std": "nonnegative"}
    max_order = 4

    def cov(self, points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, dtype=float).reshape(-1, self.d)
        return self.bias_std ** 2 + self.weight_std ** 2 * (p @ p.T)


def _distinct(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``points`` (first-occurrence order) and their multiplicities."""
    uniq, idx, counts = np.unique(points, axis=0, return_index=True, return_counts=True)
    order = np.argsort(idx)
    return uniq[order], counts[order]


def _chi_moment(r: int, k: int) -> float:
    """E[R^k], R ~ chi_r: 2^{k/2} Γ((r+k)/2)/Γ(r/2)."""
    return 2.0 ** (k / 2.0) * math.exp(math.lgamma((r + k) / 2.0) - math.lgamma(r / 2.0))


def relu_arc_moment(L: np.ndarray, a, nodes: int = 16) -> float:
    """E[Π_j (l_j·z)_+^{a_j}], z ~ N(0, I_2), rows l_j of L (n×2), exactly (rank ≤ 2 covariances).

    Polar coordinates: = E[R^K]/(2π) ∫_arc Π_j |l_j|^{a_j} cos(φ − α_j)^{a_j} dφ, the arc being the
    intersection of the half-circles |φ − α_j| < π/2 (one interval of length ≤ π). The integrand is
    a trig polynomial of degree K, so Gauss–Legendre with ``nodes`` > K/2+1 is exact to rounding.
    """
    a = np.asarray(a, dtype=int)
    norms = np.linalg.norm(L, axis=1)
    if np.any(norms == 0.0):
        return 0.0
    al = np.arctan2(L[:, 1], L[:, 0])
    da = (al - al[0] + math.pi) % (2.0 * math.pi) - math.pi  # relative angles in [−π, π)
    lo, hi = float(np.max(da - math.pi / 2.0)), float(np.min(da + math.pi / 2.0))
    if hi <= lo:
        return 0.0
    t, w = _quad.gauss_legendre(nodes)
    phi = lo + (hi - lo) * t
    f = np.prod(np.cos(phi[None, :] - da[:, None]) ** a[:, None], axis=0)
    k = int(a.sum())
    return float(np.prod(norms ** a) * _chi_moment(2, k) * (hi - lo) * (w @ f) / (2.0 * math.pi))


def _cone_rays(L: np.ndarray) -> list[np.ndarray]:
    """Spherical simplices (rows = unit vertices) tiling cone {z : Lz ≥ 0} ∩ S^{r−1}, r = 3 or 4.

    Simplicial cones (n = r): the extreme rays are the columns of L^{−1}. n = 4 rows in r = 3: the
    extreme rays are the admissible ±l_i×l_j; the convex spherical polygon is fan-triangulated.
    """
    n, r = L.shape
    if n == r:
        V = np.linalg.inv(L).T
        return [V / np.linalg.norm(V, axis=1, keepdims=True)]
    assert r == 3, "only rank 3 needs a polygon"
    Ln = L / np.linalg.norm(L, axis=1, keepdims=True)
    verts: list[np.ndarray] = []
    for i in range(n):
        for j in range(i + 1, n):
            c = np.cross(Ln[i], Ln[j])
            nc = np.linalg.norm(c)
            if nc < 1e-12:
                continue
            for v in (c / nc, -c / nc):
                if np.all(Ln @ v >= -1e-12) and not any(np.linalg.norm(v - u) < 1e-9 for u in verts):
                    verts.append(v)
    if len(verts) < 3:
        return []  # the cone has empty interior
    V = np.array(verts)
    cen = V.mean(axis=0)
    cen /= np.linalg.norm(cen)
    e1 = V[0] - (V[0] @ cen) * cen
    e1 /= np.linalg.norm(e1)
    V = V[np.argsort(np.arctan2(V @ np.cross(cen, e1), V @ e1))]
    return [np.array([V[0], V[q], V[q + 1]]) for q in range(1, len(V) - 1)]


def _refine(simplices: list[np.ndarray], max_angle: float) -> list[np.ndarray]:
    """Longest-edge bisection (on the sphere) until every edge subtends ≤ max_angle."""
    out, todo = [], list(simplices)
    while todo:
        S = todo.pop()
        G = np.clip(S @ S.T, -1.0, 1.0)
        i, j = np.unravel_index(np.argmin(G), G.shape)
        if math.acos(G[i, j]) <= max_angle:
            out.append(S)
            continue
        m = S[i] + S[j]
        m /= np.linalg.norm(m)
        for q in (i, j):
            T = S.copy()
            T[q] = m
            todo.append(T)
    return out


@lru_cache(maxsize=None)
def _simplex_rule(r: int, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Collapsed (Duffy/Stroud) Gauss–Legendre rule on the standard (r−1)-simplex: barycentric
    coordinates (m, r) and weights (m,), exact for polynomials of degree ≤ 2·nodes − r."""
    t, w = _quad.gauss_legendre(nodes)
    grids = np.meshgrid(*([t] * (r - 1)), indexing="ij")
    u = np.stack([g.ravel() for g in grids], axis=1)
    wt = np.prod(np.stack(np.meshgrid(*([w] * (r - 1)), indexing="ij"), -1).reshape(-1, r - 1), axis=1)
    x = np.zeros((len(u), r))
    rest = np.ones(len(u))
    for q in range(r - 1):
        x[:, q + 1] = u[:, q] * rest
        wt = wt * rest
        rest = rest * (1.0 - u[:, q])
    x[:, 0] = rest
    return x, wt


def relu_cone_moment(L: np.ndarray, a, nodes: int = 8, max_angle: float = 0.5) -> float:
    """E[Π_j (l_j·z)_+^{a_j}], z ~ N(0, I_r), rows l_j of L (n×r), r = 3 or 4, L of rank r.

    Polar coordinates: = E[R^K] · |S^{r−1}|^{−1} ∫_P Π_j (l_j·θ)^{a_j} dΩ over the spherical
    polytope P = {Lz ≥ 0} ∩ S^{r−1}, tiled by spherical simplices refined to edges ≤ ``max_angle``.
    On each, θ = p/|p| with p = Σ λ_i v_i on the flat simplex, dΩ = |det V|/|p|^r dλ; the integrand
    Π_j(l_j·p)^{a_j}/|p|^{K+r} is smooth there and integrated by a collapsed Gauss–Legendre rule.
    Insensitive to the conditioning of L (thin cones are just small simplices).
    """
    a = np.asarray(a, dtype=int)
    k, r = int(a.sum()), L.shape[1]
    bary, wt = _simplex_rule(r, nodes)
    total = 0.0
    for V in _refine(_cone_rays(L), max_angle):
        p = bary @ V
        g = np.prod(np.clip(p @ L.T, 0.0, None) ** a[None, :], axis=1) / np.linalg.norm(p, axis=1) ** (k + r)
        total += abs(np.linalg.det(V)) * (wt @ g)
    area = 2.0 * math.pi ** (r / 2.0) / math.gamma(r / 2.0)
    return float(_chi_moment(r, k) * total / area)


def relu_orthant_moment(c: np.ndarray, a, panels: int = 6, nodes: int = 10, zmax: float = 9.0) -> float:
    """E[Π_j relu(u_j)^{a_j}], u ~ N(0, c) (n×n positive definite), by nested quadrature.

    u = L z (Cholesky, variables ordered so the last has the largest conditional variance). The
    first n−1 standard variables are integrated over their half-lines {u_j > 0} ∩ {z_j < zmax} by
    composite Gauss–Legendre (``panels`` × ``nodes``; integrands are smooth there), the last one
    analytically by :func:`_quad.halfnormal_moment`. Cost (panels·nodes)^{n−1}.
    """
    c = np.asarray(c, dtype=float)
    a = np.asarray(a, dtype=int)
    n = len(a)
    if n == 1:
        return float(_quad.halfnormal_moment(int(a[0]), np.zeros(1), math.sqrt(c[0, 0]))[0])
    cond = 1.0 / np.diag(np.linalg.inv(c)) / np.diag(c)  # relative conditional variances
    last = int(np.argmax(cond))
    order = [j for j in range(n) if j != last] + [last]
    c, a = c[np.ix_(order, order)], a[order]
    L = np.linalg.cholesky(c)
    t, w = _quad.gauss_legendre(nodes)
    t = ((np.arange(panels)[:, None] + t[None, :]) / panels).ravel()
    w = np.tile(w / panels, panels)
    z = np.zeros((1, 0))  # rows: quadrature points of the variables integrated so far
    weight = np.ones(1)
    for j in range(n - 1):
        mu = z @ L[j, :j]
        lo = -mu / L[j, j]
        span = np.clip(zmax - lo, 0.0, None)
        zj = lo[:, None] + span[:, None] * t[None, :]
        uj = mu[:, None] + L[j, j] * zj
        wj = span[:, None] * w[None, :] * np.exp(-0.5 * zj * zj) / math.sqrt(2 * math.pi) * uj ** a[j]
        z = np.concatenate([np.repeat(z, len(t), axis=0), zj.reshape(-1, 1)], axis=1)
        weight = (weight[:, None] * wj).ravel()
    mu = z @ L[n - 1, : n - 1]
    return float(weight @ _quad.halfnormal_moment(int(a[-1]), mu, L[n - 1, n - 1]))


class ReluLayer(_GaussianPreactivation):
    """First-layer ReLU neuron ψ = relu(w·x + b) (docs/physics.md §4).

    Let n = number of distinct points, a = multiplicities, C their preactivation covariance and
    r = rank C (eigenvalues below RANK_TOL·min_j C_jj are dropped: by Price's theorem this changes
    M_K by O(K² · dropped/min C_jj) relative, < 1e-10 here). Then, by cases:
    * n = 1: C^{K/2} 2^{K/2}Γ((K+1)/2)/(2√π) (K=1: sqrt(C/2π); K=4: 3C²/2), exact;
    * r ≤ 2 (e.g. any two points, or d = 1): exact polar arc formula :func:`relu_arc_moment`
      (reproduces the arc-cosine kernels J_1, J_2 of Cho & Saul 2009 for (1,1) and (2,2));
    * r = 3 or 4: spherical-simplex quadrature of the polar form, :func:`relu_cone_moment`
      (robust to near-degenerate C). :func:`relu_orthant_moment` is an independent nested
      quadrature used in the tests as a cross-check.
    The quadrature is computed at two resolutions (8 and 12 nodes per direction) which must agree
    within error_bound/10, else :class:`QuadratureError`.
    """

    name = "relu_layer"
    equation = "docs/physics.md §4; Cho & Saul 2009 arc-cosine kernels J_1, J_2"
    REL_ACC = 1e-9
    RANK_TOL = 1e-12

    @property
    def accuracy(self):
        """Absolute accuracy when every preactivation variance C_kk ≤ 1; see :meth:`error_bound`."""
        return self.REL_ACC

    def error_bound(self, points):
        """REL_ACC × max(1, max_k C_kk)^{K/2} (|M_K| ≤ Π_k (E relu(u_k)^K)^{1/K} ≤ 2 max C_kk^{K/2})."""
        p = self._points(points)
        c = np.diag(self.cov(p))
        return self.REL_ACC * max(1.0, float(np.max(c, initial=0.0))) ** (p.shape[0] / 2.0)

    def _moment(self, points):
        x, mult = _distinct(points)
        c = self.cov(x)
        if np.any(np.diag(c) <= 0.0):
            return 0.0  # ψ ≡ 0 at that point
        k = int(mult.sum())
        if len(mult) == 1:
            return float(_quad.halfnormal_moment(k, np.zeros(1), math.sqrt(c[0, 0]))[0])
        ev, U = np.linalg.eigh(c)
        keep = ev > self.RANK_TOL * np.min(np.diag(c))
        L = U[:, keep] * np.sqrt(ev[keep])
        r = L.shape[1]
        if r <= 2:
            return relu_arc_moment(np.pad(L, ((0, 0), (0, 2 - r))), mult)
        coarse, fine = relu_cone_moment(L, mult), relu_cone_moment(L, mult, nodes=12)
        if abs(fine - coarse) > self.error_bound(points) / 10.0:
            raise QuadratureError(f"relu_layer: quadrature not converged for rank {r} "
                                  f"({coarse!r} vs {fine!r}); covariance eigenvalues {ev}")
        return fine


def sign_moment4(sig: np.ndarray, nodes: int = 64) -> float:
    """E[sign(y1)sign(y2)sign(y3)sign(y4)], y ~ N(0, Σ), Σ 4×4 positive definite.

    Price's theorem along Σ(t) = D + t·offdiag(Σ) (E = 0 at t = 0):
    dE/dt = Σ_{i<j} Σ_ij · 4 p_ij(0,0) · (2/π) arcsin(ρ_{kl|ij}), with p_ij(0,0) =
    1/(2π sqrt(Σ_iiΣ_jj − t²Σ_ij²)) and ρ_{kl|ij} the conditional correlation of the complementary
    pair given y_i = y_j = 0. Gauss–Legendre in t (integrand analytic on [0, 1]).
    """
    t, w = _quad.gauss_legendre(nodes)
    D = np.diag(sig)
    total = np.zeros_like(t)
    for (i, j), (k, l) in [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2)),
                           ((2, 3), (0, 1)), ((1, 3), (0, 2)), ((1, 2), (0, 3))]:
        sij = t * sig[i, j]
        det = D[i] * D[j] - sij ** 2
        # Schur complement of (k, l) given (i, j), at every t
        a = np.stack([t * sig[k, i], t * sig[k, j]], -1)
        b = np.stack([t * sig[l, i], t * sig[l, j]], -1)
        inv = np.stack([np.stack([D[j] + 0 * t, -sij], -1), np.stack([-sij, D[i] + 0 * t], -1)], -2) / det[:, None, None]
        quad = lambda u, v: np.einsum("ta,tab,tb->t", u, inv, v)
        vkk = D[k] - quad(a, a)
        vll = D[l] - quad(b, b)
        vkl = t * sig[k, l] - quad(a, b)
        rho = np.clip(vkl / np.sqrt(vkk * vll), -1.0, 1.0)
        total += sig[i, j] * 4.0 / (2.0 * math.pi * np.sqrt(det)) * (2.0 / math.pi) * np.arcsin(rho)
    return float(w @ total)


class ErfLayer(_GaussianPreactivation):
    """First-layer erf neuron ψ = erf(w·x + b) (docs/physics.md §4).

    erf(u) = E_η[sign(u − η)], η ~ N(0, ½) independent per factor, so E[Π_k erf(u_k)] =
    E[Π_k sign(y_k)] with y ~ N(0, C + I/2) (always nonsingular). Odd K: 0 (erf odd, u symmetric).
    K=2: (2/π) arcsin(2C12/sqrt((1+2C11)(1+2C22))). K=4: Price's-theorem path integral
    (:func:`sign_moment4`), computed with 64 and 128 nodes and checked to agree within ``accuracy``.
    """

    name = "erf_layer"
    equation = "docs/physics.md §4 (erf kernel); Price's theorem for K = 4"
    accuracy_abs = 1e-10

    @property
    def accuracy(self):
        return self.accuracy_abs

    def _moment(self, points):
        k = points.shape[0]
        if k % 2:
            return 0.0
        sig = self.cov(points) + 0.5 * np.eye(k)
        if k == 2:
            return (2.0 / math.pi) * math.asin(sig[0, 1] / math.sqrt(sig[0, 0] * sig[1, 1]))
        coarse, fine = sign_moment4(sig, 64), sign_moment4(sig, 128)
        if abs(fine - coarse) > self.accuracy_abs:
            raise QuadratureError(f"erf_layer: K=4 path integral not converged ({coarse!r} vs {fine!r})")
        return fine


FAMILIES: tuple[type[NeuronReference], ...] = (
    CosNet, GaussNet, ScalarNet, CauchyNet, RPScalar, ReluLayer, ErfLayer, ShapedNet)
