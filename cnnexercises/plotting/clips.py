"""Video clips: the frames side by side (`clip_strip`) and played as an animation (`clip_animation`).

Glossary: T frames, H/W a frame's height and width, C channels (1 or 3).
"""

from __future__ import annotations

import numpy as np

from cnnexercises.jupyter import ShownOnce
from cnnexercises.plotting._figure import NotebookFigure, displayable, grid, show_image, shows_itself


def _frames(clip):
    """`(T, H, W, C)` floats from a clip, with an optional batch axis of 1."""
    a = np.asarray(clip, dtype=np.float32)
    if a.ndim == 5 and a.shape[0] == 1:
        a = a[0]                                                        # (1, T, H, W, C) -> (T, H, W, C)
    if a.ndim == 3:
        a = a[..., None]                                                # (T, H, W) -> (T, H, W, 1)
    if a.ndim != 4 or a.shape[-1] not in (1, 3) or a.shape[0] < 1:
        raise ValueError(
            "`clip` must be (frames, height, width), (frames, height, width, 1 or 3), or with a "
            f"batch axis of 1. Received: clip.shape={np.shape(clip)}"
        )
    return a


@shows_itself
def clip_strip(clip, title=None, max_frames=12):
    """The frames of a clip side by side, left to right in time.

    Args:
        clip: `(T, H, W)`, `(T, H, W, C)` or `(1, T, H, W, C)`, C 1 or 3.
        title: a title above the strip (e.g. the label), or None.
        max_frames: show at most this many frames (evenly spaced) of a long clip.

    Returns:
        A `matplotlib.figure.Figure` with one axes per frame shown, titled "t=0", "t=1", ...

    Example:
        >>> fig = clip_strip(np.zeros((4, 8, 8, 1)), title="left")
        >>> [ax.get_title() for ax in fig.axes]
        ['t=0', 't=1', 't=2', 't=3']
    """
    frames = _frames(clip)
    shown = np.unique(np.linspace(0, len(frames) - 1, min(len(frames), int(max_frames))).round().astype(int))
    fig, axes = grid(len(shown), ncols=len(shown), cell=(1.3, 1.3), extra_height=0.5 if title else 0.3)
    for ax, t in zip(axes, shown):
        show_image(ax, frames[t], title=f"t={t}")
    if title is not None:
        fig.suptitle(str(title))
    return fig


class ClipAnimation(ShownOnce):
    """A clip played in a loop: shows itself once in Jupyter (HTML with play controls), saves as a GIF.

    Attributes:
        figure: the `matplotlib.figure.Figure` it draws on.
        animation: the `matplotlib.animation.FuncAnimation`.
    """

    def __init__(self, figure, animation, frames):
        self.figure = figure
        self.animation = animation
        self.frames = frames

    def _repr_html_(self):
        return self.animation.to_jshtml(default_mode="loop")

    def _mimebundle(self) -> dict:
        return {"text/html": self._repr_html_(), "text/plain": f"<ClipAnimation of {self.frames} frames>"}

    def save(self, path, fps=5):
        """Write the animation to `path` (a `.gif` needs only Pillow)."""
        from matplotlib.animation import PillowWriter

        self.animation.save(str(path), writer=PillowWriter(fps=fps))


def clip_animation(clip, title=None, interval=200, size=2.5):
    """A clip as an animation, one frame every `interval` milliseconds.

    Args:
        clip: `(T, H, W)`, `(T, H, W, C)` or `(1, T, H, W, C)`, C 1 or 3.
        title: a title above the frames, or None.
        interval: milliseconds per frame.
        size: width and height of the figure in inches.

    Returns:
        A `ClipAnimation`: in Jupyter it shows itself once, with play controls, as soon as it
        is made; elsewhere `.save("clip.gif")`.

    Example:
        >>> "<script" in clip_animation(np.zeros((3, 8, 8)))._repr_html_()
        True
    """
    from matplotlib.animation import FuncAnimation
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    frames = _frames(clip)
    fig = NotebookFigure(figsize=(size, size), layout="constrained")
    FigureCanvasAgg(fig)  # an Agg canvas: the animation renders without pyplot
    ax = fig.add_subplot()
    show_image(ax, frames[0], title="t=0")
    image = ax.images[0]
    if title is not None:
        fig.suptitle(str(title))

    def draw(t):
        image.set_data(displayable(frames[t]))
        ax.set_title(f"t={t}", fontsize=8)
        return (image,)

    animation = FuncAnimation(fig, draw, frames=len(frames), interval=int(interval), blit=False)
    return ClipAnimation(fig, animation, len(frames)).present()
