# %% [markdown]
# # ex02: Loss functions (손실 함수)
#
# A loss function measures, as a single number, how far the network's output $y$ is from the target
# $t$. Training changes the weights to make this number smaller, following its gradient, so the
# loss defines what "learning" means. This exercise implements four losses in NumPy: the sum of
# squared errors, the mean squared error, binary cross-entropy and cross-entropy. Fill in the body
# of each function below; its docstring states exactly what it must accept and return.
#
# **Check your work:** in a terminal, run `grade ex02` from the folder that holds `exercises/`; if
# you work in the notebook, run `grade ex02 --path ex02_losses.ipynb` from this folder instead.
#
# 손실 함수는 신경망의 출력 $y$가 정답 $t$와 얼마나 다른지를 하나의 숫자로 나타냅니다. 학습은 이
# 값의 기울기를 따라 가중치를 바꿔 손실을 줄이는 과정이므로, 손실 함수가 곧 무엇을 "학습"할지를
# 정합니다. 이 실습에서는 오차제곱합, 평균 제곱 오차, 이진 교차 엔트로피, 교차 엔트로피 오차의 네
# 가지 손실 함수를 NumPy로 구현합니다. 아래 각 함수의 본문을 채우세요. 무엇을 입력받고 무엇을
# 반환해야 하는지는 함수의 독스트링에 정확히 적혀 있습니다.
#
# **채점 방법:** 터미널을 열고 `exercises/` 폴더가 들어 있는 위치에서 `grade ex02`를 실행하세요.
# 노트북에서 작업한다면 이 폴더에서 `grade ex02 --path ex02_losses.ipynb`를 실행합니다.

# %%
"""ex02 losses: loss functions for regression, binary and multi-class problems."""

import numpy as np

# %% [markdown]
# ## Which loss for which problem
#
# The loss goes together with the activation of the output layer: regression uses an identity
# output and a squared error, binary classification a sigmoid output and binary cross-entropy,
# multi-class classification a softmax output and cross-entropy.
#
# | problem | output layer | loss |
# | --- | --- | --- |
# | regression (real numbers) | identity | `sum_squared_error`, `mean_squared_error` |
# | binary classification | 1 unit, sigmoid | `binary_cross_entropy` |
# | multi-class ($C$ classes) | $C$ units, softmax | `cross_entropy_error` |
#
# ## Sum of squared errors
#
# $E = \dfrac{1}{2} \sum_k (y_k - t_k)^2$, summed over every element, as in the book. The
# $\frac{1}{2}$ is there for convenience: it cancels the 2 that differentiation brings down, so the
# gradient is simply $\dfrac{\partial E}{\partial y_k} = y_k - t_k$. Because it is a sum, its value
# grows with the number of outputs and with the batch size.
#
# ## 문제에 맞는 손실 함수 고르기
#
# 손실 함수는 출력층의 활성화 함수와 짝을 이룹니다: 회귀에는 항등 함수 출력과 제곱 오차, 이진
# 분류에는 시그모이드 출력과 이진 교차 엔트로피, 다중 클래스 분류에는 소프트맥스 출력과 교차
# 엔트로피 오차를 씁니다.
#
# | 문제 | 출력층 | 손실 함수 |
# | --- | --- | --- |
# | 회귀 (실수 값 예측) | 항등 함수 | `sum_squared_error`, `mean_squared_error` |
# | 이진 분류 | 뉴런 1개, 시그모이드 | `binary_cross_entropy` |
# | 다중 클래스 분류 ($C$개) | 뉴런 $C$개, 소프트맥스 | `cross_entropy_error` |
#
# ## 오차제곱합
#
# $E = \dfrac{1}{2} \sum_k (y_k - t_k)^2$로, 교재의 정의대로 모든 원소에 대해 더합니다.
# $\frac{1}{2}$은 계산을 편하게 하려고 붙입니다. 미분할 때 내려오는 2와 약분되어 기울기가 간단히
# $\dfrac{\partial E}{\partial y_k} = y_k - t_k$가 됩니다. 합이기 때문에 출력의 개수나 배치 크기가
# 커지면 값도 커집니다.


# %%
def sum_squared_error(y, t):
    """Sum of squared errors, the book's definition: ``0.5 * sum((y - t)**2)``.

    Args:
        y: predictions, any shape.
        t: targets, the shape of ``y``.
    Returns:
        A float: the sum over every element.
    """
    ### BEGIN SOLUTION
    return 0.5 * np.sum((np.asarray(y) - np.asarray(t)) ** 2)
    ### END SOLUTION


