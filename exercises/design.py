"""Design a CNN for 100x100 colour images and 50 classes, on the tutorial's principles.

Tutorial: "Practice Exercises" (5: architecture design), with "VGGNet (2014)"
(stacked 3x3 convolutions), "ResNet (2015)" (skip connections) and "Pooling"
(global average pooling).

`build_model(num_classes)` returns a torch.nn.Module mapping (N, 3, 100, 100)
images to (N, num_classes) logits. It is graded by a rubric, each item a test of
its own, all checked from what the model does (its forward pass, traced), not
from the names you give its parts:

- logits of shape (N, num_classes), for any num_classes
- every convolution 3x3; 1x1 convolutions are allowed as projections
- at least one skip connection: an addition (or concatenation) that joins a path
  through fewer convolutions with a path through more, as in y = F(x) + x
- global average pooling before the classifier: every path from the image to
  the logits goes through a mean over H and W (a module or a mean in forward)
- at most 5,000,000 parameters
- it learns: a few Adam steps on one fixed batch lower the loss, and the
  gradient reaches every layer that took part in the forward pass

`DESIGN_NOTES` justifies your choices in a few sentences each (input size and
downsampling, depth and width, the skip connections, normalisation, the
classifier, the parameter budget); your instructor grades it.
"""

import torch
import torch.nn.functional as F
from torch import nn

DESIGN_NOTES = ""


def build_model(num_classes=50):
    """A CNN for (N, 3, 100, 100) images.

    Inputs:
    - num_classes: the number of classes (50 in the exercise; any count must work)

    Returns:
    - a torch.nn.Module whose forward maps (N, 3, 100, 100) float32 images to
      (N, num_classes) logits, for N >= 1 in eval mode
    """
    # YOUR CODE HERE
    raise NotImplementedError
