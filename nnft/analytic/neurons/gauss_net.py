"""Gauss-net: the exponential neuron ψ = exp(w·x + b)/exp(σ_b0² + σ_w0²|x|²/d) with Gaussian w, b.

Its moments are Gaussian integrals in closed form (TASI arXiv:2408.00082 eq. 60-64; docs/physics.md §1).
"""

from __future__ import annotations

import math

import numpy as np

from .base import NeuronReference


class GaussNet(NeuronReference):
    """Gauss-net neuron ψ = exp(w·x + b)/exp(σ_b0² + σ_w0²|x|²/d), w ~ N(0, σ_w0²/d I), b ~ N(0, σ_b0²).

    M_K = exp((K²/2 − K)σ_b0²) exp(σ_w0²/(2d)(|S|² − 2Σ_k|x_k|²)), S = Σ_k x_k (docs/physics.md §1;
    TASI arXiv:2408.00082 eq. 60-64 with the exponent of docs/physics.md §10; NN-FT arXiv:2008.08601).
    Arguments: ``sigma_w0`` ≥ 0 (units 1/|x|), ``sigma_b0`` ≥ 0. Closed form for K ≤ 64 (accuracy
    0); NeuronArgError if M_K overflows.
    """

    name = "gauss_net"
    equation = "TASI eq. 60-64 (with docs/physics.md §10 erratum to eq. 64); docs/physics.md §1"
    max_order = 64

    def _moment(self, points):
        k = points.shape[0]
        S = points.sum(axis=0)
        q = S @ S - 2.0 * np.sum(points * points)
        return math.exp((k * k / 2.0 - k) * self.sigma_b0 ** 2 + self.sigma_w0 ** 2 * q / (2.0 * self.d))
