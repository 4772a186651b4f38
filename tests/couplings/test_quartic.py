"""The quartic vertex λ_abcd = −Σ G⁻¹G⁻¹G⁻¹G⁻¹ G_c⁽⁴⁾ (arXiv:2307.03223 §3) of single-layer nets:
Monte Carlo against the vertex of nnft.exact's closed-form correlators (|z|), its 1/N scaling, locality."""

import dataclasses

import numpy as np
import pytest

import nnft
from nnft.action.lattice import sorted_tuples, tensor_index
from helpers import Z_MAX

X = np.array([[0.0, 0.0], [0.8, 0.0], [1.6, 0.0]])


def exact_vertex(model, X):
    """The vertex from nnft.exact's G2 and G_c4, contracted here with numpy.linalg.inv and einsum."""
    P = len(X)
    t2, t4 = sorted_tuples(P, 2), sorted_tuples(P, 4)
    th = nnft.exact(model, [X[list(t)] for t in t2] + [X[list(t)] for t in t4])
    c = th.connected[0]
    G = c[:len(t2)][tensor_index(P, 2)]
    C4 = c[len(t2):][tensor_index(P, 4)]
    H = np.linalg.inv(G)
    return -np.einsum("ai,bj,ck,dl,ijkl->abcd", H, H, H, H, C4)


def test_vertex_matches_exact_correlators():
    m = nnft.compile(nnft.load("cos_net", N=4))
    q = nnft.quartic_coupling(m, X, samples=60_000, key=2)
    lam = exact_vertex(m, X)
    assert np.all(lam[(0,) * 4] < 0)                     # leptokurtic neuron sum: λ < 0 in this convention
    assert np.abs(q.vertex.z(lam)).max() < Z_MAX
    assert np.abs(q.vertex.mean[(1,) * 4] / q.vertex.stderr[(1,) * 4]) > 10       # resolved, not just ~0
    for wrong in (2 * lam, -lam, 0 * lam):
        assert np.abs(q.vertex.z(wrong)).max() > Z_MAX
    # the theory column nnft couplings prints: the same exact vertex (deterministic), its z, a wrong theory fails
    np.testing.assert_allclose(q.theory, lam, rtol=1e-9, atol=0)
    assert "exact" in q.theory_note and "N = 4" in q.theory_note and np.abs(q.z).max() < Z_MAX
    assert np.abs(dataclasses.replace(q, theory=2 * lam).z).max() > Z_MAX
    text = q.table(width=200)
    assert any(line.split() == ["point", "a", "λ_aaaa", "theory", "z"] for line in text.splitlines())
    assert f"{lam[(0,) * 4]:.6g}" in text
    # symmetric tensor, locality profile 1 on the diagonal and decaying
    np.testing.assert_allclose(q.vertex.mean, np.transpose(q.vertex.mean, (1, 0, 3, 2)), rtol=1e-12)
    assert q.locality.mean[0] == pytest.approx(1.0) and q.locality.mean[-1] < q.locality.mean[0]
    # the locality profile of the exact vertex, written out here: RMS over tuples of each diameter / RMS diagonal
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    import itertools
    by_r = {}
    for idx in itertools.product(range(3), repeat=4):
        r = max(D[i, j] for i, j in itertools.combinations(idx, 2))
        by_r.setdefault(round(r, 9), []).append(lam[idx])
    prof = np.array([np.sqrt(np.mean(np.square(by_r[r]))) for r in sorted(by_r)]) / np.sqrt(np.mean(np.square(by_r[0.0])))
    np.testing.assert_allclose(q.radii, sorted(by_r), atol=1e-9)
    assert np.abs(q.locality.z(prof)[1:]).max() < Z_MAX
    assert np.abs(q.locality.z(prof ** 2)[1:]).max() > Z_MAX          # a profile decaying twice as fast fails
    assert q.mass_shift.shape == (3, 3)


@pytest.mark.slow
def test_vertex_scales_as_one_over_width():
    """G_c4 ∝ 1/N exactly for a neuron sum and G2 does not depend on N: log|λ_aaaa| vs log N has slope −1
    (weighted fit, |z| on the slope); slopes −2 and 0 fail."""
    widths = (2, 4, 8)
    pts = X[:2]
    y, s = [], []
    for i, N in enumerate(widths):
        q = nnft.quartic_coupling(nnft.compile(nnft.load("cos_net", N=N)), pts, samples=25_000, key=10 + i)
        v = q.vertex.mean[0, 0, 0, 0] + q.vertex.mean[1, 1, 1, 1]
        e = np.hypot(q.vertex.stderr[0, 0, 0, 0], q.vertex.stderr[1, 1, 1, 1])   # upper bound (correlated +)
        y.append(np.log(-v))
        s.append(e / -v)
    u = np.log(widths)
    A = np.stack([np.ones_like(u), u], 1) / np.array(s)[:, None]
    coef, *_ = np.linalg.lstsq(A, np.array(y) / np.array(s), rcond=None)
    err = np.sqrt(np.linalg.inv(A.T @ A)[1, 1])
    assert abs((coef[1] + 1) / err) < Z_MAX
    assert abs((coef[1] + 2) / err) > Z_MAX and abs(coef[1] / err) > Z_MAX


