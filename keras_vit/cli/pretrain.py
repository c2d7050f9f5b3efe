"""`keras-vit pretrain`: self-supervised pre-training by masked patch prediction (paper Appendix B.1.2)."""

from keras_vit.cli.choices import PRETRAIN_TARGETS
from keras_vit.cli.common import (
    add_training_flags,
    config_from_flags,
    plural,
    precision_note,
    run_fitting_batch,
    starter,
)
from keras_vit.cli.model_source import image_size_hint

HELP = "pre-train a ViT without labels: masked patch prediction (paper B.1.2)"
DESCRIPTION = (
    "Pre-trains a ViT by masked patch prediction: half of each image's patch embeddings are corrupted "
    "and the model predicts their mean colours. Writes the encoder to --out/encoder.keras; fine-tune "
    "it with `keras-vit train --weights OUT/encoder.keras` and the same model flags. Takes every "
    "`keras-vit train` flag (labels are not used); --recipe defaults to the paper's masked_patch "
    "(Adam, 2e-4 at batch 4096, cosine). Re-running with the same --out resumes an interrupted run."
)
OBJECTIVES = ("masked-patch",)


def add_arguments(pretrain):
    pretrain.add_argument("--objective", choices=OBJECTIVES, default="masked-patch",
                          help="the self-supervised task (paper Appendix B.1.2)")
    pretrain.add_argument("--target", choices=PRETRAIN_TARGETS, default="mean_color",
                          help="what each corrupted patch predicts: its 3-bit mean colour, its 4x4 "
                               "downsized 3-bit colours, or its pixels (L2)")
    pretrain.add_argument("--mask-rate", type=float, default=0.5, help="fraction of each image's patches corrupted")
    pretrain.add_argument("--model", default="S/16",
                          help='variant ("S/16"), builder ("ViTB16"), "ViT" for --patch-size etc., or a .keras file')
    pretrain.add_argument("--out", default="runs/pretrain", help="output directory (encoder.keras, log.csv)")
    add_training_flags(pretrain, defaults={"recipe": "masked_patch"})
    pretrain.set_defaults(run=run)


def run(args):
    from keras_vit.pretraining.run import pretrain

    config = config_from_flags(args)
    precision_note(config.precision)
    doing = f"masked patch prediction ({args.target}, {args.mask_rate:g} of the patches corrupted) of"
    on_start = starter("pretrain", doing)
    with image_size_hint(args, "trains at", "the training images are resized to it"):
        result = run_fitting_batch(
            lambda fitted: pretrain(fitted, target=args.target, mask_rate=args.mask_rate, on_start=on_start),
            config, args, "pretrain",
        )
    metrics = ", ".join(f"test {name} {value:.4f}" for name, value in result.test_metrics.items())
    epochs = len(next(iter(result.history.values()), [])) + result.resumed_from_epoch
    print(f"{metrics} after {plural(epochs, 'epoch')}; encoder saved to {result.encoder_path}")
    print(f"fine-tune it with: keras-vit train --weights {result.encoder_path} and the same --model flags")
