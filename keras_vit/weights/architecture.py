"""The architecture a checkpoint's arrays imply: sizes from shapes, heads, and the ResNet stem."""

import math

from keras_vit import variants


def stem_depths(paths):
    """The units per ResNet stage that weight paths hold; None without a stem.

    A hybrid's stem is `conv_root`, then `block{s}/unit{u}/...` for every stage
    `s` and unit `u`, as in the original checkpoints; `()` is the root alone.
    """
    paths = set(paths)
    if "conv_root/kernel" not in paths:
        return None
    depths = []
    while f"block{len(depths) + 1}/unit1/conv1/kernel" in paths:
        stage, units = len(depths) + 1, 1
        while f"block{stage}/unit{units + 1}/conv1/kernel" in paths:
            units += 1
        depths.append(units)
    return tuple(depths)


def stem_mismatch(found, expected, source):
    """An error message if a checkpoint's stem is not the expected one, else None.

    `found` and `expected` are `stem_depths` results: None for a plain ViT.
    """
    if found == expected:
        return None
    if expected is None:
        return (
            f"{source} is a hybrid checkpoint (a ResNet stem, resnet_layers={found}); "
            "this builder or model is a plain ViT without a stem. keras_vit.ViTHybrid "
            "or keras_vit.from_checkpoint builds it."
        )
    if found is None:
        return (
            f"{source} is a plain ViT checkpoint (no ResNet stem: no 'conv_root/kernel'); "
            f"this builder or model is a hybrid with resnet_layers={expected}. "
            "keras_vit.ViT or keras_vit.from_checkpoint builds it."
        )
    return (
        f"{source} has a ResNet stem of other stage depths: resnet_layers={found}; "
        f"this builder or model expects resnet_layers={expected}."
    )


def infer_architecture(arrays, path, activation):
    """Builder keyword arguments from converted arrays' shapes alone.

    `activation` is the MLP's, which no shape shows. A hybrid's also holds
    `resnet_layers` and `resnet_width`; a plain ViT's has neither. The ViT
    family's parts show in the weight paths: a distillation token
    (`dist/token`), registers (`registers/tokens`), LayerScale
    (`encoderblock_0/ls1/gamma`), a LayerNorm before the encoder
    (`pre_norm/gamma`), attention pooling (`pooling/probe`), a projection
    (`projection/kernel`), and missing query or patch-embedding biases.
    """
    if "embedding/kernel" not in arrays or "encoderblock_0/attn/query/kernel" not in arrays:
        raise ValueError(f"{path} has no patch embedding or first encoder block: not a ViT checkpoint.")
    patch, _, channels, width = arrays["embedding/kernel"].shape
    tokens = _tokens(arrays)
    stem = _stem(arrays)
    stride = patch
    if stem:
        channels = arrays["conv_root/kernel"].shape[2]
        stride *= variants.stem_stride(stem["resnet_layers"])
    architecture = {
        "patch_size": int(patch),
        "hidden_dim": int(width),
        "num_layers": _count_blocks(arrays),
        "num_heads": int(arrays["encoderblock_0/attn/query/kernel"].shape[1]),
        "mlp_dim": _mlp_dim(arrays),
        "input_channels": int(channels),
        **tokens,
        "image_size": _image_size(arrays, stride, int(tokens["class_token"]) + int(tokens["distillation_token"]), path),
        "activation": activation,
        "include_top": "head/kernel" in arrays,
        "representation_size": None,
        "layer_scale_init": LAYER_SCALE_INIT if "encoderblock_0/ls1/gamma" in arrays else None,
        "pre_norm": "pre_norm/gamma" in arrays,
        "qkv_bias": "encoderblock_0/attn/query/bias" in arrays,
        "patch_bias": "embedding/bias" in arrays,
        "projection_dim": int(arrays["projection/kernel"].shape[1]) if "projection/kernel" in arrays else None,
        **stem,
    }
    if "pre_logits/kernel" in arrays:
        architecture["representation_size"] = int(arrays["pre_logits/kernel"].shape[1])
    if "head/kernel" in arrays:
        architecture["num_classes"] = int(arrays["head/kernel"].shape[1])
    return architecture


# What a checkpoint's LayerScale is built with before its values load (DINOv2's
# training value); only a model trained from scratch sees it.
LAYER_SCALE_INIT = 1e-5


def _mlp_dim(arrays):
    """The MLP's hidden width: the second Dense's input (a gated MLP's first
    Dense is twice as wide), or the first's output where only it is given."""
    if "encoderblock_0/mlp_fc2/kernel" in arrays:
        return int(arrays["encoderblock_0/mlp_fc2/kernel"].shape[0])
    return int(arrays["encoderblock_0/mlp_fc1/kernel"].shape[1])


def _tokens(arrays):
    """The prefix tokens and pooling the arrays' paths show."""
    class_token = "cls/token" in arrays
    if "pooling/probe" in arrays:
        pooling = "map"
    else:
        pooling = "token" if class_token else "gap"
    registers = arrays.get("registers/tokens")
    return {
        "pooling": pooling,
        "class_token": class_token,
        "distillation_token": "dist/token" in arrays,
        "num_registers": 0 if registers is None else int(registers.shape[1]),
    }


def _stem(arrays):
    depths = stem_depths(arrays)
    if depths is None:
        return {}
    root_width = arrays["conv_root/kernel"].shape[-1]
    factor = root_width / 64
    return {"resnet_layers": depths, "resnet_width": int(factor) if factor.is_integer() else factor}


def _count_blocks(arrays):
    count = 0
    while f"encoderblock_{count}/attn/query/kernel" in arrays:
        count += 1
    return count


def _image_size(arrays, stride, prefix, path):
    tokens = arrays["pos_embedding/embedding"].shape[1] - prefix
    side = math.isqrt(tokens)
    if side * side != tokens:
        raise ValueError(
            f"{path}: {tokens} position embeddings form no square grid; pass "
            "image_size=(height, width) to say which grid they were trained on."
        )
    return int(side * stride)


def heads_for(width, depth, path):
    """The attention heads of a `width`-wide, `depth`-deep model whose file does not
    say: the variant table's for the paper's and the family's published sizes;
    any other size is refused, since a wrong guess loads a model that runs and
    computes something else."""
    heads = variants.heads_of(width, depth)
    if heads is not None:
        return heads
    raise ValueError(
        f"{path} does not say how many attention heads its model has (its query, key and "
        f"value kernels do not show them), and width {width} with {depth} blocks is none of the "
        "published sizes. Pass num_heads=... (keras-vit convert --num-heads N)."
    )
