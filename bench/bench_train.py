"""Trained networks per second: ``nnft.train`` vs a hand-written JAX training loop (vmap + optax) of
the same ensemble, in one process, and the memory per network of each compiled step.

The job (both sides): a one-hidden-layer erf net (d = 1, width N, biases) in the NTK parameterisation,
full-batch SGD on ½Σ(f − y)² over M = 4 training inputs for ``steps`` steps, recording the outputs at
P = 4 test points, the loss and the empirical NTK on the 8 points at steps 0 and ``steps``; networks in
vmapped chunks of 64. nnft runs with ``linearised: false`` (no linearised twin), so the work is the same.
Ratio = nnft networks/s ÷ hand-written networks/s, warm (compiled steps reused), best of ``--repeat``
(issue 14 goal: ≥ 1, nnft adds no overhead); CPU ratio = the same from the process's CPU time
(``time.process_time``: steadier than the wall clock on a loaded machine). Memory per network: the compiled step's temporary and
argument bytes (``Compiled.memory_analysis``) ÷ the chunk.

    PYTHONPATH=. python bench/bench_train.py [--full] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import nnft

X = np.array([[-1.0], [-0.3], [0.4], [1.0]])
Y = np.sin(np.pi * X[:, 0] / 2)
T = np.array([[-0.6], [0.0], [0.6], [1.5]])
LR, SW, SB = 0.3, 1.0, 0.5


def spec(N: int, networks: int, steps: int) -> dict:
    return {"nnft": 1, "name": "bench-train", "dims": {"d": 1, "N": N},
            "constants": {"sigma_w": SW, "sigma_b": SB},
            "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "sigma_w / sqrt(d)"}}},
                       "b0": {"shape": ["N"], "density": {"normal": {"std": "sigma_b"}}},
                       "W1": {"shape": ["N"], "density": {"normal": {"std": "sigma_w / sqrt(N)"}}},
                       "b1": {"shape": [], "density": {"normal": {"std": "sigma_b"}}}},
            "field": "sum_N(W1 * erf(W0 @ x + b0)) + b1",
            "train": {"inputs": {"list": X.tolist()}, "targets": Y.tolist(), "test": {"list": T.tolist()},
                      "loss": "square", "lr": LR, "steps": steps, "record": [0, steps], "networks": networks,
                      "chunk": 64, "linearised": False}}


def hand_written(N: int, steps: int, chunk: int):
    """The same ensemble by hand: NTK parameterisation ω ~ N(0, 1), f = Σ σ_w/√N ω1 erf(σ_w ω0 x + σ_b β0) + σ_b β1."""
    opt = optax.sgd(LR)
    Z = jnp.asarray(np.concatenate([X, T]), jnp.float32)
    Xj, Yj = jnp.asarray(X, jnp.float32), jnp.asarray(Y, jnp.float32)

    def f(w, pts):
        h = jax.scipy.special.erf(SW * pts @ w["W0"].T + SB * w["b0"])      # (P, N)
        return h @ (SW / np.sqrt(N) * w["W1"]) + SB * w["b1"]

    def one(w):
        loss = lambda v: 0.5 * jnp.sum((f(v, Xj) - Yj) ** 2)

        def ntk(v):
            jac = jax.jacrev(lambda u: f(u, Z))(v)
            return sum(j.reshape(len(Z), -1) @ j.reshape(len(Z), -1).T for j in jax.tree.leaves(jac))

        def step(_, s):
            v, o = s
            upd, o = opt.update(jax.grad(loss)(v), o, v)
            return optax.apply_updates(v, upd), o

        th0 = ntk(w)
        out0 = f(w, Z)
        w1, _ = jax.lax.fori_loop(0, steps, step, (w, opt.init(w)))
        out1 = f(w1, Z)
        th1 = ntk(w1)
        return jnp.concatenate([out0, out1, th0.ravel(), th1.ravel(), (th1 - th0).ravel(),
                                jnp.stack([loss(w), loss(w1)])])

    @jax.jit
    def run(key):
        k = jax.random.split(key, 4)
        w = {"W0": jax.random.normal(k[0], (chunk, N, 1)), "b0": jax.random.normal(k[1], (chunk, N)),
             "W1": jax.random.normal(k[2], (chunk, N)), "b1": jax.random.normal(k[3], (chunk,))}
        return jax.vmap(one)(w)
    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    widths = [256, 2048] if not a.full else [256, 2048, 8192]
    networks, steps, chunk = (256, 50, 64) if not a.full else (2048, 200, 64)
    print(f"networks {networks}, steps {steps}, chunk {chunk}, M = 4, P = 4; warm, best of {a.repeat}")
    print(f"{'N':>6} {'nnft net/s':>12} {'hand net/s':>12} {'ratio':>7} {'CPU ratio':>10} {'nnft B/net':>12} "
          f"{'hand B/net':>12}")
    for N in widths:
        model = nnft.compile(nnft.from_dict(spec(N, networks, steps)))
        hand = hand_written(N, steps, chunk)
        nnft.train(model)                                          # compile
        jax.block_until_ready(hand(jax.random.key(0)))
        tn, th, cn, ch = [], [], [], []
        for r in range(a.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            nnft.train(model, seed=r + 1)
            tn.append(time.perf_counter() - t0)
            cn.append(time.process_time() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            for c in range(networks // chunk):
                np.asarray(hand(jax.random.key(1000 * r + c)))      # to the host, as nnft's features
            th.append(time.perf_counter() - t0)
            ch.append(time.process_time() - c0)
        fn = next(v for k, v in model.jit_cache.items() if isinstance(k, tuple) and k and k[0] == "train")
        with jax.enable_x64(True):
            rates = (LR, 0.9, 0.0)
            mem_n = fn.lower(jax.random.key(0), 0, rates, np.array([0, steps], np.int32)).compile().memory_analysis()
        mem_h = hand.lower(jax.random.key(0)).compile().memory_analysis()

        def per_net(m):
            return (m.temp_size_in_bytes + m.argument_size_in_bytes + m.output_size_in_bytes) / chunk if m else float("nan")
        rn, rh = networks / min(tn), networks / min(th)
        print(f"{N:>6} {rn:>12.1f} {rh:>12.1f} {rn / rh:>7.2f} {min(ch) / min(cn):>10.2f} {per_net(mem_n):>12.0f} "
              f"{per_net(mem_h):>12.0f}")


if __name__ == "__main__":
    main()
