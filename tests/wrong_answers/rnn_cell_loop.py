"""Typical wrong answers to rnn_cell_loop: hint id -> the student's code (run after the solution)."""

WRONG_ANSWERS = {
    "stacked_time_first": """
def rnn_cell_loop(rnn_cell, x_in, hidden=None):
    if hidden is None:
        hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size, dtype=x_in.dtype)
    states = []
    for t in range(x_in.shape[1]):
        hidden = rnn_cell(x_in[:, t], hidden)
        states.append(hidden)
    return torch.stack(states)
""",
    "returned_last_state_only": """
def rnn_cell_loop(rnn_cell, x_in, hidden=None):
    if hidden is None:
        hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size, dtype=x_in.dtype)
    for t in range(x_in.shape[1]):
        hidden = rnn_cell(x_in[:, t], hidden)
    return hidden
""",
    "included_initial_state": """
def rnn_cell_loop(rnn_cell, x_in, hidden=None):
    if hidden is None:
        hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size, dtype=x_in.dtype)
    states = [hidden]
    for t in range(x_in.shape[1]):
        hidden = rnn_cell(x_in[:, t], hidden)
        states.append(hidden)
    return torch.stack(states, dim=1)
""",
    "state_not_fed_back": """
def rnn_cell_loop(rnn_cell, x_in, hidden=None):
    if hidden is None:
        hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size, dtype=x_in.dtype)
    states = []
    for t in range(x_in.shape[1]):
        states.append(rnn_cell(x_in[:, t], hidden))
    return torch.stack(states, dim=1)
""",
    "ignored_initial_hidden": """
def rnn_cell_loop(rnn_cell, x_in, hidden=None):
    h = torch.zeros(x_in.shape[0], rnn_cell.hidden_size, dtype=x_in.dtype)
    states = []
    for t in range(x_in.shape[1]):
        h = rnn_cell(x_in[:, t], h)
        states.append(h)
    return torch.stack(states, dim=1)
""",
    # The zeros take torch's default dtype (float32), whatever x_in's dtype.
    "default_hidden_dtype": """
def rnn_cell_loop(rnn_cell, x_in, hidden=None):
    if hidden is None:
        hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size)
    states = []
    for t in range(x_in.shape[1]):
        hidden = rnn_cell(x_in[:, t], hidden)
        states.append(hidden)
    return torch.stack(states, dim=1)
""",
    # Puts time first in place to iterate over it: the caller's x_in comes back transposed.
    "modified_x_in": """
def rnn_cell_loop(rnn_cell, x_in, hidden=None):
    if hidden is None:
        hidden = torch.zeros(x_in.shape[0], rnn_cell.hidden_size, dtype=x_in.dtype)
    states = []
    for x_t in x_in.transpose_(0, 1):
        hidden = rnn_cell(x_t, hidden)
        states.append(hidden)
    return torch.stack(states, dim=1)
""",
}
