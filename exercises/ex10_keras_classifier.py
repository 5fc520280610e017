# Backprop Lab exercise: implement the functions below, then run `grade ex10`.

# %% [markdown]
# # ex10: A Keras classifier, saved and loaded (Keras 분류기 저장과 불러오기)
#
# The earlier exercises built every layer by hand in NumPy. Keras does the same work for you: a
# `keras.Sequential` model stacks layers, `compile` chooses the loss and the optimizer, `fit`
# runs the training loop of ex08 (mini-batches, epochs, a validation set) and `save` writes the
# trained model to one file. This exercise chooses the output layer and the loss for each kind of
# task, builds and trains an MNIST classifier to at least 0.97 test accuracy, and saves and loads
# it in the `.keras` format.
#
# **Check your work:** in a terminal, run `grade ex10` from the folder that holds `exercises/`; if
# you work in the notebook, run `grade ex10 --path ex10_keras_classifier.ipynb` from this folder
# instead. Grading trains a small model for a few seconds.
#
# 앞의 실습에서는 모든 층을 NumPy로 직접 만들었습니다. Keras가 그 일을 대신해 줍니다.
# `keras.Sequential` 모델은 층을 쌓고, `compile`은 손실 함수와 옵티마이저를 정하며, `fit`은 ex08의
# 학습 루프(미니배치, 에폭, 검증 세트)를 실행하고, `save`는 학습된 모델을 파일 하나에 기록합니다. 이
# 실습에서는 문제의 종류마다 출력층과 손실 함수를 고르고, MNIST 분류기를 만들어 시험 정확도 0.97
# 이상으로 학습시킨 뒤, `.keras` 형식으로 저장하고 다시 불러옵니다.
#
# **채점 방법:** 터미널을 열고 `exercises/` 폴더가 들어 있는 위치에서 `grade ex10`을 실행하세요.
# 노트북에서 작업한다면 이 폴더에서 `grade ex10 --path ex10_keras_classifier.ipynb`를 실행합니다.
# 채점할 때 작은 모델을 몇 초 동안 학습시킵니다.

# %%
"""ex10 Keras classifier: output layers and losses, training, saving and loading."""

import keras
import numpy as np

# %% [markdown]
# ## The output layer and the loss go together
#
# The last layer's activation decides what the network outputs, and the loss must fit it:
#
# * regression (a real number): 1 unit, `"linear"` (the identity), loss `"mse"`;
# * binary classification (yes or no): 1 unit, `"sigmoid"` (a probability), loss
#   `"binary_crossentropy"`;
# * multi-class (one of `n_classes`): `n_classes` units, `"softmax"` (probabilities summing to
#   1), loss `"sparse_categorical_crossentropy"` (integer labels) or `"categorical_crossentropy"`
#   (one-hot labels).
#
# A softmax over a single unit always outputs 1, and a sigmoid per class does not make the
# classes compete, so the pairs cannot be mixed. Raise a `ValueError` for any other task.
#
# ## 출력층과 손실 함수는 짝을 이룹니다
#
# 마지막 층의 활성화 함수가 신경망의 출력을 결정하고, 손실 함수는 그 출력에 맞아야 합니다.
# 회귀(실수 하나)는 유닛 1개, `"linear"`(항등 함수), `"mse"`; 이진 분류(예/아니오)는 유닛 1개,
# `"sigmoid"`(확률), `"binary_crossentropy"`; 다중 분류(`n_classes`개 중 하나)는 유닛
# `n_classes`개, `"softmax"`(합이 1인 확률), 정수 레이블이면 `"sparse_categorical_crossentropy"`,
# 원-핫 레이블이면 `"categorical_crossentropy"`입니다. 유닛 하나에 소프트맥스를 적용하면 출력은
# 항상 1이고, 클래스마다 시그모이드를 쓰면 클래스끼리 경쟁하지 않으므로 짝을 섞으면 안 됩니다.
# 그 밖의 문제 종류에는 `ValueError`를 발생시키세요.


# %%
def output_layer_for(task, n_classes):
    """The output layer and loss for a kind of task.

    Args:
        task: "regression", "binary" or "multiclass".
        n_classes: number of classes (used for "multiclass" only).
    Returns:
        A tuple ``(units, activation, loss)``: ``(1, "linear", "mse")`` for "regression",
        ``(1, "sigmoid", "binary_crossentropy")`` for "binary", ``(n_classes, "softmax",
        "sparse_categorical_crossentropy")`` (or "categorical_crossentropy") for "multiclass".
    Raises:
        ValueError: for any other task.
    """
    raise NotImplementedError("output_layer_for is not implemented yet")


