"""Parity with Hugging Face transformers' ViT (PyTorch), an independent implementation."""

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.weights.load import assign_weights
from tests.hf_reference import random_hf_vit

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

DIM, HEADS, LAYERS, MLP, PATCH, SIZE, CLASSES = 32, 4, 3, 64, 8, 32, 10


def _hf_model(image_size=SIZE, hidden_act="gelu_pytorch_tanh"):
    # The original implementation's GELU and LayerNorm epsilon, not HF's defaults.
    return random_hf_vit(
        torch, transformers, hidden_size=DIM, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
        intermediate_size=MLP, image_size=image_size, patch_size=PATCH, num_labels=CLASSES,
        hidden_act=hidden_act, layer_norm_eps=1e-6,
    )


def _to_keras(state):
    """HF (out, in) Linear and (D, C, P, P) conv weights into keras_vit's layout.

    Written against the parameter names of transformers 5.
    """
    s = {k: v.detach().numpy() for k, v in state.items()}
    arrays = {
        "embedding/kernel": s["vit.embeddings.patch_embeddings.projection.weight"].transpose(2, 3, 1, 0),
        "embedding/bias": s["vit.embeddings.patch_embeddings.projection.bias"],
        "cls/token": s["vit.embeddings.cls_token"],
        "pos_embedding/embedding": s["vit.embeddings.position_embeddings"],
        "encoder_norm/gamma": s["vit.layernorm.weight"],
        "encoder_norm/beta": s["vit.layernorm.bias"],
        "head/kernel": s["classifier.weight"].T,
        "head/bias": s["classifier.bias"],
    }
    for i in range(LAYERS):
        hf, ours = f"vit.layers.{i}.", f"encoderblock_{i}/"
        for name, hf_name in (("query", "q_proj"), ("key", "k_proj"), ("value", "v_proj")):
            weight = s[f"{hf}attention.{hf_name}.weight"]
            arrays[f"{ours}attn/{name}/kernel"] = weight.T.reshape(DIM, HEADS, DIM // HEADS)
            arrays[f"{ours}attn/{name}/bias"] = s[f"{hf}attention.{hf_name}.bias"].reshape(HEADS, -1)
        arrays[f"{ours}attn/out/kernel"] = s[f"{hf}attention.o_proj.weight"].T.reshape(HEADS, -1, DIM)
        arrays[f"{ours}attn/out/bias"] = s[f"{hf}attention.o_proj.bias"]
        for norm, hf_norm in (("norm1", "layernorm_before"), ("norm2", "layernorm_after")):
            arrays[f"{ours}{norm}/gamma"] = s[f"{hf}{hf_norm}.weight"]
            arrays[f"{ours}{norm}/beta"] = s[f"{hf}{hf_norm}.bias"]
        for fc in ("fc1", "fc2"):
            arrays[f"{ours}mlp_{fc}/kernel"] = s[f"{hf}mlp.{fc}.weight"].T
            arrays[f"{ours}mlp_{fc}/bias"] = s[f"{hf}mlp.{fc}.bias"]
    return arrays


def _keras_model(image_size=SIZE):
    return keras_vit.ViT(
        image_size=image_size,
        patch_size=PATCH,
        hidden_dim=DIM,
        num_layers=LAYERS,
        num_heads=HEADS,
        mlp_dim=MLP,
        num_classes=CLASSES,
        include_preprocessing=False,
    )


@pytest.mark.parametrize("image_size", [SIZE, 48])
def test_logits_match_transformers(image_size):
    hf = _hf_model(image_size)
    model = _keras_model(image_size)
    report = assign_weights(model, _to_keras(hf.state_dict()))
    assert report.missing == () and report.unused == ()
    pixels = np.random.default_rng(0).uniform(-1, 1, size=(4, 3, image_size, image_size)).astype("float32")
    with torch.no_grad():
        expected = hf(pixel_values=torch.from_numpy(pixels)).logits.numpy()
    logits = model.predict(pixels.transpose(0, 2, 3, 1), verbose=0)
    assert expected.std() > 0.5, "logits too small for a meaningful comparison"
    np.testing.assert_allclose(logits, expected, atol=1e-4)


def test_exact_gelu_matches_transformers_default_activation():
    hf = _hf_model(hidden_act="gelu")
    model = keras_vit.ViT(
        image_size=SIZE, patch_size=PATCH, hidden_dim=DIM, num_layers=LAYERS, num_heads=HEADS,
        mlp_dim=MLP, num_classes=CLASSES, include_preprocessing=False, activation="gelu",
    )
    assign_weights(model, _to_keras(hf.state_dict()))
    pixels = np.random.default_rng(1).uniform(-1, 1, size=(2, 3, SIZE, SIZE)).astype("float32")
    with torch.no_grad():
        expected = hf(pixel_values=torch.from_numpy(pixels)).logits.numpy()
    np.testing.assert_allclose(model.predict(pixels.transpose(0, 2, 3, 1), verbose=0), expected, atol=1e-4)
    keras.utils.clear_session()
