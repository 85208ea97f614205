"""Contract tests for each piece of code that the lesson writes by hand.

Every function comes from the notebook's cells tagged `model-code` or `data-code`
(through the shared loader, `notebook_code`), and is checked on tiny inputs where
the right answer is known: a property that a careless one-line edit would break,
not a figure copied from a run. `read_idx` has its own file, test_idx_parser.py.

What the tests assume about names and signatures sits in the first section below,
so a change of signature in the notebook means one edit here.
"""

import copy
import fnmatch
import inspect
import math

import numpy as np
import pytest
from notebook_code import NOTEBOOK, notebook_code

# --- What these tests depend on, in one place --------------------------------

# Keys of the section 5 parameter dictionary (init_network, loss_and_gradients,
# adam_step, train_network).
PARAM_NAMES = ("hidden_weights", "hidden_bias", "output_weights", "output_bias")

# Pieces that are not functions in the notebook yet: the name, the signature the
# tests call, and what it must do.
PROPOSED = {
    "split_indices": (
        "split_indices(rng, count, validation_size) -> (fit_index, validation_index):"
        " shuffle the row numbers 0 .. count-1 with `rng` and return the last"
        " count - validation_size of them and the first validation_size"
    ),
    "confusion_matrix": (
        "confusion_matrix(true_labels, predicted_labels, num_classes=10) -> integer"
        " array of shape (num_classes, num_classes), indexed [true, predicted]"
    ),
}

SECTION3_FUNCTIONS = ("forward", "backward", "initial_weights", "train")


def run_train_network(nb, params, images, labels, validation, rng, **options):
    """train_network as the lesson calls it; returns (trained params, history)."""
    return nb["train_network"](
        params, (images, labels), validation, rng, show_progress=False, **options
    )


def run_loss_and_gradients(nb, params, images, targets, loss=None):
    """(loss, gradients by parameter name) for one batch, as train_network asks."""
    loss_and_gradients = lesson(nb, "loss_and_gradients")
    if loss is None:  # the lesson's default loss
        return loss_and_gradients(params, images, targets)
    return loss_and_gradients(params, images, targets, loss)


def run_section3_train(
    nb, weights, rng, data, epochs=4, learning_rate=0.05, dropout=True
):
    """Section 3's train(): data is (training images, training labels, test
    images, test labels); it trains `weights` in place."""
    hidden_weights, output_weights = weights
    training_images, training_labels, test_images, test_labels = data
    return lesson(nb, "train")(
        hidden_weights,
        output_weights,
        (training_images, training_labels),
        (test_images, test_labels),
        rng,
        epochs,
        learning_rate,
        dropout=dropout,
        show_progress=False,
    )


# --- Loading -------------------------------------------------------------------


@pytest.fixture(scope="module")
def nb():
    return notebook_code()


def lesson(nb, name):
    """The notebook's function `name`, or a failure that says what is missing."""
    if name in nb:
        return nb[name]
    if name in PROPOSED:
        why = (
            f"The notebook has no function `{name}` yet. Proposed for the lead: "
            f"{PROPOSED[name]}; in a cell tagged `model-code`."
        )
    elif name in SECTION3_FUNCTIONS:
        why = (
            f"Section 3's `{name}` is not in a cell tagged `model-code`. Tag its cell"
            " (a cell that also calls the function, as initial_weights' does, must"
            " first be split so the tagged cell only defines it)."
        )
    else:
        why = f"The notebook's tagged cells define no `{name}`."
    pytest.fail(why, pytrace=False)


# Every function the tagged cells define, and the tests below that pin it. A new
# function in a tagged cell fails test_every_tagged_function_is_covered until it
# is listed here with a test.
COVERED = {
    "read_idx": "test_idx_parser.py",
    "one_hot": "test_one_hot_*",
    "relu": "test_relu_*",
    "relu_derivative": "test_relu_derivative_*",
    "numerical_gradient": "test_numerical_gradient_*",
    "backward_errors": "test_backward_errors_*",
    "relative_error": "test_relative_error_*",
    "pixel_statistics": "test_pixel_statistics_*",
    "standardise": "test_standardise_*",
    "init_network": "test_init_network_*",
    "network_forward": "test_network_forward_*",
    "log_softmax": "test_log_softmax_*",
    "accuracy": "test_accuracy_*",
    "loss_and_gradients": "test_loss_and_gradients_*",
    "new_adam_state": "test_adam_*",
    "adam_step": "test_adam_*",
    "cosine_step_size": "test_cosine_*",
    "update_average": "test_update_average_*",
    "train_network": "test_train_network_*",
    "dropout_mask": "test_dropout_mask_*",
    "forward": "test_forward_*",
    "backward": "test_backward_*",
    "initial_weights": "test_initial_weights_*",
    "train": "test_section3_train_*",
    "evaluate": "test_evaluate_*",
    "split_indices": "test_split_*",
    "shift_batch": "test_shift_batch_*",
    "confusion_matrix": "test_confusion_matrix_*",
}


def test_every_tagged_function_is_covered(nb):
    defined = {
        name
        for name, value in nb.items()
        if inspect.isfunction(value)
        and value.__code__.co_filename.startswith(NOTEBOOK.name)
    }
    uncovered = sorted(defined - set(COVERED))
    assert not uncovered, (
        f"Tagged cells define {uncovered}, which no test in {__name__}.py checks: "
        "add a test of its contract and list it in COVERED."
    )
    tests_here = [name for name in globals() if name.startswith("test_")]
    missing = {
        function: pattern
        for function, pattern in COVERED.items()
        if pattern.endswith("*") and not fnmatch.filter(tests_here, pattern)
    }
    assert not missing, f"COVERED names tests that do not exist: {missing}"


def test_loader_names_a_tagged_cell_that_cannot_run_alone(tmp_path):
    notebook = tmp_path / "lesson.md"
    notebook.write_text(
        NOTEBOOK.read_text().split("---\n\n", 1)[0]  # the jupytext header
        + "---\n\n```{code-cell} ipython3\n:tags: [model-code]\n\n"
        + "def setup(rng):\n    return rng\n\n\nstart = setup(rng)\n```\n"
    )
    with pytest.raises(RuntimeError, match="'def setup") as raised:
        notebook_code(notebook)
    assert "NameError" in str(raised.value)
    assert "move the rest to an untagged cell" in str(raised.value)


# --- Small helpers -------------------------------------------------------------


