# Backprop Lab exercise: implement the functions below, then run `grade ex03`.

# %% [markdown]
# # ex03: Numerical gradient (수치 미분과 기울기)
#
# This exercise computes derivatives the simple way, by evaluating a function at two nearby
# points: the derivative of a function of one number, the gradient of a function of a whole array,
# and gradient descent, which follows the gradient downhill to a minimum. Numerical gradients are
# slow (two function evaluations per element), but they are easy to get right, so they are what
# backpropagation is checked against in the next exercises. Fill in the body of each function
# below; its docstring states exactly what it must accept and return.
#
# **Check your work:** in a terminal, run `grade ex03` from the folder that holds `exercises/`; if
# you work in the notebook, run `grade ex03 --path ex03_gradient.ipynb` from this folder
# instead.
#
# 이 실습에서는 함수를 가까운 두 점에서 계산하는 간단한 방법으로 미분을 구합니다: 수 하나를 받는
# 함수의 미분, 배열 전체를 받는 함수의 기울기(gradient), 그리고 기울기를 따라 내려가 최솟값을 찾는
# 경사 하강법입니다. 수치 미분은 원소마다 함수를 두 번 계산해야 해서 느리지만 틀리기 어렵기 때문에,
# 다음 실습부터 역전파가 맞는지 확인하는 기준으로 씁니다. 아래 각 함수의 본문을 채우세요. 무엇을
# 입력받고 무엇을 반환해야 하는지는 함수의 독스트링에 정확히 적혀 있습니다.
#
# **채점 방법:** 터미널을 열고 `exercises/` 폴더가 들어 있는 위치에서 `grade ex03`을 실행하세요.
# 노트북에서 작업한다면 이 폴더에서 `grade ex03 --path ex03_gradient.ipynb`를 실행합니다.

# %%
"""ex03 gradient: numerical differentiation, numerical gradients and gradient descent."""

import numpy as np

# %% [markdown]
# ## Numerical differentiation: the central difference
#
# The derivative is the limit $f'(x) = \lim_{h \to 0} \dfrac{f(x + h) - f(x)}{h}$. A computer
# cannot take the limit, so it uses a small $h$, and two things go wrong:
#
# - **Rounding error.** $h$ must not be *too* small: in float64, `1e-50` disappears when added to
#   a number near 1 (`np.float32(1e-50)` is even exactly `0.0`), so $f(x + h) - f(x)$ is 0 and so
#   is the "derivative". The book uses $h = 10^{-4}$, which is small enough and still far above
#   the rounding noise.
# - **Truncation error.** The *forward difference* $\dfrac{f(x + h) - f(x)}{h}$ is the slope of
#   the chord from $x$ to $x + h$, not of the tangent at $x$: its error is about
#   $\tfrac{h}{2} f''(x)$, proportional to $h$. The **central difference**
#   $\dfrac{f(x + h) - f(x - h)}{2h}$ is centred on $x$; the $f''$ terms cancel, and its error is
#   about $\tfrac{h^2}{6} f'''(x)$, proportional to $h^2$ (for $h = 10^{-4}$, about $10^{-8}$
#   instead of $10^{-4}$). Note the $2h$: the two points are $2h$ apart.
#
# The book's example: for $f(x) = 0.01x^2 + 0.1x$, the central difference gives
# $f'(5) \approx 0.2$ and $f'(10) \approx 0.3$ (exactly $0.02x + 0.1$).
#
# ## 수치 미분: 중앙 차분
#
# 미분은 극한 $f'(x) = \lim_{h \to 0} \dfrac{f(x + h) - f(x)}{h}$입니다. 컴퓨터는 극한을 계산할 수
# 없으므로 작은 $h$를 쓰는데, 이때 두 가지 문제가 생깁니다.
#
# - **반올림 오차.** $h$가 *너무* 작으면 안 됩니다. float64에서 `1e-50`은 1 근처의 수에 더하면
#   사라지므로(`np.float32(1e-50)`은 아예 `0.0`입니다) $f(x + h) - f(x)$가 0이 되고 "미분"도
#   0이 됩니다. 교재는 충분히 작으면서도 반올림 오차보다 훨씬 큰 $h = 10^{-4}$를 씁니다.
# - **절단 오차.** *전방 차분* $\dfrac{f(x + h) - f(x)}{h}$는 $x$에서의 접선이 아니라 $x$와
#   $x + h$를 잇는 할선의 기울기이므로, 오차가 약 $\tfrac{h}{2} f''(x)$로 $h$에 비례합니다.
#   **중앙 차분** $\dfrac{f(x + h) - f(x - h)}{2h}$는 $x$를 중심으로 하므로 $f''$ 항이 상쇄되어
#   오차가 약 $\tfrac{h^2}{6} f'''(x)$로 $h^2$에 비례합니다($h = 10^{-4}$이면 $10^{-4}$ 대신 약
#   $10^{-8}$). 두 점 사이의 거리가 $2h$이므로 $2h$로 나눠야 한다는 점에 주의하세요.
#
# 교재의 예: $f(x) = 0.01x^2 + 0.1x$에 중앙 차분을 적용하면 $f'(5) \approx 0.2$,
# $f'(10) \approx 0.3$입니다(정확한 값은 $0.02x + 0.1$).


