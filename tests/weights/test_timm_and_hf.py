"""timm state dicts and HF model folders load and match HF transformers' logits."""

import json

import numpy as np
import pytest

import keras_vit
from tests.hf_reference import hf_logits, random_hf_vit

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")

DIM, HEADS, LAYERS, MLP, PATCH, SIZE, CLASSES = 32, 4, 2, 64, 8, 32, 10


def _hf_model(layer_norm_eps=1e-12, hidden_act="gelu"):
    return random_hf_vit(
        torch, transformers, hidden_size=DIM, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
        intermediate_size=MLP, image_size=SIZE, patch_size=PATCH, num_labels=CLASSES,
        layer_norm_eps=layer_norm_eps, hidden_act=hidden_act,
    )


def _expected(model, pixels):
    return hf_logits(torch, model, pixels)


def _pixels(seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=(3, SIZE, SIZE, 3)).astype(np.float32)


def _timm_state(hf):
    """The HF model's weights in timm's VisionTransformer layout (fused qkv)."""
    s = {k: v.detach().clone() for k, v in hf.state_dict().items()}
    state = {
        "cls_token": s["vit.embeddings.cls_token"],
        "pos_embed": s["vit.embeddings.position_embeddings"],
        "patch_embed.proj.weight": s["vit.embeddings.patch_embeddings.projection.weight"],
        "patch_embed.proj.bias": s["vit.embeddings.patch_embeddings.projection.bias"],
        "norm.weight": s["vit.layernorm.weight"],
        "norm.bias": s["vit.layernorm.bias"],
        "head.weight": s["classifier.weight"],
        "head.bias": s["classifier.bias"],
    }
    for i in range(LAYERS):
        hf_block, block = f"vit.layers.{i}.", f"blocks.{i}."
        for kind in ("weight", "bias"):
            state[f"{block}attn.qkv.{kind}"] = torch.cat(
                [s[f"{hf_block}attention.{p}_proj.{kind}"] for p in ("q", "k", "v")]
            )
            state[f"{block}attn.proj.{kind}"] = s[f"{hf_block}attention.o_proj.{kind}"]
            state[f"{block}norm1.{kind}"] = s[f"{hf_block}layernorm_before.{kind}"]
            state[f"{block}norm2.{kind}"] = s[f"{hf_block}layernorm_after.{kind}"]
            state[f"{block}mlp.fc1.{kind}"] = s[f"{hf_block}mlp.fc1.{kind}"]
            state[f"{block}mlp.fc2.{kind}"] = s[f"{hf_block}mlp.fc2.{kind}"]
    return state


def _no_preprocessing(**kwargs):
    return {"include_preprocessing": False, **kwargs}


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_timm_state_dict_matches_transformers(tmp_path, suffix):
    hf = _hf_model(layer_norm_eps=1e-6, hidden_act="gelu")
    path = str(tmp_path / f"vit{suffix}")
    state = _timm_state(hf)
    if suffix == ".safetensors":
        safetensors_torch.save_file(state, path)
    else:
        torch.save({"state_dict": state}, path)
    # A timm file's fused qkv kernel does not show the heads: name them.
    model = keras_vit.from_checkpoint(path, num_heads=HEADS, **_no_preprocessing())
    assert model.get_layer("encoderblock_0").activation == "gelu"
    pixels = _pixels()
    np.testing.assert_allclose(model.predict(pixels, verbose=0), _expected(hf, pixels), atol=1e-4)


def test_pth_that_needs_code_to_unpickle_is_refused(tmp_path):
    path = str(tmp_path / "evil.pth")
    torch.save({"state_dict": {"x": torch.zeros(1)}, "hook": _Unpicklable()}, path)
    with pytest.raises(ValueError, match=r"evil.pth cannot be loaded as plain tensors .*never runs code"):
        keras_vit.from_checkpoint(path)


class _Unpicklable:
    pass


def test_hf_folder_matches_transformers(tmp_path):
    hf = _hf_model()
    hf.save_pretrained(tmp_path / "hf", safe_serialization=True)
    model = keras_vit.from_checkpoint(str(tmp_path / "hf"), **_no_preprocessing())
    assert model.get_layer("encoderblock_0").layer_norm_epsilon == 1e-12
    pixels = _pixels(1)
    np.testing.assert_allclose(model.predict(pixels, verbose=0), _expected(hf, pixels), atol=1e-4)


def test_hf_folder_with_transformers_4_names(tmp_path):
    hf = _hf_model()
    renames = {"attention.q_proj": "attention.attention.query", "attention.k_proj": "attention.attention.key",
               "attention.v_proj": "attention.attention.value", "attention.o_proj": "attention.output.dense",
               "mlp.fc1": "intermediate.dense", "mlp.fc2": "output.dense", "vit.layers.": "vit.encoder.layer."}
    state = {}
    for key, value in hf.state_dict().items():
        for new, old in renames.items():
            key = key.replace(new, old)
        state[key] = value.contiguous()
    folder = tmp_path / "hub"
    folder.mkdir()
    safetensors_torch.save_file(state, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(hf.config.to_dict()))
    model = keras_vit.from_checkpoint(str(folder), **_no_preprocessing())
    pixels = _pixels(2)
    np.testing.assert_allclose(model.predict(pixels, verbose=0), _expected(hf, pixels), atol=1e-4)


def test_folder_without_weights_is_explained(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="has config.json but no model.safetensors or model.safetensors.index.json"):
        keras_vit.from_checkpoint(str(tmp_path))


