# Backprop Lab exercise: implement the functions below, then run `grade ex05`.

# %% [markdown]
# # ex05: Layers with forward and backward (역전파 계층)
#
# Backpropagation computes the gradient of the loss with respect to every parameter of a network
# in one backward sweep, at about the cost of one forward pass, where the numerical gradient of
# ex03 needs two forward passes per parameter. The trick is to build the network from **layers**:
# each knows how to compute its output (`forward`) and how to pass a gradient back (`backward`).
# This exercise implements the four layers that the two-layer network of ex06 is made of: `Relu`,
# `Sigmoid`, `Affine` and `SoftmaxWithLoss`. Fill in the body of each method below; its docstring
# states exactly what it must accept and return. You may reuse your own functions from earlier
# exercises, as the book's layers do (`from ex01_activations import softmax`).
#
# **Check your work:** in a terminal, run `grade ex05` from the folder that holds `exercises/`; if
# you work in the notebook, run `grade ex05 --path ex05_layers.ipynb` from this folder instead.
# Besides comparing with the reference, the grader checks each `backward` against a numerical
# gradient of your own `forward` and prints their relative error, as CS231n's gradient checks do:
# about 1e-7 or less means the two agree.
#
# 오차역전파법은 신경망의 모든 매개변수에 대한 손실의 기울기를 한 번의 역방향 계산으로 구합니다.
# 비용은 순전파 한 번과 비슷한 수준인데, ex03의 수치 미분은 매개변수 하나마다 순전파를 두 번씩
# 해야 합니다. 비결은 신경망을 **계층**으로 조립하는 것입니다. 각 계층은 출력을 계산하는 방법
# (`forward`)과 기울기를 거꾸로 전달하는 방법(`backward`)을 압니다. 이 실습에서는 ex06의 2층
# 신경망을 이루는 네 계층 `Relu`, `Sigmoid`, `Affine`, `SoftmaxWithLoss`를 구현합니다. 아래 각
# 메서드의 본문을 채우세요. 무엇을 입력받고 무엇을 반환해야 하는지는 메서드의 독스트링에 정확히
# 적혀 있습니다. 교재의 계층들처럼 이전 실습에서 만든 자신의 함수를 가져다 써도 됩니다
# (`from ex01_activations import softmax`).
#
# **채점 방법:** 터미널을 열고 `exercises/` 폴더가 들어 있는 위치에서 `grade ex05`를 실행하세요.
# 노트북에서 작업한다면 이 폴더에서 `grade ex05 --path ex05_layers.ipynb`를 실행합니다. 채점기는
# 모범 답안의 결과와 비교할 뿐 아니라, CS231n의 기울기 확인처럼 각 `backward`의 결과를 여러분이
# 만든 `forward`의 수치 미분과 비교해 상대 오차를 출력합니다. 약 1e-7 이하이면 둘이 일치하는
# 것입니다.

# %%
"""ex05 layers: Relu, Sigmoid, Affine and SoftmaxWithLoss with forward and backward."""

import numpy as np

