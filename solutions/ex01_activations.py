# %% [markdown]
# # ex01: Activation functions (활성화 함수)
#
# This exercise implements, in NumPy, the activation functions of a neural network and their
# derivatives: identity, step, sigmoid, tanh, ReLU, leaky ReLU, ELU and softmax. The derivatives
# are what backpropagation multiplies together layer by layer, so they matter as much as the
# functions themselves. Fill in the body of each function below; its docstring states exactly what
# it must accept and return.
#
# **Check your work:** in a terminal, run `grade ex01` from the folder that holds `exercises/`; if
# you work in the notebook, run `grade ex01 --path ex01_activations.ipynb` from this folder
# instead.
#
# 이 실습에서는 신경망의 활성화 함수와 그 도함수를 NumPy로 구현합니다: 항등 함수, 계단 함수,
# 시그모이드, tanh, ReLU, Leaky ReLU, ELU, 소프트맥스. 역전파는 층마다 이 도함수들을 곱해 나가므로,
# 도함수는 활성화 함수 자체만큼 중요합니다. 아래 각 함수의 본문을 채우세요. 무엇을 입력받고 무엇을
# 반환해야 하는지는 함수의 독스트링에 정확히 적혀 있습니다.
#
# **채점 방법:** 터미널을 열고 `exercises/` 폴더가 들어 있는 위치에서 `grade ex01`을 실행하세요.
# 노트북에서 작업한다면 이 폴더에서 `grade ex01 --path ex01_activations.ipynb`를 실행합니다.

# %%
"""ex01 activations: activation functions and their derivatives."""

import numpy as np

# %% [markdown]
# ## Why a network needs a non-linear activation
#
# A layer computes an affine map $Wx + b$. Without a non-linear function between layers, stacked
# layers collapse into one: $W_3(W_2(W_1 x)) = (W_3 W_2 W_1)\,x$, a single linear map, so a deep
# network would be no more expressive than one layer (the book's example: with $h(x) = cx$, three
# layers give $y = c^3 x$). An activation function $h$ applied after each layer breaks this, and it
# has to be non-linear. The **identity function** $h(x) = x$ is the linear exception: it is used
# only in the output layer, for regression, where the output should be an unbounded real number.
#
# ## 신경망에 비선형 활성화 함수가 필요한 이유
#
# 층 하나는 아핀 변환 $Wx + b$를 계산합니다. 층 사이에 비선형 함수가 없으면 층을 여러 개 쌓아도
# 하나로 합쳐집니다: $W_3(W_2(W_1 x)) = (W_3 W_2 W_1)\,x$는 선형 변환 하나일 뿐이므로, 깊은
# 신경망도 층 하나보다 표현력이 나을 게 없습니다(교재의 예: $h(x) = cx$이면 3층을 쌓아도
# $y = c^3 x$). 각 층 뒤에 적용하는 활성화 함수 $h$가 이를 막아 주며, 그러려면 반드시 비선형이어야
# 합니다. **항등 함수** $h(x) = x$는 예외적으로 선형인데, 출력이 제한 없는 실수여야 하는 회귀
# 문제의 출력층에서만 씁니다.


# %%
def identity_function(x):
    """Return ``x`` unchanged.

    Args:
        x: array of any shape (or a scalar).
    Returns:
        ``x`` itself.
    """
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION


# %% [markdown]
# ## Step function
#
# The perceptron's activation: $h(x) = 1$ if $x > 0$, else $0$. Its derivative is $0$ everywhere
# except at $0$, where it is undefined, so a gradient passing through it carries no information
# about which way to change the weights. That is why neural networks replaced it with smooth
# functions such as the sigmoid. Return integers (or booleans) of the shape of `x`.
#
# ## 계단 함수
#
# 퍼셉트론의 활성화 함수입니다: $x > 0$이면 $h(x) = 1$, 아니면 $0$. 도함수는 $x = 0$을 제외한 모든
# 곳에서 $0$이고 $x = 0$에서는 정의되지 않으므로, 이 함수를 거친 기울기는 가중치를 어느 쪽으로
# 바꿔야 하는지 아무 정보도 주지 못합니다. 그래서 신경망에서는 시그모이드처럼 매끄러운 함수로 바꿔
# 씁니다. `x`와 같은 형상의 정수(또는 bool) 배열을 반환하세요.


