"""The command line's copies of library choices (keras_vit/cli/choices.py) equal their sources."""

from keras_vit.cli import choices


def test_every_copy_equals_the_library_value():
    from keras_vit.export import ALIASES, FORMATS, PRECISIONS
    from keras_vit.pretraining.targets import TARGETS
    from keras_vit.training.distillation import DISTILLATIONS
    from keras_vit.training.lora import DEFAULT_TARGETS, LORA_TARGETS
    from keras_vit.training.precision import POLICIES
    from keras_vit.training.recipes import RECIPES
    from keras_vit.training.schedules import DECAYS

    assert choices.PRECISIONS == POLICIES
    assert choices.RECIPES == tuple(sorted(RECIPES))
    assert choices.DECAYS == DECAYS
    assert choices.LORA_TARGETS == LORA_TARGETS
    assert choices.LORA_DEFAULT_TARGETS == DEFAULT_TARGETS
    assert choices.PRETRAIN_TARGETS == TARGETS
    assert choices.DISTILLATIONS == DISTILLATIONS
    assert choices.EXPORT_FORMATS == tuple(sorted({*FORMATS, *ALIASES}))
    assert choices.EXPORT_PRECISIONS == tuple(sorted({q for modes in PRECISIONS.values() for q in modes if q}))
