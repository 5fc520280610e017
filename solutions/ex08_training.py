# %% [markdown]
# # ex08: Training on MNIST (신경망 학습)
#
# This exercise puts the pieces together: your `TwoLayerNet` from ex06 learns to read handwritten
# digits with your `SGD` from ex07, by **mini-batch training**, the loop of the book's
# `train_neuralnet.py` (chapters 4 and 5). You write two small helpers that count iterations and
# epochs, and the training loop itself, `train`, which returns the learning history: the loss of
# every mini-batch and, once per epoch, the accuracy on the training and the test data. The last
# cell trains the network on all of MNIST; it should reach at least 95 % test accuracy.
#
# `train` receives the network and the optimizer as arguments, so this file itself imports
# nothing from your earlier exercises; only the last cell does (`from ex06_two_layer_net import
# TwoLayerNet`, `from ex07_optimizers import SGD`), so keep ex03, ex05, ex06 and ex07 in the same
# folder and finish them first.
#
# **Check your work:** in a terminal, run `grade ex08` from the folder that holds `exercises/`; if
# you work in the notebook, run `grade ex08 --path .` from this folder (grading a folder lets the
# grader use your ex06 and ex07 next to it). The grader trains your network on a part of MNIST
# for a few hundred iterations: that takes a few seconds.
#
# 이 실습에서는 지금까지 만든 부품을 하나로 합칩니다. ex06의 `TwoLayerNet`이 ex07의 `SGD`로
# 손글씨 숫자를 읽는 법을 배웁니다. 방법은 교재의 `train_neuralnet.py`(4장과 5장)에 나오는
# **미니배치 학습**입니다. 반복 횟수와 에폭을 세는 작은 함수 두 개와 학습 루프 `train`을
# 구현합니다. `train`은 학습 기록을 반환합니다: 미니배치마다의 손실, 그리고 에폭마다 한 번씩 잰
# 훈련 데이터와 시험 데이터의 정확도입니다. 마지막 셀은 MNIST 전체로 신경망을 학습시키며, 시험
# 정확도가 95 % 이상이 되어야 합니다.
#
# `train`은 신경망과 옵티마이저를 인수로 받으므로 이 파일 자체는 앞의 실습을 import하지 않습니다.
# 마지막 셀만 import합니다(`from ex06_two_layer_net import TwoLayerNet`,
# `from ex07_optimizers import SGD`). 그러니 ex03, ex05, ex06, ex07을 같은 폴더에 두고 먼저
# 완성하세요.
#
# **채점 방법:** 터미널을 열고 `exercises/` 폴더가 들어 있는 위치에서 `grade ex08`을 실행하세요.
# 노트북에서 작업한다면 이 폴더에서 `grade ex08 --path .`를 실행합니다(폴더를 채점해야 채점기가
# 옆에 있는 ex06과 ex07을 사용할 수 있습니다). 채점기는 MNIST의 일부로 신경망을 몇백 번 반복
# 학습시키므로 몇 초가 걸립니다.

# %%
"""ex08 training: mini-batch training of a network, with its learning history."""

import numpy as np

# %% [markdown]
# ## Epochs and iterations
#
# One **iteration** is one weight update: take a mini-batch of `batch_size` samples, compute the
# gradient of the loss on it, move the parameters. One **epoch** is the number of iterations
# that, on average, uses as many samples as the training set holds: with 60,000 training images
# and batches of 100, an epoch is $60000 / 100 = 600$ iterations. The book computes it as
# `max(train_size / batch_size, 1)`: a true division, so it is a float (`600.0`, or `3.33...`
# when the batch size does not divide the training set), and at least 1, so that a batch larger
# than the training set still makes one iteration per epoch.
#
# ## 에폭과 반복
#
# **반복**(iteration) 한 번은 가중치 갱신 한 번입니다: `batch_size`개 샘플로 된 미니배치를
# 뽑고, 그 배치에서 손실의 기울기를 구해 매개변수를 움직입니다. **에폭**(epoch)은 평균적으로
# 훈련 데이터의 샘플 수만큼을 사용하는 반복 횟수입니다. 훈련 이미지가 60,000장이고 배치가
# 100이면 한 에폭은 $60000 / 100 = 600$번의 반복입니다. 교재는 이를
# `max(train_size / batch_size, 1)`로 계산합니다. 나눗셈이 실수 나눗셈이므로 결과는 실수이고
# (`600.0`, 나누어떨어지지 않으면 `3.33...`), 배치가 훈련 데이터보다 커도 에폭마다 한 번은
# 반복하도록 최소 1입니다.