# %%
def numerical_diff(f, x):
    """Central-difference derivative of ``f`` at ``x``, with h = 1e-4.

    Args:
        f: a function of one float returning a float.
        x: the point, a float.
    Returns:
        (f(x + h) - f(x - h)) / (2h), a float.
    """
    raise NotImplementedError("numerical_diff is not implemented yet")


# %% [markdown]
# ## The gradient of a function of an array
#
# For a function $f$ of many variables (here: of an array `x` of any shape, returning one number)
# the **gradient** $\nabla f$ collects the partial derivatives $\partial f / \partial x_i$, one per
# element, in an array of the shape of `x`. Each partial derivative is a central difference in
# which only element $i$ moves: evaluate $f$ with `x[idx]` raised by $h$, then lowered by $h$,
# while every other element stays put.
#
# - **Every element, any shape.** `range(x.size)` only indexes a 1-D array; for a 2-D or 3-D `x`,
#   loop over every multi-index with `np.ndindex(x.shape)` (or the book's
#   `np.nditer(x, flags=["multi_index"])`). Call `f` on the *whole* array each time, never on a
#   row: `f` is a function of all of `x`.
# - **Perturb in place, restore exactly.** Changing `x[idx]` in place avoids copying `x` twice per
#   element, but `x` must be exactly as it was afterwards, both for the next element (whose
#   derivative is taken at the original point) and for the caller. Keep `tmp = x[idx]` and put it
#   back with `x[idx] = tmp`: adding $h$ and subtracting it again does not always give back the
#   same float.
#
# The book's example: for $f(x) = x_0^2 + x_1^2$, the gradient at $(3, 4)$ is $(6, 8)$. It points
# in the direction in which $f$ increases fastest; $-\nabla f$ points downhill.
#
# ## 배열을 받는 함수의 기울기
#
# 변수가 여러 개인 함수 $f$(여기서는 형상이 자유로운 배열 `x`를 받아 수 하나를 반환하는 함수)의
# **기울기** $\nabla f$는 원소마다 하나씩 편미분 $\partial f / \partial x_i$를 모아 `x`와 같은
# 형상의 배열로 만든 것입니다. 각 편미분은 원소 $i$만 움직이는 중앙 차분입니다: 다른 원소는 그대로
# 두고 `x[idx]`를 $h$만큼 올렸을 때와 내렸을 때 $f$를 계산합니다.
#
# - **모든 원소, 모든 형상.** `range(x.size)`는 1차원 배열에서만 인덱스가 됩니다. 2차원이나 3차원
#   `x`라면 `np.ndindex(x.shape)`(또는 교재처럼 `np.nditer(x, flags=["multi_index"])`)로 모든 다차원
#   인덱스를 돌아야 합니다. `f`는 `x` 전체의 함수이므로 행 하나가 아니라 매번 배열 *전체*로
#   호출하세요.
# - **제자리에서 바꾸고 정확히 되돌리기.** `x[idx]`를 제자리에서 바꾸면 원소마다 `x`를 두 번씩
#   복사하지 않아도 되지만, 끝나면 `x`가 정확히 원래대로여야 합니다. 다음 원소의 편미분도 원래
#   점에서 구해야 하고, 호출한 쪽의 배열도 바뀌면 안 되기 때문입니다. `tmp = x[idx]`로 값을
#   보관했다가 `x[idx] = tmp`로 되돌리세요. $h$를 더했다가 다시 빼면 항상 같은 부동소수점 수가
#   되지는 않습니다.
#
# 교재의 예: $f(x) = x_0^2 + x_1^2$의 $(3, 4)$에서의 기울기는 $(6, 8)$입니다. 기울기는 $f$가 가장
# 빠르게 커지는 방향을 가리키고, $-\nabla f$는 내리막 방향을 가리킵니다.


