"""What keras_vit's architecture configs and the models that keep them share.

`FrozenConfig` gives a frozen dataclass `replace` and a `from_config` that
names unknown fields; `ConfiguredModel` is a functional `keras.Model` that keeps
one such config through `.keras` files, under the keyword its subclass names.
"""

import dataclasses

import keras

# Fields renamed since a config was first saved: the old name, the new one.
RENAMED_FIELDS = {"num_channels": "input_channels"}


class FrozenConfig:
    """Mixin of keras_vit's frozen architecture dataclasses (`ViTConfig`, `ResNetV2Config`)."""

    def replace(self, **changes):
        """Returns a copy with `changes` applied and validated."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_config(cls, config):
        """The config whose `get_config()` returned `config` (or an older
        version's, its renamed fields under their old names)."""
        config = {RENAMED_FIELDS.get(key, key): value for key, value in config.items()}
        unknown = sorted(set(config) - {field.name for field in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(
                f"A {cls.__name__} has no fields {', '.join(unknown)}: this config was written by "
                f"another version of keras_vit. Received: config keys {sorted(config)}"
            )
        return cls(**config)


class ConfiguredModel(keras.Model):
    """A functional `keras.Model` that keeps the config it was built from.

    A subclass names the keyword (`CONFIG_KEYWORD`) and the config class
    (`CONFIG_CLASS`). The signature stays Keras' functional one, so that Keras
    revives the subclass as a functional model; the config travels as that
    keyword, which `get_config` adds.
    """

    CONFIG_KEYWORD = None
    CONFIG_CLASS = None

    def __init__(self, inputs, outputs, name=None, **kwargs):
        config = kwargs.pop(self.CONFIG_KEYWORD, None)
        if isinstance(config, dict):
            config = self.CONFIG_CLASS.from_config(config)
        if not isinstance(config, self.CONFIG_CLASS):
            raise TypeError(
                f"`{self.CONFIG_KEYWORD}` must be the keras_vit.models.{self.CONFIG_CLASS.__name__} the graph "
                f"was built from. Received: {self.CONFIG_KEYWORD}={config!r}"
            )
        super().__init__(inputs, outputs, name=name, **kwargs)
        self._architecture = config

    def get_config(self):
        config = super().get_config()
        config[self.CONFIG_KEYWORD] = self._architecture.get_config()
        return config
