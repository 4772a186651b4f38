"""Gradient descent of an ensemble of networks, vmapped over networks and streamed in chunks: per
network and recorded step, the features the time-dependent statistics are built from (docs/training.md).

Coordinates. The trainable parameters are those with a Gaussian density of constant std s_p > 0
(``nnft.estimators.ntk.trainable_scales``, the ones the NTK is defined for); the others stay at their
initial values. The optimiser moves coordinates ω_p with θ_p = c_p ω_p:

- ``ntk``:      c_p = s_p, so ω_p ~ N(0, 1) at initialisation: the 1/√n of W ~ N(0, σ²/n) sits in the
                forward pass (Jacot et al. arXiv:1806.07572; Les Houches arXiv:2309.01592 §2.3.3);
- ``standard``: c_p = 1, θ_p itself is trained;
- ``mup``/``abcd``: c_p, a per-parameter learning-rate factor r_p and a rescaled initial law
                (``nnft.training.abcd``: TASI arXiv:2408.00082 eq. 101-106).

The empirical NTK is the one of those coordinates, Θ̂(x, x') = Σ_p r_p ∂f(x)/∂ω_p · ∂f(x')/∂ω_p (in
``ntk``: Σ_p s_p² ∂f/∂θ_p ∂f/∂θ_p, as ``nnft.empirical_ntk``), so that gradient flow on
L = (c/2) Σ_α (f(x_α) − y_α)² gives df/dt = −η c Θ̂ (f − y) in every parameterisation.

Network ``i`` starts from the same θ as network ``i`` of ``nnft.measure`` with the same seed and dtype
(``Model.sample(key, n, start)``), whatever the chunk size. Network ``i`` is in jackknife block
``i·K // n`` (``nnft.sample.iid.work_list``).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from nnft.graph import ir
from nnft.graph.compile import Model

#: the Langevin noise's key stream: fold_in(seed key, NOISE_STREAM), then the network, the step, the parameter
#: (the parameters' initial values use fold_in(seed key, j) with j their index, far below it)
NOISE_STREAM = 1 << 30
#: the names of the per-network features at each recorded step, in order (F = their total size); the step
#: leaves ff, f3, f4 zero, the host forms them from f (``nnft.training.run``)
FEATURES = ("f", "ff", "f3", "f4", "ntk", "dntk", "dntk2", "dntk_fro2", "loss", "lin2")


@dataclass(frozen=True)
class Layout:
    """Where each feature sits in a recorded step's feature vector: name -> (slice, shape)."""

    P: int
    Q: int

    @property
    def parts(self) -> dict[str, tuple[slice, tuple]]:
        P, Q = self.P, self.Q
        shapes = {"f": (P,), "ff": (P, P), "f3": (P,), "f4": (P,), "ntk": (Q, Q), "dntk": (Q, Q), "dntk2": (Q, Q),
                  "dntk_fro2": (), "loss": (), "lin2": ()}
        out, at = {}, 0
        for name in FEATURES:
            size = int(np.prod(shapes[name], dtype=np.int64))
            out[name] = (slice(at, at + size), shapes[name])
            at += size
        return out

    @property
    def size(self) -> int:
        return sum(s.stop - s.start for s, _ in self.parts.values())


def coordinates(model: Model, parameterisation: str) -> dict[str, float]:
    """The trained parameters and their factors c_p (θ_p = c_p ω_p): s_p in ``ntk``, 1 in ``standard``.
    For ``mup``/``abcd`` the s_p (the trained set): their coordinates need the block and are made by
    :func:`chunk_step` (``nnft.training.abcd.coordinates``)."""
    from nnft.estimators.ntk import trainable_scales
    scales = {k: float(s) for k, s in trainable_scales(model).items() if float(s) > 0}
    return {k: 1.0 for k in scales} if parameterisation == "standard" else scales


def optimizer(name: str, lr, momentum, weight_decay, decay: bool):
    """The optax transformation: ``sgd`` (plain gradient descent), ``momentum`` (heavy ball β), ``adam``;
    with ``decay`` the L2 term (λ/2)Σω² of the loss (its gradient λω added before the optimiser). The
    rates may be traced values (one compilation serves every learning rate)."""
    import optax
    base = {"sgd": lambda: optax.sgd(lr),
            "momentum": lambda: optax.sgd(lr, momentum=momentum),
            "adam": lambda: optax.adam(lr)}[name]()
    if decay:
        return optax.chain(optax.add_decayed_weights(weight_decay), base)
    return base


def unchecked_field(model: Model, dtype, dots: bool = False):
    """(θ of one network, points (P, d)) -> φ_θ at the points, (P,), evaluated without the non-finite
    rule of ``Model.fields`` (which masks a point whose intermediate values were non-finite: ~35 % of a
    training step at N = 2048). Used for the gradient steps only: a non-finite value during training
    reaches the parameters and is caught at the next recorded step, where φ is evaluated with the rule."""
    from nnft.graph.evaluate import BATCH_AXES, align
    ev, pt = model._ev, BATCH_AXES[1]
    own = tuple(ir.axes(model.graph, ir.OUTPUT))

    def f(theta, pts):
        values = {ir.param_node(k): v for k, v in theta.items()}
        values[ir.INPUT] = pts.astype(dtype)
        axes = {ir.INPUT: (pt, "d")}
        ev.run(ev.needed([ir.OUTPUT], stop=set(values)), values, axes, dots=dots)
        out = align(values[ir.OUTPUT], axes.get(ir.OUTPUT, own), (pt,) + own)
        return jnp.broadcast_to(out, (pts.shape[0],) + out.shape[1:])
    return f