# %% [markdown]
# ## Building the classifier
#
# `build_classifier` returns a **compiled** `keras.Sequential`: `keras.Input(input_shape)`, a
# `Flatten` layer (a 28x28 image becomes 784 values, as `load_mnist(flatten=True)` did), hidden
# `Dense` layers with ReLU (a `Dropout` layer helps against overfitting), and the output layer
# `output_layer_for("multiclass", n_classes)` gives: `Dense(n_classes, activation="softmax")`.
# Compile it with the `"adam"` optimizer, that task's loss and `metrics=["accuracy"]` (the
# learning curves below plot it). The model expects pixels scaled to $[0, 1]$.
#
# ## 분류기 만들기
#
# `build_classifier`는 **컴파일된** `keras.Sequential`을 반환합니다: `keras.Input(input_shape)`,
# `Flatten` 층(28x28 이미지가 `load_mnist(flatten=True)`처럼 784개 값이 됩니다), ReLU를 쓰는 은닉
# `Dense` 층(`Dropout` 층은 과대적합을 줄여 줍니다), 그리고 `output_layer_for("multiclass",
# n_classes)`가 알려 주는 출력층 `Dense(n_classes, activation="softmax")`입니다. `"adam"`
# 옵티마이저, 그 문제의 손실 함수, `metrics=["accuracy"]`(아래 학습 곡선에 그립니다)로 컴파일하세요.
# 모델의 입력은 $[0, 1]$ 범위로 조정한 픽셀입니다.


# %%
def build_classifier(input_shape=(28, 28), n_classes=10):
    """A compiled classifier: Input, Flatten, hidden Dense layers, Dense(n_classes, softmax).

    Args:
        input_shape: shape of one input, e.g. (28, 28) for an MNIST image (pixels in [0, 1]).
        n_classes: number of classes.
    Returns:
        A compiled ``keras.Sequential`` whose last layer is ``Dense(n_classes,
        activation="softmax")``; for a batch of shape (N, *input_shape) it predicts an array of
        shape (N, n_classes) whose rows sum to 1. Loss: a categorical cross-entropy (this one:
        "sparse_categorical_crossentropy", integer labels); metric "accuracy".
    """
    raise NotImplementedError("build_classifier is not implemented yet")


# %% [markdown]
# ## Training
#
# `model.fit(x, y, epochs=..., batch_size=..., validation_split=...)` is the training loop of
# ex08: it cuts the data into batches of `batch_size`, makes `epochs` passes over it, and keeps
# the last `validation_split` fraction of the samples aside to measure the loss and accuracy on
# data it does not train on. It returns a `History` whose `history` dict holds one value per
# epoch for `loss`, `accuracy`, `val_loss` and `val_accuracy`. Pass every argument on and
# return that `History`.
#
# ## 학습
#
# `model.fit(x, y, epochs=..., batch_size=..., validation_split=...)`은 ex08의 학습 루프입니다.
# 데이터를 `batch_size`개씩 배치로 나누고, 데이터 전체를 `epochs`번 반복하며, 마지막
# `validation_split` 비율의 샘플은 학습에 쓰지 않고 손실과 정확도를 재는 데 씁니다. 반환값
# `History`의 `history` 딕셔너리에는 에폭마다 `loss`, `accuracy`, `val_loss`, `val_accuracy`
# 값이 하나씩 들어 있습니다. 인수를 모두 넘겨주고 그 `History`를 반환하세요.


# %%
def train_classifier(model, x_train, y_train, epochs, batch_size, validation_split=0.2):
    """Fit ``model`` and return the Keras ``History``.

    Args:
        model: a compiled Keras model.
        x_train: inputs, shape (N, *input_shape).
        y_train: labels in the format the model's loss expects: integers of shape (N,) for
            "sparse_categorical_crossentropy", one-hot of shape (N, n_classes) for
            "categorical_crossentropy".
        epochs: number of passes over the training data.
        batch_size: samples per weight update.
        validation_split: fraction of the samples (the last ones) kept for validation.
    Returns:
        The ``keras.callbacks.History`` that ``model.fit`` returns.
    """
    raise NotImplementedError("train_classifier is not implemented yet")