def tiny_params(rng, inputs, hidden, outputs, dtype=np.float64):
    """Section 5 parameters of any size, biases not zero so that they matter."""
    shapes = ((inputs, hidden), (hidden,), (hidden, outputs), (outputs,))
    return {
        name: rng.standard_normal(shape).astype(dtype)
        for name, shape in zip(PARAM_NAMES, shapes)
    }


def easy_problem(rng, count, features=20, classes=10, dtype=np.float32):
    """Well separated clusters, one per class: any working trainer learns them."""
    centres = 4 * rng.standard_normal((classes, features))
    labels = rng.integers(0, classes, count)
    images = centres[labels] + rng.standard_normal((count, features))
    return images.astype(dtype), labels


def central_differences(loss_of, weights, step=1e-6):
    """Numerical gradient of loss_of() for every entry of `weights` (float64).

    Written independently of the notebook's numerical_gradient, so a fault in
    that helper cannot hide a fault in the gradient it checks.
    """
    slopes = np.empty_like(weights)
    for entry in np.ndindex(weights.shape):
        original = weights[entry]
        weights[entry] = original + step
        loss_up = loss_of()
        weights[entry] = original - step
        loss_down = loss_of()
        weights[entry] = original
        slopes[entry] = (loss_up - loss_down) / (2 * step)
    return slopes


def gradient_mismatch(hand, numeric):
    return np.linalg.norm(hand - numeric) / (
        np.linalg.norm(hand) + np.linalg.norm(numeric)
    )


def same_params(first, second):
    return first.keys() == second.keys() and all(
        np.array_equal(first[name], second[name]) for name in first
    )


# --- Data preparation ----------------------------------------------------------


def test_one_hot_of_each_digit_is_the_identity(nb):
    encoded = lesson(nb, "one_hot")(np.arange(10))
    assert encoded.dtype == np.float64
    assert np.array_equal(encoded, np.eye(10))


def test_one_hot_round_trips_through_argmax(nb):
    labels = np.array([3, 0, 9, 9, 5, 1, 7])
    encoded = lesson(nb, "one_hot")(labels)
    assert encoded.shape == (len(labels), 10)
    assert set(np.unique(encoded)) == {0.0, 1.0}
    assert np.array_equal(encoded.sum(axis=1), np.ones(len(labels)))
    assert np.array_equal(encoded.argmax(axis=1), labels)


def test_one_hot_honours_num_classes(nb):
    encoded = lesson(nb, "one_hot")(np.array([2, 0, 1, 2]), num_classes=3)
    assert np.array_equal(encoded, np.eye(3)[[2, 0, 1, 2]])


def test_pixel_statistics_are_pixel_means_and_one_spread(nb):
    images = np.array([[0.0, 10.0], [2.0, 10.0], [4.0, 16.0]])
    pixel_mean, pixel_spread = lesson(nb, "pixel_statistics")(images)
    assert np.allclose(pixel_mean, [2.0, 12.0])
    # Centred: [-2, -2], [0, -2], [2, 4]; their squares sum to 32 over 6 values.
    assert np.isclose(pixel_spread, math.sqrt(32 / 6))


def test_standardise_uses_the_statistics_it_is_given(nb):
    images = np.array([[5.0, 6.0], [7.0, 8.0]])
    before = images.copy()
    result = lesson(nb, "standardise")(images, np.array([1.0, 2.0]), 2.0)
    assert np.allclose(result, [[2.0, 2.0], [3.0, 3.0]])
    assert np.array_equal(images, before)
    # One image alone is standardised the same way as inside a batch.
    single = lesson(nb, "standardise")(images[1:], np.array([1.0, 2.0]), 2.0)
    assert np.allclose(single, [[3.0, 3.0]])


def test_standardise_with_fit_statistics_centres_the_fit_set(nb):
    rng = np.random.default_rng(1)
    fit = rng.random((50, 7)) * np.arange(1, 8)
    other = rng.random((30, 7)) + 5
    statistics = lesson(nb, "pixel_statistics")(fit)
    fit_inputs = lesson(nb, "standardise")(fit, *statistics)
    assert np.allclose(fit_inputs.mean(axis=0), 0, atol=1e-6)  # float32 statistics
    assert np.isclose(fit_inputs.std(), 1)
    # Another set keeps its offset from the fit set: it is not re-centred.
    other_inputs = lesson(nb, "standardise")(other, *statistics)
    expected_offset = (other.mean(axis=0) - fit.mean(axis=0)) / statistics[1]
    assert np.allclose(other_inputs.mean(axis=0), expected_offset)


def small_pictures(rng, count):
    """8-bit 28x28 pictures with a blank outer ring, as MNIST's nearly all are."""
    pictures = np.zeros((count, 28, 28), np.uint8)
    pictures[:, 1:-1, 1:-1] = rng.integers(0, 256, (count, 26, 26))
    return pictures.reshape(count, 784)


def test_shift_batch_moves_the_ink_and_keeps_the_background(nb):
    rng = np.random.default_rng(21)
    pictures = small_pictures(rng, 6)
    pixel_mean = rng.uniform(0, 100, 784).astype(np.float32)
    standardise = lesson(nb, "standardise")
    blank = standardise(np.zeros(784, np.uint8), pixel_mean, np.float32(80))
    inputs = standardise(pictures, pixel_mean, np.float32(80))
    seen = set()
    for seed in range(40):
        offset = tuple(np.random.default_rng(seed).integers(-1, 2, size=2))
        moved = lesson(nb, "shift_batch")(inputs, np.random.default_rng(seed), blank)
        rolled = np.roll(pictures.reshape(6, 28, 28), offset, axis=(1, 2))
        expected = standardise(rolled.reshape(6, 784), pixel_mean, np.float32(80))
        assert moved.shape == inputs.shape and moved.dtype == np.float32
        assert np.allclose(moved, expected, atol=1e-5), offset
        seen.add(offset)
    assert seen == {(down, right) for down in (-1, 0, 1) for right in (-1, 0, 1)}


def test_shift_batch_moves_no_further_than_max_shift(nb):
    pictures = np.zeros((1, 784), np.float32)
    pictures[0, 14 * 28 + 14] = 1  # one inked pixel in the middle
    for seed in range(30):
        moved = lesson(nb, "shift_batch")(
            pictures, np.random.default_rng(seed), 0, max_shift=2
        )
        row, column = divmod(int(np.flatnonzero(moved[0])[0]), 28)
        assert abs(row - 14) <= 2 and abs(column - 14) <= 2
        assert moved.sum() == 1
    unmoved = lesson(nb, "shift_batch")(
        pictures, np.random.default_rng(0), 0, max_shift=0
    )
    assert np.array_equal(unmoved, pictures)