def test_ill_conditioned_g2_is_refused():
    from nnft.errors import EstimatorError
    m = nnft.compile(nnft.load("cos_net", N=4))
    with pytest.raises(EstimatorError, match="ill-conditioned") as err:
        nnft.quartic_coupling(m, [[0.0, 0.0], [1e-5, 0.0], [2e-5, 0.0]], samples=500, key=0)
    assert "truncate" not in str(err.value)          # the vertex takes no pseudo-inverse: no such advice


def test_bias_reported_and_noisy_g2_refused():
    """The jackknife bias estimate of λ̂ is reported (negligible here: < 0.5σ at 5k networks) and round-trips;
    a G2 measured from too few networks to invert is refused (not a vertex with a meaningless error)."""
    from nnft.errors import EstimatorError
    m = nnft.compile(nnft.load("cos_net", N=4))
    q = nnft.quartic_coupling(m, X, samples=5_000, key=4)
    assert q.bias is not None and q.bias.shape == (3,) * 4 and q.bias_ratio < 0.5
    assert "jackknife bias estimate" in q.table()
    with pytest.raises(EstimatorError, match="too noisy"):
        nnft.quartic_coupling(m, X, samples=20, key=0)


def test_convention_sign_and_four_factorial_at_tree_level():
    """The convention checked from its definition, no Monte Carlo: a two-site theory
    S = ½φᵀAφ + (1/4!) Σ λ_abcd φ_aφ_bφ_cφ_d with a small positive quartic form λ_abcd = ε Σ_k v_ka v_kb v_kc v_kd,
    its moments by quadrature on a grid. `vertex(G2, G_c4)` returns λ up to O(ε²) (λ/4!, 4!λ and −λ fail), and
    the tadpole `mass_shift` gives the quadratic term A = G⁻¹ + δ to the same order."""
    from nnft.action.quartic import QuarticCoupling, vertex
    from nnft.stats import Estimate
    rng = np.random.default_rng(0)
    A = np.array([[1.2, -0.3], [-0.3, 0.9]])
    V = rng.normal(size=(3, 2))
    eps = 2e-3
    lam = eps * np.einsum("ka,kb,kc,kd->abcd", V, V, V, V)
    g = np.linspace(-9, 9, 721)
    p1, p2 = np.meshgrid(g, g, indexing="ij")
    phi = np.stack([p1.ravel(), p2.ravel()], 1)                          # (M, 2)
    S = 0.5 * np.einsum("ma,ab,mb->m", phi, A, phi) + np.einsum("abcd,ma,mb,mc,md->m", lam, phi, phi, phi, phi) / 24
    w = np.exp(-(S - S.min()))
    w /= w.sum()
    G = np.einsum("m,ma,mb->ab", w, phi, phi)
    G4 = np.einsum("m,ma,mb,mc,md->abcd", w, phi, phi, phi, phi)
    C4 = G4 - (np.einsum("ab,cd->abcd", G, G) + np.einsum("ac,bd->abcd", G, G) + np.einsum("ad,bc->abcd", G, G))
    got = vertex(G, C4)
    scale = np.abs(lam).max()
    assert np.abs(got - lam).max() < 0.01 * scale                        # O(ε²) remainder: measured 0.06 %, ∝ ε
    for wrong in (-lam, lam / 24, 24 * lam):
        assert np.abs(got - wrong).max() > 0.5 * scale
    zeros = np.zeros((2,) * 4)
    q = QuarticCoupling(points=np.zeros((2, 1)), vertex=Estimate(got, zeros, 1), g2=Estimate(G, np.zeros((2, 2)), 1),
                        g4c=Estimate(C4, zeros, 1), condition=1.0, radii=np.zeros(1), locality=Estimate(np.ones(1), np.zeros(1), 1))
    shift = np.linalg.inv(G) - A                                          # = ½ λ·G at first order
    assert np.abs(-q.mass_shift - shift).max() < 0.01 * np.abs(shift).max()      # measured 0.04 %
    assert np.abs(q.mass_shift - shift).max() > 0.5 * np.abs(shift).max()   # the opposite sign fails