# %% [markdown]
# ## Mean squared error
#
# Keras' `"mse"` takes means instead of a sum: first the mean over the last axis (the $D$ outputs
# of one sample), then the mean over the $N$ samples of the batch,
# $E = \dfrac{1}{N} \sum_n \dfrac{1}{D} \sum_d (y_{nd} - t_{nd})^2$. Its value does not depend on
# how many outputs or samples there are, so losses of different batches and models can be compared
# directly. A 1-D `y` is one sample.
#
# **Not the book's formula.** The Korean edition of the book (and its code repository) calls
# $E = \dfrac{1}{2} \sum_k (y_k - t_k)^2$ "평균 제곱 오차" and names it `mean_squared_error`.
# Here that formula is `sum_squared_error` above; `mean_squared_error` is the mean, as Keras'
# `mse` is.
#
# ## 평균 제곱 오차
#
# Keras의 `"mse"`는 합 대신 평균을 씁니다. 먼저 마지막 축(샘플 하나의 출력 $D$개)에 대해 평균을
# 내고, 다음으로 배치의 샘플 $N$개에 대해 평균을 냅니다:
# $E = \dfrac{1}{N} \sum_n \dfrac{1}{D} \sum_d (y_{nd} - t_{nd})^2$. 출력이나 샘플의 개수와
# 상관없는 값이므로 배치나 모델이 달라도 손실을 바로 비교할 수 있습니다. 1차원 `y`는 샘플
# 하나입니다.
#
# **교재의 식과 다릅니다.** 한국어판 교재(와 그 예제 코드)는
# $E = \dfrac{1}{2} \sum_k (y_k - t_k)^2$을 "평균 제곱 오차"라 부르고
# `mean_squared_error`라는 이름으로 구현합니다. 이 실습에서 그 식은 위의
# `sum_squared_error`(오차제곱합)이고, `mean_squared_error`는 Keras의 `mse`처럼 평균입니다.


# %%
def mean_squared_error(y, t):
    """Mean squared error as Keras' ``"mse"``: mean over the last axis, then over the batch.

    Args:
        y: predictions, shape (D,) for one sample or (N, D) for a batch.
        t: targets, the shape of ``y``.
    Returns:
        A float.
    """
    ### BEGIN SOLUTION
    per_sample = np.mean((np.asarray(y) - np.asarray(t)) ** 2, axis=-1)
    return np.mean(per_sample)
    ### END SOLUTION


# %% [markdown]
# ## Binary cross-entropy
#
# For a yes/no problem the network has one sigmoid output $y = P(t = 1)$, and the loss is
# $E = -\dfrac{1}{M} \sum \big[t \log y + (1 - t) \log (1 - y)\big]$, the mean over all $M$
# elements. For $t \in \{0, 1\}$ only one term is non-zero: $-\log y$ when $t = 1$ and
# $-\log(1 - y)$ when $t = 0$, so a confident wrong answer costs a lot.
#
# **The 1e-7 guard.** $\log 0 = -\infty$: a prediction of exactly 0 for a positive example (a
# saturated sigmoid gives that in floating point) would make the loss `inf` and the gradients
# `nan`. Adding a tiny $\delta = 10^{-7}$ inside each logarithm, $\log(y + \delta)$ and
# $\log(1 - y + \delta)$, keeps the loss finite: at most about $-\log 10^{-7} \approx 16.1$ per
# element.
#
# ## 이진 교차 엔트로피
#
# 예/아니오 문제에서는 신경망이 시그모이드 출력 하나 $y = P(t = 1)$을 내고, 손실은 모든 원소
# $M$개에 대한 평균 $E = -\dfrac{1}{M} \sum \big[t \log y + (1 - t) \log (1 - y)\big]$입니다.
# $t \in \{0, 1\}$이면 두 항 중 하나만 남습니다: $t = 1$이면 $-\log y$, $t = 0$이면 $-\log(1 - y)$.
# 그래서 자신 있게 틀린 예측일수록 손실이 커집니다.
#
# **1e-7을 더하는 이유.** $\log 0 = -\infty$이므로, 양성 샘플에 대해 정확히 0을 예측하면(포화된
# 시그모이드는 부동소수점에서 실제로 0을 냅니다) 손실은 `inf`, 기울기는 `nan`이 됩니다. 각 로그
# 안에 아주 작은 값 $\delta = 10^{-7}$을 더해 $\log(y + \delta)$, $\log(1 - y + \delta)$로 계산하면
# 손실이 유한하게 유지됩니다: 원소 하나당 최대 약 $-\log 10^{-7} \approx 16.1$입니다.