def test_train_network_shifts_each_batch_only_when_asked(nb, monkeypatch):
    rng = np.random.default_rng(22)
    count = 64
    images = small_pictures(rng, count).astype(np.float32) / 255
    labels = rng.integers(0, 10, count)
    known = {image.tobytes() for image in images}
    real = nb["loss_and_gradients"]
    batches = []

    def recording(params, batch_images, *args, **kwargs):
        batches.append(batch_images.copy())
        return real(params, batch_images, *args, **kwargs)

    def offsets_of(batch):
        """The offsets that, undone, turn every row back into a training image."""
        pictures = batch.reshape(len(batch), 28, 28)
        return {
            (down, right)
            for down in (-1, 0, 1)
            for right in (-1, 0, 1)
            if all(
                row.tobytes() in known
                for row in np.roll(pictures, (-down, -right), axis=(1, 2)).reshape(
                    len(batch), 784
                )
            )
        }

    def train(generator, **options):
        run_train_network(
            nb,
            tiny_params(rng, 784, 8, 10, dtype=np.float32),
            images,
            labels,
            (images[:8], labels[:8]),
            generator,
            **options,
        )

    monkeypatch.setitem(nb, "loss_and_gradients", recording)
    for background in (None, 0):  # these pictures' background is 0
        batches.clear()
        train(
            np.random.default_rng(23),
            epochs=3,
            batch_size=8,
            shift_background=background,
        )
        offsets = [offsets_of(batch) for batch in batches]
        assert all(len(found) == 1 for found in offsets), offsets
        used = {found.pop() for found in offsets}
        if background is not None:  # 24 batches: several of the nine turn up
            assert len(used) >= 4, used
        else:
            assert used == {(0, 0)}


def test_split_is_disjoint_and_covers_the_set(nb):
    split_indices = lesson(nb, "split_indices")
    fit_index, validation_index = split_indices(np.random.default_rng(0), 1_000, 100)
    assert len(validation_index) == 100 and len(fit_index) == 900
    assert not set(fit_index.tolist()) & set(validation_index.tolist())
    assert np.array_equal(
        np.sort(np.concatenate([fit_index, validation_index])), np.arange(1_000)
    )


def test_split_is_shuffled_by_the_generator(nb):
    split_indices = lesson(nb, "split_indices")
    first = split_indices(np.random.default_rng(3), 1_000, 100)[1]
    again = split_indices(np.random.default_rng(3), 1_000, 100)[1]
    other = split_indices(np.random.default_rng(4), 1_000, 100)[1]
    assert np.array_equal(first, again)
    assert not np.array_equal(np.sort(first), np.sort(other))
    # A random sample, not a block of consecutive rows.
    assert np.ptp(first) > 500


def test_confusion_matrix_is_indexed_true_then_predicted(nb):
    confusion_matrix = lesson(nb, "confusion_matrix")
    true = np.array([0, 0, 0, 1, 2, 2])
    predicted = np.array([0, 1, 1, 1, 2, 0])
    matrix = confusion_matrix(true, predicted, num_classes=3)
    assert np.array_equal(matrix, [[1, 2, 0], [0, 1, 0], [1, 0, 1]])


def test_confusion_matrix_rows_sum_to_each_true_digit(nb):
    confusion_matrix = lesson(nb, "confusion_matrix")
    rng = np.random.default_rng(2)
    true = rng.integers(0, 9, 500)  # digit 9 never occurs
    predicted = np.where(rng.random(500) < 0.7, true, rng.integers(0, 10, 500))
    matrix = confusion_matrix(true, predicted)
    assert matrix.shape == (10, 10)
    assert np.issubdtype(matrix.dtype, np.integer)
    assert np.array_equal(matrix.sum(axis=1), np.bincount(true, minlength=10))
    assert np.array_equal(matrix.sum(axis=0), np.bincount(predicted, minlength=10))
    assert np.trace(matrix) == np.sum(true == predicted)


# --- Section 3: the small network -------------------------------------------------


def test_relu_keeps_positives_and_zeroes_the_rest(nb):
    z = np.array([[-2.5, -0.0, 0.0], [1e-9, 3.0, -1e-9]])
    assert np.array_equal(lesson(nb, "relu")(z), [[0, 0, 0], [1e-9, 3.0, 0]])


def test_relu_derivative_gates_on_a_positive_output(nb):
    relu, relu_derivative = lesson(nb, "relu"), lesson(nb, "relu_derivative")
    z = np.array([-3.0, -1e-3, 0.0, 1e-3, 2.0])
    gate = np.asarray(relu_derivative(relu(z)), dtype=float)
    # A ReLU output of 0 means the input was not positive: no gradient passes.
    assert np.array_equal(gate, [0, 0, 0, 1, 1])


def test_initial_weights_are_uniform_in_a_tenth(nb):
    initial_weights = lesson(nb, "initial_weights")
    hidden_weights, output_weights = initial_weights(
        np.random.default_rng(0), 784, 100, 10
    )
    assert hidden_weights.shape == (784, 100) and output_weights.shape == (100, 10)
    for weights in (hidden_weights, output_weights):
        assert weights.min() >= -0.1 and weights.max() < 0.1
    # 78,400 uniform draws: both ends of the interval are reached, and the
    # spread is that of a uniform distribution, 0.2 / sqrt(12).
    assert hidden_weights.min() < -0.099 and hidden_weights.max() > 0.099
    assert np.isclose(hidden_weights.std(), 0.2 / math.sqrt(12), rtol=0.02)
    again = initial_weights(np.random.default_rng(0), 784, 100, 10)
    assert np.array_equal(again[0], hidden_weights)


def test_initial_weights_draw_the_hidden_layer_first(nb):
    """The draw order that section 3's numbers depend on."""
    rng = np.random.default_rng(3)
    hidden_weights, output_weights = lesson(nb, "initial_weights")(rng, 5, 4, 3)
    assert hidden_weights.shape == (5, 4) and output_weights.shape == (4, 3)
    expected = np.random.default_rng(3)
    assert np.array_equal(hidden_weights, 0.2 * expected.random((5, 4)) - 0.1)
    assert np.array_equal(output_weights, 0.2 * expected.random((4, 3)) - 0.1)


