# Backprop Lab exercise: implement the functions below, then run `grade ex07`.

# %% [markdown]
# # ex07: Optimizers (최적화 기법)
#
# Training a network means moving its parameters, step by step, in the direction that lowers the
# loss. The gradient says which direction that is; an **optimizer** decides how far to go, and
# how to use the gradients it has seen before. This exercise implements seven of them, each
# adding one idea to the previous ones: SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adadelta and
# Adam. Fill in the `update` method of each class; its docstring states exactly what it must do.
#
# **Check your work:** in a terminal, run `grade ex07` from the folder that holds `exercises/`; if
# you work in the notebook, run `grade ex07 --path ex07_optimizers.ipynb` from this folder
# instead.
#
# 신경망을 학습시킨다는 것은 손실이 줄어드는 방향으로 매개변수를 조금씩 움직이는 것입니다. 그
# 방향은 기울기가 알려 주고, 얼마나 움직일지, 그리고 지금까지 본 기울기를 어떻게 활용할지는
# **옵티마이저**가 정합니다. 이 실습에서는 SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adadelta,
# Adam의 일곱 가지를 구현합니다. 각 기법은 앞의 기법에 아이디어를 하나씩 더합니다. 각 클래스의
# `update` 메서드를 채우세요. 무엇을 해야 하는지는 독스트링에 정확히 적혀 있습니다.
#
# **채점 방법:** 터미널을 열고 `exercises/` 폴더가 들어 있는 위치에서 `grade ex07`을 실행하세요.
# 노트북에서 작업한다면 이 폴더에서 `grade ex07 --path ex07_optimizers.ipynb`를 실행합니다.

# %%
"""ex07 optimizers: SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adadelta and Adam."""

import numpy as np

# %% [markdown]
# ## The optimizer's interface: `update(params, grads)` in place
#
# Every optimizer here has the book's interface: `optimizer.update(params, grads)`, where `params`
# is a dict of parameter arrays (for example `{"W1": ..., "b1": ..., "W2": ..., "b2": ...}`, the
# `params` of ex06's `TwoLayerNet`) and `grads` a dict with the same keys holding their
# gradients. `update` must change **the arrays in `params` themselves**: write
# `params[key] -= step`, which modifies the array in place, not `params[key] = params[key] - step`,
# which puts a new array into the dict while the network's layers keep using the old one (the
# network would never learn). `grads` must not be modified.
#
# Optimizers other than SGD remember something between calls (a velocity, a sum of squared
# gradients...). This **state** is one array per key, created on the first call of `update` with
# `np.zeros_like` for the keys it sees, and kept on `self` for the next calls. Creating it again on
# every call is a common mistake: the optimizer then forgets everything it has learned about the
# gradients.
#
# ## 옵티마이저의 인터페이스: 제자리에서 바꾸는 `update(params, grads)`
#
# 여기서 구현하는 옵티마이저는 모두 교재와 같은 인터페이스를 가집니다:
# `optimizer.update(params, grads)`. `params`는 매개변수 배열의 딕셔너리(예를 들어 ex06
# `TwoLayerNet`의 `params`인 `{"W1": ..., "b1": ..., "W2": ..., "b2": ...}`)이고, `grads`는 같은
# 키에 각 매개변수의 기울기를 담은 딕셔너리입니다. `update`는 **`params`에 들어 있는 배열 자체**를
# 바꿔야 합니다. `params[key] -= step`은 배열을 제자리에서 수정하지만,
# `params[key] = params[key] - step`은 딕셔너리에 새 배열을 넣을 뿐이고 신경망의 계층들은 여전히
# 예전 배열을 쓰므로 신경망이 전혀 학습되지 않습니다. `grads`는 수정하면 안 됩니다.
#
# SGD를 제외한 옵티마이저는 호출과 호출 사이에 무언가(속도, 기울기 제곱의 합 등)를 기억합니다. 이
# **상태**는 키마다 배열 하나이며, `update`를 처음 호출할 때 그때 본 키들에 대해 `np.zeros_like`로
# 만들고 다음 호출을 위해 `self`에 보관합니다. 호출할 때마다 상태를 새로 만드는 것은 흔한
# 실수입니다. 그러면 옵티마이저가 기울기에 대해 알아낸 것을 매번 모두 잊어버립니다.

