"""A tiny tensorflow-datasets builder, prepared offline, to test the real tfds path.

It has only "train" and "test" splits (like cifar10 and oxford_iiit_pet), so the
loader must carve a validation split out of "train".
"""

import numpy as np
import tensorflow_datasets as tfds


class TinyShapes(tfds.core.GeneratorBasedBuilder):
    """Squares of 3 colours on grayscale noise, 12 train and 6 test images."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(20, 24, 3)),
                    "label": tfds.features.ClassLabel(names=["red", "green", "blue"]),
                }
            ),
            supervised_keys=("image", "label"),
        )

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(12, 0), "test": self._generate_examples(6, 1)}

    def _generate_examples(self, count, seed):
        rng = np.random.default_rng(seed)
        for index in range(count):
            label = index % 3
            image = rng.integers(0, 60, size=(20, 24, 3), dtype=np.uint8)
            image[5:15, 6:18, label] = 255
            yield index, {"image": image, "label": label}


class UnreachableShapes(TinyShapes):
    """TinyShapes to be downloaded from a server no name resolves to (.invalid is reserved)."""

    url_infos = {"https://keras-vit-test.invalid/shapes.tar.gz": None}

    def _split_generators(self, dl_manager):
        dl_manager.download(next(iter(self.url_infos)))
        return super()._split_generators(dl_manager)
