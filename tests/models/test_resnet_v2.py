"""BiT's ResNetV2 (the paper's ResNet baseline) against HF transformers' `BitForImageClassification`."""

import pathlib
import re

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit import variants
from keras_vit.weights.load import load_weights

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")

# A tiny BiT: 2 units in the first stage (one without a projection), width 0.5
# (32 root channels, the fewest 32 GroupNorm groups allow), an odd input size.
LAYERS, WIDTH, SIZE, CLASSES = (2, 1, 1, 1), 0.5, (35, 40), 5
COUNTS = {
    "R50x1": 25_549_352,
    "R50x3": 217_319_080,
    "R101x1": 44_541_480,
    "R101x3": 387_934_888,
    "R152x4": 936_533_224,
}


def _hf_config(layers, width, **kwargs):
    # HF scales the stages' widths by width_factor but not the root's or the final
    # norm's, so the config spells every width out.
    return transformers.BitConfig(
        depths=list(layers), embedding_size=int(64 * width),
        hidden_sizes=[int(256 * width * 2**i) for i in range(4)], **kwargs,
    )


def _random_hf_bit():
    """HF's BiT with every weight random: GroupNorm scales and offsets, head bias too."""
    torch.manual_seed(0)
    model = transformers.BitForImageClassification(_hf_config(LAYERS, WIDTH, num_labels=CLASSES)).eval()
    with torch.no_grad():
        for name, tensor in model.named_parameters():
            if tensor.ndim == 1:
                tensor.normal_(1.0 if "norm" in name and name.endswith("weight") else 0.0, 0.3)
            elif name.startswith("classifier"):
                tensor.normal_(0.0, 0.3)
    return model


def _timm_name(key):
    """timm's `resnetv2_*_bit` name of a HF BiT parameter, written out independently."""
    key = key.replace("bit.embedder.convolution.", "stem.conv.").replace("bit.encoder.stages.", "stages.")
    key = re.sub(r"^(stages\.\d+)\.layers\.", r"\1.blocks.", key)
    return key.replace("bit.norm.", "norm.").replace("classifier.1.", "head.fc.")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bit")
    hf = _random_hf_bit()
    hf.save_pretrained(folder / "hf")
    timm_state = {_timm_name(k): v.detach().clone() for k, v in hf.state_dict().items()}
    # timm's head is a 1x1 convolution.
    timm_state["head.fc.weight"] = timm_state["head.fc.weight"][:, :, None, None]
    safetensors_torch.save_file(timm_state, folder / "resnetv2_bit.safetensors")
    torch.save({"state_dict": timm_state}, folder / "resnetv2_bit.pth")
    images = np.random.default_rng(0).uniform(-1, 1, size=(2, *SIZE, 3)).astype("float32")
    with torch.no_grad():
        logits = hf(pixel_values=torch.from_numpy(images.transpose(0, 3, 1, 2).copy())).logits.numpy()
    return folder, images, logits


def _build(weights=None, **kwargs):
    kwargs = {"image_size": SIZE, "include_preprocessing": False, **kwargs}
    return keras_vit.ResNetV2(LAYERS, WIDTH, weights=weights, **kwargs)


@pytest.fixture(scope="module")
def model(reference):
    return _build(reference[0] / "hf")


def _max_difference(model, reference):
    _, images, logits = reference
    return float(np.max(np.abs(model.predict(images, verbose=0) - logits)))


def test_hf_folder_gives_hf_logits(model, reference):
    assert model.output_shape == (None, CLASSES)  # the classes follow the weights
    difference = _max_difference(model, reference)
    print(f"max |logits - HF| after an HF folder: {difference:.2e}")
    assert difference < 1e-4


