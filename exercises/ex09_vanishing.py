# Backprop Lab exercise: implement the functions below, then run `grade ex09`.

# %% [markdown]
# # ex09: Vanishing gradients (기울기 소실)
#
# Adding layers should make a network more expressive, yet a deep network of sigmoid layers
# trained with plain SGD learns *worse* than a shallow one. This exercise shows why, with Keras:
# you build a deep fully connected network for MNIST whose hidden activation is a parameter, and
# measure, with `tf.GradientTape`, how large the gradient of the loss is at each layer. With the
# sigmoid the gradient reaching the first layers is orders of magnitude smaller than at the last
# one (it *vanishes*), so the first layers barely learn; with ReLU it does not. The last cell
# trains both networks for one epoch and plots the gradient norms layer by layer.
#
# **Check your work:** in a terminal, run `grade ex09` from the folder that holds `exercises/`; if
# you work in the notebook, run `grade ex09 --path ex09_vanishing.ipynb` from this folder. The
# grader imports TensorFlow and trains small models on a part of MNIST: that takes about half a
# minute.
#
# 층을 더 쌓으면 신경망의 표현력은 커져야 하지만, 시그모이드 층을 깊이 쌓아 평범한 SGD로
# 학습시키면 얕은 신경망보다 오히려 *더 못* 배웁니다. 이 실습에서는 Keras로 그 이유를 확인합니다.
# 은닉층 활성화 함수를 인수로 받는 깊은 완전연결 신경망을 MNIST용으로 만들고, `tf.GradientTape`로
# 층마다 손실의 기울기가 얼마나 큰지 잽니다. 시그모이드를 쓰면 앞쪽 층에 도달하는 기울기가 마지막
# 층보다 몇 자릿수나 작아서(기울기가 *소실*되어) 앞쪽 층은 거의 학습되지 않습니다. ReLU를 쓰면
# 그렇지 않습니다. 마지막 셀은 두 신경망을 한 에폭 학습시키고 층별 기울기 노름을 그래프로 그립니다.
#
# **채점 방법:** 터미널을 열고 `exercises/` 폴더가 들어 있는 위치에서 `grade ex09`를 실행하세요.
# 노트북에서 작업한다면 이 폴더에서 `grade ex09 --path ex09_vanishing.ipynb`를 실행합니다.
# 채점기는 TensorFlow를 import하고 MNIST의 일부로 작은 모델을 학습시키므로 30초쯤 걸립니다.

# %%
"""ex09 vanishing gradients: a deep Keras network and the gradient norm of each layer."""

import keras
import numpy as np
import tensorflow as tf

