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
  KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider --durations=15 "${parallel[@]}" "$@" \
    || failed+=("$backend")
  echo "=== KERAS_BACKEND=$backend took $((SECONDS - start)) s"
done
if ((${#failed[@]})); then
  echo "test suite failed under: ${failed[*]}"
  exit 1
fi