# %%
def numerical_gradient(f, x):
    """Central-difference gradient of a scalar function ``f`` of an array, with h = 1e-4.

    ``x`` is changed in place, one element at a time, while ``f`` is evaluated, and is restored
    exactly before returning.

    Args:
        f: a function of an array of the shape of ``x``, returning a float.
        x: float array of any shape (1-D, 2-D, 3-D, ...): the point.
    Returns:
        Float array of the shape of ``x``: element ``idx`` is
        (f(x with x[idx] + h) - f(x with x[idx] - h)) / (2h).
    """
    raise NotImplementedError("numerical_gradient is not implemented yet")


# %% [markdown]
# ## Gradient descent
#
# To find a minimum of $f$, start at `init_x` and repeatedly take a small step against the
# gradient: $x \leftarrow x - \eta\,\nabla f(x)$, `step_num` times. The step size $\eta$ is the
# **learning rate** `lr`, a *hyperparameter*: chosen by hand, not learned. Too large and $x$
# overshoots and diverges; too small and it hardly moves in `step_num` steps. On the book's
# $f(x) = x_0^2 + x_1^2$ from $(-3, 4)$ with `lr=0.1` and 100 steps, $x$ ends within $10^{-9}$ of
# the minimum $(0, 0)$; with `lr=10.0` it diverges, with `lr=1e-10` it barely moves. (Note the
# minus sign: adding the gradient climbs uphill instead.)
#
# Do not change `init_x`: the book writes `x = init_x`, which makes `x` a second name for the
# *same* array, so `x -= ...` overwrites the caller's starting point. Start from a copy,
# `x = init_x.copy()`. Use your `numerical_gradient` above for $\nabla f$.
#
# ## 경사 하강법
#
# $f$의 최솟값을 찾으려면 `init_x`에서 시작해 기울기 반대 방향으로 조금씩 이동하는 일을
# `step_num`번 반복합니다: $x \leftarrow x - \eta\,\nabla f(x)$. 이동 폭 $\eta$가 **학습률**
# `lr`이며, 학습으로 정해지는 값이 아니라 사람이 정하는 *하이퍼파라미터*입니다. 너무 크면 $x$가
# 최솟값을 지나쳐 발산하고, 너무 작으면 `step_num`번 안에 거의 움직이지 못합니다. 교재의
# $f(x) = x_0^2 + x_1^2$에서 $(-3, 4)$부터 `lr=0.1`로 100번 이동하면 최솟값 $(0, 0)$과의 차이가
# $10^{-9}$ 이내가 되지만, `lr=10.0`이면 발산하고 `lr=1e-10`이면 거의 움직이지 않습니다. (빼기에
# 주의하세요. 기울기를 더하면 오르막으로 올라갑니다.)
#
# `init_x`를 바꾸면 안 됩니다. 교재의 `x = init_x`는 같은 배열에 이름을 하나 더 붙일 뿐이라서
# `x -= ...`가 호출한 쪽의 시작점을 덮어씁니다. 복사본 `x = init_x.copy()`에서 시작하세요. 기울기
# $\nabla f$는 위에서 만든 `numerical_gradient`로 구합니다.


# %%
def gradient_descent(f, init_x, lr=0.01, step_num=100):
    """Minimise ``f`` by plain gradient descent with ``numerical_gradient``.

    Args:
        f: a function of an array of the shape of ``init_x``, returning a float.
        init_x: float array of any shape, the starting point (not modified).
        lr: learning rate, the step size.
        step_num: number of steps x <- x - lr * grad.
    Returns:
        The final x, a new float array of the shape of ``init_x``.
    """
    raise NotImplementedError("gradient_descent is not implemented yet")