def _group_norm(x, gamma, beta, epsilon, groups=32):
    """GroupNorm over NHWC, written out: each group's channels and pixels share one mean and variance."""
    n, h, w, c = x.shape
    grouped = x.reshape(n, h, w, groups, c // groups).astype(np.float64)
    mean = grouped.mean(axis=(1, 2, 4), keepdims=True)
    variance = grouped.var(axis=(1, 2, 4), keepdims=True)
    normalized = ((grouped - mean) / np.sqrt(variance + epsilon)).reshape(n, h, w, c)
    return normalized * gamma + beta


def test_every_group_norm_has_bits_epsilon(model):
    # Activations of standard deviation 1e-3 (variance 1e-6), where the epsilon shows: HF's
    # (and timm's) 1e-5 against the ViT hybrid's 1e-6 changes these outputs threefold, while
    # the end-to-end logits, at the inputs' scale, move by less than their tolerance.
    epsilon = _random_hf_bit().bit.norm.eps
    norms = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.GroupNormalization)]
    assert len(norms) == 3 * sum(LAYERS) + 1  # three in each pre-activation unit, and the final one
    rng = np.random.default_rng(0)
    for layer in norms:
        x = (1e-3 * rng.normal(size=(2, 3, 4, layer.gamma.shape[0]))).astype("float32")
        gamma, beta = (keras.ops.convert_to_numpy(v) for v in (layer.gamma, layer.beta))
        expected = _group_norm(x, gamma, beta, epsilon)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, atol=1e-3, rtol=1e-3, err_msg=layer.name)


def test_timm_state_dict_gives_the_same_model(model, reference):
    folder = reference[0]
    from_timm = _build(folder / "resnetv2_bit.safetensors")
    for ours, theirs in zip(model.weights, from_timm.weights, strict=True):
        assert ours.path == theirs.path
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(ours), keras.ops.convert_to_numpy(theirs))
    for variable in model.weights:  # a .pth file loads into the HF-loaded model anew
        variable.assign(np.zeros(variable.shape, "float32"))
    load_weights(model, folder / "resnetv2_bit.pth")
    difference = _max_difference(model, reference)
    print(f"max |logits - HF| after a timm .pth: {difference:.2e}")
    assert difference < 1e-4


def _timm_file(folder, name, change):
    state = safetensors_torch.load_file(folder / "resnetv2_bit.safetensors")
    change(state)
    path = folder / name
    safetensors_torch.save_file(state, path)
    return path


@pytest.mark.parametrize(
    "name, change, message",
    [
        ("missing.safetensors", lambda s: s.pop("stages.1.blocks.0.norm2.bias"),
         r"has no array for 1 of the model's weights: block2/unit1/gn2/beta"),
        ("unused.safetensors", lambda s: s.update({"stages.0.blocks.0.se.fc.weight": s["norm.bias"].clone()}),
         r"not part of BiT's ResNetV2: stages\.0\.blocks\.0\.se\.fc\.weight"),
        ("shape.safetensors", lambda s: s.update({"stages.3.blocks.0.norm3.weight": s["norm.bias"].clone()}),
         r"Shape mismatch for weight 'block4/unit1/gn3/gamma': .* has \(1024,\), the model expects \(256,\)"),
    ],
)
def test_loading_is_strict_and_all_or_nothing(model, reference, name, change, message):
    before = [keras.ops.convert_to_numpy(v) for v in model.weights]
    with pytest.raises(ValueError, match=message):
        load_weights(model, _timm_file(reference[0], name, change))
    for variable, value in zip(model.weights, before):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), value)


def test_another_architecture_or_a_vit_checkpoint_is_refused(reference):
    folder = reference[0]
    with pytest.raises(ValueError, match=r"another ResNetV2 \(layers=\(2, 1, 1, 1\), width=0\.5\); "
                                         r"this builder expects layers=\(3, 4, 6, 3\), width=1"):
        keras_vit.ResNetV2R50x1(weights=folder / "hf")
    hf = folder / "hf"
    config = (hf / "config.json").read_text()
    same = folder / "same_padding"
    same.mkdir()
    (same / "model.safetensors").write_bytes((hf / "model.safetensors").read_bytes())
    (same / "config.json").write_text(config.replace('"global_padding": null', '"global_padding": "SAME"'))
    with pytest.raises(ValueError, match=r"global_padding='SAME'; keras_vit.ResNetV2 computes"):
        _build(same)
    with pytest.raises(ValueError, match=r"keras_vit publishes no named ResNetV2 weights"):
        _build("imagenet21k")
    with pytest.raises(ValueError, match=r"is a BiT ResNetV2 checkpoint, not a Vision Transformer one"):
        keras_vit.ViTB16(weights=folder / "resnetv2_bit.safetensors")


