"""The exercises' checks answer back: each passes its worked solution and
names the mistake in typical wrong answers.

The checks come from the notebook's cell tagged `exercise-checks`, the
solutions from its cells tagged `solution-code`, both loaded with the
lesson's own functions (`model-code`) through the shared loader. Each wrong
answer below is one a learner might write; the test names the words the
check's message must contain.
"""

import numpy as np
import pytest
from notebook_code import notebook_code

TAGS = frozenset({"data-code", "model-code", "exercise-checks", "solution-code"})


@pytest.fixture(scope="module")
def nb():
    return notebook_code(tags=TAGS)


def said(nb, check, answer, capsys):
    nb[check](answer)
    return capsys.readouterr().out


# --- Write the backward pass (section 3) ----------------------------------


def test_backward_check_passes_the_lessons_backward(nb, capsys):
    assert said(nb, "check_backward", nb["backward"], capsys).startswith("Right")


def missing_dropout_factor(image, label, hidden, output, output_weights, mask):
    output_delta = output - label
    gate = (hidden > 0) * mask  # the 2 of the forward pass is missing
    hidden_delta = (output_delta @ output_weights.T) * gate
    return np.outer(image, hidden_delta), np.outer(hidden, output_delta)


def transposed_output(image, label, hidden, output, output_weights, mask):
    output_delta = output - label
    gate = (hidden > 0) * mask * 2
    hidden_delta = (output_delta @ output_weights.T) * gate
    return np.outer(image, hidden_delta), np.outer(output_delta, hidden)


def gate_always_open(image, label, hidden, output, output_weights, mask):
    output_delta = output - label
    gate = (hidden >= 0) * mask * 2  # hidden is never negative
    hidden_delta = (output_delta @ output_weights.T) * gate
    return np.outer(image, hidden_delta), np.outer(hidden, output_delta)


def flipped_sign(image, label, hidden, output, output_weights, mask):
    output_delta = label - output
    gate = (hidden > 0) * mask * 2
    hidden_delta = (output_delta @ output_weights.T) * gate
    return np.outer(image, hidden_delta), np.outer(hidden, output_delta)


@pytest.mark.parametrize(
    "wrong, words",
    [
        (missing_dropout_factor, ["hidden weights", "half", "factor of 2"]),
        (transposed_output, ["output weights", "transposed", "(10, 100)"]),
        (gate_always_open, ["hidden weights", "units that were off", "> 0"]),
        (flipped_sign, ["hidden weights", "output weights", "sign"]),
    ],
)
def test_backward_check_names_the_mistake(nb, capsys, wrong, words):
    message = said(nb, "check_backward", wrong, capsys)
    assert "Right" not in message, message
    for word in words:
        assert word in message, (word, message)
    if wrong is not flipped_sign:  # the other array is right: not blamed
        blamed = {"hidden weights", "output weights"} - {words[0]}
        assert blamed.pop() not in message, message


# --- A second hidden layer -------------------------------------------------


def test_second_layer_check_passes_the_solution(nb, capsys):
    solution = nb["deeper_loss_and_gradients"]
    assert said(nb, "check_second_layer", solution, capsys).startswith("Right")


def deeper_with(nb, change):
    """The worked solution, with one of its gradients changed."""

    def answer(params, images, targets):
        value, grads = nb["deeper_loss_and_gradients"](params, images, targets)
        return value, change(dict(grads))

    return answer


@pytest.mark.parametrize(
    "change, words",
    [
        (  # a missing 1/n on one weight array
            lambda grads: {**grads, "weights_2": grads["weights_2"] * 8},
            ["weights_2", "8 times", "1/n"],
        ),
        (  # a transposed product
            lambda grads: {**grads, "weights_3": grads["weights_3"].T},
            ["weights_3", "transposed"],
        ),
        (  # a bias gradient summed over the wrong axis
            lambda grads: {
                **grads,
                "bias_1": np.full_like(grads["bias_1"], grads["bias_1"].mean()),
            },
            ["bias_1", "relative error"],
        ),
        (  # one gradient forgotten
            lambda grads: {k: v for k, v in grads.items() if k != "bias_3"},
            ["no gradient for bias_3"],
        ),
    ],
)
def test_second_layer_check_names_the_mistake(nb, capsys, change, words):
    message = said(nb, "check_second_layer", deeper_with(nb, change), capsys)
    assert "Right" not in message, message
    for word in words:
        assert word in message, (word, message)