def test_forward_doubles_the_units_the_mask_keeps(nb):
    image = np.array([1.0, 2.0])
    hidden_weights = np.array([[1.0, -1.0, 2.0], [0.0, 1.0, -3.0]])
    output_weights = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    # image @ hidden_weights = [1, 1, -4]; relu -> [1, 1, 0]
    hidden, output = lesson(nb, "forward")(
        image, hidden_weights, output_weights, np.array([1, 0, 1])
    )
    assert np.array_equal(hidden, [2.0, 0.0, 0.0])
    assert np.array_equal(output, [2.0, 4.0])


def test_forward_without_a_mask_is_the_network_without_dropout(nb):
    image = np.array([1.0, 2.0])
    hidden_weights = np.array([[1.0, -1.0, 2.0], [0.0, 1.0, -3.0]])
    output_weights = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    hidden, output = lesson(nb, "forward")(image, hidden_weights, output_weights, None)
    assert np.array_equal(hidden, [1.0, 1.0, 0.0])  # kept, not doubled
    assert np.array_equal(output, [4.0, 6.0])


@pytest.mark.parametrize("with_mask", [True, False], ids=["mask", "no mask"])
def test_backward_matches_numerical_gradients(nb, with_mask):
    forward, backward = lesson(nb, "forward"), lesson(nb, "backward")
    rng = np.random.default_rng(5)
    image = rng.random(6)
    hidden_weights = rng.standard_normal((6, 8))
    output_weights = rng.standard_normal((8, 3))
    label = np.eye(3)[1]
    mask = np.array([1, 0, 1, 1, 0, 1, 1, 1]) if with_mask else None
    # Some kept units must be switched off by the ReLU, or the gate goes untested.
    kept = np.ones(8, bool) if mask is None else mask == 1
    assert np.any((image @ hidden_weights < 0) & kept)

    def loss():
        _, output = forward(image, hidden_weights, output_weights, mask)
        return 0.5 * np.sum((output - label) ** 2)

    hidden, output = forward(image, hidden_weights, output_weights, mask)
    hidden_grad, output_grad = backward(
        image, label, hidden, output, output_weights, mask
    )
    numeric = {
        "hidden": central_differences(loss, hidden_weights),
        "output": central_differences(loss, output_weights),
    }
    assert gradient_mismatch(hidden_grad, numeric["hidden"]) < 1e-7
    assert gradient_mismatch(output_grad, numeric["output"]) < 1e-7


def section3_data(rng, count=120, noise=1.0):
    """Three classes of 6-pixel images; `noise` sets how hard they are to tell apart."""
    images, labels = easy_problem(rng, 2 * count, features=6, classes=3)
    images = np.abs(images + noise * rng.standard_normal(images.shape)) / 10
    targets = np.eye(3)[labels]
    return images[:count], targets[:count], images[count:], targets[count:]


def section3_weights(rng, hidden=8):
    return 0.2 * rng.random((6, hidden)) - 0.1, 0.2 * rng.random((hidden, 3)) - 0.1


def test_section3_train_scores_its_final_weights_without_dropout(nb):
    rng = np.random.default_rng(6)
    data = section3_data(rng)
    weights = section3_weights(rng)
    history = run_section3_train(nb, weights, rng, data, epochs=4)
    for series in history.values():
        assert len(series) == 4
    # train() changes the weights in place; the last epoch's test figures are
    # those of the final weights, with every hidden unit on.
    _, _, test_images, test_labels = data
    test_output = np.maximum(test_images @ weights[0], 0) @ weights[1]
    right = np.argmax(test_output, axis=1) == np.argmax(test_labels, axis=1)
    assert np.isclose(history["test_accuracy"][-1], np.mean(right), rtol=1e-12)
    assert np.isclose(
        history["test_error"][-1],
        np.sum((test_output - test_labels) ** 2) / len(test_images),
    )


def test_section3_train_measures_training_accuracy_without_dropout(nb):
    """As issue 8 asks: measured like the test accuracy, not while training."""
    rng = np.random.default_rng(7)
    data = section3_data(rng, noise=6.0)  # hard enough that accuracy stays < 1
    weights = section3_weights(rng)
    history = run_section3_train(nb, weights, rng, data)
    training_images, training_labels, _, _ = data
    training_output = np.maximum(training_images @ weights[0], 0) @ weights[1]
    right = np.argmax(training_output, axis=1) == np.argmax(training_labels, axis=1)
    assert 0 < np.mean(right) < 1
    assert np.isclose(history["training_accuracy"][-1], np.mean(right), rtol=1e-12), (
        "history['training_accuracy'] is not the accuracy of the final weights on "
        "the training images with dropout off"
    )


@pytest.mark.parametrize("dropout", [True, False], ids=["dropout", "no dropout"])
def test_section3_train_learns_an_easy_problem(nb, dropout):
    rng = np.random.default_rng(8)
    data = section3_data(rng, noise=0.0)
    history = run_section3_train(
        nb, section3_weights(rng), rng, data, epochs=10, dropout=dropout
    )
    assert history["test_accuracy"][-1] >= 0.9
    assert history["test_error"][-1] < history["test_error"][0]


def test_section3_train_steps_with_backwards_gradients(nb, monkeypatch):
    def no_gradient(image, label, hidden, output, output_weights, dropout_mask):
        return np.zeros((len(image), len(hidden))), np.zeros(output_weights.shape)

    monkeypatch.setitem(nb, "backward", no_gradient)
    rng = np.random.default_rng(9)
    weights = section3_weights(rng)
    before = [w.copy() for w in weights]
    run_section3_train(nb, weights, rng, section3_data(rng))
    assert all(np.array_equal(w, b) for w, b in zip(weights, before))


class CountingGenerator:
    """A generator that counts what is drawn from it."""

    def __init__(self, seed):
        self.generator = np.random.default_rng(seed)
        self.draws = 0

    def integers(self, *args, **kwargs):
        self.draws += 1
        return self.generator.integers(*args, **kwargs)

    def __getattr__(self, name):
        self.draws += 1
        return getattr(self.generator, name)


