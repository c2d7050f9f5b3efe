"""A data source's split as the `(images, labels)` batches `few_shot` takes, sized for a model."""

from keras_vit.data.pipeline import eval_pipeline
from keras_vit.models.vision_transformer import input_size
from keras_vit.preprocessing import OFFSET, SCALE, includes_preprocessing


def split_batches(source, split, model, batch_size, crop_fraction=0.875):
    """`source.splits[split]` resized and centre-cropped to `model`'s input.

    The images go through `keras_vit.data.eval_pipeline` at the model's
    `image_size` (a dynamic-size model's built size), so that the central
    `crop_fraction` fills the input; big_vision's few-shot pipeline resizes
    to 256 and crops 224, a fraction of 0.875. Pixels stay in `[0, 255]`
    unless `model` was built with `include_preprocessing=False`, which takes
    `[-1, 1]`.

    Args:
        source: `keras_vit.data.Source`.
        split: str. "train", "validation" or "test".
        model: keras.Model. A keras_vit model.
        batch_size: int. Examples per batch.
        crop_fraction: float in (0, 1]. Defaults to 0.875.

    Returns:
        A `tf.data.Dataset` of `(float32 images, int32 labels)` batches.
    """
    import tensorflow as tf

    if split not in source.splits:
        raise ValueError(f"`split` must be one of {sorted(source.splits)}. Received: split={split!r}")
    data = eval_pipeline(
        source.splits[split], source.num_classes, input_size(model), batch_size, crop_fraction
    )
    # In tf.data, on every backend: `preprocess_input`'s scaling in TensorFlow's arithmetic.
    scale, offset = (1.0, 0.0) if includes_preprocessing(model) else (SCALE, OFFSET)
    return data.map(
        lambda images, one_hot: (images * scale + offset, tf.argmax(one_hot, axis=-1, output_type=tf.int32))
    )
