"""The paper's data and compute experiments: subsets, seeds and noise, model families,
tables and figures, bad input, and short end-to-end runs."""

import csv
import dataclasses
import math
import re

import keras
import numpy as np
import pytest

import keras_vit
from keras_vit import ablation
from keras_vit.ablation import AblationRow, families, seeds, suite
from keras_vit.ablation.families import ModelSpec
from keras_vit.cli import main
from keras_vit.data import load_source
from keras_vit.data.subset import split_labels, subset_indices, subset_train
from keras_vit.training.run import TrainConfig
from tests.cli.console import keras_vit as console

TINY = dict(patch_size=4, hidden_dim=16, num_layers=1, num_heads=2, mlp_dim=32)
RECIPE = dict(image_size=16, epochs=1, batch_size=32, recipe="pretrain", learning_rate=3e-3, crop_fraction=1.0,
              overwrite=True, verbose=0)


def _config(tmp_path, **changes):
    return TrainConfig(model="ViT", out=str(tmp_path / "runs"), **{**RECIPE, "model_kwargs": dict(TINY), **changes})


def _row(experiment, name, accuracy, seed=0, **fields):
    return AblationRow(experiment, name, "learned_1d", "stem", accuracy, 1.0, "x", seed=seed, **fields)


# Subsets ---------------------------------------------------------------------------------


@pytest.mark.backend_independent(reason="NumPy index arithmetic")
def test_subsets_are_stratified_and_nested():
    labels = np.repeat(np.arange(4), [10, 20, 30, 40])
    for seed in (0, 1):
        small, medium, whole = (subset_indices(labels, f, seed) for f in (0.1, 0.5, 1.0))
        assert np.bincount(labels[small]).tolist() == [1, 2, 3, 4]
        assert np.bincount(labels[medium]).tolist() == [5, 10, 15, 20]
        assert np.isin(small, medium).all() and whole.tolist() == list(range(100))
    assert subset_indices(labels, 0.1, 0).tolist() != subset_indices(labels, 0.1, 1).tolist()
    assert subset_indices(labels, 0.1, 0).tolist() == subset_indices(labels, 0.1, 0).tolist()
    assert np.bincount(labels[subset_indices(labels, 0.01, 0)]).tolist() == [1, 1, 1, 1]  # at least one each
    for bad in (0, 0.0, -0.5, 1.5, True, "half"):
        with pytest.raises(ValueError, match=rf"`fraction` must be a fraction of the training examples in \(0, 1\]. Received: fraction={bad!r}"):
            subset_indices(labels, bad, 0)


@pytest.mark.backend_independent(reason="a tf.data pipeline, the same on every backend")
def test_a_subset_epoch_repeats_the_subset_to_the_whole_split():
    source = load_source("digits", image_size=8)
    labels = split_labels(source)
    subset = subset_train(source, 0.3, seed=2)
    seen = [int(label) for _, label in subset.splits["train"].as_numpy_iterator()]
    kept = subset_indices(labels, 0.3, seed=2)
    assert len(seen) == source.sizes["train"] == subset.sizes["train"]      # one epoch: the whole split's size
    assert subset.subset == len(kept) == 378 and "378 of 1258" in subset.name
    assert np.bincount(seen, minlength=10).min() >= 3 * np.bincount(labels[kept]).min()
    images = [image.tobytes() for image, _ in subset.splits["train"].take(len(kept)).as_numpy_iterator()]
    all_images = {image.tobytes(): i for i, (image, _) in enumerate(source.splits["train"].as_numpy_iterator())}
    assert sorted(all_images[image] for image in images) == kept.tolist()  # the first pass is the subset, once each
    assert subset_train(source, 1.0, seed=2) is source
    assert subset.splits["test"] is source.splits["test"]


# Seeds and noise -------------------------------------------------------------------------


