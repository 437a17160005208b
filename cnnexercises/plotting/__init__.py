"""Figures for the exercises; every function returns a `matplotlib.figure.Figure` and shows it in Jupyter.

    kernel_sweep      a kernel sliding over a padded input, and the output grid it fills
    conv_output       an image, a kernel and the convolution result side by side
    filters           a CNN's first-layer filters as small images
    feature_maps      one image through a CNN's conv/pool layers
    training_curves   loss and accuracy per epoch, training and validation
    confusion_matrix  counts of true vs predicted classes (`confusion_counts` in NumPy)
    predictions       images titled "predicted (true)", wrong ones in red
    clip_strip        the frames of a video clip side by side
    clip_animation    a video clip played in a loop (HTML in Jupyter, `.save("clip.gif")`)

Nothing calls `plt.show()` or registers figures with pyplot. In a Jupyter kernel each
figure is shown once, as soon as it is made, whether or not it ends its cell (with any
matplotlib backend); in a script nothing is shown: call `fig.savefig(path)`. Keras is imported only by
`filters` and `feature_maps`, when given a model.
"""

from cnnexercises.plotting.clips import ClipAnimation, clip_animation, clip_strip
from cnnexercises.plotting.images import conv_output
from cnnexercises.plotting.layers import feature_maps, filters
from cnnexercises.plotting.sweep import kernel_sweep
from cnnexercises.plotting.training import confusion_counts, confusion_matrix, predictions, training_curves

__all__ = [
    "ClipAnimation",
    "clip_animation",
    "clip_strip",
    "confusion_counts",
    "confusion_matrix",
    "conv_output",
    "feature_maps",
    "filters",
    "kernel_sweep",
    "predictions",
    "training_curves",
]
