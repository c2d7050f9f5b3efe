"""Which training examples a k-shot run draws: k of every class, fixed by the seed."""

import numpy as np
import pytest

from keras_vit.evaluation.sampling import check_seeds, check_shots, sample_shots

pytestmark = pytest.mark.backend_independent(reason="the draws are NumPy's")

LABELS = np.random.default_rng(0).permutation(np.repeat(np.arange(5), [30, 12, 25, 9, 40]))


@pytest.mark.parametrize("shots", [1, 5, 9])
def test_exactly_k_distinct_examples_of_each_class(shots):
    chosen = sample_shots(LABELS, shots, seed=0)
    assert len(set(chosen.tolist())) == len(chosen) == 5 * shots
    np.testing.assert_array_equal(np.bincount(LABELS[chosen]), [shots] * 5)
    # Class by class, in increasing order, as big_vision concatenates them.
    np.testing.assert_array_equal(LABELS[chosen], np.repeat(np.arange(5), shots))


def test_a_seed_fixes_the_draw_and_other_seeds_differ():
    np.testing.assert_array_equal(sample_shots(LABELS, 5, seed=3), sample_shots(LABELS, 5, seed=3))
    draws = {tuple(sample_shots(LABELS, 5, seed=seed)) for seed in range(4)}
    assert len(draws) == 4


def test_fewer_shots_are_the_first_of_more_with_the_same_seed():
    five, nine = sample_shots(LABELS, 5, seed=1), sample_shots(LABELS, 9, seed=1)
    np.testing.assert_array_equal(five.reshape(5, 5), nine.reshape(5, 9)[:, :5])


def test_draws_are_big_vision_s():
    # big_vision's fewshot_lsr: one generator per seed permutes each class's indices in turn.
    rng = np.random.default_rng(7)
    expected = [rng.permutation(np.where(LABELS == c)[0])[:4] for c in range(5)]
    np.testing.assert_array_equal(sample_shots(LABELS, 4, seed=7), np.concatenate(expected))


def test_too_few_examples_name_the_class_its_count_and_k():
    with pytest.raises(ValueError, match=r"Class 3 has 9 training examples, fewer than shots=10"):
        sample_shots(LABELS, 10, seed=0)
    with pytest.raises(ValueError, match=r"at least two classes .*Received: the classes \[1\]"):
        sample_shots(np.ones(10, int), 1, seed=0)
    with pytest.raises(ValueError, match=r"`shots` must be a positive integer. Received: shots=0"):
        sample_shots(LABELS, 0, seed=0)


def test_shots_and_seeds_are_checked():
    assert check_shots((25, 1, 5)) == (1, 5, 25)
    assert check_shots(np.int64(5)) == (5,)
    assert check_seeds(3) == (0, 1, 2)
    assert check_seeds([4, 2]) == (4, 2)
    for shots in [0, (), (1, 0), (5, 5), "5", True, (2.5,), None]:
        with pytest.raises(ValueError, match=r"`shots` must be .* Received: shots="):
            check_shots(shots)
    for seeds in [0, -1, (), (1, 1), (-2,), 2.5, "3", True]:
        with pytest.raises(ValueError, match=r"`seeds` must be .* Received: seeds="):
            check_seeds(seeds)
