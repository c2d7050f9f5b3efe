"""`MaskedPatchPrediction`: the corruption, the loss on corrupted patches, fit, and the encoder it leaves."""

import re

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit.layers import names
from keras_vit.pretraining import CLEAN, MASK_TOKEN, RANDOM_PATCH, UNCHANGED, MaskedPatchPrediction
from tests.pretraining.test_targets import reference_downsampled, reference_mean_color

TINY = dict(hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=32)


def _vit(image_size=16, patch_size=4, **kwargs):
    return keras_vit.ViT(image_size=image_size, patch_size=patch_size, **{**TINY, "num_classes": 3, **kwargs})


@pytest.fixture(scope="module")
def vit():
    """The 16x16, 4x4-patch model the tests share; only the fit test trains one of its own."""
    return _vit()


@pytest.fixture(scope="module")
def vit100():
    """A 10x10 patch grid, large enough for every rate to give a whole number of patches."""
    return _vit(image_size=40)


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def _numbered_tokens(batch, patches, width):
    """Tokens whose every entry is the token's index in the flattened batch."""
    ids = np.arange(batch * patches, dtype="float32").reshape(batch, patches, 1)
    return np.repeat(ids, width, axis=-1)


def _solid_color_images(count, size=16, seed=0):
    """Images of one colour each, from a palette of 8: every patch tells the colour of the others."""
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (8, 3))
    colors = palette[rng.integers(0, 8, count)]
    return np.broadcast_to(colors[:, None, None, :], (count, size, size, 3)).astype("float32")


