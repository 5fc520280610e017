# %% [markdown]
# # ex06: A two-layer network (2층 신경망)
#
# This exercise assembles the layers of ex05 into a complete network that can learn: the book's
# `TwoLayerNet` (chapter 5), Affine → ReLU → Affine → SoftmaxWithLoss. You write its constructor,
# the forward pass (`predict`, `loss`, `accuracy`) and two ways of computing the gradient of the
# loss with respect to every parameter: slowly by numerical differentiation (with your ex03
# `numerical_gradient`), and fast by backpropagation through the layers. Comparing the two is the
# *gradient check* that tells you backpropagation is right. In ex08 you will train this network
# on MNIST.
#
# This file imports your own earlier exercises, `ex05_layers` and `ex03_gradient`, so keep them in
# the same folder and finish them first.
#
# **Check your work:** in a terminal, run `grade ex06` from the folder that holds `exercises/`; if
# you work in the notebook, run `grade ex06 --path .` from this folder (grading a folder lets the
# grader import your ex03 and ex05 next to it; it grades the notebook or the .py file, whichever
# you worked on).
#
# 이 실습에서는 ex05의 계층들을 조립해 학습할 수 있는 완전한 신경망을 만듭니다. 교재 5장의
# `TwoLayerNet`으로, 구조는 Affine → ReLU → Affine → SoftmaxWithLoss입니다. 생성자, 순전파
# (`predict`, `loss`, `accuracy`), 그리고 모든 매개변수에 대한 손실의 기울기를 구하는 두 가지
# 방법을 구현합니다. 하나는 ex03의 `numerical_gradient`를 이용한 느린 수치 미분이고, 다른 하나는
# 계층을 거꾸로 거치는 빠른 오차역전파법입니다. 두 결과를 비교하는 것이 역전파가 올바른지 확인하는
# *기울기 확인*(gradient check)입니다. ex08에서는 이 신경망을 MNIST로 학습시킵니다.
#
# 이 파일은 앞에서 만든 `ex05_layers`와 `ex03_gradient`를 import하므로, 두 파일을 같은 폴더에 두고
# 먼저 완성하세요.
#
# **채점 방법:** 터미널을 열고 `exercises/` 폴더가 들어 있는 위치에서 `grade ex06`을 실행하세요.
# 노트북에서 작업한다면 이 폴더에서 `grade ex06 --path .`를 실행합니다(폴더를 채점해야 채점기가
# 옆에 있는 ex03과 ex05를 import할 수 있으며, .py 파일과 노트북 중 작업한 쪽을 채점합니다).

# %%
"""ex06 two-layer network: TwoLayerNet from the ex05 layers, with backpropagation."""

from collections import OrderedDict

import numpy as np
from ex03_gradient import numerical_gradient
from ex05_layers import Affine, Relu, SoftmaxWithLoss

