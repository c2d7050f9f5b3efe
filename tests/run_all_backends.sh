#!/usr/bin/env bash
# Runs the test suite once under each Keras backend, each in a process of its own
# (a process cannot switch backends). Extra arguments go to pytest. Exits non-zero
# if any backend fails; BACKENDS="jax torch" narrows the set.
#
# Each backend's run spreads its test files over PYTEST_WORKERS processes (pytest-xdist,
# 2 by default, one per core of the CI machine; 0 runs in this process): most of a
# test's time is single-threaded compiling and Python, so two processes use both
# cores. Files stay whole on one worker, so a file's shared models are built once, and
# go out in collection order: tests/conftest.py puts the slowest first.
# Each run ends with its 15 slowest tests. Tests marked backend_independent run in the
# first run only.
set -u
workers=${PYTEST_WORKERS:-2}
parallel=()
if [ "$workers" != 0 ]; then
  parallel=(-n "$workers" --dist loadfile --no-loadscope-reorder)
fi
backends=(${BACKENDS:-jax tensorflow torch})
# Tests marked backend_independent (NumPy, files, servers, processes that set their own
# backend) run in the first backend's run only; tests/conftest.py reads this.
export KERAS_VIT_BACKEND_INDEPENDENT_RUN=${KERAS_VIT_BACKEND_INDEPENDENT_RUN:-${backends[0]}}
# The backends of this whole run, for tests that split pairs of backends over the runs.
export KERAS_VIT_RUN_BACKENDS="${backends[*]}"
failed=()
for backend in "${backends[@]}"; do
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
  # Many tests build the same small models, and every new Keras model compiles its
  # functions again: JAX's compilation cache, in a folder of this run's own shared by
  # both workers, compiles each program once (a fresh-clone CI's JAX run: 461 s, not 591 s).
  jax_cache=()
  if [ "$backend" = jax ] && [ -z "${JAX_COMPILATION_CACHE_DIR-}" ]; then
    cache_dir=$(mktemp -d)
    jax_cache=(JAX_COMPILATION_CACHE_DIR="$cache_dir" JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0
               JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0)
  fi
  env "${jax_cache[@]}" XLA_FLAGS=$xla_flags KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider --durations=15 "${parallel[@]}" "$@" \
    || failed+=("$backend")
  if ((${#jax_cache[@]})); then
    rm -rf "$cache_dir"
  fi
  echo "=== KERAS_BACKEND=$backend took $((SECONDS - start)) s"
done
if ((${#failed[@]})); then
  echo "test suite failed under: ${failed[*]}"
  exit 1
fi
