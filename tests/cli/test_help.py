"""`keras-vit COMMAND --help` through the installed script: at once, and without framework chatter."""

import pytest

from keras_vit.cli import COMMANDS
from tests.cli.console import keras_vit

pytestmark = pytest.mark.backend_independent(reason="help loads no framework")

FRAMEWORKS = ("keras", "tensorflow", "jax", "torch")


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_loads_no_framework_and_prints_only_help(command, tmp_path):
    listing = tmp_path / "modules.txt"
    done = keras_vit(*([command] if command else []), "--help", modules_file=listing)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: keras-vit" + (f" {command}" if command else ""))
    assert done.stderr == ""
    # Loading no framework is what keeps help under a second: Keras alone takes seconds to import.
    loaded = {name.split(".")[0] for name in listing.read_text().split()}
    assert not loaded & set(FRAMEWORKS), sorted(loaded & set(FRAMEWORKS))
