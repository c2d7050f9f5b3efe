"""Imported first by a `keras-vit` process a test starts (`imports=("tests.cli.stub_cpu",)`):
the CPU's flags are read from the file KERAS_VIT_TEST_CPUINFO names, as if it were /proc/cpuinfo."""

import os

from keras_vit.utils import cpu

cpu.CPUINFO = os.environ["KERAS_VIT_TEST_CPUINFO"]