# %% [markdown]
# ## SGD
#
# Stochastic gradient descent takes a step of fixed size against the gradient:
# $W \leftarrow W - \eta \, \dfrac{\partial L}{\partial W}$, with learning rate $\eta$ (`lr`). It
# is simple, but it only looks at the current gradient. On a function that is steep in one
# direction and flat in another (the book's $f(x, y) = \frac{1}{20}x^2 + y^2$), the gradient
# does not point at the minimum, and SGD zigzags across the steep direction while crawling along
# the flat one.
#
# ## SGD
#
# 확률적 경사 하강법은 기울기의 반대 방향으로 일정한 크기만큼 이동합니다:
# $W \leftarrow W - \eta \, \dfrac{\partial L}{\partial W}$, 여기서 $\eta$(`lr`)는 학습률입니다.
# 단순하지만 현재 기울기만 봅니다. 한 방향으로는 가파르고 다른 방향으로는 완만한 함수(교재의
# $f(x, y) = \frac{1}{20}x^2 + y^2$)에서는 기울기가 최솟값을 가리키지 않아서, SGD는 가파른 방향으로
# 지그재그로 오가며 완만한 방향으로는 느리게 나아갑니다.


# %%
class SGD:
    """Stochastic gradient descent: ``p -= lr * g`` for every key.

    Args:
        lr: learning rate.
    """

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        """Move every parameter one step against its gradient: ``p -= lr * g``.

        Args:
            params: dict of name -> float array (any shape); every array is changed in place.
            grads: dict with the same keys, each gradient of the shape of its parameter; not
                modified.
        Returns:
            None.
        """
        raise NotImplementedError("SGD.update is not implemented yet")


# %% [markdown]
# ## Momentum
#
# Momentum gives the parameters a **velocity** $v$, like a ball rolling down the loss surface:
#
# $$v \leftarrow \alpha v - \eta \, g, \qquad W \leftarrow W + v$$
#
# The gradient accelerates the ball and $\alpha$ (`momentum`, 0.9) acts as friction. Where the
# gradients keep pointing the same way, the velocity builds up (up to $1/(1 - \alpha) = 10$ times
# an SGD step); where they flip sign from step to step, as across a narrow valley, they cancel
# out. The zigzag shrinks and the descent along the valley speeds up. The velocity starts at 0.
#
# ## 모멘텀
#
# 모멘텀은 손실 곡면을 굴러 내려가는 공처럼 매개변수에 **속도** $v$를 줍니다:
#
# $$v \leftarrow \alpha v - \eta \, g, \qquad W \leftarrow W + v$$
#
# 기울기는 공을 가속하고 $\alpha$(`momentum`, 0.9)는 마찰 역할을 합니다. 기울기가 계속 같은
# 방향을 가리키면 속도가 쌓이고(최대 SGD 한 걸음의 $1/(1 - \alpha) = 10$배), 좁은 골짜기를
# 가로지를 때처럼 매번 부호가 바뀌면 서로 상쇄됩니다. 그래서 지그재그가 줄고 골짜기를 따라
# 내려가는 속도는 빨라집니다. 속도의 초깃값은 0입니다.


# %%
class Momentum:
    """SGD with momentum: ``v = momentum * v - lr * g; p += v`` for every key.

    Args:
        lr: learning rate.
        momentum: fraction of the velocity kept from one step to the next.
    """

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None  # velocity per key, created (zeros) on the first call of update

    def update(self, params, grads):
        """Update the velocity of every key, then move the parameter by it.

        On the first call, create ``self.v`` with a zero array per key of ``params``.

        Args:
            params: dict of name -> float array (any shape); every array is changed in place.
            grads: dict with the same keys, each gradient of the shape of its parameter; not
                modified.
        Returns:
            None.
        """
        raise NotImplementedError("Momentum.update is not implemented yet")


