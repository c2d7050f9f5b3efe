"""The paper's Figures 6 and 7 drawn with matplotlib, from the arrays of this package.

matplotlib is imported only here, and only when a figure is asked for
(`pip install "keras-vit-zoo[plot]"`). Each function returns a `matplotlib.figure.Figure`
on the Agg canvas, so no display and no `pyplot` state are involved; in a
notebook the returned figure shows itself. With `path`, it is also saved as a
PNG of exactly `figure.get_size_inches() * dpi` pixels.
"""

import math

import numpy as np

from keras_vit.utils.plotting import new_figure, save_figure


def plot_attention(image, maps, titles=None, columns=6, mode="mask", path=None, dpi=100):
    """The image and attention maps over it, one panel each (paper Figure 6).

    Args:
        image: array `(height, width, 3)`, RGB in `[0, 255]`.
        maps: array `(height, width)` or `(num_maps, height, width)`, e.g. from
            `attention_rollout` or `last_layer_attention` for this image.
        titles: list of str or None. One title per map. Defaults to None
            (numbered).
        columns: int. Panels per row. Defaults to 6.
        mode: str. `"mask"` multiplies the image by the map divided by its
            maximum, as the paper's Figure 6; `"heatmap"` draws the map in
            colour over the image. Defaults to `"mask"`.
        path: str or None. Where to save the figure as PNG. Defaults to None.
        dpi: int. Pixels per inch. Defaults to 100.

    Returns:
        A `matplotlib.figure.Figure`.
    """
    image = np.clip(np.asarray(image, dtype=np.float32) / 255.0, 0.0, 1.0)
    maps = np.asarray(maps, dtype=np.float32)
    maps = maps[None] if maps.ndim == 2 else maps
    if image.ndim != 3 or maps.ndim != 3 or maps.shape[1:] != image.shape[:2]:
        raise ValueError(
            "`image` must have shape (height, width, 3) and `maps` (num_maps, height, "
            f"width) of the same size. Received: image.shape={image.shape}, maps.shape={maps.shape}"
        )
    if mode not in ("mask", "heatmap"):
        raise ValueError(f"`mode` must be 'mask' or 'heatmap'. Received: mode={mode!r}")
    titles = list(titles) if titles is not None else [f"map {i + 1}" for i in range(len(maps))]
    columns = min(columns, len(maps) + 1)
    rows = math.ceil((len(maps) + 1) / columns)
    figure = new_figure((2.5 * columns, 2.5 * rows), dpi)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    axes[0].imshow(image)
    axes[0].set_title("image")
    for ax, attention, title in zip(axes[1:], maps, titles):
        scaled = attention / max(float(attention.max()), np.finfo(np.float32).tiny)
        if mode == "mask":
            ax.imshow(image * scaled[..., None])
        else:
            ax.imshow(image)
            ax.imshow(scaled, cmap="inferno", alpha=0.5, vmin=0.0, vmax=1.0)
        ax.set_title(title)
    for ax in axes:
        ax.set_axis_off()
    return save_figure(figure, path)


def plot_attention_distance(distances, path=None, dpi=100):
    """Mean attention distance by layer, one point per head (paper Figure 7, right).

    Args:
        distances: array `(layers, heads)` from `mean_attention_distance`.
        path: str or None. Where to save the figure as PNG. Defaults to None.
        dpi: int. Pixels per inch. Defaults to 100.

    Returns:
        A `matplotlib.figure.Figure` of 5 x 4 inches.
    """
    distances = np.asarray(distances, dtype=np.float32)
    if distances.ndim != 2:
        raise ValueError(
            f"`distances` must have shape (layers, heads). Received: distances.shape={distances.shape}"
        )
    layers, heads = distances.shape
    figure = new_figure((5, 4), dpi)
    ax = figure.subplots()
    depth = np.repeat(np.arange(1, layers + 1), heads)
    ax.scatter(depth, distances.ravel(), s=12, alpha=0.8)
    ax.set_xlabel("Network depth (layer)")
    ax.set_ylabel("Mean attention distance (pixels)")
    ax.set_ylim(bottom=0)
    ax.set_xlim(0.5, layers + 0.5)
    ax.xaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    return save_figure(figure, path)