@pytest.mark.parametrize("dropout", [True, False], ids=["dropout", "no dropout"])
def test_section3_train_feeds_forward_and_backward_one_mask_per_image(
    nb, monkeypatch, dropout
):
    real_forward, real_backward = nb["forward"], nb["backward"]
    seen = []  # (mask given to forward, mask given to backward), per image

    def forward(image, hidden_weights, output_weights, dropout_mask):
        seen.append([dropout_mask])
        return real_forward(image, hidden_weights, output_weights, dropout_mask)

    def backward(image, label, hidden, output, output_weights, dropout_mask):
        seen[-1].append(dropout_mask)
        return real_backward(image, label, hidden, output, output_weights, dropout_mask)

    monkeypatch.setitem(nb, "forward", forward)
    monkeypatch.setitem(nb, "backward", backward)
    rng = np.random.default_rng(10)
    data = section3_data(rng, count=30)
    weights = section3_weights(rng, hidden=8)  # the mask's size comes from these
    counting = CountingGenerator(11)
    run_section3_train(nb, weights, counting, data, epochs=2, dropout=dropout)
    assert len(seen) == 2 * 30
    if not dropout:
        assert all(
            to_forward is None and to_backward is None
            for to_forward, to_backward in seen
        )
        assert counting.draws == 0  # no masks drawn
        return
    assert counting.draws == 2 * 30  # one fresh mask per image
    expected = np.random.default_rng(11)
    for to_forward, to_backward in seen:
        assert to_forward is to_backward
        assert np.array_equal(to_forward, expected.integers(0, 2, size=8))
    masks = np.array([to_forward for to_forward, _ in seen])
    assert set(np.unique(masks)) == {0, 1}


def test_evaluate_scores_without_dropout(nb):
    evaluate = lesson(nb, "evaluate")
    hidden_weights = np.array([[1.0, -1.0], [0.0, 2.0]])
    output_weights = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    images = np.vstack([np.eye(2), np.zeros((1, 2))])  # two unit rows, a blank
    # the three images raise output 0, output 2, and no output at all
    labels = np.eye(3)[[0, 1, 0]]
    error, accuracy = evaluate(images, labels, hidden_weights, output_weights)
    assert accuracy == pytest.approx(2 / 3)  # the last image's tie goes to 0
    squared = (1 + 4 + 1) / 3  # output minus label, squared and summed
    assert error == pytest.approx(squared)


def test_numerical_gradient_matches_a_known_derivative(nb):
    weights = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = weights.copy()
    entries = [(0, 1), (1, 0), (1, 1)]
    slopes = lesson(nb, "numerical_gradient")(
        lambda: np.sum(weights**3), weights, entries
    )
    assert np.allclose(slopes, [3 * before[e] ** 2 for e in entries], rtol=1e-6)
    assert np.array_equal(weights, before)  # every nudged weight is put back


def test_relative_error_of_known_pairs(nb):
    relative_error = lesson(nb, "relative_error")
    numeric = np.array([1.0, -2.0, 3.0])
    assert relative_error(numeric, numeric) == 0
    assert np.isclose(relative_error(2 * numeric, numeric), 1 / 3)  # factor of two
    assert np.isclose(relative_error(numeric, 2 * numeric), 1 / 3)
    assert np.isclose(relative_error(-numeric, numeric), 1)  # wrong sign


def test_backward_errors_tells_each_array_apart(nb):
    """The check the lesson runs before training: small for the lesson's
    backward, one third for a hidden gradient of half its size, and the
    weights it nudges are left exactly as they were."""
    backward_errors, backward = lesson(nb, "backward_errors"), nb["backward"]
    rng = np.random.default_rng(3)
    weights = (rng.standard_normal((6, 8)) * 0.5, rng.standard_normal((8, 3)))
    before = [array.copy() for array in weights]
    image, label, mask = rng.random(6), np.eye(3)[1], rng.integers(0, 2, 8)
    entries = (list(np.ndindex(6, 8)), list(np.ndindex(8, 3)))

    def half_hidden(*args):
        hidden_grad, output_grad = backward(*args)
        return hidden_grad / 2, output_grad

    right = backward_errors(backward, image, label, weights, mask, entries)
    halved = backward_errors(half_hidden, image, label, weights, mask, entries)
    assert set(right) == {"hidden weights", "output weights"}
    assert max(right.values()) < 1e-7, right
    assert np.isclose(halved["hidden weights"], 1 / 3), halved
    assert halved["output weights"] < 1e-7, halved
    for array, original in zip(weights, before):
        assert np.array_equal(array, original)


# --- Section 5: the model ---------------------------------------------------------


def test_init_network_shapes_and_he_spread(nb):
    params = lesson(nb, "init_network")(np.random.default_rng(0), hidden_units=200)
    shapes = {name: value.shape for name, value in params.items()}
    assert shapes == dict(zip(PARAM_NAMES, [(784, 200), (200,), (200, 10), (10,)]))
    assert all(value.dtype == np.float32 for value in params.values())
    assert not params["hidden_bias"].any() and not params["output_bias"].any()
    # He: variance 2 / fan-in (156,800 and 2,000 draws).
    assert np.isclose(params["hidden_weights"].std(), math.sqrt(2 / 784), rtol=0.02)
    assert np.isclose(params["output_weights"].std(), math.sqrt(2 / 200), rtol=0.1)
    assert abs(params["hidden_weights"].mean()) < 0.01 * math.sqrt(2 / 784)


def test_init_network_follows_its_generator_and_dtype(nb):
    init_network = lesson(nb, "init_network")
    first = init_network(np.random.default_rng(1), 16, dtype=np.float64)
    again = init_network(np.random.default_rng(1), 16, dtype=np.float64)
    other = init_network(np.random.default_rng(2), 16, dtype=np.float64)
    assert all(value.dtype == np.float64 for value in first.values())
    assert same_params(first, again)
    assert not np.array_equal(first["hidden_weights"], other["hidden_weights"])


def test_network_forward_by_hand(nb):
    params = dict(
        zip(
            PARAM_NAMES,
            [
                np.array([[1.0, -1.0], [0.0, 1.0], [2.0, 0.0]]),
                np.array([0.0, -1.0]),
                np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]]),
                np.array([0.5, 0.0, -1.0]),
            ],
        )
    )
    images = np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 0.0]])
    # rows @ hidden_weights + bias = [3, -1] and [0, 1]; relu -> [3, 0], [0, 1]
    hidden, scores = lesson(nb, "network_forward")(params, images)
    assert np.array_equal(hidden, [[3.0, 0.0], [0.0, 1.0]])
    assert np.array_equal(scores, [[3.5, 0.0, 5.0], [0.5, 1.0, 0.0]])


def test_log_softmax_is_stable_at_a_thousand(nb):
    log_softmax = lesson(nb, "log_softmax")
    for dtype in (np.float64, np.float32):
        scores = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0]], dtype)
        result = log_softmax(scores)
        assert np.all(np.isfinite(result))
        assert np.allclose(result[0], [0.0, -1000.0, -2000.0])
        assert np.allclose(result[1], np.log(1 / 3))