def test_corruption_has_the_papers_counts_in_every_image_and_puts_the_right_tokens(vit100):
    mpp = MaskedPatchPrediction(vit100, seed=1)
    assert mpp.counts == (40, 5, 5)
    tokens = _numbered_tokens(4, 100, 16)
    corrupted, codes = (_numpy(t) for t in mpp.corrupt(tokens))
    assert codes.dtype == np.int32 and codes.shape == (4, 100)
    for code, count in ((CLEAN, 50), (MASK_TOKEN, 40), (RANDOM_PATCH, 5), (UNCHANGED, 5)):
        np.testing.assert_array_equal((codes == code).sum(axis=1), count)
    # Each image picks its own patches.
    assert len({tuple(row) for row in codes != CLEAN}) == 4
    mask_token = _numpy(mpp.mask_token)
    assert not np.allclose(mask_token, 0)
    np.testing.assert_array_equal(corrupted[codes == MASK_TOKEN], np.broadcast_to(mask_token, (160, 16)))
    kept = (codes == CLEAN) | (codes == UNCHANGED)
    np.testing.assert_array_equal(corrupted[kept], tokens[kept])
    # A replaced token is another patch's embedding, from anywhere in the batch.
    sources = corrupted[codes == RANDOM_PATCH][:, 0].astype(int)
    own = tokens[codes == RANDOM_PATCH][:, 0].astype(int)
    np.testing.assert_array_equal(corrupted[codes == RANDOM_PATCH], tokens.reshape(-1, 16)[sources])
    assert (sources != own).all()
    assert (sources // 100 != own // 100).any()


def test_the_rates_are_arguments(vit100):
    mpp = MaskedPatchPrediction(
        vit100, mask_rate=0.2, mask_token_rate=0.5, random_patch_rate=0.25,
        unchanged_rate=0.25, seed=0,
    )
    codes = _numpy(mpp.corrupt(_numbered_tokens(4, 100, 16))[1])
    for code, count in ((CLEAN, 80), (MASK_TOKEN, 10), (RANDOM_PATCH, 5), (UNCHANGED, 5)):
        np.testing.assert_array_equal((codes == code).sum(axis=1), count)


def test_the_corruption_is_seeded(vit):
    tokens = _numbered_tokens(2, 16, 16)

    def draws(seed):
        # What each patch became: its code, and for a replaced patch the patch it came from.
        mpp = MaskedPatchPrediction(vit, seed=seed)
        calls = [[_numpy(t) for t in mpp.corrupt(tokens)] for _ in range(2)]
        return [np.where(codes == RANDOM_PATCH, out[..., 0], -codes) for out, codes in calls]

    first, again, other = draws(7), draws(7), draws(8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[0], first[1])  # each call draws afresh
    assert not np.array_equal(first[0], other[0])

    def predictions(seed):
        keras.utils.set_random_seed(0)  # the head's initialisation
        mpp = MaskedPatchPrediction(vit, seed=seed)
        return [_numpy(mpp(_solid_color_images(2))["predictions"]) for _ in range(2)]

    np.testing.assert_array_equal(predictions(7), predictions(7))


def test_predictions_leave_the_prefix_tokens_out(vit):
    for encoder, prefix in ((vit, 1), (_vit(pooling="gap", include_top=False), 0)):
        mpp = MaskedPatchPrediction(encoder, seed=0)
        assert mpp.num_prefix_tokens == prefix
        out = mpp(keras.KerasTensor((2, 16, 16, 3)))  # symbolic: the shapes are the point
        assert tuple(out["predictions"].shape) == (2, 16, 512)
        assert tuple(out["corruption"].shape) == (2, 16)


def test_the_wrapper_trains_every_encoder_weight_but_the_heads_whatever_the_position_embedding():
    encoder = _vit(position_embedding="learned_2d", position_embedding_placement="every_layer", num_layers=2)
    mpp = MaskedPatchPrediction(encoder, seed=0)
    trained = {w.path for w in mpp.trainable_weights}
    expected = {w.path for w in encoder.trainable_weights if not w.path.startswith("head/")}
    # The embeddings added before each block lie between the patch embedding and the final norm.
    for index in range(2):
        assert any(path.startswith(names.position_embedding(index) + "/") for path in expected)
    assert trained == expected | {f"{mpp.name}/mask_token", "prediction_head/kernel", "prediction_head/bias"}


def test_a_hybrid_predicts_the_image_patch_each_token_covers():
    encoder = keras_vit.ViTHybrid(resnet_layers=(), resnet_width=0.5, image_size=32, patch_size=2, **TINY)
    mpp = MaskedPatchPrediction(encoder, seed=0)
    assert mpp.image_patch_size == (8, 8)  # stem stride 4 times patch size 2
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32") * [[[[0.3, 1, 0.6]]]]
    np.testing.assert_array_equal(_numpy(mpp.targets(images)), reference_mean_color(images, 8))
    assert tuple(mpp(keras.KerasTensor((2, 32, 32, 3)))["predictions"].shape) == (2, 16, 512)


def test_without_preprocessing_the_inputs_are_mapped_back_to_pixels():
    mpp = MaskedPatchPrediction(_vit(include_preprocessing=False), seed=0)
    pixels = np.random.default_rng(1).uniform(0, 255, (2, 16, 16, 3)).astype("float32") * 0.5
    targets = _numpy(mpp.targets(keras_vit.preprocess_input(pixels)))
    np.testing.assert_array_equal(targets, reference_mean_color(pixels, 4))


def test_the_loss_and_accuracy_count_the_corrupted_patches_only(vit):
    mpp = MaskedPatchPrediction(vit, seed=0)
    mpp.compile(optimizer="adam")
    images = np.random.default_rng(2).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    codes = _numpy(mpp(images)["corruption"])
    targets = reference_mean_color(images, 4)
    right = np.eye(512, dtype="float32")[targets] * 50
    wrong = np.eye(512, dtype="float32")[(targets + 1) % 512] * 50
    corrupted = (codes != CLEAN)[..., None]

    def scores(predictions):
        y_pred = {"predictions": keras.ops.convert_to_tensor(predictions), "corruption": keras.ops.convert_to_tensor(codes)}
        mpp.reset_metrics()
        loss = float(_numpy(mpp.compute_loss(images, None, y_pred)))
        return loss, float(_numpy(mpp.compute_metrics(images, None, y_pred)["masked_patch_accuracy"]))

    assert scores(np.where(corrupted, right, wrong)) == pytest.approx((0.0, 1.0), abs=1e-4)
    loss, accuracy = scores(np.where(corrupted, wrong, right))
    assert loss == pytest.approx(50.0, abs=1e-3) and accuracy == 0.0


def _reference_pixels(images, patch):
    """Each patch's pixels, row by row, in [-1, 1]."""
    rows, cols = images.shape[1] // patch, images.shape[2] // patch
    patches = images.reshape(-1, rows, patch, cols, patch, 3).transpose(0, 1, 3, 2, 4, 5)
    return patches.reshape(len(images), rows * cols, -1) / 127.5 - 1


@pytest.mark.parametrize("target", ["downsampled_color", "pixels"])
def test_the_other_targets_are_predicted_and_scored_on_the_corrupted_patches(vit, target):
    mpp = MaskedPatchPrediction(vit, target=target, seed=0)
    images = np.random.default_rng(3).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    y_pred = mpp(images)
    codes = _numpy(y_pred["corruption"])
    targets = _numpy(mpp.targets(images))
    if target == "downsampled_color":
        np.testing.assert_array_equal(targets, reference_downsampled(images, 4))  # (2, 16, 16): 16 cells a patch
        assert tuple(y_pred["predictions"].shape) == (2, 16, 16, 512)
        right = np.eye(512, dtype="float32")[targets] * 50
        wrong = np.eye(512, dtype="float32")[(targets + 1) % 512] * 50
        corrupted, wrong_loss = (codes != CLEAN)[..., None, None], 50.0
    else:
        np.testing.assert_allclose(targets, _reference_pixels(images, 4), atol=1e-6)
        assert tuple(y_pred["predictions"].shape) == (2, 16, 4 * 4 * 3)
        right, wrong = targets, targets + 0.5  # an L2 error of 0.25 on every pixel
        corrupted, wrong_loss = (codes != CLEAN)[..., None], 0.25

    def scores(predictions):
        y_pred = {"predictions": keras.ops.convert_to_tensor(predictions), "corruption": keras.ops.convert_to_tensor(codes)}
        mpp.reset_metrics()
        loss = float(_numpy(mpp.compute_loss(images, None, y_pred)))
        accuracy = mpp.compute_metrics(images, None, y_pred).get("masked_patch_accuracy")
        return loss, None if accuracy is None else float(_numpy(accuracy))

    right_on_corrupted = scores(np.where(corrupted, right, wrong))
    wrong_on_corrupted = scores(np.where(corrupted, wrong, right))
    assert right_on_corrupted[0] == pytest.approx(0.0, abs=1e-4)
    assert wrong_on_corrupted[0] == pytest.approx(wrong_loss, abs=1e-3)
    if target == "downsampled_color":
        assert (right_on_corrupted[1], wrong_on_corrupted[1]) == (1.0, 0.0)
    else:
        assert (right_on_corrupted[1], wrong_on_corrupted[1]) == (None, None)  # a regression has no accuracy


def test_fit_lowers_the_loss_and_leaves_the_trained_weights_in_the_encoder(tmp_path):
    encoder = _vit()
    before = {w.path: _numpy(w).copy() for w in encoder.weights}
    mpp = MaskedPatchPrediction(encoder, seed=0)
    assert len(mpp.trainable_weights) == len(encoder.trainable_weights) - 2 + 3  # no head; mask, new head
    mpp.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = mpp.fit(_solid_color_images(60), epochs=4, batch_size=16, verbose=0).history  # a last, partial batch
    assert history["loss"][-1] < history["loss"][0] - 1.0, history
    assert history["masked_patch_accuracy"][-1] > 0.05, history  # chance: 1/512
    after = {w.path: _numpy(w) for w in encoder.weights}
    changed = {path for path in before if not np.array_equal(before[path], after[path])}
    assert {"embedding/kernel", "encoderblock_0/attn/query/kernel", "encoder_norm/gamma"} <= changed
    assert not {"head/kernel", "head/bias"} & changed  # the head plays no part

    path = str(tmp_path / "encoder.keras")
    mpp.encoder.save(path)
    classifier = _vit(weights=path, num_classes=5)
    loaded = {w.path: _numpy(w) for w in classifier.weights}
    for name in changed:
        np.testing.assert_array_equal(loaded[name], after[name], err_msg=name)
    assert loaded["head/kernel"].shape == (16, 5) and not loaded["head/kernel"].any()


def test_the_wrapper_saves_and_loads(tmp_path):
    encoder = _vit(representation_size=8)
    encoder.get_layer("head").kernel.assign(np.ones((8, 3), "float32"))
    mpp = MaskedPatchPrediction(encoder, target="downsampled_color", mask_rate=0.25, seed=3)
    path = str(tmp_path / "mpp.keras")
    mpp.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, MaskedPatchPrediction)
    assert (loaded.target, loaded.mask_rate, loaded.seed, loaded.counts) == ("downsampled_color", 0.25, 3, (3, 0, 1))
    expected = {w.path: _numpy(w) for w in [*mpp.weights, *encoder.weights]}
    weights = {w.path: _numpy(w) for w in [*loaded.weights, *loaded.encoder.weights]}
    assert sorted(weights) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(weights[name], value, err_msg=name)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(mask_rate=1.5), "`mask_rate` must be a number in [0, 1]. Received: mask_rate=1.5"),
        (dict(mask_rate="half"), "Received: mask_rate='half'"),
        (dict(random_patch_rate=-0.1, unchanged_rate=0.3), "Received: random_patch_rate=-0.1"),
        (dict(mask_token_rate=0.5), "must sum to 1. Received: mask_token_rate=0.5, random_patch_rate=0.1, "
                                    "unchanged_rate=0.1 (sum 0.7)"),
        (dict(target="colour"), "`target` must be one of 'mean_color', 'downsampled_color', 'pixels'. "
                                "Received: target='colour'"),
    ],
)
def test_bad_arguments_are_named(vit, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MaskedPatchPrediction(vit, **kwargs)


def test_models_that_are_not_a_keras_vit_vit_are_refused():
    with pytest.raises(ValueError, match=r"`encoder` must be a keras_vit ViT.*Received: encoder='resnet'"):
        inputs = keras.Input((16, 16, 3))
        MaskedPatchPrediction(keras.Model(inputs, keras.layers.Conv2D(4, 3)(inputs), name="resnet"))
    with pytest.raises(ValueError, match=r"Received: encoder='vit'"):
        MaskedPatchPrediction("vit")
    with pytest.raises(ValueError, match=r"target='mean_color' predicts RGB colours"):
        MaskedPatchPrediction(_vit(input_channels=1))
    with pytest.raises(ValueError, match=r"target='downsampled_color' downsizes each 2x2 image patch"):
        MaskedPatchPrediction(_vit(patch_size=2), target="downsampled_color")
