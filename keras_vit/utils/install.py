"""The distribution's name and its extras: every install hint keras_vit prints comes from here.

The package imports as `keras_vit` and its command is `keras-vit`, but it is
distributed as `keras-vit-zoo`: `keras-vit` on the package index is an
unrelated project, so `pip install keras-vit[plot]` would install that.
"""

import importlib.util

DISTRIBUTION = "keras-vit-zoo"

# The extra (pyproject.toml's optional-dependencies) that provides each optional
# module, by the name it is imported under.
EXTRAS = {
    "sklearn": "data",
    "PIL": "data",
    "tensorflow_datasets": "data",
    "tensorboard": "data",
    "matplotlib": "plot",
    "onnx": "export",
    "onnxruntime": "export",
    "tf2onnx": "export",
    "onnxscript": "export",
    "ai_edge_litert": "export",
    "jax2onnx": "export-jax",
    "openvino": "openvino",
    "nncf": "openvino",
    "tensorflow": "tensorflow-cpu",
    "jax": "jax",
    "torch": "torch",
}


# Extras that require others (pyproject.toml): naming both would say the same twice.
INCLUDES = {"export-jax": ("export",), "openvino": ("export",)}


def install_hint(*extras):
    """The command that installs `extras`, e.g. `pip install "keras-vit-zoo[plot]"`;
    an extra that another one of them brings is left out."""
    brought = {included for extra in extras for included in INCLUDES.get(extra, ())}
    named = [extra for extra in dict.fromkeys(extras) if extra not in brought]
    return f'pip install "{DISTRIBUTION}[{",".join(named)}]"'


def extra_for(module):
    """The extra that provides `module` (a dotted name: its top level counts), or None."""
    return EXTRAS.get(module.split(".")[0])


def installed(module):
    """Whether `module` can be imported; `importlib.util.find_spec` answers without importing it."""
    spec = importlib.util.find_spec(module)
    # A folder an uninstall left behind imports as a namespace package, without origin.
    return spec is not None and spec.origin is not None


def missing_text(missing, purposes=None):
    """What to say of modules that are not installed, with the extras that
    bring them and the command that installs those, e.g. `the module 'sklearn'
    (for the bundled digits) is not installed; it comes with the 'data' extra:
    pip install "keras-vit-zoo[data]"`.

    Args:
        missing: sequence of str. Import names.
        purposes: dict or None. What each module is for, shown beside it.
    """
    purposes = purposes or {}
    names = [f"{module!r}" + (f" (for {purposes[module]})" if module in purposes else "") for module in missing]
    extras = tuple(dict.fromkeys(extra for extra in map(extra_for, missing) if extra is not None))
    several = len(names) > 1
    text = f"the module{'s' if several else ''} {_listed(names)} {'are' if several else 'is'} not installed"
    if extras:
        quoted = _listed([f"{extra!r}" for extra in extras])
        text += (
            f"; {'they come' if several else 'it comes'} with the {quoted} extra{'s' if len(extras) > 1 else ''}: "
            f"{install_hint(*extras)}"
        )
    return text


def _listed(words):
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
