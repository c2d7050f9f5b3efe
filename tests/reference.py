"""An independent NumPy forward pass of the paper's equations (Eq. 1-4), in float64.

It shares no code with keras_vit: it reads a flat `{weight path: array}` dict
and computes patches, attention and MLPs with plain NumPy.
"""

import math

import numpy as np


def gelu(x, approximate=True):
    if approximate:
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def layer_norm(x, scale, bias, epsilon):
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * scale + bias


def softmax(x):
    x = np.exp(x - x.max(-1, keepdims=True))
    return x / x.sum(-1, keepdims=True)


def vit_forward(params, images, num_heads, pooling="token", approximate_gelu=True, epsilon=1e-6):
    """Logits of a ViT for uint8-range RGB `images` of shape (batch, h, w, c).

    `params` holds Keras weight paths (`"embedding/kernel"`, `"encoderblock_0/
    attn/query/kernel"`, ...) mapped to arrays.
    """
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    x = np.asarray(images, dtype=np.float64) / 127.5 - 1.0
    x = _embed_patches(x, p["embedding/kernel"], p["embedding/bias"])
    if pooling == "token":
        cls = np.broadcast_to(p["cls/token"], (x.shape[0], 1, x.shape[-1]))
        x = np.concatenate([cls, x], axis=1)
    x = x + p["pos_embedding/embedding"]
    block = 0
    while f"encoderblock_{block}/norm1/gamma" in p:
        x = _encoder_block(x, p, f"encoderblock_{block}/", num_heads, approximate_gelu, epsilon)
        block += 1
    x = layer_norm(x, p["encoder_norm/gamma"], p["encoder_norm/beta"], epsilon)
    x = x[:, 0] if pooling == "token" else x.mean(axis=1)
    if "pre_logits/kernel" in p:
        x = np.tanh(x @ p["pre_logits/kernel"] + p["pre_logits/bias"])
    return x @ p["head/kernel"] + p["head/bias"]


def _embed_patches(x, kernel, bias):
    batch, height, width, channels = x.shape
    size = kernel.shape[0]
    patches = x.reshape(batch, height // size, size, width // size, size, channels)
    patches = patches.transpose(0, 1, 3, 2, 4, 5).reshape(batch, -1, size * size * channels)
    return patches @ kernel.reshape(-1, kernel.shape[-1]) + bias


def _encoder_block(x, p, prefix, num_heads, approximate_gelu, epsilon):
    def w(name):
        return p[prefix + name]

    y = layer_norm(x, w("norm1/gamma"), w("norm1/beta"), epsilon)
    batch, tokens, dim = y.shape
    head_dim = dim // num_heads

    def project(name):
        kernel = w(f"attn/{name}/kernel").reshape(dim, dim)
        out = y @ kernel + w(f"attn/{name}/bias").reshape(dim)
        return out.reshape(batch, tokens, num_heads, head_dim).transpose(0, 2, 1, 3)

    q, k, v = project("query"), project("key"), project("value")
    attention = softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_dim))
    mixed = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, dim)
    x = x + mixed @ w("attn/out/kernel").reshape(dim, dim) + w("attn/out/bias")
    y = layer_norm(x, w("norm2/gamma"), w("norm2/beta"), epsilon)
    y = gelu(y @ w("mlp_fc1/kernel") + w("mlp_fc1/bias"), approximate_gelu)
    return x + y @ w("mlp_fc2/kernel") + w("mlp_fc2/bias")


# The hybrid's ResNetV2 stem, written from the original implementation's
# definitions (vit_jax/models_resnet.py): TensorFlow SAME padding, weight
# standardisation with the biased std, GroupNorm(32, epsilon 1e-6).


def same_pads(size, kernel_size, stride):
    """TensorFlow's SAME: output ceil(size / stride); the odd pixel goes after."""
    total = max((-(-size // stride) - 1) * stride + kernel_size - size, 0)
    return total // 2, total - total // 2


def _windows(x, size, stride, pad_value, pads=None):
    pads = pads or [same_pads(n, size, stride) for n in x.shape[1:3]]
    x = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=pad_value)
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))
    return windows[:, ::stride, ::stride]  # (batch, rows, cols, channels, size, size)


def conv_same(x, kernel, stride, pads=None):
    """A bias-free convolution; `pads` overrides SAME's `[(top, bottom), (left, right)]`."""
    return np.einsum("bhwcij,ijco->bhwo", _windows(x, kernel.shape[0], stride, 0.0, pads), kernel)


def std_conv(x, kernel, stride, epsilon=1e-5):
    centered = kernel - kernel.mean(axis=(0, 1, 2))
    return conv_same(x, centered / (centered.std(axis=(0, 1, 2)) + epsilon), stride)


def group_norm(x, scale, bias, groups=32, epsilon=1e-6):
    batch, rows, cols, channels = x.shape
    grouped = x.reshape(batch, rows, cols, groups, channels // groups)
    mean = grouped.mean(axis=(1, 2, 4), keepdims=True)
    variance = grouped.var(axis=(1, 2, 4), keepdims=True)
    normalized = ((grouped - mean) / np.sqrt(variance + epsilon)).reshape(x.shape)
    return normalized * np.reshape(scale, -1) + np.reshape(bias, -1)


def max_pool_same(x, size=3, stride=2):
    return _windows(x, size, stride, -np.inf).max(axis=(-2, -1))


def bottleneck_unit(x, p, prefix, stride):
    """A post-activation unit; `p` holds original keys (`{prefix}conv1/kernel`, `{prefix}gn1/scale`, ...)."""

    def norm(y, name):
        return group_norm(y, p[f"{prefix}{name}/scale"], p[f"{prefix}{name}/bias"])

    shortcut = x
    if f"{prefix}conv_proj/kernel" in p:
        shortcut = norm(std_conv(x, p[f"{prefix}conv_proj/kernel"], stride), "gn_proj")
    y = np.maximum(norm(std_conv(x, p[f"{prefix}conv1/kernel"], 1), "gn1"), 0)
    y = np.maximum(norm(std_conv(y, p[f"{prefix}conv2/kernel"], stride), "gn2"), 0)
    y = norm(std_conv(y, p[f"{prefix}conv3/kernel"], 1), "gn3")
    return np.maximum(shortcut + y, 0)


def resnet_stem(p, x):
    """The root and every `block{s}/unit{u}` that `p` holds, in float64."""
    p = {k: np.asarray(v, np.float64) for k, v in p.items()}
    x = std_conv(np.asarray(x, np.float64), p["conv_root/kernel"], 2)
    x = max_pool_same(np.maximum(group_norm(x, p["gn_root/scale"], p["gn_root/bias"]), 0))
    stage = 1
    while f"block{stage}/unit1/conv1/kernel" in p:
        unit = 1
        while f"block{stage}/unit{unit}/conv1/kernel" in p:
            stride = 2 if stage > 1 and unit == 1 else 1
            x = bottleneck_unit(x, p, f"block{stage}/unit{unit}/", stride)
            unit += 1
        stage += 1
    return x