# %% [markdown]
# ## The parameters and their initial values
#
# The network has four parameters, kept in the dict `self.params`: `W1` of shape
# (input_size, hidden_size) and `b1` of shape (hidden_size,) for the first Affine layer, `W2` of
# shape (hidden_size, output_size) and `b2` of shape (output_size,) for the second. A batch `x` of
# shape (N, input_size) then flows as $x W_1 + b_1$ → ReLU → $h W_2 + b_2$, giving scores of shape
# (N, output_size).
#
# **Weights start small and random**: `weight_init_std * np.random.randn(...)`, values drawn from
# the normal distribution $N(0, \sigma^2)$ with $\sigma$ = `weight_init_std` (0.01 by default).
# They must not all start equal (for instance all 0): every hidden unit would then compute the
# same value and receive the same gradient, so they would stay identical forever and the hidden
# layer would be worth a single unit. Random values break this symmetry. `np.random.randn` draws
# from $N(0, 1)$; multiplying by $\sigma$ scales the spread to $\sigma$. (`np.random.rand` is a
# different function: uniform on $[0, 1)$, all positive.) **Biases start at zero**
# (`np.zeros`): the random weights already break the symmetry.
#
# ## 매개변수와 초깃값
#
# 신경망의 매개변수 네 개는 딕셔너리 `self.params`에 담습니다. 첫 번째 Affine 계층의 `W1`(형상
# (input_size, hidden_size))과 `b1`(형상 (hidden_size,)), 두 번째 Affine 계층의 `W2`(형상
# (hidden_size, output_size))와 `b2`(형상 (output_size,))입니다. 형상이 (N, input_size)인 배치
# `x`는 $x W_1 + b_1$ → ReLU → $h W_2 + b_2$ 순서로 흘러가 형상이 (N, output_size)인 점수가
# 됩니다.
#
# **가중치는 작은 무작위 값으로 시작합니다**: `weight_init_std * np.random.randn(...)`, 즉
# $\sigma$ = `weight_init_std`(기본값 0.01)인 정규분포 $N(0, \sigma^2)$에서 뽑은 값입니다.
# 가중치가 모두 같은 값(예를 들어 모두 0)으로 시작하면 안 됩니다. 그러면 모든 은닉 뉴런이 같은
# 값을 계산하고 같은 기울기를 받아 영원히 똑같이 남으므로, 은닉층이 뉴런 하나만큼의 역할밖에 하지
# 못합니다. 무작위 값이 이 대칭을 깨뜨립니다. `np.random.randn`은 $N(0, 1)$에서 값을 뽑고, 여기에
# $\sigma$를 곱하면 퍼진 정도가 $\sigma$가 됩니다. (`np.random.rand`는 다른 함수로, $[0, 1)$ 구간의
# 균등분포이며 값이 모두 양수입니다.) **편향은 0으로 시작합니다**(`np.zeros`). 대칭은 이미 무작위
# 가중치가 깨뜨려 주기 때문입니다.

# %% [markdown]
# ## The layers share the parameter arrays
#
# The layers are kept, in forward order, in an `OrderedDict` `self.layers` (`'Affine1'`,
# `'Relu1'`, `'Affine2'`), with the loss layer apart in `self.lastLayer`. Build each Affine layer
# from **the very arrays in `self.params`**: `Affine(self.params['W1'], self.params['b1'])`. The
# layer then holds a reference to the same array, not a copy. This matters: an optimizer trains
# the network by changing `network.params['W1']` *in place* (`params[key] -= lr * grads[key]`),
# and `numerical_gradient` perturbs the parameters in place too; the layers see those changes
# only because they share the arrays. A layer holding a copy (`self.params['W1'].copy()`) would
# silently compute with the initial weights forever: the loss would never go down.
#
# ## 계층은 매개변수 배열을 공유합니다
#
# 계층들은 순전파 순서대로 `OrderedDict`인 `self.layers`(`'Affine1'`, `'Relu1'`, `'Affine2'`)에
# 담고, 손실 계층은 따로 `self.lastLayer`에 둡니다. 각 Affine 계층은 **`self.params`에 있는 바로 그
# 배열로** 만드세요: `Affine(self.params['W1'], self.params['b1'])`. 그러면 계층은 복사본이 아니라
# 같은 배열을 참조합니다. 이것이 중요한 이유는, 옵티마이저가 `network.params['W1']`을 *제자리에서*
# (`params[key] -= lr * grads[key]`) 바꾸어 신경망을 학습시키고 `numerical_gradient`도 매개변수를
# 제자리에서 조금씩 바꾸기 때문입니다. 계층이 배열을 공유해야만 이 변화를 볼 수 있습니다. 복사본을
# 가진 계층(`self.params['W1'].copy()`)은 아무 경고 없이 영원히 초기 가중치로 계산하므로, 손실이
# 결코 줄어들지 않습니다.

