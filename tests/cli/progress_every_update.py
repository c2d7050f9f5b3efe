"""Imported first by the `keras-vit` processes of tests that read progress lines
(`console.keras_vit(..., imports=("tests.cli.progress_every_update",))`): a counter
shows every update at once, so that a run of seconds prints what one of minutes does."""

from keras_vit.utils import progress

progress.QUIET_S = 0.0
progress.PLAIN_EVERY_S = 0.0