# %%
def iterations_per_epoch(train_size, batch_size):
    """Return the number of iterations in one epoch: ``max(train_size / batch_size, 1)``.

    Args:
        train_size: N, the number of training samples (an int).
        batch_size: B, the number of samples in a mini-batch (an int).
    Returns:
        N / B (true division, a float such as 600.0 or 3.333...), or 1 when B > N.
    """
    ### BEGIN SOLUTION
    return max(train_size / batch_size, 1)
    ### END SOLUTION


# %% [markdown]
# ## How many updates in a number of epochs
#
# Training is often specified in epochs ("train for 20 epochs") while the loop counts
# iterations. The number of weight updates in `epochs` epochs is the iterations per epoch times
# the epochs, rounded down to a whole number of iterations, as the book's `Trainer` does
# (`int(epochs * iter_per_epoch)`). With 100 samples and batches of 50 an epoch is 2 iterations,
# so 100 epochs are 200 updates. Multiply first, then round: 1000 samples in batches of 400 make
# 2.5 iterations per epoch, and 2 epochs are 5 updates (rounding 2.5 down first would give 4).
#
# ## 에폭 수에 해당하는 갱신 횟수
#
# 학습 기간은 흔히 에폭으로 정하지만("20 에폭 학습"), 루프는 반복 횟수를 셉니다. `epochs` 에폭
# 동안의 가중치 갱신 횟수는 에폭당 반복 수에 에폭 수를 곱하고, 교재의 `Trainer`처럼
# (`int(epochs * iter_per_epoch)`) 정수로 내림한 값입니다. 샘플 100개를 50개씩 배치로 나누면 한
# 에폭은 2번의 반복이므로 100 에폭은 200번의 갱신입니다. 곱한 다음에 내림하세요. 샘플 1000개를
# 400개씩 나누면 에폭당 2.5번이고 2 에폭은 5번의 갱신입니다(2.5를 먼저 내림하면 4가 됩니다).


# %%
def total_iterations(train_size, batch_size, epochs):
    """Return the number of weight updates in ``epochs`` epochs.

    Args:
        train_size: N, the number of training samples (an int).
        batch_size: B, the number of samples in a mini-batch (an int).
        epochs: the number of epochs (an int).
    Returns:
        ``int(epochs * iterations_per_epoch(N, B))``, an int; 200 for N = 100, B = 50,
        epochs = 100.
    """
    ### BEGIN SOLUTION
    return int(epochs * iterations_per_epoch(train_size, batch_size))
    ### END SOLUTION


