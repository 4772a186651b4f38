"""Local potentials V(φ) for insertions, as data (no JAX here).

- ``phi4: {coupling: λ}``              V = λ/4! φ⁴
- ``polynomial: {g1: …, g2: …, …, g8: …}``  V = Σ_k g_k φᵏ/k!   (missing g_k are 0)
- ``expression: {V: "…"}``              any expression of the grammar in ``phi`` (constants allowed)
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Potential:
    name: str
    args: dict[str, str]
    defaults: dict[str, float] = field(default_factory=dict)


POTENTIALS: dict[str, Potential] = {
    "phi4": Potential("phi4", {"coupling": "real"}),
    "polynomial": Potential("polynomial", {f"g{k}": "real" for k in range(1, 9)},
                            {f"g{k}": 0.0 for k in range(1, 9)}),
    "expression": Potential("expression", {"V": "expression in phi"}),
}
