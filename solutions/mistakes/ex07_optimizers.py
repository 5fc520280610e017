"""Known mistakes of ex07 optimizers, one buggy class each (instructors only).

Each class takes the constructor arguments of the spec's class it stands for, so that the check's
scenario can build it the same way; ``grader/exercises/ex07_optimizers.py`` names them in
``Mistake(..., variant={"Adam": "AdamWithoutBiasCorrection"})``.
"""

import numpy as np


def _zeros(params):
    return {key: np.zeros_like(value) for key, value in params.items()}


class MomentumStateEveryCall:
    """The velocity is created again on every call: each step is -lr * g (plain SGD)."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum

    def update(self, params, grads):
        self.v = _zeros(params)
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class MomentumMovingAverage:
    """The moving-average form: v = momentum * v + (1 - momentum) * g, then p -= lr * v."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = _zeros(params)
        for key in params:
            self.v[key] = self.momentum * self.v[key] + (1 - self.momentum) * grads[key]
            params[key] -= self.lr * self.v[key]


class MomentumVelocityFromParams:
    """The velocity starts as the parameter arrays themselves (self.v[key] = val, no zeros_like)."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = dict(params)
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class MomentumVelocityIsParams:
    """The velocity is the params dict itself (self.v = params): each step doubles a new array."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = params
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class NesterovOlderOrder:
    """The velocity is updated first and the parameter step then uses the new velocity."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = _zeros(params)
        mu = self.momentum
        for key in params:
            self.v[key] = mu * self.v[key] - self.lr * grads[key]
            params[key] += mu * mu * self.v[key] - (1 + mu) * self.lr * grads[key]


class NesterovAsMomentum:
    """The look-ahead form without the old velocity (or with v_prev aliasing v): p += v."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = _zeros(params)
        mu = self.momentum
        for key in params:
            v_prev = self.v[key]  # not a copy: changed with v below
            v_prev *= mu
            v_prev -= self.lr * grads[key]
            params[key] += -mu * v_prev + (1 + mu) * self.v[key]


class NesterovStateEveryCall:
    """The velocity is created again on every call."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum

    def update(self, params, grads):
        self.v = _zeros(params)
        mu = self.momentum
        for key in params:
            params[key] += mu * mu * self.v[key] - (1 + mu) * self.lr * grads[key]
            self.v[key] = mu * self.v[key] - self.lr * grads[key]


class AdaGradStateEveryCall:
    """h is created again on every call (the same as h = g**2 instead of h += g**2)."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        self.h = _zeros(params)
        for key in params:
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSpropDecayReversed:
    """decay_rate weighs the new squared gradient and 1 - decay_rate the past."""

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr, self.decay_rate, self.h = lr, decay_rate, None

    def update(self, params, grads):
        if self.h is None:
            self.h = _zeros(params)
        for key in params:
            g = grads[key]
            self.h[key] = (1 - self.decay_rate) * self.h[key] + self.decay_rate * g * g
            params[key] -= self.lr * g / (np.sqrt(self.h[key]) + 1e-7)


class RMSpropStateEveryCall:
    """h is created again on every call."""

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr, self.decay_rate = lr, decay_rate

    def update(self, params, grads):
        self.h = _zeros(params)
        for key in params:
            g = grads[key]
            self.h[key] = self.decay_rate * self.h[key] + (1 - self.decay_rate) * g * g
            params[key] -= self.lr * g / (np.sqrt(self.h[key]) + 1e-7)


class AdadeltaWithoutExUpdate:
    """Ex is never updated: it stays 0, so every step has the size sqrt(eps)."""

    def __init__(self, rho=0.95, eps=1e-6):
        self.rho, self.eps, self.Eg, self.Ex = rho, eps, None, None

    def update(self, params, grads):
        if self.Eg is None:
            self.Eg, self.Ex = _zeros(params), _zeros(params)
        for key in params:
            g = grads[key]
            self.Eg[key] = self.rho * self.Eg[key] + (1 - self.rho) * g * g
            params[key] -= np.sqrt(self.Ex[key] + self.eps) / np.sqrt(self.Eg[key] + self.eps) * g