# %% [markdown]
# ## A layer is a node of the computational graph
#
# In the computational graph of a network, each layer is a node: it receives its input $x$ and
# sends its output $y = f(x)$ on. Backpropagation runs the graph from the loss $L$ back to the
# input. A layer receives from the layer above the **upstream gradient**
# `dout` $= \partial L / \partial y$ and returns $\partial L / \partial x$, which by the chain rule
# is `dout` multiplied by the layer's local derivative $\partial y / \partial x$. It does not need
# to know anything about the rest of the network, so gradients of any network follow from calling
# `backward` on its layers in reverse order.
#
# The local derivative usually depends on the input or the output of `forward`, but `backward`
# only receives `dout`. So `forward` stores on `self` what `backward` will need: that is why
# layers are classes. Two rules about arrays: `forward` must not modify its input `x` (other
# code still uses it), while `backward` may modify `dout` in place, as the book's `Relu` does
# (the grader always passes a fresh array). Every gradient has the shape of the variable it is
# the gradient of.
#
# ## 계층은 계산 그래프의 노드다
#
# 신경망의 계산 그래프에서 각 계층은 노드 하나입니다. 입력 $x$를 받아 출력 $y = f(x)$를 다음
# 계층으로 보냅니다. 역전파는 그래프를 손실 $L$에서 입력 쪽으로 거꾸로 따라갑니다. 계층은 위쪽
# 계층에서 **상류 기울기** `dout` $= \partial L / \partial y$를 받아 $\partial L / \partial x$를
# 반환하는데, 연쇄법칙에 따라 이는 `dout`에 그 계층의 국소 미분 $\partial y / \partial x$를 곱한
# 값입니다. 계층은 신경망의 나머지 부분에 대해 아무것도 알 필요가 없으므로, 어떤 신경망이든 계층의
# `backward`를 역순으로 호출하기만 하면 기울기를 얻습니다.
#
# 국소 미분은 보통 `forward`의 입력이나 출력에 따라 달라지지만, `backward`가 받는 것은 `dout`
# 하나뿐입니다. 그래서 `forward`는 `backward`에 필요한 값을 `self`에 저장해 둡니다. 계층을 클래스로
# 만드는 이유가 이것입니다. 배열에 관한 규칙 두 가지: `forward`는 입력 `x`를 수정하면 안 되고(다른
# 코드가 아직 `x`를 씁니다), `backward`는 교재의 `Relu`처럼 `dout`을 제자리에서 수정해도 됩니다
# (채점기는 항상 새 배열을 넘깁니다). 모든 기울기는 그 기울기를 구하는 대상 변수와 형상이
# 같습니다.

# %% [markdown]
# ## The ReLU layer keeps a mask
#
# $y = x$ where $x > 0$ and $y = 0$ elsewhere, so the local derivative is 1 where $x > 0$ and 0
# where $x \le 0$. In the graph the node acts like a switch: `backward` passes `dout` through
# unchanged where the input was positive and stops it (0) where it was not. Which elements were
# positive is exactly what `backward` cannot see from `dout`, so `forward` keeps a boolean
# **mask**, `self.mask = (x <= 0)`, and `backward` sets `dout[self.mask] = 0`. The mask is the
# layer's whole memory; it works for inputs of any shape. In `forward`, zero the negative
# elements of a copy (`x.copy()` or `np.maximum(0, x)`), not of `x` itself.
#
# ## ReLU 계층은 마스크를 저장한다
#
# $x > 0$이면 $y = x$, 그 외에는 $y = 0$이므로 국소 미분은 $x > 0$인 곳에서 1, $x \le 0$인 곳에서
# 0입니다. 계산 그래프에서 이 노드는 스위치처럼 동작합니다. `backward`는 입력이 양수였던 원소에서는
# `dout`을 그대로 흘려보내고, 그렇지 않은 원소에서는 막습니다(0). 어느 원소가 양수였는지는
# `backward`가 `dout`만 보고는 알 수 없으므로, `forward`가 bool 배열인 **마스크**
# `self.mask = (x <= 0)`을 저장하고 `backward`에서 `dout[self.mask] = 0`으로 설정합니다. 마스크가
# 이 계층이 기억하는 전부이며, 어떤 형상의 입력에도 통합니다. `forward`에서는 `x` 자체가 아니라
# 복사본(`x.copy()` 또는 `np.maximum(0, x)`)의 음수 원소를 0으로 만드세요.