@pytest.mark.backend_independent(reason="statistics on numbers")
def test_seed_noise_is_twice_the_standard_error_of_the_difference():
    a = seeds.Cell("head", "a", tuple(_row("head", "a", v, s) for s, v in enumerate((0.80, 0.82, 0.84))))
    b = seeds.Cell("head", "b", tuple(_row("head", "b", v, s) for s, v in enumerate((0.83, 0.85, 0.87))))
    c = seeds.Cell("head", "c", tuple(_row("head", "c", v, s) for s, v in enumerate((0.90, 0.91, 0.92))))
    # std 0.02 each: the standard error of a difference is sqrt(2 * 0.02**2 / 3) = 0.01633
    assert a.text() == "0.8200 ± 0.0200" and math.isclose(a.std(), 0.02)
    assert seeds.within_noise(a, b) is True       # 0.03 <= 0.0327
    assert seeds.within_noise(a, c) is False      # 0.09
    assert seeds.marks([a, b, c]) == {"a": "", "b": "", "c": seeds.BEST}
    assert seeds.marks([a, b]) == {"a": seeds.WITHIN, "b": seeds.BEST}
    assert seeds.marked(b, seeds.BEST) == "**0.8500 ± 0.0200**" and seeds.marked(a, seeds.WITHIN).endswith(" ≈")
    assert seeds.difference(a, c) == "+0.0900 (beyond the seed noise)"
    one = seeds.Cell("head", "one", (_row("head", "one", 0.5),))
    assert one.text() == "0.5000" and seeds.within_noise(one, a) is None
    assert seeds.marks([one]) == {"one": ""}
    assert seeds.difference(one, a).endswith("(one seed: no estimate of the seed noise)")


@pytest.mark.backend_independent(reason="argument checks")
def test_seeds_count_from_the_config_seed():
    assert seeds.seeds_of(TrainConfig(model="ViT", out="x", seed=7), 3) == [7, 8, 9]
    with pytest.raises(ValueError, match=r"`seeds` must be a positive integer. Received: seeds=0"):
        seeds.seeds_of(TrainConfig(model="ViT", out="x"), 0)


# Families --------------------------------------------------------------------------------


def test_the_three_families_see_the_same_token_grid(tmp_path):
    config = _config(tmp_path, model_kwargs=dict(patch_size=4, hidden_dim=64, num_layers=4, num_heads=4, mlp_dim=128))
    vit, resnet, hybrid = families.data_size_models(config)
    assert (vit.family, resnet.family, hybrid.family) == ("ViT", "ResNet", "hybrid")
    assert (vit.label, resnet.label, hybrid.label) == ("ViT-64x4", "R1111x0.5", "R1x0.5+64x4")
    models = {spec.label: _build(spec, config) for spec in (vit, resnet, hybrid)}
    assert [m.count_params() for m in models.values()] == [138_954, 2_017_578, 167_914]
    assert models["ViT-64x4"].get_layer("pos_embedding").grid_size == (4, 4)
    assert models["R1x0.5+64x4"].get_layer("pos_embedding").grid_size == (4, 4)
    ladder = families.scaling_ladder(config)
    assert [spec.label for spec in ladder] == [
        "ViT-32x2", "ViT-64x4", "ViT-128x4", "R1111x0.5", "R2222x0.5", "R1111x1",
        "Rrootx0.5+32x2", "R1x0.5+64x4", "R1x0.5+128x4",
    ]
    flops = [keras_vit.models.count_flops(_build(spec, config)) for spec in ladder if spec.family == "ViT"]
    assert flops == sorted(flops)
    with pytest.raises(ValueError, match="patch size divisible by the stem's stride 4. Received: patch_size=2"):
        families.hybrid(dict(patch_size=2), (1,), 0.5)


def _build(spec, config):
    from keras_vit.training.run import build_model_for

    return build_model_for(spec.apply(config), num_classes=10)


