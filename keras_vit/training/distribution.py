"""Training on several devices: data and model parallelism through each engine's own API.

JAX uses Keras' distribution API (`keras.distribution.DataParallel`, and
`ModelParallel` with `layout_map` sharding the attention and MLP kernels
Megatron-style over the `"model"` axis of a device mesh). TensorFlow uses
`tf.distribute` strategies, whose `scope()` must hold model building and
`compile`. Keras has no multi-device support for PyTorch models; run the
PyTorch backend on one device, or use JAX or TensorFlow for several.
"""

import keras

from keras_vit.utils.validation import check_choice, check_positive_int

KINDS = ("data", "model")

def layout_map(device_mesh, model_axis="model"):
    """Shards each block's attention heads and MLP hidden units over `model_axis`.

    Query/key/value kernels `(D, heads, head_dim)` split on heads, the output
    kernel `(heads, head_dim, D)` on heads, `mlp_fc1` `(D, mlp)` on its outputs
    and `mlp_fc2` `(mlp, D)` on its inputs, so each device holds `1/n` of every
    block and an all-reduce joins the partial sums after `out` and `mlp_fc2`.
    Everything else is replicated. Head count and MLP width must be divisible
    by the size of `model_axis`.

    Args:
        device_mesh: `keras.distribution.DeviceMesh` with an axis `model_axis`.
        model_axis: str. Name of the mesh axis to shard over. Defaults to `"model"`.

    Returns:
        A `keras.distribution.LayoutMap`.
    """
    layouts = keras.distribution.LayoutMap(device_mesh)
    layouts[r".*attn/(query|key|value)/kernel"] = (None, model_axis, None)
    layouts[r".*attn/(query|key|value)/bias"] = (model_axis, None)
    layouts[r".*attn/out/kernel"] = (model_axis, None, None)
    layouts[r".*mlp_fc1/kernel"] = (None, model_axis)
    layouts[r".*mlp_fc1/bias"] = (model_axis,)
    layouts[r".*mlp_fc2/kernel"] = (model_axis, None)
    return layouts


def distribute(kind="data", model_parallel=2, devices=None, multi_worker=False):
    """Sets up training over several devices for the current backend.

    Args:
        kind: str. `"data"`: every device holds all weights and a slice of each
            batch. `"model"` (JAX only): a `(batch, model)` device mesh with
            `model_parallel` devices sharing each block's weights
            (`layout_map`), for variants too large for one device (ViT-L,
            ViT-H). Defaults to `"data"`.
        model_parallel: int. Devices per model replica for `kind="model"`; must
            divide the device count. Defaults to 2.
        devices: list or None. Devices to use (`keras.distribution.list_devices()`
            names on JAX, `tf.config` names on TensorFlow); None for all.
            Defaults to None.
        multi_worker: bool. Join a multi-process job first: on JAX
            `keras.distribution.initialize()` (reads the `KERAS_DISTRIBUTION_*`
            variables or the cluster's own, see `jax.distributed.initialize`),
            on TensorFlow `tf.distribute.MultiWorkerMirroredStrategy` (reads
            `TF_CONFIG`; Keras 3.15's `fit` needs
            `keras_vit.training.placement.prepare_fit` under it).
            Defaults to False.

    Returns:
        On JAX the `keras.distribution.Distribution`, already set globally; on
        TensorFlow a `tf.distribute.Strategy`: build and compile the model
        inside `with strategy.scope():`.
    """
    check_choice("kind", kind, KINDS)
    backend = keras.backend.backend()
    if backend == "jax":
        return _jax(kind, check_positive_int("model_parallel", model_parallel), devices, multi_worker)
    if backend == "tensorflow":
        if kind == "model":
            raise ValueError(
                "kind='model' needs the JAX backend (Keras' ModelParallel); on "
                "TensorFlow use kind='data'."
            )
        return _tensorflow(devices, multi_worker)
    raise ValueError(
        f"Keras has no multi-device training for the {backend!r} backend; use "
        "KERAS_BACKEND=jax (data or model parallel) or tensorflow (data parallel)."
    )


def _jax(kind, model_parallel, devices, multi_worker):
    if multi_worker:
        keras.distribution.initialize()
    devices = devices or keras.distribution.list_devices()
    if kind == "data":
        distribution = keras.distribution.DataParallel(devices=devices)
    else:
        if len(devices) % model_parallel:
            raise ValueError(
                f"`model_parallel` must divide the number of devices ({len(devices)}). "
                f"Received: model_parallel={model_parallel}"
            )
        mesh = keras.distribution.DeviceMesh(
            (len(devices) // model_parallel, model_parallel), ["batch", "model"], devices
        )
        distribution = keras.distribution.ModelParallel(
            layout_map=layout_map(mesh), batch_dim_name="batch"
        )
    keras.distribution.set_distribution(distribution)
    return distribution


def _tensorflow(devices, multi_worker):
    import tensorflow as tf

    if multi_worker:
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.MirroredStrategy(devices)