# %% [markdown]
# ## Saving and loading
#
# A trained model is worth keeping. `model.save(path)` with a path ending in `.keras` writes one
# zip file holding the architecture (`config.json`), the weights and the optimizer's state;
# `keras.models.load_model(path)` rebuilds the model from it, ready to predict (and to train
# further). Saving only the weights (`save_weights`) or in the old HDF5 format (`.h5`) is not
# what is asked: the loaded model must predict exactly what the saved one did.
#
# ## 저장과 불러오기
#
# 학습한 모델은 보관할 가치가 있습니다. `.keras`로 끝나는 경로로 `model.save(path)`를 호출하면
# 구조(`config.json`), 가중치, 옵티마이저 상태를 담은 zip 파일 하나가 기록되고,
# `keras.models.load_model(path)`는 그 파일에서 모델을 다시 만들어 바로 예측(또는 추가 학습)할 수
# 있게 합니다. 가중치만 저장하거나(`save_weights`) 예전 HDF5 형식(`.h5`)으로 저장하면 안 됩니다.
# 불러온 모델은 저장한 모델과 정확히 같은 값을 예측해야 합니다.


# %%
def save_model(model, path):
    """Save ``model`` to ``path`` in the ``.keras`` format.

    Args:
        model: a Keras model.
        path: file name ending in ".keras".
    Returns:
        None; the file at ``path`` is a .keras (zip) archive.
    """
    raise NotImplementedError("save_model is not implemented yet")


# %%
def load_model(path):
    """Load the model saved at ``path`` by ``save_model``.

    Args:
        path: file name of a ``.keras`` archive.
    Returns:
        The Keras model; it predicts what the saved model did.
    """
    raise NotImplementedError("load_model is not implemented yet")


# %% [markdown]
# ## Training on MNIST and the learning curves
#
# Once the grader is happy, run the next cell. It loads MNIST as `keras.datasets.mnist` does
# (from the course's files, without downloading), scales the pixels to $[0, 1]$, trains for 10
# epochs in batches of 128 with 20% of the training images kept for validation, and plots the
# learning curves: the loss and the accuracy per epoch, on the training and the validation data.
# The test accuracy should reach 0.97 or more (about a minute). When the validation loss stops
# falling while the training loss keeps falling, the model starts to overfit. It then saves the
# model and checks that the loaded copy predicts the same. This runs only when the file is run as
# a notebook or a script, not when the grader imports it (`if __name__ == "__main__":`).
#
# ## MNIST로 학습하고 학습 곡선 그리기
#
# 채점기를 통과하면 다음 셀을 실행하세요. `keras.datasets.mnist`와 같은 형태로 MNIST를
# 읽고(강의 파일에서 읽으므로 내려받지 않습니다), 픽셀을 $[0, 1]$ 범위로 조정한 뒤, 학습 이미지의
# 20%를 검증용으로 떼어 두고 128개짜리 배치로 10 에폭 학습시킨 다음 학습 곡선을 그립니다: 학습
# 데이터와 검증 데이터에 대한 에폭별 손실과 정확도입니다. 시험 정확도는 0.97 이상이어야 합니다(약
# 1분). 학습 손실은 계속 줄어드는데 검증 손실이 더 이상 줄지 않으면 모델이 과대적합되기 시작한
# 것입니다. 마지막으로 모델을 저장하고, 불러온 모델이 같은 값을 예측하는지 확인합니다. 이 코드는
# 파일을 노트북이나 스크립트로 실행할 때만 돌고, 채점기가 import할 때는 돌지 않습니다
# (`if __name__ == "__main__":`).

# %%
if __name__ == "__main__":
    import matplotlib.pyplot as plt

    from dataset.mnist import load_data

    (x_train, y_train), (x_test, y_test) = load_data()
    x_train, x_test = x_train / 255.0, x_test / 255.0

    keras.utils.set_random_seed(0)
    model = build_classifier()
    model.summary()
    history = train_classifier(model, x_train, y_train, epochs=10, batch_size=128)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {test_accuracy:.4f} (target: at least 0.97)")

    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = np.arange(1, len(history.history["loss"]) + 1)
    for axes, key in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.plot(epochs, history.history[key], "o-", label="train")
        axes.plot(epochs, history.history["val_" + key], "s--", label="validation")
        axes.set_xlabel("epoch")
        axes.set_ylabel(key)
        axes.legend()
    figure.suptitle("Learning curves")
    plt.show()

    save_model(model, "mnist_classifier.keras")
    loaded = load_model("mnist_classifier.keras")
    same = np.allclose(model.predict(x_test[:100], verbose=0),
                       loaded.predict(x_test[:100], verbose=0))
    print(f"the loaded model predicts the same: {same}")