def plot_position_embedding_similarity(similarity, path=None, dpi=100):
    """The grid of position-embedding similarity maps (paper Figure 7, centre).

    The small map at row `r`, column `c` shows patch `(r, c)`'s cosine
    similarity to every patch.

    Args:
        similarity: array `(rows, cols, rows, cols)` from
            `position_embedding_similarity`.
        path: str or None. Where to save the figure as PNG. Defaults to None.
        dpi: int. Pixels per inch. Defaults to 100.

    Returns:
        A `matplotlib.figure.Figure` of 6.5 x 6 inches.
    """
    similarity = np.asarray(similarity, dtype=np.float32)
    if similarity.ndim != 4 or similarity.shape[:2] != similarity.shape[2:]:
        raise ValueError(
            "`similarity` must have shape (rows, cols, rows, cols). "
            f"Received: similarity.shape={similarity.shape}"
        )
    rows, cols = similarity.shape[:2]
    figure = new_figure((6.5, 6), dpi)
    ax = figure.subplots()
    shown = ax.imshow(_mosaic(similarity, np.nan), cmap="viridis", vmin=-1, vmax=1,
                      interpolation="nearest")
    for axis, count, label in ((ax.xaxis, cols, "Input patch column"), (ax.yaxis, rows, "Input patch row")):
        step = math.ceil(count / 12)
        positions = np.arange(0, count, step)
        axis.set_ticks(positions * (count + 1) + (count - 1) / 2, labels=positions + 1)
        axis.set_label_text(label)
    figure.colorbar(shown, ax=ax, shrink=0.8, label="Cosine similarity")
    ax.set_title("Position embedding similarity")
    return save_figure(figure, path)


def plot_relative_position_bias(offsets, bias, path=None, dpi=100):
    """The relative-position bias against the query-key offset, one line per head.

    Args:
        offsets: int array `(2T - 1,)` and `bias` float array `(heads, 2T - 1)`,
            as `relative_position_bias` returns them.
        path: str or None. Where to save the figure as PNG. Defaults to None.
        dpi: int. Pixels per inch. Defaults to 100.

    Returns:
        A `matplotlib.figure.Figure` of 5 x 4 inches.
    """
    offsets, bias = np.asarray(offsets), np.asarray(bias, dtype=np.float32)
    if offsets.ndim != 1 or bias.ndim != 2 or bias.shape[1] != offsets.shape[0]:
        raise ValueError(
            "`offsets` must have shape (offsets,) and `bias` (heads, offsets). "
            f"Received: offsets.shape={offsets.shape}, bias.shape={bias.shape}"
        )
    figure = new_figure((5, 4), dpi)
    ax = figure.subplots()
    for head, values in enumerate(bias):
        ax.plot(offsets, values, linewidth=1, label=f"head {head + 1}")
    ax.set_xlabel("Query index - key index")
    ax.set_ylabel("Mean relative-position logit")
    if len(bias) <= 16:
        ax.legend(fontsize="x-small", ncol=2)
    figure.tight_layout()
    return save_figure(figure, path)


def plot_embedding_filters(filters, columns=7, path=None, dpi=100):
    """The principal components of the embedding filters as tiles (paper Figure 7, left).

    Each component is scaled to `[0, 1]` on its own and drawn as an RGB (or,
    with one channel, grey) tile.

    Args:
        filters: array `(n, height, width, 3 or 1)` from `embedding_filters`.
        columns: int. Tiles per row. Defaults to 7, as in the paper.
        path: str or None. Where to save the figure as PNG. Defaults to None.
        dpi: int. Pixels per inch. Defaults to 100.

    Returns:
        A `matplotlib.figure.Figure`, 1 inch per tile and 0.5 for the title.
    """
    filters = np.asarray(filters, dtype=np.float32)
    if filters.ndim != 4 or filters.shape[-1] not in (1, 3):
        raise ValueError(
            "`filters` must have shape (n, height, width, channels) with 3 (RGB) or 1 "
            f"channel. Received: filters.shape={filters.shape}"
        )
    low = filters.min(axis=(1, 2, 3), keepdims=True)
    span = filters.max(axis=(1, 2, 3), keepdims=True) - low
    tiles = (filters - low) / np.where(span > 0, span, 1.0)
    columns = min(columns, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    blank = np.ones((rows * columns - len(tiles), *tiles.shape[1:]), np.float32)
    tiles = np.concatenate([tiles, blank]).reshape(rows, columns, *tiles.shape[1:])
    figure = new_figure((columns, rows + 0.5), dpi)
    figure.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.45 / (rows + 0.5))
    ax = figure.subplots()
    mosaic = _mosaic(tiles, 1.0)
    ax.imshow(mosaic[..., 0] if mosaic.shape[-1] == 1 else mosaic, cmap="gray",
              vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"Embedding filters: first {len(filters)} principal components")
    return save_figure(figure, path)


def _mosaic(tiles, fill):
    """Lays out `(rows, cols, h, w, ...)` tiles as one image with a 1-pixel `fill` gap."""
    rows, cols, height, width = tiles.shape[:4]
    padding = [(0, 0), (0, 0), (0, 1), (0, 1)] + [(0, 0)] * (tiles.ndim - 4)
    padded = np.pad(tiles, padding, constant_values=fill)
    mosaic = np.swapaxes(padded, 1, 2).reshape(rows * (height + 1), cols * (width + 1), *tiles.shape[4:])
    return mosaic[:-1, :-1]


