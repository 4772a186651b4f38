"""Evaluating the graph in JAX: values with named axes, batches, and the non-finite rule.

Values carry named axes: every node's array is laid out in the order of its ``axes`` attribute,
and operations align operands by axis name (elementwise ops broadcast, ``@`` contracts the shared
axes). ``Evaluator`` evaluates the graph for *one* network θ and *one* point x, or once on whole
batches: a batched value's array has the leading axes ``#networks`` and/or ``#points``
(:data:`BATCH_AXES`) before its node's axes, so XLA fuses the elementwise chain of the field (e.g.
W0·x + b → cos → ·W1) into one loop. Short contractions (``W0 @ x`` over d ≤ :data:`SMALL_CONTRACTION`
terms) are written out as products and sums, longer ones are ``einsum``.

Non-finite values: any non-finite operation value of a network at a point makes φ NaN there, never
masked. Values from which a non-finite entry surely reaches φ (through +, −, ·, a numerator, @, sums,
cos, log, sqrt, abs...: :data:`_PROPAGATES`) are not checked one by one; an elementwise operation that
could swallow one (relu, erf, tanh, maximum, a denominator...) is guarded instead, NaN wherever such an
input is non-finite (a select in the same fused loop: ``Evaluator.guards``); the rest (e.g. values
feeding an index) and φ itself are checked (``Evaluator.unchecked``). The readout Σ_N a·b
(``run(readout=True)``) is written out in the activation's fused loop: whole for N ≤ :data:`WRITTEN_OUT`,
else folded into ≤ :data:`MAX_FOLD` slabs whose sums (an array ≥ 8× smaller than the (…, N) activation)
a matrix product adds up; a plain matrix product for a prime N. On XLA:CPU a multiply-and-reduce became a
library call that stored the activation (64 MB at 256 Cos-nets × 64 points × N = 1000) or ran erf/exp
outside XLA's vectorised loops: several times slower (bench/bench_field.py). The written-out order
depends on N only; the matrix product's own order is XLA's (on XLA:CPU here a network's φ had the same
bits in batches of 1 to 300 networks; the numbers contract asks that only at a given chunk).

float32 cos/sin/tan are ``nnft.fastmath``'s vectorised polynomials (accuracy stated and tested
there), fused with their neighbours; an argument outside their fast domain (|x| > 65536, ±inf) gives
NaN, and a NaN in the result makes the whole evaluation be redone once with JAX's exact functions, so
results stay correct. float64 uses JAX's exact functions throughout.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import jax
import jax.numpy as jnp
import networkx as nx

import nnft.fastmath as fastmath
from nnft.functions import FUNCTIONS
from nnft.graph import ir

#: arithmetic ops -> JAX (the grammar's functions, ``fn:NAME`` and maximum/minimum, are ``nnft.functions``' JAX
#: versions: cos, sin, tan, arctan vectorised in float32 by ``nnft.fastmath``, exact JAX functions in float64)
_BIN: dict[str, Callable] = {"add": jnp.add, "sub": jnp.subtract, "mul": jnp.multiply, "div": jnp.divide,
                             "pow": jnp.power,
                             **{n: f.jnp for n, f in FUNCTIONS.items() if f.arity == 2}}


def align(value: jax.Array, src: tuple[str, ...], dst: tuple[str, ...]) -> jax.Array:
    """Lay out an array with named axes ``src`` in the order ``dst`` (size-1 axes where missing)."""
    perm = [src.index(a) for a in dst if a in src]
    value = jnp.transpose(value, perm) if perm != sorted(perm) else value
    shape = [1] * len(dst)
    present = [a for a in dst if a in src]
    for a, n in zip(present, value.shape):
        shape[dst.index(a)] = n
    return jnp.reshape(value, shape)


def _letters(axes_lists: list[tuple[str, ...]]) -> dict[str, str]:
    names: list[str] = []
    for axes in axes_lists:
        names += [a for a in axes if a not in names]
    return {a: chr(ord("a") + i) for i, a in enumerate(names)}


#: leading axes of batched values: networks and points (names no spec axis can take)
BATCH_AXES = ("#networks", "#points")

#: ops whose output is non-finite wherever an input is (at the input positions listed; None = every
#: input): a non-finite value upstream of only such ops reaches the field, so it needs no check of its own
_PROPAGATES: dict[str, tuple[int, ...] | None] = {
    "add": None, "sub": None, "mul": None, "div": (0,), "neg": None, "rename": None, "matmul": None,
    "reduce": None,
    **{f"fn:{n}": None for n, f in FUNCTIONS.items() if f.arity == 1 and f.keeps_nonfinite},
}


#: contractions of at most this many terms (``W0 @ x`` over d) are evaluated elementwise
SMALL_CONTRACTION = 16

#: ``domain`` marker of the exact fallback evaluation (``Evaluator.evaluate``)
_EXACT: list = []


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _norm(v: jax.Array, axis: int) -> jax.Array:
    """|v| along ``axis``. Its derivative is u·t with u = v/|v| (v rescaled by max|vᵢ| so that a tiny v
    whose squares underflow still has its unit vector); at v = 0 (the kink of |x|) the first derivative is
    taken as 0 (the symmetric subgradient, so ∂(|x|²) = 0 there, right; JAX's own rule gives NaN) and any
    higher derivative is NaN, so a second derivative at the kink is refused as non-finite, never invented.
    The value is also computed rescaled (as hypot does), so |v| of a tiny v is not 0 by underflow."""
    safe = _scale(v, axis)
    return jnp.squeeze(safe, axis) * jnp.sqrt(jnp.sum(jnp.square(v / safe), axis=axis))


def _scale(v: jax.Array, axis: int) -> jax.Array:
    """max|vᵢ| along ``axis`` (kept) when it is in (0, 1), else 1: dividing by it keeps tiny vectors' squares
    from underflowing, and never divides by a number whose reciprocal is subnormal (flushed to 0 by XLA)."""
    m = jnp.max(jnp.abs(v), axis=axis, keepdims=True)
    return jnp.where((m > 0) & (m < 1), m, 1.0)


@jax.custom_jvp
def _kink(n: jax.Array) -> jax.Array:
    """0 shaped like ``n``, whose own derivative is NaN (the derivative of |v|'s subgradient at v = 0)."""
    return jnp.zeros_like(n)


@_kink.defjvp
def _kink_jvp(primals, tangents):
    (n,), _ = primals, tangents
    return jnp.zeros_like(n), jnp.full_like(n, jnp.nan)


@_norm.defjvp
def _norm_jvp(axis, primals, tangents):
    (v,), (t,) = primals, tangents
    n = _norm(v, axis)
    w = v / jax.lax.stop_gradient(_scale(v, axis))      # u = w/|w| = v/|v| whatever the constant scale
    ns = jnp.sqrt(jnp.sum(jnp.square(w), axis=axis, keepdims=True))
    u = w / jnp.where(ns > 0, ns, 1.0)
    return n, jnp.where(jnp.squeeze(ns, axis) > 0, jnp.sum(u * t, axis=axis), _kink(n))


def _fold(terms: int, small: int) -> int:
    """Terms of a readout sum written out per output element (``Evaluator._dot_sum``): all of them up to
    :data:`WRITTEN_OUT` terms, else the largest divisor k ≤ :data:`MAX_FOLD` of ``terms`` that leaves
    slabs of at least :data:`MIN_SLAB` terms (the loop over a slab is the vectorised one); 0 (a plain
    matrix product) when there is none (e.g. a prime width) or ``small`` is 0 (``run(dots=True)``)."""
    if not small:
        return 0
    if terms <= WRITTEN_OUT:
        return terms
    return next((k for k in range(MAX_FOLD, 1, -1) if terms % k == 0 and terms // k >= MIN_SLAB), 0)


#: readout sums of up to this many terms are written out whole (one fused loop with the activation)
WRITTEN_OUT = 32
#: most slabs of a folded readout sum (more: a larger fused loop, measured slower on XLA:CPU)
MAX_FOLD = 10
#: fewest terms per slab (the slab axis is the innermost, vectorised one)
MIN_SLAB = 8


class Evaluator:
    """Evaluates graph nodes for one network and one point, or for batches of them: a value's array
    carries its node's axes after any of the :data:`BATCH_AXES` it is batched over."""

    def __init__(self, g: nx.MultiDiGraph):
        self.g = g
        self.topo = list(nx.topological_sort(g))
        self.inputs = ir.all_inputs(g)
        #: runtime values of constant nodes (node -> scalar array, e.g. traced arguments of a compiled
        #: step: ``Model.traced_constants``); other constants are their graph value
        self.consts: dict[str, jax.Array] = {}

    def needed(self, targets: list[str], stop: set[str] = frozenset()) -> list[str]:
        """Nodes to evaluate (in order) to get ``targets``, not looking above ``stop`` nodes."""
        need: set[str] = set()
        stack = list(targets)
        while stack:
            n = stack.pop()
            if n in need:
                continue
            need.add(n)
            if n in stop or ir.kind(self.g, n) == "param":
                continue
            stack.extend(self.inputs[n])
        return [n for n in self.topo if n in need]

    def unchecked(self, target: str, nodes: list[str]) -> list[str]:
        """The operation nodes among ``nodes`` whose non-finite values need a finiteness check of their
        own: all but those from which every non-finite value surely reaches ``target`` through
        :data:`_PROPAGATES` operations (inf − inf, 0·inf, Σ(inf, −inf) give NaN: still non-finite) or
        through the guards of :meth:`guards`."""
        return self.guards(target, nodes)[1]

    def guards(self, target: str, nodes: list[str]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
        """(guards, unchecked) for the non-finite rule at ``target``.

        ``guards`` maps an elementwise operation that can swallow a non-finite input (relu, erf, tanh,
        maximum, a denominator...) and whose value surely reaches ``target`` to those inputs: evaluated
        with them (``run(guards=...)``), its value is NaN wherever such an input is non-finite (a select
        fused into the same loop, so the input is neither re-evaluated nor stored for a check) and its
        value's bits are unchanged elsewhere; the input then surely reaches ``target`` too. The other
        operation nodes that do not surely reach ``target`` (e.g. feeding an ``index`` or a reduction's
        axis away) are ``unchecked``: they need a finiteness check of their own."""
        g = self.g
        reaches = {target}
        guards: dict[str, tuple[str, ...]] = {}
        for n in reversed(nodes):
            if n not in reaches:
                continue
            kind, op = ir.kind(g, n), ir.op(g, n)
            if kind == "output":
                reaches.update(self.inputs[n])
            elif kind == "op":
                pos = _PROPAGATES.get(op, ())
                own = set(ir.axes(g, n))
                guard = []
                for i, u in enumerate(self.inputs[n]):
                    if op in _PROPAGATES and (pos is None or i in pos):
                        reaches.add(u)
                    elif (op in _BIN or op.startswith("fn:")) and ir.is_op(g, u) and set(ir.axes(g, u)) <= own:
                        guard.append(u)            # elementwise: every entry of u has its own output entry
                        reaches.add(u)
                if guard:
                    guards[n] = tuple(dict.fromkeys(guard))
        return guards, [n for n in nodes if ir.is_op(g, n) and n not in reaches]

    def run(self, nodes: list[str], values: dict[str, jax.Array],
            axes: dict[str, tuple[str, ...]] | None = None, domain: list | None = None,
            dots: bool = False, readout: bool = False,
            guards: dict[str, tuple[str, ...]] | None = None) -> dict[str, jax.Array]:
        """Evaluate ``nodes`` in order into ``values``; ``axes`` (updated) holds the full axes of every
        batched value (missing: the node's own axes). With a ``domain`` list, float32 cos/sin/tan are
        ``fastmath.UNGUARDED``'s fast ones (NaN out of domain; their names are appended to the list),
        with ``_EXACT`` JAX's exact ones.

        With ``dots``, contractions are matrix products: every ``@`` is an ``einsum`` (none written out)
        and a sum over an axis of a product used only there, Σ_N a·b, is one ``einsum`` of the product's
        operands. Under ``jax.grad`` (the training steps) written-out products turn the backward pass into
        broadcasts and reductions, ~1.5× slower on CPU than the matrix products.

        With ``readout``, only the sums Σ_N a·b are matrix products (the readout Σᵢ W1ᵢ σ(...) of a
        neuron sum: one batched matrix-vector product, ~2–5× faster on XLA:CPU than the fused multiply
        and reduce, which also keeps the activation from being fused); short ``@`` stay written out.
        ``guards`` (from :meth:`guards`): node -> inputs; the node's value is NaN wherever one of those
        inputs is non-finite."""
        g = self.g
        axes = {} if axes is None else axes
        guards = guards or {}
        for n in nodes:
            if n in values:
                continue
            kind = ir.kind(g, n)
            if (dots or readout) and kind == "op" and self._dot_sum(n, values, axes, 0 if dots else SMALL_CONTRACTION):
                continue
            if kind == "const":
                values[n] = self.consts[n] if n in self.consts else jnp.asarray(ir.value(g, n))
            elif kind == "output":
                u = self.inputs[n][0]
                values[n] = values[u]
                if u in axes:
                    axes[n] = axes[u]
            elif kind == "op":
                ins = [axes.get(i, ir.axes(g, i)) for i in self.inputs[n]]
                batch = tuple(b for b in BATCH_AXES if any(b in x for x in ins))
                out = batch + tuple(ir.axes(g, n))
                values[n] = self._op(g.nodes[n], [values[i] for i in self.inputs[n]], ins, out, domain,
                                     small=0 if dots else SMALL_CONTRACTION)
                for u in guards.get(n, ()):
                    ok = jnp.isfinite(align(values[u], ins[self.inputs[n].index(u)], out))
                    values[n] = jnp.where(ok, values[n], jnp.asarray(jnp.nan, values[n].dtype))
                if batch:
                    axes[n] = out
            elif kind in ("input", "param"):
                raise KeyError(f"value of {n} not supplied")  # pragma: no cover
        return values

    def _dot_sum(self, n: str, values: dict, axes: dict, small: int = 0) -> bool:
        """Σ_axis (a·b) at node ``n`` as one ``einsum`` of a and b when ``n`` sums a product that nothing
        else uses (``run(dots=True)``); False (nothing done) otherwise."""
        g = self.g
        a = g.nodes[n]
        if a["op"] != "reduce" or a["reduce"] != "sum":
            return False
        m = self.inputs[n][0]
        if not ir.is_op(g, m) or ir.op(g, m) != "mul" or g.out_degree(m) != 1:
            return False
        src = self.inputs[m]
        if any(i not in values for i in src):
            return False
        ins = [axes.get(i, ir.axes(g, i)) for i in src]
        if not any(a["axis"] in x for x in ins):
            return False
        batch = tuple(b for b in BATCH_AXES if any(b in x for x in ins))
        out = batch + tuple(ir.axes(g, n))
        terms = max(values[i].shape[x.index(a["axis"])] for i, x in zip(src, ins) if a["axis"] in x)
        fold = _fold(terms, small)
        if fold:
            # written out in the activation's fused loop: a narrow layer's whole sum, or a wide layer's sum
            # folded into `fold` slabs, Σ_k a_k·b_k (terms k·m + j, j < m), then summed over j by a matrix
            # product: the (…, N) activation is never stored, only an array `fold` times smaller
            full = out + (a["axis"],)
            a0, a1 = (align(values[i], x, full) for i, x in zip(src, ins))
            m = terms // fold
            a0, a1 = (v.reshape(v.shape[:-1] + ((fold, m) if v.shape[-1] == terms else (1, 1))) for v in (a0, a1))
            total = a0[..., 0, :] * a1[..., 0, :]
            for k in range(1, fold):
                total = total + a0[..., min(k, a0.shape[-2] - 1), :] * a1[..., min(k, a1.shape[-2] - 1), :]
            values[n] = total[..., 0] if m == 1 else total @ jnp.ones(m, total.dtype)
        else:
            let = _letters(ins)
            spec = ",".join("".join(let[x] for x in ax) for ax in ins) + "->" + "".join(let[x] for x in out)
            values[n] = jnp.einsum(spec, *[values[i] for i in src])
        if batch:
            axes[n] = out
        return True

    @staticmethod
    def _op(a: dict, args: list[jax.Array], ins: list[tuple[str, ...]], out: tuple[str, ...],
            domain: list | None = None, small: int = SMALL_CONTRACTION) -> jax.Array:
        op = a["op"]
        if op in _BIN:
            return _BIN[op](align(args[0], ins[0], out), align(args[1], ins[1], out))
        if op == "neg":
            return -args[0]
        if op == "rename":
            return args[0]
        if op.startswith("fn:"):
            fn = op[3:]
            if fn in fastmath.UNGUARDED and args[0].dtype == jnp.float32 and domain is not None:
                fast, exact = fastmath.UNGUARDED[fn]
                if domain is _EXACT:
                    return exact(args[0])
                domain.append(fn)
                return fast(args[0])
            return FUNCTIONS[fn].jnp(args[0])
        if op == "index":
            return args[0][..., a["index"]]
        if op == "reduce":
            axis = ins[0].index(a["axis"])
            if a["reduce"] == "sum":
                return jnp.sum(args[0], axis=axis)
            if a["reduce"] == "mean":
                return jnp.mean(args[0], axis=axis)
            if a["reduce"] == "prod":
                return jnp.prod(args[0], axis=axis)
            return _norm(args[0], axis)
        if op == "matmul":
            shared = [x for x in ins[0] if x in ins[1] and x not in out]
            if math.prod(args[0].shape[ins[0].index(x)] for x in shared) <= small:
                # a short contraction (W0 @ x over d) as broadcast products summed: one fused loop
                # with its neighbours instead of a matrix-product call and transposes
                # (terms summed in a fixed order, written out: no reduction op to break the fusion)
                full = out + tuple(shared)
                a0, a1 = align(args[0], ins[0], full), align(args[1], ins[1], full)
                a0 = a0.reshape(a0.shape[:len(out)] + (-1,))
                a1 = a1.reshape(a1.shape[:len(out)] + (-1,))
                terms = max(a0.shape[-1], a1.shape[-1])
                total = a0[..., 0] * a1[..., 0]
                for k in range(1, terms):
                    total = total + a0[..., k] * a1[..., k]
                return total
            let = _letters(ins)
            spec = ",".join("".join(let[x] for x in axes) for axes in ins) + "->" + "".join(let[x] for x in out)
            return jnp.einsum(spec, args[0], args[1])
        raise NotImplementedError(op)  # pragma: no cover

    def evaluate(self, target: str, values: dict[str, jax.Array], axes: dict[str, tuple[str, ...]]) -> jax.Array:
        """``target`` from the supplied ``values`` (graph node -> array, full ``axes`` of the batched ones),
        NaN wherever (per batch element) any operation's value was non-finite, even one a later operation
        swallowed (relu/maximum of NaN, 1/inf): only values that surely propagate to ``target`` are left
        to do so (:meth:`unchecked`); result axes: the batch axes present, in :data:`BATCH_AXES` order,
        then the target's own.

        float32 cos/sin/tan run vectorised and fused with their neighbours, giving NaN for arguments
        outside ``fastmath``'s fast domain (huge, ±inf); a NaN anywhere in the result makes the whole
        evaluation be redone with JAX's exact functions (one ``lax.cond``; both run when vmapped)."""
        nodes = self.needed([target], stop=set(values))
        sizes = {b: values[n].shape[ax.index(b)] for n, ax in axes.items() for b in ax if b in BATCH_AXES}
        domain: list = []
        fast = self._checked(target, nodes, dict(values), dict(axes), domain, sizes)
        if not domain:
            return fast
        # out-of-domain arguments gave NaN, which reached the result (see _checked); so did any other
        # non-finite value, for which the exact evaluation is equally right
        return jax.lax.cond(~jnp.any(jnp.isnan(fast)), lambda: fast,
                            lambda: self._checked(target, nodes, dict(values), dict(axes), _EXACT, sizes))

    def _checked(self, target, nodes, values, axes, domain, sizes: dict[str, int]) -> jax.Array:
        """``target`` with the non-finite rule, over every batch axis of the inputs (``sizes``), also those
        the target does not depend on."""
        guards, unchecked = self.guards(target, nodes)
        self.run(nodes, values, axes, domain, readout=True, guards=guards)
        batch = tuple(b for b in BATCH_AXES if b in sizes)
        own_axes = tuple(ir.axes(self.g, target))
        out = batch + own_axes
        value = align(values[target], axes.get(target, own_axes), out)
        value = jnp.broadcast_to(value, tuple(sizes[b] for b in batch) + value.shape[len(batch):])
        ok = None
        for n in unchecked + [target]:
            full = axes.get(n, ir.axes(self.g, n))
            own = tuple(i for i, x in enumerate(full) if x not in BATCH_AXES)
            flag = jnp.all(jnp.isfinite(values[n]), axis=own)
            flag = align(flag, tuple(x for x in full if x in BATCH_AXES), batch)
            ok = flag if ok is None else ok & flag
        ok = align(ok, batch, out)
        return jnp.where(ok, value, jnp.nan)