# %% [markdown]
# ## Forward: predict, loss and accuracy
#
# `predict(x)` runs `x` through the layers in order and returns the **scores** of the last Affine
# layer (before any softmax: the softmax is part of `SoftmaxWithLoss`, and the largest score is the
# most probable class anyway). `loss(x, t)` feeds those scores and the targets to `lastLayer`,
# which returns the mean cross-entropy of their softmax. `accuracy(x, t)` is the fraction of
# samples whose largest score is the true class: `np.argmax(scores, axis=1)` against the labels,
# where one-hot targets (shape (N, C)) are first turned into labels with `np.argmax(t, axis=1)`.
#
# ## 순전파: predict, loss, accuracy
#
# `predict(x)`는 `x`를 계층 순서대로 통과시켜 마지막 Affine 계층의 **점수**를
# 반환합니다(소프트맥스를 적용하기 전의 값입니다. 소프트맥스는 `SoftmaxWithLoss`에 들어 있고,
# 어차피 점수가 가장 큰 클래스가 확률도 가장 큽니다). `loss(x, t)`는 이 점수와 정답을
# `lastLayer`에 넘기고, `lastLayer`는 소프트맥스의 평균 교차 엔트로피를 반환합니다.
# `accuracy(x, t)`는 점수가 가장 큰 클래스가 정답인 샘플의 비율입니다.
# `np.argmax(scores, axis=1)`를 정답 레이블과 비교하며, 원-핫 정답(형상 (N, C))은 먼저
# `np.argmax(t, axis=1)`로 레이블로 바꿉니다.

# %% [markdown]
# ## Two ways to get the gradient
#
# Training needs $\partial L / \partial W$ for every parameter. **Numerically**, your ex03
# `numerical_gradient(f, W)` nudges each element of `W` in place by $\pm h$ and evaluates the loss
# twice: with $f$ = `lambda W: self.loss(x, t)` (the argument is not even used: the loss sees the
# nudged element through the shared arrays). That is two full forward passes per parameter:
# for the MNIST network's roughly 40,000 parameters, 80,000 forward passes for one gradient. It is
# simple and hard to get wrong, but far too slow to train with.
#
# **Backpropagation** gets every gradient from one forward and one backward pass. Run the forward
# pass (`self.loss(x, t)`, so that each layer keeps the values its backward needs), then call
# `backward` on `lastLayer` with `dout = 1` and on each layer in **reverse** order, passing each
# result to the next; afterwards each Affine layer holds its `dW` and `db`. The **gradient check**
# compares the two on a small network: their relative error should be about $10^{-7}$ or less.
#
# ## 기울기를 구하는 두 가지 방법
#
# 학습에는 모든 매개변수에 대한 $\partial L / \partial W$가 필요합니다. **수치 미분**에서는 ex03의
# `numerical_gradient(f, W)`가 `W`의 각 원소를 제자리에서 $\pm h$만큼 바꾸고 손실을 두 번
# 계산합니다. 이때 $f$ = `lambda W: self.loss(x, t)`입니다(인수는 쓰이지도 않습니다. 배열을
# 공유하므로 손실이 바뀐 원소를 그대로 봅니다). 매개변수 하나마다 순전파를 두 번 하므로,
# 매개변수가 약 4만 개인 MNIST 신경망에서는 기울기 한 번에 순전파가 8만 번 필요합니다. 간단하고
# 틀리기 어렵지만, 학습에 쓰기에는 너무 느립니다.
#
# **오차역전파법**은 순전파 한 번과 역전파 한 번으로 모든 기울기를 구합니다. 먼저 순전파를
# 하고(`self.loss(x, t)`: 각 계층이 역전파에 필요한 값을 저장합니다), `lastLayer`에 `dout = 1`로
# `backward`를 호출한 뒤 각 계층의 `backward`를 **역순**으로 호출하며 결과를 다음 계층에
# 넘깁니다. 그러고 나면 각 Affine 계층에 `dW`와 `db`가 들어 있습니다. **기울기 확인**은 작은
# 신경망에서 두 결과를 비교하는 것으로, 상대 오차가 $10^{-7}$ 정도 이하여야 합니다.


