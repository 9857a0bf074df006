"""Typical wrong answers to gru_output_shapes: hint id -> the student's code (run after the solution)."""

WRONG_ANSWERS = {
    "out_features_not_doubled": """
def gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1, bidirectional=False):
    directions = 2 if bidirectional else 1
    return (batch_size, seq_size, hidden_size), (directions * num_layers, batch_size, hidden_size)
""",
    "h_n_layers_not_doubled": """
def gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1, bidirectional=False):
    directions = 2 if bidirectional else 1
    return (batch_size, seq_size, directions * hidden_size), (num_layers, batch_size, hidden_size)
""",
    "bidirectional_ignored": """
def gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1, bidirectional=False):
    return (batch_size, seq_size, hidden_size), (num_layers, batch_size, hidden_size)
""",
    "h_n_batch_first": """
def gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1, bidirectional=False):
    d = 2 if bidirectional else 1
    out_shape = (batch_size, seq_size, d * hidden_size)
    h_n_shape = (batch_size, d * num_layers, hidden_size)
    return out_shape, h_n_shape
""",
    "out_time_first": """
def gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1, bidirectional=False):
    d = 2 if bidirectional else 1
    return (seq_size, batch_size, d * hidden_size), (d * num_layers, batch_size, hidden_size)
""",
    "h_n_ignores_layers": """
def gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1, bidirectional=False):
    d = 2 if bidirectional else 1
    return (batch_size, seq_size, d * hidden_size), (d, batch_size, hidden_size)
""",
    "shapes_as_lists": """
def gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1, bidirectional=False):
    d = 2 if bidirectional else 1
    return [batch_size, seq_size, d * hidden_size], [d * num_layers, batch_size, hidden_size]
""",
    # A true division: the right values, as floats.
    "shapes_not_ints": """
def gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1, bidirectional=False):
    d = 2 if bidirectional else 1
    return (batch_size, seq_size, d * hidden_size / 1), (d * num_layers / 1, batch_size, hidden_size)
""",
}
