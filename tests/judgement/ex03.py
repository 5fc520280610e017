"""ex03 numerical gradient: learners' mistakes and correct idioms, as they write them."""

from judgement import Buggy, Correct

M = "ex03_gradient"
DIFF_BOOK = "numerical_diff matches the book's examples (0.2 and 0.3)"
DIFF_CUBIC = "numerical_diff is a central difference (exact to 1e-7 on x**3)"
GRAD_BOOK = "numerical_gradient matches the book's examples ([6, 8], ...)"
GRAD_CUBIC = "numerical_gradient is a central difference (exact to 1e-7 on sum(x**3))"
GRAD_SHAPES = "numerical_gradient works on 2-D and 3-D arrays"
RESTORE = "numerical_gradient restores x exactly"
CONVERGES = "gradient_descent converges to the minimum of a quadratic"
ARGUMENTS = "gradient_descent follows lr and step_num (defaults 0.01 and 100)"
INIT = "gradient_descent leaves init_x unchanged"


def _gradient(loop: str, body: str = "") -> str:
    """A numerical_gradient looping with ``loop`` (over ``idx``); ``body`` replaces the
    central difference of one element."""
    body = body or """
                    tmp = x[idx]
                    x[idx] = tmp + h
                    fxh1 = f(x)
                    x[idx] = tmp - h
                    fxh2 = f(x)
                    grad[idx] = (fxh1 - fxh2) / (2 * h)
                    x[idx] = tmp"""
    return f"""
            def numerical_gradient(f, x):
                h = 1e-4
                grad = np.zeros_like(x)
                {loop}{body}
                return grad
            """


BUGGY = [
    Buggy("numerical_diff with abs() (a positive slope only)", M, {
        "numerical_diff": """
            def numerical_diff(f, x):
                h = 1e-4
                return abs(f(x + h) - f(x - h)) / (2 * h)
            """}, ("absolute value",), (DIFF_BOOK,)),
    Buggy("numerical_gradient over range(x.shape[0]): whole rows move at once", M, {
        "numerical_gradient": _gradient("for idx in range(x.shape[0]):")},
        ("whole rows at once",), (GRAD_SHAPES,)),
    Buggy("numerical_gradient moving every element at once", M, {
        "numerical_gradient": """
            def numerical_gradient(f, x):
                h = 1e-4
                fxh1 = f(x + h)
                fxh2 = f(x - h)
                return (fxh1 - fxh2) / (2 * h) * np.ones_like(x)
            """}, ("every element at once",), (GRAD_BOOK, GRAD_CUBIC, GRAD_SHAPES)),
    Buggy("numerical_gradient with np.zeros(x)", M, {
        "numerical_gradient": _gradient("for idx in np.ndindex(x.shape):").replace(
            "np.zeros_like(x)", "np.zeros(x)")},
        ("np.zeros(x) instead of np.zeros_like(x)",),
        (GRAD_BOOK, GRAD_CUBIC, GRAD_SHAPES, RESTORE)),
    Buggy("gradient_descent returning (x, x_history) as ch04/gradient_method.py", M, {
        "gradient_descent": """
            def gradient_descent(f, init_x, lr=0.01, step_num=100):
                x = init_x.copy()
                x_history = []
                for i in range(step_num):
                    x_history.append(x.copy())
                    x -= lr * numerical_gradient(f, x)
                return x, np.array(x_history)
            """}, ("returns the history",), (CONVERGES, ARGUMENTS)),
    Buggy("gradient_descent changing init_x (x = init_x)", M, {
        "gradient_descent": """
            def gradient_descent(f, init_x, lr=0.01, step_num=100):
                x = init_x
                for i in range(step_num):
                    x -= lr * numerical_gradient(f, x)
                return x
            """}, ("init_x modified",), (INIT,)),
    Buggy("gradient_descent with a view as the copy (x = init_x[:])", M, {
        "gradient_descent": """
            def gradient_descent(f, init_x, lr=0.01, step_num=100):
                x = init_x[:]
                for i in range(step_num):
                    x -= lr * numerical_gradient(f, x)
                return x
            """}, ("init_x modified",), (INIT,)),
    Buggy("gradient_descent ignoring lr", M, {
        "gradient_descent": """
            def gradient_descent(f, init_x, lr=0.01, step_num=100):
                x = init_x.copy()
                for i in range(step_num):
                    x -= 0.01 * numerical_gradient(f, x)
                return x
            """}, ("lr ignored",), (CONVERGES, ARGUMENTS)),
    Buggy("a forward difference in numerical_gradient, right gradient_descent", M, {
        "numerical_gradient": _gradient("for idx in np.ndindex(x.shape):", """
                    tmp = x[idx]
                    fx = f(x)
                    x[idx] = tmp + h
                    fxh = f(x)
                    grad[idx] = (fxh - fx) / h
                    x[idx] = tmp""")},
        ("forward difference",), (GRAD_CUBIC,)),
    Buggy("numerical_diff with h = 1e-50 (the book's rounding-error example)", M, {
        "numerical_diff": """
            def numerical_diff(f, x):
                h = 1e-50
                return (f(x + h) - f(x)) / h
            """}, ("h too small",), (DIFF_BOOK, DIFF_CUBIC)),
    Buggy("numerical_diff as a forward difference", M, {
        "numerical_diff": """
            def numerical_diff(f, x):
                h = 1e-4
                return (f(x + h) - f(x)) / h
            """}, ("forward difference",), (DIFF_CUBIC,)),
    Buggy("numerical_diff divided by h, not 2 * h", M, {
        "numerical_diff": """
            def numerical_diff(f, x):
                h = 1e-4
                return (f(x + h) - f(x - h)) / h
            """}, ("divided by h",), (DIFF_BOOK, DIFF_CUBIC)),
    Buggy("gradient_descent adding the gradient (x += lr * grad)", M, {
        "gradient_descent": """
            def gradient_descent(f, init_x, lr=0.01, step_num=100):
                x = init_x.copy()
                for i in range(step_num):
                    grad = numerical_gradient(f, x)
                    x += lr * grad
                return x
            """}, ("ascends",), (CONVERGES, ARGUMENTS)),
]

CORRECT = [
    Correct("the book's common/gradient.py (np.nditer, float(tmp_val) + h)", M, {
        "numerical_gradient": """
            def numerical_gradient(f, x):
                h = 1e-4
                grad = np.zeros_like(x)
                it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
                while not it.finished:
                    idx = it.multi_index
                    tmp_val = x[idx]
                    x[idx] = float(tmp_val) + h
                    fxh1 = f(x)
                    x[idx] = tmp_val - h
                    fxh2 = f(x)
                    grad[idx] = (fxh1 - fxh2) / (2*h)
                    x[idx] = tmp_val
                    it.iternext()
                return grad
            """}),
    Correct("gradient_descent with x = x - lr * grad (no copy needed)", M, {
        "gradient_descent": """
            def gradient_descent(f, init_x, lr=0.01, step_num=100):
                x = init_x
                for _ in range(step_num):
                    x = x - lr * numerical_gradient(f, x)
                return x
            """}),
]
