"""``nnft.kernel_fn(model)(x1, x2, get)``: two-set (n1, n2) blocks, batched, equal to the one-set Gram."""

import numpy as np
import pytest

import nnft
from nnft.graph.kernels import KernelError, kernels


@pytest.mark.parametrize("spec", ["relu_mlp", "cos_net", "gauss_net"])
def test_blocks_equal_the_one_set_gram(spec):
    model = nnft.compile(nnft.load(spec))
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(7, model.d)) * 0.7, rng.normal(size=(5, model.d)) * 0.7
    full = kernels(model, np.concatenate([x1, x2]))
    for batch in (2, 3, 256):                              # blocks smaller than, and larger than, the sets
        k = nnft.kernel_fn(model, batch_size=batch)(x1, x2, ("nngp", "ntk"))
        assert k.nngp.shape == k.ntk.shape == (7, 5)
        np.testing.assert_allclose(k.nngp, full.nngp[:7, 7:], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(k.ntk, full.ntk[:7, 7:], rtol=1e-12, atol=1e-12)
    assert not np.allclose(k.nngp, full.nngp[:7, :5])      # the wrong block differs
    same = nnft.kernel_fn(model, batch_size=4)(x1, None, "nngp")      # x2 = None means x1; get a string
    np.testing.assert_allclose(same, full.nngp[:7, :7], rtol=1e-12, atol=1e-12)


def test_bad_calls_raise_kernel_error():
    model = nnft.compile(nnft.load("cos_net"))
    fn = nnft.kernel_fn(model)
    with pytest.raises(KernelError, match="get must be"):
        fn(np.zeros((2, 2)), None, "nngpp")
    with pytest.raises(KernelError, match="d = 2"):
        fn(np.zeros((2, 3)))
    with pytest.raises(KernelError, match="batch_size"):
        nnft.kernel_fn(model, batch_size=0)


def test_cli_kernel_on_the_single_layer_nets_with_default_points():
    from click.testing import CliRunner

    from nnft.cli import main
    for spec in ("cos_net", "gauss_net"):
        r = CliRunner().invoke(main, ["kernel", spec, "--layers"])
        assert r.exit_code == 0, r.output
        assert "NNGP" in r.output and "layer 2 (field: layer 2/2)" in r.output
    r = CliRunner().invoke(main, ["kernel", "cauchy_scalar_1d"])          # no kernel map: the neuron reference
    assert r.exit_code == 0 and "neuron reference" in r.output and "NTK Θ: not available" in r.output
    r = CliRunner().invoke(main, ["kernel", "phi4_scalar_1d"])            # interacting: not a Gaussian process
    assert r.exit_code == 2 and "non-Gaussian" in r.output