# %% [markdown]
# ## A deep network with a chosen activation
#
# `keras.Sequential` stacks layers: `keras.Input((28, 28))` declares one MNIST image (28 x 28
# pixels; the batch dimension is implicit), `keras.layers.Flatten()` turns it into a row of 784
# values, then one `keras.layers.Dense(units, activation=activation)` per entry of
# `hidden_units`, and `keras.layers.Dense(10, activation="softmax")` gives the probabilities of
# the 10 digits. `compile` fixes how the model learns: the labels are class numbers 0..9 (not
# one-hot), so the loss is `"sparse_categorical_crossentropy"` (the book's cross-entropy error
# of softmax outputs); the metric `"accuracy"` is reported during training, and `optimizer`
# (`"sgd"`: plain gradient descent, learning rate 0.01) updates the weights.
#
# Why the sigmoid hurts: backpropagation multiplies, layer by layer, by the derivative of the
# activation. The sigmoid's derivative $\sigma(x)(1 - \sigma(x))$ is at most $1/4$, so after
# six sigmoid layers the gradient has been scaled down by up to $4^{-6} \approx 2.4 \times
# 10^{-4}$ on its way to the first layer. ReLU's derivative is exactly 1 wherever the unit is
# active, so the gradient passes through unshrunk.
#
# ## 활성화 함수를 고를 수 있는 깊은 신경망
#
# `keras.Sequential`은 층을 차례로 쌓습니다. `keras.Input((28, 28))`은 MNIST 이미지 한 장(28 x 28
# 픽셀, 배치 차원은 생략)을 입력으로 선언하고, `keras.layers.Flatten()`은 이를 784개 값의 행으로
# 폅니다. 그다음 `hidden_units`의 원소마다 `keras.layers.Dense(units, activation=activation)`를
# 하나씩 두고, `keras.layers.Dense(10, activation="softmax")`가 숫자 10개의 확률을 냅니다.
# `compile`은 학습 방법을 정합니다. 레이블이 원-핫이 아니라 0..9의 클래스 번호이므로 손실은
# `"sparse_categorical_crossentropy"`(교재의 소프트맥스 출력에 대한 교차 엔트로피 오차)이고,
# 학습 중에 `"accuracy"`(정확도)를 보고하며, `optimizer`(`"sgd"`: 학습률 0.01인 평범한 경사
# 하강법)가 가중치를 갱신합니다.
#
# 시그모이드가 문제인 이유: 역전파는 층을 지날 때마다 활성화 함수의 도함수를 곱합니다. 시그모이드의
# 도함수 $\sigma(x)(1 - \sigma(x))$는 최대 $1/4$이므로, 시그모이드 층 여섯 개를 지나 첫 층에
# 도달한 기울기는 최대 $4^{-6} \approx 2.4 \times 10^{-4}$배까지 줄어듭니다. ReLU의 도함수는
# 뉴런이 활성화된 곳에서 정확히 1이므로 기울기가 줄지 않고 전달됩니다.


# %%
def build_deep_model(activation, hidden_units=(64, 128, 256, 256, 128, 64), optimizer="sgd"):
    """Build and compile a deep fully connected MNIST classifier.

    Args:
        activation: activation of every hidden layer, a Keras name such as "sigmoid" or "relu".
        hidden_units: number of units of each hidden Dense layer, first layer first; one Dense
            layer per entry.
        optimizer: optimizer passed to ``model.compile`` (a name such as "sgd", or an
            optimizer object).
    Returns:
        A compiled ``keras.Sequential``: Input((28, 28)) -> Flatten (784 values) ->
        Dense(hidden_units[i], activation) for each i -> Dense(10, "softmax"), compiled with
        loss "sparse_categorical_crossentropy" and metrics ["accuracy"]. Its input is a batch of
        shape (N, 28, 28); its output, shape (N, 10), holds class probabilities (rows sum to 1).
    """
    raise NotImplementedError("build_deep_model is not implemented yet")


# %% [markdown]
# ## Measuring the gradient of each layer
#
# `tf.GradientTape` records the operations run inside its `with` block and can then
# differentiate the result: compute the loss of the batch inside the block, with the model in
# training mode (`model(x, training=True)`) and the model's loss (sparse categorical
# cross-entropy, averaged over the batch), then ask the tape for the gradient with respect to
# each Dense layer's weight matrix, `layer.kernel` (not its bias). The size of a gradient is
# its L2 (Frobenius) norm, $\sqrt{\sum_{ij} g_{ij}^2}$: `tf.norm(g)`. Return one plain float
# per Dense layer, first layer first (the output layer is last), so that the list reads from
# the input to the output.
#
# ## 층마다 기울기 재기
#
# `tf.GradientTape`는 `with` 블록 안에서 실행된 연산을 기록했다가 그 결과를 미분해 줍니다. 블록
# 안에서 모델을 훈련 모드로(`model(x, training=True)`) 실행해 배치의 손실(희소 범주형 교차
# 엔트로피, 배치 평균)을 계산하고, 테이프에 각 Dense 층의 가중치 행렬 `layer.kernel`(편향이
# 아님)에 대한 기울기를 요청하세요. 기울기의 크기는 L2(프로베니우스) 노름
# $\sqrt{\sum_{ij} g_{ij}^2}$, 즉 `tf.norm(g)`입니다. Dense 층마다 평범한 float 하나를 첫 층부터
# (출력층이 마지막) 차례로 담아, 목록이 입력에서 출력 쪽으로 읽히도록 반환하세요.


