"""`keras-vit push`: publish a trained model with its model card to the Hugging Face Hub or Kaggle Models."""

HELP = "publish a .keras model with its class names and a model card to hf://USER/REPO or kaggle://..."
DESCRIPTION = (
    "Uploads MODEL (a keras_vit .keras file), the classes.txt and run.json of its run folder, and a model "
    "card (README.md) made from what keras_vit knows of it: architecture, parameters, starting weights, "
    "data, recipe, test scores and the command that trained it. Hugging Face needs a token (HF_TOKEN or "
    "`hf auth login`), Kaggle its credentials (KAGGLE_USERNAME and KAGGLE_KEY)."
)


def add_arguments(parser):
    from keras_vit.weights.publish import FORMATS

    parser.add_argument("model", help="a keras_vit .keras file, e.g. a run's model.keras")
    parser.add_argument("handle", help="hf://USER/REPO or kaggle://OWNER/MODEL/FRAMEWORK/VARIATION")
    parser.add_argument("--format", choices=FORMATS, default="keras",
                        help="upload the .keras file (default), or a keras-hub preset")
    parser.add_argument("--private", action="store_true", help="create the Hugging Face repository private")
    parser.add_argument("--message", help="the commit message (Kaggle: the version notes)")
    parser.add_argument("--dry-run", metavar="FOLDER",
                        help="write what would be uploaded into FOLDER, and upload nothing")
    parser.set_defaults(run=run)


def run(args):
    from keras_vit.weights.publish import push, write_folder

    if args.dry_run:
        files = write_folder(args.model, args.dry_run, args.handle, args.format)
        print(f"{args.dry_run}: {', '.join(files)} (nothing uploaded; keras_vit.from_checkpoint({args.dry_run!r}) "
              "loads it)")
        return
    url = push(args.model, args.handle, args.format, private=args.private, message=args.message)
    print(f"{args.model} -> {url}")
