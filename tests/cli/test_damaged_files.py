"""A damaged model or weights file gets one line that names it and says what is wrong.

Each file is damaged three ways: cut in half (as an interrupted copy or
download leaves it), replaced by text (an error page saved under the file's
name), and with bytes flipped inside: in a zip archive's member, whose CRC-32
checksum then fails, or in a header where a format keeps no checksum.
"""

import re
import zipfile

import h5py
import keras
import numpy as np
import pytest
from PIL import Image

import keras_vit
from keras_vit.cli import main
from keras_vit.models import build_model
from tests.cli.console import keras_vit as run_script
from tests.cli.tiny_sources import TINY, assert_one_line, write_sources

PAGE = "<html><body>404 Not Found</body></html>\n"
AGAIN = r"Copy, download or save it again\."


def truncated(source, path):
    """`source`'s first half, at `path`."""
    data = open(source, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    return str(path)


def page(path):
    """An error page saved under a model file's name, at `path`."""
    open(path, "w").write(PAGE)
    return str(path)


def flipped(source, path, offset, count=4):
    """`source` with `count` bytes from `offset` inverted, at `path`."""
    data = bytearray(open(source, "rb").read())
    for index in range(offset, offset + count):
        data[index] ^= 0xFF
    open(path, "wb").write(bytes(data))
    return str(path)


def member_flipped(source, path, member):
    """`source` with bytes inverted in the middle of its zip member `member`'s data, at `path`."""
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo(member)
    with open(source, "rb") as file:
        file.seek(info.header_offset + 26)  # the local header's name and extra-field lengths
        name_size, extra_size = np.frombuffer(file.read(4), "<u2")
    start = info.header_offset + 30 + int(name_size) + int(extra_size)
    return flipped(source, path, start + info.compress_size // 2, count=min(4, info.compress_size))


def damaged(source, damage, folder):
    """`source` damaged as `damage` says ("truncated", "text", or a zip member's name), in `folder`."""
    name = f"{damage.replace('/', '_')}_{source.name}"
    if damage == "truncated":
        return truncated(source, folder / name)
    if damage == "text":
        return page(folder / name)
    return member_flipped(source, folder / name, damage)


def what(damage, kind):
    """The message (a regex, `{path}` to fill) for a zip-archive file damaged as `damage` says."""
    if damage == "truncated":
        return (
            r"{path} is truncated: it begins as a zip archive but ends after [\d,]+ bytes, before the table of "
            rf"contents a zip archive ends with\. {AGAIN}"
        )
    if damage == "text":
        return rf"{{path}} is not {kind}: it holds text \('{re.escape(PAGE.strip())}'\), not a zip archive\."
    return rf"{{path}} is damaged: the data of its member '{re.escape(damage)}' fails its CRC-32 checksum\. {AGAIN}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A tiny ViT as a `.keras` and a `.weights.h5` file, an original `.npz`, a
    `.safetensors` file and a photo, each written once."""
    from safetensors.numpy import save_file

    folder = write_sources(tmp_path_factory.mktemp("damaged"))
    save_file({"patch_embed.proj.weight": np.ones((16, 3, 8, 8), np.float32)}, str(folder / "vit.safetensors"))
    return folder


KERAS_DAMAGE = ("truncated", "text", "config.json", "model.weights.h5")
KERAS_KIND = r"a \.keras file Keras wrote"


@pytest.mark.backend_independent(reason="the file is checked before Keras reads it")
@pytest.mark.parametrize("damage", KERAS_DAMAGE)
def test_predict_names_a_damaged_keras_file_and_what_is_wrong(folder, damage):
    path = damaged(folder / "vit.keras", damage, folder)
    done = run_script("predict", folder / "photo.png", "--model", path)
    assert_one_line(done, "predict", what(damage, KERAS_KIND), path)


@pytest.mark.backend_independent(reason="the file is checked before Keras reads it")
@pytest.mark.parametrize(
    "command, damage",
    [
        (("inspect", "{photo}", "--model", "{model}", "--out", "{out}"), "model.weights.h5"),
        (("evaluate", "--model", "{model}", "--few-shot", "1", "--seeds", "1"), "truncated"),
        (("export", "{model}", "--format", "onnx", "-o", "{out}/vit.onnx"), "text"),
        (("train", "--model", "{model}", "--epochs", "1", "--out", "{out}", "--quiet"), "config.json"),
        (("convert", "{model}", "{out}/vit.weights.h5"), "model.weights.h5"),
    ],
    ids=lambda value: value[0] if isinstance(value, tuple) else value,
)
def test_every_command_that_takes_a_model_file_names_the_damage(folder, tmp_path, command, damage):
    path = damaged(folder / "vit.keras", damage, tmp_path)
    fill = {"photo": folder / "photo.png", "model": path, "out": tmp_path / "out"}
    done = run_script(*(word.format(**fill) for word in command))
    assert_one_line(done, command[0], what(damage, KERAS_KIND), path)


@pytest.mark.parametrize("damage", KERAS_DAMAGE)
def test_the_python_api_names_a_damaged_keras_file(folder, tmp_path, damage):
    path = damaged(folder / "vit.keras", damage, tmp_path)
    pattern = what(damage, KERAS_KIND).replace("{path}", re.escape(path))
    with pytest.raises(ValueError, match=f"^{pattern}$"):
        build_model(path)
    with pytest.raises(ValueError, match=f"^{pattern}$"):
        keras_vit.from_checkpoint(path)
    with pytest.raises(ValueError, match=f"^{pattern}$"):
        keras_vit.ViT(num_classes=5, weights=path, **TINY)
    with pytest.raises(ValueError, match=f"^{pattern}$"):
        keras_vit.weights.load_weights(keras_vit.ViT(num_classes=5, **TINY), path)


@pytest.mark.backend_independent(reason="the config is read before Keras loads the model")
def test_a_keras_file_of_another_model_is_not_a_keras_vit_model(tmp_path, folder):
    path = tmp_path / "mlp.keras"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="mlp").save(path)
    done = run_script("predict", folder / "photo.png", "--model", path)
    assert_one_line(done, "predict", r"{path} holds a Sequential, not a keras_vit VisionTransformer\.", path)


WEIGHTS_DAMAGE = {
    "truncated": rf"{{path}} is truncated: it has [\d,]+ of its [\d,]+ bytes\. {AGAIN}",
    "text": r"{path} is not a \.weights\.h5 file Keras wrote: it holds text \('<html>.*'\), not an HDF5 file\.",
    # Byte 8 is the superblock's version; HDF5 keeps no checksum of the superblock of version 0.
    "flipped": r"{path} is damaged: h5py cannot read it \(Unable to synchronously open file \(bad superblock "
               rf"version number\)\)\. {AGAIN}",
}


def damaged_weights(folder, damage, into):
    source = folder / "vit.weights.h5"
    name = into / f"{damage}.weights.h5"
    if damage == "flipped":
        return flipped(source, name, 8, count=1)
    return truncated(source, name) if damage == "truncated" else page(name)


def test_predict_names_a_damaged_weights_file(folder, tmp_path):
    path = damaged_weights(folder, "truncated", tmp_path)
    done = run_script("predict", folder / "photo.png", "--model", folder / "vit.keras", "--weights", path)
    assert_one_line(done, "predict", WEIGHTS_DAMAGE["truncated"], path)


@pytest.mark.parametrize("damage", sorted(WEIGHTS_DAMAGE))
def test_a_damaged_weights_file_is_named_by_the_builders(folder, tmp_path, damage):
    path = damaged_weights(folder, damage, tmp_path)
    with pytest.raises(ValueError, match="^" + WEIGHTS_DAMAGE[damage].replace("{path}", re.escape(path)) + "$"):
        keras_vit.ViT(num_classes=5, weights=path, **TINY)
    with pytest.raises(ValueError, match=re.escape(path)):
        build_model(str(folder / "vit.keras"), weights=path)


def test_a_compiled_model_s_weights_file_loads_into_its_architecture(folder, tmp_path):
    """A compiled model's `.weights.h5` also holds its optimizer's variables, which are no weights of it."""
    model = keras.saving.load_model(folder / "vit.keras")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)
    model.save_weights(tmp_path / "trained.weights.h5")
    with h5py.File(tmp_path / "trained.weights.h5", "r") as file:
        assert "optimizer" in file
    fresh = keras_vit.ViT(num_classes=5, weights=str(tmp_path / "trained.weights.h5"), **TINY)
    images = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(fresh.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)


CHECKPOINT_DAMAGE = {
    ("vit.npz", "truncated"): what("truncated", ""),
    ("vit.npz", "text"): what("text", r"an \.npz checkpoint"),
    ("vit.npz", "cls.npy"): what("cls.npy", ""),
    ("vit.safetensors", "truncated"): r"{path} is truncated: it has [\d,]+ of the [\d,]+ bytes its header places\. "
                                      + AGAIN,
    ("vit.safetensors", "text"): r"{path} is not a safetensors file: it holds text \('<html>.*'\)\.",
    ("vit.safetensors", "flipped"): rf"{{path}} is damaged: its header is not JSON \(.*\)\. {AGAIN}",
}


def damaged_checkpoint(folder, name, damage, into):
    source = folder / name
    if damage == "flipped":  # the first byte of the JSON header, after its 8-byte length
        return flipped(source, into / f"flipped_{name}", 8, count=1)
    return damaged(source, damage, into)


@pytest.mark.backend_independent(reason="the file is checked before a model is built")
def test_convert_names_a_damaged_checkpoint(folder, tmp_path):
    path = damaged_checkpoint(folder, "vit.npz", "cls.npy", tmp_path)
    done = run_script("convert", path, tmp_path / "out.keras")
    assert_one_line(done, "convert", CHECKPOINT_DAMAGE["vit.npz", "cls.npy"], path)
    assert not (tmp_path / "out.keras").exists()


@pytest.mark.parametrize("name, damage", sorted(CHECKPOINT_DAMAGE), ids="-".join)
def test_from_checkpoint_and_weights_name_a_damaged_checkpoint(folder, tmp_path, name, damage):
    path = damaged_checkpoint(folder, name, damage, tmp_path)
    pattern = "^" + CHECKPOINT_DAMAGE[name, damage].replace("{path}", re.escape(path)) + "$"
    with pytest.raises(ValueError, match=pattern):
        keras_vit.from_checkpoint(path)
    with pytest.raises(ValueError, match=pattern):
        build_model("Ti/16", weights=path, image_size=16)


def _onnx(path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    scale = numpy_helper.from_array(np.ones(3, np.float32), "scale")
    graph = helper.make_graph(
        [helper.make_node("Mul", ["images", "scale"], ["scores"])], "scaled",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 16, 16, 3])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 16, 16, 3])], [scale],
    )
    onnx.save(helper.make_model(graph, ir_version=9, opset_imports=[helper.make_opsetid("", 17)]), path)


def _openvino(path):
    openvino = pytest.importorskip("openvino")
    from openvino import opset13

    images = opset13.parameter([1, 16, 16, 3], np.float32, name="images")
    scaled = opset13.multiply(images, opset13.constant(np.arange(3, dtype=np.float32)))
    openvino.save_model(openvino.Model([scaled], [images], "scaled"), path, compress_to_fp16=False)


def _pt2(path):
    torch = pytest.importorskip("torch")

    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(3))

        def forward(self, images):
            return images * self.scale

    torch.export.save(torch.export.export(Scaled(), (torch.zeros(1, 16, 16, 3),)), path)


def _tflite(path):
    tf = pytest.importorskip("tensorflow")
    scaled = tf.function(lambda images: images * 2.0, input_signature=[tf.TensorSpec([1, 16, 16, 3], tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([scaled.get_concrete_function()])
    with open(path, "wb") as file:
        file.write(converter.convert())


# Small files each runtime's own writer makes (damage is found before what they compute matters).
WRITERS = {".onnx": _onnx, ".xml": _openvino, ".pt2": _pt2, ".tflite": _tflite}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """`exported(suffix)`: a whole file of that exported format, written once."""
    folder, made = tmp_path_factory.mktemp("exported"), {}

    def get(suffix):
        if suffix not in made:
            WRITERS[suffix](str(folder / f"model{suffix}"))
            made[suffix] = folder / f"model{suffix}"
        return made[suffix]

    return get


def _pt2_member(path):
    with zipfile.ZipFile(path) as archive:
        return max(archive.infolist(), key=lambda member: member.compress_size).filename


EXPORTED_DAMAGE = {
    (".tflite", "truncated"): r"{path} cannot be read by the LiteRT interpreter \(ValueError: The model is not a "
                              rf"valid Flatbuffer buffer\): the file may be damaged or truncated\. {AGAIN}",
    (".tflite", "text"): r"{path} is not a LiteRT \(\.tflite\) file: it holds text \('<html>.*'\)\.",
    (".tflite", "flipped"): r"{path} is not a LiteRT \(\.tflite\) file: bytes 4 to 8 are not its identifier 'TFL3' "
                            rf"\(it begins with the bytes [0-9a-f ]+\)\. {AGAIN}",
    (".onnx", "truncated"): r"{path} cannot be read by onnxruntime \(InvalidProtobuf: Load model from {path} failed:"
                            rf"Protobuf parsing failed\.\): the file may be damaged or truncated\. {AGAIN}",
    (".onnx", "text"): r"{path} is not an ONNX model: it holds text \('<html>.*'\)\.",
    (".onnx", "flipped"): r"{path} cannot be read by onnxruntime \(InvalidProtobuf: Load model from {path} failed:"
                          rf"Protobuf parsing failed\.\): the file may be damaged or truncated\. {AGAIN}",
    (".xml", "truncated"): r"{path} is not a whole OpenVINO IR file: its XML is truncated or damaged \(.+\)\. " + AGAIN,
    (".xml", "text"): r"{path} is not an OpenVINO IR file: its XML's root element is <html>, not <net>\.",
    (".xml", "flipped"): r"{path} is not a whole OpenVINO IR file: its XML is truncated or damaged \(.+\)\. " + AGAIN,
    (".xml", "short bin"): rf"{{bin}} is truncated: it has 6 of the 12 bytes {{path}} places in it\. {AGAIN}",
    (".pt2", "truncated"): what("truncated", ""),
    (".pt2", "text"): what("text", r"a \.pt2 file torch\.export wrote"),
    (".pt2", "flipped"): rf"{{path}} is damaged: the data of its member '.+' fails its CRC-32 checksum\. {AGAIN}",
}


def damaged_export(source, damage, folder):
    """`source` damaged as `damage` says; "flipped" inverts bytes where the format notices: a
    `.pt2` member's data, a `.tflite` file's identifier, an `.onnx` file's first field tag, an
    OpenVINO file's XML declaration. "short bin" cuts an OpenVINO model's `.bin` file in half."""
    suffix = source.suffix
    path = folder / f"{damage.replace(' ', '_')}{suffix}"
    if suffix == ".xml":  # an OpenVINO model is the .xml file and the .bin file beside it
        weights = source.with_suffix(".bin").read_bytes()
        path.with_suffix(".bin").write_bytes(weights[: len(weights) // 2] if damage == "short bin" else weights)
        if damage == "short bin":
            path.write_bytes(source.read_bytes())
            return str(path)
    if damage == "truncated":
        return truncated(source, path)
    if damage == "text":
        return page(path)
    if suffix == ".pt2":
        with zipfile.ZipFile(source) as archive:
            largest = max(archive.infolist(), key=lambda member: member.compress_size).filename
        return member_flipped(source, path, largest)
    return flipped(source, path, {".tflite": 4, ".onnx": 0, ".xml": 1}[suffix])


def _predict_error(path, capsys, tmp_path):
    """The stderr lines of `keras-vit predict` on one photo with `--model PATH`, run in this process."""
    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(photo)
    assert main(["predict", str(photo), "--model", path]) == 1
    return capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("suffix, damage", sorted(EXPORTED_DAMAGE), ids=" ".join)
def test_predict_names_a_damaged_exported_file(exported, tmp_path, capsys, suffix, damage):
    path = damaged_export(exported(suffix), damage, tmp_path)
    pattern = EXPORTED_DAMAGE[suffix, damage].replace("{bin}", re.escape(path[: -len(suffix)] + ".bin"))
    lines = _predict_error(path, capsys, tmp_path)
    assert len(lines) == 1, lines
    assert re.fullmatch("keras-vit predict: " + pattern.replace("{path}", re.escape(path)), lines[0]), lines[0]


@pytest.mark.backend_independent(reason="the file is checked before its runtime reads it")
def test_predict_script_names_a_damaged_exported_file(exported, folder, tmp_path):
    path = damaged_export(exported(".pt2"), "flipped", tmp_path)
    done = run_script("predict", folder / "photo.png", "--model", path)
    assert_one_line(done, "predict", EXPORTED_DAMAGE[".pt2", "flipped"], path)
