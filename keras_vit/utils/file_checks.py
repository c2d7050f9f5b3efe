"""Whether a model or weights file is whole, checked before its library reads it.

Keras, h5py, NumPy, safetensors and the export runtimes report a damaged file
in their own words, often as a traceback (`zipfile.BadZipFile: Bad CRC-32 for
file 'config.json'`), or wrongly (Keras' `File not found` for a `.keras` file
that is there but cut short). The checks here read a file's first bytes, a zip
archive's table of contents and checksums, or a header, and raise a one-line
`ValueError` that names the file and says what is wrong with it; `unreadable`
words what a library raised, for what no cheap check sees.
"""

import json
import os
import re
import struct
import zipfile
import zlib

ZIP_MAGIC = b"PK\x03\x04"
ZIP_END_MAGIC = b"PK\x05\x06"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
TFLITE_IDENTIFIER = b"TFL3"
AGAIN = "Copy, download or save it again."
# A safetensors header is at most 100 MB; a larger length means the file is something else.
SAFETENSORS_MAX_HEADER = 100_000_000
_ZIP_READ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError)


def check_zip_archive(path, kind):
    """Raises a one-line `ValueError` unless `path` is a whole zip archive whose
    members all read back and pass their CRC-32 checksums, as `.keras`, `.npz`,
    `.pt2` and PyTorch's `.pth` files must.

    Every member is read once (a `.keras` file of ViT-B/16: about 0.3 s), which
    is what loading the file costs again; a damaged member is then named
    instead of surfacing as a traceback from inside Keras or NumPy.

    Args:
        path: str. The file.
        kind: str. What the file should be, for the errors, such as
            `"a .keras file Keras wrote"`.
    """
    check_not_empty(path, kind)
    try:
        archive = zipfile.ZipFile(path)
    except _ZIP_READ_ERRORS as error:
        raise ValueError(_not_a_zip(path, kind, error)) from None
    with archive:
        for member in archive.infolist():
            problem = _member_problem(archive, member)
            if problem:
                raise ValueError(f"{path} is damaged: {problem}. {AGAIN}")


def _member_problem(archive, member):
    """What is wrong with one member of an open zip archive, or None."""
    try:
        with archive.open(member) as data:
            while data.read(1 << 20):
                pass
    except zipfile.BadZipFile as error:
        if str(error).startswith("Bad CRC-32"):
            return f"the data of its member {member.filename!r} fails its CRC-32 checksum"
        return f"its member {member.filename!r} cannot be read ({error})"
    except _ZIP_READ_ERRORS as error:
        return f"its member {member.filename!r} cannot be read ({type(error).__name__}: {error})"
    return None


def _not_a_zip(path, kind, error):
    """Why `zipfile` refused `path`: cut short, a damaged end, or something else."""
    head = read_head(path)
    if head.startswith(ZIP_MAGIC):
        if _has_zip_end(path):
            return f"{path} is damaged: its zip archive's table of contents cannot be read ({error}). {AGAIN}"
        return (
            f"{path} is truncated: it begins as a zip archive but ends after {os.path.getsize(path):,} bytes, "
            f"before the table of contents a zip archive ends with. {AGAIN}"
        )
    return f"{path} is not {kind}: {describe(head)}, not a zip archive."


def _has_zip_end(path):
    """Whether the end-of-archive record is in the file's last 64 KiB plus its own size."""
    with open(path, "rb") as file:
        file.seek(max(0, os.path.getsize(path) - (1 << 16) - 22))
        return ZIP_END_MAGIC in file.read()


def check_not_empty(path, kind):
    """Raises a `ValueError` if `path` is an empty file."""
    if os.path.getsize(path) == 0:
        raise ValueError(f"{path} is empty (0 bytes), not {kind}.")


def read_head(path, size=512):
    """The first `size` bytes of `path`."""
    with open(path, "rb") as file:
        return file.read(size)