# %%
def step_function(x):
    """Step function: 1 where ``x > 0``, else 0 (also 0 at exactly 0).

    Args:
        x: array of any shape (or a scalar).
    Returns:
        Array of the shape of ``x``, integer or bool dtype.
    """
    ### BEGIN SOLUTION
    return np.array(np.asarray(x) > 0, dtype=np.int64)
    ### END SOLUTION


# %% [markdown]
# ## Sigmoid
#
# $\sigma(x) = \dfrac{1}{1 + e^{-x}}$ is a smooth version of the step function: its output lies
# between 0 and 1, so it can be read as a probability. For very negative inputs $e^{-x}$ overflows:
# for $x = -1000$, `np.exp(1000)` is `inf` (NumPy prints a `RuntimeWarning`), but
# $1 / (1 + \infty) = 0$ is still the right answer, so the direct formula passes. It must never
# return `nan`.
#
# ## 시그모이드 함수
#
# $\sigma(x) = \dfrac{1}{1 + e^{-x}}$는 계단 함수를 매끄럽게 만든 함수로, 출력이 0과 1 사이에 있어
# 확률로 해석할 수 있습니다. 입력이 아주 작은 음수이면 $e^{-x}$에서 오버플로가 일어납니다.
# $x = -1000$이면 `np.exp(1000)`은 `inf`가 되지만(NumPy가 `RuntimeWarning`을 출력합니다)
# $1 / (1 + \infty) = 0$은 여전히 올바른 답이므로 식을 그대로 구현해도 됩니다. 단, 결과가 `nan`이
# 되어서는 안 됩니다.


# %%
def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, elementwise.

    Must give 0 and 1 (never NaN) for ``x = -1000`` and ``1000``.

    Args:
        x: array of any shape (or a scalar).
    Returns:
        Float array of the shape of ``x``, values in [0, 1].
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    ### END SOLUTION


# %% [markdown]
# ## The sigmoid's derivative and the vanishing gradient
#
# The sigmoid has a convenient derivative: $\sigma'(x) = \sigma(x)\,(1 - \sigma(x))$. Its maximum
# is $0.25$, at $x = 0$, and it approaches 0 as $|x|$ grows (the sigmoid *saturates*).
# Backpropagation multiplies the gradient by one such factor per layer, so through 10 sigmoid
# layers these factors alone scale it by at most $0.25^{10} \approx 10^{-6}$: the layers near the
# input barely learn. This is the **vanishing gradient** problem (you will measure it in ex09).
#
# ## 시그모이드의 도함수와 기울기 소실
#
# 시그모이드의 도함수는 간단합니다: $\sigma'(x) = \sigma(x)\,(1 - \sigma(x))$. 최댓값은 $x = 0$에서
# $0.25$이고, $|x|$가 커지면 0에 가까워집니다(시그모이드가 *포화*됩니다). 역전파는 층마다 기울기에
# 이 값을 하나씩 곱하므로, 시그모이드 층 10개를 지나면 이 값들만으로도 기울기가 최대
# $0.25^{10} \approx 10^{-6}$ 배로 작아집니다. 그 결과 입력층에 가까운 층은 거의 학습되지 않습니다.
# 이것이 **기울기 소실** 문제입니다(ex09에서 직접 측정합니다).


# %%
def sigmoid_grad(x):
    """Derivative of the sigmoid at ``x``: ``s(x) * (1 - s(x))``.

    Args:
        x: the sigmoid's *input*, array of any shape (or a scalar).
    Returns:
        Float array of the shape of ``x``.
    """
    ### BEGIN SOLUTION
    s = sigmoid(x)
    return s * (1.0 - s)
    ### END SOLUTION