def test_hf_vit_model_without_head_keeps_its_pooler(tmp_path):
    torch.manual_seed(0)
    config = transformers.ViTConfig(
        hidden_size=DIM, num_hidden_layers=LAYERS, num_attention_heads=HEADS, intermediate_size=MLP,
        image_size=SIZE, patch_size=PATCH, initializer_range=0.2,
    )
    hf = transformers.ViTModel(config, add_pooling_layer=True).eval()
    hf.save_pretrained(tmp_path / "backbone", safe_serialization=True)
    model = keras_vit.from_checkpoint(str(tmp_path / "backbone"), **_no_preprocessing())
    assert model.output_shape == (None, DIM)
    assert "pre_logits" in [layer.name for layer in model.layers]
    pixels = _pixels(3)
    with torch.no_grad():
        expected = hf(pixel_values=torch.from_numpy(pixels.transpose(0, 3, 1, 2))).pooler_output.numpy()
    np.testing.assert_allclose(model.predict(pixels, verbose=0), expected, atol=1e-4)


def _save_timm(tmp_path, state, name="vit.safetensors"):
    path = str(tmp_path / name)
    safetensors_torch.save_file({k: v.contiguous() for k, v in state.items()}, path)
    return path


def test_timm_keys_that_change_the_computation_are_refused(tmp_path):
    state = _timm_state(_hf_model())
    state["blocks.0.attn.q_norm.weight"] = torch.ones(DIM // HEADS)
    state["fc_norm.weight"] = torch.ones(DIM)
    path = _save_timm(tmp_path, state)
    with pytest.raises(ValueError, match=r"vit.safetensors has weights that are not part of the ViT it would load "
                                         r"into: blocks.0.attn.q_norm.weight, fc_norm.weight \(a LayerNorm after "
                                         r"pooling \(fc_norm\), which keras_vit does not build; query/key"):
        keras_vit.from_checkpoint(path, num_heads=HEADS)


def test_harmless_timm_keys_are_listed_and_loaded(tmp_path):
    hf = _hf_model(layer_norm_eps=1e-6)
    state = _timm_state(hf)
    state["blocks.0.norm1.num_batches_tracked"] = torch.zeros(())
    checkpoint = keras_vit.weights.read_checkpoint(_save_timm(tmp_path, state), num_heads=HEADS)
    assert checkpoint.unused == ("blocks.0.norm1.num_batches_tracked",)
    model = keras_vit.from_checkpoint(checkpoint.path, num_heads=HEADS, **_no_preprocessing())
    pixels = _pixels()
    np.testing.assert_allclose(model.predict(pixels, verbose=0), _expected(hf, pixels), atol=1e-4)


def test_timm_heads_are_never_guessed(tmp_path):
    hf = _hf_model(layer_norm_eps=1e-6)
    path = _save_timm(tmp_path, _timm_state(hf))
    with pytest.raises(ValueError, match=r"vit.safetensors does not say how many attention heads .* width 32 with 2 "
                                         r"blocks is none of the published sizes. Pass num_heads="):
        keras_vit.from_checkpoint(path)
    # timm's config.json beside the weights says how many.
    (tmp_path / "config.json").write_text(json.dumps({"architecture": "vit_custom", "model_args": {"num_heads": HEADS}}))
    with pytest.raises(ValueError, match=r"timm architecture 'vit_custom' is none of the families keras_vit reads: "
                                         r"vit_\* \(the paper's sizes\), deit_\*, deit_\*_distilled_\*, vit_\*_dinov2"):
        keras_vit.from_checkpoint(path)
    config = {"architecture": "vit_base_patch16_224", "model_args": {"num_heads": HEADS}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    model = keras_vit.from_checkpoint(path, **_no_preprocessing())
    assert model.get_layer("encoderblock_0").num_heads == HEADS
    pixels = _pixels()
    np.testing.assert_allclose(model.predict(pixels, verbose=0), _expected(hf, pixels), atol=1e-4)


def test_hf_keys_that_change_the_computation_are_refused(tmp_path):
    hf = _hf_model()
    hf.save_pretrained(tmp_path / "hf", safe_serialization=True)
    state = safetensors_torch.load_file(str(tmp_path / "hf" / "model.safetensors"))
    state["vit.layers.0.attention.q_norm.weight"] = torch.ones(DIM)
    safetensors_torch.save_file(state, str(tmp_path / "hf" / "model.safetensors"))
    with pytest.raises(ValueError, match=r"hf has weights that are not part of .*q_norm.weight \(query/key normalisation"):
        keras_vit.from_checkpoint(str(tmp_path / "hf"))


def test_unknown_keys_are_refused_in_timm_and_hf_files(tmp_path):
    # A weight keras_vit knows nothing about may change the computation: never dropped silently.
    hf = _hf_model()
    state = _timm_state(hf)
    state["blocks.0.foo.weight"] = torch.ones(DIM)
    path = _save_timm(tmp_path, state)
    with pytest.raises(ValueError, match=r"vit.safetensors has weights that are not part of the ViT it would load "
                                         r"into: blocks.0.foo.weight \(a part keras_vit does not know\)"):
        keras_vit.from_checkpoint(path, num_heads=HEADS)
    hf.save_pretrained(tmp_path / "hf", safe_serialization=True)
    state = safetensors_torch.load_file(str(tmp_path / "hf" / "model.safetensors"))
    state["vit.layers.0.foo.weight"] = torch.ones(DIM)
    safetensors_torch.save_file(state, str(tmp_path / "hf" / "model.safetensors"))
    with pytest.raises(ValueError, match=r"hf has weights that are not part of the ViT it would load into: "
                                         r"vit.layers.0.foo.weight \(a part keras_vit does not know\)"):
        keras_vit.from_checkpoint(str(tmp_path / "hf"))