def test_a_resnet_run_refuses_vit_only_settings(tmp_path):
    from keras_vit.training.run import build_model_for

    config = dataclasses.replace(_config(tmp_path), model="ResNetV2", model_kwargs=dict(layers=(1, 1, 1, 1), width=0.5),
                                 dropout_rate=0.1, remat=True)
    with pytest.raises(ValueError, match=r"A ResNetV2 has no dropout.*Received: dropout_rate=0.1, remat=True"):
        build_model_for(config, num_classes=10)
    spec = families.resnet((1, 1, 1, 1), 0.5)
    assert spec.apply(config).dropout_rate == 0.0 and spec.apply(config).remat is False


# Tables and figures ----------------------------------------------------------------------


def _data_size_rows():
    rows = []
    for family, label, base in (("ViT", "ViT-64x4", 0.6), ("ResNet", "R1111x0.5", 0.7)):
        for fraction, examples, gain in ((0.1, 126, 0.0), (1.0, 1258, 0.2)):
            for seed in range(3):
                rows.append(_row("data-size", f"{label}/{fraction:g}", base + gain + seed / 100, seed,
                                 model=family, parameters=1000, train_fraction=fraction, train_examples=examples,
                                 few_shot={5: base + gain}))
    return rows


@pytest.mark.backend_independent(reason="tables and matplotlib figures of given numbers")
def test_data_size_table_and_figure(tmp_path):
    rows = _data_size_rows()
    table = ablation.data_size_table(rows, markdown=True)
    assert table[0] == ["Model", "Parameters", "0.1 (126 examples)", "1 (1258 examples)"]
    assert table[1] == ["ViT-64x4", "1,000", "0.6100 ± 0.0100", "0.8100 ± 0.0100"]
    assert table[2] == ["R1111x0.5", "1,000", "**0.7100 ± 0.0100**", "**0.9100 ± 0.0100**"]
    figure = ablation.plot_data_size(rows, tmp_path / "data_size.png")
    assert (tmp_path / "data_size.png").stat().st_size > 0
    assert [ax.get_xscale() for ax in figure.axes] == ["log", "log"]
    assert [text.get_text() for text in figure.axes[0].get_legend().get_texts()] == ["ViT-64x4", "R1111x0.5"]
    with pytest.raises(ValueError, match="rows of the data-size experiment. Received: none"):
        ablation.plot_data_size([])


@pytest.mark.backend_independent(reason="tables and matplotlib figures of given numbers")
def test_scaling_and_head_tables_and_figures(tmp_path):
    rows = [_row("scaling", label, acc, seed, model=family, parameters=10, forward_flops=flops, images_seen=100,
                 few_shot={5: acc})
            for label, family, flops, acc in (("ViT-32x2", "ViT", 1000, 0.5), ("R1111x0.5", "ResNet", 3000, 0.9))
            for seed in range(2)]
    table = ablation.scaling_table(rows)
    assert table[1][:5] == ["ViT-32x2", "ViT", "10", "1e+03", "3e+05"]   # 3 x 1000 x 100
    assert rows[0].training_flops == 300_000
    figure = ablation.plot_scaling(rows, tmp_path / "scaling.png")
    assert figure.axes[0].get_xlabel() == "Total training compute (FLOPs)"
    head = [_row("head", f"{pooling}/lr={rate:g}", acc + seed / 100, seed, pooling=pooling, learning_rate=rate,
                 few_shot={5: acc}, curve=(acc / 2, acc))
            for pooling, rate, acc in (("token", 3e-3, 0.8), ("token", 1e-3, 0.7), ("gap", 3e-3, 0.6),
                                       ("gap", 1e-3, 0.79))
            for seed in range(2)]
    assert ablation.head_table(head) == [
        ["Head", "lr 0.003", "lr 0.001"],
        ["class token", "0.8050 ± 0.0071 *", "0.7050 ± 0.0071"],
        ["global average pooling", "0.6050 ± 0.0071", "0.7950 ± 0.0071 ≈"],
    ]
    figure = ablation.plot_head(head, tmp_path / "head.png")
    assert len(figure.axes[0].get_lines()) == 4 and figure.axes[0].get_xlabel() == "Epochs of training"


