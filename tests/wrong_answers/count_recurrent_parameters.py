"""Typical wrong answers to count_recurrent_parameters: hint id -> the student's code (run after the solution)."""

WRONG_ANSWERS = {
    "one_bias_per_block": """
def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    if kind not in ("rnn", "gru", "lstm"):
        raise ValueError(kind)
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    d = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        size_in = input_size if layer == 0 else d * hidden_size
        total += d * gates * (hidden_size * size_in + hidden_size * hidden_size + hidden_size)
    return total
""",
    "input_size_every_layer": """
def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    if kind not in ("rnn", "gru", "lstm"):
        raise ValueError(kind)
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    d = 2 if bidirectional else 1
    per_layer = gates * hidden_size * (input_size + hidden_size + 2)
    return d * num_layers * per_layer
""",
    "deeper_layers_take_2h": """
def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    if kind not in ("rnn", "gru", "lstm"):
        raise ValueError(kind)
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    first = gates * hidden_size * (input_size + hidden_size + 2)
    other = gates * hidden_size * (hidden_size + hidden_size + 2)
    total = first + (num_layers - 1) * other
    return 2 * total if bidirectional else total
""",
    "bidirectional_not_doubled": """
def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    if kind not in ("rnn", "gru", "lstm"):
        raise ValueError(kind)
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    total = 0
    for layer in range(num_layers):
        size_in = input_size if layer == 0 else hidden_size
        total += gates * hidden_size * (size_in + hidden_size + 2)
    return total
""",
    # GRU and LSTM block counts swapped.
    "wrong_block_count": """
def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    if kind not in ("rnn", "gru", "lstm"):
        raise ValueError(kind)
    gates = {"rnn": 1, "gru": 4, "lstm": 3}[kind]
    d = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        size_in = input_size if layer == 0 else d * hidden_size
        total += d * gates * hidden_size * (size_in + hidden_size + 2)
    return total
""",
    # No check: an unknown kind ends in a KeyError.
    "unknown_kind_no_value_error": """
def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    d = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        size_in = input_size if layer == 0 else d * hidden_size
        total += d * gates * hidden_size * (size_in + hidden_size + 2)
    return total
""",
    "kind_not_exact": """
def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    kind = kind.lower()
    if kind not in ("rnn", "gru", "lstm"):
        raise ValueError(f"unknown kind {kind}")
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    d = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        size_in = input_size if layer == 0 else d * hidden_size
        total += d * gates * hidden_size * (size_in + hidden_size + 2)
    return total
""",
    # The right count, as a float (a true division on the way).
    "count_not_int": """
def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    if kind not in ("rnn", "gru", "lstm"):
        raise ValueError(kind)
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    d = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        size_in = input_size if layer == 0 else d * hidden_size
        total += d * gates * hidden_size * (size_in + hidden_size + 2)
    return total / 1
""",
}