# %% [markdown]
# ## Nesterov's accelerated gradient
#
# Momentum computes the gradient where the parameters are, then adds the velocity. Nesterov
# **looks ahead**: since the parameters are about to move by $\alpha v$ anyway, it uses the
# gradient at $W + \alpha v$, so the velocity corrects itself before overshooting. The network
# only gives gradients at the current parameters, so the usual implementation stores the
# look-ahead point instead of $W$; rewritten in those variables (Bengio et al., 2012), one step
# becomes, with $v$ the velocity *before* this step:
#
# $$W \leftarrow W + \alpha^2 v - (1 + \alpha)\,\eta\, g, \qquad v \leftarrow \alpha v - \eta\, g$$
#
# The order matters: the parameter update uses the old velocity. The same step written with both
# velocities, $v_{prev} = v$; $v \leftarrow \alpha v - \eta g$;
# $W \leftarrow W - \alpha v_{prev} + (1 + \alpha) v$, is correct too (keep a copy of the old
# velocity: `v_prev = v.copy()`).
#
# ## 네스테로프 가속 경사
#
# 모멘텀은 매개변수가 있는 곳에서 기울기를 구한 뒤 속도를 더합니다. 네스테로프는 **앞을
# 내다봅니다**. 어차피 매개변수가 $\alpha v$만큼 움직일 것이므로 $W + \alpha v$에서의
# 기울기를 사용하고, 그래서 속도가 지나치기 전에 스스로 방향을 고칩니다. 신경망은 현재
# 매개변수에서의 기울기만 주므로, 보통은 $W$ 대신 앞을 내다본 지점을 저장하도록 구현합니다. 그
# 변수로 다시 쓰면(Bengio 외, 2012) 한 걸음은 다음과 같습니다. 여기서 $v$는 이번 걸음 *이전*의
# 속도입니다:
#
# $$W \leftarrow W + \alpha^2 v - (1 + \alpha)\,\eta\, g, \qquad v \leftarrow \alpha v - \eta\, g$$
#
# 순서가 중요합니다. 매개변수를 갱신할 때는 이전 속도를 씁니다. 두 속도를 모두 써서
# $v_{prev} = v$; $v \leftarrow \alpha v - \eta g$;
# $W \leftarrow W - \alpha v_{prev} + (1 + \alpha) v$로 적은 같은 걸음도 올바릅니다(이전 속도의
# 복사본을 남겨 두세요: `v_prev = v.copy()`).


# %%
class Nesterov:
    """Nesterov's accelerated gradient, in the form that needs the gradient at ``p`` only.

    For every key, with ``v`` the velocity before this step:
    ``p += momentum**2 * v - (1 + momentum) * lr * g``, then ``v = momentum * v - lr * g``.

    Args:
        lr: learning rate.
        momentum: fraction of the velocity kept from one step to the next.
    """

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None  # velocity per key, created (zeros) on the first call of update

    def update(self, params, grads):
        """Move every parameter with the old velocity and the gradient, then update the velocity.

        On the first call, create ``self.v`` with a zero array per key of ``params``.

        Args:
            params: dict of name -> float array (any shape); every array is changed in place.
            grads: dict with the same keys, each gradient of the shape of its parameter; not
                modified.
        Returns:
            None.
        """
        raise NotImplementedError("Nesterov.update is not implemented yet")


# %% [markdown]
# ## AdaGrad
#
# One learning rate rarely suits every parameter. AdaGrad gives each parameter **its own**: it
# adds up the squares of that parameter's gradients in $h$ and divides the step by $\sqrt{h}$:
#
# $$h \leftarrow h + g \odot g, \qquad W \leftarrow W - \eta \, \frac{g}{\sqrt{h} + 10^{-7}}$$
#
# (elementwise). Parameters that have already moved a lot get smaller steps, rarely updated ones
# keep larger steps. The $10^{-7}$ avoids a division by zero: a parameter whose gradients have
# all been 0 so far has $h = 0$, and $0 / 0$ is `nan`. The weakness: $h$ only grows, so the steps
# shrink towards 0 and learning eventually stops.
#
# ## AdaGrad
#
# 하나의 학습률이 모든 매개변수에 알맞은 경우는 드뭅니다. AdaGrad는 매개변수마다 **각자의**
# 학습률을 줍니다. 매개변수별로 기울기의 제곱을 $h$에 더해 두고, 걸음을 $\sqrt{h}$로 나눕니다:
#
# $$h \leftarrow h + g \odot g, \qquad W \leftarrow W - \eta \, \frac{g}{\sqrt{h} + 10^{-7}}$$
#
# (원소별 연산). 이미 많이 움직인 매개변수는 걸음이 작아지고, 드물게 갱신된 매개변수는 큰 걸음을
# 유지합니다. $10^{-7}$은 0으로 나누는 것을 막습니다. 지금까지 기울기가 모두 0이었던 매개변수는
# $h = 0$이고, $0 / 0$은 `nan`입니다. 약점은 $h$가 커지기만 한다는 것입니다. 그래서 걸음이 0을 향해
# 줄어들고 결국 학습이 멈춥니다.