def test_second_layer_check_without_relu_derivative(nb, capsys):
    def no_relu_derivative(params, images, targets):
        first = nb["relu"](images @ params["weights_1"] + params["bias_1"])
        second = nb["relu"](first @ params["weights_2"] + params["bias_2"])
        scores = second @ params["weights_3"] + params["bias_3"]
        log_p = nb["log_softmax"](scores)
        value = -np.sum(targets * log_p) / len(images)
        scores_grad = (np.exp(log_p) - targets) / len(images)
        second_grad = scores_grad @ params["weights_3"].T  # relu' forgotten
        first_grad = second_grad @ params["weights_2"].T
        return value, {
            "weights_1": images.T @ first_grad,
            "bias_1": first_grad.sum(axis=0),
            "weights_2": first.T @ second_grad,
            "bias_2": second_grad.sum(axis=0),
            "weights_3": second.T @ scores_grad,
            "bias_3": scores_grad.sum(axis=0),
        }

    message = said(nb, "check_second_layer", no_relu_derivative, capsys)
    assert "weights_1" in message and "weights_3" not in message, message


# --- SGD with momentum -----------------------------------------------------


def test_momentum_check_passes_the_solution(nb, capsys):
    solution = nb["momentum_step"]
    assert said(nb, "check_momentum_step", solution, capsys).startswith("Right")


def momentum_on_copies(params, grads, velocity, step_size, momentum):
    for name, grad in grads.items():
        velocity[name] = momentum * velocity[name] - step_size * grad
        params[name] = params[name] + velocity[name]  # a new array: fine
    return None


def momentum_forgets_velocity(params, grads, velocity, step_size, momentum):
    for name, grad in grads.items():
        params[name] -= step_size * grad  # plain SGD: no velocity kept


def momentum_wrong_sign(params, grads, velocity, step_size, momentum):
    for name, grad in grads.items():
        velocity[name] *= momentum
        velocity[name] += step_size * grad
        params[name] += velocity[name]


def momentum_local_params(params, grads, velocity, step_size, momentum):
    for name, grad in grads.items():
        velocity[name] *= momentum
        velocity[name] -= step_size * grad
        weights = params[name] + velocity[name]  # never stored back
        del weights


def test_momentum_check_accepts_new_arrays_in_the_dictionaries(nb, capsys):
    message = said(nb, "check_momentum_step", momentum_on_copies, capsys)
    assert message.startswith("Right"), message


@pytest.mark.parametrize(
    "wrong, words",
    [
        (momentum_forgets_velocity, ["same size", "velocity"]),
        (momentum_wrong_sign, ["up the gradient"]),
        (momentum_local_params, ["did not change", "in place"]),
    ],
)
def test_momentum_check_names_the_mistake(nb, capsys, wrong, words):
    message = said(nb, "check_momentum_step", wrong, capsys)
    assert "Right" not in message, message
    for word in words:
        assert word in message, (word, message)


# --- The least sure right answers ------------------------------------------


def test_least_sure_check_passes_the_solution(nb, capsys):
    solution = nb["least_sure_right_answers"]
    assert said(nb, "check_least_sure", solution, capsys).startswith("Right")


def least_sure_including_mistakes(probabilities, labels, count):
    return np.argsort(probabilities.max(axis=1))[:count]


def most_sure_right(probabilities, labels, count):
    right = np.flatnonzero(probabilities.argmax(axis=1) == labels)
    return right[np.argsort(-probabilities[right].max(axis=1))][:count]


def least_sure_unsorted(probabilities, labels, count):
    right = np.flatnonzero(probabilities.argmax(axis=1) == labels)
    chosen = right[np.argsort(probabilities[right].max(axis=1))[:count]]
    return chosen[::-1]


