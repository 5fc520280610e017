"""ex02 losses: learners' mistakes and correct idioms, as they write them."""

from judgement import Buggy, Correct

M = "ex02_losses"
SSE = "sum_squared_error matches the reference"
MSE = "mean_squared_error matches the reference"
BCE = "binary_cross_entropy matches the reference"
CEE_HOT = "cross_entropy_error matches the reference (one-hot targets)"
CEE_LABELS = "cross_entropy_error matches the reference (integer labels)"
CEE_ZERO = "cross_entropy_error is finite at a probability of exactly 0"
CEE_BOOK_HEAD = """
            def cross_entropy_error(y, t):
                if y.ndim == 1:
                    t = t.reshape(1, t.size)
                    y = y.reshape(1, y.size)"""

BUGGY = [
    Buggy("cross_entropy_error(t, y): arguments swapped", M, {
        "cross_entropy_error": """
            def cross_entropy_error(t, y):
                if y.ndim == 1:
                    t = t.reshape(1, t.size)
                    y = y.reshape(1, y.size)
                if t.size == y.size:
                    t = t.argmax(axis=1)
                batch_size = y.shape[0]
                return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size
            """}, ("arguments swapped",), (CEE_HOT, CEE_LABELS)),
    Buggy("the Korean edition's 평균 제곱 오차 (0.5 * sum)", M, {
        "mean_squared_error": """
            def mean_squared_error(y, t):
                return 0.5 * np.sum((y - t) ** 2)
            """}, ("mse as the book's sum of squared errors",), (MSE,)),
    Buggy("mean_squared_error as sum / len(y)", M, {
        "mean_squared_error": """
            def mean_squared_error(y, t):
                return np.sum((y - t) ** 2) / len(y)
            """}, ("factor D",), (MSE,)),
    Buggy("one-hot-only cross-entropy (the book's first version)", M, {
        "cross_entropy_error": """
            def cross_entropy_error(y, t):
                delta = 1e-7
                return -np.sum(t * np.log(y + delta)) / (y.shape[0] if y.ndim == 2 else 1)
            """}, ("cross-entropy only for one-hot labels",), (CEE_LABELS,)),
    Buggy("sum_squared_error without the 0.5", M, {
        "sum_squared_error": """
            def sum_squared_error(y, t):
                return np.sum((y - t) ** 2)
            """}, ("sum_squared_error without the 0.5",), (SSE,)),
    Buggy("binary cross-entropy summed", M, {
        "binary_cross_entropy": """
            def binary_cross_entropy(y, t):
                return -np.sum(t * np.log(y + 1e-7) + (1 - t) * np.log(1 - y + 1e-7))
            """}, ("binary cross-entropy not averaged",),
        (BCE, "binary_cross_entropy is finite at probabilities of exactly 0 and 1")),
    Buggy("the book's batch cross-entropy without / batch_size", M, {
        "cross_entropy_error": CEE_BOOK_HEAD + """
                if t.size == y.size:
                    t = t.argmax(axis=1)
                batch_size = y.shape[0]
                return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7))
            """}, ("cross-entropy not averaged over the batch",),
        (CEE_HOT, CEE_LABELS, CEE_ZERO)),
    Buggy("cross-entropy without the 1e-7 guard", M, {
        "cross_entropy_error": CEE_BOOK_HEAD + """
                if t.size == y.size:
                    t = t.argmax(axis=1)
                batch_size = y.shape[0]
                return -np.sum(np.log(y[np.arange(batch_size), t])) / batch_size
            """}, ("cross-entropy without the 1e-7 guard",), (CEE_ZERO,)),
    Buggy("the book's one-hot batch cross-entropy, t * np.log(y + 1e-7)", M, {
        "cross_entropy_error": CEE_BOOK_HEAD + """
                batch_size = y.shape[0]
                return -np.sum(t * np.log(y + 1e-7)) / batch_size
            """}, ("cross-entropy only for one-hot labels",), (CEE_LABELS,)),
]

CORRECT = [
    Correct("cross-entropy clipping y to [1e-7, 1 - 1e-7]", M, {
        "cross_entropy_error": """
            def cross_entropy_error(y, t):
                y = np.clip(y, 1e-7, 1 - 1e-7)
                if y.ndim == 1:
                    t = t.reshape(1, t.size)
                    y = y.reshape(1, y.size)
                if t.size == y.size:
                    t = t.argmax(axis=1)
                n = y.shape[0]
                return -np.sum(np.log(y[np.arange(n), t])) / n
            """}),
    Correct("binary cross-entropy with np.clip", M, {
        "binary_cross_entropy": """
            def binary_cross_entropy(y, t):
                y = np.clip(y, 1e-7, 1 - 1e-7)
                return -np.mean(t * np.log(y) + (1 - t) * np.log(1 - y))
            """}),
    Correct("mean_squared_error as one np.mean over every element", M, {
        "mean_squared_error": """
            def mean_squared_error(y, t):
                return np.mean((np.asarray(y) - np.asarray(t)) ** 2)
            """}),
]