# %%
class Relu:
    """ReLU layer: ``forward`` keeps where x <= 0 in ``self.mask`` for ``backward``."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        """Return max(0, x) without modifying ``x``.

        Args:
            x: array of any shape.
        Returns:
            Array of the shape of ``x``.
        """
        raise NotImplementedError("Relu.forward is not implemented yet")

    def backward(self, dout):
        """Return dx: ``dout`` where the input was positive, 0 elsewhere.

        Args:
            dout: upstream gradient, the shape of the forward input (may be modified).
        Returns:
            dx, the shape of ``dout``.
        """
        raise NotImplementedError("Relu.backward is not implemented yet")


# %% [markdown]
# ## The sigmoid layer's backward uses its output
#
# $y = \dfrac{1}{1 + e^{-x}}$ is, as a computational graph, four nodes in a row: $\times(-1)$,
# $\exp$, $+1$ and $1/\cdot$. Backpropagating through them node by node gives
# $\dfrac{\partial L}{\partial x} = \texttt{dout} \cdot y^2 e^{-x}$, and since
# $e^{-x} = \dfrac{1 - y}{y}$, this simplifies to
#
# $$\frac{\partial L}{\partial x} = \texttt{dout} \cdot y\,(1 - y).$$
#
# The derivative depends on the **output** $y$ only, so `forward` stores `self.out = y` and
# `backward` returns `dout * self.out * (1 - self.out)`, with no `exp` to compute again. The
# formula takes $y$, not the input $x$: `dout * x * (1 - x)` is a classic mistake.
#
# ## 시그모이드 계층의 역전파는 출력을 사용한다
#
# $y = \dfrac{1}{1 + e^{-x}}$를 계산 그래프로 나타내면 $\times(-1)$, $\exp$, $+1$, $1/\cdot$의 네
# 노드가 이어진 모양입니다. 이 노드들을 하나씩 거꾸로 지나가면
# $\dfrac{\partial L}{\partial x} = \texttt{dout} \cdot y^2 e^{-x}$를 얻고,
# $e^{-x} = \dfrac{1 - y}{y}$이므로 다음과 같이 정리됩니다.
#
# $$\frac{\partial L}{\partial x} = \texttt{dout} \cdot y\,(1 - y).$$
#
# 미분이 **출력** $y$에만 의존하므로, `forward`는 `self.out = y`를 저장하고 `backward`는 `exp`를
# 다시 계산하지 않고 `dout * self.out * (1 - self.out)`을 반환합니다. 이 식에 들어가는 것은 입력
# $x$가 아니라 출력 $y$입니다. `dout * x * (1 - x)`는 흔히 하는 실수입니다.


# %%
class Sigmoid:
    """Sigmoid layer: ``forward`` keeps its output ``self.out`` for ``backward``."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        """Return 1 / (1 + exp(-x)).

        Args:
            x: array of any shape.
        Returns:
            Array of the shape of ``x``, values in [0, 1].
        """
        raise NotImplementedError("Sigmoid.forward is not implemented yet")

    def backward(self, dout):
        """Return dx = dout * y * (1 - y), with y the forward output.

        Args:
            dout: upstream gradient, the shape of the forward input.
        Returns:
            dx, the shape of ``dout``.
        """
        raise NotImplementedError("Sigmoid.backward is not implemented yet")


# %% [markdown]
# ## The Affine layer
#
# The fully connected layer computes $Y = X \cdot W + B$ for a batch: $X$ is $(N, D)$, one
# sample per row, $W$ is $(D, M)$, the bias $B$ is $(M,)$ and $Y$ is $(N, M)$. In the graph it is
# a `dot` node followed by a `+` node. Given `dout` $= \partial L / \partial Y$, of shape
# $(N, M)$:
#
# - $\dfrac{\partial L}{\partial X} = \texttt{dout} \cdot W^T$, shape $(N, M)(M, D) = (N, D)$;
# - $\dfrac{\partial L}{\partial W} = X^T \cdot \texttt{dout}$, shape $(D, N)(N, M) = (D, M)$;
# - $\dfrac{\partial L}{\partial B} = \sum_n \texttt{dout}_n$, the sum over the batch
#   (`np.sum(dout, axis=0)`), shape $(M,)$.
#
# The shapes tell you the order and the transposes: each gradient must have the shape of its
# variable, and only one product of `dout` with $W$ (or with $X$) has it. The bias is added to
# every one of the $N$ samples (broadcasting copies it $N$ times), so its gradient collects the
# contributions of all of them: a sum, not a mean (dividing by $N$ is the loss's job, see
# `SoftmaxWithLoss`). `forward` keeps `x` for `dW`; `W` is kept since `__init__`.
#
# **Image input.** An input such as a batch of images $(N, C, H, W)$ is flattened to
# $(N, C \cdot H \cdot W)$ first: `x.reshape(x.shape[0], -1)`. `forward` remembers the original
# shape (`self.original_x_shape`), and `backward` reshapes `dx` back to it, because the layer
# below expects a gradient of the shape of its own output.
#
# ## Affine 계층
#
# 완전연결 계층은 배치에 대해 $Y = X \cdot W + B$를 계산합니다. $X$는 샘플 하나가 한 행인
# $(N, D)$, $W$는 $(D, M)$, 편향 $B$는 $(M,)$, $Y$는 $(N, M)$입니다. 계산 그래프에서는 `dot` 노드
# 뒤에 `+` 노드가 이어진 모양입니다. 형상이 $(N, M)$인 `dout` $= \partial L / \partial Y$가
# 주어지면:
#
# - $\dfrac{\partial L}{\partial X} = \texttt{dout} \cdot W^T$, 형상 $(N, M)(M, D) = (N, D)$
# - $\dfrac{\partial L}{\partial W} = X^T \cdot \texttt{dout}$, 형상 $(D, N)(N, M) = (D, M)$
# - $\dfrac{\partial L}{\partial B} = \sum_n \texttt{dout}_n$, 배치에 대한 합
#   (`np.sum(dout, axis=0)`), 형상 $(M,)$
#
# 곱하는 순서와 전치는 형상을 보면 알 수 있습니다. 각 기울기는 대상 변수와 형상이 같아야 하고,
# `dout`과 $W$(또는 $X$)의 곱 중에 그 형상이 나오는 것은 하나뿐입니다. 편향은 $N$개 샘플 모두에
# 더해지므로(브로드캐스트가 편향을 $N$번 복사합니다), 그 기울기는 모든 샘플의 기여를 모은 값, 즉
# 평균이 아니라 합입니다($N$으로 나누는 것은 손실의 몫입니다. `SoftmaxWithLoss`를 보세요).
# `forward`는 `dW`를 위해 `x`를 저장하고, `W`는 `__init__`에서부터 갖고 있습니다.
#
# **이미지 입력.** 이미지 배치 $(N, C, H, W)$ 같은 입력은 먼저
# $(N, C \cdot H \cdot W)$로 평탄화합니다: `x.reshape(x.shape[0], -1)`. `forward`는 원래 형상을
# (`self.original_x_shape`에) 기억해 두고, `backward`는 `dx`를 그 형상으로 되돌립니다. 아래
# 계층은 자기 출력과 형상이 같은 기울기를 기대하기 때문입니다.


# %%
class Affine:
    """Affine layer out = x . W + b, for x of shape (N, D) or (N, d1, d2, ...).

    Attributes:
        W: weights, shape (D, M). b: bias, shape (M,).
        dW, db: gradients set by ``backward``, the shapes of W and b.
    """

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        """Flatten every axis of ``x`` after the first and return x . W + b.

        Args:
            x: input, shape (N, D) or (N, d1, ..., dk) with d1 * ... * dk = D.
        Returns:
            out, shape (N, M).
        """
        raise NotImplementedError("Affine.forward is not implemented yet")

    def backward(self, dout):
        """Set ``self.dW`` and ``self.db`` and return dx in the original shape of x.

        Args:
            dout: upstream gradient, shape (N, M).
        Returns:
            dx, the shape of the forward input x.
        """
        raise NotImplementedError("Affine.backward is not implemented yet")


# %% [markdown]
# ## Softmax with the cross-entropy loss
#
# The last layer turns scores $x$ of shape $(N, C)$ into probabilities $y = \mathrm{softmax}(x)$
# (row by row) and returns the loss $L = -\frac{1}{N} \sum_n \log y_{n, t_n}$, the mean
# cross-entropy over the batch (ex01's `softmax` and ex02's `cross_entropy_error`). Targets come
# one-hot, shape $(N, C)$, or as integer labels, shape $(N,)$: `t.size == y.size` tells which.
#
# Backpropagating through the softmax and the log, with all their exponentials and sums, gives a
# remarkably simple result:
#
# $$\frac{\partial L}{\partial x} = \frac{y - t}{N}.$$
#
# The gradient is just the error between the prediction and the (one-hot) target: large when the
# network is confidently wrong, small when it is right. This is no accident: cross-entropy is
# chosen for the softmax output (as the squared error is for the identity output) precisely so
# that the gradient comes out as $y - t$. With integer labels, $y - t$ is `y` with 1 subtracted
# at `[np.arange(N), t]`.
#
# **Why divide by $N$.** The loss is the *mean* over the batch, so each sample contributes
# $1/N$ of it, and its gradient carries that $1/N$. Without it the gradient, and with it every
# weight update, would grow with the batch size, and a learning rate tuned for one batch size
# would be wrong for another. `backward(dout=1)`: this is the last layer, and
# $\partial L / \partial L = 1$.
#
# ## 소프트맥스와 교차 엔트로피 손실
#
# 마지막 계층은 형상이 $(N, C)$인 점수 $x$를 (행마다) 확률 $y = \mathrm{softmax}(x)$로 바꾸고,
# 배치에 대한 교차 엔트로피의 평균인 손실 $L = -\frac{1}{N} \sum_n \log y_{n, t_n}$을 반환합니다
# (ex01의 `softmax`와 ex02의 `cross_entropy_error`). 정답은 형상 $(N, C)$인 원-핫 벡터나 형상
# $(N,)$인 정수 레이블로 주어지며, `t.size == y.size`로 둘을 구별합니다.
#
# 지수 함수와 합이 가득한 소프트맥스와 로그를 거꾸로 지나가면 놀랄 만큼 간단한 결과가 나옵니다.
#
# $$\frac{\partial L}{\partial x} = \frac{y - t}{N}.$$
#
# 기울기는 예측과 (원-핫) 정답의 차이일 뿐입니다. 신경망이 자신 있게 틀리면 크고, 맞히면 작습니다.
# 우연이 아닙니다. 항등 함수 출력에 오차제곱합을 짝짓듯, 소프트맥스 출력에 교차 엔트로피를
# 짝짓는 이유가 바로 기울기가 $y - t$로 깔끔하게 나오기 때문입니다. 정수 레이블이라면 $y - t$는
# `y`의 `[np.arange(N), t]` 위치에서 1을 뺀 값입니다.
#
# **$N$으로 나누는 이유.** 손실은 배치에 대한 *평균*이므로 각 샘플은 손실의 $1/N$만큼 기여하고,
# 기울기에도 그 $1/N$이 붙습니다. 나누지 않으면 기울기와 그에 따른 가중치 갱신량이 배치 크기에
# 비례해 커지므로, 어떤 배치 크기에 맞춘 학습률이 다른 배치 크기에서는 맞지 않게 됩니다.
# `backward(dout=1)`: 이 계층이 마지막 계층이고 $\partial L / \partial L = 1$이기 때문입니다.


# %%
class SoftmaxWithLoss:
    """Softmax followed by the mean cross-entropy loss (with the 1e-7 guard).

    Attributes:
        loss: the last loss. y: softmax output, shape (N, C). t: the targets given.
    """

    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        """Return the mean cross-entropy of softmax(x) against ``t``.

        Args:
            x: scores, shape (N, C).
            t: one-hot targets, shape (N, C), or integer labels, shape (N,).
        Returns:
            The loss, a float.
        """
        raise NotImplementedError("SoftmaxWithLoss.forward is not implemented yet")

    def backward(self, dout=1):
        """Return the gradient of the loss with respect to x: (y - t) / N.

        Args:
            dout: upstream gradient of the loss (1 for the last layer).
        Returns:
            dx, shape (N, C).
        """
        raise NotImplementedError("SoftmaxWithLoss.backward is not implemented yet")