# %% [markdown]
# ## tanh
#
# The hyperbolic tangent $\tanh(x) = \dfrac{e^x - e^{-x}}{e^x + e^{-x}} = 2\sigma(2x) - 1$ is a
# rescaled sigmoid with outputs in $(-1, 1)$, centred at 0. Its derivative $1 - \tanh^2(x)$ reaches
# $1$ at $x = 0$, four times the sigmoid's maximum, so gradients shrink more slowly; but it still
# saturates for large $|x|$, so deep tanh networks can also suffer from vanishing gradients.
#
# ## tanh (쌍곡탄젠트 함수)
#
# 쌍곡탄젠트 $\tanh(x) = \dfrac{e^x - e^{-x}}{e^x + e^{-x}} = 2\sigma(2x) - 1$은 시그모이드의
# 크기를 조정한 함수로, 출력이 $(-1, 1)$ 범위에 있고 0을 중심으로 합니다. 도함수 $1 - \tanh^2(x)$는
# $x = 0$에서 $1$로, 시그모이드 도함수의 최댓값보다 4배 크기 때문에 기울기가 더 천천히 줄어듭니다.
# 하지만 $|x|$가 크면 역시 포화되므로 tanh로 만든 깊은 신경망에서도 기울기 소실이 일어날 수
# 있습니다.


# %%
def tanh(x):
    """Hyperbolic tangent, elementwise.

    Args:
        x: array of any shape (or a scalar).
    Returns:
        Float array of the shape of ``x``, values in [-1, 1].
    """
    ### BEGIN SOLUTION
    return np.tanh(x)
    ### END SOLUTION


# %%
def tanh_grad(x):
    """Derivative of tanh at ``x``: ``1 - tanh(x)**2``.

    Args:
        x: tanh's input, array of any shape (or a scalar).
    Returns:
        Float array of the shape of ``x``.
    """
    ### BEGIN SOLUTION
    return 1.0 - np.tanh(x) ** 2
    ### END SOLUTION


# %% [markdown]
# ## ReLU
#
# The rectified linear unit $\mathrm{ReLU}(x) = \max(0, x)$ is the default activation of modern
# deep networks. Its derivative is exactly $1$ for positive inputs, so the gradient passes through
# active units unchanged instead of being multiplied by at most $0.25$: this is what lets deep ReLU
# networks train. It is also cheap to compute. Its weakness is **dead units**: for negative inputs
# the derivative is $0$, and a unit whose input is negative for every example (for instance after a
# too-large update) outputs 0, gets no gradient and never recovers. At exactly $x = 0$ the
# derivative is undefined; either 0 or 1 is accepted.
#
# ## ReLU 함수
#
# ReLU $\mathrm{ReLU}(x) = \max(0, x)$는 현대 심층 신경망의 기본 활성화 함수입니다. 입력이 양수이면
# 도함수가 정확히 $1$이라서, 기울기가 최대 $0.25$씩 곱해지는 대신 활성화된 뉴런을 그대로
# 통과합니다. 덕분에 깊은 신경망도 학습할 수 있습니다. 계산도 간단합니다. 약점은 **죽은
# 뉴런**(dying ReLU)입니다. 입력이 음수이면 도함수가 $0$이므로, 모든 데이터에 대해 입력이 음수가 된
# 뉴런은(예를 들어 너무 큰 갱신 뒤에) 항상 0을 출력하고 기울기를 받지 못해 다시 살아나지 않습니다.
# $x = 0$에서는 도함수가 정의되지 않으므로 0과 1 모두 정답으로 인정합니다.


# %%
def relu(x):
    """Rectified linear unit ``max(0, x)``, elementwise.

    Args:
        x: array of any shape (or a scalar).
    Returns:
        Array of the shape of ``x``.
    """
    ### BEGIN SOLUTION
    return np.maximum(0, x)
    ### END SOLUTION


