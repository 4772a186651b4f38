"""Plans are reused for the same tuples (``nnft.estimators.npoint.plan_for``): building one takes ~1 s for
4096 tuples, and a repeated measurement (a sweep, a benchmark, a notebook cell run again) need not."""

import numpy as np
import pytest

import nnft
from nnft.estimators.npoint import Plan, plan_for


def test_the_same_tuples_give_the_same_plan_and_other_tuples_another():
    t = [np.array([[0.0], [0.5]]), np.array([[0.1]] * 4)]
    a = plan_for(t, 1)
    assert plan_for([x.copy() for x in t], 1) is a
    b = plan_for([np.array([[0.0], [0.5000001]]), np.array([[0.1]] * 4)], 1)
    assert b is not a and 0.5000001 in b.points[:, 0]
    assert plan_for([t[0]], 1) is not a
    ref = Plan(t, 1)
    assert a.signature == ref.signature and a.n_features == ref.n_features


def test_refusals_are_those_of_plan():
    with pytest.raises(nnft.InputError, match="expected"):
        plan_for([np.zeros((2, 3))], 2)
    with pytest.raises(nnft.InputError, match="no point tuples"):
        plan_for([], 1)
    with pytest.raises(nnft.InputError, match="non-finite"):
        plan_for([np.array([[np.nan], [0.0]])], 1)