@pytest.mark.backend_independent(reason="Markdown and CSV of given numbers")
def test_the_report_holds_every_experiment(tmp_path):
    rows = _data_size_rows() + [_row("head", "token/lr=0.003", 0.8, pooling="token", learning_rate=3e-3,
                                     few_shot={5: 0.7}, curve=(0.5, 0.8))]
    paths = ablation.write_report(rows, tmp_path)
    assert [p.split("/")[-1] for p in paths] == ["report.md", "results.csv", "data_size.png", "head.png"]
    report = (tmp_path / "report.md").read_text()
    assert "## Data size (Figures 3 and 4)" in report and "![data-size](data_size.png)" in report
    assert "## Class token against global average pooling" in report and "Scaling" not in report
    with open(tmp_path / "results.csv") as file:
        lines = list(csv.DictReader(file))
    assert len(lines) == 13 and lines[0]["few_shot_5"] == "0.6" and lines[-1]["pooling"] == "token"


# Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("arguments, message", [
    (dict(experiments=["position", "sizes"]), r"`experiments` must name experiments among position, pretraining, "
                                              r"data-size, scaling, head, or 'all'. Received: experiments=\['position', 'sizes'\]"),
    (dict(seeds=0), r"`seeds` must be a positive integer. Received: seeds=0"),
    (dict(fractions=(0.1, 1.5)), r"`fractions` must be a fraction of the training examples in \(0, 1\]. Received: fractions=1.5"),
    (dict(fractions=(0.0,)), r"Received: fractions=0.0"),
    (dict(learning_rates=(3e-3, -1)), r"`learning_rates` must be a sequence of positive floats"),
    (dict(cells=[("relative", "every_layer")]), r"`cells` must hold cells of the paper's table"),
    (dict(experiments=["pretraining"]), r"needs `pretrain_config`"),
])
@pytest.mark.backend_independent(reason="argument checks before any model is built")
def test_bad_requests_fail_before_anything_trains(tmp_path, arguments, message):
    config = _config(tmp_path)
    with pytest.raises(ValueError, match=message):
        ablation.run_experiments(config, **{"experiments": "all", **arguments,
                                            "pretrain_config": None if "pretraining" in str(arguments) else config})
    assert not (tmp_path / "runs").exists()


@pytest.mark.backend_independent(reason="argument checks before any model is built")
def test_a_shot_count_above_the_smallest_class_fails_before_anything_trains(tmp_path):
    config = _config(tmp_path, few_shot=(10, 200))
    with pytest.raises(ValueError, match=r"`few_shot`: Class \d has \d+ training examples, fewer than shots=200.*"
                                         r"Received: few_shot=\(10, 200\)"):
        ablation.run_experiments(config, "head")
    with pytest.raises(ValueError, match="`model` must be 'ViT'"):
        ablation.run_experiments(dataclasses.replace(config, model="S/16"), "head")
    assert not (tmp_path / "runs").exists()


@pytest.mark.backend_independent(reason="argparse, before any backend work")
def test_the_cli_refuses_an_unknown_experiment(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["ablate", "--experiment", "sizes"])
    assert exit.value.code == 2
    assert "argument --experiment: invalid choice: 'sizes'" in capsys.readouterr().err