def describe(head):
    """What a file's first bytes say it is, as a clause: `"it holds text ('<html>')"`."""
    text = text_start(head)
    if text is not None:
        return f"it holds text ({text!r})"
    if head.startswith(HDF5_MAGIC):
        return "it is an HDF5 file, as a .weights.h5 file is"
    if head.startswith(ZIP_MAGIC):
        return "it is a zip archive, as a .keras file is"
    return f"it begins with the bytes {head[:8].hex(' ')}"


def text_start(head):
    """The start of the first line if `head` is printable text, else None."""
    for cut in range(4):  # a UTF-8 character may straddle the end of `head`
        try:
            text = head[: len(head) - cut].decode("utf-8")
            break
        except UnicodeDecodeError:
            continue
    else:
        return None
    if not text.strip() or not all(char.isprintable() or char in "\t\n\r" for char in text):
        return None
    line = text.strip().splitlines()[0]
    return line if len(line) <= 40 else line[:40] + "..."


def check_hdf5(path, kind):
    """Raises a one-line `ValueError` unless `path` begins as an HDF5 file does
    (at byte 0, or after a user block of 512, 1024, 2048, ... bytes)."""
    check_not_empty(path, kind)
    size = os.path.getsize(path)
    offset = 0
    with open(path, "rb") as file:
        while offset < size:
            file.seek(offset)
            if file.read(len(HDF5_MAGIC)) == HDF5_MAGIC:
                return
            offset = 512 if offset == 0 else offset * 2
    if size < len(HDF5_MAGIC) and HDF5_MAGIC.startswith(read_head(path)):
        raise ValueError(f"{path} is truncated: it ends after {size} bytes, inside the HDF5 signature. {AGAIN}")
    raise ValueError(f"{path} is not {kind}: {describe(read_head(path))}, not an HDF5 file.")


def hdf5_error(path, error):
    """The one-line `ValueError` for what h5py raised reading `path`."""
    found = re.search(r"truncated file: eof = (\d+).*stored_eof = (\d+)", str(error))
    if found:
        has, needs = (int(number) for number in found.groups())
        return ValueError(f"{path} is truncated: it has {has:,} of its {needs:,} bytes. {AGAIN}")
    return ValueError(f"{path} is damaged: h5py cannot read it ({reason(error)}). {AGAIN}")


def check_safetensors(path):
    """Raises a one-line `ValueError` unless `path`'s safetensors header reads
    as JSON and the file holds every byte the header places."""
    kind = "a safetensors file"
    check_not_empty(path, kind)
    size = os.path.getsize(path)
    head = read_head(path)
    if text_start(head) is not None:
        raise ValueError(f"{path} is not {kind}: {describe(head)}.")
    if size < 8:
        raise ValueError(f"{path} is truncated: it ends after {size} bytes, inside the header's length. {AGAIN}")
    (header_size,) = struct.unpack("<Q", head[:8])
    if header_size > SAFETENSORS_MAX_HEADER:
        raise ValueError(f"{path} is not {kind}: {describe(head)}, not the length of a safetensors header.")
    if 8 + header_size > size:
        raise ValueError(
            f"{path} is truncated: it ends after {size:,} bytes, inside its {header_size:,}-byte header. {AGAIN}"
        )
    needs = 8 + header_size + _data_size(path, header_size)
    if needs > size:
        raise ValueError(f"{path} is truncated: it has {size:,} of the {needs:,} bytes its header places. {AGAIN}")


def _data_size(path, header_size):
    """The bytes of tensor data a safetensors header places after itself."""
    with open(path, "rb") as file:
        file.seek(8)
        raw = file.read(header_size)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is damaged: its header is not JSON ({error}). {AGAIN}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path} is damaged: its header is not a JSON object. {AGAIN}")
    ends = [
        entry["data_offsets"][1]
        for key, entry in header.items()
        if key != "__metadata__" and isinstance(entry, dict) and len(entry.get("data_offsets") or ()) == 2
    ]
    return max((end for end in ends if isinstance(end, int)), default=0)


