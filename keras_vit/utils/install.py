"""The distribution's name and its extras: every install hint keras_vit prints comes from here.

The package imports as `keras_vit` and its command is `keras-vit`, but it is
distributed as `keras-vit-zoo`: `keras-vit` on the package index is an
unrelated project, so `pip install keras-vit[plot]` would install that.
"""

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


def install_hint(extra):
    """The command that installs `extra`, e.g. `pip install "keras-vit-zoo[plot]"`."""
    return f'pip install "{DISTRIBUTION}[{extra}]"'


def extra_for(module):
    """The extra that provides `module` (a dotted name: its top level counts), or None."""
    return EXTRAS.get(module.split(".")[0])