def test_from_checkpoint_builds_the_file_s_resnet(reference):
    model = keras_vit.from_checkpoint(reference[0] / "resnetv2_bit.safetensors", image_size=SIZE)
    assert model.output_shape == (None, CLASSES)
    assert [model.get_layer(f"block{s}").num_units for s in range(1, 5)] == list(LAYERS)


def test_head_and_features(reference):
    folder = reference[0]
    features = _build(folder / "hf", include_top=False, image_size=None)
    assert features.output_shape == (None, 512 * 2)
    assert features.get_layer("block4").output.shape == (None, None, None, 1024)
    fresh = _build(folder / "hf", num_classes=7)
    assert not np.any(keras.ops.convert_to_numpy(fresh.get_layer("head").kernel))


def test_saves_and_loads_as_keras_file(model, tmp_path):
    model.save(tmp_path / "bit.keras")
    restored = keras.saving.load_model(tmp_path / "bit.keras", safe_mode=True)
    assert restored.get_layer("conv_root").get_config()["padding"] == "symmetric"
    # The model keeps its config, with the classes the checkpoint implied.
    assert isinstance(restored, keras_vit.models.ResNetV2Model)
    assert restored.resnet_config == model.resnet_config == keras_vit.models.ResNetV2Config(
        layers=LAYERS, width=WIDTH, image_size=SIZE, num_classes=CLASSES, include_preprocessing=False
    )
    for ours, theirs in zip(model.weights, restored.weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(ours), keras.ops.convert_to_numpy(theirs))


def test_parameter_counts_equal_hf():
    for variant, size in variants.RESNET_VARIANTS.items():
        with torch.device("meta"):  # shapes only
            hf = transformers.BitForImageClassification(_hf_config(size.layers, size.width, num_labels=1000))
        # Counted without drawing the weights (up to 936M): a StatelessScope defers
        # initialisation to its exit, and the cleared session leaves none to do.
        with keras.StatelessScope():
            count = keras_vit.models.RESNET_V2_BUILDERS[variant]().count_params()
            keras.backend.clear_session(free_memory=False)
        assert count == sum(p.numel() for p in hf.parameters()) == COUNTS[variant], variant


def test_the_readme_table_shows_these_counts():
    readme = (pathlib.Path(keras_vit.__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    shown = {}
    for line in readme.splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if cells[0].startswith("ResNetV2R"):
            shown[cells[0]] = (cells[1], cells[2], int(cells[3].replace(",", "")))
    assert shown == {
        variants.resnet_builder_name(v): (str(s.layers), str(s.width), COUNTS[v])
        for v, s in variants.RESNET_VARIANTS.items()
    }


def test_named_builders():
    for variant in variants.RESNET_VARIANTS:
        name = variants.resnet_builder_name(variant)
        assert getattr(keras_vit, name) is keras_vit.models.RESNET_V2_BUILDERS[variant]
        assert name in keras_vit.__all__
    with pytest.raises(ValueError, match=r"BiT-R50x1 fixes layers; use `keras_vit.ResNetV2`"):
        keras_vit.ResNetV2R50x1(layers=(1, 1, 1, 1))


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"layers": (3, 4, 6)}, r"`layers` must be a tuple of 4 positive ints.*Received: layers=\(3, 4, 6\)"),
        ({"layers": (3, 4, 0, 3)}, r"`layers` must be a tuple of 4 positive ints.*Received: layers=\(3, 4, 0, 3\)"),
        ({"layers": (3, 4, 6, 3), "width": 0}, r"`width` must be a positive multiple of 0\.5.*Received: width=0"),
        ({"layers": (3, 4, 6, 3), "width": -1}, r"`width` must be a positive multiple of 0\.5.*Received: width=-1"),
        ({"layers": (3, 4, 6, 3), "width": 0.3}, r"Received: width=0\.3"),
        ({"layers": (3, 4, 6, 3), "image_size": 0}, r"`image_size` must be a positive int"),
        ({"layers": (3, 4, 6, 3), "num_classes": 0}, r"`num_classes` must be a positive integer"),
    ],
)
def test_bad_arguments_are_refused_before_building(arguments, message, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a layer was built")

    monkeypatch.setattr(keras.layers.Layer, "build", refuse)
    with pytest.raises(ValueError, match=message):
        keras_vit.ResNetV2(**arguments)