# %%
class AdaGrad:
    """AdaGrad: ``h += g**2; p -= lr * g / (sqrt(h) + 1e-7)`` for every key.

    Args:
        lr: learning rate.
    """

    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None  # sum of squared gradients per key, created (zeros) on the first call

    def update(self, params, grads):
        """Accumulate the squared gradients, then take a step scaled per element.

        On the first call, create ``self.h`` with a zero array per key of ``params``.

        Args:
            params: dict of name -> float array (any shape); every array is changed in place.
            grads: dict with the same keys, each gradient of the shape of its parameter; not
                modified.
        Returns:
            None.
        """
        raise NotImplementedError("AdaGrad.update is not implemented yet")


# %% [markdown]
# ## RMSprop
#
# RMSprop fixes AdaGrad's decay: instead of the sum of all squared gradients, it keeps an
# **exponential moving average**, so old gradients are gradually forgotten and the step size
# follows the recent gradients instead of shrinking to 0:
#
# $$h \leftarrow \rho\, h + (1 - \rho)\, g \odot g, \qquad
# W \leftarrow W - \eta \, \frac{g}{\sqrt{h} + 10^{-7}}$$
#
# The decay rate $\rho$ (`decay_rate`, 0.99) is the weight of the **past**: $(1 - \rho)$ is the
# share of the new gradient. $\sqrt{h}$ is the root of the mean square of recent gradients, hence
# the name.
#
# ## RMSprop
#
# RMSprop는 AdaGrad의 학습률 감소 문제를 고칩니다. 모든 기울기 제곱의 합 대신
# **지수이동평균**을 유지하므로, 오래된 기울기는 점점 잊히고 걸음의 크기는 0으로 줄어드는 대신
# 최근 기울기를 따라갑니다:
#
# $$h \leftarrow \rho\, h + (1 - \rho)\, g \odot g, \qquad
# W \leftarrow W - \eta \, \frac{g}{\sqrt{h} + 10^{-7}}$$
#
# 감쇠율 $\rho$(`decay_rate`, 0.99)는 **과거**의 가중치이고, $(1 - \rho)$가 새 기울기의 몫입니다.
# $\sqrt{h}$는 최근 기울기의 제곱 평균의 제곱근(root mean square)이며, 이름도 여기서 왔습니다.


# %%
class RMSprop:
    """RMSprop: ``h = decay_rate * h + (1 - decay_rate) * g**2; p -= lr * g / (sqrt(h) + 1e-7)``.

    Args:
        lr: learning rate.
        decay_rate: weight of the past in the moving average of squared gradients.
    """

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None  # moving average of squared gradients per key, created on the first call

    def update(self, params, grads):
        """Update the moving average of the squared gradients, then take a scaled step.

        On the first call, create ``self.h`` with a zero array per key of ``params``.

        Args:
            params: dict of name -> float array (any shape); every array is changed in place.
            grads: dict with the same keys, each gradient of the shape of its parameter; not
                modified.
        Returns:
            None.
        """
        raise NotImplementedError("RMSprop.update is not implemented yet")


