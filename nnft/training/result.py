"""The result of training an ensemble: time-dependent statistics with standard errors, the theory
beside them, and its table (docs/training.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnft.stats import Estimate, few_blocks_note
from nnft.tables import TextTable


@dataclass(frozen=True)
class Training(TextTable):
    """Statistics of a trained ensemble at the recorded steps (T of them), with jackknife errors.

    Attributes:
      name: the theory's name.
      steps: the recorded gradient steps k, (T,); times: t = η k, (T,).
      X, Y: training inputs (M, d) and targets (M,); test: the test points (P, d).
      mean: E f_t(x) at the test points, (T, P) (G_t⁽¹⁾).
      cov: Cov f_t(x, x') = G_t⁽²⁾ − G_t⁽¹⁾G_t⁽¹⁾, (T, P, P) (the connected two-point function; TASI
        arXiv:2408.00082 eq. 17-19 at time t).
      kappa4: connected G_{c,t}⁽⁴⁾(x, x, x, x) at each test point, (T, P).
      ntk: E Θ̂_t on Z = (X; test), (T, Q, Q), Q = M + P (the trained coordinates' NTK).
      dntk: E[Θ̂_t − Θ̂_0], (T, Q, Q); dntk_rms: √E‖Θ̂_t − Θ̂_0‖_F², (T,).
      loss: E L_t on the training set, (T,).
      lin_dist: √E[(1/P)Σ_x (f_t(x) − f_t^lin(x))²] at the test points, (T,), or None when the
        linearised model was not trained.
      theory: the infinite-width linearised GP (``nnft.training.theory.LinearisedGP``) or None;
      theory_note: why there is none.
      notes: what the moment analysis of the initial ensemble found (an error bar that needs a moment
        that is infinite or undecided, κ4_t not computed) and a loss resolved below the dtype's
        resolution, printed under the table.
      var_floor: (T, P) the smallest Var f_t(x) the dtype resolves, (64 ε)² max E f_t(x)² (ε the machine
        epsilon, the max over the recorded steps and test points);
        a variance below it is rounding, flagged in the table; None when not computed.
      settings: optimizer, lr, momentum, weight_decay, temperature (Langevin T), parameterisation and its
        abcd block (None unless given), loss, networks, seed, dtype, widths (the spec's dims).
    """

    name: str
    steps: np.ndarray
    times: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    test: np.ndarray
    mean: Estimate
    cov: Estimate
    kappa4: Estimate
    ntk: Estimate
    dntk: Estimate
    dntk_rms: Estimate
    loss: Estimate
    lin_dist: Estimate | None
    theory: object | None = None
    theory_note: str = ""
    settings: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    var_floor: np.ndarray | None = None

    @property
    def unresolved(self) -> np.ndarray:
        """(T, P): Var f_t(x) below :attr:`var_floor`, what the dtype resolves (never printed as a number)."""
        if self.var_floor is None:
            return np.zeros(self.mean.shape, dtype=bool)
        return self.var.mean < self.var_floor

    @property
    def eta_crit_empirical(self) -> float:
        """2/(c λ_max(E Θ̂_0(X, X))): the critical learning rate of gradient descent read off the measured
        NTK at initialisation (any parameterisation; the finite-width counterpart of the theory's η_crit)."""
        M = len(self.X)
        lam = float(np.linalg.eigvalsh(self.ntk.mean[0][:M, :M]).max())
        c = float(self.settings.get("loss_factor", 1.0))
        return 2.0 / (c * lam) if lam > 0 else float("inf")

    @property
    def var(self) -> Estimate:
        """Var f_t(x) at the test points, (T, P): the diagonal of :attr:`cov`."""
        i = np.arange(self.cov.mean.shape[-1])
        return Estimate(self.cov.mean[:, i, i], self.cov.stderr[:, i, i], self.cov.n,
                        khat=None if self.cov.khat is None else self.cov.khat[:, i, i])

    def table(self, width: int | None = None) -> str:
        """One row per recorded step: loss, ‖ΔΘ‖, ‖f − f_lin‖; then per step and test point the mean and
        variance, with the theory and z beside them where there is one. Text fitted to ``width`` (None:
        the terminal's); in Jupyter the same tables as HTML (``nnft.tables.html``)."""
        from nnft.stats import format_value, zscore
        from nnft.tables import render
        th = self.theory
        s = self.settings
        lines = [f"{self.name}: trained ensemble of {self.mean.n} networks — {s.get('optimizer')} "
                 f"lr = {s.get('lr'):g}, {s.get('parameterisation')} parameterisation, loss {s.get('loss')}"
                 + (f", weight decay {s['weight_decay']:g}" if s.get("weight_decay") else "")
                 + (f", Langevin T = {s['temperature']:g}" if s.get("temperature") else "")]
        if th is not None:
            lines.append(f"theory: infinite-width linearised GP ({th.dynamics}); η_crit = 2/(c λ_max) = "
                         f"{th.eta_crit:.6g}: regime {th.regime}")
            if th.regime != "stable":
                lines.append(f"warning: lr = {s.get('lr'):g} ≥ η_crit = {th.eta_crit:.6g}: {th.regime} regime "
                             "(the linearised theory does not hold there)")
        else:
            lines.append(f"theory: none ({self.theory_note})")
            ec = self.eta_crit_empirical
            flag = "" if s.get("lr", 0) < ec else f" — lr = {s.get('lr'):g} is above it (catapult or divergence)"
            lines.append(f"η_crit from the measured NTK at t = 0: 2/(c λ_max(E Θ̂_0)) = {ec:.6g}{flag}")
        lines.append("estimates: ensemble mean ± standard error" + ("; E L_t: the linearised-GP theory's loss"
                                                                   if th is not None else ""))
        if th is not None:
            lines.append("z = (MC − theory)/se measures the distance from the N → ∞ theory, with no finite-width "
                         "allowance: at finite width it grows with the networks (≈ √networks × the O(1/N) deviation), "
                         "so a large |z| at many networks is the finite-width correction, not an error; all rows come "
                         "from one ensemble, so their z are correlated; at infinite width |z| < 4-5 is agreement")
        few = few_blocks_note(self.mean.n)
        if few:
            lines.append(few)
        rows = []
        for i, k in enumerate(self.steps):
            rows.append([str(int(k)), f"{self.times[i]:.4g}", format_value(self.loss.mean[i], self.loss.stderr[i]),
                         f"{th.loss[i]:.4g}" if th is not None else "",
                         format_value(self.dntk_rms.mean[i], self.dntk_rms.stderr[i]),
                         format_value(self.lin_dist.mean[i], self.lin_dist.stderr[i])
                         if self.lin_dist is not None else "—", _khat(self.loss, i)])
        lines += render(["step", "t", "loss", "E L_t" if th is not None else "", "|ΔΘ|_F", "|f-f_lin|", "k̂ loss"],
                        rows, width=width)                   # without a theory its columns are left out
        lines.append("")
        var = self.var
        unresolved = self.unresolved
        below = f"below {self.settings.get('dtype', 'the dtype')}'s resolution"
        rows = []
        for i, k in enumerate(self.steps):
            for p, x in enumerate(self.test):
                xs = ",".join(f"{c:.3g}" for c in np.atleast_1d(x))
                m = format_value(self.mean.mean[i, p], self.mean.stderr[i, p])
                low = bool(unresolved[i, p])
                v = f"< {self.var_floor[i, p]:.2g}: {below}" if low else format_value(var.mean[i, p], var.stderr[i, p])
                if th is not None:
                    zm = float(zscore(self.mean[i, p], th.mean[i, p]))
                    zv = float(zscore(var[i, p], th.cov[i, p, p]))
                    rows.append([str(int(k)), xs, m, f"{th.mean[i, p]:.4g}", f"{zm:.2f}", _khat(self.mean, (i, p)), v,
                                 f"{th.cov[i, p, p]:.4g}", "—" if low else f"{zv:.2f}", _khat(var, (i, p))])
                else:
                    rows.append([str(int(k)), xs, m, "", "", _khat(self.mean, (i, p)), v, "", "", _khat(var, (i, p))])
        head = ["step", "x", "E f_t(x)", "μ_t", "z", "k̂", "Var f_t(x)", "Σ_t", "z", "k̂"]
        if th is None:
            head = ["step", "x", "E f_t(x)", "", "", "k̂", "Var f_t(x)", "", "", "k̂"]
        lines += render(head, rows, width=width, keep=(0, 1))
        lines += self._footnotes(var, unresolved, below)
        return "\n".join(lines)

    def _footnotes(self, var: Estimate, unresolved: np.ndarray, below: str) -> list[str]:
        """The lines under the table: heavy tails (k̂ > 0.7), variances below the dtype's resolution and the
        moment analysis's notes."""
        from nnft.tails import KHAT_FLAG
        out = []
        flagged = [(name, e) for name, e in (("E f_t", self.mean), ("Var f_t", var), ("loss", self.loss))
                   if e.flagged.any()]
        if flagged:
            worst = max(float(np.nanmax(e.khat)) for _, e in flagged)
            out += ["", f"HEAVY TAIL (k̂ > {KHAT_FLAG}, marked *): {', '.join(n for n, _ in flagged)} — the Pareto k̂ of "
                    f"the largest per-network contributions reaches {worst:.2f} (PSIS diagnostic, arXiv:1507.02646): "
                    "those numbers and error bars are unreliable"
                    + ("; k̂ ≥ 1 is a tail as heavy as that of a mean that does not exist (whether the moments "
                       "exist at t = 0 is decided by the graph before training: a refusal, or the notes below)"
                       if worst >= 1 else "")
                    + (f"; with {self.mean.n} networks k̂ is itself noisy (light tails can reach 0.7 below a few "
                       "thousand)" if self.mean.n < 20_000 else "")]
        if unresolved.any():
            out += ["", f"{int(unresolved.sum())} Var f_t value(s) are {below} (below (64 ε)² E f², ε the machine "
                    "epsilon: rounding, not the ensemble's spread); use train.dtype=float64"]
        if self.notes:
            out += [""] + [f"note: {n}" for n in self.notes]
        return out

    def __str__(self) -> str:
        return self.table()


def _khat(est: Estimate, index) -> str:
    """k̂ of one entry for the table: two decimals, with * when flagged (k̂ > 0.7); "—" when not computed."""
    if est.khat is None or not np.isfinite(est.khat[index]):
        return "—"
    return f"{float(est.khat[index]):.2f}" + ("*" if bool(est.flagged[index]) else "")
