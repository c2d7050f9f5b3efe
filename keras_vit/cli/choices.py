"""The values command-line flags choose from, without importing Keras.

A flag's choices are needed to build its parser, and `keras-vit train --help`
must answer at once; the modules that define them (`training.recipes`,
`training.precision`, `export`, ...) import Keras, which loads a backend for
seconds. They are copied here; `tests/cli/test_choices.py` holds each copy
equal to its source, so the two cannot drift apart.
"""

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")  # training.precision.POLICIES
RECIPES = ("finetune", "masked_patch", "pretrain")  # sorted(training.recipes.RECIPES)
DECAYS = ("cosine", "linear")  # training.schedules.DECAYS
LORA_TARGETS = ("query", "key", "value", "out", "mlp_fc1", "mlp_fc2")  # training.lora.LORA_TARGETS
LORA_DEFAULT_TARGETS = ("query", "value")  # training.lora.DEFAULT_TARGETS
DISTILLATIONS = ("hard", "soft")  # training.distillation.DISTILLATIONS
PRETRAIN_TARGETS = ("mean_color", "downsampled_color", "pixels")  # pretraining.targets.TARGETS
EXPORT_FORMATS = ("keras_hub", "litert", "onnx", "openvino", "pt2", "saved_model", "tf_saved_model", "tflite", "torch")  # export.FORMATS and ALIASES
EXPORT_PRECISIONS = ("bfloat16", "dynamic_int8", "float16", "int8", "int8_weights")  # every mode of export.PRECISIONS
