"""`keras-vit weights list`: the registry of published weights; `keras-vit weights verify`: their cached files."""

import json
import os

from keras_vit.variants import ALL_VARIANTS


HELP = "published pretrained weights"


def add_arguments(parser):
    weights_commands = parser.add_subparsers(dest="weights_command", required=True)
    listing = weights_commands.add_parser("list", help="list the registry")
    listing.add_argument("--variant", choices=sorted(ALL_VARIANTS), metavar="VARIANT", help="only this variant, e.g. B/16")
    listing.add_argument("--json", action="store_true", help="print the manifest as JSON")
    listing.set_defaults(run=run_list)
    checking = weights_commands.add_parser(
        "verify", help="check the downloaded files against their recorded SHA-256; delete the corrupt ones"
    )
    checking.add_argument("name", nargs="?", metavar="NAME", help="only the files of these weights, e.g. imagenet21k")
    checking.add_argument("--variant", choices=sorted(ALL_VARIANTS), metavar="VARIANT", help="only this variant, e.g. B/16")
    checking.set_defaults(run=run_verify)


def run_list(args):
    from keras_vit.weights.registry import manifest

    rows = [row for row in manifest() if args.variant in (None, row["variant"])]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'variant':16s} {'name':28s} {'classes':>7s} {'size':>4s}  url")
    for row in rows:
        classes = "-" if row["num_classes"] is None else str(row["num_classes"])
        print(f"{row['variant']:16s} {row['name']:28s} {classes:>7s} {row['image_size']:4d}  {row['url']}")


def run_verify(args):
    """One line per registry file: ok, not cached, or corrupt (then deleted); exits 1 when any was corrupt."""
    from keras_vit.weights import cache
    from keras_vit.weights.registry import REGISTRY, names

    entries = [
        entry for (variant, name), entry in REGISTRY.items()
        if args.name in (None, name) and args.variant in (None, variant)
    ]
    if not entries:
        raise ValueError(
            f"No weights named {args.name!r}{f' for {args.variant}' if args.variant else ''}. "
            f"Available: {', '.join(names(args.variant))}."
        )
    folder = cache.cache_folder()
    counts = {"ok": 0, "corrupt": 0, "not cached": 0}
    for entry in entries:
        status, detail = _verify(os.path.join(folder, entry.filename), entry.sha256)
        counts[status] += 1
        print(f"{entry.variant:16s} {entry.name:28s} {status}{detail}")
    print(f"{counts['ok']} ok, {counts['corrupt']} corrupt (deleted), {counts['not cached']} not cached in {folder}")
    return 1 if counts["corrupt"] else 0


def _verify(path, sha256):
    from keras_vit.weights import cache

    if not os.path.exists(path):
        return "not cached", ""
    why = cache.verify(path, sha256)
    return ("ok", "") if why is None else ("corrupt", f": {why}; deleted")