# %% [markdown]
# ## Adadelta
#
# Adadelta (Zeiler, 2012) starts from RMSprop's moving average $E[g^2]$ and removes the learning
# rate. Its argument is about **units**: if $W$ is measured in some unit, $g = \partial L /
# \partial W$ is in 1/unit, and so is $g / \sqrt{E[g^2]}$ (unitless) times $\eta$: the learning
# rate must carry the unit of $W$. Adadelta uses instead the root of a moving average of its own
# past **steps** $E[\Delta x^2]$, which has the unit of $W$:
#
# $$E[g^2] \leftarrow \rho E[g^2] + (1-\rho) g^2, \quad
# \Delta x = -\frac{\sqrt{E[\Delta x^2] + \epsilon}}{\sqrt{E[g^2] + \epsilon}}\, g, \quad
# E[\Delta x^2] \leftarrow \rho E[\Delta x^2] + (1-\rho) \Delta x^2, \quad
# W \leftarrow W + \Delta x$$
#
# There is no `lr` at all. $\epsilon$ (`eps`, $10^{-6}$) does two jobs: it avoids dividing by 0,
# and since $E[\Delta x^2]$ starts at 0, $\sqrt{\epsilon}$ sets the size of the first steps, from
# which the steps grow as $E[\Delta x^2]$ builds up. Updating $E[\Delta x^2]$ after each step is
# essential: without it every step stays at the size $\sqrt{\epsilon}$.
#
# ## Adadelta
#
# Adadelta(Zeiler, 2012)는 RMSprop의 이동평균 $E[g^2]$에서 출발해 학습률을 없앱니다. 근거는
# **단위**입니다. $W$를 어떤 단위로 잰다면 $g = \partial L / \partial W$의 단위는 1/단위이고,
# $g / \sqrt{E[g^2]}$는 단위가 없으므로 학습률 $\eta$가 $W$의 단위를 떠안아야 합니다. Adadelta는
# 그 대신 자신의 과거 **걸음**의 이동평균 $E[\Delta x^2]$의 제곱근을 쓰며, 이 값은 $W$와 단위가
# 같습니다:
#
# $$E[g^2] \leftarrow \rho E[g^2] + (1-\rho) g^2, \quad
# \Delta x = -\frac{\sqrt{E[\Delta x^2] + \epsilon}}{\sqrt{E[g^2] + \epsilon}}\, g, \quad
# E[\Delta x^2] \leftarrow \rho E[\Delta x^2] + (1-\rho) \Delta x^2, \quad
# W \leftarrow W + \Delta x$$
#
# `lr`는 전혀 없습니다. $\epsilon$(`eps`, $10^{-6}$)은 두 가지 일을 합니다. 0으로 나누는 것을 막고,
# $E[\Delta x^2]$가 0에서 시작하므로 $\sqrt{\epsilon}$이 처음 걸음의 크기를 정합니다. 그 뒤
# $E[\Delta x^2]$가 쌓이면서 걸음이 커집니다. 걸음마다 $E[\Delta x^2]$를 갱신하는 것이 핵심입니다.
# 이를 빠뜨리면 모든 걸음이 $\sqrt{\epsilon}$ 크기에 머뭅니다.


# %%
class Adadelta:
    """Adadelta: a step with the units of the parameters, without a learning rate.

    For every key: ``Eg = rho * Eg + (1 - rho) * g**2``;
    ``d = -sqrt(Ex + eps) / sqrt(Eg + eps) * g``; ``Ex = rho * Ex + (1 - rho) * d**2``;
    ``p += d``.

    Args:
        rho: weight of the past in both moving averages.
        eps: added under both square roots; sqrt(eps) sets the size of the first steps.
    """

    def __init__(self, rho=0.95, eps=1e-6):
        self.rho = rho
        self.eps = eps
        self.Eg = None  # moving average of squared gradients per key, created on the first call
        self.Ex = None  # moving average of squared steps per key, created on the first call

    def update(self, params, grads):
        """Update ``Eg``, compute the step ``d``, update ``Ex`` with it and move by ``d``.

        On the first call, create ``self.Eg`` and ``self.Ex`` with a zero array per key of
        ``params``.

        Args:
            params: dict of name -> float array (any shape); every array is changed in place.
            grads: dict with the same keys, each gradient of the shape of its parameter; not
                modified.
        Returns:
            None.
        """
        raise NotImplementedError("Adadelta.update is not implemented yet")


