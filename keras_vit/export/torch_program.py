"""A Keras model on the torch backend as a `torch.export` program: batch, and a
dynamic-size model's height and width, left open.

The `.pt2` and ONNX exports from torch both start here. The batch is declared
dynamic with an example batch of 2 (torch.export makes a dimension of size 1 a
constant); a model built with `dynamic_image_size=True` gets its height and
width declared as multiples of the patch stride, so that the patch grid is a
symbol of its own rather than a division.
"""

import keras

from keras_vit.models.vision_transformer import dynamic_patch_stride


def inference_module(model):
    """`model` as a `torch.nn.Module` whose `forward(images)` runs it in inference mode."""
    import torch

    class Inference(torch.nn.Module):
        def __init__(self, wrapped):
            super().__init__()
            # Not a submodule: the traced graph reads the variables' values as
            # constants, not as the Keras layers' registered parameters, which a
            # submodule would add to the program unused, storing every weight twice.
            self._wrapped = (wrapped,)

        def forward(self, images):
            return self._wrapped[0](images, training=False)

    return Inference(model).eval()


def example_and_dynamic_shapes(model):
    """An example input for tracing, and the `dynamic_shapes` of `torch.export` for it."""
    import torch

    dims = {0: torch.export.Dim("batch", min=1)}
    height, width, channels = model.input_shape[1:]
    stride = dynamic_patch_stride(model)
    if stride is not None:
        dims[1] = stride * torch.export.Dim("rows", min=1)
        dims[2] = stride * torch.export.Dim("cols", min=1)
        height, width = 2 * stride, 3 * stride
    # On the device Keras computes on, which is where the model's variables live.
    example = keras.ops.zeros((2, height, width, channels), dtype="float32")
    return example, {"images": dims}


def export_program(model):
    """`torch.export.export` of `model`'s inference call, batch (and height and width) open."""
    import torch

    example, dynamic_shapes = example_and_dynamic_shapes(model)
    return torch.export.export(inference_module(model), (example,), dynamic_shapes=dynamic_shapes)
