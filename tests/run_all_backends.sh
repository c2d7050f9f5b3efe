#!/usr/bin/env bash
# Runs the test suite once under each Keras backend, each in a process of its own
# (a process cannot switch backends). Extra arguments go to pytest. Exits non-zero
# if any backend fails; BACKENDS="jax torch" narrows the set.
#
# Each backend's run spreads its test files over PYTEST_WORKERS processes (pytest-xdist,
# 2 by default, one per core of the CI machine; 0 runs in this process): most of a
# test's time is single-threaded compiling and Python, so two processes use both
# cores. Files stay whole on one worker, so a file's shared models are built once.
# Each run ends with its 15 slowest tests.
set -u
workers=${PYTEST_WORKERS:-2}
parallel=()
if [ "$workers" != 0 ]; then
  parallel=(-n "$workers" --dist loadfile)
fi
failed=()
for backend in ${BACKENDS:-jax tensorflow torch}; do
  echo "=== KERAS_BACKEND=$backend"
  start=$SECONDS
  # The suite's models are tiny: XLA's CPU compiler spends far longer optimizing
  # their code than the tests spend running it. Level 0 skips LLVM's optimization
  # passes (same operations, same fusion): the JAX run takes about 14% less time.
  # XLA_FLAGS set by the caller win.
  xla_flags=${XLA_FLAGS-}
  if [ "$backend" = jax ] && [ -z "$xla_flags" ]; then
    xla_flags=--xla_backend_optimization_level=0
  fi
  XLA_FLAGS=$xla_flags KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider --durations=15 "${parallel[@]}" "$@" \
    || failed+=("$backend")
  echo "=== KERAS_BACKEND=$backend took $((SECONDS - start)) s"
done
if ((${#failed[@]})); then
  echo "test suite failed under: ${failed[*]}"
  exit 1
fi