def reason(error):
    """The line of a library's error that says what happened: the first one
    that is not the location of a check in its C++ sources (OpenVINO's
    `Exception from src/...:84:` and `Check '...' failed at ...`)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    said = [line for line in lines if not re.match(r"(Exception from |Check '.*' failed at )\S+:\d+", line)]
    # onnxruntime's status code, as in "[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Load model ..."
    return re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", (said or lines or [type(error).__name__])[0])


def unreadable(path, runtime, error):
    """The one-line `ValueError` for `runtime`'s error reading `path`, once the cheap checks passed."""
    return ValueError(
        f"{path} cannot be read by {runtime} ({type(error).__name__}: {reason(error)}): the file may be "
        f"damaged or truncated. {AGAIN}"
    )


def check_exported(path):
    """Raises a one-line `ValueError` if an exported model file is visibly not
    whole: a `.pt2` zip archive with a damaged member, a `.tflite` or `.onnx`
    file holding text or nothing, a `.tflite` file without LiteRT's identifier,
    an OpenVINO `.xml` whose XML breaks off or whose `.bin` is short. What such
    checks cannot see (damaged bytes inside a flatbuffer or a protobuf), the
    runtime reports; `unreadable` words it."""
    if os.path.isdir(path):
        return
    if path.endswith(".pt2"):
        check_zip_archive(path, "a .pt2 file torch.export wrote")
    elif path.endswith(".tflite"):
        _check_binary(path, "a LiteRT (.tflite) file")
        if read_head(path, 8)[4:8] != TFLITE_IDENTIFIER:
            raise ValueError(
                f"{path} is not a LiteRT (.tflite) file: bytes 4 to 8 are not its identifier 'TFL3' "
                f"({describe(read_head(path))}). {AGAIN}"
            )
    elif path.endswith(".onnx"):
        _check_binary(path, "an ONNX model")
    elif path.endswith(".xml"):
        check_openvino(path)


def _check_binary(path, kind):
    check_not_empty(path, kind)
    head = read_head(path)
    if text_start(head) is not None:
        raise ValueError(f"{path} is not {kind}: {describe(head)}.")


def check_openvino(path):
    """Raises a one-line `ValueError` unless the OpenVINO IR `.xml` file parses
    and the `.bin` file beside it holds every byte its constants place."""
    from xml.etree import ElementTree

    check_not_empty(path, "an OpenVINO IR file")
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        head = read_head(path)
        if not head.lstrip().startswith(b"<"):
            raise ValueError(f"{path} is not an OpenVINO IR file: {describe(head)}, not XML.") from None
        raise ValueError(
            f"{path} is not a whole OpenVINO IR file: its XML is truncated or damaged ({error}). {AGAIN}"
        ) from None
    if root.tag != "net":
        raise ValueError(f"{path} is not an OpenVINO IR file: its XML's root element is <{root.tag}>, not <net>.")
    needs = max((_end(data) for data in _constants(root)), default=0)
    if not needs:
        return
    weights = os.path.splitext(path)[0] + ".bin"
    if not os.path.isfile(weights):
        raise ValueError(
            f"{path} needs its weights file {weights}, which is missing: an OpenVINO IR model is the .xml "
            "file and the .bin file beside it."
        )
    if os.path.getsize(weights) < needs:
        raise ValueError(
            f"{weights} is truncated: it has {os.path.getsize(weights):,} of the {needs:,} bytes {path} "
            f"places in it. {AGAIN}"
        )


def _constants(root):
    """The `<data>` elements of an IR's `Const` layers, which place their values in the `.bin` file."""
    for layer in root.iter("layer"):
        data = layer.find("data")
        if layer.get("type") == "Const" and data is not None:
            yield data


def _end(data):
    """Where a constant's bytes end in the `.bin` file (0 if its `<data>` does not say)."""
    offset, size = data.get("offset", ""), data.get("size", "")
    return int(offset) + int(size) if offset.isdigit() and size.isdigit() else 0