# End to end ------------------------------------------------------------------------------


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the experiments' bookkeeping, on the backend where its ResNet trains fastest on a CPU (under 10 s, "
    "70 s or more on JAX and torch); every backend's training is tests/training's and tests/models' own",
)
def test_data_size_scaling_and_head_train_and_report(tmp_path):
    config = _config(tmp_path, few_shot=(1,))
    tiny_vit = families.vit(TINY)
    written = []
    rows = ablation.run_experiments(
        config, ["data-size", "scaling", "head"], fractions=(0.25, 1.0), learning_rates=(3e-3,),
        data_size_models=(tiny_vit,), scaling_models=(tiny_vit, families.resnet((1, 1, 1, 1), 0.5)),
        log=lambda line: None, after_each=lambda done: written.append(len(done)),
    )
    assert written == [2, 4, 6]
    data_size = [r for r in rows if r.experiment == "data-size"]
    assert [r.name for r in data_size] == ["ViT-16x1/0.25", "ViT-16x1/1"]
    assert [r.train_examples for r in data_size] == [315, 1258]
    # Every fraction trains on as many images: 1258 // 32 steps of 32.
    assert {r.images_seen for r in rows} == {39 * 32}
    assert all(set(r.few_shot) == {1, 5} and 0 <= r.few_shot[5] <= 1 for r in rows)
    # Different training sets, different models. A one-epoch head can settle on one class
    # for both (TensorFlow once gave 0.1056 twice); their few-shot features still differ.
    assert (data_size[0].test_accuracy, data_size[0].few_shot) != (data_size[1].test_accuracy, data_size[1].few_shot)
    scaling = [r for r in rows if r.experiment == "scaling"]
    assert [r.model for r in scaling] == ["ViT", "ResNet"] and scaling[1].parameters == 2_017_578
    assert scaling[1].training_flops == 3 * scaling[1].forward_flops * 39 * 32
    assert scaling[0].position_embedding == "learned_1d" and scaling[1].position_embedding == ""
    head = [r for r in rows if r.experiment == "head"]
    assert [(r.pooling, r.learning_rate) for r in head] == [("token", 3e-3), ("gap", 3e-3)]
    assert all(len(r.curve) == 1 for r in head)  # one epoch, validation accuracy after it
    model = keras.saving.load_model(tmp_path / "runs" / "head" / "gap-lr0.003" / "seed_0" / "model.keras")
    assert model.vit_config.pooling == "gap"
    assert len(ablation.write_report(rows, tmp_path / "report")) == 5


def test_the_cli_runs_an_experiment_with_seeds_and_says_how_far_it_got(tmp_path):
    # The installed script, as a shell runs it: stderr is not a terminal.
    out = tmp_path / "head"
    done = console("ablate", "--quick", "--experiment", "head", "--learning-rates", "3e-3", "--seeds", "2",
                   "--few-shot", "2", "--out", out)
    assert done.returncode == 0, done.stderr
    progress = done.stderr.splitlines()
    assert progress[0].startswith("keras-vit ablate: head with ViT") and "2 seed(s) from 0" in progress[0]
    assert "\r" not in done.stderr and "\x1b" not in done.stderr
    runs = [line for line in progress if line.startswith("[")]
    assert runs[0] == "[1/4] pooling='token', learning rate 0.003, seed 0"
    timing = r" \(\d[\w. ]* so far, about \d[\w. ]* left\)"
    assert re.fullmatch(r"\[4/4\] pooling='gap', learning rate 0\.003, seed 1" + timing, runs[3]), runs
    printed = done.stdout
    assert "head gap/lr=0.003: test accuracy " in printed and " ± " in printed and "4 runs in " in printed
    report = (out / "report.md").read_text()
    assert "2 seed(s) per cell" in report and "| class token |" in report and "![head](head.png)" in report
    with open(out / "results.csv") as file:
        lines = list(csv.DictReader(file))
    assert [(line["name"], line["seed"]) for line in lines] == [
        ("token/lr=0.003", "0"), ("token/lr=0.003", "1"), ("gap/lr=0.003", "0"), ("gap/lr=0.003", "1")]
    assert all(line["few_shot_2"] and line["few_shot_5"] for line in lines)


@pytest.mark.parametrize("flags, message", [
    (["--seeds", "0"], "`seeds` must be a positive integer. Received: seeds=0"),
    (["--fractions", "0.5", "2"], r"`fractions` must be a fraction of the training examples in (0, 1]. Received: fractions=2.0"),
    (["--few-shot", "500"], "fewer than shots=500"),
])
def test_the_cli_refuses_bad_requests_before_training(tmp_path, capsys, flags, message):
    assert main(["ablate", "--quick", "--experiment", "all", *flags, "--out", str(tmp_path / "out")]) != 0
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
