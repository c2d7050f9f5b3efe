import os

import numpy as np
import pytest
from PIL import Image

from keras_vit.data import from_arrays, from_folder, load_digits, load_source


def test_digits_are_real_images_split_by_class():
    splits = load_digits(image_size=16)
    sizes = {name: len(labels) for name, (_, labels) in splits.items()}
    assert sizes == {"train": 1258, "validation": 179, "test": 360}
    images, labels = splits["test"]
    assert images.dtype == np.uint8 and images.shape[1:] == (16, 16, 3)
    assert images.max() == 255 and images.min() == 0
    # Every class is in every split, in its share.
    assert np.bincount(labels, minlength=10).min() >= 34
    # The split is fixed: no image lies in two splits.
    flat = {name: {image.tobytes() for image in images} for name, (images, _) in splits.items()}
    assert not flat["train"] & flat["test"]


def test_digits_split_is_deterministic():
    first, second = load_digits(8, seed=3), load_digits(8, seed=3)
    np.testing.assert_array_equal(first["test"][1], second["test"][1])


def test_arrays_with_labels_out_of_range_are_rejected():
    images = np.zeros((10, 8, 8, 3), "uint8")
    with pytest.raises(ValueError, match=r"Labels must lie in \[0, 3\).*e\.g\. 5"):
        from_arrays(images, np.array([0, 1, 2, 5, 0, 1, 2, 0, 1, 2]), num_classes=3)
    with pytest.raises(ValueError, match="Labels must lie in"):
        from_arrays(images, -np.ones(10, "int64"), num_classes=3)
    with pytest.raises(ValueError, match=r"`images` must have shape \(n, height, width, 3 or 1\)"):
        from_arrays(np.zeros((10, 8, 8)), np.zeros(10, "int32"))


def _write_folder(root, sizes=((20, 30), (40, 24)), per_class=5):
    rng = np.random.default_rng(0)
    for label, name in enumerate(("cat", "dog")):
        os.makedirs(root / name)
        for index in range(per_class):
            size = sizes[index % len(sizes)]
            pixels = rng.integers(0, 255, size=(*size, 3), dtype=np.uint8)
            extension = "png" if index % 2 else "jpg"
            Image.fromarray(pixels).save(root / name / f"{index}.{extension}")
        Image.fromarray(rng.integers(0, 255, size=(10, 10), dtype=np.uint8)).save(root / name / "gray.png")


def test_folder_of_mixed_sizes_skips_and_counts_corrupt_files(tmp_path, capsys):
    _write_folder(tmp_path)
    (tmp_path / "cat" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "dog" / "notes.txt").write_text("not an image, not listed")
    source = from_folder(str(tmp_path))
    assert source.class_names == ("cat", "dog") and source.num_classes == 2
    assert source.skipped == 1
    assert "skipped 1 unreadable image file(s)" in capsys.readouterr().err
    assert sum(source.sizes.values()) == 12
    shapes = {tuple(image.shape) for split in source.splits.values() for image, _ in split}
    assert {shape[-1] for shape in shapes} == {3}  # grayscale read as RGB
    assert len(shapes) >= 2  # sizes kept; the pipeline resizes


def test_folder_with_split_sub_folders(tmp_path):
    for split in ("train", "test"):
        _write_folder(tmp_path / split, per_class=3)
    source = load_source(str(tmp_path))
    assert source.sizes["test"] == 8
    assert source.sizes["train"] + source.sizes["validation"] == 8


def test_empty_folders_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="needs at least two classes. Class sub-folders found: none"):
        from_folder(str(tmp_path))
    os.makedirs(tmp_path / "cat")
    with pytest.raises(ValueError, match="needs at least two classes. Class sub-folders found: only 'cat'"):
        from_folder(str(tmp_path))
    os.makedirs(tmp_path / "dog")
    (tmp_path / "cat" / "broken.png").write_bytes(b"nothing")
    with pytest.raises(ValueError, match="has no readable images"):
        from_folder(str(tmp_path))


def test_tensorflow_datasets_builder_is_read_and_split(tmp_path):
    from tests.data.tiny_tfds import TinyShapes  # noqa: F401  (registers "tiny_shapes")

    source = load_source("tfds:tiny_shapes", data_dir=str(tmp_path))
    assert source.class_names == ("red", "green", "blue")
    assert source.sizes == {"train": 11, "validation": 1, "test": 6}
    image, label = next(iter(source.splits["test"]))
    assert tuple(image.shape) == (20, 24, 3) and str(image.dtype) == "<dtype: 'uint8'>"
    assert str(label.dtype) == "<dtype: 'int32'>"


def test_unknown_sources_are_rejected():
    with pytest.raises(ValueError, match="Unknown tensorflow-datasets name 'no_such_set'"):
        load_source("tfds:no_such_set")
    with pytest.raises(ValueError, match="an existing image folder. Received: source='no/such/dir'"):
        load_source("no/such/dir")
