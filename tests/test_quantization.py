"""While a thread quantizes, Keras' garbage collection per dropped kernel is left to one at
the end on that thread only (`keras_vit.quantization`); the quantizing itself is tested in
tests/training/test_quantization.py."""

import gc
import threading

import pytest

from keras_vit import quantization

pytestmark = pytest.mark.backend_independent(reason="Python's garbage collector, no backend involved")


def _cycle_collected():
    """Makes one unreachable cycle and returns how many objects `gc.collect()` found."""
    cycle = []
    cycle.append(cycle)
    del cycle
    return gc.collect()


def test_only_the_quantizing_thread_skips_garbage_collection():
    found = {}
    gc.disable()  # no automatic collection takes the cycles first
    try:
        with quantization._one_garbage_collection():
            found["quantizing"] = _cycle_collected()
            other = threading.Thread(target=lambda: found.update(other=_cycle_collected()))
            other.start()
            other.join()
        assert found["quantizing"] == 0 and found["other"] >= 1
        assert gc.collect is quantization._collect  # the original, back
        assert _cycle_collected() >= 1
    finally:
        gc.enable()


def test_overlapping_threads_restore_collection_when_the_last_one_leaves():
    entered, release = threading.Event(), threading.Event()

    def quantizing():
        with quantization._one_garbage_collection():
            entered.set()
            release.wait(30)

    other = threading.Thread(target=quantizing)
    other.start()
    entered.wait(30)
    with quantization._one_garbage_collection():
        pass
    assert gc.collect is not quantization._collect  # the other thread still quantizes
    release.set()
    other.join()
    assert gc.collect is quantization._collect
