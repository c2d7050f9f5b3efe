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