# %%
def relu_grad(x):
    """Derivative of ReLU: 1 where ``x > 0``, 0 where ``x < 0`` (0 or 1 at exactly 0).

    Args:
        x: ReLU's input, array of any shape (or a scalar).
    Returns:
        Float array of the shape of ``x``.
    """
    ### BEGIN SOLUTION
    return np.where(np.asarray(x) > 0, 1.0, 0.0)
    ### END SOLUTION


# %% [markdown]
# ## Leaky ReLU
#
# Leaky ReLU keeps a small slope $\alpha$ (default $0.01$) for non-positive inputs: $x$ where
# $x > 0$, $\alpha x$ elsewhere. Its derivative is $1$ or $\alpha$, never $0$, so a unit with
# negative inputs still receives a (small) gradient and cannot die. A larger $\alpha$ lets more of
# the negative signal through; $\alpha = 0$ gives back ReLU.
#
# ## Leaky ReLU
#
# Leaky ReLU는 0 이하의 입력에 작은 기울기 $\alpha$(기본값 $0.01$)를 남겨 둡니다: $x > 0$이면 $x$,
# 아니면 $\alpha x$. 도함수는 $1$ 또는 $\alpha$로 절대 $0$이 되지 않으므로, 입력이 음수인 뉴런도
# (작은) 기울기를 받아 죽지 않습니다. $\alpha$가 클수록 음수 쪽 신호가 더 많이 전달되며,
# $\alpha = 0$이면 ReLU와 같습니다.


# %%
def leaky_relu(x, alpha=0.01):
    """Leaky ReLU: ``x`` where ``x > 0``, ``alpha * x`` elsewhere.

    Args:
        x: array of any shape (or a scalar).
        alpha: slope for non-positive inputs.
    Returns:
        Float array of the shape of ``x``.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, alpha * x)
    ### END SOLUTION


# %%
def leaky_relu_grad(x, alpha=0.01):
    """Derivative of leaky ReLU: 1 where ``x > 0``, ``alpha`` where ``x < 0`` (either at 0).

    Args:
        x: the input, array of any shape (or a scalar).
        alpha: slope for non-positive inputs.
    Returns:
        Float array of the shape of ``x``.
    """
    ### BEGIN SOLUTION
    return np.where(np.asarray(x) > 0, 1.0, float(alpha))
    ### END SOLUTION


# %% [markdown]
# ## ELU
#
# The exponential linear unit is $x$ for $x > 0$ and $\alpha(e^x - 1)$ elsewhere. For very negative
# inputs it levels off at $-\alpha$ (so at $-1$ with the default $\alpha = 1$) instead of going to
# $-\infty$ like leaky ReLU; $\alpha$ sets that floor. It is smooth for $\alpha = 1$, and its
# negative outputs pull mean activations towards 0. Its derivative is $1$ for $x > 0$ and
# $\alpha e^x$ for $x < 0$. Beware: `np.where` evaluates both branches for every element, so $e^x$
# of a large positive $x$ can overflow even where that branch is not used.
#
# ## ELU
#
# ELU(exponential linear unit)는 $x > 0$이면 $x$, 아니면 $\alpha(e^x - 1)$입니다. 입력이 아주 작은
# 음수이면 Leaky ReLU처럼 $-\infty$로 가지 않고 $-\alpha$(기본값 $\alpha = 1$이면 $-1$)에 수렴하며,
# $\alpha$가 이 하한을 정합니다. $\alpha = 1$이면 매끄러운 함수이고, 음수 출력 덕분에 활성화 값의
# 평균이 0에 가까워집니다. 도함수는 $x > 0$에서 $1$, $x < 0$에서 $\alpha e^x$입니다. 주의:
# `np.where`는 모든 원소에 대해 두 분기를 모두 계산하므로, 쓰이지 않는 분기라도 큰 양수 $x$의
# $e^x$에서 오버플로가 날 수 있습니다.


# %%
def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` where ``x > 0``, ``alpha * (exp(x) - 1)`` elsewhere.

    Args:
        x: array of any shape (or a scalar).
        alpha: scale of the negative part.
    Returns:
        Float array of the shape of ``x``.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))
    ### END SOLUTION


# %%
def elu_grad(x, alpha=1.0):
    """Derivative of ELU: 1 where ``x > 0``, ``alpha * exp(x)`` where ``x < 0`` (either at 0).

    Args:
        x: the input, array of any shape (or a scalar).
        alpha: scale of the negative part.
    Returns:
        Float array of the shape of ``x``.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))
    ### END SOLUTION