def test_log_softmax_gives_log_probabilities(nb):
    scores = np.random.default_rng(3).normal(0, 3, (5, 10))
    result = lesson(nb, "log_softmax")(scores)
    naive = np.log(np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True))
    assert np.allclose(result, naive)
    assert np.allclose(np.exp(result).sum(axis=1), 1)


def test_accuracy_agrees_with_a_direct_count(nb):
    rng = np.random.default_rng(4)
    # Identity layers and non-negative images: the scores are the images.
    params = dict(
        zip(PARAM_NAMES, [np.eye(10), np.zeros(10), np.eye(10), np.zeros(10)])
    )
    images = rng.random((40, 10))
    labels = rng.integers(0, 10, 40)
    labels[:15] = images[:15].argmax(axis=1)
    right = sum(
        1
        for image, label in zip(images, labels)
        if max(range(10), key=lambda digit: image[digit]) == label
    )
    assert 0 < right < len(labels)
    assert lesson(nb, "accuracy")(params, images, labels) == right / len(labels)


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_loss_and_gradients_match_numerical_gradients(nb, loss):
    rng = np.random.default_rng(10)
    params = tiny_params(rng, inputs=6, hidden=5, outputs=4)
    images = rng.standard_normal((7, 6))
    targets = np.eye(4)[rng.integers(0, 4, 7)]
    assert np.any(images @ params["hidden_weights"] + params["hidden_bias"] < 0)

    def loss_of():
        return run_loss_and_gradients(nb, params, images, targets, loss)[0]

    _, grads = run_loss_and_gradients(nb, params, images, targets, loss)
    assert grads.keys() == params.keys()
    for name, values in params.items():
        numeric = central_differences(loss_of, values)
        mismatch = gradient_mismatch(grads[name], numeric)
        assert mismatch < 1e-7, f"{loss} gradient of {name}: relative error {mismatch}"


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_loss_and_gradients_value_is_the_batch_mean(nb, loss):
    rng = np.random.default_rng(11)
    params = tiny_params(rng, inputs=6, hidden=5, outputs=4)
    images = rng.standard_normal((7, 6))
    labels = rng.integers(0, 4, 7)
    targets = np.eye(4)[labels]
    value, _ = run_loss_and_gradients(nb, params, images, targets, loss)
    hidden = np.maximum(images @ params["hidden_weights"] + params["hidden_bias"], 0)
    scores = hidden @ params["output_weights"] + params["output_bias"]
    if loss == "cross_entropy":
        probabilities = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        expected = -np.mean(np.log(probabilities[np.arange(7), labels]))
    else:
        expected = 0.5 * np.mean(np.sum((scores - targets) ** 2, axis=1))
    assert np.isclose(value, expected)


def test_loss_and_gradients_defaults_to_cross_entropy(nb):
    rng = np.random.default_rng(12)
    params = tiny_params(rng, inputs=6, hidden=5, outputs=4)
    images, targets = rng.standard_normal((3, 6)), np.eye(4)[[0, 3, 1]]
    default, _ = run_loss_and_gradients(nb, params, images, targets)
    cross_entropy, _ = run_loss_and_gradients(
        nb, params, images, targets, "cross_entropy"
    )
    squared_error, _ = run_loss_and_gradients(
        nb, params, images, targets, "squared_error"
    )
    assert default == cross_entropy != squared_error


# --- Section 5: the optimiser --------------------------------------------------------


def adam_problem(dtype=np.float64):
    """Parameters, and gradients of both signs, some zero, over four decades."""
    rng = np.random.default_rng(13)
    params = {
        "weights": rng.standard_normal((3, 4)).astype(dtype),
        "bias": np.zeros(4, dtype),
    }
    magnitudes = 10.0 ** rng.uniform(-2, 2, (3, 4))
    grads = {
        "weights": (magnitudes * rng.choice([-1, 1], (3, 4))).astype(dtype),
        "bias": np.array([0.5, -3.0, 0.0, 20.0], dtype),
    }
    return params, grads


def test_adam_first_step_moves_every_weight_by_the_step_size(nb):
    params, grads = adam_problem()
    before = copy.deepcopy(params)
    state = lesson(nb, "new_adam_state")(params)
    lesson(nb, "adam_step")(params, grads, state, 0.01)
    for name in params:
        moved = params[name] - before[name]
        assert np.allclose(moved, -0.01 * np.sign(grads[name]), rtol=1e-4, atol=1e-12)


def test_adam_keeps_the_step_size_for_a_steady_gradient(nb):
    params, grads = adam_problem()
    state = lesson(nb, "new_adam_state")(params)
    for step_size in (0.01, 0.005, 0.002):  # bias correction at t = 1, 2, 3
        before = copy.deepcopy(params)
        lesson(nb, "adam_step")(params, grads, state, step_size)
        for name in params:
            moved = params[name] - before[name]
            expected = -step_size * np.sign(grads[name])
            assert np.allclose(moved, expected, rtol=1e-4, atol=1e-12)


def test_adam_matches_the_published_algorithm(nb):
    """Kingma and Ba (2015), Algorithm 1, over five steps of changing gradients."""
    rng = np.random.default_rng(14)
    params = {"weights": rng.standard_normal((4, 3)), "bias": rng.standard_normal(3)}
    reference = copy.deepcopy(params)
    mean = {name: np.zeros_like(value) for name, value in params.items()}
    mean_square = copy.deepcopy(mean)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    state = lesson(nb, "new_adam_state")(params)
    for t, step_size in enumerate((0.01, 0.008, 0.02, 0.001, 0.005), start=1):
        grads = {
            name: rng.choice([-1, 1], value.shape) * rng.uniform(0.1, 5, value.shape)
            for name, value in params.items()
        }
        lesson(nb, "adam_step")(params, grads, state, step_size)
        for name, grad in grads.items():
            mean[name] = beta1 * mean[name] + (1 - beta1) * grad
            mean_square[name] = beta2 * mean_square[name] + (1 - beta2) * grad**2
            corrected_mean = mean[name] / (1 - beta1**t)
            corrected_square = mean_square[name] / (1 - beta2**t)
            reference[name] -= (
                step_size * corrected_mean / (np.sqrt(corrected_square) + eps)
            )
        for name in params:
            assert np.allclose(
                params[name], reference[name], rtol=1e-6, atol=1e-9
            ), f"{name} after step {t}"


