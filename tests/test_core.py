"""The learning rule: gradients are right, and only the rows an example touched move."""
import numpy as np
import pytest

from fastemb.kernels import rows as core


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _random_model(rows=50, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((rows, dim)).astype(np.float32) * 0.3,
            rng.standard_normal((rows, dim)).astype(np.float32) * 0.3)


@pytest.mark.parametrize("n_in, n_out", [(3, 3), (4, 6), (1, 5), (2, 1)])  # odd and even counts on both sides
@pytest.mark.parametrize("slow_rows", [0, 10])  # rows below 10 (in_rows 3, 7; out_rows 5, 9) take a quarter step
def test_logistic_rows_matches_the_analytic_gradient_and_touches_only_its_rows(n_in, n_out, slow_rows):
    inputs, outputs = _random_model()
    tables = core.make_tables()
    in_rows = np.array([3, 7, 11, 14][:n_in], dtype=np.int32)
    out_rows = np.array([5, 9, 20, 21, 30, 41][:n_out], dtype=np.int32)
    labels = np.array([1, 0, 0, 0, 0, 0][:n_out], dtype=np.float32)
    lr = np.float32(0.1)
    hidden = inputs[in_rows].copy()
    grad_hidden = np.full_like(hidden, np.nan)  # overwritten, not accumulated
    coeff = np.empty((n_in, n_out), np.float32)
    before_in, before_out = inputs.copy(), outputs.copy()

    # Reference: every hidden row against every output row, all with the old values.
    logits = hidden @ before_out[out_rows].T
    expected_coeff = lr * (labels[None, :] - _sigmoid(logits))
    expected_grad_hidden = expected_coeff @ before_out[out_rows]
    slow = (slow_rows, np.float32(0.25))
    gain_in, gain_out = (np.where(rows < slow_rows, 0.25, 1.0)[:, None] for rows in (in_rows, out_rows))
    expected_out = before_out.copy()
    expected_out[out_rows] += gain_out * (expected_coeff.T @ hidden)  # the hidden gradient takes the full step
    expected_loss = -(labels * np.log(_sigmoid(logits)) + (1 - labels) * np.log(1 - _sigmoid(logits))).sum()

    loss = core.logistic_rows(inputs, in_rows, n_in, outputs, out_rows, n_out, labels, lr, tables, coeff, grad_hidden,
                              slow)
    assert np.array_equal(inputs, before_in)  # the caller applies grad to the input side
    np.testing.assert_allclose(grad_hidden, expected_grad_hidden, atol=2e-3)
    np.testing.assert_allclose(outputs, expected_out, atol=2e-3)
    assert loss == pytest.approx(expected_loss, rel=0.02)
    untouched = np.setdiff1d(np.arange(len(outputs)), out_rows)
    assert np.array_equal(outputs[untouched], before_out[untouched])

    core.add_rows(inputs, in_rows, n_in, grad_hidden, slow)
    changed = np.flatnonzero(np.any(inputs != before_in, axis=1))
    assert set(changed) == set(in_rows)
    np.testing.assert_allclose(inputs[in_rows] - before_in[in_rows], gain_in * grad_hidden, atol=1e-6)


def test_softmax_rows_matches_the_analytic_gradient():
    inputs, outputs = _random_model(rows=6)
    hidden = inputs[:1].copy()
    grad_hidden = np.zeros_like(hidden)
    before = outputs.copy()
    target, lr = 2, np.float32(0.5)
    scores = np.empty(len(outputs), np.float32)
    loss = core.softmax_rows(hidden, outputs, np.arange(len(outputs), dtype=np.int32), len(outputs), target, lr,
                             scores, np.empty(1, np.float32), grad_hidden)
    logits = (hidden @ before.T)[0]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    coeff = lr * ((np.arange(len(p)) == target) - p)
    np.testing.assert_allclose(grad_hidden[0], coeff @ before, atol=1e-5)
    np.testing.assert_allclose(outputs, before + np.outer(coeff, hidden[0]), atol=1e-5)
    assert loss == pytest.approx(-np.log(p[target]), rel=1e-4)


def test_combine_rows_and_add_to_rows_touch_only_the_rows_used():
    inputs, _ = _random_model()
    rows = np.array([1, 4, 4, 30], dtype=np.int32)
    block = np.empty((1, inputs.shape[1]), np.float32)
    core.combine_rows(inputs, rows, 4, True, block)
    np.testing.assert_allclose(block[0], inputs[rows].mean(axis=0), atol=1e-6)
    core.combine_rows(inputs, rows, 4, False, block)
    np.testing.assert_allclose(block[0], inputs[rows].sum(axis=0), atol=1e-5)
    before = inputs.copy()
    core.add_to_rows(inputs, rows, 4, np.ones(inputs.shape[1], np.float32), np.float32(0.5), (2, np.float32(0.5)))
    changed = np.flatnonzero(np.any(inputs != before, axis=1))
    assert set(changed) == {1, 4, 30}
    np.testing.assert_allclose(inputs[4] - before[4], 1.0, atol=1e-6)  # listed twice, moved twice
    np.testing.assert_allclose(inputs[1] - before[1], 0.25, atol=1e-6)  # a slow row (below 2): half the step


def test_sigmoid_table_is_accurate_and_saturates():
    tables = core.make_tables()
    for x in np.linspace(-5.9, 5.9, 41):
        p, loss1 = core.sigmoid_and_loss(np.float32(x), np.float32(1.0), tables)
        _, loss0 = core.sigmoid_and_loss(np.float32(x), np.float32(0.0), tables)
        assert p == pytest.approx(_sigmoid(x), abs=0.01)
        assert loss1 == pytest.approx(-np.log(_sigmoid(x)), abs=0.02)
        assert loss0 == pytest.approx(-np.log(1 - _sigmoid(x)), abs=0.02)
    assert core.sigmoid_and_loss(np.float32(9.0), np.float32(1.0), tables)[0] == 1.0
    assert core.sigmoid_and_loss(np.float32(-9.0), np.float32(1.0), tables)[0] == 0.0