# %% [markdown]
# ## The training loop
#
# Each iteration of mini-batch training does four things:
#
# 1. **Sample a mini-batch**: `batch_size` random row indices of the training set,
#    `batch_mask = rng.choice(train_size, batch_size)`, then `x_batch = x_train[batch_mask]` and
#    `t_batch = t_train[batch_mask]`. A fresh random batch every iteration is what makes the
#    method *stochastic* gradient descent: each batch gives a noisy but cheap estimate of the
#    gradient over the whole training set.
# 2. **Compute the gradient**: `grads = network.gradient(x_batch, t_batch)` (backpropagation; the
#    numerical gradient would take hours).
# 3. **Update the parameters**: `optimizer.update(network.params, grads)`. The optimizer changes
#    the arrays of `network.params` in place, which are the arrays the network's layers use.
#    Always go through the optimizer you are given; do not write the update yourself.
# 4. **Record the loss of the batch**: `network.loss(x_batch, t_batch)` in `train_loss`.
#
# **The random generator.** The book samples with `np.random.choice`, which draws from NumPy's
# single global generator: the batches then depend on everything else that used `np.random`
# before (the network's initial weights, other code). Here the batches come from a generator of
# their own, `rng = np.random.default_rng(seed)`, **created once, before the loop**: the same
# `seed` then always gives the same batches, and another seed other batches. (Creating it inside
# the loop would restart it at every iteration and draw the very same batch every time.)
#
# **Once per epoch** the loop also measures the accuracy on the whole training set and on the
# test set and appends them to `train_acc` and `test_acc`. This costs a pass over all the data,
# which is why it is done once per epoch and not every iteration. The book does it when
# `i % iter_per_epoch == 0`, that is at iterations 0, 600, 1200, ... for MNIST.
# (`i % iter_per_epoch < 1` says the same when `iter_per_epoch` is a whole number, and still
# holds once per epoch when it is a fraction such as 3.33, where `== 0` would hold only at 0.)
# Comparing the two curves shows **overfitting**: a training accuracy that keeps rising while the
# test accuracy stalls means the network memorises its training images instead of learning
# digits. With the small two-layer network and 60,000 images, the two curves stay close.
#
# **What the history should look like.** The first batch losses are close to
# $\ln 10 \approx 2.30$: with small initial weights every score is close to 0, the softmax gives
# each of the 10 classes a probability close to $1/10$, and the cross-entropy is
# $-\ln(1/10)$. The loss then falls quickly, with some noise from batch to batch, and the
# accuracy rises from about 0.1 (chance) to above 0.9 within the first epochs.
#
# ## 학습 루프
#
# 미니배치 학습의 반복 한 번은 네 가지 일을 합니다.
#
# 1. **미니배치 뽑기**: 훈련 데이터에서 무작위 행 인덱스 `batch_size`개를 뽑고
#    (`batch_mask = rng.choice(train_size, batch_size)`), `x_batch = x_train[batch_mask]`,
#    `t_batch = t_train[batch_mask]`를 만듭니다. 반복마다 새 무작위 배치를 쓰기 때문에
#    *확률적* 경사 하강법이라고 부릅니다. 배치 하나는 훈련 데이터 전체에 대한 기울기를 싸고
#    빠르게, 다만 잡음이 섞인 채로 추정해 줍니다.
# 2. **기울기 계산**: `grads = network.gradient(x_batch, t_batch)`(오차역전파법. 수치 미분으로는
#    몇 시간이 걸립니다).
# 3. **매개변수 갱신**: `optimizer.update(network.params, grads)`. 옵티마이저는
#    `network.params`의 배열 자체를 바꾸며, 신경망의 계층들이 쓰는 것이 바로 그 배열입니다.
#    갱신은 항상 인수로 받은 옵티마이저로 하고, 직접 작성하지 마세요.
# 4. **배치 손실 기록**: `network.loss(x_batch, t_batch)`를 `train_loss`에 추가합니다.
#
# **난수 생성기.** 교재는 `np.random.choice`로 배치를 뽑는데, 이 함수는 NumPy의 전역 생성기
# 하나에서 난수를 꺼냅니다. 그러면 배치가 그 전에 `np.random`을 사용한 모든 것(신경망의 초기
# 가중치, 다른 코드)에 따라 달라집니다. 여기서는 배치 전용 생성기
# `rng = np.random.default_rng(seed)`를 **루프 전에 한 번만** 만듭니다. 그러면 같은 `seed`는
# 언제나 같은 배치를, 다른 seed는 다른 배치를 줍니다(루프 안에서 만들면 반복마다 생성기가 처음
# 상태로 돌아가 매번 똑같은 배치를 뽑게 됩니다).
#
# **에폭마다 한 번** 루프는 훈련 데이터 전체와 시험 데이터에 대한 정확도도 재서 `train_acc`와
# `test_acc`에 추가합니다. 데이터 전체를 한 번 훑어야 하므로 매 반복이 아니라 에폭마다 한 번만
# 합니다. 교재는 `i % iter_per_epoch == 0`일 때, 즉 MNIST에서는 0, 600, 1200, ... 번째 반복에서
# 잽니다(`i % iter_per_epoch < 1`은 `iter_per_epoch`가 정수일 때 같은 뜻이고, 3.33처럼
# 분수일 때도 에폭마다 한 번 참이 됩니다. `== 0`은 그때 0에서만 참입니다). 두 곡선을 비교하면
# **과대적합**(overfitting)을 알 수 있습니다. 훈련 정확도는 계속 오르는데 시험 정확도가 제자리라면
# 신경망이 숫자를 배우는 대신 훈련 이미지를 외우고 있다는 뜻입니다. 작은 2층 신경망과 60,000장의
# 이미지에서는 두 곡선이 가깝게 유지됩니다.
#
# **학습 기록의 모습.** 처음 배치 손실은 $\ln 10 \approx 2.30$에 가깝습니다. 초기 가중치가
# 작으면 모든 점수가 0에 가깝고, 소프트맥스가 10개 클래스에 거의 $1/10$씩 확률을 주므로 교차
# 엔트로피가 $-\ln(1/10)$이 됩니다. 그 뒤 손실은 배치마다 잡음을 보이며 빠르게 줄고, 정확도는
# 처음 몇 에폭 안에 약 0.1(무작위로 찍는 수준)에서 0.9 이상으로 오릅니다.


