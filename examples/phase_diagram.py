"""Phase diagrams of deep MLPs at infinite width: χ⊥(K*) on the (C_b, C_W) plane with the critical line.

    python examples/phase_diagram.py [out.png]

Ordered (χ⊥ < 1) and chaotic (χ⊥ > 1) phases for tanh and relu (docs/physics.md §4); the critical line
is χ⊥(K*) = 1 (tanh: from (C_b, C_W) = (0, 1); relu: C_W = 2 for every C_b). Drawn by
``nnft.plot.phase_diagram``; ``nnft criticality SPEC --plot FILE`` draws one with the spec's point.
Takes several minutes on 2 cores (about 5 min measured under load): every tanh cell solves for K* with
Gaussian quadrature; relu uses closed forms and takes well under a second.
"""

import sys

import numpy as np

import nnft.plot

out = sys.argv[1] if len(sys.argv) > 1 else "phase_diagram.png"
fig, axes = nnft.plot.pyplot(headless=True).subplots(1, 2, figsize=(12, 4.4), constrained_layout=True)
for ax, act in zip(axes, ["tanh", "relu"]):
    nnft.plot.phase_diagram(activation=act, C_b=np.linspace(0.0, 0.3, 25), C_W=np.linspace(0.5, 3.5, 41), ax=ax)
fig.savefig(out, dpi=110)
print(f"wrote {out}")
