# Backprop Lab exercise: implement the functions below, then run `grade ex04`.

# %% [markdown]
# # ex04: Computational-graph layers (계산 그래프와 단순한 계층)
#
# This exercise builds the two simplest layers of backpropagation, a multiplication node and an
# addition node, each with a `forward` method that computes the node's output and a `backward`
# method that passes the gradient back to its inputs. Chained as in the book's shopping example,
# they compute a price and, in one backward sweep, how much the price changes with every input.
# The layers of the next exercise (ReLU, Affine, softmax) follow the same pattern. Fill in the
# methods below; their docstrings state exactly what they must accept and return.
#
# **Check your work:** in a terminal, run `grade ex04` from the folder that holds `exercises/`; if
# you work in the notebook, run `grade ex04 --path ex04_layer_naive.ipynb` from this folder
# instead.
#
# 이 실습에서는 역전파의 가장 단순한 두 계층인 곱셈 노드와 덧셈 노드를 만듭니다. 각 계층에는 노드의
# 출력을 계산하는 `forward` 메서드와 기울기를 입력 쪽으로 돌려보내는 `backward` 메서드가 있습니다.
# 교재의 장보기 예제처럼 연결하면 가격을 계산하고, 역방향으로 한 번 훑어서 각 입력이 가격에 얼마나
# 영향을 주는지까지 구할 수 있습니다. 다음 실습의 계층(ReLU, Affine, 소프트맥스)도 같은 방식을
# 따릅니다. 아래 메서드들을 채우세요. 무엇을 입력받고 무엇을 반환해야 하는지는 독스트링에 정확히
# 적혀 있습니다.
#
# **채점 방법:** 터미널을 열고 `exercises/` 폴더가 들어 있는 위치에서 `grade ex04`를 실행하세요.
# 노트북에서 작업한다면 이 폴더에서 `grade ex04 --path ex04_layer_naive.ipynb`를 실행합니다.

# %%
"""ex04 layer_naive: the multiplication and addition layers of a computational graph."""

import numpy as np  # noqa: F401  (the layers work on NumPy arrays as well as on numbers)

# %% [markdown]
# ## Computational graphs and the chain rule
#
# A **computational graph** breaks a calculation into nodes, each doing one simple operation. In
# the book's example, 2 apples at 100 each with a consumption tax of 1.1 cost
# $(100 \times 2) \times 1.1 = 220$: two multiplication nodes. Going forward (left to right)
# computes the price; going **backward** (right to left) computes derivatives of the price.
#
# Each node only needs its *local* derivative. If a node computes $z = g(x, y)$ and the final
# output is $L$, the **chain rule** gives
# $\dfrac{\partial L}{\partial x} = \dfrac{\partial L}{\partial z}\,\dfrac{\partial z}{\partial x}$:
# the upstream gradient `dout` $= \partial L / \partial z$, arriving from the right, times the
# node's local derivative. Starting from $\partial L / \partial L = 1$ at the end, one backward
# sweep through the nodes gives the derivative of $L$ with respect to every input. This is
# **backpropagation**.
#
# ## 계산 그래프와 연쇄 법칙
#
# **계산 그래프**는 계산을 노드로 나누고, 각 노드가 간단한 연산 하나만 하게 합니다. 교재의 예에서
# 개당 100원인 사과 2개에 소비세 1.1을 적용하면 $(100 \times 2) \times 1.1 = 220$원이며, 곱셈
# 노드 두 개로 나타냅니다. 순방향(왼쪽에서 오른쪽)으로 가면 가격을 계산하고, **역방향**(오른쪽에서
# 왼쪽)으로 가면 가격의 미분을 계산합니다.
#
# 각 노드는 자신의 *국소적* 미분만 알면 됩니다. 노드가 $z = g(x, y)$를 계산하고 최종 출력이 $L$이면
# **연쇄 법칙**에 따라
# $\dfrac{\partial L}{\partial x} = \dfrac{\partial L}{\partial z}\,\dfrac{\partial z}{\partial x}$
# 입니다. 즉 오른쪽에서 들어오는 상류 기울기 `dout` $= \partial L / \partial z$에 노드의 국소적
# 미분을 곱합니다. 끝에서 $\partial L / \partial L = 1$로 시작해 노드를 거꾸로 한 번 훑으면 모든
# 입력에 대한 $L$의 미분을 얻습니다. 이것이 **오차역전파법**입니다.

