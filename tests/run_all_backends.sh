#!/usr/bin/env bash
# Runs the test suite once under each Keras backend, each in a process of its own
# (a process cannot switch backends). Extra arguments go to pytest. Exits non-zero
# if any backend fails; BACKENDS="jax torch" narrows the set.
set -u
failed=()
for backend in ${BACKENDS:-jax tensorflow torch}; do
  echo "=== KERAS_BACKEND=$backend"
  KERAS_BACKEND=$backend python -m pytest -q -p no:cacheprovider "$@" || failed+=("$backend")
done
if ((${#failed[@]})); then
  echo "test suite failed under: ${failed[*]}"
  exit 1
fi