# %% [markdown]
# ## Softmax
#
# The softmax turns the scores $a_1, \dots, a_C$ of the output layer into probabilities:
# $y_k = \dfrac{e^{a_k}}{\sum_i e^{a_i}}$. Every $y_k$ lies in $(0, 1)$, they sum to 1, and their
# order is the order of the scores. It is the output activation for multi-class classification.
#
# **Overflow.** `np.exp(1000)` is `inf` in float64 (anything above about 709 overflows), and
# `inf / inf` is `nan`, so scores of $\pm 1000$ break the direct formula. The fix is the
# **max-subtraction trick**: for any constant $c$, $\mathrm{softmax}(x) = \mathrm{softmax}(x - c)$,
# because $e^{a_k - c} = e^{a_k} / e^{c}$ and the factor $e^{c}$ cancels between numerator and
# denominator. With $c = \max_i a_i$ the largest exponent is $e^0 = 1$, so nothing overflows (tiny
# terms may underflow to 0, which is harmless).
#
# **Batches.** For a batch of shape $(N, C)$, apply the softmax to each row separately, that is
# over the last axis: take the max and the sum with `axis=-1, keepdims=True` so they broadcast back
# against `x`. A 1-D input is a single sample and gives a 1-D output.
#
# ## 소프트맥스 함수
#
# 소프트맥스는 출력층의 점수 $a_1, \dots, a_C$를 확률로 바꿉니다:
# $y_k = \dfrac{e^{a_k}}{\sum_i e^{a_i}}$. 각 $y_k$는 $(0, 1)$ 범위에 있고 합은 1이며, 크기 순서는
# 점수의 순서와 같습니다. 다중 클래스 분류의 출력층 활성화 함수입니다.
#
# **오버플로.** float64에서 `np.exp(1000)`은 `inf`이고(약 709를 넘으면 오버플로), `inf / inf`는
# `nan`이므로 $\pm 1000$ 같은 점수에서는 식을 그대로 계산하면 안 됩니다. 해결책은 **최댓값 빼기**
# 기법입니다. 임의의 상수 $c$에 대해 $\mathrm{softmax}(x) = \mathrm{softmax}(x - c)$가 성립합니다.
# $e^{a_k - c} = e^{a_k} / e^{c}$이고 $e^{c}$는 분자와 분모에서 약분되기 때문입니다.
# $c = \max_i a_i$로 잡으면 가장 큰 지수가 $e^0 = 1$이 되어 오버플로가 일어나지 않습니다(아주 작은
# 항이 0으로 언더플로되는 것은 문제없습니다).
#
# **배치 처리.** 형상이 $(N, C)$인 배치에서는 각 행에 따로, 즉 마지막 축을 따라 소프트맥스를
# 적용합니다. 최댓값과 합을 `axis=-1, keepdims=True`로 구해야 `x`와 브로드캐스트됩니다. 1차원
# 입력은 샘플 하나이며 1차원 결과를 반환합니다.


# %%
def softmax(x):
    """Softmax over the last axis, stable for inputs as large as +-1000.

    Args:
        x: scores, shape (C,) for one sample or (N, C) for a batch (any leading axes work).
    Returns:
        Probabilities of the shape of ``x``; every slice along the last axis sums to 1.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=-1, keepdims=True)  # the max-subtraction trick
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)
    ### END SOLUTION
