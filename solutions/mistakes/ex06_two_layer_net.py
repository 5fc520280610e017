"""Known mistakes of ex06 that cannot be derived from the reference's results, one buggy class
each (instructors only).

``grader/exercises/ex06_two_layer_net.py`` names them in ``Mistake(..., variant={"TwoLayerNet":
"TwoLayerNetPredictsProbabilities"})``; only the results of the checks' scenarios with them in
place are stored. The classes extend the reference solution's, imported by module name as the
solutions import each other.
"""

import numpy as np
from ex06_two_layer_net import TwoLayerNet


class TwoLayerNetPredictsProbabilities(TwoLayerNet):
    """predict applies the softmax to the scores of the last Affine layer."""

    def predict(self, x):
        scores = super().predict(x)
        e = np.exp(scores - np.max(scores, axis=-1, keepdims=True))
        return e / np.sum(e, axis=-1, keepdims=True)
