"""`keras-vit weights list`: the registry of published weights."""

import json

from keras_vit.variants import ALL_VARIANTS


HELP = "published pretrained weights"


def add_arguments(parser):
    weights_commands = parser.add_subparsers(dest="weights_command", required=True)
    listing = weights_commands.add_parser("list", help="list the registry")
    listing.add_argument("--variant", choices=sorted(ALL_VARIANTS), metavar="VARIANT", help="only this variant, e.g. B/16")
    listing.add_argument("--json", action="store_true", help="print the manifest as JSON")
    listing.set_defaults(run=run_list)


def run_list(args):
    from keras_vit.weights.registry import manifest

    rows = [row for row in manifest() if args.variant in (None, row["variant"])]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'variant':8s} {'name':30s} {'classes':>7s} {'size':>4s}  url")
    for row in rows:
        print(f"{row['variant']:8s} {row['name']:30s} {row['num_classes']:7d} {row['image_size']:4d}  {row['url']}")
