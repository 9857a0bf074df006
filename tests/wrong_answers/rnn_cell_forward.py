"""Typical wrong answers to rnn_cell_forward: hint id -> the student's code (run after the solution)."""

WRONG_ANSWERS = {
    "missing_tanh": """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return x_t @ W_xh + h_prev @ W_hh + b_h
""",
    "relu_instead_of_tanh": """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.relu(x_t @ W_xh + h_prev @ W_hh + b_h)
""",
    "sigmoid_instead_of_tanh": """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.sigmoid(x_t @ W_xh + h_prev @ W_hh + b_h)
""",
    # Copied from nn.RNNCell's convention (weights stored (H, E)): transposes W_xh.
    "transposed_w_xh": """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.tanh(x_t @ W_xh.T + h_prev @ W_hh + b_h)
""",
    "transposed_w_hh": """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.tanh(x_t @ W_xh + h_prev @ W_hh.T + b_h)
""",
    "forgot_bias": """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.tanh(x_t @ W_xh + h_prev @ W_hh)
""",
    "ignored_h_prev": """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.tanh(x_t @ W_xh + b_h)
""",
    # Products written in the matrix-times-vector order of the lecture's formula.
    "matmul_shapes": """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.tanh(W_xh @ x_t + W_hh @ h_prev + b_h)
""",
    # Updates the state in place, as if h_prev were a running variable.
    "modified_inputs": """
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    h_prev.copy_(torch.tanh(x_t @ W_xh + h_prev @ W_hh + b_h))
    return h_prev
""",
}
