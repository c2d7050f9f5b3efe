"""matplotlib figures without pyplot: created on the Agg canvas, saved at their exact size.

matplotlib is imported only when a figure is made (`pip install "keras-vit-zoo[plot]"`).
"""

from keras_vit.utils.install import install_hint


def new_figure(size_inches, dpi):
    """A `matplotlib.figure.Figure` of `size_inches` on the Agg canvas."""
    try:
        import matplotlib.backends.backend_agg
        import matplotlib.figure
    except ImportError as error:
        raise ImportError(
            "keras_vit draws its figures with matplotlib, which is not "
            f"installed: {install_hint('plot')}"
        ) from error
    figure = matplotlib.figure.Figure(figsize=size_inches, dpi=dpi)
    matplotlib.backends.backend_agg.FigureCanvasAgg(figure)
    return figure


def save_figure(figure, path):
    """Saves `figure` as a PNG of exactly its size in pixels if `path`; returns it."""
    if path is not None:
        import matplotlib

        # A "tight" bounding box from a user's matplotlibrc would change the size.
        with matplotlib.rc_context({"savefig.bbox": "standard"}):
            figure.savefig(path, format="png", dpi=figure.dpi)
    return figure
