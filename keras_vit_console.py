"""The `keras-vit` console script's entry point.

It lives outside the keras_vit package so that it can ask for keras_vit's lazy
import before the package loads: `keras-vit --help` and `keras-vit weights list`
then answer without loading Keras or a backend, and each command imports what
it uses.
"""

import os
import sys


def main():
    os.environ.setdefault("KERAS_VIT_LAZY_IMPORT", "1")
    from keras_vit.cli import main as run

    sys.exit(run())
