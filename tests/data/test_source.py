import ast
import inspect

import numpy as np
import pytest

from keras_vit.data import source, stratified_split


def test_stratified_split_partitions_every_class_in_its_fractions():
    labels = np.repeat(np.arange(3), [50, 30, 20])
    parts = stratified_split(labels, seed=4)
    assert list(parts) == ["train", "validation", "test"]
    everything = np.concatenate(list(parts.values()))
    assert sorted(everything) == list(range(len(labels)))  # disjoint and complete
    counts = {name: np.bincount(labels[index], minlength=3).tolist() for name, index in parts.items()}
    assert counts == {"train": [35, 21, 14], "validation": [5, 3, 2], "test": [10, 6, 4]}
    np.testing.assert_array_equal(stratified_split(labels, seed=4)["test"], parts["test"])
    assert not np.array_equal(stratified_split(labels, seed=5)["test"], parts["test"])


def test_stratified_split_takes_other_fractions():
    labels = np.arange(40) % 4
    parts = stratified_split(labels, seed=0, fractions={"train": 0.5, "test": 0.5})
    assert {name: len(index) for name, index in parts.items()} == {"train": 20, "test": 20}
    assert np.bincount(labels[parts["test"]]).tolist() == [5, 5, 5, 5]


@pytest.mark.parametrize("fractions", [{"train": 0.7, "test": 0.2}, {"train": 1.5, "test": -0.5}, {}, (0.5, 0.5)])
def test_stratified_split_rejects_fractions_not_summing_to_one(fractions):
    with pytest.raises(ValueError, match=r"`fractions` must be a dict .* Received: fractions="):
        stratified_split(np.zeros(10, "int32"), seed=0, fractions=fractions)


def test_source_module_imports_no_other_data_module():
    # The sources import `source`; it importing them back would be a cycle.
    tree = ast.parse(inspect.getsource(source))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.startswith("keras_vit")}