# %%
def layer_gradient_norms(model, x, y):
    """L2 norm of the gradient of the loss with respect to each Dense layer's kernel.

    Args:
        model: a Keras model (such as ``build_deep_model``'s) whose Dense layers end in softmax.
        x: images, array of shape (N, 28, 28) (float, pixels scaled to [0, 1]).
        y: labels, int array of shape (N,) with classes 0..9.
    Returns:
        A list of floats, one per Dense layer in the model's order (first hidden layer first,
        output layer last): the L2 norm of d loss / d kernel, where the loss is the sparse
        categorical cross-entropy of ``model(x, training=True)`` averaged over the N samples,
        computed with ``tf.GradientTape``.
    """
    raise NotImplementedError("layer_gradient_norms is not implemented yet")


# %% [markdown]
# ## The experiment: sigmoid against ReLU
#
# Once the grader passes both functions, run the next cell. It loads MNIST with
# `load_data` (the same arrays as `keras.datasets.mnist.load_data()`, read from the course's
# files), scales the pixels to $[0, 1]$, builds the same deep network twice, with sigmoid and
# with ReLU hidden layers, measures the gradient norms on 1,000 training images, trains each
# model for one epoch of SGD and reports its test accuracy. Expect the sigmoid network's first
# layer to get a gradient about a thousand times smaller than its last, and its accuracy to stay
# far below the ReLU network's after one epoch. The plot shows the norms layer by layer on a
# log scale. The cell runs only when this file is run as a notebook or a script
# (`python ex09_vanishing.py`), never when the grader imports it: that is what
# `if __name__ == "__main__":` is for.
#
# ## 실험: 시그모이드 대 ReLU
#
# 채점기가 두 함수를 통과시키면 다음 셀을 실행하세요. `load_data`로 MNIST를 읽고
# (`keras.datasets.mnist.load_data()`와 같은 배열을 강의 파일에서 읽습니다) 픽셀을 $[0, 1]$
# 범위로 바꾼 뒤, 같은 깊은 신경망을 시그모이드 은닉층과 ReLU 은닉층으로 두 번 만듭니다. 훈련
# 이미지 1,000장으로 기울기 노름을 재고, 각 모델을 SGD로 한 에폭 학습시켜 시험 정확도를
# 출력합니다. 시그모이드 신경망은 첫 층의 기울기가 마지막 층보다 천 배쯤 작고, 한 에폭 뒤의
# 정확도도 ReLU 신경망보다 한참 낮을 것입니다. 그래프는 층별 노름을 로그 눈금으로 보여 줍니다.
# 이 셀은 파일을 노트북이나 스크립트(`python ex09_vanishing.py`)로 실행할 때만 돌고, 채점기가
# import할 때는 돌지 않습니다. `if __name__ == "__main__":`가 그 역할을 합니다.

# %%
if __name__ == "__main__":
    import matplotlib.pyplot as plt

    from dataset.mnist import load_data

    (x_train, y_train), (x_test, y_test) = load_data()
    x_train, x_test = x_train / np.float32(255.0), x_test / np.float32(255.0)

    norms = {}
    for activation in ("sigmoid", "relu"):
        keras.utils.set_random_seed(0)  # the same initial weights at every run
        model = build_deep_model(activation)
        norms[activation] = layer_gradient_norms(model, x_train[:1000], y_train[:1000])
        model.fit(x_train, y_train, epochs=1, batch_size=32, verbose=0)
        _, accuracy = model.evaluate(x_test, y_test, verbose=0)
        ratio = norms[activation][0] / norms[activation][-1]
        print(f"{activation:>7}: first/last layer gradient norm {ratio:.2e}, "
              f"test accuracy after one epoch {accuracy:.3f}")

    layers = np.arange(1, len(norms["relu"]) + 1)
    for activation, values in norms.items():
        plt.semilogy(layers, values, marker="o", label=activation)
    plt.xlabel("Dense layer (1 = first hidden layer)")
    plt.ylabel("L2 norm of d loss / d kernel")
    plt.title("Gradient norm per layer before training")
    plt.legend()
    plt.show()
