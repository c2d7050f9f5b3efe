"""Checkpoints in the original layouts, written by the tests, and a NumPy forward
pass that reads the original Flax key names directly."""

import numpy as np

from tests.reference import gelu, layer_norm, resnet_stem, softmax

TINY = dict(patch=8, width=16, depth=2, heads=4, mlp=24, classes=7, image=32)


def original_arrays(seed=0, pooling="token", representation=None, **sizes):
    """Random weights of a small ViT, keyed as google-research/vision_transformer."""
    s = {**TINY, **sizes}
    rng = np.random.default_rng(seed)
    w, h, k = s["width"], s["heads"], s["width"] // s["heads"]

    def normal(*shape, scale=0.2):
        return rng.normal(scale=scale, size=shape).astype(np.float32)

    tokens = (s["image"] // s["patch"]) ** 2 + (1 if pooling == "token" else 0)
    arrays = {
        "embedding/kernel": normal(s["patch"], s["patch"], 3, w, scale=0.05),
        "embedding/bias": normal(w),
        "Transformer/posembed_input/pos_embedding": normal(1, tokens, w),
        "Transformer/encoder_norm/scale": 1 + normal(w),
        "Transformer/encoder_norm/bias": normal(w),
        "head/kernel": normal(representation or w, s["classes"], scale=0.5),
        "head/bias": normal(s["classes"]),
    }
    if pooling == "token":
        arrays["cls"] = normal(1, 1, w)
    if representation:
        arrays["pre_logits/kernel"] = normal(w, representation)
        arrays["pre_logits/bias"] = normal(representation)
    for i in range(s["depth"]):
        b = f"Transformer/encoderblock_{i}/"
        for norm in ("LayerNorm_0", "LayerNorm_2"):
            arrays[f"{b}{norm}/scale"] = 1 + normal(w)
            arrays[f"{b}{norm}/bias"] = normal(w)
        for part in ("query", "key", "value"):
            arrays[f"{b}MultiHeadDotProductAttention_1/{part}/kernel"] = normal(w, h, k)
            arrays[f"{b}MultiHeadDotProductAttention_1/{part}/bias"] = normal(h, k)
        arrays[f"{b}MultiHeadDotProductAttention_1/out/kernel"] = normal(h, k, w)
        arrays[f"{b}MultiHeadDotProductAttention_1/out/bias"] = normal(w)
        arrays[f"{b}MlpBlock_3/Dense_0/kernel"] = normal(w, s["mlp"])
        arrays[f"{b}MlpBlock_3/Dense_0/bias"] = normal(s["mlp"])
        arrays[f"{b}MlpBlock_3/Dense_1/kernel"] = normal(s["mlp"], w)
        arrays[f"{b}MlpBlock_3/Dense_1/bias"] = normal(w)
    return arrays


def original_forward(arrays, images):
    """Logits from original-layout arrays: tanh GELU, LayerNorm epsilon 1e-6, float64.

    A hybrid's arrays (`conv_root/kernel`, ...) run the ResNet stem first.
    """
    p = {key: np.asarray(value, np.float64) for key, value in arrays.items()}
    x = np.asarray(images, np.float64) / 127.5 - 1
    if "conv_root/kernel" in p:
        x = resnet_stem(p, x)
    kernel = p["embedding/kernel"]
    size, batch, channels = kernel.shape[0], x.shape[0], x.shape[-1]
    gh, gw = x.shape[1] // size, x.shape[2] // size
    patches = x.reshape(batch, gh, size, gw, size, channels).transpose(0, 1, 3, 2, 4, 5).reshape(batch, gh * gw, -1)
    x = patches @ kernel.reshape(-1, kernel.shape[-1]) + p["embedding/bias"]
    if "cls" in p:
        x = np.concatenate([np.broadcast_to(p["cls"], (batch, 1, x.shape[-1])), x], axis=1)
    x = x + p["Transformer/posembed_input/pos_embedding"]
    i = 0
    while f"Transformer/encoderblock_{i}/LayerNorm_0/scale" in p:
        x = _block(x, {k.split("/", 2)[2]: v for k, v in p.items() if k.startswith(f"Transformer/encoderblock_{i}/")})
        i += 1
    x = layer_norm(x, p["Transformer/encoder_norm/scale"], p["Transformer/encoder_norm/bias"], 1e-6)
    x = x[:, 0] if "cls" in p else x.mean(axis=1)
    if "pre_logits/kernel" in p:
        x = np.tanh(x @ p["pre_logits/kernel"] + p["pre_logits/bias"])
    return x @ p["head/kernel"] + p["head/bias"]


def _block(x, w):
    attention = "MultiHeadDotProductAttention_1/"
    y = layer_norm(x, w["LayerNorm_0/scale"], w["LayerNorm_0/bias"], 1e-6)
    q, k, v = (np.einsum("btd,dhk->bthk", y, w[f"{attention}{n}/kernel"]) + w[f"{attention}{n}/bias"]
               for n in ("query", "key", "value"))
    probs = softmax(np.einsum("bqhk,bthk->bhqt", q, k) / np.sqrt(q.shape[-1]))
    mixed = np.einsum("bhqt,bthk->bqhk", probs, v)
    x = x + np.einsum("bqhk,hkd->bqd", mixed, w[f"{attention}out/kernel"]) + w[f"{attention}out/bias"]
    y = layer_norm(x, w["LayerNorm_2/scale"], w["LayerNorm_2/bias"], 1e-6)
    y = gelu(y @ w["MlpBlock_3/Dense_0/kernel"] + w["MlpBlock_3/Dense_0/bias"], approximate=True)
    return x + y @ w["MlpBlock_3/Dense_1/kernel"] + w["MlpBlock_3/Dense_1/bias"]


def hybrid_arrays(seed=0, resnet_layers=(1, 1), root_width=32, image=40, patch=1, old_group_norm=False, **sizes):
    """Random weights of a small hybrid in the original layout: the ResNet stem's
    `conv_root`, `gn_root` and `block{s}/unit{u}/...`, then a ViT on its feature map.

    `old_group_norm` stores GroupNorm parameters as `(1, 1, 1, C)`, as files
    written before Flax Linen do.
    """
    rng = np.random.default_rng(seed + 100)
    stem = {"conv_root/kernel": rng.normal(size=(7, 7, 3, root_width)).astype(np.float32)}
    stem.update(_group_norm_arrays(rng, "gn_root", root_width))
    channels = root_width
    for stage, units in enumerate(resnet_layers, 1):
        filters = root_width * 2 ** (stage - 1)
        for unit in range(1, units + 1):
            prefix = f"block{stage}/unit{unit}/"
            shapes = {"conv1": (1, 1, channels, filters), "conv2": (3, 3, filters, filters),
                      "conv3": (1, 1, filters, 4 * filters)}
            if unit == 1:
                shapes["conv_proj"] = (1, 1, channels, 4 * filters)
            for conv, shape in shapes.items():
                stem[f"{prefix}{conv}/kernel"] = rng.normal(size=shape).astype(np.float32)
                norm = conv.replace("conv", "gn")
                stem.update(_group_norm_arrays(rng, prefix + norm, shape[-1]))
            channels = 4 * filters
    if old_group_norm:
        stem = {k: v.reshape(1, 1, 1, -1) if "/gn" in k or k.startswith("gn") else v for k, v in stem.items()}
    stride = 4 * 2 ** max(len(resnet_layers) - 1, 0)
    arrays = original_arrays(seed, patch=patch, image=image // stride, **sizes)
    width = arrays["embedding/bias"].size
    arrays["embedding/kernel"] = rng.normal(scale=0.05, size=(patch, patch, channels, width)).astype(np.float32)
    return {**stem, **arrays}


def _group_norm_arrays(rng, name, channels):
    return {
        f"{name}/scale": (1 + rng.normal(scale=0.2, size=channels)).astype(np.float32),
        f"{name}/bias": rng.normal(scale=0.2, size=channels).astype(np.float32),
    }


def images(count=3, size=32, seed=5):
    return np.random.default_rng(seed).uniform(0, 255, size=(count, size, size, 3)).astype(np.float32)