# %%
class TwoLayerNet:
    """Affine -> ReLU -> Affine -> SoftmaxWithLoss, for inputs of shape (N, input_size).

    Attributes:
        params: dict of the parameters: ``'W1'`` (input_size, hidden_size), ``'b1'``
            (hidden_size,), ``'W2'`` (hidden_size, output_size), ``'b2'`` (output_size,).
        layers: OrderedDict of the layers in forward order, ``'Affine1'``, ``'Relu1'``,
            ``'Affine2'``; the Affine layers hold the arrays of ``params`` themselves.
        lastLayer: the ``SoftmaxWithLoss`` layer.
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        """Create the parameters and the layers.

        Weights are drawn from N(0, weight_init_std**2) (``weight_init_std * np.random.randn``),
        biases are zero. The Affine layers must be built from the arrays in ``self.params``
        (not copies), so that updating ``self.params[key]`` in place changes the network.

        Args:
            input_size: D, the number of input features.
            hidden_size: H, the number of hidden units.
            output_size: C, the number of classes.
            weight_init_std: standard deviation of the initial weights.
        """
        ### BEGIN SOLUTION
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss()
        ### END SOLUTION

    def predict(self, x):
        """Return the scores (before softmax) of a batch.

        Args:
            x: inputs, shape (N, D).
        Returns:
            scores, shape (N, C).
        """
        ### BEGIN SOLUTION
        for layer in self.layers.values():
            x = layer.forward(x)
        return x
        ### END SOLUTION

    def loss(self, x, t):
        """Return the mean softmax cross-entropy loss of a batch.

        Args:
            x: inputs, shape (N, D).
            t: one-hot targets, shape (N, C), or integer labels, shape (N,).
        Returns:
            The loss, a float.
        """
        ### BEGIN SOLUTION
        y = self.predict(x)
        return self.lastLayer.forward(y, t)
        ### END SOLUTION

    def accuracy(self, x, t):
        """Return the fraction of samples whose largest score is the true class.

        Args:
            x: inputs, shape (N, D).
            t: one-hot targets, shape (N, C), or integer labels, shape (N,).
        Returns:
            A float in [0, 1].
        """
        ### BEGIN SOLUTION
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])
        ### END SOLUTION

    def numerical_gradient(self, x, t):
        """Return the gradients of the loss by numerical differentiation (slow).

        Uses ``numerical_gradient(f, W)`` from ex03 on each parameter array in turn, with a
        function ``f`` that returns ``self.loss(x, t)``.

        Args:
            x: inputs, shape (N, D).
            t: one-hot targets, shape (N, C), or integer labels, shape (N,).
        Returns:
            dict with keys ``'W1'``, ``'b1'``, ``'W2'``, ``'b2'``, each of the shape of the
            parameter.
        """
        ### BEGIN SOLUTION
        def loss_W(W):
            return self.loss(x, t)

        grads = {}
        for key in ("W1", "b1", "W2", "b2"):
            grads[key] = numerical_gradient(loss_W, self.params[key])
        return grads
        ### END SOLUTION

    def gradient(self, x, t):
        """Return the gradients of the loss by backpropagation.

        Runs the forward pass, then ``backward`` of ``lastLayer`` (with dout = 1) and of every
        layer in reverse order, and collects ``dW`` and ``db`` of the Affine layers.

        Args:
            x: inputs, shape (N, D).
            t: one-hot targets, shape (N, C), or integer labels, shape (N,).
        Returns:
            dict with keys ``'W1'``, ``'b1'``, ``'W2'``, ``'b2'``, each of the shape of the
            parameter.
        """
        ### BEGIN SOLUTION
        self.loss(x, t)  # forward: every layer keeps what its backward needs

        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)

        grads = {}
        grads["W1"], grads["b1"] = self.layers["Affine1"].dW, self.layers["Affine1"].db
        grads["W2"], grads["b2"] = self.layers["Affine2"].dW, self.layers["Affine2"].db
        return grads
        ### END SOLUTION
