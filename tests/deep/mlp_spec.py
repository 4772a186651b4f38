"""Hand-written MLP spec dicts for the deep-network tests (Hanin indexing, docs/physics.md §4).

z⁽¹⁾ = W1 @ x + b1, z⁽ˡ⁺¹⁾ = W(l+1) @ σ(z⁽ˡ⁾) + b(l+1); L hidden layers N1..NL; readout W(L+1).
"""

from __future__ import annotations

import nnft


def mlp_spec(widths, activation: str, C_W: float, C_b: float, *, d: int = 1, output: str = "z") -> dict:
    """An nnft spec dict for an MLP with hidden widths ``widths`` (L = len(widths) hidden layers).

    output="z": the field is the network output z⁽ᴸ⁺¹⁾ (readout W(L+1) and bias b(L+1)).
    output="sigma": the field is Σ⁽ᴸ⁾ = C_b + (C_W/n_L)Σ_j σ(z_j⁽ᴸ⁾)², the variance of z⁽ᴸ⁺¹⁾ given the
    hidden layers (z⁽ᴸ⁺¹⁾ | hidden ~ N(0, Σ⁽ᴸ⁾) exactly), so E z² = E Σ and ⅓(E z⁴ − 3(E z²)²) = Var Σ
    — the same network, with the Gaussian readout integrated out exactly (far smaller MC variance).
    """
    act = (lambda e: e) if activation == "linear" else (lambda e: f"{activation}({e})")
    dims = {"d": d}
    params = {}
    prev, h = "d", "x"
    for l, n in enumerate(widths, 1):
        ax = f"N{l}"
        dims[ax] = int(n)
        params[f"W{l}"] = {"shape": [ax, prev], "density": {"normal": {"std": f"sqrt({C_W!r} / {prev})"}}}
        pre = f"W{l} @ {h}"
        if C_b > 0:
            params[f"b{l}"] = {"shape": [ax], "density": {"normal": {"std": f"sqrt({C_b!r})"}}}
            pre += f" + b{l}"
        h = act(f"({pre})") if activation != "linear" else f"({pre})"
        prev = ax
    L = len(widths)
    if output == "z":
        params[f"W{L + 1}"] = {"shape": [prev], "density": {"normal": {"std": f"sqrt({C_W!r} / {prev})"}}}
        field = f"sum_{prev}(W{L + 1} * {h})"
        if C_b > 0:
            params[f"b{L + 1}"] = {"shape": [], "density": {"normal": {"std": f"sqrt({C_b!r})"}}}
            field += f" + b{L + 1}"
    elif output == "sigma":
        field = f"{C_b!r} + {C_W!r} / {prev} * sum_{prev}(square({h}))"
    else:
        raise ValueError(output)
    return {"nnft": 1, "name": f"mlp-{activation}-L{L}", "dims": dims, "params": params, "field": field}


def mlp_model(widths, activation, C_W, C_b, **kw):
    return nnft.compile(nnft.from_dict(mlp_spec(widths, activation, C_W, C_b, **kw)))