def network_features(model: Model, setup, coords: dict, dtype, rates, segments=None):
    """θ₀ of one network -> its features (T, F) (:class:`Layout` of P test and Q = M + P NTK points);
    ``rates`` = (lr, momentum, weight_decay[, temperature]), possibly traced; ``segments`` (T,) the steps
    between recorded steps (default from ``setup.record``), possibly traced.

    The network and, when ``setup.block.linearised``, its linearisation f_lin(ω) = f(ω₀) + J₀(ω − ω₀)
    (Lee et al. arXiv:1902.06720 eq. 6) are trained side by side with the same optimiser on the same loss.
    ``coords``: parameter -> ``nnft.training.abcd.Coord`` (c_p, r_p, ρ_p), or -> c_p (r = ρ = 1).
    """
    from nnft.training.abcd import Coord
    coords = {k: v if isinstance(v, Coord) else Coord(float(v)) for k, v in coords.items()}
    rate = {k: v.r for k, v in coords.items() if v.r != 1.0}             # per-parameter learning rates
    rho = {k: v.rho for k, v in coords.items() if v.rho != 1.0}          # rescaled initial laws
    coords = {k: v.c for k, v in coords.items()}
    lr, mom, wd, *temp = (jnp.asarray(v, dtype) for v in rates)
    langevin = setup.temperature > 0                       # rates = (lr, momentum, weight decay, T)
    opt = optimizer(setup.block.optimizer, lr, mom, wd, setup.weight_decay > 0)
    X = jnp.asarray(setup.X, dtype)
    Y = jnp.asarray(setup.Y, dtype)
    T = jnp.asarray(setup.test, dtype)
    Z = jnp.concatenate([X, T])                                   # NTK points: train, then test
    M = X.shape[0]
    c = setup.loss_factor
    logistic = setup.block.loss == "logistic"
    if segments is None:
        segments = np.diff(np.concatenate([[0], setup.record])).astype(np.int32)
    lin = setup.block.linearised
    raw = unchecked_field(model, dtype, dots=True)       # gradient steps: contractions as matrix products
    raw_ntk = unchecked_field(model, dtype)              # the NTK's Jacobian: written out (7× less memory)

    def one(theta0, noise_key=None):
        fixed = {k: v for k, v in theta0.items() if k not in coords}
        w0 = {k: (theta0[k] * jnp.asarray(rho[k], dtype) if k in rho else theta0[k]) / jnp.asarray(coords[k], dtype)
              for k in coords}

        def theta_of(w):
            return {**fixed, **{k: w[k] * jnp.asarray(coords[k], dtype) for k in coords}}

        def f(w, pts):                                   # with the non-finite rule: recorded values
            return model._evaluate(ir.OUTPUT, theta_of(w), pts, batched=False, points=True)

        def f_fast(w, pts):                              # without it: the gradient steps
            return raw(theta_of(w), pts)

        if lin:
            f0_all, jvp = jax.linearize(lambda w: f(w, Z), w0)

        def f_lin(w):
            return f0_all + jvp(jax.tree.map(jnp.subtract, w, w0))

        def loss_of(out):
            if logistic:                                  # Σ log(1 + e^{−y f}), y = ±1
                return jnp.sum(jax.nn.softplus(-Y * out[:M]))
            return 0.5 * c * jnp.sum((out[:M] - Y) ** 2)

        def scaled(upd):                                 # w_p moves at rate η r_p
            return {k: u * jnp.asarray(rate[k], dtype) if k in rate else u for k, u in upd.items()} if rate else upd

        def noise(k):
            """√(2 η r_p T) ξ_p for gradient step k: ξ from (the network's key, k, p) only."""
            at = jax.random.fold_in(noise_key, k)
            return {p: jnp.sqrt(2 * lr * temp[0] * jnp.asarray(rate.get(p, 1.0), dtype))
                    * jax.random.normal(jax.random.fold_in(at, j), w0[p].shape, dtype)
                    for j, p in enumerate(sorted(w0))}

        def step(_, state):
            w, s, wl, sl, *k = state
            g = jax.grad(lambda v: loss_of(f_fast(v, X)))(w)
            upd, s = opt.update(g, s, w)
            w = jax.tree.map(jnp.add, w, scaled(upd))
            if lin:
                gl = jax.grad(lambda v: loss_of(f_lin(v)))(wl)
                upd, sl = opt.update(gl, sl, wl)
                wl = jax.tree.map(jnp.add, wl, scaled(upd))
            if langevin:                                 # the same ξ for f and f_lin
                xi = noise(k[0])
                w, wl = jax.tree.map(jnp.add, w, xi), jax.tree.map(jnp.add, wl, xi)
                return w, s, wl, sl, k[0] + 1
            return w, s, wl, sl

        def ntk(w):
            # without the non-finite rule: a point whose intermediates overflowed has φ = NaN by the rule in
            # the recorded f(w, Z) at the same ω (test points' f, training points' loss), which stops the run
            jac = jax.jacrev(lambda v: raw_ntk(theta_of(v), Z))(w)
            total = 0.0
            for k in coords:
                J = jac[k].reshape(Z.shape[0], -1)
                total = total + (J @ J.T * jnp.asarray(rate[k], dtype) if k in rate else J @ J.T)
            return total

        ntk0 = ntk(w0)

        def record(w, wl, at_start):
            out = f(w, Z)
            ft = out[M:]
            # at step 0: ΔΘ = 0 and f − f_lin = 0 exactly; a cond (the predicate is not batched), so the
            # NTK is not evaluated again there
            th = jax.lax.cond(at_start, lambda v: ntk0, ntk, w)
            dth = th - ntk0
            lin2 = jnp.where(at_start, 0.0, jnp.mean((ft - f_lin(wl)[M:]) ** 2)) if lin else jnp.zeros((), dtype)
            # ff, f3, f4 are formed on the host, in float64 about a shift, from the recorded f (``nnft.training.run``):
            # in float32 here, E f² − (E f)² lost the variance below the rounding of f² (a negative Var f_t)
            zero = jnp.zeros((ft.shape[0],), dtype)
            feats = [ft, jnp.zeros((ft.shape[0] ** 2,), dtype), zero, zero, th.ravel(), dth.ravel(), (dth ** 2).ravel(),
                     jnp.sum(dth ** 2)[None], loss_of(out)[None], lin2[None]]
            return jnp.concatenate([jnp.ravel(a).astype(dtype) for a in feats])

        # one traced segment (a loop of traced length, then a record) scanned over the recorded steps:
        # the program is compiled once whatever the number of recorded steps (unrolled, compile time
        # grew with T: ~2 min for 11 recorded steps of a 16-wide net under load)
        def segment(state, seg_at):
            seg, at = seg_at
            state = jax.lax.fori_loop(0, seg, step, state)
            return state, record(state[0], state[2], at == 0)

        state = (w0, opt.init(w0), w0, opt.init(w0)) + ((jnp.zeros((), jnp.int32),) if langevin else ())
        segs = jnp.asarray(segments, dtype=jnp.int32)
        _, rows = jax.lax.scan(segment, state, (segs, jnp.cumsum(segs)))
        return rows

    return one