# %%
def train(network, optimizer, x_train, t_train, x_test, t_test, iters_num, batch_size, seed=0):
    """Train ``network`` by mini-batch gradient descent; return its learning history.

    ``rng = np.random.default_rng(seed)`` is created once. Each of the ``iters_num``
    iterations samples a batch ``batch_mask = rng.choice(N, batch_size)``, computes
    ``grads = network.gradient(x_batch, t_batch)``, calls
    ``optimizer.update(network.params, grads)`` and records ``network.loss(x_batch, t_batch)``.
    Once per epoch (at iterations 0, iter_per_epoch, 2 * iter_per_epoch, ... with
    ``iter_per_epoch = iterations_per_epoch(N, batch_size)``) it records the accuracy on the
    whole training set and on the test set. The inputs are not modified.

    Args:
        network: the network to train, changed in place; it has ``params`` (a dict of arrays),
            ``gradient(x, t)`` (a dict of gradients with the keys of ``params``),
            ``loss(x, t)`` and ``accuracy(x, t)``, as ex06's ``TwoLayerNet``.
        optimizer: an ex07 optimizer, with ``update(params, grads)``.
        x_train: training inputs, shape (N, D).
        t_train: training targets, labels of shape (N,) or one-hot of shape (N, C).
        x_test: test inputs, shape (M, D).
        t_test: test targets, shape (M,) or (M, C).
        iters_num: the number of iterations (weight updates), an int.
        batch_size: B, the number of samples in a mini-batch, an int.
        seed: seed of the generator that samples the batches.
    Returns:
        dict with three lists of floats: ``'train_loss'`` (iters_num values: the loss of each
        iteration's batch), ``'train_acc'`` and ``'test_acc'`` (one value per epoch: the
        accuracy on ``x_train`` and on ``x_test``).
    """
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)  # once: a new generator per iteration repeats one batch
    train_size = x_train.shape[0]
    iter_per_epoch = iterations_per_epoch(train_size, batch_size)
    history = {"train_loss": [], "train_acc": [], "test_acc": []}

    for i in range(iters_num):
        batch_mask = rng.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)
        history["train_loss"].append(float(network.loss(x_batch, t_batch)))

        if i % iter_per_epoch < 1:  # the first iteration of each epoch
            history["train_acc"].append(float(network.accuracy(x_train, t_train)))
            history["test_acc"].append(float(network.accuracy(x_test, t_test)))
    return history
    ### END SOLUTION


# %% [markdown]
# ## Training on MNIST
#
# Once the grader is happy with `train`, run the next cell. It loads MNIST with the book's
# `load_mnist` (pixels scaled to $[0, 1]$, images flattened to rows of 784 values, one-hot
# labels), builds a `TwoLayerNet(784, 50, 10)` with your ex06 code and trains it with your ex07
# `SGD(lr=0.1)` for 10,000 iterations of batches of 100 (about 17 epochs, half a minute to a
# minute). It
# prints the accuracies recorded once per epoch: the test accuracy should end at 0.95 or more
# (the book's code reaches about 0.97). The training code runs only when the file is run as a
# notebook or as a script (`python ex08_training.py`), not when the grader imports it: that is
# what `if __name__ == "__main__":` is for.
#
# ## MNIST로 학습하기
#
# 채점기가 `train`을 통과시키면 다음 셀을 실행하세요. 교재의 `load_mnist`로 MNIST를 읽고(픽셀은
# $[0, 1]$ 범위로, 이미지는 784개 값의 행으로 펴고, 레이블은 원-핫), ex06 코드로
# `TwoLayerNet(784, 50, 10)`을 만들어 ex07의 `SGD(lr=0.1)`로 100개짜리 배치를 10,000번 반복
# 학습시킵니다(약 17 에폭, 30초에서 1분). 에폭마다 기록한 정확도를 출력하는데, 마지막 시험 정확도가
# 0.95 이상이어야 합니다(교재의 코드는 약 0.97에 이릅니다). 학습 코드는 이 파일을 노트북이나
# 스크립트(`python ex08_training.py`)로 실행할 때만 돌고, 채점기가 import할 때는 돌지 않습니다.
# `if __name__ == "__main__":`가 그 역할을 합니다.

# %%
if __name__ == "__main__":
    from ex06_two_layer_net import TwoLayerNet
    from ex07_optimizers import SGD

    from dataset.mnist import load_mnist

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

    np.random.seed(0)  # the initial weights (np.random.randn) are the same at every run
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    optimizer = SGD(lr=0.1)
    iters_num, batch_size = 10000, 100
    print(f"{iters_num} iterations of batches of {batch_size}: "
          f"{iters_num / iterations_per_epoch(x_train.shape[0], batch_size):.1f} epochs")

    history = train(network, optimizer, x_train, t_train, x_test, t_test, iters_num, batch_size)

    print("epoch  train acc  test acc")
    for epoch, accuracies in enumerate(zip(history["train_acc"], history["test_acc"], strict=True)):
        print(f"{epoch:5d}  {accuracies[0]:9.4f}  {accuracies[1]:8.4f}")
    loss = history["train_loss"]
    print(f"batch loss: {loss[0]:.3f} at the start, {np.mean(loss[-100:]):.3f} at the end")
    final = network.accuracy(x_test, t_test)
    print(f"final test accuracy: {final:.4f} (target: at least 0.95)")