def test_adam_keeps_float32_parameters_in_float32(nb):
    params, grads = adam_problem(np.float32)
    state = lesson(nb, "new_adam_state")(params)
    lesson(nb, "adam_step")(params, grads, state, 0.01)
    assert all(value.dtype == np.float32 for value in params.values())


def test_cosine_starts_at_peak_is_half_halfway_and_ends_at_zero(nb):
    cosine_step_size = lesson(nb, "cosine_step_size")
    assert cosine_step_size(0.3, 0, 100) == 0.3
    assert np.isclose(cosine_step_size(0.3, 50, 100), 0.15)
    assert abs(cosine_step_size(0.3, 100, 100)) < 1e-12
    sizes = [cosine_step_size(0.3, step, 100) for step in range(101)]
    assert all(later < earlier for earlier, later in zip(sizes, sizes[1:]))
    # Symmetric about halfway: a quarter in, as far above half as 3/4 is below.
    assert np.isclose(cosine_step_size(0.3, 25, 100) + sizes[75], 0.3)


# --- Section 5: the training loop -----------------------------------------------------


def test_dropout_mask_keeps_and_scales_as_its_draws_say(nb):
    dropout_mask = lesson(nb, "dropout_mask")
    mask = dropout_mask(np.random.default_rng(26), (50, 40), 0.2)
    assert mask.shape == (50, 40) and mask.dtype == np.float32
    assert set(np.unique(mask)) == {np.float32(0), np.float32(1 / 0.8)}
    # the draws train_network's PyTorch replica in benchmarks/ relies on
    draws = np.random.default_rng(26).random((50, 40), np.float32)
    assert np.array_equal(mask != 0, draws >= 0.2)
    assert abs((mask != 0).mean() - 0.8) < 0.03
    assert abs(mask.mean() - 1) < 0.04  # the expected value of a unit is kept


def test_dropout_mask_follows_its_dtype(nb):
    mask = lesson(nb, "dropout_mask")(
        np.random.default_rng(27), (3, 4), 0.5, dtype=np.float64
    )
    assert mask.dtype == np.float64
    assert set(np.unique(mask)) <= {0.0, 2.0}


def test_update_average_is_adams_corrected_running_mean(nb):
    rng = np.random.default_rng(24)
    decay = 0.9
    weights = rng.normal(size=(40, 3, 5))
    average = {"w": rng.normal(size=(3, 5))}  # any start: step 1 replaces it
    running_mean = np.zeros((3, 5))
    for step, current in enumerate(weights, start=1):
        lesson(nb, "update_average")(average, {"w": current}, step, decay)
        running_mean = decay * running_mean + (1 - decay) * current
        assert np.allclose(average["w"], running_mean / (1 - decay**step))
        if step == 1:
            assert np.allclose(average["w"], weights[0], rtol=0, atol=1e-12)


def test_update_average_leaves_a_weight_that_never_moved_exactly_alone(nb):
    start = np.random.default_rng(25).normal(size=100).astype(np.float32)
    average = {"w": start.copy()}
    for step in range(1, 300):
        lesson(nb, "update_average")(average, {"w": start}, step)
    assert np.array_equal(average["w"], start)
    assert average["w"].dtype == np.float32


def test_train_network_averages_the_weights_only_when_asked(nb, monkeypatch):
    epochs, batch_size, decay = 3, 64, 0.9
    real_update = nb["update_average"]
    latest = []  # the weights after each step, as update_average sees them

    def recording(average, params, step, decay):
        assert step == len(latest) + 1
        latest.append(copy.deepcopy(params))
        real_update(average, params, step, decay)

    monkeypatch.setitem(nb, "update_average", recording)
    for average_decay in (None, decay):
        latest.clear()
        params, images, labels, validation, rng = easy_run()
        start = copy.deepcopy(params)
        scored = scripted_validation(nb, monkeypatch, validation[0], [0.5] * epochs)
        final, _ = run_train_network(
            nb,
            params,
            images,
            labels,
            validation,
            rng,
            epochs=epochs,
            batch_size=batch_size,
            average_decay=average_decay,
        )
        assert same_params(params, start)  # the caller's params are not touched
        kept, stepped = scored[0::2], scored[1::2]  # per epoch
        if average_decay is None:
            assert latest == []
            assert all(same_params(k, s) for k, s in zip(kept, stepped))
            assert same_params(final, stepped[-1])
            continue
        steps_per_epoch = len(images) // batch_size
        assert len(latest) == epochs * steps_per_epoch
        expected = {name: np.zeros_like(value) for name, value in final.items()}
        for step, weights in enumerate(latest, start=1):
            for name in expected:
                expected[name] = decay * expected[name] + (1 - decay) * weights[name]
            if step % steps_per_epoch == 0:  # each epoch scores the average
                epoch = step // steps_per_epoch - 1
                for name, value in expected.items():
                    corrected = value / (1 - decay**step)
                    assert np.allclose(kept[epoch][name], corrected, atol=1e-6)
                # ... and, beside it, the latest weights
                assert same_params(stepped[epoch], weights)
        assert same_params(final, kept[-1])  # it returns the average
        assert not same_params(final, latest[-1])


def easy_run(seed=15, count=512, features=20):
    rng = np.random.default_rng(seed)
    images, labels = easy_problem(rng, count + 256, features)
    params = tiny_params(rng, features, 32, 10, dtype=np.float32)
    for name in ("hidden_weights", "output_weights"):
        params[name] *= 0.2
    validation = (images[count:], labels[count:])
    return params, images[:count], labels[:count], validation, rng