@pytest.mark.parametrize(
    "wrong, words",
    [
        (least_sure_including_mistakes, ["mistakes", "right answers"]),
        (most_sure_right, ["not the least sure"]),
        (least_sure_unsorted, ["order", "least sure first"]),
        (lambda probabilities, labels, count: [0, 1], ["2 indices"]),
    ],
)
def test_least_sure_check_names_the_mistake(nb, capsys, wrong, words):
    message = said(nb, "check_least_sure", wrong, capsys)
    assert "Right" not in message, message
    for word in words:
        assert word in message, (word, message)


# --- Not answered yet --------------------------------------------------------


def not_written_yet(*args):
    raise NotImplementedError("your answer here")


@pytest.mark.parametrize(
    "check",
    [
        "check_backward",
        "check_second_layer",
        "check_momentum_step",
        "check_least_sure",
    ],
)
def test_an_unanswered_exercise_says_so_and_raises_nothing(nb, capsys, check):
    message = said(nb, check, not_written_yet, capsys)
    assert message.startswith("Not answered yet"), message


def test_an_answer_that_fails_is_reported_not_raised(nb, capsys):
    def broken(*args):
        return 1 / 0

    message = said(nb, "check_backward", broken, capsys)
    assert "ZeroDivisionError" in message, message


# --- Mistakes a reader made in JupyterLab, and the hint each gets ------------


def test_a_gradient_divided_once_too_often_is_not_told_to_divide(nb, capsys):
    def divided_twice(params, images, targets):
        value, grads = nb["deeper_loss_and_gradients"](params, images, targets)
        return value, {name: grad / len(images) for name, grad in grads.items()}

    message = said(nb, "check_second_layer", divided_twice, capsys)
    assert "divided once too often" in message, message
    assert "missing 1/n" not in message, message


def test_a_forgotten_second_relu_derivative_points_at_that_step(nb, capsys):
    def no_second_relu(params, images, targets):
        first = nb["relu"](images @ params["weights_1"] + params["bias_1"])
        second = nb["relu"](first @ params["weights_2"] + params["bias_2"])
        scores = second @ params["weights_3"] + params["bias_3"]
        log_p = nb["log_softmax"](scores)
        scores_grad = (np.exp(log_p) - targets) / len(images)
        second_grad = scores_grad @ params["weights_3"].T  # relu' forgotten
        first_grad = (second_grad @ params["weights_2"].T) * (first > 0)
        return -np.sum(targets * log_p) / len(images), {
            "weights_1": images.T @ first_grad,
            "bias_1": first_grad.sum(axis=0),
            "weights_2": first.T @ second_grad,
            "bias_2": second_grad.sum(axis=0),
            "weights_3": second.T @ scores_grad,
            "bias_3": scores_grad.sum(axis=0),
        }

    message = said(nb, "check_second_layer", no_second_relu, capsys)
    assert "step back into layer 2" in message, message


def test_momentum_without_the_step_size(nb, capsys):
    def no_step_size(params, grads, velocity, step_size, momentum):
        for name, grad in grads.items():
            velocity[name] = momentum * velocity[name] - grad
            params[name] += velocity[name]

    message = said(nb, "check_momentum_step", no_step_size, capsys)
    assert "10 times too long" in message and "step_size" in message, message


def test_least_sure_by_the_wrong_confidence(nb, capsys):
    def by_smallest_probability(probabilities, labels, count):
        right = np.flatnonzero(probabilities.argmax(axis=1) == labels)
        return right[np.argsort(probabilities[right].min(axis=1))[:count]]

    message = said(nb, "check_least_sure", by_smallest_probability, capsys)
    assert "not the least sure" in message and "largest" in message, message


def test_a_product_that_needs_a_transpose_is_named(nb, capsys):
    def no_transpose(image, label, hidden, output, output_weights, mask):
        output_delta = output - label
        hidden_delta = (output_delta @ output_weights) * (hidden > 0) * mask * 2
        return np.outer(image, hidden_delta), np.outer(hidden, output_delta)

    message = said(nb, "check_backward", no_transpose, capsys)
    assert "ValueError" in message and "transpose" in message, message
