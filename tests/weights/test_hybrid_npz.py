"""Original hybrid `.npz` checkpoints: loading against the original equations, inference of the
stem, the published files, and the errors for a checkpoint of another kind."""

import numpy as np
import pytest
import scipy.ndimage

import keras_vit
from keras_vit.models import HYBRID_VARIANTS
from keras_vit.weights import get, infer_architecture, load_weights, names
from keras_vit.weights.formats import flax_npz
from keras_vit.models.pretrained import open_config, resolve_weights
from tests.weights.original import hybrid_arrays, images, original_arrays, original_forward

# The tiny hybrid `hybrid_arrays()` writes: root width 32, stages (1, 1), 40 x 40 -> a 5 x 5 grid.
TINY = dict(resnet_width=0.5, image_size=40, hidden_dim=16, num_layers=2, num_heads=4, mlp_dim=24, num_classes=7)


def _save(tmp_path, arrays, name="hybrid.npz"):
    path = str(tmp_path / name)
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "kwargs, architecture",
    [
        ({}, {"resnet_layers": (1, 1), "resnet_width": 0.5, "patch_size": 1, "image_size": 40}),
        ({"resnet_layers": (), "patch": 2}, {"resnet_layers": (), "patch_size": 2, "image_size": 40}),
    ],
    ids=["stages", "root_only"],
)
def test_from_checkpoint_matches_the_original_equations(tmp_path, kwargs, architecture):
    arrays = hybrid_arrays(**kwargs)
    path = _save(tmp_path, arrays)
    model = keras_vit.from_checkpoint(path)
    inferred = keras_vit.weights.read_checkpoint(path).architecture
    assert {k: inferred[k] for k in architecture} == architecture
    assert inferred["input_channels"] == 3
    batch = images(size=40)
    expected = original_forward(arrays, batch)
    assert expected.std() > 0.5
    np.testing.assert_allclose(model.predict(batch, verbose=0), expected, atol=1e-4)


def test_builder_loads_an_older_file_by_path_at_another_resolution(tmp_path):
    arrays = hybrid_arrays(old_group_norm=True)  # GroupNorm parameters stored as (1, 1, 1, C)
    model = keras_vit.ViTHybrid((1, 1), weights=_save(tmp_path, arrays), **{**TINY, "image_size": 66})
    # 66 -> 33 -> 17 -> 9: SAME padding rounds up, the 5 x 5 grid is zoomed to 9 x 9.
    assert model.get_layer("pos_embedding").grid_size == (9, 9)
    posemb = arrays["Transformer/posembed_input/pos_embedding"]
    zoomed = scipy.ndimage.zoom(posemb[0, 1:].reshape(5, 5, -1), (9 / 5, 9 / 5, 1), order=1)
    resized = {**arrays, "Transformer/posembed_input/pos_embedding": np.concatenate(
        [posemb[:, :1], zoomed.reshape(1, 81, -1)], axis=1)}
    batch = images(count=2, size=66)
    np.testing.assert_allclose(model.predict(batch, verbose=0), original_forward(resized, batch), atol=1e-4)


def _abstract(shapes):
    return {key: np.broadcast_to(np.float32(0), shape) for key, shape in shapes.items()}