class AdadeltaLearningRateInStep:
    """A learning rate of 0.01 multiplies d, and Ex then averages the scaled steps."""

    def __init__(self, rho=0.95, eps=1e-6, lr=0.01):
        self.rho, self.eps, self.lr, self.Eg, self.Ex = rho, eps, lr, None, None

    def update(self, params, grads):
        if self.Eg is None:
            self.Eg, self.Ex = _zeros(params), _zeros(params)
        for key in params:
            g = grads[key]
            self.Eg[key] = self.rho * self.Eg[key] + (1 - self.rho) * g * g
            d = -self.lr * np.sqrt(self.Ex[key] + self.eps) / np.sqrt(self.Eg[key] + self.eps) * g
            self.Ex[key] = self.rho * self.Ex[key] + (1 - self.rho) * d * d
            params[key] += d


class AdadeltaEpsOutsideSqrt:
    """eps is added after the square roots: d = -(sqrt(Ex) + eps) / (sqrt(Eg) + eps) * g."""

    def __init__(self, rho=0.95, eps=1e-6):
        self.rho, self.eps, self.Eg, self.Ex = rho, eps, None, None

    def update(self, params, grads):
        if self.Eg is None:
            self.Eg, self.Ex = _zeros(params), _zeros(params)
        for key in params:
            g = grads[key]
            self.Eg[key] = self.rho * self.Eg[key] + (1 - self.rho) * g * g
            d = -(np.sqrt(self.Ex[key]) + self.eps) / (np.sqrt(self.Eg[key]) + self.eps) * g
            self.Ex[key] = self.rho * self.Ex[key] + (1 - self.rho) * d * d
            params[key] += d


class AdadeltaStateEveryCall:
    """Eg and Ex are created again on every call."""

    def __init__(self, rho=0.95, eps=1e-6):
        self.rho, self.eps = rho, eps

    def update(self, params, grads):
        self.Eg, self.Ex = _zeros(params), _zeros(params)
        for key in params:
            g = grads[key]
            self.Eg[key] = self.rho * self.Eg[key] + (1 - self.rho) * g * g
            d = -np.sqrt(self.Ex[key] + self.eps) / np.sqrt(self.Eg[key] + self.eps) * g
            self.Ex[key] = self.rho * self.Ex[key] + (1 - self.rho) * d * d
            params[key] += d


class _AdamBase:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.t, self.m, self.v = 0, None, None

    def _moments(self, key, g):
        self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * g
        self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * g * g

    def _corrected_lr(self, t):
        return self.lr * np.sqrt(1 - self.beta2**t) / (1 - self.beta1**t)


class AdamWithoutBiasCorrection(_AdamBase):
    """p -= lr * m / (sqrt(v) + 1e-7): no bias correction."""

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = _zeros(params), _zeros(params)
        for key in params:
            self._moments(key, grads[key])
            params[key] -= self.lr * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamStepCounterStuck(_AdamBase):
    """t is 1 on every call (a local counter, or reset before it is incremented)."""

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = _zeros(params), _zeros(params)
        lr_t = self._corrected_lr(1)
        for key in params:
            self._moments(key, grads[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamStepCounterPerKey(_AdamBase):
    """t is incremented once per key instead of once per call."""

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = _zeros(params), _zeros(params)
        for key in params:
            self.t += 1
            self._moments(key, grads[key])
            params[key] -= self._corrected_lr(self.t) * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamStateEveryCall(_AdamBase):
    """m and v are created again on every call (t still advances)."""

    def update(self, params, grads):
        self.m, self.v = _zeros(params), _zeros(params)
        self.t += 1
        lr_t = self._corrected_lr(self.t)
        for key in params:
            self._moments(key, grads[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)