# %% [markdown]
# ## The multiplication layer
#
# For $z = xy$: $\partial z / \partial x = y$ and $\partial z / \partial y = x$. So the backward
# pass multiplies `dout` by the *other* input, swapping them: `dx = dout * y`, `dy = dout * x`.
# Backward needs the inputs of forward, so `forward` keeps them on `self` (`self.x`, `self.y`).
# In the apple example, starting from `dout = 1`: the tax node gives
# `dapple_price = 1 * 1.1 = 1.1` and `dtax = 1 * 200 = 200`; the apple node then gives
# `dapple = 1.1 * 2 = 2.2` and `dapple_num = 1.1 * 100 = 110`. So one more yen on the apple's
# price adds 2.2 yen to the total.
#
# ## 곱셈 계층
#
# $z = xy$이면 $\partial z / \partial x = y$, $\partial z / \partial y = x$입니다. 따라서 역전파는
# `dout`에 *다른 쪽* 입력을 곱합니다. 즉 입력을 서로 바꿔서 `dx = dout * y`, `dy = dout * x`입니다.
# 역전파에 순전파의 입력이 필요하므로 `forward`에서 `self.x`, `self.y`에 저장해 둡니다. 사과
# 예제에서 `dout = 1`로 시작하면 소비세 노드가 `dapple_price = 1 * 1.1 = 1.1`,
# `dtax = 1 * 200 = 200`을 주고, 사과 노드가 `dapple = 1.1 * 2 = 2.2`,
# `dapple_num = 1.1 * 100 = 110`을 줍니다. 사과 가격이 1원 오르면 최종 금액은 2.2원 오른다는
# 뜻입니다.


# %%
class MulLayer:
    """Multiplication node z = x * y; ``forward`` keeps x and y for ``backward``."""

    def __init__(self):
        """A layer with no inputs yet: ``forward`` sets ``self.x`` and ``self.y``."""
        self.x = None
        self.y = None

    def forward(self, x, y):
        """Return x * y and keep x and y on ``self``.

        Args:
            x, y: numbers, or arrays of the same shape.
        Returns:
            x * y (elementwise for arrays).
        """
        raise NotImplementedError("MulLayer.forward is not implemented yet")

    def backward(self, dout):
        """Return the gradients with respect to x and y.

        Args:
            dout: upstream gradient dL/dz, a number or an array of the shape of z.
        Returns:
            The tuple (dx, dy) = (dout * y, dout * x), each of the shape of ``dout``.
        """
        raise NotImplementedError("MulLayer.backward is not implemented yet")


# %% [markdown]
# ## The addition layer
#
# For $z = x + y$: $\partial z / \partial x = \partial z / \partial y = 1$, so the backward pass
# sends `dout` unchanged to both inputs: `(dout, dout)`. It needs nothing from forward. The
# book's second example combines both layers: 2 apples at 100 and 3 oranges at 150, added, then
# taxed at 1.1, cost 715; backward from `dout = 1` gives `dapple_num = 110`, `dapple = 2.2`,
# `dorange = 3.3`, `dorange_num = 165` and `dtax = 650`. The addition node passes the 1.1 it
# receives to both the apple and the orange branch.
#
# ## 덧셈 계층
#
# $z = x + y$이면 $\partial z / \partial x = \partial z / \partial y = 1$이므로 역전파는 `dout`을
# 그대로 두 입력에 보냅니다: `(dout, dout)`. 순전파에서 저장해 둘 것이 없습니다. 교재의 두 번째
# 예제는 두 계층을 함께 씁니다. 개당 100원인 사과 2개와 개당 150원인 귤 3개를 더하고 소비세 1.1을
# 적용하면 715원이며, `dout = 1`에서 역전파하면 `dapple_num = 110`, `dapple = 2.2`,
# `dorange = 3.3`, `dorange_num = 165`, `dtax = 650`입니다. 덧셈 노드는 받은 1.1을 사과 쪽과 귤 쪽에
# 똑같이 전달합니다.


# %%
class AddLayer:
    """Addition node z = x + y; ``backward`` needs nothing from ``forward``."""

    def __init__(self):
        """A layer with nothing to keep."""

    def forward(self, x, y):
        """Return x + y.

        Args:
            x, y: numbers, or arrays of the same shape.
        Returns:
            x + y (elementwise for arrays).
        """
        raise NotImplementedError("AddLayer.forward is not implemented yet")

    def backward(self, dout):
        """Return the gradients with respect to x and y.

        Args:
            dout: upstream gradient dL/dz, a number or an array of the shape of z.
        Returns:
            The tuple (dx, dy) = (dout, dout).
        """
        raise NotImplementedError("AddLayer.backward is not implemented yet")
