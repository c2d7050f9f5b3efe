import numpy as np
import pytest
import scipy.ndimage

from keras_vit.weights import resample_position_embedding

pytestmark = pytest.mark.backend_independent(reason="the resampling is NumPy")


def _embedding(grid, dim=5, prefix=1, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(1, prefix + grid[0] * grid[1], dim)).astype("float32")


@pytest.mark.parametrize("source, target", [((14, 14), (24, 24)), ((24, 24), (14, 14)), ((7, 7), (12, 20)), ((3, 5), (1, 4))])
def test_zoom_matches_the_original_scipy_zoom(source, target):
    embedding = _embedding(source)
    result = resample_position_embedding(embedding, target, source_grid=source)
    grid = embedding[0, 1:].reshape(*source, -1)
    zoom = (target[0] / source[0], target[1] / source[1], 1)
    expected = scipy.ndimage.zoom(grid, zoom, order=1)
    assert expected.shape[:2] == target
    np.testing.assert_allclose(result[0, 1:].reshape(expected.shape), expected, atol=1e-5)
    np.testing.assert_array_equal(result[0, :1], embedding[0, :1])


@pytest.mark.parametrize("source, target", [((14, 14), (24, 24)), ((24, 24), (14, 14)), ((7, 7), (12, 20))])
def test_bicubic_matches_torch_interpolate(source, target):
    torch = pytest.importorskip("torch")
    embedding = _embedding(source, prefix=0)
    result = resample_position_embedding(embedding, target, num_prefix_tokens=0, source_grid=source, method="bicubic")
    grid = torch.from_numpy(embedding[0].reshape(*source, -1)).permute(2, 0, 1)[None].double()
    expected = torch.nn.functional.interpolate(grid, size=target, mode="bicubic", align_corners=False)
    expected = expected[0].permute(1, 2, 0).reshape(1, -1, embedding.shape[-1]).numpy()
    np.testing.assert_allclose(result, expected, atol=1e-5)


def test_same_grid_is_returned_unchanged():
    embedding = _embedding((4, 4))
    np.testing.assert_array_equal(resample_position_embedding(embedding, (4, 4)), embedding)


def test_non_square_source_needs_its_grid():
    with pytest.raises(ValueError, match="12 patch rows form no square grid"):
        resample_position_embedding(_embedding((3, 4)), (6, 8))


def test_source_grid_must_match_the_rows():
    with pytest.raises(ValueError, match=r"`source_grid` \(3, 3\) holds 9 patches but the embedding has 12"):
        resample_position_embedding(_embedding((3, 4)), (6, 8), source_grid=(3, 3))


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="`method` must be one of"):
        resample_position_embedding(_embedding((2, 2)), (3, 3), method="nearest")
