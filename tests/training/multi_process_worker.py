"""One process of a training job, for `test_multi_process.py`.

    python -m tests.training.multi_process_worker CONFIG_JSON RESULT_NPZ

Trains `keras_vit.training.TrainConfig(**CONFIG_JSON)` and writes to
RESULT_NPZ every weight of the trained model (whole, gathered from all
processes), its test loss and accuracy, and a digest of each training example this process is given in
the first epoch, found through the same Keras call `model.fit` shards its
input with.
"""

import hashlib
import json
import sys

import keras
import numpy as np

from keras_vit.data.load import load_source
from keras_vit.data.pipeline import Augmentation
from keras_vit.data.subset import subset_train
from keras_vit.training import TrainConfig, train
from keras_vit.training.placement import host_weights
from keras_vit.training.run import run_data


def local_batches(config, placement, image_size):
    """This process' share of the first epoch's batches, as NumPy image arrays."""
    source = load_source(config.data, image_size=image_size, seed=config.seed)
    train_data, _ = run_data(config, subset_train(source, config.train_fraction, config.seed), image_size)
    steps = source.sizes["train"] // config.batch_size  # a process takes one piece of each global batch
    if placement.num_processes == 1:
        return [np.asarray(images) for images, _ in train_data.take(steps)]
    if keras.backend.backend() == "jax":
        return [np.asarray(images) for images, _ in keras.distribution.distribution().distribute_dataset(train_data).take(steps)]
    strategy = placement.strategy
    return [
        np.asarray(part)
        for images, _ in strategy.experimental_distribute_dataset(train_data.take(steps))
        for part in strategy.experimental_local_results(images)
    ]


def main():
    values = json.loads(sys.argv[1])
    config = TrainConfig(**dict(values, augmentation=Augmentation(**values.get("augmentation", {}))))
    result = train(config)
    weights = host_weights(result.model, result.placement)
    images = local_batches(config, result.placement, config.image_size)
    digests = [hashlib.sha1(image.tobytes()).hexdigest() for batch in images for image in batch]
    np.savez(sys.argv[2], *weights, examples=np.array(digests), process=result.placement.process_id,
             test_loss=result.test_loss, test_accuracy=result.test_accuracy)


if __name__ == "__main__":
    main()