# %%
def binary_cross_entropy(y, t):
    """Binary cross-entropy ``-mean(t log(y + 1e-7) + (1 - t) log(1 - y + 1e-7))``.

    Args:
        y: predicted probabilities in [0, 1], any shape.
        t: targets in {0, 1}, the shape of ``y``.
    Returns:
        A float: the mean over every element.
    """
    ### BEGIN SOLUTION
    y = np.asarray(y, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    delta = 1e-7
    return -np.mean(t * np.log(y + delta) + (1 - t) * np.log(1 - y + delta))
    ### END SOLUTION


# %% [markdown]
# ## Cross-entropy error
#
# For $C$ classes the network's softmax outputs $y_{n1}, \dots, y_{nC}$ for each sample $n$, and
# $E = -\dfrac{1}{N} \sum_n \sum_k t_{nk} \log (y_{nk} + 10^{-7})$, with the same $10^{-7}$ guard
# as above. With a one-hot target only the true class $t_n$ survives the inner sum, so the loss is
# the mean of $-\log y_{n, t_n}$: 0 when the network gives the right class probability 1, large
# when it gives it almost 0.
#
# **One-hot or integer labels.** The target may be one-hot, shape $(N, C)$ like `y` (for example
# `[0, 0, 1]`), or integer labels, shape $(N,)$ (for example `2`). With labels, pick each row's
# probability of its true class directly with `y[np.arange(N), t]`; a one-hot `t` can be turned
# into labels with `argmax` along axis 1. A 1-D `y` is a batch of one: reshape it to $(1, C)$
# first.
#
# **Averaging over the batch.** Dividing by $N$ makes the loss the average per sample, so its
# value, and the size of its gradient, do not depend on the batch size: the same learning rate
# works for batches of 10 or 100.
#
# ## 교차 엔트로피 오차
#
# 클래스가 $C$개이면 신경망은 샘플 $n$마다 소프트맥스 출력 $y_{n1}, \dots, y_{nC}$를 내고, 손실은
# $E = -\dfrac{1}{N} \sum_n \sum_k t_{nk} \log (y_{nk} + 10^{-7})$입니다. 위와 같은 이유로
# $10^{-7}$을 더합니다. 정답이 원-핫 벡터이면 안쪽 합에서 정답 클래스 $t_n$의 항만 남으므로, 손실은
# $-\log y_{n, t_n}$의 평균입니다. 정답 클래스의 확률이 1이면 0이고, 0에 가까우면 아주 커집니다.
#
# **원-핫 레이블과 정수 레이블.** 정답은 `y`와 같은 형상 $(N, C)$의 원-핫 인코딩(예: `[0, 0, 1]`)일
# 수도 있고, 형상 $(N,)$의 정수 레이블(예: `2`)일 수도 있습니다. 정수 레이블이면
# `y[np.arange(N), t]`로 각 행에서 정답 클래스의 확률을 바로 꺼낼 수 있습니다. 원-핫 `t`는 축 1을
# 따라 `argmax`를 구하면 정수 레이블이 됩니다. 1차원 `y`는 샘플이 하나인 배치이므로 먼저 $(1, C)$
# 형상으로 바꿉니다.
#
# **배치 평균.** $N$으로 나누면 손실이 샘플 하나당 평균이 되므로, 손실 값과 기울기의 크기가 배치
# 크기에 좌우되지 않습니다. 배치 크기가 10이든 100이든 같은 학습률을 쓸 수 있습니다.


# %%
def cross_entropy_error(y, t):
    """Mean cross-entropy ``-sum(log(y[n, t_n] + 1e-7)) / N`` of a batch of probabilities.

    Args:
        y: probabilities, shape (N, C), or (C,) for a batch of one.
        t: one-hot targets of the shape of ``y``, or integer labels of shape (N,)
            (a scalar label or shape (1,) when ``y`` is 1-D).
    Returns:
        A float: the loss averaged over the N samples.
    """
    ### BEGIN SOLUTION
    y = np.asarray(y, dtype=np.float64)
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, y.size)
        t = t.reshape(1, t.size)
    if t.size == y.size:  # one-hot: turn into labels
        t = t.argmax(axis=1)
    t = t.reshape(-1).astype(np.int64)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size
    ### END SOLUTION
