"""ex01 activations: learners' mistakes and correct idioms, as they write them."""

from judgement import Buggy, Correct

M = "ex01_activations"
STEP = "step_function matches the reference"
SIG = "sigmoid matches the reference"
SIG_GRAD = "sigmoid_grad matches the reference"
SIG_NUM = "sigmoid_grad agrees with a numerical derivative of sigmoid"
TANH = "tanh matches the reference"
RELU_GRAD = "relu_grad matches the reference away from 0"
RELU_GRAD_0 = "relu_grad is 0 or 1 at exactly 0"
RELU_NUM = "relu_grad agrees with a numerical derivative of relu"
LEAKY = "leaky_relu matches the reference (default and given alpha)"
ELU = "elu matches the reference (default and given alpha)"
ELU_GRAD = "elu_grad matches the reference (default and given alpha)"
ELU_NUM = "elu_grad agrees with a numerical derivative of elu"
SOFTMAX = "softmax matches the reference (1-D and batch)"
SUMS = "softmax rows sum to 1"
STABLE = "softmax is stable for inputs of +-1000"
SHIFT = "softmax is shift invariant"

BUGGY = [
    Buggy("the book's step_function with np.int (removed in NumPy 1.24)", M, {
        "step_function": """
            def step_function(x):
                return np.array(x > 0, dtype=np.int)
            """}, ("np.int removed",), (STEP, "step_function is 0 at exactly 0")),
    Buggy("relu_grad with np.zeros(x)", M, {
        "relu_grad": """
            def relu_grad(x):
                grad = np.zeros(x)
                grad[x >= 0] = 1
                return grad
            """}, ("np.zeros(x) instead of np.zeros_like(x)",),
        (RELU_GRAD, RELU_GRAD_0, RELU_NUM)),
    Buggy("softmax of a batch without keepdims", M, {
        "softmax": """
            def softmax(x):
                x = np.asarray(x, dtype=float)
                c = np.max(x, axis=-1)
                e = np.exp(x - c)
                return e / np.sum(e, axis=-1)
            """}, ("missing keepdims",), (SOFTMAX, SUMS, STABLE, SHIFT)),
    Buggy("sigmoid_grad as sigmoid(x) * (1 - x)", M, {
        "sigmoid_grad": """
            def sigmoid_grad(x):
                return sigmoid(x) * (1 - x)
            """}, ("sigmoid_grad mixes input and output",), (SIG_GRAD, SIG_NUM)),
    Buggy("step_function for scalars only (if x > 0)", M, {
        "step_function": """
            def step_function(x):
                if x > 0:
                    return 1
                else:
                    return 0
            """}, ("if on an array",), (STEP, "step_function is 0 at exactly 0")),
    Buggy("elu_grad returning elu", M, {
        "elu_grad": """
            def elu_grad(x, alpha=1.0):
                return np.where(x > 0, x, alpha * (np.exp(x) - 1))
            """}, ("returns elu",), (ELU_GRAD, ELU_NUM)),
    Buggy("relu_grad returning x", M, {
        "relu_grad": """
            def relu_grad(x):
                return np.asarray(x, dtype=float).copy()
            """}, ("returns identity_function",), (RELU_GRAD, RELU_GRAD_0, RELU_NUM)),
    Buggy("leaky_relu with alpha hard-coded", M, {
        "leaky_relu": """
            def leaky_relu(x, alpha=0.01):
                return np.where(x > 0, x, 0.01 * x)
            """}, ("alpha ignored",), (LEAKY,)),
    Buggy("elu with a wrong default alpha", M, {
        "elu": """
            def elu(x, alpha=0.5):
                return np.where(x > 0, x, alpha * (np.exp(x) - 1))
            """}, ("wrong default",), (ELU,)),
    Buggy("tanh through exp, which overflows", M, {
        "tanh": """
            def tanh(x):
                return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
            """}, ("overflow",), (TANH,)),
    Buggy("softmax computed in place (x -= max)", M, {
        "softmax": """
            def softmax(x):
                x -= np.max(x, axis=-1, keepdims=True)
                return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
            """}, ("modifies its input",), (SOFTMAX,)),
    Buggy("sigmoid doubled", M, {
        "sigmoid": """
            def sigmoid(x):
                return 2 / (1 + np.exp(-x))
            """, "sigmoid_grad": """
            def sigmoid_grad(x):
                s = 1 / (1 + np.exp(-x))
                return s * (1 - s)
            """}, ("factor 2",), (SIG, "sigmoid gives 0 and 1 at -1000 and 1000, never NaN")),
    Buggy("softmax normalising over axis 0 (columns)", M, {
        "softmax": """
            def softmax(x):
                x = np.asarray(x, dtype=float)
                e = np.exp(x - np.max(x, axis=0, keepdims=True))
                return e / np.sum(e, axis=0, keepdims=True)
            """}, ("softmax over the wrong axis",), (SOFTMAX, SUMS, STABLE, SHIFT)),
    Buggy("tanh_grad as 1 - x**2 (the formula on tanh's output)", M, {
        "tanh_grad": """
            def tanh_grad(x):
                return 1 - x ** 2
            """}, ("tanh_grad on the output",),
        ("tanh_grad matches the reference",
         "tanh_grad agrees with a numerical derivative of tanh")),
]

CORRECT = [
    Correct("the book's text step_function (y = x > 0; y.astype(int))", M, {
        "step_function": """
            def step_function(x):
                y = x > 0
                return y.astype(int)
            """}),
    Correct("step_function with np.heaviside", M, {
        "step_function": """
            def step_function(x):
                return np.heaviside(x, 0)
            """}),
    Correct("relu_grad as a boolean mask", M, {
        "relu_grad": """
            def relu_grad(x):
                return x > 0
            """}),
    Correct("sigmoid with np.clip against overflow", M, {
        "sigmoid": """
            def sigmoid(x):
                return 1 / (1 + np.exp(-np.clip(x, -500, 500)))
            """}),
    Correct("the book's 2-D softmax (transposed)", M, {
        "softmax": """
            def softmax(x):
                if x.ndim == 2:
                    x = x.T
                    x = x - np.max(x, axis=0)
                    y = np.exp(x) / np.sum(np.exp(x), axis=0)
                    return y.T
                x = x - np.max(x)
                return np.exp(x) / np.sum(np.exp(x))
            """}),
    Correct("step_function with np.where", M, {
        "step_function": """
            def step_function(x):
                return np.where(np.asarray(x) > 0, 1, 0)
            """}),
    Correct("leaky_relu with np.where", M, {
        "leaky_relu": """
            def leaky_relu(x, alpha=0.01):
                x = np.asarray(x, dtype=float)
                return np.where(x > 0, x, alpha * x)
            """}),
    Correct("the book's sigmoid, 1 / (1 + np.exp(-x)) (overflows to the right 0)", M, {
        "sigmoid": """
            def sigmoid(x):
                return 1 / (1 + np.exp(-x))
            """}),
    Correct("relu_grad as the book's mask, 1 at 0 too (grad[x >= 0] = 1)", M, {
        "relu_grad": """
            def relu_grad(x):
                grad = np.zeros_like(x)
                grad[x >= 0] = 1
                return grad
            """}),
]