def scripted_validation(nb, monkeypatch, validation_images, accuracies):
    """Make train_network see `accuracies` as its validation accuracy, epoch by
    epoch. Each epoch scores two networks on the validation images, the one it
    keeps and then the latest weights; returns a copy of each network scored,
    in that order (so scored[0::2] are the kept ones, scored[1::2] the latest)."""
    real_accuracy = nb["accuracy"]
    scored = []

    def accuracy(params, images, labels):
        if images is not validation_images:
            return real_accuracy(params, images, labels)
        scored.append(copy.deepcopy(params))
        return accuracies[(len(scored) - 1) // 2]

    monkeypatch.setitem(nb, "accuracy", accuracy)
    return scored


def test_train_network_returns_the_weights_of_its_last_epoch(nb, monkeypatch):
    params, images, labels, validation, rng = easy_run()
    scores = [0.5, 0.9, 0.7, 0.8, 0.6]  # the best epoch is not the last
    scored = scripted_validation(nb, monkeypatch, validation[0], scores)
    start = copy.deepcopy(params)
    final, history = run_train_network(
        nb, params, images, labels, validation, rng, epochs=5
    )
    assert history["validation_accuracy"] == scores
    kept = scored[0::2]
    assert len(kept) == 5  # no early stop: every planned epoch runs
    assert not same_params(kept[1], kept[4])  # training went on
    assert same_params(final, kept[4]), "returned params are not the last epoch's"
    assert same_params(params, start)  # a copy was trained, not the caller's


def test_train_network_history_has_one_entry_per_epoch_of_each_record(nb):
    params, images, labels, validation, rng = easy_run()
    epochs = 3
    final, history = run_train_network(
        nb, params, images, labels, validation, rng, epochs=epochs, average_decay=0.9
    )
    assert set(history) == {
        "training_loss",
        "validation_accuracy",
        "latest_validation_accuracy",
        "training_accuracy",
        "seconds",
    }
    assert all(len(series) == epochs for series in history.values())
    seconds = history["seconds"]
    assert all(later > earlier > 0 for earlier, later in zip(seconds, seconds[1:]))
    accuracy = lesson(nb, "accuracy")
    # the last epoch's records are those of the network it returns, measured
    # without dropout: on the validation images, and on as many training images
    count = len(validation[1])
    assert count < len(images)
    assert history["validation_accuracy"][-1] == accuracy(final, *validation)
    assert history["training_accuracy"][-1] == accuracy(
        final, images[:count], labels[:count]
    )


def test_train_network_draws_a_fresh_dropout_mask_for_each_batch(nb, monkeypatch):
    real = nb["loss_and_gradients"]
    masks = []

    def recording(params, batch_images, batch_targets, loss, dropout_mask):
        masks.append(dropout_mask)
        return real(params, batch_images, batch_targets, loss, dropout_mask)

    monkeypatch.setitem(nb, "loss_and_gradients", recording)
    for dropout in (0.2, 0):
        masks.clear()
        params, images, labels, validation, _ = easy_run()
        run_train_network(
            nb,
            params,
            images,
            labels,
            validation,
            np.random.default_rng(28),
            epochs=2,
            batch_size=64,
            dropout=dropout,
        )
        assert len(masks) == 2 * len(images) // 64
        if not dropout:
            assert all(mask is None for mask in masks)
            continue
        # the generator's draws in order: each epoch's permutation, then one
        # mask per batch
        expected = np.random.default_rng(28)
        for epoch in range(2):
            expected.permutation(len(images))
            for mask in masks[epoch * 8 : (epoch + 1) * 8]:
                draws = expected.random((64, 32), np.float32)
                assert np.array_equal(mask, (draws >= 0.2) / np.float32(0.8))


@pytest.mark.parametrize(
    "options", [{}, {"optimizer": "sgd", "learning_rate": 0.1}], ids=["adam", "sgd"]
)
def test_train_network_learns_an_easy_problem(nb, options):
    params, images, labels, validation, rng = easy_run()
    best, history = run_train_network(
        nb, params, images, labels, validation, rng, epochs=3, batch_size=32, **options
    )
    assert history["training_loss"][-1] < history["training_loss"][0]
    assert max(history["validation_accuracy"]) >= 0.9
    assert lesson(nb, "accuracy")(best, *validation) == max(
        history["validation_accuracy"]
    )


def test_train_network_pairs_each_image_with_its_label(nb, monkeypatch):
    count, batch_size = 96, 16
    rng = np.random.default_rng(16)
    images = np.zeros((count, 4), np.float32)
    images[:, 0] = np.arange(count)  # each image carries its row number
    labels = rng.integers(0, 10, count)
    real = nb["loss_and_gradients"]
    batches = []

    def recording(params, batch_images, batch_targets, *args, **kwargs):
        batches.append((batch_images[:, 0].astype(int), batch_targets.argmax(axis=1)))
        return real(params, batch_images, batch_targets, *args, **kwargs)

    monkeypatch.setitem(nb, "loss_and_gradients", recording)
    params = tiny_params(rng, 4, 8, 10, dtype=np.float32)
    run_train_network(
        nb,
        params,
        images,
        labels,
        (images[:10], labels[:10]),
        rng,
        epochs=2,
        batch_size=batch_size,
    )
    assert len(batches) == 2 * count // batch_size
    for rows, batch_labels in batches:
        assert np.array_equal(batch_labels, labels[rows])
    epochs = [np.concatenate([rows for rows, _ in batches[k : k + 6]]) for k in (0, 6)]
    for order in epochs:  # every image once per epoch, in a shuffled order
        assert np.array_equal(np.sort(order), np.arange(count))
        assert not np.array_equal(order, np.arange(count))
    assert not np.array_equal(epochs[0], epochs[1])


def test_train_network_step_size_follows_the_cosine_over_the_whole_run(nb, monkeypatch):
    """With a steady gradient, each Adam step moves a weight by that step's size."""
    count, batch_size, epochs, peak = 128, 32, 3, 0.01
    planned = epochs * count // batch_size
    rng = np.random.default_rng(17)
    images, labels = easy_problem(rng, count, features=4, dtype=np.float64)
    params = tiny_params(rng, 4, 3, 10)
    positions = []

    def steady(params, batch_images, batch_targets, *args, **kwargs):
        positions.append(params["output_bias"][0])
        return 1.0, {name: np.ones_like(value) for name, value in params.items()}

    monkeypatch.setitem(nb, "loss_and_gradients", steady)
    run_train_network(
        nb,
        params,
        images,
        labels,
        (images[:10], labels[:10]),
        rng,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=peak,
    )
    assert len(positions) == planned
    taken = -np.diff(positions)
    expected = [
        peak * (1 + math.cos(math.pi * t / planned)) / 2 for t in range(planned)
    ]
    assert np.allclose(taken, expected[:-1], rtol=1e-5)


def test_train_network_reproduces_from_its_generator(nb):
    runs = []
    for seed in (18, 18, 19):
        params, images, labels, validation, _ = easy_run()
        runs.append(
            run_train_network(
                nb,
                params,
                images,
                labels,
                validation,
                np.random.default_rng(seed),
                epochs=1,
                batch_size=64,
            )[0]
        )
    assert same_params(runs[0], runs[1])
    assert not same_params(runs[0], runs[2])