def _hybrid_shapes(variant):
    """The stem's convolutions and what the ViT's inference reads, as shapes only."""
    v = HYBRID_VARIANTS[variant]
    width, d = int(64 * v.resnet_width), v.hidden_dim
    shapes = {"conv_root/kernel": (7, 7, 3, width), "gn_root/scale": (1, 1, 1, width)}
    channels = width
    for stage, units in enumerate(v.resnet_layers, 1):
        filters = width * 2 ** (stage - 1)
        for unit in range(1, units + 1):
            shapes[f"block{stage}/unit{unit}/conv1/kernel"] = (1, 1, channels, filters)
            if unit == 1:
                shapes[f"block{stage}/unit{unit}/conv_proj/kernel"] = (1, 1, channels, 4 * filters)
            channels = 4 * filters
    grid = 224 // (4 * 2 ** max(len(v.resnet_layers) - 1, 0) * v.patch_size)
    shapes |= {
        "embedding/kernel": (v.patch_size, v.patch_size, channels, d),
        "cls": (1, 1, d),
        "Transformer/posembed_input/pos_embedding": (1, grid * grid + 1, d),
        "Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel": (d, v.mlp_dim),
        "head/kernel": (d, 21843),
    }
    for block in range(v.num_layers):
        attention = f"Transformer/encoderblock_{block}/MultiHeadDotProductAttention_1/query/kernel"
        shapes[attention] = (d, v.num_heads, d // v.num_heads)
    return _abstract(shapes)


@pytest.mark.parametrize("variant", sorted(HYBRID_VARIANTS))
def test_every_hybrid_is_recovered(variant):
    architecture = infer_architecture(flax_npz.convert(_hybrid_shapes(variant)), "abstract", "gelu_tanh")
    expected = vars(HYBRID_VARIANTS[variant])
    assert {k: architecture[k] for k in expected} == expected
    assert architecture["image_size"] == 224 and architecture["input_channels"] == 3


def test_group_norm_parameters_of_old_files_are_flattened():
    converted = flax_npz.convert({"gn_root/scale": np.ones((1, 1, 1, 64), np.float32),
                                  "block1/unit2/gn_proj/bias": np.zeros((1, 1, 1, 256), np.float32)})
    assert converted["gn_root/gamma"].shape == (64,)
    assert converted["block1/unit2/gn_proj/beta"].shape == (256,)


def test_published_hybrids():
    assert get("R50+B/16", "imagenet21k").url == "https://storage.googleapis.com/vit_models/imagenet21k/R50+ViT-B_16.npz"
    fine_tuned = get("R50+B/16", "imagenet21k+imagenet2012")
    assert fine_tuned.url.endswith("/imagenet21k+imagenet2012/R50+ViT-B_16.npz") and fine_tuned.image_size == 384
    # The two R50+ViT-B_16.npz files must not share a cache file.
    assert get("R50+B/16", "imagenet21k").filename != fine_tuned.filename
    assert get("R+Ti/16", "augreg-i21k-ft-i1k-384").url.endswith(
        "augreg/R_Ti_16-i21k-300ep-lr_0.001-aug_none-wd_0.03-do_0.0-sd_0.0"
        "--imagenet2012-steps_20k-lr_0.03-res_384.npz"
    )
    assert names("R26+S/32") == ["augreg-i21k", "augreg-i21k-ft-i1k-224", "augreg-i21k-ft-i1k-384"]
    config, open_fields = open_config({**vars(HYBRID_VARIANTS["R50+B/16"]), "image_size": None,
                                       "num_classes": None, "representation_size": None})
    config, entry = resolve_weights(config, "imagenet21k", open_fields)
    assert entry.variant == "R50+B/16"
    assert (config.image_size, config.num_classes, config.representation_size) == ((224, 224), 21843, 768)
    given, _ = resolve_weights(open_config({**vars(HYBRID_VARIANTS["R50+B/16"]), "num_classes": 5})[0],
                               "imagenet21k", {"image_size", "representation_size"})
    assert (given.num_classes, given.representation_size) == (5, 768)


def test_plain_checkpoint_into_a_hybrid_builder(tmp_path):
    path = _save(tmp_path, original_arrays(), "plain.npz")
    with pytest.raises(ValueError, match=r"plain.npz is a plain ViT checkpoint \(no ResNet stem: no 'conv_root/kernel'\); "
                                         r"this builder or model is a hybrid with resnet_layers=\(1, 1\)"):
        keras_vit.ViTHybrid((1, 1), weights=path, **TINY)


def test_hybrid_checkpoint_into_a_plain_builder(tmp_path):
    path = _save(tmp_path, hybrid_arrays())
    with pytest.raises(ValueError, match=r"hybrid.npz is a hybrid checkpoint \(a ResNet stem, resnet_layers=\(1, 1\)\); "
                                         r"this builder or model is a plain ViT"):
        keras_vit.ViT(image_size=40, patch_size=8, hidden_dim=16, num_layers=2, num_heads=4, mlp_dim=24, weights=path)


def test_stem_of_other_depths(tmp_path):
    path = _save(tmp_path, hybrid_arrays(resnet_layers=(2, 1)))
    with pytest.raises(ValueError, match=r"hybrid.npz has a ResNet stem of other stage depths: resnet_layers=\(2, 1\); "
                                         r"this builder or model expects resnet_layers=\(1, 1\)"):
        keras_vit.ViTHybrid((1, 1), weights=path, **TINY)


def test_load_weights_checks_the_stem_too(tmp_path):
    model = keras_vit.ViTHybrid((1,), **{**TINY, "image_size": 16})
    with pytest.raises(ValueError, match=r"plain.npz is a plain ViT checkpoint .*resnet_layers=\(1,\)"):
        load_weights(model, _save(tmp_path, original_arrays(), "plain.npz"))
    with pytest.raises(ValueError, match=r"other stage depths: resnet_layers=\(1, 1\); .*expects resnet_layers=\(1,\)"):
        load_weights(model, _save(tmp_path, hybrid_arrays()))


def test_timm_hybrid_is_refused(tmp_path):
    from safetensors.numpy import save_file

    path = str(tmp_path / "vit_base_r50_s16_224.safetensors")
    save_file({"patch_embed.proj.weight": np.zeros((8, 1024, 1, 1), np.float32),
               "patch_embed.backbone.stem.conv.weight": np.zeros((64, 3, 7, 7), np.float32)}, path)
    with pytest.raises(ValueError, match=r"timm checkpoint is a hybrid ViT .*original .npz files only"):
        keras_vit.from_checkpoint(path)
