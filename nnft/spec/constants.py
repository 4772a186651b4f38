"""A spec's named constants evaluated to numbers (pure spec layer: no JAX, no graph library).

``constants:`` may refer to sizes (``dims``), to each other, ``pi`` and ``e``. They are evaluated in
dependency order; a constant that refers to a parameter, to ``x`` or to an undefined name, a cycle
of constants, and a value that does not evaluate to a finite number are
:class:`~nnft.errors.GraphError` naming ``constants.<name>``.
"""

from __future__ import annotations

from nnft.errors import GraphError
from nnft.spec import expr as E
from nnft.spec.hints import undeclared_hint
from nnft.spec.models import Theory


def _err(theory: Theory, field: str, message: str, **kw) -> GraphError:
    return GraphError(message, file=theory.source, field=field, **kw)


def _find_cycle(succ: dict[str, dict[str, None]]) -> list[str] | None:
    """The first cycle a depth-first search meets (nodes and successors in insertion order), as the
    list of its nodes starting where the search closed it; None for a DAG. Iterative (a spec may
    chain thousands of constants)."""
    done: set[str] = set()
    for start in succ:
        if start in done:
            continue
        path, on_path = [start], {start}
        todo = [iter(succ[start])]
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                node = path.pop()
                on_path.discard(node)
                done.add(node)
                todo.pop()
            elif nxt in on_path:
                return path[path.index(nxt):]
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                todo.append(iter(succ[nxt]))
    return None


def _topological(succ: dict[str, dict[str, None]]) -> list[str]:
    """Kahn's order, generation by generation (sources in insertion order, then their successors in
    the order they become free)."""
    indegree = {k: 0 for k in succ}
    for k in succ:
        for n in succ[k]:
            indegree[n] += 1
    order = [k for k in succ if indegree[k] == 0]
    generation = order
    while generation:
        following = []
        for k in generation:
            for n in succ[k]:
                indegree[n] -= 1
                if indegree[n] == 0:
                    following.append(n)
        order += following
        generation = following
    return order


def evaluate_constants(theory: Theory) -> tuple[dict[str, float], dict[str, frozenset[str]]]:
    """Named constants evaluated in dependency order, and the named sizes each depends on.

    Returns:
      ``(env, uses)``: ``env`` maps every size and constant name to its float value (sizes first,
      then constants in dependency order); ``uses`` maps each name to the sizes (``dims``) its value
      depends on.

    Raises:
      GraphError: a constant refers to a parameter, ``x`` or an undefined name; constants refer to each
        other in a cycle; a constant does not evaluate to a finite number (naming ``constants.<name>``).
    """
    env: dict[str, float] = {k: float(v) for k, v in theory.dims.items()}
    uses: dict[str, frozenset[str]] = {k: frozenset({k}) for k in theory.dims}
    parsed = {k: E.parse(v) for k, v in theory.constants.items()}
    succ: dict[str, dict[str, None]] = {k: {} for k in parsed}     # constant -> constants using it
    for k, ex in parsed.items():
        for n in E.names(ex):
            if n in parsed:
                succ[n][k] = None
            elif n not in env and n not in E.CONSTANTS:
                what = ("a parameter" if n in theory.params else "the input" if n == "x" else "undefined")
                if what == "undefined" and n not in theory.define:
                    hint = undeclared_hint(theory, n)
                elif n in theory.define:
                    what, hint = "a definition", "constants may use sizes and other constants only"
                else:
                    hint = None
                raise _err(theory, f"constants.{k}", f"constant refers to {n!r}, which is {what}",
                           allowed="numbers, sizes (dims), other constants, pi, e", hint=hint)
    cycle = _find_cycle(succ)
    if cycle:
        raise _err(theory, f"constants.{cycle[0]}", "constants refer to each other in a cycle: "
                   + " -> ".join(cycle) + f" -> {cycle[0]}")
    for k in _topological(succ):
        try:
            env[k] = E.evaluate_constant(parsed[k], env)
        except E.ExprError as err:
            raise _err(theory, f"constants.{k}", str(err), got=theory.constants[k]) from None
        uses[k] = frozenset().union(*(uses.get(n, frozenset()) for n in E.names(parsed[k])))
    return env, uses