# %% [markdown]
# ## Adam
#
# Adam combines the two ideas: a moving average $m$ of the gradients (**momentum**) and a moving
# average $v$ of their squares (**RMSprop**), and steps by $m / \sqrt{v}$:
#
# $$m \leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
# v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2$$
#
# Both start at 0, so in the first steps they are **biased towards 0**: after one step
# $m = 0.1\,g$ and $v = 0.001\,g^2$, far below the mean of $g$ and of $g^2$. The bias factors are
# known exactly, $(1 - \beta_1^t)$ and $(1 - \beta_2^t)$ after $t$ steps, so Adam divides them out:
# $\hat m = m / (1 - \beta_1^t)$ and $\hat v = v / (1 - \beta_2^t)$. Without this **bias
# correction**, $m / \sqrt{v}$ is $(1 - \beta_1^t) / \sqrt{1 - \beta_2^t}$ times too large: 3.2
# times at $t = 1$ and 6.5 times at $t = 10$, so the first hundreds of steps are far too big.
# Folding both corrections into the learning rate, as the book does, gives with $t$ the number of
# calls so far (incremented **before** it is used: with $t = 0$ the correction is $0 / 0$):
#
# $$t \leftarrow t + 1, \qquad W \leftarrow W - \eta\,\frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}
# \,\frac{m}{\sqrt{v} + 10^{-7}}$$
#
# $t$ counts calls of `update`, not keys: increment it once per call. Writing the step as
# $\eta\, \hat m / (\sqrt{\hat v} + 10^{-7})$ (the epsilon on the corrected $v$), or putting the
# epsilon inside the square root, changes the step by about $10^{-5}$ of itself and is also
# correct.
#
# ## Adam
#
# Adam은 두 아이디어를 합칩니다. 기울기의 이동평균 $m$(**모멘텀**)과 기울기 제곱의 이동평균
# $v$(**RMSprop**)를 유지하고, $m / \sqrt{v}$만큼 이동합니다:
#
# $$m \leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
# v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2$$
#
# 둘 다 0에서 시작하므로 처음 몇 걸음 동안은 **0 쪽으로 치우쳐** 있습니다. 한 걸음 뒤에
# $m = 0.1\,g$, $v = 0.001\,g^2$로, $g$와 $g^2$의 평균보다 훨씬 작습니다. 치우침의 정도는 $t$
# 걸음 뒤 $(1 - \beta_1^t)$와 $(1 - \beta_2^t)$로 정확히 알 수 있으므로, Adam은 이를 나누어
# 없앱니다: $\hat m = m / (1 - \beta_1^t)$, $\hat v = v / (1 - \beta_2^t)$. 이 **편향 보정**이
# 없으면 $m / \sqrt{v}$가 $(1 - \beta_1^t) / \sqrt{1 - \beta_2^t}$배만큼 너무 커집니다. $t = 1$에서
# 3.2배, $t = 10$에서 6.5배이므로 처음 수백 걸음이 지나치게 커집니다. 교재처럼 두 보정을 학습률에
# 합치면 다음과 같습니다. 여기서 $t$는 지금까지의 호출 횟수이며, 사용하기 **전에** 1 증가시킵니다
# ($t = 0$이면 보정값이 $0 / 0$이 됩니다):
#
# $$t \leftarrow t + 1, \qquad W \leftarrow W - \eta\,\frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}
# \,\frac{m}{\sqrt{v} + 10^{-7}}$$
#
# $t$는 키가 아니라 `update` 호출 횟수를 셉니다. 호출마다 한 번만 증가시키세요. 걸음을
# $\eta\, \hat m / (\sqrt{\hat v} + 10^{-7})$로 쓰거나(보정한 $v$에 엡실론을 더함) 엡실론을 제곱근
# 안에 넣어도 걸음이 자기 크기의 약 $10^{-5}$만큼만 달라지므로 올바른 답으로 인정됩니다.


# %%
class Adam:
    """Adam: momentum and RMSprop with bias correction.

    On every call: ``t += 1``; then for every key ``m = beta1 * m + (1 - beta1) * g``;
    ``v = beta2 * v + (1 - beta2) * g**2``;
    ``p -= lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m / (sqrt(v) + 1e-7)``.

    Args:
        lr: learning rate.
        beta1: weight of the past in the moving average of gradients ``m``.
        beta2: weight of the past in the moving average of squared gradients ``v``.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.t = 0  # number of calls of update so far
        self.m = None  # moving average of gradients per key, created on the first call
        self.v = None  # moving average of squared gradients per key, created on the first call

    def update(self, params, grads):
        """Count the call, update ``m`` and ``v``, and take the bias-corrected step.

        On the first call, create ``self.m`` and ``self.v`` with a zero array per key of
        ``params``.

        Args:
            params: dict of name -> float array (any shape); every array is changed in place.
            grads: dict with the same keys, each gradient of the shape of its parameter; not
                modified.
        Returns:
            None.
        """
        raise NotImplementedError("Adam.update is not implemented yet")