def chunk_step(model: Model, setup, coords: dict[str, float], chunk: int, dtype):
    """The jitted step of one chunk: (key, start) -> features (chunk, T·F) of networks start … start+chunk−1
    (float64; the caller drops the rows past the ensemble's end). Compiled once per model, data, recorded
    steps' count, optimiser, coordinates and chunk shape (kept in ``model.jit_cache``); the learning rate,
    momentum, weight decay, temperature and the recorded steps are traced arguments, so a learning-rate or
    steps sweep compiles once. With a temperature, network i's Langevin noise comes from
    fold_in(fold_in(key, NOISE_STREAM), i): the same for any chunk."""
    b = setup.block
    if b.parameterisation in ("mup", "abcd"):                # per-parameter c_p, r_p, ρ_p from the block
        from nnft.training.abcd import coordinates as scheme
        # a coordinate with r = ρ = 1 is c alone: abcd with the ntk (standard) exponents is then the same
        # program as ntk (standard), compiled once
        coords = {k: co.c if co.r == 1.0 and co.rho == 1.0 else co for k, co in scheme(model, b).items()}
    cache_key = ("train", setup.X.tobytes(), setup.Y.tobytes(), setup.test.tobytes(), len(setup.record),
                 setup.loss_factor, b.loss, setup.temperature > 0, b.optimizer, b.linearised, setup.weight_decay > 0,
                 tuple(sorted(coords.items())),
                 int(chunk), np.dtype(dtype).name)
    if cache_key not in model.jit_cache:
        def step(key, start, rates, segments):
            one = network_features(model, setup, coords, dtype, rates, segments)
            theta = model.sample(key, chunk, start, dtype)
            if setup.temperature > 0:                    # network i's noise from (seed, i): chunk-independent
                base = jax.random.fold_in(key, NOISE_STREAM)
                keys = jax.vmap(lambda i: jax.random.fold_in(base, i))(start + jnp.arange(chunk))
                return jax.vmap(one)(theta, keys).reshape(chunk, -1).astype(jnp.float64)
            return jax.vmap(one)(theta).reshape(chunk, -1).astype(jnp.float64)

        model.jit_cache[cache_key] = jax.jit(step)
    fn = model.jit_cache[cache_key]
    rates = (setup.lr, setup.momentum, setup.weight_decay) + ((setup.temperature,) if setup.temperature > 0 else ())
    segments = np.diff(np.concatenate([[0], setup.record])).astype(np.int32)
    return lambda key, start: fn(key, start, rates, segments)
